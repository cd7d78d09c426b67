// SPDX-License-Identifier: GPL-2.0-or-later
/* test-user-virtio.c - the user backend behind the virtio-net device, as a VMM embeds it:
 * a guest driver (tests/virtio/harness.c) gets a DHCP lease, pings the gateway and
 * receives a datagram that a hostfwd rule brings in from 127.0.0.1. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"
#include "host-proc.h"
#include "plugin-dir.h"
#include "user-net.h"

#define WAIT_MS 5000

typedef struct Rig {
    char *dir;
    NetbeRuntime *rt;
    VgGuest *g;
} Rig;

static Rig *rig_new(const char *options)
{
    Rig *r = g_new0(Rig, 1);
    g_autofree char *conf = g_strdup_printf("[netdev.net0]\ntype = user\n%s\n"
                                            "[device.d0]\nnetdev = net0\n"
                                            "mac = 52:54:00:12:34:56\n",
                                            options);
    g_autoptr(GError) err = NULL;

    r->dir = user_net_plugin_dir();
    r->rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(r->rt, r->dir);
    g_assert_true(netbe_runtime_load_config_string(r->rt, conf, "user-virtio.ini", &err));
    g_assert_no_error(err);
    r->g = vg_new(r->rt, "d0", NULL);
    memcpy(r->g->ip, (uint8_t[]){10, 0, 2, 15}, 4);
    return r;
}

static void rig_free(Rig *r)
{
    vg_free(r->g);
    netbe_runtime_free(r->rt);
    test_plugin_dir_free(r->dir);
    g_free(r);
}

static bool is_dhcp_offer(const uint8_t *frame, size_t len, void *opaque)
{
    GfFrame f;

    return gf_parse(&f, frame, len) && f.ethertype == GF_ETH_IPV4 && f.ip_proto == IPPROTO_UDP &&
           f.sport == 67 && gf_dhcp_xid(&f) == *(uint32_t *)opaque;
}

static bool is_udp_to(const uint8_t *frame, size_t len, void *opaque)
{
    GfFrame f;

    return gf_parse(&f, frame, len) && f.ethertype == GF_ETH_IPV4 && f.ip_proto == IPPROTO_UDP &&
           f.dport == *(uint16_t *)opaque;
}

/* The guest driver's DISCOVER goes out through the TX ring and the OFFER comes back into
 * its RX buffers with the default lease and router. Fails if either direction between
 * the device and the user backend loses or mangles the frame. */
static void test_dhcp_through_virtio_net(void)
{
    Rig *r = rig_new("");
    uint32_t xid = 0xc0ffee;
    g_autoptr(GByteArray) discover =
        gf_dhcp(r->g->mac, xid, 1, (struct in_addr){0}, (struct in_addr){0});
    uint8_t buf[2048];
    const uint8_t *router;
    ssize_t len;
    size_t rlen;
    GfFrame f;

    g_assert_true(vg_send(r->g, 0, NULL, discover->data, discover->len));
    len = vg_wait_frame(r->g, is_dhcp_offer, &xid, buf, sizeof(buf), WAIT_MS);
    g_assert_cmpint(len, >, 0);
    g_assert_true(gf_parse(&f, buf, len));
    g_assert_cmpuint(gf_dhcp_type(&f), ==, 2);
    g_assert_cmpuint(gf_dhcp_yiaddr(&f).s_addr, ==, gf_ip("10.0.2.15").s_addr);
    router = gf_dhcp_option(&f, 3, &rlen);
    g_assert_nonnull(router);
    g_assert_cmpmem(router, rlen, &(struct in_addr){gf_ip("10.0.2.2").s_addr}, 4);
    rig_free(r);
}

/* The guest driver resolves and pings the gateway. Fails if ARP or ICMP replies do not
 * reach the guest's RX ring. */
static void test_ping_gateway_through_virtio_net(void)
{
    Rig *r = rig_new("");

    for (uint16_t seq = 1; seq <= 3; seq++) {
        g_assert_true(vg_ping(r->g, 0, (uint8_t[]){10, 0, 2, 2}, seq, WAIT_MS));
    }
    rig_free(r);
}

/* A datagram to a udp hostfwd port is read by slirp's poller (not in answer to a guest
 * frame) and lands in the guest's RX buffers. Fails if frames slirp produces on its own
 * do not reach the device. */
static void test_hostfwd_udp_into_virtio_guest(void)
{
    uint16_t port, guest_port = 7000;
    int sock = user_net_loopback_socket(SOCK_DGRAM, &port);
    g_autofree char *opts = NULL;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    uint8_t buf[2048];
    ssize_t len;
    GfFrame f;
    Rig *r;

    close(sock);
    opts = g_strdup_printf("hostfwd = udp:127.0.0.1:%u-:%u", port, guest_port);
    r = rig_new(opts);
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    to.sin_port = htons(port);
    g_assert_cmpint(sendto(sock, "to the virtio guest", 19, 0, (struct sockaddr *)&to, sizeof(to)),
                    ==, 19);
    len = vg_wait_frame(r->g, is_udp_to, &guest_port, buf, sizeof(buf), WAIT_MS);
    g_assert_cmpint(len, >, 0);
    g_assert_true(gf_parse(&f, buf, len));
    g_assert_cmpmem(f.payload, f.payload_len, "to the virtio guest", 19);
    close(sock);
    rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/user-virtio/dhcp_through_virtio_net", test_dhcp_through_virtio_net);
    g_test_add_func("/user-virtio/ping_gateway_through_virtio_net",
                    test_ping_gateway_through_virtio_net);
    g_test_add_func("/user-virtio/hostfwd_udp_into_virtio_guest",
                    test_hostfwd_udp_into_virtio_guest);
    return g_test_run();
}
