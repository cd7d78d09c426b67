// SPDX-License-Identifier: LGPL-2.1-or-later
/* backend.c - backend instances: lifecycle, queues, counters and the data path. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "netbe-priv.h"

G_DEFINE_QUARK(netbe - backend - error - quark, netbe_backend_error)

NetbeBackend *netbe_backend_new(NetbeRuntime *rt, const char *id, const NetbePlugin *plugin,
                                NetbeOptions *opts, unsigned queue_limit, unsigned rx_batch)
{
    NetbeBackend *be = g_new0(NetbeBackend, 1);

    be->rt = rt;
    be->id = g_strdup(id);
    be->plugin = plugin;
    be->desc = plugin->desc;
    be->opts = opts;
    be->queue_limit = queue_limit;
    be->rx_batch = rx_batch ? rx_batch : NETBE_RX_BATCH_DEFAULT;
    be->priv = be->desc->state_size ? g_malloc0(be->desc->state_size) : NULL;
    netbe_backend_set_queues(be, 1, NULL);
    return be;
}

bool netbe_backend_init(NetbeBackend *be, GError **errp)
{
    be->initialized = true; /* cleanup() is due even if init() fails half-way */
    return be->desc->init(be, be->opts, errp);
}

bool netbe_backend_connect(NetbeBackend *be, GError **errp)
{
    GError *err = NULL;

    if (be->connected) {
        return true;
    }
    if (be->retired) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENODEV, "netdev '%s' (%s) was deleted", be->id,
                    be->desc->name);
        return false;
    }
    if (!be->desc->backend_connect(be, &err)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, err->code, "netdev '%s' (%s): %s", be->id,
                    be->desc->name, err->message);
        g_error_free(err);
        return false;
    }
    be->connected = true;
    netbe_backend_state_event(be, true);
    return true;
}

bool netbe_backend_has_queue_fds(const NetbeBackend *be)
{
    return be->desc->send == NULL;
}

/* Drop what the queues hold, counting every frame as a drop, and close their fds. */
static void backend_clear_queues(NetbeBackend *be)
{
    for (unsigned q = 0; q < be->nqueues; q++) {
        NetbeBackendQueue *bq = &be->queues[q];

        qio_close(&bq->io);
        if (bq->release) {
            g_source_destroy(bq->release);
            g_source_unref(bq->release);
            bq->release = NULL;
        }
        bq->stats.tx_drops += netbe_frame_queue_clear(&bq->txq);
        bq->stats.rx_drops += netbe_frame_queue_clear(&bq->rxq);
    }
}

void netbe_backend_free(NetbeBackend *be)
{
    if (!be) {
        return;
    }
    netbe_backend_release(be);
    netbe_rate_limit_free(be->rate);
    backend_clear_queues(be);
    g_free(be->drain_buf);
    g_free(be->queues);
    netbe_options_free(be->opts);
    g_free(be->priv);
    g_free(be->peer_name);
    g_free(be->id);
    g_free(be);
}

void netbe_backend_attach(NetbeBackend *be, const NetbePeerOps *ops, void *peer,
                          const char *peer_name)
{
    be->peer_ops = ops;
    be->peer = peer;
    g_free(be->peer_name);
    be->peer_name = g_strdup(peer_name);
}

/* Read queue q (its fd, or through the producer's poll()), if that changes anything. */
static void backend_poll(NetbeBackend *be, unsigned q, bool enable)
{
    NetbeBackendQueue *bq = &be->queues[q];

    if (bq->polling != enable && be->connected) {
        bq->polling = enable;
        if (netbe_backend_has_queue_fds(be)) {
            qio_set_rx(&bq->io, enable);
        } else {
            be->desc->poll(be, q, enable);
        }
    }
}

void netbe_backend_start(NetbeBackend *be)
{
    be->started = true;
    for (unsigned q = 0; q < be->nqueues; q++) {
        /* frames held from before (a handover brings them) go first, in order */
        if (netbe_frame_queue_length(&be->queues[q].txq)) {
            netbe_backend_tx_ready(be, q);
        }
        if (netbe_frame_queue_length(&be->queues[q].rxq) && be->peer_ops) {
            netbe_backend_rx_flush(be, q);
        }
        backend_poll(be, q, !be->queues[q].rx_limited);
    }
}

