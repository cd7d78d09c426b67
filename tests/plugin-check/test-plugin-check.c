// SPDX-License-Identifier: GPL-2.0-or-later
/* test-plugin-check.c - netbe-plugin-check passes the shipped plugins and fails each fixture
 * plugin on the one rule it breaks (real dlopen of the built .so files, real fds). */
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

/* Run the tool on @so with the NULL-terminated @args. Return: its report; *status its exit. */
static char *run_check(const char *so, const char *const *args, int *status)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) err = NULL;
    char *out = NULL;
    int wait_status;

    g_ptr_array_add(argv, (char *)g_getenv("NETBE_PLUGIN_CHECK"));
    g_ptr_array_add(argv, (char *)so);
    for (int i = 0; args[i]; i++) {
        g_ptr_array_add(argv, (char *)args[i]);
    }
    g_ptr_array_add(argv, NULL);
    g_assert_nonnull(argv->pdata[0]);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, &wait_status, &err));
    g_assert_no_error(err);
    g_test_message("%s", out);
    g_assert_true(WIFEXITED(wait_status));
    *status = WEXITSTATUS(wait_status);
    return out;
}

/* The checks that failed, as " NAME NAME ..." in report order. */
static char *failed_checks(const char *report)
{
    g_auto(GStrv) lines = g_strsplit(report, "\n", -1);
    GString *names = g_string_new(NULL);

    for (int i = 0; lines[i]; i++) {
        const char *colon = strstr(lines[i], ": ");

        if (g_str_has_prefix(lines[i], "FAIL ") && colon) {
            g_string_append_printf(names, " %.*s", (int)(colon - lines[i] - 5), lines[i] + 5);
        }
    }
    return g_string_free(names, false);
}

/* The line of check @name in @report, or NULL. */
static char *report_line(const char *report, const char *verdict, const char *name)
{
    g_autofree char *head = g_strdup_printf("%s %s:", verdict, name);
    g_auto(GStrv) lines = g_strsplit(report, "\n", -1);

    for (int i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], head)) {
            return g_strdup(lines[i]);
        }
    }
    return NULL;
}

static char *fixture(const char *variant)
{
    return g_strdup_printf("%s/netbe-pcf-%s.so", g_getenv("NETBE_PCF_DIR"), variant);
}

static char *shipped(const char *name)
{
    return g_strdup_printf("%s/netbe-%s.so", g_getenv("NETBE_PLUGIN_PATH"), name);
}

/* @report passed every check, and ran each of the NULL-terminated @must. */
static void assert_passes(const char *report, int status, const char *const *must)
{
    g_autofree char *fails = failed_checks(report);

    g_assert_cmpstr(fails, ==, "");
    g_assert_cmpint(status, ==, 0);
    for (int i = 0; must[i]; i++) {
        g_autofree char *line = report_line(report, "PASS", must[i]);

        if (!line) {
            g_error("no 'PASS %s' in the report", must[i]);
        }
    }
}

static void test_user(void)
{
    g_autofree char *so = shipped("user");
    const char *args[] = {"--connect", NULL};
    const char *must[] = {"init-side-effects",
                          "cleanup-never-connected",
                          "cleanup-init-failed",
                          "option:mtu",
                          "send",
                          "poll",
                          "handover-version",
                          "handover-load",
                          NULL};
    int status;
    g_autofree char *report = run_check(so, args, &status);

    assert_passes(report, status, must);
}

static void test_tap(void)
{
    g_autofree char *so = shipped("tap");
    const char *args[] = {"--netns", "--option", "ifname=pcheck%d", "--option", "queues=2", NULL};
    const char *must[] = {"init-side-effects", "cleanup-connect-failed",
                          "option:queues",     "option:vnet_hdr",
                          "queue-fds",         "frames",
                          "handover-version",  "handover-fds",
                          "handover-frames",   NULL};
    g_autofree char *report = NULL;
    int status;

    if (geteuid() != 0) {
        g_test_skip("TAP devices need root (the check makes its own network namespace)");
        return;
    }
    report = run_check(so, args, &status);
    assert_passes(report, status, must);
}

/* The socket plugin in its three shapes: a stream server (the check connects to it), UDP and
 * unix datagrams (the check binds where its frames go). */
