// SPDX-License-Identifier: GPL-2.0-or-later
/* test-user-net.c - the user backend as a guest sees it: DHCP, ARP, ping, TCP and UDP
 * through slirp's NAT to listeners on 127.0.0.1, hostfwd into the guest, restrict,
 * IPv6 router advertisements, timers, pause, and no fd left behind. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "host-proc.h"
#include "netns.h"
#include "plugin-dir.h"
#include "user-net.h"

#define WAIT_MS 5000

/* ---- matchers ---- */

static bool is_dhcp_reply(const GfFrame *f, void *data)
{
    const uint32_t *xid = data;

    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_UDP && f->sport == 67 &&
           f->dport == 68 && gf_dhcp_xid(f) == *xid;
}

static bool is_arp_reply_from(const GfFrame *f, void *data)
{
    const struct in_addr *who = data;

    return f->ethertype == GF_ETH_ARP && f->arp_op == 2 && f->arp_spa.s_addr == who->s_addr;
}

static bool is_echo_reply(const GfFrame *f, void *data)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_ICMP && f->icmp_type == 0 &&
           f->icmp_id == *(const uint16_t *)data;
}

static bool is_router_advertisement(const GfFrame *f, void *data)
{
    return f->ethertype == GF_ETH_IPV6 && f->ip6_next == IPPROTO_ICMPV6 && f->icmp_type == 134;
}

static bool is_tcp_of(const GfFrame *f, void *data)
{
    return gf_tcp_is_mine(data, f);
}

static bool is_tcp_data_of(const GfFrame *f, void *data)
{
    return gf_tcp_is_mine(data, f) && f->payload_len > 0;
}

static bool is_tcp_fin_of(const GfFrame *f, void *data)
{
    return gf_tcp_is_mine(data, f) && (f->tcp_flags & GF_TCP_FIN);
}

/* A SYN towards the guest, from anyone: data is the guest port. */
static bool is_syn_to_port(const GfFrame *f, void *data)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_TCP &&
           f->dport == *(const uint16_t *)data && f->tcp_flags == GF_TCP_SYN;
}

static bool is_udp_to_port(const GfFrame *f, void *data)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_UDP &&
           f->dport == *(const uint16_t *)data;
}

static GfFrame parse(GBytes *b)
{
    GfFrame f;
    size_t len;
    const uint8_t *p = g_bytes_get_data(b, &len);

    g_assert_true(gf_parse(&f, p, len));
    return f;
}

static void assert_payload(const GfFrame *f, const char *text)
{
    g_assert_cmpmem(f->payload, f->payload_len, text, strlen(text));
}

/* ---- helpers ---- */

/* ARP for @ip; Return: the MAC slirp answers with (copied to @mac). */
static void arp_resolve(UserNet *n, const char *ip, uint8_t mac[6])
{
    struct in_addr who = gf_ip(ip);
    g_autoptr(GBytes) reply = NULL;
    GfFrame f;

    user_net_send(n, gf_arp_request(n->mac, n->ip, who));
    reply = user_net_wait(n, is_arp_reply_from, &who, WAIT_MS);
    g_assert_nonnull(reply);
    f = parse(reply);
    g_assert_cmpmem(f.dst_mac, 6, n->mac, 6);
    g_assert_cmpuint(f.arp_tpa.s_addr, ==, n->ip.s_addr);
    memcpy(mac, f.arp_sha, 6);
}

/* A guest connection from 10.0.2.15:@port to @gw:@peer_port, set up to ESTABLISHED. */
static GfTcp tcp_open(UserNet *n, const char *gw, uint16_t port, uint16_t peer_port)
{
    GfTcp t = {
        .ip = n->ip, .peer_ip = gf_ip(gw), .port = port, .peer_port = peer_port, .snd_nxt = 1000};
    g_autoptr(GBytes) synack = NULL;
    GfFrame f;

    memcpy(t.mac, n->mac, 6);
    arp_resolve(n, gw, t.peer_mac);
    user_net_send(n, gf_tcp_segment(&t, GF_TCP_SYN, NULL, 0));
    synack = user_net_wait(n, is_tcp_of, &t, WAIT_MS);
    g_assert_nonnull(synack);
    f = parse(synack);
    g_assert_cmphex(f.tcp_flags, ==, GF_TCP_SYN | GF_TCP_ACK);
    g_assert_cmpuint(f.ack, ==, t.snd_nxt);
    g_assert_true(f.ip_csum_ok);
    g_assert_true(f.l4_csum_ok);
    t.rcv_nxt = f.seq + 1;
    user_net_send(n, gf_tcp_segment(&t, GF_TCP_ACK, NULL, 0));
    return t;
}

static int accept_within(UserNet *n, int listener)
{
    int fd;

    g_assert_true(user_net_wait_fd(n, listener, G_IO_IN, WAIT_MS));
    fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

static void read_exactly(UserNet *n, int fd, const char *want)
{
    char buf[256];
    size_t got = 0, len = strlen(want);

    while (got < len) {
        ssize_t r;

        g_assert_true(user_net_wait_fd(n, fd, G_IO_IN, WAIT_MS));
        r = read(fd, buf + got, sizeof(buf) - got);
        g_assert_cmpint(r, >, 0);
        got += r;
    }
    g_assert_cmpmem(buf, got, want, len);
}

/* ---- tests ---- */

/* DISCOVER -> OFFER with the defaults QEMU users know. Fails if the offer is missing, is
 * for another address, or names another router, DNS server or netmask. */
static void test_dhcp_discover_gets_offer_with_defaults(void)
{
    UserNet *n = user_net_new("", "10.0.2.15");
    uint32_t xid = 0x1234abcd;
    g_autoptr(GBytes) offer = NULL;
    const uint8_t *v;
    size_t len;
    GfFrame f;

    user_net_send(n, gf_dhcp(n->mac, xid, 1, (struct in_addr){0}, (struct in_addr){0}));
    offer = user_net_wait(n, is_dhcp_reply, &xid, WAIT_MS);
    g_assert_nonnull(offer);
    f = parse(offer);
    g_assert_true(f.l4_csum_ok);
    g_assert_cmpuint(gf_dhcp_type(&f), ==, 2);
    g_assert_cmpuint(gf_dhcp_yiaddr(&f).s_addr, ==, gf_ip("10.0.2.15").s_addr);
    g_assert_cmpmem(gf_dhcp_chaddr(&f), 6, n->mac, 6);
    v = gf_dhcp_option(&f, 3, &len); /* router */
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, &(struct in_addr){gf_ip("10.0.2.2").s_addr}, 4);
    v = gf_dhcp_option(&f, 6, &len); /* DNS */
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, &(struct in_addr){gf_ip("10.0.2.3").s_addr}, 4);
    v = gf_dhcp_option(&f, 1, &len); /* netmask */
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, &(struct in_addr){gf_ip("255.255.255.0").s_addr}, 4);
    user_net_free(n);
}

