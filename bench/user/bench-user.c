// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-user.c - TCP throughput through the user plugin against libslirp driven directly.
 *
 * A guest played in-process (tests/user/guest-frames.c) opens a TCP connection through
 * slirp's NAT to a listener on 127.0.0.1 and moves 64 MiB each way. The netbe path is a
 * runtime whose hub joins the user netdev and the fixture port that carries the guest's
 * frames; the baseline is the least a program using libslirp must do: a poll() loop
 * around slirp_pollfds_fill/poll and slirp_input, frames handed over in memory. The guest
 * driver is the same code for both, so netbe/direct is the cost of the plugin, its
 * GMainContext integration, the hub and the fixture. Kernel loopback TCP, one thread,
 * is printed for scale. Everything stays on loopback and in the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>
#include <libslirp.h>
#include "guest-frames.h"
#include "user-net.h"

#define TOTAL (64u << 20)
#define MSS 1460
#define CHUNK (256 * 1024)

typedef struct Path {
    UserNet *n;      /* netbe path */
    Slirp *slirp;    /* direct path */
    GQueue out;      /* direct path: frames slirp sent, GBytes* */
    GArray *pollfds; /* direct path: struct pollfd of the last fill */
} Path;

/* ---- the direct libslirp loop ---- */

static ssize_t direct_send_packet(const void *buf, size_t len, void *opaque)
{
    Path *p = opaque;

    g_queue_push_tail(&p->out, g_bytes_new(buf, len));
    return len;
}

static void direct_guest_error(const char *msg, void *opaque)
{
}

static int64_t direct_clock(void *opaque)
{
    return g_get_monotonic_time() * 1000;
}

static void *direct_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    return NULL; /* only IPv6 router advertisements use timers; IPv6 is off */
}

static void direct_timer_free(void *t, void *opaque)
{
}

static void direct_timer_mod(void *t, int64_t expire, void *opaque)
{
}

static void direct_fd(int fd, void *opaque)
{
}

static void direct_notify(void *opaque)
{
}

static const SlirpCb direct_cb = {
    .send_packet = direct_send_packet,
    .guest_error = direct_guest_error,
    .clock_get_ns = direct_clock,
    .timer_new = direct_timer_new,
    .timer_free = direct_timer_free,
    .timer_mod = direct_timer_mod,
    .register_poll_fd = direct_fd,
    .unregister_poll_fd = direct_fd,
    .notify = direct_notify,
};

