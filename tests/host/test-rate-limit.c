// SPDX-License-Identifier: GPL-2.0-or-later
/* test-rate-limit.c - rate limits against a running netbe-host: the rate that arrives through
 * a hub of UDP netdevs (and from a TAP in a namespace, as root) within 10% of the limit, no
 * frame lost, bursts, live changes, and bad values that change nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "hub-peers.h"
#include "netbe/netbe.h"
#include "netns.h"
#include "sock-test.h"

/* Frames a sender keeps on the way: below the ~90 datagrams of 1000 bytes a socket's default
 * receive buffer holds (and the TAP's 500), enough to keep 40 Mbit/s flowing. */
#define WINDOW 64

/* Mbit/s as bytes of frames per second. */
#define MBIT(m) ((m)*1000000.0 / 8)

/*
 * struct Flow - frames sent into the hub and counted where they come out
 * @hp:    the host and its peers
 * @to:    the netdev whose peer receives
 * @tx_fd: the socket that sends (a UDP peer, or a packet socket on a TAP)
 * @dest:  where @tx_fd sends to (NULL: it is bound to its device: send())
 * @len:   bytes of every frame
 * @sent, @got: frames so far; @got_bytes: their bytes
 */
typedef struct Flow {
    HubPeers *hp;
    unsigned to;
    int tx_fd;
    const struct sockaddr *dest;
    socklen_t dest_len;
    size_t len;
    uint64_t sent, got, got_bytes;
} Flow;

