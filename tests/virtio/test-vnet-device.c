// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vnet-device.c - the virtio-net device against the socketpair fixture backend:
 * TX/RX paths, vnet header passthrough and adaptation, mergeable RX, backpressure,
 * notifications, the control queue, negotiation, connect modes and threads. */
#include <endian.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vt-rig.h"

#define F(bit) (1ull << (bit))

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static uint8_t frame[70000], got[70000];

/* Fails if the device does not hand the guest's frame to the backend byte for byte, or
 * leaves the 12-byte header on for a backend without vnet header. */
static void test_tx_frame_reaches_backend_without_header(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 100, 1);
    ssize_t n;

    g_assert_true(vg_send(r->g, 0, NULL, frame, len));
    n = vt_peer_read(r, 0, got, sizeof(got), 2000);
    g_assert_cmpint(n, ==, len);
    g_assert_cmpmem(got, n, frame, len);
    vt_rig_free(r);
}

/* Fails if a backend that uses a 12-byte header does not get the guest's header as is
 * (no copy, no rewrite), followed by the frame. */
static void test_tx_header_passes_through_unchanged(void)
{
    VtRig *r = vt_rig_new(1, "vnet_hdr = on\noffloads = 7", NULL, NULL);
    uint8_t hdr[12] = {1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0};
    size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x0800, 3000, 2);
    ssize_t n;

    g_assert_true(vg_send(r->g, 0, hdr, frame, len));
    n = vt_peer_read(r, 0, got, sizeof(got), 2000);
    g_assert_cmpint(n, ==, 12 + len);
    g_assert_cmpmem(got, 12, hdr, 12);
    g_assert_cmpmem(got + 12, len, frame, len);
    vt_rig_free(r);
}

/* Fails if a frame from a header-less backend does not land in a guest buffer behind a
 * zeroed header with num_buffers = 1. */
static void test_rx_frame_gets_zero_header(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    size_t len = vg_make_frame(frame, r->g->mac, peer_mac, 0x88b5, 500, 3);
    uint8_t hdr[12], zero[10] = {0};
    unsigned nb;
    ssize_t n;

    vt_peer_write(r, 0, frame, len);
    n = vg_recv(r->g, 0, got, sizeof(got), hdr, &nb, 2000);
    g_assert_cmpint(n, ==, len);
    g_assert_cmpmem(got, n, frame, len);
    g_assert_cmpmem(hdr, 10, zero, 10);
    g_assert_cmpuint(nb, ==, 1);
    vt_rig_free(r);
}

/* Fails if the backend's header (checksum offload fields) does not reach the guest as
 * written, or num_buffers is not set. */
static void test_rx_header_passes_through(void)
{
    VtRig *r = vt_rig_new(1, "vnet_hdr = on\noffloads = 7", NULL, NULL);
    uint8_t in[2000], hdr[12];
    const uint8_t be_hdr[12] = {1, 0, 0, 0, 0, 0, 34, 0, 16, 0, 0x55, 0x55};
    size_t len = vg_make_frame(in + 12, r->g->mac, peer_mac, 0x0800, 800, 4);
    unsigned nb;
    ssize_t n;

    memcpy(in, be_hdr, 12);
    vt_peer_write(r, 0, in, 12 + len);
    n = vg_recv(r->g, 0, got, sizeof(got), hdr, &nb, 2000);
    g_assert_cmpint(n, ==, len);
    g_assert_cmpmem(got, n, in + 12, len);
    g_assert_cmpmem(hdr, 10, be_hdr, 10);
    g_assert_cmpuint(nb, ==, 1);
    vt_rig_free(r);
}

/* Fails if a 9000-byte and a 64 KiB GSO frame are not spread over 1 KiB mergeable
 * buffers with the right num_buffers, intact, the unused buffers given back. */
static void test_mergeable_rx_spreads_big_frames_over_small_buffers(void)
{
    VgOptions opt = {.rx_buf_size = 1024};
    VtRig *r = vt_rig_new(1, "vnet_hdr = on\noffloads = 7", NULL, &opt);
    const size_t sizes[] = {9000, 65550, 60};

    g_assert_true(r->g->features & F(NETBE_VIRTIO_NET_F_MRG_RXBUF));
    g_assert_true(r->g->features & F(NETBE_VIRTIO_NET_F_GUEST_TSO4));
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        static uint8_t in[70000];
        uint8_t hdr[12];
        size_t len = vg_make_frame(in + 12, r->g->mac, peer_mac, 0x0800, sizes[i] - 14, i);
        unsigned nb;
        ssize_t n;

        memset(in, 0, 12);
        in[1] = sizes[i] > 9000 ? 1 : 0; /* GSO_TCPV4 */
        vt_peer_write(r, 0, in, 12 + len);
        n = vg_recv(r->g, 0, got, sizeof(got), hdr, &nb, 2000);
        g_assert_cmpint(n, ==, len);
        g_assert_cmpmem(got, n, in + 12, len);
        g_assert_cmpuint(nb, ==, (len + 12 + 1023) / 1024);
        g_assert_cmpuint(hdr[1], ==, in[1]);
    }
    vt_rig_free(r);
}

/* Write a frame of @size bytes (Ethernet header included) with a vnet header @hdr0 (flags,
 * gso_type) into queue 0; keep its bytes in @in (header first). Return: frame length. */
static size_t put_frame(VtRig *r, uint8_t *in, size_t size, uint8_t flags, uint8_t gso,
                        uint8_t seed)
{
    size_t len = vg_make_frame(in + 12, r->g->mac, peer_mac, 0x0800, size - 14, seed);

    memset(in, 0, 12);
    if (gso) {
        vg_tcp4_gso_hdr(in, 1448);
    }
    in[0] = flags;
    in[1] = gso;
    vt_peer_write(r, 0, in, 12 + len);
    return len;
}

