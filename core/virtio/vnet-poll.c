// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-poll.c - spin on a dry TX ring for the driver's next chains before waiting for its kick. */
#include <time.h>
#include "vnet-poll.h"

#define VNET_POLL_CHECKS 16 /* ring checks between reads of the clock */

static uint64_t vnet_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void vnet_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

bool vnet_poll_should_spin(VnetPoll *p)
{
    if (p->misses < VNET_POLL_MISS_LIMIT) {
        return true;
    }
    return ++p->skipped % VNET_POLL_PROBE_EVERY == 0;
}

void vnet_poll_record(VnetPoll *p, bool found)
{
    if (found) {
        p->misses = 0;
        p->skipped = 0;
        p->hits++;
    } else if (p->misses < VNET_POLL_MISS_LIMIT) {
        p->misses++;
    }
}

bool vnet_poll_ring(Vq *vq, VnetPoll *p, unsigned poll_us)
{
    uint64_t window = (uint64_t)poll_us * 1000u, end;
    bool found = false;

    if (!window || !vnet_poll_should_spin(p)) {
        return false;
    }
    end = vnet_now_ns() + window;
    do {
        for (int i = 0; i < VNET_POLL_CHECKS && !found; i++) {
            /* a ring that turns out broken ends the spin too: the caller stops the queue */
            found = vq_pending(vq) > 0 || vq->broken;
            vnet_cpu_relax();
        }
    } while (!found && vnet_now_ns() < end);
    vnet_poll_record(p, found);
    return found;
}