/* A whole DISCOVER/OFFER/REQUEST/ACK with every DHCP-visible option changed. Fails if
 * any option is ignored: wrong lease, router, DNS, netmask, host name or search list. */
static void test_dhcp_lease_follows_custom_options(void)
{
    UserNet *n = user_net_new("net = 192.168.76.0/25\nhost = 192.168.76.1\n"
                              "dhcpstart = 192.168.76.100\ndns = 192.168.76.53\n"
                              "hostname = guest7\ndomainname = example.test\n"
                              "dnssearch = a.test, b.example.test\n",
                              "192.168.76.100");
    uint32_t xid = 0x55aa0001;
    struct in_addr lease = gf_ip("192.168.76.100"), server = gf_ip("192.168.76.1");
    g_autoptr(GBytes) offer = NULL, ack = NULL;
    const uint8_t *v;
    size_t len;
    GfFrame f;

    user_net_send(n, gf_dhcp(n->mac, xid, 1, (struct in_addr){0}, (struct in_addr){0}));
    offer = user_net_wait(n, is_dhcp_reply, &xid, WAIT_MS);
    g_assert_nonnull(offer);
    f = parse(offer);
    g_assert_cmpuint(gf_dhcp_type(&f), ==, 2);
    g_assert_cmpuint(gf_dhcp_yiaddr(&f).s_addr, ==, lease.s_addr);

    user_net_send(n, gf_dhcp(n->mac, xid, 3, lease, server));
    ack = user_net_wait(n, is_dhcp_reply, &xid, WAIT_MS);
    g_assert_nonnull(ack);
    f = parse(ack);
    g_assert_cmpuint(gf_dhcp_type(&f), ==, 5);
    g_assert_cmpuint(gf_dhcp_yiaddr(&f).s_addr, ==, lease.s_addr);
    v = gf_dhcp_option(&f, 3, &len);
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, &server, 4);
    v = gf_dhcp_option(&f, 6, &len);
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, &(struct in_addr){gf_ip("192.168.76.53").s_addr}, 4);
    v = gf_dhcp_option(&f, 1, &len);
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, &(struct in_addr){gf_ip("255.255.255.128").s_addr}, 4);
    v = gf_dhcp_option(&f, 12, &len);
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, "guest7", 6);
    v = gf_dhcp_option(&f, 15, &len);
    g_assert_nonnull(v);
    g_assert_cmpmem(v, len, "example.test", 12);
    v = gf_dhcp_option(&f, 119, &len); /* RFC 1035 labels: \x01a\x04test\0 ... */
    g_assert_nonnull(v);
    g_assert_cmpuint(len, >=, 8);
    g_assert_cmpmem(v, 8, "\001a\004test\000", 8);
    user_net_free(n);
}

/* dhcp = off: slirp stays silent. Fails if a reply comes anyway. */
static void test_dhcp_off_gets_no_reply(void)
{
    UserNet *n = user_net_new("dhcp = off", "10.0.2.15");
    uint32_t xid = 77;
    g_autoptr(GBytes) reply = NULL;

    user_net_send(n, gf_dhcp(n->mac, xid, 1, (struct in_addr){0}, (struct in_addr){0}));
    reply = user_net_wait(n, is_dhcp_reply, &xid, 300);
    g_assert_null(reply);
    user_net_free(n);
}

/* ARP for the gateway and the DNS address is answered, for a stranger it is not.
 * Fails if slirp's addresses are not resolvable or if it claims every address. */
static void test_arp_for_gateway_and_dns_is_answered(void)
{
    UserNet *n = user_net_new("", "10.0.2.15");
    struct in_addr stranger = gf_ip("10.0.2.99");
    g_autoptr(GBytes) none = NULL;
    uint8_t gw[6], dns[6];

    arp_resolve(n, "10.0.2.2", gw);
    arp_resolve(n, "10.0.2.3", dns);
    g_assert_false(gw[0] & 1);
    user_net_send(n, gf_arp_request(n->mac, n->ip, stranger));
    none = user_net_wait(n, is_arp_reply_from, &stranger, 300);
    g_assert_null(none);
    user_net_free(n);
}

/* Ping to the gateway comes back with the same id, sequence and data. Fails if slirp
 * does not answer, or changes the data, or the checksums are wrong. */
static void test_ping_to_gateway_is_answered(void)
{
    UserNet *n = user_net_new("", "10.0.2.15");
    const char data[] = "netbe-user ping payload 0123456789";
    uint16_t id = 0x4242;
    g_autoptr(GBytes) reply = NULL;
    uint8_t gw[6];
    GfFrame f;

    arp_resolve(n, "10.0.2.2", gw);
    user_net_send(n, gf_icmp_echo(n->mac, gw, n->ip, gf_ip("10.0.2.2"), id, 7, data, sizeof(data)));
    reply = user_net_wait(n, is_echo_reply, &id, WAIT_MS);
    g_assert_nonnull(reply);
    f = parse(reply);
    g_assert_cmpuint(f.ip_src.s_addr, ==, gf_ip("10.0.2.2").s_addr);
    g_assert_cmpuint(f.ip_dst.s_addr, ==, n->ip.s_addr);
    g_assert_cmpuint(f.icmp_seq, ==, 7);
    g_assert_true(f.ip_csum_ok);
    g_assert_true(f.l4_csum_ok);
    g_assert_cmpmem(f.payload, f.payload_len, data, sizeof(data));
    user_net_free(n);
}

