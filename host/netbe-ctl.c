/* netbe-ctl.c - a small client for netbe-host's control socket. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include "control.h"

#define CTL_TIMEOUT_MS 30000 /* a migrate takes several steps of up to 5 s */

static int usage(void)
{
    fprintf(stderr, "usage: netbe-ctl [--json] SOCKET status|stats|quit|migrate PATH [--json]\n");
    return 2;
}

/* Read the whole reply until EOF or timeout. Return: false on timeout/error. */
static bool read_reply(int fd, GString *reply)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char buf[4096];

    for (;;) {
        ssize_t n;

        if (poll(&pfd, 1, CTL_TIMEOUT_MS) <= 0) {
            return false;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n == 0;
        }
        g_string_append_len(reply, buf, n);
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autoptr(GString) request = g_string_new(NULL);
    g_autoptr(GString) reply = g_string_new(NULL);
    const char *path = NULL;
    bool json = false;
    int fd;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (!path) {
            path = argv[i];
        } else {
            g_string_append_printf(request, "%s%s", request->len ? " " : "", argv[i]);
        }
    }
    if (!path || !request->len || strlen(path) >= sizeof(addr.sun_path)) {
        return usage();
    }
    if (json) {
        g_string_append(request, " --json");
    }
    g_string_append_c(request, '\n');
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "netbe-ctl: cannot connect to %s: %s\n", path, g_strerror(errno));
        return 1;
    }
    if (write(fd, request->str, request->len) != (ssize_t)request->len ||
        !read_reply(fd, reply)) {
        fprintf(stderr, "netbe-ctl: %s: no reply within %d s\n", path, CTL_TIMEOUT_MS / 1000);
        close(fd);
        return 1;
    }
    close(fd);
    if (g_str_has_prefix(reply->str, CONTROL_ERROR_PREFIX)) {
        fputs(reply->str, stderr);
        return 1;
    }
    fputs(reply->str, stdout);
    return 0;
}
