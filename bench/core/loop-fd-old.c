// SPDX-License-Identifier: GPL-2.0-or-later
/* loop-fd-old.c - the runtime fd's algorithm before issue 10 (core/loop-fd.c at 17399d5,
 * its logic unchanged), kept as the bench's baseline: per dispatch it reads the timerfd,
 * runs g_main_context_iteration() (which polls), polls once more to acknowledge GLib's
 * wakeup, re-adds every fd to epoll and re-arms the timerfd. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "loop-fd-old.h"

struct OldLoopFd {
    GMainContext *ctx;
    int epfd;
    int timerfd;
    GPollFD *fds;
    gint nfds, fds_size;
    GHashTable *registered; /* fd -> epoll events, as added to epfd */
};

static uint32_t poll_to_epoll(gushort events)
{
    return (events & G_IO_IN ? EPOLLIN : 0) | (events & G_IO_OUT ? EPOLLOUT : 0) |
           (events & G_IO_PRI ? EPOLLPRI : 0);
}

static void arm_timer(OldLoopFd *lf, gint timeout_ms)
{
    struct itimerspec its = {0};

    if (timeout_ms == 0) {
        its.it_value.tv_nsec = 1;
    } else if (timeout_ms > 0) {
        its.it_value.tv_sec = timeout_ms / 1000;
        its.it_value.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
    }
    timerfd_settime(lf->timerfd, 0, &its, NULL);
}

static void old_loop_fd_sync(OldLoopFd *lf)
{
    g_autoptr(GHashTable) wanted = g_hash_table_new(NULL, NULL);
    GHashTableIter it;
    gpointer key, value;
    gint prio, timeout, n;
    bool ready;

    g_main_context_prepare(lf->ctx, &prio);
    while ((n = g_main_context_query(lf->ctx, prio, &timeout, lf->fds, lf->fds_size)) >
           lf->fds_size) {
        lf->fds_size = n;
        lf->fds = g_renew(GPollFD, lf->fds, n);
    }
    lf->nfds = n;
    for (gint i = 0; i < n; i++) {
        gpointer k = GINT_TO_POINTER(lf->fds[i].fd);
        uint32_t ev = GPOINTER_TO_UINT(g_hash_table_lookup(wanted, k));

        g_hash_table_insert(wanted, k, GUINT_TO_POINTER(ev | poll_to_epoll(lf->fds[i].events)));
    }
    g_poll(lf->fds, n, 0);
    ready = g_main_context_check(lf->ctx, prio, lf->fds, n);
    g_hash_table_iter_init(&it, lf->registered);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (!g_hash_table_contains(wanted, key)) {
            epoll_ctl(lf->epfd, EPOLL_CTL_DEL, GPOINTER_TO_INT(key), NULL);
            g_hash_table_iter_remove(&it);
        }
    }
    g_hash_table_iter_init(&it, wanted);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct epoll_event ev = {.events = GPOINTER_TO_UINT(value),
                                 .data.fd = GPOINTER_TO_INT(key)};

        if (epoll_ctl(lf->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0 && errno == EEXIST &&
            GPOINTER_TO_UINT(g_hash_table_lookup(lf->registered, key)) != ev.events) {
            epoll_ctl(lf->epfd, EPOLL_CTL_MOD, ev.data.fd, &ev);
        }
        g_hash_table_insert(lf->registered, key, value);
    }
    arm_timer(lf, ready ? 0 : timeout);
}

OldLoopFd *old_loop_fd_new(GMainContext *ctx)
{
    OldLoopFd *lf = g_new0(OldLoopFd, 1);
    struct epoll_event ev = {.events = EPOLLIN};

    lf->ctx = g_main_context_ref(ctx);
    lf->registered = g_hash_table_new(NULL, NULL);
    lf->epfd = epoll_create1(EPOLL_CLOEXEC);
    lf->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    g_assert(lf->epfd >= 0 && lf->timerfd >= 0);
    ev.data.fd = lf->timerfd;
    epoll_ctl(lf->epfd, EPOLL_CTL_ADD, lf->timerfd, &ev);
    if (g_main_context_acquire(ctx)) {
        old_loop_fd_sync(lf);
        g_main_context_release(ctx);
    }
    return lf;
}

int old_loop_fd_get(OldLoopFd *lf)
{
    return lf->epfd;
}

void old_loop_fd_dispatch(OldLoopFd *lf)
{
    uint64_t expirations;

    if (!g_main_context_acquire(lf->ctx)) {
        return;
    }
    while (read(lf->timerfd, &expirations, sizeof(expirations)) > 0) {
    }
    g_main_context_iteration(lf->ctx, false);
    old_loop_fd_sync(lf);
    g_main_context_release(lf->ctx);
}

void old_loop_fd_free(OldLoopFd *lf)
{
    close(lf->epfd);
    close(lf->timerfd);
    g_hash_table_unref(lf->registered);
    g_free(lf->fds);
    g_main_context_unref(lf->ctx);
    g_free(lf);
}
