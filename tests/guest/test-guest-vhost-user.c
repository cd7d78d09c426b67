// SPDX-License-Identifier: GPL-2.0-or-later
/* test-guest-vhost-user.c - a real Linux guest (Debian 12 kernel, QEMU/TCG) on netbe-host's
 * vhost-user virtio-net device: user and TAP backends, multiqueue, mrg_rxbuf=off, a VMM that
 * crashes, a VMM that reconnects to a restarted netbe-host, VM live migration between two
 * netbe-hosts, and the live handover of the device to a new netbe-host. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "guest.h"
#include "host-proc.h"
#include "netns.h"
#include "tap-test-util.h"

#define CMD_MS 60000 /* one guest command under TCG, generous */
#define XFER_MIB 16  /* the TCP transfer the issue asks for */
#define GUEST_MAC "52:54:00:4e:42:01"

/*
 * need_guest_image() - skip the current test if there is no guest image (no network for
 * apt-get download, no busybox-static: scripts/guest-image.sh says why). CI treats the skip
 * as a failure. Return: true if the test may go on.
 */
static bool need_guest_image(void)
{
    g_autoptr(GError) err = NULL;
    const char *kernel, *initrd;

    if (!test_guest_image(&kernel, &initrd, &err)) {
        g_test_skip(err->message);
        return false;
    }
    return true;
}

/* The TCG guest's boot times, for the summary line. */
static GString *boot_times;

static TestGuest *boot(const TestGuestOpts *opts)
{
    g_autoptr(GError) err = NULL;
    TestGuest *g = test_guest_start(opts, &err);

    g_assert_no_error(err);
    g_string_append_printf(boot_times, " %.1f", test_guest_boot_seconds(g));
    g_test_message("guest booted in %.1f s (TCG)", test_guest_boot_seconds(g));
    return g;
}

/*
 * The QEMU arguments of one vhost-user NIC (@n: its index) on @sock, @dev_opts appended to
 * -device virtio-net-pci (e.g. ",mq=on"), @queues pairs.
 *
 * vectors=0 (INTx, no MSI-X): Debian's QEMU 7.2 (1:7.2+dfsg-7+deb12u18) under TCG dies of a
 * NULL dereference in vhost_net_start -> msix_set_vector_notifiers when the guest's driver
 * sets DRIVER_OK on a vhost-user NIC with MSI-X (no KVM irqfd there): it crashes before it
 * sends SET_FEATURES or the memory table, so the backend's answers play no part.
 */
static void add_nic(GPtrArray *args, unsigned n, const char *sock, unsigned queues, const char *mac,
                    const char *dev_opts)
{
    g_ptr_array_add(args, g_strdup("-chardev"));
    g_ptr_array_add(args, g_strdup_printf("socket,id=c%u,path=%s,reconnect=1", n, sock));
    g_ptr_array_add(args, g_strdup("-netdev"));
    g_ptr_array_add(args, g_strdup_printf("vhost-user,id=n%u,chardev=c%u,queues=%u", n, n, queues));
    g_ptr_array_add(args, g_strdup("-device"));
    g_ptr_array_add(args, g_strdup_printf("virtio-net-pci,netdev=n%u,mac=%s,vectors=0%s", n, mac,
                                          dev_opts ? dev_opts : ""));
}

/* A string of "status --json" @host's answer holds, polled for up to @ms. */
static bool status_shows(TestHost *host, const char *needle, int ms)
{
    for (int waited = 0; waited <= ms; waited += 50) {
        g_autofree char *st = test_host_ctl(host, "status --json");

        if (st && strstr(st, needle)) {
            return true;
        }
        g_usleep(50000);
    }
    return false;
}

/*
 * Send @mib MiB of random bytes from the guest to a sink listening on
 * @sink_addr in @netns, which the guest reaches at @addr; assert that every byte arrived
 * and the SHA-256 on both sides agree. Return: the transfer's seconds.
 */
static double transfer_from_guest(TestGuest *g, const char *netns, const char *sink_addr,
                                  const char *addr, unsigned mib)
{
    uint16_t port;
    TestSink *sink = test_sink_start(netns, sink_addr, &port);
    g_autofree char *sent = NULL, *got = NULL, *out = NULL;
    gint64 t0;
    int64_t n;

    sent = test_guest_ok(g, CMD_MS,
                         "dd if=/dev/urandom of=/tmp/blob bs=1M count=%u 2>/dev/null && "
                         "sha256sum /tmp/blob | cut -d' ' -f1",
                         mib);
    t0 = g_get_monotonic_time();
    out = test_guest_ok(g, CMD_MS, "nc %s %u </tmp/blob && rm /tmp/blob", addr, port);
    n = test_sink_finish(sink, 10000, &got);
    g_assert_cmpint(n, ==, (int64_t)mib << 20);
    g_assert_cmpstr(g_strstrip(sent), ==, got);
    test_sink_free(sink);
    return (g_get_monotonic_time() - t0) / 1e6;
}

/*
 * Send @mib MiB from the host (namespace @netns) to the guest's @addr: the guest listens
 * with nc and hashes what it got; assert both digests agree.
 */
