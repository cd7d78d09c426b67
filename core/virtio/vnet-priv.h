/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnet-priv.h - internal state of the virtio-net frontend, shared by its files. */
#ifndef NETBE_VNET_PRIV_H
#define NETBE_VNET_PRIV_H

#include "netbe-priv.h"
#include "netbe/virtio-net.h"
#include "vnet-hdr.h"
#include "vnet-mem.h"
#include "vnet-poll.h"
#include "vq.h"

#define VNET_CTRL_QUEUE_SIZE 64
#define VNET_TX_BATCH 256 /* chains per TX run before yielding to the loop */
#define VNET_TX_POOL 4096 /* iovec entries of one TX batch (pointing into guest memory) */
#define VNET_MAC_TABLE 64 /* entries per filter table (beyond: accept all) */
#define VNET_MAX_GSO_FRAME (65535 + 14 + 4)
#define VNET_RX_SMALL_RUN 256 /* MTU-sized frames in a row that end gathering for GSO ones */

typedef enum VnetRole {
    VNET_ROLE_NONE = 0,
    VNET_ROLE_RX,
    VNET_ROLE_TX,
    VNET_ROLE_CTRL,
} VnetRole;

typedef struct VnetDev VnetDev;

typedef struct VnetQueue {
    Vq vq;
    VnetDev *vd;
    unsigned index; /* virtqueue number */
    unsigned max_size;
    bool enabled; /* queue_enable written by the driver */
    int kick_fd;  /* eventfd we watch (ours or the VMM's dup) */
    int call_fd;  /* irqfd, or -1: the notify_queue hook */
    GSource *kick_src;
    gpointer kick_tag;
    bool tx_busy;    /* backend busy: waiting for tx_ready */
    bool rx_waiting; /* no guest buffers: waiting for a kick */
    NetbeVnetQueueStats stats;
    struct iovec *iov;             /* 2 * VQ_MAX_IOV: chains in flight, in guest memory */
    struct iovec *biov;            /* VQ_MAX_IOV + 2: what the backend gets */
    struct iovec *txpool;          /* TX: VNET_TX_POOL entries, the frames of a batch */
    uint16_t *heads;               /* RX: popped chains (2 * VQ_MAX_IOV) */
    uint32_t *caps;                /* RX: their writable bytes */
    uint16_t *niovs;               /* RX: their iovec entries */
    unsigned pre_chains, pre_niov; /* RX: chains popped and not used yet, their entries */
    size_t pre_cap;                /* RX: and their bytes */
    uint8_t *hold;                 /* RX: a frame larger than the buffers posted when it came */
    size_t hold_size;              /* RX: bytes allocated at hold */
    size_t held_len;               /* RX: bytes of the held frame (guest header first), or 0 */
    bool rx_large;                 /* RX: frames larger than the MTU came lately: gather for them */
    unsigned rx_small_run;         /* RX: frames within the MTU in a row since the last larger */
    bool base_set;                 /* netbe_vnet_queue_set_base(): used idx from guest at enable */
    VnetPoll poll;                 /* TX: busy-polling for the driver's next chains */
} VnetQueue;

struct VnetDev {
    NetbeDevice *dev;
    NetbeBackend *be;
    char *name; /* "[device.ID]" */
    VnetMem mem;
    NetbeVnetHooks hooks;
    unsigned max_pairs, curr_pairs, nqueues;
    VnetQueue *queues;
    uint64_t host_features, guest_features;
    uint8_t status;
    bool link_up;
    bool started;      /* DRIVER_OK done: queues run */
    bool paused;       /* netbe_device_pause(): no queue runs, the backend is not read */
    bool load_pending; /* state loaded: run once the backend is connected */
    bool announce;     /* config status VIRTIO_NET_S_ANNOUNCE, until the driver acks */
    uint32_t offloads; /* NETBE_OFFLOAD_* last applied to the backend */
    bool logged_broken;
    unsigned be_hdr; /* header bytes the backend's frames carry */
    uint8_t mac[6];
    unsigned poll_us; /* TX rings spin up to this long for the driver before a kick (0: no) */
    /* RX filter (control queue, class RX and MAC) */
    bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
    bool uni_overflow, multi_overflow;
    unsigned n_uni, n_multi;
    uint8_t uni[VNET_MAC_TABLE][6], multi[VNET_MAC_TABLE][6];
    uint8_t scratch[VNET_HDR_MAX];
};

