// SPDX-License-Identifier: GPL-2.0-or-later
/* test-tap-live.c - TAP netdevs added to and deleted from a running hub through libnetbe,
 * with pings between namespaces through them while the runtime runs. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include "netbe/netbe.h"
#include "host-proc.h"
#include "netns.h"
#include "tap-test-util.h"

/* A command run while the runtime iterates: whether it ended, and how. */
typedef struct Run {
    NetbeRuntime *rt;
    bool done;
    int status;
} Run;

static void run_exited(GPid pid, gint status, gpointer data)
{
    Run *r = data;

    r->done = true;
    r->status = status;
    g_spawn_close_pid(pid);
}

/*
 * Run "sh -c @cmd" while @rt iterates (netbe's TAPs forward only then); after @midway_ms
 * call @midway(@data) once (NULL: none). Return: the exit status, -1 if it had to be
 * killed after 20 s.
 */
static int run_with(NetbeRuntime *rt, const char *cmd, void (*midway)(void *), void *data,
                    int midway_ms)
{
    /* its stdout (ping's report) to stderr: stdout is this test's TAP stream */
    g_autofree char *to_stderr = g_strdup_printf("exec >&2; %s", cmd);
    const char *argv[] = {"/bin/sh", "-c", to_stderr, NULL};
    g_autoptr(GError) err = NULL;
    gint64 start = g_get_monotonic_time();
    Run r = {.rt = rt};
    GSource *watch;
    GPid pid;

    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &pid, &err));
    watch = g_child_watch_source_new(pid);
    g_source_set_callback(watch, (GSourceFunc)(void (*)(void))run_exited, &r, NULL);
    g_source_attach(watch, netbe_runtime_get_context(rt));
    while (!r.done) {
        gint64 ms = (g_get_monotonic_time() - start) / 1000;

        if (midway && ms >= midway_ms) {
            midway(data);
            midway = NULL;
        }
        if (ms > 20000) {
            kill(pid, SIGKILL);
        }
        netbe_runtime_iterate(rt, false);
        g_usleep(200);
    }
    g_source_destroy(watch);
    g_source_unref(watch);
    return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
}

typedef struct LiveTaps {
    NetbeRuntime *rt;
    char *ifs[3];
    char *ns[3];
} LiveTaps;

/* A runtime with TAP netdevs a and b (moved to namespaces) and [hub.h] of @ports. */
static void live_taps_start(LiveTaps *t, const char *ports)
{
    g_autofree char *config = NULL;
    g_autoptr(GError) err = NULL;
    const char *tags[] = {"la", "lb", "lc"};

    for (int i = 0; i < 3; i++) {
        t->ifs[i] = tap_test_ifname(tags[i]);
        t->ns[i] = test_netns_create(tags[i]);
    }
    config = g_strdup_printf("[netdev.a]\ntype = tap\nifname = %s\n"
                             "[netdev.b]\ntype = tap\nifname = %s\n"
                             "[hub.h]\nports = %s\n",
                             t->ifs[0], t->ifs[1], ports);
    t->rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(t->rt, test_env_path("NETBE_PLUGIN_PATH"));
    g_assert_true(netbe_runtime_load_config_string(t->rt, config, "live.ini", &err));
    g_assert_no_error(err);
    g_assert_true(netbe_runtime_start(t->rt, &err));
    tap_test_move(t->ifs[0], t->ns[0], NULL, "10.98.0.1/24");
    tap_test_move(t->ifs[1], t->ns[1], NULL, "10.98.0.2/24");
}

static void live_taps_free(LiveTaps *t)
{
    netbe_runtime_free(t->rt);
    for (int i = 0; i < 3; i++) {
        test_netns_delete(t->ns[i]);
        g_free(t->ns[i]);
        g_free(t->ifs[i]);
    }
}

static NetbeQueueStats stats(LiveTaps *t, const char *id)
{
    NetbeQueueStats st = {0};

    g_assert_true(netbe_runtime_get_queue_stats(t->rt, id, 0, &st));
    return st;
}

