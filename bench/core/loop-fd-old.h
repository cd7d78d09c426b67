/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop-fd-old.h - the runtime fd's algorithm before issue 10, kept as the bench's baseline. */
#ifndef NETBE_BENCH_LOOP_FD_OLD_H
#define NETBE_BENCH_LOOP_FD_OLD_H

#include <glib.h>

typedef struct OldLoopFd OldLoopFd;

/* An epoll fd standing for @ctx, as core/loop-fd.c made it until issue 10. */
OldLoopFd *old_loop_fd_new(GMainContext *ctx);
int old_loop_fd_get(OldLoopFd *lf);
/* One iteration of the context, then every fd re-added and the timer re-armed. */
void old_loop_fd_dispatch(OldLoopFd *lf);
void old_loop_fd_free(OldLoopFd *lf);

#endif /* NETBE_BENCH_LOOP_FD_OLD_H */
