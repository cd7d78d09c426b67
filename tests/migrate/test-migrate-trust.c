// SPDX-License-Identifier: GPL-2.0-or-later
/* test-migrate-trust.c - whom a handover trusts and how long it may take: peers of another
 * uid are refused on both ends (SO_PEERCRED) unless allowed, and a slow, stalled or
 * silent destination costs the source at most its deadline, after which it serves and
 * answers again. Runs netbe-host with socket netdevs on UNIX paths; the other-uid cases
 * need root (they run peers as nobody). */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host-proc.h"
#include "mig-wire.h"
#include "netns.h"

#define TIMEOUT_MS 1500 /* --handover-timeout of the source in the deadline cases */

static char *tmp_dir; /* mode 0777: nobody's netbe-host reaches the paths too */

/* Two stream listeners on UNIX paths, joined by a deferred hub (movable). */
static char *two_port_config(const char *tag)
{
    return g_strdup_printf("[netdev.a]\ntype = socket\nlisten = unix:%s/%s-a.sock\n"
                           "[netdev.b]\ntype = socket\nlisten = unix:%s/%s-b.sock\n"
                           "[hub.h]\nports = a, b\nconnect = deferred\n",
                           tmp_dir, tag, tmp_dir, tag);
}

static uid_t nobody_uid(void)
{
    struct passwd *pw = getpwnam("nobody");

    g_assert_nonnull(pw);
    return pw->pw_uid;
}

static bool need_root(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root: runs a peer as another user");
        return false;
    }
    return true;
}

