// SPDX-License-Identifier: GPL-2.0-or-later
/* test-tap-tso.c - a 64 KiB TCP GSO frame sent through the tap plugin reaches a socket whole. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netns.h"
#include "tap-frames.h"
#include "tap-harness.h"
#include "tap-test-util.h"

#define FRAME_LEN 65536 /* the GSO frame, Ethernet header included, vnet header not */
#define PAYLOAD_LEN (FRAME_LEN - TAP_ETH_HLEN - TAP_IP4_HLEN - TAP_TCP_HLEN)
#define GSO_SIZE 1448
#define ISS 1000u
#define NS_ADDR 0x0a4d0001u   /* 10.77.0.1, the listener in the namespace */
#define PEER_ADDR 0x0a4d0002u /* 10.77.0.2, played by the test through the TAP */

typedef struct TsoTest {
    TapHarness *h;
    TapTcpFlow out; /* test -> namespace */
    bool synack;
    uint32_t server_isn;
    int listener, conn;
    uint8_t *received;
    size_t received_len;
} TsoTest;

/* Frames from the namespace: look for the listener's SYN-ACK. */
static void tso_on_frame(void *opaque, unsigned queue, const uint8_t *frame, size_t len)
{
    TsoTest *t = opaque;
    TapTcpFlow f;
    uint32_t seq, ack;
    uint8_t flags;
    size_t plen;

    if (len < TAP_VNET_HDR_V1_LEN ||
        !tap_frame_parse_tcp4(frame + TAP_VNET_HDR_V1_LEN, len - TAP_VNET_HDR_V1_LEN, &f, &seq,
                              &ack, &flags, &plen)) {
        return;
    }
    if (f.sport == t->out.dport && f.dport == t->out.sport &&
        (flags & (TAP_TCP_SYN | TAP_TCP_ACK)) == (TAP_TCP_SYN | TAP_TCP_ACK) && ack == ISS + 1) {
        t->synack = true;
        t->server_isn = seq;
    }
}

static bool synack_seen(void *opaque)
{
    return ((TsoTest *)opaque)->synack;
}

static bool accepted(void *opaque)
{
    TsoTest *t = opaque;

    t->conn = accept4(t->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return t->conn >= 0;
}

static bool payload_read(void *opaque)
{
    TsoTest *t = opaque;
    ssize_t n;

    while ((n = recv(t->conn, t->received + t->received_len, PAYLOAD_LEN + 1 - t->received_len,
                     0)) > 0) {
        t->received_len += (size_t)n;
    }
    return t->received_len >= PAYLOAD_LEN;
}

/* A listening TCP socket on 10.77.0.1:5001 in namespace @ns, non-blocking. */
static int listen_in(const char *ns)
{
    int saved = test_netns_enter(ns);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(5001), .sin_addr.s_addr = htonl(NS_ADDR)};
    int rcvbuf = 4 << 20;

    g_assert_cmpint(saved, >=, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), ==, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    test_netns_leave(saved);
    return fd;
}