/*
 * The guest's TCP connection to 10.0.2.2:PORT reaches a listener on 127.0.0.1:PORT and
 * carries data both ways, then closes. Fails if the handshake, either direction of
 * data, the acknowledgement of the guest's data, or the FIN does not come through.
 */
static void test_guest_tcp_reaches_host_listener(void)
{
    UserNet *n = user_net_new("", "10.0.2.15");
    uint16_t port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    GfTcp t = tcp_open(n, "10.0.2.2", 40001, port);
    int conn = accept_within(n, listener);
    g_autoptr(GBytes) ack = NULL, data = NULL, fin = NULL;
    GfFrame f;

    user_net_send(n, gf_tcp_segment(&t, GF_TCP_ACK, "guest says hi", 13));
    read_exactly(n, conn, "guest says hi");
    ack = user_net_wait(n, is_tcp_of, &t, WAIT_MS);
    g_assert_nonnull(ack);
    f = parse(ack);
    g_assert_cmpuint(f.ack, ==, t.snd_nxt);

    g_assert_cmpint(write(conn, "host answers", 12), ==, 12);
    data = user_net_wait(n, is_tcp_data_of, &t, WAIT_MS);
    g_assert_nonnull(data);
    f = parse(data);
    g_assert_true(f.l4_csum_ok);
    g_assert_cmpuint(f.seq, ==, t.rcv_nxt);
    assert_payload(&f, "host answers");
    t.rcv_nxt += f.payload_len;
    user_net_send(n, gf_tcp_segment(&t, GF_TCP_ACK, NULL, 0));

    close(conn);
    fin = user_net_wait(n, is_tcp_fin_of, &t, WAIT_MS);
    g_assert_nonnull(fin);
    g_assert_cmpuint(parse(fin).seq, ==, t.rcv_nxt);
    close(listener);
    user_net_free(n);
}

static bool is_udp_from_port(const GfFrame *f, void *data)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_UDP &&
           f->sport == *(const uint16_t *)data;
}

/* tftp and bootfile: DHCP names the boot file and the built-in TFTP server hands out
 * the file from the directory. Fails if either option is ignored or the data differ. */
static void test_tftp_serves_bootfile_named_by_dhcp(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("netbe-tftp-XXXXXX", &err);
    g_autofree char *file = g_build_filename(dir, "boot.txt", NULL);
    g_autofree char *opts = g_strdup_printf("tftp = %s\nbootfile = boot.txt", dir);
    static const char rrq[] = "\0\001boot.txt\0octet";
    uint16_t tftp_port = 69;
    uint32_t xid = 99;
    g_autoptr(GBytes) offer = NULL, data = NULL;
    UserNet *n;
    uint8_t gw[6];
    GfFrame f;

    g_assert_no_error(err);
    g_assert_true(g_file_set_contents(file, "tftp payload 42", -1, NULL));
    n = user_net_new(opts, "10.0.2.15");
    user_net_send(n, gf_dhcp(n->mac, xid, 1, (struct in_addr){0}, (struct in_addr){0}));
    offer = user_net_wait(n, is_dhcp_reply, &xid, WAIT_MS);
    g_assert_nonnull(offer);
    f = parse(offer);
    g_assert_cmpstr(gf_dhcp_file(&f), ==, "boot.txt");

    arp_resolve(n, "10.0.2.2", gw);
    user_net_send(n, gf_udp(n->mac, gw, n->ip, 2000, gf_ip("10.0.2.2"), 69, rrq, sizeof(rrq)));
    data = user_net_wait(n, is_udp_from_port, &tftp_port, WAIT_MS);
    g_assert_nonnull(data);
    f = parse(data);
    g_assert_cmpuint(f.dport, ==, 2000);
    g_assert_cmpmem(f.payload, MIN(f.payload_len, 4), "\0\003\0\001", 4); /* DATA, block 1 */
    g_assert_cmpmem(f.payload + 4, f.payload_len - 4, "tftp payload 42", 15);
    user_net_free(n);
    g_unlink(file);
    g_rmdir(dir);
}

/* A guest UDP datagram to 10.0.2.2:PORT reaches 127.0.0.1:PORT and the answer comes
 * back. Fails if either direction is lost or the payloads differ. */
static void test_guest_udp_reaches_host_and_back(void)
{
    UserNet *n = user_net_new("", "10.0.2.15");
    uint16_t port, guest_port = 5353;
    int sock = user_net_loopback_socket(SOCK_DGRAM, &port);
    struct sockaddr_in from;
    socklen_t fromlen = sizeof(from);
    g_autoptr(GBytes) reply = NULL;
    char buf[64];
    uint8_t gw[6];
    ssize_t r;
    GfFrame f;

    arp_resolve(n, "10.0.2.2", gw);
    user_net_send(
        n, gf_udp(n->mac, gw, n->ip, guest_port, gf_ip("10.0.2.2"), port, "udp from guest", 14));
    g_assert_true(user_net_wait_fd(n, sock, G_IO_IN, WAIT_MS));
    r = recvfrom(sock, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
    g_assert_cmpmem(buf, r, "udp from guest", 14);
    g_assert_cmpint(sendto(sock, "udp from host", 13, 0, (struct sockaddr *)&from, fromlen), ==,
                    13);
    reply = user_net_wait(n, is_udp_to_port, &guest_port, WAIT_MS);
    g_assert_nonnull(reply);
    f = parse(reply);
    assert_payload(&f, "udp from host");
    g_assert_cmpuint(f.ip_src.s_addr, ==, gf_ip("10.0.2.2").s_addr);
    close(sock);
    user_net_free(n);
}

/* The guest receives @len bytes in order, acknowledging every segment (duplicates when
 * one is missing). Return: bytes that arrived in order, each checked against @want. */
static size_t guest_receive(UserNet *n, GfTcp *t, const uint8_t *want, size_t len, int secs)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)secs * G_USEC_PER_SEC;
    uint32_t start = t->rcv_nxt;

    while (t->rcv_nxt - start < len && g_get_monotonic_time() < deadline) {
        g_autoptr(GBytes) seg = user_net_wait(n, is_tcp_data_of, t, 1000);
        GfFrame f;

        if (!seg) {
            continue;
        }
        f = parse(seg);
        if (f.seq == t->rcv_nxt) {
            g_assert_cmpuint(t->rcv_nxt - start + f.payload_len, <=, len);
            g_assert_cmpmem(f.payload, f.payload_len, want + (t->rcv_nxt - start), f.payload_len);
            t->rcv_nxt += f.payload_len;
        }
        user_net_send(n, gf_tcp_segment(t, GF_TCP_ACK, NULL, 0));
    }
    return t->rcv_nxt - start;
}

