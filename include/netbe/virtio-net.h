/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-net.h - the virtio-net device model (frontend) a VMM embeds, independent of transport. */
#ifndef NETBE_VIRTIO_NET_H
#define NETBE_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netbe/netbe.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A [device.ID] with model = virtio-net is a virtio 1.x network device (spec 1.2, 5.1)
 * with split virtqueues. The VMM owns the transport (PCI or MMIO registers) and
 * forwards what the driver does to these calls; the device does the rest: ring
 * processing, vnet headers, offload negotiation with its backend, the control queue.
 *
 * Typical order, as a driver does it:
 *   dev = netbe_runtime_find_device(rt, "nic0");
 *   netbe_vnet_set_memory(dev, regions, n, &err);
 *   netbe_vnet_set_hooks(dev, &hooks);
 *   features = netbe_vnet_get_device_features(dev);
 *   netbe_vnet_set_driver_features(dev, features & wanted);
 *   netbe_vnet_set_status(dev, ACK | DRIVER | FEATURES_OK, &err);  (reads back FEATURES_OK)
 *   netbe_vnet_queue_setup(dev, i, size, desc, avail, used, &err); netbe_vnet_queue_enable(...)
 *   netbe_vnet_set_status(dev, ... | DRIVER_OK, &err);   (deferred devices connect here)
 *   vCPU: netbe_vnet_queue_kick(dev, i) on a queue notification
 *
 * Stopping and restarting rings (vhost-user GET/SET_VRING_BASE, a VMM that migrates the
 * VM itself):
 *   netbe_vnet_queue_enable(dev, i, false);            (drains: see netbe_vnet_queue_get_base)
 *   netbe_vnet_queue_get_base(dev, i, &base);          (saved with the VM)
 *   ... on the destination, after netbe_vnet_queue_setup():
 *   netbe_vnet_queue_set_base(dev, i, base, &err); netbe_vnet_queue_enable(dev, i, true);
 * Live migration of the VM: netbe_vnet_set_dirty_log() makes the device mark the guest
 * pages it writes in the VMM's dirty bitmap (vhost-user VHOST_F_LOG_ALL / LOG_SHMFD).
 *
 * Threads:
 * - netbe_vnet_queue_kick() is safe from any thread (a vCPU thread): it is one
 *   eventfd write, no lock, no allocation. The device must be bound first:
 *   netbe_runtime_find_device() binds it (on the runtime thread), before vCPUs run.
 *   Do not mix it with netbe_vnet_queue_set_kick_fd() on the same queue while vCPUs
 *   run. A VMM with ioeventfds hands them over with netbe_vnet_queue_set_kick_fd()
 *   instead; the kernel then signals the device directly.
 * - Every other call runs on the thread that iterates the runtime's context, or while
 *   that thread is known not to iterate it (the VMM serialises them, e.g. with the
 *   lock it holds around netbe_runtime_dispatch()).
 * - Queue processing and the hooks run on the runtime's context.
 *
 * Virtqueue numbering (spec 5.1.2): 2k is receiveq k, 2k+1 transmitq k, the control
 * queue is 2N with VIRTIO_NET_F_MQ negotiated (N = max queue pairs), else 2.
 */

/* Device status bits (spec 2.1). */
#define NETBE_VIRTIO_STATUS_ACKNOWLEDGE 1u
#define NETBE_VIRTIO_STATUS_DRIVER 2u
#define NETBE_VIRTIO_STATUS_DRIVER_OK 4u
#define NETBE_VIRTIO_STATUS_FEATURES_OK 8u
#define NETBE_VIRTIO_STATUS_NEEDS_RESET 64u
#define NETBE_VIRTIO_STATUS_FAILED 128u

