// SPDX-License-Identifier: GPL-2.0-or-later
/* test-tap-options.c - tap plugin: option rules, capabilities, negotiation, queues, backpressure.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netns.h"
#include "tap-harness.h"
#include "tap-priv.h"
#include "tap-test-util.h"

static void assert_contains(const char *text, const char *needle)
{
    if (!text || !strstr(text, needle)) {
        g_printerr("# expected '%s' in: %s\n", needle, text ? text : "(nothing)");
        g_assert_not_reached();
    }
}

/*
 * Bad option values and combinations are config errors in the "FILE:LINE: [section]
 * key: problem (allowed: ...)" form, found at init without opening anything. Fails if
 * a rule is missing (the bad config would load) or the message loses its position.
 */
static void test_option_rules(void)
{
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        {"fd = 5\nifname = x\n", "test.ini:4: [netdev.t] ifname: cannot be combined with fd"},
        {"fd = 5\nqueues = 2\n", "test.ini:4: [netdev.t] queues: cannot be combined with fd"},
        {"fds = 5:6\nqueues = 2\n", "[netdev.t] queues: cannot be combined with fds"},
        {"fd = 5\nfds = 6:7\n", "[netdev.t] fds: cannot be combined with fd"},
        {"fds = 5:x\n", "[netdev.t] fds: 'x' is not an fd number"},
        {"fds = 5::6\n", "[netdev.t] fds: '' is not an fd number"},
        {"fds = 5:6:5\n", "[netdev.t] fds: fd 5 is listed twice"},
        {"ifname = abcdefghijklmnop\n", "[netdev.t] ifname: 'abcdefghijklmnop' is not a valid "
                                        "device name (allowed: 1..15 bytes"},
        {"ifname = a/b\n", "[netdev.t] ifname: 'a/b' is not a valid device name"},
        {"queues = 0\n", "[netdev.t] queues:"},
        {"queues = 257\n", "[netdev.t] queues:"},
        {"vnet_hdr = maybe\n", "[netdev.t] vnet_hdr:"},
        {"batch = 0\n", "[netdev.t] batch:"},
        {"sndbuf = -1\n", "[netdev.t] sndbuf:"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *config = g_strdup_printf("[netdev.t]\ntype = tap\n%s", cases[i].body);
        g_autoptr(GError) err = NULL;
        NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_CHECK_ONLY);

        netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
        g_assert_false(netbe_runtime_load_config_string(rt, config, "test.ini", &err));
        assert_contains(err->message, cases[i].message);
        netbe_runtime_free(rt);
    }
}

/*
 * --check mode (init only) with a valid config creates no device. Fails if init has a
 * side effect on the host.
 */
static void test_check_mode_opens_nothing(void)
{
    g_autofree char *ifname = tap_test_ifname("k");
    g_autofree char *config = g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\nqueues = 2\n"
                                              "vnet_hdr = on\nsndbuf = 1m\n",
                                              ifname);
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_CHECK_ONLY);

    netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
    g_assert_true(netbe_runtime_load_config_string(rt, config, "test.ini", &err));
    g_assert_no_error(err);
    g_assert_cmpint(if_nametoindex(ifname), ==, 0);
    netbe_runtime_free(rt);
}

/* A harness on [netdev.t] with @body, deferred behind [hub.h] so nothing is open yet. */
static TapHarness *deferred_harness(const char *body)
{
    g_autofree char *config = g_strdup_printf("[netdev.t]\ntype = tap\n%s[hub.h]\nports = t\n"
                                              "connect = deferred\n",
                                              body);
    g_autoptr(GError) err = NULL;
    TapHarness *h = tap_harness_new(config, "t", &err);

    g_assert_no_error(err);
    g_assert_false(h->be->connected);
    return h;
}

static int tap_fd(TapHarness *h, unsigned q)
{
    return ((Tap *)netbe_backend_priv(h->be))->queues[q].fd;
}

/*
 * get_caps answers before connect (what virtio-net offers for a deferred connect) and
 * after (what the kernel said); negotiation made before connect reaches the kernel at
 * connect. Fails if caps are empty before connect, claim more after connect than the
 * probe found, or the early set_vnet_hdr_len is lost.
 */
