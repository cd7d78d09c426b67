/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vu-proto.h - the vhost-user wire format (QEMU docs/interop/vhost-user.rst), backend side. */
#ifndef NETBE_VU_PROTO_H
#define NETBE_VU_PROTO_H

#include <stdint.h>

/* Header: request, flags, payload size; all little endian (we run on little endian hosts;
 * every layout here is naturally aligned, checked below). */
typedef struct VuHeader {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
} VuHeader;

#define VU_VERSION 0x1u
#define VU_FLAG_VERSION_MASK 0x3u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

/* Front-end requests this backend knows. */
enum {
    VU_GET_FEATURES = 1,
    VU_SET_FEATURES = 2,
    VU_SET_OWNER = 3,
    VU_RESET_OWNER = 4,
    VU_SET_MEM_TABLE = 5,
    VU_SET_LOG_BASE = 6,
    VU_SET_LOG_FD = 7,
    VU_SET_VRING_NUM = 8,
    VU_SET_VRING_ADDR = 9,
    VU_SET_VRING_BASE = 10,
    VU_GET_VRING_BASE = 11,
    VU_SET_VRING_KICK = 12,
    VU_SET_VRING_CALL = 13,
    VU_SET_VRING_ERR = 14,
    VU_GET_PROTOCOL_FEATURES = 15,
    VU_SET_PROTOCOL_FEATURES = 16,
    VU_GET_QUEUE_NUM = 17,
    VU_SET_VRING_ENABLE = 18,
    VU_SEND_RARP = 19,
    VU_NET_SET_MTU = 20,
    VU_GET_CONFIG = 24,
    VU_SET_CONFIG = 25,
    VU_RESET_DEVICE = 34,
    VU_REQUEST_MAX = 41,
};

/* Virtio feature bits that belong to vhost-user itself. */
#define VU_F_LOG_ALL 26
#define VU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits. */
#define VU_PF_MQ 0
#define VU_PF_LOG_SHMFD 1
#define VU_PF_RARP 2
#define VU_PF_REPLY_ACK 3
#define VU_PF_NET_MTU 4
#define VU_PF_CONFIG 9
#define VU_PF_RESET_DEVICE 13

/* Most regions in SET_MEM_TABLE (VHOST_MEMORY_BASELINE_NREGIONS) and fds per message. */
#define VU_MAX_REGIONS 8
#define VU_MAX_FDS 8
/* Largest payload any known request has (GET_CONFIG: 12 + 256). */
#define VU_MAX_PAYLOAD 4096
#define VU_MAX_CONFIG 256

typedef struct VuRegion {
    uint64_t gpa;
    uint64_t size;
    uint64_t uva;         /* the front-end's address of gpa */
    uint64_t mmap_offset; /* where the region starts in its fd */
} VuRegion;

typedef struct VuMemTable {
    uint32_t nregions;
    uint32_t padding;
    VuRegion regions[VU_MAX_REGIONS];
} VuMemTable;

typedef struct VuVringState {
    uint32_t index;
    uint32_t num;
} VuVringState;

#define VU_VRING_F_LOG 1u

typedef struct VuVringAddr {
    uint32_t index;
    uint32_t flags;
    uint64_t desc_uva;
    uint64_t used_uva;
    uint64_t avail_uva;
    uint64_t log_gpa; /* guest address of the used ring, for logging */
} VuVringAddr;

/* u64 of SET_VRING_KICK / CALL / ERR: ring index, and "no fd" (polling). */
#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD (1u << 8)

typedef struct VuLog {
    uint64_t size;
    uint64_t offset;
} VuLog;

typedef struct VuConfig {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
    uint8_t data[VU_MAX_CONFIG];
} VuConfig;

#define VU_CONFIG_HDR 12

/* Every layout above is naturally aligned: no padding, the sizes the wire has. */
_Static_assert(sizeof(VuHeader) == 12 && sizeof(VuRegion) == 32 &&
                   sizeof(VuMemTable) == 8 + 32 * VU_MAX_REGIONS && sizeof(VuVringState) == 8 &&
                   sizeof(VuVringAddr) == 40 && sizeof(VuLog) == 16 &&
                   sizeof(VuConfig) == VU_CONFIG_HDR + VU_MAX_CONFIG,
               "vhost-user wire layout");

#endif /* NETBE_VU_PROTO_H */
