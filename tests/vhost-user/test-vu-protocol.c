// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vu-protocol.c - the real netbe-host as a vhost-user backend, driven by our own
 * frontend: negotiation, frames both ways (one and two memory regions, with and without
 * MRG_RXBUF), ring bases, config, RARP, status, and dirty logging of RX writes. */
#include <arpa/inet.h>
#include <endian.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netns.h"
#include "vu-rig.h"

#define F(bit) (1ull << (bit))
#define F_MRG_RXBUF 15
#define F_VERSION_1 32

/* The backend offers what a vhost-user-net VMM needs. Fails if a feature or protocol
 * feature the issue asks for is missing from GET_FEATURES / GET_PROTOCOL_FEATURES. */
static void test_offers_features_and_protocol_features(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    static const unsigned want_pf[] = {VU_PF_MQ, VU_PF_LOG_SHMFD, VU_PF_RARP, VU_PF_REPLY_ACK,
                                       VU_PF_CONFIG};

    g_assert_true(f->device_features & F(F_VERSION_1));
    g_assert_true(f->device_features & F(VU_F_PROTOCOL_FEATURES));
    g_assert_true(f->device_features & F(VU_F_LOG_ALL));
    g_assert_true(f->device_features & F(F_MRG_RXBUF));
    for (size_t i = 0; i < G_N_ELEMENTS(want_pf); i++) {
        if (!(f->device_protocol & F(want_pf[i]))) {
            g_error("protocol feature bit %u not offered (offered 0x%" G_GINT64_MODIFIER "x)",
                    want_pf[i], f->device_protocol);
        }
    }
    g_assert_cmpuint(f->max_pairs, ==, 1); /* GET_QUEUE_NUM: the config's queues (1) */
    vu_front_free(f);
    vu_rig_free(r);
}

/* Frames of 60, 1514 and 9000 bytes go guest -> netdev and back byte for byte. Fails if a
 * ring address or a descriptor address is not translated through the region table (our
 * uvas are not our pointers), or the vnet header is not stripped / added. */
static void test_frames_both_ways_one_region(void)
{
    static const size_t lens[] = {60, 1514, 9000};
    VuRig *r = vu_rig_new("mtu = 9000\n");
    VuFront *f = vu_rig_front(r, NULL);
    uint8_t frame[9014];

    g_assert_true(f->features & F(F_MRG_RXBUF));
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        vu_rig_check_tx(r, f, frame, vu_rig_frame(frame, lens[i], (uint8_t)i));
        vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, lens[i], (uint8_t)(i + 100)));
    }
    vu_front_free(f);
    vu_rig_free(r);
}

/* Guest memory announced as two regions with a hole between them (and the second at a
 * non-zero mmap offset of the same fd); the RX ring sits in region 0, its buffers and the
 * TX queue in region 1. Fails if the backend assumes one region or ignores mmap_offset. */
static void test_frames_both_ways_two_regions(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFrontOptions opt = {.mem_size = 64u << 20, .nregions = 2, .rx_buf_size = 2048};
    g_autoptr(GError) err = NULL;
    VuFront *f = vu_front_connect(r->sock, &opt, &err);
    uint8_t frame[1514];

    g_assert_no_error(err);
    /* leave three pages of region 0: the RX rings; everything after goes to region 1 */
    vu_front_alloc(f, f->regions[0].size - 3 * 4096, 4096);
    vu_front_start(f, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(f->q[0].used_gpa, <, f->regions[0].gpa + f->regions[0].size);
    g_assert_cmpuint(f->q[0].bufs_gpa, >=, f->regions[1].gpa);
    g_assert_cmpuint(f->q[1].desc_gpa, >=, f->regions[1].gpa);
    for (unsigned i = 0; i < 3; i++) {
        vu_rig_check_tx(r, f, frame, vu_rig_frame(frame, sizeof(frame), (uint8_t)i));
        vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, sizeof(frame), (uint8_t)(i + 9)));
    }
    vu_front_free(f);
    vu_rig_free(r);
}

/* Without MRG_RXBUF each frame takes one large buffer (num_buffers 1); with it and 1 KiB
 * buffers a 3000-byte frame spans 3 buffers (num_buffers 3). Fails if the device ignores
 * the negotiated layout, or (the bug of issue 9) waits for 64 KiB of small buffers before
 * it delivers anything. */
