// SPDX-License-Identifier: GPL-2.0-or-later
/* test-migrate-stream.c - the handover stream with the fixture plugin (its eventfd stands for
 * a TAP fd): records and fds, a whole netbe-host to netbe-host handover, refusals, and a
 * misbehaving peer at every step — the source keeps running and nobody leaks an fd. */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host-proc.h"
#include "mig-wire.h"
#include "netbe/migrate.h"
#include "netbe/netbe.h"
#include "netns.h"
#include "plugin-dir.h"

static char *plugin_dir;
static char *tmp_dir;

static char *hub_config(const char *log, const char *ids, const char *mode)
{
    g_auto(GStrv) names = g_strsplit(ids, ",", -1);
    GString *s = g_string_new(NULL);

    for (int i = 0; names[i]; i++) {
        g_string_append_printf(s, "[netdev.%s]\ntype = fixture\nlog = %s\n", names[i], log);
    }
    g_string_append_printf(s, "[hub.h]\nports = %s\nconnect = %s\n", ids, mode);
    return g_string_free(s, false);
}

static char *tmp_path(const char *name)
{
    return g_build_filename(tmp_dir, name, NULL);
}

static char *read_log(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return g_strdup("");
    }
    return text;
}

/* Fails if a field or fd does not come back as written, or a wrong read is not refused. */
static void test_records_round_trip_and_refuse_misreads(void)
{
    NetbeMigWriter *w = netbe_mig_writer_new();
    NetbeMigReader *r;
    int before = test_count_fds(0), efd = eventfd(7, EFD_CLOEXEC), fd2 = eventfd(8, EFD_CLOEXEC);
    const uint8_t *data;
    const void *bytes;
    size_t len;
    unsigned nfds;
    uint32_t u32, blen;
    uint64_t u64;
    uint8_t u8;
    char *str = NULL;
    int got;

    netbe_mig_put_u8(w, 5);
    netbe_mig_put_u32(w, 0xdeadbeef);
    netbe_mig_put_u64(w, 1ull << 40);
    netbe_mig_put_bytes(w, "abc", 3);
    netbe_mig_put_string(w, "net0");
    g_assert_true(netbe_mig_put_fd(w, efd));
    g_assert_true(netbe_mig_put_fd(w, fd2));
    data = netbe_mig_writer_data(w, &len);
    netbe_mig_writer_fds(w, &nfds);
    g_assert_cmpuint(nfds, ==, 2);
    /* the reader owns copies, as a received record would */
    r = netbe_mig_reader_new(data, len, (int[]){dup(efd), dup(fd2)}, 2);
    g_assert_false(netbe_mig_get_u32(r, &u32)); /* it is a u8: refused */
    g_assert_true(netbe_mig_get_u8(r, &u8) && u8 == 5);
    g_assert_true(netbe_mig_get_u32(r, &u32) && u32 == 0xdeadbeef);
    g_assert_true(netbe_mig_get_u64(r, &u64) && u64 == 1ull << 40);
    g_assert_true(netbe_mig_get_bytes(r, &bytes, &blen) && blen == 3);
    g_assert_cmpmem(bytes, 3, "abc", 3);
    g_assert_true(netbe_mig_get_string(r, &str));
    g_assert_cmpstr(str, ==, "net0");
    g_free(str);
    got = netbe_mig_get_fd(r);
    g_assert_cmpint(got, >=, 0);
    g_assert_false(netbe_mig_reader_at_end(r));
    netbe_mig_reader_free(r); /* closes the fd not taken */
    close(got);
    /* a record cut short: every get fails, nothing is read past the end */
    r = netbe_mig_reader_new(data, len - 19, NULL, 0); /* ends after the u64 */
    g_assert_true(netbe_mig_get_u8(r, &u8));
    g_assert_true(netbe_mig_get_u32(r, &u32));
    g_assert_true(netbe_mig_get_u64(r, &u64));
    g_assert_false(netbe_mig_get_bytes(r, &bytes, &blen) && netbe_mig_get_string(r, &str) &&
                   netbe_mig_get_fd(r) >= 0);
    netbe_mig_reader_free(r);
    netbe_mig_writer_free(w);
    close(efd);
    close(fd2);
    g_assert_cmpint(test_count_fds(0), ==, before);
}

