/* frame-queue.c - a bounded FIFO of copied frames, for peers that are busy. */
#include <string.h>
#include <sys/uio.h>
#include "frame-queue.h"

void netbe_frame_queue_init(NetbeFrameQueue *q, unsigned limit)
{
    g_queue_init(&q->frames);
    q->limit = limit;
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
    f = g_malloc(sizeof(*f) + len);
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
    g_free(g_queue_pop_head(&q->frames));
}

unsigned netbe_frame_queue_clear(NetbeFrameQueue *q)
{
    unsigned n = q->frames.length;

    g_queue_clear_full(&q->frames, g_free);
    return n;
}
