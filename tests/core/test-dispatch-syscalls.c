// SPDX-License-Identifier: GPL-2.0-or-later
/* test-dispatch-syscalls.c - a foreign loop pays only for I/O: each netbe_runtime_dispatch()
 * makes one epoll_wait and the I/O of the sources it dispatches, nothing else (strace). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dispatch-rig.h"

#define DISPATCHES 100

static void dispatch(void *rt)
{
    netbe_runtime_dispatch(rt);
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, 0) == 1;
}

/*
 * drive() - what runs under strace: a rig driven through its runtime fd, @n marked
 * dispatches. "idle": no frames; "traffic": a 64-byte frame through the hub per round.
 * Prints "RFD NETDEV_FD_A NETDEV_FD_B". Return: the exit status.
 */
static int drive(const char *mode, unsigned n)
{
    DispatchRig *rig = dispatch_rig_new();
    int rfd = netbe_runtime_get_fd(rig->rt);

    for (int i = 0; i < 10 && readable(rfd); i++) {
        netbe_runtime_dispatch(rig->rt); /* settle: learn the netdevs' fds */
    }
    printf("%d %d %d\n", rfd, rig->netdev_fd[0], rig->netdev_fd[1]);
    fflush(stdout);
    for (unsigned i = 0; i < n; i++) {
        if (strcmp(mode, "idle") == 0) {
            dispatch_mark();
            netbe_runtime_dispatch(rig->rt);
            dispatch_mark();
        } else if (!dispatch_rig_forward(rig, 64, rfd, dispatch, rig->rt, true)) {
            fprintf(stderr, "frame %u was not forwarded\n", i);
            return 1;
        } else if (readable(rfd)) {
            fprintf(stderr, "after frame %u the runtime fd is readable for nothing\n", i);
            return 1;
        }
    }
    dispatch_rig_free(rig);
    return 0;
}

/* Run drive(@mode) under strace. Return: its stretches; @fds: its runtime and netdev fds. */
static GPtrArray *trace_drive(const char *mode, int fds[3])
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *count = g_strdup_printf("%u", DISPATCHES);
    char *argv[] = {self, "--drive", (char *)mode, count, NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) err = NULL;
    GPtrArray *stretches = dispatch_trace(argv, &out, &err);

    if (g_error_matches(err, g_quark_from_static_string("dispatch-trace"), ENOENT)) {
        return NULL;
    }
    g_assert_no_error(err);
    g_assert_cmpint(sscanf(out, "%d %d %d", &fds[0], &fds[1], &fds[2]), ==, 3);
    return stretches;
}

/* Log a stretch, to show what a failing dispatch did. */
static void show(const char *what, GPtrArray *stretch)
{
    g_test_message("%s, %u syscalls:", what, stretch->len);
    for (guint i = 0; i < stretch->len; i++) {
        g_test_message("  %s", (char *)g_ptr_array_index(stretch, i));
    }
}

/* Is @line the one wait on the runtime fd @rfd? */
static bool is_the_wait(const char *line, int rfd)
{
    g_autofree char *name = dispatch_trace_name(line);

    return strcmp(name, "epoll_wait") == 0 && dispatch_trace_arg0(line) == rfd;
}

/* Is @line I/O on a netdev's socket (or a batch of it, through an io_uring)? */
static bool is_io(const char *line, const int fds[3])
{
    g_autofree char *name = dispatch_trace_name(line);
    int fd = dispatch_trace_arg0(line);

    return strcmp(name, "io_uring_enter") == 0 || fd == fds[1] || fd == fds[2];
}

/* Fails if a dispatch with nothing to do makes any syscall besides its one epoll_wait. */
static void test_idle_dispatch_is_one_epoll_wait(void)
{
    int fds[3];
    g_autoptr(GPtrArray) stretches = trace_drive("idle", fds);

    if (!stretches) {
        g_test_skip("strace is not installed (scripts/setup.sh installs it)");
        return;
    }
    g_assert_cmpuint(stretches->len, ==, DISPATCHES);
    for (guint i = 0; i < stretches->len; i++) {
        GPtrArray *s = g_ptr_array_index(stretches, i);

        if (s->len != 1 || !is_the_wait(g_ptr_array_index(s, 0), fds[0])) {
            show("an idle dispatch", s);
            g_assert_not_reached();
        }
    }
}

/*
 * Fails if a dispatch that forwards a frame through the hub makes a syscall other than its
 * one epoll_wait on the runtime fd and I/O on the netdevs' sockets (epoll_ctl, timerfd,
 * poll, GLib's wakeup eventfd), or if a frame needs a second wake.
 */
static void test_traffic_dispatch_is_io_and_one_epoll_wait(void)
{
    int fds[3];
    g_autoptr(GPtrArray) stretches = trace_drive("traffic", fds);
    guint io = 0;

    if (!stretches) {
        g_test_skip("strace is not installed (scripts/setup.sh installs it)");
        return;
    }
    g_assert_cmpuint(stretches->len, ==, DISPATCHES); /* one dispatch per frame */
    for (guint i = 0; i < stretches->len; i++) {
        GPtrArray *s = g_ptr_array_index(stretches, i);
        guint waits = 0, other = 0;

        for (guint j = 0; j < s->len; j++) {
            const char *line = g_ptr_array_index(s, j);

            waits += is_the_wait(line, fds[0]);
            io += is_io(line, fds);
            other += !is_the_wait(line, fds[0]) && !is_io(line, fds);
        }
        if (waits != 1 || other) {
            show("a dispatch that forwards a frame", s);
            g_assert_not_reached();
        }
    }
    g_assert_cmpuint(io, >=, 2 * DISPATCHES); /* at least a receive and a send per frame */
    g_test_message("%.2f syscalls of I/O per dispatch, and the epoll_wait",
                   (double)io / stretches->len);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--drive") == 0) {
        return drive(argv[2], (unsigned)atoi(argv[3]));
    }
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dispatch-syscalls/idle-dispatch-is-one-epoll-wait",
                    test_idle_dispatch_is_one_epoll_wait);
    g_test_add_func("/dispatch-syscalls/traffic-dispatch-is-io-and-one-epoll-wait",
                    test_traffic_dispatch_is_io_and_one_epoll_wait);
    return g_test_run();
}
