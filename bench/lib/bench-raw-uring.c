// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-raw-uring.c - the raw TAP loops batched: 64 writes or reads per io_uring_enter(),
 * the most batching can give over one syscall per frame on this kernel (same run). */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include "bench-raw.h"
#include "harness.h"

#define URING_BATCH 64
#define URING_BUF (12 + BENCH_GSO_FRAME + 64)

static struct io_uring *uring_get(void)
{
    static struct io_uring ring;
    static bool ready;

    if (!ready) {
        g_assert_cmpint(io_uring_queue_init(2 * URING_BATCH, &ring, 0), ==, 0);
        ready = true;
    }
    return &ring;
}

/* Submit the prepared batch of @n, wait for all of it. Return: entries that moved a frame. */
static unsigned uring_run(struct io_uring *ring, unsigned n)
{
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0, ok = 0;

    g_assert_cmpint(io_uring_submit_and_wait(ring, n), ==, (int)n);
    while (seen < n) {
        unsigned got = 0;

        io_uring_for_each_cqe(ring, head, cqe)
        {
            ok += cqe->res > 0;
            got++;
        }
        io_uring_cq_advance(ring, got);
        seen += got;
        if (seen < n) {
            g_assert_cmpint(io_uring_wait_cqe(ring, &cqe), ==, 0);
        }
    }
    return ok;
}

double bench_raw_tx_uring(int fd, const BenchSize *s)
{
    static uint8_t buf[12 + BENCH_GSO_FRAME];
    struct io_uring *ring = uring_get();
    double t0 = bench_now(), t;
    uint64_t n = 0;

    bench_make_frame(buf, buf + 12, s);
    do {
        for (int k = 0; k < 8; k++) {
            for (unsigned i = 0; i < URING_BATCH; i++) {
                struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

                io_uring_prep_write(sqe, fd, buf, (unsigned)(12 + s->len), 0);
                sqe->rw_flags = RWF_NOWAIT;
            }
            n += uring_run(ring, URING_BATCH);
        }
        t = bench_now();
    } while (t - t0 < bench_seconds);
    return n / (t - t0);
}

unsigned bench_raw_drain_uring(void *opaque, unsigned want)
{
    static uint8_t *bufs;
    struct io_uring *ring = uring_get();
    int fd = *(int *)opaque;
    unsigned got = 0;
    int idle = 0;

    if (!bufs) {
        bufs = aligned_alloc(4096, (size_t)URING_BATCH * URING_BUF);
        memset(bufs, 0, (size_t)URING_BATCH * URING_BUF);
    }
    while (got < want && idle < 1000) {
        unsigned batch = MIN(URING_BATCH, want - got), ok;

        for (unsigned i = 0; i < batch; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

            io_uring_prep_read(sqe, fd, bufs + (size_t)i * URING_BUF, URING_BUF, 0);
            sqe->rw_flags = RWF_NOWAIT;
        }
        ok = uring_run(ring, batch);
        got += ok;
        idle = ok ? 0 : idle + 1;
    }
    return got;
}
