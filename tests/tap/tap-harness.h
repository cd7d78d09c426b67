/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap-harness.h - an in-process test peer for one backend: pulls its frames, sends to it. */
#ifndef NETBE_TAP_HARNESS_H
#define NETBE_TAP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>
#include "netbe-priv.h"

/* Called for each frame the peer pulls from the backend. */
typedef void (*TapHarnessFrameFunc)(void *opaque, unsigned queue, const uint8_t *frame, size_t len);

/*
 * struct TapHarness - a runtime with one backend under test and this harness as its
 * peer (in place of a hub or a virtio-net device). Test code links libnetbe's objects
 * statically to reach the internal peer interface (netbe-priv.h).
 * @rt:        the runtime
 * @be:        the backend under test
 * @buf:       where a pulled frame lands (readv target)
 * @buf_size:  its size
 * @rx_frames: frames pulled; @rx_bytes their bytes
 * @tx_ready:  set when the backend said it can take frames again
 * @on_frame:  optional callback per pulled frame, with @opaque
 * @budget:    cap on frames taken per pull (0: the backend's budget); a smaller value
 *             makes the peer look full, which must stop the backend's polling
 * @pulls:     rx_pull calls so far (batches the core offered)
 */
typedef struct TapHarness {
    NetbeRuntime *rt;
    NetbeBackend *be;
    uint8_t *buf;
    size_t buf_size;
    uint64_t rx_frames, rx_bytes;
    bool tx_ready;
    TapHarnessFrameFunc on_frame;
    void *opaque;
    unsigned budget;
    unsigned pulls;
    bool owns_rt;
} TapHarness;

/*
 * tap_harness_new() - load @config (plugins from $NETBE_PLUGIN_PATH) and become the
 * peer of [netdev.@netdev]; if the config connected it, start it.
 * Return: the harness, or NULL with the config error in @errp.
 */
TapHarness *tap_harness_new(const char *config, const char *netdev, GError **errp);
void tap_harness_free(TapHarness *h);

/*
 * tap_harness_attach() - become the peer of @be, a backend of @rt made by the caller;
 * the harness does not free @rt. Starts @be if it is connected.
 */
TapHarness *tap_harness_attach(NetbeRuntime *rt, NetbeBackend *be);

/* Connect a backend that is not connected yet (deferred) and start it. */
bool tap_harness_connect(TapHarness *h, GError **errp);

/*
 * tap_harness_send() - send one frame on @queue the way a frontend does: when the
 * backend is busy, wait for tx_ready and retry, up to @timeout_ms.
 * Return: the backend's result (> 0 sent, < 0 -errno), 0 on timeout.
 */
ssize_t tap_harness_send(TapHarness *h, unsigned queue, const void *frame, size_t len,
                         int timeout_ms);

/* Run the runtime until @cond(@opaque) or @timeout_ms. Return: @cond's last value. */
bool tap_harness_run_until(TapHarness *h, bool (*cond)(void *opaque), void *opaque, int timeout_ms);
/* Run until at least @frames were pulled in total. Return: false on timeout. */
bool tap_harness_wait_rx(TapHarness *h, uint64_t frames, int timeout_ms);
/* Run the runtime for @ms milliseconds. */
void tap_harness_run_for(TapHarness *h, int ms);

#endif /* NETBE_TAP_HARNESS_H */
