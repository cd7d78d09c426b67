// SPDX-License-Identifier: GPL-2.0-or-later
/* sock-util.c - test helpers: listeners, bounded accepts, integers out of a JSON reply. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <glib.h>
#include "sock-util.h"

int test_tcp_listener(unsigned *port)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(*port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    g_assert_cmpint(fd, >=, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    *port = ntohs(a.sin_port);
    return fd;
}

int test_unix_listener(const char *path, int backlog)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, backlog), ==, 0);
    return fd;
}

int test_accept_within(int lfd, int ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};

    g_assert_cmpint(poll(&p, 1, ms), ==, 1);
    return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

int64_t test_json_int_in(const char *json, const char *object_start, const char *key)
{
    g_autofree char *field = g_strdup_printf("\"%s\":", key);
    const char *at = json ? strstr(json, object_start) : NULL;
    const char *end = at ? strchr(at, '}') : NULL;
    const char *v = at ? strstr(at, field) : NULL;

    return v && v < end ? g_ascii_strtoll(v + strlen(field), NULL, 10) : -1;
}
