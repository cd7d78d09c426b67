// SPDX-License-Identifier: LGPL-2.1-or-later
/* vu-status.c - what `netbe-ctl status` shows of a vhost-user device: its VMM, negotiated
 * features, queue pairs in use, link (report.c writes transport and socket). */
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
static void vu_rings_status(const VuServer *s, GString *out, bool json)
{
    for (unsigned i = 0; i < s->nrings; i++) {
        NetbeVnetQueueStats st;

        if (!s->rings[i].started || !netbe_vnet_get_queue_stats(s->dev, i, &st)) {
            continue;
        }
        g_string_append_printf(
            out,
            json ? "%s{\"vring\":%u,\"kicks\":%" PRIu64 ",\"interrupts\":%" PRIu64
                   ",\"chains\":%" PRIu64 ",\"drops\":%" PRIu64 ",\"broken\":%s}"
                 : "%s    vring %u: %" PRIu64 " kicks, %" PRIu64 " interrupts, %" PRIu64
                   " chains, %" PRIu64 " drops%s\n",
            json && out->str[out->len - 1] != '[' ? "," : "", i, st.kicks, st.interrupts, st.chains,
            st.drops, json ? (st.broken ? "true" : "false") : (st.broken ? ", broken" : ""));
    }
}

void netbe_vu_status(const NetbeDevice *dev, GString *out, bool json)
{
    const VuServer *s = dev->vu;
    int pid = s && s->conn ? (int)s->conn->pid : 0;
    uint64_t features = s ? s->features : 0;
    unsigned pairs = s ? vu_pairs_running(s) : 0;
    bool link = s && vu_link_up(s->dev);

    if (json) {
        if (pid) {
            g_string_append_printf(out, ",\"vmm_pid\":%d", pid);
        } else {
            g_string_append(out, ",\"vmm_pid\":null");
        }
        g_string_append_printf(out,
                               ",\"features\":\"0x%016" PRIx64 "\",\"protocol_features\":"
                               "\"0x%" PRIx64 "\",\"queue_pairs\":%u,\"link\":\"%s\"",
                               features, s ? s->protocol_features : 0, pairs, link ? "up" : "down");
        g_string_append(out, ",\"rings\":[");
        if (s) {
            vu_rings_status(s, out, true);
        }
        g_string_append_c(out, ']');
        return;
    }
    if (pid) {
        g_string_append_printf(out,
                               "  vhost-user %s: VMM pid %d, features 0x%016" PRIx64
                               ", %u queue pair%s running, link %s\n",
                               dev->socket_path, pid, features, pairs, pairs == 1 ? "" : "s",
                               link ? "up" : "down");
        vu_rings_status(s, out, false);
    } else {
        g_string_append_printf(out, "  vhost-user %s: no VMM connected\n", dev->socket_path);
    }
}
