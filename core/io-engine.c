// SPDX-License-Identifier: LGPL-2.1-or-later
/* io-engine.c - batched writes of many frames per syscall: io_uring, or plain syscalls. */
#include <errno.h>
#include <liburing.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <glib.h>
#include "io-engine.h"

/* Entries of the ring: a batch, with room for a second one in flight. */
#define IO_RING_ENTRIES (2 * NETBE_IO_BATCH_MAX)

struct NetbeIoEngine {
    NetbeIoMode mode;
    bool tried;         /* io_uring set up, or given up on */
    bool uring;         /* the ring works */
    bool ring_open;     /* e->ring is set up (it may have been given up on since) */
    uint32_t batch_gen; /* tags each batch's completions */
    struct io_uring ring;
};

NetbeIoEngine *netbe_io_engine_new(NetbeIoMode mode)
{
    NetbeIoEngine *e = g_new0(NetbeIoEngine, 1);

    e->mode = mode;
    return e;
}

void netbe_io_engine_free(NetbeIoEngine *e)
{
    if (e && e->ring_open) {
        io_uring_queue_exit(&e->ring);
    }
    g_free(e);
}

/*
 * Only the operations netbe submits: a ring in a confined process cannot be turned into
 * a way around its seccomp filter (io_uring's operations bypass it).
 */
static int io_restrict(struct io_uring *ring)
{
    struct io_uring_restriction r[] = {
        {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV},
        {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV},
        {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITE},
        {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READ},
        {.opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = IOSQE_IO_LINK},
    };
    /* raw io_uring_register(): Debian's liburing 2.3 declares but does not export these */
    long rc = syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_RESTRICTIONS, r,
                      G_N_ELEMENTS(r));

    if (rc == 0) {
        rc = syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    }
    return rc < 0 ? -errno : 0;
}

/* Set up the ring once; say once which engine batches use. */
static void io_setup(NetbeIoEngine *e)
{
    struct io_uring_params p = {
        /* not SINGLE_ISSUER: a VMM may start the runtime on one thread and run it on another */
        .flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
    };
    int rc;

    e->tried = true;
    if (e->mode == NETBE_IO_SYSCALLS) {
        g_message("queue I/O: plain syscalls, one per frame ([runtime] io = syscalls)");
        return;
    }
    rc = io_uring_queue_init_params(IO_RING_ENTRIES, &e->ring, &p);
    if (rc == -EINVAL) {
        /* an older kernel without the newer flags */
        memset(&p, 0, sizeof(p));
        p.flags = IORING_SETUP_R_DISABLED;
        rc = io_uring_queue_init_params(IO_RING_ENTRIES, &e->ring, &p);
    }
    if (rc == 0 && (rc = io_restrict(&e->ring)) < 0) {
        io_uring_queue_exit(&e->ring);
    }
    if (rc < 0) {
        g_message("queue I/O: plain syscalls, one per frame: io_uring is not available (%s%s)",
                  g_strerror(-rc),
                  rc == -EPERM || rc == -ENOSYS ? ": kernel.io_uring_disabled, seccomp or an "
                                                  "old kernel"
                                                : "");
        return;
    }
    e->uring = e->ring_open = true;
    g_message("queue I/O: io_uring, up to %d frames per submission", NETBE_IO_BATCH_MAX);
}

const char *netbe_io_engine_name(NetbeIoEngine *e)
{
    if (!e->tried) {
        io_setup(e);
    }
    return e->uring ? "io_uring" : "syscalls";
}

/* The syscall engine: one writev (or write) per frame, stopping at the first failure. */
static void io_writev_plain(int fd, struct iovec *const *iovs, const int *cnts, unsigned n,
                            ssize_t *res, bool ordered)
{
    unsigned i = 0;

    for (; i < n; i++) {
        ssize_t r;

        do {
            r = cnts[i] == 1 ? write(fd, iovs[i][0].iov_base, iovs[i][0].iov_len)
                             : writev(fd, iovs[i], cnts[i]);
        } while (r < 0 && errno == EINTR);
        res[i] = r < 0 ? -errno : r;
        if (r < 0 && (ordered || errno == EAGAIN)) {
            break;
        }
    }
    while (++i < n) {
        res[i] = -ECANCELED;
    }
}

/* io_uring cannot be used any more (a submission failed): batches take plain syscalls. */
static void io_uring_give_up(NetbeIoEngine *e, const char *what, int err)
{
    g_warning("queue I/O: %s: %s; plain syscalls from now on", what, g_strerror(err));
    e->uring = false; /* never entered again: entries it did not take stay unsubmitted */
}

/*
 * Reap the completions of the @n entries of batch @gen into @res. Every submitted write
 * completes (RWF_NOWAIT: none waits for the fd), so this waits for all of them: a result
 * left unread would be taken for a later batch's frame, and a frame whose result is
 * unknown could be sent twice. Those missing when the ring fails keep -EINPROGRESS.
 */
