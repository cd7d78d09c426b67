/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control-traffic.h - control commands on a netdev's traffic: capture, capture-stop,
 * rate-limit. */
#ifndef NETBE_HOST_CONTROL_TRAFFIC_H
#define NETBE_HOST_CONTROL_TRAFFIC_H

#include "control.h"

/*
 * Handlers of the control table (control.h):
 * capture {id, file, count?, seconds?}: {"netdev":ID,"file":FILE,"count":N,"seconds":S}
 * capture-stop {id}: {"netdev":ID,"frames":N}
 * rate-limit {id, limits?: ["key=value"...]}: {"netdev":ID,"limits":{key:value...}}
 */
JsonNode *control_capture(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_capture_stop(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_rate_limit(ControlCall *call, JsonObject *args, GError **errp);

#endif /* NETBE_HOST_CONTROL_TRAFFIC_H */
