// SPDX-License-Identifier: LGPL-2.1-or-later
/* mig-lock.c - the serving lock: the one thing that decides which process serves after a handover.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mig-priv.h"

#define MIG_LOCK_NAME "netbe-serving-lock"
/* What a real lock file carries: nothing may be written to it, and no seal may be added. */
#define MIG_LOCK_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* flock(): the lock belongs to an open file description, so the destination opens its
 * own description of the source's file; the kernel drops a lock when the last fd of its
 * description closes, as when its process dies. */
static int lock_op(int fd, int op)
{
    int rc;

    do {
        rc = flock(fd, op);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

int mig_lock_create(GError **errp)
{
    int fd = memfd_create(MIG_LOCK_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0 || fcntl(fd, F_ADD_SEALS, MIG_LOCK_SEALS) < 0 ||
        lock_op(fd, LOCK_EX | LOCK_NB) < 0) {
        g_set_error(errp, NETBE_MIG_ERROR, errno, "cannot make the serving lock: %s",
                    g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

int mig_lock_adopt(int fd, GError **errp)
{
    int seals = fd < 0 ? -1 : fcntl(fd, F_GET_SEALS);
    int own = -1;

    if (seals < 0 || (seals & MIG_LOCK_SEALS) != MIG_LOCK_SEALS) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                    "the hello carries no serving lock (a "
                    "sealed memfd): not a netbe source, or an older one");
    } else {
        g_autofree char *self = g_strdup_printf("/proc/self/fd/%d", fd);

        own = open(self, O_RDONLY | O_CLOEXEC);
        if (own < 0) {
            g_set_error(errp, NETBE_MIG_ERROR, errno, "cannot open the serving lock: %s",
                        g_strerror(errno));
        }
    }
    /* never keep the source's description: it would keep the source's lock alive if the
     * source died */
    if (fd >= 0) {
        close(fd);
    }
    return own;
}

bool mig_lock_try(int fd)
{
    return lock_op(fd, LOCK_EX | LOCK_NB) == 0;
}

void mig_lock_release(int fd)
{
    lock_op(fd, LOCK_UN);
}

void mig_lock_keep(NetbeRuntime *rt, int fd)
{
    g_array_append_val(rt->handover_locks, fd);
}

void mig_lock_drop_all(NetbeRuntime *rt)
{
    for (guint i = 0; i < rt->handover_locks->len; i++) {
        close(g_array_index(rt->handover_locks, int, i));
    }
    g_array_set_size(rt->handover_locks, 0);
}
