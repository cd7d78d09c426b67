// SPDX-License-Identifier: LGPL-2.1-or-later
/* virtio-net.c - the virtio-net device: features, queue roles, notifications, kicks, and its
 * lifecycle (bind, negotiate with the backend, start, reset, free). */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "vnet-priv.h"

#define F(bit) (1ull << NETBE_VIRTIO_NET_F_##bit)
#define F_RING_INDIRECT (1ull << NETBE_VIRTIO_F_RING_INDIRECT_DESC)
#define F_RING_EVENT_IDX (1ull << NETBE_VIRTIO_F_RING_EVENT_IDX)
#define F_VERSION_1 (1ull << NETBE_VIRTIO_F_VERSION_1)

/* Features that need others (spec 5.1.3.1): feature -> any of these must be present. */
static const struct {
    uint64_t feature, needs_any;
} feature_deps[] = {
    {F(GUEST_TSO4), F(GUEST_CSUM)},
    {F(GUEST_TSO6), F(GUEST_CSUM)},
    {F(GUEST_UFO), F(GUEST_CSUM)},
    {F(GUEST_ECN), F(GUEST_TSO4) | F(GUEST_TSO6)},
    {F(HOST_TSO4), F(CSUM)},
    {F(HOST_TSO6), F(CSUM)},
    {F(HOST_UFO), F(CSUM)},
    {F(HOST_ECN), F(HOST_TSO4) | F(HOST_TSO6)},
    {F(CTRL_RX), F(CTRL_VQ)},
    {F(CTRL_RX_EXTRA), F(CTRL_RX)},
    {F(MQ), F(CTRL_VQ)},
    {F(CTRL_MAC_ADDR), F(CTRL_VQ)},
    {F(CTRL_GUEST_OFFLOADS), F(CTRL_VQ)},
    {F(GUEST_ANNOUNCE), F(CTRL_VQ)},
};

/* Backend offload bit -> device features it allows (host side, guest side). */
static const struct {
    uint32_t offload;
    uint64_t features;
} offload_features[] = {
    {NETBE_OFFLOAD_CSUM, F(CSUM) | F(GUEST_CSUM) | F(CTRL_GUEST_OFFLOADS)},
    {NETBE_OFFLOAD_TSO4, F(HOST_TSO4) | F(GUEST_TSO4)},
    {NETBE_OFFLOAD_TSO6, F(HOST_TSO6) | F(GUEST_TSO6)},
    {NETBE_OFFLOAD_ECN, F(HOST_ECN) | F(GUEST_ECN)},
    {NETBE_OFFLOAD_UFO, F(HOST_UFO) | F(GUEST_UFO)},
};

/* Guest offload feature -> backend offload bit (what the backend may hand the guest). */
static const struct {
    unsigned bit;
    uint32_t offload;
} guest_offloads[] = {
    {NETBE_VIRTIO_NET_F_GUEST_CSUM, NETBE_OFFLOAD_CSUM},
    {NETBE_VIRTIO_NET_F_GUEST_TSO4, NETBE_OFFLOAD_TSO4},
    {NETBE_VIRTIO_NET_F_GUEST_TSO6, NETBE_OFFLOAD_TSO6},
    {NETBE_VIRTIO_NET_F_GUEST_ECN, NETBE_OFFLOAD_ECN},
    {NETBE_VIRTIO_NET_F_GUEST_UFO, NETBE_OFFLOAD_UFO},
};

static const char *const role_names[] = {"unused", "rx", "tx", "ctrl"};

/* ---- queue roles ---- */

/* What virtqueue @i is under the negotiated features; @pair gets its queue pair. */
VnetRole vnet_role(const VnetDev *vd, unsigned i, unsigned *pair)
{
    bool mq = vnet_has(vd, NETBE_VIRTIO_NET_F_MQ);
    unsigned pairs = mq ? vd->max_pairs : 1;

    *pair = i / 2;
    if (i == (mq ? 2 * vd->max_pairs : 2) && vnet_has(vd, NETBE_VIRTIO_NET_F_CTRL_VQ)) {
        return VNET_ROLE_CTRL;
    }
    if (i < 2 * pairs) {
        return i % 2 ? VNET_ROLE_TX : VNET_ROLE_RX;
    }
    return VNET_ROLE_NONE;
}

/* The queue of @role for pair @pair when it can run now, else NULL. */
VnetQueue *vnet_active_queue(VnetDev *vd, unsigned pair, VnetRole role)
{
    VnetQueue *q;

    if (!vd->started || vd->paused || pair >= vd->curr_pairs) {
        return NULL;
    }
    q = &vd->queues[2 * pair + (role == VNET_ROLE_TX)];
    return q->enabled && q->vq.ready && !q->vq.broken ? q : NULL;
}