void netbe_backend_release(NetbeBackend *be)
{
    netbe_capture_stop(be, NULL); /* the file is complete: the frames go on elsewhere */
    netbe_backend_stop(be);
    if (be->initialized) {
        be->desc->cleanup(be);
        be->initialized = false;
    }
    for (unsigned q = 0; q < be->nqueues; q++) {
        qio_close(&be->queues[q].io);
    }
    if (be->connected) {
        be->connected = false;
        netbe_backend_state_event(be, false);
    }
}

void netbe_backend_stop(NetbeBackend *be)
{
    for (unsigned q = 0; q < be->nqueues; q++) {
        backend_poll(be, q, false);
    }
    be->started = false;
}

void netbe_backend_detach(NetbeBackend *be)
{
    netbe_backend_stop(be);
    for (unsigned q = 0; q < be->nqueues; q++) {
        be->queues[q].stats.rx_drops += netbe_frame_queue_clear(&be->queues[q].rxq);
        be->queues[q].rx_throttled = false;
    }
    be->peer_ops = NULL;
    be->peer = NULL;
    g_clear_pointer(&be->peer_name, g_free);
}

void netbe_backend_retire(NetbeBackend *be)
{
    netbe_backend_release(be);
    backend_clear_queues(be);
    be->link_down = true;
}

void netbe_backend_set_link(NetbeBackend *be, bool up)
{
    if (be->link_down == up) { /* a change: subscribers hear it once (live.c leaves it here) */
        netbe_runtime_emit_event(be->rt, NETBE_EVENT_LINK_CHANGED, "netdev",
                                 g_variant_new_string(be->id), "link",
                                 g_variant_new_string(up ? "up" : "down"), NULL);
    }
    be->link_down = !up;
    if (up) {
        g_clear_pointer(&be->drain_buf, g_free);
    } else if (!be->drain_buf && netbe_backend_has_queue_fds(be)) {
        be->drain_buf = g_malloc(NETBE_FRAME_MAX);
    }
}

/* Link down: read what @queue's fd has (up to @budget frames) and drop it, counted. */
static unsigned backend_drain_rx(NetbeBackend *be, unsigned queue, unsigned budget)
{
    struct iovec iov = {be->drain_buf, NETBE_FRAME_MAX};
    NetbeBackendQueue *bq = &be->queues[queue];
    unsigned n = 0;

    while (be->drain_buf && n < budget) {
        ssize_t len = qio_recv(&bq->io, be->vnet_hdr_len, &iov, 1);

        if (len == 0) {
            break;
        }
        bq->stats.rx_drops++;
        n++;
    }
    return n;
}

bool netbe_backend_control(NetbeBackend *be, const char *cmd, const char *arg, GError **errp)
{
    if (!NETBE_PLUGIN_DESC_HAS(be->desc, control) || !be->desc->control) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP, "netdev '%s' (%s) takes no commands",
                    be->id, be->desc->name);
        return false;
    }
    return be->desc->control(be, cmd, arg, errp);
}

void netbe_backend_set_rx_enabled(NetbeBackend *be, unsigned queue, bool enable)
{
    if (queue < be->nqueues && be->started) {
        backend_poll(be, queue,
                     enable && !be->queues[queue].rx_throttled && !be->queues[queue].rx_limited);
    }
}

/*
 * Whether queue @q may pass a frame in direction @d under the netdev's rate limit: without
 * one, a NULL check. A queue that must wait is resumed by netbe_backend_rate_resume(); its
 * rx stops polling until then (frames wait in the kernel or the producer).
 */
