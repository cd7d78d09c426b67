// SPDX-License-Identifier: LGPL-2.1-or-later
/* queue-io.c - the core's I/O on one backend queue fd: framing, headers, readiness, errors. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "netbe/migrate.h"
#include "netbe-priv.h"
#include "queue-io.h"

/* Most iovec entries a frame may have once the core adds a prefix and a header entry. */
#define QIO_IOV_MAX 1024

/* The header written for a frontend without one: no checksum or GSO request. */
static const uint8_t qio_zero_hdr[NETBE_VNET_HDR_MAX];

/* The queue's source: the fd, and frames a stream read ahead that wait without POLLIN. */
typedef struct QioSource {
    GSource source;
    NetbeQueueIo *io;
    gpointer tag;
} QioSource;

static bool qio_stream_has_frame(const NetbeQueueIo *io);
static void qio_update_watch(NetbeQueueIo *io);
static void qio_writable(NetbeQueueIo *io);
static ssize_t qio_ref(NetbeQueueIo *io, unsigned peer_hdr, const void **frame, bool take);

static gboolean qio_source_prepare(GSource *source, gint *timeout)
{
    NetbeQueueIo *io = ((QioSource *)source)->io;

    *timeout = -1;
    return io->rx_on && (io->framing == NETBE_FRAMING_STREAM ? qio_stream_has_frame(io)
                                                             : qio_dgram_has_frame(io));
}

static gboolean qio_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    QioSource *qs = (QioSource *)source;
    NetbeQueueIo *io = qs->io;
    GIOCondition rev = g_source_query_unix_fd(source, qs->tag);

    (void)cb;
    (void)data;
    netbe_loop_fd_note_unblocked(io->be->rt->loop_fd); /* GLib did not block it (recurse) */
    if ((rev & G_IO_OUT) && io->tx_wait) {
        qio_writable(io);
    }
    if (io->fd < 0) {
        return G_SOURCE_CONTINUE;
    }
    if (io->rx_on && ((rev & (G_IO_IN | G_IO_ERR | G_IO_HUP)) || qio_stream_has_frame(io) ||
                      qio_dgram_has_frame(io))) {
        netbe_backend_queue_readable(io->be, io->index);
    } else if (!io->rx_on && (rev & (G_IO_ERR | G_IO_HUP))) {
        /* a hangup reported while nobody reads: poll no more until reading resumes (what
         * is left to read comes then, and the end of it breaks the queue) */
        io->parked = true;
        qio_update_watch(io);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs qio_source_funcs = {
    .prepare = qio_source_prepare,
    .dispatch = qio_source_dispatch,
};

/* Give the source the events the queue's state asks for (none: no source). */
static void qio_update_watch(NetbeQueueIo *io)
{
    GIOCondition events = (io->rx_on ? G_IO_IN : 0) | (io->tx_wait ? G_IO_OUT : 0);
    bool live = io->fd >= 0 && !io->disabled && !(io->parked && !io->tx_wait && !io->rx_on);

    if (io->rx_on) {
        io->parked = false;
    }
    if (!live) {
        if (io->source) {
            g_source_destroy(io->source);
            g_source_unref(io->source);
            io->source = NULL;
        }
        return;
    }
    if (!io->source) {
        QioSource *qs = (QioSource *)g_source_new(&qio_source_funcs, sizeof(QioSource));

        qs->io = io;
        qs->tag = g_source_add_unix_fd(&qs->source, io->fd, events);
        io->source = &qs->source;
        g_source_set_name(io->source, "netbe-queue");
        /* not blocked while dispatched: GLib would rewrite the poll set and signal its wakeup
         * fd twice per frame, which a foreign loop pays for (core/loop-fd.c) */
        g_source_set_can_recurse(io->source, true);
        g_source_attach(io->source, netbe_backend_context(io->be));
    } else if (events != io->events) {
        g_source_modify_unix_fd(io->source, ((QioSource *)io->source)->tag, events);
    } else {
        return;
    }
    io->events = events;
    netbe_loop_fd_note_change(io->be->rt->loop_fd, netbe_backend_context(io->be));
}

void qio_init(NetbeQueueIo *io, NetbeBackend *be, unsigned index)
{
    memset(io, 0, sizeof(*io));
    io->be = be;
    io->index = index;
    io->fd = -1;
}

bool qio_attach(NetbeQueueIo *io, const NetbeQueueFd *qfd, const NetbeStreamFraming *stream,
                GError **errp)
{
    const char *bad = NULL;
    int type = 0;
    socklen_t tlen = sizeof(type);

    qio_close(io);
    if (qfd->fd < 0) {
        bad = "no fd";
    } else if (qfd->hdr_len != 0 && qfd->hdr_len != 10 && qfd->hdr_len != 12 &&
               qfd->hdr_len != 20) {
        bad = "a vnet header length other than 0, 10, 12 or 20";
    } else if (qfd->framing == NETBE_FRAMING_STREAM &&
               (!stream || !stream->frame_len || !stream->write_prefix || stream->prefix_len < 1 ||
                stream->prefix_len > NETBE_STREAM_PREFIX_MAX || stream->max_frame < 64 ||
                stream->max_frame > NETBE_FRAME_MAX)) {
        bad = "stream framing without a valid stream_framing hook in the descriptor";
    } else if (qfd->framing != NETBE_FRAMING_STREAM && qfd->framing != NETBE_FRAMING_PACKET) {
        bad = "an unknown framing";
    } else if (qfd->dest_len > sizeof(io->dest) || (qfd->dest_len && !qfd->dest) ||
               (qfd->dest_len && qfd->framing != NETBE_FRAMING_PACKET)) {
        bad = "a destination address that is too long, missing, or on a stream";
    } else if (fcntl(qfd->fd, F_SETFL, fcntl(qfd->fd, F_GETFL) | O_NONBLOCK) < 0) {
        bad = "an fd that cannot be made non-blocking";
    }
    if (bad) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "netdev '%s' queue %u: %s", io->be->id,
                    io->index, bad);
        if (qfd->fd >= 0) {
            close(qfd->fd);
        }
        return false;
    }
    io->fd = qfd->fd;
    io->hdr_len = qfd->hdr_len;
    io->framing = qfd->framing;
    io->stream = qfd->framing == NETBE_FRAMING_STREAM ? stream : NULL;
    io->dest_len = qfd->dest_len;
    if (qfd->dest_len) {
        memcpy(&io->dest, qfd->dest, qfd->dest_len);
    }
    /* a datagram socket may carry an empty frame; elsewhere a read of 0 is the end */
    io->is_socket = getsockopt(io->fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0;
    io->datagram = io->is_socket && type == SOCK_DGRAM;
    memset(&io->pick, 0, sizeof(io->pick));
    if (io->is_socket && io->framing == NETBE_FRAMING_PACKET) {
        qio_dgram_pool(io);
    }
    qio_update_watch(io);
    return true;
}