/* Fails if the backends' fds do not move to the destination, if it opens its own, or if
 * the source does not exit 0 after the acknowledgement. */
static void test_host_hands_over_to_incoming_host(void)
{
    g_autofree char *slog = tmp_path("src.log"), *dlog = tmp_path("dst.log");
    g_autofree char *sconf = hub_config(slog, "a,b", "deferred");
    g_autofree char *dconf = hub_config(dlog, "a,b", "deferred");
    g_autofree char *incoming = tmp_path("incoming.sock");
    const char *args[] = {"--incoming", incoming, NULL};
    TestHost *src = test_host_start(sconf, NULL, NULL), *dst;
    g_autofree char *out = NULL, *dtext = NULL, *want = NULL, *status = NULL;

    g_assert_nonnull(src);
    /* the destination serves its control socket only after the handover */
    dst = test_host_spawn(dconf, NULL, args, NULL);
    g_assert_nonnull(dst);
    for (int i = 0; i < 250 && !g_file_test(incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    out = test_sh_output("'%s' '%s' migrate '%s'", test_env_path("NETBE_CTL"), src->control,
                         incoming);
    g_assert_nonnull(out);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "migrated: downtime"));
    g_assert_nonnull(strstr(out, "2 backends, 2 fds"));
    want = g_strdup_printf("a load token=%d", (int)src->pid);
    g_assert_cmpint(test_host_wait(src, 10000), ==, 0); /* the source exits 0 */
    g_assert_true(test_host_wait_serving(dst, 10000));
    dtext = read_log(dlog);
    g_test_message("destination calls:\n%s", dtext);
    g_assert_nonnull(strstr(dtext, want)); /* the eventfd the source opened */
    g_assert_nonnull(strstr(dtext, "b load token="));
    g_assert_null(strstr(dtext, "connect"));        /* never opened its own */
    g_assert_nonnull(strstr(dtext, "a poll 0 on")); /* and runs */
    status = test_host_ctl(dst, "status");
    g_assert_nonnull(status);
    g_assert_nonnull(strstr(status, "running"));
    g_assert_cmpint(test_host_stop(dst), ==, 0);
    test_host_free(src);
    test_host_free(dst);
}

/* Fails if a backend whose plugin cannot hand over is not released by the source and then
 * connected by the destination itself, or if it connects before the source let go. */
static void test_backend_without_handover_reconnects_on_destination(void)
{
    g_autofree char *log = tmp_path("mixed.log");
    g_autofree char *conf = g_strdup_printf("[netdev.a]\ntype = fixture\nlog = %s\n"
                                            "[netdev.s]\ntype = fixture-static\nlog = %s\n"
                                            "[hub.h]\nports = a, s\nconnect = deferred\n",
                                            log, log);
    g_autofree char *incoming = tmp_path("mixed.sock");
    const char *args[] = {"--incoming", incoming, NULL};
    TestHost *src = test_host_start(conf, NULL, NULL), *dst;
    g_autofree char *out = NULL, *calls = NULL;
    const char *released, *reconnected;

    g_assert_nonnull(src);
    dst = test_host_spawn(conf, NULL, args, NULL);
    for (int i = 0; i < 250 && !g_file_test(incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    out = test_sh_output("'%s' '%s' migrate '%s'", test_env_path("NETBE_CTL"), src->control,
                         incoming);
    g_assert_nonnull(out);
    g_assert_nonnull(strstr(out, "1 backends, 1 fds")); /* only a moved */
    g_assert_cmpint(test_host_wait(src, 10000), ==, 0);
    g_assert_true(test_host_wait_serving(dst, 10000));
    calls = read_log(log);
    g_test_message("calls of both processes:\n%s", calls);
    released = strstr(calls, "s cleanup"); /* the source let go ... */
    g_assert_nonnull(released);
    reconnected = strstr(released, "s connect"); /* ... then the destination */
    g_assert_nonnull(reconnected);
    g_assert_nonnull(strstr(calls, "a load token="));
    g_assert_cmpint(test_host_stop(dst), ==, 0);
    test_host_free(src);
    test_host_free(dst);
}

/* Run "netbe-ctl SOCK migrate PATH" in the background. Return: its pid; output to @out. */
static GPid start_migrate(TestHost *src, const char *path, int *out_fd)
{
    const char *argv[] = {test_env_path("NETBE_CTL"), src->control, "migrate", path, NULL};
    GPid pid;

    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, out_fd, NULL, NULL));
    return pid;
}

