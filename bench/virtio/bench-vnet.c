/* bench-vnet.c - virtio-net frontend + tap plugin throughput, guest->TAP and TAP->guest,
 * for 64 B, 1514 B and 64 KiB GSO frames, next to a raw TAP read/write loop measured in
 * the same run on a second TAP of the same namespace. Needs root. Table + JSON. */
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
#include "harness.h"
#include "netns.h"

#define NS_IP_FMT "10.78.0.%d"
#define GSO_PAYLOAD 65000
#define GSO_FRAME (54 + GSO_PAYLOAD)

typedef struct Size {
    const char *name;
    size_t len;     /* Ethernet frame bytes */
    bool gso;
} Size;

static const Size sizes[] = {
    { "64B", 64, false },
    { "1514B", 1514, false },
    { "64KiB-GSO", GSO_FRAME, true },
};

typedef struct Result {
    const char *dir, *size;
    double raw_fps, vnet_fps;
    size_t frame_len;
} Result;

static double seconds = 1.0;

static double now(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* A 12-byte vnet header + frame: UDP-ish filler, or a TCPv4 GSO frame (csum offload). */
static void make_frame(uint8_t *hdr, uint8_t *f, const Size *s)
{
    static const uint8_t dst[6] = { 0x02, 0xbb, 0, 0, 0, 1 }, src[6] = { 0x02, 0xaa, 0, 0, 0, 2 };
    const uint8_t sip[4] = { 10, 78, 0, 2 }, dip[4] = { 10, 78, 0, 9 };

    memset(hdr, 0, 12);
    memset(f, 0, s->len);
    if (!s->gso) {
        vg_make_frame(f, dst, src, 0x88b5, s->len - 14, 1);
        return;
    }
    vg_make_ipv4(f, dst, src, sip, dip, 6, s->len - 34);
    f[34 + 12] = 5 << 4;
    f[34 + 13] = 0x18;
    hdr[0] = 1;   /* NEEDS_CSUM */
    hdr[1] = 1;   /* TCPV4 */
    hdr[2] = 54;  /* hdr_len */
    hdr[4] = 1460 & 0xff;
    hdr[5] = 1460 >> 8;
    hdr[6] = 34;  /* csum_start */
    hdr[8] = 16;  /* csum_offset */
}

/* ---- the raw baseline: our own TAP fd ---- */

static int raw_tap_open(const char *ifname)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), len = 12;
    unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

    g_assert_cmpint(fd, >=, 0);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    g_assert_cmpint(ioctl(fd, TUNSETIFF, &ifr), ==, 0);
    g_assert_cmpint(ioctl(fd, TUNSETVNETHDRSZ, &len), ==, 0);
    g_assert_cmpint(ioctl(fd, TUNSETOFFLOAD, off), ==, 0);
    return fd;
}

static double raw_tx(int fd, const Size *s)
{
    static uint8_t buf[12 + GSO_FRAME];
    double t0 = now(), t;
    uint64_t n = 0;

    make_frame(buf, buf + 12, s); /* header and frame in one buffer: one write() */
    do {
        for (int i = 0; i < 256; i++) {
            if (write(fd, buf, 12 + s->len) > 0) {
                n++;
            }
        }
        t = now();
    } while (t - t0 < seconds);
    return n / (t - t0);
}

/* ---- the TAP->guest source: a packet socket on the TAP, filling its queue ---- */

static int packet_socket(const char *ns, const char *ifname, bool vnet)
{
    int saved = test_netns_enter(ns), one = 1, fd;
    struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = 0 };

    /* protocol 0: send only, no copy of every frame the interface receives */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    ll.sll_ifindex = if_nametoindex(ifname);
    test_netns_leave(saved);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ll.sll_ifindex, >, 0);
    if (vnet) {
        g_assert_cmpint(setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), ==, 0);
    }
    g_assert_cmpint(bind(fd, (struct sockaddr *)&ll, sizeof(ll)), ==, 0);
    return fd;
}

