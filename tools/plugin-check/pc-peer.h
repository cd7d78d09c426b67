/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pc-peer.h - netbe-plugin-check: the frontend it plays, and the plugin's entry points seen
 * through a shim descriptor. */
#ifndef NETBE_PC_PEER_H
#define NETBE_PC_PEER_H

#include "pc.h"

/*
 * struct PcPeer - the in-process frontend of the backend under test
 * @frames:   GBytes of every frame it took from the backend
 * @full:     it takes nothing (rx_push answers 0), as a frontend with no buffers
 * @tx_ready: the backend said it can take frames again
 */
typedef struct PcPeer {
    GPtrArray *frames;
    bool full;
    bool tx_ready;
} PcPeer;

/* Become the frontend of @be. */
void pc_peer_attach(PcPeer *p, NetbeBackend *be);
void pc_peer_clear(PcPeer *p);
/* Whether a frame it took starts with the @len bytes of @frame. */
bool pc_peer_has(const PcPeer *p, const uint8_t *frame, size_t len);
/* Run @rt until @cond(@opaque) or @ms passed. Return: @cond's last value. */
bool pc_run_until(NetbeRuntime *rt, bool (*cond)(void *opaque), void *opaque, int ms);
void pc_run_for(NetbeRuntime *rt, int ms);

/*
 * struct PcShim - what the core and the plugin said to each other through send and poll
 * @sends:      send() calls; @bad_sends those whose answer was neither bytes taken (at
 *              most the frame), 0 nor -errno, the last one in @bad_answer for @bad_len bytes
 * @polls_on:   poll(enable) calls; @polls_off poll(disable)
 */
typedef struct PcShim {
    unsigned sends, bad_sends;
    ssize_t bad_answer;
    size_t bad_len;
    unsigned polls_on, polls_off;
} PcShim;

/* Route @be's send and poll through the shim; return its counters. */
PcShim *pc_shim_install(NetbeBackend *be);

/* A test frame: Ethernet broadcast, ethertype 0x88b5 (local experimental), a marker and @seq;
 * @len >= 60 bytes. */
void pc_frame_make(uint8_t *frame, size_t len, unsigned seq);
#define PC_ETHERTYPE 0x88b5

#endif /* NETBE_PC_PEER_H */
