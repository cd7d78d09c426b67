/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hub-peers.h - test helpers: a netbe-host whose hub joins UDP netdevs, the test's UDP peers
 * on the other side of each, and its control replies with their errors. */
#ifndef NETBE_TEST_HUB_PEERS_H
#define NETBE_TEST_HUB_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "host-proc.h"

#define HP_MAX 4

/*
 * struct HubPeers - netdevs n0..n(N-1) (type socket, udp) on [hub.h], and the test's peers
 * @host:   netbe-host, dropped to user nobody when the test runs as root (--user), its
 *          seccomp sandbox on as by default
 * @peer:   the test's UDP socket that netdev nI sends to and receives from (non-blocking)
 * @port:   netdev nI's own UDP port (its localaddr)
 * @n:      netdevs
 * @outdir: a folder netbe-host's user may write files to (removed with everything in it)
 */
typedef struct HubPeers {
    TestHost *host;
    int peer[HP_MAX];
    unsigned port[HP_MAX];
    unsigned n;
    char *outdir;
} HubPeers;

/*
 * hp_start() - start it: @n netdevs, @extra[i] more ini lines for [netdev.nI] (NULL or a
 * NULL entry: none).
 * @more_ini:   more sections (other netdevs), or NULL
 * @more_ports: ",ID..." more hub ports, or NULL
 * @netns:      run netbe-host and make the peers in this namespace, or NULL
 */
HubPeers *hp_start(unsigned n, const char *const *extra, const char *more_ini,
                   const char *more_ports, const char *netns);
void hp_stop(HubPeers *hp);

/* Send @frame from netdev @i's peer to netdev @i (it enters the hub there). */
void hp_send(HubPeers *hp, unsigned i, const void *frame, size_t len);
/* One frame that left through netdev @i, waiting up to @ms. Return: its length, -1: none. */
ssize_t hp_recv(HubPeers *hp, unsigned i, void *buf, size_t cap, int ms);

/*
 * hp_ctl() - a control command; @ok gets whether netbe-ctl succeeded. Return: what it printed
 * (the reply, or the error), caller frees.
 */
char *hp_ctl(HubPeers *hp, bool *ok, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* The same, asserting success. */
char *hp_ctl_ok(HubPeers *hp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* An Ethernet frame of @len bytes (at least 14) for sequence number @seq: broadcast to the
 * hub's other ports, a local ethertype, @seq in the payload. */
void hp_frame(uint8_t *buf, size_t len, uint32_t seq);
/* The @seq of a frame hp_frame() made, or UINT32_MAX. */
uint32_t hp_frame_seq(const uint8_t *buf, size_t len);

#endif /* NETBE_TEST_HUB_PEERS_H */
