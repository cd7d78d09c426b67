// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-datapath.c - the virtio-net data path: TX chains to the backend, RX straight into
 * guest buffers, the peer operations the core calls. */
#include <errno.h>
#include <unistd.h>
#include "vnet-priv.h"

#define F(bit) (1ull << NETBE_VIRTIO_NET_F_##bit)

/* ---- TX: guest -> backend, the chain handed over as an iovec into guest memory ---- */

void vnet_kick_self(VnetQueue *q)
{
    uint64_t one = 1;
    ssize_t n = write(q->kick_fd, &one, sizeof(one));

    (void)n;
}

/*
 * Pop up to @max chains (at most NETBE_IO_BATCH_MAX) and hand them to the backend as one
 * batch (one submission where the queue allows); push the chains it took (and those dropped
 * for a bad header), put the others back for tx_ready. Return: chains consumed.
 */
static unsigned vnet_tx_batch(VnetQueue *q, unsigned pair, unsigned max)
{
    VnetDev *vd = q->vd;
    struct iovec *iovs[NETBE_IO_BATCH_MAX];
    int cnts[NETBE_IO_BATCH_MAX];
    uint16_t heads[NETBE_IO_BATCH_MAX];
    bool sendable[NETBE_IO_BATCH_MAX];
    unsigned popped = 0, nsend = 0, taken, used = 0, sent = 0;
    size_t room = 0;

    max = MIN(max, NETBE_IO_BATCH_MAX);
    /* each chain's iovec goes into the pool while there is room for the largest one */
    while (popped < max && VNET_TX_POOL - room >= VQ_MAX_IOV + 2) {
        VqChain c;
        VqPopResult r = vq_pop(&q->vq, q->iov, VQ_MAX_IOV, VQ_ALLOW_READ, &c);
        int n;

        if (r != VQ_POP_OK) {
            break;
        }
        if (c.read_len < VNET_HDR_LEN) {
            vq_fail(&q->vq, "transmit chain of %u bytes is shorter than the %u-byte header",
                    c.read_len, VNET_HDR_LEN);
            break;
        }
        n = vnet_hdr_tx_iov(q->iov, c.nread, vd->be_hdr, q->txpool + room, VQ_MAX_IOV + 2);
        heads[popped] = c.head;
        sendable[popped] = n >= 0;
        if (n >= 0) {
            n = vnet_iov_merge(q->txpool + room, n);
            iovs[nsend] = q->txpool + room;
            cnts[nsend++] = n;
            room += (size_t)n;
        }
        popped++;
    }
    taken = nsend ? netbe_backend_send_batch(vd->be, pair, iovs, cnts, nsend, false) : 0;
    for (; used < popped; used++) {
        if (sendable[used] && sent++ == taken) {
            break; /* the backend is busy from this one on */
        }
        q->stats.drops += !sendable[used];
        vq_push(&q->vq, heads[used], 0);
    }
    if (used < popped) {
        vq_unpop(&q->vq, popped - used); /* kept in guest memory until tx_ready */
        q->tx_busy = true;
    }
    return used;
}

