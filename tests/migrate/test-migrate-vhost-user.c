// SPDX-License-Identifier: GPL-2.0-or-later
/* test-migrate-vhost-user.c - live handover of a vhost-user device below the guest level: our
 * own frontend (the VMM) keeps its one connection while netbe-host is replaced under it;
 * numbered frames both ways, a half-read message, the dirty log, failed handovers. */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "netns.h"
#include "vu-pump.h"
#include "vu-rig.h"

#define RATE 1000 /* frames/s each way during a handover (the netdev socket holds 1/4 s) */
#define PUMP_BEFORE_MS 150
#define PUMP_AFTER_MS 150
#define DST_SLOT 1 /* test_pid_track() slot of the destination (the rig has 0) */

static const uint8_t dev_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* Device lines of every rig here: the backend must be deferred to move. */
#define DEFERRED "connect = deferred\n"

/*
 * A source netbe-host, the VMM on it (our frontend), and a destination to hand over to:
 * on vu-rig's UDP socket netdev, or on a TAP in a namespace of ours (as root).
 */
typedef struct Handover {
    VuRig *r;      /* the UDP rig (its host is the source), NULL on a TAP */
    TestHost *src; /* the first host (kept: its directory holds the socket) */
    TestHost *dst;
    VuFront *f;
    char *sock; /* the vhost-user socket */
    char *incoming;
    VuPumpPeer peer;     /* where numbered frames enter and leave the netdev */
    char *ns, *dir;      /* TAP: the namespace of the TAP and the peer; the socket's dir */
    struct stat sock_st; /* the vhost-user socket file as the source made it */
} Handover;

/*
 * ho_new() - a source serving one VMM (our frontend, negotiated, a frame each way), with
 * NETBE_MIG_FAULT=@src_fault (may be NULL) in its environment.
 */
static Handover *ho_new(const char *src_fault)
{
    Handover *ho = g_new0(Handover, 1);

    if (src_fault) {
        g_setenv("NETBE_MIG_FAULT", src_fault, true);
    }
    ho->r = vu_rig_new(DEFERRED);
    g_unsetenv("NETBE_MIG_FAULT");
    ho->src = ho->r->h;
    ho->sock = g_strdup(ho->r->sock);
    ho->peer =
        (VuPumpPeer){ho->r->udp, (const struct sockaddr *)&ho->r->netdev, sizeof(ho->r->netdev)};
    ho->f = vu_rig_front(ho->r, NULL);
    vu_rig_roundtrip(ho->r, ho->f);
    ho->incoming = g_build_filename(ho->src->dir, "incoming.sock", NULL);
    g_assert_cmpint(stat(ho->sock, &ho->sock_st), ==, 0);
    return ho;
}

/*
 * ho_new_tap() - a source serving one VMM on a TAP netdev, the TAP moved into a namespace
 * of ours once the device has opened it, and our peer socket on it there. Needs root.
 */
static Handover *ho_new_tap(void)
{
    Handover *ho = g_new0(Handover, 1);
    g_autofree char *tap = g_strdup_printf("nbh%d", (int)getpid() % 100000);
    g_autofree char *config = NULL;
    g_autoptr(GError) err = NULL;

    ho->ns = test_netns_create("vuho");
    ho->dir = g_dir_make_tmp("netbe-vuho-XXXXXX", &err);
    g_assert_no_error(err);
    ho->sock = g_build_filename(ho->dir, "vu.sock", NULL);
    ho->incoming = g_build_filename(ho->dir, "incoming.sock", NULL);
    config = g_strdup_printf("[netdev.net0]\ntype = tap\nifname = %s\n[device.nic0]\n"
                             "model = virtio-net\ntransport = vhost-user\nsocket = %s\n"
                             "netdev = net0\nmac = " VU_RIG_MAC "\n" DEFERRED,
                             tap, ho->sock);
    ho->src = test_host_start(config, NULL, NULL);
    g_assert_nonnull(ho->src);
    test_pid_track(0, ho->src->pid);
    ho->f = vu_front_connect(ho->sock, NULL, &err);
    g_assert_no_error(err);
    g_assert_true(vu_front_start(ho->f, &err)); /* DRIVER_OK: the TAP is opened */
    g_assert_no_error(err);
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ho->ns);
    g_assert_cmpint(
        test_sh("ip link set %s netns %s && ip -n %s link set %s up", tap, ho->ns, ho->ns, tap), ==,
        0);
    ho->peer = (VuPumpPeer){vu_pump_packet_socket(ho->ns, tap), NULL, 0};
    g_assert_cmpint(stat(ho->sock, &ho->sock_st), ==, 0);
    return ho;
}

