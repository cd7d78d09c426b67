// SPDX-License-Identifier: LGPL-2.1-or-later
/* vu-dispatch.c - vhost-user requests: one table says each request's payload size, fds and
 * reply; handlers translate them into the virtio-net device API. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vu-priv.h"

#define BIT(n) (UINT64_C(1) << (n))
#define VU_PROTOCOL_OFFER                                                                          \
    (BIT(VU_PF_MQ) | BIT(VU_PF_LOG_SHMFD) | BIT(VU_PF_RARP) | BIT(VU_PF_REPLY_ACK) |               \
     BIT(VU_PF_NET_MTU) | BIT(VU_PF_CONFIG) | BIT(VU_PF_RESET_DEVICE))

/* How many fds a request carries. */
typedef enum VuFds {
    VU_FDS_NONE = 0,
    VU_FDS_ONE,     /* exactly one */
    VU_FDS_RING,    /* one, unless the payload's VU_VRING_NOFD bit says none */
    VU_FDS_REGIONS, /* one per region (checked by the handler) */
} VuFds;

typedef bool (*VuHandler)(VuServer *s, VuMsg *m, VuReply *r, GError **errp);

typedef struct VuRequest {
    const char *name;
    uint32_t min_size, max_size; /* payload bytes */
    VuFds fds;
    bool replies; /* has a reply of its own */
    VuHandler handle;
} VuRequest;

static uint64_t vu_u64(const VuMsg *m)
{
    uint64_t v;

    memcpy(&v, m->payload, sizeof(v));
    return v;
}

static void reply_u64(VuReply *r, uint64_t v)
{
    memcpy(r->payload, &v, sizeof(v));
    r->size = sizeof(v);
}

/* Take fd @i of the message (the caller owns it now). */
static int take_fd(VuMsg *m, unsigned i)
{
    int fd = m->fds[i];

    m->fds[i] = -1;
    return fd;
}

/* The ring a vring message names; false (closing) if there is none. */
static VuRing *ring_of(VuServer *s, uint32_t index, GError **errp)
{
    if (index >= s->nrings) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "vring %u does not exist (this device has %u: "
                    "queues = %u in [device.%s])",
                    index, s->nrings, s->nrings / 2, s->dev->id);
        return NULL;
    }
    return &s->rings[index];
}

/* A vring state message: its ring, and its value (at most @max) in *st. */
static VuRing *ring_state(VuServer *s, const VuMsg *m, uint32_t max, const char *what,
                          VuVringState *st, GError **errp)
{
    VuRing *ring;

    memcpy(st, m->payload, sizeof(*st));
    if (!(ring = ring_of(s, st->index, errp))) {
        return NULL;
    }
    if (st->num > max) {
        g_set_error(errp, VU_ERROR, EINVAL, "vring %u: %s %u (allowed: 0..%u)", st->index, what,
                    st->num, max);
        return NULL;
    }
    return ring;
}

static uint64_t vu_offer(VuServer *s)
{
    return netbe_vnet_get_device_features(s->dev) | BIT(VU_F_LOG_ALL) | BIT(VU_F_PROTOCOL_FEATURES);
}

/* ---- handlers ---- */

static bool h_get_features(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    (void)m;
    (void)errp;
    reply_u64(r, vu_offer(s));
    return true;
}

static bool h_set_features(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    uint64_t f = vu_u64(m), extra = f & ~vu_offer(s), old = s->features;

    (void)r;
    if (extra) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "features 0x%" G_GINT64_MODIFIER "x were not "
                    "offered",
                    extra);
        return false;
    }
    s->features = f;
    if (!(f & BIT(VU_F_PROTOCOL_FEATURES))) {
        for (unsigned i = 0; i < s->nrings; i++) {
            s->rings[i].enabled = true; /* without protocol features rings start enabled */
        }
    }
    if (s->running && ((old ^ f) & ~BIT(VU_F_LOG_ALL))) {
        return vu_rings_restart(s, errp); /* the driver's features changed: renegotiate */
    }
    vu_log_apply(s);
    return true;
}