static inline bool backend_rate_admit(NetbeBackend *be, unsigned q, NetbeRateDir d)
{
    if (G_LIKELY(!NETBE_HOOK_RATE(be)) || netbe_rate_limit_admit(be->rate, d, q)) {
        return true;
    }
    if (d == NETBE_RATE_RX) {
        be->queues[q].rx_limited = true;
        backend_poll(be, q, false);
    }
    return false;
}

/* A frame of @len bytes (vnet header included) passed in direction @d: charge the limit. */
static inline void backend_rate_charge(NetbeBackend *be, NetbeRateDir d, size_t len)
{
    if (NETBE_HOOK_RATE(be)) {
        netbe_rate_limit_charge(be->rate, d, len - MIN(len, be->vnet_hdr_len));
    }
}

/* A frame of @len bytes in @iov passed in direction @d while a rate limit or a capture is on:
 * charge it, capture it. Out of line: the data path without them pays one branch. */
static G_GNUC_NO_INLINE void backend_frame_hooks(NetbeBackend *be, NetbeRateDir d,
                                                 const struct iovec *iov, int iovcnt, size_t len)
{
    backend_rate_charge(be, d, len);
    if (be->capture) {
        netbe_capture_frame(be, iov, iovcnt, len);
    }
}

/* A frame of @len bytes in @iov went to the frontend: count it, charge it, capture it. */
static inline void backend_rx_done(NetbeBackend *be, unsigned q, const struct iovec *iov,
                                   int iovcnt, size_t len)
{
    be->queues[q].stats.rx_frames++;
    be->queues[q].stats.rx_bytes += len;
    if (G_UNLIKELY(NETBE_HOOK_RATE(be) || NETBE_HOOK_CAPTURE(be))) {
        backend_frame_hooks(be, NETBE_RATE_RX, iov, iovcnt, len);
    }
}

/* A frame of @len bytes in @iov went out through the backend: count, charge, capture. */
static inline void backend_tx_done(NetbeBackend *be, unsigned q, const struct iovec *iov,
                                   int iovcnt, size_t len)
{
    be->queues[q].stats.tx_frames++;
    be->queues[q].stats.tx_bytes += len;
    if (G_UNLIKELY(NETBE_HOOK_RATE(be) || NETBE_HOOK_CAPTURE(be))) {
        backend_frame_hooks(be, NETBE_RATE_TX, iov, iovcnt, len);
    }
}

/* How many of the @n frames of a batch the tx rate limit lets go now, each charged in advance
 * (one that does not go is refunded); all of them without a limit. */
static unsigned backend_tx_admit_batch(NetbeBackend *be, unsigned q, struct iovec *const *iovs,
                                       const int *cnts, unsigned n)
{
    unsigned ok = 0;

    if (G_LIKELY(!NETBE_HOOK_RATE(be))) {
        return n;
    }
    netbe_rate_limit_stamp(be->rate, true);
    while (ok < n && backend_rate_admit(be, q, NETBE_RATE_TX)) {
        backend_rate_charge(be, NETBE_RATE_TX, netbe_iov_size(iovs[ok], cnts[ok]));
        ok++;
    }
    netbe_rate_limit_stamp(be->rate, false);
    return ok;
}

/* Count what a receive of @iov gave: a frame, nothing, or a lost frame. */
static ssize_t backend_count_rx(NetbeBackend *be, unsigned q, const struct iovec *iov, int iovcnt,
                                ssize_t n)
{
    if (n > 0) {
        backend_rx_done(be, q, iov, iovcnt, (size_t)n);
    } else if (n < 0 && n != -ENOTSUP) {
        be->queues[q].stats.rx_drops++;
    }
    return n;
}

ssize_t netbe_backend_recv(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt)
{
    NetbeBackendQueue *bq = &be->queues[queue];

    if (!backend_rate_admit(be, queue, NETBE_RATE_RX)) {
        return 0;
    }
    return backend_count_rx(be, queue, iov, iovcnt,
                            qio_recv(&bq->io, be->vnet_hdr_len, iov, iovcnt));
}