/* Receive one frame and check it against @in (header first) and its buffer count. */
static void expect_frame(VtRig *r, const uint8_t *in, size_t len, unsigned nbufs)
{
    uint8_t hdr[12];
    unsigned nb;
    ssize_t n = vg_recv(r->g, 0, got, sizeof(got), hdr, &nb, 2000);

    g_assert_cmpint(n, ==, len);
    g_assert_cmpmem(got, n, in + 12, len);
    g_assert_cmpmem(hdr, 10, in, 10);
    g_assert_cmpuint(nb, ==, nbufs);
}

/* Fails if, with MRG_RXBUF + GUEST_CSUM + GUEST_TSO4 and only 64 x 1 KiB RX buffers (less
 * than the largest GSO frame), a 60-byte frame is not delivered (the device waited for
 * 64 KiB of buffers: the bug of issue 9), or a 64000-byte GSO frame is not merged intact
 * over 63 of them, for a pulled (fd) and a pushed (slirp-like) backend alike. */
static void test_mergeable_rx_with_few_small_buffers_delivers_small_and_gso_frames(void)
{
    const char *const netdevs[] = {"vnet_hdr = on\noffloads = 7",
                                   "vnet_hdr = on\noffloads = 7\npush = on"};

    for (size_t k = 0; k < G_N_ELEMENTS(netdevs); k++) {
        VgOptions opt = {.queue_size = 64, .rx_buf_size = 1024};
        VtRig *r = vt_rig_new(1, netdevs[k], NULL, &opt);
        static uint8_t in[70000];
        const uint64_t want = F(NETBE_VIRTIO_NET_F_MRG_RXBUF) | F(NETBE_VIRTIO_NET_F_GUEST_CSUM) |
                              F(NETBE_VIRTIO_NET_F_GUEST_TSO4);
        NetbeVnetQueueStats vs;
        size_t len;

        g_assert_cmpuint(r->g->features & want, ==, want);
        g_assert_cmpuint(r->g->q[0].size, ==, 64);
        len = put_frame(r, in, 60, 0, 0, 1);
        expect_frame(r, in, len, 1);
        len = put_frame(r, in, 64000, 1, 1, 2); /* NEEDS_CSUM, GSO_TCPV4 */
        expect_frame(r, in, len, (64000 + 12 + 1023) / 1024);
        len = put_frame(r, in, 60, 0, 0, 3);
        expect_frame(r, in, len, 1);
        g_assert_true(netbe_vnet_get_queue_stats(r->g->dev, 0, &vs));
        g_assert_cmpuint(vs.drops, ==, 0);
        vt_rig_free(r);
    }
}

/* Fails if frames of mixed sizes, queued before the device runs, do not all arrive intact
 * and in order with the right num_buffers over 1 KiB mergeable buffers, GSO frames among
 * small ones and 300 small frames in a row between them (a datagram backend, whose frames
 * the core reads ahead: the device gathers for each frame's known length; the TAP case,
 * read without knowing the length, is in test-vnet-tap). */
static void test_mergeable_rx_mixed_sizes_arrive_intact_in_order(void)
{
    VgOptions opt = {.rx_buf_size = 1024};
    VtRig *r = vt_rig_new(1, "vnet_hdr = on\noffloads = 7", NULL, &opt);
    static const size_t first[] = {60, 65550, 60, 65550, 65550, 1514};
    static const size_t last[] = {65550, 1514, 60, 9000};
    static uint8_t in[8][70000];
    size_t len[8];
    NetbeVnetQueueStats vs;

    for (size_t i = 0; i < G_N_ELEMENTS(first); i++) {
        len[i] = put_frame(r, in[i], first[i], first[i] > 9000, first[i] > 9000, (uint8_t)i);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(first); i++) {
        expect_frame(r, in[i], len[i], (len[i] + 12 + 1023) / 1024);
    }
    for (unsigned i = 0; i < 300; i++) {
        len[0] = put_frame(r, in[0], 60 + i % 1400, 0, 0, (uint8_t)i);
        expect_frame(r, in[0], len[0], (len[0] + 12 + 1023) / 1024);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(last); i++) {
        len[i] = put_frame(r, in[i], last[i], last[i] > 9000, last[i] > 9000, (uint8_t)(i + 7));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(last); i++) {
        expect_frame(r, in[i], len[i], (len[i] + 12 + 1023) / 1024);
    }
    g_assert_true(netbe_vnet_get_queue_stats(r->g->dev, 0, &vs));
    g_assert_cmpuint(vs.drops, ==, 0);
    vt_rig_free(r);
}

/* Fails if a frame larger than the RX buffers the driver posted is dropped, truncated or
 * overtaken by the next frame instead of waiting until the driver posts more (8 x 1 KiB
 * posted, a 20000-byte GSO frame between two small ones), pulled or pushed. */
static void test_mergeable_rx_frame_larger_than_posted_waits_for_more(void)
{
    const char *const netdevs[] = {"vnet_hdr = on\noffloads = 7",
                                   "vnet_hdr = on\noffloads = 7\npush = on"};

    for (size_t k = 0; k < G_N_ELEMENTS(netdevs); k++) {
        VgOptions opt = {.queue_size = 64, .rx_buf_size = 1024, .no_start = true};
        VtRig *r = vt_rig_new(1, netdevs[k], NULL, &opt);
        VgQueue *q = &r->g->q[0];
        static uint8_t a[200], b[21000], c[200];
        size_t la, lb, lc;
        NetbeVnetQueueStats vs;
        GError *err = NULL;

        g_assert_true(netbe_vnet_set_status(
            r->g->dev, netbe_vnet_get_status(r->g->dev) | NETBE_VIRTIO_STATUS_DRIVER_OK, &err));
        g_assert_no_error(err);
        for (unsigned i = 0; i < 8; i++) {
            q->avail[2 + q->avail_idx++ % q->size] = htole16(i);
        }
        vg_publish(r->g, 0);
        la = put_frame(r, a, 60, 0, 0, 1);
        lb = put_frame(r, b, 20000, 1, 1, 2);
        lc = put_frame(r, c, 60, 0, 0, 3);
        expect_frame(r, a, la, 1);
        vg_pump_for(r->g, 50);
        g_assert_cmpint(vg_recv_ready(r->g, 0, got, sizeof(got), NULL, NULL), ==, -1);
        for (unsigned i = 8; i < 64; i++) {
            q->avail[2 + q->avail_idx++ % q->size] = htole16(i);
        }
        vg_publish(r->g, 0);
        expect_frame(r, b, lb, (20000 + 12 + 1023) / 1024);
        expect_frame(r, c, lc, 1);
        g_assert_true(netbe_vnet_get_queue_stats(r->g->dev, 0, &vs));
        g_assert_cmpuint(vs.drops, ==, 0);
        vt_rig_free(r);
    }
}

