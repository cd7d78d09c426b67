// SPDX-License-Identifier: LGPL-2.1-or-later
/* vu-rings.c - vhost-user vrings on the device's virtqueues: when a ring starts and stops,
 * and the device status (DRIVER_OK, queue pairs) that follows from the running rings. */
#include <errno.h>
#include <unistd.h>
#include "vu-priv.h"

#define F(bit) (1ull << NETBE_VIRTIO_NET_F_##bit)
/* Features a driver negotiates through the control queue, which the VMM runs itself. */
#define VU_CTRL_FEATURES                                                                           \
    (F(CTRL_RX) | F(CTRL_RX_EXTRA) | F(CTRL_MAC_ADDR) | F(CTRL_GUEST_OFFLOADS) |                   \
     F(GUEST_ANNOUNCE) | F(MQ))
#define VU_OWN_FEATURES ((1ull << VU_F_LOG_ALL) | (1ull << VU_F_PROTOCOL_FEATURES))

void vu_rings_init(VuServer *s)
{
    for (unsigned i = 0; i < s->nrings; i++) {
        s->rings[i] = (VuRing){.kick_fd = -1, .call_fd = -1, .err_fd = -1};
    }
}

/* The features as the device sees them: the front-end's, without vhost-user's own bits,
 * with CTRL_VQ where a feature needs it (QEMU keeps the control queue and does not send it). */
static uint64_t vu_device_features(const VuServer *s)
{
    uint64_t f = s->features & ~VU_OWN_FEATURES;

    if (f & VU_CTRL_FEATURES) {
        f |= F(CTRL_VQ);
    }
    return f;
}

/* DRIVER_OK on the device (a deferred backend connects here). */
static bool vu_device_start(VuServer *s, GError **errp)
{
    const uint8_t feat_ok = NETBE_VIRTIO_STATUS_ACKNOWLEDGE | NETBE_VIRTIO_STATUS_DRIVER |
                            NETBE_VIRTIO_STATUS_FEATURES_OK;
    NetbeDevice *dev = s->dev;

    if (s->running) {
        return true;
    }
    netbe_vnet_reset(dev);
    netbe_vnet_set_driver_features(dev, vu_device_features(s));
    if (!netbe_vnet_set_status(dev, feat_ok, errp)) {
        return false;
    }
    if (!(netbe_vnet_get_status(dev) & NETBE_VIRTIO_STATUS_FEATURES_OK)) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "features 0x%" G_GINT64_MODIFIER "x are not a set "
                    "the device can run with",
                    s->features);
        return false;
    }
    if (!netbe_vnet_set_status(dev, feat_ok | NETBE_VIRTIO_STATUS_DRIVER_OK, errp)) {
        return false;
    }
    s->running = true;
    vu_log_apply(s);
    return true;
}

/* Queue pairs in use: up to the highest pair with a running ring. */
static void vu_update_pairs(VuServer *s)
{
    unsigned pairs = 1;
    g_autoptr(GError) err = NULL;

    for (unsigned i = 0; i < s->nrings; i++) {
        if (s->rings[i].started) {
            pairs = MAX(pairs, i / 2 + 1);
        }
    }
    if (s->running && !netbe_vnet_set_queue_pairs(s->dev, pairs, &err)) {
        g_warning("vhost-user device '%s': %s", s->dev->id, err->message);
    }
}

bool vu_ring_try_start(VuServer *s, unsigned i, GError **errp)
{
    VuRing *r = &s->rings[i];
    NetbeDevice *dev = s->dev;
    NetbeVnetQueueStats st;

    if (r->started || !r->num || !r->addr_set || r->kick_fd < 0 || !r->enabled || !s->nregions) {
        return true;
    }
    if (!vu_device_start(s, errp) ||
        !netbe_vnet_queue_setup(dev, i, r->num, r->desc, r->avail, r->used, errp) ||
        !netbe_vnet_queue_set_base(dev, i, r->base, errp) ||
        !netbe_vnet_queue_set_kick_fd(dev, i, r->kick_fd, errp) ||
        !netbe_vnet_queue_set_call_fd(dev, i, r->call_fd, errp)) {
        g_prefix_error(errp, "vring %u: ", i);
        return false;
    }
    netbe_vnet_queue_enable(dev, i, true);
    r->started = true;
    /* where a VM migration or a handover hands the ring on: for the log */
    g_message("vhost-user device '%s': vring %u starts at available index %u", dev->id, i, r->base);
    if (netbe_vnet_get_queue_stats(dev, i, &st) && st.broken) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "vring %u: the device found it malformed (see "
                    "above)",
                    i);
        return false;
    }
    vu_update_pairs(s);
    return true;
}

void vu_ring_stop(VuServer *s, unsigned i)
{
    VuRing *r = &s->rings[i];

    if (!r->started) {
        return;
    }
    netbe_vnet_queue_enable(s->dev, i, false);
    netbe_vnet_queue_get_base(s->dev, i, &r->base);
    g_message("vhost-user device '%s': vring %u stops at available index %u", s->dev->id, i,
              r->base);
    r->started = false;
    vu_update_pairs(s);
}

bool vu_rings_restart(VuServer *s, GError **errp)
{
    g_autofree bool *was = g_new0(bool, s->nrings);

    for (unsigned i = 0; i < s->nrings; i++) {
        was[i] = s->rings[i].started;
        vu_ring_stop(s, i);
    }
    netbe_vnet_reset(s->dev);
    s->running = false;
    for (unsigned i = 0; i < s->nrings; i++) {
        if (was[i] && !vu_ring_try_start(s, i, errp)) {
            return false;
        }
    }
    return true;
}

void vu_device_reset(VuServer *s)
{
    for (unsigned i = 0; i < s->nrings; i++) {
        vu_ring_stop(s, i);
    }
    netbe_vnet_reset(s->dev);
    netbe_vnet_set_dirty_log(s->dev, NULL, 0);
    s->running = false;
    s->features = 0;
    vu_rings_close_fds(s);
    vu_rings_init(s);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void vu_rings_close_fds(VuServer *s)
{
    for (unsigned i = 0; i < s->nrings; i++) {
        VuRing *r = &s->rings[i];

        if (r->kick_fd >= 0 || r->call_fd >= 0) {
            /* the device holds duplicates: let them go too */
            netbe_vnet_queue_set_kick_fd(s->dev, i, -1, NULL);
            netbe_vnet_queue_set_call_fd(s->dev, i, -1, NULL);
        }
        close_fd(&r->kick_fd);
        close_fd(&r->call_fd);
        close_fd(&r->err_fd);
    }
}