static void write_all(int fd, const uint8_t *data, size_t len)
{
    while (len) {
        ssize_t w = write(fd, data, len);

        g_assert_cmpint(w, >, 0);
        data += w;
        len -= w;
    }
}

/*
 * The guest's port stops taking frames while the host sends 64 KiB: the hub queues a few
 * and drops the rest (counted), then the port takes frames again and slirp's TCP
 * retransmits until every byte has arrived in order. Fails if drops go uncounted, if the
 * plugin or slirp stalls after losing frames, or if data is lost or corrupted.
 */
static void test_frames_dropped_at_busy_guest_are_recovered_by_tcp(void)
{
    UserNet *n = user_net_new_full("queue_limit = 4", "", "10.0.2.15");
    uint16_t port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    GfTcp t = tcp_open(n, "10.0.2.2", 40010, port);
    int conn = accept_within(n, listener);
    const size_t total = 64 * 1024;
    g_autofree uint8_t *data = g_malloc(total);

    for (size_t i = 0; i < total; i++) {
        data[i] = (uint8_t)(i * 7 + i / 251);
    }
    /* warm up: slow start opens slirp's congestion window */
    for (int round = 0; round < 4; round++) {
        write_all(conn, data, total);
        g_assert_cmpuint(guest_receive(n, &t, data, total, 10), ==, total);
    }
    n->set_busy("wire", true);
    write_all(conn, data, total);
    user_net_run_for(n, 300);
    g_assert_cmpuint(user_net_stats(n, "wire").tx_drops, >, 0);
    n->set_busy("wire", false);
    g_assert_cmpuint(guest_receive(n, &t, data, total, 20), ==, total);
    close(conn);
    close(listener);
    user_net_free(n);
}

/* A host connection to a tcp hostfwd port arrives in the guest as a SYN for the guest's
 * address and port, and once the guest accepts, data flows both ways. Fails if the rule
 * is not installed, points elsewhere, or the connection does not carry data. */
static void test_hostfwd_tcp_reaches_guest(void)
{
    uint16_t port, guest_port = 2222;
    int probe = user_net_loopback_socket(SOCK_STREAM, &port);
    g_autofree char *opts = NULL;
    UserNet *n;
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(0), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_autoptr(GBytes) syn = NULL, data = NULL;
    GfTcp t = {.port = guest_port};
    int conn;
    GfFrame f;

    close(probe); /* the port was free a moment ago; the rule takes it now */
    opts = g_strdup_printf("hostfwd = tcp:127.0.0.1:%u-:%u", port, guest_port);
    n = user_net_new(opts, "10.0.2.15");
    conn = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sin.sin_port = htons(port);
    g_assert_true(connect(conn, (struct sockaddr *)&sin, sizeof(sin)) == 0 || errno == EINPROGRESS);
    syn = user_net_wait(n, is_syn_to_port, &guest_port, WAIT_MS);
    g_assert_nonnull(syn);
    f = parse(syn);
    g_assert_cmpuint(f.ip_dst.s_addr, ==, gf_ip("10.0.2.15").s_addr);
    g_assert_cmpmem(f.dst_mac, 6, n->mac, 6);
    memcpy(t.mac, n->mac, 6);
    memcpy(t.peer_mac, f.src_mac, 6);
    t.ip = f.ip_dst;
    t.peer_ip = f.ip_src;
    t.peer_port = f.sport;
    t.snd_nxt = 5000;
    t.rcv_nxt = f.seq + 1;
    user_net_send(n, gf_tcp_segment(&t, GF_TCP_SYN | GF_TCP_ACK, NULL, 0));

    g_assert_true(user_net_wait_fd(n, conn, G_IO_OUT, WAIT_MS));
    g_assert_cmpint(write(conn, "into the guest", 14), ==, 14);
    data = user_net_wait(n, is_tcp_data_of, &t, WAIT_MS);
    g_assert_nonnull(data);
    f = parse(data);
    assert_payload(&f, "into the guest");
    t.rcv_nxt += f.payload_len;
    user_net_send(n, gf_tcp_segment(&t, GF_TCP_ACK | GF_TCP_PSH, "out of the guest", 16));
    read_exactly(n, conn, "out of the guest");
    close(conn);
    user_net_free(n);
}

/* A TCP connection to @addr (IPv4 or IPv6) port @port, run with @n until it connects or is
 * refused. Return: 0 once connected, else the errno. */
static int connect_within(UserNet *n, int family, const char *addr, uint16_t port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
    socklen_t elen = sizeof(err);

    if (family == AF_INET6) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    } else {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr);
    }
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
        err = errno;
    } else if (user_net_wait_fd(n, fd, G_IO_OUT, WAIT_MS)) {
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    } else {
        err = ETIMEDOUT;
    }
    close(fd);
    return err;
}