/* Fails if a frame larger than the whole RX ring (16 x 1 KiB, a 20000-byte GSO frame) stalls
 * the queue waiting for buffers that cannot come, or reaches the guest truncated, instead
 * of being dropped (and counted) with the frames around it delivered, pulled or pushed. */
static void test_mergeable_rx_frame_larger_than_ring_is_dropped(void)
{
    const char *const netdevs[] = {"vnet_hdr = on\noffloads = 7",
                                   "vnet_hdr = on\noffloads = 7\npush = on"};

    for (size_t k = 0; k < G_N_ELEMENTS(netdevs); k++) {
        VgOptions opt = {.queue_size = 16, .rx_buf_size = 1024};
        VtRig *r = vt_rig_new(1, netdevs[k], NULL, &opt);
        static uint8_t a[200], b[21000], c[200];
        size_t la, lc;
        NetbeVnetQueueStats vs;

        g_assert_cmpuint(r->g->q[0].size, ==, 16);
        put_frame(r, b, 20000, 1, 1, 2); /* first: all 16 buffers are posted */
        la = put_frame(r, a, 60, 0, 0, 1);
        lc = put_frame(r, c, 60, 0, 0, 3);
        expect_frame(r, a, la, 1);
        expect_frame(r, c, lc, 1);
        g_assert_true(netbe_vnet_get_queue_stats(r->g->dev, 0, &vs));
        g_assert_cmpuint(vs.drops, ==, 1);
        vt_rig_free(r);
    }
}

/* Fails if, with the guest out of RX buffers, frames are lost instead of waiting in the
 * backend (the kernel socket) until the guest refills and kicks. */
static void test_rx_waits_for_buffers_without_loss(void)
{
    VgOptions opt = {
        .queue_size = 64, .features_clear = F(NETBE_VIRTIO_NET_F_MRG_RXBUF), .rx_buf_size = 2048};
    VtRig *r = vt_rig_new(1, NULL, NULL, &opt);
    NetbeQueueStats st;
    unsigned total = 200, seen = 0;

    for (unsigned i = 0; i < total; i++) {
        size_t len = vg_make_frame(frame, r->g->mac, peer_mac, 0x88b5, 100, i);

        vt_peer_write(r, 0, frame, len);
    }
    vg_pump_for(r->g, 50); /* the device fills all 64 buffers, then must wait */
    while (seen < total) {
        ssize_t n = vg_recv(r->g, 0, got, sizeof(got), NULL, NULL, 2000);

        g_assert_cmpint(n, ==, 114);
        g_assert_cmpuint(got[14], ==, (uint8_t)seen); /* in order */
        seen++;
    }
    g_assert_true(netbe_runtime_get_queue_stats(r->rt, "n0", 0, &st));
    g_assert_cmpuint(st.rx_frames, ==, total);
    g_assert_cmpuint(st.rx_drops, ==, 0);
    vt_rig_free(r);
}

/* Fails if the device, waiting for room for a 64 KiB GSO frame while some buffers are
 * posted, never asks the driver for a kick (event index set behind what it saw) and
 * stalls, or if frames are lost meanwhile. */
static void test_rx_waits_for_room_for_a_gso_frame(void)
{
    VgOptions opt = {.queue_size = 128, .rx_buf_size = 1024};
    VtRig *r = vt_rig_new(1, "vnet_hdr = on\noffloads = 7", NULL, &opt);
    static uint8_t in[1200];
    unsigned total = 300, seen = 0;

    g_assert_true(r->g->features & F(NETBE_VIRTIO_NET_F_GUEST_TSO4));
    g_assert_true(r->g->features & F(NETBE_VIRTIO_F_RING_EVENT_IDX));
    for (unsigned i = 0; i < total; i++) {
        memset(in, 0, 12);
        vt_peer_write(r, 0, in, 12 + vg_make_frame(in + 12, r->g->mac, peer_mac, 0x88b5, 986, i));
    }
    while (seen < total) {
        ssize_t n = vg_recv(r->g, 0, got, sizeof(got), NULL, NULL, 2000);

        g_assert_cmpint(n, ==, 1000);
        g_assert_cmpuint(got[14], ==, (uint8_t)seen);
        seen++;
    }
    vt_rig_free(r);
}

/* Fails if frames a push backend delivers (slirp style) are not copied into guest
 * buffers, or, when the guest has none, are not held by the core and flushed after the
 * guest refills, in order and without drops. */
static void test_rx_push_backend_queues_until_buffers(void)
{
    VgOptions opt = {
        .queue_size = 64, .features_clear = F(NETBE_VIRTIO_NET_F_MRG_RXBUF), .rx_buf_size = 2048};
    VtRig *r = vt_rig_new(1, "push = on", NULL, &opt);
    unsigned total = 200, seen = 0;
    NetbeQueueStats st;

    for (unsigned i = 0; i < total; i++) {
        vt_peer_write(r, 0, frame, vg_make_frame(frame, r->g->mac, peer_mac, 0x88b5, 300, i));
    }
    vg_pump_for(r->g, 50);
    g_assert_true(netbe_runtime_get_queue_stats(r->rt, "n0", 0, &st));
    g_assert_cmpuint(st.rx_queued, >, 0); /* the guest ran out: the core holds frames */
    while (seen < total) {
        ssize_t n = vg_recv(r->g, 0, got, sizeof(got), NULL, NULL, 2000);

        g_assert_cmpint(n, ==, 314);
        g_assert_cmpuint(got[14], ==, (uint8_t)seen);
        seen++;
    }
    g_assert_true(netbe_runtime_get_queue_stats(r->rt, "n0", 0, &st));
    g_assert_cmpuint(st.rx_frames, ==, total);
    g_assert_cmpuint(st.rx_drops, ==, 0);
    g_assert_cmpuint(st.rx_queued, ==, 0);
    vt_rig_free(r);
}

