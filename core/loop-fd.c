// SPDX-License-Identifier: LGPL-2.1-or-later
/* loop-fd.c - one epoll fd that stands for a GMainContext, for foreign event loops. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "netbe-priv.h"

/* the timerfd: not armed; expired and readable until it is set again */
#define TIMER_OFF (-1)
#define TIMER_FIRED (-2)
/* a deadline that moved less than this (GLib rounds timeouts up to 1 ms) keeps the timer */
#define TIMER_SLACK_US 1000

/*
 * NetbeLoopFd - the context's poll set mirrored into an epoll set, kept in step by diff.
 * @ctx:         the context it stands for
 * @epfd:        what the foreign loop polls: the context's fds and @timerfd
 * @timerfd:     readable when the context's next timeout is due
 * @wakeup_fd:   GLib's wakeup eventfd of @ctx (signalled by g_main_context_wakeup())
 * @fds:         the last query, sorted by fd as GLib returns it; revents from epoll
 * @nfds:        entries in @fds
 * @reg:         what @epfd watches besides @timerfd (the query it was last brought to)
 * @nreg:        entries in @reg
 * @size:        entries allocated in @fds and @reg (@events has one more)
 * @events:      epoll_wait()'s output
 * @prio:        the priority the last prepare gave, for check()
 * @armed_us:    when @timerfd fires (monotonic µs, 0 at once), TIMER_OFF or TIMER_FIRED
 * @dispatching: inside g_main_context_dispatch() on behalf of the foreign loop
 * @noisy:       while dispatching: something may have signalled GLib's wakeup fd
 * @unblocked:   while dispatching: sources dispatched without GLib blocking them
 */
struct NetbeLoopFd {
    GMainContext *ctx;
    int epfd, timerfd, wakeup_fd;
    GPollFD *fds, *reg;
    gint nfds, nreg, size;
    struct epoll_event *events;
    gint prio;
    gint64 armed_us;
    bool dispatching, noisy;
    guint unblocked;
};

static uint32_t poll_to_epoll(gushort events)
{
    return (events & G_IO_IN ? EPOLLIN : 0) | (events & G_IO_OUT ? EPOLLOUT : 0) |
           (events & G_IO_PRI ? EPOLLPRI : 0);
}

static gushort epoll_to_poll(uint32_t events)
{
    return (events & EPOLLIN ? G_IO_IN : 0) | (events & EPOLLOUT ? G_IO_OUT : 0) |
           (events & EPOLLPRI ? G_IO_PRI : 0) | (events & EPOLLERR ? G_IO_ERR : 0) |
           (events & EPOLLHUP ? G_IO_HUP : 0);
}

/* For bsearch() in the query, which GLib sorts by fd (check() relies on that too). */
static int compare_fd(const void *a, const void *b)
{
    return ((const GPollFD *)a)->fd - ((const GPollFD *)b)->fd;
}

/*
 * loop_fd_query() - prepare and query the context into @fds.
 * @all: every fd, not only those of sources at the priority prepare gives
 * Return: the timeout query gives (ms, -1: none).
 */
static gint loop_fd_query(NetbeLoopFd *lf, bool all)
{
    gint timeout, n;

    g_main_context_prepare(lf->ctx, &lf->prio);
    if (all) {
        lf->prio = G_MAXINT;
    }
    while ((n = g_main_context_query(lf->ctx, lf->prio, &timeout, lf->fds, lf->size)) > lf->size) {
        lf->size = n;
        lf->fds = g_renew(GPollFD, lf->fds, n);
        lf->reg = g_renew(GPollFD, lf->reg, n);
        lf->events = g_renew(struct epoll_event, lf->events, n + 1);
    }
    lf->nfds = n;
    return timeout;
}

/* Has the query moved away from what epfd watches? */
static bool loop_fd_changed(const NetbeLoopFd *lf)
{
    if (lf->nfds != lf->nreg) {
        return true;
    }
    for (gint i = 0; i < lf->nfds; i++) {
        if (lf->fds[i].fd != lf->reg[i].fd || lf->fds[i].events != lf->reg[i].events) {
            return true;
        }
    }
    return false;
}

/* Add @p to epfd; if it is there already, set its events unless they are @have already. */
static void loop_fd_add(NetbeLoopFd *lf, const GPollFD *p, gint have)
{
    struct epoll_event ev = {.events = poll_to_epoll(p->events), .data.fd = p->fd};

    if (epoll_ctl(lf->epfd, EPOLL_CTL_ADD, p->fd, &ev) < 0 && errno == EEXIST &&
        have != p->events) {
        epoll_ctl(lf->epfd, EPOLL_CTL_MOD, p->fd, &ev);
    }
}