static void ho_free(Handover *ho)
{
    vu_front_free(ho->f);
    test_pid_track(DST_SLOT, 0);
    test_host_free(ho->dst);
    if (ho->r) {
        vu_rig_free(ho->r); /* the source, last: its directory holds the socket */
    } else {
        test_pid_track(0, 0);
        test_host_free(ho->src);
        close(ho->peer.fd);
        test_netns_delete(ho->ns);
        test_sh("rm -rf '%s'", ho->dir);
    }
    g_free(ho->ns);
    g_free(ho->dir);
    g_free(ho->sock);
    g_free(ho->incoming);
    g_free(ho);
}

/* True if @h's log has @needle. */
static bool log_has(TestHost *h, const char *needle)
{
    g_autofree char *log = NULL;

    return g_file_get_contents(h->log, &log, NULL, NULL) && strstr(log, needle);
}

/* Replace the first @from in @text (it must be there) by @to. */
static char *replace_once(const char *text, const char *from, const char *to)
{
    g_auto(GStrv) parts = g_strsplit(text, from, 2);

    g_assert_cmpuint(g_strv_length(parts), ==, 2); /* vu-rig's config changed its form */
    return g_strconcat(parts[0], to, parts[1], NULL);
}

/*
 * ho_spawn_dst() - start "netbe-host --incoming" on the source's config (the socket as an
 * absolute path, as an operator writes it) with @edit[0] replaced by @edit[1] (@edit may be
 * NULL) and @extra device lines added (may be NULL), and NETBE_MIG_FAULT=@fault (may be
 * NULL) in its environment; wait until it listens.
 */
static void ho_spawn_dst(Handover *ho, const char *const *edit, const char *extra,
                         const char *fault)
{
    g_autofree char *text = NULL, *abs_line = NULL, *config = NULL, *edited = NULL;
    const char *args[] = {"--incoming", ho->incoming, NULL};

    g_assert_true(g_file_get_contents(ho->src->config, &text, NULL, NULL));
    abs_line = g_strdup_printf("socket = %s\n", ho->sock);
    config = ho->r ? replace_once(text, "socket = vu.sock\n", abs_line) : g_strdup(text);
    edited = edit ? replace_once(config, edit[0], edit[1]) : g_strdup(config);
    g_free(config);
    config = g_strconcat(edited, extra ? extra : "", NULL);
    /* no other thread runs here (pumps start later), so the environment may change */
    if (fault) {
        g_setenv("NETBE_MIG_FAULT", fault, true);
    }
    ho->dst = test_host_spawn(config, NULL, args, NULL);
    g_unsetenv("NETBE_MIG_FAULT");
    g_assert_nonnull(ho->dst);
    test_pid_track(DST_SLOT, ho->dst->pid);
    /* it listens once its log says so (the socket file appears at bind(), a moment before
     * listen(): a connect then would be refused) */
    for (int i = 0; i < 500 && !log_has(ho->dst, "waiting for a handover on"); i++) {
        g_usleep(10000);
    }
    if (!log_has(ho->dst, "waiting for a handover on")) {
        test_host_wait(ho->dst, 0); /* prints its log if it exited */
    }
    g_assert_true(log_has(ho->dst, "waiting for a handover on"));
}

/* In netbe-ctl's child: its errors go where its output goes. */
static void stderr_to_stdout(gpointer unused)
{
    dup2(STDOUT_FILENO, STDERR_FILENO);
}

