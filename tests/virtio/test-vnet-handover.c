// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vnet-handover.c - live handover of a virtio-net device between two runtimes sharing
 * the harness guest's memory (the VMM case): device pause/resume/save/load, the backend
 * moved by the runtime stream, malformed device records, GUEST_ANNOUNCE. */
#include <endian.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "harness.h"
#include "netbe/migrate.h"
#include "netns.h"

#define F(bit) (1ull << (bit))
#define PAYLOAD 100
#define TYPE_SEQ 0x88b5
#define HO_PAIRS 4

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};

/* A guest on device "d0" of runtime 1 (source), the peer, and runtime 2. The backend is
 * the vtest fixture (a socketpair; the peer's frames carry the 12-byte header) or, as
 * root, a real TAP "vho0" in a namespace (the peer is a packet socket on it). */
typedef struct Ho {
    unsigned pairs;
    int peer[HO_PAIRS];   /* the test's ends */
    int be_end[HO_PAIRS]; /* the backend's socketpair ends (vtest) */
    char *ns;             /* TAP: the namespace */
    unsigned peer_hdr;    /* header bytes before each frame at the peer */
    NetbeRuntime *rt1, *rt2;
    NetbeDevice *a, *b;
    VgGuest *g;
    char *dir, *sock;
    /* per queue pair: next number sent by the guest / the peer, and expected at the
     * peer / in the guest */
    uint32_t tx_next[HO_PAIRS], rx_next[HO_PAIRS], tx_got[HO_PAIRS], rx_got[HO_PAIRS];
} Ho;

static NetbeRuntime *ho_runtime(Ho *h)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GString) fdl = g_string_new(NULL);
    const char *fds;

    for (unsigned p = 0; p < h->pairs && !h->ns; p++) {
        g_string_append_printf(fdl, "%s%d", p ? ":" : "", h->be_end[p]);
    }
    fds = fdl->str;
    g_autofree char *conf =
        h->ns ? g_strdup("[netdev.n0]\ntype = tap\nifname = vho0\nvnet_hdr = on\n"
                         "[device.d0]\nnetdev = n0\nconnect = deferred\n")
              : g_strdup_printf("[netdev.n0]\ntype = vtest\nfds = %s\nvnet_hdr = on\n"
                                "offloads = 1\n[device.d0]\nnetdev = n0\nconnect = deferred\n"
                                "queues = %u\n",
                                fds, h->pairs);
    GError *err = NULL;

    netbe_runtime_set_plugin_path(rt, g_getenv(h->ns ? "NETBE_PLUGIN_PATH" : "NETBE_VTEST_DIR"));
    g_assert_true(netbe_runtime_load_config_string(rt, conf, "handover.ini", &err));
    g_assert_no_error(err);
    return rt;
}

/* TAP: a packet socket on vho0 in the namespace for our ethertype (incoming only). */
static int ho_packet_socket(Ho *h)
{
    return test_packet_socket(h->ns, "vho0", TYPE_SEQ);
}