static void transfer_to_guest(TestGuest *g, const char *netns, const char *addr, unsigned mib)
{
    g_autofree char *sent = NULL, *got = NULL, *expect = NULL;

    g_free(test_guest_ok(g, CMD_MS,
                         "rm -f /tmp/rx.done; (nc -l -p 7000 >/tmp/rx 2>&1; "
                         "touch /tmp/rx.done) >/dev/null 2>&1 & echo started"));
    sent = test_stream_send(netns, addr, 7000, (size_t)mib << 20, 0, CMD_MS);
    g_assert_nonnull(sent);
    got = test_guest_ok(g, CMD_MS,
                        "for i in $(seq 300); do [ -e /tmp/rx.done ] && break; sleep 0.1; done; "
                        "wc -c </tmp/rx; sha256sum </tmp/rx | cut -d' ' -f1; rm /tmp/rx");
    expect = g_strdup_printf("%u\n%s\n", mib << 20, sent);
    g_assert_cmpstr(got, ==, expect);
}

/* ---- guest <-> netbe-host (vhost-user) <-> user backend (libslirp) ---- */

/**
 * struct UserRig - netbe-host with one vhost-user device on a user netdev, and the QEMU
 * attached to it (reconnect=1), kept from one test to the next
 * so that three tests need two boots; each test makes what it needs if it is missing.
 * @dir:    private dir of the test (the device's socket: it outlives netbe-host restarts)
 * @config: netbe-host's config
 * @host:   netbe-host
 * @guest:  QEMU, or NULL
 */
typedef struct UserRig {
    char *dir;
    char *config;
    TestHost *host;
    TestGuest *guest;
} UserRig;

static UserRig user_rig;

static TestHost *user_rig_host(void)
{
    if (!user_rig.host) {
        user_rig.dir = g_dir_make_tmp("netbe-guest-user-XXXXXX", NULL);
        g_assert_nonnull(user_rig.dir);
        user_rig.config = g_strdup_printf("[netdev.nat]\ntype = user\n"
                                          "[device.nic0]\nmodel = virtio-net\n"
                                          "transport = vhost-user\nsocket = %s/nic0.sock\n"
                                          "netdev = nat\n",
                                          user_rig.dir);
        user_rig.host = test_host_start(user_rig.config, NULL, NULL);
        g_assert_nonnull(user_rig.host);
        test_pid_track(0, user_rig.host->pid);
    }
    return user_rig.host;
}

/* Boot a QEMU on the rig's device and take a DHCP lease. */
static TestGuest *user_rig_boot(void)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *sock = NULL, *lease = NULL;
    TestGuestOpts opts = {0};

    user_rig_host();
    sock = g_strdup_printf("%s/nic0.sock", user_rig.dir);
    add_nic(args, 0, sock, 1, GUEST_MAC, ",id=movenic"); /* named for QMP queries */
    g_ptr_array_add(args, NULL);
    opts.args = (const char *const *)args->pdata;
    user_rig.guest = boot(&opts);
    /* DHCP through netbe: fails if frames do not pass both ways (slirp answers the
     * broadcast DISCOVER, the guest takes the OFFER) */
    lease = test_guest_ok(user_rig.guest, CMD_MS,
                          "udhcpc -i eth0 -n -q -t 5 -T 2 -s /etc/udhcpc.script 2>&1 && "
                          "ip -4 -o addr show eth0");
    g_assert_nonnull(strstr(lease, "inet 10.0.2.15/24"));
    return user_rig.guest;
}

static TestGuest *user_rig_guest(void)
{
    return user_rig.guest ? user_rig.guest : user_rig_boot();
}

static void user_rig_free(void)
{
    test_guest_free(user_rig.guest);
    if (user_rig.host) {
        test_host_free(user_rig.host);
        test_pid_track(0, 0);
    }
    if (user_rig.dir) {
        test_sh("rm -rf '%s'", user_rig.dir);
    }
    g_free(user_rig.dir);
    g_free(user_rig.config);
}

/*
 * The guest's virtio-net driver on netbe's vhost-user device with the user backend: DHCP
 * gives it 10.0.2.15, it pings the gateway, and 16 MiB sent to a listener on the host's
 * loopback (reached at the gateway 10.0.2.2) arrive intact. netbe-host's status names
 * QEMU's pid and a running queue pair. Fails if negotiation, the memory table, ring setup,
 * RX or TX through guest memory, or the bytes of a long TCP stream (GSO and checksum
 * offload included) go wrong.
 */
static void test_user_backend_lease_ping_and_16mib_to_the_host(void)
{
    TestGuest *g;
    g_autofree char *ping = NULL, *needle = NULL;
    double s;

    if (!need_guest_image()) {
        return;
    }
    g = user_rig_guest();

    ping = test_guest_ok(g, CMD_MS, "ping -c 3 -i 0.2 -W 5 10.0.2.2");
    g_assert_nonnull(strstr(ping, "3 packets received"));
    needle = g_strdup_printf("\"vmm_pid\":%d", (int)test_guest_pid(g));
    g_assert_true(status_shows(user_rig.host, needle, 5000));
    g_assert_true(status_shows(user_rig.host, "\"queue_pairs\":1", 5000));
    s = transfer_from_guest(g, NULL, "127.0.0.1", "10.0.2.2", XFER_MIB);
    g_test_message("%u MiB guest -> host through slirp: %.2f s", XFER_MIB, s);
}