/* Queue @count frames into the TAP (the kernel "transmits" them to its reader). */
static unsigned fill(int pfd, const Size *s, unsigned count)
{
    static uint8_t hdr[12], f[GSO_FRAME];
    struct iovec iov[2] = { { hdr, 10 }, { f, s->len } };
    struct msghdr msg = { .msg_iov = s->gso ? iov : iov + 1, .msg_iovlen = s->gso ? 2 : 1 };
    unsigned sent = 0;

    make_frame(hdr, f, s);
    for (unsigned i = 0; i < count; i++) {
        sent += sendmsg(pfd, &msg, MSG_DONTWAIT) > 0;
    }
    return sent;
}

/* Fill, then time the drain; repeat for about `seconds` of drain time. */
typedef unsigned (*DrainFunc)(void *opaque, unsigned want);

static double rx_rate(int pfd, const Size *s, DrainFunc drain, void *opaque)
{
    unsigned batch = s->gso ? 512 : 4096;
    double busy = 0;
    uint64_t frames = 0;

    while (busy < seconds) {
        unsigned queued = fill(pfd, s, batch), got;
        double t0 = now();

        got = drain(opaque, queued);
        busy += now() - t0;
        frames += got;
        if (got < queued / 2) {
            break; /* the source or the sink stopped working */
        }
    }
    return busy > 0 ? frames / busy : 0;
}

typedef struct RawSink {
    int fd;
} RawSink;

/* --raw-ring N: the raw loop reads into N rotating 4 KiB buffers, the guest's RX buffer
 * size (as a device filling an RX ring does: cold lines and TLB entries), instead of one
 * hot buffer; 0 = one buffer. A frame longer than 4 KiB runs into the next buffers. */
static unsigned raw_ring_slots;

static unsigned raw_drain(void *opaque, unsigned want)
{
    static uint8_t buf[70000];
    static uint8_t *ring;
    static unsigned slot;
    RawSink *r = opaque;
    unsigned got = 0;
    int idle = 0;

    if (raw_ring_slots && !ring) {
        ring = g_malloc0((size_t)raw_ring_slots * 4096 + sizeof(buf));
    }
    while (got < want && idle < 1000) {
        uint8_t *dst = ring ? ring + (size_t)(slot++ % raw_ring_slots) * 4096 : buf;

        if (read(r->fd, dst, sizeof(buf)) > 0) {
            got++;
            idle = 0;
        } else {
            idle++;
        }
    }
    return got;
}

/* ---- through the frontend: the harness guest and the device ---- */

/* Post every free TX slot (prefilled with the frame) and let the device send them. */
static double vnet_tx(VgGuest *g, const Size *s)
{
    static uint8_t hdr[12], f[GSO_FRAME];
    VgQueue *q = &g->q[vg_txq(g, 0)];
    unsigned slots = q->size / 2;
    double t0 = now(), t;
    uint64_t n = 0;

    make_frame(hdr, f, s);
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
        t = now();
    } while (t - t0 < seconds);
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

static void print_and_save(const Result *res, size_t n, const char *json_path)
{
    GString *js = g_string_new("{\n  \"benchmark\": \"virtio-net frontend + tap plugin vs raw "
                               "TAP loop\",\n  \"results\": [\n");
    FILE *f;

    printf("%-10s %-10s %14s %10s %14s %10s %7s\n", "direction", "frame", "raw frames/s",
           "raw Gb/s", "vnet frames/s", "vnet Gb/s", "ratio");
    for (size_t i = 0; i < n; i++) {
        const Result *r = &res[i];
        double rg = r->raw_fps * r->frame_len * 8 / 1e9, vg = r->vnet_fps * r->frame_len * 8 / 1e9;
        double ratio = r->raw_fps > 0 ? r->vnet_fps / r->raw_fps : 0;

        printf("%-10s %-10s %14.0f %10.2f %14.0f %10.2f %6.0f%%\n", r->dir, r->size,
               r->raw_fps, rg, r->vnet_fps, vg, ratio * 100);
        g_string_append_printf(js, "    {\"direction\": \"%s\", \"frame\": \"%s\", "
                               "\"frame_bytes\": %zu, \"raw_fps\": %.0f, \"raw_gbps\": %.3f, "
                               "\"vnet_fps\": %.0f, \"vnet_gbps\": %.3f, \"ratio\": %.3f}%s\n",
                               r->dir, r->size, r->frame_len, r->raw_fps, rg, r->vnet_fps, vg,
                               ratio, i + 1 < n ? "," : "");
    }
    g_string_append(js, "  ]\n}\n");
    g_autofree char *dir = g_path_get_dirname(json_path);
    g_mkdir_with_parents(dir, 0755);
    f = fopen(json_path, "w");
    if (f) {
        fputs(js->str, f);
        fclose(f);
        printf("JSON: %s\n", json_path);
    }
    g_string_free(js, true);
}