ssize_t netbe_backend_recv_ref(NetbeBackend *be, unsigned queue, const void **frame)
{
    NetbeBackendQueue *bq = &be->queues[queue];
    ssize_t n;

    if (!backend_rate_admit(be, queue, NETBE_RATE_RX)) {
        return 0;
    }
    n = qio_recv_ref(&bq->io, be->vnet_hdr_len, frame);
    if (n > 0) {
        backend_rx_done(be, queue, &(struct iovec){(void *)*frame, (size_t)n}, 1, (size_t)n);
        return n;
    }
    return backend_count_rx(be, queue, NULL, 0, n);
}

ssize_t netbe_backend_peek_ref(NetbeBackend *be, unsigned queue, const void **frame)
{
    NetbeBackendQueue *bq = &be->queues[queue];
    ssize_t n;

    if (!backend_rate_admit(be, queue, NETBE_RATE_RX)) {
        return 0;
    }
    n = qio_peek_ref(&bq->io, be->vnet_hdr_len, frame);
    if (n < 0) {
        return backend_count_rx(be, queue, NULL, 0, n);
    }
    if (G_UNLIKELY(NETBE_HOOK_CAPTURE(be)) && n > 0) {
        netbe_capture_peeked(be, queue, *frame);
    }
    return n; /* counted when consumed */
}

void netbe_backend_consume(NetbeBackend *be, unsigned queue, size_t len)
{
    NetbeBackendQueue *bq = &be->queues[queue];

    qio_consume(&bq->io);
    bq->stats.rx_frames++;
    bq->stats.rx_bytes += len;
    if (G_UNLIKELY(NETBE_HOOK_RATE(be) || NETBE_HOOK_CAPTURE(be))) {
        backend_rate_charge(be, NETBE_RATE_RX, len);
        if (be->capture) {
            netbe_capture_consumed(be, queue, len);
        }
    }
}

/* Send one frame through the plugin (producer) or the queue fd. */
static ssize_t backend_write(NetbeBackend *be, unsigned q, const struct iovec *iov, int iovcnt)
{
    if (netbe_backend_has_queue_fds(be)) {
        return qio_send(&be->queues[q].io, be->vnet_hdr_len, iov, iovcnt);
    }
    return be->desc->send(be, q, iov, iovcnt);
}

void netbe_backend_queue_readable(NetbeBackend *be, unsigned queue)
{
    unsigned total = 0, taken;

    /* more batches while each was full (a dry or broken fd gives a short one) and the peer
     * still reads (a peer out of buffers, or a rate limit, stops reading) */
    do {
        taken = netbe_backend_rx_ready(be, queue, be->rx_batch);
        total += taken;
    } while (taken == be->rx_batch && total < NETBE_RX_WEIGHT && be->queues[queue].io.rx_on);
}

static gboolean backend_release_due(gpointer data)
{
    NetbeBackendQueue *bq = data;

    g_source_unref(bq->release);
    bq->release = NULL;
    netbe_backend_tx_ready(bq->io.be, bq->io.index);
    return G_SOURCE_REMOVE;
}

/* tx_ready for @queue from the loop, not from inside the send that found the fd broken. */
static void backend_release_sender(NetbeBackend *be, unsigned queue)
{
    NetbeBackendQueue *bq = &be->queues[queue];

    if (!bq->release) {
        bq->release = g_idle_source_new();
        g_source_set_callback(bq->release, backend_release_due, bq, NULL);
        g_source_attach(bq->release, be->rt->ctx);
    }
}

void netbe_backend_queue_broken(NetbeBackend *be, unsigned queue, const char *op, int err)
{
    /* a plugin that handles it (a socket peer left: it reconnects) says what comes next */
    g_log(G_LOG_DOMAIN, be->desc->queue_broken ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_WARNING,
          "netdev '%s' (%s): queue %u: %s%s%s; the queue stops", be->id, be->desc->name, queue,
          err ? op : "end of stream", err ? " failed: " : "", err ? g_strerror(err) : "");
    /* frames held for the fd that broke are lost with it, as QEMU drops them for a peer
     * that went; a frontend waiting to send goes on (its frames are dropped and counted
     * until the plugin hands a new fd) */
    be->queues[queue].stats.tx_drops += netbe_frame_queue_clear(&be->queues[queue].txq);
    if (be->desc->queue_broken) {
        be->desc->queue_broken(be, queue, err);
    }
    backend_release_sender(be, queue);
}