/* hostfwd-add on a running user netdev, IPv4 and IPv6: the host port accepts at once and
 * the connection reaches the guest as a SYN; hostfwd-del closes it again. Fails if a rule
 * added live does not listen, points elsewhere, stays after its removal, or a bad or
 * doubled rule is not refused. */
static void test_hostfwd_added_live(void)
{
    uint16_t port, port6, guest_port = 2223;
    int probe = user_net_loopback_socket(SOCK_STREAM, &port), probe6;
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len = sizeof(sin6);
    g_autofree char *rule = NULL, *rule6 = NULL, *host6 = NULL;
    g_autoptr(GBytes) syn = NULL;
    g_autoptr(GError) err = NULL;
    UserNet *n = user_net_new("", "10.0.2.15");

    probe6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(probe6, (struct sockaddr *)&sin6, sizeof(sin6)), ==, 0);
    g_assert_cmpint(getsockname(probe6, (struct sockaddr *)&sin6, &len), ==, 0);
    port6 = ntohs(sin6.sin6_port);
    close(probe);
    close(probe6);
    g_assert_cmpint(connect_within(n, AF_INET, "127.0.0.1", port), ==, ECONNREFUSED);

    rule = g_strdup_printf("tcp:127.0.0.1:%u-:%u", port, guest_port);
    g_assert_true(netbe_runtime_hostfwd_add(n->rt, "net0", rule, &err));
    g_assert_no_error(err);
    g_assert_cmpint(connect_within(n, AF_INET, "127.0.0.1", port), ==, 0);
    syn = user_net_wait(n, is_syn_to_port, &guest_port, WAIT_MS);
    g_assert_nonnull(syn);
    g_assert_cmpuint(parse(syn).ip_dst.s_addr, ==, gf_ip("10.0.2.15").s_addr);

    /* the same host port again, a bad rule, a netdev of another type: refused */
    g_assert_false(netbe_runtime_hostfwd_add(n->rt, "net0", rule, &err));
    g_assert_error(err, NETBE_BACKEND_ERROR, EADDRINUSE);
    g_clear_error(&err);
    g_assert_false(netbe_runtime_hostfwd_add(n->rt, "net0", "tcp::2222-10.0.9.9:22", &err));
    g_assert_nonnull(strstr(err->message, "guest address 10.0.9.9 is outside net"));
    g_clear_error(&err);
    g_assert_false(netbe_runtime_hostfwd_add(n->rt, "wire", "tcp::2222-:22", &err));
    g_assert_error(err, NETBE_BACKEND_ERROR, ENOTSUP);
    g_clear_error(&err);

    rule6 = g_strdup_printf("tcp:[::1]:%u-[fec0::15]:%u", port6, guest_port);
    g_assert_true(netbe_runtime_hostfwd_add(n->rt, "net0", rule6, &err));
    g_assert_no_error(err);
    g_assert_cmpint(connect_within(n, AF_INET6, "::1", port6), ==, 0);

    host6 = g_strdup_printf("tcp:[::1]:%u", port6);
    g_assert_true(netbe_runtime_hostfwd_del(n->rt, "net0", host6, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_runtime_hostfwd_del(n->rt, "net0", rule, &err));
    g_assert_no_error(err);
    g_assert_cmpint(connect_within(n, AF_INET, "127.0.0.1", port), ==, ECONNREFUSED);
    g_assert_cmpint(connect_within(n, AF_INET6, "::1", port6), ==, ECONNREFUSED);
    g_assert_false(netbe_runtime_hostfwd_del(n->rt, "net0", rule, &err));
    g_assert_error(err, NETBE_BACKEND_ERROR, ENOENT);
    user_net_free(n);
}

/* A udp hostfwd rule: a datagram to 127.0.0.1:PORT reaches the guest's port. Fails if
 * the rule is ignored or the datagram is changed. */
static void test_hostfwd_udp_reaches_guest(void)
{
    uint16_t port, guest_port = 6000;
    int sock = user_net_loopback_socket(SOCK_DGRAM, &port);
    g_autofree char *opts = NULL;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_autoptr(GBytes) dgram = NULL;
    UserNet *n;
    GfFrame f;

    close(sock);
    opts = g_strdup_printf("hostfwd = tcp:127.0.0.1:%u-:22, udp:127.0.0.1:%u-10.0.2.16:%u", port,
                           port, guest_port);
    n = user_net_new(opts, "10.0.2.16");
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sin.sin_port = htons(port);
    g_assert_cmpint(sendto(sock, "datagram in", 11, 0, (struct sockaddr *)&sin, sizeof(sin)), ==,
                    11);
    dgram = user_net_wait(n, is_udp_to_port, &guest_port, WAIT_MS);
    g_assert_nonnull(dgram);
    f = parse(dgram);
    g_assert_cmpuint(f.ip_dst.s_addr, ==, gf_ip("10.0.2.16").s_addr);
    assert_payload(&f, "datagram in");
    close(sock);
    user_net_free(n);
}

/* restrict = on: a guest connection to the host is refused and never reaches the
 * listener. Fails if slirp connects out anyway. */
static void test_restrict_keeps_guest_from_host(void)
{
    UserNet *n = user_net_new("restrict = on", "10.0.2.15");
    uint16_t port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    GfTcp t = {
        .ip = n->ip, .peer_ip = gf_ip("10.0.2.2"), .port = 40002, .peer_port = port, .snd_nxt = 1};
    g_autoptr(GBytes) answer = NULL;

    memcpy(t.mac, n->mac, 6);
    arp_resolve(n, "10.0.2.2", t.peer_mac);
    user_net_send(n, gf_tcp_segment(&t, GF_TCP_SYN, NULL, 0));
    answer = user_net_wait(n, is_tcp_of, &t, 500);
    if (answer) {
        g_assert_false(parse(answer).tcp_flags & GF_TCP_SYN);
    }
    g_assert_false(user_net_wait_fd(n, listener, G_IO_IN, 300));
    g_assert_cmpint(accept(listener, NULL, NULL), <, 0);
    close(listener);
    user_net_free(n);
}

