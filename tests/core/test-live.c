// SPDX-License-Identifier: GPL-2.0-or-later
/* test-live.c - live changes through libnetbe on the fixture plugin: netdev add/del, hub
 * ports, link, plugin commands and reload; every refusal changes nothing. */
#include <errno.h>
#include <string.h>
#include "fixture-plugin.h"
#include "netbe/netbe.h"
#include "plugin-dir.h"

typedef struct Live {
    char *dir;
    char *ini;
    NetbeRuntime *rt;
    FixtureInjectFunc inject;
    FixtureTakeSentFunc take;
    FixtureSentCountFunc count;
    FixtureSetBusyFunc set_busy;
} Live;

static const char *hub_abc = "[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n"
                             "[netdev.c]\ntype = fixture\n[hub.h]\nports = a, b, c\n";

static void live_write(Live *l, const char *config)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(g_file_set_contents(l->ini, config, -1, &err));
}

static Live live_new(const char *config)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    g_autoptr(GError) err = NULL;
    Live l;

    l.dir = test_plugin_dir_new(files);
    l.ini = g_build_filename(l.dir, "live.ini", NULL);
    live_write(&l, config);
    l.rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(l.rt, l.dir);
    g_assert_true(netbe_runtime_load_config_file(l.rt, l.ini, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_runtime_start(l.rt, &err));
    l.inject = test_fixture_symbol(l.dir, "fixture_inject");
    l.take = test_fixture_symbol(l.dir, "fixture_take_sent");
    l.count = test_fixture_symbol(l.dir, "fixture_sent_count");
    l.set_busy = test_fixture_symbol(l.dir, "fixture_set_busy");
    return l;
}

static void live_free(Live *l)
{
    netbe_runtime_free(l->rt);
    g_free(l->ini);
    test_plugin_dir_free(l->dir);
}

static NetbeQueueStats stats(Live *l, const char *id)
{
    NetbeQueueStats st;

    g_assert_true(netbe_runtime_get_queue_stats(l->rt, id, 0, &st));
    return st;
}

/* Fails the test, showing the message, unless @err says @text. */
static void assert_says(const GError *err, const char *text)
{
    g_assert_nonnull(err);
    if (!strstr(err->message, text)) {
        g_error("'%s' does not say '%s'", err->message, text);
    }
}

static bool has_netdev(Live *l, const char *id)
{
    NetbeQueueStats st;

    return netbe_runtime_get_queue_stats(l->rt, id, 0, &st);
}

/* The runtime's status tree as text, to compare before and after. */
static char *status_text(NetbeRuntime *rt)
{
    g_autoptr(GVariant) v = netbe_runtime_status_variant(rt);

    return g_variant_print(v, true);
}

/* Fails if a bad argument is not reported in the ini's style, or leaves a netdev behind. */
static void test_netdev_add_refusals_change_nothing(void)
{
    Live l = live_new(hub_abc);
    g_autofree char *before = status_text(l.rt);
    g_autofree char *after = NULL;
    const struct {
        const char *id;
        const char *const *kv;
        const char *message;
    } cases[] = {
        {"d", (const char *const[]){"type=fixture", "colour=red", NULL},
         "netdev-add:2: [netdev.d] colour: unknown key"},
        {"d", (const char *const[]){"type=fixture", "queues=9", NULL},
         "netdev-add:2: [netdev.d] queues: '9' is not valid (allowed: an integer 1..4)"},
        {"d", (const char *const[]){"queues=2", NULL}, "netdev-add:1: [netdev.d] type: required"},
        {"d", (const char *const[]){"type=nosuch", NULL},
         "netdev-add:1: [netdev.d] type: no plugin 'nosuch'"},
        {"d", (const char *const[]){"type=fixture", "queues", NULL},
         "netdev-add:2: [netdev.d]: 'queues' is not key=value"},
        {"a", (const char *const[]){"type=fixture", NULL}, "netdev 'a' exists already"},
        {"d/x", (const char *const[]){"type=fixture", NULL}, "bad id 'd/x'"},
        {"d", (const char *const[]){"type=fixture", "fail_connect=on", NULL}, "netdev-add: "},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;

        g_assert_false(netbe_runtime_netdev_add(l.rt, cases[i].id, cases[i].kv, &err));
        g_assert_nonnull(err);
        if (!strstr(err->message, cases[i].message)) {
            g_error("case %zu: '%s' does not say '%s'", i, err->message, cases[i].message);
        }
    }
    after = status_text(l.rt);
    g_assert_cmpstr(before, ==, after);
    live_free(&l);
}

