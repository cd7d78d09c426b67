/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user-loop.h - libslirp's host sockets and timers driven by a GMainContext. */
#ifndef NETBE_USER_LOOP_H
#define NETBE_USER_LOOP_H

#include <stdbool.h>
#include <glib.h>
#include <libslirp.h>

typedef struct UserPoller UserPoller;
typedef struct UserTimer UserTimer;

/*
 * user_poller_new() - a GSource on @ctx that polls the sockets of @slirp.
 * Each iteration of the context asks slirp which sockets and events it wants
 * (slirp_pollfds_fill) and how soon its TCP timers are due; the source watches
 * exactly those (watches persist across iterations and are only touched when
 * slirp's wishes change) and runs slirp_pollfds_poll when one is ready or the
 * timeout passed. It starts disabled.
 * Return: the poller; free with user_poller_free().
 */
UserPoller *user_poller_new(GMainContext *ctx, Slirp *slirp);

/*
 * user_poller_set_enabled() - watch slirp's host sockets (true) or none of them
 * (false: nothing is read from the host; slirp's TCP timers keep running).
 */
void user_poller_set_enabled(UserPoller *p, bool enabled);

/*
 * user_poller_kick() - run slirp_pollfds_poll() on the next iteration: libslirp expects
 * it after slirp_input() (frames that waited for an ARP or NDP answer go out there).
 * NULL @p is ignored.
 */
void user_poller_kick(UserPoller *p);

/* user_poller_forget_fd() - slirp closed @fd: stop watching it now. NULL @p is ignored. */
void user_poller_forget_fd(UserPoller *p, int fd);

/* user_poller_free() - stop watching and free; NULL is ignored. */
void user_poller_free(UserPoller *p);

/*
 * user_timer_new() - one of slirp's timers (SlirpCb.timer_new_opaque) on @ctx.
 * @slirpp: where the Slirp instance is (it may not exist yet when slirp creates
 *          its timers inside slirp_new())
 * @id, @cb_opaque: handed back to slirp_handle_timer() when it fires
 * Return: a disarmed timer.
 */
UserTimer *user_timer_new(GMainContext *ctx, Slirp *const *slirpp, SlirpTimerId id,
                          void *cb_opaque);
/* user_timer_mod() - fire at @expire_ms on the g_get_monotonic_time() clock, in ms. */
void user_timer_mod(UserTimer *t, int64_t expire_ms);
/* user_timer_free() - disarm and free. */
void user_timer_free(UserTimer *t);

/* The clock slirp runs on (SlirpCb.clock_get_ns): monotonic, in ns. */
int64_t user_clock_ns(void);

#endif /* NETBE_USER_LOOP_H */