/*
 * QEMU is SIGKILLed while the guest streams to the host: netbe-host lives on, answers its
 * control socket, shows no VMM; a new QEMU then connects to the same socket, negotiates
 * afresh, gets a lease, pings and sends 4 MiB intact. Fails if the VMM's disappearance
 * kills or wedges netbe-host (a dead ring, a stale memory table) or leaves the socket deaf.
 */
static void test_qemu_killed_mid_transfer_then_a_new_qemu_works(void)
{
    g_autofree char *ping = NULL, *needle = NULL;
    TestSink *sink;
    TestGuest *g;
    uint16_t port;
    GPid host_pid;

    if (!need_guest_image()) {
        return;
    }
    g = user_rig_guest();
    host_pid = user_rig.host->pid;
    sink = test_sink_start(NULL, "127.0.0.1", &port);

    g_free(test_guest_ok(g, CMD_MS,
                         "dd if=/dev/zero bs=1M count=1024 2>/dev/null | nc 10.0.2.2 %u "
                         ">/dev/null 2>&1 & echo started",
                         port));
    for (int i = 0; i < 600 && test_sink_received(sink) < (4 << 20); i++) {
        g_usleep(50000);
    }
    g_assert_cmpint(test_sink_received(sink), >=, 4 << 20);
    test_guest_kill(g);
    test_guest_free(g);
    user_rig.guest = NULL;
    test_sink_free(sink);

    g_assert_cmpint(kill(host_pid, 0), ==, 0);
    g_assert_true(status_shows(user_rig.host, "\"vmm_pid\":null", 5000));

    g = user_rig_boot();
    needle = g_strdup_printf("\"vmm_pid\":%d", (int)test_guest_pid(g));
    g_assert_true(status_shows(user_rig.host, needle, 5000));
    ping = test_guest_ok(g, CMD_MS, "ping -c 2 -i 0.2 -W 5 10.0.2.2");
    g_assert_nonnull(strstr(ping, "2 packets received"));
    transfer_from_guest(g, NULL, "127.0.0.1", "10.0.2.2", 4);
    g_assert_cmpint(user_rig.host->pid, ==, host_pid);
}

/*
 * netbe-host is stopped and a new one started on the same config while QEMU (reconnect=1)
 * runs: QEMU reconnects by itself, negotiates with the new netbe-host and restarts the
 * rings where the guest's driver left them; the guest pings the gateway of the new slirp.
 * Fails if the new host refuses the reconnecting VMM or picks the rings up at the wrong
 * indices (the guest would never see an answer).
 */
static void test_reconnecting_qemu_survives_a_netbe_host_restart(void)
{
    g_autofree char *needle = NULL, *ping = NULL;
    TestGuest *g;
    GPid qemu;

    if (!need_guest_image()) {
        return;
    }
    g = user_rig_guest();
    qemu = test_guest_pid(g);
    needle = g_strdup_printf("\"vmm_pid\":%d", (int)qemu);

    g_assert_cmpint(test_host_stop(user_rig.host), ==, 0);
    test_host_free(user_rig.host);
    user_rig.host = test_host_start(user_rig.config, NULL, NULL);
    g_assert_nonnull(user_rig.host);
    test_pid_track(0, user_rig.host->pid);
    g_assert_true(status_shows(user_rig.host, needle, 15000));
    ping = test_guest_ok(g, CMD_MS, "ping -c 3 -i 0.2 -W 5 10.0.2.2");
    g_assert_nonnull(strstr(ping, "3 packets received"));
    g_assert_cmpint(test_guest_pid(g), ==, qemu);
}

/* ---- guest <-> netbe-host <-> TAP in a namespace ---- */

/*
 * Two NICs on two TAPs in a namespace: one with 2 queue pairs (mq=on, 2 vCPUs, a multiqueue
 * TAP) and the smallest RX ring QEMU 7.2 takes (rx_queue_size=256: it refuses 64, "must be
 * a power of 2 between 256 and 1024"), one with mrg_rxbuf=off (the guest posts a big buffer
 * or chain per frame). Each pings the namespace and is pinged from it, and 8 MiB sent from
 * the namespace over TCP (64 KiB GSO frames from the TAP) arrive intact in the guest.
 * Through the first, 4 MiB sent on each queue pair (XPS set to send on that one only)
 * reach a listener in the namespace intact and leave through the TAP queue of that pair. Fails if
 * the second queue pair is not served, or either RX layout loses, truncates or stalls frames.
 */
