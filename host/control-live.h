/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control-live.h - control commands that change a running netbe-host: netdevs, hub ports,
 * links, hostfwd rules, reload. */
#ifndef NETBE_HOST_CONTROL_LIVE_H
#define NETBE_HOST_CONTROL_LIVE_H

#include "control.h"

/*
 * Each is a ControlHandler (control.h) over the libnetbe call of the same name
 * (include/netbe/netbe.h, "Live changes"); each returns what it acted on.
 * netdev-add ID [KEY=VALUE...]     netbe_runtime_netdev_add()
 * netdev-del ID                    netbe_runtime_netdev_del()
 * hub-port-add HUB NETDEV          netbe_runtime_hub_port_add()
 * hub-port-del HUB NETDEV          netbe_runtime_hub_port_del()
 * link ID up|down                  netbe_runtime_set_link()
 * hostfwd-add ID RULE              netbe_runtime_hostfwd_add()
 * hostfwd-del ID RULE              netbe_runtime_hostfwd_del()
 * reload [FILE]                    netbe_runtime_reload()
 */
JsonNode *control_netdev_add(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_netdev_del(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_hub_port_add(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_hub_port_del(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_link(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_hostfwd_add(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_hostfwd_del(ControlCall *call, JsonObject *args, GError **errp);
JsonNode *control_reload(ControlCall *call, JsonObject *args, GError **errp);

#endif /* NETBE_HOST_CONTROL_LIVE_H */
