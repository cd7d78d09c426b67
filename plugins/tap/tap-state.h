/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tap-state.h - the tap backend's handover state as plain data, and its byte encoding. */
#ifndef NETBE_TAP_STATE_H
#define NETBE_TAP_STATE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"

#define TAP_STATE_MAGIC "ntap"
#define TAP_STATE_VERSION 1      /* what tap_state_encode() writes */
#define TAP_STATE_HEADER_SIZE 40 /* fixed part; one byte per queue follows */

#define TAP_STATE_Q_ENABLED (1u << 0)

/*
 * struct TapState - what a destination needs to adopt a live TAP. The fds are not in
 * it: fd i is queue i's and travels next to the bytes (SCM_RIGHTS), so their count
 * must equal @nqueues.
 * @ifname:         device name
 * @nqueues:        queues, 1..NETBE_MAX_QUEUES
 * @vnet_hdr:       the fds use IFF_VNET_HDR
 * @kernel_hdr_len: TUNSETVNETHDRSZ in effect (0 without @vnet_hdr)
 * @peer_hdr_len:   the frontend's header length, 0 none
 * @offload_caps:   NETBE_OFFLOAD_* the kernel accepts
 * @offloads:       NETBE_OFFLOAD_* in effect, a subset of @offload_caps
 * @sndbuf:         TUNSETSNDBUF value
 * @queue_flags:    per queue TAP_STATE_Q_*
 */
typedef struct TapState {
    char ifname[IFNAMSIZ];
    unsigned nqueues;
    bool vnet_hdr;
    uint8_t kernel_hdr_len;
    uint8_t peer_hdr_len;
    uint32_t offload_caps;
    uint32_t offloads;
    int32_t sndbuf;
    uint8_t queue_flags[NETBE_MAX_QUEUES];
} TapState;

/*
 * tap_state_encode() - the bytes of @st: "ntap", u16 version, u16 nqueues, ifname[16],
 * u8 flags, u8 kernel_hdr_len, u8 peer_hdr_len, u8 0, u32 offload_caps, u32 offloads,
 * s32 sndbuf, then nqueues queue flag bytes; integers little-endian.
 * Return: the encoding (TAP_STATE_HEADER_SIZE + nqueues bytes).
 */
GBytes *tap_state_encode(const TapState *st);

/*
 * tap_state_decode() - check and decode bytes from a stream (untrusted input).
 * @nfds: number of fds that came with the bytes
 * Return: false with the first problem in @errp (version, sizes, lengths, masks, fd
 * count); @out is filled only on success.
 */
bool tap_state_decode(const void *data, size_t len, unsigned nfds, TapState *out, GError **errp);

#endif /* NETBE_TAP_STATE_H */
