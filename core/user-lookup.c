// SPDX-License-Identifier: LGPL-2.1-or-later
/* user-lookup.c - a user named by name or number, for --user and the handover peer checks. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include "netbe-priv.h"

bool netbe_user_lookup(const char *user, uid_t *uid, gid_t *gid, GError **errp)
{
    struct passwd pw, *found = NULL;
    char buf[4096], *end;
    unsigned long n;
    int rc;

    rc = getpwnam_r(user, &pw, buf, sizeof(buf), &found);
    if (found) {
        *uid = found->pw_uid;
        if (gid) {
            *gid = found->pw_gid;
        }
        return true;
    }
    errno = 0;
    n = strtoul(user, &end, 10);
    if (*user && !*end && !errno && n < (uid_t)-1) {
        *uid = n;
        if (gid) {
            rc = getpwuid_r(*uid, &pw, buf, sizeof(buf), &found);
            *gid = found ? found->pw_gid : (gid_t)n;
        }
        return true;
    }
    g_set_error(errp, NETBE_CONFIG_ERROR, rc ? rc : ENOENT,
                "no user '%s' (allowed: a user name or a numeric uid)", user);
    return false;
}
