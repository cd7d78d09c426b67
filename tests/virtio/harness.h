/* SPDX-License-Identifier: GPL-2.0-or-later */
/* harness.h - a guest virtio-net driver for tests: negotiates, lays out split rings in a
 * memory region, posts RX buffers, sends TX chains, answers ARP and ICMP echo. */
#ifndef NETBE_TEST_VNET_HARNESS_H
#define NETBE_TEST_VNET_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netbe/netbe.h"
#include "netbe/virtio-net.h"

#define VG_MAX_QUEUES 17          /* 8 pairs + control */
#define VG_GPA_BASE 0x40000000ull /* guest physical address of the region */
#define VG_TX_BUF 65560           /* largest frame a TX slot carries */
#define VG_HDR_LEN 12

typedef struct VgOptions {
    uint64_t features_clear; /* offered features the driver refuses */
    unsigned queue_size;     /* 0: the device's maximum */
    unsigned rx_buf_size;    /* 0: 2048 with MRG_RXBUF, else 65562 */
    bool tx_indirect;        /* TX chains through an indirect table */
    size_t mem_size;         /* 0: 192 MiB (anonymous, touched on use) */
    bool no_start;           /* stop after queue setup (no DRIVER_OK, no RX buffers) */
} VgOptions;

/* One split virtqueue as the driver lays it out. */
typedef struct VgQueue {
    unsigned size;
    uint8_t *desc;   /* 16 * size */
    uint16_t *avail; /* flags, idx, ring[size], used_event */
    uint8_t *used;   /* flags, idx, ring[size], avail_event */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint16_t avail_idx;  /* next avail slot the driver fills */
    uint16_t kicked_idx; /* avail idx at the last kick decision */
    uint16_t last_used;  /* next used entry to read */
    uint8_t *bufs;       /* RX: size buffers; TX: size/2 slots of VG_TX_BUF */
    uint64_t bufs_gpa;
    size_t buf_size;
    uint8_t *indirect; /* TX: a 2-entry table per slot */
    uint64_t indirect_gpa;
    uint16_t *free_slots; /* TX slots not in flight */
    unsigned nfree;
} VgQueue;

typedef struct VgGuest {
    NetbeRuntime *rt;
    NetbeDevice *dev;
    VgOptions opt;
    uint8_t *mem;
    size_t mem_size, brk;
    uint64_t features;
    unsigned nqueues, max_pairs, pairs;
    VgQueue q[VG_MAX_QUEUES];
    unsigned irqs[VG_MAX_QUEUES];
    unsigned config_irqs;
    uint8_t mac[6];
    uint8_t ip[4]; /* for the ARP / ICMP responder */
} VgGuest;

/* vg_new() - map memory and bring device @id up as the Linux driver would. Asserts. */
VgGuest *vg_new(NetbeRuntime *rt, const char *id, const VgOptions *opt);
/* Set DRIVER_OK and post RX buffers (for no_start guests). Return: false if refused. */
bool vg_start(VgGuest *g, GError **errp);
void vg_free(VgGuest *g);

/*
 * vg_attach() - give device @dev (another runtime's, on the destination of a handover)
 * this guest's memory map and hooks, as a VMM does before loading the device's state.
 */
void vg_attach(VgGuest *g, NetbeDevice *dev);
/* vg_switch() - the handover is done: kick @dev, pump @rt from now on. */
void vg_switch(VgGuest *g, NetbeRuntime *rt, NetbeDevice *dev);
/* The config status field (NETBE_VIRTIO_NET_S_*). */
uint16_t vg_config_status(VgGuest *g);

/* Bump-allocate guest memory. Return: host pointer; *gpa its guest address. */
void *vg_alloc(VgGuest *g, size_t size, size_t align, uint64_t *gpa);
uint64_t vg_gpa(VgGuest *g, const void *p);

/* Index of the RX / TX / control virtqueue. */
unsigned vg_rxq(VgGuest *g, unsigned pair);
unsigned vg_txq(VgGuest *g, unsigned pair);
unsigned vg_ctrlq(VgGuest *g);

/* Run the runtime's pending work without blocking. */
void vg_pump(VgGuest *g);
/* Pump for @ms milliseconds. */
void vg_pump_for(VgGuest *g, int ms);

/* Write descriptor @i of @table (a ring's or an indirect table). */
void vg_set_desc(uint8_t *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next);
#define VG_DESC_F_NEXT 1
#define VG_DESC_F_WRITE 2
#define VG_DESC_F_INDIRECT 4