/* Offer the queued frames of txq to the plugin. Return: true when txq is empty. */
static bool backend_flush_tx(NetbeBackend *be, unsigned q)
{
    NetbeBackendQueue *bq = &be->queues[q];
    NetbeFrame *f;

    while ((f = netbe_frame_queue_peek(&bq->txq))) {
        struct iovec iov = {f->data, f->len};
        ssize_t n;

        if (!backend_rate_admit(be, q, NETBE_RATE_TX)) {
            return false;
        }
        n = backend_write(be, q, &iov, 1);
        if (n == 0) {
            return false;
        }
        if (n > 0) {
            backend_tx_done(be, q, &iov, 1, f->len);
        } else {
            bq->stats.tx_drops++;
        }
        netbe_frame_queue_drop_head(&bq->txq);
    }
    return true;
}

/*
 * netbe_backend_send() - one frame from the peer to the backend.
 * @queue_if_busy: copy the frame into the backend's tx queue when the plugin is busy
 *                 (hub); otherwise return 0 and let the caller retry on tx_ready.
 * Return: frame length (sent or queued), 0 busy, -errno when dropped (counted).
 */
ssize_t netbe_backend_send(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt,
                           bool queue_if_busy)
{
    NetbeBackendQueue *bq = &be->queues[queue];
    ssize_t n;

    if (!be->connected || be->link_down) {
        bq->stats.tx_drops++;
        return be->connected ? -ENETDOWN : -ENOTCONN;
    }
    if (netbe_frame_queue_length(&bq->txq) == 0 && backend_rate_admit(be, queue, NETBE_RATE_TX)) {
        n = backend_write(be, queue, iov, iovcnt);
        if (n > 0) {
            backend_tx_done(be, queue, iov, iovcnt, (size_t)n);
            return n;
        }
        if (n < 0) {
            bq->stats.tx_drops++;
            return n;
        }
    }
    if (!queue_if_busy) {
        return 0;
    }
    if (!netbe_frame_queue_push(&bq->txq, iov, iovcnt)) {
        bq->stats.tx_drops++;
        return -ENOBUFS;
    }
    return netbe_iov_size(iov, iovcnt);
}

unsigned netbe_backend_send_batch(NetbeBackend *be, unsigned queue, struct iovec *const *iovs,
                                  const int *cnts, unsigned n, bool queue_if_busy)
{
    NetbeBackendQueue *bq = &be->queues[queue];
    ssize_t res[NETBE_IO_BATCH_MAX];
    unsigned taken = 0, allowed;

    /* one by one: a producer, a frame queue to keep in order, a link that is down */
    if (!netbe_backend_has_queue_fds(be) || !be->connected || be->link_down ||
        n > NETBE_IO_BATCH_MAX || netbe_frame_queue_length(&bq->txq)) {
        for (; taken < n; taken++) {
            if (netbe_backend_send(be, queue, iovs[taken], cnts[taken], queue_if_busy) == 0) {
                break;
            }
        }
        return taken;
    }
    allowed = backend_tx_admit_batch(be, queue, iovs, cnts, n);
    taken = allowed
                ? qio_send_batch(&bq->io, be->rt->io, be->vnet_hdr_len, iovs, cnts, allowed, res)
                : 0;
    for (unsigned i = 0; G_UNLIKELY(NETBE_HOOK_RATE(be)) && i < allowed; i++) {
        if (i >= taken || res[i] <= 0) { /* charged in advance, not sent */
            size_t len = netbe_iov_size(iovs[i], cnts[i]);

            netbe_rate_limit_refund(be->rate, NETBE_RATE_TX, len - MIN(len, be->vnet_hdr_len));
        }
    }
    for (unsigned i = 0; i < taken; i++) {
        if (res[i] > 0) {
            bq->stats.tx_frames++;
            bq->stats.tx_bytes += (uint64_t)res[i];
        } else {
            bq->stats.tx_drops++;
        }
    }
    for (unsigned i = 0; G_UNLIKELY(NETBE_HOOK_CAPTURE(be)) && i < taken; i++) {
        if (res[i] > 0) {
            netbe_capture_frame(be, iovs[i], cnts[i], (size_t)res[i]);
        }
    }
    for (; queue_if_busy && taken < n; taken++) {
        if (!netbe_frame_queue_push(&bq->txq, iovs[taken], cnts[taken])) {
            bq->stats.tx_drops++;
        }
    }
    return taken;
}

