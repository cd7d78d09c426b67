// SPDX-License-Identifier: GPL-2.0-or-later
/* test-runtime-fd.c - embedding: the runtime's single fd drives it from a foreign epoll
 * loop (fd events and timers), and run/quit works across threads. */
#include <sys/epoll.h>
#include <unistd.h>
#include <glib-unix.h>
#include "netbe/netbe.h"

/* Wait up to @ms for the runtime fd, as a VMM's epoll loop would. Return: readable? */
static bool wait_runtime_fd(int rfd, int ms)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    int n;

    epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev);
    n = epoll_wait(ep, &ev, 1, ms);
    close(ep);
    return n == 1;
}

static gboolean count_call(gpointer data)
{
    (*(int *)data)++;
    return G_SOURCE_REMOVE;
}

static gboolean on_pipe(gint fd, GIOCondition cond, gpointer data)
{
    char c;

    g_assert_cmpint(read(fd, &c, 1), ==, 1);
    (*(int *)data)++;
    return G_SOURCE_CONTINUE;
}

/* Fails if a timer on the runtime's context does not make the fd readable in time. */
static void test_timer_wakes_foreign_loop(void)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    int rfd = netbe_runtime_get_fd(rt), fired = 0;
    GSource *t;
    gint64 start = g_get_monotonic_time();

    g_assert_cmpint(rfd, >=, 0);
    netbe_runtime_dispatch(rt);
    g_assert_false(wait_runtime_fd(rfd, 0)); /* idle: nothing to do */
    t = g_timeout_source_new(30);
    g_source_set_callback(t, count_call, &fired, NULL);
    g_source_attach(t, netbe_runtime_get_context(rt));
    g_source_unref(t);
    g_main_context_wakeup(netbe_runtime_get_context(rt)); /* the documented contract */
    while (!fired && g_get_monotonic_time() - start < G_USEC_PER_SEC) {
        if (wait_runtime_fd(rfd, 1000)) {
            netbe_runtime_dispatch(rt);
        }
    }
    g_assert_cmpint(fired, ==, 1);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 25000); /* not early */
    netbe_runtime_dispatch(rt);
    g_assert_false(wait_runtime_fd(rfd, 0));
    netbe_runtime_free(rt);
}

/* Fails if fd activity on the context does not show on the runtime fd. */
static void test_fd_event_wakes_foreign_loop(void)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    int rfd = netbe_runtime_get_fd(rt), seen = 0, p[2];
    GSource *s;

    g_assert_cmpint(pipe(p), ==, 0);
    s = g_unix_fd_source_new(p[0], G_IO_IN);
    g_source_set_callback(s, G_SOURCE_FUNC(on_pipe), &seen, NULL);
    g_source_attach(s, netbe_runtime_get_context(rt));
    g_main_context_wakeup(netbe_runtime_get_context(rt));
    g_assert_true(wait_runtime_fd(rfd, 1000));
    netbe_runtime_dispatch(rt); /* the foreign loop's pass learns the new fd */
    g_assert_false(wait_runtime_fd(rfd, 0));
    for (int i = 1; i <= 3; i++) {
        g_assert_cmpint(write(p[1], "x", 1), ==, 1);
        g_assert_true(wait_runtime_fd(rfd, 1000));
        netbe_runtime_dispatch(rt);
        g_assert_cmpint(seen, ==, i);
    }
    g_assert_false(wait_runtime_fd(rfd, 0));
    g_source_destroy(s);
    g_source_unref(s);
    close(p[0]);
    close(p[1]);
    netbe_runtime_free(rt);
}

/* A pipe whose read end has the number @fd (closed first if open). */
static void pipe_at(int fd, int p[2])
{
    int q[2];

    g_assert_cmpint(pipe(q), ==, 0);
    g_assert_cmpint(dup2(q[0], fd), ==, fd);
    close(q[0]);
    p[0] = fd;
    p[1] = q[1];
}

static GSource *watch_pipe(NetbeRuntime *rt, int fd, int *seen)
{
    GSource *s = g_unix_fd_source_new(fd, G_IO_IN);

    g_source_set_callback(s, G_SOURCE_FUNC(on_pipe), seen, NULL);
    g_source_attach(s, netbe_runtime_get_context(rt));
    return s;
}

/* Write to @p and drive the runtime as a foreign loop until @seen counts it. */
static void assert_pipe_wakes(NetbeRuntime *rt, int p[2], int *seen)
{
    int rfd = netbe_runtime_get_fd(rt), before = *seen;

    g_assert_cmpint(write(p[1], "x", 1), ==, 1);
    g_assert_true(wait_runtime_fd(rfd, 1000));
    netbe_runtime_dispatch(rt);
    g_assert_cmpint(*seen, ==, before + 1);
    g_assert_false(wait_runtime_fd(rfd, 0)); /* and no wake for nothing after it */
}

/* Fails if an fd closed and replaced under the same number and events between two
 * dispatches is not watched again: epoll forgets a closed fd, the context's fd list looks
 * the same. */