static void test_socket(void)
{
    g_autofree char *so = shipped("socket");
    g_autofree char *dir = NULL, *local = NULL, *remote = NULL;
    const char *listen[] = {"--netns", "--option", "listen=127.0.0.1:0", NULL};
    const char *udp[] = {
        "--netns", "--option", "udp=127.0.0.1:7001", "--option", "localaddr=127.0.0.1:7002", NULL};
    const char *unix_dgram[] = {"--option", NULL, "--option", NULL, NULL};
    const char *const *shapes[] = {listen, udp, unix_dgram};
    const char *must[] = {"init-side-effects", "cleanup-connect-failed",
                          "option:listen",     "option:reconnect",
                          "queue-fds",         "frames",
                          "handover-version",  "handover-fds",
                          "handover-frames",   NULL};

    if (!g_file_test(so, G_FILE_TEST_EXISTS)) {
        g_test_skip("the socket plugin is not built (not yet converted to plugin ABI 3)");
        return;
    }
    if (geteuid() != 0) {
        g_test_skip("needs root for a network namespace of its own");
        return;
    }
    dir = g_dir_make_tmp("pc-sock-XXXXXX", NULL);
    unix_dgram[1] = local = g_strdup_printf("local=unix:%s/a.sock", dir);
    unix_dgram[3] = remote = g_strdup_printf("remote=unix:%s/b.sock", dir);
    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
        int status;
        g_autofree char *report = run_check(so, shapes[i], &status);

        assert_passes(report, status, must);
    }
    g_assert_cmpint(rmdir(dir), ==, 0); /* the check removed the socket file it bound */
}

static void test_fixture_good(void)
{
    g_autofree char *so = fixture("good");
    const char *args[] = {"--connect", "--bad-option", "mode=wrong", NULL};
    const char *must[] = {"descriptor",
                          "init-side-effects",
                          "cleanup-never-connected",
                          "cleanup-init-failed",
                          "cleanup-connect-failed",
                          "option:mode",
                          "option:depth",
                          "option:speed",
                          "queue-fds",
                          "handover-version",
                          "handover-load",
                          "handover-fds",
                          NULL};
    int status;
    g_autofree char *report = run_check(so, args, &status);

    assert_passes(report, status, must);
}

/* --connect-config: the first netdev of the plugin's type in the file is the one connected. */
static void test_connect_config(void)
{
    g_autofree char *so = fixture("good");
    g_autofree char *dir = g_dir_make_tmp("pc-conf-XXXXXX", NULL);
    g_autofree char *ini = g_build_filename(dir, "mine.ini", NULL);
    const char *args[] = {"--connect-config", ini, NULL};
    const char *must[] = {"connect", "queue-fds", "handover-load", "handover-fds", NULL};
    g_autofree char *report = NULL;
    int status;

    g_assert_true(
        g_file_set_contents(ini, "[netdev.other]\ntype = pcfixture\nspeed = fast\n", -1, NULL));
    report = run_check(so, args, &status);
    assert_passes(report, status, must);
    g_assert_cmpint(unlink(ini), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

/* The fixture @variant fails exactly the checks @expected (" NAME ..."), the first of them
 * with a reason that contains @why. */
static void assert_fixture_fails(const char *variant, const char *expected, const char *why)
{
    g_autofree char *so = fixture(variant);
    const char *args[] = {"--connect", "--bad-option", "mode=wrong", NULL};
    int status;
    g_autofree char *report = run_check(so, args, &status);
    g_autofree char *fails = failed_checks(report);
    g_auto(GStrv) first = g_strsplit(expected + 1, " ", 2);
    g_autofree char *line = report_line(report, "FAIL", first[0]);

    g_assert_cmpint(status, ==, 1);
    g_assert_cmpstr(fails, ==, expected);
    g_assert_nonnull(line);
    if (!strstr(line, why)) {
        g_error("'%s' does not say '%s'", line, why);
    }
}

static void test_fixture_init_fd(void)
{
    assert_fixture_fails("init-fd", " init-side-effects", "it opened fd ");
}

static void test_fixture_bad_cleanup(void)
{
    /* every half-built instance crashes it: never connected, init failed, load refused
     * (SIGSEGV; under AddressSanitizer, which reports the fault, SIGABRT) */
    assert_fixture_fails("bad-cleanup", " cleanup-never-connected options handover-version",
                         "the process died of signal ");
}

static void test_fixture_gerror(void)
{
    assert_fixture_fails("gerror", " option:mode", "without FILE:LINE and the key");
}

static void test_fixture_any_version(void)
{
    assert_fixture_fails("any-version", " handover-version",
                         "load accepted a record of "
                         "state_version 4");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plugin-check/shipped/user", test_user);
    g_test_add_func("/plugin-check/shipped/tap", test_tap);
    g_test_add_func("/plugin-check/shipped/socket", test_socket);
    g_test_add_func("/plugin-check/fixture/good", test_fixture_good);
    g_test_add_func("/plugin-check/fixture/connect-config", test_connect_config);
    g_test_add_func("/plugin-check/fixture/init-fd", test_fixture_init_fd);
    g_test_add_func("/plugin-check/fixture/bad-cleanup", test_fixture_bad_cleanup);
    g_test_add_func("/plugin-check/fixture/gerror", test_fixture_gerror);
    g_test_add_func("/plugin-check/fixture/any-version", test_fixture_any_version);
    return g_test_run();
}