static bool h_nothing(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    (void)s;
    (void)m;
    (void)r;
    (void)errp;
    return true;
}

static bool h_reset(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    (void)m;
    (void)r;
    (void)errp;
    vu_device_reset(s);
    return true;
}

static bool h_set_mem_table(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuMemTable t = {0};

    (void)r;
    memcpy(&t, m->payload, MIN(m->hdr.size, sizeof(t)));
    if (m->hdr.size != 8 + (uint64_t)MIN(t.nregions, VU_MAX_REGIONS + 1) * sizeof(VuRegion)) {
        g_set_error(errp, VU_ERROR, EINVAL, "%u bytes for %u regions", m->hdr.size, t.nregions);
        return false;
    }
    return vu_mem_set(s, &t, m, errp);
}

static bool h_set_log_base(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuLog l;

    memcpy(&l, m->payload, sizeof(l));
    reply_u64(r, 0);
    if (!vu_log_set(s, &l, m->fds[0], errp)) {
        return false;
    }
    take_fd(m, 0);
    return true;
}

static bool h_set_log_fd(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    (void)s;
    (void)r;
    (void)errp;
    close(take_fd(m, 0)); /* only for a back-end that tells the VMM it logged: not us */
    return true;
}

static bool h_set_vring_num(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuVringState st;
    VuRing *ring;
    unsigned max;

    (void)r;
    memcpy(&st, m->payload, sizeof(st));
    if (!(ring = ring_of(s, st.index, errp))) {
        return false;
    }
    max = netbe_vnet_queue_max_size(s->dev, st.index);
    if (st.num == 0 || st.num > max || (st.num & (st.num - 1))) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "vring %u: size %u (allowed: a power of two up to "
                    "%u, rx_queue_size / tx_queue_size in [device.%s])",
                    st.index, st.num, max, s->dev->id);
        return false;
    }
    ring->num = st.num;
    return true;
}

static bool h_set_vring_addr(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuVringAddr a;
    VuRing *ring;
    uint64_t desc, avail, used;

    (void)r;
    memcpy(&a, m->payload, sizeof(a));
    if (!(ring = ring_of(s, a.index, errp))) {
        return false;
    }
    if (!ring->num) {
        g_set_error(errp, VU_ERROR, EINVAL, "vring %u: addresses before its size", a.index);
        return false;
    }
    if (!vu_mem_uva_to_gpa(s, a.desc_uva, 16ull * ring->num, &desc) ||
        !vu_mem_uva_to_gpa(s, a.avail_uva, 6 + 2ull * ring->num, &avail) ||
        !vu_mem_uva_to_gpa(s, a.used_uva, 6 + 8ull * ring->num, &used)) {
        g_set_error(errp, VU_ERROR, EFAULT,
                    "vring %u: a ring (descriptors 0x%" G_GINT64_MODIFIER
                    "x, driver 0x%" G_GINT64_MODIFIER "x, device 0x%" G_GINT64_MODIFIER
                    "x) is in no memory region",
                    a.index, a.desc_uva, a.avail_uva, a.used_uva);
        return false;
    }
    if ((desc & 15) || (avail & 1) || (used & 3)) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "vring %u: misaligned ring (descriptors 0x%" G_GINT64_MODIFIER
                    "x, driver 0x%" G_GINT64_MODIFIER "x, device 0x%" G_GINT64_MODIFIER
                    "x; allowed: 16, 2 and 4-byte aligned)",
                    a.index, desc, avail, used);
        return false;
    }
    if (ring->addr_set && ring->desc == desc && ring->avail == avail && ring->used == used) {
        return true; /* only the log flag changed: the device logs by the used ring's gpa */
    }
    ring->desc = desc;
    ring->avail = avail;
    ring->used = used;
    ring->addr_set = true;
    if (ring->started) {
        vu_ring_stop(s, a.index);
    }
    return vu_ring_try_start(s, a.index, errp);
}

