// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-migrate.c - live handover of a virtio-net device: pause, resume, and its state record
 * (features, status, config, RX filter, per queue ring addresses and indices). */
#include <errno.h>
#include <string.h>
#include "netbe/migrate.h"
#include "vnet-priv.h"

/* Version of the device record; a record of another version is refused. */
#define VNET_MIG_VERSION 1

#define DEV_F_LINK_UP (1u << 0)
#define DEV_F_ANNOUNCE (1u << 1)
#define Q_F_ENABLED (1u << 0)
#define Q_F_SIGNALLED (1u << 1)
#define Q_F_BROKEN (1u << 2)
#define STATUS_KNOWN                                                                               \
    (NETBE_VIRTIO_STATUS_ACKNOWLEDGE | NETBE_VIRTIO_STATUS_DRIVER |                                \
     NETBE_VIRTIO_STATUS_DRIVER_OK | NETBE_VIRTIO_STATUS_FEATURES_OK |                             \
     NETBE_VIRTIO_STATUS_NEEDS_RESET | NETBE_VIRTIO_STATUS_FAILED)

/* One virtqueue as the record carries it. */
typedef struct VnetMigQueue {
    uint32_t size, last_avail, used_idx, signalled_used;
    uint64_t desc, avail, used;
    uint8_t flags;
} VnetMigQueue;

/* The whole record, read and checked before anything is applied. */
typedef struct VnetMigState {
    uint32_t version, max_pairs, nqueues, curr_pairs, be_hdr, offloads, filter;
    uint64_t host_features, guest_features;
    uint8_t status, flags;
    const void *mac, *uni, *multi;
    uint32_t mac_len, uni_len, multi_len;
    VnetMigQueue *q;
} VnetMigState;

/* RX filter flags, in record bit order. */
static bool *filter_flag(VnetDev *vd, unsigned bit)
{
    bool *flags[] = {&vd->promisc, &vd->allmulti, &vd->alluni,       &vd->nomulti,
                     &vd->nouni,   &vd->nobcast,  &vd->uni_overflow, &vd->multi_overflow};

    return bit < G_N_ELEMENTS(flags) ? flags[bit] : NULL;
}

/* ---- pause / resume ---- */

/* Stop watching every queue's kick fd (a foreign loop resyncs its fd set). */
static void vnet_kicks_unwatch(VnetDev *vd)
{
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];

        if (q->kick_src) {
            g_source_destroy(q->kick_src);
            g_source_unref(q->kick_src);
            q->kick_src = NULL;
        }
    }
    netbe_loop_fd_note_change(vd->dev->rt->loop_fd, vd->dev->rt->ctx);
}

void vnet_pause(VnetDev *vd)
{
    if (vd->paused) {
        return;
    }
    vd->paused = true;
    if (vd->started) {
        netbe_backend_stop(vd->be);
    }
    vnet_kicks_unwatch(vd); /* kicks wait in the eventfd (or go to the destination) */
    for (unsigned i = 0; i < vd->nqueues; i++) {
        vnet_rx_requeue_held(&vd->queues[i]);
        vnet_queue_drain(&vd->queues[i]);
    }
}

/* Run a loaded device: its backend gets the saved header and offloads, queues run, the
 * driver gets an interrupt per queue and, with GUEST_ANNOUNCE, an announce request. */
static bool vnet_activate(VnetDev *vd, GError **errp)
{
    unsigned pair;

    vd->load_pending = false;
    if (!netbe_device_start(vd->dev, errp) ||
        !netbe_backend_set_vnet_hdr_len(vd->be, vd->be_hdr, errp) ||
        !netbe_backend_set_offloads(vd->be, vd->offloads, errp)) {
        g_prefix_error(errp, "device '%s': after the handover: ", vd->dev->id);
        vd->status |= NETBE_VIRTIO_STATUS_NEEDS_RESET;
        vnet_notify_config(vd);
        return false;
    }
    vnet_set_pairs(vd, vd->curr_pairs);
    vnet_go(vd);
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];
        VnetRole role = vnet_role(vd, i, &pair);

        if (q->enabled && q->vq.ready && !q->vq.broken &&
            (role == VNET_ROLE_CTRL || (role != VNET_ROLE_NONE && pair < vd->curr_pairs))) {
            vnet_notify(q); /* entries published while nobody watched */
        }
    }
    if (vnet_has(vd, NETBE_VIRTIO_NET_F_GUEST_ANNOUNCE)) {
        vd->announce = true;
        vnet_notify_config(vd);
    }
    return true;
}

