// SPDX-License-Identifier: LGPL-2.1-or-later
/* tap-io.c - the tap plugin's data path: writev/readv on the queue fds, no copies. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "tap-priv.h"

/* The header sent for a frontend without one: no checksum or GSO request. */
static const uint8_t tap_zero_hdr[TAP_HDR_MAX];

void tap_update_hdr_pad(Tap *tap)
{
    tap->hdr_pad = tap->vnet_hdr && tap->peer_hdr_len == 0 ? tap->kernel_hdr_len : 0;
}

/* An fd event: POLLOUT releases a busy sender, POLLIN lets the peer pull frames. */
static void tap_queue_event(int fd, GIOCondition revents, void *opaque)
{
    TapQueue *tq = opaque;
    Tap *tap = tq->tap;

    (void)fd;
    if ((revents & G_IO_OUT) && tq->tx_wait) {
        tq->tx_wait = false;
        tap_queue_update_watch(tq);
        netbe_backend_tx_ready(tap->be, tq->index);
    }
    if ((revents & (G_IO_IN | G_IO_ERR | G_IO_HUP)) && tq->rx_on && !tq->broken) {
        netbe_backend_rx_ready(tap->be, tq->index, tap->batch);
    }
}

/*
 * tap_queue_update_watch() - give the queue's fd watch the events its state asks for:
 * POLLIN while the runtime wants frames, POLLOUT while a send waits. A disabled or
 * broken queue has no watch at all (its fd reports POLLERR forever).
 */
void tap_queue_update_watch(TapQueue *tq)
{
    Tap *tap = tq->tap;
    bool live = tap->connected && tq->fd >= 0 && tq->enabled && !tq->broken;
    GIOCondition events = (tq->rx_on ? G_IO_IN : 0) | (tq->tx_wait ? G_IO_OUT : 0);

    if (!live) {
        netbe_fd_watch_free(tq->watch);
        tq->watch = NULL;
        tq->events = 0;
        return;
    }
    if (!tq->watch) {
        tq->watch = netbe_fd_watch_new(tap->be, tq->fd, events, tap_queue_event, tq);
        tq->events = events;
    } else if (events != tq->events) {
        netbe_fd_watch_set_events(tq->watch, events);
        tq->events = events;
    }
}

void tap_poll(NetbeBackend *be, unsigned queue, bool enable)
{
    Tap *tap = netbe_backend_priv(be);
    TapQueue *tq = &tap->queues[queue];

    tq->rx_on = enable;
    if (tap->connected) {
        tap_queue_update_watch(tq);
    }
}

/* A read or write failed for good (device deleted): stop using the queue, say it once. */
static void tap_queue_broken(TapQueue *tq, const char *op, int err)
{
    Tap *tap = tq->tap;

    g_warning("netdev '%s' (tap): queue %u of '%s': %s failed: %s; the queue stops",
              netbe_backend_id(tap->be), tq->index, tap->ifname, op, g_strerror(err));
    tq->broken = true;
    tap_queue_update_watch(tq);
}

/* Errors that mean the device or queue is gone, not just this frame. A write to a TAP
 * that is down fails with EIO: that frame is lost, the queue is not (it works once the
 * interface is up; a deleted device fails with EBADFD). */
static bool tap_error_is_fatal(int err, bool write)
{
    return err == EBADFD || err == EBADF || (err == EIO && !write) || err == ENODEV || err == ENXIO;
}

/*
 * Prepend one iovec entry (@hdr, @hdr_len) to @iov in @out.
 * Return: the new count, or -1 if @iov has too many entries.
 */
static int tap_iov_prepend(struct iovec *out, void *hdr, size_t hdr_len, const struct iovec *iov,
                           int iovcnt)
{
    if (iovcnt >= TAP_IOV_MAX) {
        return -1;
    }
    out[0].iov_base = hdr;
    out[0].iov_len = hdr_len;
    memcpy(&out[1], iov, sizeof(*iov) * (size_t)iovcnt);
    return iovcnt + 1;
}

/*
 * tap_send() - write one frame (with the frontend's header if it has one) with writev.
 * Return: frame bytes taken, 0 when the TAP is full (POLLOUT is armed and tx_ready
 * follows), -errno to drop.
 */
ssize_t tap_send(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt)
{
    Tap *tap = netbe_backend_priv(be);
    TapQueue *tq = &tap->queues[queue];
    struct iovec padded[TAP_IOV_MAX];
    size_t pad = tap->hdr_pad;
    ssize_t n;

    if (tq->tx_wait) {
        return 0;
    }
    if (tq->broken || !tq->enabled) {
        return -ENOTCONN;
    }
    if (pad) {
        iovcnt = tap_iov_prepend(padded, (void *)tap_zero_hdr, pad, iov, iovcnt);
        if (iovcnt < 0) {
            return -EMSGSIZE;
        }
        iov = padded;
    }
    do {
        /* one entry: write() skips the kernel's iovec import */
        n = iovcnt == 1 ? write(tq->fd, iov[0].iov_base, iov[0].iov_len)
                        : writev(tq->fd, iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int err = errno;

        if (err == EAGAIN) {
            tq->tx_wait = true;
            tap_queue_update_watch(tq);
            return 0;
        }
        if (tap_error_is_fatal(err, true)) {
            tap_queue_broken(tq, "write", err);
        }
        return -err;
    }
    return (size_t)n > pad ? n - (ssize_t)pad : -EINVAL;
}

/*
 * tap_recv() - read one frame straight into the frontend's iovec with readv; a header
 * the frontend does not use goes to a scratch buffer.
 * Return: frame length, 0 when none is pending, -errno when it was lost.
 */
ssize_t tap_recv(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt)
{
    Tap *tap = netbe_backend_priv(be);
    TapQueue *tq = &tap->queues[queue];
    struct iovec padded[TAP_IOV_MAX];
    size_t pad = tap->hdr_pad;
    ssize_t n;

    if (tq->broken || !tq->enabled || tq->fd < 0) {
        return 0;
    }
    if (pad) {
        iovcnt = tap_iov_prepend(padded, tap->rx_hdr, pad, iov, iovcnt);
        if (iovcnt < 0) {
            return -EMSGSIZE;
        }
        iov = padded;
    }
    do {
        n = iovcnt == 1 ? read(tq->fd, iov[0].iov_base, iov[0].iov_len)
                        : readv(tq->fd, iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int err = errno;

        if (err == EAGAIN) {
            return 0;
        }
        if (tap_error_is_fatal(err, false)) {
            tap_queue_broken(tq, "read", err);
        }
        return -err;
    }
    if (n == 0) {
        /* EOF: the device is gone */
        tap_queue_broken(tq, "read", ENODEV);
        return 0;
    }
    return (size_t)n > pad ? n - (ssize_t)pad : -EINVAL;
}