/* Run "netbe-ctl SOCK migrate PATH" in the background, its output into @out_fd. */
static GPid ho_migrate_start(Handover *ho, int *out_fd)
{
    const char *argv[] = {test_env_path("NETBE_CTL"), ho->src->control, "migrate", ho->incoming,
                          NULL};
    GPid pid;

    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           stderr_to_stdout, NULL, &pid, NULL, out_fd, NULL, NULL));
    return pid;
}

/* Wait for netbe-ctl; Return: its exit status; *text: what it printed. */
static int ho_migrate_finish(GPid pid, int out_fd, char **text)
{
    GString *s = g_string_new(NULL);
    char buf[512];
    ssize_t n;
    int status;

    while ((n = read(out_fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(s, buf, n);
    }
    close(out_fd);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    *text = g_string_free(s, false);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The whole migrate command. Return: its exit status; *text: its output. */
static int ho_migrate(Handover *ho, char **text)
{
    int out_fd;
    GPid pid = ho_migrate_start(ho, &out_fd);

    return ho_migrate_finish(pid, out_fd, text);
}

/* Numbered frames both ways through the VMM's rings and the netdev's peer. */
static VuPump *ho_pump(Handover *ho)
{
    VuPump *p = vu_pump_start(ho->f, &ho->peer, dev_mac, RATE);

    g_usleep(PUMP_BEFORE_MS * 1000);
    return p;
}

/* Stop the pump; assert every frame of either direction arrived exactly once. */
static void ho_pump_check(VuPump *p)
{
    static const char *const names[] = {"guest->peer", "peer->guest"};
    VuPumpCount c[VU_PUMP_DIRS];

    g_usleep(PUMP_AFTER_MS * 1000);
    vu_pump_stop(p, c);
    for (unsigned d = 0; d < VU_PUMP_DIRS; d++) {
        g_test_message("%s: sent %u, received %u, missing %u, duplicated %u, ring full %u",
                       names[d], c[d].sent, c[d].received, c[d].missing, c[d].duplicates,
                       c[d].stalls);
        g_assert_cmpuint(c[d].sent, >, RATE * (PUMP_BEFORE_MS + PUMP_AFTER_MS) / 2000);
        g_assert_cmpuint(c[d].missing, ==, 0);    /* lost across the handover */
        g_assert_cmpuint(c[d].duplicates, ==, 0); /* a ring entry used twice */
        g_assert_cmpuint(c[d].received, ==, c[d].sent);
    }
}

/* The destination serves; the source exited by itself (0) or was killed (-1). */
static void ho_switch_to_dst(Handover *ho, int src_exit)
{
    g_assert_cmpint(test_host_wait(ho->src, 5000), ==, src_exit); /* lingers, or crashed */
    g_assert_true(test_host_wait_serving(ho->dst, 5000));
}

/* netbe-host @h shows our process as nic0's VMM. */
static void assert_vmm_is_us(TestHost *h)
{
    g_autofree char *status = test_host_ctl(h, "status");
    g_autofree char *want = g_strdup_printf("VMM pid %d,", (int)getpid());

    g_assert_nonnull(status);
    if (!strstr(status, want)) {
        g_printerr("# status:\n%s", status);
    }
    g_assert_nonnull(strstr(status, want));
}

/* The VMM's connection is the one it opened (our end never closed), and answers. */
static void assert_connection_serves(Handover *ho)
{
    g_autoptr(GError) err = NULL;
    uint8_t mac[6];
    struct stat st;

    g_assert_cmpint(ho->f->sock, >=, 0);
    g_assert_true(vu_front_get_config(ho->f, 0, mac, sizeof(mac), &err));
    g_assert_no_error(err);
    g_assert_cmpmem(mac, 6, dev_mac, 6);
    if (ho->r) {
        vu_rig_roundtrip(ho->r, ho->f);
    }
    /* the socket file is the source's, untouched: a next VMM finds it */
    g_assert_cmpint(stat(ho->sock, &st), ==, 0);
    g_assert_cmpuint(st.st_ino, ==, ho->sock_st.st_ino);
}

/* No line of @h's log matches @needle. */
static void assert_log_lacks(TestHost *h, const char *needle)
{
    if (log_has(h, needle)) {
        g_autofree char *log = NULL;

        g_file_get_contents(h->log, &log, NULL, NULL);
        g_printerr("# log of pid %d:\n%s", (int)h->pid, log);
    }
    g_assert_false(log_has(h, needle));
}

/*
 * Numbered frames flow both ways (RATE/s each) while the device is handed over; every
 * number arrives exactly once, the source exits, the destination shows our pid as its VMM
 * and serves the very connection we opened (we never reconnect: our socket never closed,
 * and the destination accepted nothing). Fails if a ring index, a kick or a frame in a
 * kernel queue is lost or replayed in the move, if the destination opens a socket of its
 * own or the VMM's connection does not survive the source's exit.
 */
static void frames_cross_handover(Handover *ho)
{
    g_autofree char *out = NULL;
    VuPump *p;

    ho_spawn_dst(ho, NULL, NULL, NULL);
    p = ho_pump(ho);
    g_assert_cmpint(ho_migrate(ho, &out), ==, 0);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "migrated"));
    ho_switch_to_dst(ho, 0);
    ho_pump_check(p);
    assert_vmm_is_us(ho->dst);
    assert_connection_serves(ho);
    assert_log_lacks(ho->dst, "connected on"); /* it accepted a VMM: ours reconnected? */
    ho_free(ho);
}

/* ... on a UDP socket netdev. */
static void test_frames_cross_handover_exactly_once(void)
{
    frames_cross_handover(ho_new(NULL));
}

/* ... on a TAP in a namespace (root): its queue fd moves too. */
static void test_tap_frames_cross_handover_exactly_once(void)
{
    if (!test_need_root_net()) {
        return;
    }
    frames_cross_handover(ho_new_tap());
}

/* Read the REPLY_ACK of @request from the backend within 3 s; Return: the ack value. */
static uint64_t read_ack(VuFront *f, uint32_t request)
{
    uint8_t msg[VU_HDR_SIZE + 8];
    struct pollfd p = {f->sock, POLLIN, 0};
    uint32_t hdr[3];
    uint64_t v;
    size_t have = 0;

    while (have < sizeof(msg)) {
        ssize_t n;

        g_assert_cmpint(poll(&p, 1, 3000), ==, 1); /* no answer: the message was lost */
        n = recv(f->sock, msg + have, sizeof(msg) - have, 0);
        g_assert_cmpint(n, >, 0);
        have += n;
    }
    memcpy(hdr, msg, sizeof(hdr));
    g_assert_cmpuint(hdr[0], ==, request);
    g_assert_cmpuint(hdr[1], ==, VU_FLAG_VERSION | VU_FLAG_REPLY);
    g_assert_cmpuint(hdr[2], ==, 8);
    memcpy(&v, msg + VU_HDR_SIZE, 8);
    return v;
}

/* Wait until the backend has read every byte we sent (our send queue is empty). */
static void wait_sent_consumed(VuFront *f)
{
    int queued = -1;

    for (int i = 0; i < 300 && (ioctl(f->sock, SIOCOUTQ, &queued) < 0 || queued); i++) {
        g_usleep(10000);
    }
    g_assert_cmpint(queued, ==, 0);
}

/*
 * A message half read at the moment of the handover is finished by the destination: we
 * send SET_VRING_CALL of the RX ring with a new eventfd and half its payload, the source
 * reads that much (fd included), the device moves, then we send the rest. The destination
 * acks it, and the next RX frame signals the new eventfd, not the old one. Fails if the
 * partial bytes or the fd that came with them stay behind (no ack within 3 s, or the
 * connection closes as malformed), or if the device keeps the old call fd.
 */
static void test_half_read_message_finished_by_destination(void)
{
    Handover *ho = ho_new(NULL);
    VuQueue *rxq = &ho->f->q[vu_rxq(0)];
    int call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint64_t idx = vu_rxq(0), v;
    g_autofree char *out = NULL;
    uint8_t frame[100], got[200];
    ssize_t n;

    g_assert_cmpint(call, >=, 0);
    g_assert_true(ho->f->protocol & (1ull << VU_PF_REPLY_ACK));
    ho_spawn_dst(ho, NULL, NULL, NULL);
    g_assert_true(vu_front_send_raw(ho->f, VU_REQ_SET_VRING_CALL,
                                    VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, sizeof(idx), &idx, 3,
                                    &call, 1));
    wait_sent_consumed(ho->f);
    g_assert_cmpint(ho_migrate(ho, &out), ==, 0);
    ho_switch_to_dst(ho, 0);
    g_assert_true(vu_front_send_bytes(ho->f, (uint8_t *)&idx + 3, sizeof(idx) - 3));
    g_assert_cmpuint(read_ack(ho->f, VU_REQ_SET_VRING_CALL), ==, 0);

    /* the next frame to the guest: the new call fd fires, the old one stays quiet */
    while (read(rxq->call_fd, &v, sizeof(v)) > 0) {
    }
    rxq->avail[2 + rxq->size] = htole16(rxq->last_used); /* used_event: call at the next */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vu_rig_frame(frame, sizeof(frame), 9);
    g_assert_cmpint(sendto(ho->r->udp, frame, sizeof(frame), 0, (struct sockaddr *)&ho->r->netdev,
                           sizeof(ho->r->netdev)),
                    ==, sizeof(frame));
    {
        struct pollfd p = {call, POLLIN, 0};

        g_assert_cmpint(poll(&p, 1, 3000), ==, 1); /* the destination ignored the new fd */
    }
    g_assert_cmpint(read(rxq->call_fd, &v, sizeof(v)), <, 0); /* the old fd was signalled */
    close(rxq->call_fd);
    rxq->call_fd = call;
    n = vu_front_recv(ho->f, 0, got, sizeof(got), NULL, NULL, 3000);
    g_assert_cmpint(n, ==, sizeof(frame));
    g_assert_cmpmem(got, n, frame, sizeof(frame));
    assert_connection_serves(ho);
    ho_free(ho);
}

/* True if guest page @page is marked in @pages. */
static bool page_marked(GArray *pages, uint64_t page)
{
    for (guint i = 0; i < pages->len; i++) {
        if (g_array_index(pages, uint64_t, i) == page) {
            return true;
        }
    }
    return false;
}

/* True if a page of [gpa, gpa + len) is marked in @pages. */
static bool range_marked(GArray *pages, uint64_t gpa, uint64_t len)
{
    for (guint i = 0; i < pages->len; i++) {
        uint64_t pg = g_array_index(pages, uint64_t, i);

        if (pg >= gpa / VU_LOG_PAGE && pg <= (gpa + len - 1) / VU_LOG_PAGE) {
            return true;
        }
    }
    return false;
}

/* One frame each way, then: the used rings of both and an RX buffer are marked. */
static void assert_traffic_logged(Handover *ho)
{
    VuQueue *rx = &ho->f->q[vu_rxq(0)], *tx = &ho->f->q[vu_txq(0)];
    g_autoptr(GArray) pages = NULL;

    vu_front_log_clear(ho->f);
    vu_rig_roundtrip(ho->r, ho->f);
    pages = vu_front_log_pages(ho->f);
    g_test_message("%u pages marked", pages->len);
    g_assert_true(page_marked(pages, rx->used_gpa / VU_LOG_PAGE));
    g_assert_true(page_marked(pages, tx->used_gpa / VU_LOG_PAGE));
    g_assert_true(range_marked(pages, rx->bufs_gpa, (uint64_t)rx->size * rx->buf_size));
}

/*
 * Dirty logging started before the handover goes on after it: the destination marks the
 * used rings and the RX buffer it writes, in the log the VMM gave the source. Fails if the
 * log fd or the LOG_ALL feature stays behind (a VM migration running across a backend
 * upgrade would then copy stale guest memory).
 */
static void test_dirty_log_survives_handover(void)
{
    Handover *ho = ho_new(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;

    g_assert_true(vu_front_log_start(ho->f, &err));
    g_assert_no_error(err);
    assert_traffic_logged(ho); /* on the source: the check can see it */
    ho_spawn_dst(ho, NULL, NULL, NULL);
    g_assert_cmpint(ho_migrate(ho, &out), ==, 0);
    ho_switch_to_dst(ho, 0);
    assert_traffic_logged(ho);
    ho_free(ho);
}

/* netbe-host @h's fd count once it stays the same for 100 ms. */
static int stable_fds(TestHost *h)
{
    int n = test_count_fds(h->pid), prev = -1;

    for (int i = 0; i < 50 && n != prev; i++) {
        g_usleep(100000);
        prev = n;
        n = test_count_fds(h->pid);
    }
    return n;
}

/* How many of @pid's fds are serving locks of a handover (mig-lock.c's memfd). */
static int count_lock_fds(GPid pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    int n = 0;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);

        n += target && g_str_has_prefix(target, "/memfd:netbe-serving-lock");
    }
    g_dir_close(d);
    return n;
}