void qio_close(NetbeQueueIo *io)
{
    if (io->fd >= 0) {
        close(io->fd);
    }
    io->fd = -1;
    qio_update_watch(io);
    if (io->retry) {
        g_source_destroy(io->retry);
        g_source_unref(io->retry);
        io->retry = NULL;
    }
    io->events = 0;
    io->tx_wait = false;
    io->parked = false;
    if (io->pinned) { /* frames in it are lent out: it goes at qio_unpin(), a new fd gets
                       * a new buffer */
        g_free(io->retired);
        io->retired = io->rbuf;
    } else {
        g_free(io->rbuf);
    }
    io->rbuf = NULL;
    io->rsize = 0;
    io->rhead = io->rtail = 0;
    io->peeked = 0;
    g_free(io->scratch);
    io->scratch = NULL;
    io->scratch_size = 0;
    if (io->pinned) { /* frames in it are lent out: it goes at qio_unpin() */
        g_free(io->retired_pool);
        io->retired_pool = io->pool;
    } else {
        g_free(io->pool);
    }
    g_free(io->pool_len);
    io->pool = NULL;
    io->pool_len = NULL;
    io->pool_count = io->pool_next = 0;
    g_free(io->wbuf);
    io->wbuf = NULL;
    io->wlen = io->woff = 0;
}

void qio_set_rx(NetbeQueueIo *io, bool on)
{
    io->rx_on = on;
    qio_update_watch(io);
}

void qio_set_enabled(NetbeQueueIo *io, bool on)
{
    io->disabled = !on;
    qio_update_watch(io);
}

/* Errors that mean the fd is gone, not just this frame. A write to a TAP that is down
 * fails with EIO: that frame is lost, the queue is not (a deleted device: EBADFD). */
