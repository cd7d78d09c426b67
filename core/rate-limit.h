/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rate-limit.h - token buckets (bytes/s, frames/s) per netdev and direction. */
#ifndef NETBE_RATE_LIMIT_H
#define NETBE_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "netbe/plugin.h"
#include "options-priv.h"

/*
 * Directions, as the counters name them: RX = frames the backend receives from its network
 * and hands to the frontend; TX = frames the frontend sends out through the backend.
 */
typedef enum NetbeRateDir {
    NETBE_RATE_RX = 0,
    NETBE_RATE_TX = 1,
} NetbeRateDir;

typedef struct NetbeRateLimit NetbeRateLimit;

/* The core's netdev keys of the rate limits (rx_bytes_per_sec, ...). */
extern const NetbeOptionSpec netbe_rate_limit_schema[];

/*
 * netbe_rate_limit_configure() - give @be the limits its section's options (validated
 * already) ask for; none: be->rate stays NULL.
 * @errors: gets one "FILE:LINE: [section] key: problem" per key that needs another
 * Return: false when something was wrong (nothing set then).
 */
bool netbe_rate_limit_configure(NetbeBackend *be, const NetbeOptions *o, GPtrArray *errors);

/*
 * netbe_rate_limit_admit() - whether queue @queue may pass a frame in direction @d now. If
 * not, the queue is remembered and netbe_backend_rate_resume() is called for it once the
 * buckets have refilled enough.
 */
bool netbe_rate_limit_admit(NetbeRateLimit *rl, NetbeRateDir d, unsigned queue);

/* netbe_rate_limit_stamp() - @on: the frames admitted until it is called with !@on are one
 * batch, the clock is read once for all of them. */
void netbe_rate_limit_stamp(NetbeRateLimit *rl, bool on);

/* netbe_rate_limit_charge() - a frame of @bytes (without vnet header) passed in @d. */
void netbe_rate_limit_charge(NetbeRateLimit *rl, NetbeRateDir d, size_t bytes);

/* netbe_rate_limit_refund() - a frame of @bytes charged in advance did not pass after all. */
void netbe_rate_limit_refund(NetbeRateLimit *rl, NetbeRateDir d, size_t bytes);

/*
 * netbe_rate_limit_save() / netbe_rate_limit_load() - the limits in effect (settings, the
 * buckets' fill, the wait counters) at the end of a backend's handover record; the
 * destination takes them instead of its ini's (live changes survive an upgrade in place).
 * Return: load: true also without them (an older source); false if they are malformed.
 */
void netbe_rate_limit_save(const NetbeBackend *be, NetbeMigWriter *w);
bool netbe_rate_limit_load(NetbeBackend *be, NetbeMigReader *r);

/* netbe_rate_limit_free() - stop its timers and free it (waiting queues are not resumed). */
void netbe_rate_limit_free(NetbeRateLimit *rl);

#endif /* NETBE_RATE_LIMIT_H */
