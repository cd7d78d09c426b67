// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-stream.c - stream data path: QEMU framing, a 4-byte big-endian length per frame. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "sock-priv.h"

/* Most iovec entries of one frame, plus one for the length prefix. */
#define SOCK_IOV_MAX (IOV_MAX - 1)

/* sock_stream_reset() - forget buffered bytes in both directions (new connection). */
void sock_stream_reset(SockState *s)
{
    s->rx_head = s->rx_tail = 0;
    s->rx_broken = s->rx_eof = false;
    s->tx_off = s->tx_len = 0;
}

/*
 * sock_stream_flush_tail() - write the rest of a partly sent frame.
 * @err: set to an errno when the connection failed, 0 otherwise
 * Return: true when nothing is left to write.
 */
bool sock_stream_flush_tail(SockState *s, int *err)
{
    *err = 0;
    while (s->tx_len) {
        ssize_t n = send(s->fd, s->tx_buf + s->tx_off, s->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                *err = errno;
            }
            return false;
        }
        s->tx_off += n;
        s->tx_len -= n;
    }
    s->tx_off = 0;
    return true;
}

/* Keep what sendmsg() did not take of @v (the first @done bytes went out). */
static void keep_tail(SockState *s, const struct iovec *v, int cnt, size_t done)
{
    size_t out = 0;

    for (int i = 0; i < cnt; i++) {
        size_t skip = MIN(done, v[i].iov_len);

        done -= skip;
        memcpy(s->tx_buf + out, (const uint8_t *)v[i].iov_base + skip, v[i].iov_len - skip);
        out += v[i].iov_len - skip;
    }
    s->tx_off = 0;
    s->tx_len = out;
}

/*
 * sock_stream_send() - send one frame with its length prefix in one sendmsg().
 * A partial write keeps the unsent tail and takes the frame; until the tail is
 * out, further frames get 0 (busy) and the core waits for tx_ready.
 * Return: frame length, 0 busy, -errno when the connection failed (it is dropped).
 */
ssize_t sock_stream_send(SockState *s, const struct iovec *iov, int iovcnt)
{
    size_t len = sock_iov_size(iov, iovcnt);
    uint32_t prefix = htonl((uint32_t)len);
    struct iovec v[SOCK_IOV_MAX + 1];
    struct msghdr mh = {.msg_iov = v, .msg_iovlen = iovcnt + 1};
    int err = 0;
    ssize_t n;

    if (iovcnt > SOCK_IOV_MAX) {
        return -EINVAL;
    }
    if (s->tx_len && !sock_stream_flush_tail(s, &err)) {
        if (err) {
            goto lost;
        }
        s->tx_wait = true;
        sock_update_events(s);
        return 0;
    }
    v[0].iov_base = &prefix;
    v[0].iov_len = SOCK_LEN_SIZE;
    memcpy(&v[1], iov, iovcnt * sizeof(*iov));
    do {
        n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN) {
            s->tx_wait = true;
            sock_update_events(s);
            return 0;
        }
        err = errno;
        goto lost;
    }
    if ((size_t)n < len + SOCK_LEN_SIZE) {
        g_debug("netdev '%s': partial write, %zd of %zu bytes; keeping the tail", s->id, n,
                len + SOCK_LEN_SIZE);
        keep_tail(s, v, iovcnt + 1, n);
        sock_update_events(s);
    }
    return len;
lost:
    sock_conn_lost(s, g_strerror(err));
    return -err;
}

/* Bytes buffered and not yet handed out. */
static size_t rx_avail(const SockState *s)
{
    return s->rx_tail - s->rx_head;
}

static uint32_t rx_peek_len(const SockState *s)
{
    uint32_t be_len;

    memcpy(&be_len, s->rx_buf + s->rx_head, SOCK_LEN_SIZE);
    return ntohl(be_len);
}

/* sock_stream_has_frame() - true if recv() has something to say (a frame, or bad framing). */
bool sock_stream_has_frame(const SockState *s)
{
    uint32_t len;

    if (!s->up || !s->rx_buf || s->rx_broken || rx_avail(s) < SOCK_LEN_SIZE) {
        return false;
    }
    len = rx_peek_len(s);
    return len > SOCK_FRAME_MAX || rx_avail(s) >= SOCK_LEN_SIZE + (size_t)len;
}

