/* vnet-priv.h - internal state of the virtio-net frontend, shared by its files. */
#ifndef NETBE_VNET_PRIV_H
#define NETBE_VNET_PRIV_H

#include "netbe-priv.h"
#include "netbe/virtio-net.h"
#include "vnet-hdr.h"
#include "vnet-mem.h"
#include "vq.h"

#define VNET_CTRL_QUEUE_SIZE 64
#define VNET_TX_BATCH 256        /* chains per TX run before yielding to the loop */
#define VNET_MAC_TABLE 64        /* entries per filter table (beyond: accept all) */
#define VNET_MAX_GSO_FRAME (65535 + 14 + 4)

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
    unsigned index;            /* virtqueue number */
    unsigned max_size;
    bool enabled;              /* queue_enable written by the driver */
    int kick_fd;               /* eventfd we watch (ours or the VMM's dup) */
    int call_fd;               /* irqfd, or -1: the notify_queue hook */
    GSource *kick_src;
    gpointer kick_tag;
    bool tx_busy;              /* backend busy: waiting for tx_ready */
    bool rx_waiting;           /* no guest buffers: waiting for a kick */
    NetbeVnetQueueStats stats;
    struct iovec *iov;         /* 2 * VQ_MAX_IOV: chains in flight, in guest memory */
    struct iovec *biov;        /* VQ_MAX_IOV + 2: what the backend gets */
    uint16_t *heads;           /* RX: popped chains (2 * VQ_MAX_IOV) */
    uint32_t *caps;            /* RX: their writable bytes */
    uint16_t *niovs;           /* RX: their iovec entries */
    unsigned pre_chains, pre_niov; /* RX: chains popped and not used yet, their entries */
    size_t pre_cap;            /* RX: and their bytes */
} VnetQueue;

struct VnetDev {
    NetbeDevice *dev;
    NetbeBackend *be;
    char *name;                /* "[device.ID]" */
    VnetMem mem;
    NetbeVnetHooks hooks;
    unsigned max_pairs, curr_pairs, nqueues;
    VnetQueue *queues;
    uint64_t host_features, guest_features;
    uint8_t status;
    bool link_up;
    bool started;              /* DRIVER_OK done: queues run */
    bool logged_broken;
    unsigned be_hdr;           /* header bytes the backend's frames carry */
    uint8_t mac[6];
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

/* virtio-net.c */
VnetDev *vnet_dev_new(NetbeDevice *dev);
void vnet_dev_free(VnetDev *vd);
void vnet_dev_stop(VnetDev *vd);
void vnet_notify(VnetQueue *q);
void vnet_flush(VnetQueue *q);
void vnet_queue_broken(VnetQueue *q);
bool vnet_apply_offloads(VnetDev *vd, uint64_t guest_offload_bits, GError **errp);
void vnet_set_pairs(VnetDev *vd, unsigned pairs);
void netbe_vnet_bind(NetbeDevice *dev);

/* vnet-ctrl.c */
void vnet_ctrl_run(VnetQueue *q);
void vnet_filter_reset(VnetDev *vd);
bool vnet_filter_accept(const VnetDev *vd, const uint8_t *dst);

#endif /* NETBE_VNET_PRIV_H */
