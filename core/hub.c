// SPDX-License-Identifier: LGPL-2.1-or-later
/* hub.c - the hub frontend: a frame entering one port leaves through every other. */
#include <errno.h>
#include "netbe-priv.h"

struct NetbeHub {
    NetbeRuntime *rt;
    char *id;
    char *name; /* "[hub.ID]" */
    NetbeConnectMode connect;
    GPtrArray *ports; /* NetbeBackend*, not owned */
    bool started;
    uint8_t *pool;     /* frames read from a port (packet framing): NETBE_IO_BATCH_MAX slots */
    unsigned hdr_len;  /* the vnet header every port speaks (netbe_hub_negotiate) */
    uint32_t offloads; /* and the offloads they all take */
};

/* Send @n frames to every port but @src; a busy port queues them, a full one drops. */
static void hub_forward(NetbeHub *hub, NetbeBackend *src, unsigned queue, struct iovec *const *iovs,
                        const int *cnts, unsigned n)
{
    for (guint i = 0; i < hub->ports->len; i++) {
        NetbeBackend *dst = g_ptr_array_index(hub->ports, i);

        if (dst != src && dst->connected) {
            netbe_backend_send_batch(dst, queue % dst->nqueues, iovs, cnts, n, true);
        }
    }
}

/* Forward the frames of a port in batches: read all, then each other port writes them all
 * with one submission. A stream's frames are forwarded from its read buffer (no copy). */
static unsigned hub_rx_pull(void *peer, NetbeBackend *be, unsigned queue, unsigned budget)
{
    NetbeHub *hub = peer;
    struct iovec frames[NETBE_IO_BATCH_MAX], *iovs[NETBE_IO_BATCH_MAX];
    int cnts[NETBE_IO_BATCH_MAX];
    unsigned taken = 0, n = 0;

    if (!hub->pool) { /* a hub resumed by a handover without netbe_hub_start() */
        hub->pool = g_malloc((size_t)NETBE_IO_BATCH_MAX * NETBE_FRAME_MAX);
    }
    while (taken < budget) {
        uint8_t *slot = hub->pool + (size_t)n * NETBE_FRAME_MAX;
        struct iovec iov = {slot, NETBE_FRAME_MAX};
        const void *frame;
        ssize_t len = netbe_backend_recv_ref(be, queue, &frame);

        if (len == -ENOTSUP) {
            len = netbe_backend_recv(be, queue, &iov, 1);
            frame = slot;
        }
        if (len == 0) {
            break;
        }
        taken++;
        if (len > 0) {
            frames[n] = (struct iovec){(void *)frame, (size_t)len};
            iovs[n] = &frames[n];
            cnts[n++] = 1;
        }
        if (n == NETBE_IO_BATCH_MAX) {
            hub_forward(hub, be, queue, iovs, cnts, n);
            n = 0;
        }
    }
    if (n) {
        hub_forward(hub, be, queue, iovs, cnts, n);
    }
    return taken;
}

static ssize_t hub_rx_push(void *peer, NetbeBackend *be, unsigned queue, const struct iovec *iov,
                           int iovcnt)
{
    size_t len = netbe_iov_size(iov, iovcnt);

    hub_forward(peer, be, queue, (struct iovec *const[]){(struct iovec *)iov}, &iovcnt, 1);
    return len;
}

static const NetbePeerOps hub_peer_ops = {
    .rx_pull = hub_rx_pull,
    .rx_push = hub_rx_push,
    .tx_ready = NULL, /* the core flushes a port's queue by itself */
};

NetbeHub *netbe_hub_new(NetbeRuntime *rt, const char *id, NetbeConnectMode mode)
{
    NetbeHub *hub = g_new0(NetbeHub, 1);

    hub->rt = rt;
    hub->id = g_strdup(id);
    hub->name = g_strdup_printf("[hub.%s]", id);
    hub->connect = mode;
    hub->ports = g_ptr_array_new();
    return hub;
}

/* netbe_hub_add_port() - make @be a port. Return: false if it is one already. */
bool netbe_hub_add_port(NetbeHub *hub, NetbeBackend *be)
{
    if (g_ptr_array_find(hub->ports, be, NULL)) {
        return false;
    }
    g_ptr_array_add(hub->ports, be);
    netbe_backend_attach(be, &hub_peer_ops, hub, hub->name);
    return true;
}

/* The vnet header every port speaks: a frame then passes unchanged, GSO included. */
#define HUB_VNET_HDR_LEN 12

/*
 * netbe_hub_negotiate() - when every port takes a virtio-net header, use one (12 bytes) with the
 * offloads all ports accept, so that a 64 KiB GSO frame crosses the hub whole instead of
 * being cut into MTU frames by the kernel. Otherwise, or if a port refuses, none at all.
 */
