// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-api.c - the public virtio-net API (include/netbe/virtio-net.h): what a VMM's
 * transport forwards to the device. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "vnet-priv.h"

G_STATIC_ASSERT(VNET_LOG_PAGE == NETBE_VNET_LOG_PAGE);

#define F_RING_INDIRECT (1ull << NETBE_VIRTIO_F_RING_INDIRECT_DESC)
#define F_RING_EVENT_IDX (1ull << NETBE_VIRTIO_F_RING_EVENT_IDX)

/* ---- public API ---- */

static VnetDev *vnet_get(NetbeDevice *dev)
{
    if (!dev->vnet && dev->backend) {
        dev->vnet = vnet_dev_new(dev);
    }
    return dev->vnet;
}

static VnetQueue *vnet_queue(NetbeDevice *dev, unsigned vq)
{
    VnetDev *vd = vnet_get(dev);

    return vd && vq < vd->nqueues ? &vd->queues[vq] : NULL;
}

bool netbe_vnet_set_memory(NetbeDevice *dev, const NetbeGuestRegion *regions, unsigned n,
                           GError **errp)
{
    VnetDev *vd = vnet_get(dev);
    g_autofree uint64_t *gpa = g_new(uint64_t, n + 1);
    g_autofree uint64_t *size = g_new(uint64_t, n + 1);
    g_autofree void **hva = g_new(void *, n + 1);

    for (unsigned i = 0; i < n; i++) {
        gpa[i] = regions[i].gpa;
        size[i] = regions[i].size;
        hva[i] = regions[i].hva;
    }
    if (!vnet_mem_set(&vd->mem, gpa, size, hva, n, errp)) {
        g_prefix_error(errp, "device '%s': ", dev->id);
        return false;
    }
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];

        if (q->enabled && !q->vq.broken && !vq_map(&q->vq)) {
            vnet_queue_broken(q);
        }
    }
    return true;
}

bool netbe_vnet_set_hooks(NetbeDevice *dev, const NetbeVnetHooks *hooks)
{
    VnetDev *vd = vnet_get(dev);

    if (hooks->version < 1 || hooks->version > NETBE_VNET_HOOKS_VERSION) {
        g_warning("device '%s': hooks version %u (allowed: 1..%u)", dev->id, hooks->version,
                  NETBE_VNET_HOOKS_VERSION);
        return false;
    }
    vd->hooks = *hooks;
    return true;
}

uint64_t netbe_vnet_get_device_features(NetbeDevice *dev)
{
    return vnet_get(dev)->host_features;
}

void netbe_vnet_set_driver_features(NetbeDevice *dev, uint64_t features)
{
    VnetDev *vd = vnet_get(dev);

    if (!(vd->status & NETBE_VIRTIO_STATUS_FEATURES_OK)) {
        vd->guest_features = features & vd->host_features;
    }
}

uint64_t netbe_vnet_get_driver_features(NetbeDevice *dev)
{
    return vnet_get(dev)->guest_features;
}

bool netbe_vnet_set_status(NetbeDevice *dev, uint8_t status, GError **errp)
{
    VnetDev *vd = vnet_get(dev);
    uint8_t old = vd->status;
    bool ok = true;

    if (status == 0) {
        vnet_reset_state(vd);
        return true;
    }
    if ((status & NETBE_VIRTIO_STATUS_FEATURES_OK) && !(old & NETBE_VIRTIO_STATUS_FEATURES_OK) &&
        !vnet_features_valid(vd)) {
        status &= ~NETBE_VIRTIO_STATUS_FEATURES_OK;
    }
    if ((status & NETBE_VIRTIO_STATUS_DRIVER_OK) && !(old & NETBE_VIRTIO_STATUS_DRIVER_OK)) {
        if (!(status & NETBE_VIRTIO_STATUS_FEATURES_OK)) {
            g_set_error(errp, VNET_ERROR, EINVAL, "device '%s': DRIVER_OK before FEATURES_OK",
                        dev->id);
            ok = false;
        } else {
            ok = vnet_start(vd, errp);
        }
        if (!ok) {
            status &= ~NETBE_VIRTIO_STATUS_DRIVER_OK;
        }
    }
    vd->status = status | (old & NETBE_VIRTIO_STATUS_NEEDS_RESET);
    if (status & NETBE_VIRTIO_STATUS_FAILED) {
        vnet_dev_stop(vd);
    }
    return ok;
}

uint8_t netbe_vnet_get_status(NetbeDevice *dev)
{
    return vnet_get(dev)->status;
}

void netbe_vnet_reset(NetbeDevice *dev)
{
    vnet_reset_state(vnet_get(dev));
}

