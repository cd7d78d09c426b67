// SPDX-License-Identifier: GPL-2.0-or-later
/* harness.c - a guest virtio-net driver for tests: negotiates, lays out split rings in a
 * memory region, posts RX buffers, sends TX chains, answers ARP and ICMP echo. */
#include <arpa/inet.h>
#include <endian.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "harness.h"

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
#define F(bit) (1ull << (bit))

/* ---- memory ---- */

void *vg_alloc(VgGuest *g, size_t size, size_t align, uint64_t *gpa)
{
    size_t at = (g->brk + align - 1) & ~(align - 1);

    g_assert_cmpuint(at + size, <=, g->mem_size);
    g->brk = at + size;
    if (gpa) {
        *gpa = VG_GPA_BASE + at;
    }
    return g->mem + at;
}

uint64_t vg_gpa(VgGuest *g, const void *p)
{
    return VG_GPA_BASE + (uint64_t)((const uint8_t *)p - g->mem);
}

/* ---- queues ---- */

unsigned vg_rxq(VgGuest *g, unsigned pair)
{
    (void)g;
    return 2 * pair;
}

unsigned vg_txq(VgGuest *g, unsigned pair)
{
    (void)g;
    return 2 * pair + 1;
}

unsigned vg_ctrlq(VgGuest *g)
{
    return g->features & F(NETBE_VIRTIO_NET_F_MQ) ? 2 * g->max_pairs : 2;
}

void vg_set_desc(uint8_t *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    uint8_t *d = table + 16 * i;
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t f = htole16(flags), n = htole16(next);

    memcpy(d, &a, 8);
    memcpy(d + 8, &l, 4);
    memcpy(d + 12, &f, 2);
    memcpy(d + 14, &n, 2);
}

static uint16_t used_idx(VgQueue *q)
{
    return le16toh(__atomic_load_n((uint16_t *)(q->used + 2), __ATOMIC_ACQUIRE));
}

static void used_elem(VgQueue *q, uint16_t i, uint32_t *id, uint32_t *len)
{
    uint8_t *e = q->used + 4 + 8 * (size_t)(i % q->size);

    memcpy(id, e, 4);
    memcpy(len, e + 4, 4);
    *id = le32toh(*id);
    *len = le32toh(*len);
}

/* Tell the device which used index we want an interrupt for (event idx). */
static void want_used(VgGuest *g, VgQueue *q)
{
    if (g->features & F(NETBE_VIRTIO_F_RING_EVENT_IDX)) {
        q->avail[2 + q->size] = htole16(q->last_used);
    }
}

void vg_kick(VgGuest *g, unsigned vq)
{
    netbe_vnet_queue_kick(g->dev, vq);
}

