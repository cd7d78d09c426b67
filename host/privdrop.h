/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privdrop.h - netbe-host --user: become an unprivileged user, keeping only needed caps. */
#ifndef NETBE_HOST_PRIVDROP_H
#define NETBE_HOST_PRIVDROP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

/*
 * struct PrivUser - the user to become (netbe_user_lookup() finds it at start-up).
 * @name: as the operator gave it, for messages
 * @uid:  its uid
 * @gid:  its primary group
 */
typedef struct PrivUser {
    const char *name;
    uid_t uid;
    gid_t gid;
} PrivUser;

/*
 * priv_drop() - become @u with its primary group and no supplementary groups, keeping
 * only the capabilities of @keep (a mask of 1 << CAP_*, reduced to those we have) in the
 * effective, permitted and bounding sets; inheritable and ambient sets empty;
 * no_new_privs set. Call it while the process has one thread: capabilities are per thread.
 * Return: false with @errp set (the step and the cause) if any step failed; the caller
 * must then exit, as the process may be half-dropped.
 */
bool priv_drop(const PrivUser *u, uint64_t keep, GError **errp);

/* priv_caps_text() - "CAP_NET_ADMIN,CAP_NET_BIND_SERVICE" or "none" (caller frees). */
char *priv_caps_text(uint64_t caps);

#endif /* NETBE_HOST_PRIVDROP_H */
