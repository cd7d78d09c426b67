/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vu-front.h - our own vhost-user frontend (the VMM side) for tests and benches: guest
 * memory in a memfd, negotiation, split virtqueues, RX/TX, dirty log, raw messages. */
#ifndef NETBE_TEST_VU_FRONT_H
#define NETBE_TEST_VU_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

/*
 * Written from QEMU's docs/interop/vhost-user.rst, independently of netbe's backend (the
 * point is to check it): the wire constants below are our own.
 *
 * Guest memory is one memfd mapped here once. It is announced as @nregions regions, each
 * a slice of the memfd (mmap_offset), at guest-physical addresses with a hole between
 * them, and with a "userspace address" uva = gpa + uva_offset that is NOT our pointer
 * (as QEMU's are not the backend's): the backend must translate ring addresses (uvas) and
 * descriptor addresses (gpas) through the region table.
 */

/* Requests (front-end -> back-end). */
enum {
    VU_REQ_GET_FEATURES = 1,
    VU_REQ_SET_FEATURES = 2,
    VU_REQ_SET_OWNER = 3,
    VU_REQ_RESET_OWNER = 4,
    VU_REQ_SET_MEM_TABLE = 5,
    VU_REQ_SET_LOG_BASE = 6,
    VU_REQ_SET_LOG_FD = 7,
    VU_REQ_SET_VRING_NUM = 8,
    VU_REQ_SET_VRING_ADDR = 9,
    VU_REQ_SET_VRING_BASE = 10,
    VU_REQ_GET_VRING_BASE = 11,
    VU_REQ_SET_VRING_KICK = 12,
    VU_REQ_SET_VRING_CALL = 13,
    VU_REQ_SET_VRING_ERR = 14,
    VU_REQ_GET_PROTOCOL_FEATURES = 15,
    VU_REQ_SET_PROTOCOL_FEATURES = 16,
    VU_REQ_GET_QUEUE_NUM = 17,
    VU_REQ_SET_VRING_ENABLE = 18,
    VU_REQ_SEND_RARP = 19,
    VU_REQ_NET_SET_MTU = 20,
    VU_REQ_GET_CONFIG = 24,
    VU_REQ_SET_CONFIG = 25,
};

#define VU_HDR_SIZE 12
#define VU_FLAG_VERSION 0x1u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

#define VU_F_LOG_ALL 26           /* virtio feature bit: log every write */
#define VU_F_PROTOCOL_FEATURES 30 /* virtio feature bit: GET/SET_PROTOCOL_FEATURES */

/* Protocol feature bits. */
#define VU_PF_MQ 0
#define VU_PF_LOG_SHMFD 1
#define VU_PF_RARP 2
#define VU_PF_REPLY_ACK 3
#define VU_PF_MTU 4
#define VU_PF_CONFIG 9

#define VU_MAX_REGIONS 8 /* VHOST_MEMORY_BASELINE_NREGIONS */
#define VU_MAX_FDS 8
#define VU_VRING_NOFD (1ull << 8) /* SET_VRING_KICK/CALL/ERR: no fd (polling) */
#define VU_VRING_F_LOG 1u         /* SET_VRING_ADDR flags: log used ring writes */
#define VU_LOG_PAGE 4096          /* one dirty-log bit per page of guest-physical memory */
#define VU_NET_HDR_LEN 12         /* virtio 1.x net header (num_buffers included) */
#define VU_MAX_QUEUES 16

/* Payloads, little endian, packed as on the wire. */
typedef struct __attribute__((packed)) VuWireRegion {
    uint64_t gpa, size, uva, mmap_offset;
} VuWireRegion;

typedef struct __attribute__((packed)) VuWireVringState {
    uint32_t index, num;
} VuWireVringState;

typedef struct __attribute__((packed)) VuWireVringAddr {
    uint32_t index, flags;
    uint64_t desc_uva, used_uva, avail_uva, log_gpa;
} VuWireVringAddr;

typedef struct __attribute__((packed)) VuWireLog {
    uint64_t mmap_size, mmap_offset;
} VuWireLog;

typedef struct VuFrontOptions {
    size_t mem_size;         /* guest memory bytes; 0: 64 MiB */
    unsigned nregions;       /* regions it is announced as (1..8); 0: 1 */
    uint64_t gpa_base;       /* guest-physical address of region 0; 0: 1 GiB */
    uint64_t uva_offset;     /* uva = gpa + uva_offset; 0: 0x7f0000000000 */
    unsigned queue_size;     /* 0: 256 */
    unsigned pairs;          /* queue pairs to set up; 0: 1 */
    unsigned rx_buf_size;    /* bytes per RX buffer; 0: 4096 with MRG_RXBUF, else 65562 */
    uint64_t features_clear; /* offered features the driver refuses */
    uint64_t protocol_clear; /* offered protocol features the driver refuses */
    bool no_rx_post;         /* start without posting RX buffers */
    bool hugepages;          /* memory in 2 MiB huge pages (vm.nr_hugepages must hold it) */
} VuFrontOptions;