static bool qio_error_is_fatal(int err, bool write)
{
    switch (err) {
    case EBADFD:
    case EBADF:
    case ENODEV:
    case ENXIO:
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN:
    case ESHUTDOWN:
        return true;
    case EIO:
        return !write;
    default:
        return false;
    }
}

/* The fd failed for good (@err; 0: end of stream): close it and tell the backend. */
static void qio_broken(NetbeQueueIo *io, const char *op, int err)
{
    qio_close(io);
    netbe_backend_queue_broken(io->be, io->index, op, err);
}

/* Bytes of header the core adds on writes and drops on reads for a peer with @peer_hdr. */
static size_t qio_pad(const NetbeQueueIo *io, unsigned peer_hdr)
{
    return io->hdr_len > peer_hdr ? io->hdr_len - peer_hdr : 0;
}

/*
 * Put @pre (@pre_n entries) before @iov into @out.
 * Return: the count, or -1 if there are too many entries.
 */
static int qio_iov_join(struct iovec *out, const struct iovec *pre, int pre_n,
                        const struct iovec *iov, int iovcnt)
{
    if (iovcnt > QIO_IOV_MAX - pre_n) {
        return -1;
    }
    memcpy(out, pre, sizeof(*pre) * (size_t)pre_n);
    memcpy(out + pre_n, iov, sizeof(*iov) * (size_t)iovcnt);
    return pre_n + iovcnt;
}

