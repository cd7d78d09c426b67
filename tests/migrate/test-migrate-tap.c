// SPDX-License-Identifier: GPL-2.0-or-later
/* test-migrate-tap.c - live handover of TAP backends between two netbe-host processes:
 * numbered frames at a steady rate cross the handover exactly once and in order, a ping
 * flood loses no reply, multiqueue TAPs and several hubs move in one handover, and the
 * destination never opens a TAP of its own. Needs root (TAP devices, namespaces). */
#include <stdio.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "seq-pump.h"

/*
 * Frames a TAP's kernel queue holds for its reader (txqueuelen; the kernel's default is
 * 1000): 1 s of the fastest pump here. Frames that come while nobody reads the TAP (netbe
 * paused for the handover, or waiting for a CPU on a loaded machine) wait there; what does
 * not fit is dropped by the kernel, counted at the TAP (SeqPumpResult.tap_drops). With the
 * default, a 50 ms wait for a CPU at 20,000 frames/s lost frames that netbe never saw.
 */
#define TAP_QUEUE_FRAMES 20000

/* One handover scenario: hubs of TAP pairs, all moved into one namespace. */
typedef struct Scenario {
    char *ns;
    char *ns2;       /* second namespace (ping test) or NULL */
    GPtrArray *taps; /* interface names, pairs: 2k joined to 2k+1 by hub k */
    char *config;
    TestHost *src, *dst;
    char *incoming;
} Scenario;

static Scenario *scenario_new(unsigned hubs, unsigned queues, bool two_namespaces)
{
    Scenario *s = g_new0(Scenario, 1);
    GString *conf = g_string_new(NULL);
    static int counter;

    s->ns = test_netns_create("mig");
    s->ns2 = two_namespaces ? test_netns_create("mig2") : NULL;
    s->taps = g_ptr_array_new_with_free_func(g_free);
    for (unsigned h = 0; h < hubs; h++) {
        for (unsigned side = 0; side < 2; side++) {
            char *name =
                g_strdup_printf("nbm%d%c%u%d", (int)getpid() % 100000, 'a' + side, h, counter);
            g_ptr_array_add(s->taps, name);
            g_string_append_printf(conf,
                                   "[netdev.t%u%c]\ntype = tap\nifname = %s\n"
                                   "queues = %u\n",
                                   h, 'a' + side, name, queues);
        }
        g_string_append_printf(conf, "[hub.h%u]\nports = t%ua, t%ub\nconnect = deferred\n", h, h,
                               h);
    }
    counter++;
    s->config = g_string_free(conf, false);
    return s;
}

/* Start the source and move its TAPs into the namespace(s). */
static void scenario_start_source(Scenario *s)
{
    s->src = test_host_start(s->config, NULL, NULL);
    g_assert_nonnull(s->src);
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", s->ns);
    if (s->ns2) {
        test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", s->ns2);
    }
    for (guint i = 0; i < s->taps->len; i++) {
        const char *ns = s->ns2 && (i & 1) ? s->ns2 : s->ns;
        const char *tap = g_ptr_array_index(s->taps, i);

        g_assert_cmpint(test_sh("ip link set %s netns %s && ip -n %s link set %s txqueuelen %d up",
                                tap, ns, ns, tap, TAP_QUEUE_FRAMES),
                        ==, 0);
    }
}

