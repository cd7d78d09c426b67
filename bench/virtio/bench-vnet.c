// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-vnet.c - virtio-net frontend + tap plugin throughput, guest->TAP and TAP->guest,
 * for 64 B, 1514 B and 64 KiB GSO frames, next to a raw TAP read/write loop measured in
 * the same run on a second TAP of the same namespace; then that raw loop batched through
 * io_uring (what batching can give here). Needs root. Tables + JSON. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "bench-raw.h"
#include "harness.h"
#include "netns.h"

/* ---- through the frontend: the harness guest and the device ---- */

/* Post every free TX slot (prefilled with the frame) and let the device send them. */
static double vnet_tx(VgGuest *g, const BenchSize *s)
{
    static uint8_t hdr[12], f[BENCH_GSO_FRAME];
    VgQueue *q = &g->q[vg_txq(g, 0)];
    unsigned slots = q->size / 2;
    double t0 = bench_now(), t;
    uint64_t n = 0;

    bench_make_frame(hdr, f, s);
    vg_tx_reclaim(g, 0);
    g_assert_cmpuint(q->nfree, ==, slots);
    for (unsigned i = 0; i < slots; i++) {
        g_assert_true(vg_send_nokick(g, 0, hdr, f, s->len)); /* fills the slot once */
    }
    vg_tx_kick(g, 0);
    do {
        for (int i = 0; i < 16; i++) {
            unsigned done;

            vg_pump(g);
            done = vg_tx_reclaim(g, 0);
            n += done;
            /* re-post the finished slots as they are: the data is already there */
            while (q->nfree > 0) {
                uint16_t head = 2 * q->free_slots[--q->nfree];

                q->avail[2 + q->avail_idx % q->size] = htole16(head);
                q->avail_idx++;
            }
            vg_tx_kick(g, 0);
        }
        t = bench_now();
    } while (t - t0 < bench_seconds);
    /* let the last chains finish */
    for (int i = 0; i < 100 && vg_tx_reclaim(g, 0) + q->nfree < slots; i++) {
        vg_pump(g);
    }
    return n / (t - t0);
}

/* Take used RX entries without copying (as a guest that hands buffers up the stack):
 * count frames by num_buffers and give the buffers back. */
static unsigned vnet_consume(VgGuest *g)
{
    unsigned vq = vg_rxq(g, 0);
    VgQueue *q = &g->q[vq];
    uint16_t used = le16toh(__atomic_load_n((uint16_t *)(q->used + 2), __ATOMIC_ACQUIRE));
    unsigned frames = 0, left = 0;

    while (q->last_used != used) {
        uint8_t *e = q->used + 4 + 8 * (size_t)(q->last_used % q->size);
        uint32_t id;

        memcpy(&id, e, 4);
        id = le32toh(id);
        if (left == 0) {
            uint16_t nb;

            memcpy(&nb, q->bufs + (size_t)id * q->buf_size + 10, 2);
            left = le16toh(nb);
            frames++;
        }
        left--;
        q->last_used++;
        q->avail[2 + q->avail_idx % q->size] = htole16(id);
        q->avail_idx++;
    }
    if (g->features & (1ull << NETBE_VIRTIO_F_RING_EVENT_IDX)) {
        q->avail[2 + q->size] = htole16(q->last_used);
    }
    return frames;
}

static unsigned vnet_drain(void *opaque, unsigned want)
{
    VgGuest *g = opaque;
    unsigned got = 0;
    int idle = 0;

    while (got < want && idle < 2000) {
        unsigned n;

        vg_pump(g);
        n = vnet_consume(g);
        got += n;
        idle = n ? 0 : idle + 1;
        if (n) {
            vg_publish(g, vg_rxq(g, 0)); /* kicks only when the device waits for buffers */
        }
    }
    return got;
}

/*
 * What batching can give on this kernel, same run: the raw loop with 64 frames per
 * io_uring_enter() against one syscall per frame (the baseline above). A device that
 * batches cannot beat the raw loop by more than this.
 */
static void print_batch_limit(int raw_fd, int p_raw, int p_raw_gso, const char *only,
                              const char *json)
{
    BenchResult res[2 * G_N_ELEMENTS(bench_sizes)];
    g_autofree char *base = g_str_has_suffix(json, ".json")
                                ? g_strndup(json, strlen(json) - strlen(".json"))
                                : g_strdup(json);
    g_autofree char *path = g_strdup_printf("%s-batch-limit.json", base);
    size_t n = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(bench_sizes); i++) {
        const BenchSize *s = &bench_sizes[i];

        if (bench_selected(only, "guest->tap", s->name)) {
            res[n++] = (BenchResult){"guest->tap", s->name, bench_raw_tx(raw_fd, s, NULL),
                                     bench_raw_tx_uring(raw_fd, s), s->len};
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bench_sizes); i++) {
        const BenchSize *s = &bench_sizes[i];
        int p = s->gso ? p_raw_gso : p_raw;

        if (bench_selected(only, "tap->guest", s->name)) {
            res[n++] = (BenchResult){
                "tap->guest", s->name, bench_rx_rate(p, s, bench_raw_drain, &raw_fd, -1, NULL),
                bench_rx_rate(p, s, bench_raw_drain_uring, &raw_fd, -1, NULL), s->len};
        }
    }
    bench_print_and_save("kernel limit: raw TAP loop, 64 frames per io_uring_enter() vs one "
                         "syscall per frame",
                         "batched", 0, res, n, path);
}

