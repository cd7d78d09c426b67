/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vu-pump.h - numbered frames both ways through a vhost-user device at a steady rate: our
 * frontend sends and receives on one thread, the netdev's peer on another; the witness that
 * a handover of the device loses, duplicates or delays nothing, and by how much. */
#ifndef NETBE_TEST_VU_PUMP_H
#define NETBE_TEST_VU_PUMP_H

#include <stdint.h>
#include <sys/socket.h>
#include <glib.h>
#include "vu-front.h"

typedef struct VuPump VuPump;

/* The two directions. */
enum {
    VU_PUMP_TX, /* guest -> netdev's peer */
    VU_PUMP_RX, /* netdev's peer -> guest */
    VU_PUMP_DIRS
};

/* One direction's tally. */
typedef struct VuPumpCount {
    uint32_t sent;       /* frames put on their way: numbers 0 .. sent-1 */
    uint32_t received;   /* frames that arrived (duplicates included) */
    uint32_t missing;    /* numbers never received */
    uint32_t duplicates; /* numbers received more than once */
    uint32_t stalls;     /* TX: times the ring was full (the frame waited, not lost) */
} VuPumpCount;

/*
 * The peer: @fd is a datagram socket that gets the frames the device sends out of its
 * netdev and sends frames into it: a UDP socket with @to the netdev's address, or an
 * AF_PACKET socket bound to a TAP (@to NULL; its own outgoing copies are ignored).
 */
typedef struct VuPumpPeer {
    int fd;
    const struct sockaddr *to;
    socklen_t tolen;
} VuPumpPeer;

/*
 * vu_pump_packet_socket() - an AF_PACKET socket for the pump's frames (ethertype 0x88b5),
 * bound to @ifname in namespace @netns, with a large receive buffer: a TAP peer.
 */
int vu_pump_packet_socket(const char *netns, const char *ifname);

/*
 * vu_pump_start() - start both threads: @rate frames/s each way (in batches every 100 us
 * or slower), TX through pair 0 of @f, RX to the device's MAC @mac. @f belongs to the pump
 * until vu_pump_stop().
 */
VuPump *vu_pump_start(VuFront *f, const VuPumpPeer *peer, const uint8_t mac[6], unsigned rate);
/* Frames sent so far in direction @dir. */
uint32_t vu_pump_sent(VuPump *p, unsigned dir);
/*
 * vu_pump_max_gap_us() - the longest time between two frames that arrived one after the
 * other in direction @dir, of the gaps that overlap the time from @from_us to @to_us
 * (g_get_monotonic_time()). @end_us gets the arrival that ended it (may be NULL).
 * Return: microseconds, 0 if fewer than two arrived.
 */
int64_t vu_pump_max_gap_us(VuPump *p, unsigned dir, int64_t from_us, int64_t to_us,
                           int64_t *end_us);
/*
 * vu_pump_stop() - stop sending, let the last frames arrive (up to 2 s of quiet, 100 ms
 * once every one came), tally into @count[VU_PUMP_DIRS], free the pump.
 */
void vu_pump_stop(VuPump *p, VuPumpCount *count);

#endif /* NETBE_TEST_VU_PUMP_H */
