// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vnet-malformed.c - an untrusted guest's malformed rings: one test per case. Each
 * must leave the process alive, set DEVICE_NEEDS_RESET, raise one config interrupt, stop
 * the queue, log once, pass nothing to the backend and touch nothing outside guest
 * memory (the harness puts guard pages around it). */
#include <endian.h>
#include <string.h>
#include <sys/socket.h>
#include "vt-rig.h"

#define F(bit) (1ull << (bit))

/* A rig on a vtest backend; the warning naming @reason is expected exactly once. */
static VtRig *rig(const VgOptions *opt, const char *reason)
{
    VtRig *r = vt_rig_new(1, NULL, NULL, opt);
    g_autofree char *pattern = g_strdup_printf("*device 'd0': virtqueue*%s*", reason);

    g_test_expect_message("netbe", G_LOG_LEVEL_WARNING, pattern);
    return r;
}

/* The queue @vq broke: status, config interrupt, stats, the log, and no frame left. */
static void assert_broken(VtRig *r, unsigned vq)
{
    NetbeVnetQueueStats qs;
    uint8_t buf[256];

    vg_pump_for(r->g, 20);
    g_assert_cmpuint(netbe_vnet_get_status(r->g->dev) & NETBE_VIRTIO_STATUS_NEEDS_RESET, !=, 0);
    g_assert_cmpuint(r->g->config_irqs, ==, 1);
    g_assert_true(netbe_vnet_get_queue_stats(r->g->dev, vq, &qs));
    g_assert_true(qs.broken);
    g_assert_cmpuint(qs.chains, ==, 0);
    g_test_assert_expected_messages();
    g_assert_cmpint(vt_peer_read(r, 0, buf, sizeof(buf), 20), ==, -1);
}

/* Post head 0 on the TX queue after @fill wrote its descriptors; kick regardless. */
static void post_tx(VtRig *r, uint16_t head)
{
    unsigned vq = vg_txq(r->g, 0);

    vg_post(r->g, vq, head);
    vg_kick(r->g, vq);
}

static uint64_t buf_gpa(VtRig *r)
{
    return r->g->q[vg_txq(r->g, 0)].bufs_gpa;
}

static uint8_t *tx_desc(VtRig *r)
{
    return r->g->q[vg_txq(r->g, 0)].desc;
}