/* Fails if GUEST_OFFLOADS_SET accepts offloads that were not negotiated or refuses
 * negotiated ones (the backend's set_offloads). */
static void test_ctrl_guest_offloads_set(void)
{
    VgOptions opt = {.features_clear = F(NETBE_VIRTIO_NET_F_GUEST_TSO6)};
    VtRig *r = vt_rig_new(1, "vnet_hdr = on\noffloads = 7", NULL, &opt);
    uint64_t ok = htole64(F(NETBE_VIRTIO_NET_F_GUEST_CSUM) | F(NETBE_VIRTIO_NET_F_GUEST_TSO4));
    uint64_t none = 0, bad = htole64(F(NETBE_VIRTIO_NET_F_GUEST_TSO6));

    g_assert_cmpint(vg_ctrl(r->g, 5, 0, &ok, 8), ==, 0);
    g_assert_cmpint(vg_ctrl(r->g, 5, 0, &none, 8), ==, 0);
    g_assert_cmpint(vg_ctrl(r->g, 5, 0, &bad, 8), ==, 1);
    vt_rig_free(r);
}

/* Fails if a busy backend makes the device drop or reorder frames: chains must stay in
 * guest memory until tx_ready, then go out in order. */
static void test_tx_busy_backend_keeps_chains_until_ready(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    int small = 4096;
    unsigned sent = 0, received = 0;
    NetbeQueueStats st;

    setsockopt(r->be_end[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(r->peer[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    for (unsigned i = 0; i < 100; i++) {
        size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 1000, i);

        if (!vg_send(r->g, 0, NULL, frame, len)) {
            break;
        }
        sent++;
        vg_pump(r->g);
    }
    g_assert_cmpuint(sent, ==, 100);
    vg_pump_for(r->g, 20);
    /* the backend went busy: most chains are still in flight, not dropped */
    g_assert_cmpuint(vg_tx_reclaim(r->g, 0), <, 50);
    while (received < sent) {
        ssize_t n = vt_peer_read(r, 0, got, sizeof(got), 2000);

        g_assert_cmpint(n, ==, 1014);
        g_assert_cmpuint(got[14], ==, (uint8_t)received);
        received++;
        vg_tx_reclaim(r->g, 0);
    }
    g_assert_true(netbe_runtime_get_queue_stats(r->rt, "n0", 0, &st));
    g_assert_cmpuint(st.tx_frames, ==, 100);
    g_assert_cmpuint(st.tx_drops, ==, 0);
    vt_rig_free(r);
}

/* Fails if 32 chains behind one kick cost more than one kick and one interrupt (used
 * ring updates batched, event index honoured). */
static void test_tx_batch_takes_one_kick_and_one_interrupt(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    NetbeVnetQueueStats qs;
    unsigned txq = vg_txq(r->g, 0);

    g_assert_true(r->g->features & F(NETBE_VIRTIO_F_RING_EVENT_IDX));
    for (unsigned i = 0; i < 32; i++) {
        size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 60, i);

        g_assert_true(vg_send_nokick(r->g, 0, NULL, frame, len));
    }
    vg_tx_kick(r->g, 0);
    for (unsigned i = 0; i < 32; i++) {
        g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, 74);
    }
    g_assert_true(netbe_vnet_get_queue_stats(r->g->dev, txq, &qs));
    g_assert_cmpuint(qs.kicks, ==, 1);
    g_assert_cmpuint(qs.chains, ==, 32);
    g_assert_cmpuint(qs.interrupts, ==, 1);
    g_assert_cmpuint(r->g->irqs[txq], ==, 1);
    g_assert_cmpuint(vg_tx_reclaim(r->g, 0), ==, 32);
    vt_rig_free(r);
}

/* Fails if indirect TX chains are not walked like direct ones. */
static void test_tx_indirect_chain(void)
{
    VgOptions opt = {.tx_indirect = true};
    VtRig *r = vt_rig_new(1, NULL, NULL, &opt);
    size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 1400, 9);

    g_assert_true(vg_send(r->g, 0, NULL, frame, len));
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    vt_rig_free(r);
}

/* Fails if an indirect table at an odd guest address (allowed) is refused or read with
 * a misaligned access (UBSan in the sanitizer build). */
static void test_tx_indirect_table_at_odd_address(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    VgQueue *q = &r->g->q[vg_txq(r->g, 0)];
    size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 200, 4);
    uint64_t t_gpa;
    uint8_t *t = vg_alloc(r->g, 40, 16, &t_gpa);

    memset(q->bufs, 0, 12);
    memcpy(q->bufs + 12, frame, len);
    vg_set_desc(t + 3, 0, q->bufs_gpa, 12, VG_DESC_F_NEXT, 1);
    vg_set_desc(t + 3, 1, q->bufs_gpa + 12, len, 0, 0);
    vg_set_desc(q->desc, 0, t_gpa + 3, 32, VG_DESC_F_INDIRECT, 0);
    q->nfree = 0; /* slot 0 is ours now */
    vg_post(r->g, vg_txq(r->g, 0), 0);
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    vt_rig_free(r);
}

/* Fails if offered features do not follow the backend: no offloads without a vnet
 * header, the offloads it has with one, MQ only with more than one pair. */