/* ---- notifications ---- */

void vnet_notify(VnetQueue *q)
{
    VnetDev *vd = q->vd;

    q->stats.interrupts++;
    if (q->call_fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(q->call_fd, &one, sizeof(one));

        (void)n; /* a full eventfd already signals */
    } else if (vd->hooks.notify_queue) {
        vd->hooks.notify_queue(vd->hooks.opaque, q->index);
    }
}

void vnet_notify_config(VnetDev *vd)
{
    if (vd->hooks.notify_config) {
        vd->hooks.notify_config(vd->hooks.opaque);
    }
}

/* Publish used entries of @q and interrupt the driver if it asked for it. */
void vnet_flush(VnetQueue *q)
{
    if (vq_flush(&q->vq)) {
        vnet_notify(q);
    }
}

void vnet_queue_broken(VnetQueue *q)
{
    VnetDev *vd = q->vd;
    unsigned pair;
    VnetRole role = vnet_role(vd, q->index, &pair);

    q->stats.broken = true;
    if (!vd->logged_broken) {
        g_warning("device '%s': virtqueue %u (%s%u): %s; queue stopped, device needs a reset",
                  vd->dev->id, q->index, role_names[role], pair, q->vq.err);
        vd->logged_broken = true;
    }
    if (role == VNET_ROLE_RX && vd->started) {
        netbe_backend_set_rx_enabled(vd->be, pair, false);
    }
    if (!(vd->status & NETBE_VIRTIO_STATUS_NEEDS_RESET)) {
        vd->status |= NETBE_VIRTIO_STATUS_NEEDS_RESET;
        vnet_notify_config(vd);
    }
}

/* ---- kicks ---- */

typedef struct VnetKickSource {
    GSource source;
    VnetQueue *q;
} VnetKickSource;

/* Process queue @q: a kick came, or the device just started. */
void vnet_queue_run(VnetQueue *q)
{
    VnetDev *vd = q->vd;
    unsigned pair;

    if (!vd->started || vd->paused || !q->enabled || !q->vq.ready || q->vq.broken) {
        return;
    }
    switch (vnet_role(vd, q->index, &pair)) {
    case VNET_ROLE_RX:
        if (pair < vd->curr_pairs) {
            vnet_rx_kick(q, pair);
        }
        break;
    case VNET_ROLE_TX:
        if (pair < vd->curr_pairs) {
            vnet_tx_run(q, pair);
        }
        break;
    case VNET_ROLE_CTRL:
        vnet_ctrl_run(q);
        break;
    default:
        break;
    }
}