/* Feature bits the device may offer (spec 5.1.3 and 6). */
#define NETBE_VIRTIO_NET_F_CSUM 0
#define NETBE_VIRTIO_NET_F_GUEST_CSUM 1
#define NETBE_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define NETBE_VIRTIO_NET_F_MTU 3
#define NETBE_VIRTIO_NET_F_MAC 5
#define NETBE_VIRTIO_NET_F_GUEST_TSO4 7
#define NETBE_VIRTIO_NET_F_GUEST_TSO6 8
#define NETBE_VIRTIO_NET_F_GUEST_ECN 9
#define NETBE_VIRTIO_NET_F_GUEST_UFO 10
#define NETBE_VIRTIO_NET_F_HOST_TSO4 11
#define NETBE_VIRTIO_NET_F_HOST_TSO6 12
#define NETBE_VIRTIO_NET_F_HOST_ECN 13
#define NETBE_VIRTIO_NET_F_HOST_UFO 14
#define NETBE_VIRTIO_NET_F_MRG_RXBUF 15
#define NETBE_VIRTIO_NET_F_STATUS 16
#define NETBE_VIRTIO_NET_F_CTRL_VQ 17
#define NETBE_VIRTIO_NET_F_CTRL_RX 18
#define NETBE_VIRTIO_NET_F_CTRL_RX_EXTRA 20
#define NETBE_VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define NETBE_VIRTIO_NET_F_MQ 22
#define NETBE_VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define NETBE_VIRTIO_F_RING_INDIRECT_DESC 28
#define NETBE_VIRTIO_F_RING_EVENT_IDX 29
#define NETBE_VIRTIO_F_VERSION_1 32

/* Config space layout (little endian), spec 5.1.4. */
#define NETBE_VIRTIO_NET_CFG_MAC 0       /* u8[6] */
#define NETBE_VIRTIO_NET_CFG_STATUS 6    /* le16: NETBE_VIRTIO_NET_S_* */
#define NETBE_VIRTIO_NET_CFG_MAX_PAIRS 8 /* le16 */
#define NETBE_VIRTIO_NET_CFG_MTU 10      /* le16 */
#define NETBE_VIRTIO_NET_CFG_SPEED 12    /* le32, 0xffffffff unknown */
#define NETBE_VIRTIO_NET_CFG_DUPLEX 16   /* u8, 0xff unknown */
#define NETBE_VIRTIO_NET_CFG_SIZE 17

/* Config status bits. ANNOUNCE: the device moved (live handover); the driver announces
 * itself (gratuitous ARP / NA) and acks with the control command ANNOUNCE_ACK. */
#define NETBE_VIRTIO_NET_S_LINK_UP 1u
#define NETBE_VIRTIO_NET_S_ANNOUNCE 2u
/* Control queue: class ANNOUNCE (3), command ACK (0). */
#define NETBE_VIRTIO_NET_CTRL_ANNOUNCE 3
#define NETBE_VIRTIO_NET_CTRL_ANNOUNCE_ACK 0

/**
 * struct NetbeGuestRegion - one range of guest physical memory and where the VMM mapped it.
 * @gpa: guest physical address of the first byte
 * @size: bytes
 * @hva: host address of the first byte
 */
typedef struct NetbeGuestRegion {
    uint64_t gpa;
    uint64_t size;
    void *hva;
} NetbeGuestRegion;

#define NETBE_VNET_HOOKS_VERSION 1

/**
 * struct NetbeVnetHooks - notifications from the device to the VMM.
 * @version: NETBE_VNET_HOOKS_VERSION; fields are only ever appended
 * @opaque: the VMM's data, passed to every hook
 * @notify_queue: raise the interrupt (MSI-X vector, irqfd...) of virtqueue @vq, which has
 *   new used buffers. Not called for a queue with a call fd.
 * @notify_config: raise the config-change interrupt (link status, DEVICE_NEEDS_RESET)
 *
 * The hooks are called on the runtime's context.
 */
typedef struct NetbeVnetHooks {
    uint32_t version;
    void *opaque;
    void (*notify_queue)(void *opaque, unsigned vq);
    void (*notify_config)(void *opaque);
} NetbeVnetHooks;

