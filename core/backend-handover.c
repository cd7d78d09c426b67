// SPDX-License-Identifier: LGPL-2.1-or-later
/* backend-handover.c - one backend's handover record: the core's part (held frames, queue
 * fds), then the plugin's own state with its version. */
#include <errno.h>
#include "migrate/mig-priv.h"
#include "migrate/mig-session.h"

/* Frames netbe holds for one direction: u32 count, then each as bytes. */
static void save_frames(NetbeMigWriter *w, NetbeFrameQueue *q, uint32_t *count)
{
    netbe_mig_put_u32(w, netbe_frame_queue_length(q));
    for (GList *l = q->frames.head; l; l = l->next) {
        NetbeFrame *f = l->data;

        netbe_mig_put_bytes(w, f->data, f->len);
    }
    *count += netbe_frame_queue_length(q);
}

static bool load_frames(NetbeMigReader *r, NetbeFrameQueue *q, uint32_t *count)
{
    uint32_t n;

    if (!netbe_mig_get_u32(r, &n)) {
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        const void *data;
        uint32_t len;
        struct iovec iov;

        if (!netbe_mig_get_bytes(r, &data, &len)) {
            return false;
        }
        iov.iov_base = (void *)data;
        iov.iov_len = len;
        if (!netbe_frame_queue_push(q, &iov, 1)) {
            return false; /* more than our queue_limit: configs differ */
        }
        (*count)++;
    }
    return true;
}

/* Marks the counters after a plugin's state ("CNTR"). */
#define MIG_COUNTERS_MAGIC 0x434e5452u

void mig_backend_save_counters(const NetbeBackend *be, NetbeMigWriter *w)
{
    netbe_mig_put_u32(w, MIG_COUNTERS_MAGIC);
    netbe_mig_put_u32(w, be->nqueues);
    for (unsigned q = 0; q < be->nqueues; q++) {
        const NetbeQueueStats *st = &be->queues[q].stats;

        netbe_mig_put_u64(w, st->tx_frames);
        netbe_mig_put_u64(w, st->tx_bytes);
        netbe_mig_put_u64(w, st->tx_drops);
        netbe_mig_put_u64(w, st->rx_frames);
        netbe_mig_put_u64(w, st->rx_bytes);
        netbe_mig_put_u64(w, st->rx_drops);
    }
}

/* The source's counters, if the record has them, added to ours (which counted from 0 what
 * happened here before the handover). Return: false if they are malformed. */
static bool load_counters(NetbeBackend *be, NetbeMigReader *r)
{
    NetbeQueueStats in[NETBE_MAX_QUEUES];
    uint32_t magic, n;

    if (netbe_mig_reader_at_end(r)) {
        return true; /* a version 2 source */
    }
    if (!netbe_mig_get_u32(r, &magic) || magic != MIG_COUNTERS_MAGIC || !netbe_mig_get_u32(r, &n) ||
        n != be->nqueues) {
        return false;
    }
    for (unsigned q = 0; q < n; q++) {
        if (!netbe_mig_get_u64(r, &in[q].tx_frames) || !netbe_mig_get_u64(r, &in[q].tx_bytes) ||
            !netbe_mig_get_u64(r, &in[q].tx_drops) || !netbe_mig_get_u64(r, &in[q].rx_frames) ||
            !netbe_mig_get_u64(r, &in[q].rx_bytes) || !netbe_mig_get_u64(r, &in[q].rx_drops)) {
            return false;
        }
    }
    for (unsigned q = 0; q < n; q++) {
        NetbeQueueStats *st = &be->queues[q].stats;

        st->tx_frames += in[q].tx_frames;
        st->tx_bytes += in[q].tx_bytes;
        st->tx_drops += in[q].tx_drops;
        st->rx_frames += in[q].rx_frames;
        st->rx_bytes += in[q].rx_bytes;
        st->rx_drops += in[q].rx_drops;
    }
    return true;
}

/* A load that failed: the queue fds it took go (the source still has its own). */
static void mig_backend_drop_queue_fds(NetbeBackend *be)
{
    for (unsigned q = 0; q < be->nqueues; q++) {
        qio_close(&be->queues[q].io);
    }
}

bool mig_backend_can_move(const NetbeBackend *be)
{
    return be->connected && (be->desc->caps & NETBE_CAP_HANDOVER) &&
           be->connect == NETBE_CONNECT_DEFERRED;
}

bool mig_backend_save(NetbeBackend *be, NetbeMigWriter *w, uint32_t *frames, GError **errp)
{
    return mig_backend_save_as(be, w, be->desc->state_version, frames, errp);
}

bool mig_backend_save_as(NetbeBackend *be, NetbeMigWriter *w, uint32_t state_version,
                         uint32_t *frames, GError **errp)
{
    netbe_mig_put_string(w, be->id);
    netbe_mig_put_string(w, be->desc->name);
    netbe_mig_put_u32(w, be->nqueues);
    netbe_mig_put_u32(w, be->vnet_hdr_len);
    for (unsigned q = 0; q < be->nqueues; q++) {
        save_frames(w, &be->queues[q].txq, frames);
        save_frames(w, &be->queues[q].rxq, frames);
        qio_save(&be->queues[q].io, w); /* the queue fd, its shape and buffered bytes */
    }
    netbe_mig_put_u32(w, state_version);
    if (!be->desc->save(be, w, errp)) {
        g_prefix_error(errp, "netdev '%s' (%s): save: ", be->id, be->desc->name);
        return false;
    }
    return true;
}

bool mig_backend_load(NetbeBackend *be, NetbeMigReader *r, uint32_t *frames, GError **errp)
{
    uint32_t vnet_hdr_len, version;
    GError *err = NULL;

    if (be->connected) {
        g_set_error(errp, NETBE_MIG_ERROR, EBUSY,
                    "netdev '%s' is connected already (its "
                    "frontend is connect=immediate): refusing the incoming state and fds",
                    be->id);
        return false;
    }
    if (!netbe_mig_get_u32(r, &vnet_hdr_len) || vnet_hdr_len > 20) {
        goto malformed;
    }
    for (unsigned q = 0; q < be->nqueues; q++) {
        if (!load_frames(r, &be->queues[q].txq, frames) ||
            !load_frames(r, &be->queues[q].rxq, frames)) {
            goto malformed;
        }
        if (!qio_load(&be->queues[q].io, r, be->desc->stream_framing, &err)) {
            goto failed;
        }
    }
    if (!netbe_mig_get_u32(r, &version)) {
        goto malformed;
    }
    if (!be->desc->load(be, r, version, &err)) {
        goto failed;
    }
    be->vnet_hdr_len = vnet_hdr_len;
    be->connected = true;
    if (!load_counters(be, r) || !netbe_rate_limit_load(be, r) || !netbe_mig_reader_at_end(r)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                    "netdev '%s' (%s): the record holds more "
                    "than the plugin read (versions differ?)",
                    be->id, be->desc->name);
        return false;
    }
    netbe_backend_state_event(be, true);
    return true;
failed:
    g_set_error(errp, NETBE_MIG_ERROR, err->code, "netdev '%s' (%s): %s", be->id, be->desc->name,
                err->message);
    g_error_free(err);
    mig_backend_drop_queue_fds(be);
    return false;
malformed:
    mig_backend_drop_queue_fds(be);
    g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "netdev '%s': malformed backend record", be->id);
    return false;
}