/* Give an fd epfd watches already new events; a closed fd whose number came back is added. */
static void loop_fd_modify(NetbeLoopFd *lf, const GPollFD *p)
{
    struct epoll_event ev = {.events = poll_to_epoll(p->events), .data.fd = p->fd};

    if (epoll_ctl(lf->epfd, EPOLL_CTL_MOD, p->fd, &ev) < 0 && errno == ENOENT) {
        epoll_ctl(lf->epfd, EPOLL_CTL_ADD, p->fd, &ev);
    }
}

/*
 * loop_fd_register() - bring epfd from @reg to @fds: one epoll_ctl per fd that came, went
 * or changed events (both arrays are sorted by fd). @all: re-add every fd, for GLib's poll
 * set may have changed in a way no diff shows (an fd closed, epoll forgot it, and a new
 * source has its number and the same events).
 */
static void loop_fd_register(NetbeLoopFd *lf, bool all)
{
    gint i = 0, j = 0;

    while (i < lf->nfds || j < lf->nreg) {
        const GPollFD *want = i < lf->nfds ? &lf->fds[i] : NULL;
        const GPollFD *have = j < lf->nreg ? &lf->reg[j] : NULL;

        if (!want || (have && have->fd < want->fd)) {
            epoll_ctl(lf->epfd, EPOLL_CTL_DEL, have->fd, NULL); /* fails if it was closed */
            j++;
        } else if (!have || want->fd < have->fd) {
            loop_fd_add(lf, want, -1);
            i++;
        } else {
            if (all) {
                loop_fd_add(lf, want, have->events);
            } else if (want->events != have->events) {
                loop_fd_modify(lf, want);
            }
            i++;
            j++;
        }
    }
    memcpy(lf->reg, lf->fds, lf->nfds * sizeof(GPollFD));
    lf->nreg = lf->nfds;
}

/* Make timerfd fire when the context's next timeout is due, if that moved. */
static void loop_fd_arm(NetbeLoopFd *lf, gint timeout_ms)
{
    gint64 want = timeout_ms < 0    ? TIMER_OFF
                  : timeout_ms == 0 ? 0
                                    : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    struct itimerspec its = {0};

    if (want == lf->armed_us ||
        (want > 0 && lf->armed_us > 0 && ABS(want - lf->armed_us) < TIMER_SLACK_US)) {
        return;
    }
    if (want == 0) {
        its.it_value.tv_nsec = 1; /* long past: at once */
    } else if (want > 0) {
        its.it_value.tv_sec = want / G_USEC_PER_SEC;
        its.it_value.tv_nsec = (long)(want % G_USEC_PER_SEC) * 1000;
    }
    timerfd_settime(lf->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
    lf->armed_us = want;
}

/* Acknowledge GLib's wakeup as g_main_context_check() would. Return: was it signalled? */
static bool loop_fd_ack(NetbeLoopFd *lf)
{
    uint64_t count[2];

    return read(lf->wakeup_fd, count, sizeof(count)) > 0;
}

/*
 * loop_fd_sync() - make epfd watch what the context wants now, and arm the timer.
 * @noisy:     GLib may have signalled its wakeup fd since it was last acknowledged
 * @signalled: it was signalled (and acknowledged) since the last sync
 * GLib signals its wakeup fd on every change of its poll set. The foreign loop must not
 * wake once more for a signal we have seen, so it is acknowledged here, before the query
 * that sees what it announced.
 */
static void loop_fd_sync(NetbeLoopFd *lf, bool noisy, bool signalled)
{
    gint timeout;

    if (noisy) {
        signalled |= loop_fd_ack(lf);
    }
    timeout = loop_fd_query(lf, false);
    if (!noisy && !signalled && loop_fd_changed(lf)) {
        signalled = loop_fd_ack(lf); /* this change's signal; then look again after it */
        timeout = loop_fd_query(lf, false);
    }
    loop_fd_register(lf, signalled);
    loop_fd_arm(lf, timeout);
}

/*
 * find_wakeup_fd() - which of the context's fds is GLib's wakeup: readable after
 * g_main_context_wakeup(), no longer after check() acknowledged it. Return: it, or -1.
 */
static int find_wakeup_fd(NetbeLoopFd *lf)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        g_autofree bool *woken = NULL;
        int found = -1, candidates = 0;

        loop_fd_query(lf, true);
        woken = g_new0(bool, lf->nfds);
        g_main_context_wakeup(lf->ctx);
        g_poll(lf->fds, lf->nfds, 0);
        for (gint i = 0; i < lf->nfds; i++) {
            woken[i] = lf->fds[i].revents & G_IO_IN;
        }
        g_main_context_check(lf->ctx, G_MAXINT, lf->fds, lf->nfds);
        g_poll(lf->fds, lf->nfds, 0);
        for (gint i = 0; i < lf->nfds; i++) {
            if (woken[i] && !(lf->fds[i].revents & G_IO_IN)) {
                found = lf->fds[i].fd;
                candidates++;
            }
            lf->fds[i].revents = 0;
        }
        if (candidates == 1) {
            return found;
        }
    }
    return -1;
}