static void io_reap(NetbeIoEngine *e, uint32_t gen, unsigned n, ssize_t *res)
{
    unsigned seen = 0;

    while (seen < n) {
        struct io_uring_cqe *cqe;
        unsigned head, got = 0;
        int rc;

        io_uring_for_each_cqe(&e->ring, head, cqe)
        {
            uint32_t idx = (uint32_t)cqe->user_data;

            if ((uint32_t)(cqe->user_data >> 32) == gen && idx < n) {
                res[idx] = cqe->res;
                seen++;
            }
            got++;
        }
        io_uring_cq_advance(&e->ring, got);
        if (seen < n) {
            rc = io_uring_wait_cqe(&e->ring, &cqe);
            if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -ETIME) {
                io_uring_give_up(e, "io_uring completion wait", -rc);
                return;
            }
        }
    }
}

/*
 * The io_uring engine: every frame one writev (linked when @ordered), all in one
 * io_uring_enter(). Return: false when nothing was submitted (the caller writes the batch
 * with plain syscalls).
 */
static bool io_writev_uring(NetbeIoEngine *e, int fd, struct iovec *const *iovs, const int *cnts,
                            unsigned n, ssize_t *res, bool ordered)
{
    uint32_t gen = ++e->batch_gen;
    int rc;

    if (io_uring_sq_space_left(&e->ring) < n) {
        return false; /* cannot happen (the ring holds two batches): nothing is prepared */
    }
    for (unsigned i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

        if (cnts[i] == 1) {
            io_uring_prep_write(sqe, fd, iovs[i][0].iov_base, (unsigned)iovs[i][0].iov_len, 0);
        } else {
            io_uring_prep_writev(sqe, fd, iovs[i], (unsigned)cnts[i], 0);
        }
        /* never parked inside the kernel until the fd is writable: -EAGAIN, as a write() */
        sqe->rw_flags = RWF_NOWAIT;
        if (ordered && i + 1 < n) {
            sqe->flags |= IOSQE_IO_LINK; /* in order: a failure cancels the rest */
        }
        sqe->user_data = (uint64_t)gen << 32 | i; /* a batch's own results, never another's */
        res[i] = -EINPROGRESS;                    /* until its completion says otherwise */
    }
    do {
        rc = io_uring_submit_and_wait(&e->ring, n);
    } while (rc == -EINTR);
    if (rc <= 0) {
        /* the kernel took none: they must never be submitted later (a frame sent twice,
         * from buffers that are no longer the frame's) */
        io_uring_give_up(e, "io_uring submission", rc < 0 ? -rc : EIO);
        return false;
    }
    io_reap(e, gen, (unsigned)rc, res);
    for (unsigned i = 0; i < n; i++) {
        if (res[i] == -EINPROGRESS) {
            /* submitted, result lost with the ring: written or not is unknown, so it is
             * counted lost and never sent again; not submitted (a kernel without
             * SUBMIT_ALL stopped early): not written */
            res[i] = i < (unsigned)rc ? -EIO : -ECANCELED;
        }
    }
    if ((unsigned)rc < n) {
        io_uring_give_up(e, "io_uring submission stopped early", EIO);
    }
    return true;
}

/* Which engine a batch of @n frames takes: forced, decided, or the one sampled least. */
static bool io_use_uring(NetbeIoEngine *e, unsigned n, const NetbeIoPick *pick)
{
    if (!e->uring || n < 2) {
        return false;
    }
    if (e->mode == NETBE_IO_URING || pick->choice) {
        return e->mode == NETBE_IO_URING || pick->choice == 2;
    }
    return pick->frames[1] <= pick->frames[0];
}

/* Auto mode: account a batch's time; once both engines wrote enough, keep the cheaper. */
static void io_sample(NetbeIoPick *pick, int fd, bool uring, unsigned n, uint64_t ns)
{
    pick->ns[uring] += ns;
    pick->frames[uring] += n;
    if (pick->frames[0] >= NETBE_IO_SAMPLE_FRAMES && pick->frames[1] >= NETBE_IO_SAMPLE_FRAMES) {
        double per[2] = {(double)pick->ns[0] / pick->frames[0],
                         (double)pick->ns[1] / pick->frames[1]};

        pick->choice = per[1] < per[0] ? 2 : 1;
        g_message("queue I/O on fd %d: io_uring %.0f ns/frame, write() %.0f ns/frame: %s", fd,
                  per[1], per[0], pick->choice == 2 ? "io_uring" : "write()");
    }
}

void netbe_io_writev_batch(NetbeIoEngine *e, int fd, struct iovec *const *iovs, const int *cnts,
                           unsigned n, ssize_t *res, bool ordered, NetbeIoPick *pick)
{
    bool uring, sampling;
    gint64 t0 = 0;

    if (!e->tried) {
        io_setup(e);
    }
    uring = io_use_uring(e, n, pick);
    sampling = e->mode == NETBE_IO_AUTO && e->uring && !pick->choice && n >= 2;
    if (sampling) {
        t0 = g_get_monotonic_time();
    }
    /* a file that cannot write without blocking (RWF_NOWAIT refused: nothing was written)
     * takes plain writes, and keeps them */
    if (uring && io_writev_uring(e, fd, iovs, cnts, n, res, ordered) && res[0] != -EOPNOTSUPP) {
        if (sampling) {
            io_sample(pick, fd, true, n, (uint64_t)(g_get_monotonic_time() - t0) * 1000);
        }
        return;
    }
    if (uring) {
        pick->choice = 1;
        sampling = false;
    }
    io_writev_plain(fd, iovs, cnts, n, res, ordered);
    if (sampling) {
        io_sample(pick, fd, false, n, (uint64_t)(g_get_monotonic_time() - t0) * 1000);
    }
}
