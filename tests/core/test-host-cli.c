// SPDX-License-Identifier: GPL-2.0-or-later
/* test-host-cli.c - netbe-host and netbe-ctl as a user runs them: --check, plugin listing,
 * the control socket (status, stats, JSON, quit, errors) and clean shutdown on SIGTERM. */
#include <sys/stat.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "plugin-dir.h"

static char *plugin_dir;
static char *tmp_dir;

/* Run netbe-host with @args; Return: exit status; *out and *err get its output. */
static int run_host(const char *args, char **out, char **err)
{
    g_autofree char *cmd = g_strdup_printf("'%s' %s", test_env_path("NETBE_HOST"), args);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    int status = -1;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, out, err, &status, NULL));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *write_file(const char *name, const char *text)
{
    char *path = g_build_filename(tmp_dir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* Fails if --check connects anything, or does not say OK for a good file. */
static void test_check_validates_and_connects_nothing(void)
{
    g_autofree char *log = g_build_filename(tmp_dir, "check-calls.log", NULL);
    g_autofree char *text = g_strdup_printf("[netdev.a]\ntype = fixture\nlog = %s\n"
                                            "[netdev.b]\ntype = fixture\nlog = %s\n"
                                            "[hub.h]\nports = a, b\n",
                                            log, log);
    g_autofree char *ini = write_file("check.ini", text);
    g_autofree char *args = g_strdup_printf("--check -c '%s'", ini);
    g_autofree char *out = NULL, *err = NULL, *calls = NULL;

    g_assert_cmpint(run_host(args, &out, &err), ==, 0);
    g_assert_nonnull(strstr(out, ": OK"));
    g_assert_true(g_file_get_contents(log, &calls, NULL, NULL));
    g_assert_cmpstr(calls, ==, "a init\nb init\nb cleanup\na cleanup\n"); /* reverse order */
}

/* Fails if a bad file exits 0, or the errors lack file:line or are cut to the first. */
static void test_check_reports_all_errors_and_fails(void)
{
    g_autofree char *ini = write_file("bad.ini", "[netdev.a]\ntype = fixture\nqueues = 7\n"
                                                 "[device.d]\nnetdev = b\n");
    g_autofree char *args = g_strdup_printf("--check -c '%s'", ini);
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *line3 = g_strdup_printf("%s:3: [netdev.a] queues:", ini);
    g_autofree char *line5 = g_strdup_printf("%s:5: [device.d] netdev:", ini);

    g_assert_cmpint(run_host(args, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, line3));
    g_assert_nonnull(strstr(err, line5));
}

static void test_list_and_help_plugins(void)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *out2 = NULL, *err2 = NULL;
    g_autofree char *out3 = NULL, *err3 = NULL;

    g_assert_cmpint(run_host("--list-plugins", &out, &err), ==, 0);
    g_assert_nonnull(strstr(out, "fixture"));
    g_assert_cmpint(run_host("--help-plugin fixture", &out2, &err2), ==, 0);
    g_assert_nonnull(strstr(out2, "fail_connect"));
    g_assert_cmpint(run_host("--help-plugin nosuch", &out3, &err3), ==, 1);
    g_assert_nonnull(strstr(err3, "no plugin 'nosuch'"));
}

static void test_bad_arguments_exit_2(void)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *out2 = NULL, *err2 = NULL;

    g_assert_cmpint(run_host("", &out, &err), ==, 2);
    g_assert_nonnull(strstr(err, "give -c FILE"));
    g_assert_cmpint(run_host("--frobnicate", &out2, &err2), ==, 2);
}