/* Start the destination with --incoming, then hand over. Return: netbe-ctl's output. */
static char *scenario_handover(Scenario *s)
{
    const char *args[] = {"--incoming", NULL, NULL};
    g_autofree char *cmd = NULL;
    gint64 t0;
    char *out;

    s->incoming = g_strdup_printf("%s/incoming.sock", s->src->dir);
    args[1] = s->incoming;
    s->dst = test_host_spawn(s->config, NULL, args, NULL);
    g_assert_nonnull(s->dst);
    for (int i = 0; i < 250 && !g_file_test(s->incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    cmd = g_strdup_printf("migrate %s", s->incoming);
    t0 = g_get_monotonic_time();
    out = test_host_ctl(s->src, cmd);
    g_assert_nonnull(out);
    g_test_message("%s (asked at %.1f ms, answered at %.1f ms, monotonic)", out, t0 / 1000.0,
                   g_get_monotonic_time() / 1000.0);
    g_assert_nonnull(strstr(out, "migrated: downtime"));
    g_assert_cmpint(test_host_wait(s->src, 10000), ==, 0);
    g_assert_true(test_host_wait_serving(s->dst, 10000));
    return out;
}

static void scenario_free(Scenario *s)
{
    g_autofree char *log = NULL;

    if (s->dst && g_file_get_contents(s->dst->log, &log, NULL, NULL)) {
        /* the destination adopted: it never created a TAP of its own */
        g_assert_null(strstr(log, "created"));
    }
    test_host_free(s->src);
    test_host_free(s->dst);
    test_netns_delete(s->ns);
    test_netns_delete(s->ns2);
    g_ptr_array_unref(s->taps);
    g_free(s->ns);
    g_free(s->ns2);
    g_free(s->config);
    g_free(s->incoming);
    g_free(s);
}

/* Fails if netbe counted a frame it dropped (its queues' limits, a send that failed). */
static void assert_netbe_dropped_nothing(Scenario *s)
{
    g_autofree char *stats = test_host_ctl(s->dst, "stats --json");

    g_assert_nonnull(stats);
    if (g_regex_match_simple("\"(rx|tx)_drops\":[1-9]", stats, 0, 0)) {
        g_error("netbe dropped frames: %s", stats);
    }
}

/*
 * Fails if a frame is lost, doubled or reordered (@ordered) between the pump's TAPs. A frame
 * the kernel dropped at the entering TAP (its queue was full) fails the test first, saying
 * so: netbe never saw it, and the TAP's queue is sized so that this does not happen.
 */
static void assert_no_loss(const SeqPumpResult *r, bool ordered)
{
    g_test_message("sent %u (refused %u) received %u missing %u duplicates %u out of order %u; "
                   "the kernel dropped %" G_GUINT64_FORMAT
                   " at the entering TAP, %" G_GUINT64_FORMAT " at the witness",
                   r->sent, r->refused, r->received, r->missing, r->duplicates, r->out_of_order,
                   r->tap_drops, r->witness_drops);
    g_assert_cmpuint(r->sent, >, 5000);
    if (r->tap_drops || r->witness_drops) {
        g_error("the kernel dropped %" G_GUINT64_FORMAT " frames at the entering TAP (queue of "
                "%d frames) and %" G_GUINT64_FORMAT " at the witness: not netbe's loss, but "
                "this test cannot tell whether netbe lost any",
                r->tap_drops, TAP_QUEUE_FRAMES, r->witness_drops);
    }
    g_assert_cmpuint(r->missing, ==, 0);
    g_assert_cmpuint(r->duplicates, ==, 0);
    g_assert_cmpuint(r->received, ==, r->sent);
    if (ordered) {
        g_assert_cmpuint(r->out_of_order, ==, 0);
    }
}

/* Fails if a frame is lost, doubled or reordered while the TAPs move at 20,000 frames/s. */
static void test_steady_stream_crosses_handover_exactly_once(void)
{
    Scenario *s;
    SeqPump *pump;
    SeqPumpResult r;

    if (!test_need_root_net()) {
        return;
    }
    s = scenario_new(1, 1, false);
    scenario_start_source(s);
    pump =
        seq_pump_start(s->ns, g_ptr_array_index(s->taps, 0), g_ptr_array_index(s->taps, 1), 20000);
    g_usleep(400000);
    g_free(scenario_handover(s));
    g_usleep(400000);
    r = seq_pump_stop(pump);
    assert_no_loss(&r, true);
    assert_netbe_dropped_nothing(s);
    scenario_free(s);
}

/* Fails if 4-queue TAPs on two hubs do not all move in one handover without loss. */
static void test_multiqueue_and_two_hubs_in_one_handover(void)
{
    Scenario *s;
    SeqPump *p0, *p1;
    SeqPumpResult r0, r1;
    g_autofree char *out = NULL;

    if (!test_need_root_net()) {
        return;
    }
    s = scenario_new(2, 4, false);
    scenario_start_source(s);
    p0 = seq_pump_start(s->ns, g_ptr_array_index(s->taps, 0), g_ptr_array_index(s->taps, 1), 10000);
    p1 = seq_pump_start(s->ns, g_ptr_array_index(s->taps, 3), g_ptr_array_index(s->taps, 2), 10000);
    g_usleep(400000);
    out = scenario_handover(s);
    g_assert_nonnull(strstr(out, "4 backends, 16 fds"));
    g_usleep(400000);
    r0 = seq_pump_stop(p0);
    r1 = seq_pump_stop(p1);
    /* one flow stays on one queue, so order holds here too */
    assert_no_loss(&r0, true);
    assert_no_loss(&r1, true);
    assert_netbe_dropped_nothing(s);
    scenario_free(s);
}

/* Fails if a ping flood between two namespaces loses a reply across the handover. */
static void test_ping_flood_loses_no_reply(void)
{
    Scenario *s;
    g_autofree char *ping = NULL, *cmd = NULL, *pingout = NULL;
    double last = 0, gap = 0;
    g_auto(GStrv) lines = NULL;
    int replies = 0;

    if (!test_need_root_net()) {
        return;
    }
    s = scenario_new(1, 1, true);
    scenario_start_source(s);
    g_assert_cmpint(test_sh("ip -n %s addr add 10.77.0.1/24 dev %s && "
                            "ip -n %s addr add 10.77.0.2/24 dev %s",
                            s->ns, (char *)g_ptr_array_index(s->taps, 0), s->ns2,
                            (char *)g_ptr_array_index(s->taps, 1)),
                    ==, 0);
    g_assert_cmpint(test_sh("ip netns exec %s ping -c 3 -i 0.2 -W 1 10.77.0.2 >/dev/null", s->ns),
                    ==, 0);
    pingout = g_strdup_printf("%s/ping.out", s->src->dir);
    cmd = g_strdup_printf("ip netns exec %s ping -D -i 0.001 -c 2000 -W 1 10.77.0.2 > '%s' & "
                          "echo $! > '%s.pid'",
                          s->ns, pingout, pingout);
    g_assert_cmpint(test_sh("%s", cmd), ==, 0);
    g_usleep(700000);
    g_free(scenario_handover(s));
    /* 2000 pings at 1 ms take about 3 s; give up after 30 */
    g_assert_cmpint(test_sh("for i in $(seq 300); do kill -0 $(cat '%s.pid') 2>/dev/null || "
                            "exit 0; sleep 0.1; done; kill $(cat '%s.pid'); exit 1",
                            pingout, pingout),
                    ==, 0);
    g_assert_true(g_file_get_contents(pingout, &ping, NULL, NULL));
    lines = g_strsplit(ping, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        double t;

        if (sscanf(lines[i], "[%lf]", &t) == 1 && strstr(lines[i], "bytes from")) {
            if (last > 0) {
                gap = MAX(gap, t - last);
            }
            last = t;
            replies++;
        }
    }
    g_test_message("ping: %d of 2000 replies, largest gap between replies %.1f ms", replies,
                   gap * 1000);
    g_assert_nonnull(strstr(ping, "2000 packets transmitted, 2000 received"));
    g_assert_cmpfloat(gap, <, 0.5); /* QEMU's series allows 0.5 s */
    scenario_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migrate-tap/steady-stream-crosses-exactly-once",
                    test_steady_stream_crosses_handover_exactly_once);
    g_test_add_func("/migrate-tap/multiqueue-and-two-hubs",
                    test_multiqueue_and_two_hubs_in_one_handover);
    g_test_add_func("/migrate-tap/ping-flood-loses-no-reply", test_ping_flood_loses_no_reply);
    return g_test_run();
}
