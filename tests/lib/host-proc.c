// SPDX-License-Identifier: GPL-2.0-or-later
/* host-proc.c - test helpers: run netbe-host on a config and talk to its control socket. */
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host-proc.h"

const char *test_env_path(const char *var)
{
    const char *v = g_getenv(var);

    if (!v) {
        g_error("%s is not set: run the tests with meson test (tests/run-suite.sh)", var);
    }
    return v;
}

static void print_log(TestHost *h)
{
    g_autofree char *text = NULL;

    if (g_file_get_contents(h->log, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (int i = 0; lines[i]; i++) {
            if (*lines[i]) {
                g_printerr("# netbe-host: %s\n", lines[i]);
            }
        }
    }
}

TestHost *test_host_start(const char *config_text, const char *netns, const char *const *extra_args)
{
    return test_host_start_as(config_text, netns, extra_args, NULL);
}

/* In the child: die with the test, so a failed assertion leaves no netbe-host behind
 * (one would hold the test's output open and turn a failure into a timeout). */
static void die_with_parent(gpointer unused)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

TestHost *test_host_spawn(const char *config_text, const char *netns, const char *const *extra_args,
                          const char *user)
{
    TestHost *h = g_new0(TestHost, 1);
    g_autoptr(GString) cmd = g_string_new("exec ");
    g_autoptr(GError) err = NULL;
    const char *argv[] = {"/bin/sh", "-c", NULL, NULL};

    h->pid = -1;
    h->dir = g_dir_make_tmp("netbe-test-XXXXXX", &err);
    g_assert_no_error(err);
    h->config = g_build_filename(h->dir, "netbe.ini", NULL);
    h->control = g_build_filename(h->dir, "control.sock", NULL);
    h->log = g_build_filename(h->dir, "host.log", NULL);
    g_assert_true(g_file_set_contents(h->config, config_text, -1, NULL));
    if (netns) {
        g_string_append_printf(cmd, "ip netns exec %s ", netns);
    }
    if (user && geteuid() == 0) {
        g_assert_cmpint(chmod(h->dir, 0777), ==, 0);
        g_assert_cmpint(chmod(h->config, 0644), ==, 0);
        g_string_append_printf(cmd, "setpriv --reuid=%s --regid=$(id -g %s) --clear-groups ", user,
                               user);
    }
    g_string_append_printf(cmd, "'%s' -c '%s' --control '%s'", test_env_path("NETBE_HOST"),
                           h->config, h->control);
    for (int i = 0; extra_args && extra_args[i]; i++) {
        g_string_append_printf(cmd, " '%s'", extra_args[i]);
    }
    g_string_append_printf(cmd, " 2>'%s'", h->log);
    argv[2] = cmd->str;
    if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL,
                       &h->pid, &err)) {
        g_printerr("# cannot start netbe-host: %s\n", err->message);
        test_host_free(h);
        return NULL;
    }
    return h;
}

bool test_host_wait_serving(TestHost *h, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        g_autofree char *out = NULL;
        int status;

        if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
            h->pid = -1;
            g_printerr("# netbe-host exited early (status %d)\n", status);
            print_log(h);
            return false;
        }
        if (g_file_test(h->control, G_FILE_TEST_EXISTS) && (out = test_host_ctl(h, "status"))) {
            return true;
        }
        g_usleep(20000);
    }
    g_printerr("# netbe-host did not serve its control socket within %d ms\n", ms);
    print_log(h);
    return false;
}

TestHost *test_host_start_as(const char *config_text, const char *netns,
                             const char *const *extra_args, const char *user)
{
    TestHost *h = test_host_spawn(config_text, netns, extra_args, user);

    if (h && !test_host_wait_serving(h, 10000)) {
        test_host_stop(h);
        test_host_free(h);
        return NULL;
    }
    return h;
}

char *test_host_ctl(TestHost *h, const char *command)
{
    g_autofree char *cmdline =
        g_strdup_printf("'%s' '%s' %s", test_env_path("NETBE_CTL"), h->control, command);
    const char *argv[] = {"/bin/sh", "-c", cmdline, NULL};
    char *out = NULL;
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        g_free(out);
        return NULL;
    }
    return out;
}

int test_host_ctl_status(TestHost *h, const char *command, char **err)
{
    g_autofree char *cmdline =
        g_strdup_printf("'%s' '%s' %s", test_env_path("NETBE_CTL"), h->control, command);
    const char *argv[] = {"/bin/sh", "-c", cmdline, NULL};
    int status = -1;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, err,
                      &status, NULL)) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int test_host_wait(TestHost *h, int ms)
{
    int status = 0;

    for (int waited = 0; h->pid > 0 && waited <= ms; waited += 20) {
        if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
            h->pid = -1;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                print_log(h);
            }
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        g_usleep(20000);
    }
    return -1;
}

int test_host_stop(TestHost *h)
{
    int status = 0, rc;

    if (h->pid <= 0) {
        return -1;
    }
    kill(h->pid, SIGTERM);
    rc = test_host_wait(h, 5000);
    if (h->pid <= 0) {
        return rc; /* it exited */
    }
    kill(h->pid, SIGKILL);
    waitpid(h->pid, &status, 0);
    h->pid = -1;
    print_log(h);
    return -1;
}

void test_host_free(TestHost *h)
{
    if (!h) {
        return;
    }
    if (h->pid > 0) {
        test_host_stop(h);
    }
    if (h->dir) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", h->dir);
        if (system(cmd) != 0) {
            g_printerr("# could not remove %s\n", h->dir);
        }
    }
    g_free(h->dir);
    g_free(h->config);
    g_free(h->control);
    g_free(h->log);
    g_free(h);
}

static volatile GPid tracked_pids[TEST_TRACK_SLOTS];

static void kill_tracked_on_abort(int sig)
{
    for (size_t i = 0; i < G_N_ELEMENTS(tracked_pids); i++) {
        if (tracked_pids[i] > 0) {
            kill(tracked_pids[i], SIGKILL);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void test_pid_track(unsigned slot, GPid pid)
{
    static bool installed;

    g_assert_cmpuint(slot, <, TEST_TRACK_SLOTS);
    if (!installed) {
        signal(SIGABRT, kill_tracked_on_abort);
        installed = true;
    }
    tracked_pids[slot] = pid;
}
