// SPDX-License-Identifier: GPL-2.0-or-later
/* guest-frames.c - test helpers: build and parse the Ethernet frames a guest exchanges. */
#include <arpa/inet.h>
#include <string.h>
#include "guest-frames.h"

#define ETH_HLEN 14
#define IP_HLEN 20
#define IP6_HLEN 40
#define UDP_HLEN 8
#define TCP_HLEN 20
#define BOOTP_LEN 236
#define DHCP_MAGIC 0x63825363u

const uint8_t gf_broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void put8(GByteArray *b, uint8_t v)
{
    g_byte_array_append(b, &v, 1);
}

static void put16(GByteArray *b, uint16_t v)
{
    uint8_t x[2] = {v >> 8, v & 0xff};

    g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

static void put_bytes(GByteArray *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, n);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void set16(GByteArray *b, size_t off, uint16_t v)
{
    b->data[off] = v >> 8;
    b->data[off + 1] = v & 0xff;
}

/* One's complement sum of @len bytes, added to @sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += get16(p + i);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Sum of the IPv4 pseudo-header for @proto over @len bytes. */
static uint32_t pseudo4(struct in_addr src, struct in_addr dst, uint8_t proto, size_t len)
{
    uint32_t sum = 0;

    sum = csum_add(sum, (const uint8_t *)&src, 4);
    sum = csum_add(sum, (const uint8_t *)&dst, 4);
    return sum + proto + (uint32_t)len;
}

static uint32_t pseudo6(const struct in6_addr *src, const struct in6_addr *dst, uint8_t next,
                        size_t len)
{
    uint32_t sum = 0;

    sum = csum_add(sum, src->s6_addr, 16);
    sum = csum_add(sum, dst->s6_addr, 16);
    return sum + next + (uint32_t)len;
}

struct in_addr gf_ip(const char *text)
{
    struct in_addr a;

    g_assert_cmpint(inet_pton(AF_INET, text, &a), ==, 1);
    return a;
}

static GByteArray *eth(const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    GByteArray *b = g_byte_array_new();

    put_bytes(b, dst, 6);
    put_bytes(b, src, 6);
    put16(b, type);
    return b;
}

static GByteArray *arp(uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
                       struct in_addr spa, const uint8_t tha[6], struct in_addr tpa)
{
    GByteArray *b = eth(eth_dst, sha, GF_ETH_ARP);

    put16(b, 1); /* Ethernet */
    put16(b, GF_ETH_IPV4);
    put8(b, 6);
    put8(b, 4);
    put16(b, op);
    put_bytes(b, sha, 6);
    put_bytes(b, &spa, 4);
    put_bytes(b, tha, 6);
    put_bytes(b, &tpa, 4);
    return b;
}

GByteArray *gf_arp_request(const uint8_t sha[6], struct in_addr spa, struct in_addr target)
{
    static const uint8_t zero[6];

    return arp(1, gf_broadcast_mac, sha, spa, zero, target);
}

GByteArray *gf_arp_reply(const uint8_t sha[6], struct in_addr spa, const uint8_t tha[6],
                         struct in_addr tpa)
{
    return arp(2, tha, sha, spa, tha, tpa);
}

/* Append an IPv4 header for @payload_len bytes of @proto; checksum filled. */
static void ip4_header(GByteArray *b, struct in_addr src, struct in_addr dst, uint8_t proto,
                       size_t payload_len)
{
    size_t off = b->len;

    put8(b, 0x45);
    put8(b, 0);
    put16(b, IP_HLEN + payload_len);
    put16(b, g_random_int() & 0xffff);
    put16(b, 0x4000); /* DF */
    put8(b, 64);
    put8(b, proto);
    put16(b, 0);
    put_bytes(b, &src, 4);
    put_bytes(b, &dst, 4);
    set16(b, off + 10, csum_fold(csum_add(0, b->data + off, IP_HLEN)));
}

GByteArray *gf_udp(const uint8_t src_mac[6], const uint8_t dst_mac[6], struct in_addr src,
                   uint16_t sport, struct in_addr dst, uint16_t dport, const void *data, size_t len)
{
    GByteArray *b = eth(dst_mac, src_mac, GF_ETH_IPV4);
    size_t off;
    uint16_t sum;

    ip4_header(b, src, dst, IPPROTO_UDP, UDP_HLEN + len);
    off = b->len;
    put16(b, sport);
    put16(b, dport);
    put16(b, UDP_HLEN + len);
    put16(b, 0);
    put_bytes(b, data, len);
    sum = csum_fold(
        csum_add(pseudo4(src, dst, IPPROTO_UDP, UDP_HLEN + len), b->data + off, UDP_HLEN + len));
    set16(b, off + 6, sum ? sum : 0xffff);
    return b;
}

GByteArray *gf_dhcp(const uint8_t mac[6], uint32_t xid, uint8_t type, struct in_addr requested,
                    struct in_addr server)
{
    g_autoptr(GByteArray) msg = g_byte_array_new();
    static const uint8_t zero[BOOTP_LEN];
    struct in_addr any = {0}, bcast = {.s_addr = htonl(INADDR_BROADCAST)};

    put_bytes(msg, zero, BOOTP_LEN);
    msg->data[0] = 1; /* BOOTREQUEST */
    msg->data[1] = 1; /* Ethernet */
    msg->data[2] = 6;
    msg->data[4] = xid >> 24;
    msg->data[5] = xid >> 16;
    msg->data[6] = xid >> 8;
    msg->data[7] = xid;
    memcpy(msg->data + 28, mac, 6);
    put32(msg, DHCP_MAGIC);
    put8(msg, 53);
    put8(msg, 1);
    put8(msg, type);
    if (requested.s_addr) {
        put8(msg, 50);
        put8(msg, 4);
        put_bytes(msg, &requested, 4);
    }
    if (server.s_addr) {
        put8(msg, 54);
        put8(msg, 4);
        put_bytes(msg, &server, 4);
    }
    put8(msg, 255);
    return gf_udp(mac, gf_broadcast_mac, any, 68, bcast, 67, msg->data, msg->len);
}

const uint8_t *gf_dhcp_option(const GfFrame *f, uint8_t code, size_t *len)
{
    const uint8_t *p = f->payload, *end = f->payload + f->payload_len;

    if (f->payload_len < BOOTP_LEN + 4 || get32(p + BOOTP_LEN) != DHCP_MAGIC) {
        return NULL;
    }
    for (p += BOOTP_LEN + 4; p < end && *p != 255;) {
        if (*p == 0) {
            p++;
            continue;
        }
        if (p + 2 > end || p + 2 + p[1] > end) {
            return NULL;
        }
        if (p[0] == code) {
            *len = p[1];
            return p + 2;
        }
        p += 2 + p[1];
    }
    return NULL;
}

uint8_t gf_dhcp_type(const GfFrame *f)
{
    size_t len;
    const uint8_t *v = gf_dhcp_option(f, 53, &len);

    return v && len == 1 ? v[0] : 0;
}

uint32_t gf_dhcp_xid(const GfFrame *f)
{
    return f->payload_len >= BOOTP_LEN ? get32(f->payload + 4) : 0;
}

struct in_addr gf_dhcp_yiaddr(const GfFrame *f)
{
    struct in_addr a = {0};

    if (f->payload_len >= BOOTP_LEN) {
        memcpy(&a, f->payload + 16, 4);
    }
    return a;
}

const char *gf_dhcp_file(const GfFrame *f)
{
    if (f->payload_len < BOOTP_LEN || !memchr(f->payload + 108, 0, 128)) {
        return NULL;
    }
    return (const char *)f->payload + 108;
}

const uint8_t *gf_dhcp_chaddr(const GfFrame *f)
{
    return f->payload_len >= BOOTP_LEN ? f->payload + 28 : NULL;
}

GByteArray *gf_icmp_echo(const uint8_t src_mac[6], const uint8_t dst_mac[6], struct in_addr src,
                         struct in_addr dst, uint16_t id, uint16_t seq, const void *data,
                         size_t len)
{
    GByteArray *b = eth(dst_mac, src_mac, GF_ETH_IPV4);
    size_t off;

    ip4_header(b, src, dst, IPPROTO_ICMP, 8 + len);
    off = b->len;
    put8(b, 8);
    put8(b, 0);
    put16(b, 0);
    put16(b, id);
    put16(b, seq);
    put_bytes(b, data, len);
    set16(b, off + 2, csum_fold(csum_add(0, b->data + off, 8 + len)));
    return b;
}

/* fe80::/64 with the modified EUI-64 of @mac. */
static struct in6_addr link_local(const uint8_t mac[6])
{
    struct in6_addr a = {0};

    a.s6_addr[0] = 0xfe;
    a.s6_addr[1] = 0x80;
    a.s6_addr[8] = mac[0] ^ 2;
    a.s6_addr[9] = mac[1];
    a.s6_addr[10] = mac[2];
    a.s6_addr[11] = 0xff;
    a.s6_addr[12] = 0xfe;
    a.s6_addr[13] = mac[3];
    a.s6_addr[14] = mac[4];
    a.s6_addr[15] = mac[5];
    return a;
}

GByteArray *gf_router_solicitation(const uint8_t mac[6])
{
    static const uint8_t all_routers_mac[6] = {0x33, 0x33, 0, 0, 0, 2};
    struct in6_addr src = link_local(mac), dst = {0};
    GByteArray *b = eth(all_routers_mac, mac, GF_ETH_IPV6);
    size_t off;
    const size_t len = 16; /* type, code, csum, reserved; source link-layer option */

    dst.s6_addr[0] = 0xff;
    dst.s6_addr[1] = 0x02;
    dst.s6_addr[15] = 2;
    put32(b, 0x60000000);
    put16(b, len);
    put8(b, IPPROTO_ICMPV6);
    put8(b, 255);
    put_bytes(b, &src, 16);
    put_bytes(b, &dst, 16);
    off = b->len;
    put8(b, 133);
    put8(b, 0);
    put16(b, 0);
    put32(b, 0);
    put8(b, 1); /* source link-layer address */
    put8(b, 1);
    put_bytes(b, mac, 6);
    set16(b, off + 2,
          csum_fold(csum_add(pseudo6(&src, &dst, IPPROTO_ICMPV6, len), b->data + off, len)));
    return b;
}

bool gf_ra_prefix(const GfFrame *f, struct in6_addr *prefix, uint8_t *len)
{
    const uint8_t *p, *end;

    if (f->ethertype != GF_ETH_IPV6 || f->ip6_next != IPPROTO_ICMPV6 || f->icmp_type != 134 ||
        f->l4_len < 16) {
        return false;
    }
    end = f->l4 + f->l4_len;
    for (p = f->l4 + 16; p + 2 <= end && p[1] && p + p[1] * 8 <= end; p += p[1] * 8) {
        if (p[0] == 3 && p[1] == 4) {
            *len = p[2];
            memcpy(prefix, p + 16, 16);
            return true;
        }
    }
    return false;
}

GByteArray *gf_tcp_segment(GfTcp *t, uint8_t flags, const void *data, size_t len)
{
    GByteArray *b = eth(t->peer_mac, t->mac, GF_ETH_IPV4);
    size_t off;

    ip4_header(b, t->ip, t->peer_ip, IPPROTO_TCP, TCP_HLEN + len);
    off = b->len;
    put16(b, t->port);
    put16(b, t->peer_port);
    put32(b, t->snd_nxt);
    put32(b, flags & GF_TCP_ACK ? t->rcv_nxt : 0);
    put8(b, (TCP_HLEN / 4) << 4);
    put8(b, flags);
    put16(b, 65535);
    put16(b, 0);
    put16(b, 0);
    put_bytes(b, data, len);
    set16(b, off + 16,
          csum_fold(csum_add(pseudo4(t->ip, t->peer_ip, IPPROTO_TCP, TCP_HLEN + len), b->data + off,
                             TCP_HLEN + len)));
    t->snd_nxt += len + (flags & GF_TCP_SYN ? 1 : 0) + (flags & GF_TCP_FIN ? 1 : 0);
    return b;
}

bool gf_tcp_is_mine(const GfTcp *t, const GfFrame *f)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_TCP &&
           f->ip_src.s_addr == t->peer_ip.s_addr && f->ip_dst.s_addr == t->ip.s_addr &&
           f->sport == t->peer_port && f->dport == t->port;
}