static void test_tap_namespace_pings_both_ways_mq_and_mrg_rxbuf_off(void)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *ns = NULL, *dir = NULL, *config = NULL;
    const char *mac[] = {"52:54:00:4e:42:0a", "52:54:00:4e:42:0b"};
    const char *dev_opts[] = {",mq=on,rx_queue_size=256", ",mrg_rxbuf=off"};
    g_autoptr(GString) conf = g_string_new(NULL);
    TestGuestOpts opts = {.cpus = 2};
    TestHost *host;
    TestGuest *g;

    if (!test_need_root_net() || !need_guest_image()) {
        return;
    }
    ns = test_netns_create("gtap");
    dir = g_dir_make_tmp("netbe-guest-tap-XXXXXX", NULL);
    for (int i = 0; i < 2; i++) {
        g_autofree char *sock = g_strdup_printf("%s/nic%d.sock", dir, i);
        unsigned queues = i == 0 ? 2 : 1;

        g_assert_cmpint(test_sh("ip -n %s tuntap add dev gt%d mode tap %s && "
                                "ip -n %s addr add 10.77.%d.1/24 dev gt%d && "
                                "ip -n %s link set gt%d up",
                                ns, i, queues > 1 ? "multi_queue" : "", ns, i + 1, i, ns, i),
                        ==, 0);
        g_string_append_printf(conf,
                               "[netdev.t%d]\ntype = tap\nifname = gt%d\nvnet_hdr = on\n"
                               "queues = %u\n[device.nic%d]\nmodel = virtio-net\n"
                               "transport = vhost-user\nsocket = %s\nnetdev = t%d\n"
                               "queues = %u\n",
                               i, i, queues, i, sock, i, queues);
        add_nic(args, i, sock, queues, mac[i], dev_opts[i]);
    }
    host = test_host_start(conf->str, ns, NULL);
    g_assert_nonnull(host);
    test_pid_track(1, host->pid);
    g_ptr_array_add(args, NULL);
    opts.args = (const char *const *)args->pdata;
    g = boot(&opts);

    for (int i = 0; i < 2; i++) {
        g_autofree char *ping = NULL, *addr = g_strdup_printf("10.77.%d.2", i + 1);
        g_autofree char *gw = g_strdup_printf("10.77.%d.1", i + 1);
        g_autofree char *ifexpr =
            g_strdup_printf("$(grep -l %s /sys/class/net/*/address | cut -d/ -f5)", mac[i]);

        g_free(test_guest_ok(g, CMD_MS, "d=%s && ip addr add %s/24 dev $d && ip link set $d up",
                             ifexpr, addr));
        ping = test_guest_ok(g, CMD_MS, "ping -c 3 -i 0.2 -W 5 %s", gw);
        g_assert_nonnull(strstr(ping, "3 packets received"));
        g_assert_cmpint(test_sh("ip netns exec %s ping -c 3 -i 0.2 -W 5 -q %s", ns, addr), ==, 0);
        if (i == 0) {
            for (int q = 0; q < 2; q++) {
                g_autofree char *stats = NULL;

                /* XPS: every vCPU sends on queue pair q only */
                g_free(test_guest_ok(g, CMD_MS,
                                     "q=/sys/class/net/%s/queues && echo %d >$q/tx-0/xps_cpus && "
                                     "echo %d >$q/tx-1/xps_cpus",
                                     ifexpr, q ? 0 : 3, q ? 3 : 0));
                transfer_from_guest(g, ns, gw, gw, 4);
                stats = test_host_ctl(host, "stats --json");
                g_assert_cmpint(tap_test_stats(stats, "t0", q, "tx_bytes"), >=, 4 << 20);
            }
            g_assert_true(status_shows(host, "\"queue_pairs\":2", 5000));
        }
        transfer_to_guest(g, ns, addr, 8);
    }
    test_guest_free(g);
    g_assert_cmpint(test_host_stop(host), ==, 0);
    test_pid_track(1, 0);
    test_host_free(host);
    test_netns_delete(ns);
    test_sh("rm -rf '%s'", dir);
}

/* ---- the guest moves: VM live migration, backend handover ---- */

/**
 * struct MoveRig - a guest on a bridge in a namespace, whose NIC netbe-host serves over
 * vhost-user from a TAP on that bridge; kept from the live migration test to the handover
 * test (one boot for both)
 * @ns:     the namespace (bridge mb0 10.78.0.1/24; TAPs ms, md on it)
 * @dir:    sockets and logs
 * @config: netbe-host's config for TAP ms and socket s.sock ([0]), TAP md and d.sock ([1])
 * @side:   the side the guest is on now (0: ms and s.sock, 1: md and d.sock)
 * @host:   the netbe-host serving the guest now
 * @guest:  the QEMU running the guest now
 */
typedef struct MoveRig {
    char *ns;
    char *dir;
    char *config[2];
    int side;
    TestHost *host;
    TestGuest *guest;
    char *prev_log; /* the log of the netbe-host the last move left */
} MoveRig;

static MoveRig move_rig;

static TestGuestOpts move_rig_qemu(GPtrArray *args, int side, const char *incoming)
{
    g_autofree char *sock = g_strdup_printf("%s/%c.sock", move_rig.dir, "sd"[side]);
    TestGuestOpts opts = {.incoming = incoming};

    add_nic(args, 0, sock, 1, GUEST_MAC, ",id=movenic"); /* named for QMP queries */
    g_ptr_array_add(args, NULL);
    opts.args = (const char *const *)args->pdata;
    return opts;
}