unsigned netbe_vnet_get_num_queues(NetbeDevice *dev)
{
    return vnet_get(dev)->nqueues;
}

unsigned netbe_vnet_queue_max_size(NetbeDevice *dev, unsigned vq)
{
    VnetQueue *q = vnet_queue(dev, vq);

    return q ? q->max_size : 0;
}

bool netbe_vnet_queue_setup(NetbeDevice *dev, unsigned vq, unsigned size, uint64_t desc,
                            uint64_t avail, uint64_t used, GError **errp)
{
    VnetQueue *q = vnet_queue(dev, vq);

    if (!q) {
        g_set_error(errp, VNET_ERROR, EINVAL, "device '%s': no virtqueue %u", dev->id, vq);
        return false;
    }
    if (size == 0 || size > q->max_size || (size & (size - 1))) {
        g_set_error(errp, VNET_ERROR, EINVAL,
                    "device '%s': virtqueue %u: size %u (allowed: power of two up to %u)", dev->id,
                    vq, size, q->max_size);
        return false;
    }
    if (q->enabled) {
        g_set_error(errp, VNET_ERROR, EBUSY, "device '%s': virtqueue %u is enabled", dev->id, vq);
        return false;
    }
    q->vq.size = size;
    q->vq.desc_gpa = desc;
    q->vq.avail_gpa = avail;
    q->vq.used_gpa = used;
    return true;
}

void netbe_vnet_queue_enable(NetbeDevice *dev, unsigned vq, bool enable)
{
    VnetQueue *q = vnet_queue(dev, vq);
    VnetDev *vd = dev->vnet;
    unsigned pair;
    bool adopt;

    if (!q || q->enabled == enable) {
        return;
    }
    q->enabled = enable;
    if (!enable) {
        vnet_queue_drain(q);
        q->vq.ready = false;
        if (vd->started && vnet_role(vd, vq, &pair) == VNET_ROLE_RX && pair < vd->curr_pairs) {
            netbe_backend_set_rx_enabled(vd->be, pair, false); /* frames wait in the backend */
        }
        return;
    }
    vnet_queue_buffers(q);
    q->vq.event_idx = vd->guest_features & F_RING_EVENT_IDX;
    q->vq.indirect = vd->guest_features & F_RING_INDIRECT;
    adopt = q->base_set; /* netbe_vnet_queue_set_base() was called while disabled */
    q->base_set = false;
    if (!vq_map(&q->vq) || (adopt && !vq_adopt_used_idx(&q->vq))) {
        vnet_queue_broken(q);
        return;
    }
    if (adopt) {
        g_debug("device '%s': virtqueue %u resumes at available index %u, used %u", dev->id, vq,
                q->vq.last_avail_idx, q->vq.used_idx);
    }
    if (vd->started) {
        vq_set_notify(&q->vq, vnet_role(vd, vq, &pair) != VNET_ROLE_RX);
        vnet_queue_run(q);
    }
}

bool netbe_vnet_queue_set_base(NetbeDevice *dev, unsigned vq, uint16_t last_avail, GError **errp)
{
    VnetQueue *q = vnet_queue(dev, vq);

    if (!q) {
        g_set_error(errp, VNET_ERROR, EINVAL, "device '%s': no virtqueue %u", dev->id, vq);
        return false;
    }
    if (q->enabled) {
        g_set_error(errp, VNET_ERROR, EBUSY,
                    "device '%s': virtqueue %u is enabled (its base is set while disabled)",
                    dev->id, vq);
        return false;
    }
    q->vq.last_avail_idx = q->vq.seen_avail_idx = last_avail;
    q->base_set = true;
    return true;
}

bool netbe_vnet_queue_get_base(NetbeDevice *dev, unsigned vq, uint16_t *last_avail)
{
    VnetQueue *q = vnet_queue(dev, vq);

    if (!q) {
        return false;
    }
    *last_avail = q->vq.last_avail_idx;
    return true;
}

void netbe_vnet_set_dirty_log(NetbeDevice *dev, void *log, uint64_t size)
{
    vnet_mem_set_log(&vnet_get(dev)->mem, log, size);
}

void netbe_vnet_queue_kick(NetbeDevice *dev, unsigned vq)
{
    VnetDev *vd = dev->vnet; /* created at bind: no allocation on a vCPU thread */

    if (vd && vq < vd->nqueues && vd->queues[vq].kick_fd >= 0) {
        vnet_kick_self(&vd->queues[vq]);
    }
}

int netbe_vnet_queue_get_kick_fd(NetbeDevice *dev, unsigned vq)
{
    VnetQueue *q = vnet_queue(dev, vq);

    return q ? q->kick_fd : -1;
}

