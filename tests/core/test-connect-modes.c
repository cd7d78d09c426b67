// SPDX-License-Identifier: GPL-2.0-or-later
/* test-connect-modes.c - connect = immediate | deferred and --check, proven by the order
 * of calls the fixture plugin records. */
#include <unistd.h>
#include "netbe/netbe.h"
#include "plugin-dir.h"

static char *plugin_dir;

typedef struct Run {
    NetbeRuntime *rt;
    char *log;
} Run;

/* Load @body (with LOG replaced by a fresh call-log path) into a new runtime. */
static Run run_load(const char *body, NetbeRuntimeFlags flags)
{
    Run r;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) parts = NULL;
    int fd;

    fd = g_file_open_tmp("netbe-calls-XXXXXX", &r.log, NULL);
    close(fd);
    parts = g_strsplit(body, "LOG", -1);
    text = g_strjoinv(r.log, parts);
    r.rt = netbe_runtime_new(NULL, flags);
    netbe_runtime_set_plugin_path(r.rt, plugin_dir);
    g_assert_true(netbe_runtime_load_config_string(r.rt, text, "modes.ini", &err));
    g_assert_no_error(err);
    return r;
}

/* The call log so far, one call per line, joined with ", ". */
static char *calls(const Run *r)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true(g_file_get_contents(r->log, &text, NULL, NULL));
    g_strchomp(text);
    lines = g_strsplit(text, "\n", -1);
    return g_strjoinv(", ", lines);
}

static void run_free(Run *r)
{
    netbe_runtime_free(r->rt);
    r->rt = NULL;
}

static void run_end(Run *r)
{
    netbe_runtime_free(r->rt);
    unlink(r->log);
    g_free(r->log);
}

static void assert_calls(const Run *r, const char *expected)
{
    g_autofree char *got = calls(r);

    g_assert_cmpstr(got, ==, expected);
}

/* Fails if an immediate device's backend is not connected right at load. */
static void test_immediate_connects_at_load(void)
{
    Run r = run_load("[netdev.a]\ntype = fixture\nlog = LOG\n[device.d]\nnetdev = a\n", 0);

    assert_calls(&r, "a init, a connect");
    g_assert_true(netbe_device_is_connected(netbe_runtime_find_device(r.rt, "d")));
    run_free(&r);
    assert_calls(&r, "a init, a connect, a cleanup");
    run_end(&r);
}

/* Fails if a deferred device connects before it starts, or not when it starts. */
static void test_deferred_connects_when_device_starts(void)
{
    Run r = run_load("[netdev.a]\ntype = fixture\nlog = LOG\n"
                     "[device.d]\nnetdev = a\nconnect = deferred\n",
                     0);
    NetbeDevice *dev = netbe_runtime_find_device(r.rt, "d");
    g_autoptr(GError) err = NULL;

    g_assert_true(netbe_runtime_start(r.rt, &err)); /* devices wait for their driver */
    assert_calls(&r, "a init");
    g_assert_false(netbe_device_is_connected(dev));
    g_assert_true(netbe_device_start(dev, &err));
    g_assert_no_error(err);
    assert_calls(&r, "a init, a connect");
    g_assert_true(netbe_device_start(dev, &err)); /* starting twice connects once */
    assert_calls(&r, "a init, a connect");
    run_free(&r);
    run_end(&r);
}

/* Fails if a deferred hub connects its ports before netbe_runtime_start(). */
static void test_deferred_hub_connects_at_start(void)
{
    Run r = run_load("[netdev.a]\ntype = fixture\nlog = LOG\n[netdev.b]\ntype = fixture\n"
                     "log = LOG\n[hub.h]\nports = a, b\nconnect = deferred\n",
                     0);
    g_autoptr(GError) err = NULL;

    assert_calls(&r, "a init, b init");
    g_assert_true(netbe_runtime_start(r.rt, &err));
    assert_calls(&r, "a init, b init, a connect, b connect, a poll 0 on, b poll 0 on");
    run_free(&r);
    assert_calls(&r, "a init, b init, a connect, b connect, a poll 0 on, b poll 0 on, "
                     "a poll 0 off, b poll 0 off, b cleanup, a cleanup");
    run_end(&r);
}

/* Fails if an immediate hub waits for the start to connect. */
static void test_immediate_hub_connects_at_load(void)
{
    Run r = run_load("[netdev.a]\ntype = fixture\nlog = LOG\n[netdev.b]\ntype = fixture\n"
                     "log = LOG\n[hub.h]\nports = a, b\n",
                     0);

    assert_calls(&r, "a init, b init, a connect, b connect");
    run_free(&r);
    run_end(&r);
}

/* Fails if check-only mode connects anything, or skips init (which validates). */
static void test_check_only_connects_nothing(void)
{
    Run r = run_load("[netdev.a]\ntype = fixture\nlog = LOG\n[netdev.b]\ntype = fixture\n"
                     "log = LOG\n[hub.h]\nports = a\n[device.d]\nnetdev = b\nconnect = deferred\n",
                     NETBE_RUNTIME_CHECK_ONLY);
    NetbeDevice *dev = netbe_runtime_find_device(r.rt, "d");
    g_autoptr(GError) err = NULL;

    g_assert_true(netbe_runtime_start(r.rt, &err));
    g_assert_false(netbe_device_start(dev, &err));
    g_assert_nonnull(strstr(err->message, "check-only"));
    assert_calls(&r, "a init, b init");
    run_free(&r);
    run_end(&r);
}

/* Fails if a netdev nobody uses is left unconnected (QEMU connects such netdevs too). */
static void test_unused_netdev_connects_at_load(void)
{
    Run r = run_load("[netdev.a]\ntype = fixture\nlog = LOG\n", 0);

    assert_calls(&r, "a init, a connect");
    run_free(&r);
    run_end(&r);
}

/* Fails if a failed deferred connect is not reported with the device and backend. */
static void test_deferred_connect_failure_reported(void)
{
    Run r = run_load("[netdev.a]\ntype = fixture\nlog = LOG\nfail_connect = on\n"
                     "[device.d]\nnetdev = a\nconnect = deferred\n",
                     0);
    g_autoptr(GError) err = NULL;

    g_assert_false(netbe_device_start(netbe_runtime_find_device(r.rt, "d"), &err));
    g_assert_nonnull(strstr(err->message, "device 'd': netdev 'a' (fixture): cannot reach"));
    g_assert_false(netbe_device_is_connected(netbe_runtime_find_device(r.rt, "d")));
    run_free(&r);
    run_end(&r);
}

int main(int argc, char **argv)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    int rc;

    g_test_init(&argc, &argv, NULL);
    plugin_dir = test_plugin_dir_new(files);
    g_test_add_func("/connect/immediate-connects-at-load", test_immediate_connects_at_load);
    g_test_add_func("/connect/deferred-connects-when-device-starts",
                    test_deferred_connects_when_device_starts);
    g_test_add_func("/connect/deferred-hub-connects-at-start", test_deferred_hub_connects_at_start);
    g_test_add_func("/connect/immediate-hub-connects-at-load", test_immediate_hub_connects_at_load);
    g_test_add_func("/connect/check-only-connects-nothing", test_check_only_connects_nothing);
    g_test_add_func("/connect/unused-netdev-connects-at-load", test_unused_netdev_connects_at_load);
    g_test_add_func("/connect/deferred-connect-failure-reported",
                    test_deferred_connect_failure_reported);
    rc = g_test_run();
    test_plugin_dir_free(plugin_dir);
    return rc;
}