/* One write of @iov: write(), writev() or sendmsg() to the destination; never SIGPIPE. */
static ssize_t qio_write(NetbeQueueIo *io, const struct iovec *iov, int iovcnt)
{
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    ssize_t n;

    do {
        if (io->dest_len) {
            msg.msg_name = &io->dest;
            msg.msg_namelen = io->dest_len;
            n = sendmsg(io->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else if (io->framing == NETBE_FRAMING_STREAM && io->is_socket) {
            n = sendmsg(io->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            /* one entry: write() skips the kernel's iovec import */
            n = iovcnt == 1 ? write(io->fd, iov[0].iov_base, iov[0].iov_len)
                            : writev(io->fd, iov, iovcnt);
        }
    } while (n < 0 && errno == EINTR);
    return n;
}

static gboolean qio_retry_due(gpointer data)
{
    NetbeQueueIo *io = data;

    g_source_unref(io->retry);
    io->retry = NULL;
    io->tx_wait = false;
    netbe_backend_tx_ready(io->be, io->index);
    return G_SOURCE_REMOVE;
}

/* A write failed with errno @err: wait for POLLOUT (or a retry timer for a peer that POLLOUT
 * does not cover), break the queue, or drop the frame. */
static ssize_t qio_write_failed(NetbeQueueIo *io, int err)
{
    if ((err == EAGAIN || err == EWOULDBLOCK) && io->dest_len) {
        io->tx_wait = true;
        if (!io->retry) {
            io->retry = g_timeout_source_new(QIO_DEST_RETRY_MS);
            g_source_set_callback(io->retry, qio_retry_due, io, NULL);
            g_source_attach(io->retry, netbe_backend_context(io->be));
        }
        return 0;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) {
        io->tx_wait = true;
        qio_update_watch(io);
        return 0;
    }
    if (qio_error_is_fatal(err, true)) {
        qio_broken(io, "write", err);
    }
    return -err;
}

/* Stream: keep what is left after @done of the @total bytes of @iov (a frame the socket took
 * only in part), until POLLOUT. */
static void qio_keep_rest(NetbeQueueIo *io, const struct iovec *iov, int iovcnt, size_t total,
                          size_t done)
{
    size_t off = 0;

    io->wlen = total > done ? total - done : 0;
    io->woff = 0;
    io->wbuf = g_malloc(io->wlen);
    for (int i = 0; i < iovcnt; i++) {
        const uint8_t *p = iov[i].iov_base;
        size_t len = iov[i].iov_len;

        if (off + len > done) {
            size_t skip = done > off ? done - off : 0;

            memcpy(io->wbuf + (off + skip - done), p + skip, len - skip);
        }
        off += len;
    }
    io->tx_wait = true;
    qio_update_watch(io);
}

ssize_t qio_send(NetbeQueueIo *io, unsigned peer_hdr, const struct iovec *iov, int iovcnt)
{
    struct iovec all[QIO_IOV_MAX], pre[2];
    uint8_t prefix[NETBE_STREAM_PREFIX_MAX];
    size_t pad = qio_pad(io, peer_hdr), len = netbe_iov_size(iov, iovcnt), prefix_len = 0;
    int pre_n = 0, n_all;
    ssize_t n;

    if (io->fd < 0 || io->disabled) {
        return -ENOTCONN;
    }
    if (len + pad == 0) {
        return -EINVAL; /* an empty frame (a guest's header-only chain): dropped */
    }
    if (io->tx_wait) {
        return 0;
    }
    if (io->framing == NETBE_FRAMING_STREAM) {
        if (len + pad > io->stream->max_frame) {
            return -EMSGSIZE;
        }
        io->stream->write_prefix(prefix, len + pad);
        prefix_len = io->stream->prefix_len;
        pre[pre_n++] = (struct iovec){prefix, prefix_len};
    }
    if (pad) {
        pre[pre_n++] = (struct iovec){(void *)qio_zero_hdr, pad};
    }
    if (pre_n) {
        n_all = qio_iov_join(all, pre, pre_n, iov, iovcnt);
        if (n_all < 0) {
            return -EMSGSIZE;
        }
        iov = all;
        iovcnt = n_all;
    }
    n = qio_write(io, iov, iovcnt);
    if (n < 0) {
        return qio_write_failed(io, errno);
    }
    if (io->framing == NETBE_FRAMING_STREAM && (size_t)n < len + pad + prefix_len) {
        /* taken: the rest goes at POLLOUT */
        qio_keep_rest(io, iov, iovcnt, len + pad + prefix_len, (size_t)n);
        return (ssize_t)len;
    }
    return (size_t)n == len + pad + prefix_len ? (ssize_t)len : -EINVAL;
}

/* POLLOUT: write the rest of a stream frame, then let the frontend send again. */
static void qio_writable(NetbeQueueIo *io)
{
    while (io->wlen > io->woff) {
        ssize_t n = write(io->fd, io->wbuf + io->woff, io->wlen - io->woff);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                qio_broken(io, "write", errno);
            }
            return;
        }
        io->woff += (size_t)n;
    }
    g_free(io->wbuf);
    io->wbuf = NULL;
    io->wlen = io->woff = 0;
    io->tx_wait = false;
    qio_update_watch(io);
    netbe_backend_tx_ready(io->be, io->index);
}

/* Room for @entries iovecs in the queue's scratch array. */
static struct iovec *qio_scratch(NetbeQueueIo *io, size_t entries)
{
    if (io->scratch_size < entries) {
        io->scratch = g_renew(struct iovec, io->scratch, entries);
        io->scratch_size = entries;
    }
    return io->scratch;
}

/* The results of a sendmmsg() batch of which @done went: headers off, errors dealt with. */
/* One frame of a batch went with result @res: without the header the core added, or its
 * error, which breaks the queue (once) when the fd is gone. */
static void qio_frame_written(NetbeQueueIo *io, size_t pad, ssize_t *res)
{
    if (*res >= 0) {
        *res = (size_t)*res >= pad ? *res - (ssize_t)pad : -EINVAL;
    } else if (io->fd >= 0 && qio_error_is_fatal((int)-*res, true)) {
        qio_broken(io, "write", (int)-*res);
    }
}

static unsigned qio_sent_mmsg(NetbeQueueIo *io, size_t pad, unsigned n, ssize_t *res, unsigned done)
{
    for (unsigned i = 0; i < done; i++) {
        qio_frame_written(io, pad, &res[i]);
    }
    if (done < n && io->fd >= 0) {
        qio_write_failed(io, EAGAIN); /* POLLOUT, or the retry timer for a destination */
        return done;
    }
    for (unsigned i = done; i < n; i++) {
        res[i] = -ENOTCONN; /* the queue broke */
    }
    return n;
}

unsigned qio_send_batch(NetbeQueueIo *io, NetbeIoEngine *engine, unsigned peer_hdr,
                        struct iovec *const *iovs, const int *cnts, unsigned n, ssize_t *res)
{
    struct iovec *padded[NETBE_IO_BATCH_MAX] = {0};
    int padded_cnts[NETBE_IO_BATCH_MAX] = {0};
    struct iovec *const *w_iovs = iovs;
    const int *w_cnts = cnts;
    size_t pad = qio_pad(io, peer_hdr), entries = 0;
    unsigned done = 0;

    if (io->fd < 0 || io->disabled || io->framing != NETBE_FRAMING_PACKET ||
        n > NETBE_IO_BATCH_MAX) {
        /* one at a time: a stream's frames are gathered in qio_send */
        for (; done < n; done++) {
            res[done] = qio_send(io, peer_hdr, iovs[done], cnts[done]);
            if (res[done] == 0) {
                break;
            }
        }
        return done;
    }
    if (io->tx_wait) {
        return 0;
    }
    if (pad) {
        struct iovec *room;

        for (unsigned i = 0; i < n; i++) {
            entries += (size_t)cnts[i] + 1;
        }
        room = qio_scratch(io, entries);
        for (unsigned i = 0; i < n; i++) {
            padded[i] = room;
            room[0] = (struct iovec){(void *)qio_zero_hdr, pad};
            memcpy(room + 1, iovs[i], sizeof(*room) * (size_t)cnts[i]);
            padded_cnts[i] = cnts[i] + 1;
            room += padded_cnts[i];
        }
        w_iovs = padded;
        w_cnts = padded_cnts;
    }
    if (io->is_socket) {
        return qio_sent_mmsg(io, pad, n, res, qio_dgram_send_batch(io, w_iovs, w_cnts, n, res));
    }
    while (done < n && io->fd >= 0) {
        unsigned i = done;

        /* a socket may fill mid-batch: keep the order; a TAP's frames fail one by one */
        netbe_io_writev_batch(engine, io->fd, w_iovs + done, w_cnts + done, n - done, res + done,
                              io->is_socket, &io->pick);
        int last_ok = -1;

        for (unsigned k = done; !io->is_socket && k < n; k++) {
            last_ok = res[k] >= 0 ? (int)k : last_ok;
        }
        for (; i < n && res[i] != -ECANCELED; i++) {
            if ((res[i] == -EAGAIN || res[i] == -EWOULDBLOCK) && (int)i < last_ok) {
                res[i] = -ENOBUFS; /* a TAP refused it but took a later one: this one is lost */
            }
            if (res[i] == -EAGAIN || res[i] == -EWOULDBLOCK) {
                qio_write_failed(io, EAGAIN); /* POLLOUT */
                return i;
            }
            qio_frame_written(io, pad, &res[i]);
        }
        done = i; /* a dropped frame cancels the rest of its batch: they go in the next */
    }
    for (; done < n; done++) {
        res[done] = -ENOTCONN; /* the queue broke */
    }
    return n;
}

void qio_unpin(NetbeQueueIo *io)
{
    io->pinned = false;
    g_free(io->retired);
    io->retired = NULL;
    g_free(io->retired_pool);
    io->retired_pool = NULL;
}

/* ---- receive ---- */

/* Read one frame from the fd into @iov; @pad leading bytes are the backend header's part the
 * peer does not take. Return: as qio_recv(). */
static ssize_t qio_read_frame(NetbeQueueIo *io, size_t pad, const struct iovec *iov, int iovcnt)
{
    ssize_t n;

    do {
        if (io->is_socket) {
            /* a datagram longer than the buffers is dropped, never delivered cut */
            struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};

            n = recvmsg(io->fd, &msg, MSG_DONTWAIT);
            if (n >= 0 && (msg.msg_flags & MSG_TRUNC)) {
                return -EMSGSIZE;
            }
        } else {
            n = iovcnt == 1 ? read(io->fd, iov[0].iov_base, iov[0].iov_len)
                            : readv(io->fd, iov, iovcnt);
        }
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int err = errno;

        if (err == EAGAIN || err == EWOULDBLOCK) {
            return 0;
        }
        if (qio_error_is_fatal(err, false)) {
            qio_broken(io, "read", err);
        }
        return -err;
    }
    if (n == 0 && !io->datagram) {
        qio_broken(io, "read", 0); /* the end: the device or peer is gone */
        return 0;
    }
    return (size_t)n > pad ? n - (ssize_t)pad : -EINVAL;
}

