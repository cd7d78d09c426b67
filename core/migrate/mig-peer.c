// SPDX-License-Identifier: LGPL-2.1-or-later
/* mig-peer.c - whom a handover may talk to (SO_PEERCRED) and how long an attempt may take. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "mig-priv.h"

void netbe_runtime_allow_handover_uid(NetbeRuntime *rt, uid_t uid)
{
    for (guint i = 0; i < rt->handover_uids->len; i++) {
        if (g_array_index(rt->handover_uids, uid_t, i) == uid) {
            return;
        }
    }
    g_array_append_val(rt->handover_uids, uid);
}

void netbe_runtime_set_handover_timeout(NetbeRuntime *rt, unsigned timeout_ms)
{
    rt->handover_timeout_ms = timeout_ms;
}

unsigned mig_timeout_ms(const NetbeRuntime *rt)
{
    return rt->handover_timeout_ms ? rt->handover_timeout_ms : MIG_DEFAULT_TIMEOUT_MS;
}

/* True if @uid may be at the other end: root, ourselves, or allowed by the operator. */
static bool uid_is_trusted(const NetbeRuntime *rt, uid_t uid)
{
    if (uid == 0 || uid == geteuid()) {
        return true;
    }
    for (guint i = 0; i < rt->handover_uids->len; i++) {
        if (g_array_index(rt->handover_uids, uid_t, i) == uid) {
            return true;
        }
    }
    return false;
}

bool mig_check_peer(NetbeRuntime *rt, int fd, const char *role, pid_t *pid, GError **errp)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        g_set_error(errp, NETBE_MIG_ERROR, errno, "cannot tell who the %s is (SO_PEERCRED): %s",
                    role, g_strerror(errno));
        return false;
    }
    if (!uid_is_trusted(rt, cred.uid)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPERM,
                    "refusing the %s: pid %d runs as uid %u, "
                    "neither root nor our uid %u (allow it with --handover-allow-uid=%u or "
                    "[runtime] handover_allow_uid)",
                    role, (int)cred.pid, (unsigned)cred.uid, (unsigned)geteuid(),
                    (unsigned)cred.uid);
        return false;
    }
    if (pid) {
        *pid = cred.pid;
    }
    return true;
}