static bool h_set_vring_base(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuVringState st;
    VuRing *ring = ring_state(s, m, 0xffff, "base", &st, errp);

    (void)r;
    if (!ring) {
        return false;
    }
    if (ring->started) {
        vu_ring_stop(s, st.index);
    }
    ring->base = st.num;
    return vu_ring_try_start(s, st.index, errp);
}

static bool h_get_vring_base(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuVringState st;
    VuRing *ring;

    memcpy(&st, m->payload, sizeof(st));
    if (!(ring = ring_of(s, st.index, errp))) {
        return false;
    }
    vu_ring_stop(s, st.index); /* GET_VRING_BASE stops the ring */
    st.num = ring->base;
    memcpy(r->payload, &st, sizeof(st));
    r->size = sizeof(st);
    return true;
}

/* Kick, call and err: the ring's slot for each, by request. */
static int *ring_fd_slot(VuRing *ring, uint32_t request)
{
    return request == VU_SET_VRING_KICK   ? &ring->kick_fd
           : request == VU_SET_VRING_CALL ? &ring->call_fd
                                          : &ring->err_fd;
}

static bool h_set_vring_fd(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    uint64_t v = vu_u64(m);
    unsigned index = v & VU_VRING_IDX_MASK;
    VuRing *ring;
    int *slot;

    (void)r;
    if (!(ring = ring_of(s, index, errp))) {
        return false;
    }
    if ((v & VU_VRING_NOFD) && m->hdr.request == VU_SET_VRING_KICK) {
        g_set_error(errp, VU_ERROR, ENOTSUP,
                    "vring %u: no kick fd (polling mode is not "
                    "supported)",
                    index);
        return false;
    }
    slot = ring_fd_slot(ring, m->hdr.request);
    if (*slot >= 0) {
        close(*slot);
    }
    *slot = (v & VU_VRING_NOFD) ? -1 : take_fd(m, 0);
    if (ring->started && m->hdr.request != VU_SET_VRING_ERR) {
        return m->hdr.request == VU_SET_VRING_KICK
                   ? netbe_vnet_queue_set_kick_fd(s->dev, index, *slot, errp)
                   : netbe_vnet_queue_set_call_fd(s->dev, index, *slot, errp);
    }
    return vu_ring_try_start(s, index, errp);
}

static bool h_get_protocol_features(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    (void)s;
    (void)m;
    (void)errp;
    reply_u64(r, VU_PROTOCOL_OFFER);
    return true;
}

static bool h_set_protocol_features(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    uint64_t f = vu_u64(m);

    (void)r;
    if (f & ~VU_PROTOCOL_OFFER) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "protocol features 0x%" PRIx64 " were "
                    "not offered",
                    f & ~VU_PROTOCOL_OFFER);
        return false;
    }
    s->protocol_features = f;
    return true;
}

static bool h_get_queue_num(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    (void)m;
    (void)errp;
    reply_u64(r, s->nrings / 2);
    return true;
}

static bool h_set_vring_enable(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuVringState st;
    VuRing *ring = ring_state(s, m, 1, "enable", &st, errp);

    (void)r;
    if (!ring) {
        return false;
    }
    ring->enabled = st.num;
    if (!ring->enabled) {
        vu_ring_stop(s, st.index);
        return true;
    }
    return vu_ring_try_start(s, st.index, errp);
}

static bool h_send_rarp(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    g_autoptr(GError) err = NULL;

    (void)r;
    (void)errp;
    if (!netbe_vnet_send_rarp(s->dev, m->payload, &err)) {
        g_warning("vhost-user device '%s': %s", s->dev->id, err->message); /* not fatal */
    }
    return true;
}

static bool h_net_set_mtu(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    uint64_t mtu = vu_u64(m);

    (void)r;
    if (mtu < 68 || mtu > s->dev->mtu) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "MTU %" G_GUINT64_FORMAT " (allowed: 68..%u, mtu in "
                    "[device.%s])",
                    mtu, s->dev->mtu, s->dev->id);
        return false;
    }
    return true;
}