static void test_features_follow_backend_caps(void)
{
    VgOptions opt = {.no_start = true};
    VtRig *a = vt_rig_new(1, NULL, NULL, &opt);
    VtRig *b = vt_rig_new(2, "vnet_hdr = on\noffloads = 3", NULL, &opt);
    uint64_t fa = netbe_vnet_get_device_features(a->g->dev);
    uint64_t fb = netbe_vnet_get_device_features(b->g->dev);
    const uint64_t always = F(NETBE_VIRTIO_F_VERSION_1) | F(NETBE_VIRTIO_F_RING_EVENT_IDX) |
                            F(NETBE_VIRTIO_F_RING_INDIRECT_DESC) | F(NETBE_VIRTIO_NET_F_MAC) |
                            F(NETBE_VIRTIO_NET_F_MRG_RXBUF) | F(NETBE_VIRTIO_NET_F_CTRL_VQ) |
                            F(NETBE_VIRTIO_NET_F_STATUS) | F(NETBE_VIRTIO_NET_F_MTU);

    g_assert_cmphex(fa & always, ==, always);
    g_assert_cmphex(fa & (F(NETBE_VIRTIO_NET_F_CSUM) | F(NETBE_VIRTIO_NET_F_GUEST_CSUM) |
                          F(NETBE_VIRTIO_NET_F_HOST_TSO4) | F(NETBE_VIRTIO_NET_F_MQ)),
                    ==, 0);
    g_assert_true(fb & F(NETBE_VIRTIO_NET_F_CSUM));
    g_assert_true(fb & F(NETBE_VIRTIO_NET_F_GUEST_CSUM));
    g_assert_true(fb & F(NETBE_VIRTIO_NET_F_HOST_TSO4));
    g_assert_true(fb & F(NETBE_VIRTIO_NET_F_GUEST_TSO4));
    g_assert_false(fb & F(NETBE_VIRTIO_NET_F_HOST_TSO6)); /* offloads = CSUM | TSO4 */
    g_assert_false(fb & F(NETBE_VIRTIO_NET_F_HOST_UFO));
    g_assert_true(fb & F(NETBE_VIRTIO_NET_F_MQ));
    vt_rig_free(a);
    vt_rig_free(b);
}

/* Fails if a driver without VERSION_1 gets FEATURES_OK, or DRIVER_OK is accepted then. */
static void test_legacy_driver_refused(void)
{
    VgOptions opt = {.no_start = true};
    VtRig *r = vt_rig_new(1, NULL, NULL, &opt);
    NetbeDevice *dev = r->g->dev;
    GError *err = NULL;

    netbe_vnet_set_status(dev, 0, NULL);
    netbe_vnet_set_status(dev, 3, NULL);
    netbe_vnet_set_driver_features(dev, F(NETBE_VIRTIO_NET_F_MAC));
    netbe_vnet_set_status(dev, 3 | NETBE_VIRTIO_STATUS_FEATURES_OK, NULL);
    g_assert_cmpuint(netbe_vnet_get_status(dev) & NETBE_VIRTIO_STATUS_FEATURES_OK, ==, 0);
    g_assert_false(netbe_vnet_set_status(dev, 3 | NETBE_VIRTIO_STATUS_DRIVER_OK, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    vt_rig_free(r);
}

/* Fails if config space does not show the configured MAC, MTU, pairs and link up. */
static void test_config_space(void)
{
    VgOptions opt = {.no_start = true};
    VtRig *r = vt_rig_new(4, NULL, "mac = 52:54:00:ab:cd:ef\nmtu = 9000", &opt);
    const uint8_t mac[6] = {0x52, 0x54, 0, 0xab, 0xcd, 0xef};
    uint8_t cfg[NETBE_VIRTIO_NET_CFG_SIZE + 4];

    netbe_vnet_config_read(r->g->dev, 0, cfg, sizeof(cfg));
    g_assert_cmpmem(cfg, 6, mac, 6);
    g_assert_cmpuint(cfg[6] | cfg[7] << 8, ==, 1);
    g_assert_cmpuint(cfg[8] | cfg[9] << 8, ==, 4);
    g_assert_cmpuint(cfg[10] | cfg[11] << 8, ==, 9000);
    g_assert_cmpuint(cfg[NETBE_VIRTIO_NET_CFG_SIZE], ==, 0); /* past the end: zeros */
    netbe_vnet_set_link(r->g->dev, false);
    netbe_vnet_config_read(r->g->dev, NETBE_VIRTIO_NET_CFG_STATUS, cfg, 2);
    g_assert_cmpuint(cfg[0], ==, 0);
    vt_rig_free(r);
}

/* Fails if VQ_PAIRS_SET does not route pair 2's frames to backend queue 2, or accepts a
 * pair count beyond the maximum. */
static void test_ctrl_mq_pairs_route_to_backend_queues(void)
{
    VtRig *r = vt_rig_new(4, NULL, NULL, NULL);
    uint16_t bad = htole16(5);

    g_assert_cmpint(vg_ctrl(r->g, 4, 0, &bad, 2), ==, 1);
    g_assert_true(vg_set_pairs(r->g, 4));
    for (unsigned p = 0; p < 4; p++) {
        size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 64, p);

        g_assert_true(vg_send(r->g, p, NULL, frame, len));
        g_assert_cmpint(vt_peer_read(r, p, got, sizeof(got), 2000), ==, len);
        g_assert_cmpuint(got[14], ==, p);
        len = vg_make_frame(frame, r->g->mac, peer_mac, 0x88b5, 64, 0x40 + p);
        vt_peer_write(r, p, frame, len);
        g_assert_cmpint(vg_recv(r->g, p, got, sizeof(got), NULL, NULL, 2000), ==, len);
        g_assert_cmpuint(got[14], ==, 0x40 + p);
    }
    vt_rig_free(r);
}

/* One frame each way on pair @p (seed @seed). */
static void pair_traffic(VtRig *r, unsigned p, uint8_t seed)
{
    size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 64, seed);

    g_assert_true(vg_send(r->g, p, NULL, frame, len));
    g_assert_cmpint(vt_peer_read(r, p, got, sizeof(got), 2000), ==, len);
    g_assert_cmpuint(got[14], ==, seed);
    len = vg_make_frame(frame, r->g->mac, peer_mac, 0x88b5, 64, seed + 1);
    vt_peer_write(r, p, frame, len);
    g_assert_cmpint(vg_recv(r->g, p, got, sizeof(got), NULL, NULL, 2000), ==, len);
    g_assert_cmpuint(got[14], ==, (uint8_t)(seed + 1));
}