/* Fails if a netdev added live into a running hub does not forward both ways, or one
 * taken out still gets frames. */
static void test_hub_port_add_forwards_at_once(void)
{
    Live l = live_new(hub_abc);
    g_autoptr(GError) err = NULL;

    g_assert_true(
        netbe_runtime_netdev_add(l.rt, "d", (const char *const[]){"type=fixture", NULL}, &err));
    g_assert_no_error(err);
    g_assert_cmpint(l.inject("a", 0, "before", 6), ==, 6);
    g_assert_cmpuint(l.count("d"), ==, 0); /* no frontend yet */
    g_assert_true(netbe_runtime_hub_port_add(l.rt, "h", "d", &err));
    g_assert_no_error(err);
    g_assert_cmpint(l.inject("a", 0, "after", 5), ==, 5);
    g_assert_cmpuint(l.count("d"), ==, 1);
    g_assert_cmpint(l.inject("d", 0, "from-d", 6), ==, 6);
    g_assert_cmpuint(l.count("a"), ==, 1);
    g_assert_cmpuint(stats(&l, "d").rx_frames, ==, 1);

    /* a second frontend for d, an unknown hub or netdev: refused */
    g_assert_false(netbe_runtime_hub_port_add(l.rt, "h", "d", &err));
    g_assert_error(err, NETBE_CONFIG_ERROR, EBUSY);
    g_clear_error(&err);
    g_assert_false(netbe_runtime_hub_port_add(l.rt, "nohub", "d", &err));
    g_assert_error(err, NETBE_CONFIG_ERROR, ENOENT);
    g_clear_error(&err);
    g_assert_false(netbe_runtime_hub_port_add(l.rt, "h", "nonetdev", &err));
    assert_says(err, "allowed: a, b, c, d");
    g_clear_error(&err);

    g_assert_true(netbe_runtime_hub_port_del(l.rt, "h", "d", &err));
    g_assert_cmpint(l.inject("a", 0, "gone", 4), ==, 4);
    g_assert_cmpuint(l.count("d"), ==, 1);
    g_assert_false(netbe_runtime_hub_port_del(l.rt, "h", "d", &err));
    g_assert_error(err, NETBE_CONFIG_ERROR, ENOENT);
    live_free(&l);
}

/* Fails if frames held for a deleted port are lost silently, or the hub still uses it
 * (ASan: a use after free). */
static void test_netdev_del_counts_held_frames(void)
{
    Live l = live_new(hub_abc);
    g_autoptr(GError) err = NULL;

    l.set_busy("c", true);
    for (int i = 0; i < 5; i++) {
        g_assert_cmpint(l.inject("a", 0, "held", 4), ==, 4);
    }
    g_assert_cmpuint(stats(&l, "c").tx_queued, ==, 5);
    g_assert_true(netbe_runtime_netdev_del(l.rt, "c", &err));
    g_assert_no_error(err);
    g_assert_false(has_netdev(&l, "c"));
    g_assert_cmpint(l.inject("a", 0, "next", 4), ==, 4);
    g_assert_cmpuint(l.count("b"), ==, 6);
    g_assert_false(netbe_runtime_netdev_del(l.rt, "c", &err));
    g_assert_error(err, NETBE_CONFIG_ERROR, ENOENT);
    g_clear_error(&err);
    /* the id is free again */
    g_assert_true(
        netbe_runtime_netdev_add(l.rt, "c", (const char *const[]){"type=fixture", NULL}, &err));
    g_assert_cmpuint(stats(&l, "c").tx_frames, ==, 0);
    live_free(&l);
}