/* Send one frame: a 12-byte vnet header (no offload) and an Ethernet frame. */
static void send_plain(TsoTest *t, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *opts,
                       size_t optlen)
{
    uint8_t buf[128];
    size_t len;

    tap_vnet_hdr_v1(buf, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
    len = tap_frame_tcp4(buf + TAP_VNET_HDR_V1_LEN, &t->out, seq, ack, flags, opts, optlen, NULL, 0,
                         false);
    g_assert_cmpint(tap_harness_send(t->h, 0, buf, TAP_VNET_HDR_V1_LEN + len, 2000), ==,
                    (ssize_t)(TAP_VNET_HDR_V1_LEN + len));
}

/*
 * The test plays the remote TCP endpoint through the TAP: SYN, ACK, then one 64 KiB
 * frame with a vnet header asking for TCPv4 segmentation (gso_size 1448) and checksum
 * completion. The listener in the namespace must read exactly that payload, and the
 * TAP must have taken it as one frame. Fails if the plugin drops, splits, truncates
 * or shifts the vnet header or the frame, or if set_vnet_hdr_len/set_offloads do not
 * reach the kernel (the frame would then be misparsed and never reach the socket).
 */
static void test_gso_frame_reaches_socket(void)
{
    static const uint8_t mss_opt[4] = {2, 4, 0x05, 0xb4}; /* MSS 1460 */
    g_autofree char *ifname = tap_test_ifname("t");
    g_autofree char *config = NULL;
    g_autofree char *ns = NULL;
    g_autofree uint8_t *gso = NULL;
    g_autofree uint8_t *payload = NULL;
    g_autoptr(GError) err = NULL;
    TsoTest t = {.listener = -1, .conn = -1};
    NetbeCaps caps = {0};
    size_t len;

    if (!test_need_root_net()) {
        return;
    }
    config = g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\nvnet_hdr = on\n", ifname);
    t.h = tap_harness_new(config, "t", &err);
    g_assert_no_error(err);
    t.h->on_frame = tso_on_frame;
    t.h->opaque = &t;

    /* negotiate like virtio-net with VERSION_1 and guest TSO */
    netbe_backend_get_caps(t.h->be, &caps);
    g_assert_true(caps.flags & NETBE_CAP_VNET_HDR);
    g_assert_true(caps.offloads & NETBE_OFFLOAD_TSO4);
    g_assert_true(netbe_backend_set_vnet_hdr_len(t.h->be, TAP_VNET_HDR_V1_LEN, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_backend_set_offloads(
        t.h->be, NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_TSO4 | NETBE_OFFLOAD_TSO6, &err));
    g_assert_no_error(err);

    ns = test_netns_create("tso");
    tap_test_move(ifname, ns, "02:00:00:00:00:01", "10.77.0.1/24");
    g_assert_cmpint(test_sh("ip -n %s neigh add 10.77.0.2 lladdr 02:00:00:00:00:02 dev %s "
                            "nud permanent",
                            ns, ifname),
                    ==, 0);
    t.listener = listen_in(ns);

    t.out = (TapTcpFlow){.src_mac = {2, 0, 0, 0, 0, 2},
                         .dst_mac = {2, 0, 0, 0, 0, 1},
                         .saddr = PEER_ADDR,
                         .daddr = NS_ADDR,
                         .sport = 40000,
                         .dport = 5001};
    send_plain(&t, ISS, 0, TAP_TCP_SYN, mss_opt, sizeof(mss_opt));
    g_assert_true(tap_harness_run_until(t.h, synack_seen, &t, 3000));
    send_plain(&t, ISS + 1, t.server_isn + 1, TAP_TCP_ACK, NULL, 0);
    g_assert_true(tap_harness_run_until(t.h, accepted, &t, 3000));

    payload = g_malloc(PAYLOAD_LEN);
    for (size_t i = 0; i < PAYLOAD_LEN; i++) {
        payload[i] = (uint8_t)(i * 7 + (i >> 8));
    }
    gso = g_malloc(TAP_VNET_HDR_V1_LEN + FRAME_LEN);
    tap_vnet_hdr_v1(gso, VIRTIO_NET_HDR_GSO_TCPV4, TAP_ETH_HLEN + TAP_IP4_HLEN + TAP_TCP_HLEN,
                    GSO_SIZE, TAP_ETH_HLEN + TAP_IP4_HLEN, 16);
    len = tap_frame_tcp4(gso + TAP_VNET_HDR_V1_LEN, &t.out, ISS + 1, t.server_isn + 1,
                         TAP_TCP_ACK | TAP_TCP_PSH, NULL, 0, payload, PAYLOAD_LEN, true);
    g_assert_cmpuint(len, ==, FRAME_LEN);
    g_assert_cmpint(tap_harness_send(t.h, 0, gso, TAP_VNET_HDR_V1_LEN + len, 2000), ==,
                    (ssize_t)(TAP_VNET_HDR_V1_LEN + len));

    t.received = g_malloc(PAYLOAD_LEN + 1);
    g_assert_true(tap_harness_run_until(t.h, payload_read, &t, 5000));
    g_assert_cmpuint(t.received_len, ==, PAYLOAD_LEN);
    g_assert_cmpmem(t.received, PAYLOAD_LEN, payload, PAYLOAD_LEN);
    /* SYN, ACK and the whole 64 KiB as one frame: the kernel counted three */
    g_assert_cmpint(tap_test_kernel_counter(ns, ifname, "rx_packets"), ==, 3);
    g_assert_cmpint(tap_test_kernel_counter(ns, ifname, "rx_bytes"), >=, FRAME_LEN);

    close(t.conn);
    close(t.listener);
    g_free(t.received);
    tap_harness_free(t.h);
    test_netns_delete(ns);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tap/tso/gso-frame-reaches-socket", test_gso_frame_reaches_socket);
    return g_test_run();
}
