/* virtio-net.c - the virtio-net device: features, status, queues, RX and TX paths. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
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
    { F(GUEST_TSO4), F(GUEST_CSUM) },
    { F(GUEST_TSO6), F(GUEST_CSUM) },
    { F(GUEST_UFO), F(GUEST_CSUM) },
    { F(GUEST_ECN), F(GUEST_TSO4) | F(GUEST_TSO6) },
    { F(HOST_TSO4), F(CSUM) },
    { F(HOST_TSO6), F(CSUM) },
    { F(HOST_UFO), F(CSUM) },
    { F(HOST_ECN), F(HOST_TSO4) | F(HOST_TSO6) },
    { F(CTRL_RX), F(CTRL_VQ) },
    { F(CTRL_RX_EXTRA), F(CTRL_RX) },
    { F(MQ), F(CTRL_VQ) },
    { F(CTRL_MAC_ADDR), F(CTRL_VQ) },
    { F(CTRL_GUEST_OFFLOADS), F(CTRL_VQ) },
};

/* Backend offload bit -> device features it allows (host side, guest side). */
static const struct {
    uint32_t offload;
    uint64_t features;
} offload_features[] = {
    { NETBE_OFFLOAD_CSUM, F(CSUM) | F(GUEST_CSUM) | F(CTRL_GUEST_OFFLOADS) },
    { NETBE_OFFLOAD_TSO4, F(HOST_TSO4) | F(GUEST_TSO4) },
    { NETBE_OFFLOAD_TSO6, F(HOST_TSO6) | F(GUEST_TSO6) },
    { NETBE_OFFLOAD_ECN, F(HOST_ECN) | F(GUEST_ECN) },
    { NETBE_OFFLOAD_UFO, F(HOST_UFO) | F(GUEST_UFO) },
};

/* Guest offload feature -> backend offload bit (what the backend may hand the guest). */
static const struct {
    unsigned bit;
    uint32_t offload;
} guest_offloads[] = {
    { NETBE_VIRTIO_NET_F_GUEST_CSUM, NETBE_OFFLOAD_CSUM },
    { NETBE_VIRTIO_NET_F_GUEST_TSO4, NETBE_OFFLOAD_TSO4 },
    { NETBE_VIRTIO_NET_F_GUEST_TSO6, NETBE_OFFLOAD_TSO6 },
    { NETBE_VIRTIO_NET_F_GUEST_ECN, NETBE_OFFLOAD_ECN },
    { NETBE_VIRTIO_NET_F_GUEST_UFO, NETBE_OFFLOAD_UFO },
};

static const char *const role_names[] = { "unused", "rx", "tx", "ctrl" };

/* ---- queue roles ---- */