static void test_fd_number_reused_outside_dispatch(void)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    int rfd = netbe_runtime_get_fd(rt), seen = 0, p[2], q[2];
    GSource *s;

    g_assert_cmpint(pipe(p), ==, 0);
    s = watch_pipe(rt, p[0], &seen);
    g_main_context_wakeup(netbe_runtime_get_context(rt));
    g_assert_true(wait_runtime_fd(rfd, 1000));
    netbe_runtime_dispatch(rt);
    assert_pipe_wakes(rt, p, &seen);
    g_source_destroy(s);
    g_source_unref(s);
    close(p[1]);
    pipe_at(p[0], q); /* closes the old read end: epoll drops it */
    s = watch_pipe(rt, q[0], &seen);
    g_main_context_wakeup(netbe_runtime_get_context(rt)); /* the documented contract */
    g_assert_true(wait_runtime_fd(rfd, 1000));
    netbe_runtime_dispatch(rt);
    assert_pipe_wakes(rt, q, &seen);
    g_source_destroy(s);
    g_source_unref(s);
    close(q[0]);
    close(q[1]);
    netbe_runtime_free(rt);
}

typedef struct Replacer {
    NetbeRuntime *rt;
    GSource *src;
    int p[2], seen;
} Replacer;

/* Take the byte, then replace the pipe by a new one with the same read end number. */
static gboolean replace_pipe(gint fd, GIOCondition cond, gpointer data)
{
    Replacer *r = data;
    char c;

    g_assert_cmpint(read(fd, &c, 1), ==, 1);
    r->seen++;
    g_source_destroy(r->src);
    g_source_unref(r->src);
    close(r->p[1]);
    pipe_at(fd, r->p);
    r->src = watch_pipe(r->rt, r->p[0], &r->seen);
    return G_SOURCE_REMOVE;
}

/* Fails if an fd replaced under the same number and events by a callback, inside one
 * dispatch, is not watched again afterwards. */
static void test_fd_number_reused_inside_dispatch(void)
{
    Replacer r = {.rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT)};
    int rfd = netbe_runtime_get_fd(r.rt);

    g_assert_cmpint(pipe(r.p), ==, 0);
    r.src = g_unix_fd_source_new(r.p[0], G_IO_IN);
    g_source_set_callback(r.src, G_SOURCE_FUNC(replace_pipe), &r, NULL);
    g_source_attach(r.src, netbe_runtime_get_context(r.rt));
    g_main_context_wakeup(netbe_runtime_get_context(r.rt));
    g_assert_true(wait_runtime_fd(rfd, 1000));
    netbe_runtime_dispatch(r.rt);
    assert_pipe_wakes(r.rt, r.p, &r.seen); /* replace_pipe ran: a new pipe, same number */
    assert_pipe_wakes(r.rt, r.p, &r.seen);
    g_assert_cmpint(r.seen, ==, 2);
    g_source_destroy(r.src);
    g_source_unref(r.src);
    close(r.p[0]);
    close(r.p[1]);
    netbe_runtime_free(r.rt);
}

static gpointer quit_later(gpointer rt)
{
    g_usleep(50000);
    netbe_runtime_quit(rt);
    return NULL;
}

/* Fails if netbe_runtime_quit() from another thread does not end netbe_runtime_run(). */
static void test_quit_from_another_thread(void)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    GThread *t = g_thread_new("quitter", quit_later, rt);

    netbe_runtime_run(rt);
    g_thread_join(t);
    netbe_runtime_free(rt);
}

/* Fails if a runtime on the caller's context does not use that context. */
static void test_runtime_on_given_context(void)
{
    GMainContext *ctx = g_main_context_new();
    NetbeRuntime *rt = netbe_runtime_new(ctx, NETBE_RUNTIME_DEFAULT);
    int fired = 0;
    GSource *idle = g_idle_source_new();

    g_assert_true(netbe_runtime_get_context(rt) == ctx);
    g_source_set_callback(idle, count_call, &fired, NULL);
    g_source_attach(idle, ctx);
    g_source_unref(idle);
    g_assert_true(netbe_runtime_iterate(rt, false));
    g_assert_cmpint(fired, ==, 1);
    netbe_runtime_free(rt);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/runtime-fd/timer-wakes-foreign-loop", test_timer_wakes_foreign_loop);
    g_test_add_func("/runtime-fd/fd-event-wakes-foreign-loop", test_fd_event_wakes_foreign_loop);
    g_test_add_func("/runtime-fd/fd-number-reused-outside-dispatch",
                    test_fd_number_reused_outside_dispatch);
    g_test_add_func("/runtime-fd/fd-number-reused-inside-dispatch",
                    test_fd_number_reused_inside_dispatch);
    g_test_add_func("/runtime/quit-from-another-thread", test_quit_from_another_thread);
    g_test_add_func("/runtime/runs-on-given-context", test_runtime_on_given_context);
    return g_test_run();
}
