// SPDX-License-Identifier: LGPL-2.1-or-later
/* vu-status.c - what the status of a vhost-user device holds: its VMM, negotiated features,
 * queue pairs in use, link, ring counters (report.c adds transport and socket). */
#include <inttypes.h>
#include "vu-priv.h"

/* Queue pairs with a running ring. */
static unsigned vu_pairs_running(const VuServer *s)
{
    unsigned pairs = 0;

    for (unsigned i = 0; i < s->nrings; i++) {
        if (s->rings[i].started) {
            pairs = MAX(pairs, i / 2 + 1);
        }
    }
    return pairs;
}

static bool vu_link_up(NetbeDevice *dev)
{
    uint8_t st[2] = {0};

    netbe_vnet_config_read(dev, NETBE_VIRTIO_NET_CFG_STATUS, st, sizeof(st));
    return st[0] & NETBE_VIRTIO_NET_S_LINK_UP;
}

/* Each started ring's counters: what an operator (or a test) reads when traffic stalls. */
static GVariant *vu_rings_status(const VuServer *s)
{
    GVariantBuilder list;

    g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
    for (unsigned i = 0; s && i < s->nrings; i++) {
        NetbeVnetQueueStats st;
        GVariantBuilder b;

        if (!s->rings[i].started || !netbe_vnet_get_queue_stats(s->dev, i, &st)) {
            continue;
        }
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "vring", g_variant_new_uint32(i));
        g_variant_builder_add(&b, "{sv}", "kicks", g_variant_new_uint64(st.kicks));
        g_variant_builder_add(&b, "{sv}", "interrupts", g_variant_new_uint64(st.interrupts));
        g_variant_builder_add(&b, "{sv}", "chains", g_variant_new_uint64(st.chains));
        g_variant_builder_add(&b, "{sv}", "drops", g_variant_new_uint64(st.drops));
        g_variant_builder_add(&b, "{sv}", "broken", g_variant_new_boolean(st.broken));
        g_variant_builder_add_value(&list, g_variant_builder_end(&b));
    }
    return g_variant_builder_end(&list);
}

void netbe_vu_status(const NetbeDevice *dev, GVariantBuilder *b)
{
    const VuServer *s = dev->vu;
    int pid = s && s->conn ? (int)s->conn->pid : 0;
    g_autofree char *features = g_strdup_printf("0x%016" PRIx64, s ? s->features : 0);
    g_autofree char *proto = g_strdup_printf("0x%" PRIx64, s ? s->protocol_features : 0);

    g_variant_builder_add(
        b, "{sv}", "vmm_pid",
        g_variant_new_maybe(G_VARIANT_TYPE_INT32, pid ? g_variant_new_int32(pid) : NULL));
    g_variant_builder_add(b, "{sv}", "features", g_variant_new_string(features));
    g_variant_builder_add(b, "{sv}", "protocol_features", g_variant_new_string(proto));
    g_variant_builder_add(b, "{sv}", "poll_us", g_variant_new_uint32(dev->poll_us));
    g_variant_builder_add(b, "{sv}", "queue_pairs",
                          g_variant_new_uint32(s ? vu_pairs_running(s) : 0));
    g_variant_builder_add(b, "{sv}", "link",
                          g_variant_new_string(s && vu_link_up(s->dev) ? "up" : "down"));
    g_variant_builder_add(b, "{sv}", "rings", vu_rings_status(s));
}