/*
 * A hub runs with TAP a only; netdev b (an existing TAP netdev) joins it live, then a TAP
 * netdev c is created live and joins too. Fails if a ping does not get through a port the
 * moment it joined, if a port that left still forwards, or if the counters miss frames.
 */
static void test_hot_added_tap_forwards_pings(void)
{
    LiveTaps t;
    g_autoptr(GError) err = NULL;
    g_autofree char *ifname_kv = NULL, *ping_b = NULL, *ping_c = NULL, *no_reply_b = NULL;

    if (!test_need_root_net()) {
        return;
    }
    live_taps_start(&t, "a");
    ping_b = g_strdup_printf("ip netns exec %s ping -c 3 -i 0.2 -W 1 -q 10.98.0.2", t.ns[0]);
    no_reply_b = g_strdup_printf("ip netns exec %s ping -c 1 -W 1 -q 10.98.0.2", t.ns[0]);
    ping_c = g_strdup_printf("ip netns exec %s ping -c 3 -i 0.2 -W 1 -q 10.98.0.3", t.ns[0]);
    g_assert_cmpint(run_with(t.rt, no_reply_b, NULL, NULL, 0), !=, 0); /* b has no frontend */

    g_assert_true(netbe_runtime_hub_port_add(t.rt, "h", "b", &err));
    g_assert_no_error(err);
    g_assert_cmpint(run_with(t.rt, ping_b, NULL, NULL, 0), ==, 0);

    ifname_kv = g_strdup_printf("ifname=%s", t.ifs[2]);
    g_assert_true(netbe_runtime_netdev_add(
        t.rt, "c", (const char *const[]){"type=tap", ifname_kv, NULL}, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_runtime_hub_port_add(t.rt, "h", "c", &err));
    g_assert_no_error(err);
    tap_test_move(t.ifs[2], t.ns[2], NULL, "10.98.0.3/24");
    g_assert_cmpint(run_with(t.rt, ping_c, NULL, NULL, 0), ==, 0);
    /* c's counters agree with the kernel's: all it read, all it wrote */
    g_assert_cmpint(tap_test_kernel_counter(t.ns[2], t.ifs[2], "tx_packets"), ==,
                    stats(&t, "c").rx_frames);
    g_assert_cmpint(tap_test_kernel_counter(t.ns[2], t.ifs[2], "rx_packets"), ==,
                    stats(&t, "c").tx_frames);

    g_assert_true(netbe_runtime_hub_port_del(t.rt, "h", "b", &err));
    g_assert_cmpint(run_with(t.rt, no_reply_b, NULL, NULL, 0), !=, 0);
    live_taps_free(&t);
}

static void delete_netdev(void *data)
{
    LiveTaps *t = data;
    g_autoptr(GError) err = NULL;

    g_assert_true(netbe_runtime_netdev_del(t->rt, "b", &err));
    g_assert_no_error(err);
}

/*
 * A ping flood from a to b while b is deleted mid-flow (ASan: no use after free, no
 * leak). Fails if the runtime crashes, the TAP survives its netdev, or a and the hub do
 * not go on forwarding to a port added afterwards.
 */
static void test_delete_tap_while_traffic_flows(void)
{
    LiveTaps t;
    g_autoptr(GError) err = NULL;
    g_autofree char *flood = NULL, *ping = NULL, *ifname_kv = NULL, *link = NULL;
    uint64_t rx_a;

    if (!test_need_root_net()) {
        return;
    }
    live_taps_start(&t, "a, b");
    flood = g_strdup_printf("ip netns exec %s ping -c 1500 -i 0.001 -W 1 -q 10.98.0.2", t.ns[0]);
    run_with(t.rt, flood, delete_netdev, &t, 700);
    rx_a = stats(&t, "a").rx_frames;
    g_assert_cmpuint(rx_a, >, 100);
    /* the TAP went with its netdev (netbe created it, so closing it removed it) */
    link = test_sh_output("ip -n %s link show %s 2>/dev/null", t.ns[1], t.ifs[1]);
    g_assert_true(!link || !*link);

    ifname_kv = g_strdup_printf("ifname=%s", t.ifs[2]);
    g_assert_true(netbe_runtime_netdev_add(
        t.rt, "b", (const char *const[]){"type=tap", ifname_kv, NULL}, &err));
    g_assert_true(netbe_runtime_hub_port_add(t.rt, "h", "b", &err));
    g_assert_no_error(err);
    tap_test_move(t.ifs[2], t.ns[2], NULL, "10.98.0.3/24");
    ping = g_strdup_printf("ip netns exec %s ping -c 2 -i 0.2 -W 1 -q 10.98.0.3", t.ns[0]);
    g_assert_cmpint(run_with(t.rt, ping, NULL, NULL, 0), ==, 0);
    g_assert_cmpuint(stats(&t, "a").rx_frames, >, rx_a); /* a's counters went on */
    live_taps_free(&t);
}

/*
 * netbe-host (sandboxed, as it runs by default) gets a TAP netdev with netdev-add and
 * hub-port-add, pings cross it, netdev-del takes it away; a netbe-host that dropped to an
 * unprivileged user refuses a TAP by name and says why. Fails if the sandbox kills the
 * host on a live TAP open, a ping does not get through, the TAP outlives its netdev, or
 * the refusal does not name the capability.
 */
static void test_netbe_host_hot_adds_a_tap(void)
{
    g_autofree char *ifa = tap_test_ifname("ha"), *ifb = tap_test_ifname("hb");
    g_autofree char *ns_a = NULL, *ns_b = NULL, *config = NULL, *add = NULL, *out = NULL;
    g_autofree char *err = NULL, *link = NULL, *add_c = NULL;
    const char *user_args[] = {"--user", "nobody", NULL};
    TestHost *h;

    if (!test_need_root_net()) {
        return;
    }
    ns_a = test_netns_create("ha");
    ns_b = test_netns_create("hb");
    config = g_strdup_printf("[netdev.a]\ntype = tap\nifname = %s\n[hub.h]\nports = a\n", ifa);
    h = test_host_start(config, NULL, NULL);
    g_assert_nonnull(h);
    tap_test_move(ifa, ns_a, NULL, "10.97.0.1/24");
    add = g_strdup_printf("netdev-add b type=tap ifname=%s", ifb);
    out = test_host_ctl(h, add);
    g_assert_nonnull(out);
    out = (g_free(out), test_host_ctl(h, "hub-port-add h b"));
    g_assert_nonnull(out);
    tap_test_move(ifb, ns_b, NULL, "10.97.0.2/24");
    g_assert_cmpint(test_sh("ip netns exec %s ping -c 3 -i 0.2 -W 2 -q 10.97.0.2", ns_a), ==, 0);
    out = (g_free(out), test_host_ctl(h, "netdev-del b"));
    g_assert_nonnull(out);
    link = test_sh_output("ip -n %s link show %s 2>/dev/null", ns_b, ifb);
    g_assert_true(!link || !*link);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);

    h = test_host_start(config, NULL, user_args);
    g_assert_nonnull(h);
    add_c = g_strdup_printf("netdev-add c type=tap ifname=%s", ifb);
    g_assert_cmpint(test_host_ctl_status(h, add_c, &err), ==, 1);
    g_test_message("after --user: %s", err);
    g_assert_nonnull(strstr(err, "netdev-add: netdev 'c' (tap)"));
    g_assert_nonnull(strstr(err, "CAP_NET_ADMIN"));
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
    test_netns_delete(ns_a);
    test_netns_delete(ns_b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tap/live/hot-added-tap-forwards-pings", test_hot_added_tap_forwards_pings);
    g_test_add_func("/tap/live/delete-tap-while-traffic-flows",
                    test_delete_tap_while_traffic_flows);
    g_test_add_func("/tap/live/netbe-host-hot-adds-a-tap", test_netbe_host_hot_adds_a_tap);
    return g_test_run();
}