void netbe_backend_tx_ready(NetbeBackend *be, unsigned queue)
{
    if (queue >= be->nqueues || !backend_flush_tx(be, queue)) {
        return;
    }
    if (be->peer_ops && be->peer_ops->tx_ready) {
        be->peer_ops->tx_ready(be->peer, be, queue);
    }
}

unsigned netbe_backend_rx_ready(NetbeBackend *be, unsigned queue, unsigned budget)
{
    unsigned taken;

    if (queue >= be->nqueues || !be->started || !be->peer_ops || !be->peer_ops->rx_pull) {
        if (queue < be->nqueues) {
            backend_poll(be, queue, false);
        }
        return 0;
    }
    if (be->link_down) {
        return backend_drain_rx(be, queue, budget);
    }
    be->rt->in_datapath++;                 /* live changes wait: a hub is walking its ports */
    if (G_UNLIKELY(NETBE_HOOK_RATE(be))) { /* one clock read for the batch */
        netbe_rate_limit_stamp(be->rate, true);
    }
    taken = be->peer_ops->rx_pull(be->peer, be, queue, budget);
    if (G_UNLIKELY(NETBE_HOOK_RATE(be))) {
        netbe_rate_limit_stamp(be->rate, false);
    }
    be->rt->in_datapath--;
    qio_unpin(&be->queues[queue].io); /* the peer is done with the frames it was lent */
    return taken;
}

ssize_t netbe_backend_deliver(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt)
{
    NetbeBackendQueue *bq;
    size_t len = netbe_iov_size(iov, iovcnt);
    ssize_t n;

    if (queue >= be->nqueues || len == 0) {
        return -EINVAL;
    }
    bq = &be->queues[queue];
    if (!be->started || !be->peer_ops || be->link_down) {
        bq->stats.rx_drops++;
        return -ENOBUFS;
    }
    if (netbe_frame_queue_length(&bq->rxq) == 0 && backend_rate_admit(be, queue, NETBE_RATE_RX)) {
        be->rt->in_datapath++;
        n = be->peer_ops->rx_push(be->peer, be, queue, iov, iovcnt);
        be->rt->in_datapath--;
        if (n > 0) {
            backend_rx_done(be, queue, iov, iovcnt, len);
            return n;
        }
    }
    if (!netbe_frame_queue_push(&bq->rxq, iov, iovcnt)) {
        bq->stats.rx_drops++;
        return -ENOBUFS;
    }
    if (netbe_frame_queue_is_full(&bq->rxq)) {
        bq->rx_throttled = true;
        backend_poll(be, queue, false);
    }
    return len;
}

ssize_t netbe_backend_requeue_rx(NetbeBackend *be, unsigned queue, const struct iovec *iov,
                                 int iovcnt)
{
    NetbeBackendQueue *bq;
    size_t len;

    if (queue >= be->nqueues) {
        return -EINVAL;
    }
    bq = &be->queues[queue];
    if (!netbe_frame_queue_push(&bq->rxq, iov, iovcnt)) {
        bq->stats.rx_drops++;
        return -ENOBUFS;
    }
    /* it was counted (and charged to the rate limit) as received when it was read; it is
     * again when delivered. A capture has it twice. */
    len = netbe_iov_size(iov, iovcnt);
    bq->stats.rx_frames--;
    bq->stats.rx_bytes -= len;
    if (G_UNLIKELY(NETBE_HOOK_RATE(be))) {
        netbe_rate_limit_refund(be->rate, NETBE_RATE_RX, len - MIN(len, be->vnet_hdr_len));
    }
    return len;
}