/* True if the measurement @dir:@size is wanted (--only DIR:SIZE, or all). */
static bool selected(const char *only, const char *dir, const char *size)
{
    g_autofree char *name = g_strdup_printf("%s:%s", dir, size);

    return !only || g_str_equal(only, name);
}

int main(int argc, char **argv)
{
    const char *json = "bench-results/vnet.json";
    const char *plugin_path = g_getenv("NETBE_PLUGIN_PATH");
    Result res[2 * G_N_ELEMENTS(sizes)];
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
            raw_ring_slots = atoi(argv[++i]); /* diagnosis: a baseline with cold buffers */
        } else if (g_str_equal(argv[i], "--seconds") && i + 1 < argc) {
            seconds = g_ascii_strtod(argv[++i], NULL);
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
    if (!netbe_runtime_load_config_string(rt, "[netdev.t0]\ntype = tap\nifname = btap0\n"
                                          "vnet_hdr = on\n[device.d0]\nnetdev = t0\n",
                                          "bench-vnet.ini", &err)) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    raw_fd = raw_tap_open("braw0");
    test_netns_leave(saved);
    test_sh("ip -n %s link set btap0 up txqueuelen 20000 && "
            "ip -n %s link set braw0 up txqueuelen 20000", ns, ns);
    fcntl(raw_fd, F_SETFL, O_NONBLOCK);
    g = vg_new(rt, "d0", &(VgOptions){ .rx_buf_size = 4096 });
    p_vnet = packet_socket(ns, "btap0", false);
    p_vnet_gso = packet_socket(ns, "btap0", true);
    p_raw = packet_socket(ns, "braw0", false);
    p_raw_gso = packet_socket(ns, "braw0", true);
    vg_pump_for(g, 100);
    vnet_drain(g, 100000); /* IPv6 chatter from link up */
    raw_drain(&(RawSink){ raw_fd }, 100000);

    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        if (selected(only, "guest->tap", sizes[i].name)) {
            res[nres] = (Result){ "guest->tap", sizes[i].name, raw_tx(raw_fd, &sizes[i]),
                                  vnet_tx(g, &sizes[i]), sizes[i].len };
            nres++;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        const Size *s = &sizes[i];

        if (!selected(only, "tap->guest", s->name)) {
            continue;
        }
        res[nres] = (Result){ "tap->guest", s->name,
                              rx_rate(s->gso ? p_raw_gso : p_raw, s, raw_drain,
                                      &(RawSink){ raw_fd }),
                              rx_rate(s->gso ? p_vnet_gso : p_vnet, s, vnet_drain, g), s->len };
        nres++;
    }
    if (g_getenv("BENCH_VNET_DEBUG")) {
        for (unsigned vq = 0; vq < 2; vq++) {
            NetbeVnetQueueStats qs;
            NetbeQueueStats st;

            netbe_vnet_get_queue_stats(g->dev, vq, &qs);
            netbe_runtime_get_queue_stats(rt, "t0", 0, &st);
            printf("vq %u: kicks %" G_GUINT64_FORMAT " irqs %" G_GUINT64_FORMAT " chains %"
                   G_GUINT64_FORMAT " drops %" G_GUINT64_FORMAT "; t0 rx %" G_GUINT64_FORMAT
                   " drops %" G_GUINT64_FORMAT "\n", vq, qs.kicks, qs.interrupts, qs.chains,
                   qs.drops, st.rx_frames, st.rx_drops);
        }
    }
    print_and_save(res, nres, json);
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