/* A flow from netdev @from's UDP peer to netdev @to's. */
static Flow flow_udp(HubPeers *hp, unsigned from, unsigned to, size_t len, struct sockaddr_in *dest)
{
    *dest = (struct sockaddr_in){.sin_family = AF_INET,
                                 .sin_port = htons(hp->port[from]),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return (Flow){.hp = hp,
                  .to = to,
                  .tx_fd = hp->peer[from],
                  .dest = (struct sockaddr *)dest,
                  .dest_len = sizeof(*dest),
                  .len = len};
}

/* Take every frame waiting at the receiving peer (only the flow's: a TAP's kernel may send
 * its own). */
static void flow_drain(Flow *f)
{
    uint8_t buf[2048];
    ssize_t n;

    while ((n = recv(f->hp->peer[f->to], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        if (hp_frame_seq(buf, (size_t)n) != UINT32_MAX) {
            f->got++;
            f->got_bytes += (uint64_t)n;
        }
    }
}

/*
 * flow_run() - send for @secs seconds, never more than @window frames on the way (the sender
 * respects the backpressure: no queue between overflows), paced to @offered bytes/s (0: as
 * fast as the window lets it), then wait until every frame arrived (fails if one is lost).
 * Return: the bytes/s that arrived from @warmup seconds on until the sending stopped.
 */
static double flow_run(Flow *f, double secs, double warmup, unsigned window, double offered)
{
    gint64 start = g_get_monotonic_time(), t_warm = 0, t_end, deadline;
    uint64_t bytes_warm = 0, bytes_end;
    uint8_t frame[2048];

    for (;;) {
        struct pollfd p = {.fd = f->hp->peer[f->to], .events = POLLIN};
        gint64 now;
        double elapsed;

        poll(&p, 1, 1);
        flow_drain(f); /* first: what came before now counts before now */
        now = g_get_monotonic_time();
        elapsed = (now - start) / 1e6;
        if (elapsed >= secs) {
            break;
        }
        if (!t_warm && elapsed >= warmup) {
            t_warm = now;
            bytes_warm = f->got_bytes;
        }
        while (f->sent - f->got < window &&
               (offered <= 0 || (double)(f->sent + 1) * f->len <= offered * elapsed + f->len)) {
            ssize_t n;

            hp_frame(frame, f->len, (uint32_t)f->sent);
            n = sendto(f->tx_fd, frame, f->len, MSG_DONTWAIT, f->dest, f->dest_len);
            if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
                break;
            }
            g_assert_cmpint(n, ==, f->len);
            f->sent++;
        }
    }
    t_end = g_get_monotonic_time();
    bytes_end = f->got_bytes;
    deadline = t_end + 5 * G_USEC_PER_SEC;
    while (f->got < f->sent && g_get_monotonic_time() < deadline) {
        struct pollfd p = {.fd = f->hp->peer[f->to], .events = POLLIN};

        poll(&p, 1, 10);
        flow_drain(f);
    }
    g_assert_cmpuint(f->got, ==, f->sent); /* nothing lost */
    return (double)(bytes_end - bytes_warm) / ((t_end - t_warm) / 1e6);
}

/*
 * assert_flow_rate() - flow_run() @f (from scratch) until its rate is within 10% of @want,
 * three times at most. Fails at once if a run passes more than 10% over @want: other
 * processes on the machine can slow a flow down (a run that got less is run again), never
 * let more through.
 */
static void assert_flow_rate(const char *what, Flow *f, double secs, double warmup, double offered,
                             double want)
{
    for (int attempt = 1; attempt <= 3; attempt++) {
        double got;

        f->sent = f->got = f->got_bytes = 0;
        got = flow_run(f, secs, warmup, WINDOW, offered);
        g_test_message("%s: %.3f Mbit/s (want %.3f)", what, got * 8 / 1e6, want * 8 / 1e6);
        if (got > want * 1.10) {
            g_error("%s: %.3f Mbit/s, more than 10%% over %.3f", what, got * 8 / 1e6,
                    want * 8 / 1e6);
        }
        if (got >= want * 0.90) {
            return;
        }
        g_usleep(200000); /* starved by others, the flow ran slower: again, the bucket full */
    }
    g_error("%s: less than 90%% of %.3f Mbit/s in three runs", what, want * 8 / 1e6);
}

/* The netdev's entry in stats --json's rate_limits, or NULL. */
static char *rate_stats(HubPeers *hp, const char *id)
{
    g_autofree char *json = hp_ctl_ok(hp, "stats --json");
    g_autofree char *key = g_strdup_printf("{\"netdev\":\"%s\",\"limited\"", id);
    const char *p = strstr(json, "\"rate_limits\":[");
    const char *e;

    p = p ? strstr(p, key) : NULL;
    e = p ? strchr(p, '}') : NULL;
    return e ? g_strndup(p, e + 1 - p) : NULL;
}

/* A counter from rate_stats(). */
static uint64_t rate_counter(const char *entry, const char *name)
{
    g_autofree char *key = g_strdup_printf("\"%s\":", name);
    const char *p = strstr(entry, key);

    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen(key), NULL, 10);
}

/* A 10 Mbit/s rx limit: a sender offering 40 Mbit/s (as fast as the window lets it) gets
 * 10, one offering 5 gets 5 and never waits. Fails if the limit is off by 10% or more, lets
 * more through, or loses a frame. */
static void test_rx_limit_holds_at_5_10_40_mbits(void)
{
    const char *extra[] = {"rx_bytes_per_sec = 1250000", NULL};
    HubPeers *hp = hp_start(2, extra, NULL, NULL, NULL);
    struct sockaddr_in dest;
    Flow f = flow_udp(hp, 0, 1, 1000, &dest);
    g_autofree char *st = NULL;

    assert_flow_rate("offered 40 Mbit/s, limit 10", &f, 2.0, 0.5, MBIT(40), MBIT(10));
    st = rate_stats(hp, "n0");
    g_assert_nonnull(st);
    g_assert_cmpuint(rate_counter(st, "rx_waits"), >, 0);
    g_assert_cmpuint(rate_counter(st, "rx_wait_ns"), >, 500000000); /* most of 2 s */
    g_assert_cmpuint(rate_counter(st, "tx_waits"), ==, 0);
    g_usleep(200000); /* the bucket fills up again */
    f.sent = f.got = f.got_bytes = 0;
    assert_flow_rate("offered 10 Mbit/s, limit 10", &f, 1.5, 0.3, MBIT(10), MBIT(10));
    g_usleep(200000);
    f.sent = f.got = f.got_bytes = 0;
    g_free(st);
    st = rate_stats(hp, "n0");
    {
        uint64_t waits = rate_counter(st, "rx_waits");

        assert_flow_rate("offered 5 Mbit/s, limit 10", &f, 1.5, 0.3, MBIT(5), MBIT(5));
        g_free(st);
        st = rate_stats(hp, "n0");
        g_assert_cmpuint(rate_counter(st, "rx_waits"), ==, waits); /* under the limit */
    }
    hp_stop(hp);
}

/* The limit changed live takes effect at once: 10 -> 40 -> 5 Mbit/s, each measured within
 * 10%; removing it (0) leaves the netdev unlimited. */
static void test_live_change_takes_effect(void)
{
    const char *extra[] = {"rx_bytes_per_sec = 1250000", NULL};
    HubPeers *hp = hp_start(2, extra, NULL, NULL, NULL);
    struct sockaddr_in dest;
    Flow f = flow_udp(hp, 0, 1, 1000, &dest);
    g_autofree char *reply = NULL;
    g_autofree char *st = NULL;

    reply = hp_ctl_ok(hp, "rate-limit n0 rx_bytes_per_sec=5000000");
    g_assert_cmpstr(reply, ==,
                    "rate limit of n0: rx_bytes_per_sec=5000000 rx_bytes_burst=500000\n");
    assert_flow_rate("live 40 Mbit/s", &f, 2.0, 0.5, 0, MBIT(40));
    g_free(reply);
    reply = hp_ctl_ok(hp, "rate-limit n0 rx_bytes_per_sec=625000");
    g_usleep(200000);
    f.sent = f.got = f.got_bytes = 0;
    assert_flow_rate("live 5 Mbit/s", &f, 2.0, 0.5, 0, MBIT(5));
    g_free(reply);
    reply = hp_ctl_ok(hp, "rate-limit n0 rx_bytes_per_sec=0");
    g_assert_cmpstr(reply, ==, "rate limit of n0: none\n");
    st = rate_stats(hp, "n0");
    g_assert_nonnull(strstr(st, "\"limited\":false"));
    hp_stop(hp);
}

/* A tx limit (frames the frontend sends out through n1): the hub's frames wait in the core,
 * none is dropped while the sender keeps its window. */
static void test_tx_limit_holds(void)
{
    const char *extra[] = {NULL, "tx_bytes_per_sec = 1250000"};
    HubPeers *hp = hp_start(2, extra, NULL, NULL, NULL);
    struct sockaddr_in dest;
    Flow f = flow_udp(hp, 0, 1, 1000, &dest);
    g_autofree char *st = NULL;

    assert_flow_rate("tx limit 10 Mbit/s", &f, 2.0, 0.5, 0, MBIT(10));
    st = rate_stats(hp, "n1");
    g_assert_cmpuint(rate_counter(st, "tx_waits"), >, 0);
    g_assert_cmpuint(rate_counter(st, "rx_waits"), ==, 0);
    hp_stop(hp);
}

/* frames/s: 500 small frames per second, within 10%. */
static void test_frames_limit_holds(void)
{
    const char *extra[] = {"rx_frames_per_sec = 500", NULL};
    HubPeers *hp = hp_start(2, extra, NULL, NULL, NULL);
    struct sockaddr_in dest;
    Flow f = flow_udp(hp, 0, 1, 100, &dest);

    assert_flow_rate("500 frames/s of 100 bytes", &f, 2.0, 0.5, 0, 500 * 100.0);
    hp_stop(hp);
}

/* Frames that arrive within @ms after sending @n at once into n0 (a window of @n), as the
 * kernel stamped their arrival at n1's peer (this process may run late; the count may not). */
static uint64_t burst_count(HubPeers *hp, unsigned n, unsigned ms)
{
    uint8_t frame[100];
    struct sockaddr_in dest;
    Flow f = flow_udp(hp, 0, 1, sizeof(frame), &dest);
    gint64 until = g_get_monotonic_time() + (ms + 500) * 1000;
    uint64_t early = 0;
    struct timespec t0;
    int on = 1;

    g_assert_cmpint(setsockopt(hp->peer[1], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)), ==, 0);
    clock_gettime(CLOCK_REALTIME, &t0);
    for (unsigned i = 0; i < n; i++) {
        hp_frame(frame, sizeof(frame), i);
        hp_send(hp, 0, frame, sizeof(frame));
    }
    while (g_get_monotonic_time() < until) {
        union {
            char buf[CMSG_SPACE(sizeof(struct timespec))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {frame, sizeof(frame)};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctl.buf,
                             .msg_controllen = sizeof(ctl)};
        struct pollfd p = {.fd = hp->peer[1], .events = POLLIN};
        struct cmsghdr *c;

        if (recvmsg(hp->peer[1], &msg, MSG_DONTWAIT) < 0) {
            poll(&p, 1, 1);
            continue;
        }
        f.got++;
        c = CMSG_FIRSTHDR(&msg);
        g_assert_true(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS);
        {
            struct timespec ts;

            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            early += (ts.tv_sec - t0.tv_sec) * 1000.0 + (ts.tv_nsec - t0.tv_nsec) / 1e6 <= ms;
        }
    }
    on = 0;
    setsockopt(hp->peer[1], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    f.sent = n;
    flow_run(&f, 0, 0, 0, 0); /* the rest comes, all of it */
    return early;
}

/* One try of the burst test: fails at once when more passes than the buckets allow. Return:
 * false when less did (netbe-host did not get the CPU: the caller tries again). */
static bool burst_try(void)
{
    const char *extra[] = {"rx_frames_per_sec = 20\nrx_frames_burst = 20\n"
                           "rx_frames_initial_burst = 30",
                           NULL};
    HubPeers *hp = hp_start(2, extra, NULL, NULL, NULL);
    uint64_t first, second;

    first = burst_count(hp, 80, 300); /* 20 + 30 at once, then ~6 in 0.3 s */
    g_test_message("first burst: %" G_GUINT64_FORMAT " frames in 300 ms", first);
    g_assert_cmpuint(first, <=, 58);
    g_usleep(1100000); /* the bucket is full again (20), the initial burst is spent */
    second = burst_count(hp, 40, 300);
    g_test_message("second burst: %" G_GUINT64_FORMAT " frames in 300 ms", second);
    g_assert_cmpuint(second, <=, 28);
    hp_stop(hp);
    return first >= 50 && second >= 20;
}

/* A burst of 20 passes at once, then 20 frames/s; an initial burst of 30 adds to the first
 * burst only. Fails if a burst is ignored, too large, or the initial one comes back. */
static void test_burst_and_initial_burst(void)
{
    for (int attempt = 1; !burst_try(); attempt++) {
        g_assert_cmpint(attempt, <, 3);
    }
}

/* A bad value, an unknown key, a burst without its rate or an unknown netdev: an error that
 * names it, and the limits stay as they were. */
static void test_bad_value_changes_nothing(void)
{
    const char *extra[] = {"rx_bytes_per_sec = 1250000", NULL};
    HubPeers *hp = hp_start(2, extra, NULL, NULL, NULL);
    const char *before = "rate limit of n0: rx_bytes_per_sec=1250000 rx_bytes_burst=125000\n";
    g_autofree char *status = hp_ctl_ok(hp, "status");
    struct {
        const char *args, *error;
    } cases[] = {
        {"n0 rx_bytes_per_sec=5000000 rx_frames_burst=0",
         "rate-limit:2: [netdev.n0] rx_frames_burst: '0' is not valid (allowed: an integer 1.."},
        {"n0 rx_bytes_per_sec=12x",
         "rate-limit:1: [netdev.n0] rx_bytes_per_sec: '12x' is not valid"},
        {"n0 rx_bps=1", "rate-limit:1: [netdev.n0] rx_bps: unknown key (allowed: rx_bytes_per_sec"},
        {"n0 tx_bytes_burst=1k",
         "[netdev.n0] tx_bytes_burst: needs tx_bytes_per_sec (a burst of a bucket that is off)"},
        {"n0 rx_bytes_per_sec=0 rx_bytes_burst=1k", "rx_bytes_burst: needs rx_bytes_per_sec"},
        {"n0 rx_bytes_per_sec", "rate-limit:1: [netdev.n0]: 'rx_bytes_per_sec' is not key=value"},
        {"n9 rx_bytes_per_sec=1", "rate-limit: no netdev 'n9'"},
    };

    g_assert_nonnull(strstr(status, "rate limit: rx_bytes_per_sec=1250000 rx_bytes_burst=125000"));
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        bool ok = true;
        g_autofree char *reply = hp_ctl(hp, &ok, "rate-limit %s", cases[i].args);
        g_autofree char *now = hp_ctl_ok(hp, "rate-limit n0");

        g_assert_false(ok);
        if (!strstr(reply, cases[i].error)) {
            g_error("rate-limit %s: expected '%s' in '%s'", cases[i].args, cases[i].error, reply);
        }
        g_assert_cmpstr(now, ==, before);
    }
    hp_stop(hp);
}

/* The ini's keys are checked like every other: FILE:LINE, all errors in one run. */
static void test_ini_errors_name_file_and_line(void)
{
    g_autofree char *config =
        g_strdup_printf("[netdev.a]\ntype = socket\nudp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u\n"
                        "tx_frames_burst = 10\nrx_bytes_per_sec = 10Q\nrx_frames_per_sec = -1\n",
                        st_free_udp_port(), st_free_udp_port());
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_CHECK_ONLY);
    g_autoptr(GError) err = NULL;

    netbe_runtime_set_plugin_path(rt, test_env_path("NETBE_PLUGIN_PATH"));
    g_assert_false(netbe_runtime_load_config_string(rt, config, "rl.ini", &err));
    g_assert_nonnull(strstr(err->message, "rl.ini:6: [netdev.a] rx_bytes_per_sec: '10Q' is not "
                                          "valid (allowed: bytes 0..1099511627776"));
    g_assert_nonnull(strstr(err->message, "rl.ini:7: [netdev.a] rx_frames_per_sec: '-1' is not "
                                          "valid (allowed: an integer 0..1000000000)"));
    netbe_runtime_free(rt);
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_CHECK_ONLY);
    netbe_runtime_set_plugin_path(rt, test_env_path("NETBE_PLUGIN_PATH"));
    g_clear_error(&err);
    *strstr(config, "rx_bytes_per_sec") = '\0';
    g_assert_false(netbe_runtime_load_config_string(rt, config, "rl.ini", &err));
    g_assert_cmpstr(err->message, ==,
                    "rl.ini:5: [netdev.a] tx_frames_burst: needs tx_frames_per_sec (a burst of a "
                    "bucket that is off)");
    netbe_runtime_free(rt);
}