/* The rig, made on first use: namespace, bridge, TAPs, netbe-host on side 0, the guest. */
static MoveRig *move_rig_get(void)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    TestGuestOpts opts;

    if (move_rig.guest) {
        return &move_rig;
    }
    move_rig.ns = test_netns_create("gmove");
    move_rig.dir = g_dir_make_tmp("netbe-guest-move-XXXXXX", NULL);
    g_assert_cmpint(test_sh("ip -n %s link add mb0 type bridge && "
                            "ip -n %s addr add 10.78.0.1/24 dev mb0 && ip -n %s link set mb0 up",
                            move_rig.ns, move_rig.ns, move_rig.ns),
                    ==, 0);
    for (int side = 0; side < 2; side++) {
        char c = "sd"[side];

        g_assert_cmpint(test_sh("ip -n %s tuntap add dev m%c mode tap && "
                                "ip -n %s link set m%c master mb0 up",
                                move_rig.ns, c, move_rig.ns, c),
                        ==, 0);
        move_rig.config[side] = g_strdup_printf(
            "[netdev.t]\ntype = tap\nifname = m%c\nvnet_hdr = on\n[device.nic0]\n"
            "model = virtio-net\ntransport = vhost-user\nsocket = %s/%c.sock\nnetdev = t\n"
            "connect = deferred\n",
            c, move_rig.dir, c);
    }
    move_rig.host = test_host_start(move_rig.config[0], move_rig.ns, NULL);
    g_assert_nonnull(move_rig.host);
    test_pid_track(2, move_rig.host->pid);
    opts = move_rig_qemu(args, 0, NULL);
    move_rig.guest = boot(&opts);
    g_free(test_guest_ok(move_rig.guest, CMD_MS,
                         "d=$(grep -l %s /sys/class/net/*/address | cut -d/ -f5) && "
                         "ip addr add 10.78.0.2/24 dev $d && ip link set $d up && "
                         "ping -c 2 -i 0.2 -W 5 10.78.0.1",
                         GUEST_MAC));
    return &move_rig;
}

/* Keep the log of the netbe-host a move leaves (it is freed), for a later failure. */
static void move_rig_keep_log(void)
{
    g_free(move_rig.prev_log);
    move_rig.prev_log = NULL;
    g_file_get_contents(move_rig.host->log, &move_rig.prev_log, NULL, NULL);
}

static void move_rig_free(void)
{
    test_guest_free(move_rig.guest);
    if (move_rig.host) {
        test_host_free(move_rig.host);
        test_pid_track(2, 0);
    }
    test_netns_delete(move_rig.ns);
    if (move_rig.dir) {
        test_sh("rm -rf '%s'", move_rig.dir);
    }
    g_free(move_rig.ns);
    g_free(move_rig.dir);
    g_free(move_rig.config[0]);
    g_free(move_rig.config[1]);
    g_free(move_rig.prev_log);
}

/* The guest's count of link changes on its NIC. */
#define GUEST_CARRIER_CHANGES                                                                      \
    "cat /sys/class/net/$(grep -l " GUEST_MAC " /sys/class/net/*/address | cut -d/ -f5)/"          \
    "carrier_changes"

#define CROSS_MIB 16          /* each way, paced so that it spans the move */
#define CROSS_PAUSE_US 200000 /* after each MiB */
#define CROSS_PINGS 500       /* the guest's pings judged, every 10 ms */
#define CROSS_PING_TAIL 50    /* pings after them, so that ping's exit cuts no judged reply */

/**
 * struct Crossing - traffic that runs across a move of the guest: 16 MiB each way over
 * TCP (paced: about 200 ms per MiB), the guest pinging the bridge every 10 ms, the
 * namespace pinging the guest every 10 ms
 * @sink:     takes the guest's upload
 * @up_sum:   SHA-256 of the upload, as the guest computed it
 * @down:     the namespace's download into the guest
 * @pinger:   the namespace's pings
 * @before:   what they saw before the move (the same traffic: the baseline)
 */
typedef struct Crossing {
    TestSink *sink;
    char *up_sum;
    TestStream *down;
    TestPinger *pinger;
    TestPingerResult before;
} Crossing;

/* Start the traffic and return once both streams carry data. */
static Crossing crossing_start(TestGuest *g)
{
    Crossing c = {0};
    uint16_t port;

    c.sink = test_sink_start(move_rig.ns, "10.78.0.1", &port);
    c.up_sum = test_guest_ok(g, CMD_MS,
                             "rm -f /tmp/*.done; dd if=/dev/urandom of=/tmp/up bs=1M count=%d "
                             "2>/dev/null && sha256sum /tmp/up | cut -d' ' -f1",
                             CROSS_MIB);
    g_strstrip(c.up_sum);
    g_free(test_guest_ok(g, CMD_MS,
                         "(nc -l -p 7000 >/tmp/down 2>/dev/null; touch /tmp/down.done) "
                         ">/dev/null 2>&1 & "
                         "(for i in $(seq 0 %d); do dd if=/tmp/up bs=1M skip=$i count=1 "
                         "2>/dev/null; sleep 0.2; done | nc 10.78.0.1 %u; touch /tmp/up.done) "
                         ">/dev/null 2>&1 & "
                         "(ping -i 0.01 -c %d -W 2 10.78.0.1 >/tmp/ping.log 2>&1; "
                         "touch /tmp/ping.done) & echo started",
                         CROSS_MIB - 1, port, CROSS_PINGS + CROSS_PING_TAIL));
    c.down = test_stream_start(move_rig.ns, "10.78.0.2", 7000, (size_t)CROSS_MIB << 20,
                               CROSS_PAUSE_US, 120000);
    c.pinger = test_pinger_start(move_rig.ns, "10.78.0.2", 10);
    for (int i = 0; i < 400 && test_sink_received(c.sink) < (2 << 20); i++) {
        g_usleep(50000);
    }
    g_assert_cmpint(test_sink_received(c.sink), >=, 2 << 20);
    c.before = test_pinger_peek(c.pinger);
    return c;
}