/* Appends "NAME DATA" of every event to the GString @opaque. */
static void note_event(const char *name, GVariant *data, gint64 time_us, void *opaque)
{
    g_autofree char *text = g_variant_print(data, false);

    g_string_append_printf(opaque, "%s %s\n", name, text);
}

/* Fails if frames pass a port whose link is down, or are not counted as drops, or the
 * link changes are not told once each (and not at all when nothing changes). */
static void test_link_down_drops_both_ways(void)
{
    Live l = live_new(hub_abc);
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) events = g_string_new(NULL);

    netbe_runtime_subscribe(l.rt, note_event, events);

    g_assert_true(netbe_runtime_set_link(l.rt, "c", false, &err));
    g_assert_cmpint(l.inject("a", 0, "to-c", 4), ==, 4);
    g_assert_cmpuint(l.count("c"), ==, 0);
    g_assert_cmpuint(l.count("b"), ==, 1);
    g_assert_cmpuint(stats(&l, "c").tx_drops, ==, 1);
    g_assert_cmpint(l.inject("c", 0, "from-c", 6), <, 0);
    g_assert_cmpuint(stats(&l, "c").rx_drops, ==, 1);
    g_assert_cmpuint(l.count("a"), ==, 0);
    g_assert_true(netbe_runtime_set_link(l.rt, "c", true, &err));
    g_assert_cmpint(l.inject("c", 0, "from-c", 6), ==, 6);
    g_assert_cmpuint(l.count("a"), ==, 1);
    g_assert_true(netbe_runtime_set_link(l.rt, "c", true, &err)); /* no change: no event */
    g_assert_false(netbe_runtime_set_link(l.rt, "nosuch", false, &err));
    g_assert_error(err, NETBE_CONFIG_ERROR, ENOENT);
    g_assert_cmpstr(events->str, ==,
                    "link-changed {'netdev': <'c'>, 'link': <'down'>}\n"
                    "link-changed {'netdev': <'c'>, 'link': <'up'>}\n");
    live_free(&l);
}

/* Fails if a plugin without runtime commands is not named in the refusal. */
static void test_hostfwd_needs_a_plugin_that_takes_it(void)
{
    Live l = live_new(hub_abc);
    g_autoptr(GError) err = NULL;

    g_assert_false(netbe_runtime_hostfwd_add(l.rt, "a", "tcp::2222-:22", &err));
    g_assert_error(err, NETBE_BACKEND_ERROR, ENOTSUP);
    assert_says(err, "netdev 'a' (fixture) has no hostfwd-add");
    live_free(&l);
}

/* Once the host asked which syscalls the plugins need (to build its seccomp filter), a
 * netdev of a plugin that needs another is refused: the filter would kill the process.
 * Fails if it is added, or the message does not name the syscall. */
static void test_netdev_add_refuses_syscalls_the_sandbox_lacks(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    g_autofree char *dir = test_plugin_dir_new(files);
    g_autofree char *path = g_strdup_printf("%s:%s", dir, g_getenv("NETBE_PLUGIN_PATH"));
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;
    g_autofree const char **extra = NULL;

    netbe_runtime_set_plugin_path(rt, path);
    g_assert_true(netbe_runtime_load_config_string(
        rt, "[netdev.s]\ntype = socket\nlisten = 127.0.0.1:0\n", "seal.ini", &err));
    g_assert_no_error(err);
    g_assert_true(
        netbe_runtime_netdev_add(rt, "f1", (const char *const[]){"type=fixture", NULL}, &err));
    g_assert_true(netbe_runtime_netdev_del(rt, "f1", &err));
    extra = netbe_runtime_extra_syscalls(rt); /* what a sandbox would allow from now on */
    g_assert_null(extra[0]);
    g_assert_false(
        netbe_runtime_netdev_add(rt, "f2", (const char *const[]){"type=fixture", NULL}, &err));
    assert_says(err, "the sandbox set up at start does not allow (getpriority)");
    g_clear_error(&err);
    g_assert_false(netbe_runtime_set_link(rt, "f2", false, &err));
    netbe_runtime_free(rt);
    test_plugin_dir_free(g_steal_pointer(&dir));
}

