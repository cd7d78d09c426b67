// SPDX-License-Identifier: LGPL-2.1-or-later
/* report.c - status and counters of a runtime, as text or JSON. */
#include <inttypes.h>
#include "netbe-priv.h"

static const char *backend_state(const NetbeBackend *be)
{
    return be->started ? "running" : be->connected ? "connected" : "not connected";
}

/* Append @s as a JSON string. */
static void json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            g_string_append_printf(out, "\\%c", *s);
        } else if ((unsigned char)*s < 0x20) {
            g_string_append_printf(out, "\\u%04x", *s);
        } else {
            g_string_append_c(out, *s);
        }
    }
    g_string_append_c(out, '"');
}

char *netbe_runtime_status(NetbeRuntime *rt, bool json)
{
    GString *out = g_string_new(json ? "{\"netdevs\":[" : "");

    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(rt->backends, i);
        const char *peer = be->peer_name ? be->peer_name : "-";

        if (json) {
            g_string_append(out, i ? ",{\"id\":" : "{\"id\":");
            json_string(out, be->id);
            g_string_append(out, ",\"type\":");
            json_string(out, netbe_backend_plugin_name(be));
            g_string_append_printf(out,
                                   ",\"queues\":%u,\"state\":\"%s\",\"frontend\":", be->nqueues,
                                   backend_state(be));
            json_string(out, peer);
            g_string_append(out, "}");
        } else {
            g_string_append_printf(out, "netdev %-12s type %-8s queues %-3u %-14s frontend %s\n",
                                   be->id, netbe_backend_plugin_name(be), be->nqueues,
                                   backend_state(be), peer);
        }
    }
    if (json) {
        g_string_append(out, "],\"hubs\":[");
    }
    for (guint i = 0; i < rt->hubs->len; i++) {
        NetbeHub *hub = g_ptr_array_index(rt->hubs, i);
        const char *state = netbe_hub_is_started(hub) ? "running" : "stopped";

        if (json) {
            g_string_append(out, i ? ",{\"id\":" : "{\"id\":");
            json_string(out, netbe_hub_id(hub));
            g_string_append_printf(out, ",\"ports\":%u,\"state\":\"%s\"}",
                                   netbe_hub_port_count(hub), state);
        } else {
            g_string_append_printf(out, "hub    %-12s ports %-3u %s\n", netbe_hub_id(hub),
                                   netbe_hub_port_count(hub), state);
        }
    }
    if (json) {
        g_string_append(out, "],\"devices\":[");
    }
    for (guint i = 0; i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);
        const char *state = dev->started ? "started" : "waiting for its driver";

        if (json) {
            g_string_append(out, i ? ",{\"id\":" : "{\"id\":");
            json_string(out, dev->id);
            g_string_append(out, ",\"netdev\":");
            json_string(out, dev->backend->id);
            g_string_append_printf(out, ",\"state\":\"%s\"", dev->started ? "started" : "waiting");
            if (dev->vhost_user) {
                g_string_append(out, ",\"transport\":\"vhost-user\",\"socket\":");
                json_string(out, dev->socket_path);
                netbe_vu_status(dev, out, true);
            }
            g_string_append_c(out, '}');
        } else {
            g_string_append_printf(out, "device %-12s netdev %-12s %s\n", dev->id, dev->backend->id,
                                   state);
            if (dev->vhost_user) {
                netbe_vu_status(dev, out, false);
            }
        }
    }
    if (json) {
        g_string_append(out, "]}\n");
    }
    return g_string_free(out, false);
}

/* The waits of the netdevs that have a rate limit or had one: "],"rate_limits":[...]" in
 * JSON (closing the queues' array), a line each in text. */
static void report_rate_limits(NetbeRuntime *rt, GString *out, bool json)
{
    bool first = true;

    g_string_append(out, json ? "],\"rate_limits\":[" : "");
    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(rt->backends, i);
        NetbeRateLimitStats st;

        netbe_runtime_get_rate_limit_stats(rt, be->id, &st);
        if (!st.limited && !st.rx_waits && !st.tx_waits) {
            continue;
        }
        if (json) {
            g_string_append(out, first ? "{\"netdev\":" : ",{\"netdev\":");
            json_string(out, be->id);
            g_string_append_printf(out,
                                   ",\"limited\":%s,\"rx_waits\":%" PRIu64
                                   ",\"rx_wait_ns\":%" PRIu64 ",\"tx_waits\":%" PRIu64
                                   ",\"tx_wait_ns\":%" PRIu64 "}",
                                   st.limited ? "true" : "false", st.rx_waits, st.rx_wait_ns,
                                   st.tx_waits, st.tx_wait_ns);
        } else {
            g_string_append_printf(out,
                                   "rate limit %-12s rx waited %" PRIu64
                                   " times %.3f ms, tx waited %" PRIu64 " times %.3f ms%s\n",
                                   be->id, st.rx_waits, st.rx_wait_ns / 1e6, st.tx_waits,
                                   st.tx_wait_ns / 1e6, st.limited ? "" : " (no limit now)");
        }
        first = false;
    }
    g_string_append(out, json ? "]" : "");
}

char *netbe_runtime_stats(NetbeRuntime *rt, bool json)
{
    GString *out = g_string_new(json ? "{\"queues\":[" : "");
    bool first = true;

    if (!json) {
        g_string_append_printf(out, "%-12s %5s %12s %14s %9s %12s %14s %9s\n", "netdev", "queue",
                               "tx_frames", "tx_bytes", "tx_drops", "rx_frames", "rx_bytes",
                               "rx_drops");
    }
    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(rt->backends, i);

        for (unsigned q = 0; q < be->nqueues; q++) {
            NetbeQueueStats st;

            netbe_runtime_get_queue_stats(rt, be->id, q, &st);
            if (json) {
                g_string_append(out, first ? "{\"netdev\":" : ",{\"netdev\":");
                json_string(out, be->id);
                g_string_append_printf(
                    out,
                    ",\"queue\":%u,\"tx_frames\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
                    ",\"tx_drops\":%" PRIu64 ",\"tx_queued\":%u,\"rx_frames\":%" PRIu64
                    ",\"rx_bytes\":%" PRIu64 ",\"rx_drops\":%" PRIu64 ",\"rx_queued\":%u}",
                    q, st.tx_frames, st.tx_bytes, st.tx_drops, st.tx_queued, st.rx_frames,
                    st.rx_bytes, st.rx_drops, st.rx_queued);
            } else {
                g_string_append_printf(out,
                                       "%-12s %5u %12" PRIu64 " %14" PRIu64 " %9" PRIu64
                                       " %12" PRIu64 " %14" PRIu64 " %9" PRIu64 "\n",
                                       be->id, q, st.tx_frames, st.tx_bytes, st.tx_drops,
                                       st.rx_frames, st.rx_bytes, st.rx_drops);
            }
            first = false;
        }
    }
    report_rate_limits(rt, out, json);
    if (json) {
        g_string_append(out, "}\n");
    }
    return g_string_free(out, false);
}
