// SPDX-License-Identifier: GPL-2.0-or-later
/* dispatch-rig.c - a runtime driven as a foreign loop drives it, and strace counting. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "dispatch-rig.h"
#include "host-proc.h"

#define FRAME_MAX 2048
#define FORWARD_TIMEOUT_US (2 * G_USEC_PER_SEC)

DispatchRig *dispatch_rig_new(void)
{
    DispatchRig *rig = g_new0(DispatchRig, 1);
    g_autoptr(GError) err = NULL;
    g_autofree char *config = NULL;

    for (int i = 0; i < 2; i++) {
        int sv[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), ==,
                        0);
        rig->peer_fd[i] = sv[0];
        rig->netdev_fd[i] = sv[1];
    }
    config = g_strdup_printf("[netdev.a]\ntype = socket\nfd = %d\n"
                             "[netdev.b]\ntype = socket\nfd = %d\n"
                             "[hub.h]\nports = a, b\n",
                             rig->netdev_fd[0], rig->netdev_fd[1]);
    rig->rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(rig->rt, test_env_path("NETBE_PLUGIN_PATH"));
    g_assert_true(netbe_runtime_load_config_string(rig->rt, config, "dispatch-rig.ini", &err));
    g_assert_no_error(err);
    g_assert_true(netbe_runtime_start(rig->rt, &err));
    g_assert_no_error(err);
    return rig;
}

void dispatch_rig_free(DispatchRig *rig)
{
    netbe_runtime_free(rig->rt); /* closes the netdevs' sockets */
    close(rig->peer_fd[0]);
    close(rig->peer_fd[1]);
    g_free(rig);
}

void dispatch_mark(void)
{
    syscall(SYS_getppid);
}

/* Wait up to @us for @fd to be readable. */
static void wait_readable(int fd, gint64 us)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    poll(&p, 1, (int)(us / 1000) + 1);
}

unsigned dispatch_rig_forward(DispatchRig *rig, size_t len, int wait_fd, DispatchFunc dispatch,
                              void *opaque, bool mark)
{
    uint8_t frame[FRAME_MAX], got[FRAME_MAX];
    gint64 deadline = g_get_monotonic_time() + FORWARD_TIMEOUT_US;
    unsigned calls = 0;
    ssize_t n = -1;

    g_assert_cmpuint(len, <=, sizeof(frame));
    for (size_t i = 0; i < len; i++) {
        frame[i] = (uint8_t)(i * 7 + len);
    }
    if (send(rig->peer_fd[0], frame, len, 0) != (ssize_t)len) {
        return 0;
    }
    while (n < 0 && g_get_monotonic_time() < deadline) {
        if (wait_fd >= 0) {
            wait_readable(wait_fd, deadline - g_get_monotonic_time());
        }
        if (mark) {
            dispatch_mark();
        }
        dispatch(opaque);
        if (mark) {
            dispatch_mark();
        }
        calls++;
        n = recv(rig->peer_fd[1], got, sizeof(got), 0);
    }
    return n == (ssize_t)len && memcmp(frame, got, len) == 0 ? calls : 0;
}

static GQuark dispatch_trace_quark(void)
{
    return g_quark_from_static_string("dispatch-trace");
}

char *dispatch_trace_name(const char *line)
{
    return g_strndup(line, strcspn(line, "("));
}

int dispatch_trace_arg0(const char *line)
{
    const char *open = strchr(line, '(');
    char *end;
    long v;

    if (!open) {
        return -1;
    }
    v = strtol(open + 1, &end, 10);
    return end > open + 1 && (*end == ',' || *end == ')') ? (int)v : -1;
}

/* Split strace's log into the marked stretches of the process that makes the marks. */
static GPtrArray *parse_trace(const char *log)
{
    g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
    GPtrArray *stretches = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    GPtrArray *open = NULL;
    long marker_pid = -1;

    for (char **l = lines; *l; l++) {
        char *rest;
        long pid = strtol(*l, &rest, 10);
        g_autofree char *name = NULL;

        if (rest == *l || (marker_pid >= 0 && pid != marker_pid)) {
            continue;
        }
        rest += strspn(rest, " ");
        if (*rest == '<' || *rest == '+' || *rest == '-') {
            continue; /* resumed call (counted where it began), exit, signal */
        }
        name = dispatch_trace_name(rest);
        if (strcmp(name, "getppid") == 0) {
            marker_pid = pid;
            if (open) {
                open = NULL;
            } else {
                open = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(stretches, open);
            }
        } else if (open) {
            g_ptr_array_add(open, g_strdup(rest));
        }
    }
    return stretches;
}

/* follow forks; no attach or exit notes, no signals; short strings; the log file next */
static const char *const strace_opts[] = {"-f", "-qq", "-e", "signal=none", "-s", "8", "-o"};

GPtrArray *dispatch_trace(char **argv, char **out, GError **errp)
{
    g_autofree char *strace = g_find_program_in_path("strace");
    g_autofree char *log_path = NULL, *log = NULL, *err_text = NULL, *asan = NULL;
    g_auto(GStrv) env = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    GError *spawn_err = NULL;
    int status, fd;

    if (!strace) {
        g_set_error(errp, dispatch_trace_quark(), ENOENT,
                    "strace is not installed (scripts/setup.sh installs it)");
        return NULL;
    }
    fd = g_file_open_tmp("dispatch-trace-XXXXXX.log", &log_path, errp);
    if (fd < 0) {
        return NULL;
    }
    close(fd);
    /* LeakSanitizer cannot work under ptrace (a sanitized build) */
    asan = g_strconcat(g_getenv("ASAN_OPTIONS") ?: "", ":detect_leaks=0", NULL);
    env = g_environ_setenv(g_get_environ(), "ASAN_OPTIONS", asan, true);
    g_ptr_array_add(args, strace);
    for (size_t i = 0; i < G_N_ELEMENTS(strace_opts); i++) {
        g_ptr_array_add(args, (char *)strace_opts[i]);
    }
    g_ptr_array_add(args, log_path);
    for (char **a = argv; *a; a++) {
        g_ptr_array_add(args, *a);
    }
    g_ptr_array_add(args, NULL);
    if (!g_spawn_sync(NULL, (char **)args->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out, &err_text,
                      &status, errp)) {
        unlink(log_path);
        return NULL;
    }
    if (!g_spawn_check_wait_status(status, &spawn_err) ||
        !g_file_get_contents(log_path, &log, NULL, &spawn_err)) {
        g_set_error(errp, dispatch_trace_quark(), EIO, "strace %s: %s; its stderr: %s", argv[0],
                    spawn_err->message, err_text);
        g_error_free(spawn_err);
        unlink(log_path);
        return NULL;
    }
    unlink(log_path);
    return parse_trace(log);
}