static gboolean vnet_kick_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    VnetQueue *q = ((VnetKickSource *)source)->q;
    uint64_t v;

    (void)cb;
    (void)data;
    if (g_source_query_unix_fd(source, q->kick_tag) & G_IO_IN) {
        if (read(q->kick_fd, &v, sizeof(v)) == sizeof(v)) {
            q->stats.kicks++;
            vnet_queue_run(q);
        }
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs vnet_kick_funcs = {
    .dispatch = vnet_kick_dispatch,
};

void vnet_kick_watch(VnetQueue *q)
{
    GMainContext *ctx = q->vd->dev->rt->ctx;

    if (q->kick_src) {
        g_source_destroy(q->kick_src);
        g_source_unref(q->kick_src);
        q->kick_src = NULL;
    }
    if (q->kick_fd < 0) {
        return;
    }
    q->kick_src = g_source_new(&vnet_kick_funcs, sizeof(VnetKickSource));
    ((VnetKickSource *)q->kick_src)->q = q;
    q->kick_tag = g_source_add_unix_fd(q->kick_src, q->kick_fd, G_IO_IN);
    g_source_set_name(q->kick_src, "netbe-vnet-kick");
    g_source_attach(q->kick_src, ctx);
    netbe_loop_fd_note_change(q->vd->dev->rt->loop_fd, ctx);
}

/* ---- lifecycle ---- */

uint64_t vnet_offer(VnetDev *vd)
{
    NetbeCaps caps;
    uint64_t f = F_VERSION_1 | F_RING_EVENT_IDX | F_RING_INDIRECT | F(MAC) | F(STATUS) | F(MTU) |
                 F(MRG_RXBUF) | F(CTRL_VQ) | F(CTRL_RX) | F(CTRL_RX_EXTRA) | F(CTRL_MAC_ADDR) |
                 F(GUEST_ANNOUNCE);

    netbe_backend_get_caps(vd->be, &caps);
    if (vd->max_pairs > 1) {
        f |= F(MQ);
    }
    if (caps.flags & NETBE_CAP_VNET_HDR) {
        for (size_t i = 0; i < G_N_ELEMENTS(offload_features); i++) {
            if (caps.offloads & offload_features[i].offload) {
                f |= offload_features[i].features;
            }
        }
    }
    /* an offload without its prerequisite is not offered */
    for (size_t i = 0; i < G_N_ELEMENTS(feature_deps); i++) {
        if ((f & feature_deps[i].feature) && !(f & feature_deps[i].needs_any)) {
            f &= ~feature_deps[i].feature;
        }
    }
    return f;
}

VnetDev *vnet_dev_new(NetbeDevice *dev)
{
    VnetDev *vd = g_new0(VnetDev, 1);

    vd->dev = dev;
    vd->be = dev->backend;
    vd->name = g_strdup_printf("[device.%s]", dev->id);
    vd->max_pairs = dev->queues ? dev->queues : 1;
    vd->curr_pairs = 1;
    vd->nqueues = 2 * vd->max_pairs + 1;
    vd->link_up = !dev->backend->link_down; /* netbe_runtime_set_link() before it was made */
    vd->mem.name = dev->id;
    memcpy(vd->mac, dev->mac, 6);
    vd->poll_us = dev->poll_us;
    vnet_filter_reset(vd);
    vd->queues = g_new0(VnetQueue, vd->nqueues);
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];

        q->vd = vd;
        q->index = i;
        q->vq.mem = &vd->mem;
        q->max_size = i == 2 * vd->max_pairs ? VNET_CTRL_QUEUE_SIZE
                      : i % 2                ? dev->tx_queue_size
                                             : dev->rx_queue_size;
        q->call_fd = -1;
        q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->kick_fd < 0) {
            g_warning("device '%s': cannot create an eventfd for virtqueue %u: %s", dev->id, i,
                      g_strerror(errno));
        }
        vnet_kick_watch(q);
    }
    vd->host_features = vnet_offer(vd);
    netbe_backend_attach(vd->be, &vnet_peer_ops, vd, vd->name);
    return vd;
}

/* Stop processing: the backend stops polling, queues keep their state. */
void vnet_dev_stop(VnetDev *vd)
{
    if (vd->started) {
        netbe_backend_stop(vd->be);
    }
    vd->started = false;
}

void vnet_reset_state(VnetDev *vd)
{
    vnet_dev_stop(vd);
    if (vd->paused) {
        vd->paused = false;
        for (unsigned i = 0; i < vd->nqueues; i++) {
            vnet_kick_watch(&vd->queues[i]); /* kicks count again */
        }
    }
    vd->load_pending = false;
    vd->announce = false;
    vd->offloads = 0;
    vd->status = 0;
    vd->guest_features = 0;
    vd->curr_pairs = 1;
    vd->logged_broken = false;
    memcpy(vd->mac, vd->dev->mac, 6);
    vnet_filter_reset(vd);
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];

        vq_reset(&q->vq);
        q->enabled = false;
        q->tx_busy = false;
        q->rx_waiting = false;
        q->held_len = 0;
        q->rx_large = false;
        q->rx_small_run = 0;
        q->base_set = false;
        q->stats.broken = false;
    }
}

void vnet_dev_free(VnetDev *vd)
{
    if (!vd) {
        return;
    }
    vnet_dev_stop(vd);
    if (vd->be && vd->be->peer == vd) {
        netbe_backend_attach(vd->be, NULL, NULL, NULL);
    }
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];

        if (q->kick_src) {
            g_source_destroy(q->kick_src);
            g_source_unref(q->kick_src);
        }
        if (q->kick_fd >= 0) {
            close(q->kick_fd);
        }
        if (q->call_fd >= 0) {
            close(q->call_fd);
        }
        g_free(q->iov);
        g_free(q->biov);
        g_free(q->txpool);
        g_free(q->heads);
        g_free(q->caps);
        g_free(q->niovs);
        g_free(q->hold);
    }
    g_free(vd->queues);
    vnet_mem_clear(&vd->mem);
    g_free(vd->name);
    g_free(vd);
}

uint32_t vnet_guest_offloads(uint64_t features)
{
    uint32_t off = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(guest_offloads); i++) {
        if (features & (1ull << guest_offloads[i].bit)) {
            off |= guest_offloads[i].offload;
        }
    }
    return off;
}