/* Fails if a chain that loops (0 -> 1 -> 0) is followed forever or accepted. */
static void test_chain_loop(void)
{
    VtRig *r = rig(NULL, "loops or is longer");

    vg_set_desc(tx_desc(r), 0, buf_gpa(r), 12, VG_DESC_F_NEXT, 1);
    vg_set_desc(tx_desc(r), 1, buf_gpa(r) + 12, 60, VG_DESC_F_NEXT, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a chain longer than the queue (an indirect table of size + 1) is accepted. */
static void test_chain_longer_than_queue(void)
{
    VtRig *r = rig(NULL, "longer than the queue");
    unsigned n = r->g->q[vg_txq(r->g, 0)].size + 1;
    uint64_t table_gpa;
    uint8_t *table = vg_alloc(r->g, 16 * n, 16, &table_gpa);

    for (unsigned i = 0; i < n; i++) {
        vg_set_desc(table, i, buf_gpa(r), 12, i + 1 < n ? VG_DESC_F_NEXT : 0, i + 1);
    }
    vg_set_desc(tx_desc(r), 0, table_gpa, 16 * n, VG_DESC_F_INDIRECT, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a head index beyond the queue is used to index the descriptor table. */
static void test_head_out_of_range(void)
{
    VtRig *r = rig(NULL, "chain head");

    post_tx(r, r->g->q[vg_txq(r->g, 0)].size + 5);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a next index beyond the table is followed. */
static void test_next_out_of_range(void)
{
    VtRig *r = rig(NULL, "next index");

    vg_set_desc(tx_desc(r), 0, buf_gpa(r), 12, VG_DESC_F_NEXT, 0xffff);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a buffer below guest memory is read (it would hit the guard page). */
static void test_buffer_outside_memory(void)
{
    VtRig *r = rig(NULL, "outside guest memory");

    vg_set_desc(tx_desc(r), 0, VG_GPA_BASE - 4096, 100, 0, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a buffer that starts inside memory and runs past its end is read. */
static void test_buffer_crosses_end_of_memory(void)
{
    VtRig *r = rig(NULL, "outside guest memory");

    vg_set_desc(tx_desc(r), 0, VG_GPA_BASE + r->g->mem_size - 10, 100, 0, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if address + length wrapping around 2^64 passes the bounds check. */
static void test_address_length_overflow(void)
{
    VtRig *r = rig(NULL, "outside guest memory");

    vg_set_desc(tx_desc(r), 0, UINT64_MAX - 15, 0x1000, 0, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if an indirect table inside an indirect table is followed. */
static void test_nested_indirect(void)
{
    VtRig *r = rig(NULL, "indirect table inside an indirect table");
    uint64_t t1_gpa, t2_gpa;
    uint8_t *t1 = vg_alloc(r->g, 16, 16, &t1_gpa), *t2 = vg_alloc(r->g, 16, 16, &t2_gpa);

    vg_set_desc(t2, 0, buf_gpa(r), 100, 0, 0);
    vg_set_desc(t1, 0, t2_gpa, 16, VG_DESC_F_INDIRECT, 0);
    vg_set_desc(tx_desc(r), 0, t1_gpa, 16, VG_DESC_F_INDIRECT, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a descriptor that is both indirect and chained is accepted. */
static void test_indirect_with_next(void)
{
    VtRig *r = rig(NULL, "both indirect and chained");
    uint64_t t_gpa;
    uint8_t *t = vg_alloc(r->g, 16, 16, &t_gpa);

    vg_set_desc(t, 0, buf_gpa(r), 100, 0, 0);
    vg_set_desc(tx_desc(r), 0, t_gpa, 16, VG_DESC_F_INDIRECT | VG_DESC_F_NEXT, 1);
    vg_set_desc(tx_desc(r), 1, buf_gpa(r), 100, 0, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if an indirect descriptor is honoured without INDIRECT_DESC negotiated. */
static void test_indirect_not_negotiated(void)
{
    VgOptions opt = {.features_clear = F(NETBE_VIRTIO_F_RING_INDIRECT_DESC)};
    VtRig *r = rig(&opt, "without VIRTIO_F_RING_INDIRECT_DESC");
    uint64_t t_gpa;
    uint8_t *t = vg_alloc(r->g, 16, 16, &t_gpa);

    vg_set_desc(t, 0, buf_gpa(r), 100, 0, 0);
    vg_set_desc(tx_desc(r), 0, t_gpa, 16, VG_DESC_F_INDIRECT, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if an indirect table whose length is not a multiple of 16 is walked. */
static void test_indirect_table_bad_length(void)
{
    VtRig *r = rig(NULL, "multiple of 16");
    uint64_t t_gpa;
    uint8_t *t = vg_alloc(r->g, 32, 16, &t_gpa);

    vg_set_desc(t, 0, buf_gpa(r), 100, 0, 0);
    vg_set_desc(tx_desc(r), 0, t_gpa, 24, VG_DESC_F_INDIRECT, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a device-writable buffer in a TX chain is accepted. */
static void test_writable_buffer_on_tx(void)
{
    VtRig *r = rig(NULL, "device-writable buffer");

    vg_set_desc(tx_desc(r), 0, buf_gpa(r), 12, VG_DESC_F_NEXT, 1);
    vg_set_desc(tx_desc(r), 1, buf_gpa(r) + 12, 60, VG_DESC_F_WRITE, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if the device writes a frame into a device-readable RX buffer. */
static void test_readable_buffer_on_rx(void)
{
    VgOptions opt = {.no_start = true};
    VtRig *r = rig(&opt, "device-readable buffer");
    VgQueue *q = &r->g->q[vg_rxq(r->g, 0)];
    uint8_t frame[100] = {0};

    for (unsigned i = 0; i < q->size; i++) {
        vg_set_desc(q->desc, i, q->bufs_gpa + i * q->buf_size, q->buf_size, 0, 0);
    }
    g_assert_true(vg_start(r->g, NULL));
    memcpy(frame, r->g->mac, 6);
    vt_peer_write(r, 0, frame, sizeof(frame));
    assert_broken(r, vg_rxq(r->g, 0));
    /* the frame was not consumed into guest memory */
    g_assert_cmpuint(q->bufs[14], ==, 0);
    vt_rig_free(r);
}

/* Fails if an RX buffer smaller than the 12-byte header is written to. */
static void test_rx_buffer_smaller_than_header(void)
{
    VgOptions opt = {.no_start = true};
    VtRig *r = rig(&opt, "shorter than the 12-byte header");
    VgQueue *q = &r->g->q[vg_rxq(r->g, 0)];
    uint8_t frame[100] = {0};

    vg_set_desc(q->desc, 0, q->bufs_gpa, 4, VG_DESC_F_WRITE, 0);
    g_assert_true(vg_start(r->g, NULL));
    memcpy(frame, r->g->mac, 6);
    vt_peer_write(r, 0, frame, sizeof(frame));
    assert_broken(r, vg_rxq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a TX chain shorter than the virtio-net header is sent. */
static void test_tx_chain_shorter_than_header(void)
{
    VtRig *r = rig(NULL, "shorter than the 12-byte header");

    vg_set_desc(tx_desc(r), 0, buf_gpa(r), 8, 0, 0);
    post_tx(r, 0);
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if the driver's index running more than a queue ahead is believed. */
static void test_avail_index_jump(void)
{
    VtRig *r = rig(NULL, "entries ahead");
    VgQueue *q = &r->g->q[vg_txq(r->g, 0)];

    q->avail[1] = htole16(q->avail_idx + q->size + 1);
    vg_kick(r->g, vg_txq(r->g, 0));
    assert_broken(r, vg_txq(r->g, 0));
    vt_rig_free(r);
}

/* Fails if a queue whose rings lie outside guest memory is enabled. */
static void test_ring_outside_memory(void)
{
    VtRig *r = rig(NULL, "ring at 0x1000 is outside");
    unsigned vq = vg_txq(r->g, 0);
    VgQueue *q = &r->g->q[vq];

    netbe_vnet_queue_enable(r->g->dev, vq, false);
    g_assert_true(
        netbe_vnet_queue_setup(r->g->dev, vq, q->size, 0x1000, q->avail_gpa, q->used_gpa, NULL));
    netbe_vnet_queue_enable(r->g->dev, vq, true);
    assert_broken(r, vq);
    vt_rig_free(r);
}

/* Fails if a control request without a writable status byte is answered. */
static void test_ctrl_request_without_ack(void)
{
    VtRig *r = rig(NULL, "need 2 and 1");
    unsigned vq = vg_ctrlq(r->g);
    uint64_t req_gpa;
    uint8_t *req = vg_alloc(r->g, 3, 1, &req_gpa);

    req[0] = 0; /* RX class, PROMISC */
    req[1] = 0;
    req[2] = 1;
    vg_set_desc(r->g->q[vq].desc, 0, req_gpa, 3, 0, 0);
    vg_post(r->g, vq, 0);
    vg_kick(r->g, vq);
    assert_broken(r, vq);
    vt_rig_free(r);
}

/* Fails if a second broken queue logs again or raises a second config interrupt, or if
 * the device does not work again after reset and re-initialisation. */
static void test_logs_once_and_reset_recovers(void)
{
    VtRig *r = rig(NULL, "chain head");
    uint8_t frame[80] = {0}, got[200];

    post_tx(r, r->g->q[vg_txq(r->g, 0)].size + 1);
    assert_broken(r, vg_txq(r->g, 0));
    /* a second queue breaks: no new warning (it would abort the test), no new interrupt */
    r->g->q[vg_ctrlq(r->g)].avail[1] = htole16(0x8000);
    vg_kick(r->g, vg_ctrlq(r->g));
    vg_pump_for(r->g, 20);
    g_assert_cmpuint(r->g->config_irqs, ==, 1);
    vg_free(r->g);
    r->g = vg_new(r->rt, "d0", NULL);
    g_assert_cmpuint(netbe_vnet_get_status(r->g->dev) & NETBE_VIRTIO_STATUS_NEEDS_RESET, ==, 0);
    memcpy(frame, r->g->mac, 6);
    g_assert_true(vg_send(r->g, 0, NULL, frame, sizeof(frame)));
    g_assert_cmpint(vt_peer_read(r, 0, got, sizeof(got), 2000), ==, sizeof(frame));
    vt_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnet-malformed/chain_loop", test_chain_loop);
    g_test_add_func("/vnet-malformed/chain_longer_than_queue", test_chain_longer_than_queue);
    g_test_add_func("/vnet-malformed/head_out_of_range", test_head_out_of_range);
    g_test_add_func("/vnet-malformed/next_out_of_range", test_next_out_of_range);
    g_test_add_func("/vnet-malformed/buffer_outside_memory", test_buffer_outside_memory);
    g_test_add_func("/vnet-malformed/buffer_crosses_end_of_memory",
                    test_buffer_crosses_end_of_memory);
    g_test_add_func("/vnet-malformed/address_length_overflow", test_address_length_overflow);
    g_test_add_func("/vnet-malformed/nested_indirect", test_nested_indirect);
    g_test_add_func("/vnet-malformed/indirect_with_next", test_indirect_with_next);
    g_test_add_func("/vnet-malformed/indirect_not_negotiated", test_indirect_not_negotiated);
    g_test_add_func("/vnet-malformed/indirect_table_bad_length", test_indirect_table_bad_length);
    g_test_add_func("/vnet-malformed/writable_buffer_on_tx", test_writable_buffer_on_tx);
    g_test_add_func("/vnet-malformed/readable_buffer_on_rx", test_readable_buffer_on_rx);
    g_test_add_func("/vnet-malformed/rx_buffer_smaller_than_header",
                    test_rx_buffer_smaller_than_header);
    g_test_add_func("/vnet-malformed/tx_chain_shorter_than_header",
                    test_tx_chain_shorter_than_header);
    g_test_add_func("/vnet-malformed/avail_index_jump", test_avail_index_jump);
    g_test_add_func("/vnet-malformed/ring_outside_memory", test_ring_outside_memory);
    g_test_add_func("/vnet-malformed/ctrl_request_without_ack", test_ctrl_request_without_ack);
    g_test_add_func("/vnet-malformed/logs_once_and_reset_recovers",
                    test_logs_once_and_reset_recovers);
    return g_test_run();
}
