// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-vmm-ctrl.c - calls for a VMM that runs the control queue itself (vhost-user
 * front-ends): the active queue pairs, and the RARP that announces the guest. */
#include <errno.h>
#include <string.h>
#include "vnet-priv.h"

#define ETH_P_RARP 0x8035
#define RARP_FRAME_LEN 60 /* 14 + 28, padded to the Ethernet minimum */

bool netbe_vnet_set_queue_pairs(NetbeDevice *dev, unsigned pairs, GError **errp)
{
    VnetDev *vd = dev->vnet;
    unsigned max = vd && vnet_has(vd, NETBE_VIRTIO_NET_F_MQ) ? vd->max_pairs : 1;

    if (!vd || pairs < 1 || pairs > max) {
        g_set_error(errp, VNET_ERROR, EINVAL, "device '%s': %u queue pairs (allowed: 1..%u%s)",
                    dev->id, pairs, max, max == 1 ? ", VIRTIO_NET_F_MQ not negotiated" : "");
        return false;
    }
    if (pairs != vd->curr_pairs) {
        vnet_set_pairs(vd, pairs);
    }
    return true;
}

/* A reverse ARP request "who is @mac", from @mac, to everyone (RFC 903), as QEMU sends. */
static void rarp_build(uint8_t frame[RARP_FRAME_LEN], const uint8_t mac[6])
{
    static const uint8_t arp_head[8] = {0, 1, 8, 0, 6, 4, 0, 3}; /* Ethernet, IPv4, op 3 */

    memset(frame, 0, RARP_FRAME_LEN);
    memset(frame, 0xff, 6);
    memcpy(frame + 6, mac, 6);
    frame[12] = ETH_P_RARP >> 8;
    frame[13] = ETH_P_RARP & 0xff;
    memcpy(frame + 14, arp_head, sizeof(arp_head));
    memcpy(frame + 22, mac, 6); /* sender hardware address */
    memcpy(frame + 32, mac, 6); /* target hardware address; protocol addresses stay 0 */
}

bool netbe_vnet_send_rarp(NetbeDevice *dev, const uint8_t mac[6], GError **errp)
{
    VnetDev *vd = dev->vnet;
    uint8_t hdr[VNET_HDR_MAX] = {0};
    uint8_t frame[RARP_FRAME_LEN];
    struct iovec iov[2];

    if (!vd || !netbe_device_is_connected(dev)) {
        g_set_error(errp, VNET_ERROR, ENOTCONN,
                    "device '%s': no connected backend for the "
                    "announcement",
                    dev->id);
        return false;
    }
    rarp_build(frame, mac);
    iov[0] = (struct iovec){.iov_base = hdr, .iov_len = vd->be_hdr};
    iov[1] = (struct iovec){.iov_base = frame, .iov_len = sizeof(frame)};
    if (netbe_backend_send(vd->be, 0, iov + !vd->be_hdr, 1 + !!vd->be_hdr, true) < 0) {
        g_set_error(errp, VNET_ERROR, EIO,
                    "device '%s': netdev '%s' did not take the RARP "
                    "announcement",
                    dev->id, vd->be->id);
        return false;
    }
    return true;
}