static void test_rx_with_and_without_mrg_rxbuf(void)
{
    VuRig *r = vu_rig_new("mtu = 9000\n");
    VuFrontOptions plain = {.features_clear = F(F_MRG_RXBUF)};
    VuFrontOptions small = {.rx_buf_size = 1024, .queue_size = 64};
    VuFront *f = vu_rig_front(r, &plain);
    uint8_t frame[3000];

    g_assert_false(f->features & F(F_MRG_RXBUF));
    g_assert_cmpuint(vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, 3000, 3)), ==, 1);
    vu_rig_check_tx(r, f, frame, vu_rig_frame(frame, 1000, 4));
    vu_front_free(f);
    vu_rig_wait_idle(r);

    f = vu_rig_front(r, &small);
    g_assert_true(f->features & F(F_MRG_RXBUF));
    g_assert_cmpuint(vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, 60, 5)), ==, 1);
    g_assert_cmpuint(vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, 3000, 6)), ==, 3);
    vu_front_free(f);
    vu_rig_free(r);
}

/* More frames than RX buffers (100 on a ring of 64; few enough for the netdev's UDP socket
 * to hold the rest): the device fills the ring, waits for buffers (it asks for a kick with
 * avail_event) and goes on once the guest gives them back, so every frame arrives, in order.
 * Fails if the device never re-arms the notification (a lost wakeup: the guest has given
 * every buffer back, the device still waits) or the netdev drops while it waits. */
static void test_rx_ring_refill_resumes_delivery(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFrontOptions opt = {.queue_size = 64, .rx_buf_size = 2048};
    VuFront *f = vu_rig_front(r, &opt);
    uint8_t frame[200], got[201];

    for (unsigned round = 0; round < 5; round++) {
        for (unsigned i = 0; i < 100; i++) {
            vu_rig_frame(frame, sizeof(frame), (uint8_t)i);
            g_assert_cmpint(sendto(r->udp, frame, sizeof(frame), 0, (struct sockaddr *)&r->netdev,
                                   sizeof(r->netdev)),
                            ==, sizeof(frame));
        }
        g_usleep(100000); /* the ring is full now: the device waits for buffers */
        for (unsigned i = 0; i < 100; i++) {
            ssize_t n = vu_front_recv(f, 0, got, sizeof(got), NULL, NULL, 2000);

            if (n != sizeof(frame)) {
                g_error("round %u: frame %u of 100 did not arrive (avail %u, used %u, "
                        "avail_event %u)",
                        round, i, f->q[0].avail_idx, f->q[0].last_used,
                        le16toh(*(uint16_t *)(f->q[0].used + 4 + 8 * (size_t)f->q[0].size)));
            }
            vu_rig_frame(frame, sizeof(frame), (uint8_t)i);
            g_assert_cmpmem(got, n, frame, sizeof(frame));
        }
    }
    vu_front_free(f);
    vu_rig_free(r);
}

/* GET_VRING_BASE answers where the device stopped: the TX ring's base is the number of
 * frames it took, the RX ring's the number of buffers it filled. Fails if the backend
 * answers 0, its own used index of another ring, or does not stop the ring. */