static bool h_get_config(VuServer *s, VuMsg *m, VuReply *r, GError **errp)
{
    VuConfig c = {0};

    memcpy(&c, m->payload, VU_CONFIG_HDR);
    if (c.size > VU_MAX_CONFIG || m->hdr.size != VU_CONFIG_HDR + c.size ||
        c.offset > VU_MAX_CONFIG || c.offset + c.size > VU_MAX_CONFIG) {
        g_set_error(errp, VU_ERROR, EINVAL, "%u bytes at %u in a %u-byte message", c.size, c.offset,
                    m->hdr.size);
        return false;
    }
    netbe_vnet_config_read(s->dev, c.offset, c.data, c.size);
    memcpy(r->payload, &c, VU_CONFIG_HDR + c.size);
    r->size = VU_CONFIG_HDR + c.size;
    return true;
}

/* ---- the table ---- */

#define VU_U64 8, 8
#define VU_STATE sizeof(VuVringState), sizeof(VuVringState)

static const VuRequest vu_requests[VU_REQUEST_MAX] = {
    [VU_GET_FEATURES] = {"GET_FEATURES", 0, 0, VU_FDS_NONE, true, h_get_features},
    [VU_SET_FEATURES] = {"SET_FEATURES", VU_U64, VU_FDS_NONE, false, h_set_features},
    [VU_SET_OWNER] = {"SET_OWNER", 0, 0, VU_FDS_NONE, false, h_nothing},
    [VU_RESET_OWNER] = {"RESET_OWNER", 0, 0, VU_FDS_NONE, false, h_reset},
    [VU_SET_MEM_TABLE] = {"SET_MEM_TABLE", 8 + sizeof(VuRegion), sizeof(VuMemTable), VU_FDS_REGIONS,
                          false, h_set_mem_table},
    [VU_SET_LOG_BASE] = {"SET_LOG_BASE", sizeof(VuLog), sizeof(VuLog), VU_FDS_ONE, true,
                         h_set_log_base},
    [VU_SET_LOG_FD] = {"SET_LOG_FD", 0, 8, VU_FDS_ONE, false, h_set_log_fd},
    [VU_SET_VRING_NUM] = {"SET_VRING_NUM", VU_STATE, VU_FDS_NONE, false, h_set_vring_num},
    [VU_SET_VRING_ADDR] = {"SET_VRING_ADDR", sizeof(VuVringAddr), sizeof(VuVringAddr), VU_FDS_NONE,
                           false, h_set_vring_addr},
    [VU_SET_VRING_BASE] = {"SET_VRING_BASE", VU_STATE, VU_FDS_NONE, false, h_set_vring_base},
    [VU_GET_VRING_BASE] = {"GET_VRING_BASE", VU_STATE, VU_FDS_NONE, true, h_get_vring_base},
    [VU_SET_VRING_KICK] = {"SET_VRING_KICK", VU_U64, VU_FDS_RING, false, h_set_vring_fd},
    [VU_SET_VRING_CALL] = {"SET_VRING_CALL", VU_U64, VU_FDS_RING, false, h_set_vring_fd},
    [VU_SET_VRING_ERR] = {"SET_VRING_ERR", VU_U64, VU_FDS_RING, false, h_set_vring_fd},
    [VU_GET_PROTOCOL_FEATURES] = {"GET_PROTOCOL_FEATURES", 0, 0, VU_FDS_NONE, true,
                                  h_get_protocol_features},
    [VU_SET_PROTOCOL_FEATURES] = {"SET_PROTOCOL_FEATURES", VU_U64, VU_FDS_NONE, false,
                                  h_set_protocol_features},
    [VU_GET_QUEUE_NUM] = {"GET_QUEUE_NUM", 0, 0, VU_FDS_NONE, true, h_get_queue_num},
    [VU_SET_VRING_ENABLE] = {"SET_VRING_ENABLE", VU_STATE, VU_FDS_NONE, false, h_set_vring_enable},
    [VU_SEND_RARP] = {"SEND_RARP", VU_U64, VU_FDS_NONE, false, h_send_rarp},
    [VU_NET_SET_MTU] = {"NET_SET_MTU", VU_U64, VU_FDS_NONE, false, h_net_set_mtu},
    [VU_GET_CONFIG] = {"GET_CONFIG", VU_CONFIG_HDR, VU_CONFIG_HDR + VU_MAX_CONFIG, VU_FDS_NONE,
                       true, h_get_config},
    [VU_SET_CONFIG] = {"SET_CONFIG", VU_CONFIG_HDR, VU_CONFIG_HDR + VU_MAX_CONFIG, VU_FDS_NONE,
                       false, h_nothing},
    [VU_RESET_DEVICE] = {"RESET_DEVICE", 0, 0, VU_FDS_NONE, false, h_reset},
};