void vnet_resume(VnetDev *vd)
{
    g_autoptr(GError) err = NULL;

    if (!vd->paused && !vd->load_pending) {
        return;
    }
    vd->paused = false;
    for (unsigned i = 0; i < vd->nqueues; i++) {
        vnet_kick_watch(&vd->queues[i]);
    }
    if (vd->load_pending) {
        /* loaded: run on the adopted backend (or, if none came, connect our own) */
        if (!vnet_activate(vd, &err)) {
            g_warning("%s", err->message);
        }
        return;
    }
    if (!vd->started) {
        return;
    }
    netbe_backend_start(vd->be);
    for (unsigned i = 0; i < vd->nqueues; i++) {
        vnet_queue_run(&vd->queues[i]); /* kicks that came meanwhile */
    }
}

/* ---- save ---- */

bool vnet_save(VnetDev *vd, NetbeMigWriter *w, GError **errp)
{
    uint32_t filter = 0;

    if (vd->started && !vd->paused) {
        g_set_error(errp, VNET_ERROR, EBUSY, "device '%s' is running: pause it before saving",
                    vd->dev->id);
        return false;
    }
    for (unsigned bit = 0; filter_flag(vd, bit); bit++) {
        filter |= *filter_flag(vd, bit) ? 1u << bit : 0;
    }
    netbe_mig_put_u32(w, VNET_MIG_VERSION);
    netbe_mig_put_u32(w, vd->max_pairs);
    netbe_mig_put_u32(w, vd->nqueues);
    netbe_mig_put_u64(w, vd->host_features);
    netbe_mig_put_u64(w, vd->guest_features);
    netbe_mig_put_u8(w, vd->status);
    netbe_mig_put_u8(w, (vd->link_up ? DEV_F_LINK_UP : 0) | (vd->announce ? DEV_F_ANNOUNCE : 0));
    netbe_mig_put_bytes(w, vd->mac, 6);
    netbe_mig_put_u32(w, vd->curr_pairs);
    netbe_mig_put_u32(w, vd->be_hdr);
    netbe_mig_put_u32(w, vd->offloads);
    netbe_mig_put_u32(w, filter);
    netbe_mig_put_bytes(w, vd->uni, vd->n_uni * 6);
    netbe_mig_put_bytes(w, vd->multi, vd->n_multi * 6);
    for (unsigned i = 0; i < vd->nqueues; i++) {
        const VnetQueue *q = &vd->queues[i];

        netbe_mig_put_u32(w, q->vq.size);
        netbe_mig_put_u64(w, q->vq.desc_gpa);
        netbe_mig_put_u64(w, q->vq.avail_gpa);
        netbe_mig_put_u64(w, q->vq.used_gpa);
        netbe_mig_put_u8(w, (q->enabled ? Q_F_ENABLED : 0) |
                                (q->vq.signalled_valid ? Q_F_SIGNALLED : 0) |
                                (q->vq.broken ? Q_F_BROKEN : 0));
        netbe_mig_put_u32(w, q->vq.last_avail_idx);
        netbe_mig_put_u32(w, q->vq.used_idx);
        netbe_mig_put_u32(w, q->vq.signalled_used);
    }
    return true;
}

/* ---- load ---- */

