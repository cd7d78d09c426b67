// SPDX-License-Identifier: LGPL-2.1-or-later
/* queue-dgram.c - datagram socket queues in batches: recvmmsg() into the queue's frame pool,
 * sendmmsg() of a batch (to the queue's destination, if it has one). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "netbe/migrate.h"
#include "netbe-priv.h"
#include "queue-io.h"

/* Bytes of one pool slot: the largest frame with its header. */
#define QIO_SLOT_SIZE (NETBE_FRAME_MAX + NETBE_VNET_HDR_MAX)

void qio_dgram_pool(NetbeQueueIo *io)
{
    if (!io->pool) {
        io->pool = g_malloc((size_t)NETBE_IO_BATCH_MAX * QIO_SLOT_SIZE);
        io->pool_len = g_new(uint32_t, NETBE_IO_BATCH_MAX);
    }
}

/* Read up to a batch of datagrams at once. Return: how many, 0 none, -errno. */
static int qio_dgram_fill(NetbeQueueIo *io)
{
    struct mmsghdr msgs[NETBE_IO_BATCH_MAX];
    struct iovec iov[NETBE_IO_BATCH_MAX];
    int n;

    qio_dgram_pool(io);
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < NETBE_IO_BATCH_MAX; i++) {
        iov[i] = (struct iovec){io->pool + (size_t)i * QIO_SLOT_SIZE, QIO_SLOT_SIZE};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    do {
        n = recvmmsg(io->fd, msgs, NETBE_IO_BATCH_MAX, MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
    for (int i = 0; i < n; i++) {
        /* a datagram longer than a slot was cut: it is dropped, not delivered cut */
        io->pool_len[i] =
            (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? UINT32_MAX : (uint32_t)msgs[i].msg_len;
    }
    io->pool_count = (unsigned)n;
    io->pool_next = 0;
    return n;
}

ssize_t qio_dgram_recv_ref(NetbeQueueIo *io, size_t pad, const void **frame, bool take)
{
    uint32_t len;

    if (io->pool_next == io->pool_count) {
        int n;

        if (io->pinned && io->pool_count) {
            return 0; /* frames of this pool are lent out: the next ones on the next wakeup */
        }
        n = qio_dgram_fill(io);
        if (n <= 0) {
            return n;
        }
    }
    len = io->pool_len[io->pool_next];
    *frame = io->pool + (size_t)io->pool_next * QIO_SLOT_SIZE + pad;
    io->pinned = true;
    if (len == UINT32_MAX || len < pad) {
        io->pool_next++;
        return -EINVAL; /* longer than any frame, or shorter than its header: dropped */
    }
    if (take) {
        io->pool_next++;
    } else {
        io->peeked = 1;
    }
    return (ssize_t)(len - pad);
}

void qio_dgram_save(const NetbeQueueIo *io, NetbeMigWriter *w)
{
    netbe_mig_put_u32(w, io->pool_count - io->pool_next);
    for (unsigned i = io->pool_next; i < io->pool_count; i++) {
        netbe_mig_put_bytes(w, io->pool + (size_t)i * QIO_SLOT_SIZE,
                            io->pool_len[i] == UINT32_MAX ? 0 : io->pool_len[i]);
    }
}

bool qio_dgram_load(NetbeQueueIo *io, NetbeMigReader *r)
{
    uint32_t n;

    if (!netbe_mig_get_u32(r, &n) || n > NETBE_IO_BATCH_MAX ||
        (n && (io->framing != NETBE_FRAMING_PACKET || !io->is_socket))) {
        return false;
    }
    qio_dgram_pool(io);
    for (uint32_t i = 0; i < n; i++) {
        const void *data;
        uint32_t len;

        if (!netbe_mig_get_bytes(r, &data, &len) || len > QIO_SLOT_SIZE) {
            return false;
        }
        memcpy(io->pool + (size_t)i * QIO_SLOT_SIZE, data, len);
        io->pool_len[i] = len;
    }
    io->pool_count = n;
    io->pool_next = 0;
    return true;
}

unsigned qio_dgram_send_batch(NetbeQueueIo *io, struct iovec *const *iovs, const int *cnts,
                              unsigned n, ssize_t *res)
{
    struct mmsghdr msgs[NETBE_IO_BATCH_MAX];
    unsigned done = 0;

    memset(msgs, 0, sizeof(msgs));
    for (unsigned i = 0; i < n; i++) {
        msgs[i].msg_hdr.msg_iov = iovs[i];
        msgs[i].msg_hdr.msg_iovlen = (size_t)cnts[i];
        if (io->dest_len) {
            msgs[i].msg_hdr.msg_name = &io->dest;
            msgs[i].msg_hdr.msg_namelen = io->dest_len;
        }
    }
    while (done < n) {
        int k = sendmmsg(io->fd, msgs + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            res[done] = -errno; /* the first that failed: the rest goes on in the next round */
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return done; /* the caller waits for POLLOUT (or retries a destination) */
            }
            done++;
            continue;
        }
        for (int i = 0; i < k; i++, done++) {
            res[done] = msgs[done].msg_len;
        }
    }
    return n;
}