void vnet_tx_run(VnetQueue *q, unsigned pair)
{
    unsigned done = 0, pushed = 0;
    bool more = true;

    if (q->tx_busy) {
        return;
    }
    if (!q->txpool) {
        q->txpool = g_new(struct iovec, VNET_TX_POOL);
    }
    vq_set_notify(&q->vq, false);
    while (more) {
        while (done < VNET_TX_BATCH && !q->tx_busy && !q->vq.broken) {
            unsigned n = vnet_tx_batch(q, pair, VNET_TX_BATCH - done);

            if (n == 0) {
                break;
            }
            done += n;
            pushed += n;
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
        /* dry: spin a little for the driver's next chains, which saves it a kick and us
         * a wakeup, then wait for the kick */
        more = vnet_poll_ring(&q->vq, &q->poll, q->vd->poll_us) || vq_set_notify(&q->vq, true);
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

/* Largest frame within the MTU (with guest header). */
static size_t vnet_rx_mtu_frame(const VnetDev *vd)
{
    return VNET_HDR_LEN + vd->dev->mtu + 14 + 4;
}

/* Largest frame (with guest header) the guest may get. */
static size_t vnet_rx_need(const VnetDev *vd)
{
    bool gso = vd->guest_features & (F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_UFO));

    return gso ? VNET_HDR_LEN + VNET_MAX_GSO_FRAME : vnet_rx_mtu_frame(vd);
}

/*
 * Bytes of guest buffers to gather before reading a frame of unknown length: the largest
 * frame while larger-than-MTU (GSO) frames come, else an MTU frame, the rest of a larger
 * one going to q->hold first. Gathering 64 KiB of small mergeable buffers for every
 * 64-byte frame costs more than the read itself.
 */
static size_t vnet_rx_pull_target(const VnetQueue *q)
{
    return q->rx_large ? vnet_rx_need(q->vd) : MIN(vnet_rx_need(q->vd), vnet_rx_mtu_frame(q->vd));
}

/* A frame of @written bytes (guest header included) was delivered: adapt the target. */
static void vnet_rx_note_size(VnetQueue *q, size_t written)
{
    if (written > vnet_rx_mtu_frame(q->vd)) {
        q->rx_large = true;
        q->rx_small_run = 0;
    } else if (q->rx_large && ++q->rx_small_run >= VNET_RX_SMALL_RUN) {
        q->rx_large = false;
    }
}

/*
 * Have guest buffers for a frame of @target bytes (guest header included) in q->iov: one
 * chain, or with MRG_RXBUF chains until they hold @target bytes, the ring is empty or the
 * iovec is full. Chains a frame did not fill stay popped (q->pre_chains) for the next
 * frame of the batch. Return: false when the ring is broken.
 */
static bool vnet_rx_gather(VnetQueue *q, size_t target)
{
    bool mergeable = vnet_has(q->vd, NETBE_VIRTIO_NET_F_MRG_RXBUF);

    while ((mergeable ? q->pre_cap < target : q->pre_chains == 0) && q->pre_niov < VQ_MAX_IOV) {
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
            return false;
        }
        /* the driver read this buffer's header last time round: take its first two lines
         * (header and a small frame) for writing now, while the frame is being read */
        vnet_mem_prefetch_write(q->iov[q->pre_niov].iov_base);
        vnet_mem_prefetch_write((const uint8_t *)q->iov[q->pre_niov].iov_base + 64);
        q->heads[n] = c.head;
        q->caps[n] = c.write_len;
        q->niovs[n] = c.nwrite;
        q->pre_chains++;
        q->pre_niov += c.nwrite;
        q->pre_cap += c.write_len;
    }
    return true;
}

/* iovec entries of q->iov a frame may use (room for the header adaptation). */
static int vnet_rx_niov(const VnetQueue *q)
{
    return MIN(q->pre_niov, VQ_MAX_IOV - 2);
}

/*
 * A frame of @written bytes did not fit in the buffers gathered: whether waiting for the
 * driver to post more can help (mergeable buffers, a frame no larger than the largest the
 * guest may get, and neither the iovec nor the ring was the limit).
 */
static bool vnet_rx_can_wait(const VnetQueue *q, size_t written)
{
    return vnet_has(q->vd, NETBE_VIRTIO_NET_F_MRG_RXBUF) && written <= vnet_rx_need(q->vd) &&
           q->pre_niov < VQ_MAX_IOV - 2 && q->pre_chains < q->vq.size;
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
    if (q->pre_chains == 0) {
        return; /* the usual case: the frame took every chain popped */
    }
    memmove(q->heads, q->heads + used, q->pre_chains * sizeof(*q->heads));
    memmove(q->caps, q->caps + used, q->pre_chains * sizeof(*q->caps));
    memmove(q->niovs, q->niovs + used, q->pre_chains * sizeof(*q->niovs));
    memmove(q->iov, q->iov + niov, q->pre_niov * sizeof(*q->iov));
}

/*
 * The frame of @written bytes (guest header first) is in the first @niov entries of q->iov:
 * complete its header, write a used entry per chain it fills. Return: chains used.
 */
static unsigned vnet_rx_complete(VnetQueue *q, int niov, size_t written)
{
    unsigned used = 0;
    size_t left;

    for (left = written; left > 0; used++) {
        left -= MIN(left, q->caps[used]);
    }
    vnet_hdr_rx_fix(q->iov, niov, q->vd->be_hdr, used);
    vnet_mem_log_iov(&q->vd->mem, q->iov, niov, written);
    left = written;
    for (unsigned i = 0; i < used; i++) {
        size_t l = MIN(left, q->caps[i]);

        vq_push(&q->vq, q->heads[i], l);
        left -= l;
    }
    vnet_rx_consume(q, used);
    return used;
}

/* Give back the chains popped but not used (end of a batch). */
static void vnet_rx_unpop_all(VnetQueue *q)
{
    vq_unpop(&q->vq, q->pre_chains);
    q->pre_chains = q->pre_niov = 0;
    q->pre_cap = 0;
}

void vnet_rx_requeue_held(VnetQueue *q)
{
    VnetDev *vd = q->vd;
    unsigned pair;
    /* in the backend's format: its header (the first be_hdr bytes of the guest's), then
     * the frame after the guest's header */
    struct iovec iov[2] = {{q->hold, vd->be_hdr},
                           {q->hold + VNET_HDR_LEN, q->held_len - VNET_HDR_LEN}};

    if (!q->held_len || vnet_role(vd, q->index, &pair) != VNET_ROLE_RX) {
        return;
    }
    if (netbe_backend_requeue_rx(vd->be, pair, iov + !vd->be_hdr, 1 + !!vd->be_hdr) < 0) {
        q->stats.drops++;
    }
    q->held_len = 0;
}

void vnet_queue_drain(VnetQueue *q)
{
    if (!q->vq.ready || q->vq.broken) {
        return;
    }
    vnet_rx_unpop_all(q); /* RX chains popped for a frame that did not come */
    /* a TX chain waiting for tx_ready was never taken (vq_unpop in vnet_tx_run) */
    if (vq_has_unpublished(&q->vq)) {
        vnet_flush(q);
    }
}

/* Out of guest buffers: stop the backend's queue and wait for a kick. */
static void vnet_rx_wait(VnetQueue *q, unsigned pair)
{
    q->rx_waiting = true;
    netbe_backend_set_rx_enabled(q->vd->be, pair, false);
    if (vq_set_notify(&q->vq, true)) {
        vnet_kick_self(q); /* buffers came since we looked: go on from the loop */
    }
}

/*
 * Deliver the frame held in q->hold (it did not fit in the buffers posted when it came)
 * once the driver posted enough for it. Return: false while it still waits.
 */
static bool vnet_rx_held(VnetQueue *q, unsigned *pushed)
{
    size_t len = q->held_len;
    int niov;

    if (!vnet_rx_gather(q, len)) {
        return true;
    }
    niov = vnet_rx_niov(q);
    if (netbe_iov_size(q->iov, niov) < len) {
        if (vnet_rx_can_wait(q, len)) {
            return false;
        }
        q->stats.drops++;
    } else {
        vnet_iov_from_buf(q->iov, niov, 0, q->hold, len);
        *pushed += vnet_rx_complete(q, niov, len);
    }
    q->held_len = 0;
    return true;
}

/* Room for a frame of @len bytes in q->hold. */
static void vnet_rx_hold_room(VnetQueue *q, size_t len)
{
    if (q->hold_size < len) {
        q->hold = g_realloc(q->hold, len);
        q->hold_size = len;
    }
}

/*
 * Whether to receive through q->hold: while no larger-than-MTU frames come, and the
 * backend's header is the guest's (or absent), a frame is read with one plain read() into
 * q->hold, which stays in cache, and copied into just the buffers it needs. For frames up
 * to the MTU that costs less than reading into an iovec gathered for the largest frame;
 * GSO frames are read straight into guest buffers.
 */
static bool vnet_rx_bounce_ok(const VnetQueue *q)
{
    return !q->rx_large && (q->vd->be_hdr == 0 || q->vd->be_hdr == VNET_HDR_LEN);
}

/*
 * Receive one frame through q->hold (see vnet_rx_bounce_ok) and deliver it, or hold it
 * there until the driver posts enough buffers (*@wait). Return: the backend's answer
 * (frame bytes, 0 or -EAGAIN: none, other < 0: lost and counted by the backend).
 */
static ssize_t vnet_rx_bounce(VnetQueue *q, unsigned pair, unsigned *pushed, bool *wait)
{
    VnetDev *vd = q->vd;
    size_t need = vnet_rx_need(vd), off = VNET_HDR_LEN - vd->be_hdr, written;
    ssize_t len;

    vnet_rx_hold_room(q, need);
    len = netbe_backend_recv(vd->be, pair, &(struct iovec){q->hold + off, need - off}, 1);
    if (len <= 0) {
        return len;
    }
    written = (size_t)len + off;
    if ((size_t)len > need - off || written < VNET_HDR_LEN + 6 ||
        !vnet_filter_accept(vd, q->hold + VNET_HDR_LEN)) {
        q->stats.drops++; /* cut (larger than the guest may get), runt, or filtered */
        return len;
    }
    vnet_rx_note_size(q, written);
    q->held_len = written;
    *wait = !vnet_rx_held(q, pushed);
    return len;
}

/*
 * Receive up to @budget frames into guest buffers: pulled from the backend with recv,
 * or copied from @src (a frame a push backend produced). Buffers are gathered for the
 * frame at hand: a pushed frame's length is known; a pulled one is received into the
 * buffers posted and, when they are fewer than the largest frame, a tail in q->hold; a
 * frame that overflows into it waits there for more buffers. Return: frames taken from
 * the backend (delivered, dropped or held).
 */
static unsigned vnet_rx_frames(VnetQueue *q, unsigned pair, unsigned budget,
                               const struct iovec *src, int srcn)
{
    VnetDev *vd = q->vd;
    size_t need = vnet_rx_need(vd);
    unsigned taken = 0, pushed = 0;
    bool wait = false, can_peek = true;

    if (q->held_len && !vnet_rx_held(q, &pushed)) {
        wait = true;
        budget = 0;
    }
    while (taken < budget && !q->vq.broken) {
        const struct iovec *fsrc = src;
        int fsrcn = srcn;
        struct iovec lent;
        bool peeked = false;
        size_t written, cap, frame;
        int niov, bn;
        bool spill;
        ssize_t len;
        uint8_t dst[6];

        if (!src && can_peek) {
            /* a frame the backend has in memory (stream, datagram socket) is known before
             * any buffer is gathered: exactly as many as it needs, as for a pushed one */
            const void *p;
            ssize_t n = netbe_backend_peek_ref(vd->be, pair, &p);

            if (n == 0) {
                break;
            }
            if (n > 0) {
                lent = (struct iovec){(void *)p, (size_t)n};
                fsrc = &lent;
                fsrcn = 1;
                peeked = true;
            } else if (n == -ENOTSUP) {
                can_peek = false; /* a TAP: not for the rest of the batch either */
            } else {
                taken++; /* lost in the backend (counted there) */
                continue;
            }
        }
        frame = fsrc ? netbe_iov_size(fsrc, fsrcn) : 0;
        written = frame - MIN(frame, vd->be_hdr) + VNET_HDR_LEN;
        if (!vnet_rx_gather(q, fsrc ? written : vnet_rx_pull_target(q))) {
            break;
        }
        if (q->pre_chains == 0) {
            wait = true;
            break;
        }
        if (!fsrc && vnet_rx_bounce_ok(q)) {
            len = vnet_rx_bounce(q, pair, &pushed, &wait);
            if (len == 0 || len == -EAGAIN || wait) {
                taken += len != 0 && len != -EAGAIN;
                break;
            }
            taken++;
            continue;
        }
        niov = vnet_rx_niov(q);
        cap = netbe_iov_size(q->iov, niov);
        if (fsrc && (frame < vd->be_hdr || written > cap)) {
            if (frame >= vd->be_hdr && vnet_rx_can_wait(q, written)) {
                wait = true; /* the core keeps the frame until the driver posts more */
                break;
            }
            if (peeked) {
                netbe_backend_consume(vd->be, pair, frame);
            }
            taken++;
            q->stats.drops++; /* no buffers can ever take it */
            continue;
        }
        bn = vnet_hdr_rx_iov(q->iov, niov, vd->be_hdr, vd->scratch, q->biov, VQ_MAX_IOV);
        bn = vnet_iov_merge(q->biov, bn); /* guest buffers are often contiguous */
        /* fewer bytes posted than the largest frame: a tail catches the rest */
        spill = !fsrc && cap < need && bn < VQ_MAX_IOV;
        if (spill) {
            vnet_rx_hold_room(q, need);
            q->biov[bn++] = (struct iovec){q->hold + cap, need - cap};
        }
        if (fsrc) {
            len = frame;
            vnet_iov_copy(q->biov, bn, fsrc, fsrcn);
            if (peeked) {
                netbe_backend_consume(vd->be, pair, frame);
            }
        } else {
            len = netbe_backend_recv(vd->be, pair, q->biov, bn);
        }
        if (len == 0 || len == -EAGAIN) {
            break;
        }
        taken++;
        written = len - vd->be_hdr + VNET_HDR_LEN;
        if (len >= (ssize_t)vd->be_hdr && written > cap && spill) {
            /* larger than the buffers posted: all of it to q->hold, to wait for more
             * buffers, or dropped when more cannot come (never delivered truncated) */
            vnet_mem_log_iov(&vd->mem, q->iov, niov, cap);
            vnet_iov_to_buf(q->iov, niov, 0, q->hold, cap);
            if (vnet_rx_can_wait(q, written) && written >= VNET_HDR_LEN + 6 &&
                vnet_filter_accept(vd, q->hold + VNET_HDR_LEN)) {
                q->held_len = written;
                wait = true;
                break;
            }
            q->stats.drops++;
            continue;
        }
        if (len < (ssize_t)vd->be_hdr || written > cap ||
            vnet_iov_to_buf(q->iov, niov, VNET_HDR_LEN, dst, 6) < 6 ||
            !vnet_filter_accept(vd, dst)) {
            if (len > 0) { /* what the backend wrote into the buffers is logged */
                vnet_mem_log_iov(&vd->mem, q->iov, niov,
                                 MIN(len >= (ssize_t)vd->be_hdr ? written : VNET_HDR_LEN, cap));
            }
            q->stats.drops += len >= 0; /* negative: the backend counted it */
            continue;                   /* the buffers stay ours for the next frame */
        }
        vnet_rx_note_size(q, written);
        pushed += vnet_rx_complete(q, niov, written);
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

static ssize_t vnet_rx_push(void *peer, NetbeBackend *be, unsigned pair, const struct iovec *iov,
                            int iovcnt)
{
    VnetQueue *q = vnet_active_queue(peer, pair, VNET_ROLE_RX);

    if (!q || q->rx_waiting || vnet_rx_frames(q, pair, 1, iov, iovcnt) == 0) {
        return 0; /* the core keeps it until netbe_backend_rx_flush() */
    }
    return netbe_iov_size(iov, iovcnt);
}

void vnet_rx_kick(VnetQueue *q, unsigned pair)
{
    VnetDev *vd = q->vd;

    if (q->rx_waiting) {
        q->rx_waiting = false;
        vq_set_notify(&q->vq, false);
    }
    if (q->held_len) {
        vnet_rx_frames(q, pair, 0, NULL, 0); /* the held frame first */
        if (q->held_len || q->vq.broken) {
            return;
        }
    }
    /* also after the queue was enabled late: the core only acts on a change */
    netbe_backend_set_rx_enabled(vd->be, pair, true);
    netbe_backend_rx_flush(vd->be, pair);
}

const NetbePeerOps vnet_peer_ops = {
    .rx_pull = vnet_rx_pull,
    .rx_push = vnet_rx_push,
    .tx_ready = vnet_tx_ready,
};