/* One split virtqueue as the driver lays it out (virtio 1.x, 2.7). */
typedef struct VuQueue {
    unsigned size;
    uint8_t *desc;   /* 16 * size */
    uint16_t *avail; /* flags, idx, ring[size], used_event */
    uint8_t *used;   /* flags, idx, ring[size] (8 bytes each), avail_event */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint16_t avail_idx;  /* next avail slot the driver fills */
    uint16_t kicked_idx; /* avail idx when the device was last notified */
    uint16_t last_used;  /* next used entry to read */
    uint8_t *bufs;       /* size buffers of buf_size, descriptor i uses buffer i */
    uint64_t bufs_gpa;
    size_t buf_size;
    uint16_t *free_ids; /* descriptors not in flight */
    unsigned nfree;
    unsigned rx_left;     /* vu_front_rx_drop(): buffers of the current frame to come */
    int kick_fd, call_fd; /* eventfds (-1: none) */
    bool ready;           /* rings set up over the socket */
} VuQueue;

typedef struct VuFront {
    int sock; /* -1 once the backend closed it or we did */
    int mem_fd;
    uint8_t *mem; /* our mapping of the memfd */
    size_t mem_size;
    unsigned nregions;
    VuWireRegion regions[VU_MAX_REGIONS];
    size_t brk[VU_MAX_REGIONS]; /* bump allocator: bytes used in each region */
    VuFrontOptions opt;
    uint64_t device_features, features;
    uint64_t device_protocol, protocol;
    unsigned max_pairs; /* GET_QUEUE_NUM (1 without MQ) */
    VuQueue q[VU_MAX_QUEUES];
    int log_fd; /* dirty log memfd, -1 without one */
    uint8_t *log;
    size_t log_size;
} VuFront;

/*
 * vu_front_connect() - connect to the backend's socket @path and map guest memory.
 * Nothing is negotiated yet (vu_front_start() does that).
 * Return: the frontend, NULL with @errp set if the socket cannot be reached.
 */
VuFront *vu_front_connect(const char *path, const VuFrontOptions *opt, GError **errp);
/* Close the socket, every eventfd and the memory. */
void vu_front_free(VuFront *f);

/*
 * vu_front_start() - negotiate as QEMU does (features, protocol features, owner, queue
 * number, memory table, every ring of opt.pairs pairs, enable) and post RX buffers.
 * Return: false with @errp naming the request the backend refused or did not answer.
 */
bool vu_front_start(VuFront *f, GError **errp);

/*
 * vu_front_setup_queue() - lay out virtqueue @vq in guest memory (first call) and send
 * SET_VRING_NUM, _BASE (0), _ADDR, _CALL and _KICK for it. Return: false on a refusal.
 */
bool vu_front_setup_queue(VuFront *f, unsigned vq, GError **errp);

/* ---- messages ---- */

/*
 * vu_front_send_raw() - send one message as given, nothing checked: header @request,
 * @flags, @size (what the header claims), then @len bytes of @payload, with @nfds fds
 * (SCM_RIGHTS) on the first byte. Return: false if the socket write failed.
 */
bool vu_front_send_raw(VuFront *f, uint32_t request, uint32_t flags, uint32_t size,
                       const void *payload, size_t len, const int *fds, unsigned nfds);
/* Send raw bytes on the socket (a truncated header...). Return: false on error. */
bool vu_front_send_bytes(VuFront *f, const void *buf, size_t len);

/*
 * vu_front_request() - send @request with @payload and @fds. With a reply expected
 * (GET_* requests, SET_LOG_BASE with LOG_SHMFD) read it into @reply (@reply_len bytes,
 * exactly); otherwise, with REPLY_ACK negotiated, ask for an ack and check it is 0.
 * Return: false with @errp on a socket error, a closed socket, a reply that does not
 * match (request, flags, size), a non-zero ack, or no answer within 5 s.
 */
bool vu_front_request(VuFront *f, uint32_t request, const void *payload, size_t len, const int *fds,
                      unsigned nfds, void *reply, size_t reply_len, GError **errp);