static void test_caps_before_and_after_connect(void)
{
    g_autofree char *ifname = tap_test_ifname("q");
    g_autofree char *body = g_strdup_printf("ifname = %s\nqueues = 2\n", ifname);
    g_autoptr(GError) err = NULL;
    NetbeCaps before = {0}, after = {0}, off = {0};
    TapHarness *h;
    int hdr = 0;

    if (!test_need_root_net()) {
        return;
    }
    h = deferred_harness(body);
    netbe_backend_get_caps(h->be, &before);
    g_assert_cmpuint(before.flags & NETBE_CAP_VNET_HDR, !=, 0);
    g_assert_cmpuint(h->be->desc->caps & NETBE_CAP_MULTIQUEUE, !=, 0);
    g_assert_cmpuint(h->be->nqueues, ==, 2);
    g_assert_cmpuint(before.offloads & NETBE_OFFLOAD_CSUM, !=, 0);
    g_assert_cmpuint(before.offloads & NETBE_OFFLOAD_TSO4, !=, 0);
    g_assert_true(netbe_backend_set_vnet_hdr_len(h->be, 12, &err));
    g_assert_true(netbe_backend_set_offloads(h->be, NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_TSO4, &err));
    g_assert_no_error(err);
    g_assert_cmpint(if_nametoindex(ifname), ==, 0);

    g_assert_true(tap_harness_connect(h, &err));
    g_assert_no_error(err);
    netbe_backend_get_caps(h->be, &after);
    g_assert_cmpuint(after.flags & NETBE_CAP_VNET_HDR, !=, 0);
    g_assert_cmpuint(after.offloads & ~before.offloads, ==, 0);
    g_assert_cmpuint(after.offloads & NETBE_OFFLOAD_TSO4, !=, 0);
    g_assert_cmpint(ioctl(tap_fd(h, 0), TUNGETVNETHDRSZ, &hdr), ==, 0);
    g_assert_cmpint(hdr, ==, 12);
    tap_harness_free(h);

    h = deferred_harness("vnet_hdr = off\n");
    netbe_backend_get_caps(h->be, &off);
    g_assert_cmpuint(off.flags & NETBE_CAP_VNET_HDR, ==, 0);
    g_assert_cmpuint(off.offloads, ==, 0);
    g_assert_false(netbe_backend_set_vnet_hdr_len(h->be, 12, &err));
    assert_contains(err->message, "vnet_hdr=off");
    tap_harness_free(h);
}

/*
 * Before a deferred connect, an inherited fd's own setup decides whether a vnet header
 * is offered (a read-only TUNGETIFF), so virtio-net does not negotiate a header the fd
 * cannot carry. Fails if caps only echo the option.
 */
static void test_caps_of_inherited_fd(void)
{
    g_autofree char *ifname = tap_test_ifname("i");

    if (!test_need_root_net()) {
        return;
    }
    for (int vnet = 0; vnet < 2; vnet++) {
        int fd = tap_test_open_tap(ifname, vnet, false);
        g_autofree char *body = g_strdup_printf("fd = %d\n", fd);
        NetbeCaps caps = {0};
        TapHarness *h;

        g_assert_cmpint(fd, >=, 0);
        h = deferred_harness(body);
        netbe_backend_get_caps(h->be, &caps);
        g_assert_cmpint(!!(caps.flags & NETBE_CAP_VNET_HDR), ==, vnet);
        tap_harness_free(h);
        close(fd);
    }
}

/*
 * Negotiation mistakes are refused with a reason: a header length virtio does not use,
 * offloads without a header, disabling the only queue. Fails if any is accepted.
 */
