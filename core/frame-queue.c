// SPDX-License-Identifier: LGPL-2.1-or-later
/* frame-queue.c - a bounded FIFO of copied frames, for peers that are busy. */
#include <string.h>
#include <sys/uio.h>
#include "frame-queue.h"

/* Smallest buffer allocated: most frames then fit a spare. */
#define FRAME_MIN_CAPACITY 2048

void netbe_frame_queue_init(NetbeFrameQueue *q, unsigned limit)
{
    g_queue_init(&q->frames);
    g_queue_init(&q->spares);
    q->limit = limit;
}

/* A buffer for @len bytes: a spare that fits, or a new one. */
static NetbeFrame *frame_get(NetbeFrameQueue *q, size_t len)
{
    NetbeFrame *f = g_queue_pop_head(&q->spares);

    if (f && f->capacity >= len) {
        return f;
    }
    g_free(f);
    f = g_malloc(sizeof(*f) + MAX(len, FRAME_MIN_CAPACITY));
    f->capacity = MAX(len, FRAME_MIN_CAPACITY);
    return f;
}

bool netbe_frame_queue_push(NetbeFrameQueue *q, const struct iovec *iov, int iovcnt)
{
    size_t len = 0;
    NetbeFrame *f;
    uint8_t *p;

    if (netbe_frame_queue_is_full(q)) {
        return false;
    }
    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    f = frame_get(q, len);
    f->len = len;
    p = f->data;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    g_queue_push_tail(&q->frames, f);
    return true;
}

NetbeFrame *netbe_frame_queue_peek(NetbeFrameQueue *q)
{
    return g_queue_peek_head(&q->frames);
}

void netbe_frame_queue_drop_head(NetbeFrameQueue *q)
{
    NetbeFrame *f = g_queue_pop_head(&q->frames);

    if (f && q->spares.length < NETBE_FRAME_QUEUE_SPARES) {
        g_queue_push_head(&q->spares, f);
    } else {
        g_free(f);
    }
}

unsigned netbe_frame_queue_clear(NetbeFrameQueue *q)
{
    unsigned n = q->frames.length;

    g_queue_clear_full(&q->frames, g_free);
    g_queue_clear_full(&q->spares, g_free);
    return n;
}