/* Publish avail idx; kick when the device asked for it (event idx or NO_NOTIFY). */
static void publish(VgGuest *g, unsigned vq, bool kick)
{
    VgQueue *q = &g->q[vq];
    uint16_t old = q->kicked_idx, now = q->avail_idx;
    bool need;

    __atomic_store_n(&q->avail[1], htole16(now), __ATOMIC_RELEASE);
    if (!kick) {
        return;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (g->features & F(NETBE_VIRTIO_F_RING_EVENT_IDX)) {
        uint16_t event = le16toh(*(uint16_t *)(q->used + 4 + 8 * (size_t)q->size));

        need = (uint16_t)(now - event - 1) < (uint16_t)(now - old);
    } else {
        need = !(le16toh(*(uint16_t *)q->used) & 1);
    }
    q->kicked_idx = now;
    if (need) {
        vg_kick(g, vq);
    }
}

void vg_publish(VgGuest *g, unsigned vq)
{
    publish(g, vq, true);
}

void vg_post(VgGuest *g, unsigned vq, uint16_t head)
{
    VgQueue *q = &g->q[vq];

    q->avail[2 + q->avail_idx % q->size] = htole16(head);
    q->avail_idx++;
    publish(g, vq, true);
}

static void queue_layout(VgGuest *g, unsigned vq, unsigned size)
{
    VgQueue *q = &g->q[vq];
    GError *err = NULL;

    q->size = size;
    q->desc = vg_alloc(g, 16 * size, 4096, &q->desc_gpa);
    q->avail = vg_alloc(g, 6 + 2 * size, 4096, &q->avail_gpa);
    q->used = vg_alloc(g, 6 + 8 * size, 4096, &q->used_gpa);
    g_assert_true(
        netbe_vnet_queue_setup(g->dev, vq, size, q->desc_gpa, q->avail_gpa, q->used_gpa, &err));
    g_assert_no_error(err);
}

static void rx_layout(VgGuest *g, unsigned vq)
{
    VgQueue *q = &g->q[vq];

    q->buf_size = g->opt.rx_buf_size                              ? g->opt.rx_buf_size
                  : g->features & F(NETBE_VIRTIO_NET_F_MRG_RXBUF) ? 2048
                                                                  : 65562;
    q->bufs = vg_alloc(g, q->buf_size * q->size, 4096, &q->bufs_gpa);
    for (unsigned i = 0; i < q->size; i++) {
        vg_set_desc(q->desc, i, q->bufs_gpa + i * q->buf_size, q->buf_size, DESC_F_WRITE, 0);
    }
}

static void tx_layout(VgGuest *g, unsigned vq)
{
    VgQueue *q = &g->q[vq];
    unsigned slots = q->size / 2;

    q->buf_size = VG_TX_BUF;
    q->bufs = vg_alloc(g, (VG_TX_BUF + VG_HDR_LEN) * (size_t)slots, 4096, &q->bufs_gpa);
    q->indirect = vg_alloc(g, 32 * (size_t)slots, 16, &q->indirect_gpa);
    q->free_slots = g_new(uint16_t, slots);
    for (unsigned s = 0; s < slots; s++) {
        q->free_slots[s] = slots - 1 - s;
    }
    q->nfree = slots;
}

static void vg_hook_queue(void *opaque, unsigned vq)
{
    VgGuest *g = opaque;

    if (vq < VG_MAX_QUEUES) {
        g->irqs[vq]++;
    }
}

static void vg_hook_config(void *opaque)
{
    ((VgGuest *)opaque)->config_irqs++;
}

VgGuest *vg_new(NetbeRuntime *rt, const char *id, const VgOptions *opt)
{
    VgGuest *g = g_new0(VgGuest, 1);
    uint64_t offered;
    uint8_t status;
    NetbeVnetHooks hooks;
    NetbeGuestRegion region;
    GError *err = NULL;

    g->rt = rt;
    g->opt = opt ? *opt : (VgOptions){0};
    g->dev = netbe_runtime_find_device(rt, id);
    g_assert_nonnull(g->dev);
    g->mem_size = g->opt.mem_size ? g->opt.mem_size : 192u << 20;
    /* guard pages on both sides: a device access outside guest memory faults */
    g->mem = mmap(NULL, g->mem_size + 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
    g_assert_true(g->mem != MAP_FAILED);
    g->mem += 4096;
    g_assert_cmpint(mprotect(g->mem, g->mem_size, PROT_READ | PROT_WRITE), ==, 0);
    g->brk = 4096; /* keep guest address VG_GPA_BASE unused */
    region = (NetbeGuestRegion){VG_GPA_BASE, g->mem_size, g->mem};
    g_assert_true(netbe_vnet_set_memory(g->dev, &region, 1, &err));
    g_assert_no_error(err);

    hooks = (NetbeVnetHooks){NETBE_VNET_HOOKS_VERSION, g, vg_hook_queue, vg_hook_config};
    g_assert_true(netbe_vnet_set_hooks(g->dev, &hooks));

    /* negotiation, as virtio_dev_probe + virtnet_probe do */
    netbe_vnet_set_status(g->dev, 0, NULL);
    netbe_vnet_set_status(g->dev, NETBE_VIRTIO_STATUS_ACKNOWLEDGE | NETBE_VIRTIO_STATUS_DRIVER,
                          NULL);
    offered = netbe_vnet_get_device_features(g->dev);
    g->features = offered & ~g->opt.features_clear;
    netbe_vnet_set_driver_features(g->dev, g->features);
    status = NETBE_VIRTIO_STATUS_ACKNOWLEDGE | NETBE_VIRTIO_STATUS_DRIVER |
             NETBE_VIRTIO_STATUS_FEATURES_OK;
    netbe_vnet_set_status(g->dev, status, NULL);
    g_assert_cmpuint(netbe_vnet_get_status(g->dev) & NETBE_VIRTIO_STATUS_FEATURES_OK, !=, 0);
    netbe_vnet_config_read(g->dev, NETBE_VIRTIO_NET_CFG_MAC, g->mac, 6);
    {
        uint16_t pairs;

        netbe_vnet_config_read(g->dev, NETBE_VIRTIO_NET_CFG_MAX_PAIRS, &pairs, 2);
        g->max_pairs = g->features & F(NETBE_VIRTIO_NET_F_MQ) ? le16toh(pairs) : 1;
    }
    g_assert_cmpuint(2 * g->max_pairs + 1, <=, VG_MAX_QUEUES);
    g->pairs = 1;
    g->nqueues = 2 * g->max_pairs + (g->features & F(NETBE_VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
    for (unsigned vq = 0; vq < g->nqueues; vq++) {
        unsigned max = netbe_vnet_queue_max_size(g->dev, vq);
        unsigned size = g->opt.queue_size && g->opt.queue_size < max ? g->opt.queue_size : max;

        if (vq == vg_ctrlq(g) && g->nqueues % 2) {
            size = MIN(size, 64);
        }
        queue_layout(g, vq, size);
        if (vq == vg_ctrlq(g) && g->nqueues % 2) {
            /* descs 0,1: request and ack buffers, allocated per command */
        } else if (vq % 2 == 0) {
            rx_layout(g, vq);
        } else {
            tx_layout(g, vq);
        }
        want_used(g, &g->q[vq]);
        netbe_vnet_queue_enable(g->dev, vq, true);
    }
    if (!g->opt.no_start) {
        g_assert_true(vg_start(g, &err));
        g_assert_no_error(err);
    }
    return g;
}

void vg_attach(VgGuest *g, NetbeDevice *dev)
{
    NetbeGuestRegion region = {VG_GPA_BASE, g->mem_size, g->mem};
    NetbeVnetHooks hooks = {NETBE_VNET_HOOKS_VERSION, g, vg_hook_queue, vg_hook_config};
    GError *err = NULL;

    g_assert_true(netbe_vnet_set_memory(dev, &region, 1, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_vnet_set_hooks(dev, &hooks));
}

void vg_switch(VgGuest *g, NetbeRuntime *rt, NetbeDevice *dev)
{
    g->rt = rt;
    g->dev = dev;
}

uint16_t vg_config_status(VgGuest *g)
{
    uint16_t st;

    netbe_vnet_config_read(g->dev, NETBE_VIRTIO_NET_CFG_STATUS, &st, 2);
    return le16toh(st);
}

bool vg_start(VgGuest *g, GError **errp)
{
    if (!netbe_vnet_set_status(
            g->dev, netbe_vnet_get_status(g->dev) | NETBE_VIRTIO_STATUS_DRIVER_OK, errp)) {
        return false;
    }
    /* fill every RX queue, as virtnet_open does */
    for (unsigned p = 0; p < g->max_pairs; p++) {
        VgQueue *q = &g->q[vg_rxq(g, p)];

        for (unsigned i = 0; i < q->size; i++) {
            q->avail[2 + q->avail_idx % q->size] = htole16(i);
            q->avail_idx++;
        }
        publish(g, vg_rxq(g, p), true);
    }
    vg_pump(g);
    return true;
}

void vg_free(VgGuest *g)
{
    if (!g) {
        return;
    }
    netbe_vnet_reset(g->dev);
    for (unsigned vq = 0; vq < VG_MAX_QUEUES; vq++) {
        g_free(g->q[vq].free_slots);
    }
    netbe_vnet_set_memory(g->dev, NULL, 0, NULL);
    munmap(g->mem - 4096, g->mem_size + 8192);
    g_free(g);
}

/* ---- running ---- */

void vg_pump(VgGuest *g)
{
    for (int i = 0; i < 1000 && netbe_runtime_iterate(g->rt, false); i++) {
    }
}

void vg_pump_for(VgGuest *g, int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

    while (g_get_monotonic_time() < end) {
        vg_pump(g);
        g_usleep(200);
    }
}

/* ---- TX ---- */

unsigned vg_tx_reclaim(VgGuest *g, unsigned pair)
{
    VgQueue *q = &g->q[vg_txq(g, pair)];
    unsigned n = 0;

    while (q->last_used != used_idx(q)) {
        uint32_t id, len;

        used_elem(q, q->last_used, &id, &len);
        q->last_used++;
        g_assert_cmpuint(id, <, q->size);
        q->free_slots[q->nfree++] = id / 2;
        n++;
    }
    want_used(g, q);
    return n;
}

bool vg_send_nokick(VgGuest *g, unsigned pair, const void *hdr, const void *data, size_t len)
{
    unsigned vq = vg_txq(g, pair);
    VgQueue *q = &g->q[vq];
    uint8_t *buf;
    uint64_t gpa;
    uint16_t slot, head;

    g_assert_cmpuint(len, <=, VG_TX_BUF);
    if (q->nfree == 0 && vg_tx_reclaim(g, pair) == 0) {
        return false;
    }
    slot = q->free_slots[--q->nfree];
    buf = q->bufs + (size_t)slot * (VG_TX_BUF + VG_HDR_LEN);
    gpa = q->bufs_gpa + (size_t)slot * (VG_TX_BUF + VG_HDR_LEN);
    if (hdr) {
        memcpy(buf, hdr, VG_HDR_LEN);
    } else {
        memset(buf, 0, VG_HDR_LEN);
    }
    memcpy(buf + VG_HDR_LEN, data, len);
    head = 2 * slot;
    if (g->opt.tx_indirect) {
        uint8_t *table = q->indirect + 32 * (size_t)slot;

        vg_set_desc(table, 0, gpa, VG_HDR_LEN, DESC_F_NEXT, 1);
        vg_set_desc(table, 1, gpa + VG_HDR_LEN, len, 0, 0);
        vg_set_desc(q->desc, head, q->indirect_gpa + 32 * (size_t)slot, 32, DESC_F_INDIRECT, 0);
    } else {
        vg_set_desc(q->desc, head, gpa, VG_HDR_LEN, DESC_F_NEXT, head + 1);
        vg_set_desc(q->desc, head + 1, gpa + VG_HDR_LEN, len, 0, 0);
    }
    q->avail[2 + q->avail_idx % q->size] = htole16(head);
    q->avail_idx++;
    return true;
}

void vg_tx_kick(VgGuest *g, unsigned pair)
{
    publish(g, vg_txq(g, pair), true);
}

bool vg_send(VgGuest *g, unsigned pair, const void *hdr, const void *data, size_t len)
{
    if (!vg_send_nokick(g, pair, hdr, data, len)) {
        return false;
    }
    vg_tx_kick(g, pair);
    return true;
}

/* ---- RX ---- */

ssize_t vg_recv_ready(VgGuest *g, unsigned pair, uint8_t *buf, size_t max, uint8_t *hdr,
                      unsigned *num_buffers)
{
    unsigned vq = vg_rxq(g, pair);
    VgQueue *q = &g->q[vq];
    size_t got = 0;
    unsigned nb = 1;

    if (q->last_used == used_idx(q)) {
        return -1;
    }
    for (unsigned i = 0; i < nb; i++) {
        uint32_t id, len;
        uint8_t *b;
        size_t skip = 0;

        /* the device publishes a frame's entries together */
        g_assert_cmpuint(q->last_used, !=, used_idx(q));
        used_elem(q, q->last_used, &id, &len);
        q->last_used++;
        g_assert_cmpuint(id, <, q->size);
        g_assert_cmpuint(len, <=, q->buf_size);
        b = q->bufs + (size_t)id * q->buf_size;
        if (i == 0) {
            uint16_t n;

            g_assert_cmpuint(len, >=, VG_HDR_LEN);
            memcpy(&n, b + 10, 2);
            if (g->features & F(NETBE_VIRTIO_NET_F_MRG_RXBUF)) {
                nb = le16toh(n);
                g_assert_cmpuint(nb, >=, 1);
            }
            if (hdr) {
                memcpy(hdr, b, VG_HDR_LEN);
            }
            skip = VG_HDR_LEN;
        }
        if (got + (len - skip) <= max) {
            memcpy(buf + got, b + skip, len - skip);
        }
        got += len - skip;
        /* give the buffer back */
        q->avail[2 + q->avail_idx % q->size] = htole16(id);
        q->avail_idx++;
    }
    want_used(g, q);
    publish(g, vq, true);
    if (num_buffers) {
        *num_buffers = nb;
    }
    return got;
}

ssize_t vg_recv(VgGuest *g, unsigned pair, uint8_t *buf, size_t max, uint8_t *hdr,
                unsigned *num_buffers, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        ssize_t n;

        vg_pump(g);
        n = vg_recv_ready(g, pair, buf, max, hdr, num_buffers);
        if (n >= 0 || g_get_monotonic_time() > end) {
            return n;
        }
        g_usleep(100);
    }
}

/* ---- control queue ---- */

int vg_ctrl(VgGuest *g, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
    unsigned vq = vg_ctrlq(g);
    VgQueue *q = &g->q[vq];
    uint64_t req_gpa, ack_gpa;
    uint8_t *req = vg_alloc(g, 2 + len, 8, &req_gpa);
    uint8_t *ack = vg_alloc(g, 1, 1, &ack_gpa);
    gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    uint16_t head = (q->avail_idx * 2) % q->size;

    req[0] = cls;
    req[1] = cmd;
    if (len) {
        memcpy(req + 2, data, len);
    }
    *ack = 0xee;
    vg_set_desc(q->desc, head, req_gpa, 2 + len, DESC_F_NEXT, head + 1);
    vg_set_desc(q->desc, head + 1, ack_gpa, 1, DESC_F_WRITE, 0);
    vg_post(g, vq, head);
    while (q->last_used == used_idx(q)) {
        vg_pump(g);
        if (g_get_monotonic_time() > end) {
            return -1;
        }
        g_usleep(100);
    }
    q->last_used++;
    want_used(g, q);
    return *ack;
}

bool vg_set_pairs(VgGuest *g, unsigned pairs)
{
    uint16_t n = htole16(pairs);

    if (vg_ctrl(g, 4, 0, &n, 2) != 0) {
        return false;
    }
    g->pairs = pairs;
    return true;
}

/* ---- frames and the responder ---- */

size_t vg_make_frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type,
                     size_t payload_len, uint8_t seed)
{
    uint16_t t = htons(type);

    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    memcpy(buf + 12, &t, 2);
    for (size_t i = 0; i < payload_len; i++) {
        buf[14 + i] = (uint8_t)(seed + i * 7);
    }
    return 14 + payload_len;
}

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (p[i] << 8) | p[i + 1];
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return htons(~sum & 0xffff);
}

bool vg_answer(VgGuest *g, unsigned pair, const uint8_t *f, size_t len)
{
    uint8_t out[2048];

    if (len < 14 || len > sizeof(out)) {
        return false;
    }
    if (f[12] == 0x08 && f[13] == 0x06 && len >= 42 && f[20] == 0 && f[21] == 1 &&
        memcmp(f + 38, g->ip, 4) == 0) {
        /* ARP request for our address: reply with our MAC */
        memcpy(out, f + 6, 6);
        memcpy(out + 6, g->mac, 6);
        memcpy(out + 12, f + 12, 8);
        out[20] = 0;
        out[21] = 2; /* reply */
        memcpy(out + 22, g->mac, 6);
        memcpy(out + 28, g->ip, 4);
        memcpy(out + 32, f + 22, 10);
        return vg_send(g, pair, NULL, out, 42);
    }
    if (f[12] == 0x08 && f[13] == 0x00 && len >= 34 && f[23] == 1 &&
        memcmp(f + 30, g->ip, 4) == 0) {
        size_t ihl = (f[14] & 0xf) * 4;
        size_t ip_len = ntohs(*(const uint16_t *)(f + 16));

        if (ihl < 20 || 14 + ip_len > len || ip_len < ihl + 8 || f[14 + ihl] != 8) {
            return false;
        }
        memcpy(out, f, 14 + ip_len);
        memcpy(out, f + 6, 6);
        memcpy(out + 6, g->mac, 6);
        memcpy(out + 26, f + 30, 4); /* swap addresses */
        memcpy(out + 30, f + 26, 4);
        out[22] = 64;
        out[24] = out[25] = 0;
        memcpy(out + 24, &(uint16_t){ip_csum(out + 14, ihl)}, 2);
        out[14 + ihl] = 0; /* echo reply */
        out[14 + ihl + 2] = out[14 + ihl + 3] = 0;
        memcpy(out + 14 + ihl + 2, &(uint16_t){ip_csum(out + 14 + ihl, ip_len - ihl)}, 2);
        return vg_send(g, pair, NULL, out, 14 + ip_len);
    }
    return false;
}

unsigned vg_serve(VgGuest *g, int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    static uint8_t buf[70000];
    unsigned answered = 0;

    while (g_get_monotonic_time() < end) {
        bool any = false;

        vg_pump(g);
        for (unsigned p = 0; p < g->pairs; p++) {
            ssize_t n;

            vg_tx_reclaim(g, p);
            while ((n = vg_recv_ready(g, p, buf, sizeof(buf), NULL, NULL)) >= 0) {
                any = true;
                answered += vg_answer(g, p, buf, n);
            }
        }
        if (!any) {
            g_usleep(200);
        }
    }
    return answered;
}

/* ---- the other direction: the guest asks ---- */

ssize_t vg_wait_frame(VgGuest *g, VgMatchFunc match, void *opaque, uint8_t *buf, size_t max,
                      int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (g_get_monotonic_time() < end) {
        bool any = false;

        vg_pump(g);
        for (unsigned p = 0; p < g->pairs; p++) {
            ssize_t n;

            vg_tx_reclaim(g, p);
            while ((n = vg_recv_ready(g, p, buf, max, NULL, NULL)) >= 0) {
                any = true;
                if (match(buf, n, opaque)) {
                    return n;
                }
                vg_answer(g, p, buf, n);
            }
        }
        if (!any) {
            g_usleep(100);
        }
    }
    return -1;
}

typedef struct ArpWait {
    const uint8_t *ip;
} ArpWait;

static bool match_arp_reply(const uint8_t *f, size_t len, void *opaque)
{
    ArpWait *w = opaque;

    return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
           memcmp(f + 28, w->ip, 4) == 0;
}

bool vg_arp_resolve(VgGuest *g, unsigned pair, const uint8_t ip[4], uint8_t mac[6], int timeout_ms)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t arp_hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
    uint8_t req[60] = {0}, buf[2048];
    ArpWait w = {ip};
    ssize_t n;

    memcpy(req, bcast, 6);
    memcpy(req + 6, g->mac, 6);
    req[12] = 0x08;
    req[13] = 0x06;
    memcpy(req + 14, arp_hdr, 8);
    memcpy(req + 22, g->mac, 6);
    memcpy(req + 28, g->ip, 4);
    memcpy(req + 38, ip, 4);
    if (!vg_send(g, pair, NULL, req, sizeof(req))) {
        return false;
    }
    n = vg_wait_frame(g, match_arp_reply, &w, buf, sizeof(buf), timeout_ms);
    if (n < 0) {
        return false;
    }
    memcpy(mac, buf + 22, 6);
    return true;
}

typedef struct PingWait {
    const uint8_t *ip;
    uint16_t id, seq;
} PingWait;

static bool match_echo_reply(const uint8_t *f, size_t len, void *opaque)
{
    PingWait *w = opaque;
    size_t ihl = len > 14 ? (f[14] & 0xf) * 4 : 0;

    return len >= 14 + ihl + 8 && f[12] == 0x08 && f[13] == 0 && f[23] == 1 &&
           memcmp(f + 26, w->ip, 4) == 0 && f[14 + ihl] == 0 &&
           ntohs(*(const uint16_t *)(f + 14 + ihl + 4)) == w->id &&
           ntohs(*(const uint16_t *)(f + 14 + ihl + 6)) == w->seq;
}

void vg_tcp4_gso_hdr(uint8_t *hdr, uint16_t mss)
{
    memset(hdr, 0, 10);
    hdr[0] = 1;  /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
    hdr[1] = 1;  /* VIRTIO_NET_HDR_GSO_TCPV4 */
    hdr[2] = 54; /* hdr_len */
    hdr[4] = mss & 0xff;
    hdr[5] = mss >> 8;
    hdr[6] = 34; /* csum_start */
    hdr[8] = 16; /* csum_offset */
}

size_t vg_make_ipv4(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac,
                    const uint8_t *src_ip, const uint8_t *dst_ip, uint8_t proto, size_t l4_len)
{
    uint16_t total = htons(20 + l4_len);

    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    memset(f + 14, 0, 20);
    f[14] = 0x45;
    memcpy(f + 16, &total, 2);
    f[20] = 0x40; /* DF */
    f[22] = 64;
    f[23] = proto;
    memcpy(f + 26, src_ip, 4);
    memcpy(f + 30, dst_ip, 4);
    memcpy(f + 24, &(uint16_t){ip_csum(f + 14, 20)}, 2);
    return 34 + l4_len;
}

bool vg_ping(VgGuest *g, unsigned pair, const uint8_t ip[4], uint16_t seq, int timeout_ms)
{
    uint8_t mac[6], f[98], buf[2048];
    PingWait w = {ip, 0x4242, seq};
    uint8_t *icmp = f + 34;

    if (!vg_arp_resolve(g, pair, ip, mac, timeout_ms)) {
        return false;
    }
    vg_make_ipv4(f, mac, g->mac, g->ip, ip, 1, 64);
    memset(icmp, 0, 64);
    icmp[0] = 8;
    memcpy(icmp + 4, &(uint16_t){htons(w.id)}, 2);
    memcpy(icmp + 6, &(uint16_t){htons(seq)}, 2);
    for (int i = 8; i < 64; i++) {
        icmp[i] = i;
    }
    memcpy(icmp + 2, &(uint16_t){ip_csum(icmp, 64)}, 2);
    if (!vg_send(g, pair, NULL, f, sizeof(f))) {
        return false;
    }
    return vg_wait_frame(g, match_echo_reply, &w, buf, sizeof(buf), timeout_ms) >= 0;
}