/* A TAP in a namespace, rx limited to 10 Mbit/s: frames injected on the TAP's kernel side (a
 * packet socket; never more on the way than its queue holds) all come out of the hub's UDP
 * port, at 10 Mbit/s within 10%, and the kernel dropped none. */
static void test_tap_rx_limit_loses_nothing(void)
{
    g_autofree char *ns = NULL;
    const char *tap_ini = "[netdev.t0]\ntype = tap\nifname = nbrl0\n"
                          "rx_bytes_per_sec = 1250000\n";
    HubPeers *hp;
    struct sockaddr_ll ll = {.sll_family = AF_PACKET};
    g_autofree char *dropped = NULL;
    Flow f;
    int home, pfd;

    if (!test_need_root_net()) {
        return;
    }
    ns = test_netns_create("rl");
    /* no IPv6 chatter from the TAP's own kernel side */
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
            "net.ipv6.conf.default.disable_ipv6=1",
            ns);
    hp = hp_start(1, NULL, tap_ini, ",t0", ns);
    g_assert_cmpint(test_sh("ip netns exec %s ip link set nbrl0 up", ns), ==, 0);
    home = test_netns_enter(ns);
    pfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    ll.sll_ifindex = (int)if_nametoindex("nbrl0");
    test_netns_leave(home);
    g_assert_cmpint(pfd, >=, 0);
    g_assert_cmpint(ll.sll_ifindex, >, 0);
    f = (Flow){.hp = hp,
               .to = 0,
               .tx_fd = pfd,
               .dest = (struct sockaddr *)&ll,
               .dest_len = sizeof(ll),
               .len = 1000};
    /* 64 frames on the way: far below the TAP's queue (500 by default) */
    assert_flow_rate("TAP rx limit 10 Mbit/s", &f, 2.5, 0.5, MBIT(40), MBIT(10));
    g_test_message("TAP: %" G_GUINT64_FORMAT " frames sent, %" G_GUINT64_FORMAT " arrived", f.sent,
                   f.got);
    dropped = test_sh_output("ip netns exec %s cat /sys/class/net/nbrl0/statistics/tx_dropped", ns);
    g_assert_nonnull(dropped);
    g_assert_cmpint(atoi(dropped), ==, 0);
    close(pfd);
    hp_stop(hp);
    test_netns_delete(ns);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rate-limit/rx-holds-at-5-10-40-mbits", test_rx_limit_holds_at_5_10_40_mbits);
    g_test_add_func("/rate-limit/live-change-takes-effect", test_live_change_takes_effect);
    g_test_add_func("/rate-limit/tx-holds", test_tx_limit_holds);
    g_test_add_func("/rate-limit/frames-per-second-holds", test_frames_limit_holds);
    g_test_add_func("/rate-limit/burst-and-initial-burst", test_burst_and_initial_burst);
    g_test_add_func("/rate-limit/bad-value-changes-nothing", test_bad_value_changes_nothing);
    g_test_add_func("/rate-limit/ini-errors-name-file-and-line",
                    test_ini_errors_name_file_and_line);
    g_test_add_func("/rate-limit/tap-rx-limit-loses-nothing", test_tap_rx_limit_loses_nothing);
    return g_test_run();
}