bool vnet_apply_offloads(VnetDev *vd, uint64_t features, GError **errp)
{
    uint32_t off = vnet_guest_offloads(features);

    if (vd->be_hdr == 0 && off) {
        g_set_error(errp, VNET_ERROR, ENOTSUP, "netdev '%s' has no vnet header for offloads",
                    vd->be->id);
        return false;
    }
    if (!netbe_backend_set_offloads(vd->be, off, errp)) {
        return false;
    }
    vd->offloads = off;
    return true;
}

void vnet_set_pairs(VnetDev *vd, unsigned pairs)
{
    vd->curr_pairs = pairs;
    for (unsigned p = 0; p < vd->be->nqueues; p++) {
        g_autoptr(GError) err = NULL;
        bool on = p < pairs;

        if (!netbe_backend_set_queue_enabled(vd->be, p, on, &err)) {
            g_warning("device '%s': netdev '%s' queue %u: %s", vd->dev->id, vd->be->id, p,
                      err->message);
        }
        if (vd->started) {
            netbe_backend_set_rx_enabled(vd->be, p, on);
        }
    }
    /* chains the driver queued on pairs that just became active */
    for (unsigned p = 0; vd->started && p < pairs && p < vd->max_pairs; p++) {
        vnet_queue_run(&vd->queues[2 * p + 1]);
    }
}

/* Agree on the vnet header and offloads with the backend (it is connected now). */
static bool vnet_negotiate_backend(VnetDev *vd, GError **errp)
{
    NetbeCaps caps;
    GError *err = NULL;

    netbe_backend_get_caps(vd->be, &caps);
    vd->be_hdr = 0;
    if (caps.flags & NETBE_CAP_VNET_HDR) {
        if (netbe_backend_set_vnet_hdr_len(vd->be, VNET_HDR_LEN, &err)) {
            vd->be_hdr = VNET_HDR_LEN;
        } else {
            g_warning("device '%s': netdev '%s' refused a %u-byte vnet header (%s); adding and "
                      "stripping it here",
                      vd->dev->id, vd->be->id, VNET_HDR_LEN, err->message);
            g_clear_error(&err);
        }
    }
    /* no header: say so (a TAP with IFF_VNET_HDR then adds and strips its own) */
    if (vd->be_hdr == 0 && !netbe_backend_set_vnet_hdr_len(vd->be, 0, errp)) {
        g_prefix_error(errp, "device '%s': ", vd->dev->id);
        return false;
    }
    if (!vnet_apply_offloads(vd, vd->guest_features, errp)) {
        g_prefix_error(errp, "device '%s': ", vd->dev->id);
        return false;
    }
    vnet_set_pairs(vd, 1);
    return true;
}

/* DRIVER_OK: connect (deferred), negotiate, run. */
bool vnet_start(VnetDev *vd, GError **errp)
{
    if (!netbe_device_start(vd->dev, errp) || !vnet_negotiate_backend(vd, errp)) {
        return false;
    }
    vnet_go(vd);
    return true;
}

void vnet_go(VnetDev *vd)
{
    vd->started = true;
    netbe_backend_start(vd->be);
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];
        unsigned pair;

        if (q->enabled && q->vq.ready) {
            vq_set_notify(&q->vq, vnet_role(vd, i, &pair) != VNET_ROLE_RX);
            vnet_queue_run(q);
        }
    }
}

uint64_t vnet_feature_deps_missing(uint64_t features)
{
    for (size_t i = 0; i < G_N_ELEMENTS(feature_deps); i++) {
        if ((features & feature_deps[i].feature) && !(features & feature_deps[i].needs_any)) {
            return feature_deps[i].feature;
        }
    }
    return 0;
}

void vnet_queue_buffers(VnetQueue *q)
{
    if (!q->iov) {
        q->iov = g_new(struct iovec, 2 * VQ_MAX_IOV);
        q->biov = g_new(struct iovec, VQ_MAX_IOV + 2);
        q->heads = g_new(uint16_t, 2 * VQ_MAX_IOV);
        q->caps = g_new(uint32_t, 2 * VQ_MAX_IOV);
        q->niovs = g_new(uint16_t, 2 * VQ_MAX_IOV);
    }
}

/* The feature set is one a device can run with (spec 5.1.3.1). */
bool vnet_features_valid(const VnetDev *vd)
{
    if (!(vd->guest_features & F_VERSION_1)) {
        g_message("device '%s': driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are "
                  "not supported)",
                  vd->dev->id);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(feature_deps); i++) {
        if ((vd->guest_features & feature_deps[i].feature) &&
            !(vd->guest_features & feature_deps[i].needs_any)) {
            g_message("device '%s': feature 0x%" G_GINT64_MODIFIER "x without its "
                      "prerequisite",
                      vd->dev->id, feature_deps[i].feature);
            return false;
        }
    }
    return true;
}