static Ho *ho_new_on(const VgOptions *opt, bool tap, unsigned pairs)
{
    Ho *h = g_new0(Ho, 1);
    int sv[2], size = 8 << 20;

    h->pairs = pairs;
    for (unsigned p = 0; p < HO_PAIRS; p++) {
        h->peer[p] = h->be_end[p] = -1;
    }
    if (tap) {
        int saved;

        h->ns = test_netns_create("vho");
        h->rt1 = ho_runtime(h);
        saved = test_netns_enter(h->ns); /* the deferred TAP opens at DRIVER_OK */
        h->g = vg_new(h->rt1, "d0", opt);
        test_netns_leave(saved);
        g_assert_cmpint(test_sh("ip -n %s link set vho0 address 02:00:00:00:00:99 && "
                                "ip -n %s link set vho0 up",
                                h->ns, h->ns),
                        ==, 0);
        h->peer[0] = ho_packet_socket(h);
    } else {
        for (unsigned p = 0; p < pairs; p++) {
            g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
            for (int k = 0; k < 2; k++) {
                setsockopt(sv[k], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
                setsockopt(sv[k], SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
            }
            h->peer[p] = sv[0];
            h->be_end[p] = sv[1];
        }
        h->peer_hdr = VG_HDR_LEN;
        h->rt1 = ho_runtime(h);
        h->g = vg_new(h->rt1, "d0", opt);
        if (pairs > 1) {
            g_assert_true(vg_set_pairs(h->g, pairs));
        }
    }
    h->a = h->g->dev;
    h->dir = g_dir_make_tmp("vnet-ho-XXXXXX", NULL);
    h->sock = g_build_filename(h->dir, "mig.sock", NULL);
    return h;
}

static Ho *ho_new(const VgOptions *opt)
{
    return ho_new_on(opt, false, 1);
}

static void ho_free(Ho *h)
{
    vg_free(h->g);
    netbe_runtime_free(h->rt2);
    netbe_runtime_free(h->rt1);
    for (unsigned p = 0; p < HO_PAIRS; p++) {
        if (h->peer[p] >= 0) {
            close(h->peer[p]);
        }
        if (h->be_end[p] >= 0) {
            close(h->be_end[p]);
        }
    }
    if (h->ns) {
        test_netns_delete(h->ns);
        g_free(h->ns);
    }
    unlink(h->sock);
    rmdir(h->dir);
    g_free(h->sock);
    g_free(h->dir);
    g_free(h);
}

/* ---- numbered frames both ways ---- */

static size_t seq_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t seq)
{
    uint32_t le = htole32(seq);
    size_t len = vg_make_frame(f, dst, src, TYPE_SEQ, PAYLOAD, (uint8_t)seq);

    memcpy(f + 14, &le, 4);
    return len;
}

/* Sum of a per-pair counter. */
static uint32_t sum(const Ho *h, const uint32_t *c)
{
    uint32_t t = 0;

    for (unsigned p = 0; p < h->pairs; p++) {
        t += c[p];
    }
    return t;
}

/* The guest sends @n numbered frames on every pair (kicking the device it talks to now). */
static void guest_send(Ho *h, unsigned n)
{
    uint8_t f[200];

    for (unsigned i = 0; i < n; i++) {
        for (unsigned p = 0; p < h->pairs; p++) {
            size_t len = seq_frame(f, peer_mac, h->g->mac, h->tx_next[p]);

            g_assert_true(vg_send(h->g, p, NULL, f, len));
            h->tx_next[p]++;
        }
    }
}

/* The peer writes @n numbered frames into every queue of the backend (header first). */
static void peer_send(Ho *h, unsigned n)
{
    uint8_t f[200] = {0};

    for (unsigned i = 0; i < n; i++) {
        for (unsigned p = 0; p < h->pairs; p++) {
            size_t len =
                h->peer_hdr + seq_frame(f + h->peer_hdr, h->g->mac, peer_mac, h->rx_next[p]);

            g_assert_cmpint(send(h->peer[p], f, len, 0), ==, (ssize_t)len);
            h->rx_next[p]++;
        }
    }
}

/* Take what arrived at the peer; every frame must be the next number of its queue. */
static void peer_take(Ho *h)
{
    uint8_t f[2000];
    ssize_t n;

    for (unsigned p = 0; p < h->pairs; p++) {
        while ((n = recv(h->peer[p], f, sizeof(f), MSG_DONTWAIT)) > 0) {
            uint32_t seq;

            g_assert_cmpint(n, ==, h->peer_hdr + 14 + PAYLOAD);
            memcpy(&seq, f + h->peer_hdr + 14, 4);
            g_assert_cmpuint(le32toh(seq), ==, h->tx_got[p]);
            h->tx_got[p]++;
        }
    }
}

/* Take what the device put in the guest's RX rings (without pumping the runtime). */
static void guest_take(Ho *h)
{
    uint8_t f[70000];
    ssize_t n;

    for (unsigned p = 0; p < h->pairs; p++) {
        while ((n = vg_recv_ready(h->g, p, f, sizeof(f), NULL, NULL)) >= 0) {
            uint32_t seq;

            if (n < 14 || f[12] != TYPE_SEQ >> 8 || f[13] != (TYPE_SEQ & 0xff)) {
                continue; /* the namespace's own chatter (IPv6 ND) */
            }
            g_assert_cmpint(n, ==, 14 + PAYLOAD);
            memcpy(&seq, f + 14, 4);
            g_assert_cmpuint(le32toh(seq), ==, h->rx_got[p]);
            h->rx_got[p]++;
        }
        vg_tx_reclaim(h->g, p);
    }
}

static bool all_arrived(const Ho *h)
{
    for (unsigned p = 0; p < h->pairs; p++) {
        if (h->tx_got[p] != h->tx_next[p] || h->rx_got[p] != h->rx_next[p]) {
            return false;
        }
    }
    return true;
}

/* Pump until every frame sent either way arrived (asserting order and uniqueness). */
static void drain(Ho *h, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (!all_arrived(h) && g_get_monotonic_time() < end) {
        vg_pump(h->g);
        peer_take(h);
        guest_take(h);
        g_usleep(100);
    }
    for (unsigned p = 0; p < h->pairs; p++) {
        g_assert_cmpuint(h->tx_got[p], ==, h->tx_next[p]);
        g_assert_cmpuint(h->rx_got[p], ==, h->rx_next[p]);
    }
}

/* Pump for @ms; nothing may move (the device is paused). */
static void expect_still(Ho *h, int ms)
{
    uint32_t tx = sum(h, h->tx_got), rx = sum(h, h->rx_got);

    vg_pump_for(h->g, ms);
    peer_take(h);
    guest_take(h);
    g_assert_cmpuint(sum(h, h->tx_got), ==, tx);
    g_assert_cmpuint(sum(h, h->rx_got), ==, rx);
}

/* ---- the handover ---- */

typedef struct Incoming {
    NetbeRuntime *rt;
    int listen_fd;
    bool ok;
    GError *err;
} Incoming;

static void *incoming_thread(void *opaque)
{
    Incoming *in = opaque;

    /* runtime 2's context belongs to this thread until it is joined */
    in->ok = netbe_runtime_migrate_from(in->rt, in->listen_fd, 5000, NULL, &in->err);
    return NULL;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

/* Runtime 2 with device B, which gets the guest's memory and hooks (not started). */
static void ho_destination(Ho *h)
{
    h->rt2 = ho_runtime(h);
    h->b = netbe_runtime_find_device(h->rt2, "d0");
    g_assert_nonnull(h->b);
    vg_attach(h->g, h->b);
}

/* A paused device's record, as the VMM carries it in its own stream. */
static GBytes *save_device(NetbeDevice *dev)
{
    NetbeMigWriter *w = netbe_mig_writer_new();
    GError *err = NULL;
    const uint8_t *data;
    unsigned nfds;
    size_t len;
    GBytes *b;

    g_assert_true(netbe_device_save(dev, w, &err));
    g_assert_no_error(err);
    data = netbe_mig_writer_data(w, &len);
    netbe_mig_writer_fds(w, &nfds);
    g_assert_cmpuint(nfds, ==, 0); /* kick and call fds are the VMM's */
    b = g_bytes_new(data, len);
    netbe_mig_writer_free(w);
    return b;
}

static bool load_device(NetbeDevice *dev, GBytes *rec, GError **errp)
{
    size_t len;
    const void *data = g_bytes_get_data(rec, &len);
    NetbeMigReader *r = netbe_mig_reader_new(data, len, NULL, 0);
    bool ok = netbe_device_load(dev, r, errp);

    netbe_mig_reader_free(r);
    return ok;
}

/*
 * The VMM's handover of a paused device A: its record is saved, the backend moves from
 * runtime 1 to runtime 2 over the runtime stream (runtime 2 on its own thread), B loads
 * the record (unless the stream carried it already) and resumes; the guest kicks B.
 */
static void ho_move(Ho *h)
{
    g_autoptr(GBytes) rec = save_device(h->a);
    Incoming in = {.rt = h->rt2};
    GError *err = NULL;
    pthread_t th;
    bool ok;

    in.listen_fd = listen_unix(h->sock);
    g_assert_cmpint(pthread_create(&th, NULL, incoming_thread, &in), ==, 0);
    ok = netbe_runtime_migrate_to(h->rt1, h->sock, NULL, &err);
    pthread_join(th, NULL);
    close(in.listen_fd);
    g_assert_no_error(err);
    g_assert_no_error(in.err);
    g_assert_true(ok && in.ok);
    g_assert_true(netbe_device_is_connected(h->b)); /* adopted, not connected anew */
    if (!(netbe_vnet_get_status(h->b) & NETBE_VIRTIO_STATUS_DRIVER_OK)) {
        g_assert_true(load_device(h->b, rec, &err));
        g_assert_no_error(err);
    }
    netbe_device_resume(h->b);
    vg_switch(h->g, h->rt2, h->b);
}

static uint64_t queue_chains(NetbeDevice *dev, unsigned vq)
{
    NetbeVnetQueueStats st;

    g_assert_true(netbe_vnet_get_queue_stats(dev, vq, &st));
    g_assert_false(st.broken);
    return st.chains;
}

/* ---- tests ---- */

/*
 * Fails if a frame is lost or duplicated either way across the handover (frames queued
 * in the TX ring and in the backend's socket while A is paused must come out of B exactly
 * once, in order), if B restarts the ring indices (the guest would read stale used
 * entries), or if the guest sees DEVICE_NEEDS_RESET.
 */
static void traffic_handover(bool tap, unsigned pairs)
{
    Ho *h = ho_new_on(NULL, tap, pairs);
    uint64_t a_rx[HO_PAIRS], a_tx[HO_PAIRS];

    guest_send(h, 100);
    peer_send(h, 100);
    drain(h, 3000);
    /* in flight when the pause comes: chains in the TX ring, frames in the socket */
    guest_send(h, 20);
    peer_send(h, 20);
    netbe_device_pause(h->a);
    netbe_device_pause(h->a); /* idempotent */
    guest_send(h, 30);        /* kicks A, which no longer listens */
    peer_send(h, 30);
    expect_still(h, 50);
    ho_destination(h);
    ho_move(h);
    for (unsigned p = 0; p < pairs; p++) {
        a_rx[p] = queue_chains(h->a, vg_rxq(h->g, p));
        a_tx[p] = queue_chains(h->a, vg_txq(h->g, p));
    }
    guest_send(h, 50);
    peer_send(h, 50);
    drain(h, 5000);
    g_assert_cmpuint(sum(h, h->tx_got), ==, 200 * pairs);
    g_assert_cmpuint(sum(h, h->rx_got), ==, 200 * pairs);
    for (unsigned p = 0; p < pairs; p++) {
        VgQueue *rxq = &h->g->q[vg_rxq(h->g, p)], *txq = &h->g->q[vg_txq(h->g, p)];
        uint64_t b_rx = queue_chains(h->b, vg_rxq(h->g, p));
        uint64_t b_tx = queue_chains(h->b, vg_txq(h->g, p));

        /* both devices did part of the work, and together all of it (a TAP adds the
         * namespace's chatter on RX) */
        g_assert_cmpuint(b_rx, >, 0);
        g_assert_cmpuint(b_tx, >, 0);
        g_assert_cmpuint(a_tx[p] + b_tx, ==, 200);
        g_assert_cmpuint(txq->last_used, ==, 200);
        /* the used indices continued where A left them */
        g_assert_cmpuint(rxq->last_used, ==, a_rx[p] + b_rx);
        if (!tap) {
            g_assert_cmpuint(rxq->last_used, ==, 200);
        }
    }
    g_assert_cmpuint(netbe_vnet_get_status(h->b) & NETBE_VIRTIO_STATUS_NEEDS_RESET, ==, 0);
    g_assert_cmpuint(netbe_vnet_get_driver_features(h->b), ==, h->g->features);
    ho_free(h);
}

static void test_guest_traffic_survives_handover(void)
{
    traffic_handover(false, 1);
}

/* The same with 4 queue pairs in use (VIRTIO_NET_F_MQ, curr_pairs moves with the state):
 * each pair keeps its own order. */
static void test_four_pairs_survive_handover(void)
{
    traffic_handover(false, 4);
}

/* The same through a real TAP in a namespace: its fds move, frames the namespace sends
 * while A is paused wait in the TAP's queue and reach the guest through B. */
static void test_tap_guest_traffic_survives_handover(void)
{
    if (!test_need_root_net()) {
        return;
    }
    traffic_handover(true, 1);
}

/*
 * Fails if the TX chain the busy backend could not take (waiting for tx_ready when A is
 * paused) is lost or sent twice: it must stay in the guest's ring and go out through B,
 * followed by the rest, every frame once and in order.
 */
static void test_tx_chain_waiting_for_backend_moves(void)
{
    Ho *h = ho_new(NULL);
    int small = 4096;
    uint64_t a_tx;

    g_assert_cmpint(setsockopt(h->be_end[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), ==, 0);
    guest_send(h, 100); /* the peer reads nothing: the backend's socket fills up */
    vg_pump_for(h->g, 50);
    a_tx = queue_chains(h->a, 1);
    g_assert_cmpuint(a_tx, >, 0);
    g_assert_cmpuint(a_tx, <, 100); /* A waits for tx_ready with a chain in the ring */
    netbe_device_pause(h->a);
    ho_destination(h);
    ho_move(h);
    drain(h, 5000);
    g_assert_cmpuint(sum(h, h->tx_got), ==, 100);
    g_assert_cmpuint(a_tx + queue_chains(h->b, 1), ==, 100);
    g_assert_cmpuint(h->g->q[1].last_used, ==, 100);
    ho_free(h);
}

/*
 * A frame that found fewer guest buffers than it needs waits in the device (MRG_RXBUF,
 * 48-byte buffers, a ring of 8: the third 126-byte frame gets two of the three buffers it
 * needs) when the device pauses for a handover; it moves with the backend and reaches the
 * guest first, before the frames that waited in the socket. Fails if the held frame is
 * dropped by the pause (the guest sees a gap in the numbers) or overtaken.
 */
static void test_held_rx_frame_moves(void)
{
    VgOptions opt = {.queue_size = 8, .rx_buf_size = 48};
    Ho *h = ho_new(&opt);

    peer_send(h, 5);
    vg_pump_for(h->g, 50); /* frames 0 and 1 in the ring, frame 2 held, 3 and 4 in the socket */
    netbe_device_pause(h->a);
    ho_destination(h);
    ho_move(h);
    drain(h, 5000);
    g_assert_cmpuint(sum(h, h->rx_got), ==, 5);
    ho_free(h);
}

/*
 * Fails if pausing does not stop both directions (frames reach the peer or the guest
 * while paused), or if resuming loses or repeats any of the frames that waited in the
 * ring and in the socket meanwhile.
 */
static void test_pause_resume_restores_service(void)
{
    Ho *h = ho_new(NULL);

    guest_send(h, 20);
    peer_send(h, 20);
    drain(h, 3000);
    netbe_device_pause(h->a);
    guest_send(h, 40);
    peer_send(h, 40);
    expect_still(h, 100);
    netbe_device_resume(h->a);
    drain(h, 3000);
    netbe_device_resume(h->a); /* idempotent */
    guest_send(h, 10);
    peer_send(h, 10);
    drain(h, 3000);
    g_assert_cmpuint(sum(h, h->tx_got), ==, 70);
    g_assert_cmpuint(sum(h, h->rx_got), ==, 70);
    ho_free(h);
}

/* The device record as the test reads it (mirrors vnet-migrate.c, version 1). */
typedef struct Rec {
    uint32_t version, max_pairs, nqueues;
    uint64_t host_features, guest_features;
    uint8_t status, flags;
    uint8_t mac[6];
    uint32_t curr_pairs, be_hdr, offloads, filter;
    uint8_t uni[64 * 6], multi[64 * 6];
    uint32_t uni_len, multi_len;
    struct {
        uint32_t size;
        uint64_t desc, avail, used;
        uint8_t flags;
        uint32_t last_avail, used_idx, signalled;
    } q[VG_MAX_QUEUES + 1];
} Rec;

static void rec_read(GBytes *b, Rec *rec)
{
    size_t len;
    const void *data = g_bytes_get_data(b, &len);
    NetbeMigReader *r = netbe_mig_reader_new(data, len, NULL, 0);
    const void *p;
    uint32_t l;
    bool ok;

    memset(rec, 0, sizeof(*rec));
    ok = netbe_mig_get_u32(r, &rec->version) && netbe_mig_get_u32(r, &rec->max_pairs) &&
         netbe_mig_get_u32(r, &rec->nqueues) && rec->nqueues <= VG_MAX_QUEUES &&
         netbe_mig_get_u64(r, &rec->host_features) && netbe_mig_get_u64(r, &rec->guest_features) &&
         netbe_mig_get_u8(r, &rec->status) && netbe_mig_get_u8(r, &rec->flags) &&
         netbe_mig_get_bytes(r, &p, &l) && l == 6;
    g_assert_true(ok);
    memcpy(rec->mac, p, 6);
    ok = netbe_mig_get_u32(r, &rec->curr_pairs) && netbe_mig_get_u32(r, &rec->be_hdr) &&
         netbe_mig_get_u32(r, &rec->offloads) && netbe_mig_get_u32(r, &rec->filter) &&
         netbe_mig_get_bytes(r, &p, &rec->uni_len) && rec->uni_len <= sizeof(rec->uni);
    g_assert_true(ok);
    memcpy(rec->uni, p, rec->uni_len);
    g_assert_true(netbe_mig_get_bytes(r, &p, &rec->multi_len));
    g_assert_cmpuint(rec->multi_len, <=, sizeof(rec->multi));
    memcpy(rec->multi, p, rec->multi_len);
    for (unsigned i = 0; i < rec->nqueues; i++) {
        ok = netbe_mig_get_u32(r, &rec->q[i].size) && netbe_mig_get_u64(r, &rec->q[i].desc) &&
             netbe_mig_get_u64(r, &rec->q[i].avail) && netbe_mig_get_u64(r, &rec->q[i].used) &&
             netbe_mig_get_u8(r, &rec->q[i].flags) && netbe_mig_get_u32(r, &rec->q[i].last_avail) &&
             netbe_mig_get_u32(r, &rec->q[i].used_idx) &&
             netbe_mig_get_u32(r, &rec->q[i].signalled);
        g_assert_true(ok);
    }
    g_assert_true(netbe_mig_reader_at_end(r));
    netbe_mig_reader_free(r);
}

/* Encode @rec; @cut_bytes drops that many bytes from the end, @extra appends a field. */
static GBytes *rec_write(const Rec *rec, size_t cut_bytes, bool extra)
{
    NetbeMigWriter *w = netbe_mig_writer_new();
    const uint8_t *data;
    size_t len;
    GBytes *b;

    netbe_mig_put_u32(w, rec->version);
    netbe_mig_put_u32(w, rec->max_pairs);
    netbe_mig_put_u32(w, rec->nqueues);
    netbe_mig_put_u64(w, rec->host_features);
    netbe_mig_put_u64(w, rec->guest_features);
    netbe_mig_put_u8(w, rec->status);
    netbe_mig_put_u8(w, rec->flags);
    netbe_mig_put_bytes(w, rec->mac, 6);
    netbe_mig_put_u32(w, rec->curr_pairs);
    netbe_mig_put_u32(w, rec->be_hdr);
    netbe_mig_put_u32(w, rec->offloads);
    netbe_mig_put_u32(w, rec->filter);
    netbe_mig_put_bytes(w, rec->uni, rec->uni_len);
    netbe_mig_put_bytes(w, rec->multi, rec->multi_len);
    for (unsigned i = 0; i < rec->nqueues; i++) {
        netbe_mig_put_u32(w, rec->q[i].size);
        netbe_mig_put_u64(w, rec->q[i].desc);
        netbe_mig_put_u64(w, rec->q[i].avail);
        netbe_mig_put_u64(w, rec->q[i].used);
        netbe_mig_put_u8(w, rec->q[i].flags);
        netbe_mig_put_u32(w, rec->q[i].last_avail);
        netbe_mig_put_u32(w, rec->q[i].used_idx);
        netbe_mig_put_u32(w, rec->q[i].signalled);
    }
    if (extra) {
        netbe_mig_put_u32(w, 0);
    }
    data = netbe_mig_writer_data(w, &len);
    g_assert_cmpuint(cut_bytes, <, len);
    b = g_bytes_new(data, len - cut_bytes);
    netbe_mig_writer_free(w);
    return b;
}

typedef void (*RecMutate)(Rec *rec);

static void mut_version(Rec *r)
{
    r->version = 2;
}
static void mut_more_queues(Rec *r)
{
    r->max_pairs = 2;
    r->nqueues = 5;
}
static void mut_ring_outside(Rec *r)
{
    r->q[0].desc = VG_GPA_BASE + (192u << 20);
}
static void mut_used_outside(Rec *r)
{
    r->q[1].used = 0x1000;
}
static void mut_features(Rec *r)
{
    r->guest_features |= F(NETBE_VIRTIO_NET_F_HOST_TSO4);
}
static void mut_queue_size(Rec *r)
{
    r->q[1].size = 512;
}
static void mut_pairs(Rec *r)
{
    r->curr_pairs = 2;
}
static void mut_offloads(Rec *r)
{
    r->offloads = 2; /* TSO4: not negotiated */
}
static void mut_indices(Rec *r)
{
    r->q[0].used_idx = r->q[0].last_avail + 1;
}
static void mut_status(Rec *r)
{
    r->status &= ~NETBE_VIRTIO_STATUS_FEATURES_OK;
}
static void mut_filter(Rec *r)
{
    r->uni_len = 65 * 6;
}

/*
 * Fails if any malformed or mismatched device record is accepted (wrong version, more
 * queues than configured, a ring outside guest memory, features not offered, a queue
 * beyond its maximum size, truncated, trailing fields, ...), if a refused record
 * changes the device, or if the well-formed record is refused afterwards.
 */
static void test_malformed_records_refused(void)
{
    static const struct {
        const char *what;
        RecMutate mutate;
        size_t cut;
        bool extra;
    } cases[] = {
        {"version", mut_version, 0, false},
        {"more queues", mut_more_queues, 0, false},
        {"descriptor ring outside memory", mut_ring_outside, 0, false},
        {"used ring outside memory", mut_used_outside, 0, false},
        {"feature not offered", mut_features, 0, false},
        {"queue size over the maximum", mut_queue_size, 0, false},
        {"pairs without MQ", mut_pairs, 0, false},
        {"offloads not negotiated", mut_offloads, 0, false},
        {"used ahead of avail", mut_indices, 0, false},
        {"DRIVER_OK without FEATURES_OK", mut_status, 0, false},
        {"filter table too long", mut_filter, 0, false},
        {"truncated field", NULL, 1, false},
        {"truncated record", NULL, 5, false},
        {"trailing field", NULL, 0, true},
    };
    Ho *h = ho_new(NULL);
    g_autoptr(GBytes) good = NULL, again = NULL;
    uint8_t mac[6], want_mac[6];
    NetbeVnetQueueStats st;
    unsigned irqs = 0, config_irqs;
    Rec rec;

    guest_send(h, 10);
    peer_send(h, 10);
    drain(h, 3000);
    netbe_device_pause(h->a);
    good = save_device(h->a);
    rec_read(good, &rec);
    again = rec_write(&rec, 0, false);
    g_assert_true(g_bytes_equal(good, again)); /* the test reads the format right */
    ho_destination(h);
    netbe_vnet_config_read(h->b, NETBE_VIRTIO_NET_CFG_MAC, want_mac, 6);
    for (unsigned i = 0; i < G_N_ELEMENTS(h->g->irqs); i++) {
        irqs += h->g->irqs[i];
    }
    config_irqs = h->g->config_irqs;
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        Rec bad = rec;
        g_autoptr(GBytes) b = NULL;
        GError *err = NULL;
        unsigned now = 0;

        if (cases[c].mutate) {
            cases[c].mutate(&bad);
        }
        b = rec_write(&bad, cases[c].cut, cases[c].extra);
        g_test_message("case: %s", cases[c].what);
        g_assert_false(load_device(h->b, b, &err));
        g_assert_nonnull(err);
        g_assert_nonnull(strstr(err->message, "device 'd0'"));
        g_test_message("  refused: %s", err->message);
        g_clear_error(&err);
        /* untouched: still a reset device with its own MAC, no interrupt */
        g_assert_cmpuint(netbe_vnet_get_status(h->b), ==, 0);
        g_assert_cmpuint(netbe_vnet_get_driver_features(h->b), ==, 0);
        netbe_vnet_config_read(h->b, NETBE_VIRTIO_NET_CFG_MAC, mac, 6);
        g_assert_cmpmem(mac, 6, want_mac, 6);
        g_assert_true(netbe_vnet_get_queue_stats(h->b, 0, &st));
        g_assert_false(st.broken);
        for (unsigned i = 0; i < G_N_ELEMENTS(h->g->irqs); i++) {
            now += h->g->irqs[i];
        }
        g_assert_cmpuint(now, ==, irqs);
        g_assert_cmpuint(h->g->config_irqs, ==, config_irqs);
    }
    {
        GError *err = NULL;

        g_assert_true(load_device(h->b, good, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(netbe_vnet_get_status(h->b), ==, rec.status);
        /* a second load onto a loaded device is refused */
        g_assert_false(load_device(h->b, good, &err));
        g_assert_error(err, g_quark_from_static_string("netbe-virtio-net-error"), EBUSY);
        g_clear_error(&err);
        netbe_vnet_reset(h->b);
    }
    ho_free(h);
}

/*
 * Fails if, after the handover, the config status lacks ANNOUNCE or no config interrupt
 * came, if the queues got no interrupt, if ANNOUNCE_ACK does not clear the bit, or if a
 * driver without GUEST_ANNOUNCE is asked to announce.
 */
static void test_guest_announce_after_load(void)
{
    for (int with = 1; with >= 0; with--) {
        VgOptions opt = {.features_clear = with ? 0 : F(NETBE_VIRTIO_NET_F_GUEST_ANNOUNCE)};
        Ho *h = ho_new(&opt);
        unsigned cfg, rx_irqs, tx_irqs, ctrl_irqs, ctrlq = vg_ctrlq(h->g);

        g_assert_cmpuint(
            !!(netbe_vnet_get_device_features(h->a) & F(NETBE_VIRTIO_NET_F_GUEST_ANNOUNCE)), ==, 1);
        g_assert_cmpuint(vg_config_status(h->g), ==, NETBE_VIRTIO_NET_S_LINK_UP);
        netbe_device_pause(h->a);
        ho_destination(h);
        cfg = h->g->config_irqs;
        rx_irqs = h->g->irqs[0];
        tx_irqs = h->g->irqs[1];
        ctrl_irqs = h->g->irqs[ctrlq];
        ho_move(h);
        g_assert_cmpuint(h->g->irqs[0], >, rx_irqs);
        g_assert_cmpuint(h->g->irqs[1], >, tx_irqs);
        g_assert_cmpuint(h->g->irqs[ctrlq], >, ctrl_irqs);
        if (!with) {
            g_assert_cmpuint(h->g->config_irqs, ==, cfg);
            g_assert_cmpuint(vg_config_status(h->g), ==, NETBE_VIRTIO_NET_S_LINK_UP);
            g_assert_cmpint(vg_ctrl(h->g, NETBE_VIRTIO_NET_CTRL_ANNOUNCE,
                                    NETBE_VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
                            ==, 1);
            ho_free(h);
            continue;
        }
        g_assert_cmpuint(h->g->config_irqs, ==, cfg + 1);
        g_assert_cmpuint(vg_config_status(h->g), ==,
                         NETBE_VIRTIO_NET_S_LINK_UP | NETBE_VIRTIO_NET_S_ANNOUNCE);
        g_assert_cmpint(vg_ctrl(h->g, NETBE_VIRTIO_NET_CTRL_ANNOUNCE,
                                NETBE_VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
                        ==, 0);
        g_assert_cmpuint(vg_config_status(h->g), ==, NETBE_VIRTIO_NET_S_LINK_UP);
        /* and the device works on */
        guest_send(h, 5);
        peer_send(h, 5);
        drain(h, 3000);
        ho_free(h);
    }
}

/*
 * Fails (or trips ASan/UBSan) if a record with random bytes changed crashes the parser,
 * or if a refused one changes the device. Seeded: the same mutations every run.
 */
static void test_mutated_records_are_safe(void)
{
    Ho *h = ho_new(NULL);
    g_autoptr(GBytes) good = NULL;
    GRand *rand = g_rand_new_with_seed(5);
    unsigned accepted = 0;
    const uint8_t *data;
    size_t len;

    netbe_device_pause(h->a);
    good = save_device(h->a);
    ho_destination(h);
    data = g_bytes_get_data(good, &len);
    for (int i = 0; i < 3000; i++) {
        g_autofree uint8_t *buf = g_memdup2(data, len);
        size_t n = len - g_rand_int_range(rand, 0, i % 7 == 0 ? (int)len : 1);
        g_autoptr(GBytes) b = NULL;
        GError *err = NULL;

        for (int k = g_rand_int_range(rand, 1, 4); k > 0 && n > 0; k--) {
            buf[g_rand_int_range(rand, 0, (int)n)] = (uint8_t)g_rand_int(rand);
        }
        b = g_bytes_new(buf, n);
        if (load_device(h->b, b, &err)) {
            accepted++;
            netbe_vnet_reset(h->b);
            continue;
        }
        g_assert_nonnull(err);
        g_clear_error(&err);
        g_assert_cmpuint(netbe_vnet_get_status(h->b), ==, 0);
        g_assert_cmpuint(netbe_vnet_get_driver_features(h->b), ==, 0);
    }
    g_test_message("%u of 3000 mutated records were still well-formed", accepted);
    g_rand_free(rand);
    ho_free(h);
}

/* Fails if a running device can be saved without a pause (its rings would move on). */
static void test_save_needs_pause(void)
{
    Ho *h = ho_new(NULL);
    NetbeMigWriter *w = netbe_mig_writer_new();
    GError *err = NULL;

    g_assert_false(netbe_device_save(h->a, w, &err));
    g_assert_error(err, g_quark_from_static_string("netbe-virtio-net-error"), EBUSY);
    g_clear_error(&err);
    netbe_mig_writer_free(w);
    ho_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnet-handover/guest_traffic_survives_handover",
                    test_guest_traffic_survives_handover);
    g_test_add_func("/vnet-handover/four_pairs_survive_handover", test_four_pairs_survive_handover);
    g_test_add_func("/vnet-handover/tap_guest_traffic_survives_handover",
                    test_tap_guest_traffic_survives_handover);
    g_test_add_func("/vnet-handover/tx_chain_waiting_for_backend_moves",
                    test_tx_chain_waiting_for_backend_moves);
    g_test_add_func("/vnet-handover/held_rx_frame_moves", test_held_rx_frame_moves);
    g_test_add_func("/vnet-handover/pause_resume_restores_service",
                    test_pause_resume_restores_service);
    g_test_add_func("/vnet-handover/malformed_records_refused", test_malformed_records_refused);
    g_test_add_func("/vnet-handover/mutated_records_are_safe", test_mutated_records_are_safe);
    g_test_add_func("/vnet-handover/guest_announce_after_load", test_guest_announce_after_load);
    g_test_add_func("/vnet-handover/save_needs_pause", test_save_needs_pause);
    return g_test_run();
}
