// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-fdcheck.c - check that a handed-over fd is the socket this netdev's config describes. */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>
#include "sock-priv.h"

/* What a socket is, as the kernel says. */
typedef struct SockFacts {
    int type, family, listening;
} SockFacts;

static const char *type_name(int type)
{
    return type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "datagram" : "other";
}

static const char *family_name(int family)
{
    return family == AF_INET    ? "IPv4"
           : family == AF_INET6 ? "IPv6"
           : family == AF_UNIX  ? "unix"
                                : "other";
}

/* Read SO_TYPE, SO_DOMAIN and SO_ACCEPTCONN of @fd. */
static bool sock_facts(int fd, const char *role, SockFacts *f, GError **errp)
{
    static const int opts[] = {SO_TYPE, SO_DOMAIN, SO_ACCEPTCONN};
    int *out[] = {&f->type, &f->family, &f->listening};

    for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
        socklen_t len = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, opts[i], out[i], &len) < 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, errno, "the %s fd is not a socket: %s", role,
                        g_strerror(errno));
            return false;
        }
    }
    return true;
}

/*
 * Does @got match @want? A zero port or an any-address in @want stands for every one
 * (listen = :0, an accepted socket of a listener on any address); unix paths compare by name.
 */
static bool addr_matches(const struct sockaddr_storage *want, socklen_t wlen,
                         const struct sockaddr_storage *got, socklen_t glen)
{
    if (want->ss_family != got->ss_family) {
        return false;
    }
    if (want->ss_family == AF_INET) {
        const struct sockaddr_in *w = (const void *)want, *g = (const void *)got;

        return glen >= sizeof(*g) && (!w->sin_port || w->sin_port == g->sin_port) &&
               (w->sin_addr.s_addr == htonl(INADDR_ANY) ||
                w->sin_addr.s_addr == g->sin_addr.s_addr);
    }
    if (want->ss_family == AF_INET6) {
        const struct sockaddr_in6 *w = (const void *)want, *g = (const void *)got;

        return glen >= sizeof(*g) && (!w->sin6_port || w->sin6_port == g->sin6_port) &&
               (IN6_IS_ADDR_UNSPECIFIED(&w->sin6_addr) ||
                memcmp(&w->sin6_addr, &g->sin6_addr, sizeof(w->sin6_addr)) == 0);
    }
    if (want->ss_family == AF_UNIX) {
        const struct sockaddr_un *w = (const void *)want, *g = (const void *)got;
        size_t base = offsetof(struct sockaddr_un, sun_path);
        size_t wn = wlen > base ? wlen - base : 0, gn = glen > base ? glen - base : 0;

        if (wn == 0 || gn == 0) {
            return false;
        }
        if (w->sun_path[0] == '\0') { /* abstract: every byte counts */
            return wn == gn && memcmp(w->sun_path, g->sun_path, wn) == 0;
        }
        return strncmp(w->sun_path, g->sun_path, MIN(sizeof(w->sun_path), MAX(wn, gn))) == 0;
    }
    return false;
}

/* The local (@peer false) or remote address of @fd, compared with @want. */
static bool check_addr(int fd, const char *role, bool peer, const struct sockaddr_storage *want,
                       socklen_t wlen, const char *want_text, GError **errp)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    g_autofree char *got = NULL;
    int rc;

    memset(&ss, 0, sizeof(ss));
    rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
              : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "the %s fd has no %s address: %s", role,
                    peer ? "peer" : "local", g_strerror(errno));
        return false;
    }
    if (addr_matches(want, wlen, &ss, len)) {
        return true;
    }
    got = sock_addr_format((struct sockaddr *)&ss, len);
    g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                "the %s fd is %s %s, this netdev's config "
                "says %s",
                role, peer ? "connected to" : "bound to", got, want_text);
    return false;
}

/* @fd has a peer (a unix client may be unnamed: only that there is one counts). */
static bool check_connected(int fd, const char *role, GError **errp)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "the %s fd has no peer: %s", role,
                    g_strerror(errno));
        return false;
    }
    return true;
}

/* Type, family and listening state as wanted (@family 0: any of unix, IPv4, IPv6). */
static bool check_facts(int fd, const char *role, int type, int family, bool listening,
                        GError **errp)
{
    SockFacts f;

    if (!sock_facts(fd, role, &f, errp)) {
        return false;
    }
    if (f.type != type) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "the %s fd is a %s socket, expected %s",
                    role, type_name(f.type), type_name(type));
        return false;
    }
    if (family ? f.family != family
               : f.family != AF_UNIX && f.family != AF_INET && f.family != AF_INET6) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "the %s fd is an %s socket (family %d), "
                    "expected %s",
                    role, family_name(f.family), f.family,
                    family ? family_name(family) : "unix, IPv4 or IPv6");
        return false;
    }
    if (!!f.listening != listening) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "the %s fd is %s", role,
                    listening ? "not listening" : "a listening socket");
        return false;
    }
    return true;
}

/*
 * sock_fdcheck_listener() - @fd is a listening stream socket on the configured listen =
 * address (a :0 or any-address config accepts what the source was given).
 * Return: false with the difference in @errp.
 */
bool sock_fdcheck_listener(const SockState *s, int fd, GError **errp)
{
    return check_facts(fd, "listening", SOCK_STREAM, s->addr.ss.ss_family, true, errp) &&
           check_addr(fd, "listening", false, &s->addr.ss, s->addr.len, s->addr.text, errp);
}

/*
 * sock_fdcheck_data() - @fd is the data socket this netdev's mode describes: a peer
 * accepted on @listen_fd (listen), connected to connect = (or still connecting), bound to
 * the local datagram address, or for fd = a stream or datagram socket as the record says.
 * Return: false with the difference in @errp.
 */
bool sock_fdcheck_data(const SockState *s, int fd, int listen_fd, bool stream, bool connecting,
                       GError **errp)
{
    int type = stream ? SOCK_STREAM : SOCK_DGRAM;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    switch (s->mode) {
    case SOCK_MODE_LISTEN:
        memset(&ss, 0, sizeof(ss));
        if (!check_facts(fd, "accepted stream", type, s->addr.ss.ss_family, false, errp)) {
            return false;
        }
        if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) < 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, errno, "the listening fd has no address: %s",
                        g_strerror(errno));
            return false;
        }
        /* accepted on that listener: same local address, and a peer at the other end */
        return check_addr(fd, "accepted stream", false, &ss, len, s->addr.text, errp) &&
               check_connected(fd, "accepted stream", errp);
    case SOCK_MODE_CONNECT:
        return check_facts(fd, "connected stream", type, s->addr.ss.ss_family, false, errp) &&
               (connecting || check_addr(fd, "connected stream", true, &s->addr.ss, s->addr.len,
                                         s->addr.text, errp));
    case SOCK_MODE_DGRAM:
        return check_facts(fd, "datagram", type, s->local.ss.ss_family, false, errp) &&
               check_addr(fd, "datagram", false, &s->local.ss, s->local.len, s->local.text, errp);
    case SOCK_MODE_FD:
        return check_facts(fd, stream ? "inherited stream" : "inherited datagram", type, 0, false,
                           errp);
    }
    return false;
}