/* qio_read_frame() with the @pad bytes read into a scratch entry before @iov. Out of line:
 * its iovec array would make every frame's stack frame 16 KiB. */
static G_GNUC_NO_INLINE ssize_t qio_read_padded(NetbeQueueIo *io, size_t pad,
                                                const struct iovec *iov, int iovcnt)
{
    uint8_t scratch[NETBE_VNET_HDR_MAX];
    struct iovec all[QIO_IOV_MAX], pre = {scratch, pad};
    int n = qio_iov_join(all, &pre, 1, iov, iovcnt);

    return n < 0 ? -EMSGSIZE : qio_read_frame(io, pad, all, n);
}

/* A frame in memory (a stream's, or a datagram read ahead) copied into @iov. */
static G_GNUC_NO_INLINE ssize_t qio_recv_buffered(NetbeQueueIo *io, unsigned peer_hdr,
                                                  const struct iovec *iov, int iovcnt)
{
    const uint8_t *frame;
    size_t off = 0;
    ssize_t n = qio_ref(io, peer_hdr, (const void **)&frame, true);

    if (n > 0 && (size_t)n > netbe_iov_size(iov, iovcnt)) {
        return -EMSGSIZE;
    }
    for (int i = 0; n > 0 && i < iovcnt && off < (size_t)n; i++) {
        size_t k = MIN(iov[i].iov_len, (size_t)n - off);

        memcpy(iov[i].iov_base, frame + off, k);
        off += k;
    }
    return n;
}

