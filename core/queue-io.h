/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* queue-io.h - the core's I/O on one backend queue fd: framing, headers, readiness, errors. */
#ifndef NETBE_QUEUE_IO_H
#define NETBE_QUEUE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <glib.h>
#include "netbe/plugin.h"
#include "io-engine.h"

/* A send to a full unconnected datagram peer is retried after this many ms. */
#define QIO_DEST_RETRY_MS 2
/* Bytes a stream queue reads ahead in one read(): many small frames per syscall. */
#define QIO_STREAM_READ 65536

/**
 * struct NetbeQueueIo - one queue fd the core does the I/O of
 * @be:       the backend (readiness goes to backend.c)
 * @index:    the queue
 * @fd:       the fd, -1 when the queue has none
 * @hdr_len:  vnet header bytes the fd carries per frame
 * @framing:  packet or stream
 * @stream:   the plugin's framing hook (stream)
 * @dest:     sendto() address of an unconnected datagram socket (@dest_len 0: write())
 * @dest_len: bytes of @dest
 * @source:   the queue's source on the runtime's context, NULL while there is no fd (or
 *            while it is parked)
 * @events:   what the source polls the fd for now
 * @rx_on:    the core wants frames from it
 * @tx_wait:  a write found the fd full: waiting for POLLOUT
 * @parked:   a hangup came while nobody read: not polled until reading resumes
 * @is_socket: the fd is a socket (it may fill mid-batch: batches keep their order)
 * @datagram: a datagram socket: a read of 0 bytes is an empty frame, not the end
 * @disabled: the plugin detached the queue (set_queue_enabled): no I/O on it
 * @pinned:   frames handed out by qio_recv_ref() are in use (a peer's batch): the read
 *            buffer may not move or go until qio_unpin()
 * @retired:  the read buffer of a closed fd whose frames were still lent out
 * @pool:     datagram sockets: frames read with one recvmmsg(), NETBE_IO_BATCH_MAX slots
 * @pool_len: each slot's frame length (UINT32_MAX: longer than a slot, dropped)
 * @pool_count: frames in @pool; @pool_next: the next one to hand out
 * @peeked:   the frame qio_peek_ref() gave last and qio_consume() takes (stream: its bytes)
 * @pick:     which engine writes its batches (auto mode)
 * @scratch:  iovec room for a batch with headers added (@scratch_size entries)
 * @retry:    a timer that retries a send to @dest that found the peer full (an unconnected
 *            unix datagram socket never reports POLLOUT for its peer)
 * @rbuf:     stream: bytes read and not yet taken, from @rhead to @rtail
 * @rsize:    stream: bytes of @rbuf
 * @rhead:    stream: the first byte not taken
 * @rtail:    stream: the end of what was read
 * @wbuf:     stream: the rest of a frame the socket took only in part
 * @wlen:     stream: bytes in @wbuf
 * @woff:     stream: bytes of @wbuf written
 */
typedef struct NetbeQueueIo {
    NetbeBackend *be;
    unsigned index;
    int fd;
    unsigned hdr_len;
    NetbeFraming framing;
    const NetbeStreamFraming *stream;
    struct sockaddr_storage dest;
    socklen_t dest_len;
    GSource *source;
    GIOCondition events;
    bool rx_on;
    bool tx_wait;
    bool parked;
    bool datagram;
    bool is_socket;
    bool disabled;
    GSource *retry;
    bool pinned;
    uint8_t *retired;
    struct iovec *scratch;
    size_t scratch_size;
    NetbeIoPick pick;
    size_t peeked;
    uint8_t *pool, *retired_pool;
    uint32_t *pool_len;
    unsigned pool_count, pool_next;
    uint8_t *rbuf;
    size_t rsize, rhead, rtail;
    uint8_t *wbuf;
    size_t wlen, woff;
} NetbeQueueIo;

/* qio_init() - an fd-less queue @index of @be. */
void qio_init(NetbeQueueIo *io, NetbeBackend *be, unsigned index);

/*
 * qio_attach() - take @qfd (its fd is ours now, also on failure; an fd the queue had is
 * closed) after checking it against @stream, the plugin's framing hook.
 * Return: false with @errp set (the fd closed) if @qfd is not valid.
 */
bool qio_attach(NetbeQueueIo *io, const NetbeQueueFd *qfd, const NetbeStreamFraming *stream,
                GError **errp);