/**
 * struct NetbeVnetQueueStats - the counters of one virtqueue of the device.
 * @kicks: notifications from the driver, whether they found work or not
 * @interrupts: notifications to the driver
 * @chains: descriptor chains completed (used entries)
 * @drops: frames dropped by the device (filter, too big, no header)
 * @broken: the queue found a malformed ring and stopped
 */
typedef struct NetbeVnetQueueStats {
    uint64_t kicks;
    uint64_t interrupts;
    uint64_t chains;
    uint64_t drops;
    bool broken;
} NetbeVnetQueueStats;

/**
 * netbe_vnet_set_memory() - give the device the guest's memory map (replaces it).
 * @dev: the device
 * @regions: @n ranges that must not overlap or wrap; copied
 * @n: the number of ranges
 * @errp: gets the error
 *
 * Return: true once replaced; false (map unchanged) when a range is empty, wraps or
 * overlaps.
 */
NETBE_API bool netbe_vnet_set_memory(NetbeDevice *dev, const NetbeGuestRegion *regions, unsigned n,
                                     GError **errp);

/**
 * netbe_vnet_set_hooks() - install the notification hooks.
 * @dev: the device
 * @hooks: the hooks; copied
 *
 * Return: true once installed; false (with a warning logged) on a version this library
 * does not know.
 */
NETBE_API bool netbe_vnet_set_hooks(NetbeDevice *dev, const NetbeVnetHooks *hooks);

/**
 * netbe_vnet_get_device_features() - the features the device offers.
 * @dev: the device
 *
 * Return: the feature bits (NETBE_VIRTIO_*_F_*), following the backend's capabilities and
 * the config.
 */
NETBE_API uint64_t netbe_vnet_get_device_features(NetbeDevice *dev);
/**
 * netbe_vnet_set_driver_features() - the features the driver accepted.
 * @dev: the device
 * @features: the feature bits; bits not offered are ignored
 *
 * Ignored once FEATURES_OK is set.
 */
NETBE_API void netbe_vnet_set_driver_features(NetbeDevice *dev, uint64_t features);
/**
 * netbe_vnet_get_driver_features() - the negotiated features.
 * @dev: the device
 *
 * Return: the feature bits.
 */
NETBE_API uint64_t netbe_vnet_get_driver_features(NetbeDevice *dev);

/**
 * netbe_vnet_set_status() - the driver writes the status register.
 * @dev: the device
 * @status: NETBE_VIRTIO_STATUS_* bits; 0 resets the device
 * @errp: gets the error
 *
 * FEATURES_OK is refused (left clear) for an inconsistent feature set; DRIVER_OK starts
 * the device: a deferred device connects its backend here.
 *
 * Return: false if DRIVER_OK could not start the device, or came without FEATURES_OK
 * (status keeps it clear); true otherwise.
 */
NETBE_API bool netbe_vnet_set_status(NetbeDevice *dev, uint8_t status, GError **errp);
/**
 * netbe_vnet_get_status() - the driver reads the status register.
 * @dev: the device
 *
 * Return: NETBE_VIRTIO_STATUS_* bits, as written and accepted (FEATURES_OK and DRIVER_OK
 * only if accepted), with NEEDS_RESET once the device needs a reset.
 */
NETBE_API uint8_t netbe_vnet_get_status(NetbeDevice *dev);
/**
 * netbe_vnet_reset() - same as writing status 0: queues stop, the backend stops.
 * @dev: the device
 */
NETBE_API void netbe_vnet_reset(NetbeDevice *dev);

/**
 * netbe_vnet_get_num_queues() - the number of virtqueues the transport exposes.
 * @dev: the device
 *
 * Return: 2 * max queue pairs + 1.
 */
NETBE_API unsigned netbe_vnet_get_num_queues(NetbeDevice *dev);
/**
 * netbe_vnet_queue_max_size() - the largest size of a virtqueue.
 * @dev: the device
 * @vq: the virtqueue
 *
 * Return: rx_queue_size or tx_queue_size of the config, 64 for the control queue; 0 if
 * there is no such queue.
 */