static inline bool vnet_has(const VnetDev *vd, unsigned bit)
{
    return vd->guest_features & (1ull << bit);
}

/* virtio-net.c (vnet_dev_stop, vnet_dev_free: see netbe-priv.h) */
VnetDev *vnet_dev_new(NetbeDevice *dev);
/* What virtqueue @i is under the negotiated features; @pair gets its queue pair. */
VnetRole vnet_role(const VnetDev *vd, unsigned i, unsigned *pair);
/* The queue of @role for pair @pair when it can run now, else NULL. */
VnetQueue *vnet_active_queue(VnetDev *vd, unsigned pair, VnetRole role);
/* Interrupt the driver for @q; publish used entries and interrupt if it asked. */
void vnet_notify(VnetQueue *q);
void vnet_flush(VnetQueue *q);
void vnet_notify_config(VnetDev *vd);
/* @q found a malformed ring: stop it, DEVICE_NEEDS_RESET, config interrupt, log once. */
void vnet_queue_broken(VnetQueue *q);
/* Process @q now (a kick came, or the device started). */
void vnet_queue_run(VnetQueue *q);
/* (Re)watch q->kick_fd on the runtime's context. */
void vnet_kick_watch(VnetQueue *q);
/* The features offered, from the backend's capabilities and the config. */
uint64_t vnet_offer(VnetDev *vd);
bool vnet_features_valid(const VnetDev *vd);
bool vnet_start(VnetDev *vd, GError **errp);
void vnet_reset_state(VnetDev *vd);
bool vnet_apply_offloads(VnetDev *vd, uint64_t guest_offload_bits, GError **errp);
/* NETBE_OFFLOAD_* bits the guest offload features in @features allow. */
uint32_t vnet_guest_offloads(uint64_t features);
/* A feature of @features whose prerequisite is missing, or 0. */
uint64_t vnet_feature_deps_missing(uint64_t features);
/* Allocate @q's chain buffers (once, when it is first enabled). */
void vnet_queue_buffers(VnetQueue *q);
void vnet_set_pairs(VnetDev *vd, unsigned pairs);

/* vnet-datapath.c */
extern const NetbePeerOps vnet_peer_ops;
/* Write @q's kick eventfd (continue later, from the loop). */
void vnet_kick_self(VnetQueue *q);
/* Send the chains of TX queue @q to backend queue @pair, in batches. */
void vnet_tx_run(VnetQueue *q, unsigned pair);
/* @q stops (disabled, paused): popped RX chains go back to the ring, used entries are
 * published (with an interrupt if the driver wants one). */
void vnet_queue_drain(VnetQueue *q);
/* A frame held for more guest buffers goes back to the backend's queue (a pause: the
 * handover carries it, or the device delivers it first when it resumes). */
void vnet_rx_requeue_held(VnetQueue *q);
/* The driver added RX buffers to @q: let the backend's frames in again. */
void vnet_rx_kick(VnetQueue *q, unsigned pair);

/* Run the device (its backend is connected and negotiated): start the backend, set the
 * queues' notifications, process every queue once. */
void vnet_go(VnetDev *vd);

/* vnet-migrate.c: pause, resume, save, load (include/netbe/migrate.h) */
void vnet_pause(VnetDev *vd);
void vnet_resume(VnetDev *vd);
bool vnet_save(VnetDev *vd, NetbeMigWriter *w, GError **errp);
bool vnet_load(VnetDev *vd, NetbeMigReader *r, GError **errp);

/* vnet-ctrl.c */
void vnet_ctrl_run(VnetQueue *q);
void vnet_filter_reset(VnetDev *vd);
bool vnet_filter_accept(const VnetDev *vd, const uint8_t *dst);

#endif /* NETBE_VNET_PRIV_H */