/*
 * The upload of @c did not end in time: log what each side saw (bytes the sink took, the
 * guest's counters, sockets and pings, netbe-host's device and queue state), so that a stall
 * that happens once in many runs says where it happened.
 */
static void crossing_explain_stall(Crossing *c, TestGuest *g, const char *what)
{
    g_autofree char *guest = NULL, *status = NULL, *log = NULL;
    int rc = -1;

    g_test_message("%s: the upload stalled: the sink took %" G_GINT64_FORMAT " of %d bytes", what,
                   (gint64)test_sink_received(c->sink), CROSS_MIB << 20);
    if (test_guest_run(g, CMD_MS, &rc, &guest, NULL,
                       "cat /proc/net/dev; netstat -tn 2>/dev/null || cat /proc/net/tcp; "
                       "tail -3 /tmp/ping.log; ls /tmp/*.done; "
                       "cat /sys/class/net/*/statistics/tx_dropped")) {
        g_test_message("%s: the guest (exit %d):\n%s", what, rc, guest);
    }
    for (int vq = 0; vq < 2; vq++) {
        g_autofree char *cmd = g_strdup_printf(
            "{\"execute\": \"x-query-virtio-queue-status\", \"arguments\": "
            "{\"path\": \"/machine/peripheral/movenic/virtio-backend\", \"queue\": %d}}",
            vq);
        g_autofree char *state = test_guest_qmp(g, cmd, NULL);

        g_test_message("%s: QEMU's view of virtqueue %d: %s", what, vq, state ? state : "(none)");
    }
    g_clear_pointer(&guest, g_free);
    if (test_guest_run(g, CMD_MS, &rc, &guest, NULL, "dmesg | tail -30; ps")) {
        g_test_message("%s: the guest's kernel log and processes:\n%s", what, guest);
    }
    {
        /* a transmit of the guest's own reclaims finished TX buffers: does the upload go on? */
        int64_t before = test_sink_received(c->sink);

        g_clear_pointer(&guest, g_free);
        test_guest_run(g, CMD_MS, &rc, &guest, NULL, "ping -c 3 -i 0.2 10.78.0.1 | tail -1");
        g_usleep(2000000);
        g_test_message("%s: after 3 more pings from the guest (%s), the sink took %" G_GINT64_FORMAT
                       " bytes more",
                       what, guest ? g_strstrip(guest) : "-",
                       (gint64)(test_sink_received(c->sink) - before));
    }
    status = test_host_ctl(move_rig.host, "status --json");
    g_test_message("%s: netbe-host: %s", what, status ? status : "(no answer)");
    g_file_get_contents(move_rig.host->log, &log, NULL, NULL);
    g_test_message("%s: the netbe-host the guest left:\n%s\nthe netbe-host it uses:\n%s", what,
                   move_rig.prev_log ? move_rig.prev_log : "(none)", log ? log : "(none)");
}

/*
 * Wait for the traffic of @c (now in guest @g) to end and check it: both streams intact, the
 * guest's pings all answered (@lossless) or answered again at the end and at least half of
 * them, the guest's MAC learnt by the bridge on TAP @tap. Log the pings under @what.
 */