/* A router solicitation gets an advertisement of the configured prefix; with ipv6 = off
 * nothing answers. Fails if the prefix option is wrong or IPv6 cannot be turned off. */
static void test_ipv6_router_advertisement_follows_prefix(void)
{
    UserNet *n = user_net_new("ipv6_prefix = fd00:1234:5678::/64", "10.0.2.15");
    g_autoptr(GBytes) ra = NULL, none = NULL;
    struct in6_addr prefix, want;
    uint8_t len = 0;
    GfFrame f;

    user_net_send(n, gf_router_solicitation(n->mac));
    ra = user_net_wait(n, is_router_advertisement, NULL, WAIT_MS);
    g_assert_nonnull(ra);
    f = parse(ra);
    g_assert_true(f.l4_csum_ok);
    g_assert_true(gf_ra_prefix(&f, &prefix, &len));
    g_assert_cmpint(inet_pton(AF_INET6, "fd00:1234:5678::", &want), ==, 1);
    g_assert_cmpmem(&prefix, 16, &want, 16);
    g_assert_cmpuint(len, ==, 64);
    user_net_free(n);

    n = user_net_new("ipv6 = off", "10.0.2.15");
    user_net_send(n, gf_router_solicitation(n->mac));
    none = user_net_wait(n, is_router_advertisement, NULL, 300);
    g_assert_null(none);
    user_net_free(n);
}

/* The guest never acknowledges slirp's SYN-ACK: slirp sends it again after its
 * retransmission timeout. Only slirp's slow timer, driven through the GMainContext
 * with no socket or frame activity, can produce that second SYN-ACK. */
static void test_slirp_timers_retransmit_syn_ack(void)
{
    UserNet *n = user_net_new("", "10.0.2.15");
    uint16_t port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    GfTcp t = {
        .ip = n->ip, .peer_ip = gf_ip("10.0.2.2"), .port = 40003, .peer_port = port, .snd_nxt = 77};
    g_autoptr(GBytes) first = NULL, again = NULL;

    memcpy(t.mac, n->mac, 6);
    arp_resolve(n, "10.0.2.2", t.peer_mac);
    user_net_send(n, gf_tcp_segment(&t, GF_TCP_SYN, NULL, 0));
    first = user_net_wait(n, is_tcp_of, &t, WAIT_MS);
    g_assert_nonnull(first);
    g_assert_cmphex(parse(first).tcp_flags, ==, GF_TCP_SYN | GF_TCP_ACK);
    again = user_net_wait(n, is_tcp_of, &t, 10000);
    g_assert_nonnull(again);
    g_assert_cmphex(parse(again).tcp_flags, ==, GF_TCP_SYN | GF_TCP_ACK);
    g_assert_cmpuint(parse(again).seq, ==, parse(first).seq);
    close(listener);
    user_net_free(n);
}

/* While the runtime is stopped (poll off), data the host sends stays in the kernel: no
 * frame is made and none is dropped; after a restart it arrives. Fails if the plugin
 * keeps reading host sockets while paused, or never resumes. */
static void test_paused_backend_leaves_host_data_in_kernel(void)
{
    UserNet *n = user_net_new("", "10.0.2.15");
    uint16_t port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    GfTcp t = tcp_open(n, "10.0.2.2", 40004, port);
    int conn = accept_within(n, listener);
    g_autoptr(GBytes) early = NULL, data = NULL;
    g_autoptr(GError) err = NULL;
    NetbeQueueStats before;
    GfFrame f;

    user_net_run_for(n, 50);
    netbe_runtime_stop(n->rt);
    before = user_net_stats(n, "net0");
    g_assert_cmpint(write(conn, "held back", 9), ==, 9);
    early = user_net_wait(n, is_tcp_data_of, &t, 400);
    g_assert_null(early);
    g_assert_cmpuint(user_net_stats(n, "net0").rx_drops, ==, before.rx_drops);
    g_assert_cmpuint(user_net_stats(n, "net0").rx_frames, ==, before.rx_frames);

    g_assert_true(netbe_runtime_start(n->rt, &err));
    data = user_net_wait(n, is_tcp_data_of, &t, WAIT_MS);
    g_assert_nonnull(data);
    f = parse(data);
    assert_payload(&f, "held back");
    close(conn);
    close(listener);
    user_net_free(n);
}

/* A runtime with a user netdev, a hostfwd and an open NAT connection leaves no fd open
 * once freed. Fails if slirp's sockets, the hostfwd listener or a watch leak. */
static void test_free_closes_every_socket(void)
{
    int before = test_count_fds(0);
    uint16_t port, fwd_port;
    int listener = user_net_loopback_socket(SOCK_STREAM, &port);
    int probe = user_net_loopback_socket(SOCK_STREAM, &fwd_port);
    g_autofree char *opts = NULL;
    UserNet *n;
    int conn;

    close(probe);
    opts = g_strdup_printf("hostfwd = tcp:127.0.0.1:%u-:22", fwd_port);
    n = user_net_new(opts, "10.0.2.15");
    tcp_open(n, "10.0.2.2", 40005, port);
    conn = accept_within(n, listener);
    g_assert_cmpint(test_count_fds(0), >, before + 2);
    user_net_free(n);
    close(conn);
    close(listener);
    g_assert_cmpint(test_count_fds(0), ==, before);
}

/* net0's rx_frames from netbe-ctl's "stats --json", or -1. */
static gint64 host_rx_frames(TestHost *h, const char *netdev)
{
    g_autofree char *out = test_host_ctl(h, "stats --json");
    g_autofree char *pattern =
        g_strdup_printf("\"netdev\":\"%s\",\"queue\":0,[^}]*\"rx_frames\":([0-9]+)", netdev);
    g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    g_autofree char *num = NULL;

    if (!out || !g_regex_match(re, out, 0, &m)) {
        return -1;
    }
    num = g_match_info_fetch(m, 1);
    return g_ascii_strtoll(num, NULL, 10);
}

