/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mig-wire.h - test side of the migration wire format, to play a source or destination
 * that misbehaves on purpose (the format is the one migrate.h documents). */
#ifndef NETBE_TEST_MIG_WIRE_H
#define NETBE_TEST_MIG_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "netbe/migrate.h"

enum {
    WIRE_HELLO = 1,
    WIRE_REPLY,
    WIRE_BACKEND,
    WIRE_COMMIT,
    WIRE_READY,
    WIRE_ERROR,
    WIRE_DEVICE,
    WIRE_GO,
    WIRE_STARTED
};
#define WIRE_VERSION NETBE_MIG_VERSION

/* A fake source's serving lock (a sealed memfd, flock()ed), attached to @w (a hello).
 * Return: its fd; keep it open while the destination may still look at it. */
int wire_put_lock(NetbeMigWriter *w);

/* Most fds one wire_send_with_fds() carries. */
#define WIRE_MAX_FDS 16

/* One sendmsg() of @len bytes of @data with @nfds fds on them (MSG_DONTWAIT).
 * Return: what sendmsg() returns. */
ssize_t wire_send_with_fds(int fd, const void *data, size_t len, const int *fds, unsigned nfds);
/* Send "NETBEMIG", @version, @compat. */
bool wire_send_header(int fd, uint32_t version, uint32_t compat);
/* Read the peer's header. */
bool wire_recv_header(int fd);
/* Send a record whose header announces @announced_fds while @w carries its own fds;
 * @truncate_to < payload length sends only that much of the payload. */
bool wire_send_record(int fd, uint32_t type, NetbeMigWriter *w, int announced_fds,
                      size_t truncate_to);
/* Receive a record within 5 s: its type, and a reader (NULL on EOF/timeout). */
NetbeMigReader *wire_recv_record(int fd, uint32_t *type);
/* A status record (reply/ack): ok, reason, time. */
bool wire_send_status(int fd, uint32_t type, bool ok, const char *reason);

/* After a fake source's commit: read "ready"; if it says ok, let go of @lock, send "go" and
 * read "started". Return: true if the destination started. */
bool wire_finish_source(int fd, int lock);

/* A listening UNIX socket at @path, and a connection to one. */
int wire_listen(const char *path);
int wire_connect(const char *path);
int wire_accept(int lfd, int timeout_ms);

#endif /* NETBE_TEST_MIG_WIRE_H */
