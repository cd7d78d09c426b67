// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-tap.c - tap plugin throughput against a raw read/write loop on a TAP fd, same run. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "netns.h"
#include "tap-frames.h"
#include "tap-harness.h"
#include "tap-test-util.h"

#define VHDR TAP_VNET_HDR_V1_LEN /* both paths use a 12-byte virtio-net header */
#define RING 4096                /* TAP txqueuelen: frames the kernel holds for a reader */
#define FILL_BATCH 64
#define TARGET_RATIO 0.85

typedef enum Direction { DIR_TX, DIR_RX } Direction;

typedef struct Size {
    const char *name;
    size_t frame_len; /* Ethernet frame, vnet header not counted */
    bool gso;
    unsigned frames; /* per measurement, at scale 1 */
} Size;

static const Size sizes[] = {
    {"64 B", 64, false, 400000},
    {"1500 B", 1500, false, 200000},
    {"64 KiB GSO", 65536, true, 12000},
};

/*
 * A packet socket cannot hand a TAP a GSO frame: its frames are marked untrusted
 * (SKB_GSO_DODGY), the TAP lacks NETIF_F_GSO_ROBUST, so the kernel segments them before
 * the TAP sees them. The receive direction therefore uses a 64 KiB frame without GSO on
 * TAPs with MTU 65521: the same bytes per read() and per readv() as a GSO frame.
 */
static const Size rx_big = {"64 KiB", 65535, false, 12000};

typedef struct Bench {
    char *ns;
    char *raw_if, *plug_if;
    int raw_fd;         /* the raw loop's TAP */
    int raw_pkt;        /* packet socket feeding the raw TAP from the kernel side */
    int plug_pkt;       /* packet socket feeding the plugin's TAP */
    TapHarness *h;      /* the plugin's TAP, driven through libnetbe */
    uint8_t *frame;     /* VHDR + frame, for the size being measured */
    size_t frame_len;   /* without VHDR */
    uint8_t *pkt_frame; /* 10-byte packet-socket vnet header + frame */
    uint8_t *rbuf;
    double scale;
    int repeat;
} Bench;

typedef struct Row {
    const char *dir, *size, *measures;
    unsigned frames;
    size_t frame_len;
    double raw_fps, plugin_fps;
} Row;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The frame of @s into b->frame (12-byte vnet header first) and b->pkt_frame (10-byte). */
static void build_frame(Bench *b, const Size *s)
{
    static const TapTcpFlow flow = {.src_mac = {2, 0, 0, 0, 0, 0xa}, /* not the TAP's MAC */
                                    .dst_mac = {2, 0, 0, 0, 0, 0xb},
                                    .saddr = 0x0a4e0002,
                                    .daddr = 0x0a4e0003,
                                    .sport = 40000,
                                    .dport = 5001};
    size_t payload = s->frame_len - TAP_ETH_HLEN - TAP_IP4_HLEN - TAP_TCP_HLEN;
    g_autofree uint8_t *data = g_malloc0(payload);
    size_t len;

    if (s->gso) {
        tap_vnet_hdr_v1(b->frame, VIRTIO_NET_HDR_GSO_TCPV4,
                        TAP_ETH_HLEN + TAP_IP4_HLEN + TAP_TCP_HLEN, 1448,
                        TAP_ETH_HLEN + TAP_IP4_HLEN, 16);
    } else {
        tap_vnet_hdr_v1(b->frame, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
    }
    len = tap_frame_tcp4(b->frame + VHDR, &flow, 1, 1, TAP_TCP_ACK, NULL, 0, data, payload, s->gso);
    g_assert_cmpuint(len, ==, s->frame_len);
    b->frame_len = len;
    /* struct virtio_net_hdr (10 bytes) is the v1 header without num_buffers */
    memcpy(b->pkt_frame, b->frame, 10);
    memcpy(b->pkt_frame + 10, b->frame + VHDR, len);
}

/* ---- TX: frontend -> TAP ---- */

static double tx_raw(Bench *b, unsigned n)
{
    double t0 = now();

    for (unsigned i = 0; i < n; i++) {
        ssize_t w = write(b->raw_fd, b->frame, VHDR + b->frame_len);

        if (w < 0 && errno == EAGAIN) {
            i--;
            continue;
        }
        g_assert_cmpint(w, ==, (ssize_t)(VHDR + b->frame_len));
    }
    return n / (now() - t0);
}

static bool tx_ready(void *opaque)
{
    return ((TapHarness *)opaque)->tx_ready;
}

static double tx_plugin(Bench *b, unsigned n)
{
    struct iovec iov = {b->frame, VHDR + b->frame_len};
    double t0 = now();

    for (unsigned i = 0; i < n; i++) {
        ssize_t w = netbe_backend_send(b->h->be, 0, &iov, 1, false);

        if (w == 0) {
            b->h->tx_ready = false;
            g_assert_true(tap_harness_run_until(b->h, tx_ready, b->h, 5000));
            i--;
            continue;
        }
        g_assert_cmpint(w, ==, (ssize_t)(VHDR + b->frame_len));
    }
    return n / (now() - t0);
}

/* ---- RX: TAP -> frontend ---- */

/* A packet socket on @ifname in the bench namespace, with a vnet header, no qdisc. */
static int packet_socket(Bench *b, const char *ifname)
{
    int saved = test_netns_enter(b->ns);
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(ifname)};
    int one = 1;

    g_assert_cmpint(s, >=, 0);
    g_assert_cmpint(setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), ==, 0);
    g_assert_cmpint(setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)), ==, 0);
    g_assert_cmpint(bind(s, (struct sockaddr *)&sll, sizeof(sll)), ==, 0);
    test_netns_leave(saved);
    return s;
}

