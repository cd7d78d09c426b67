/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host-notify.h - netbe-host and its service manager (sd_notify): ready, reloading,
 * stopping, status; and the reload that SIGHUP and the control socket share. */
#ifndef NETBE_HOST_NOTIFY_H
#define NETBE_HOST_NOTIFY_H

#include <stdbool.h>
#include <glib.h>
#include "netbe/netbe.h"

/* host_notify_ready() - READY=1 and STATUS=@status (the service manager starts waiting
 * clients, and shows the status). No-op without $NOTIFY_SOCKET, as all of these. */
void host_notify_ready(const char *status);
/* host_notify_stopping() - STOPPING=1: the host shuts down. */
void host_notify_stopping(void);
/* host_notify_status() - STATUS=@status only. */
void host_notify_status(const char *status);

/*
 * host_reload() - re-read the config (netbe_runtime_reload()) between RELOADING=1 (with
 * MONOTONIC_USEC) and READY=1, the STATUS saying how it went; logged.
 * @rt:   the runtime
 * @path: another file to read, or NULL for the one loaded
 * @why:  what asked ("SIGHUP", "control socket"), for the log
 * Return: false with @errp set; nothing changed then.
 */
bool host_reload(NetbeRuntime *rt, const char *path, const char *why, GError **errp);

#endif /* NETBE_HOST_NOTIFY_H */
