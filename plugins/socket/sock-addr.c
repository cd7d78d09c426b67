// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-addr.c - strict parsing and printing of socket addresses (IPv4, [IPv6], unix:PATH). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "sock-priv.h"

/* Decimal port 1..65535 (0 too when @allow_zero). Return: false if not one. */
static bool parse_port(const char *text, bool allow_zero, uint16_t *port, char **problem)
{
    unsigned long v = 0;

    if (!*text) {
        *problem = g_strdup("no port after ':'");
        return false;
    }
    for (const char *p = text; *p; p++) {
        if (!g_ascii_isdigit(*p) || p - text > 5) {
            *problem = g_strdup_printf("port '%s' is not a number", text);
            return false;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535 || (v == 0 && !allow_zero)) {
        *problem = g_strdup_printf("port %lu is out of range (allowed: %s..65535)", v,
                                   allow_zero ? "0" : "1");
        return false;
    }
    *port = (uint16_t)v;
    return true;
}

static bool parse_unix(SockAddr *a, const char *path, char **problem)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;
    size_t len = strlen(path);
    bool abstract = path[0] == '@';

    if (len == 0 || (abstract && len == 1)) {
        *problem = g_strdup("empty unix socket path");
        return false;
    }
    if (len >= sizeof(sun->sun_path)) {
        *problem = g_strdup_printf("unix socket path is %zu bytes (allowed: at most %zu)", len,
                                   sizeof(sun->sun_path) - 1);
        return false;
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len);
    if (abstract) {
        sun->sun_path[0] = '\0'; /* Linux abstract namespace, "unix:@name" */
        a->len = offsetof(struct sockaddr_un, sun_path) + len;
    } else {
        a->len = sizeof(*sun);
        a->unix_path = g_strdup(path);
    }
    return true;
}

static bool parse_inet(SockAddr *a, const char *text, bool bind_side, char **problem)
{
    g_autofree char *host = NULL;
    const char *port_text;
    uint16_t port = 0;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

        if (!close || close[1] != ':') {
            *problem = g_strdup(close ? "no ':PORT' after ']'" : "no ']' after the IPv6 address");
            return false;
        }
        host = g_strndup(text + 1, close - text - 1);
        port_text = close + 2;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            *problem = g_strdup_printf("'%s' is not an IPv6 address", host);
            return false;
        }
        if (!parse_port(port_text, bind_side, &port, problem)) {
            return false;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        a->len = sizeof(*sin6);
        return true;
    }

    struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
    const char *colon = strrchr(text, ':');

    if (!colon) {
        *problem = g_strdup("no ':PORT'");
        return false;
    }
    host = g_strndup(text, colon - text);
    port_text = colon + 1;
    if (strchr(host, ':')) {
        *problem = g_strdup("an IPv6 address needs brackets: [ADDR]:PORT");
        return false;
    }
    if (!*host && bind_side) {
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
        *problem = *host ? g_strdup_printf("'%s' is not an IPv4 address (names are not "
                                           "resolved)",
                                           host)
                         : g_strdup("no host before ':PORT'");
        return false;
    }
    if (!parse_port(port_text, bind_side, &port, problem)) {
        return false;
    }
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    a->len = sizeof(*sin);
    return true;
}

/*
 * sock_addr_parse() - parse "A.B.C.D:PORT", "[IPV6]:PORT", "unix:PATH" or "unix:@NAME".
 * @a: filled in (free with sock_addr_clear())
 * @text: the address as written
 * @bind_side: a local address: port 0 (any port) and an empty host (any address) allowed
 * @problem: set to the cause (caller frees) on failure
 * Return: true if @text is a valid address.
 */
bool sock_addr_parse(SockAddr *a, const char *text, bool bind_side, char **problem)
{
    bool ok;

    sock_addr_clear(a);
    if (g_str_has_prefix(text, "unix:")) {
        ok = parse_unix(a, text + 5, problem);
    } else {
        ok = parse_inet(a, text, bind_side, problem);
    }
    if (!ok) {
        sock_addr_clear(a);
        return false;
    }
    a->text = g_strdup(text);
    return true;
}

/* sock_addr_clear() - free what sock_addr_parse() allocated and zero @a. */
void sock_addr_clear(SockAddr *a)
{
    g_free(a->text);
    g_free(a->unix_path);
    memset(a, 0, sizeof(*a));
}

/*
 * sock_addr_format() - print a socket address the way the options take it.
 * Return: a new string ("127.0.0.1:5555", "[::1]:5555", "unix:/run/x.sock").
 */
char *sock_addr_format(const struct sockaddr *sa, socklen_t len)
{
    char buf[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
        return g_strdup_printf("%s:%u", buf, ntohs(sin->sin_port));
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
        return g_strdup_printf("[%s]:%u", buf, ntohs(sin6->sin6_port));
    }
    if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? len - offsetof(struct sockaddr_un, sun_path)
                       : 0;

        if (n == 0) {
            return g_strdup("unix:(unnamed)");
        }
        if (sun->sun_path[0] == '\0') {
            return g_strdup_printf("unix:@%.*s", (int)n - 1, sun->sun_path + 1);
        }
        return g_strdup_printf("unix:%.*s", (int)strnlen(sun->sun_path, n), sun->sun_path);
    }
    return g_strdup_printf("(address family %d)", sa->sa_family);
}

/*
 * sock_unix_path_claim() - make the path of a unix address free to bind: a stale
 * socket file (nobody answers on it) is removed; a live one or a non-socket is an error.
 * @type: SOCK_STREAM or SOCK_DGRAM, to probe the old socket with
 * Return: true if bind() may go ahead.
 */
bool sock_unix_path_claim(const SockAddr *a, int type, GError **errp)
{
    struct stat st;
    int probe = -1;
    bool ok = false;

    if (!a->unix_path || lstat(a->unix_path, &st) < 0) {
        return true; /* abstract, or nothing there */
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EEXIST,
                    "%s exists and is not a socket (remove it, or choose another path)",
                    a->unix_path);
        return false;
    }
    probe = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot probe %s: socket(): %s", a->unix_path,
                    g_strerror(errno));
        goto out;
    }
    if (connect(probe, (const struct sockaddr *)&a->ss, a->len) == 0 || errno == EAGAIN) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EADDRINUSE,
                    "%s is in use by another process (a peer answers on it)", a->unix_path);
        goto out;
    }
    if (unlink(a->unix_path) < 0 && errno != ENOENT) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot remove stale socket %s: %s",
                    a->unix_path, g_strerror(errno));
        goto out;
    }
    ok = true;
out:
    if (probe >= 0) {
        close(probe);
    }
    return ok;
}

/*
 * sock_open() - a non-blocking, close-on-exec socket.
 * @what: what it is for, in the error message ("listen on unix:/x")
 * Return: the fd, or -1 with @errp set.
 */
int sock_open(int family, int type, GError **errp, const char *what)
{
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot create a socket to %s: %s", what,
                    g_strerror(errno));
    }
    return fd;
}

/* sock_set_nodelay() - no Nagle on a TCP stream: each frame leaves at once. */
void sock_set_nodelay(int fd)
{
    int one = 1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
}
