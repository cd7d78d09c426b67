// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vnet-rings.c - what a VMM that migrates the VM (or the vhost-user transport) needs
 * from the virtio-net device: the dirty page log of its writes into guest memory, and ring
 * bases (given back after a disable, taken on a reset device before an enable). */
#include <endian.h>
#include <string.h>
#include "vt-rig.h"

#define PAGE NETBE_VNET_LOG_PAGE
#define NETDEV_GSO "vnet_hdr = on\noffloads = 7"

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static uint8_t frame[70000], got[70000];

/* ---- dirty log ---- */

/* A dirty bitmap covering the guest's memory, and the pages a test expects in it. */
typedef struct Log {
    uint8_t *bits, *want;
    size_t size;
} Log;

static Log *log_new(VgGuest *g)
{
    Log *l = g_new0(Log, 1);

    l->size = ((VG_GPA_BASE + g->mem_size) / PAGE + 7) / 8;
    l->bits = g_malloc0(l->size);
    l->want = g_malloc0(l->size);
    return l;
}

static void log_free(Log *l)
{
    g_free(l->bits);
    g_free(l->want);
    g_free(l);
}

/* Expect the pages of [gpa, gpa+len) dirty. */
static void log_want(Log *l, uint64_t gpa, uint64_t len)
{
    for (uint64_t p = gpa / PAGE; len && p <= (gpa + len - 1) / PAGE; p++) {
        l->want[p / 8] |= 1u << (p % 8);
    }
}

/* The log holds exactly the pages expected; both are cleared for the next step. */
static void log_check(Log *l, const char *step)
{
    for (size_t i = 0; i < l->size; i++) {
        for (unsigned b = 0; b < 8; b++) {
            if (((l->bits[i] ^ l->want[i]) >> b) & 1) {
                g_test_message(
                    "%s: page 0x%" G_GINT64_MODIFIER "x is %s", step, (uint64_t)(i * 8 + b) * PAGE,
                    (l->bits[i] >> b) & 1 ? "logged, not written" : "written, not logged");
            }
        }
    }
    g_assert_cmpmem(l->bits, l->size, l->want, l->size);
    memset(l->bits, 0, l->size);
    memset(l->want, 0, l->size);
}

static uint16_t used_idx(VgQueue *q)
{
    return le16toh(__atomic_load_n((uint16_t *)(q->used + 2), __ATOMIC_ACQUIRE));
}

/* Pump until the device used a chain on @vq beyond what the guest read. */
static void wait_used(VgGuest *g, unsigned vq)
{
    gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

    while (used_idx(&g->q[vq]) == g->q[vq].last_used) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        vg_pump(g);
        g_usleep(100);
    }
}

/* Expect the bytes the device reports written in the used entries of RX queue @vq that the
 * guest has not read yet: buffer id at bufs_gpa + id * buf_size, len bytes. */
static void log_want_rx(Log *l, VgGuest *g, unsigned vq)
{
    VgQueue *q = &g->q[vq];

    for (uint16_t i = q->last_used; i != used_idx(q); i++) {
        uint32_t e[2];

        memcpy(e, q->used + 4 + 8 * (size_t)(i % q->size), 8);
        log_want(l, q->bufs_gpa + le32toh(e[0]) * (uint64_t)q->buf_size, le32toh(e[1]));
    }
}

/* Receive one frame of @len bytes (seed @seed) that the peer wrote. */
static void rx_one(VtRig *r, size_t size, uint8_t seed)
{
    static uint8_t in[70000];
    size_t len = vg_make_frame(in + 12, r->g->mac, peer_mac, 0x88b5, size - 14, seed);

    memset(in, 0, 12);
    vt_peer_write(r, 0, in, 12 + len);
    wait_used(r->g, 0);
}

static void rx_take(VtRig *r, size_t size)
{
    g_assert_cmpint(vg_recv(r->g, 0, got, sizeof(got), NULL, NULL, 2000), ==, size);
    vg_pump(r->g);
}

