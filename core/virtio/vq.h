/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vq.h - split virtqueues (virtio 1.2, 2.7): chain walking, used ring, notifications. */
#ifndef NETBE_VQ_H
#define NETBE_VQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "vnet-mem.h"

/* Most iovec entries one chain (or one merged RX frame) may use: the kernel's IOV_MAX. */
#define VQ_MAX_IOV 1024
/* Largest queue size (spec: 32768) and largest indirect table. */
#define VQ_MAX_SIZE 32768

/* What a chain may contain. */
#define VQ_ALLOW_READ (1u << 0)  /* device-readable buffers (TX, control request) */
#define VQ_ALLOW_WRITE (1u << 1) /* device-writable buffers (RX, control ack) */

typedef struct VqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VqDesc;

#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2
#define VQ_DESC_F_INDIRECT 4
#define VQ_AVAIL_F_NO_INTERRUPT 1
#define VQ_USED_F_NO_NOTIFY 1

/* One popped chain: iov[0..nread) readable, then nwrite writable entries. */
typedef struct VqChain {
    uint16_t head;
    unsigned nread, nwrite;
    uint32_t read_len, write_len;
} VqChain;

typedef enum VqPopResult {
    VQ_POP_OK = 0,
    VQ_POP_EMPTY,
    VQ_POP_BROKEN, /* the ring is malformed; vq->err says why; the queue is stopped */
} VqPopResult;

typedef struct Vq {
    uint16_t size; /* 0: not set up; else a power of two (every setter checks) */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    bool event_idx, indirect; /* negotiated ring features */
    bool ready;               /* rings mapped */
    bool broken;
    char err[160]; /* why it broke */
    VnetMem *mem;  /* translation and dirty log */
    volatile VqDesc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint8_t *used;   /* flags, idx, ring[size]{id, len}, avail_event */
    uint16_t last_avail_idx;  /* next chain to pop */
    uint16_t seen_avail_idx;  /* the driver's index when we last read it */
    uint16_t used_idx;        /* next used entry to write */
    uint16_t signalled_used;  /* used idx at the last notification */
    bool signalled_valid;
} Vq;

/*
 * vq_map() - translate the rings of a set-up queue through vq->mem.
 * Return: false (queue broken, vq->err set) when a ring is outside guest memory.
 */
bool vq_map(Vq *vq);
/*
 * vq_adopt_used_idx() - take the used index from the device ring in guest memory (after the
 * available index was set from outside: a ring restarted elsewhere, as vhost does).
 * Return: false (queue broken) when it is further behind than the queue is long.
 */
bool vq_adopt_used_idx(Vq *vq);
/* Forget mapping and indices (reset). */
void vq_reset(Vq *vq);

/*
 * vq_pop() - take the next available chain and translate it into @iov.
 * @allow: VQ_ALLOW_READ and/or VQ_ALLOW_WRITE
 * Return: VQ_POP_OK (c filled), VQ_POP_EMPTY, or VQ_POP_BROKEN.
 */
VqPopResult vq_pop(Vq *vq, struct iovec *iov, unsigned max_iov, unsigned allow, VqChain *c);
/* Give back the last @n popped chains (not yet pushed). */
void vq_unpop(Vq *vq, unsigned n);
/* Number of chains the driver made available that were not popped (0 if broken). */
unsigned vq_pending(Vq *vq);
/* Write a used entry (not visible before vq_flush()). */
void vq_push(Vq *vq, uint16_t head, uint32_t len);
/* True when used entries were pushed but not published yet. */
bool vq_has_unpublished(const Vq *vq);
/* Publish the used entries. Return: true if the driver wants an interrupt for them. */
bool vq_flush(Vq *vq);
/*
 * vq_set_notify() - ask for (or suppress) kicks from the driver. When enabling, returns
 * true if chains arrived since the device last read the driver's index (the caller
 * processes them instead of waiting for a kick).
 */
bool vq_set_notify(Vq *vq, bool enable);
/* Mark the queue broken with a message. Return: false (for "return vq_fail(...)"). */
bool vq_fail(Vq *vq, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif /* NETBE_VQ_H */
