// SPDX-License-Identifier: LGPL-2.1-or-later
/* mig-fault.c - fault injection at the steps of a handover, for the tests that prove the commit
 * rule. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "mig-priv.h"

void mig_fault_point(MigChannel *ch, const char *point)
{
    const char *spec = getenv("NETBE_MIG_FAULT");
    g_auto(GStrv) parts = NULL;

    if (!spec) {
        return;
    }
    parts = g_strsplit(spec, ":", 3);
    if (g_strv_length(parts) != 3 || strcmp(parts[0], ch->side) != 0 ||
        strcmp(parts[1], point) != 0) {
        return;
    }
    g_message("fault injection: %s %s at %s", ch->side, parts[2], point);
    if (strcmp(parts[2], "stop") == 0) {
        raise(SIGSTOP);
    } else if (strcmp(parts[2], "close") == 0) {
        shutdown(ch->fd, SHUT_RDWR);
    } else if (strcmp(parts[2], "exit") == 0) {
        _exit(3);
    }
}