static void crossing_finish(Crossing *c, TestGuest *g, bool lossless, const char *tap,
                            const char *what)
{
    g_autofree char *got_up = NULL, *down_sum = NULL, *down = NULL, *ping = NULL;
    g_autofree char *expect = NULL;
    long sent = -1, received = -1, last = -1;
    TestPingerResult ns;

    int64_t up = test_sink_finish(c->sink, 120000, &got_up);

    if (up != (int64_t)CROSS_MIB << 20) {
        crossing_explain_stall(c, g, what);
    }
    g_assert_cmpint(up, ==, (int64_t)CROSS_MIB << 20);
    g_assert_cmpstr(got_up, ==, c->up_sum);
    down_sum = test_stream_finish(c->down);
    g_assert_nonnull(down_sum);
    down = test_guest_ok(g, CMD_MS,
                         "for i in $(seq 300); do [ -e /tmp/down.done ] && [ -e /tmp/ping.done ] "
                         "&& break; sleep 0.1; done; wc -c </tmp/down; "
                         "sha256sum </tmp/down | cut -d' ' -f1; rm -f /tmp/down /tmp/up");
    expect = g_strdup_printf("%d\n%s\n", CROSS_MIB << 20, down_sum);
    g_assert_cmpstr(down, ==, expect);
    ns = test_pinger_stop(c->pinger);
    /* of the judged pings: "SENT ANSWERED LAST_ANSWERED MISSING..." */
    ping = test_guest_ok(g, CMD_MS,
                         "grep -o '^[0-9]* packets transmitted' /tmp/ping.log | cut -d' ' -f1 | "
                         "tr '\\n' ' '; grep -o 'seq=[0-9]*' /tmp/ping.log | cut -d= -f2 | "
                         "sort -un | awk -v n=%d '$1 < n {seen[$1] = 1; c++; last = $1} "
                         "END {printf \"%%d %%d\", c, c ? last : -1; "
                         "for (i = 0; i < n; i++) if (!(i in seen)) printf \" %%d\", i; "
                         "printf \"\\n\"}'",
                         CROSS_PINGS);
    g_assert_cmpint(sscanf(ping, "%ld %ld %ld", &sent, &received, &last), ==, 3);
    g_test_message("%s: the guest's pings every 10 ms: %ld sent, %ld of the first %d answered, "
                   "the last of them answered: seq %ld (sent, answered, last, then the seqs not "
                   "answered: %s); the namespace's pings to the guest every 10 ms: %u sent, %u "
                   "answered, longest gap between answers %.0f ms (median %.1f ms; before the "
                   "move: longest %.0f ms of %u)",
                   what, sent, received, CROSS_PINGS, last, g_strstrip(ping), ns.sent, ns.answered,
                   ns.longest_ms, ns.median_ms, c->before.longest_ms, c->before.answered);
    g_assert_cmpint(sent, ==, CROSS_PINGS + CROSS_PING_TAIL);
    g_assert_cmpint(last, ==, CROSS_PINGS - 1); /* the pings answer again after the move */
    g_assert_cmpint(received, >=, lossless ? CROSS_PINGS : CROSS_PINGS / 2);
    /* frames from the guest now enter the bridge through the TAP of the netbe-host in use */
    g_assert_cmpint(
        test_sh("bridge -n %s fdb show br mb0 | grep -i '%s dev %s '", move_rig.ns, GUEST_MAC, tap),
        ==, 0);
    test_sink_free(c->sink);
    g_free(c->up_sum);
}

/*
 * QEMU live-migrates the guest to a second QEMU whose NIC a second netbe-host serves (its
 * own socket, its own TAP on the same bridge) while 16 MiB flow each way over TCP and pings
 * run both ways every 10 ms. Both streams arrive intact (the upload out of guest memory
 * that moved, the download that netbe wrote into guest memory while QEMU was copying it),
 * the guest's pings answer again after the move (the outage is logged), the bridge learns
 * the guest on the new side, and the new netbe-host serves the new QEMU. The destination
 * waits paused (-S) until its RAM was compared with the source's, page by page: the guest's
 * memory must arrive as it was, whoever wrote it. Fails if netbe hands back wrong ring
 * bases (the destination's driver and device disagree: no traffic), if the guest is not
 * reachable on the new side, or if a page is stale on the destination. A netbe-host that
 * ignores the dirty log is not reliably caught here: the guest itself dirties the pages of
 * the buffers it takes (QEMU logs those), and only buffers filled between the VM's stop
 * and GET_VRING_BASE escape; the exact page logging is proven in tests/virtio and
 * tests/vhost-user. What this comparison caught is QEMU 7.2 losing TCG stores (guest.c).
 */
static void test_vm_live_migration_keeps_pings_and_tcp_intact(void)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    g_autofree char *uri = NULL, *needle = NULL;
    TestGuestOpts opts;
    TestHost *dst_host;
    TestGuest *dst;
    Crossing c;
    double secs;
    gint64 t0;

    if (!test_need_root_net() || !need_guest_image()) {
        return;
    }
    move_rig_get();
    dst_host = test_host_start(move_rig.config[!move_rig.side], move_rig.ns, NULL);
    g_assert_nonnull(dst_host);
    test_pid_track(3, dst_host->pid);
    uri = g_strdup_printf("unix:%s/vm-migration.sock", move_rig.dir);
    g_ptr_array_add(args, g_strdup("-S")); /* paused on arrival: RAM compared first */
    opts = move_rig_qemu(args, !move_rig.side, uri);
    dst = test_guest_start(&opts, &err);
    g_assert_no_error(err);

    c = crossing_start(move_rig.guest);
    t0 = g_get_monotonic_time();
    g_assert_true(test_guest_migrate(move_rig.guest, uri, 120000, &err));
    g_assert_no_error(err);
    secs = (g_get_monotonic_time() - t0) / 1e6;
    g_assert_true(test_guest_wait_incoming(dst, 60000, &err));
    g_assert_no_error(err);
    {
        g_autoptr(GString) pages = g_string_new(NULL);
        long differ = test_guest_ram_diff(move_rig.guest, dst, pages);

        g_test_message("VM live migration: %ld pages of guest RAM differ between source and "
                       "destination%s%s",
                       differ, differ ? ":" : "", pages->str);
        g_assert_cmpint(differ, ==, 0);
    }
    g_free(test_guest_qmp(dst, "{\"execute\": \"cont\"}", &err));
    g_assert_no_error(err);
    test_guest_free(move_rig.guest);
    move_rig.guest = dst;
    g_assert_cmpint(test_host_stop(move_rig.host), ==, 0);
    move_rig_keep_log();
    test_host_free(move_rig.host);
    move_rig.host = dst_host;
    move_rig.side = !move_rig.side;
    test_pid_track(2, dst_host->pid);
    test_pid_track(3, 0);

    g_test_message("VM live migration took %.2f s", secs);
    crossing_finish(&c, dst, false, move_rig.side ? "md" : "ms", "VM live migration");
    needle = g_strdup_printf("\"vmm_pid\":%d", (int)test_guest_pid(dst));
    g_assert_true(status_shows(move_rig.host, needle, 5000));
}