/* Wait up to 3 s until @h holds @want fds; Return: what it holds then. */
static int wait_fds(TestHost *h, int want)
{
    int n = test_count_fds(h->pid);

    for (int i = 0; i < 150 && n != want; i++) {
        g_usleep(20000);
        n = test_count_fds(h->pid);
    }
    if (n != want) {
        g_autofree char *ls = test_sh_output("ls -l /proc/%d/fd", (int)h->pid);

        g_printerr("# netbe-host fds now (%d wanted):\n%s", want, ls ? ls : "?");
    }
    return n;
}

/* A handover that must fail: how, and how the destination ends. */
typedef struct FailCase {
    const char *name;
    const char *why;         /* netbe-ctl's error says this */
    const char *dst_edit[2]; /* the destination's config: this replaced by that */
    const char *dst_extra;   /* device lines the destination's config adds */
    const char *src_fault;   /* NETBE_MIG_FAULT of the source */
    const char *dst_fault;   /* ... of the destination */
    int dst_exit;            /* its exit status */
    int kept_locks;          /* serving locks the source keeps: 1 once it said go */
} FailCase;

static const FailCase fail_cases[] = {
    /* at hello, before the source pauses */
    {.name = "refused-other-device-id",
     .why = "no device 'nic0' here",
     .dst_edit = {"[device.nic0]", "[device.nic1]"},
     .dst_exit = 1},
    /* with every fd sent: its rings are larger than the destination allows */
    {.name = "refused-smaller-rings",
     .why = "ring sizes differ",
     .dst_extra = "rx_queue_size = 128\n",
     .dst_exit = 1},
    /* at state or commit, whichever send or receive of the source meets the closed end */
    {.name = "destination-exits-after-hello",
     .why = "handover failed at",
     .dst_fault = "destination:state:exit",
     .dst_exit = 3},
    {.name = "destination-exits-with-state-loaded",
     .why = "failed at commit",
     .dst_fault = "destination:ready:exit",
     .dst_exit = 3},
    {.name = "destination-exits-before-go",
     .why = "did not take over",
     .dst_fault = "destination:go:exit",
     .dst_exit = 3,
     .kept_locks = 1},
    {.name = "destination-exits-before-lock",
     .why = "did not take over",
     .dst_fault = "destination:lock:exit",
     .dst_exit = 3,
     .kept_locks = 1},
    {.name = "source-hangs-up-before-commit",
     .why = "failed at commit",
     .src_fault = "source:commit:close",
     .dst_exit = 1},
};