/* Queue @n frames in the TAP behind @pkt (not timed). */
static void fill(Bench *b, int pkt, unsigned n)
{
    struct mmsghdr msgs[FILL_BATCH];
    struct iovec iov = {b->pkt_frame, 10 + b->frame_len};

    for (int i = 0; i < FILL_BATCH; i++) {
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
    }
    while (n) {
        int k = sendmmsg(pkt, msgs, MIN(n, FILL_BATCH), 0);

        if (k <= 0) {
            g_error("filling the TAP: sendmmsg: %s", g_strerror(errno));
        }
        n -= (unsigned)k;
    }
}

static double rx_raw(Bench *b, unsigned n)
{
    double busy = 0;

    for (unsigned done = 0; done < n;) {
        unsigned chunk = MIN(n - done, RING / 2);
        unsigned got = 0;
        double t0;

        fill(b, b->raw_pkt, chunk);
        t0 = now();
        for (;;) {
            ssize_t r = read(b->raw_fd, b->rbuf, VHDR + 65536);

            if (r < 0) {
                g_assert_cmpint(errno, ==, EAGAIN);
                break;
            }
            g_assert_cmpint(r, ==, (ssize_t)(VHDR + b->frame_len));
            got++;
        }
        busy += now() - t0;
        g_assert_cmpuint(got, ==, chunk);
        done += chunk;
    }
    return n / busy;
}

static double rx_plugin(Bench *b, unsigned n)
{
    double busy = 0;

    for (unsigned done = 0; done < n;) {
        unsigned chunk = MIN(n - done, RING / 2);
        uint64_t start_bytes = b->h->rx_bytes;
        double t0;

        fill(b, b->plug_pkt, chunk);
        t0 = now();
        g_assert_true(tap_harness_wait_rx(b->h, b->h->rx_frames + chunk, 10000));
        busy += now() - t0;
        g_assert_cmpuint(b->h->rx_bytes - start_bytes, ==, (uint64_t)chunk * (VHDR + b->frame_len));
        done += chunk;
    }
    return n / busy;
}

/* ---- setup ---- */

