// SPDX-License-Identifier: GPL-2.0-or-later
/* test-tap-handover.c - netbe-host hands its live TAPs to a new netbe-host during a ping. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "tap-test-util.h"

/* The ifindex of @ifname in @ns, or -1. */
static int ifindex_in(const char *ns, const char *ifname)
{
    g_autofree char *out = test_sh_output("ip -n %s -o link show %s", ns, ifname);

    return out ? atoi(out) : -1;
}

/*
 * Two TAPs (one with a vnet header, one with 2 queues) joined by a deferred hub in
 * netbe-host; a second netbe-host started with --incoming takes them over while a ping
 * at 100/s runs between the namespaces. Every echo must be answered, the source must
 * exit 0, the TAPs must be the same devices (same ifindex: nothing was reopened) and
 * the destination must forward afterwards. Fails if the tap plugin's save/load loses a
 * queue fd or its settings, or if frames are dropped during the handover.
 */
static void test_handover_keeps_traffic(void)
{
    g_autofree char *ifa = tap_test_ifname("ma");
    g_autofree char *ifb = tap_test_ifname("mb");
    g_autofree char *ns_a = NULL, *ns_b = NULL, *config = NULL, *mig = NULL;
    g_autofree char *ping = NULL, *out = NULL, *stats = NULL;
    TestHost *src, *dst;
    int idx_a, idx_b;
    GPid ping_pid;
    gint ping_out;
    int status;

    if (!test_need_root_net()) {
        return;
    }
    config = g_strdup_printf("[netdev.a]\ntype = tap\nifname = %s\nvnet_hdr = on\n"
                             "[netdev.b]\ntype = tap\nifname = %s\nqueues = 2\n"
                             "[hub.h]\nports = a, b\nconnect = deferred\n",
                             ifa, ifb);
    src = test_host_start(config, NULL, NULL);
    g_assert_nonnull(src);
    ns_a = test_netns_create("hoa");
    ns_b = test_netns_create("hob");
    tap_test_move(ifa, ns_a, NULL, "10.95.0.1/24");
    tap_test_move(ifb, ns_b, NULL, "10.95.0.2/24");
    g_assert_cmpint(test_sh("ip netns exec %s ping -c 2 -i 0.2 -W 2 -q 10.95.0.2", ns_a), ==, 0);
    idx_a = ifindex_in(ns_a, ifa);
    idx_b = ifindex_in(ns_b, ifb);

    mig = g_build_filename(src->dir, "handover.sock", NULL);
    dst = tap_test_host_incoming(config, mig);
    g_assert_nonnull(dst);

    {
        g_autofree char *cmd = g_strdup_printf("exec ip netns exec %s ping -i 0.01 -c 300 -W 2 "
                                               "-q 10.95.0.2",
                                               ns_a);
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};

        g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                               NULL, NULL, &ping_pid, NULL, &ping_out, NULL, NULL));
    }
    g_usleep(G_USEC_PER_SEC);
    {
        g_autofree char *cmd = g_strdup_printf("migrate %s", mig);

        out = test_host_ctl(src, cmd);
    }
    g_assert_nonnull(out);
    g_assert_nonnull(strstr(out, "2 backends, 3 fds"));
    g_assert_cmpint(waitpid(ping_pid, &status, 0), ==, ping_pid);
    {
        char buf[2048];
        ssize_t n = read(ping_out, buf, sizeof(buf) - 1);

        buf[MAX(n, 0)] = '\0';
        ping = g_strdup(buf);
        close(ping_out);
    }
    if (!strstr(ping, " 0% packet loss")) {
        g_printerr("# ping during the handover: %s\n", ping);
        g_assert_not_reached();
    }
    g_assert_cmpint(test_host_stop(src), ==, 0); /* exited 0 after the handover already */

    g_assert_cmpint(ifindex_in(ns_a, ifa), ==, idx_a);
    g_assert_cmpint(ifindex_in(ns_b, ifb), ==, idx_b);
    g_assert_cmpint(test_sh("ip netns exec %s ping -c 2 -i 0.2 -W 2 -q 10.95.0.2", ns_a), ==, 0);
    stats = test_host_ctl(dst, "stats --json");
    g_assert_nonnull(stats);
    g_assert_cmpint(tap_test_stats(stats, "a", -1, "rx_frames"), >=, 2);
    g_assert_cmpint(tap_test_stats(stats, "a", -1, "rx_frames"), ==,
                    tap_test_stats(stats, "b", -1, "tx_frames"));

    g_assert_cmpint(test_host_stop(dst), ==, 0);
    test_host_free(dst);
    test_host_free(src);
    test_netns_delete(ns_a);
    test_netns_delete(ns_b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tap/handover/keeps-traffic", test_handover_keeps_traffic);
    return g_test_run();
}
