// SPDX-License-Identifier: LGPL-2.1-or-later
/* events.c - the runtime's events (netdev up, peer gone, handover...): subscribers get each
 * one in order, synchronously, on the runtime's thread. */
#include <stdarg.h>
#include "netbe-priv.h"
#include "netbe/migrate.h"

typedef struct EventSub {
    unsigned id; /* 0: unsubscribed while an event was being delivered */
    NetbeEventFn fn;
    void *opaque;
} EventSub;

struct NetbeEvents {
    GArray *subs; /* EventSub */
    unsigned next_id;
    unsigned delivering; /* nesting depth of netbe_runtime_emit_event() */
};

static NetbeEvents *events_get(NetbeRuntime *rt)
{
    if (!rt->events) {
        rt->events = g_new0(NetbeEvents, 1);
        rt->events->subs = g_array_new(false, false, sizeof(EventSub));
    }
    return rt->events;
}

unsigned netbe_runtime_subscribe(NetbeRuntime *rt, NetbeEventFn fn, void *opaque)
{
    NetbeEvents *ev = events_get(rt);
    EventSub sub = {.id = ++ev->next_id, .fn = fn, .opaque = opaque};

    g_array_append_val(ev->subs, sub);
    return sub.id;
}

/* Drop the entries unsubscribed during a delivery. */
static void events_compact(NetbeEvents *ev)
{
    for (guint i = ev->subs->len; i-- > 0;) {
        if (!g_array_index(ev->subs, EventSub, i).id) {
            g_array_remove_index(ev->subs, i);
        }
    }
}

void netbe_runtime_unsubscribe(NetbeRuntime *rt, unsigned id)
{
    NetbeEvents *ev = rt->events;

    for (guint i = 0; ev && id && i < ev->subs->len; i++) {
        if (g_array_index(ev->subs, EventSub, i).id == id) {
            g_array_index(ev->subs, EventSub, i).id = 0;
        }
    }
    if (ev && !ev->delivering) {
        events_compact(ev);
    }
}

void netbe_runtime_emit_event_variant(NetbeRuntime *rt, const char *name, GVariant *data)
{
    NetbeEvents *ev = rt->events;
    gint64 now = g_get_real_time();

    g_variant_ref_sink(data);
    if (ev) {
        ev->delivering++;
        /* by index: a subscriber may subscribe another one (appended, it gets this too) */
        for (guint i = 0; i < ev->subs->len; i++) {
            EventSub sub = g_array_index(ev->subs, EventSub, i);

            if (sub.id) {
                sub.fn(name, data, now, sub.opaque);
            }
        }
        if (!--ev->delivering) {
            events_compact(ev);
        }
    }
    g_variant_unref(data);
}

void netbe_runtime_emit_event(NetbeRuntime *rt, const char *name, const char *first_key, ...)
{
    GVariantBuilder b;
    va_list ap;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    va_start(ap, first_key);
    for (const char *key = first_key; key; key = va_arg(ap, const char *)) {
        g_variant_builder_add(&b, "{sv}", key, va_arg(ap, GVariant *));
    }
    va_end(ap);
    netbe_runtime_emit_event_variant(rt, name, g_variant_builder_end(&b));
}

/* @s as a string value, made valid UTF-8 (it may come from a peer or a stream). */
static GVariant *event_string(const char *s)
{
    g_autofree char *valid = g_utf8_make_valid(s ? s : "", -1);

    return g_variant_new_string(valid);
}

void netbe_backend_peer_event(NetbeBackend *be, const char *peer, bool connected,
                              const char *reason)
{
    if (connected) {
        netbe_runtime_emit_event(be->rt, NETBE_EVENT_PEER_CONNECTED, "netdev",
                                 g_variant_new_string(be->id), "peer", event_string(peer), NULL);
    } else {
        netbe_runtime_emit_event(be->rt, NETBE_EVENT_PEER_DISCONNECTED, "netdev",
                                 g_variant_new_string(be->id), "peer", event_string(peer), "reason",
                                 event_string(reason), NULL);
    }
}

/* netdev-up / netdev-down of @be. */
void netbe_backend_state_event(NetbeBackend *be, bool up)
{
    netbe_runtime_emit_event(be->rt, up ? NETBE_EVENT_NETDEV_UP : NETBE_EVENT_NETDEV_DOWN, "netdev",
                             g_variant_new_string(be->id), "type",
                             g_variant_new_string(netbe_backend_plugin_name(be)), NULL);
}

void netbe_handover_started_event(NetbeRuntime *rt, const char *role, const char *peer)
{
    netbe_runtime_emit_event(rt, NETBE_EVENT_HANDOVER_STARTED, "role", g_variant_new_string(role),
                             "peer", event_string(peer), NULL);
}

void netbe_handover_finished_event(NetbeRuntime *rt, const char *role,
                                   const struct NetbeMigStats *st, const GError *err)
{
    if (err) {
        netbe_runtime_emit_event(rt, NETBE_EVENT_HANDOVER_FINISHED, "role",
                                 g_variant_new_string(role), "ok", g_variant_new_boolean(false),
                                 "error", event_string(err->message), NULL);
    } else {
        netbe_runtime_emit_event(rt, NETBE_EVENT_HANDOVER_FINISHED, "role",
                                 g_variant_new_string(role), "ok", g_variant_new_boolean(true),
                                 "downtime_ms", g_variant_new_double(st->downtime_ns / 1e6),
                                 "backends", g_variant_new_uint32(st->backends), "devices",
                                 g_variant_new_uint32(st->devices), NULL);
    }
}

void netbe_events_free(NetbeRuntime *rt)
{
    if (rt->events) {
        g_array_unref(rt->events->subs);
        g_clear_pointer(&rt->events, g_free);
    }
}