/* Read the fields. Return: false if one is missing or of another type. */
static bool vnet_mig_read(VnetDev *vd, NetbeMigReader *r, VnetMigState *s, GError **errp)
{
    bool ok;

    if (!netbe_mig_get_u32(r, &s->version) || s->version != VNET_MIG_VERSION) {
        g_set_error(errp, VNET_ERROR, EPROTO, "record version %u (this library reads %u)",
                    s->version, VNET_MIG_VERSION);
        return false;
    }
    if (!netbe_mig_get_u32(r, &s->max_pairs) || !netbe_mig_get_u32(r, &s->nqueues) ||
        s->max_pairs != vd->max_pairs || s->nqueues != vd->nqueues) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    "the record has %u queue pairs (%u virtqueues), "
                    "this device %u (%u): 'queues' differs in [device.%s]",
                    s->max_pairs, s->nqueues, vd->max_pairs, vd->nqueues, vd->dev->id);
        return false;
    }
    ok = netbe_mig_get_u64(r, &s->host_features) && netbe_mig_get_u64(r, &s->guest_features) &&
         netbe_mig_get_u8(r, &s->status) && netbe_mig_get_u8(r, &s->flags) &&
         netbe_mig_get_bytes(r, &s->mac, &s->mac_len) && netbe_mig_get_u32(r, &s->curr_pairs) &&
         netbe_mig_get_u32(r, &s->be_hdr) && netbe_mig_get_u32(r, &s->offloads) &&
         netbe_mig_get_u32(r, &s->filter) && netbe_mig_get_bytes(r, &s->uni, &s->uni_len) &&
         netbe_mig_get_bytes(r, &s->multi, &s->multi_len);
    s->q = g_new0(VnetMigQueue, s->nqueues);
    for (unsigned i = 0; ok && i < s->nqueues; i++) {
        VnetMigQueue *q = &s->q[i];

        ok = netbe_mig_get_u32(r, &q->size) && netbe_mig_get_u64(r, &q->desc) &&
             netbe_mig_get_u64(r, &q->avail) && netbe_mig_get_u64(r, &q->used) &&
             netbe_mig_get_u8(r, &q->flags) && netbe_mig_get_u32(r, &q->last_avail) &&
             netbe_mig_get_u32(r, &q->used_idx) && netbe_mig_get_u32(r, &q->signalled_used);
    }
    if (!ok || !netbe_mig_reader_at_end(r)) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    ok ? "the record has more fields than version %u"
                       : "truncated or malformed record",
                    VNET_MIG_VERSION);
        return false;
    }
    return true;
}

/* Check queue @i of the record against this device and guest memory. */
static bool vnet_mig_check_queue(VnetDev *vd, const VnetMigState *s, unsigned i, GError **errp)
{
    const VnetMigQueue *mq = &s->q[i];
    unsigned max = vd->queues[i].max_size;
    Vq probe = {.mem = &vd->mem};

    if (mq->size > max || (mq->size & (mq->size - 1)) ||
        ((mq->flags & Q_F_ENABLED) && mq->size == 0)) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    "virtqueue %u: size %u (allowed: power of two "
                    "up to %u)",
                    i, mq->size, max);
        return false;
    }
    if (mq->flags & ~(Q_F_ENABLED | Q_F_SIGNALLED | Q_F_BROKEN) || mq->last_avail > 0xffff ||
        mq->used_idx > 0xffff || mq->signalled_used > 0xffff ||
        (mq->size && (uint16_t)(mq->last_avail - mq->used_idx) > mq->size)) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    "virtqueue %u: indices avail %u used %u do not "
                    "fit a queue of %u",
                    i, mq->last_avail, mq->used_idx, mq->size);
        return false;
    }
    if (!(mq->flags & Q_F_ENABLED) || (mq->flags & Q_F_BROKEN)) {
        return true;
    }
    probe.size = mq->size;
    probe.desc_gpa = mq->desc;
    probe.avail_gpa = mq->avail;
    probe.used_gpa = mq->used;
    if (!vq_map(&probe)) {
        g_set_error(errp, VNET_ERROR, EFAULT, "virtqueue %u: %s", i, probe.err);
        return false;
    }
    return true;
}

/* Check the record against this device: config, offer, backend, guest memory. */
static bool vnet_mig_check(VnetDev *vd, const VnetMigState *s, GError **errp)
{
    uint64_t extra = s->guest_features & ~vd->host_features;
    NetbeCaps caps;

    netbe_backend_get_caps(vd->be, &caps);
    if (extra) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    "the driver negotiated features 0x%" G_GINT64_MODIFIER
                    "x that this device does not offer",
                    extra);
        return false;
    }
    if ((s->status & ~STATUS_KNOWN) || (s->flags & ~(DEV_F_LINK_UP | DEV_F_ANNOUNCE)) ||
        ((s->status & NETBE_VIRTIO_STATUS_DRIVER_OK) &&
         !(s->status & NETBE_VIRTIO_STATUS_FEATURES_OK)) ||
        ((s->status & NETBE_VIRTIO_STATUS_FEATURES_OK) &&
         (vnet_feature_deps_missing(s->guest_features) ||
          !(s->guest_features & (1ull << NETBE_VIRTIO_F_VERSION_1))))) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    "status 0x%x with features 0x%" G_GINT64_MODIFIER
                    "x is not a state a driver can reach",
                    s->status, s->guest_features);
        return false;
    }
    if (s->mac_len != 6 || s->curr_pairs < 1 || s->curr_pairs > vd->max_pairs ||
        (s->curr_pairs > 1 && !(s->guest_features & (1ull << NETBE_VIRTIO_NET_F_MQ))) ||
        s->filter >> 8 || s->uni_len % 6 || s->uni_len / 6 > VNET_MAC_TABLE || s->multi_len % 6 ||
        s->multi_len / 6 > VNET_MAC_TABLE) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    "malformed config (MAC, %u queue pairs of %u, "
                    "filter tables)",
                    s->curr_pairs, vd->max_pairs);
        return false;
    }
    if ((s->be_hdr != 0 && s->be_hdr != VNET_HDR_LEN) ||
        (s->be_hdr && !(caps.flags & NETBE_CAP_VNET_HDR)) ||
        (s->offloads & ~vnet_guest_offloads(s->guest_features)) || (s->offloads & ~caps.offloads) ||
        (s->offloads && !s->be_hdr)) {
        g_set_error(errp, VNET_ERROR, EPROTO,
                    "a %u-byte vnet header with offloads 0x%x, which "
                    "netdev '%s' (%s) or the negotiated features do not allow",
                    s->be_hdr, s->offloads, vd->be->id, netbe_backend_plugin_name(vd->be));
        return false;
    }
    for (unsigned i = 0; i < s->nqueues; i++) {
        if (!vnet_mig_check_queue(vd, s, i, errp)) {
            return false;
        }
    }
    return true;
}