/* Copy @len bytes from @src into the iovec. */
static void copy_to_iov(const struct iovec *iov, int iovcnt, const uint8_t *src, size_t len)
{
    for (int i = 0; i < iovcnt && len; i++) {
        size_t n = MIN(len, iov[i].iov_len);

        memcpy(iov[i].iov_base, src, n);
        src += n;
        len -= n;
    }
}

/*
 * sock_stream_recv() - hand the next complete buffered frame to the peer.
 * Return: its length; 0 when no whole frame is buffered; -EMSGSIZE for a frame
 * longer than @iov or than SOCK_FRAME_MAX (then the framing is lost, the caller
 * drops the connection); -EINVAL for an empty frame. Errors count as drops.
 */
ssize_t sock_stream_recv(SockState *s, const struct iovec *iov, int iovcnt)
{
    uint32_t len;

    if (!sock_stream_has_frame(s)) {
        return 0;
    }
    len = rx_peek_len(s);
    if (len > SOCK_FRAME_MAX) {
        s->rx_broken = true;
        s->rx_bad_len = len;
        return -EMSGSIZE;
    }
    s->rx_head += SOCK_LEN_SIZE;
    if (len == 0) {
        return -EINVAL;
    }
    if (len > sock_iov_size(iov, iovcnt)) {
        s->rx_head += len;
        return -EMSGSIZE;
    }
    copy_to_iov(iov, iovcnt, s->rx_buf + s->rx_head, len);
    s->rx_head += len;
    return len;
}

/* The peer closed and every whole frame it sent was delivered. */
static void lost_at_eof(SockState *s)
{
    g_autofree char *why = NULL;

    if (rx_avail(s)) {
        why = g_strdup_printf("closed the connection in the middle of a frame, %zu bytes "
                              "discarded",
                              rx_avail(s));
    }
    sock_conn_lost(s, why ? why : "closed the connection");
}

/*
 * sock_stream_deliver_buffered() - offer buffered frames to the peer while it polls;
 * drop the connection if the framing turned out to be broken.
 */
void sock_stream_deliver_buffered(SockState *s)
{
    for (int round = 0; round < 16 && s->polling && sock_stream_has_frame(s); round++) {
        netbe_backend_rx_ready(s->be, 0, SOCK_RX_BUDGET);
    }
    if (s->rx_broken) {
        g_autofree char *why = g_strdup_printf("it sent a frame length of %u bytes (allowed: at "
                                               "most %d), the framing is lost",
                                               s->rx_bad_len, SOCK_FRAME_MAX);

        g_warning("netdev '%s': dropping the connection to %s: %s", s->id, s->peer_text, why);
        sock_conn_lost(s, "bad frame length");
        return;
    }
    if (s->rx_eof && !sock_stream_has_frame(s)) {
        lost_at_eof(s);
        return;
    }
    if (s->polling && sock_stream_has_frame(s)) {
        sock_schedule_kick(s); /* budget spent: let others run, come back */
    }
    sock_update_events(s);
}

/* Make room at the end of the buffer for at least one whole frame. */
static void rx_compact(SockState *s)
{
    if (s->rx_head == s->rx_tail) {
        s->rx_head = s->rx_tail = 0;
    } else if (SOCK_RX_BUF_SIZE - s->rx_tail < SOCK_FRAME_MAX + SOCK_LEN_SIZE && s->rx_head) {
        memmove(s->rx_buf, s->rx_buf + s->rx_head, rx_avail(s));
        s->rx_tail -= s->rx_head;
        s->rx_head = 0;
    }
}

/*
 * sock_stream_readable() - read what the socket has (as much as the buffer takes),
 * hand complete frames to the peer, and notice the peer closing.
 */
void sock_stream_readable(SockState *s)
{
    ssize_t n;
    int err;

    rx_compact(s);
    if (s->rx_tail == SOCK_RX_BUF_SIZE) {
        sock_update_events(s); /* full of frames the peer has not taken */
        return;
    }
    do {
        n = read(s->fd, s->rx_buf + s->rx_tail, SOCK_RX_BUF_SIZE - s->rx_tail);
    } while (n < 0 && errno == EINTR);
    err = n < 0 ? errno : 0;
    if (n > 0) {
        s->rx_tail += n;
        s->rx_any = true;
        s->quiet = false;
    } else if (n == 0) {
        s->rx_eof = true; /* delivered frames first, then the connection goes */
    } else if (err != EAGAIN) {
        sock_conn_lost(s, g_strerror(err));
        return;
    }
    sock_stream_deliver_buffered(s);
}
