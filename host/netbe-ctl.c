// SPDX-License-Identifier: GPL-2.0-or-later
/* netbe-ctl.c - a small client for netbe-host's control socket. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include "control.h"

/* Default for the whole exchange: a migrate waits for the handover (several seconds). */
#define CTL_TIMEOUT_MS 30000
#define CTL_CONNECT_RETRY_MS 20 /* the host's backlog is full: try again after this */

typedef struct CtlArgs {
    const char *path;
    GString *request;
    gint64 deadline; /* g_get_monotonic_time() when we give up */
    int timeout_ms;
} CtlArgs;

static int usage(void)
{
    fprintf(stderr, "usage: netbe-ctl [--json] [--timeout MS] SOCKET status|stats|quit|"
                    "migrate PATH [--json]\n");
    return 2;
}

/* Milliseconds left before the deadline, at least 0. */
static int ms_left(const CtlArgs *a)
{
    gint64 left = (a->deadline - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;

    return left > 0 ? (int)left : 0;
}

/* Wait for @events on @fd until the deadline. Return: false on timeout. */
static bool wait_for(const CtlArgs *a, int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc;

    do {
        rc = poll(&p, 1, ms_left(a));
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}

/* What to tell the user when connect() failed with @err. */
static const char *connect_hint(int err)
{
    static const struct {
        int err;
        const char *hint;
    } hints[] = {
        {ENOENT, " (is netbe-host running with --control on this path?)"},
        {EACCES, " (the control socket is mode 0600: run as root or as netbe-host's user)"},
        {EPERM, " (the control socket is mode 0600: run as root or as netbe-host's user)"},
        {ECONNREFUSED, " (nothing listens: netbe-host is gone and left its socket file)"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(hints); i++) {
        if (hints[i].err == err) {
            return hints[i].hint;
        }
    }
    return "";
}

/* Connect to the host, waiting while its backlog is full. Return: the fd, or -1 (reported). */
static int ctl_connect(const CtlArgs *a)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    strcpy(addr.sun_path, a->path);
    while (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN || ms_left(a) == 0) {
            fprintf(stderr, "netbe-ctl: cannot connect to %s: %s%s\n", a->path,
                    errno == EAGAIN ? "the host accepts no connection (busy)" : g_strerror(errno),
                    connect_hint(errno));
            close(fd);
            return -1;
        }
        g_usleep(CTL_CONNECT_RETRY_MS * 1000);
    }
    if (fd < 0) {
        fprintf(stderr, "netbe-ctl: socket: %s\n", g_strerror(errno));
    }
    return fd;
}

/* Send the request, then read the reply up to EOF. Return: false (reported) on a failure. */
static bool exchange(const CtlArgs *a, int fd, GString *reply)
{
    size_t off = 0;
    char buf[16384];

    while (off < a->request->len) {
        ssize_t n = send(fd, a->request->str + off, a->request->len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EAGAIN && wait_for(a, fd, POLLOUT)) {
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            break; /* the host refused us before reading: its reply says why */
        }
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "netbe-ctl: %s: cannot send the request: %s\n", a->path,
                    errno == EAGAIN ? "timed out" : g_strerror(errno));
            return false;
        }
        off += n > 0 ? (size_t)n : 0;
    }
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n > 0) {
            g_string_append_len(reply, buf, n);
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN && !wait_for(a, fd, POLLIN)) {
            fprintf(stderr, "netbe-ctl: %s: no complete reply within %d ms (%zu bytes so far)\n",
                    a->path, a->timeout_ms, reply->len);
            return false;
        } else if (errno != EAGAIN && errno != EINTR) {
            fprintf(stderr, "netbe-ctl: %s: reading the reply: %s\n", a->path, g_strerror(errno));
            return false;
        }
    }
    if (!reply->len || reply->str[reply->len - 1] != '\n') {
        fprintf(stderr, "netbe-ctl: %s: %s\n", a->path,
                reply->len ? "the reply was cut short (no final newline)"
                           : "the host closed the connection without a reply");
        return false;
    }
    return true;
}

/* Parse the command line into @a. Return: false on a usage error. */
static bool parse_args(int argc, char **argv, CtlArgs *a)
{
    struct sockaddr_un addr;
    bool json = false;

    a->timeout_ms = CTL_TIMEOUT_MS;
    for (int i = 1; i < argc; i++) {
        char *end;

        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            a->timeout_ms = strtol(argv[++i], &end, 10);
            if (*end || a->timeout_ms <= 0) {
                fprintf(stderr, "netbe-ctl: --timeout %s: give milliseconds, more than 0\n",
                        argv[i]);
                return false;
            }
        } else if (!a->path) {
            a->path = argv[i];
        } else {
            g_string_append_printf(a->request, "%s%s", a->request->len ? " " : "", argv[i]);
        }
    }
    if (!a->path || !a->request->len) {
        return false;
    }
    if (strlen(a->path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "netbe-ctl: %s: path longer than %zu bytes\n", a->path,
                sizeof(addr.sun_path) - 1);
        return false;
    }
    if (json) {
        g_string_append(a->request, " --json");
    }
    g_string_append_c(a->request, '\n');
    a->deadline = g_get_monotonic_time() + a->timeout_ms * G_TIME_SPAN_MILLISECOND;
    return true;
}

int main(int argc, char **argv)
{
    g_autoptr(GString) request = g_string_new(NULL);
    g_autoptr(GString) reply = g_string_new(NULL);
    CtlArgs a = {.request = request};
    bool ok;
    int fd;

    signal(SIGPIPE, SIG_IGN);
    if (!parse_args(argc, argv, &a)) {
        return usage();
    }
    fd = ctl_connect(&a);
    if (fd < 0) {
        return 1;
    }
    ok = exchange(&a, fd, reply);
    close(fd);
    if (!ok) {
        return 1;
    }
    if (g_str_has_prefix(reply->str, CONTROL_ERROR_PREFIX)) {
        fputs(reply->str, stderr);
        return 1;
    }
    fputs(reply->str, stdout);
    return 0;
}
