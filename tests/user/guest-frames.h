/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guest-frames.h - test helpers: build and parse the Ethernet frames a guest exchanges
 * (ARP, DHCP, ICMP, ICMPv6 router solicitation, TCP, UDP), and play a guest's TCP. */
#ifndef NETBE_TEST_GUEST_FRAMES_H
#define NETBE_TEST_GUEST_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <glib.h>

#define GF_ETH_IPV4 0x0800
#define GF_ETH_ARP 0x0806
#define GF_ETH_IPV6 0x86dd

#define GF_TCP_FIN 0x01
#define GF_TCP_SYN 0x02
#define GF_TCP_RST 0x04
#define GF_TCP_PSH 0x08
#define GF_TCP_ACK 0x10

extern const uint8_t gf_broadcast_mac[6];

/**
 * struct GfFrame - a parsed frame; pointers point into the frame's bytes
 * @ethertype:          from the Ethernet header
 * @dst_mac, @src_mac:  Ethernet addresses
 * @arp_op, @arp_sha, @arp_spa, @arp_tpa: ARP operation, sender MAC and IP, target IP
 * @ip_src, @ip_dst, @ip_proto: IPv4 header; @ip_csum_ok if its checksum holds
 * @ip6_src, @ip6_dst, @ip6_next, @ip6_hlim: IPv6 header
 * @l4, @l4_len:        the IPv4/IPv6 payload
 * @sport, @dport:      UDP or TCP ports
 * @seq, @ack, @tcp_flags, @window: TCP header
 * @l4_csum_ok:         the UDP/TCP/ICMP(v6) checksum holds
 * @icmp_type, @icmp_code, @icmp_id, @icmp_seq: ICMP or ICMPv6
 * @payload, @payload_len: UDP/TCP data, or ICMP echo data
 */
typedef struct GfFrame {
    uint16_t ethertype;
    const uint8_t *dst_mac, *src_mac;
    uint16_t arp_op;
    const uint8_t *arp_sha;
    struct in_addr arp_spa, arp_tpa;
    struct in_addr ip_src, ip_dst;
    uint8_t ip_proto;
    bool ip_csum_ok;
    struct in6_addr ip6_src, ip6_dst;
    uint8_t ip6_next, ip6_hlim;
    const uint8_t *l4;
    size_t l4_len;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t tcp_flags;
    uint16_t window;
    bool l4_csum_ok;
    uint8_t icmp_type, icmp_code;
    uint16_t icmp_id, icmp_seq;
    const uint8_t *payload;
    size_t payload_len;
} GfFrame;

/* Parse @len bytes at @data. Return: false if it is not even an Ethernet frame. */
bool gf_parse(GfFrame *f, const uint8_t *data, size_t len);

/* An IPv4 address from text (asserts it parses). */
struct in_addr gf_ip(const char *text);

/* ARP request "who has @target, tell @spa" from @sha. */
GByteArray *gf_arp_request(const uint8_t sha[6], struct in_addr spa, struct in_addr target);
/* ARP reply "@spa is at @sha" to @tha/@tpa. */
GByteArray *gf_arp_reply(const uint8_t sha[6], struct in_addr spa, const uint8_t tha[6],
                         struct in_addr tpa);

/*
 * gf_dhcp() - a DHCP message from a client without an address (0.0.0.0:68 to
 * 255.255.255.255:67). @type: 1 DISCOVER, 3 REQUEST; @requested, @server: options
 * 50 and 54 when not 0.
 */
GByteArray *gf_dhcp(const uint8_t mac[6], uint32_t xid, uint8_t type, struct in_addr requested,
                    struct in_addr server);
/* The DHCP message type (option 53) of a parsed BOOTP reply, 0 if none. */
uint8_t gf_dhcp_type(const GfFrame *f);
/* Option @code of a parsed DHCP reply; its length in *len. NULL if absent. */
const uint8_t *gf_dhcp_option(const GfFrame *f, uint8_t code, size_t *len);
/* xid, yiaddr and chaddr of a parsed BOOTP reply. */
uint32_t gf_dhcp_xid(const GfFrame *f);
struct in_addr gf_dhcp_yiaddr(const GfFrame *f);
const uint8_t *gf_dhcp_chaddr(const GfFrame *f);
/* The boot file name (BOOTP file field, 128 bytes) of a parsed BOOTP reply, or NULL. */
const char *gf_dhcp_file(const GfFrame *f);

/* ICMP echo request @id/@seq with @data. */
GByteArray *gf_icmp_echo(const uint8_t src_mac[6], const uint8_t dst_mac[6], struct in_addr src,
                         struct in_addr dst, uint16_t id, uint16_t seq, const void *data,
                         size_t len);
/* ICMPv6 router solicitation from fe80::(from @mac) to ff02::2. */
GByteArray *gf_router_solicitation(const uint8_t mac[6]);
/* The prefix information option of a parsed router advertisement; false if none. */
bool gf_ra_prefix(const GfFrame *f, struct in6_addr *prefix, uint8_t *len);

/* UDP datagram. */
GByteArray *gf_udp(const uint8_t src_mac[6], const uint8_t dst_mac[6], struct in_addr src,
                   uint16_t sport, struct in_addr dst, uint16_t dport, const void *data,
                   size_t len);

/**
 * struct GfTcp - the guest's end of one TCP connection, played by the test
 * @mac, @peer_mac:  Ethernet addresses of the guest and of slirp
 * @ip, @peer_ip:    IPv4 addresses
 * @port, @peer_port: ports
 * @snd_nxt:         next sequence number the guest sends
 * @rcv_nxt:         next sequence number the guest expects (what it acknowledges)
 */
typedef struct GfTcp {
    uint8_t mac[6], peer_mac[6];
    struct in_addr ip, peer_ip;
    uint16_t port, peer_port;
    uint32_t snd_nxt, rcv_nxt;
} GfTcp;

/* A segment with seq = snd_nxt, ack = rcv_nxt; advances snd_nxt by what it carries. */
GByteArray *gf_tcp_segment(GfTcp *t, uint8_t flags, const void *data, size_t len);
/* True if parsed frame @f is a TCP segment of connection @t towards the guest. */
bool gf_tcp_is_mine(const GfTcp *t, const GfFrame *f);

#endif /* NETBE_TEST_GUEST_FRAMES_H */
