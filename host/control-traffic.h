/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control-traffic.h - control commands on a netdev's traffic: capture, capture-stop,
 * rate-limit. */
#ifndef NETBE_HOST_CONTROL_TRAFFIC_H
#define NETBE_HOST_CONTROL_TRAFFIC_H

#include <stdbool.h>
#include "netbe/netbe.h"

/*
 * Each takes the words after the command (NULL-terminated) and returns the reply, ending
 * with a newline, starting with CONTROL_ERROR_PREFIX on errors (caller frees).
 * capture ID FILE [--count N] [--seconds S]   FILE absolute, written by netbe-host itself
 * capture-stop ID
 * rate-limit ID [key=value...]                 without keys: show the limits
 */
char *control_capture(NetbeRuntime *rt, const char *const *args, bool json);
char *control_capture_stop(NetbeRuntime *rt, const char *const *args, bool json);
char *control_rate_limit(NetbeRuntime *rt, const char *const *args, bool json);

#endif /* NETBE_HOST_CONTROL_TRAFFIC_H */