static void bench_setup(Bench *b)
{
    g_autofree char *config = NULL;
    g_autoptr(GError) err = NULL;
    unsigned tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    int hdr = VHDR;

    b->ns = test_netns_create("bench");
    b->raw_if = tap_test_ifname("r");
    b->plug_if = tap_test_ifname("p");

    /* raw: configured by hand the way the plugin configures its own */
    b->raw_fd = tap_test_open_tap(b->raw_if, true, false);
    g_assert_cmpint(b->raw_fd, >=, 0);
    g_assert_cmpint(fcntl(b->raw_fd, F_SETFL, O_RDWR | O_NONBLOCK), ==, 0);
    g_assert_cmpint(ioctl(b->raw_fd, TUNSETVNETHDRSZ, &hdr), ==, 0);
    g_assert_cmpint(ioctl(b->raw_fd, TUNSETOFFLOAD, tso), ==, 0);

    /* plugin: through libnetbe, negotiated like virtio-net (VERSION_1, guest TSO) */
    config = g_strdup_printf("[netdev.p]\ntype = tap\nifname = %s\nvnet_hdr = on\n", b->plug_if);
    b->h = tap_harness_new(config, "p", &err);
    g_assert_no_error(err);
    g_assert_true(b->h->be->desc->set_vnet_hdr_len(b->h->be, VHDR, &err));
    g_assert_true(b->h->be->desc->set_offloads(
        b->h->be, NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_TSO4 | NETBE_OFFLOAD_TSO6, &err));
    g_assert_no_error(err);

    for (int i = 0; i < 2; i++) {
        const char *ifname = i ? b->plug_if : b->raw_if;

        tap_test_move(ifname, b->ns, NULL, NULL);
        g_assert_cmpint(
            test_sh("ip -n %s link set %s txqueuelen %d mtu 65521", b->ns, ifname, RING), ==, 0);
    }
    b->raw_pkt = packet_socket(b, b->raw_if);
    b->plug_pkt = packet_socket(b, b->plug_if);
    b->frame = g_malloc0(VHDR + 65536);
    b->pkt_frame = g_malloc0(10 + 65536);
    b->rbuf = g_malloc(VHDR + 65536);
}

static void bench_teardown(Bench *b)
{
    close(b->raw_pkt);
    close(b->plug_pkt);
    close(b->raw_fd);
    tap_harness_free(b->h);
    test_netns_delete(b->ns);
    g_free(b->ns);
    g_free(b->raw_if);
    g_free(b->plug_if);
    g_free(b->frame);
    g_free(b->pkt_frame);
    g_free(b->rbuf);
}

/* Best of b->repeat runs of each path, interleaved so drift hits both alike. */
static Row measure(Bench *b, Direction dir, const Size *s)
{
    unsigned n;
    Row row;

    if (dir == DIR_RX && s->gso) {
        s = &rx_big;
    }
    n = MAX(1000u, (unsigned)(s->frames * b->scale));
    row = (Row){dir == DIR_TX ? "tx" : "rx", s->name, NULL, n, s->frame_len, 0, 0};

    build_frame(b, s);
    row.measures =
        dir == DIR_TX
            ? "frontend->TAP: raw = write() per frame on a TAP fd; plugin = netbe_backend_send() "
              "through libnetbe into the tap plugin's writev(); the namespace drops the frames "
              "(not for its MAC)"
            : "TAP->frontend: the kernel queues frames (AF_PACKET, untimed); raw = read() until "
              "EAGAIN; plugin = the runtime's loop wakes, the tap plugin's fd watch calls "
              "rx_ready and the peer pulls each frame with recv() (readv into its buffer)";
    /* warm-up, not counted */
    if (dir == DIR_TX) {
        tx_raw(b, n / 10);
        tx_plugin(b, n / 10);
    } else {
        rx_raw(b, n / 10);
        rx_plugin(b, n / 10);
    }
    for (int r = 0; r < b->repeat; r++) {
        for (int k = 0; k < 2; k++) {
            bool plugin = (k + r) % 2; /* alternate which path goes first */
            double fps = dir == DIR_TX ? (plugin ? tx_plugin(b, n) : tx_raw(b, n))
                                       : (plugin ? rx_plugin(b, n) : rx_raw(b, n));

            if (plugin) {
                row.plugin_fps = MAX(row.plugin_fps, fps);
            } else {
                row.raw_fps = MAX(row.raw_fps, fps);
            }
        }
    }
    return row;
}

static double gbps(double fps, size_t len)
{
    return fps * (double)len * 8 / 1e9;
}