/* Replace the device's state with the (checked) record. */
static void vnet_mig_apply(VnetDev *vd, const VnetMigState *s)
{
    vnet_reset_state(vd);
    vd->guest_features = s->guest_features;
    vd->status = s->status;
    vd->link_up = s->flags & DEV_F_LINK_UP;
    vd->announce = s->flags & DEV_F_ANNOUNCE;
    memcpy(vd->mac, s->mac, 6);
    vd->curr_pairs = s->curr_pairs;
    vd->be_hdr = s->be_hdr;
    vd->offloads = s->offloads;
    for (unsigned bit = 0; filter_flag(vd, bit); bit++) {
        *filter_flag(vd, bit) = s->filter & (1u << bit);
    }
    vd->n_uni = s->uni_len / 6;
    vd->n_multi = s->multi_len / 6;
    memcpy(vd->uni, s->uni, s->uni_len);
    memcpy(vd->multi, s->multi, s->multi_len);
    for (unsigned i = 0; i < s->nqueues; i++) {
        const VnetMigQueue *mq = &s->q[i];
        VnetQueue *q = &vd->queues[i];

        q->vq.size = mq->size;
        q->vq.desc_gpa = mq->desc;
        q->vq.avail_gpa = mq->avail;
        q->vq.used_gpa = mq->used;
        q->vq.event_idx = vnet_has(vd, NETBE_VIRTIO_F_RING_EVENT_IDX);
        q->vq.indirect = vnet_has(vd, NETBE_VIRTIO_F_RING_INDIRECT_DESC);
        q->vq.last_avail_idx = q->vq.seen_avail_idx = mq->last_avail;
        q->vq.used_idx = mq->used_idx;
        q->vq.signalled_used = mq->signalled_used;
        q->vq.signalled_valid = mq->flags & Q_F_SIGNALLED;
        q->enabled = mq->flags & Q_F_ENABLED;
        if (!q->enabled) {
            continue;
        }
        vnet_queue_buffers(q);
        if (mq->flags & Q_F_BROKEN) {
            vq_fail(&q->vq, "broken before the handover");
            q->stats.broken = true;
        } else {
            vq_map(&q->vq); /* checked: it maps */
        }
    }
}

bool vnet_load(VnetDev *vd, NetbeMigReader *r, GError **errp)
{
    VnetMigState s = {0};
    bool ok = false;

    if (vd->started || vd->load_pending || (vd->status & NETBE_VIRTIO_STATUS_DRIVER_OK)) {
        g_set_error(errp, VNET_ERROR, EBUSY,
                    "device '%s' runs already: load its state before "
                    "the driver starts it",
                    vd->dev->id);
        return false;
    }
    if (!vnet_mig_read(vd, r, &s, errp) || !vnet_mig_check(vd, &s, errp)) {
        g_prefix_error(errp, "device '%s': refusing its state: ", vd->dev->id);
        goto out;
    }
    vnet_mig_apply(vd, &s);
    /* paused until netbe_device_resume(): the source may still roll back */
    vd->paused = true;
    vnet_kicks_unwatch(vd);
    vd->load_pending =
        (vd->status & NETBE_VIRTIO_STATUS_DRIVER_OK) && !(vd->status & NETBE_VIRTIO_STATUS_FAILED);
    ok = true;
out:
    g_free(s.q);
    return ok;
}