/*
 * A handover that fails (refused, or the destination dies at a step, or the source hangs
 * up) leaves the source serving the same VMM connection: numbered frames running across it
 * arrive exactly once, the source holds as many fds as before (and, once it said go, the
 * serving lock of that attempt, held for good by design), the socket file is intact,
 * and the destination exits with its status (under ASan, with no leak). Fails if the
 * source does not resume its rings, closes or leaks what it sent, or if the destination
 * touches the VMM's connection, the guest's rings or the socket file on its way out.
 */
static void test_failed_handover_source_serves(gconstpointer data)
{
    const FailCase *c = data;
    Handover *ho = ho_new(c->src_fault);
    g_autofree char *out = NULL;
    int fds_before = stable_fds(ho->src);
    VuPump *p;

    ho_spawn_dst(ho, c->dst_edit[0] ? c->dst_edit : NULL, c->dst_extra, c->dst_fault);
    p = ho_pump(ho);
    g_assert_cmpint(ho_migrate(ho, &out), !=, 0);
    g_test_message("netbe-ctl: %s", out);
    g_assert_nonnull(strstr(out, c->why));
    g_assert_nonnull(strstr(out, "the source keeps running"));
    g_assert_cmpint(test_host_wait(ho->dst, 5000), ==, c->dst_exit);
    ho_pump_check(p);
    /* more: an fd it sent and kept after all; a lock it keeps on purpose after go (a late
     * destination must never find it free) */
    g_assert_cmpint(count_lock_fds(ho->src->pid), ==, c->kept_locks);
    g_assert_cmpint(wait_fds(ho->src, fds_before + c->kept_locks), ==, fds_before + c->kept_locks);
    g_assert_true(test_host_wait_serving(ho->src, 1000));
    assert_vmm_is_us(ho->src);
    assert_connection_serves(ho);
    ho_free(ho);
}