/* Fails if the control socket is not private, or status/stats/JSON/quit misbehave. */
static void test_control_socket_serves_status_stats_and_quit(void)
{
    g_autofree char *log = g_build_filename(tmp_dir, "ctl-calls.log", NULL);
    g_autofree char *text = g_strdup_printf("[netdev.a]\ntype = fixture\nlog = %s\n"
                                            "[netdev.b]\ntype = fixture\nqueues = 2\n"
                                            "[hub.h]\nports = a, b\n",
                                            log);
    TestHost *h = test_host_start(text, NULL, NULL);
    g_autofree char *status = NULL, *stats = NULL, *json = NULL, *bad = NULL, *quit = NULL;
    g_autofree char *calls = NULL, *check = NULL;
    struct stat st;

    g_assert_nonnull(h);
    g_assert_cmpint(stat(h->control, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    status = test_host_ctl(h, "status");
    g_assert_nonnull(strstr(status, "netdev a"));
    g_assert_nonnull(strstr(status, "running"));
    g_assert_nonnull(strstr(status, "hub    h"));
    stats = test_host_ctl(h, "stats");
    g_assert_nonnull(strstr(stats, "tx_frames"));
    json = test_host_ctl(h, "stats --json");
    g_assert_true(g_str_has_prefix(json, "{\"queues\":["));
    g_assert_nonnull(strstr(json, "\"netdev\":\"b\",\"queue\":1"));
    /* the JSON must parse: python3 comes with meson */
    check = g_strdup_printf("printf '%%s' '%s' | python3 -c 'import json,sys; "
                            "d=json.load(sys.stdin); assert len(d[\"queues\"]) == 3'",
                            json);
    g_assert_cmpint(test_sh("%s", check), ==, 0);
    bad = test_host_ctl(h, "frobnicate");
    g_assert_null(bad); /* netbe-ctl exits 1 on an error reply */
    quit = test_host_ctl(h, "quit");
    g_assert_nonnull(quit);
    g_assert_cmpint(test_host_wait(h, 10000), ==, 0);
    g_assert_false(g_file_test(h->control, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_get_contents(log, &calls, NULL, NULL));
    g_assert_true(g_str_has_suffix(calls, "a poll 0 off\na cleanup\n"));
    test_host_free(h);
}

/* Fails if SIGTERM does not lead to a clean exit 0 with every backend cleaned up. */
static void test_sigterm_shuts_down_cleanly(void)
{
    g_autofree char *log = g_build_filename(tmp_dir, "term-calls.log", NULL);
    g_autofree char *text = g_strdup_printf("[netdev.a]\ntype = fixture\nlog = %s\n", log);
    TestHost *h = test_host_start(text, NULL, NULL);
    g_autofree char *calls = NULL;

    g_assert_nonnull(h);
    g_assert_cmpint(test_host_stop(h), ==, 0); /* SIGTERM */
    g_assert_true(g_file_get_contents(log, &calls, NULL, NULL));
    g_assert_cmpstr(calls, ==, "a init\na connect\na cleanup\n");
    test_host_free(h);
}

int main(int argc, char **argv)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    int rc;

    g_test_init(&argc, &argv, NULL);
    plugin_dir = test_plugin_dir_new(files);
    tmp_dir = g_dir_make_tmp("netbe-host-cli-XXXXXX", NULL);
    g_setenv("NETBE_PLUGIN_PATH", plugin_dir, true);
    g_test_add_func("/host/check-connects-nothing", test_check_validates_and_connects_nothing);
    g_test_add_func("/host/check-reports-all-errors", test_check_reports_all_errors_and_fails);
    g_test_add_func("/host/list-and-help-plugins", test_list_and_help_plugins);
    g_test_add_func("/host/bad-arguments", test_bad_arguments_exit_2);
    g_test_add_func("/host/control-socket", test_control_socket_serves_status_stats_and_quit);
    g_test_add_func("/host/sigterm-clean-shutdown", test_sigterm_shuts_down_cleanly);
    rc = g_test_run();
    test_plugin_dir_free(plugin_dir);
    test_sh("rm -rf '%s'", tmp_dir);
    g_free(tmp_dir);
    return rc;
}
