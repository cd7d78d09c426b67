/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dispatch-rig.h - a runtime driven as a VMM's own event loop drives it (wait, dispatch),
 * frames through a hub of two socket netdevs, and each dispatch's syscalls from strace. */
#ifndef NETBE_TEST_DISPATCH_RIG_H
#define NETBE_TEST_DISPATCH_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include "netbe/netbe.h"

/*
 * DispatchRig - a started runtime whose hub joins netdevs a and b (type socket, fd = N,
 * datagram socketpairs); plugins from NETBE_PLUGIN_PATH.
 * @rt:        the runtime
 * @netdev_fd: the sockets netdevs a and b own
 * @peer_fd:   our ends of them: frames go in at 0 and come out at 1
 */
typedef struct DispatchRig {
    NetbeRuntime *rt;
    int netdev_fd[2];
    int peer_fd[2];
} DispatchRig;

/* A dispatch as a foreign loop makes it (netbe_runtime_dispatch, or a baseline's). */
typedef void (*DispatchFunc)(void *opaque);

/* Build and start the rig (asserts). */
DispatchRig *dispatch_rig_new(void);
void dispatch_rig_free(DispatchRig *rig);

/*
 * dispatch_rig_forward() - put a frame of @len bytes in at peer 0, then loop as a foreign
 * loop would: wait for @wait_fd to be readable (-1: no wait) and call @dispatch(@opaque),
 * until the frame is out at peer 1.
 * @mark: put each call between dispatch_mark()s
 * Return: the calls it took; 0 if the frame did not come out within 2 s, or came out changed.
 */
unsigned dispatch_rig_forward(DispatchRig *rig, size_t len, int wait_fd, DispatchFunc dispatch,
                              void *opaque, bool mark);

/* Open or close a stretch dispatch_trace() counts (one getppid() call, which strace logs). */
void dispatch_mark(void);

/*
 * dispatch_trace() - run @argv under strace -f and collect the syscalls its first process
 * made inside each marked stretch.
 * Return: a GPtrArray per stretch of strace lines without the pid ("name(args) = result"),
 * in a GPtrArray; NULL with @errp set if strace is missing, fails, or @argv exits non-zero.
 * @out: if not NULL, @argv's standard output
 */
GPtrArray *dispatch_trace(char **argv, char **out, GError **errp);

/* The syscall a strace line names (caller frees). */
char *dispatch_trace_name(const char *line);
/* The first argument of a strace line if it is a number (an fd, mostly), else -1. */
int dispatch_trace_arg0(const char *line);

#endif /* NETBE_TEST_DISPATCH_RIG_H */