/* Fails if a reload touches what did not change (its counters restart), keeps what went,
 * misses what came, or changes anything at all for a file with an error. */
static void test_reload_applies_the_difference(void)
{
    Live l = live_new(hub_abc);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = NULL, *after = NULL;

    g_assert_cmpint(l.inject("a", 0, "one", 3), ==, 3);
    g_assert_cmpuint(stats(&l, "c").tx_frames, ==, 1);

    /* an error anywhere: nothing changes */
    live_write(&l, "[netdev.a]\ntype = fixture\n[netdev.c]\ntype = fixture\nqueues = 2\n"
                   "[netdev.d]\ntype = fixture\ncolour = red\n[hub.h]\nports = a, c, d\n");
    before = status_text(l.rt);
    g_assert_false(netbe_runtime_reload(l.rt, NULL, &err));
    assert_says(err, "live.ini:8: [netdev.d] colour: unknown key");
    g_clear_error(&err);
    after = status_text(l.rt);
    g_assert_cmpstr(before, ==, after);
    g_assert_cmpuint(stats(&l, "a").rx_frames, ==, 1);

    /* b goes, c changes (queues), d comes; a is the same */
    live_write(&l, "[netdev.a]\ntype = fixture\n[netdev.c]\ntype = fixture\nqueues = 2\n"
                   "[netdev.d]\ntype = fixture\n[hub.h]\nports = a, c, d\n");
    g_assert_true(netbe_runtime_reload(l.rt, NULL, &err));
    g_assert_no_error(err);
    g_assert_false(has_netdev(&l, "b"));
    g_assert_cmpuint(stats(&l, "a").rx_frames, ==, 1); /* untouched: goes on */
    g_assert_cmpuint(stats(&l, "c").tx_frames, ==, 0); /* replaced */
    g_assert_cmpint(l.inject("a", 0, "two", 3), ==, 3);
    g_assert_cmpuint(stats(&l, "a").rx_frames, ==, 2);
    g_assert_cmpuint(l.count("d"), ==, 1);
    g_assert_cmpuint(stats(&l, "c").tx_frames, ==, 1);

    /* a rate limit is applied in place: the netdev is the same one, its counters go on */
    live_write(&l, "[netdev.a]\ntype = fixture\ntx_bytes_per_sec = 1m\n[netdev.c]\ntype = "
                   "fixture\nqueues = 2\n[netdev.d]\ntype = fixture\n[hub.h]\nports = a, c, d\n");
    g_assert_true(netbe_runtime_reload(l.rt, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(stats(&l, "a").rx_frames, ==, 2);
    {
        g_auto(GStrv) limits = netbe_runtime_get_rate_limit(l.rt, "a", &err);

        g_assert_nonnull(limits);
        g_assert_true(g_strv_contains((const char *const *)limits, "tx_bytes_per_sec=1048576"));
    }
    g_assert_true(netbe_runtime_reload(l.rt, NULL, &err)); /* the same file: nothing to do */
    g_assert_cmpuint(stats(&l, "a").rx_frames, ==, 2);

    /* a pipe would block the daemon: refused before it is opened */
    g_assert_false(netbe_runtime_reload(l.rt, "/dev/null", &err));
    assert_says(err, "/dev/null: not a regular file");
    g_clear_error(&err);

    /* [runtime] cannot change without a restart */
    live_write(&l, "[runtime]\nqueue_limit = 8\n[netdev.a]\ntype = fixture\n");
    g_assert_false(netbe_runtime_reload(l.rt, NULL, &err));
    assert_says(err, "[runtime]: changed");
    g_assert_true(has_netdev(&l, "d"));
    live_free(&l);
}

/* Fails if a reload keeps a hub's unchanged ports out of it, or moves a netdev between
 * hubs without the old one letting go. */
static void test_reload_moves_ports_between_hubs(void)
{
    Live l = live_new(hub_abc);
    g_autoptr(GError) err = NULL;

    live_write(&l, "[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n"
                   "[netdev.c]\ntype = fixture\n[hub.h]\nports = a, b\n[hub.g]\nports = c\n");
    g_assert_true(netbe_runtime_reload(l.rt, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpint(l.inject("a", 0, "x", 1), ==, 1);
    g_assert_cmpuint(l.count("b"), ==, 1);
    g_assert_cmpuint(l.count("c"), ==, 0);
    /* a hub that goes lets its ports go: c stays, without a frontend */
    live_write(&l, "[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n"
                   "[netdev.c]\ntype = fixture\n[hub.h]\nports = a, b\n");
    g_assert_true(netbe_runtime_reload(l.rt, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpint(l.inject("c", 0, "y", 1), <, 0); /* no frontend: dropped, counted */
    g_assert_cmpuint(stats(&l, "c").rx_drops, ==, 1);
    g_assert_true(netbe_runtime_hub_port_add(l.rt, "h", "c", &err)); /* free to join again */
    live_write(&l, "[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n"
                   "[netdev.c]\ntype = fixture\n[hub.h]\nports = a, b\n[hub.g]\nports = c\n");
    g_assert_true(netbe_runtime_reload(l.rt, NULL, &err));
    g_assert_no_error(err);
    /* a netdev added live and not in the file goes with a reload */
    g_assert_true(
        netbe_runtime_netdev_add(l.rt, "e", (const char *const[]){"type=fixture", NULL}, &err));
    g_assert_true(netbe_runtime_reload(l.rt, NULL, &err));
    g_assert_false(has_netdev(&l, "e"));
    live_free(&l);
}

/* A VMM holds the embedded devices it found: a reload must not free one under it, and
 * netdev-del keeps it (its link down). Fails if the device goes, or one not found yet
 * cannot be removed. */
static void test_reload_keeps_devices_a_vmm_holds(void)
{
    Live l = live_new("[netdev.a]\ntype = fixture\n[device.d0]\nnetdev = a\n"
                      "[netdev.b]\ntype = fixture\n[device.d1]\nnetdev = b\n");
    g_autoptr(GError) err = NULL;
    NetbeDevice *d0 = netbe_runtime_find_device(l.rt, "d0");

    g_assert_nonnull(d0);
    live_write(&l, "[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n");
    g_assert_false(netbe_runtime_reload(l.rt, NULL, &err));
    assert_says(err, "[device.d0]: an embedded device its VMM uses cannot be removed");
    g_clear_error(&err);
    g_assert_true(netbe_runtime_find_device(l.rt, "d1") != NULL); /* nothing changed */

    live_write(&l, "[netdev.a]\ntype = fixture\n[device.d0]\nnetdev = a\n"
                   "[netdev.b]\ntype = fixture\n");
    g_assert_false(netbe_runtime_reload(l.rt, NULL, &err)); /* d1 was found just now */
    g_clear_error(&err);
    g_assert_true(netbe_runtime_netdev_del(l.rt, "a", &err));
    g_assert_true(netbe_runtime_find_device(l.rt, "d0") == d0);
    g_assert_false(netbe_device_is_connected(d0));
    live_free(&l);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/live/netdev-add/refusals-change-nothing",
                    test_netdev_add_refusals_change_nothing);
    g_test_add_func("/live/hub-port-add/forwards-at-once", test_hub_port_add_forwards_at_once);
    g_test_add_func("/live/netdev-del/counts-held-frames", test_netdev_del_counts_held_frames);
    g_test_add_func("/live/link/down-drops-both-ways", test_link_down_drops_both_ways);
    g_test_add_func("/live/hostfwd/needs-a-plugin-that-takes-it",
                    test_hostfwd_needs_a_plugin_that_takes_it);
    g_test_add_func("/live/netdev-add/refuses-syscalls-the-sandbox-lacks",
                    test_netdev_add_refuses_syscalls_the_sandbox_lacks);
    g_test_add_func("/live/reload/applies-the-difference", test_reload_applies_the_difference);
    g_test_add_func("/live/reload/moves-ports-between-hubs", test_reload_moves_ports_between_hubs);
    g_test_add_func("/live/reload/keeps-devices-a-vmm-holds",
                    test_reload_keeps_devices_a_vmm_holds);
    return g_test_run();
}