/*
 * Fails if, with a dirty log set, the device does not mark exactly: the pages of the RX
 * buffer bytes it wrote (not the rest of a buffer: 3000-byte buffers, a 4012-byte frame
 * leaves the second buffer's next page clean), the used ring pages it wrote (a TX ring of
 * 1024 spans three pages: used idx on the first, entry 520 on the second, avail_event on
 * the third), the page of a control answer; or if it marks TX buffers it only read; or if
 * it still logs after the log is set to NULL.
 */
static void test_dirty_log_marks_exactly_the_pages_written(void)
{
    VgOptions opt = {.rx_buf_size = 3000};
    VtRig *r = vt_rig_new(1, NETDEV_GSO, "tx_queue_size = 1024", &opt);
    VgGuest *g = r->g;
    VgQueue *txq = &g->q[vg_txq(g, 0)];
    Log *l = log_new(g);
    uint8_t on = 1;

    g_assert_cmpuint(g->q[0].bufs_gpa % PAGE, ==, 0);
    g_assert_cmpuint(g->q[0].size * 8 + 6, <=, PAGE); /* the RX used ring in one page */
    g_assert_cmpuint(txq->size, ==, 1024);
    g_assert_true(g->features & (1ull << NETBE_VIRTIO_F_RING_EVENT_IDX));
    for (unsigned i = 0; i < 520; i++) { /* TX used entries up to the ring's second page */
        g_assert_true(vg_send(g, 0, NULL, frame, 60));
        g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, 72);
    }
    vg_tx_reclaim(g, 0);
    netbe_vnet_set_dirty_log(g->dev, l->bits, l->size);

    /* RX over two buffers (ids 0 and 1): bytes [0, 4012) of the first page only */
    rx_one(r, 4000, 1);
    log_want_rx(l, g, 0);
    log_want(l, g->q[0].used_gpa, 1);
    g_assert_false(l->want[(g->q[0].bufs_gpa / PAGE + 1) / 8] &
                   (1u << ((g->q[0].bufs_gpa / PAGE + 1) % 8)));
    rx_take(r, 4000);
    log_check(l, "rx 4000");

    /* the next buffer (id 2, bytes [6000, 6112)): the second page */
    rx_one(r, 100, 2);
    log_want_rx(l, g, 0);
    log_want(l, g->q[0].used_gpa, 1);
    rx_take(r, 100);
    log_check(l, "rx 100");

    /* TX: the device reads the buffers and writes only its used ring */
    g_assert_true(
        vg_send(g, 0, NULL, frame, vg_make_frame(frame, peer_mac, g->mac, 0x88b5, 5000, 3)));
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, 12 + 5014);
    wait_used(g, vg_txq(g, 0));
    vg_tx_reclaim(g, 0);
    vg_pump(g);
    log_want(l, txq->used_gpa + 2, 2);                 /* idx */
    log_want(l, txq->used_gpa + 4 + 8 * 520, 8);       /* entry 520 */
    log_want(l, txq->used_gpa + 4 + 8 * txq->size, 2); /* avail_event */
    log_check(l, "tx");

    /* control queue: the one-byte answer (bump-allocated last, on a page of its own) and
     * the used ring */
    vg_alloc(g, PAGE, PAGE, NULL);
    g_assert_cmpint(vg_ctrl(g, 0, 0, &on, 1), ==, 0);
    vg_pump(g);
    log_want(l, VG_GPA_BASE + g->brk - 1, 1);
    log_want(l, g->q[vg_ctrlq(g)].used_gpa, 1);
    log_check(l, "ctrl");

    /* NULL: nothing is logged any more */
    netbe_vnet_set_dirty_log(g->dev, NULL, 0);
    rx_one(r, 9000, 4);
    rx_take(r, 9000);
    g_assert_true(vg_send(g, 0, NULL, frame, 100));
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, 112);
    log_check(l, "after NULL");
    vt_rig_free(r);
    log_free(l);
}

/* Fails if a log too small for the guest's memory is written past its size, or a write
 * beyond it is not reported, or reported more than once. */
