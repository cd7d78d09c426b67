/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnet-poll.h - spin on a dry TX ring for the driver's next chains before waiting for its kick. */
#ifndef NETBE_VNET_POLL_H
#define NETBE_VNET_POLL_H

#include <stdbool.h>
#include <stdint.h>
#include "vq.h"

#define VNET_POLL_MISS_LIMIT 8   /* spins in a row that find nothing before polling backs off */
#define VNET_POLL_PROBE_EVERY 16 /* then only every this many-th wait spins */

/*
 * VnetPoll - busy-polling of one TX ring. The ring is polled for up to the device's poll_us
 * each time it runs dry, while that pays: after VNET_POLL_MISS_LIMIT spins in a row in which
 * the driver posted nothing, only every VNET_POLL_PROBE_EVERY-th wait spins, until one finds
 * chains again. So a busy guest saves a kick per dry ring, an idle one costs almost nothing.
 * @misses:  spins in a row that found nothing (up to VNET_POLL_MISS_LIMIT)
 * @skipped: waits without a spin since then
 * @hits:    spins that found chains (each saved the driver a kick and us a wakeup)
 */
typedef struct VnetPoll {
    unsigned misses, skipped;
    uint64_t hits;
} VnetPoll;

/* Whether this wait of a dry ring spins (the policy above). */
bool vnet_poll_should_spin(VnetPoll *p);
/* A spin found chains (@found) or timed out. */
void vnet_poll_record(VnetPoll *p, bool found);
/*
 * vnet_poll_ring() - @vq is dry: spin up to @poll_us for the driver to post (or for the ring
 * to turn out broken), if the policy of @p says so. Return: true if it did; false: wait for
 * a kick.
 */
bool vnet_poll_ring(Vq *vq, VnetPoll *p, unsigned poll_us);

#endif /* NETBE_VNET_POLL_H */
