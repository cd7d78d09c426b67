// SPDX-License-Identifier: GPL-2.0-or-later
/* test-hub.c - the hub frontend: a frame from one port reaches every other port, a busy
 * port gets its frames later without drops within its queue limit, and never stalls others. */
#include "fixture-plugin.h"
#include "netbe/netbe.h"
#include "plugin-dir.h"

typedef struct Hub {
    char *dir;
    NetbeRuntime *rt;
    FixtureInjectFunc inject;
    FixtureTakeSentFunc take;
    FixtureSentCountFunc count;
    FixtureSetBusyFunc set_busy;
} Hub;

static Hub hub_new(const char *config)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    g_autoptr(GError) err = NULL;
    Hub h;

    h.dir = test_plugin_dir_new(files);
    h.rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(h.rt, h.dir);
    g_assert_true(netbe_runtime_load_config_string(h.rt, config, "hub.ini", &err));
    g_assert_no_error(err);
    h.inject = test_fixture_symbol(h.dir, "fixture_inject");
    h.take = test_fixture_symbol(h.dir, "fixture_take_sent");
    h.count = test_fixture_symbol(h.dir, "fixture_sent_count");
    h.set_busy = test_fixture_symbol(h.dir, "fixture_set_busy");
    return h;
}

static void hub_free(Hub *h)
{
    netbe_runtime_free(h->rt);
    test_plugin_dir_free(h->dir);
}

static NetbeQueueStats stats(Hub *h, const char *id)
{
    NetbeQueueStats st;

    g_assert_true(netbe_runtime_get_queue_stats(h->rt, id, 0, &st));
    return st;
}

/* Take the next frame port @id sent out and check it is @frame. */
static void assert_next_frame(Hub *h, const char *id, const char *frame)
{
    g_autoptr(GBytes) got = h->take(id);
    g_autoptr(GBytes) want = g_bytes_new(frame, strlen(frame));

    g_assert_nonnull(got);
    g_assert_true(g_bytes_equal(got, want));
}

static const char *three_ports =
    "[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n[netdev.c]\ntype = fixture\n"
    "[hub.h]\nports = a, b, c\n";

/* Fails if a frame is lost, changed, echoed to its source, or not counted. */
static void test_frame_reaches_every_other_port(void)
{
    Hub h = hub_new(three_ports);
    g_autoptr(GError) err = NULL;

    g_assert_true(netbe_runtime_start(h.rt, &err));
    g_assert_cmpint(h.inject("a", 0, "frame-from-a", 12), ==, 12);
    assert_next_frame(&h, "b", "frame-from-a");
    assert_next_frame(&h, "c", "frame-from-a");
    g_assert_cmpuint(h.count("a"), ==, 0);
    g_assert_cmpuint(stats(&h, "a").rx_frames, ==, 1);
    g_assert_cmpuint(stats(&h, "a").rx_bytes, ==, 12);
    g_assert_cmpuint(stats(&h, "b").tx_frames, ==, 1);
    g_assert_cmpuint(stats(&h, "c").tx_bytes, ==, 12);
    hub_free(&h);
}

/* Fails if a busy port drops frames within its limit, reorders them, or stalls others. */
static void test_busy_port_gets_frames_later_without_drops(void)
{
    Hub h = hub_new(three_ports);
    g_autoptr(GError) err = NULL;
    char frame[16];

    g_assert_true(netbe_runtime_start(h.rt, &err));
    h.set_busy("c", true);
    for (int i = 0; i < 10; i++) {
        g_snprintf(frame, sizeof(frame), "frame-%d", i);
        g_assert_cmpint(h.inject("a", 0, frame, strlen(frame)), >, 0);
    }
    g_assert_cmpuint(h.count("b"), ==, 10); /* the busy port did not stall b */
    g_assert_cmpuint(h.count("c"), ==, 0);
    g_assert_cmpuint(stats(&h, "c").tx_queued, ==, 10);
    h.set_busy("c", false); /* -> netbe_backend_tx_ready */
    for (int i = 0; i < 10; i++) {
        g_snprintf(frame, sizeof(frame), "frame-%d", i);
        assert_next_frame(&h, "c", frame);
    }
    g_assert_cmpuint(stats(&h, "c").tx_drops, ==, 0);
    g_assert_cmpuint(stats(&h, "c").tx_frames, ==, 10);
    g_assert_cmpuint(stats(&h, "c").tx_queued, ==, 0);
    hub_free(&h);
}

/* Fails if frames beyond the queue limit are not dropped and counted (never silent). */
static void test_frames_beyond_queue_limit_are_counted_drops(void)
{
    Hub h = hub_new("[runtime]\nqueue_limit = 4\n[netdev.a]\ntype = fixture\n"
                    "[netdev.b]\ntype = fixture\n[netdev.c]\ntype = fixture\nqueue_limit = 2\n"
                    "[hub.h]\nports = a, b, c\n");
    g_autoptr(GError) err = NULL;

    g_assert_true(netbe_runtime_start(h.rt, &err));
    h.set_busy("b", true);
    h.set_busy("c", true);
    for (int i = 0; i < 10; i++) {
        h.inject("a", 0, "x", 1);
    }
    g_assert_cmpuint(stats(&h, "b").tx_queued, ==, 4);
    g_assert_cmpuint(stats(&h, "b").tx_drops, ==, 6);
    g_assert_cmpuint(stats(&h, "c").tx_queued, ==, 2); /* per-netdev override */
    g_assert_cmpuint(stats(&h, "c").tx_drops, ==, 8);
    h.set_busy("b", false);
    g_assert_cmpuint(h.count("b"), ==, 4);
    hub_free(&h);
}

/* Fails if a hub forwards before it is started (frames must wait or be counted). */
static void test_frames_before_start_are_counted(void)
{
    Hub h = hub_new("[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n"
                    "[hub.h]\nports = a, b\nconnect = deferred\n");

    g_assert_cmpint(h.inject("a", 0, "early", 5), <, 0);
    g_assert_cmpuint(h.count("b"), ==, 0);
    g_assert_cmpuint(stats(&h, "a").rx_drops, ==, 1);
    hub_free(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hub/frame-reaches-every-other-port", test_frame_reaches_every_other_port);
    g_test_add_func("/hub/busy-port-gets-frames-later",
                    test_busy_port_gets_frames_later_without_drops);
    g_test_add_func("/hub/beyond-queue-limit-counted",
                    test_frames_beyond_queue_limit_are_counted_drops);
    g_test_add_func("/hub/frames-before-start-counted", test_frames_before_start_are_counted);
    return g_test_run();
}