/* The fds @m must carry under @rq. */
static bool vu_fds_ok(const VuRequest *rq, const VuMsg *m)
{
    switch (rq->fds) {
    case VU_FDS_ONE:
        return m->nfds == 1;
    case VU_FDS_RING:
        return m->nfds == ((vu_u64(m) & VU_VRING_NOFD) ? 0u : 1u);
    case VU_FDS_REGIONS:
        return m->nfds >= 1;
    default:
        return m->nfds == 0;
    }
}

/* Send @r (or an ack) as the reply to @m. */
static bool vu_send_reply(VuServer *s, const VuMsg *m, const VuReply *r, GError **errp)
{
    struct {
        VuHeader hdr;
        uint8_t payload[VU_MAX_PAYLOAD];
    } out;
    size_t len = sizeof(VuHeader) + r->size;
    ssize_t n;

    out.hdr =
        (VuHeader){.request = m->hdr.request, .flags = VU_VERSION | VU_FLAG_REPLY, .size = r->size};
    memcpy(out.payload, r->payload, r->size);
    n = send(s->conn->fd, &out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != (ssize_t)len) {
        /* replies are small: a full socket means the front-end stopped reading */
        g_set_error(errp, VU_ERROR, n < 0 ? errno : EAGAIN, "cannot send the reply to %s: %s",
                    vu_requests[m->hdr.request].name,
                    n < 0 ? g_strerror(errno) : "the front-end does not read its replies");
        return false;
    }
    return true;
}

bool vu_dispatch(VuServer *s, VuMsg *m, GError **errp)
{
    const VuRequest *rq = m->hdr.request < VU_REQUEST_MAX ? &vu_requests[m->hdr.request] : NULL;
    VuReply r = {.size = 0};
    bool ok;

    if (!rq || !rq->handle) {
        g_set_error(errp, VU_ERROR, ENOTSUP, "unknown request %u", m->hdr.request);
        return false;
    }
    if ((m->hdr.flags & VU_FLAG_VERSION_MASK) != VU_VERSION || (m->hdr.flags & VU_FLAG_REPLY)) {
        g_set_error(errp, VU_ERROR, EPROTO, "%s: flags 0x%x (version %u expected, not a reply)",
                    rq->name, m->hdr.flags, VU_VERSION);
        return false;
    }
    if (m->hdr.size < rq->min_size || m->hdr.size > rq->max_size) {
        g_set_error(errp, VU_ERROR, EINVAL, "%s: %u payload bytes (allowed: %u..%u)", rq->name,
                    m->hdr.size, rq->min_size, rq->max_size);
        return false;
    }
    if (!vu_fds_ok(rq, m)) {
        g_set_error(errp, VU_ERROR, EINVAL, "%s: %u fds, which this request does not carry",
                    rq->name, m->nfds);
        return false;
    }
    ok = rq->handle(s, m, &r, errp);
    if (!ok) {
        g_prefix_error(errp, "%s: ", rq->name);
        return false;
    }
    s->messages++;
    if (!rq->replies) {
        if (!(m->hdr.flags & VU_FLAG_NEED_REPLY) ||
            !(s->protocol_features & BIT(VU_PF_REPLY_ACK))) {
            return true;
        }
        reply_u64(&r, 0); /* REPLY_ACK: success (a failure closes the connection) */
    }
    return vu_send_reply(s, m, &r, errp);
}