/* Wait for netbe-ctl; Return: its exit code, and what it printed in *text. */
static int finish_migrate(GPid pid, int out_fd, char **text)
{
    GString *s = g_string_new(NULL);
    char buf[256];
    ssize_t n;
    int status;

    while ((n = read(out_fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(s, buf, n);
    }
    close(out_fd);
    waitpid(pid, &status, 0);
    *text = g_string_free(s, false);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef enum {
    FAKE_DEST_QUIT_AFTER_HELLO,
    FAKE_DEST_QUIT_AFTER_STATE,
    FAKE_DEST_QUIT_BEFORE_ACK,
    FAKE_DEST_REFUSE_ACK,
} FakeDestPlan;

/* Fails if the source stops forwarding, loses its backends or leaks an fd when the
 * destination dies at @plan's step. */
static void run_fake_destination(gconstpointer data)
{
    FakeDestPlan plan = GPOINTER_TO_INT(data);
    g_autofree char *slog = tmp_path("fake-src.log");
    g_autofree char *sconf = hub_config(slog, "a,b", "deferred");
    g_autofree char *path = tmp_path("fake-dest.sock");
    TestHost *src;
    g_autofree char *out = NULL, *status = NULL, *calls = NULL;
    int lfd, fd, out_fd, fds_before;
    uint32_t type = 0;
    GPid ctl;

    unlink(slog);
    src = test_host_start(sconf, NULL, NULL);
    g_assert_nonnull(src);
    fds_before = test_count_fds(src->pid);
    lfd = wire_listen(path);
    ctl = start_migrate(src, path, &out_fd);
    fd = wire_accept(lfd, 5000);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(wire_recv_header(fd));
    g_assert_true(wire_send_header(fd, WIRE_VERSION, WIRE_VERSION));
    netbe_mig_reader_free(wire_recv_record(fd, &type));
    g_assert_cmpuint(type, ==, WIRE_HELLO);
    g_assert_true(wire_send_status(fd, WIRE_REPLY, true, ""));
    if (plan >= FAKE_DEST_QUIT_AFTER_STATE) {
        NetbeMigReader *r = wire_recv_record(fd, &type); /* backend a, with its fd */

        g_assert_cmpuint(type, ==, WIRE_BACKEND);
        netbe_mig_reader_free(r);
    }
    if (plan >= FAKE_DEST_QUIT_BEFORE_ACK) {
        do {
            netbe_mig_reader_free(wire_recv_record(fd, &type));
        } while (type != WIRE_COMMIT);
    }
    if (plan == FAKE_DEST_REFUSE_ACK) {
        wire_send_status(fd, WIRE_READY, false, "disk on fire");
    }
    close(fd);
    close(lfd);
    g_assert_cmpint(finish_migrate(ctl, out_fd, &out), ==, 1);
    status = test_host_ctl(src, "status");
    g_assert_nonnull(status); /* still serving */
    g_assert_nonnull(strstr(status, "running"));
    calls = read_log(slog);
    g_assert_true(g_str_has_suffix(calls, "a poll 0 on\nb poll 0 on\n")); /* resumed */
    g_assert_cmpint(test_count_fds(src->pid), ==, fds_before);
    g_assert_cmpint(test_host_stop(src), ==, 0);
    test_host_free(src);
    unlink(path);
}

typedef enum {
    HOSTILE_WRONG_VERSION,
    HOSTILE_TRUNCATED_HELLO,
    HOSTILE_FD_COUNT_WRONG,
    HOSTILE_IDS_DIFFER,
    HOSTILE_UNANNOUNCED_BACKEND,
    HOSTILE_NOT_AN_EVENTFD,
} HostilePlan;

typedef struct Hostile {
    HostilePlan plan;
    char *path;
} Hostile;

static void put_hello(NetbeMigWriter *w, const char *id)
{
    netbe_mig_put_u32(w, 1);
    netbe_mig_put_string(w, id);
    netbe_mig_put_string(w, "fixture");
    netbe_mig_put_u32(w, 1);
    netbe_mig_put_u32(w, 0); /* no devices */
}

/* A source that lies in the way @h->plan says. */
static gpointer hostile_source(gpointer data)
{
    Hostile *h = data;
    int fd = wire_connect(h->path), efd = eventfd(1, EFD_CLOEXEC), pfd[2], lock = -1;
    NetbeMigWriter *w = netbe_mig_writer_new();
    uint32_t type;

    g_assert_cmpint(pipe2(pfd, O_CLOEXEC), ==, 0);
    if (h->plan == HOSTILE_WRONG_VERSION) {
        wire_send_header(fd, 99, 99);
        goto out;
    }
    wire_send_header(fd, WIRE_VERSION, WIRE_VERSION);
    wire_recv_header(fd);
    lock = wire_put_lock(w);
    put_hello(w, h->plan == HOSTILE_IDS_DIFFER ? "zz" : "a");
    if (h->plan == HOSTILE_TRUNCATED_HELLO) {
        wire_send_record(fd, WIRE_HELLO, w, -1, 5);
        goto out;
    }
    wire_send_record(fd, WIRE_HELLO, w, -1, SIZE_MAX);
    netbe_mig_reader_free(wire_recv_record(fd, &type));
    netbe_mig_writer_free(w);
    w = netbe_mig_writer_new();
    netbe_mig_put_string(w, h->plan == HOSTILE_UNANNOUNCED_BACKEND ? "b" : "a");
    netbe_mig_put_string(w, "fixture");
    netbe_mig_put_u32(w, 1);
    netbe_mig_put_u32(w, 0); /* vnet header length */
    netbe_mig_put_u32(w, 0); /* held frames, tx */
    netbe_mig_put_u32(w, 0); /* held frames, rx */
    netbe_mig_put_u32(w, 0); /* no queue fd: the fixture is a producer */
    netbe_mig_put_u32(w, 1); /* the fixture's state version */
    netbe_mig_put_u32(w, 0xf1c57u);
    netbe_mig_put_fd(w, h->plan == HOSTILE_NOT_AN_EVENTFD ? pfd[0] : efd);
    wire_send_record(fd, WIRE_BACKEND, w, h->plan == HOSTILE_FD_COUNT_WRONG ? 2 : -1, SIZE_MAX);
    netbe_mig_writer_free(w);
    w = netbe_mig_writer_new();
    netbe_mig_put_u64(w, 0);
    wire_send_record(fd, WIRE_COMMIT, w, -1, SIZE_MAX);
    netbe_mig_reader_free(wire_recv_record(fd, &type));
out:
    netbe_mig_writer_free(w);
    close(fd);
    close(efd);
    if (lock >= 0) {
        close(lock);
    }
    close(pfd[0]);
    close(pfd[1]);
    return NULL;
}

/* Fails if a hostile stream is adopted, gives no clear error, or leaves an fd open. */
static void run_hostile_source(gconstpointer data)
{
    static const char *const expected[] = {
        [HOSTILE_WRONG_VERSION] = "stream version 99",
        [HOSTILE_TRUNCATED_HELLO] = "truncated",
        [HOSTILE_FD_COUNT_WRONG] = "announces 2 fds, 1 came",
        [HOSTILE_IDS_DIFFER] = "no netdev 'zz' here",
        [HOSTILE_UNANNOUNCED_BACKEND] = "which the hello did not announce",
        [HOSTILE_NOT_AN_EVENTFD] = "carries no eventfd",
    };
    Hostile h = {GPOINTER_TO_INT(data), tmp_path("hostile.sock")};
    g_autofree char *log = tmp_path("hostile.log");
    g_autofree char *conf = hub_config(log, "a,b", "deferred");
    NetbeRuntime *rt;
    g_autoptr(GError) err = NULL;
    int before = test_count_fds(0), lfd;
    GThread *peer;

    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(rt, plugin_dir);
    g_assert_true(netbe_runtime_load_config_string(rt, conf, "hostile.ini", &err));
    lfd = wire_listen(h.path);
    peer = g_thread_new("hostile-source", hostile_source, &h);
    g_assert_false(netbe_runtime_migrate_from(rt, lfd, 5000, NULL, &err));
    g_thread_join(peer);
    g_test_message("destination says: %s", err->message);
    g_assert_nonnull(strstr(err->message, expected[h.plan]));
    close(lfd);
    unlink(h.path);
    netbe_runtime_free(rt);
    g_assert_cmpint(test_count_fds(0), ==, before);
    g_free(h.path);
}

/*
 * Fails if --incoming replaces a file that is in its way (bind() refused it; the listening
 * socket is now linked into place once it listens) or leaves its temporary name behind.
 */
static void test_incoming_keeps_a_file_in_its_way(void)
{
    g_autofree char *log = tmp_path("taken.log");
    g_autofree char *conf = hub_config(log, "a,b", "deferred");
    g_autofree char *incoming = tmp_path("taken.sock");
    g_autofree char *text = NULL, *derr = NULL, *dir = g_path_get_dirname(incoming);
    g_autofree char *leftover = NULL;
    const char *args[] = {"--incoming", incoming, NULL};
    TestHost *dst;

    g_assert_true(g_file_set_contents(incoming, "keep", -1, NULL));
    dst = test_host_spawn(conf, NULL, args, NULL);
    g_assert_nonnull(dst);
    g_assert_cmpint(test_host_wait(dst, 10000), ==, 1);
    derr = read_log(dst->log);
    g_assert_nonnull(strstr(derr, "File exists"));
    g_assert_true(g_file_get_contents(incoming, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "keep");
    leftover = test_sh_output("ls '%s' | grep -c 'taken.sock.' || true", dir);
    g_assert_cmpstr(g_strstrip(leftover), ==, "0");
    unlink(incoming);
    test_host_free(dst);
}

/* Fails if a destination whose frontend is connect=immediate takes the fds. */
static void test_immediate_destination_refuses(void)
{
    g_autofree char *slog = tmp_path("imm-src.log"), *dlog = tmp_path("imm-dst.log");
    g_autofree char *sconf = hub_config(slog, "a,b", "deferred");
    g_autofree char *dconf = hub_config(dlog, "a,b", "immediate");
    g_autofree char *incoming = tmp_path("imm.sock");
    const char *args[] = {"--incoming", incoming, NULL};
    TestHost *src = test_host_start(sconf, NULL, NULL), *dst;
    g_autofree char *out = NULL, *status = NULL, *derr = NULL;
    int fds_before;

    g_assert_nonnull(src);
    fds_before = test_count_fds(src->pid);
    dst = test_host_spawn(dconf, NULL, args, NULL);
    g_assert_nonnull(dst);
    for (int i = 0; i < 250 && !g_file_test(incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    out = test_sh_output("'%s' '%s' migrate '%s' 2>&1; true", test_env_path("NETBE_CTL"),
                         src->control, incoming);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "connect=immediate"));
    g_assert_nonnull(strstr(out, "the source keeps running"));
    status = test_host_ctl(src, "status");
    g_assert_nonnull(strstr(status, "running"));
    g_assert_cmpint(test_count_fds(src->pid), ==, fds_before);
    g_assert_cmpint(test_host_wait(dst, 10000), ==, 1); /* it exits with an error */
    derr = read_log(dst->log);
    g_assert_nonnull(strstr(derr, "refused the handover"));
    g_assert_cmpint(test_host_stop(src), ==, 0);
    test_host_free(src);
    test_host_free(dst);
}

int main(int argc, char **argv)
{
    const char *files[] = {"netbe-fixture.so", "netbe-fixture-static.so", NULL};
    int rc;

    g_test_init(&argc, &argv, NULL);
    plugin_dir = test_plugin_dir_new(files);
    tmp_dir = g_dir_make_tmp("netbe-mig-XXXXXX", NULL);
    g_setenv("NETBE_PLUGIN_PATH", plugin_dir, true);
    g_test_add_func("/migrate/records-round-trip", test_records_round_trip_and_refuse_misreads);
    g_test_add_func("/migrate/host-hands-over-to-incoming-host",
                    test_host_hands_over_to_incoming_host);
    g_test_add_func("/migrate/immediate-destination-refuses", test_immediate_destination_refuses);
    g_test_add_func("/migrate/incoming-keeps-a-file-in-its-way",
                    test_incoming_keeps_a_file_in_its_way);
    g_test_add_func("/migrate/backend-without-handover-reconnects",
                    test_backend_without_handover_reconnects_on_destination);
    g_test_add_data_func("/migrate/source-survives/dest-quits-after-hello",
                         GINT_TO_POINTER(FAKE_DEST_QUIT_AFTER_HELLO), run_fake_destination);
    g_test_add_data_func("/migrate/source-survives/dest-quits-after-state",
                         GINT_TO_POINTER(FAKE_DEST_QUIT_AFTER_STATE), run_fake_destination);
    g_test_add_data_func("/migrate/source-survives/dest-quits-before-ack",
                         GINT_TO_POINTER(FAKE_DEST_QUIT_BEFORE_ACK), run_fake_destination);
    g_test_add_data_func("/migrate/source-survives/dest-refuses-ack",
                         GINT_TO_POINTER(FAKE_DEST_REFUSE_ACK), run_fake_destination);
    g_test_add_data_func("/migrate/dest-refuses/wrong-version",
                         GINT_TO_POINTER(HOSTILE_WRONG_VERSION), run_hostile_source);
    g_test_add_data_func("/migrate/dest-refuses/truncated-stream",
                         GINT_TO_POINTER(HOSTILE_TRUNCATED_HELLO), run_hostile_source);
    g_test_add_data_func("/migrate/dest-refuses/fd-count-wrong",
                         GINT_TO_POINTER(HOSTILE_FD_COUNT_WRONG), run_hostile_source);
    g_test_add_data_func("/migrate/dest-refuses/device-ids-differ",
                         GINT_TO_POINTER(HOSTILE_IDS_DIFFER), run_hostile_source);
    g_test_add_data_func("/migrate/dest-refuses/unannounced-backend",
                         GINT_TO_POINTER(HOSTILE_UNANNOUNCED_BACKEND), run_hostile_source);
    g_test_add_data_func("/migrate/dest-refuses/wrong-kind-of-fd",
                         GINT_TO_POINTER(HOSTILE_NOT_AN_EVENTFD), run_hostile_source);
    rc = g_test_run();
    test_plugin_dir_free(plugin_dir);
    test_sh("rm -rf '%s'", tmp_dir);
    g_free(tmp_dir);
    return rc;
}