static void test_negotiation_refusals(void)
{
    g_autoptr(GError) err = NULL;
    TapHarness *h = deferred_harness("");

    g_assert_false(netbe_backend_set_vnet_hdr_len(h->be, 11, &err));
    assert_contains(err->message, "vnet header of 11 bytes (allowed: 0, 10, 12, 20)");
    g_clear_error(&err);
    g_assert_false(netbe_backend_set_offloads(h->be, NETBE_OFFLOAD_CSUM, &err));
    assert_contains(err->message, "offloads need a vnet header");
    g_clear_error(&err);
    g_assert_false(netbe_backend_set_queue_enabled(h->be, 0, false, &err));
    assert_contains(err->message, "single-queue TAP");
    tap_harness_free(h);
}

/*
 * Per-queue enable/disable reaches the kernel (TUNSETQUEUE): the device reports one
 * disabled queue, then none. Fails if the plugin only records the state.
 */
static void test_queue_disable_detaches(void)
{
    g_autofree char *ifname = tap_test_ifname("d");
    g_autofree char *config =
        g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\nqueues = 3\n", ifname);
    g_autofree char *detail = NULL;
    g_autoptr(GError) err = NULL;
    TapHarness *h;

    if (!test_need_root_net()) {
        return;
    }
    h = tap_harness_new(config, "t", &err);
    g_assert_no_error(err);
    g_assert_true(netbe_backend_set_queue_enabled(h->be, 1, false, &err));
    g_assert_no_error(err);
    detail = test_sh_output("ip -d link show %s", ifname);
    assert_contains(detail, "numqueues 2 numdisabled 1");
    g_free(detail);
    g_assert_true(netbe_backend_set_queue_enabled(h->be, 1, true, &err));
    detail = test_sh_output("ip -d link show %s", ifname);
    assert_contains(detail, "numqueues 3 numdisabled 0");
    tap_harness_free(h);
}

/* One UDP datagram from each of @n source ports in @ns to 10.96.0.2 (a static neighbour). */
static void udp_flows_out(const char *ns, int n)
{
    int saved = test_netns_enter(ns);
    struct sockaddr_in dst = {
        .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0x0a600002)};

    g_assert_cmpint(saved, >=, 0);
    for (int i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(30000 + i)};

        g_assert_cmpint(bind(s, (struct sockaddr *)&src, sizeof(src)), ==, 0);
        g_assert_cmpint(sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), ==, 1);
        close(s);
    }
    test_netns_leave(saved);
}

/*
 * Queues detached and attached again (what virtio-net does when the guest goes from one
 * queue pair to four) carry traffic like before: frames of many flows come out of every
 * queue. Fails if a re-attached queue is not polled again (its frames would stay in the
 * kernel and its flows would be dead).
 */
static void test_queue_reattached_is_read(void)
{
    g_autofree char *ifname = tap_test_ifname("r");
    g_autofree char *config =
        g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\nqueues = 4\n", ifname);
    g_autofree char *ns = NULL;
    g_autoptr(GError) err = NULL;
    TapHarness *h;

    if (!test_need_root_net()) {
        return;
    }
    h = tap_harness_new(config, "t", &err);
    g_assert_no_error(err);
    for (unsigned q = 1; q < 4; q++) {
        g_assert_true(netbe_backend_set_queue_enabled(h->be, q, false, &err));
        netbe_backend_set_rx_enabled(h->be, q, false);
    }
    ns = test_netns_create("rq");
    tap_test_move(ifname, ns, NULL, "10.96.0.1/24");
    g_assert_cmpint(test_sh("ip -n %s neigh add 10.96.0.2 lladdr 02:00:00:00:00:02 dev %s "
                            "nud permanent",
                            ns, ifname),
                    ==, 0);
    tap_harness_run_for(h, 50);
    for (unsigned q = 1; q < 4; q++) {
        g_assert_true(netbe_backend_set_queue_enabled(h->be, q, true, &err));
        netbe_backend_set_rx_enabled(h->be, q, true);
    }
    g_assert_no_error(err);
    udp_flows_out(ns, 64);
    g_assert_true(tap_harness_wait_rx(h, 64, 3000));
    for (unsigned q = 0; q < 4; q++) {
        NetbeQueueStats st;

        g_assert_true(netbe_runtime_get_queue_stats(h->rt, "t", q, &st));
        g_assert_cmpuint(st.rx_frames, >, 0);
    }
    g_assert_cmpuint(h->rx_frames, ==, 64);
    tap_harness_free(h);
    test_netns_delete(ns);
}

