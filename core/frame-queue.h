/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame-queue.h - a bounded FIFO of copied frames, for peers that are busy. */
#ifndef NETBE_FRAME_QUEUE_H
#define NETBE_FRAME_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

typedef struct NetbeFrame {
    size_t len;
    size_t capacity; /* bytes data[] can hold */
    uint8_t data[];
} NetbeFrame;

/* Buffers a queue keeps for reuse once drained: a busy peer makes a queue fill and drain
 * over and over, and 64 KiB frames should not go back to malloc every time. */
#define NETBE_FRAME_QUEUE_SPARES 8

typedef struct NetbeFrameQueue {
    GQueue frames;  /* NetbeFrame*, oldest first */
    GQueue spares;  /* NetbeFrame* to reuse, at most NETBE_FRAME_QUEUE_SPARES */
    unsigned limit; /* most frames held; a push beyond it fails */
} NetbeFrameQueue;

/* Start an empty queue that holds at most @limit frames. */
void netbe_frame_queue_init(NetbeFrameQueue *q, unsigned limit);
/* Copy the frame in @iov to the tail. Return: false (nothing copied) when full. */
bool netbe_frame_queue_push(NetbeFrameQueue *q, const struct iovec *iov, int iovcnt);
/* The oldest frame, still queued, or NULL. */
NetbeFrame *netbe_frame_queue_peek(NetbeFrameQueue *q);
/* Remove and free the oldest frame. */
void netbe_frame_queue_drop_head(NetbeFrameQueue *q);
/* Free every frame (and the spare buffers). Return: how many frames there were. */
unsigned netbe_frame_queue_clear(NetbeFrameQueue *q);

static inline unsigned netbe_frame_queue_length(const NetbeFrameQueue *q)
{
    return q->frames.length;
}

static inline bool netbe_frame_queue_is_full(const NetbeFrameQueue *q)
{
    return q->frames.length >= q->limit;
}

#endif /* NETBE_FRAME_QUEUE_H */
