/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user-fwd.h - the user backend's hostfwd listeners, and the hostfwd-add/del commands. */
#ifndef NETBE_USER_FWD_H
#define NETBE_USER_FWD_H

#include <libslirp.h>
#include "user-config.h"

/*
 * user_fwd_open() - make @slirp listen on the host side of @f.
 * Return: false with "hostfwd 'RULE': cannot listen on TCP ADDR:PORT: cause" in @errp.
 */
bool user_fwd_open(Slirp *slirp, const UserFwd *f, GError **errp);

/*
 * user_fwd_command() - "hostfwd-add RULE" or "hostfwd-del RULE" on the rules of @cfg.
 * @slirp: the stack whose listeners change, or NULL while none are open (not connected,
 *         or waiting for a handover's commit): the rule list changes only
 * @cmd:   the command; another is refused with ENOTSUP
 * @arg:   a rule as the hostfwd option writes it; hostfwd-del takes its host side alone
 *         ("tcp:127.0.0.1:2222") or the whole rule
 * Return: true once done; false with @errp set and nothing changed.
 */
bool user_fwd_command(UserConfig *cfg, Slirp *slirp, const char *cmd, const char *arg,
                      GError **errp);

#endif /* NETBE_USER_FWD_H */