static int direct_add_poll(int fd, int events, void *opaque)
{
    Path *p = opaque;
    struct pollfd pfd = {.fd = fd};

    pfd.events = (events & SLIRP_POLL_IN ? POLLIN : 0) | (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
                 (events & SLIRP_POLL_PRI ? POLLPRI : 0);
    g_array_append_val(p->pollfds, pfd);
    return p->pollfds->len - 1;
}

static int direct_get_revents(int idx, void *opaque)
{
    Path *p = opaque;
    short r = g_array_index(p->pollfds, struct pollfd, idx).revents;

    return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
           (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
           (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

static Path *path_new(bool netbe)
{
    Path *p = g_new0(Path, 1);
    SlirpConfig cfg = {.version = 1, .in_enabled = true};

    if (netbe) {
        p->n = user_net_new("ipv6 = off", "10.0.2.15");
        return p;
    }
    cfg.vnetwork = gf_ip("10.0.2.0");
    cfg.vnetmask = gf_ip("255.255.255.0");
    cfg.vhost = gf_ip("10.0.2.2");
    cfg.vdhcp_start = gf_ip("10.0.2.15");
    cfg.vnameserver = gf_ip("10.0.2.3");
    g_queue_init(&p->out);
    p->pollfds = g_array_new(false, false, sizeof(struct pollfd));
    p->slirp = slirp_new(&cfg, &direct_cb, p);
    g_assert_nonnull(p->slirp);
    return p;
}

static void path_free(Path *p)
{
    if (p->n) {
        user_net_free(p->n);
    } else {
        slirp_cleanup(p->slirp);
        g_queue_clear_full(&p->out, (GDestroyNotify)g_bytes_unref);
        g_array_unref(p->pollfds);
    }
    g_free(p);
}

static void path_inject(Path *p, GByteArray *frame)
{
    if (p->n) {
        user_net_send(p->n, frame);
        return;
    }
    slirp_input(p->slirp, frame->data, frame->len);
    g_byte_array_unref(frame);
}

static GBytes *path_take(Path *p)
{
    return p->n ? p->n->take("wire") : g_queue_pop_head(&p->out);
}

/* One non-blocking turn of the event loop. */
static void path_run(Path *p)
{
    uint32_t timeout = UINT32_MAX;

    if (p->n) {
        netbe_runtime_iterate(p->n->rt, false);
        return;
    }
    g_array_set_size(p->pollfds, 0);
    slirp_pollfds_fill(p->slirp, &timeout, direct_add_poll, p);
    poll((struct pollfd *)(void *)p->pollfds->data, p->pollfds->len, 0);
    slirp_pollfds_poll(p->slirp, 0, direct_get_revents, p);
}

/* ---- the guest driver, the same for both paths ---- */

typedef struct Guest {
    Path *p;
    GfTcp t;
    uint32_t snd_una, window;
    uint64_t rx_bytes;
    bool fin;
} Guest;

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* Take what slirp sent the guest: answer ARP, account data and ACKs. Return: frames. */
static unsigned guest_drain(Guest *g, bool ack_data)
{
    uint32_t rcv_before = g->t.rcv_nxt;
    unsigned frames = 0;
    GBytes *b;

    while ((b = path_take(g->p))) {
        size_t len;
        const uint8_t *d = g_bytes_get_data(b, &len);
        GfFrame f;

        frames++;
        if (!gf_parse(&f, d, len)) {
            g_bytes_unref(b);
            continue;
        }
        if (f.ethertype == GF_ETH_ARP && f.arp_op == 1 && f.arp_tpa.s_addr == g->t.ip.s_addr) {
            path_inject(g->p, gf_arp_reply(g->t.mac, g->t.ip, f.arp_sha, f.arp_spa));
        } else if (gf_tcp_is_mine(&g->t, &f)) {
            if ((f.tcp_flags & GF_TCP_SYN) && (f.tcp_flags & GF_TCP_ACK)) {
                g->t.rcv_nxt = f.seq + 1;
                memcpy(g->t.peer_mac, f.src_mac, 6);
            }
            if (f.tcp_flags & GF_TCP_ACK) {
                if ((int32_t)(f.ack - g->snd_una) > 0) {
                    g->snd_una = f.ack;
                }
                g->window = f.window;
            }
            if (f.payload_len && f.seq == g->t.rcv_nxt) {
                g->t.rcv_nxt += f.payload_len;
                g->rx_bytes += f.payload_len;
            }
        }
        g_bytes_unref(b);
    }
    if (ack_data && g->t.rcv_nxt != rcv_before) {
        path_inject(g->p, gf_tcp_segment(&g->t, GF_TCP_ACK, NULL, 0));
    }
    return frames;
}

/* Connect the guest to 10.0.2.2:@port; Return: the host's accepted socket. */
static int guest_connect(Guest *g, int listener, uint16_t port)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    int conn = -1;

    g->t = (GfTcp){.ip = gf_ip("10.0.2.15"),
                   .peer_ip = gf_ip("10.0.2.2"),
                   .port = 40000,
                   .peer_port = port,
                   .snd_nxt = 1};
    memcpy(g->t.mac, guest_mac, 6);
    memcpy(g->t.peer_mac, gf_broadcast_mac, 6);
    path_inject(g->p, gf_tcp_segment(&g->t, GF_TCP_SYN, NULL, 0));
    g->snd_una = g->t.snd_nxt;
    while (g->t.rcv_nxt == 0 && g_get_monotonic_time() < deadline) {
        path_run(g->p);
        guest_drain(g, false);
    }
    g_assert_cmpuint(g->t.rcv_nxt, !=, 0);
    path_inject(g->p, gf_tcp_segment(&g->t, GF_TCP_ACK, NULL, 0));
    while (conn < 0 && g_get_monotonic_time() < deadline) {
        path_run(g->p);
        guest_drain(g, false);
        conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    g_assert_cmpint(conn, >=, 0);
    return conn;
}

/* Host writes TOTAL bytes, the guest receives them. Return: seconds. */
static double host_to_guest(Guest *g, int conn)
{
    static char buf[CHUNK];
    uint64_t written = 0;
    gint64 start = g_get_monotonic_time();

    while (g->rx_bytes < TOTAL) {
        if (written < TOTAL) {
            ssize_t w = write(conn, buf, MIN(sizeof(buf), TOTAL - written));

            if (w > 0) {
                written += w;
            }
        }
        path_run(g->p);
        guest_drain(g, true);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 120 * G_USEC_PER_SEC);
    }
    return (g_get_monotonic_time() - start) / 1e6;
}

/* The guest sends TOTAL bytes within slirp's window, the host reads them. Return: s. */
static double guest_to_host(Guest *g, int conn)
{
    static char seg[MSS];
    static char buf[CHUNK];
    uint64_t sent = 0, got = 0;
    gint64 start = g_get_monotonic_time();

    while (got < TOTAL) {
        ssize_t r;

        while (sent < TOTAL && g->t.snd_nxt - g->snd_una + MSS <= g->window) {
            size_t n = MIN(MSS, TOTAL - sent);

            path_inject(g->p, gf_tcp_segment(&g->t, GF_TCP_ACK, seg, n));
            sent += n;
        }
        path_run(g->p);
        guest_drain(g, false);
        while ((r = read(conn, buf, sizeof(buf))) > 0) {
            got += r;
        }
        g_assert_cmpint(g_get_monotonic_time() - start, <, 120 * G_USEC_PER_SEC);
    }
    return (g_get_monotonic_time() - start) / 1e6;
}

/* Kernel loopback TCP in one thread, writer and reader alternating. Return: seconds. */
static double loopback_tcp(void)
{
    static char buf[CHUNK];
    uint16_t port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), b;
    uint64_t written = 0, got = 0;
    gint64 start;

    g_assert_cmpint(connect(a, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    b = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    g_assert_cmpint(b, >=, 0);
    g_unix_set_fd_nonblocking(a, true, NULL);
    start = g_get_monotonic_time();
    while (got < TOTAL) {
        ssize_t n;

        if (written < TOTAL && (n = write(a, buf, MIN(sizeof(buf), TOTAL - written))) > 0) {
            written += n;
        }
        while ((n = read(b, buf, sizeof(buf))) > 0) {
            got += n;
        }
    }
    close(a);
    close(b);
    close(listener);
    return (g_get_monotonic_time() - start) / 1e6;
}

typedef struct Result {
    const char *path, *direction;
    double mbps;
} Result;

static double run_path(bool netbe, bool to_guest)
{
    Path *p = path_new(netbe);
    Guest g = {.p = p, .window = 65535};
    uint16_t port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    int conn = guest_connect(&g, listener, port);
    double secs = to_guest ? host_to_guest(&g, conn) : guest_to_host(&g, conn);

    close(conn);
    close(listener);
    path_free(p);
    return TOTAL / secs / 1e6;
}

int main(int argc, char **argv)
{
    g_autofree char *json_path = NULL;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "write results here", "FILE"}, {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- user plugin TCP throughput");
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) json = g_string_new("{\"bench\":\"user\",\"bytes\":");
    static const char *const dirs[] = {"host->guest", "guest->host"};
    double loop = 0;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("%s\n", err->message);
        return 2;
    }
    if (!json_path) {
        g_mkdir_with_parents("bench-results", 0755);
        json_path = g_strdup("bench-results/user.json");
    }
    g_setenv("NETBE_PLUGIN_PATH", BUILD_PLUGIN_DIR, false);
    g_setenv("NETBE_FIXTURE_DIR", BUILD_FIXTURE_DIR, false);
    loop = TOTAL / loopback_tcp() / 1e6;
    g_string_append_printf(json, "%u,\"loopback_tcp_MBps\":%.1f,\"results\":[", TOTAL, loop);
    printf("TCP through slirp's NAT, %u MiB per run, one thread (MB/s)\n", TOTAL >> 20);
    printf("%-12s %12s %12s %14s %16s\n", "direction", "netbe-user", "direct", "netbe/direct",
           "kernel loopback");
    for (int d = 0; d < 2; d++) {
        double direct = run_path(false, d == 0);
        double netbe = run_path(true, d == 0);

        printf("%-12s %12.1f %12.1f %14.2f %16.1f\n", dirs[d], netbe, direct, netbe / direct, loop);
        g_string_append_printf(json,
                               "%s{\"direction\":\"%s\",\"netbe_MBps\":%.1f,\"direct_MBps\":%.1f,"
                               "\"ratio\":%.3f}",
                               d ? "," : "", dirs[d], netbe, direct, netbe / direct);
    }
    g_string_append(json, "]}\n");
    if (!g_file_set_contents(json_path, json->str, -1, &err)) {
        g_printerr("%s\n", err->message);
        return 1;
    }
    printf("JSON: %s\n", json_path);
    return 0;
}