/* Make @head available on queue @vq and notify the device if it wants it. */
void vg_post(VgGuest *g, unsigned vq, uint16_t head);
/* Publish the avail index of @vq; kick if the device asked for it (event idx/flags). */
void vg_publish(VgGuest *g, unsigned vq);
/* Kick @vq unconditionally. */
void vg_kick(VgGuest *g, unsigned vq);

/*
 * vg_send() - send one frame on pair @pair: a header chain (hdr or zeros) + data.
 * Return: false if every TX slot is in flight even after reclaiming.
 */
bool vg_send(VgGuest *g, unsigned pair, const void *hdr, const void *data, size_t len);
/* Like vg_send() but does not kick (batching); vg_tx_kick() notifies once. */
bool vg_send_nokick(VgGuest *g, unsigned pair, const void *hdr, const void *data, size_t len);
void vg_tx_kick(VgGuest *g, unsigned pair);
/* Take back TX slots the device finished. Return: how many. */
unsigned vg_tx_reclaim(VgGuest *g, unsigned pair);

/*
 * vg_recv() - one received frame of pair @pair, assembled over num_buffers, its buffers
 * given back. @hdr gets the 12-byte header (may be NULL); *num_buffers (may be NULL).
 * Return: frame length without header, -1 after @timeout_ms without a frame.
 */
ssize_t vg_recv(VgGuest *g, unsigned pair, uint8_t *buf, size_t max, uint8_t *hdr,
                unsigned *num_buffers, int timeout_ms);
/* Same without pumping the runtime; -1 when nothing is there now. */
ssize_t vg_recv_ready(VgGuest *g, unsigned pair, uint8_t *buf, size_t max, uint8_t *hdr,
                      unsigned *num_buffers);

/* A control command; Return: the device's ack (0 ok, 1 error), -1 on timeout. */
int vg_ctrl(VgGuest *g, uint8_t cls, uint8_t cmd, const void *data, size_t len);
/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET. */
bool vg_set_pairs(VgGuest *g, unsigned pairs);

/*
 * vg_answer() - if @frame is an ARP request for g->ip or an ICMP echo request to it,
 * send the reply on @pair. Return: true if it answered.
 */
bool vg_answer(VgGuest *g, unsigned pair, const uint8_t *frame, size_t len);
/* Receive and answer on every active pair for @ms. Return: frames answered. */
unsigned vg_serve(VgGuest *g, int ms);

/* A frame the caller waits for. */
typedef bool (*VgMatchFunc)(const uint8_t *frame, size_t len, void *opaque);
/*
 * vg_wait_frame() - receive on every active pair until @match accepts a frame (copied to
 * @buf); frames it refuses go to vg_answer(). Return: its length, -1 on timeout.
 */
ssize_t vg_wait_frame(VgGuest *g, VgMatchFunc match, void *opaque, uint8_t *buf, size_t max,
                      int timeout_ms);
/* ARP for @ip from g->ip; Return: true with its MAC in @mac. */
bool vg_arp_resolve(VgGuest *g, unsigned pair, const uint8_t ip[4], uint8_t mac[6], int timeout_ms);
/* Resolve @ip, send an ICMP echo request on @pair, wait for the reply. */
bool vg_ping(VgGuest *g, unsigned pair, const uint8_t ip[4], uint16_t seq, int timeout_ms);
/* Ethernet + IPv4 header (checksummed) for @l4_len bytes of @proto; Return: frame length. */
size_t vg_make_ipv4(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac,
                    const uint8_t *src_ip, const uint8_t *dst_ip, uint8_t proto, size_t l4_len);

/* The first 10 bytes of a virtio-net header for a TCPv4 GSO frame behind Ethernet and a
 * 20-byte IPv4 header with a 20-byte TCP header: NEEDS_CSUM, GSO_TCPV4, hdr_len 54,
 * gso_size @mss, csum_start 34, csum_offset 16 (num_buffers is left as it is). */
void vg_tcp4_gso_hdr(uint8_t *hdr, uint16_t mss);

/* Build an Ethernet frame: dst, src, ethertype, payload of @len bytes (pattern). */
size_t vg_make_frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type,
                     size_t payload_len, uint8_t seed);

#endif /* NETBE_TEST_VNET_HARNESS_H */