static bool tx_ready_set(void *opaque)
{
    return ((TapHarness *)opaque)->tx_ready;
}

/*
 * A TAP whose frames the kernel cannot get rid of (bridged to a veth behind a 1 Mbit/s
 * token bucket) and a 16 KiB sndbuf: sends become busy (0, not a drop), the plugin waits
 * for POLLOUT and calls tx_ready once the kernel frees space, and every frame goes out.
 * Fails if EAGAIN is reported as an error (drops), if tx_ready never comes (a stuck
 * sender), or if the plugin spins instead of waiting.
 */
static void test_busy_tap_waits_for_pollout(void)
{
    g_autofree char *ifname = tap_test_ifname("w");
    g_autofree char *config = g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\n"
                                              "vnet_hdr = off\nsndbuf = 16k\n",
                                              ifname);
    g_autofree char *ns = NULL;
    g_autoptr(GError) err = NULL;
    uint8_t frame[1500] = {2, 0, 0, 0, 0, 0x42, 2, 0, 0, 0, 0, 9, 0x88, 0xb5};
    unsigned sent = 0, busy = 0;
    NetbeQueueStats st;
    TapHarness *h;

    if (!test_need_root_net()) {
        return;
    }
    h = tap_harness_new(config, "t", &err);
    g_assert_no_error(err);
    ns = test_netns_create("busy");
    tap_test_move(ifname, ns, NULL, NULL);
    g_assert_cmpint(test_sh("ip -n %s link add v0 type veth peer name v1 && "
                            "ip -n %s link add br0 type bridge && "
                            "ip -n %s link set %s master br0 && ip -n %s link set v0 master br0 && "
                            "ip -n %s link set v1 address 02:00:00:00:00:42 && "
                            "ip -n %s link set v0 up && ip -n %s link set v1 up && "
                            "ip -n %s link set br0 up && "
                            "bridge -n %s fdb add 02:00:00:00:00:42 dev v0 master static && "
                            "ip netns exec %s tc qdisc replace dev v0 root tbf rate 1mbit "
                            "burst 1600 latency 2s",
                            ns, ns, ns, ifname, ns, ns, ns, ns, ns, ns, ns),
                    ==, 0);

    while (sent < 40) {
        struct iovec iov = {frame, sizeof(frame)};
        ssize_t n;

        h->tx_ready = false;
        n = netbe_backend_send(h->be, 0, &iov, 1, false);
        g_assert_cmpint(n, >=, 0);
        if (n > 0) {
            sent++;
            continue;
        }
        busy++;
        g_assert_true(tap_harness_run_until(h, tx_ready_set, h, 5000));
    }
    g_assert_cmpuint(busy, >, 0);
    g_assert_true(netbe_runtime_get_queue_stats(h->rt, "t", 0, &st));
    g_assert_cmpuint(st.tx_frames, ==, 40);
    g_assert_cmpuint(st.tx_drops, ==, 0);
    tap_harness_free(h);
    test_netns_delete(ns);
}

typedef struct Captured {
    uint8_t last[256];
    size_t last_len;
} Captured;

static void capture_frame(void *opaque, unsigned queue, const uint8_t *frame, size_t len)
{
    Captured *c = opaque;

    c->last_len = MIN(len, sizeof(c->last));
    memcpy(c->last, frame, c->last_len);
}

/* Send @n frames of 100 bytes into the TAP from the kernel side (packet socket in @ns). */
static void inject_frames(const char *ns, const char *ifname, int n, uint8_t tag)
{
    int saved = test_netns_enter(ns);
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(ifname), .sll_halen = 6};
    uint8_t frame[100] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 7, 0x88, 0xb5};

    g_assert_cmpint(s, >=, 0);
    for (int i = 0; i < n; i++) {
        memset(frame + 14, tag + i, sizeof(frame) - 14);
        g_assert_cmpint(sendto(s, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)),
                        ==, sizeof(frame));
    }
    close(s);
    test_netns_leave(saved);
}

