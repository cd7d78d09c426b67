// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-peer.c - netbe-plugin-check: the frontend it plays, and the plugin's send and poll seen
 * through a shim descriptor. */
#include <errno.h>
#include <string.h>
#include "pc-peer.h"

#define PC_PEER_FRAME_MAX (65536 + 4096)
#define PC_MARKER "netbe-plugin-check"

static unsigned peer_rx_pull(void *opaque, NetbeBackend *be, unsigned queue, unsigned budget)
{
    PcPeer *p = opaque;
    static uint8_t buf[PC_PEER_FRAME_MAX];
    struct iovec iov = {buf, sizeof(buf)};
    unsigned taken = 0;

    while (taken < budget && !p->full) {
        ssize_t n = netbe_backend_recv(be, queue, &iov, 1);

        if (n == 0 || n == -EAGAIN) {
            break;
        }
        taken++;
        if (n > 0) {
            g_ptr_array_add(p->frames, g_bytes_new(buf, (gsize)n));
        }
    }
    return taken;
}

static ssize_t peer_rx_push(void *opaque, NetbeBackend *be, unsigned queue, const struct iovec *iov,
                            int iovcnt)
{
    PcPeer *p = opaque;
    GByteArray *f = g_byte_array_new();

    if (p->full) {
        g_byte_array_unref(f);
        return 0;
    }
    for (int i = 0; i < iovcnt; i++) {
        g_byte_array_append(f, iov[i].iov_base, (guint)iov[i].iov_len);
    }
    g_ptr_array_add(p->frames, g_byte_array_free_to_bytes(f));
    return (ssize_t)g_bytes_get_size(g_ptr_array_index(p->frames, p->frames->len - 1));
}

static void peer_tx_ready(void *opaque, NetbeBackend *be, unsigned queue)
{
    ((PcPeer *)opaque)->tx_ready = true;
}

static const NetbePeerOps peer_ops = {
    .rx_pull = peer_rx_pull,
    .rx_push = peer_rx_push,
    .tx_ready = peer_tx_ready,
};

void pc_peer_attach(PcPeer *p, NetbeBackend *be)
{
    if (!p->frames) {
        p->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    }
    netbe_backend_attach(be, &peer_ops, p, "[netbe-plugin-check]");
}

void pc_peer_clear(PcPeer *p)
{
    g_clear_pointer(&p->frames, g_ptr_array_unref);
}

bool pc_peer_has(const PcPeer *p, const uint8_t *frame, size_t len)
{
    for (guint i = 0; p->frames && i < p->frames->len; i++) {
        gsize n;
        const uint8_t *data = g_bytes_get_data(g_ptr_array_index(p->frames, i), &n);

        if (n >= len && memcmp(data, frame, len) == 0) {
            return true;
        }
    }
    return false;
}

static gboolean set_flag(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

bool pc_run_until(NetbeRuntime *rt, bool (*cond)(void *opaque), void *opaque, int ms)
{
    GSource *t = g_timeout_source_new((guint)ms);
    bool expired = false, done;

    g_source_set_callback(t, set_flag, &expired, NULL);
    g_source_attach(t, netbe_runtime_get_context(rt));
    while (!(done = cond && cond(opaque)) && !expired) {
        netbe_runtime_iterate(rt, true);
    }
    g_source_destroy(t);
    g_source_unref(t);
    return done;
}

void pc_run_for(NetbeRuntime *rt, int ms)
{
    pc_run_until(rt, NULL, NULL, ms);
}

/* One plugin per process: the shim's state is global. */
static struct {
    NetbePluginDesc desc;
    const NetbePluginDesc *real;
    PcShim seen;
} shim;

static ssize_t shim_send(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt)
{
    ssize_t n = shim.real->send(be, queue, iov, iovcnt);
    size_t len = 0;

    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    shim.seen.sends++;
    if (n > (ssize_t)len || n < -4095) {
        shim.seen.bad_sends++;
        shim.seen.bad_answer = n;
        shim.seen.bad_len = len;
    }
    return n;
}

static void shim_poll(NetbeBackend *be, unsigned queue, bool enable)
{
    if (enable) {
        shim.seen.polls_on++;
    } else {
        shim.seen.polls_off++;
    }
    shim.real->poll(be, queue, enable);
}

PcShim *pc_shim_install(NetbeBackend *be)
{
    if (!shim.real) {
        shim.real = be->desc;
        shim.desc = *be->desc;
        shim.desc.send = shim.real->send ? shim_send : NULL;
        shim.desc.poll = shim.real->poll ? shim_poll : NULL;
    }
    be->desc = &shim.desc;
    return &shim.seen;
}

void pc_frame_make(uint8_t *frame, size_t len, unsigned seq)
{
    static const uint8_t head[14] = {0xff,
                                     0xff,
                                     0xff,
                                     0xff,
                                     0xff,
                                     0xff,
                                     0x02,
                                     0x00,
                                     0x00,
                                     0x00,
                                     0x00,
                                     0x01,
                                     PC_ETHERTYPE >> 8,
                                     PC_ETHERTYPE & 0xff};

    g_assert(len >= 60);
    memset(frame, 0, len);
    memcpy(frame, head, sizeof(head));
    g_snprintf((char *)frame + 14, len - 14, "%s %u", PC_MARKER, seq);
    for (size_t i = 40; i < len; i++) {
        frame[i] = (uint8_t)(i * 7 + seq);
    }
}