/* The source's state letter in /proc (T: stopped), 0 once gone. */
static char proc_state(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *s;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !(s = strrchr(text, ')'))) {
        return 0;
    }
    return s[1] == ' ' ? s[2] : 0;
}

/*
 * The source is killed (-9) at a step after its state went out: before it says go (the
 * destination finds it gone and takes over) or right after go. The destination serves the
 * VMM's connection and every numbered frame arrives exactly once. Fails if the
 * destination drops the adopted vhost-user state on a takeover, or if the VMM's connection
 * dies with the source.
 */
static void test_source_killed_destination_serves(gconstpointer data)
{
    Handover *ho = ho_new(data);
    g_autofree char *out = NULL;
    VuPump *p;
    GPid ctl;
    int out_fd;

    ho_spawn_dst(ho, NULL, NULL, NULL);
    p = ho_pump(ho);
    ctl = ho_migrate_start(ho, &out_fd);
    for (int i = 0; i < 500 && proc_state(ho->src->pid) != 'T'; i++) {
        g_usleep(10000);
    }
    g_assert_cmpint(proc_state(ho->src->pid), ==, 'T'); /* it reached the fault point */
    kill(ho->src->pid, SIGKILL);
    ho_migrate_finish(ctl, out_fd, &out);
    ho_switch_to_dst(ho, -1);
    ho_pump_check(p);
    assert_vmm_is_us(ho->dst);
    assert_connection_serves(ho);
    ho_free(ho);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migrate-vhost-user/frames-cross-handover-exactly-once",
                    test_frames_cross_handover_exactly_once);
    g_test_add_func("/migrate-vhost-user/tap/frames-cross-handover-exactly-once",
                    test_tap_frames_cross_handover_exactly_once);
    g_test_add_func("/migrate-vhost-user/half-read-message-finished-by-destination",
                    test_half_read_message_finished_by_destination);
    g_test_add_func("/migrate-vhost-user/dirty-log-survives-handover",
                    test_dirty_log_survives_handover);
    for (size_t i = 0; i < G_N_ELEMENTS(fail_cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/migrate-vhost-user/failed/%s", fail_cases[i].name);

        g_test_add_data_func(path, &fail_cases[i], test_failed_handover_source_serves);
    }
    g_test_add_data_func("/migrate-vhost-user/source-killed-before-go/destination-serves",
                         "source:go:stop", test_source_killed_destination_serves);
    g_test_add_data_func("/migrate-vhost-user/source-killed-after-go/destination-serves",
                         "source:started:stop", test_source_killed_destination_serves);
    return g_test_run();
}