ssize_t qio_recv(NetbeQueueIo *io, unsigned peer_hdr, const struct iovec *iov, int iovcnt)
{
    size_t pad = qio_pad(io, peer_hdr);

    if (io->fd < 0 || io->disabled) {
        return 0;
    }
    if (io->framing == NETBE_FRAMING_STREAM || qio_dgram_has_frame(io)) {
        return qio_recv_buffered(io, peer_hdr, iov, iovcnt); /* they go first */
    }
    return pad ? qio_read_padded(io, pad, iov, iovcnt) : qio_read_frame(io, 0, iov, iovcnt);
}

/* Stream: a whole frame sits in the read buffer. */
static bool qio_stream_has_frame(const NetbeQueueIo *io)
{
    size_t avail = io->rtail - io->rhead;
    ssize_t len;

    if (!io->stream || avail < io->stream->prefix_len) {
        return false;
    }
    len = io->stream->frame_len(io->rbuf + io->rhead);
    return len >= 0 && avail - io->stream->prefix_len >= (size_t)len;
}

/* The next frame in memory; @take: it is the caller's now, else it stays the next one
 * until qio_consume() (a frame that is lost is taken either way). */
static ssize_t qio_ref(NetbeQueueIo *io, unsigned peer_hdr, const void **frame, bool take)
{
    const NetbeStreamFraming *sf = io->stream;
    size_t pad = qio_pad(io, peer_hdr);

    io->peeked = 0;
    if (io->fd < 0 || io->disabled) {
        return 0;
    }
    if (io->framing != NETBE_FRAMING_STREAM) {
        return io->is_socket ? qio_dgram_recv_ref(io, pad, frame, take) : -ENOTSUP;
    }
    if (!io->rbuf) {
        io->rsize = MAX((size_t)QIO_STREAM_READ, sf->prefix_len + sf->max_frame);
        io->rbuf = g_malloc(io->rsize);
    }
    for (;;) {
        size_t avail = io->rtail - io->rhead;
        ssize_t n;

        if (avail >= sf->prefix_len) {
            ssize_t len = sf->frame_len(io->rbuf + io->rhead);

            if (len < 0 || (size_t)len > sf->max_frame) {
                qio_broken(io, "read", EPROTO); /* a lying or foreign peer */
                return -EPROTO;
            }
            if (avail - sf->prefix_len >= (size_t)len) {
                const uint8_t *p = io->rbuf + io->rhead + sf->prefix_len;

                io->pinned = true;
                if ((size_t)len < pad) {
                    io->rhead += sf->prefix_len + (size_t)len;
                    return -EINVAL; /* shorter than its header: dropped */
                }
                if (take) {
                    io->rhead += sf->prefix_len + (size_t)len;
                } else {
                    io->peeked = sf->prefix_len + (size_t)len;
                }
                *frame = p + pad;
                return len - (ssize_t)pad;
            }
        }
        if (io->rhead && io->rsize - io->rtail < sf->prefix_len + sf->max_frame) {
            if (io->pinned) {
                return 0; /* frames handed out live in the buffer: the rest comes later */
            }
            memmove(io->rbuf, io->rbuf + io->rhead, avail);
            io->rtail = avail;
            io->rhead = 0;
        }
        do {
            n = read(io->fd, io->rbuf + io->rtail, io->rsize - io->rtail);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            int err = errno;

            if (err == EAGAIN || err == EWOULDBLOCK) {
                return 0;
            }
            qio_broken(io, "read", err);
            return -err;
        }
        if (n == 0) {
            qio_broken(io, "read", 0);
            return 0;
        }
        io->rtail += (size_t)n;
    }
}