/* netbe_backend_rx_flush() - the peer can take frames again: hand it the queued ones. */
void netbe_backend_rx_flush(NetbeBackend *be, unsigned queue)
{
    NetbeBackendQueue *bq = &be->queues[queue];
    NetbeFrame *f;

    while ((f = netbe_frame_queue_peek(&bq->rxq))) {
        struct iovec iov = {f->data, f->len};

        if (!backend_rate_admit(be, queue, NETBE_RATE_RX) ||
            be->peer_ops->rx_push(be->peer, be, queue, &iov, 1) <= 0) {
            return;
        }
        backend_rx_done(be, queue, &iov, 1, f->len);
        netbe_frame_queue_drop_head(&bq->rxq);
    }
    if (bq->rx_throttled) {
        bq->rx_throttled = false;
        backend_poll(be, queue, be->started && !bq->rx_limited);
    }
}

void netbe_backend_rate_resume(NetbeBackend *be, NetbeRateDir d, unsigned queue)
{
    NetbeBackendQueue *bq;

    if (queue >= be->nqueues) {
        return;
    }
    if (d == NETBE_RATE_TX) {
        netbe_backend_tx_ready(be, queue); /* held frames first, then the frontend again */
        return;
    }
    bq = &be->queues[queue];
    bq->rx_limited = false;
    if (netbe_frame_queue_length(&bq->rxq) && be->peer_ops) {
        netbe_backend_rx_flush(be, queue); /* may wait again */
    }
    if (!bq->rx_limited && !bq->rx_throttled) {
        backend_poll(be, queue, be->started);
    }
}

void netbe_backend_get_caps(NetbeBackend *be, NetbeCaps *caps)
{
    memset(caps, 0, sizeof(*caps));
    if (be->desc->get_caps) {
        be->desc->get_caps(be, caps);
    }
    if (!be->desc->set_vnet_hdr_len) {
        caps->flags &= ~NETBE_CAP_VNET_HDR; /* a header it cannot be told the length of */
    }
}

uint64_t netbe_backend_needed_caps(NetbeBackend *be)
{
    return be->initialized && be->desc->needed_caps ? be->desc->needed_caps(be) : 0;
}

const char *const *netbe_backend_extra_syscalls(const NetbeBackend *be)
{
    return be->desc->extra_syscalls;
}

const char *netbe_backend_plugin_name(const NetbeBackend *be)
{
    return be->desc->name;
}

bool netbe_backend_set_vnet_hdr_len(NetbeBackend *be, unsigned len, GError **errp)
{
    if (len && !be->desc->set_vnet_hdr_len) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP, "netdev '%s' (%s): no vnet header", be->id,
                    be->desc->name);
        return false;
    }
    if (be->desc->set_vnet_hdr_len && !be->desc->set_vnet_hdr_len(be, len, errp)) {
        return false;
    }
    be->vnet_hdr_len = len;
    for (unsigned q = 0; len && q < be->nqueues; q++) {
        be->queues[q].io.hdr_len = len; /* the contract of set_vnet_hdr_len(L > 0) */
    }
    return true;
}

bool netbe_backend_set_queue_enabled(NetbeBackend *be, unsigned queue, bool enabled, GError **errp)
{
    if (be->desc->set_queue_enabled && !be->desc->set_queue_enabled(be, queue, enabled, errp)) {
        return false;
    }
    if (queue < be->nqueues) {
        qio_set_enabled(&be->queues[queue].io, enabled);
    }
    return true;
}

bool netbe_backend_set_offloads(NetbeBackend *be, uint32_t offloads, GError **errp)
{
    if (!be->desc->set_offloads) {
        if (offloads) {
            g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP, "netdev '%s' (%s): no offloads", be->id,
                        be->desc->name);
        }
        return offloads == 0;
    }
    return be->desc->set_offloads(be, offloads, errp);
}