/*
 * A peer that takes one frame and then says it is full stops the plugin's polling: the
 * other frames wait in the kernel, not in netbe; when the peer reopens, they come out
 * intact and in order. Fails if the plugin keeps reading (frames would pile up or be
 * dropped), or if readv into the peer's buffer mangles them.
 */
static void test_full_peer_stops_polling(void)
{
    g_autofree char *ifname = tap_test_ifname("b");
    g_autofree char *config = g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\n", ifname);
    g_autofree char *ns = NULL;
    g_autoptr(GError) err = NULL;
    Captured cap = {0};
    TapHarness *h;
    NetbeQueueStats st;

    if (!test_need_root_net()) {
        return;
    }
    h = tap_harness_new(config, "t", &err);
    g_assert_no_error(err);
    h->on_frame = capture_frame;
    h->opaque = &cap;
    h->budget = 1;
    ns = test_netns_create("bp");
    tap_test_move(ifname, ns, NULL, NULL);

    inject_frames(ns, ifname, 5, 0x10);
    g_assert_true(tap_harness_wait_rx(h, 1, 2000));
    tap_harness_run_for(h, 200);
    g_assert_cmpuint(h->rx_frames, ==, 1);
    g_assert_cmpuint(cap.last_len, ==, 100);
    g_assert_cmpuint(cap.last[99], ==, 0x10);

    h->budget = 0;
    netbe_backend_set_rx_enabled(h->be, 0, true);
    g_assert_true(tap_harness_wait_rx(h, 5, 2000));
    g_assert_cmpuint(cap.last[99], ==, 0x14);
    g_assert_true(netbe_runtime_get_queue_stats(h->rt, "t", 0, &st));
    g_assert_cmpuint(st.rx_frames, ==, 5);
    g_assert_cmpuint(st.rx_drops, ==, 0);
    tap_harness_free(h);
    test_netns_delete(ns);
}

/*
 * The device vanishing under a connected backend stops that queue with one warning
 * instead of spinning on POLLERR. Fails if the loop busy-waits (CPU time) or the
 * warning is missing.
 */
static void test_deleted_device_stops_queue(void)
{
    g_autofree char *ifname = tap_test_ifname("x");
    g_autofree char *config = g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\n", ifname);
    g_autoptr(GError) err = NULL;
    struct rusage r0, r1;
    TapHarness *h;
    double cpu;

    if (!test_need_root_net()) {
        return;
    }
    h = tap_harness_new(config, "t", &err);
    g_assert_no_error(err);
    g_assert_cmpint(test_sh("ip link del %s", ifname), ==, 0);
    g_test_expect_message("netbe", G_LOG_LEVEL_MESSAGE, "*(tap): queue 0: read failed*stops*");
    getrusage(RUSAGE_SELF, &r0);
    tap_harness_run_for(h, 300);
    getrusage(RUSAGE_SELF, &r1);
    g_test_assert_expected_messages();
    cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
          (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) /
              1e6;
    g_assert_cmpfloat(cpu, <, 0.1);
    tap_harness_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tap/options/rules", test_option_rules);
    g_test_add_func("/tap/options/check-mode-opens-nothing", test_check_mode_opens_nothing);
    g_test_add_func("/tap/caps/before-and-after-connect", test_caps_before_and_after_connect);
    g_test_add_func("/tap/caps/of-inherited-fd", test_caps_of_inherited_fd);
    g_test_add_func("/tap/caps/negotiation-refusals", test_negotiation_refusals);
    g_test_add_func("/tap/queues/disable-detaches", test_queue_disable_detaches);
    g_test_add_func("/tap/queues/reattached-is-read", test_queue_reattached_is_read);
    g_test_add_func("/tap/rx/full-peer-stops-polling", test_full_peer_stops_polling);
    g_test_add_func("/tap/tx/busy-tap-waits-for-pollout", test_busy_tap_waits_for_pollout);
    g_test_add_func("/tap/rx/deleted-device-stops-queue", test_deleted_device_stops_queue);
    return g_test_run();
}