NETBE_API unsigned netbe_vnet_queue_max_size(NetbeDevice *dev, unsigned vq);

/**
 * netbe_vnet_queue_setup() - size and ring addresses (guest physical) of queue @vq.
 * @dev: the device
 * @vq: the virtqueue
 * @size: its size: a power of two up to netbe_vnet_queue_max_size()
 * @desc: guest physical address of the descriptor table
 * @avail: guest physical address of the available (driver) ring
 * @used: guest physical address of the used (device) ring
 * @errp: gets the error
 *
 * The addresses are checked when the queue is enabled (netbe_vnet_queue_enable()).
 *
 * Return: false when @vq does not exist, @size is wrong or the queue is enabled.
 */
NETBE_API bool netbe_vnet_queue_setup(NetbeDevice *dev, unsigned vq, unsigned size, uint64_t desc,
                                      uint64_t avail, uint64_t used, GError **errp);
/**
 * netbe_vnet_queue_enable() - enable (queue_enable = 1) or disable a queue.
 * @dev: the device
 * @vq: the virtqueue
 * @enable: enable it, or disable it
 *
 * An enabled queue's rings must be in guest memory and aligned, else the device needs a
 * reset. Disabling drains the queue (see netbe_vnet_queue_get_base()); enabling it again
 * (same rings) resumes where it stopped.
 */
NETBE_API void netbe_vnet_queue_enable(NetbeDevice *dev, unsigned vq, bool enable);

/**
 * netbe_vnet_queue_set_base() - the next available index the device processes on @vq.
 * @dev: the device
 * @vq: the virtqueue; it must be disabled
 * @last_avail: the index
 * @errp: gets the error
 *
 * At the next enable the device takes its used index from the used ring in guest memory
 * (used->idx), as vhost does. A device reset forgets it.
 *
 * Return: false if the queue is enabled or does not exist.
 */
NETBE_API bool netbe_vnet_queue_set_base(NetbeDevice *dev, unsigned vq, uint16_t last_avail,
                                         GError **errp);
/**
 * netbe_vnet_queue_get_base() - the next available index of @vq.
 * @dev: the device
 * @vq: the virtqueue
 * @last_avail: gets the index
 *
 * Disabling a queue (netbe_vnet_queue_enable(dev, vq, false)) first gives back RX chains
 * popped but not used and publishes used entries, so after a disable the base counts
 * exactly the chains the device completed.
 *
 * Return: false if no such queue.
 */
NETBE_API bool netbe_vnet_queue_get_base(NetbeDevice *dev, unsigned vq, uint16_t *last_avail);

/* Page size of the dirty log: one bit per NETBE_VNET_LOG_PAGE bytes of guest memory. */
#define NETBE_VNET_LOG_PAGE 4096
/**
 * netbe_vnet_set_dirty_log() - log the guest pages the device writes in a dirty bitmap.
 * @dev: the device
 * @log: the bitmap; NULL stops logging. It stays the caller's and must stay mapped until
 *   replaced.
 * @size: bytes of @log; a write to a page beyond it is not logged and warned about once
 *
 * While @log is set, every byte the device writes into guest memory (RX buffer contents
 * it wrote, control queue answers, used ring elements, used idx, used flags and
 * avail_event) sets bit (gpa / 4096) of @log: byte gpa/4096/8, bit (gpa/4096)%8, set
 * atomically (__atomic_fetch_or) after the write. Reads (TX) are not logged. A device
 * reset keeps the log.
 */
NETBE_API void netbe_vnet_set_dirty_log(NetbeDevice *dev, void *log, uint64_t size);

/**
 * netbe_vnet_queue_kick() - the driver notified queue @vq. Safe from any thread.
 * @dev: the device, bound by netbe_runtime_find_device()
 * @vq: the virtqueue
 */