/* Replace *slot with a duplicate of @fd (or -1). */
static bool vnet_take_fd(NetbeDevice *dev, unsigned vq, int fd, int *slot, GError **errp)
{
    int nfd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;

    if (fd >= 0 && nfd < 0) {
        g_set_error(errp, VNET_ERROR, errno, "device '%s': virtqueue %u: cannot dup fd %d: %s",
                    dev->id, vq, fd, g_strerror(errno));
        return false;
    }
    if (*slot >= 0) {
        close(*slot);
    }
    *slot = nfd;
    return true;
}

bool netbe_vnet_queue_set_kick_fd(NetbeDevice *dev, unsigned vq, int fd, GError **errp)
{
    VnetQueue *q = vnet_queue(dev, vq);

    if (!q) {
        g_set_error(errp, VNET_ERROR, EINVAL, "device '%s': no virtqueue %u", dev->id, vq);
        return false;
    }
    if (q->kick_src) {
        g_source_destroy(q->kick_src);
        g_source_unref(q->kick_src);
        q->kick_src = NULL;
    }
    if (!vnet_take_fd(dev, vq, fd, &q->kick_fd, errp)) {
        vnet_kick_watch(q);
        return false;
    }
    vnet_kick_watch(q);
    return true;
}

bool netbe_vnet_queue_set_call_fd(NetbeDevice *dev, unsigned vq, int fd, GError **errp)
{
    VnetQueue *q = vnet_queue(dev, vq);

    if (!q) {
        g_set_error(errp, VNET_ERROR, EINVAL, "device '%s': no virtqueue %u", dev->id, vq);
        return false;
    }
    return vnet_take_fd(dev, vq, fd, &q->call_fd, errp);
}

/* The config space as the driver sees it now. */
static void vnet_config_build(VnetDev *vd, uint8_t cfg[NETBE_VIRTIO_NET_CFG_SIZE])
{
    uint16_t st = htole16((vd->link_up ? NETBE_VIRTIO_NET_S_LINK_UP : 0) |
                          (vd->announce ? NETBE_VIRTIO_NET_S_ANNOUNCE : 0));
    uint16_t pairs = htole16(vd->max_pairs);
    uint16_t mtu = htole16(vd->dev->mtu);
    uint32_t speed = htole32(UINT32_MAX);

    memcpy(cfg + NETBE_VIRTIO_NET_CFG_MAC, vd->mac, 6);
    memcpy(cfg + NETBE_VIRTIO_NET_CFG_STATUS, &st, 2);
    memcpy(cfg + NETBE_VIRTIO_NET_CFG_MAX_PAIRS, &pairs, 2);
    memcpy(cfg + NETBE_VIRTIO_NET_CFG_MTU, &mtu, 2);
    memcpy(cfg + NETBE_VIRTIO_NET_CFG_SPEED, &speed, 4);
    cfg[NETBE_VIRTIO_NET_CFG_DUPLEX] = 0xff;
}

void netbe_vnet_config_read(NetbeDevice *dev, unsigned offset, void *buf, size_t len)
{
    uint8_t cfg[NETBE_VIRTIO_NET_CFG_SIZE];

    memset(buf, 0, len);
    vnet_config_build(vnet_get(dev), cfg);
    if (offset < sizeof(cfg)) {
        memcpy(buf, cfg + offset, MIN(len, sizeof(cfg) - offset));
    }
}

void netbe_vnet_config_write(NetbeDevice *dev, unsigned offset, const void *buf, size_t len)
{
    (void)dev;
    (void)offset;
    (void)buf;
    (void)len; /* read-only for VERSION_1 drivers: the MAC changes via the control queue */
}

void netbe_vnet_set_link(NetbeDevice *dev, bool up)
{
    VnetDev *vd = vnet_get(dev);

    if (vd->link_up != up) {
        vd->link_up = up;
        if (vd->status & NETBE_VIRTIO_STATUS_DRIVER_OK) {
            vnet_notify_config(vd);
        }
        netbe_runtime_emit_event(dev->rt, NETBE_EVENT_LINK_CHANGED, "device",
                                 g_variant_new_string(dev->id), "link",
                                 g_variant_new_string(up ? "up" : "down"), NULL);
    }
}

bool netbe_vnet_get_queue_stats(NetbeDevice *dev, unsigned vq, NetbeVnetQueueStats *out)
{
    VnetQueue *q = vnet_queue(dev, vq);

    if (!q) {
        return false;
    }
    *out = q->stats;
    return true;
}

/* Called by device.c when the device binds: attach to the backend right away. */
void netbe_vnet_bind(NetbeDevice *dev)
{
    vnet_get(dev);
}