static void test_dirty_log_smaller_than_memory_warns_once(void)
{
    VtRig *r = vt_rig_new(1, NETDEV_GSO, NULL, NULL);
    size_t size = VG_GPA_BASE / PAGE / 8; /* pages below the guest's memory only */
    uint8_t *bits = g_malloc0(size + 4096);
    uint8_t zero[4096] = {0};

    netbe_vnet_set_dirty_log(r->g->dev, bits, size);
    g_test_expect_message("netbe", G_LOG_LEVEL_WARNING, "*dirty log of * bytes does not cover*");
    for (unsigned i = 0; i < 3; i++) {
        rx_one(r, 1000, i);
        rx_take(r, 1000);
    }
    g_test_assert_expected_messages();
    g_assert_cmpmem(bits + size, 4096, zero, 4096);
    netbe_vnet_set_dirty_log(r->g->dev, NULL, 0);
    vt_rig_free(r);
    g_free(bits);
}

/* ---- ring bases ---- */

/* Send @n TX frames (seeds from @seed), optionally without kicking. */
static void tx_frames(VgGuest *g, unsigned n, uint8_t seed, bool kick)
{
    for (unsigned i = 0; i < n; i++) {
        size_t len = vg_make_frame(frame, peer_mac, g->mac, 0x88b5, 200, seed + i);

        g_assert_true(vg_send_nokick(g, 0, NULL, frame, len));
    }
    if (kick) {
        vg_tx_kick(g, 0);
    }
}

/* The peer gets exactly the TX frames with seeds [seed, seed+n), in order, then none. */
static void peer_expect(VtRig *r, unsigned n, uint8_t seed)
{
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, 12 + 214);
        g_assert_cmpuint(got[12 + 14], ==, (uint8_t)(seed + i));
    }
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 50), ==, -1);
}

/* The peer sends @n frames (seeds from @seed); the guest receives them in order, and each
 * used entry names the buffer the driver made available at the same ring position (the
 * device neither skips nor repeats a chain). */
static void rx_expect(VtRig *r, unsigned n, uint8_t seed)
{
    VgQueue *q = &r->g->q[0];

    for (unsigned i = 0; i < n; i++) {
        size_t len = vg_make_frame(frame + 12, r->g->mac, peer_mac, 0x88b5, 300, seed + i);

        memset(frame, 0, 12);
        vt_peer_write(r, 0, frame, 12 + len);
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t id;

        wait_used(r->g, 0);
        memcpy(&id, q->used + 4 + 8 * (size_t)(q->last_used % q->size), 4);
        g_assert_cmpuint(le32toh(id), ==, le16toh(q->avail[2 + q->last_used % q->size]));
        g_assert_cmpint(vg_recv(r->g, 0, got, sizeof(got), NULL, NULL, 2000), ==, 314);
        g_assert_cmpuint(got[14], ==, (uint8_t)(seed + i));
    }
}

static uint16_t base_of(VgGuest *g, unsigned vq)
{
    uint16_t base = 0xdead;

    g_assert_true(netbe_vnet_queue_get_base(g->dev, vq, &base));
    return base;
}

/*
 * Fails if after a disable the base of a queue is not the number of chains the device
 * completed (RX chains popped for a frame that did not come counted, used entries not
 * published), if a disabled queue still moves frames, if the bases are settable on an
 * enabled queue or exist for a queue that does not, or if re-enabling the same rings
 * does not resume in order without loss.
 */
