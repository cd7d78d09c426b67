// SPDX-License-Identifier: GPL-2.0-or-later
/* test-notify.c - netbe-host under a stand-in for systemd: $NOTIFY_SOCKET names a datagram
 * socket this test owns; READY, RELOADING (reload command, SIGHUP, a bad file) and STOPPING
 * must arrive, in order, with the sandbox on. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "host-proc.h"

static const char ini_one[] = "[netdev.a]\ntype = socket\nlisten = 127.0.0.1:0\n"
                              "[hub.lan]\nports = a\n";
static const char ini_two[] = "[netdev.a]\ntype = socket\nlisten = 127.0.0.1:0\n"
                              "[netdev.b]\ntype = socket\nlisten = 127.0.0.1:0\n"
                              "[hub.lan]\nports = a, b\n";

/* A datagram socket bound at @path, as systemd's notify socket. */
static int notify_socket(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    return fd;
}

/* The next notification within 10 s (caller frees). */
static char *next_notification(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[4096];
    ssize_t n;

    g_assert_cmpint(poll(&p, 1, 10000), ==, 1);
    n = recv(fd, buf, sizeof(buf) - 1, 0);
    g_assert_cmpint(n, >, 0);
    buf[n] = '\0';
    {
        g_autofree char *shown = g_strdelimit(g_strdup(buf), "\n", ' ');

        g_test_message("notify: %s", shown);
    }
    return g_strdup(buf);
}

/* Whether @text has the line @line. */
static bool has_line(const char *text, const char *line)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    return g_strv_contains((const char *const *)lines, line);
}

static gint64 monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* The next notification must be RELOADING=1 with a MONOTONIC_USEC of now (between @before and
 * the time it came), then READY=1 with a STATUS that has @status. */
static void expect_reload(int fd, gint64 before, const char *status)
{
    g_autofree char *reloading = next_notification(fd);
    g_autofree char *ready = next_notification(fd);
    const char *us = strstr(reloading, "MONOTONIC_USEC=");
    gint64 t;

    g_assert_true(has_line(reloading, "RELOADING=1"));
    g_assert_nonnull(us);
    t = g_ascii_strtoll(us + strlen("MONOTONIC_USEC="), NULL, 10);
    g_assert_cmpint(t, >=, before);
    g_assert_cmpint(t, <=, monotonic_us());
    g_assert_true(has_line(ready, "READY=1"));
    g_assert_nonnull(strstr(ready, status));
}

/* Fails if netbe-host does not say READY=1 once it serves, RELOADING=1 then READY=1 around a
 * reload (control command, SIGHUP, and a refused one), STOPPING=1 on quit; if a reload does
 * not apply the file; or if the sandbox refuses sd_notify's syscalls. */
static void test_notify_ready_reloading_stopping(void)
{
    g_autofree char *dir = g_dir_make_tmp("netbe-notify-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "notify.sock", NULL);
    int fd = notify_socket(path);
    g_autofree char *ready = NULL;
    g_autofree char *stopping = NULL;
    g_autofree char *log = NULL;
    TestHost *h;
    gint64 t0;

    g_setenv("NOTIFY_SOCKET", path, true);
    h = test_host_start(ini_one, NULL, NULL);
    g_unsetenv("NOTIFY_SOCKET");
    g_assert_nonnull(h);
    ready = next_notification(fd);
    g_assert_true(has_line(ready, "READY=1"));
    g_assert_nonnull(strstr(ready, "STATUS=serving "));

    /* the reload command: b joins */
    g_assert_true(g_file_set_contents(h->config, ini_two, -1, NULL));
    t0 = monotonic_us();
    g_free(test_host_ctl(h, "reload"));
    expect_reload(fd, t0, "reloaded");
    {
        g_autofree char *status = test_host_ctl(h, "status");

        g_assert_nonnull(strstr(status, "netdev b "));
    }

    /* SIGHUP: b goes */
    g_assert_true(g_file_set_contents(h->config, ini_one, -1, NULL));
    t0 = monotonic_us();
    g_assert_cmpint(kill(h->pid, SIGHUP), ==, 0);
    expect_reload(fd, t0, "reloaded");
    {
        g_autofree char *status = test_host_ctl(h, "status");

        g_assert_null(strstr(status, "netdev b "));
    }

    /* a bad file: refused (netbe-ctl exits 1), still READY, and it says so */
    g_assert_true(g_file_set_contents(h->config, "[netdev.a]\ntype = nosuch\n", -1, NULL));
    t0 = monotonic_us();
    g_assert_null(test_host_ctl(h, "reload"));
    expect_reload(fd, t0, "refused");

    g_free(test_host_ctl(h, "quit"));
    stopping = next_notification(fd);
    g_assert_true(has_line(stopping, "STOPPING=1"));
    g_assert_cmpint(test_host_wait(h, 10000), ==, 0);
    g_assert_true(g_file_get_contents(h->log, &log, NULL, NULL));
    g_assert_null(strstr(log, "refused syscall")); /* the sandbox let sd_notify through */
    test_host_free(h);
    close(fd);
    unlink(path);
    rmdir(dir);
}

/* Fails if a SIGHUP (systemd's ExecReload, an operator) kills a netbe-host that still waits
 * for a handover with --incoming, instead of waiting to be read as a reload. */
static void test_sighup_while_waiting_for_a_handover_is_held(void)
{
    g_autofree char *dir = g_dir_make_tmp("netbe-notify-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "handover.sock", NULL);
    const char *extra[] = {"--incoming", sock, NULL};
    TestHost *h = test_host_spawn(ini_one, NULL, extra, NULL);

    g_assert_nonnull(h);
    for (int i = 0; i < 200 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));
    g_assert_cmpint(kill(h->pid, SIGHUP), ==, 0);
    g_assert_cmpint(test_host_wait(h, 500), ==, -1);
    g_assert_cmpint(h->pid, >, 0); /* not reaped: still there, still waiting */
    test_host_free(h);
    unlink(sock);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/notify/sighup-while-waiting-for-a-handover-is-held",
                    test_sighup_while_waiting_for_a_handover_is_held);
    g_test_add_func("/notify/ready-reloading-stopping", test_notify_ready_reloading_stopping);
    return g_test_run();
}