NETBE_API void netbe_vnet_queue_kick(NetbeDevice *dev, unsigned vq);
/**
 * netbe_vnet_queue_get_kick_fd() - the eventfd the device watches for kicks of @vq.
 * @dev: the device
 * @vq: the virtqueue
 *
 * Return: the fd (owned by the device), -1 if none.
 */
NETBE_API int netbe_vnet_queue_get_kick_fd(NetbeDevice *dev, unsigned vq);
/**
 * netbe_vnet_queue_set_kick_fd() - watch the VMM's ioeventfd for kicks of @vq instead.
 * @dev: the device
 * @vq: the virtqueue
 * @fd: the ioeventfd; duplicated
 * @errp: gets the error
 *
 * Return: false if there is no such queue or @fd cannot be duplicated.
 */
NETBE_API bool netbe_vnet_queue_set_kick_fd(NetbeDevice *dev, unsigned vq, int fd, GError **errp);
/**
 * netbe_vnet_queue_set_call_fd() - signal used buffers of @vq by writing an eventfd.
 * @dev: the device
 * @vq: the virtqueue
 * @fd: the eventfd (an irqfd; duplicated) written instead of calling notify_queue; -1 goes
 *   back to the hook
 * @errp: gets the error
 *
 * Return: false if there is no such queue or @fd cannot be duplicated.
 */
NETBE_API bool netbe_vnet_queue_set_call_fd(NetbeDevice *dev, unsigned vq, int fd, GError **errp);

/**
 * netbe_vnet_config_read() - the driver reads the config space.
 * @dev: the device
 * @offset: where, in bytes (NETBE_VIRTIO_NET_CFG_*)
 * @buf: gets @len bytes
 * @len: bytes to read; bytes outside the space read zeros
 */
NETBE_API void netbe_vnet_config_read(NetbeDevice *dev, unsigned offset, void *buf, size_t len);
/**
 * netbe_vnet_config_write() - the driver writes the config space: ignored.
 * @dev: the device
 * @offset: where, in bytes
 * @buf: the bytes
 * @len: their number
 *
 * Every field is read-only for a VERSION_1 driver (the MAC changes through the control
 * queue).
 */
NETBE_API void netbe_vnet_config_write(NetbeDevice *dev, unsigned offset, const void *buf,
                                       size_t len);

/**
 * netbe_vnet_set_link() - the link state reported in config status.
 * @dev: the device
 * @up: link up
 *
 * A change raises the config interrupt.
 */
NETBE_API void netbe_vnet_set_link(NetbeDevice *dev, bool up);

/**
 * netbe_vnet_get_queue_stats() - the counters of virtqueue @vq.
 * @dev: the device
 * @vq: the virtqueue
 * @out: gets the counters
 *
 * Return: false if there is no such queue.
 */
NETBE_API bool netbe_vnet_get_queue_stats(NetbeDevice *dev, unsigned vq, NetbeVnetQueueStats *out);

/* ---- For a VMM that runs the control queue itself (vhost-user front-ends) ---- */

/**
 * netbe_vnet_set_queue_pairs() - the number of queue pairs the driver uses.
 * @dev: the device
 * @pairs: what a VIRTIO_NET_CTRL_MQ command would set
 * @errp: gets the error
 *
 * Return: false when @pairs is 0, above the maximum, or above 1 without VIRTIO_NET_F_MQ.
 */
NETBE_API bool netbe_vnet_set_queue_pairs(NetbeDevice *dev, unsigned pairs, GError **errp);
/**
 * netbe_vnet_send_rarp() - announce @mac to the network after the guest moved.
 * @dev: the device
 * @mac: the guest's MAC address
 * @errp: gets the error
 *
 * Sends one RARP broadcast through the device's backend (what QEMU sends for a guest
 * without VIRTIO_NET_F_GUEST_ANNOUNCE).
 *
 * Return: false if the backend is not connected or refused it.
 */
NETBE_API bool netbe_vnet_send_rarp(NetbeDevice *dev, const uint8_t mac[6], GError **errp);

#ifdef __cplusplus
}
#endif
#endif /* NETBE_VIRTIO_NET_H */