/* qio_close() - close the fd and forget buffered bytes; the queue has no fd after. */
void qio_close(NetbeQueueIo *io);

/* qio_set_rx() - read (POLLIN) or not, as the frontend can take frames. */
void qio_set_rx(NetbeQueueIo *io, bool on);

/* qio_set_enabled() - a detached queue (TUNSETQUEUE) is not polled, read or written. */
void qio_set_enabled(NetbeQueueIo *io, bool on);

/*
 * qio_send() - write one frame whose header is @peer_hdr bytes (0 or the fd's).
 * Return: frame bytes taken, 0 when the fd is full (tx_ready follows), -errno to drop it
 * (after a fatal error the queue is broken: closed and reported).
 */
ssize_t qio_send(NetbeQueueIo *io, unsigned peer_hdr, const struct iovec *iov, int iovcnt);

/*
 * qio_send_batch() - write @n frames (@iovs[i], @cnts[i] entries; headers of @peer_hdr
 * bytes) in order, many per syscall where @engine can (packet framing).
 * @res: each taken frame's result as qio_send() gives it
 * Return: frames taken; fewer than @n when the fd filled (tx_ready follows).
 */
unsigned qio_send_batch(NetbeQueueIo *io, NetbeIoEngine *engine, unsigned peer_hdr,
                        struct iovec *const *iovs, const int *cnts, unsigned n, ssize_t *res);

/* queue-dgram.c: recvmmsg() into the pool, frame by frame; sendmmsg() of a batch (results as
 * bytes or -errno; stops at EAGAIN). */
ssize_t qio_dgram_recv_ref(NetbeQueueIo *io, size_t pad, const void **frame, bool take);
/* The pool, made when the fd is attached (not in a foreign loop's dispatch). */
void qio_dgram_pool(NetbeQueueIo *io);
/* Datagrams read ahead and not yet taken (inline: asked for every frame a queue reads). */
static inline bool qio_dgram_has_frame(const NetbeQueueIo *io)
{
    return io->pool_next < io->pool_count;
}
/* The datagrams read ahead and not yet taken, in a handover record, and back. */
void qio_dgram_save(const NetbeQueueIo *io, NetbeMigWriter *w);
bool qio_dgram_load(NetbeQueueIo *io, NetbeMigReader *r);
unsigned qio_dgram_send_batch(NetbeQueueIo *io, struct iovec *const *iovs, const int *cnts,
                              unsigned n, ssize_t *res);

/*
 * qio_peek_ref() - as qio_recv_ref(), but the frame stays the next one until qio_consume()
 * (a frontend learns its length before it gathers buffers for it; a lost frame is taken).
 */
ssize_t qio_peek_ref(NetbeQueueIo *io, unsigned peer_hdr, const void **frame);
/* qio_consume() - the frame qio_peek_ref() gave last is taken. */
void qio_consume(NetbeQueueIo *io);

/* qio_unpin() - the frames qio_recv_ref() handed out are no longer used. */
void qio_unpin(NetbeQueueIo *io);

/*
 * qio_recv() - read one frame into @iov, with a header of @peer_hdr bytes.
 * Return: its length, 0 when none is pending, -errno when it was lost (-EMSGSIZE: longer
 * than @iov; after a fatal error the queue is broken).
 */
ssize_t qio_recv(NetbeQueueIo *io, unsigned peer_hdr, const struct iovec *iov, int iovcnt);

/*
 * qio_recv_ref() - the next frame, without a copy, where it is in memory already (a stream
 * queue's read buffer): @frame stays valid until qio_unpin(), also across further calls.
 * Return: its length, 0 when none is pending, -ENOTSUP when the queue cannot (packet
 * framing: use qio_recv()), other -errno as qio_recv().
 */
ssize_t qio_recv_ref(NetbeQueueIo *io, unsigned peer_hdr, const void **frame);

/*
 * qio_save() / qio_load() - the queue's fd, shape and buffered stream bytes in a handover
 * record; qio_load() attaches them (@stream: the plugin's framing hook).
 * Return: qio_load(): false on a malformed record.
 */
void qio_save(const NetbeQueueIo *io, NetbeMigWriter *w);
bool qio_load(NetbeQueueIo *io, NetbeMigReader *r, const NetbeStreamFraming *stream, GError **errp);

#endif /* NETBE_QUEUE_IO_H */
