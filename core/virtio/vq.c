// SPDX-License-Identifier: LGPL-2.1-or-later
/* vq.c - split virtqueues (virtio 1.2, 2.7): chain walking, used ring, notifications. */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "vq.h"

/* Ring layout offsets (bytes). avail: flags, idx, ring[size], used_event. */
#define AVAIL_IDX 1 /* in uint16_t units */
#define AVAIL_RING 2
#define USED_IDX_OFF 2
#define USED_RING_OFF 4
#define USED_ELEM_SIZE 8

static inline uint16_t load16_acquire(volatile uint16_t *p)
{
    return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

/* Ring slot of free-running index @idx: a mask, not a division (the size is a power of two). */
static inline unsigned vq_slot(const Vq *vq, uint16_t idx)
{
    return idx & (vq->size - 1u);
}

bool vq_fail(Vq *vq, const char *fmt, ...)
{
    va_list ap;

    if (!vq->broken) {
        va_start(ap, fmt);
        vsnprintf(vq->err, sizeof(vq->err), fmt, ap);
        va_end(ap);
    }
    vq->broken = true;
    return false;
}

bool vq_map(Vq *vq)
{
    uint64_t n = vq->size;

    vq->ready = false;
    if (vq->size == 0) {
        return vq_fail(vq, "queue enabled without a size");
    }
    vq->desc = vnet_mem_map(vq->mem, vq->desc_gpa, n * sizeof(VqDesc));
    vq->avail = vnet_mem_map(vq->mem, vq->avail_gpa, 6 + 2 * n);
    vq->used = vnet_mem_map(vq->mem, vq->used_gpa, 6 + USED_ELEM_SIZE * n);
    if (!vq->desc || !vq->avail || !vq->used) {
        return vq_fail(vq, "%s ring at 0x%" G_GINT64_MODIFIER "x is outside guest memory",
                       !vq->desc    ? "descriptor"
                       : !vq->avail ? "driver"
                                    : "device",
                       !vq->desc    ? vq->desc_gpa
                       : !vq->avail ? vq->avail_gpa
                                    : vq->used_gpa);
    }
    if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
        return vq_fail(vq, "misaligned ring (descriptor 16, driver 2, device 4 bytes)");
    }
    vq->ready = true;
    return true;
}

bool vq_adopt_used_idx(Vq *vq)
{
    uint16_t used = load16_acquire((volatile uint16_t *)(vq->used + USED_IDX_OFF));

    if ((uint16_t)(vq->last_avail_idx - used) > vq->size) {
        return vq_fail(vq,
                       "available index %u and used index %u in guest memory do not fit "
                       "a queue of %u",
                       vq->last_avail_idx, used, vq->size);
    }
    vq->used_idx = used;
    vq->signalled_valid = false;
    return true;
}

void vq_reset(Vq *vq)
{
    VnetMem *mem = vq->mem;

    memset(vq, 0, sizeof(*vq));
    vq->mem = mem;
}

unsigned vq_pending(Vq *vq)
{
    uint16_t n;

    if (!vq->ready || vq->broken) {
        return 0;
    }
    vq->seen_avail_idx = load16_acquire(&vq->avail[AVAIL_IDX]);
    n = vq->seen_avail_idx - vq->last_avail_idx;
    if (n > vq->size) {
        vq_fail(vq, "driver index moved %u entries ahead on a queue of %u", n, vq->size);
        return 0;
    }
    return n;
}

/* Add [addr, addr+len) of one descriptor to the chain. */
static bool chain_add(Vq *vq, uint64_t addr, uint32_t len, struct iovec *iov, unsigned max_iov,
                      unsigned *niov)
{
    int n = vnet_mem_map_iov(vq->mem, addr, len, iov + *niov, max_iov - *niov);

    if (n == VNET_MEM_EFAULT) {
        return vq_fail(vq, "buffer 0x%" G_GINT64_MODIFIER "x+%u is outside guest memory", addr,
                       len);
    }
    if (n == VNET_MEM_E2BIG) {
        return vq_fail(vq, "chain needs more than %u segments", max_iov);
    }
    *niov += n;
    return true;
}