/* netbe-host runs a user netdev in a hub: a connection to its hostfwd port makes slirp
 * send frames to the guest side (counted on net0), and SIGTERM ends it cleanly. Fails if
 * slirp's sockets are not polled under the host's main loop, or the shutdown fails. */
static void test_netbe_host_polls_hostfwd(void)
{
    uint16_t port;
    int probe = user_net_loopback_socket(SOCK_STREAM, &port);
    g_autofree char *dir = user_net_plugin_dir();
    g_autofree char *path_arg = g_strdup_printf("--plugin-path=%s", dir);
    g_autofree char *config = g_strdup_printf("[netdev.wire]\ntype = fixture\n"
                                              "[netdev.net0]\ntype = user\n"
                                              "hostfwd = tcp:127.0.0.1:%u-:22\n"
                                              "[hub.h]\nports = wire, net0\n",
                                              port);
    const char *args[] = {path_arg, NULL};
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    gint64 deadline, rx_before, rx = -1;
    int conn, status;
    TestHost *h;

    close(probe);
    h = test_host_start(config, NULL, args);
    g_assert_nonnull(h);
    /* no assertion until the host is stopped: a failure must not leave it running */
    rx_before = host_rx_frames(h, "net0");
    conn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(conn, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
        deadline = g_get_monotonic_time() + WAIT_MS * 1000;
        while ((rx = host_rx_frames(h, "net0")) < 1 && g_get_monotonic_time() < deadline) {
            g_usleep(20000);
        }
    }
    close(conn);
    status = test_host_stop(h);
    test_host_free(h);
    test_plugin_dir_free(g_steal_pointer(&dir));
    g_assert_cmpint(rx_before, ==, 0);
    g_assert_cmpint(rx, >=, 1);
    g_assert_cmpint(status, ==, 0);
}

/* A deferred hub whose hostfwd port is taken fails to start and leaves nothing open;
 * once the port is free, starting again connects for real and the rule works. Fails if
 * a failed connect leaves a half-made slirp behind that a retry mistakes for connected. */