static void test_disable_gives_back_base_of_completed_chains(void)
{
    VtRig *r = vt_rig_new(1, NETDEV_GSO, NULL, NULL);
    VgGuest *g = r->g;
    NetbeVnetQueueStats st;
    GError *err = NULL;
    uint16_t base;

    rx_expect(r, 10, 0);
    tx_frames(g, 7, 0, true);
    peer_expect(r, 7, 0);
    g_assert_false(netbe_vnet_queue_set_base(g->dev, 0, 0, &err));
    g_assert_error(err, g_quark_from_static_string("netbe-virtio-net-error"), EBUSY);
    g_clear_error(&err);
    netbe_vnet_queue_enable(g->dev, 0, false);
    netbe_vnet_queue_enable(g->dev, 1, false);
    g_assert_cmpuint(base_of(g, 0), ==, 10);
    g_assert_cmpuint(base_of(g, 1), ==, 7);
    g_assert_cmpuint(used_idx(&g->q[0]), ==, 10);
    g_assert_cmpuint(used_idx(&g->q[1]), ==, 7);
    g_assert_true(netbe_vnet_get_queue_stats(g->dev, 0, &st));
    g_assert_cmpuint(st.chains, ==, 10);
    g_assert_false(netbe_vnet_queue_get_base(g->dev, 99, &base));
    g_assert_false(netbe_vnet_queue_set_base(g->dev, 99, 0, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);

    /* disabled: frames wait in the backend, the guest's TX chains wait in its ring */
    for (unsigned i = 0; i < 3; i++) {
        size_t len = vg_make_frame(frame + 12, g->mac, peer_mac, 0x88b5, 300, 10 + i);

        memset(frame, 0, 12);
        vt_peer_write(r, 0, frame, 12 + len);
    }
    tx_frames(g, 2, 7, true);
    vg_kick(g, 0);
    vg_kick(g, 1);
    vg_pump_for(g, 50);
    g_assert_cmpuint(used_idx(&g->q[0]), ==, 10);
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 0), ==, -1);
    g_assert_cmpuint(base_of(g, 0), ==, 10);
    g_assert_cmpuint(base_of(g, 1), ==, 7);

    /* the same rings again: everything that waited moves, once */
    netbe_vnet_queue_enable(g->dev, 0, true);
    netbe_vnet_queue_enable(g->dev, 1, true);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_cmpint(vg_recv(g, 0, got, sizeof(got), NULL, NULL, 2000), ==, 314);
        g_assert_cmpuint(got[14], ==, 10 + i);
    }
    peer_expect(r, 2, 7);
    rx_expect(r, 4, 13);
    g_assert_cmpuint(base_of(g, 0), ==, 17);
    g_assert_cmpuint(base_of(g, 1), ==, 9);
    vt_rig_free(r);
}

/* As a VMM (or vhost-user frontend) restarts a device whose guest kept running elsewhere:
 * negotiate, set up the same rings, set each base, enable TX and control before DRIVER_OK
 * and RX after it. */
static void restart_from_bases(VgGuest *g, const uint16_t *bases)
{
    uint8_t status = NETBE_VIRTIO_STATUS_ACKNOWLEDGE | NETBE_VIRTIO_STATUS_DRIVER;
    GError *err = NULL;

    netbe_vnet_set_status(g->dev, status, NULL);
    netbe_vnet_set_driver_features(g->dev, g->features);
    status |= NETBE_VIRTIO_STATUS_FEATURES_OK;
    netbe_vnet_set_status(g->dev, status, NULL);
    g_assert_cmpuint(netbe_vnet_get_status(g->dev), ==, status);
    for (unsigned vq = 0; vq < g->nqueues; vq++) {
        VgQueue *q = &g->q[vq];

        g_assert_true(netbe_vnet_queue_setup(g->dev, vq, q->size, q->desc_gpa, q->avail_gpa,
                                             q->used_gpa, &err));
        g_assert_true(netbe_vnet_queue_set_base(g->dev, vq, bases[vq], &err));
        g_assert_no_error(err);
        if (vq % 2 || vq == vg_ctrlq(g)) {
            netbe_vnet_queue_enable(g->dev, vq, true);
        }
    }
    g_assert_true(netbe_vnet_set_status(g->dev, status | NETBE_VIRTIO_STATUS_DRIVER_OK, &err));
    g_assert_no_error(err);
    for (unsigned vq = 0; vq < g->nqueues; vq += 2) {
        if (vq != vg_ctrlq(g)) {
            netbe_vnet_queue_enable(g->dev, vq, true);
        }
    }
}