static void parse_l4(GfFrame *f, uint32_t pseudo_sum, bool v6)
{
    const uint8_t *p = f->l4;
    uint8_t proto = v6 ? f->ip6_next : f->ip_proto;

    if (proto == IPPROTO_UDP && f->l4_len >= UDP_HLEN) {
        f->sport = get16(p);
        f->dport = get16(p + 2);
        f->payload = p + UDP_HLEN;
        f->payload_len = MIN(f->l4_len, get16(p + 4)) - UDP_HLEN;
        f->l4_csum_ok = get16(p + 6) == 0 || csum_fold(csum_add(pseudo_sum, p, f->l4_len)) == 0;
    } else if (proto == IPPROTO_TCP && f->l4_len >= TCP_HLEN) {
        size_t hlen = (p[12] >> 4) * 4;

        f->sport = get16(p);
        f->dport = get16(p + 2);
        f->seq = get32(p + 4);
        f->ack = get32(p + 8);
        f->tcp_flags = p[13];
        f->window = get16(p + 14);
        f->payload = p + MIN(hlen, f->l4_len);
        f->payload_len = f->l4_len - MIN(hlen, f->l4_len);
        f->l4_csum_ok = csum_fold(csum_add(pseudo_sum, p, f->l4_len)) == 0;
    } else if ((proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) && f->l4_len >= 8) {
        f->icmp_type = p[0];
        f->icmp_code = p[1];
        f->icmp_id = get16(p + 4);
        f->icmp_seq = get16(p + 6);
        f->payload = p + 8;
        f->payload_len = f->l4_len - 8;
        f->l4_csum_ok = csum_fold(csum_add(v6 ? pseudo_sum : 0, p, f->l4_len)) == 0;
    }
}