void netbe_hub_negotiate(NetbeHub *hub)
{
    uint32_t offloads = UINT32_MAX;
    bool all = hub->ports->len > 1;
    g_autoptr(GError) err = NULL;

    for (guint i = 0; all && i < hub->ports->len; i++) {
        NetbeCaps caps;

        netbe_backend_get_caps(g_ptr_array_index(hub->ports, i), &caps);
        all = caps.flags & NETBE_CAP_VNET_HDR;
        offloads &= caps.offloads;
    }
    for (guint i = 0; all && i < hub->ports->len; i++) {
        NetbeBackend *be = g_ptr_array_index(hub->ports, i);

        all = netbe_backend_set_vnet_hdr_len(be, HUB_VNET_HDR_LEN, &err) &&
              netbe_backend_set_offloads(be, offloads, &err);
    }
    if (all) {
        g_debug("%s: vnet header on every port, offloads 0x%x", hub->name,
                hub->ports->len ? offloads : 0);
        hub->hdr_len = HUB_VNET_HDR_LEN;
        hub->offloads = offloads;
        return;
    }
    hub->hdr_len = 0;
    hub->offloads = 0;
    if (err) {
        g_message("%s: forwarding without a vnet header: %s", hub->name, err->message);
    }
    for (guint i = 0; i < hub->ports->len; i++) {
        NetbeBackend *be = g_ptr_array_index(hub->ports, i);

        netbe_backend_set_offloads(be, 0, NULL);
        netbe_backend_set_vnet_hdr_len(be, 0, NULL);
    }
}

/* Give a new port the header and offloads the others speak. Return: false if it cannot. */
static bool hub_port_agrees(NetbeHub *hub, NetbeBackend *be)
{
    NetbeBackend *other = g_ptr_array_index(hub->ports, 0) != be ? g_ptr_array_index(hub->ports, 0)
                                                                 : netbe_hub_port(hub, 1);
    /* what the ports speak now (a hub a handover brought never negotiated here) */
    unsigned hdr_len = other ? other->vnet_hdr_len : 0;
    uint32_t offloads = hdr_len == hub->hdr_len ? hub->offloads : 0;
    NetbeCaps caps;

    if (!hdr_len) {
        return netbe_backend_set_offloads(be, 0, NULL) &&
               netbe_backend_set_vnet_hdr_len(be, 0, NULL);
    }
    netbe_backend_get_caps(be, &caps);
    return (caps.flags & NETBE_CAP_VNET_HDR) && (caps.offloads & offloads) == offloads &&
           netbe_backend_set_vnet_hdr_len(be, hdr_len, NULL) &&
           netbe_backend_set_offloads(be, offloads, NULL);
}

bool netbe_hub_add_port_live(NetbeHub *hub, NetbeBackend *be, GError **errp)
{
    if (!netbe_hub_add_port(hub, be)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EEXIST, "netdev '%s' is a port of %s already",
                    be->id, hub->name);
        return false;
    }
    be->connect = hub->connect;
    if (!hub_port_agrees(hub, be)) {
        netbe_hub_negotiate(hub);
    }
    if (hub->started || hub->connect == NETBE_CONNECT_IMMEDIATE) {
        if (!netbe_backend_connect(be, errp)) {
            netbe_hub_remove_port(hub, be);
            return false;
        }
        if (!hub_port_agrees(hub, be)) { /* what it opened differs from what it expected */
            netbe_hub_negotiate(hub);
        }
    }
    if (hub->started) {
        netbe_backend_start(be);
    }
    return true;
}

void netbe_hub_forget_ports(NetbeHub *hub)
{
    g_ptr_array_set_size(hub->ports, 0);
}

bool netbe_hub_remove_port(NetbeHub *hub, NetbeBackend *be)
{
    if (!g_ptr_array_remove(hub->ports, be)) {
        return false;
    }
    netbe_backend_detach(be);
    return true;
}

/*
 * netbe_hub_start() - connect the ports of a deferred hub, then forward.
 * Return: false if a port failed to connect; ports connected so far stay connected
 * and the hub is not started.
 */
bool netbe_hub_start(NetbeHub *hub, GError **errp)
{
    if (!hub->pool) { /* made now, not on the first frame (a foreign loop's dispatch) */
        hub->pool = g_malloc((size_t)NETBE_IO_BATCH_MAX * NETBE_FRAME_MAX);
    }
    if (hub->started) {
        return true;
    }
    netbe_hub_negotiate(hub); /* before connecting: what the ports open depends on it */
    for (guint i = 0; i < hub->ports->len; i++) {
        if (!netbe_backend_connect(g_ptr_array_index(hub->ports, i), errp)) {
            g_prefix_error(errp, "%s: ", hub->name);
            return false;
        }
    }
    netbe_hub_negotiate(hub); /* again: what the ports have, now that they are open */
    for (guint i = 0; i < hub->ports->len; i++) {
        netbe_backend_start(g_ptr_array_index(hub->ports, i));
    }
    hub->started = true;
    return true;
}

void netbe_hub_stop(NetbeHub *hub)
{
    for (guint i = 0; i < hub->ports->len; i++) {
        netbe_backend_stop(g_ptr_array_index(hub->ports, i));
    }
    hub->started = false;
}

void netbe_hub_free(NetbeHub *hub)
{
    if (!hub) {
        return;
    }
    netbe_hub_stop(hub);
    g_ptr_array_unref(hub->ports);
    g_free(hub->pool);
    g_free(hub->name);
    g_free(hub->id);
    g_free(hub);
}

const char *netbe_hub_id(const NetbeHub *hub)
{
    return hub->id;
}

NetbeConnectMode netbe_hub_connect_mode(const NetbeHub *hub)
{
    return hub->connect;
}

unsigned netbe_hub_port_count(const NetbeHub *hub)
{
    return hub->ports->len;
}

NetbeBackend *netbe_hub_port(const NetbeHub *hub, unsigned i)
{
    return i < hub->ports->len ? g_ptr_array_index(hub->ports, i) : NULL;
}

bool netbe_hub_is_started(const NetbeHub *hub)
{
    return hub->started;
}