/* A VMM that runs the control queue itself (vhost-user) sets the pairs with
 * netbe_vnet_set_queue_pairs(). Fails if 0 or more than the maximum (or more than one
 * without MQ) is accepted, if every pair does not carry traffic after 4, or if a pair
 * beyond the count still receives (frames must wait in the backend until it is back). */
static void test_vmm_sets_queue_pairs(void)
{
    VtRig *r = vt_rig_new(4, NULL, NULL, NULL);
    VgOptions no_mq = {.features_clear = F(NETBE_VIRTIO_NET_F_MQ)};
    GError *err = NULL;
    size_t len;

    g_assert_false(netbe_vnet_set_queue_pairs(r->g->dev, 0, &err));
    g_clear_error(&err);
    g_assert_false(netbe_vnet_set_queue_pairs(r->g->dev, 5, &err));
    g_assert_nonnull(strstr(err->message, "1..4"));
    g_clear_error(&err);
    g_assert_true(netbe_vnet_set_queue_pairs(r->g->dev, 4, &err));
    g_assert_no_error(err);
    for (unsigned p = 0; p < 4; p++) {
        pair_traffic(r, p, 0x10 * p);
    }
    g_assert_true(netbe_vnet_set_queue_pairs(r->g->dev, 1, &err));
    len = vg_make_frame(frame, r->g->mac, peer_mac, 0x88b5, 64, 0x77);
    vt_peer_write(r, 3, frame, len);
    vg_pump_for(r->g, 50);
    g_assert_cmpint(vg_recv_ready(r->g, 3, got, sizeof(got), NULL, NULL), ==, -1);
    pair_traffic(r, 0, 0x50);
    g_assert_true(netbe_vnet_set_queue_pairs(r->g->dev, 4, &err));
    g_assert_cmpint(vg_recv(r->g, 3, got, sizeof(got), NULL, NULL, 2000), ==, len);
    g_assert_cmpuint(got[14], ==, 0x77);
    vg_free(r->g);
    r->g = vg_new(r->rt, "d0", &no_mq);
    g_assert_false(netbe_vnet_set_queue_pairs(r->g->dev, 2, &err));
    g_assert_nonnull(strstr(err->message, "VIRTIO_NET_F_MQ"));
    g_clear_error(&err);
    vt_rig_free(r);
}

/* Fails if netbe_vnet_send_rarp() does not put one RARP broadcast from the MAC on the
 * backend (behind a zero vnet header when the backend uses one), or claims to on a
 * deferred device whose backend is not connected yet. */
static void test_vmm_sends_rarp(void)
{
    static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    const uint8_t zero[12] = {0};
    const char *const netdevs[] = {NULL, "vnet_hdr = on"};

    for (unsigned k = 0; k < G_N_ELEMENTS(netdevs); k++) {
        VgOptions opt = {.no_start = true};
        VtRig *r = vt_rig_new(1, netdevs[k], "connect = deferred", &opt);
        unsigned hdr = k ? 12 : 0;
        GError *err = NULL;

        g_assert_false(netbe_vnet_send_rarp(r->g->dev, mac, &err));
        g_assert_nonnull(err);
        g_clear_error(&err);
        g_assert_true(vg_start(r->g, &err));
        g_assert_true(netbe_vnet_send_rarp(r->g->dev, mac, &err));
        g_assert_no_error(err);
        g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, hdr + 60);
        g_assert_cmpmem(got, hdr, zero, hdr);
        g_assert_cmpmem(got + hdr, 6, "\xff\xff\xff\xff\xff\xff", 6);
        g_assert_cmpmem(got + hdr + 6, 6, mac, 6);
        g_assert_cmpuint(got[hdr + 12], ==, 0x80);
        g_assert_cmpuint(got[hdr + 13], ==, 0x35); /* ETH_P_RARP */
        g_assert_cmpuint(got[hdr + 21], ==, 3);    /* request reverse */
        g_assert_cmpmem(got + hdr + 22, 6, mac, 6);
        g_assert_cmpmem(got + hdr + 32, 6, mac, 6);
        g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 20), ==, -1);
        vt_rig_free(r);
    }
}

/* Fails if the RX filter set over the control queue lets frames for other MACs in, or
 * drops frames for our MAC, a table entry or broadcast. */
static void test_ctrl_rx_filter(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    const uint8_t other[6] = {0x02, 1, 2, 3, 4, 5}, listed[6] = {0x02, 9, 9, 9, 9, 9};
    const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t off = 0, table[4 + 6 + 4];
    uint32_t one = htole32(1), zero = 0;
    const uint8_t *dsts[] = {other, r->g->mac, listed, bcast};
    const bool expect[] = {false, true, true, true};
    NetbeVnetQueueStats qs;

    memcpy(table, &one, 4);
    memcpy(table + 4, listed, 6);
    memcpy(table + 10, &zero, 4);
    g_assert_cmpint(vg_ctrl(r->g, 0, 0, &off, 1), ==, 0); /* promisc off */
    g_assert_cmpint(vg_ctrl(r->g, 1, 0, table, sizeof(table)), ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(dsts); i++) {
        size_t len = vg_make_frame(frame, dsts[i], peer_mac, 0x88b5, 64, i);

        vt_peer_write(r, 0, frame, len);
        g_assert_cmpint(vg_recv(r->g, 0, got, sizeof(got), NULL, NULL, expect[i] ? 2000 : 100), ==,
                        expect[i] ? (ssize_t)len : -1);
    }
    g_assert_true(netbe_vnet_get_queue_stats(r->g->dev, 0, &qs));
    g_assert_cmpuint(qs.drops, ==, 1);
    vt_rig_free(r);
}

/* Fails if CTRL_MAC_ADDR does not change the MAC in config space and in the filter. */
static void test_ctrl_mac_addr_set(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    const uint8_t mac[6] = {0x52, 0x54, 0, 1, 1, 1};
    uint8_t cfg[6], off = 0;
    size_t len;

    g_assert_cmpint(vg_ctrl(r->g, 1, 1, mac, 6), ==, 0);
    netbe_vnet_config_read(r->g->dev, 0, cfg, 6);
    g_assert_cmpmem(cfg, 6, mac, 6);
    g_assert_cmpint(vg_ctrl(r->g, 0, 0, &off, 1), ==, 0);
    len = vg_make_frame(frame, mac, peer_mac, 0x88b5, 64, 1);
    vt_peer_write(r, 0, frame, len);
    g_assert_cmpint(vg_recv(r->g, 0, got, sizeof(got), NULL, NULL, 2000), ==, len);
    vt_rig_free(r);
}

