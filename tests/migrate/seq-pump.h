/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seq-pump.h - numbered frames into one TAP and out of another, at a steady rate, from
 * threads inside a namespace: the witness that a handover loses, duplicates or reorders
 * nothing. */
#ifndef NETBE_TEST_SEQ_PUMP_H
#define NETBE_TEST_SEQ_PUMP_H

#include <stdint.h>
#include <glib.h>

typedef struct SeqPump SeqPump;

typedef struct SeqPumpResult {
    uint32_t sent;          /* frames the sender tried to put on the wire */
    uint32_t refused;       /* of those, refused by the kernel at the sender (counted missing) */
    uint32_t received;      /* frames the receiver got (duplicates included) */
    uint32_t missing;       /* sequence numbers never received */
    uint32_t duplicates;    /* sequence numbers received more than once */
    uint32_t out_of_order;  /* frames whose number was below one already seen */
    uint64_t tap_drops;     /* dropped by the kernel at the entering TAP while the pump ran:
                             * its queue (txqueuelen frames) was full, nobody read it */
    uint64_t witness_drops; /* dropped by the kernel at the receiving socket (its buffer) */
} SeqPumpResult;

/*
 * seq_pump_start() - send frames of ethertype 0x88b5 with a sequence number out of
 * @tx_if (so they enter netbe through that TAP) at @rate frames/s, and count what
 * arrives on @rx_if, both in namespace @netns.
 */
SeqPump *seq_pump_start(const char *netns, const char *tx_if, const char *rx_if, unsigned rate);
/* Stop sending, let the last frames arrive (up to 1 s of quiet), and tally (the kernel's
 * drops on the path too: a frame missing is netbe's loss only if they are 0). */
SeqPumpResult seq_pump_stop(SeqPump *p);
/* Frames sent so far. */
uint32_t seq_pump_sent(SeqPump *p);

#endif /* NETBE_TEST_SEQ_PUMP_H */