/* The same for a u64 payload (SET_FEATURES, ...). */
bool vu_front_request_u64(VuFront *f, uint32_t request, uint64_t value, GError **errp);

/* SET_MEM_TABLE of the regions in f->regions, with the memfd for each. */
bool vu_front_set_mem_table(VuFront *f, GError **errp);
/* GET_VRING_BASE of @vq (stops the ring). Return: false on error, else *base. */
bool vu_front_get_vring_base(VuFront *f, unsigned vq, uint32_t *base, GError **errp);
/* GET_CONFIG: @len bytes of the device config at @offset into @buf. */
bool vu_front_get_config(VuFront *f, uint32_t offset, void *buf, uint32_t len, GError **errp);

/*
 * vu_front_wait_closed() - true if the backend closes the connection within @ms, reading
 * (and dropping) whatever it sends before. The socket is closed here then.
 */
bool vu_front_wait_closed(VuFront *f, int ms);

/* ---- guest memory ---- */

/* Allocate @size bytes (aligned to @align) inside one region. Return: our pointer. */
void *vu_front_alloc(VuFront *f, size_t size, size_t align);
/* Guest-physical / userspace address of @p (inside guest memory). */
uint64_t vu_front_gpa(VuFront *f, const void *p);
uint64_t vu_front_uva(VuFront *f, const void *p);

/* ---- queues and frames ---- */

/* Index of the RX / TX virtqueue of @pair. */
static inline unsigned vu_rxq(unsigned pair)
{
    return 2 * pair;
}
static inline unsigned vu_txq(unsigned pair)
{
    return 2 * pair + 1;
}

/* Make every free RX descriptor of @pair available and notify if needed. Return: count. */
unsigned vu_front_post_rx(VuFront *f, unsigned pair);
/*
 * vu_front_send() - one TX frame on @pair: @hdr (12 bytes, zeros if NULL) then @len bytes
 * of @frame in one descriptor; notifies unless @nokick. Return: false if every TX
 * descriptor is in flight (after reclaiming).
 */
bool vu_front_send(VuFront *f, unsigned pair, const void *hdr, const void *frame, size_t len,
                   bool nokick);
/* Notify the device of new TX buffers on @pair if it asked for it. */
void vu_front_kick(VuFront *f, unsigned vq);
/* Take back finished TX descriptors of @pair. Return: how many. */
unsigned vu_front_tx_reclaim(VuFront *f, unsigned pair);
/*
 * vu_front_tx_repost() - make every finished TX descriptor of @pair available again as it
 * is (same buffer, same length: a sender whose data is in place) and notify if needed.
 * Return: how many finished.
 */
unsigned vu_front_tx_repost(VuFront *f, unsigned pair);
/*
 * vu_front_recv() - one received frame of @pair, assembled over num_buffers, its buffers
 * posted again. @hdr gets the 12-byte header (may be NULL), *num_buffers (may be NULL).
 * Waits on the call eventfd up to @timeout_ms. Return: frame length without the header,
 * -1 on timeout.
 */
ssize_t vu_front_recv(VuFront *f, unsigned pair, uint8_t *buf, size_t max, uint8_t *hdr,
                      unsigned *num_buffers, int timeout_ms);
/*
 * vu_front_rx_drop() - take every used RX entry of @pair without copying (a polling guest
 * handing buffers up its stack: it asks for no call), give the buffers back (notifying if
 * needed). Return: frames.
 */
unsigned vu_front_rx_drop(VuFront *f, unsigned pair);
/* Used entries of @vq not read yet. */
unsigned vu_front_used_pending(VuFront *f, unsigned vq);
/* Wait up to @ms for the call eventfd of @vq and clear it. Return: true if it fired. */
bool vu_front_wait_call(VuFront *f, unsigned vq, int ms);

/* ---- dirty log ---- */

/*
 * vu_front_log_start() - start dirty logging on a running device as QEMU does when a
 * migration starts: a memfd log covering every guest-physical page of the regions sent
 * with SET_LOG_BASE (answered, LOG_SHMFD), SET_FEATURES with VHOST_F_LOG_ALL, then
 * SET_VRING_ADDR of every ring again with VU_VRING_F_LOG (used ring logged at its gpa).
 * Return: false with @errp if a step is refused or LOG_ALL / LOG_SHMFD were not offered.
 */
bool vu_front_log_start(VuFront *f, GError **errp);
/* Clear the log. */
void vu_front_log_clear(VuFront *f);
/* Guest-physical page numbers (gpa / 4096) marked in the log, ascending. Free the array. */
GArray *vu_front_log_pages(VuFront *f);

#endif /* NETBE_TEST_VU_FRONT_H */