static void test_get_vring_base_returns_ring_positions(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    g_autoptr(GError) err = NULL;
    uint8_t frame[200];
    uint32_t tx_base = 0, rx_base = 0;

    for (unsigned i = 0; i < 5; i++) {
        vu_rig_check_tx(r, f, frame, vu_rig_frame(frame, sizeof(frame), (uint8_t)i));
    }
    for (unsigned i = 0; i < 3; i++) {
        vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, sizeof(frame), (uint8_t)i));
    }
    g_assert_true(vu_front_get_vring_base(f, vu_txq(0), &tx_base, &err));
    g_assert_no_error(err);
    g_assert_true(vu_front_get_vring_base(f, vu_rxq(0), &rx_base, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(tx_base, ==, 5);
    g_assert_cmpuint(rx_base, ==, 3);
    vu_front_free(f);
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

/* GET_CONFIG returns the device config: the configured MAC and link up. Fails if the
 * backend answers another size or zeros. */
static void test_get_config_reports_mac_and_link(void)
{
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    g_autoptr(GError) err = NULL;
    uint8_t cfg[8];

    g_assert_true(vu_front_get_config(f, 0, cfg, sizeof(cfg), &err));
    g_assert_no_error(err);
    g_assert_cmpmem(cfg, 6, mac, 6);
    g_assert_cmpuint(cfg[6] & 1, ==, 1); /* status: VIRTIO_NET_S_LINK_UP */
    vu_front_free(f);
    vu_rig_free(r);
}

/* SEND_RARP makes the backend send a RARP announcement from the given MAC to the netdev
 * (what QEMU asks after a migration). Fails if no such frame leaves netbe. */
static void test_send_rarp_announces_the_mac(void)
{
    static const uint8_t mac[8] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0, 0};
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    g_autoptr(GError) err = NULL;
    struct pollfd p = {r->udp, POLLIN, 0};
    uint8_t got[2048];
    ssize_t n;

    g_assert_true(vu_front_request(f, VU_REQ_SEND_RARP, mac, sizeof(mac), NULL, 0, NULL, 0, &err));
    g_assert_no_error(err);
    g_assert_cmpint(poll(&p, 1, 3000), ==, 1);
    n = recv(r->udp, got, sizeof(got), 0);
    g_assert_cmpint(n, >=, 42);
    g_assert_cmpmem(got, 6, "\xff\xff\xff\xff\xff\xff", 6);
    g_assert_cmpmem(got + 6, 6, mac, 6);
    g_assert_cmpuint(got[12], ==, 0x80);
    g_assert_cmpuint(got[13], ==, 0x35); /* ETH_P_RARP */
    vu_front_free(f);
    vu_rig_free(r);
}

/* netbe-ctl status names the connected VMM by its pid (SO_PEERCRED). Fails if status does
 * not show the device's VMM. */
static void test_status_shows_connected_vmm(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    g_autofree char *status = test_host_ctl(r->h, "status");
    g_autofree char *pid = g_strdup_printf("%d", (int)getpid());

    g_assert_nonnull(status);
    if (!strstr(status, "nic0") || !strstr(status, pid)) {
        g_error("status does not show VMM pid %s on nic0:\n%s", pid, status);
    }
    vu_front_free(f);
    vu_rig_free(r);
}

/* RESET_OWNER, then a whole new negotiation on the same connection, works. Fails if the
 * backend keeps the old rings or refuses a second SET_OWNER. */
static void test_reset_owner_then_renegotiate(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    g_autoptr(GError) err = NULL;
    uint8_t frame[300];

    vu_rig_roundtrip(r, f);
    g_assert_true(vu_front_request(f, VU_REQ_RESET_OWNER, NULL, 0, NULL, 0, NULL, 0, &err));
    g_assert_no_error(err);
    /* the same memory, rings laid out again from index 0 */
    for (unsigned vq = 0; vq < 2; vq++) {
        VuQueue *q = &f->q[vq];

        memset(q->avail, 0, 6 + 2 * q->size);
        memset(q->used, 0, 6 + 8 * q->size);
        q->avail_idx = q->kicked_idx = q->last_used = 0;
        q->nfree = 0;
        for (unsigned i = 0; i < q->size; i++) {
            q->free_ids[q->nfree++] = (uint16_t)(q->size - 1 - i);
        }
    }
    f->protocol = 0; /* the backend forgot it too */
    g_assert_true(vu_front_start(f, &err));
    g_assert_no_error(err);
    vu_rig_check_tx(r, f, frame, vu_rig_frame(frame, sizeof(frame), 7));
    vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, sizeof(frame), 8));
    vu_front_free(f);
    vu_rig_free(r);
}

/* A packet socket on @ifname in namespace @ns that sees every frame (and can send). */
static int tap_packet_socket(const char *ns, const char *ifname)
{
    return test_packet_socket(ns, ifname, ETH_P_ALL);
}

/* Wait for a frame on @fd equal to @frame (others are skipped). */
static bool tap_sees(int fd, const uint8_t *frame, size_t len)
{
    gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    uint8_t buf[2048];

    while (g_get_monotonic_time() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;

        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        n = recv(fd, buf, sizeof(buf), 0);
        if (n == (ssize_t)len && memcmp(buf, frame, len) == 0) {
            return true;
        }
    }
    return false;
}