static void test_failed_connect_retries_for_real(void)
{
    uint16_t port, guest_port = 22;
    int busy = user_net_loopback_socket(SOCK_STREAM, &port);
    g_autofree char *dir = user_net_plugin_dir();
    g_autofree char *config = g_strdup_printf("[netdev.wire]\ntype = fixture\n"
                                              "[netdev.net0]\ntype = user\n"
                                              "hostfwd = tcp:127.0.0.1:%u-:22\n"
                                              "[hub.h]\nports = wire, net0\nconnect = deferred\n",
                                              port);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    UserNet n = {.dir = dir, .mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56}};
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) syn = NULL;
    int fds_failed, conn;

    n.rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    n.ip = gf_ip("10.0.2.15");
    n.backlog = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    netbe_runtime_set_plugin_path(n.rt, dir);
    g_assert_true(netbe_runtime_load_config_string(n.rt, config, "retry.ini", &err));
    n.inject = test_fixture_symbol(dir, "fixture_inject");
    n.take = test_fixture_symbol(dir, "fixture_take_sent");
    /* the fixture port connects (and keeps its fd) on the first try; the user port
     * fails every time and must leave nothing open */
    g_assert_false(netbe_runtime_start(n.rt, &err));
    g_clear_error(&err);
    fds_failed = test_count_fds(0);
    g_assert_false(netbe_runtime_start(n.rt, &err));
    g_assert_nonnull(strstr(err->message, "Address already in use"));
    g_clear_error(&err);
    g_assert_cmpint(test_count_fds(0), ==, fds_failed);

    close(busy);
    g_assert_true(netbe_runtime_start(n.rt, &err));
    g_assert_no_error(err);
    conn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(connect(conn, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    syn = user_net_wait(&n, is_syn_to_port, &guest_port, WAIT_MS);
    g_assert_nonnull(syn);
    close(conn);
    netbe_runtime_free(n.rt);
    g_ptr_array_unref(n.backlog);
    test_plugin_dir_free(g_steal_pointer(&dir));
}

/* Receive frames on @sock until one @match accepts; Return: it, or NULL after @ms. */
static GBytes *udp_wait_frame(int sock, UserNetMatch match, void *data, int ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    uint8_t buf[2048];

    while (g_get_monotonic_time() < deadline) {
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        ssize_t n;
        GfFrame f;

        if (poll(&pfd, 1, (int)((deadline - g_get_monotonic_time()) / 1000) + 1) <= 0) {
            continue;
        }
        n = recv(sock, buf, sizeof(buf), 0);
        if (n > 0 && gf_parse(&f, buf, n) && match(&f, data)) {
            return g_bytes_new(buf, n);
        }
    }
    return NULL;
}

/*
 * What a QEMU guest with "-netdev socket,udp=..." sees through netbe-host: frames over
 * UDP to a socket netdev hubbed with a user netdev get DHCP and ping answers back over
 * UDP. Fails if the user netdev does not work with the socket plugin in the reference
 * host (frames lost in either direction, wrong lease, no echo reply).
 */
static void test_guest_over_socket_udp_gets_dhcp_and_ping(void)
{
    g_autofree char *socket_so =
        g_build_filename(test_env_path("NETBE_PLUGIN_PATH"), "netbe-socket.so", NULL);
    uint16_t guest_port, host_port;
    int guest, probe;
    g_autofree char *dir = NULL, *path_arg = NULL, *config = NULL;
    g_autoptr(GBytes) offer = NULL, arp = NULL, echo = NULL;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct in_addr gw = gf_ip("10.0.2.2"), me = gf_ip("10.0.2.15");
    const char *args[] = {NULL, NULL};
    uint32_t xid = 0xfeed;
    uint16_t id = 99;
    GByteArray *frame;
    int status;
    TestHost *h;
    GfFrame f;

    if (!g_file_test(socket_so, G_FILE_TEST_EXISTS)) {
        g_test_skip("the socket plugin is not built");
        return;
    }
    guest = user_net_loopback_socket(SOCK_DGRAM, &guest_port);
    probe = user_net_loopback_socket(SOCK_DGRAM, &host_port);
    close(probe);
    dir = user_net_plugin_dir();
    g_assert_cmpint(
        test_sh("cp '%s' '%s/' && chmod 0755 '%s/netbe-socket.so'", socket_so, dir, dir), ==, 0);
    path_arg = g_strdup_printf("--plugin-path=%s", dir);
    args[0] = path_arg;
    config = g_strdup_printf("[netdev.vm]\ntype = socket\nudp = 127.0.0.1:%u\n"
                             "localaddr = 127.0.0.1:%u\n"
                             "[netdev.net0]\ntype = user\n"
                             "[hub.h]\nports = vm, net0\n",
                             guest_port, host_port);
    h = test_host_start(config, NULL, args);
    g_assert_nonnull(h);
    to.sin_port = htons(host_port);

    /* no assertion until the host is stopped: a failure must not leave it running */
    frame = gf_dhcp(user_net_guest_mac, xid, 1, (struct in_addr){0}, (struct in_addr){0});
    sendto(guest, frame->data, frame->len, 0, (struct sockaddr *)&to, sizeof(to));
    g_byte_array_unref(frame);
    offer = udp_wait_frame(guest, is_dhcp_reply, &xid, WAIT_MS);
    frame = gf_arp_request(user_net_guest_mac, me, gw);
    sendto(guest, frame->data, frame->len, 0, (struct sockaddr *)&to, sizeof(to));
    g_byte_array_unref(frame);
    arp = udp_wait_frame(guest, is_arp_reply_from, &gw, WAIT_MS);
    frame = gf_icmp_echo(user_net_guest_mac, gf_broadcast_mac, me, gw, id, 1, "over udp", 8);
    sendto(guest, frame->data, frame->len, 0, (struct sockaddr *)&to, sizeof(to));
    g_byte_array_unref(frame);
    echo = udp_wait_frame(guest, is_echo_reply, &id, WAIT_MS);
    status = test_host_stop(h);
    test_host_free(h);
    test_plugin_dir_free(g_steal_pointer(&dir));
    close(guest);

    g_assert_nonnull(offer);
    f = parse(offer);
    g_assert_cmpuint(gf_dhcp_type(&f), ==, 2);
    g_assert_cmpuint(gf_dhcp_yiaddr(&f).s_addr, ==, me.s_addr);
    g_assert_nonnull(arp);
    g_assert_nonnull(echo);
    g_assert_cmpint(status, ==, 0);
}

/* Run test @data with the runtime driven through its fd, as a VMM's epoll loop would. */
static void run_with_runtime_fd(gconstpointer data)
{
    GTestFunc test = (GTestFunc)data;

    user_net_use_runtime_fd(true);
    test();
    user_net_use_runtime_fd(false);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/user/runtime_fd/guest_tcp_reaches_host_listener",
                         (gconstpointer)test_guest_tcp_reaches_host_listener, run_with_runtime_fd);
    g_test_add_data_func("/user/runtime_fd/hostfwd_tcp_reaches_guest",
                         (gconstpointer)test_hostfwd_tcp_reaches_guest, run_with_runtime_fd);
    g_test_add_data_func("/user/runtime_fd/slirp_timers_retransmit_syn_ack",
                         (gconstpointer)test_slirp_timers_retransmit_syn_ack, run_with_runtime_fd);
    g_test_add_func("/user/dhcp_discover_gets_offer_with_defaults",
                    test_dhcp_discover_gets_offer_with_defaults);
    g_test_add_func("/user/dhcp_lease_follows_custom_options",
                    test_dhcp_lease_follows_custom_options);
    g_test_add_func("/user/dhcp_off_gets_no_reply", test_dhcp_off_gets_no_reply);
    g_test_add_func("/user/arp_for_gateway_and_dns_is_answered",
                    test_arp_for_gateway_and_dns_is_answered);
    g_test_add_func("/user/ping_to_gateway_is_answered", test_ping_to_gateway_is_answered);
    g_test_add_func("/user/guest_tcp_reaches_host_listener", test_guest_tcp_reaches_host_listener);
    g_test_add_func("/user/tftp_serves_bootfile_named_by_dhcp",
                    test_tftp_serves_bootfile_named_by_dhcp);
    g_test_add_func("/user/frames_dropped_at_busy_guest_are_recovered_by_tcp",
                    test_frames_dropped_at_busy_guest_are_recovered_by_tcp);
    g_test_add_func("/user/guest_udp_reaches_host_and_back", test_guest_udp_reaches_host_and_back);
    g_test_add_func("/user/hostfwd_tcp_reaches_guest", test_hostfwd_tcp_reaches_guest);
    g_test_add_func("/user/hostfwd_added_live", test_hostfwd_added_live);
    g_test_add_func("/user/hostfwd_udp_reaches_guest", test_hostfwd_udp_reaches_guest);
    g_test_add_func("/user/restrict_keeps_guest_from_host", test_restrict_keeps_guest_from_host);
    g_test_add_func("/user/ipv6_router_advertisement_follows_prefix",
                    test_ipv6_router_advertisement_follows_prefix);
    g_test_add_func("/user/slirp_timers_retransmit_syn_ack", test_slirp_timers_retransmit_syn_ack);
    g_test_add_func("/user/paused_backend_leaves_host_data_in_kernel",
                    test_paused_backend_leaves_host_data_in_kernel);
    g_test_add_func("/user/free_closes_every_socket", test_free_closes_every_socket);
    g_test_add_func("/user/failed_connect_retries_for_real", test_failed_connect_retries_for_real);
    g_test_add_func("/user/netbe_host_polls_hostfwd", test_netbe_host_polls_hostfwd);
    g_test_add_func("/user/guest_over_socket_udp_gets_dhcp_and_ping",
                    test_guest_over_socket_udp_gets_dhcp_and_ping);
    return g_test_run();
}