/* ---- services for plugins (plugin.h) ---- */

void *netbe_backend_priv(NetbeBackend *be)
{
    return be->priv;
}

const char *netbe_backend_id(const NetbeBackend *be)
{
    return be->id;
}

bool netbe_backend_set_queues(NetbeBackend *be, unsigned queues, GError **errp)
{
    if (queues < 1 || queues > NETBE_MAX_QUEUES) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "netdev '%s': %u queues (allowed: 1..%u)",
                    be->id, queues, NETBE_MAX_QUEUES);
        return false;
    }
    if (queues > 1 && !(be->desc->caps & NETBE_CAP_MULTIQUEUE)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "netdev '%s': %u queues, but plugin '%s' has one (no NETBE_CAP_MULTIQUEUE)",
                    be->id, queues, be->desc->name);
        return false;
    }
    if (be->queues && be->connected) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBUSY,
                    "netdev '%s': queue count cannot change once connected", be->id);
        return false;
    }
    backend_clear_queues(be);
    g_free(be->queues);
    be->nqueues = queues;
    be->queues = g_new0(NetbeBackendQueue, queues);
    for (unsigned q = 0; q < queues; q++) {
        qio_init(&be->queues[q].io, be, q);
        netbe_frame_queue_init(&be->queues[q].txq, be->queue_limit);
        netbe_frame_queue_init(&be->queues[q].rxq, be->queue_limit);
    }
    return true;
}

bool netbe_backend_set_queue_fd(NetbeBackend *be, unsigned queue, const NetbeQueueFd *qfd,
                                GError **errp)
{
    NetbeBackendQueue *bq;

    if (queue >= be->nqueues || !netbe_backend_has_queue_fds(be)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "netdev '%s' (%s): %s", be->id,
                    be->desc->name,
                    queue >= be->nqueues ? "no such queue for a queue fd"
                                         : "a producer plugin (it has send()) cannot hand fds");
        if (qfd->fd >= 0) {
            close(qfd->fd);
        }
        return false;
    }
    bq = &be->queues[queue];
    if (!qio_attach(&bq->io, qfd, be->desc->stream_framing, errp)) {
        return false;
    }
    if (be->vnet_hdr_len && bq->io.hdr_len != be->vnet_hdr_len) {
        g_warning("netdev '%s' (%s): queue %u carries %u-byte vnet headers, the frontend "
                  "uses %u",
                  be->id, be->desc->name, queue, bq->io.hdr_len, be->vnet_hdr_len);
    }
    qio_set_rx(&bq->io, bq->polling);
    return true;
}

int netbe_backend_get_queue_fd(NetbeBackend *be, unsigned queue)
{
    return queue < be->nqueues ? be->queues[queue].io.fd : -1;
}

void netbe_backend_close_queue_fd(NetbeBackend *be, unsigned queue)
{
    if (queue < be->nqueues) {
        qio_close(&be->queues[queue].io);
    }
}

unsigned netbe_backend_get_queues(const NetbeBackend *be)
{
    return be->nqueues;
}

GMainContext *netbe_backend_context(NetbeBackend *be)
{
    return be->rt->ctx;
}

bool netbe_runtime_get_queue_stats(NetbeRuntime *rt, const char *netdev_id, unsigned queue,
                                   NetbeQueueStats *out)
{
    NetbeBackend *be = netbe_runtime_find_backend(rt, netdev_id);

    if (!be || queue >= be->nqueues) {
        return false;
    }
    *out = be->queues[queue].stats;
    out->tx_queued = netbe_frame_queue_length(&be->queues[queue].txq);
    out->rx_queued = netbe_frame_queue_length(&be->queues[queue].rxq);
    return true;
}

NetbeBackend *netbe_runtime_find_backend(NetbeRuntime *rt, const char *id)
{
    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(rt->backends, i);

        if (strcmp(be->id, id) == 0) {
            return be;
        }
    }
    return NULL;
}