/* Fails if a deferred device connects its backend before DRIVER_OK, or not at it. */
static void test_deferred_device_connects_at_driver_ok(void)
{
    VgOptions opt = {.no_start = true};
    VtRig *r = vt_rig_new(1, NULL, "connect = deferred", &opt);
    GError *err = NULL;

    g_assert_false(netbe_device_is_connected(r->g->dev));
    g_assert_true(vg_start(r->g, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_device_is_connected(r->g->dev));
    vt_rig_free(r);
}

/* Fails if a reset does not stop the data path, or the device does not work again
 * after a fresh initialisation. */
static void test_reset_stops_and_reinit_works(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    size_t len = vg_make_frame(frame, r->g->mac, peer_mac, 0x88b5, 64, 7);
    VgGuest *g2;

    netbe_vnet_reset(r->g->dev);
    g_assert_cmpuint(netbe_vnet_get_status(r->g->dev), ==, 0);
    vt_peer_write(r, 0, frame, len);
    vg_pump_for(r->g, 50);
    g_assert_cmpint(vg_recv_ready(r->g, 0, got, sizeof(got), NULL, NULL), ==, -1);
    vg_free(r->g);
    g2 = vg_new(r->rt, "d0", NULL);
    r->g = g2;
    g_assert_cmpint(vg_recv(g2, 0, got, sizeof(got), NULL, NULL, 2000), ==, len);
    vt_rig_free(r);
}

/* Fails if overlapping or wrapping guest memory maps are accepted, or a frame whose
 * buffer spans two regions is not sent whole. */
static void test_memory_map_checks_and_spanning_buffer(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    VgGuest *g = r->g;
    NetbeGuestRegion bad[2] = {{VG_GPA_BASE, 8192, g->mem},
                               {VG_GPA_BASE + 4096, 8192, g->mem + 4096}};
    NetbeGuestRegion wrap = {UINT64_MAX - 10, 100, g->mem};
    VgQueue *q = &g->q[vg_txq(g, 0)];
    size_t len = vg_make_frame(frame, peer_mac, g->mac, 0x88b5, 1400, 5);
    NetbeGuestRegion two[2];
    GError *err = NULL;
    uint64_t split;

    g_assert_false(netbe_vnet_set_memory(g->dev, bad, 2, &err));
    g_assert_nonnull(strstr(err->message, "overlap"));
    g_clear_error(&err);
    g_assert_false(netbe_vnet_set_memory(g->dev, &wrap, 1, &err));
    g_clear_error(&err);
    /* split guest memory in the middle of TX slot 0's data: two regions */
    split = q->bufs_gpa + VG_HDR_LEN + 700 - VG_GPA_BASE;
    two[0] = (NetbeGuestRegion){VG_GPA_BASE, split, g->mem};
    two[1] = (NetbeGuestRegion){VG_GPA_BASE + split, g->mem_size - split, g->mem + split};
    g_assert_true(netbe_vnet_set_memory(g->dev, two, 2, &err));
    g_assert_no_error(err);
    g_assert_true(vg_send(g, 0, NULL, frame, len));
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    vt_rig_free(r);
}

/* Fails if a link change after DRIVER_OK does not raise the config interrupt. */
static void test_link_change_raises_config_interrupt(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    uint8_t st[2];

    netbe_vnet_set_link(r->g->dev, false);
    g_assert_cmpuint(r->g->config_irqs, ==, 1);
    netbe_vnet_config_read(r->g->dev, NETBE_VIRTIO_NET_CFG_STATUS, st, 2);
    g_assert_cmpuint(st[0] & 1, ==, 0);
    netbe_vnet_set_link(r->g->dev, false);
    g_assert_cmpuint(r->g->config_irqs, ==, 1); /* no change, no interrupt */
    netbe_vnet_set_link(r->g->dev, true);
    g_assert_cmpuint(r->g->config_irqs, ==, 2);
    vt_rig_free(r);
}

typedef struct KickThread {
    NetbeDevice *dev;
    unsigned vq;
} KickThread;

static void *kick_thread(void *opaque)
{
    KickThread *k = opaque;

    netbe_vnet_queue_kick(k->dev, k->vq);
    return NULL;
}

/* Fails if a kick from another thread (a vCPU) is not seen by the runtime's thread. */
static void test_kick_from_vcpu_thread(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 64, 3);
    KickThread k = {r->g->dev, vg_txq(r->g, 0)};
    pthread_t th;

    g_assert_true(vg_send_nokick(r->g, 0, NULL, frame, len));
    /* publish without kicking, then kick from a thread */
    r->g->q[k.vq].avail[1] = htole16(r->g->q[k.vq].avail_idx);
    g_assert_cmpint(pthread_create(&th, NULL, kick_thread, &k), ==, 0);
    pthread_join(th, NULL);
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, len);
    vt_rig_free(r);
}

static void *runtime_thread(void *opaque)
{
    netbe_runtime_run(opaque);
    return NULL;
}

/* Fails if, with the runtime on its own thread and the guest driving TX from another (a
 * vCPU: ring writes, eventfd kicks, used-ring reads), a frame is lost, duplicated or
 * reordered. */