/*
 * netbe-host hands the guest's device (the vhost-user connection, memory, eventfds, ring
 * state and the TAP) to a new netbe-host started with --incoming, while 16 MiB flow each way
 * and the guest pings every 10 ms: not one ping is lost, both streams arrive intact, the
 * old netbe-host exits 0 having handed over the device, QEMU is the same process, the
 * guest's link never went down (carrier_changes unchanged: QEMU did not reconnect, which
 * drops the link), and the new netbe-host names QEMU as its VMM. Fails if any of the
 * device's state is lost or wrong in the handover (rings restart at the wrong index, a kick
 * or call eventfd is not adopted: traffic stops or the guest sees garbage) or QEMU notices.
 */
static void test_backend_handover_loses_no_ping_and_keeps_tcp_intact(void)
{
    g_autofree char *mig = NULL, *out = NULL, *needle = NULL, *cmd = NULL;
    g_autofree char *carrier = NULL, *carrier_after = NULL;
    const char *extra[] = {"--incoming", NULL, NULL};
    TestHost *next;
    GPid qemu;
    Crossing c;

    if (!test_need_root_net() || !need_guest_image()) {
        return;
    }
    move_rig_get();
    qemu = test_guest_pid(move_rig.guest);
    carrier = test_guest_ok(move_rig.guest, CMD_MS, GUEST_CARRIER_CHANGES);
    mig = g_strdup_printf("%s/handover.sock", move_rig.dir);
    extra[1] = mig;
    {
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(move_rig.host->config, &text, NULL, NULL));
        next = test_host_spawn(text, move_rig.ns, extra, NULL);
    }
    g_assert_nonnull(next);
    test_pid_track(3, next->pid);
    for (int i = 0; i < 200 && !g_file_test(mig, G_FILE_TEST_EXISTS); i++) {
        g_usleep(50000);
    }
    g_assert_true(g_file_test(mig, G_FILE_TEST_EXISTS));

    c = crossing_start(move_rig.guest);
    cmd = g_strdup_printf("migrate %s", mig);
    out = test_host_ctl(move_rig.host, cmd);
    g_assert_nonnull(out);
    g_test_message("handover: %s", g_strstrip(out));
    g_assert_nonnull(strstr(out, "1 devices"));
    g_assert_cmpint(test_host_wait(move_rig.host, 10000), ==, 0);
    move_rig_keep_log();
    test_host_free(move_rig.host);
    move_rig.host = next;
    g_assert_true(test_host_wait_serving(next, 10000));
    test_pid_track(2, next->pid);
    test_pid_track(3, 0);

    crossing_finish(&c, move_rig.guest, true, move_rig.side ? "md" : "ms", "backend handover");
    g_assert_cmpint(test_guest_pid(move_rig.guest), ==, qemu);
    carrier_after = test_guest_ok(move_rig.guest, CMD_MS, GUEST_CARRIER_CHANGES);
    g_assert_cmpstr(carrier_after, ==, carrier);
    needle = g_strdup_printf("\"vmm_pid\":%d", (int)qemu);
    g_assert_true(status_shows(move_rig.host, needle, 5000));
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    boot_times = g_string_new(NULL);
    g_test_add_func("/guest/vhost-user/user-backend-lease-ping-16mib-to-host",
                    test_user_backend_lease_ping_and_16mib_to_the_host);
    g_test_add_func("/guest/vhost-user/qemu-killed-mid-transfer-then-new-qemu-works",
                    test_qemu_killed_mid_transfer_then_a_new_qemu_works);
    g_test_add_func("/guest/vhost-user/reconnecting-qemu-survives-netbe-host-restart",
                    test_reconnecting_qemu_survives_a_netbe_host_restart);
    g_test_add_func("/guest/vhost-user/tap-namespace-pings-both-ways-mq-and-mrg-rxbuf-off",
                    test_tap_namespace_pings_both_ways_mq_and_mrg_rxbuf_off);
    g_test_add_func("/guest/vhost-user/vm-live-migration-keeps-pings-and-tcp-intact",
                    test_vm_live_migration_keeps_pings_and_tcp_intact);
    g_test_add_func("/guest/vhost-user/backend-handover-loses-no-ping-keeps-tcp-intact",
                    test_backend_handover_loses_no_ping_and_keeps_tcp_intact);
    rc = g_test_run();
    user_rig_free();
    move_rig_free();
    g_test_message("TCG boot times (s):%s", boot_times->str);
    g_string_free(boot_times, TRUE);
    return rc;
}