NetbeLoopFd *netbe_loop_fd_new(GMainContext *ctx, GError **errp)
{
    NetbeLoopFd *lf = g_new0(NetbeLoopFd, 1);
    struct epoll_event ev = {.events = EPOLLIN};
    const char *problem = NULL;

    lf->ctx = g_main_context_ref(ctx);
    lf->armed_us = TIMER_OFF;
    lf->size = 1; /* never NULL, even for an empty query */
    lf->fds = g_new0(GPollFD, lf->size);
    lf->reg = g_new0(GPollFD, lf->size);
    lf->events = g_new0(struct epoll_event, lf->size + 1);
    lf->epfd = epoll_create1(EPOLL_CLOEXEC);
    lf->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (lf->epfd < 0 || lf->timerfd < 0) {
        problem = g_strerror(errno);
        goto out;
    }
    ev.data.fd = lf->timerfd;
    epoll_ctl(lf->epfd, EPOLL_CTL_ADD, lf->timerfd, &ev);
    if (!g_main_context_acquire(ctx)) {
        problem = "its context is owned by another thread";
        goto out;
    }
    lf->wakeup_fd = find_wakeup_fd(lf);
    if (lf->wakeup_fd >= 0) {
        loop_fd_sync(lf, false, true);
    }
    g_main_context_release(ctx);
    if (lf->wakeup_fd < 0) {
        problem = "cannot tell GLib's wakeup fd among its context's fds";
    }
out:
    if (problem) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "cannot create the runtime fd: %s", problem);
        netbe_loop_fd_free(lf);
        return NULL;
    }
    return lf;
}

int netbe_loop_fd_get(NetbeLoopFd *lf)
{
    return lf->epfd;
}

/*
 * loop_fd_take_events() - the one wait; if anything happened, a fresh query (the context
 * may have been iterated by others since the last sync) with epoll's events as revents.
 * @timer:  set if the timerfd fired
 * @wakeup: set if GLib's wakeup fd was signalled (check() acknowledges it)
 * Return: how many of the context's other fds are ready; -1 if nothing happened at all.
 */
static gint loop_fd_take_events(NetbeLoopFd *lf, bool *timer, bool *wakeup)
{
    gint n = epoll_wait(lf->epfd, lf->events, lf->nreg + 1, 0), ready = 0;

    if (n <= 0) {
        return -1;
    }
    loop_fd_query(lf, false);
    for (gint e = 0; e < n; e++) {
        GPollFD key = {.fd = lf->events[e].data.fd}, *p;

        if (key.fd == lf->timerfd) {
            *timer = true;
            lf->armed_us = TIMER_FIRED;
        } else if ((p = bsearch(&key, lf->fds, lf->nfds, sizeof(GPollFD), compare_fd))) {
            p->revents = epoll_to_poll(lf->events[e].events);
            *wakeup |= p->fd == lf->wakeup_fd;
            ready += p->fd != lf->wakeup_fd;
        }
    }
    return ready;
}

void netbe_loop_fd_dispatch(NetbeLoopFd *lf)
{
    bool timer = false, wakeup = false;
    gint ready;

    if (!g_main_context_acquire(lf->ctx)) {
        return;
    }
    ready = loop_fd_take_events(lf, &timer, &wakeup);
    if (ready >= 0) {
        lf->dispatching = true;
        lf->noisy = false;
        lf->unblocked = 0;
        if (g_main_context_check(lf->ctx, lf->prio, lf->fds, lf->nfds)) {
            g_main_context_dispatch(lf->ctx);
        }
        lf->dispatching = false;
        for (gint i = 0; i < lf->nfds; i++) {
            lf->fds[i].revents = 0;
        }
        /* a blocked source signalled the wakeup twice; so may one that ran on a timeout */
        loop_fd_sync(lf, lf->noisy || timer || (guint)ready > lf->unblocked, wakeup);
    }
    g_main_context_release(lf->ctx);
}

void netbe_loop_fd_note_change(NetbeLoopFd *lf, GMainContext *ctx)
{
    if (lf && lf->dispatching) {
        lf->noisy = true; /* GLib signalled its wakeup for the change */
    } else if (lf) {
        g_main_context_wakeup(ctx);
    }
}

void netbe_loop_fd_note_unblocked(NetbeLoopFd *lf)
{
    if (lf && lf->dispatching) {
        lf->unblocked++;
    }
}

void netbe_loop_fd_free(NetbeLoopFd *lf)
{
    if (!lf) {
        return;
    }
    if (lf->epfd >= 0) {
        close(lf->epfd);
    }
    if (lf->timerfd >= 0) {
        close(lf->timerfd);
    }
    g_free(lf->fds);
    g_free(lf->reg);
    g_free(lf->events);
    g_main_context_unref(lf->ctx);
    g_free(lf);
}