/* An IPv4/UDP frame to the device's MAC from source port @port (one flow per port). */
static size_t udp_frame(uint8_t *f, uint16_t port)
{
    static const uint8_t hdr[34] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0,  0, 0, 0,  0x77,
                                    0x08, 0x00, 0x45, 0,    0,    46,   0,    0,  0, 0, 64, 17,
                                    0,    0,    10,   79,   0,    1,    10,   79, 0, 2};

    memset(f, 0, 60);
    memcpy(f, hdr, sizeof(hdr));
    f[34] = port >> 8;
    f[35] = port & 0xff;
    f[36] = 0x13;
    f[37] = 0x89;
    f[39] = 26; /* UDP length */
    return 60;
}

/*
 * Two queue pairs over a two-queue TAP (root, in a namespace): GET_QUEUE_NUM says 2, frames
 * sent on either TX ring reach the TAP, and frames of 64 flows sent into the TAP arrive,
 * spread by the TAP over both RX rings. Fails if the backend offers one pair, ignores the
 * second pair's rings, or delivers a flow to no ring.
 */
static void test_two_queue_pairs_over_tap(void)
{
    g_autofree char *ns = NULL, *ini = NULL, *sock = NULL;
    VuFrontOptions opt = {.pairs = 2, .rx_buf_size = 2048};
    g_autoptr(GError) err = NULL;
    unsigned per_pair[2] = {0, 0};
    uint8_t frame[100], got[2048];
    TestHost *h;
    VuFront *f;
    int pkt;

    if (!test_need_root_net()) {
        return;
    }
    ns = test_netns_create("vumq");
    ini = g_strdup("[netdev.t0]\ntype = tap\nifname = vumq0\nqueues = 2\nvnet_hdr = on\n"
                   "[device.nic0]\nmodel = virtio-net\ntransport = vhost-user\n"
                   "socket = vu.sock\nnetdev = t0\nqueues = 2\nmac = " VU_RIG_MAC "\n");
    h = test_host_start(ini, ns, NULL);
    g_assert_nonnull(h);
    test_pid_track(0, h->pid);
    g_assert_cmpint(test_sh("ip -n %s link set vumq0 up", ns), ==, 0);
    sock = g_build_filename(h->dir, "vu.sock", NULL);
    f = vu_front_connect(sock, &opt, &err);
    g_assert_no_error(err);
    g_assert_true(vu_front_start(f, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(f->max_pairs, ==, 2);
    pkt = tap_packet_socket(ns, "vumq0");

    for (unsigned pair = 0; pair < 2; pair++) {
        vu_rig_frame(frame, sizeof(frame), (uint8_t)(40 + pair));
        g_assert_true(vu_front_send(f, pair, NULL, frame, sizeof(frame), false));
        g_assert_true(tap_sees(pkt, frame, sizeof(frame))); /* TX ring @pair went nowhere */
    }
    for (uint16_t port = 1000; port < 1064; port++) {
        size_t len = udp_frame(frame, port);

        g_assert_cmpint(send(pkt, frame, len, 0), ==, (ssize_t)len);
    }
    for (int ms = 0; per_pair[0] + per_pair[1] < 64; ms++) {
        for (unsigned pair = 0; pair < 2; pair++) {
            while (vu_front_recv(f, pair, got, sizeof(got), NULL, NULL, 0) == 60) {
                per_pair[pair]++;
            }
        }
        if (ms == 5000) {
            g_error("%u of 64 flows arrived in 5 s (pair 0: %u, pair 1: %u)",
                    per_pair[0] + per_pair[1], per_pair[0], per_pair[1]);
        }
        g_usleep(1000);
    }
    g_assert_cmpuint(per_pair[0], >, 0);
    g_assert_cmpuint(per_pair[1], >, 0); /* the TAP spread 64 flows: both rings get some */
    close(pkt);
    vu_front_free(f);
    test_pid_track(0, 0);
    test_host_free(h);
    test_netns_delete(ns);
}

/*
 * A deferred TAP device is created down when the VMM starts the rings; frames the guest
 * sends before the interface is up are lost (the TAP refuses them with EIO), frames after
 * `ip link set up` reach it. Fails if that first refusal stops the TAP queue for good (the
 * guest's early IPv6/DHCP chatter would kill its TX until netbe-host restarts).
 */
static void test_tx_works_once_a_deferred_tap_is_up(void)
{
    g_autofree char *ns = NULL, *ini = NULL, *sock = NULL;
    g_autoptr(GError) err = NULL;
    uint8_t frame[100];
    TestHost *h;
    VuFront *f;
    int pkt;

    if (!test_need_root_net()) {
        return;
    }
    ns = test_netns_create("vudown");
    ini = g_strdup("[netdev.t0]\ntype = tap\nifname = vudown0\nvnet_hdr = on\n"
                   "[device.nic0]\nmodel = virtio-net\ntransport = vhost-user\n"
                   "socket = vu.sock\nnetdev = t0\nconnect = deferred\nmac = " VU_RIG_MAC "\n");
    h = test_host_start(ini, ns, NULL);
    g_assert_nonnull(h);
    test_pid_track(0, h->pid);
    sock = g_build_filename(h->dir, "vu.sock", NULL);
    f = vu_front_connect(sock, NULL, &err);
    g_assert_no_error(err);
    g_assert_true(vu_front_start(f, &err));
    g_assert_no_error(err);
    vu_rig_frame(frame, sizeof(frame), 50);
    for (int i = 0; i < 3; i++) { /* the TAP is down: these are lost */
        g_assert_true(vu_front_send(f, 0, NULL, frame, sizeof(frame), false));
    }
    for (int i = 0; i < 100 && vu_front_tx_reclaim(f, 0) < 3; i++) {
        g_usleep(10000);
    }
    g_assert_cmpint(test_sh("ip -n %s link set vudown0 up", ns), ==, 0);
    pkt = tap_packet_socket(ns, "vudown0");
    vu_rig_frame(frame, sizeof(frame), 51);
    g_assert_true(vu_front_send(f, 0, NULL, frame, sizeof(frame), false));
    g_assert_true(tap_sees(pkt, frame, sizeof(frame)));
    close(pkt);
    vu_front_free(f);
    test_pid_track(0, 0);
    test_host_free(h);
    test_netns_delete(ns);
}

/* Is @page in @pages (ascending)? */
static bool has_page(GArray *pages, uint64_t page)
{
    for (guint i = 0; i < pages->len; i++) {
        if (g_array_index(pages, uint64_t, i) == page) {
            return true;
        }
    }
    return false;
}

static void add_range(GArray *set, uint64_t gpa, uint64_t len)
{
    for (uint64_t p = gpa / VU_LOG_PAGE; len && p <= (gpa + len - 1) / VU_LOG_PAGE; p++) {
        if (!has_page(set, p)) {
            g_array_append_val(set, p);
        }
    }
}

static gint cmp_u64(gconstpointer a, gconstpointer b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static char *pages_text(GArray *pages)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < pages->len; i++) {
        g_string_append_printf(s, " 0x%" G_GINT64_MODIFIER "x", g_array_index(pages, uint64_t, i));
    }
    return g_string_free(s, false);
}

/* Wait until every page of @want is marked (1 s), then let the device finish (50 ms), and
 * assert the log holds exactly @want. */
static void check_log_is(VuFront *f, GArray *want)
{
    g_autoptr(GArray) got = NULL;
    bool all = false;

    g_array_sort(want, cmp_u64);
    for (int i = 0; i < 100 && !all; i++) {
        g_autoptr(GArray) now = vu_front_log_pages(f);

        all = true;
        for (guint k = 0; k < want->len; k++) {
            all &= has_page(now, g_array_index(want, uint64_t, k));
        }
        if (!all) {
            g_usleep(10000);
        }
    }
    g_usleep(50000);
    got = vu_front_log_pages(f);
    if (got->len != want->len || memcmp(got->data, want->data, 8 * want->len)) {
        g_autofree char *w = pages_text(want), *g = pages_text(got);

        g_error("dirty log: expected pages%s, got%s", w, g);
    }
}

/*
 * With SET_LOG_BASE + VHOST_F_LOG_ALL, a frame received into the guest marks exactly the
 * pages the device wrote: those of the bytes written into each RX buffer (header + frame,
 * the used lengths) and the used ring's page, nothing else; a sent frame marks only the TX
 * used ring's page. Fails if a written page is not logged (the VMM would migrate stale
 * memory), if buffer pages beyond the written bytes or read-only pages are logged, or if
 * the log is not mapped from the fd we sent.
 */
static void test_dirty_log_marks_exactly_written_pages(void)
{
    VuRig *r = vu_rig_new("mtu = 9000\n");
    VuFrontOptions opt = {.rx_buf_size = 2048, .queue_size = 64};
    VuFront *f = vu_rig_front(r, &opt);
    VuQueue *rx = &f->q[vu_rxq(0)];
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) want = g_array_new(false, false, sizeof(uint64_t));
    uint8_t frame[5000], got[5001];
    uint16_t used_idx, from = rx->last_used;
    ssize_t n;

    g_assert_true(vu_front_log_start(f, &err));
    g_assert_no_error(err);
    g_usleep(50000);
    vu_front_log_clear(f);

    /* RX: 12 + 5000 bytes over buffers of 2048 (2048 + 2048 + 916) */
    vu_rig_frame(frame, sizeof(frame), 11);
    g_assert_cmpint(
        sendto(r->udp, frame, sizeof(frame), 0, (struct sockaddr *)&r->netdev, sizeof(r->netdev)),
        ==, (ssize_t)sizeof(frame));
    for (int i = 0; i < 300 && vu_front_used_pending(f, vu_rxq(0)) < 3; i++) {
        g_usleep(10000);
    }
    used_idx = (uint16_t)(from + vu_front_used_pending(f, vu_rxq(0)));
    g_assert_cmpuint((uint16_t)(used_idx - from), ==, 3);
    for (uint16_t i = from; i != used_idx; i++) {
        const uint8_t *e = rx->used + 4 + 8 * (size_t)(i % rx->size);
        uint32_t id, len;

        memcpy(&id, e, 4);
        memcpy(&len, e + 4, 4);
        add_range(want, rx->bufs_gpa + (uint64_t)id * rx->buf_size, len);
    }
    add_range(want, rx->used_gpa, 6 + 8 * rx->size); /* one page: entries and idx */
    check_log_is(f, want);
    n = vu_front_recv(f, 0, got, sizeof(got), NULL, NULL, 1000);
    g_assert_cmpint(n, ==, sizeof(frame));
    g_assert_cmpmem(got, sizeof(frame), frame, sizeof(frame));

    /* TX: the device reads the frame and writes only the used ring */
    g_usleep(50000);
    vu_front_log_clear(f);
    g_array_set_size(want, 0);
    vu_rig_check_tx(r, f, frame, vu_rig_frame(frame, 1000, 12));
    add_range(want, f->q[vu_txq(0)].used_gpa, 6 + 8 * f->q[vu_txq(0)].size);
    check_log_is(f, want);
    vu_front_free(f);
    vu_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vhost-user/offers-features-and-protocol-features",
                    test_offers_features_and_protocol_features);
    g_test_add_func("/vhost-user/frames-both-ways-one-region", test_frames_both_ways_one_region);
    g_test_add_func("/vhost-user/frames-both-ways-two-regions", test_frames_both_ways_two_regions);
    g_test_add_func("/vhost-user/rx-with-and-without-mrg-rxbuf",
                    test_rx_with_and_without_mrg_rxbuf);
    g_test_add_func("/vhost-user/rx-ring-refill-resumes-delivery",
                    test_rx_ring_refill_resumes_delivery);
    g_test_add_func("/vhost-user/get-vring-base-returns-ring-positions",
                    test_get_vring_base_returns_ring_positions);
    g_test_add_func("/vhost-user/get-config-reports-mac-and-link",
                    test_get_config_reports_mac_and_link);
    g_test_add_func("/vhost-user/send-rarp-announces-the-mac", test_send_rarp_announces_the_mac);
    g_test_add_func("/vhost-user/status-shows-connected-vmm", test_status_shows_connected_vmm);
    g_test_add_func("/vhost-user/reset-owner-then-renegotiate", test_reset_owner_then_renegotiate);
    g_test_add_func("/vhost-user/two-queue-pairs-over-tap", test_two_queue_pairs_over_tap);
    g_test_add_func("/vhost-user/tx-works-once-a-deferred-tap-is-up",
                    test_tx_works_once_a_deferred_tap_is_up);
    g_test_add_func("/vhost-user/dirty-log-marks-exactly-written-pages",
                    test_dirty_log_marks_exactly_written_pages);
    return g_test_run();
}
