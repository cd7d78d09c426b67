// SPDX-License-Identifier: GPL-2.0-or-later
/* tap-frames.c - build Ethernet/IPv4/TCP frames and virtio-net headers for tap tests. */
#include <arpa/inet.h>
#include <string.h>
#include "tap-frames.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* One's complement sum of big-endian 16-bit words, not folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (; len > 1; p += 2, len -= 2) {
        sum += get16(p);
    }
    if (len) {
        sum += (uint32_t)p[0] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

size_t tap_frame_tcp4(uint8_t *buf, const TapTcpFlow *f, uint32_t seq, uint32_t ack, uint8_t flags,
                      const uint8_t *opts, size_t optlen, const uint8_t *payload, size_t len,
                      bool partial_csum)
{
    uint8_t *ip = buf + TAP_ETH_HLEN;
    uint8_t *tcp = ip + TAP_IP4_HLEN;
    size_t tcp_len = TAP_TCP_HLEN + optlen + len;
    uint32_t sum;

    memcpy(buf, f->dst_mac, 6);
    memcpy(buf + 6, f->src_mac, 6);
    put16(buf + 12, 0x0800);

    memset(ip, 0, TAP_IP4_HLEN);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(TAP_IP4_HLEN + tcp_len));
    put16(ip + 4, (uint16_t)(seq & 0xffff)); /* id */
    put16(ip + 6, 0x4000);                   /* DF */
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, f->saddr);
    put32(ip + 16, f->daddr);
    put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, TAP_IP4_HLEN)));

    memset(tcp, 0, TAP_TCP_HLEN);
    put16(tcp, f->sport);
    put16(tcp + 2, f->dport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = (uint8_t)(((TAP_TCP_HLEN + optlen) / 4) << 4);
    tcp[13] = flags;
    put16(tcp + 14, 65535); /* window */
    if (optlen) {
        memcpy(tcp + TAP_TCP_HLEN, opts, optlen);
    }
    if (len) {
        memcpy(tcp + TAP_TCP_HLEN + optlen, payload, len);
    }

    /* pseudo header: addresses, protocol, TCP length */
    sum = csum_add(0, ip + 12, 8) + 6 + (uint32_t)tcp_len;
    if (partial_csum) {
        put16(tcp + 16, csum_fold(sum));
    } else {
        put16(tcp + 16, (uint16_t)~csum_fold(csum_add(sum, tcp, tcp_len)));
    }
    return TAP_ETH_HLEN + TAP_IP4_HLEN + tcp_len;
}

void tap_vnet_hdr_v1(uint8_t *hdr, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
                     uint16_t csum_start, uint16_t csum_offset)
{
    uint16_t le[5] = {hdr_len, gso_size, csum_start, csum_offset, 0};

    hdr[0] = csum_start ? 1 : 0; /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
    hdr[1] = gso_type;
    for (int i = 0; i < 5; i++) {
        hdr[2 + 2 * i] = le[i] & 0xff;
        hdr[3 + 2 * i] = le[i] >> 8;
    }
}

bool tap_frame_parse_tcp4(const uint8_t *frame, size_t len, TapTcpFlow *f, uint32_t *seq,
                          uint32_t *ack, uint8_t *flags, size_t *payload_len)
{
    const uint8_t *ip = frame + TAP_ETH_HLEN;
    const uint8_t *tcp;
    size_t ihl, thl, tot;

    if (len < TAP_ETH_HLEN + TAP_IP4_HLEN + TAP_TCP_HLEN || get16(frame + 12) != 0x0800 ||
        (ip[0] >> 4) != 4 || ip[9] != 6) {
        return false;
    }
    ihl = (size_t)(ip[0] & 0xf) * 4;
    tot = get16(ip + 2);
    tcp = ip + ihl;
    thl = (size_t)(tcp[12] >> 4) * 4;
    if (ihl < TAP_IP4_HLEN || TAP_ETH_HLEN + tot > len || tot < ihl + thl) {
        return false;
    }
    memcpy(f->dst_mac, frame, 6);
    memcpy(f->src_mac, frame + 6, 6);
    f->saddr = get32(ip + 12);
    f->daddr = get32(ip + 16);
    f->sport = get16(tcp);
    f->dport = get16(tcp + 2);
    *seq = get32(tcp + 4);
    *ack = get32(tcp + 8);
    *flags = tcp[13];
    *payload_len = tot - ihl - thl;
    return true;
}