static void print_and_save(const Row *rows, int nrows, const char *json_path)
{
    GString *j = g_string_new(NULL);
    struct utsname u;
    bool all_ok = true;

    uname(&u);
    printf("\ntap plugin vs raw TAP fd loop (same run; best of runs; vnet header 12 B on both)\n");
    printf("%-3s %-11s %10s %12s %12s %9s %9s %7s\n", "dir", "frame", "frames", "raw fr/s",
           "plugin fr/s", "raw Gb/s", "plug Gb/s", "ratio");
    g_string_append_printf(j,
                           "{\n  \"benchmark\": \"tap\",\n  \"kernel\": \"%s\",\n"
                           "  \"baseline\": \"raw read()/write() loop on a TAP fd with the same "
                           "flags (IFF_VNET_HDR, 12-byte header, TSO offloads), no netbe\",\n"
                           "  \"target_ratio\": %.2f,\n  \"rows\": [\n",
                           u.release, TARGET_RATIO);
    for (int i = 0; i < nrows; i++) {
        const Row *r = &rows[i];
        double ratio = r->plugin_fps / r->raw_fps;

        all_ok &= ratio >= TARGET_RATIO;
        printf("%-3s %-11s %10u %12.0f %12.0f %9.2f %9.2f %6.1f%%\n", r->dir, r->size, r->frames,
               r->raw_fps, r->plugin_fps, gbps(r->raw_fps, r->frame_len),
               gbps(r->plugin_fps, r->frame_len), ratio * 100);
        g_string_append_printf(j,
                               "    {\"direction\": \"%s\", \"frame\": \"%s\", "
                               "\"frame_bytes\": %zu, \"frames\": %u, \"raw_fps\": %.0f, "
                               "\"plugin_fps\": %.0f, \"raw_gbps\": %.3f, \"plugin_gbps\": %.3f, "
                               "\"ratio\": %.3f, \"measures\": \"%s\"}%s\n",
                               r->dir, r->size, r->frame_len, r->frames, r->raw_fps, r->plugin_fps,
                               gbps(r->raw_fps, r->frame_len), gbps(r->plugin_fps, r->frame_len),
                               ratio, r->measures, i + 1 < nrows ? "," : "");
    }
    g_string_append_printf(j, "  ],\n  \"all_rows_meet_target\": %s\n}\n",
                           all_ok ? "true" : "false");
    printf("Gb/s counts Ethernet frame bytes (vnet header excluded). tx: frontend->TAP, "
           "rx: TAP->frontend.\nratio = plugin / raw; target >= %.0f%%: %s\n",
           TARGET_RATIO * 100, all_ok ? "met" : "NOT met");
    if (json_path) {
        g_autofree char *dir = g_path_get_dirname(json_path);

        g_mkdir_with_parents(dir, 0755);
        if (!g_file_set_contents(json_path, j->str, -1, NULL)) {
            fprintf(stderr, "cannot write %s\n", json_path);
        } else {
            printf("JSON: %s\n", json_path);
        }
    }
    g_string_free(j, true);
}

int main(int argc, char **argv)
{
    g_autofree char *json = NULL;
    double scale = 1.0;
    int repeat = 5;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &json,
         "write JSON here "
         "(default bench-results/tap.json)",
         "FILE"},
        {"scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "multiply frame counts (default 1)", "X"},
        {"repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "runs per row and path, best kept (default 5)",
         "N"},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- tap plugin throughput vs raw TAP");
    g_autoptr(GError) err = NULL;
    Row rows[2 * G_N_ELEMENTS(sizes)];
    int nrows = 0;
    Bench b = {.scale = scale};

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "%s\n", err->message);
        return 2;
    }
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
        printf("bench-tap: skipped (needs root and /dev/net/tun for TAP devices)\n");
        return 0;
    }
    if (!g_getenv("NETBE_PLUGIN_PATH")) {
        g_setenv("NETBE_PLUGIN_PATH", BENCH_PLUGIN_DIR, true);
    }
    b.scale = scale;
    b.repeat = MAX(1, repeat);
    bench_setup(&b);
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        rows[nrows++] = measure(&b, DIR_TX, &sizes[i]);
        rows[nrows++] = measure(&b, DIR_RX, &sizes[i]);
    }
    bench_teardown(&b);
    print_and_save(rows, nrows, json ? json : "bench-results/tap.json");
    return 0;
}