/* What virtqueue @i is under the negotiated features; @pair gets its queue pair. */
static VnetRole vnet_role(const VnetDev *vd, unsigned i, unsigned *pair)
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
static VnetQueue *vnet_active_queue(VnetDev *vd, unsigned pair, VnetRole role)
{
    VnetQueue *q;

    if (!vd->started || pair >= vd->curr_pairs) {
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

static void vnet_notify_config(VnetDev *vd)
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

/* ---- TX: guest -> backend, the chain handed over as an iovec into guest memory ---- */

static void vnet_kick_self(VnetQueue *q)
{
    uint64_t one = 1;
    ssize_t n = write(q->kick_fd, &one, sizeof(one));

    (void)n;
}

static void vnet_tx_run(VnetQueue *q, unsigned pair)
{
    VnetDev *vd = q->vd;
    unsigned done = 0, pushed = 0;
    bool more = true;

    if (q->tx_busy) {
        return;
    }
    vq_set_notify(&q->vq, false);
    while (more) {
        while (done < VNET_TX_BATCH) {
            VqChain c;
            VqPopResult r = vq_pop(&q->vq, q->iov, VQ_MAX_IOV, VQ_ALLOW_READ, &c);
            ssize_t sent = -1;
            int n;

            if (r != VQ_POP_OK) {
                break;
            }
            if (c.read_len < VNET_HDR_LEN) {
                vq_fail(&q->vq, "transmit chain of %u bytes is shorter than the %u-byte header",
                        c.read_len, VNET_HDR_LEN);
                break;
            }
            n = vnet_hdr_tx_iov(q->iov, c.nread, vd->be_hdr, q->biov, VQ_MAX_IOV + 2);
            if (n >= 0) {
                n = vnet_iov_merge(q->biov, n);
                sent = netbe_backend_send(vd->be, pair, q->biov, n, false);
                if (sent == 0) {
                    vq_unpop(&q->vq, 1); /* keep it in guest memory until tx_ready */
                    q->tx_busy = true;
                    break;
                }
            } else {
                q->stats.drops++;
            }
            vq_push(&q->vq, c.head, 0);
            done++;
            pushed++;
        }
        if (pushed) {
            q->stats.chains += pushed;
            pushed = 0;
            vnet_flush(q);
        }
        if (q->vq.broken) {
            vnet_queue_broken(q);
            return;
        }
        if (q->tx_busy) {
            return;
        }
        if (done >= VNET_TX_BATCH) {
            vnet_kick_self(q); /* let other sources run, then continue */
            return;
        }
        more = vq_set_notify(&q->vq, true);
    }
}

static void vnet_tx_ready(void *peer, NetbeBackend *be, unsigned pair)
{
    VnetDev *vd = peer;
    VnetQueue *q = vnet_active_queue(vd, pair, VNET_ROLE_TX);

    if (pair < vd->max_pairs) {
        vd->queues[2 * pair + 1].tx_busy = false;
    }
    if (q) {
        vnet_tx_run(q, pair);
    }
}

/* ---- RX: backend -> guest, straight into guest buffers ---- */

/* Largest frame (with guest header) the guest may get. */
static size_t vnet_rx_need(const VnetDev *vd)
{
    bool gso = vd->guest_features & (F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_UFO));

    return VNET_HDR_LEN + (gso ? VNET_MAX_GSO_FRAME : vd->dev->mtu + 14 + 4);
}

/*
 * Have guest buffers for one frame in q->iov: one chain, or with MRG_RXBUF as many as
 * the largest frame needs. Chains a frame did not fill stay popped (q->pre_chains) for
 * the next frame of the batch. Return: iovec entries, 0 when there are not enough
 * buffers, -1 when the ring is broken.
 */
static int vnet_rx_gather(VnetQueue *q)
{
    VnetDev *vd = q->vd;
    bool mergeable = vnet_has(vd, NETBE_VIRTIO_NET_F_MRG_RXBUF);
    size_t need = vnet_rx_need(vd);

    if (!mergeable && q->pre_chains > 0) {
        return q->pre_niov;
    }
    while (q->pre_cap < need && q->pre_niov < VQ_MAX_IOV) {
        unsigned n = q->pre_chains;
        VqChain c;
        VqPopResult r = vq_pop(&q->vq, q->iov + q->pre_niov, VQ_MAX_IOV, VQ_ALLOW_WRITE, &c);

        if (r == VQ_POP_EMPTY) {
            break;
        }
        if (r == VQ_POP_OK && c.write_len < VNET_HDR_LEN) {
            vq_fail(&q->vq, "receive buffer of %u bytes is shorter than the %u-byte header",
                    c.write_len, VNET_HDR_LEN);
        }
        if (q->vq.broken) {
            return -1;
        }
        q->heads[n] = c.head;
        q->caps[n] = c.write_len;
        q->niovs[n] = c.nwrite;
        q->pre_chains++;
        q->pre_niov += c.nwrite;
        q->pre_cap += c.write_len;
        if (!mergeable) {
            return q->pre_niov;
        }
    }
    return q->pre_cap >= need || q->pre_niov >= VQ_MAX_IOV ? (int)q->pre_niov : 0;
}

/* The first @used popped chains carry a frame now: drop them from the popped set. */
static void vnet_rx_consume(VnetQueue *q, unsigned used)
{
    unsigned niov = 0;

    for (unsigned i = 0; i < used; i++) {
        niov += q->niovs[i];
        q->pre_cap -= q->caps[i];
    }
    q->pre_chains -= used;
    q->pre_niov -= niov;
    memmove(q->heads, q->heads + used, q->pre_chains * sizeof(*q->heads));
    memmove(q->caps, q->caps + used, q->pre_chains * sizeof(*q->caps));
    memmove(q->niovs, q->niovs + used, q->pre_chains * sizeof(*q->niovs));
    memmove(q->iov, q->iov + niov, q->pre_niov * sizeof(*q->iov));
}

/* Give back the chains popped but not used (end of a batch). */
static void vnet_rx_unpop_all(VnetQueue *q)
{
    vq_unpop(&q->vq, q->pre_chains);
    q->pre_chains = q->pre_niov = 0;
    q->pre_cap = 0;
}

/* Out of guest buffers: stop the backend's queue and wait for a kick. */
static void vnet_rx_wait(VnetQueue *q, unsigned pair)
{
    q->rx_waiting = true;
    netbe_backend_set_rx_enabled(q->vd->be, pair, false);
    if (vq_set_notify(&q->vq, true)) {
        /* buffers came since we looked */
        q->rx_waiting = false;
        vq_set_notify(&q->vq, false);
        netbe_backend_set_rx_enabled(q->vd->be, pair, true);
    }
}

/*
 * Receive up to @budget frames into guest buffers: pulled from the backend with recv,
 * or copied from @src (a frame a push backend produced). Return: frames taken from the
 * backend (delivered or dropped).
 */
static unsigned vnet_rx_frames(VnetQueue *q, unsigned pair, unsigned budget,
                               const struct iovec *src, int srcn)
{
    VnetDev *vd = q->vd;
    unsigned taken = 0, pushed = 0;
    bool wait = false;

    while (taken < budget) {
        unsigned used = 0;
        int niov = vnet_rx_gather(q), bn;
        size_t written, left, cap;
        ssize_t len;
        uint8_t dst[6];

        if (niov <= 0) {
            wait = niov == 0;
            break;
        }
        niov = MIN(niov, VQ_MAX_IOV - 2);
        cap = vnet_iov_size(q->iov, niov);
        bn = vnet_hdr_rx_iov(q->iov, niov, vd->be_hdr, vd->scratch, q->biov, VQ_MAX_IOV);
        bn = vnet_iov_merge(q->biov, bn); /* guest buffers are often contiguous */
        if (src) {
            len = vnet_iov_size(src, srcn);
            if ((size_t)len >= vd->be_hdr && (size_t)len - vd->be_hdr + VNET_HDR_LEN <= cap) {
                vnet_iov_copy(q->biov, bn, src, srcn);
            } else {
                len = -EMSGSIZE;
            }
        } else {
            len = netbe_backend_recv(vd->be, pair, q->biov, bn);
        }
        if (len == 0 || len == -EAGAIN) {
            break;
        }
        taken++;
        written = len - vd->be_hdr + VNET_HDR_LEN;
        if (len < (ssize_t)vd->be_hdr || written > cap ||
            vnet_iov_to_buf(q->iov, niov, VNET_HDR_LEN, dst, 6) < 6 ||
            !vnet_filter_accept(vd, dst)) {
            q->stats.drops += len >= 0; /* negative: the backend counted it */
            continue;                   /* the buffers stay ours for the next frame */
        }
        for (left = written; left > 0; used++) {
            left -= MIN(left, q->caps[used]);
        }
        vnet_hdr_rx_fix(q->iov, niov, vd->be_hdr, used);
        left = written;
        for (unsigned i = 0; i < used; i++) {
            size_t l = MIN(left, q->caps[i]);

            vq_push(&q->vq, q->heads[i], l);
            left -= l;
        }
        vnet_rx_consume(q, used);
        pushed += used;
    }
    if (!q->vq.broken) {
        vnet_rx_unpop_all(q);
    }
    if (pushed) {
        q->stats.chains += pushed;
        vnet_flush(q);
    }
    if (q->vq.broken) {
        vnet_queue_broken(q);
    } else if (wait) {
        vnet_rx_wait(q, pair);
    }
    return taken;
}

static unsigned vnet_rx_pull(void *peer, NetbeBackend *be, unsigned pair, unsigned budget)
{
    VnetQueue *q = vnet_active_queue(peer, pair, VNET_ROLE_RX);

    if (!q) {
        netbe_backend_set_rx_enabled(be, pair, false);
        return 0;
    }
    return vnet_rx_frames(q, pair, budget, NULL, 0);
}

static ssize_t vnet_rx_push(void *peer, NetbeBackend *be, unsigned pair,
                            const struct iovec *iov, int iovcnt)
{
    VnetQueue *q = vnet_active_queue(peer, pair, VNET_ROLE_RX);

    if (!q || q->rx_waiting || vnet_rx_frames(q, pair, 1, iov, iovcnt) == 0) {
        return 0; /* the core keeps it until netbe_backend_rx_flush() */
    }
    return vnet_iov_size(iov, iovcnt);
}

static void vnet_rx_kick(VnetQueue *q, unsigned pair)
{
    VnetDev *vd = q->vd;

    if (q->rx_waiting) {
        q->rx_waiting = false;
        vq_set_notify(&q->vq, false);
    }
    /* also after the queue was enabled late: the core only acts on a change */
    netbe_backend_set_rx_enabled(vd->be, pair, true);
    netbe_backend_rx_flush(vd->be, pair);
}

static const NetbePeerOps vnet_peer_ops = {
    .rx_pull = vnet_rx_pull,
    .rx_push = vnet_rx_push,
    .tx_ready = vnet_tx_ready,
};

/* ---- kicks ---- */

typedef struct VnetKickSource {
    GSource source;
    VnetQueue *q;
} VnetKickSource;

/* Process queue @q: a kick came, or the device just started. */
static void vnet_queue_run(VnetQueue *q)
{
    VnetDev *vd = q->vd;
    unsigned pair;

    if (!vd->started || !q->enabled || !q->vq.ready || q->vq.broken) {
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

static void vnet_kick_watch(VnetQueue *q)
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

static NetbeCaps vnet_backend_caps(VnetDev *vd)
{
    NetbeCaps caps = { 0, 0, vd->be->nqueues };

    if (vd->be->desc->get_caps) {
        vd->be->desc->get_caps(vd->be, &caps);
    }
    return caps;
}

static uint64_t vnet_offer(VnetDev *vd)
{
    NetbeCaps caps = vnet_backend_caps(vd);
    uint64_t f = F_VERSION_1 | F_RING_EVENT_IDX | F_RING_INDIRECT | F(MAC) | F(STATUS) |
                 F(MTU) | F(MRG_RXBUF) | F(CTRL_VQ) | F(CTRL_RX) | F(CTRL_RX_EXTRA) |
                 F(CTRL_MAC_ADDR);

    if (vd->max_pairs > 1) {
        f |= F(MQ);
    }
    if ((caps.flags & NETBE_CAP_VNET_HDR) && vd->be->desc->set_vnet_hdr_len) {
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
    vd->link_up = true;
    memcpy(vd->mac, dev->mac, 6);
    vnet_filter_reset(vd);
    vd->queues = g_new0(VnetQueue, vd->nqueues);
    for (unsigned i = 0; i < vd->nqueues; i++) {
        VnetQueue *q = &vd->queues[i];

        q->vd = vd;
        q->index = i;
        q->vq.mem = &vd->mem;
        q->max_size = i == 2 * vd->max_pairs ? VNET_CTRL_QUEUE_SIZE
                      : i % 2 ? dev->tx_queue_size : dev->rx_queue_size;
        q->call_fd = -1;
        q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->kick_fd < 0) {
            g_warning("device '%s': cannot create an eventfd for virtqueue %u: %s", dev->id,
                      i, g_strerror(errno));
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

static void vnet_reset_state(VnetDev *vd)
{
    vnet_dev_stop(vd);
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
        g_free(q->heads);
        g_free(q->caps);
        g_free(q->niovs);
    }
    g_free(vd->queues);
    vnet_mem_clear(&vd->mem);
    g_free(vd->name);
    g_free(vd);
}

bool vnet_apply_offloads(VnetDev *vd, uint64_t features, GError **errp)
{
    uint32_t off = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(guest_offloads); i++) {
        if (features & (1ull << guest_offloads[i].bit)) {
            off |= guest_offloads[i].offload;
        }
    }
    if (!vd->be->desc->set_offloads || vd->be_hdr == 0) {
        return off == 0 || (g_set_error(errp, VNET_ERROR, ENOTSUP,
                                        "netdev '%s' cannot take offloads", vd->be->id), false);
    }
    return vd->be->desc->set_offloads(vd->be, off, errp);
}

void vnet_set_pairs(VnetDev *vd, unsigned pairs)
{
    vd->curr_pairs = pairs;
    for (unsigned p = 0; p < vd->be->nqueues; p++) {
        g_autoptr(GError) err = NULL;
        bool on = p < pairs;

        if (vd->be->desc->set_queue_enabled &&
            !vd->be->desc->set_queue_enabled(vd->be, p, on, &err)) {
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
    const NetbePluginDesc *d = vd->be->desc;
    NetbeCaps caps = vnet_backend_caps(vd);
    GError *err = NULL;

    vd->be_hdr = 0;
    if ((caps.flags & NETBE_CAP_VNET_HDR) && d->set_vnet_hdr_len) {
        if (d->set_vnet_hdr_len(vd->be, VNET_HDR_LEN, &err)) {
            vd->be_hdr = VNET_HDR_LEN;
        } else {
            g_warning("device '%s': netdev '%s' refused a %u-byte vnet header (%s); adding and "
                      "stripping it here", vd->dev->id, vd->be->id, VNET_HDR_LEN,
                      err->message);
            g_clear_error(&err);
        }
    }
    vd->be->vnet_hdr_len = vd->be_hdr;
    if (!vnet_apply_offloads(vd, vd->guest_features, errp)) {
        g_prefix_error(errp, "device '%s': ", vd->dev->id);
        return false;
    }
    vnet_set_pairs(vd, 1);
    return true;
}

/* DRIVER_OK: connect (deferred), negotiate, run. */
static bool vnet_start(VnetDev *vd, GError **errp)
{
    if (!netbe_device_start(vd->dev, errp) || !vnet_negotiate_backend(vd, errp)) {
        return false;
    }
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
    return true;
}

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

/* The feature set is one a device can run with (spec 5.1.3.1). */
static bool vnet_features_valid(const VnetDev *vd)
{
    if (!(vd->guest_features & F_VERSION_1)) {
        g_message("device '%s': driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are "
                  "not supported)", vd->dev->id);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(feature_deps); i++) {
        if ((vd->guest_features & feature_deps[i].feature) &&
            !(vd->guest_features & feature_deps[i].needs_any)) {
            g_message("device '%s': feature 0x%" G_GINT64_MODIFIER "x without its "
                      "prerequisite", vd->dev->id, feature_deps[i].feature);
            return false;
        }
    }
    return true;
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
                    "device '%s': virtqueue %u: size %u (allowed: power of two up to %u)",
                    dev->id, vq, size, q->max_size);
        return false;
    }
    if (q->enabled) {
        g_set_error(errp, VNET_ERROR, EBUSY, "device '%s': virtqueue %u is enabled", dev->id,
                    vq);
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

    if (!q || q->enabled == enable) {
        return;
    }
    q->enabled = enable;
    if (!enable) {
        q->vq.ready = false;
        return;
    }
    if (!q->iov) {
        q->iov = g_new(struct iovec, 2 * VQ_MAX_IOV);
        q->biov = g_new(struct iovec, VQ_MAX_IOV + 2);
        q->heads = g_new(uint16_t, 2 * VQ_MAX_IOV);
        q->caps = g_new(uint32_t, 2 * VQ_MAX_IOV);
        q->niovs = g_new(uint16_t, 2 * VQ_MAX_IOV);
    }
    q->vq.event_idx = vd->guest_features & F_RING_EVENT_IDX;
    q->vq.indirect = vd->guest_features & F_RING_INDIRECT;
    if (!vq_map(&q->vq)) {
        vnet_queue_broken(q);
        return;
    }
    if (vd->started) {
        unsigned pair;

        vq_set_notify(&q->vq, vnet_role(vd, vq, &pair) != VNET_ROLE_RX);
        vnet_queue_run(q);
    }
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
    uint16_t st = htole16(vd->link_up ? 1 : 0);
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
