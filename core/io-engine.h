/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io-engine.h - batched writes of many frames per syscall: io_uring, or plain syscalls. */
#ifndef NETBE_IO_ENGINE_H
#define NETBE_IO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
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

/* Frames a queue sends through each engine before auto mode picks the cheaper one. */
#define NETBE_IO_SAMPLE_FRAMES 4096

/**
 * struct NetbeIoPick - one queue's choice in auto mode: both engines are timed on its first
 * frames, then the cheaper one per frame keeps it (syscall cost differs by kernel and CPU
 * mitigations: on some machines one write() beats a batched io_uring submission)
 * @ns:     nanoseconds spent in each engine ([0] syscalls, [1] io_uring)
 * @frames: frames each engine wrote
 * @choice: 0 still sampling, 1 syscalls, 2 io_uring
 */
typedef struct NetbeIoPick {
    uint64_t ns[2];
    uint32_t frames[2];
    uint8_t choice;
} NetbeIoPick;

/* netbe_io_engine_new() - an engine for @mode; io_uring is set up at the first batch. */
NetbeIoEngine *netbe_io_engine_new(NetbeIoMode mode);
void netbe_io_engine_free(NetbeIoEngine *e);

/* netbe_io_engine_name() - "io_uring" or "syscalls": what batches use now (after setup). */
const char *netbe_io_engine_name(NetbeIoEngine *e);

/*
 * netbe_io_writev_batch() - write @n frames to @fd, in order, each one writev() of
 * @iovs[i] (@cnts[i] entries); the buffers stay untouched until this returns.
 * @res:     gets each frame's result: bytes written or -errno. With @ordered, writes stop
 *           at the first failure and every later frame gets -ECANCELED (not written);
 *           without, a frame that fails does not hold back the later ones (a TAP, whose
 *           writes only fail for the frame itself)
 * @pick:    the queue's engine choice in auto mode (updated)
 */
void netbe_io_writev_batch(NetbeIoEngine *e, int fd, struct iovec *const *iovs, const int *cnts,
                           unsigned n, ssize_t *res, bool ordered, NetbeIoPick *pick);

#endif /* NETBE_IO_ENGINE_H */
