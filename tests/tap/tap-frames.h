/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap-frames.h - build Ethernet/IPv4/TCP frames and virtio-net headers for tap tests. */
#ifndef NETBE_TAP_FRAMES_H
#define NETBE_TAP_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAP_ETH_HLEN 14
#define TAP_IP4_HLEN 20
#define TAP_TCP_HLEN 20
#define TAP_VNET_HDR_V1_LEN 12 /* struct virtio_net_hdr_v1 */

#define TAP_TCP_FIN 0x01
#define TAP_TCP_SYN 0x02
#define TAP_TCP_PSH 0x08
#define TAP_TCP_ACK 0x10

/* One direction of a TCP/IPv4 connection; addresses and ports in host order. */
typedef struct TapTcpFlow {
    uint8_t src_mac[6], dst_mac[6];
    uint32_t saddr, daddr;
    uint16_t sport, dport;
} TapTcpFlow;

/*
 * tap_frame_tcp4() - write an Ethernet + IPv4 + TCP frame to @buf.
 * @opts/@optlen: TCP options (multiple of 4 bytes)
 * @partial_csum: leave the TCP checksum as the pseudo-header sum for the device to
 *                finish (virtio NEEDS_CSUM / GSO); otherwise compute it in full
 * Return: frame length.
 */
size_t tap_frame_tcp4(uint8_t *buf, const TapTcpFlow *f, uint32_t seq, uint32_t ack, uint8_t flags,
                      const uint8_t *opts, size_t optlen, const uint8_t *payload, size_t len,
                      bool partial_csum);

/*
 * tap_vnet_hdr_v1() - write a 12-byte virtio-net header (little-endian fields).
 * @gso_type: VIRTIO_NET_HDR_GSO_* (0: none); with NEEDS_CSUM when @csum_start != 0
 */
void tap_vnet_hdr_v1(uint8_t *hdr, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
                     uint16_t csum_start, uint16_t csum_offset);

/*
 * tap_frame_parse_tcp4() - if @frame is TCP/IPv4, fill the flow as seen by its sender,
 * seq, ack, flags and payload length. Return: false otherwise.
 */
bool tap_frame_parse_tcp4(const uint8_t *frame, size_t len, TapTcpFlow *f, uint32_t *seq,
                          uint32_t *ack, uint8_t *flags, size_t *payload_len);

#endif /* NETBE_TAP_FRAMES_H */
