/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io-engine.h - batched writes of many frames per syscall: io_uring, or plain syscalls. */
#ifndef NETBE_IO_ENGINE_H
#define NETBE_IO_ENGINE_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Most frames one batch call takes; a caller with more calls again. */
#define NETBE_IO_BATCH_MAX 64

/**
 * enum NetbeIoMode - which engine ([runtime] io)
 * @NETBE_IO_AUTO:     io_uring where the kernel allows it, else plain syscalls
 * @NETBE_IO_URING:    io_uring (falls back, saying so, if the kernel refuses it)
 * @NETBE_IO_SYSCALLS: one write() per frame
 */
typedef enum NetbeIoMode {
    NETBE_IO_AUTO = 0,
    NETBE_IO_URING,
    NETBE_IO_SYSCALLS,
} NetbeIoMode;

typedef struct NetbeIoEngine NetbeIoEngine;

/* netbe_io_engine_new() - an engine for @mode; io_uring is set up at the first batch. */
NetbeIoEngine *netbe_io_engine_new(NetbeIoMode mode);
void netbe_io_engine_free(NetbeIoEngine *e);

/* netbe_io_engine_name() - "io_uring" or "syscalls": what batches use now (after setup). */
const char *netbe_io_engine_name(NetbeIoEngine *e);

/*
 * netbe_io_writev_batch() - write @n frames to @fd, in order, each one writev() of
 * @iovs[i] (@cnts[i] entries); the buffers stay untouched until this returns.
 * @res: gets each frame's result: bytes written or -errno. Writes stop at the first
 *       failure: every later frame gets -ECANCELED (not written).
 */
void netbe_io_writev_batch(NetbeIoEngine *e, int fd, struct iovec *const *iovs, const int *cnts,
                           unsigned n, ssize_t *res);

#endif /* NETBE_IO_ENGINE_H */
