// SPDX-License-Identifier: GPL-2.0-or-later
/* test-tap-hub.c - two TAPs in two namespaces joined by a hub in netbe-host: ping and counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "tap-test-util.h"

#define PINGS 5
#define UDP_FLOWS 64

typedef struct HubCase {
    unsigned queues;
    const char *vnet_hdr;
} HubCase;

/* A UDP socket in namespace @ns; bound to @port on any address if @port != 0. */
static int udp_socket_in(const char *ns, uint16_t port)
{
    int saved = test_netns_enter(ns);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

    g_assert_cmpint(saved, >=, 0);
    g_assert_cmpint(fd, >=, 0);
    if (port) {
        g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    }
    test_netns_leave(saved);
    return fd;
}

/*
 * Send one datagram from each of UDP_FLOWS source ports in ns a to ns b and count what
 * arrives: different ports hash to different TAP queues, so every queue of a
 * multiqueue TAP carries some. Return: datagrams received within 5 s.
 */
static unsigned udp_flows(const char *ns_a, const char *ns_b)
{
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(9999)};
    int rx = udp_socket_in(ns_b, 9999);
    unsigned got = 0;
    char buf[64];

    inet_pton(AF_INET, "10.99.0.2", &dst.sin_addr);
    for (int i = 0; i < UDP_FLOWS; i++) {
        int tx = udp_socket_in(ns_a, (uint16_t)(20000 + i));

        g_assert_cmpint(sendto(tx, "flow", 4, 0, (struct sockaddr *)&dst, sizeof(dst)), ==, 4);
        close(tx);
    }
    for (gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
         got < UDP_FLOWS && g_get_monotonic_time() < end;) {
        struct pollfd p = {rx, POLLIN, 0};

        if (poll(&p, 1, 100) > 0) {
            while (recv(rx, buf, sizeof(buf), 0) > 0) {
                got++;
            }
        }
    }
    close(rx);
    return got;
}

/*
 * Ping from namespace a to namespace b through [hub.h] of netbe-host. Fails if a frame
 * is lost or mangled on the way (no reply), if netbe's counters disagree with each other
 * or with the kernel's (a frame read but not forwarded, or counted twice), if vnet_hdr
 * is not applied as configured, or, with queues > 1, if a queue is never read.
 */
static void test_ping_through_hub(gconstpointer data)
{
    const HubCase *c = data;
    g_autofree char *ifa = tap_test_ifname("a");
    g_autofree char *ifb = tap_test_ifname("b");
    g_autofree char *config = NULL;
    g_autofree char *ns_a = NULL, *ns_b = NULL;
    g_autofree char *stats = NULL, *detail = NULL;
    TestHost *h;
    int64_t rx_a, tx_a, rx_b, tx_b;

    if (!test_need_root_net()) {
        return;
    }
    config = g_strdup_printf("[netdev.a]\ntype = tap\nifname = %s\nqueues = %u\nvnet_hdr = %s\n"
                             "[netdev.b]\ntype = tap\nifname = %s\nqueues = %u\nvnet_hdr = %s\n"
                             "[hub.h]\nports = a, b\n",
                             ifa, c->queues, c->vnet_hdr, ifb, c->queues, c->vnet_hdr);
    h = test_host_start(config, NULL, NULL);
    g_assert_nonnull(h);
    ns_a = test_netns_create("tapa");
    ns_b = test_netns_create("tapb");
    tap_test_move(ifa, ns_a, NULL, "10.99.0.1/24");
    tap_test_move(ifb, ns_b, NULL, "10.99.0.2/24");

    detail = test_sh_output("ip -n %s -d link show %s", ns_a, ifa);
    g_assert_nonnull(detail);
    g_assert_nonnull(strstr(detail, strcmp(c->vnet_hdr, "off") ? "vnet_hdr on" : "vnet_hdr off"));
    if (c->queues > 1) {
        g_autofree char *nq = g_strdup_printf("numqueues %u", c->queues);
        g_assert_nonnull(strstr(detail, nq));
    }

    g_assert_cmpint(test_sh("ip netns exec %s ping -c %d -i 0.2 -W 2 -q 10.99.0.2", ns_a, PINGS),
                    ==, 0);
    if (c->queues > 1) {
        g_assert_cmpuint(udp_flows(ns_a, ns_b), ==, UDP_FLOWS);
    }

    stats = test_host_ctl(h, "stats --json");
    g_assert_nonnull(stats);
    g_assert_cmpuint(tap_test_stats_queues(stats, "a"), ==, c->queues);
    rx_a = tap_test_stats(stats, "a", -1, "rx_frames");
    tx_a = tap_test_stats(stats, "a", -1, "tx_frames");
    rx_b = tap_test_stats(stats, "b", -1, "rx_frames");
    tx_b = tap_test_stats(stats, "b", -1, "tx_frames");
    /* every frame read from one TAP was written to the other, nothing dropped */
    g_assert_cmpint(rx_a, ==, tx_b);
    g_assert_cmpint(rx_b, ==, tx_a);
    g_assert_cmpint(tap_test_stats(stats, "a", -1, "tx_drops"), ==, 0);
    g_assert_cmpint(tap_test_stats(stats, "b", -1, "tx_drops"), ==, 0);
    /* ARP request + echo requests one way, ARP reply + echo replies the other */
    g_assert_cmpint(rx_a, >=, PINGS + 1);
    g_assert_cmpint(rx_b, >=, PINGS + 1);
    /* the kernel agrees: what the stack sent into TAP a is what netbe read from it */
    g_assert_cmpint(tap_test_kernel_counter(ns_a, ifa, "tx_packets"), ==, rx_a);
    g_assert_cmpint(tap_test_kernel_counter(ns_b, ifb, "rx_packets"), ==, tx_b);
    g_assert_cmpint(tap_test_kernel_counter(ns_b, ifb, "tx_packets"), ==, rx_b);
    g_assert_cmpint(tap_test_kernel_counter(ns_a, ifa, "rx_packets"), ==, tx_a);
    for (unsigned q = 0; c->queues > 1 && q < c->queues; q++) {
        /* the flows spread over the queues: each one must have been read */
        g_assert_cmpint(tap_test_stats(stats, "a", (int)q, "rx_frames"), >, 0);
    }

    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
    test_netns_delete(ns_a);
    test_netns_delete(ns_b);
}

int main(int argc, char **argv)
{
    static const HubCase one = {1, "auto"}, vnet_on = {1, "on"}, vnet_off = {1, "off"},
                         four = {4, "on"}, four_off = {4, "off"};

    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/tap/hub/ping", &one, test_ping_through_hub);
    g_test_add_data_func("/tap/hub/ping-vnet-hdr-on", &vnet_on, test_ping_through_hub);
    g_test_add_data_func("/tap/hub/ping-vnet-hdr-off", &vnet_off, test_ping_through_hub);
    g_test_add_data_func("/tap/hub/ping-4-queues", &four, test_ping_through_hub);
    g_test_add_data_func("/tap/hub/ping-4-queues-vnet-hdr-off", &four_off, test_ping_through_hub);
    return g_test_run();
}