bool gf_parse(GfFrame *f, const uint8_t *data, size_t len)
{
    const uint8_t *p = data + ETH_HLEN;

    memset(f, 0, sizeof(*f));
    if (len < ETH_HLEN) {
        return false;
    }
    f->dst_mac = data;
    f->src_mac = data + 6;
    f->ethertype = get16(data + 12);
    len -= ETH_HLEN;
    if (f->ethertype == GF_ETH_ARP && len >= 28) {
        f->arp_op = get16(p + 6);
        f->arp_sha = p + 8;
        memcpy(&f->arp_spa, p + 14, 4);
        memcpy(&f->arp_tpa, p + 24, 4);
    } else if (f->ethertype == GF_ETH_IPV4 && len >= IP_HLEN) {
        size_t hlen = (p[0] & 0xf) * 4, total = MIN(get16(p + 2), len);

        if (hlen < IP_HLEN || total < hlen) {
            return true;
        }
        f->ip_proto = p[9];
        memcpy(&f->ip_src, p + 12, 4);
        memcpy(&f->ip_dst, p + 16, 4);
        f->ip_csum_ok = csum_fold(csum_add(0, p, hlen)) == 0;
        f->l4 = p + hlen;
        f->l4_len = total - hlen;
        parse_l4(f, pseudo4(f->ip_src, f->ip_dst, f->ip_proto, f->l4_len), false);
    } else if (f->ethertype == GF_ETH_IPV6 && len >= IP6_HLEN) {
        f->ip6_next = p[6];
        f->ip6_hlim = p[7];
        memcpy(&f->ip6_src, p + 8, 16);
        memcpy(&f->ip6_dst, p + 24, 16);
        f->l4 = p + IP6_HLEN;
        f->l4_len = MIN((size_t)get16(p + 4), len - IP6_HLEN);
        parse_l4(f, pseudo6(&f->ip6_src, &f->ip6_dst, f->ip6_next, f->l4_len), true);
    }
    return true;
}
