// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-ctrl.c - the virtio-net control queue (spec 5.1.6.5) and the RX filter it sets. */
#include <endian.h>
#include <string.h>
#include "vnet-priv.h"

#define CTRL_OK 0
#define CTRL_ERR 1
#define CTRL_MAX_REQUEST (8 + 2 * (4 + 6 * 1024)) /* a MAC table of 1024 + 1024 entries */

/* Classes and commands. */
enum {
    CLASS_RX = 0,
    CLASS_MAC = 1,
    CLASS_ANNOUNCE = NETBE_VIRTIO_NET_CTRL_ANNOUNCE,
    CLASS_MQ = 4,
    CLASS_GUEST_OFFLOADS = 5,
};
enum {
    RX_PROMISC = 0,
    RX_ALLMULTI,
    RX_ALLUNI,
    RX_NOMULTI,
    RX_NOUNI,
    RX_NOBCAST,
};
enum {
    MAC_TABLE_SET = 0,
    MAC_ADDR_SET = 1,
};

typedef uint8_t (*VnetCtrlFunc)(VnetDev *vd, uint8_t cmd, const uint8_t *data, size_t len);

static bool *rx_flag(VnetDev *vd, uint8_t cmd)
{
    bool *flags[] = {&vd->promisc, &vd->allmulti, &vd->alluni,
                     &vd->nomulti, &vd->nouni,    &vd->nobcast};

    return cmd < G_N_ELEMENTS(flags) ? flags[cmd] : NULL;
}

static uint8_t ctrl_rx(VnetDev *vd, uint8_t cmd, const uint8_t *data, size_t len)
{
    bool *flag = rx_flag(vd, cmd);

    if (!flag || len != 1 ||
        (cmd > RX_ALLMULTI && !vnet_has(vd, NETBE_VIRTIO_NET_F_CTRL_RX_EXTRA))) {
        return CTRL_ERR;
    }
    *flag = data[0] != 0;
    return CTRL_OK;
}

/* Read one table (le32 count, count MACs) at *off into @table. Return: false if short. */
static bool mac_table_read(const uint8_t *data, size_t len, size_t *off, uint8_t table[][6],
                           unsigned *n, bool *overflow)
{
    uint32_t count;

    if (len - *off < 4) {
        return false;
    }
    memcpy(&count, data + *off, 4);
    count = le32toh(count);
    *off += 4;
    if (count > (len - *off) / 6) {
        return false;
    }
    *overflow = count > VNET_MAC_TABLE;
    *n = *overflow ? 0 : count;
    memcpy(table, data + *off, (size_t)*n * 6);
    *off += (size_t)count * 6;
    return true;
}

static uint8_t ctrl_mac(VnetDev *vd, uint8_t cmd, const uint8_t *data, size_t len)
{
    size_t off = 0;

    if (cmd == MAC_ADDR_SET) {
        if (len != 6 || !vnet_has(vd, NETBE_VIRTIO_NET_F_CTRL_MAC_ADDR)) {
            return CTRL_ERR;
        }
        memcpy(vd->mac, data, 6);
        return CTRL_OK;
    }
    if (cmd != MAC_TABLE_SET ||
        !mac_table_read(data, len, &off, vd->uni, &vd->n_uni, &vd->uni_overflow) ||
        !mac_table_read(data, len, &off, vd->multi, &vd->n_multi, &vd->multi_overflow) ||
        off != len) {
        vd->n_uni = vd->n_multi = 0;
        vd->uni_overflow = vd->multi_overflow = false;
        return CTRL_ERR;
    }
    return CTRL_OK;
}

static uint8_t ctrl_mq(VnetDev *vd, uint8_t cmd, const uint8_t *data, size_t len)
{
    uint16_t pairs;

    if (cmd != 0 || len != 2) {
        return CTRL_ERR;
    }
    memcpy(&pairs, data, 2);
    pairs = le16toh(pairs);
    if (pairs < 1 || pairs > vd->max_pairs) {
        return CTRL_ERR;
    }
    vnet_set_pairs(vd, pairs);
    return CTRL_OK;
}

static uint8_t ctrl_offloads(VnetDev *vd, uint8_t cmd, const uint8_t *data, size_t len)
{
    const uint64_t guest_bits =
        (1ull << NETBE_VIRTIO_NET_F_GUEST_CSUM) | (1ull << NETBE_VIRTIO_NET_F_GUEST_TSO4) |
        (1ull << NETBE_VIRTIO_NET_F_GUEST_TSO6) | (1ull << NETBE_VIRTIO_NET_F_GUEST_ECN) |
        (1ull << NETBE_VIRTIO_NET_F_GUEST_UFO);
    g_autoptr(GError) err = NULL;
    uint64_t off;

    if (cmd != 0 || len != 8) {
        return CTRL_ERR;
    }
    memcpy(&off, data, 8);
    off = le64toh(off);
    if (off & ~(vd->guest_features & guest_bits)) {
        return CTRL_ERR; /* only negotiated guest offloads may be switched */
    }
    if (!vnet_apply_offloads(vd, off, &err)) {
        g_message("device '%s': guest offloads 0x%" G_GINT64_MODIFIER "x: %s", vd->dev->id, off,
                  err->message);
        return CTRL_ERR;
    }
    return CTRL_OK;
}