/* Wait until @path exists (a --incoming socket), up to 5 s. */
static void wait_for_path(const char *path)
{
    for (int i = 0; i < 250 && !g_file_test(path, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
}

static char *read_log(TestHost *h)
{
    char *text = NULL;

    return g_file_get_contents(h->log, &text, NULL, NULL) ? text : g_strdup("");
}

/* "netbe-ctl SOCK migrate PATH" with its stderr, which carries the refusal. */
static int run_migrate(TestHost *src, const char *path, char **text)
{
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {test_env_path("NETBE_CTL"), src->control, "migrate", path, NULL};
    int status;

    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
    *text = g_strconcat(out, err, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A source on two_port_config(@tag) with @src_args, then a destination on the same config
 * with --incoming at *@incoming, run as @dst_user (NULL: as we are), waiting for it. */
static void start_pair(const char *tag, const char *const *src_args, const char *dst_user,
                       TestHost **src, TestHost **dst, char **incoming)
{
    g_autofree char *config = two_port_config(tag);
    const char *dst_args[] = {"--incoming", NULL, NULL};

    *src = test_host_start(config, NULL, src_args);
    g_assert_nonnull(*src);
    *incoming = g_strdup_printf("%s/in-%s.sock", tmp_dir, tag);
    dst_args[1] = *incoming;
    *dst = test_host_spawn(config, NULL, dst_args, dst_user);
    g_assert_nonnull(*dst);
    wait_for_path(*incoming);
}

/*
 * A destination run by nobody is refused by a root source before anything moves; the
 * refusal names its pid and uid; the source keeps serving and the destination ends
 * without adopting. Fails if the source hands its fds to another uid (the hole of a
 * path anyone can listen on).
 */
static void test_source_refuses_destination_of_another_uid(void)
{
    g_autofree char *incoming = NULL, *text = NULL, *status = NULL;
    g_autofree char *want = NULL, *dlog = NULL;
    TestHost *src, *dst;

    if (!need_root()) {
        return;
    }
    start_pair("r", NULL, "nobody", &src, &dst, &incoming);
    g_assert_cmpint(run_migrate(src, incoming, &text), ==, 1);
    g_test_message("%s", text);
    want = g_strdup_printf("pid %d runs as uid %u", (int)dst->pid, (unsigned)nobody_uid());
    g_assert_nonnull(strstr(text, "refusing the destination"));
    g_assert_nonnull(strstr(text, want));
    g_assert_nonnull(status = test_host_ctl(src, "status"));
    g_assert_nonnull(strstr(status, "running"));
    g_assert_cmpint(test_host_wait(dst, 5000), >, 0); /* it gave up, adopting nothing */
    dlog = read_log(dst);
    g_assert_null(strstr(dlog, "handover received"));
    test_host_free(src);
    test_host_free(dst);
}

/*
 * With --handover-allow-uid nobody on the source, the same destination is trusted and
 * takes over; it checks the root source in turn (root is always trusted). Fails if the
 * operator's explicit allowance is ignored.
 */
static void test_allowed_uid_takes_over(void)
{
    g_autofree char *incoming = NULL, *text = NULL, *status = NULL;
    const char *src_args[] = {"--handover-allow-uid", "nobody", NULL};
    TestHost *src, *dst;

    if (!need_root()) {
        return;
    }
    start_pair("a", src_args, "nobody", &src, &dst, &incoming);
    g_assert_cmpint(run_migrate(src, incoming, &text), ==, 0);
    g_test_message("%s", text);
    g_assert_nonnull(strstr(text, "migrated: downtime"));
    g_assert_cmpint(test_host_wait(src, 5000), ==, 0);
    g_assert_true(test_host_wait_serving(dst, 5000));
    g_assert_nonnull(status = test_host_ctl(dst, "status"));
    g_assert_nonnull(strstr(status, "running"));
    test_host_free(src);
    test_host_free(dst);
}

/* A child that connects to @path as nobody and holds the connection for 3 s. */
static GPid connect_as_nobody(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        int fd;

        g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
        if (setgid(nobody_uid()) < 0 || setuid(nobody_uid()) < 0) {
            _exit(2);
        }
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
            _exit(3);
        }
        sleep(3);
        _exit(0);
    }
    return pid;
}

/*
 * A root destination whose --incoming socket was opened to everyone (chmod 0666) refuses a
 * source of uid nobody, names its pid and uid, and still takes the real source that comes
 * next. Fails if the destination adopts from an untrusted peer or stops waiting for the
 * right one.
 */
static void test_destination_refuses_source_of_another_uid(void)
{
    g_autofree char *incoming = NULL, *text = NULL, *want = NULL, *dlog = NULL;
    TestHost *src, *dst;
    GPid intruder;

    if (!need_root()) {
        return;
    }
    start_pair("d", NULL, NULL, &src, &dst, &incoming);
    g_assert_cmpint(chmod(incoming, 0666), ==, 0);
    intruder = connect_as_nobody(incoming);
    want = g_strdup_printf("refusing the source: pid %d runs as uid %u", (int)intruder,
                           (unsigned)nobody_uid());
    for (int i = 0; i < 100 && !strstr(dlog ? dlog : "", want); i++) {
        g_free(dlog);
        g_usleep(20000);
        dlog = read_log(dst);
    }
    g_test_message("%s", dlog);
    g_assert_nonnull(strstr(dlog, want));
    g_assert_cmpint(run_migrate(src, incoming, &text), ==, 0);
    g_assert_cmpint(test_host_wait(src, 5000), ==, 0);
    g_assert_true(test_host_wait_serving(dst, 5000));
    kill(intruder, SIGKILL);
    waitpid(intruder, NULL, 0);
    test_host_free(src);
    test_host_free(dst);
}

/* A fake destination: it accepts (unless @accept is false) and then sends its header one
 * byte every @byte_ms (never, if 0), until @stop. */
typedef struct SlowPeer {
    char *path;
    bool accept;
    int byte_ms;
    gint stop;
} SlowPeer;

static gpointer slow_peer(gpointer data)
{
    SlowPeer *p = data;
    int lfd = wire_listen(p->path), fd = -1;
    static const char header[16] = "NETBEMIG\2\0\0\0\2\0\0";

    if (p->accept) {
        fd = wire_accept(lfd, 5000);
    }
    for (size_t sent = 0; !g_atomic_int_get(&p->stop);) {
        g_usleep((p->byte_ms ? p->byte_ms : 20) * 1000);
        if (fd >= 0 && p->byte_ms && sent < sizeof(header) &&
            send(fd, header + sent, 1, MSG_NOSIGNAL) == 1) {
            sent++;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    close(lfd);
    return NULL;
}

/*
 * The source's handover to @p ends within its deadline (plus a margin), with an error
 * that says the deadline passed; the source answers status right after and serves.
 * Fails if a slow peer holds the source paused, or its main loop blocked, longer (the
 * old per-poll timeout let one byte per step restart the clock).
 */
static void run_slow_destination(SlowPeer *p, const char *tag)
{
    g_autofree char *config = two_port_config(tag), *text = NULL, *status = NULL;
    g_autofree char *timeout = g_strdup_printf("%d", TIMEOUT_MS);
    const char *src_args[] = {"--handover-timeout", timeout, NULL};
    TestHost *src = test_host_start(config, NULL, src_args);
    GThread *peer;
    gint64 t0, elapsed_ms;

    g_assert_nonnull(src);
    p->path = g_strdup_printf("%s/slow-%s.sock", tmp_dir, tag);
    peer = g_thread_new("slow-destination", slow_peer, p);
    wait_for_path(p->path);
    t0 = g_get_monotonic_time();
    g_assert_cmpint(run_migrate(src, p->path, &text), ==, 1);
    elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
    g_test_message("after %" G_GINT64_FORMAT " ms: %s", elapsed_ms, text);
    g_assert_nonnull(strstr(text, "deadline (" G_STRINGIFY(TIMEOUT_MS) " ms) passed"));
    g_assert_nonnull(strstr(text, "the source keeps running"));
    g_assert_cmpint(elapsed_ms, >=, TIMEOUT_MS - 50);
    g_assert_cmpint(elapsed_ms, <, TIMEOUT_MS + 1000);
    t0 = g_get_monotonic_time();
    g_assert_nonnull(status = test_host_ctl(src, "status"));
    g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 1000);
    g_assert_nonnull(strstr(status, "running"));
    g_atomic_int_set(&p->stop, 1);
    g_thread_join(peer);
    unlink(p->path);
    g_free(p->path);
    test_host_free(src);
}

static void test_dribbling_destination_bounded(void)
{
    SlowPeer p = {.accept = true, .byte_ms = 300};

    run_slow_destination(&p, "drip");
}

static void test_silent_destination_bounded(void)
{
    SlowPeer p = {.accept = true, .byte_ms = 0};

    run_slow_destination(&p, "mute");
}

static void test_destination_that_never_accepts_bounded(void)
{
    SlowPeer p = {.accept = false, .byte_ms = 0};

    run_slow_destination(&p, "deaf");
}

/*
 * The control client of a migrate that goes away mid-attempt does not take the source
 * with it: the attempt ends at its deadline, the source serves and answers the next
 * client. Fails if the host dies writing the reply (SIGPIPE) or stays paused.
 */
static void test_migrate_client_gone_source_survives(void)
{
    g_autofree char *config = two_port_config("gone"), *status = NULL;
    g_autofree char *timeout = g_strdup_printf("%d", TIMEOUT_MS);
    const char *src_args[] = {"--handover-timeout", timeout, NULL};
    const char *argv[] = {test_env_path("NETBE_CTL"), NULL, "migrate", NULL, NULL};
    SlowPeer p = {.accept = true, .byte_ms = 0};
    TestHost *src = test_host_start(config, NULL, src_args);
    GThread *peer;
    GPid ctl;

    g_assert_nonnull(src);
    p.path = g_strdup_printf("%s/slow-gone.sock", tmp_dir);
    peer = g_thread_new("slow-destination", slow_peer, &p);
    wait_for_path(p.path);
    argv[1] = src->control;
    argv[3] = p.path;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &ctl, NULL));
    g_usleep(300000);
    kill(ctl, SIGKILL);
    waitpid(ctl, NULL, 0);
    g_usleep((TIMEOUT_MS + 300) * 1000);
    g_assert_nonnull(status = test_host_ctl(src, "status"));
    g_assert_nonnull(strstr(status, "running"));
    g_atomic_int_set(&p.stop, 1);
    g_thread_join(peer);
    g_free(p.path);
    test_host_free(src);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("netbe-trust-XXXXXX", &err);
    g_assert_no_error(err);
    g_assert_cmpint(chmod(tmp_dir, 0777), ==, 0);
    g_test_add_func("/migrate-trust/source-refuses-destination-of-another-uid",
                    test_source_refuses_destination_of_another_uid);
    g_test_add_func("/migrate-trust/allowed-uid-takes-over", test_allowed_uid_takes_over);
    g_test_add_func("/migrate-trust/destination-refuses-source-of-another-uid",
                    test_destination_refuses_source_of_another_uid);
    g_test_add_func("/migrate-deadline/dribbling-destination", test_dribbling_destination_bounded);
    g_test_add_func("/migrate-deadline/silent-destination", test_silent_destination_bounded);
    g_test_add_func("/migrate-deadline/destination-never-accepts",
                    test_destination_that_never_accepts_bounded);
    g_test_add_func("/migrate-deadline/control-client-gone",
                    test_migrate_client_gone_source_survives);
    rc = g_test_run();
    test_sh("rm -rf '%s'", tmp_dir);
    g_free(tmp_dir);
    return rc;
}