/*
 * Fails if a reset device, given the bases read after a disable, does not resume exactly
 * where the old one stopped: TX chains the guest queued meanwhile are sent once, completed
 * ones are not sent again, RX fills the buffers in ring order from the base, and the used
 * index continues from the one in guest memory (the guest would read garbage entries if it
 * restarted at 0).
 */
static void test_reset_device_resumes_from_set_base(void)
{
    VtRig *r = vt_rig_new(1, NETDEV_GSO, NULL, NULL);
    VgGuest *g = r->g;
    uint16_t bases[VG_MAX_QUEUES];

    g_assert_true(g->features & (1ull << NETBE_VIRTIO_F_RING_EVENT_IDX));
    rx_expect(r, 5, 0);
    tx_frames(g, 4, 0, true);
    peer_expect(r, 4, 0);
    g_assert_cmpint(vg_ctrl(g, 0, 0, (const uint8_t[]){1}, 1), ==, 0);
    for (unsigned vq = 0; vq < g->nqueues; vq++) {
        netbe_vnet_queue_enable(g->dev, vq, false);
        bases[vq] = base_of(g, vq);
    }
    g_assert_cmpuint(bases[0], ==, 5);
    g_assert_cmpuint(bases[1], ==, 4);
    g_assert_cmpuint(bases[vg_ctrlq(g)], ==, 1);

    netbe_vnet_reset(g->dev); /* the device forgets its indices */
    tx_frames(g, 3, 4, true); /* the guest goes on meanwhile */
    restart_from_bases(g, bases);
    peer_expect(r, 3, 4);
    rx_expect(r, 6, 5);
    g_assert_cmpuint(used_idx(&g->q[0]), ==, 11);
    tx_frames(g, 2, 7, true);
    peer_expect(r, 2, 7);
    g_assert_cmpint(vg_ctrl(g, 0, 0, (const uint8_t[]){1}, 1), ==, 0);
    g_assert_cmpuint(base_of(g, 1), ==, 9);
    vt_rig_free(r);
}

/* Fails if a base that leaves more chains in flight than the ring holds (the used index
 * in guest memory does not belong to it) is accepted instead of breaking the queue. */
static void test_set_base_inconsistent_with_used_ring_breaks_queue(void)
{
    VtRig *r = vt_rig_new(1, NETDEV_GSO, NULL, NULL);
    VgGuest *g = r->g;
    NetbeVnetQueueStats st;

    netbe_vnet_queue_enable(g->dev, 1, false);
    g_assert_cmpuint(used_idx(&g->q[1]), ==, 0);
    g_assert_true(netbe_vnet_queue_set_base(g->dev, 1, g->q[1].size + 1, NULL));
    g_test_expect_message("netbe", G_LOG_LEVEL_WARNING, "*available index * and used index 0*");
    netbe_vnet_queue_enable(g->dev, 1, true);
    g_test_assert_expected_messages();
    g_assert_true(netbe_vnet_get_queue_stats(g->dev, 1, &st));
    g_assert_true(st.broken);
    g_assert_cmpuint(netbe_vnet_get_status(g->dev) & NETBE_VIRTIO_STATUS_NEEDS_RESET, !=, 0);
    vt_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnet-rings/dirty_log_marks_exactly_the_pages_written",
                    test_dirty_log_marks_exactly_the_pages_written);
    g_test_add_func("/vnet-rings/dirty_log_smaller_than_memory_warns_once",
                    test_dirty_log_smaller_than_memory_warns_once);
    g_test_add_func("/vnet-rings/disable_gives_back_base_of_completed_chains",
                    test_disable_gives_back_base_of_completed_chains);
    g_test_add_func("/vnet-rings/reset_device_resumes_from_set_base",
                    test_reset_device_resumes_from_set_base);
    g_test_add_func("/vnet-rings/set_base_inconsistent_with_used_ring_breaks_queue",
                    test_set_base_inconsistent_with_used_ring_breaks_queue);
    return g_test_run();
}