VqPopResult vq_pop(Vq *vq, struct iovec *iov, unsigned max_iov, unsigned allow, VqChain *c)
{
    volatile VqDesc *table = vq->desc;
    unsigned table_size = vq->size, count = 0, niov = 0;
    uint64_t read_len = 0, write_len = 0;
    bool indirect = false;
    uint16_t idx;

    /* the driver's index is read again only once the chains seen last time are taken: the
     * line it lives on is the one the driver writes */
    if (!vq->ready || vq->broken ||
        (vq->last_avail_idx == vq->seen_avail_idx && vq_pending(vq) == 0)) {
        return vq->broken ? VQ_POP_BROKEN : VQ_POP_EMPTY;
    }
    idx = le16toh(vq->avail[AVAIL_RING + vq_slot(vq, vq->last_avail_idx)]);
    if (idx >= vq->size) {
        vq_fail(vq, "chain head %u is outside a queue of %u", idx, vq->size);
        return VQ_POP_BROKEN;
    }
    c->head = idx;
    c->nread = 0;
    for (;;) {
        VqDesc d;
        uint16_t flags;

        if (++count > table_size) {
            vq_fail(vq, "chain at head %u loops or is longer than its table (%u)", c->head,
                    table_size);
            return VQ_POP_BROKEN;
        }
        /* one read of the descriptor (the guest may change it under us); an indirect
         * table may sit at any address, hence memcpy */
        memcpy(&d, (const void *)&table[idx], sizeof(d));
        d.addr = le64toh(d.addr);
        d.len = le32toh(d.len);
        d.flags = le16toh(d.flags);
        d.next = le16toh(d.next);
        flags = d.flags;
        if (flags & VQ_DESC_F_INDIRECT) {
            if (!vq->indirect) {
                vq_fail(vq, "indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC");
            } else if (indirect) {
                vq_fail(vq, "indirect table inside an indirect table (head %u)", c->head);
            } else if (flags & VQ_DESC_F_NEXT) {
                vq_fail(vq, "descriptor %u is both indirect and chained", idx);
            } else if (count != 1) {
                vq_fail(vq, "indirect descriptor %u is not the head of its chain", idx);
            } else if (d.len == 0 || d.len % sizeof(VqDesc)) {
                vq_fail(vq, "indirect table of %u bytes (allowed: a multiple of 16)", d.len);
            } else if (d.len / sizeof(VqDesc) > vq->size) {
                vq_fail(vq, "indirect table of %u descriptors is longer than the queue (%u)",
                        d.len / (unsigned)sizeof(VqDesc), vq->size);
            } else if (!(table = vnet_mem_map(vq->mem, d.addr, d.len))) {
                vq_fail(vq,
                        "indirect table 0x%" G_GINT64_MODIFIER "x+%u is outside guest "
                        "memory",
                        d.addr, d.len);
            }
            if (vq->broken) {
                return VQ_POP_BROKEN;
            }
            indirect = true;
            table_size = d.len / sizeof(VqDesc);
            count = 0;
            idx = 0;
            continue;
        }
        if (flags & VQ_DESC_F_WRITE) {
            if (!(allow & VQ_ALLOW_WRITE)) {
                vq_fail(vq, "device-writable buffer in a chain the device only reads");
                return VQ_POP_BROKEN;
            }
            write_len += d.len;
        } else {
            if (!(allow & VQ_ALLOW_READ)) {
                vq_fail(vq, "device-readable buffer in a chain the device only writes");
                return VQ_POP_BROKEN;
            }
            if (niov > c->nread || write_len) {
                vq_fail(vq, "readable buffer after a writable one (head %u)", c->head);
                return VQ_POP_BROKEN;
            }
            read_len += d.len;
        }
        if (read_len + write_len > UINT32_MAX) {
            vq_fail(vq, "chain at head %u is longer than 4 GiB", c->head);
            return VQ_POP_BROKEN;
        }
        if (!chain_add(vq, d.addr, d.len, iov, max_iov, &niov)) {
            return VQ_POP_BROKEN;
        }
        if (!(flags & VQ_DESC_F_WRITE)) {
            c->nread = niov;
        }
        if (!(flags & VQ_DESC_F_NEXT)) {
            break;
        }
        idx = d.next;
        if (idx >= table_size) {
            vq_fail(vq, "next index %u is outside a table of %u", idx, table_size);
            return VQ_POP_BROKEN;
        }
    }
    c->nwrite = niov - c->nread;
    c->read_len = read_len;
    c->write_len = write_len;
    vq->last_avail_idx++;
    return VQ_POP_OK;
}

void vq_unpop(Vq *vq, unsigned n)
{
    vq->last_avail_idx -= n;
}

void vq_push(Vq *vq, uint16_t head, uint32_t len)
{
    volatile uint8_t *elem =
        vq->used + USED_RING_OFF + (size_t)vq_slot(vq, vq->used_idx) * USED_ELEM_SIZE;

    *(volatile uint32_t *)elem = htole32(head);
    *(volatile uint32_t *)(elem + 4) = htole32(len);
    vnet_mem_log_gpa(vq->mem, vq->used_gpa + (uint64_t)(elem - vq->used), USED_ELEM_SIZE);
    vq->used_idx++;
}

bool vq_has_unpublished(const Vq *vq)
{
    return vq->ready && le16toh(*(volatile uint16_t *)(vq->used + USED_IDX_OFF)) != vq->used_idx;
}

bool vq_flush(Vq *vq)
{
    uint16_t old = vq->signalled_used, now = vq->used_idx, event;
    bool valid = vq->signalled_valid;

    __atomic_store_n((volatile uint16_t *)(vq->used + USED_IDX_OFF), htole16(now),
                     __ATOMIC_RELEASE);
    vnet_mem_log_gpa(vq->mem, vq->used_gpa + USED_IDX_OFF, 2);
    /* the driver's used_event / flags must be read after it can see the new idx */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx) {
        return !(le16toh(vq->avail[0]) & VQ_AVAIL_F_NO_INTERRUPT);
    }
    event = le16toh(vq->avail[AVAIL_RING + vq->size]);
    vq->signalled_used = now;
    vq->signalled_valid = true;
    /* vring_need_event: did the index step over event since the last interrupt? */
    return !valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool vq_set_notify(Vq *vq, bool enable)
{
    volatile uint16_t *flags = (volatile uint16_t *)vq->used;

    if (!vq->ready || vq->broken) {
        return false;
    }
    if (vq->event_idx) {
        if (enable) {
            volatile uint16_t *avail_event =
                (volatile uint16_t *)(vq->used + USED_RING_OFF + (size_t)vq->size * USED_ELEM_SIZE);
            *avail_event = htole16(vq->seen_avail_idx); /* kick when you pass this */
            vnet_mem_log_gpa(vq->mem,
                             vq->used_gpa + USED_RING_OFF + (uint64_t)vq->size * USED_ELEM_SIZE, 2);
        }
        /* suppressing: leave avail_event behind; the driver stops kicking */
    } else {
        *flags = htole16(enable ? 0 : VQ_USED_F_NO_NOTIFY);
        vnet_mem_log_gpa(vq->mem, vq->used_gpa, 2);
    }
    if (!enable) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return load16_acquire(&vq->avail[AVAIL_IDX]) != vq->seen_avail_idx;
}
