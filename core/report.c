// SPDX-License-Identifier: LGPL-2.1-or-later
/* report.c - status and counters of a runtime as GVariant trees (hosts format them). */
#include "netbe-priv.h"

static const char *backend_state(const NetbeBackend *be)
{
    return be->started ? "running" : be->connected ? "connected" : "not connected";
}

/* Add @key = @value (floating, taken) to the a{sv} being built in @b. */
static void dict_add(GVariantBuilder *b, const char *key, GVariant *value)
{
    g_variant_builder_add(b, "{sv}", key, value);
}

static GVariant *netdev_status(const NetbeBackend *be)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    dict_add(&b, "id", g_variant_new_string(be->id));
    dict_add(&b, "type", g_variant_new_string(netbe_backend_plugin_name(be)));
    dict_add(&b, "queues", g_variant_new_uint32(be->nqueues));
    dict_add(&b, "state", g_variant_new_string(backend_state(be)));
    dict_add(&b, "frontend", g_variant_new_string(be->peer_name ? be->peer_name : "-"));
    dict_add(&b, "link", g_variant_new_string(be->link_down ? "down" : "up"));
    if (be->capture) {
        dict_add(&b, "capture", g_variant_new_string(netbe_capture_path(be->capture)));
        dict_add(&b, "capture_frames", g_variant_new_uint64(netbe_capture_frames(be->capture)));
    }
    if (be->rate) {
        g_auto(GStrv) limits = netbe_runtime_get_rate_limit(be->rt, be->id, NULL);

        dict_add(&b, "rate_limit", g_variant_new_strv((const char *const *)limits, -1));
    }
    return g_variant_builder_end(&b);
}

static GVariant *hub_status(NetbeHub *hub)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    dict_add(&b, "id", g_variant_new_string(netbe_hub_id(hub)));
    dict_add(&b, "ports", g_variant_new_uint32(netbe_hub_port_count(hub)));
    dict_add(&b, "state", g_variant_new_string(netbe_hub_is_started(hub) ? "running" : "stopped"));
    return g_variant_builder_end(&b);
}

static GVariant *device_status(const NetbeDevice *dev)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    dict_add(&b, "id", g_variant_new_string(dev->id));
    dict_add(&b, "netdev", g_variant_new_string(dev->backend->id));
    /* netdev-del under the device: it stays, with its link down (as a QEMU NIC) */
    dict_add(&b, "netdev_deleted", g_variant_new_boolean(dev->backend->retired));
    dict_add(&b, "state", g_variant_new_string(dev->started ? "started" : "waiting"));
    if (dev->vhost_user) {
        dict_add(&b, "transport", g_variant_new_string("vhost-user"));
        dict_add(&b, "socket", g_variant_new_string(dev->socket_path));
        netbe_vu_status(dev, &b);
    }
    return g_variant_builder_end(&b);
}

GVariant *netbe_runtime_status_variant(NetbeRuntime *rt)
{
    GVariantBuilder b, list;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < rt->backends->len; i++) {
        g_variant_builder_add_value(&list, netdev_status(g_ptr_array_index(rt->backends, i)));
    }
    dict_add(&b, "netdevs", g_variant_builder_end(&list));
    g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < rt->hubs->len; i++) {
        g_variant_builder_add_value(&list, hub_status(g_ptr_array_index(rt->hubs, i)));
    }
    dict_add(&b, "hubs", g_variant_builder_end(&list));
    g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < rt->devices->len; i++) {
        g_variant_builder_add_value(&list, device_status(g_ptr_array_index(rt->devices, i)));
    }
    dict_add(&b, "devices", g_variant_builder_end(&list));
    return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* The waits of a netdev that has a rate limit or had one, or NULL. */
static GVariant *rate_limit_stats(NetbeRuntime *rt, const NetbeBackend *be)
{
    GVariantBuilder b;
    NetbeRateLimitStats st;

    netbe_runtime_get_rate_limit_stats(rt, be->id, &st);
    if (!st.limited && !st.rx_waits && !st.tx_waits) {
        return NULL;
    }
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    dict_add(&b, "netdev", g_variant_new_string(be->id));
    dict_add(&b, "limited", g_variant_new_boolean(st.limited));
    dict_add(&b, "rx_waits", g_variant_new_uint64(st.rx_waits));
    dict_add(&b, "rx_wait_ns", g_variant_new_uint64(st.rx_wait_ns));
    dict_add(&b, "tx_waits", g_variant_new_uint64(st.tx_waits));
    dict_add(&b, "tx_wait_ns", g_variant_new_uint64(st.tx_wait_ns));
    return g_variant_builder_end(&b);
}

static GVariant *queue_stats(NetbeRuntime *rt, const NetbeBackend *be, unsigned q)
{
    GVariantBuilder b;
    NetbeQueueStats st;

    netbe_runtime_get_queue_stats(rt, be->id, q, &st);
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    dict_add(&b, "netdev", g_variant_new_string(be->id));
    dict_add(&b, "queue", g_variant_new_uint32(q));
    dict_add(&b, "tx_frames", g_variant_new_uint64(st.tx_frames));
    dict_add(&b, "tx_bytes", g_variant_new_uint64(st.tx_bytes));
    dict_add(&b, "tx_drops", g_variant_new_uint64(st.tx_drops));
    dict_add(&b, "tx_queued", g_variant_new_uint32(st.tx_queued));
    dict_add(&b, "rx_frames", g_variant_new_uint64(st.rx_frames));
    dict_add(&b, "rx_bytes", g_variant_new_uint64(st.rx_bytes));
    dict_add(&b, "rx_drops", g_variant_new_uint64(st.rx_drops));
    dict_add(&b, "rx_queued", g_variant_new_uint32(st.rx_queued));
    return g_variant_builder_end(&b);
}

GVariant *netbe_runtime_stats_variant(NetbeRuntime *rt)
{
    GVariantBuilder b, list;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(rt->backends, i);

        for (unsigned q = 0; q < be->nqueues; q++) {
            g_variant_builder_add_value(&list, queue_stats(rt, be, q));
        }
    }
    dict_add(&b, "queues", g_variant_builder_end(&list));
    g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < rt->backends->len; i++) {
        GVariant *rl = rate_limit_stats(rt, g_ptr_array_index(rt->backends, i));

        if (rl) {
            g_variant_builder_add_value(&list, rl);
        }
    }
    dict_add(&b, "rate_limits", g_variant_builder_end(&list));
    return g_variant_ref_sink(g_variant_builder_end(&b));
}