ssize_t qio_recv_ref(NetbeQueueIo *io, unsigned peer_hdr, const void **frame)
{
    return qio_ref(io, peer_hdr, frame, true);
}

ssize_t qio_peek_ref(NetbeQueueIo *io, unsigned peer_hdr, const void **frame)
{
    return qio_ref(io, peer_hdr, frame, false);
}

void qio_consume(NetbeQueueIo *io)
{
    if (io->framing == NETBE_FRAMING_STREAM) {
        io->rhead += io->peeked;
    } else if (io->peeked) {
        io->pool_next++;
    }
    io->peeked = 0;
}

/* ---- handover ---- */

void qio_save(const NetbeQueueIo *io, NetbeMigWriter *w)
{
    netbe_mig_put_u32(w, io->fd >= 0);
    if (io->fd < 0) {
        return;
    }
    netbe_mig_put_fd(w, io->fd);
    netbe_mig_put_u32(w, io->hdr_len);
    netbe_mig_put_u32(w, io->framing);
    netbe_mig_put_bytes(w, &io->dest, io->dest_len);
    netbe_mig_put_bytes(w, io->rbuf ? io->rbuf + io->rhead : NULL,
                        (uint32_t)(io->rtail - io->rhead));
    netbe_mig_put_bytes(w, io->wbuf ? io->wbuf + io->woff : NULL, (uint32_t)(io->wlen - io->woff));
    qio_dgram_save(io, w); /* datagrams read ahead and not yet taken */
}

bool qio_load(NetbeQueueIo *io, NetbeMigReader *r, const NetbeStreamFraming *stream, GError **errp)
{
    uint32_t has_fd, hdr_len, framing, dest_len, rlen, wlen;
    const void *dest, *rdata, *wdata;
    NetbeQueueFd qfd;

    if (!netbe_mig_get_u32(r, &has_fd) || has_fd > 1) {
        goto malformed;
    }
    if (!has_fd) {
        qio_close(io);
        return true;
    }
    qfd.fd = netbe_mig_get_fd(r);
    if (qfd.fd < 0 || !netbe_mig_get_u32(r, &hdr_len) || !netbe_mig_get_u32(r, &framing) ||
        !netbe_mig_get_bytes(r, &dest, &dest_len) || !netbe_mig_get_bytes(r, &rdata, &rlen) ||
        !netbe_mig_get_bytes(r, &wdata, &wlen)) {
        if (qfd.fd >= 0) {
            close(qfd.fd);
        }
        goto malformed;
    }
    if (framing != NETBE_FRAMING_STREAM && (rlen || wlen)) {
        close(qfd.fd);
        goto malformed; /* buffered bytes on a packet queue */
    }
    qfd.hdr_len = hdr_len;
    qfd.framing = (NetbeFraming)framing;
    qfd.dest = dest;
    qfd.dest_len = dest_len;
    if (!qio_attach(io, &qfd, stream, errp)) {
        return false;
    }
    if (rlen > QIO_STREAM_READ + NETBE_STREAM_PREFIX_MAX + NETBE_FRAME_MAX ||
        wlen > NETBE_STREAM_PREFIX_MAX + NETBE_FRAME_MAX) {
        qio_close(io);
        goto malformed;
    }
    if (rlen) {
        io->rsize = MAX((size_t)QIO_STREAM_READ, stream->prefix_len + stream->max_frame) + rlen;
        io->rbuf = g_malloc(io->rsize);
        memcpy(io->rbuf, rdata, rlen);
        io->rtail = rlen;
    }
    if (wlen) {
        io->wbuf = g_memdup2(wdata, wlen);
        io->wlen = wlen;
        io->tx_wait = true;
        qio_update_watch(io);
    }
    if (!qio_dgram_load(io, r)) {
        qio_close(io);
        goto malformed;
    }
    return true;
malformed:
    g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO, "netdev '%s' queue %u: malformed queue record",
                io->be->id, io->index);
    return false;
}
