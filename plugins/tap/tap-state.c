// SPDX-License-Identifier: LGPL-2.1-or-later
/* tap-state.c - encode and check the tap backend's handover state (see tap-state.h). */
#include <errno.h>
#include <string.h>
#include "tap-state.h"

#define TAP_OFFLOAD_ALL ((1u << 7) - 1) /* NETBE_OFFLOAD_CSUM .. NETBE_OFFLOAD_USO6 */

/* Header field offsets. */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_NQUEUES = 6,
    OFF_IFNAME = 8,
    OFF_FLAGS = 24,
    OFF_KERNEL_HDR = 25,
    OFF_PEER_HDR = 26,
    OFF_OFFLOAD_CAPS = 28,
    OFF_OFFLOADS = 32,
    OFF_SNDBUF = 36,
};

#define TAP_STATE_F_VNET_HDR (1u << 0)

static void put_u16(uint8_t *p, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    memcpy(p, &v, sizeof(v));
}

static void put_u32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, sizeof(v));
}

static uint16_t get_u16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof(v));
    return GUINT16_FROM_LE(v);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return GUINT32_FROM_LE(v);
}

GBytes *tap_state_encode(const TapState *st)
{
    size_t len = TAP_STATE_HEADER_SIZE + st->nqueues;
    uint8_t *b = g_malloc0(len);

    memcpy(b + OFF_MAGIC, TAP_STATE_MAGIC, 4);
    put_u16(b + OFF_VERSION, TAP_STATE_VERSION);
    put_u16(b + OFF_NQUEUES, (uint16_t)st->nqueues);
    memcpy(b + OFF_IFNAME, st->ifname, strnlen(st->ifname, IFNAMSIZ - 1));
    b[OFF_FLAGS] = st->vnet_hdr ? TAP_STATE_F_VNET_HDR : 0;
    b[OFF_KERNEL_HDR] = st->kernel_hdr_len;
    b[OFF_PEER_HDR] = st->peer_hdr_len;
    put_u32(b + OFF_OFFLOAD_CAPS, st->offload_caps);
    put_u32(b + OFF_OFFLOADS, st->offloads);
    put_u32(b + OFF_SNDBUF, (uint32_t)st->sndbuf);
    memcpy(b + TAP_STATE_HEADER_SIZE, st->queue_flags, st->nqueues);
    return g_bytes_new_take(b, len);
}

static bool hdr_len_is_valid(unsigned len)
{
    return len == 10 || len == 12 || len == 20;
}

/* The first rule @st breaks, or NULL. */
static const char *tap_state_problem(const TapState *st, unsigned nfds)
{
    if (st->nqueues < 1 || st->nqueues > NETBE_MAX_QUEUES) {
        return "queue count out of range";
    }
    if (nfds != st->nqueues) {
        return "fd count differs from the queue count";
    }
    if (!st->ifname[0]) {
        return "empty ifname";
    }
    if (st->vnet_hdr ? !hdr_len_is_valid(st->kernel_hdr_len) : st->kernel_hdr_len != 0) {
        return "bad kernel vnet header length";
    }
    if (st->peer_hdr_len && (!st->vnet_hdr || st->peer_hdr_len != st->kernel_hdr_len)) {
        return "frontend header length does not match the kernel's";
    }
    if ((st->offload_caps & ~TAP_OFFLOAD_ALL) || (st->offloads & ~st->offload_caps)) {
        return "offloads outside the capabilities";
    }
    if (st->offloads && !st->peer_hdr_len) {
        return "offloads without a frontend header";
    }
    if (st->sndbuf <= 0) {
        return "sndbuf not positive";
    }
    for (unsigned q = 0; q < st->nqueues; q++) {
        if (st->queue_flags[q] & ~TAP_STATE_Q_ENABLED) {
            return "unknown queue flags";
        }
    }
    return NULL;
}

bool tap_state_decode(const void *data, size_t len, unsigned nfds, TapState *out, GError **errp)
{
    const uint8_t *b = data;
    TapState st = {0};
    const char *problem;
    unsigned version;

    if (len < TAP_STATE_HEADER_SIZE || memcmp(b + OFF_MAGIC, TAP_STATE_MAGIC, 4) != 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "tap state: not a tap state record "
                    "(%zu bytes)",
                    len);
        return false;
    }
    version = get_u16(b + OFF_VERSION);
    if (version != TAP_STATE_VERSION) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "tap state: version %u, this plugin "
                    "reads version %u",
                    version, TAP_STATE_VERSION);
        return false;
    }
    st.nqueues = get_u16(b + OFF_NQUEUES);
    if (len != TAP_STATE_HEADER_SIZE + (size_t)st.nqueues || b[OFF_FLAGS] & ~TAP_STATE_F_VNET_HDR ||
        b[OFF_PEER_HDR + 1] != 0 || memchr(b + OFF_IFNAME, '\0', IFNAMSIZ) == NULL) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "tap state: malformed record (%zu bytes "
                    "for %u queues)",
                    len, st.nqueues);
        return false;
    }
    memcpy(st.ifname, b + OFF_IFNAME, IFNAMSIZ);
    st.vnet_hdr = b[OFF_FLAGS] & TAP_STATE_F_VNET_HDR;
    st.kernel_hdr_len = b[OFF_KERNEL_HDR];
    st.peer_hdr_len = b[OFF_PEER_HDR];
    st.offload_caps = get_u32(b + OFF_OFFLOAD_CAPS);
    st.offloads = get_u32(b + OFF_OFFLOADS);
    st.sndbuf = (int32_t)get_u32(b + OFF_SNDBUF);
    if (st.nqueues <= NETBE_MAX_QUEUES) {
        memcpy(st.queue_flags, b + TAP_STATE_HEADER_SIZE, st.nqueues);
    }
    problem = tap_state_problem(&st, nfds);
    if (problem) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "tap state of '%s': %s", st.ifname, problem);
        return false;
    }
    *out = st;
    return true;
}