static void test_tx_from_vcpu_thread_while_runtime_runs(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    const unsigned total = 3000;
    unsigned sent = 0, seen = 0;
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    pthread_t th;

    g_assert_cmpint(pthread_create(&th, NULL, runtime_thread, r->rt), ==, 0);
    while (seen < total && g_get_monotonic_time() < end) {
        ssize_t n;

        for (int k = 0; k < 8 && sent < total; k++) {
            size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 60, 0);

            frame[14] = sent & 0xff;
            frame[15] = sent >> 8;
            if (!vg_send_nokick(r->g, 0, NULL, frame, len)) {
                break;
            }
            sent++;
        }
        vg_tx_kick(r->g, 0);
        while ((n = recv(r->peer[0], got, sizeof(got), MSG_DONTWAIT)) > 0) {
            g_assert_cmpint(n, ==, 74);
            g_assert_cmpuint(got[14] | got[15] << 8, ==, seen);
            seen++;
        }
        vg_tx_reclaim(r->g, 0);
    }
    netbe_runtime_quit(r->rt);
    pthread_join(th, NULL);
    g_assert_cmpuint(seen, ==, total);
    vt_rig_free(r);
}

/* Fails if an ioeventfd handed over is not watched, or interrupts do not go to an
 * irqfd instead of the hook. */
static void test_ioeventfd_and_irqfd(void)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, NULL);
    unsigned txq = vg_txq(r->g, 0);
    int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    size_t len = vg_make_frame(frame, peer_mac, r->g->mac, 0x88b5, 64, 3);
    uint64_t one = 1, v = 0;
    unsigned hook_irqs;
    GError *err = NULL;

    g_assert_true(netbe_vnet_queue_set_kick_fd(r->g->dev, txq, kick, &err));
    g_assert_true(netbe_vnet_queue_set_call_fd(r->g->dev, txq, call, &err));
    g_assert_no_error(err);
    hook_irqs = r->g->irqs[txq];
    g_assert_true(vg_send_nokick(r->g, 0, NULL, frame, len));
    r->g->q[txq].avail[1] = htole16(r->g->q[txq].avail_idx);
    g_assert_cmpint(write(kick, &one, 8), ==, 8);
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, len);
    vg_pump_for(r->g, 20);
    g_assert_cmpint(read(call, &v, 8), ==, 8);
    g_assert_cmpuint(v, ==, 1);
    g_assert_cmpuint(r->g->irqs[txq], ==, hook_irqs);
    close(kick);
    close(call);
    vt_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnet/tx_frame_reaches_backend_without_header",
                    test_tx_frame_reaches_backend_without_header);
    g_test_add_func("/vnet/tx_header_passes_through_unchanged",
                    test_tx_header_passes_through_unchanged);
    g_test_add_func("/vnet/rx_frame_gets_zero_header", test_rx_frame_gets_zero_header);
    g_test_add_func("/vnet/rx_header_passes_through", test_rx_header_passes_through);
    g_test_add_func("/vnet/mergeable_rx_spreads_big_frames_over_small_buffers",
                    test_mergeable_rx_spreads_big_frames_over_small_buffers);
    g_test_add_func("/vnet/mergeable_rx_with_few_small_buffers_delivers_small_and_gso_frames",
                    test_mergeable_rx_with_few_small_buffers_delivers_small_and_gso_frames);
    g_test_add_func("/vnet/mergeable_rx_mixed_sizes_arrive_intact_in_order",
                    test_mergeable_rx_mixed_sizes_arrive_intact_in_order);
    g_test_add_func("/vnet/mergeable_rx_frame_larger_than_posted_waits_for_more",
                    test_mergeable_rx_frame_larger_than_posted_waits_for_more);
    g_test_add_func("/vnet/mergeable_rx_frame_larger_than_ring_is_dropped",
                    test_mergeable_rx_frame_larger_than_ring_is_dropped);
    g_test_add_func("/vnet/rx_waits_for_buffers_without_loss",
                    test_rx_waits_for_buffers_without_loss);
    g_test_add_func("/vnet/rx_waits_for_room_for_a_gso_frame",
                    test_rx_waits_for_room_for_a_gso_frame);
    g_test_add_func("/vnet/rx_push_backend_queues_until_buffers",
                    test_rx_push_backend_queues_until_buffers);
    g_test_add_func("/vnet/ctrl_guest_offloads_set", test_ctrl_guest_offloads_set);
    g_test_add_func("/vnet/tx_busy_backend_keeps_chains_until_ready",
                    test_tx_busy_backend_keeps_chains_until_ready);
    g_test_add_func("/vnet/tx_batch_takes_one_kick_and_one_interrupt",
                    test_tx_batch_takes_one_kick_and_one_interrupt);
    g_test_add_func("/vnet/tx_indirect_chain", test_tx_indirect_chain);
    g_test_add_func("/vnet/tx_indirect_table_at_odd_address",
                    test_tx_indirect_table_at_odd_address);
    g_test_add_func("/vnet/features_follow_backend_caps", test_features_follow_backend_caps);
    g_test_add_func("/vnet/legacy_driver_refused", test_legacy_driver_refused);
    g_test_add_func("/vnet/config_space", test_config_space);
    g_test_add_func("/vnet/ctrl_mq_pairs_route_to_backend_queues",
                    test_ctrl_mq_pairs_route_to_backend_queues);
    g_test_add_func("/vnet/vmm_sets_queue_pairs", test_vmm_sets_queue_pairs);
    g_test_add_func("/vnet/vmm_sends_rarp", test_vmm_sends_rarp);
    g_test_add_func("/vnet/ctrl_rx_filter", test_ctrl_rx_filter);
    g_test_add_func("/vnet/ctrl_mac_addr_set", test_ctrl_mac_addr_set);
    g_test_add_func("/vnet/deferred_device_connects_at_driver_ok",
                    test_deferred_device_connects_at_driver_ok);
    g_test_add_func("/vnet/reset_stops_and_reinit_works", test_reset_stops_and_reinit_works);
    g_test_add_func("/vnet/memory_map_checks_and_spanning_buffer",
                    test_memory_map_checks_and_spanning_buffer);
    g_test_add_func("/vnet/link_change_raises_config_interrupt",
                    test_link_change_raises_config_interrupt);
    g_test_add_func("/vnet/kick_from_vcpu_thread", test_kick_from_vcpu_thread);
    g_test_add_func("/vnet/tx_from_vcpu_thread_while_runtime_runs",
                    test_tx_from_vcpu_thread_while_runtime_runs);
    g_test_add_func("/vnet/ioeventfd_and_irqfd", test_ioeventfd_and_irqfd);
    return g_test_run();
}