/* The driver announced itself after a handover: clear the config status bit. */
static uint8_t ctrl_announce(VnetDev *vd, uint8_t cmd, const uint8_t *data, size_t len)
{
    (void)data;
    if (cmd != NETBE_VIRTIO_NET_CTRL_ANNOUNCE_ACK || len != 0) {
        return CTRL_ERR;
    }
    vd->announce = false;
    return CTRL_OK;
}

/* Handlers by class, with the feature the class needs. */
static const struct {
    unsigned feature;
    VnetCtrlFunc fn;
} ctrl_classes[] = {
    [CLASS_RX] = {NETBE_VIRTIO_NET_F_CTRL_RX, ctrl_rx},
    [CLASS_MAC] = {NETBE_VIRTIO_NET_F_CTRL_RX, ctrl_mac},
    [CLASS_ANNOUNCE] = {NETBE_VIRTIO_NET_F_GUEST_ANNOUNCE, ctrl_announce},
    [CLASS_MQ] = {NETBE_VIRTIO_NET_F_MQ, ctrl_mq},
    [CLASS_GUEST_OFFLOADS] = {NETBE_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, ctrl_offloads},
};

/* One request: class, command, data; the answer is one status byte. */
static uint8_t ctrl_handle(VnetDev *vd, const uint8_t *req, size_t len)
{
    uint8_t cls = req[0];

    if (cls >= G_N_ELEMENTS(ctrl_classes) || !ctrl_classes[cls].fn ||
        (!vnet_has(vd, ctrl_classes[cls].feature) &&
         !(cls == CLASS_MAC && req[1] == MAC_ADDR_SET))) {
        return CTRL_ERR;
    }
    return ctrl_classes[cls].fn(vd, req[1], req + 2, len - 2);
}

void vnet_ctrl_run(VnetQueue *q)
{
    VnetDev *vd = q->vd;
    g_autofree uint8_t *req = NULL;
    bool more = true, pushed = false;

    vq_set_notify(&q->vq, false);
    while (more) {
        VqChain c;

        while (vq_pop(&q->vq, q->iov, VQ_MAX_IOV, VQ_ALLOW_READ | VQ_ALLOW_WRITE, &c) ==
               VQ_POP_OK) {
            uint8_t ack = CTRL_ERR;

            if (c.read_len < 2 || c.write_len < 1) {
                vq_fail(&q->vq,
                        "control request of %u bytes with %u for the answer "
                        "(need 2 and 1)",
                        c.read_len, c.write_len);
                break;
            }
            if (c.read_len <= CTRL_MAX_REQUEST) {
                req = g_realloc(req, c.read_len);
                vnet_iov_to_buf(q->iov, c.nread, 0, req, c.read_len);
                ack = ctrl_handle(vd, req, c.read_len);
            }
            vnet_iov_from_buf(q->iov + c.nread, c.nwrite, 0, &ack, 1);
            vnet_mem_log_iov(&vd->mem, q->iov + c.nread, c.nwrite, 1);
            vq_push(&q->vq, c.head, 1);
            q->stats.chains++;
            pushed = true;
        }
        if (pushed) {
            vnet_flush(q);
            pushed = false;
        }
        if (q->vq.broken) {
            vnet_queue_broken(q);
            return;
        }
        more = vq_set_notify(&q->vq, true);
    }
}

void vnet_filter_reset(VnetDev *vd)
{
    vd->promisc = true; /* until the driver says otherwise, as real NICs after reset */
    vd->allmulti = vd->alluni = vd->nomulti = vd->nouni = vd->nobcast = false;
    vd->uni_overflow = vd->multi_overflow = false;
    vd->n_uni = vd->n_multi = 0;
}

static bool mac_in(const uint8_t table[][6], unsigned n, const uint8_t *mac)
{
    for (unsigned i = 0; i < n; i++) {
        if (memcmp(table[i], mac, 6) == 0) {
            return true;
        }
    }
    return false;
}

bool vnet_filter_accept(const VnetDev *vd, const uint8_t *dst)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    if (vd->promisc) {
        return true;
    }
    if (dst[0] & 1) {
        if (memcmp(dst, bcast, 6) == 0) {
            return !vd->nobcast;
        }
        return !vd->nomulti &&
               (vd->allmulti || vd->multi_overflow || mac_in(vd->multi, vd->n_multi, dst));
    }
    return !vd->nouni && (vd->alluni || vd->uni_overflow || memcmp(dst, vd->mac, 6) == 0 ||
                          mac_in(vd->uni, vd->n_uni, dst));
}
