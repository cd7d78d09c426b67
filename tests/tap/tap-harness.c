// SPDX-License-Identifier: GPL-2.0-or-later
/* tap-harness.c - an in-process test peer for one backend: pulls its frames, sends to it. */
#include <errno.h>
#include "tap-harness.h"

#define HARNESS_FRAME_MAX (65536 + 64)

static unsigned harness_rx_pull(void *peer, NetbeBackend *be, unsigned queue, unsigned budget)
{
    TapHarness *h = peer;
    struct iovec iov = {h->buf, h->buf_size};
    unsigned taken = 0;

    h->pulls++;
    if (h->budget && h->budget < budget) {
        budget = h->budget;
    }
    while (taken < budget) {
        ssize_t n = netbe_backend_recv(be, queue, &iov, 1);

        if (n == 0 || n == -EAGAIN) {
            return taken;
        }
        taken++;
        if (n > 0) {
            h->rx_frames++;
            h->rx_bytes += (uint64_t)n;
            if (h->on_frame) {
                h->on_frame(h->opaque, queue, h->buf, (size_t)n);
            }
        }
    }
    if (h->budget) {
        /* a full peer: stop the backend's polling as a frontend would */
        netbe_backend_set_rx_enabled(be, queue, false);
    }
    return taken;
}

static ssize_t harness_rx_push(void *peer, NetbeBackend *be, unsigned queue,
                               const struct iovec *iov, int iovcnt)
{
    TapHarness *h = peer;
    size_t len = 0;

    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    h->rx_frames++;
    h->rx_bytes += len;
    return (ssize_t)len;
}

static void harness_tx_ready(void *peer, NetbeBackend *be, unsigned queue)
{
    ((TapHarness *)peer)->tx_ready = true;
}

static const NetbePeerOps harness_peer_ops = {
    .rx_pull = harness_rx_pull,
    .rx_push = harness_rx_push,
    .tx_ready = harness_tx_ready,
};

TapHarness *tap_harness_attach(NetbeRuntime *rt, NetbeBackend *be)
{
    TapHarness *h = g_new0(TapHarness, 1);

    h->rt = rt;
    h->be = be;
    h->buf_size = HARNESS_FRAME_MAX;
    h->buf = g_malloc(h->buf_size);
    netbe_backend_attach(be, &harness_peer_ops, h, "[test-peer]");
    if (be->connected) {
        netbe_backend_start(be);
    }
    return h;
}

TapHarness *tap_harness_new(const char *config, const char *netdev, GError **errp)
{
    TapHarness *h = g_new0(TapHarness, 1);
    const char *path = g_getenv("NETBE_PLUGIN_PATH");

    h->owns_rt = true;
    h->rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    if (path) {
        netbe_runtime_set_plugin_path(h->rt, path);
    }
    h->buf_size = HARNESS_FRAME_MAX;
    h->buf = g_malloc(h->buf_size);
    if (!netbe_runtime_load_config_string(h->rt, config, "test.ini", errp)) {
        tap_harness_free(h);
        return NULL;
    }
    h->be = netbe_runtime_find_backend(h->rt, netdev);
    g_assert_nonnull(h->be);
    netbe_backend_attach(h->be, &harness_peer_ops, h, "[test-peer]");
    if (h->be->connected) {
        netbe_backend_start(h->be);
    }
    return h;
}

bool tap_harness_connect(TapHarness *h, GError **errp)
{
    if (!netbe_backend_connect(h->be, errp)) {
        return false;
    }
    netbe_backend_start(h->be);
    return true;
}

void tap_harness_free(TapHarness *h)
{
    if (!h) {
        return;
    }
    if (h->owns_rt) {
        netbe_runtime_free(h->rt);
    } else if (h->be) {
        netbe_backend_stop(h->be);
        netbe_backend_attach(h->be, NULL, NULL, NULL);
    }
    g_free(h->buf);
    g_free(h);
}

static gboolean harness_timeout(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

bool tap_harness_run_until(TapHarness *h, bool (*cond)(void *opaque), void *opaque, int timeout_ms)
{
    GMainContext *ctx = netbe_runtime_get_context(h->rt);
    GSource *t = g_timeout_source_new((guint)timeout_ms);
    bool expired = false;
    bool done;

    g_source_set_callback(t, harness_timeout, &expired, NULL);
    g_source_attach(t, ctx);
    while (!(done = cond(opaque)) && !expired) {
        netbe_runtime_iterate(h->rt, true);
    }
    g_source_destroy(t);
    g_source_unref(t);
    return done;
}

typedef struct {
    TapHarness *h;
    uint64_t frames;
} WaitRx;

static bool rx_reached(void *opaque)
{
    WaitRx *w = opaque;

    return w->h->rx_frames >= w->frames;
}

bool tap_harness_wait_rx(TapHarness *h, uint64_t frames, int timeout_ms)
{
    WaitRx w = {h, frames};

    return tap_harness_run_until(h, rx_reached, &w, timeout_ms);
}

static bool never(void *opaque)
{
    return false;
}

void tap_harness_run_for(TapHarness *h, int ms)
{
    tap_harness_run_until(h, never, NULL, ms);
}

static bool tx_ready_set(void *opaque)
{
    return ((TapHarness *)opaque)->tx_ready;
}

ssize_t tap_harness_send(TapHarness *h, unsigned queue, const void *frame, size_t len,
                         int timeout_ms)
{
    struct iovec iov = {(void *)frame, len};
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        ssize_t n;

        h->tx_ready = false;
        n = netbe_backend_send(h->be, queue, &iov, 1, false);
        if (n != 0) {
            return n;
        }
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        if (left <= 0 || !tap_harness_run_until(h, tx_ready_set, h, left)) {
            return 0;
        }
    }
}