int main(int argc, char **argv)
{
    const char *json = "bench-results/vnet.json";
    const char *plugin_path = g_getenv("NETBE_PLUGIN_PATH");
    BenchResult res[2 * G_N_ELEMENTS(bench_sizes)];
    g_autofree char *ns = NULL;
    NetbeRuntime *rt;
    VgGuest *g;
    GError *err = NULL;
    int saved, raw_fd, p_vnet, p_vnet_gso, p_raw, p_raw_gso;
    size_t nres = 0;
    const char *only = NULL;

    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--json") && i + 1 < argc) {
            json = argv[++i];
        } else if (g_str_equal(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i]; /* e.g. "tap->guest:64B", for profiling */
        } else if (g_str_equal(argv[i], "--raw-ring") && i + 1 < argc) {
            bench_raw_ring_slots = atoi(argv[++i]); /* diagnosis: a baseline with cold buffers */
        } else if (g_str_equal(argv[i], "--seconds") && i + 1 < argc) {
            bench_seconds = g_ascii_strtod(argv[++i], NULL);
        }
    }
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
        printf("bench-vnet: needs root and /dev/net/tun; skipped\n");
        return 77;
    }
    ns = test_netns_create("bvnet");
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    if (plugin_path) {
        netbe_runtime_set_plugin_path(rt, plugin_path);
    }
    saved = test_netns_enter(ns);
    if (!netbe_runtime_load_config_string(rt,
                                          "[netdev.t0]\ntype = tap\nifname = btap0\n"
                                          "vnet_hdr = on\n[device.d0]\nnetdev = t0\n",
                                          "bench-vnet.ini", &err)) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    raw_fd = bench_raw_tap_open("braw0");
    test_netns_leave(saved);
    test_sh("ip -n %s link set btap0 up txqueuelen 20000 && "
            "ip -n %s link set braw0 up txqueuelen 20000",
            ns, ns);
    fcntl(raw_fd, F_SETFL, O_NONBLOCK);
    g = vg_new(rt, "d0", &(VgOptions){.rx_buf_size = 4096});
    p_vnet = test_packet_sender(ns, "btap0", false);
    p_vnet_gso = test_packet_sender(ns, "btap0", true);
    p_raw = test_packet_sender(ns, "braw0", false);
    p_raw_gso = test_packet_sender(ns, "braw0", true);
    vg_pump_for(g, 100);
    vnet_drain(g, 100000); /* IPv6 chatter from link up */
    bench_raw_drain(&raw_fd, 100000);

    for (size_t i = 0; i < G_N_ELEMENTS(bench_sizes); i++) {
        const BenchSize *s = &bench_sizes[i];

        if (bench_selected(only, "guest->tap", s->name)) {
            res[nres] = (BenchResult){"guest->tap", s->name, bench_raw_tx(raw_fd, s, NULL),
                                      vnet_tx(g, s), s->len};
            nres++;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bench_sizes); i++) {
        const BenchSize *s = &bench_sizes[i];

        if (!bench_selected(only, "tap->guest", s->name)) {
            continue;
        }
        res[nres] = (BenchResult){
            "tap->guest", s->name,
            bench_rx_rate(s->gso ? p_raw_gso : p_raw, s, bench_raw_drain, &raw_fd, -1, NULL),
            bench_rx_rate(s->gso ? p_vnet_gso : p_vnet, s, vnet_drain, g, -1, NULL), s->len};
        nres++;
    }
    if (g_getenv("BENCH_VNET_DEBUG")) {
        for (unsigned vq = 0; vq < 2; vq++) {
            NetbeVnetQueueStats qs;
            NetbeQueueStats st;

            netbe_vnet_get_queue_stats(g->dev, vq, &qs);
            netbe_runtime_get_queue_stats(rt, "t0", 0, &st);
            printf("vq %u: kicks %" G_GUINT64_FORMAT " irqs %" G_GUINT64_FORMAT
                   " chains %" G_GUINT64_FORMAT " drops %" G_GUINT64_FORMAT
                   "; t0 rx %" G_GUINT64_FORMAT " drops %" G_GUINT64_FORMAT "\n",
                   vq, qs.kicks, qs.interrupts, qs.chains, qs.drops, st.rx_frames, st.rx_drops);
        }
    }
    bench_print_and_save("virtio-net frontend + tap plugin vs raw TAP loop", "vnet", 0.8, res, nres,
                         json);
    print_batch_limit(raw_fd, p_raw, p_raw_gso, only, json);
    close(p_vnet);
    close(p_vnet_gso);
    close(p_raw);
    close(p_raw_gso);
    close(raw_fd);
    vg_free(g);
    netbe_runtime_free(rt);
    test_netns_delete(ns);
    return 0;
}
