// SPDX-License-Identifier: LGPL-2.1-or-later
/* socket.c - the socket plugin (QEMU-compatible stream and datagram): options, entry points. */
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include "sock-priv.h"

static const NetbeOptionSpec sock_options[] = {
    NETBE_OPTION_STRING(
        "listen", NULL,
        "stream server on HOST:PORT, [IPV6]:PORT, :PORT (any address) or unix:PATH; one peer "
        "at a time, more are refused"),
    NETBE_OPTION_STRING("connect", NULL, "stream client to HOST:PORT, [IPV6]:PORT or unix:PATH"),
    NETBE_OPTION_INT(
        "reconnect", "0",
        "with connect: seconds before connecting again when the peer is gone or unreachable "
        "(0: never)",
        0, 86400),
    NETBE_OPTION_STRING(
        "udp", NULL,
        "UDP datagrams, one frame each, to HOST:PORT (needs localaddr), as QEMU's udp="),
    NETBE_OPTION_STRING("localaddr", NULL, "with udp: the local HOST:PORT to bind and receive on"),
    NETBE_OPTION_STRING(
        "local", NULL,
        "datagrams: the local unix:PATH or HOST:PORT to bind (needs remote), as QEMU's dgram"),
    NETBE_OPTION_STRING("remote", NULL,
                        "datagrams: the unix:PATH or HOST:PORT frames go to (needs local)"),
    NETBE_OPTION_INT("fd", NULL,
                     "an inherited, connected socket; stream or datagram is found with SO_TYPE", 0,
                     G_MAXINT),
    NETBE_OPTION_END};

#define SOCK_TRANSPORTS "exactly one of listen, connect, udp, local + remote, fd"
#define SOCK_ADDR_FORMS "A.B.C.D:PORT, [IPV6]:PORT, unix:PATH"

/* Parse the address under @key into @a; a problem goes to @errors. */
static bool parse_addr_option(GString *errors, const NetbeOptions *opts, const char *key,
                              SockAddr *a, bool bind_side)
{
    const char *text = netbe_options_get_string(opts, key);
    g_autofree char *problem = NULL;

    if (sock_addr_parse(a, text, bind_side, &problem)) {
        return true;
    }
    if (strstr(problem, "(allowed:")) {
        netbe_options_add_error(opts, errors, key, "'%s' is not a valid address: %s", text,
                                problem);
    } else {
        netbe_options_add_error(opts, errors, key, "'%s' is not a valid address: %s (allowed: %s)",
                                text, problem, SOCK_ADDR_FORMS);
    }
    return false;
}

/* The transport keys and the mode each selects; local and remote count as one. */
static const struct {
    const char *key;
    SockMode mode;
} sock_transports[] = {
    {"listen", SOCK_MODE_LISTEN}, {"connect", SOCK_MODE_CONNECT}, {"udp", SOCK_MODE_DGRAM},
    {"local", SOCK_MODE_DGRAM},   {"remote", SOCK_MODE_DGRAM},    {"fd", SOCK_MODE_FD},
};

/* Choose the mode: exactly one transport. Return: the key that chose it, or NULL. */
static const char *choose_transport(SockState *s, GString *errors, const NetbeOptions *opts)
{
    const char *chosen = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(sock_transports); i++) {
        const char *key = sock_transports[i].key;

        if (!netbe_options_is_set(opts, key)) {
            continue;
        }
        if (!chosen) {
            chosen = key;
            s->mode = sock_transports[i].mode;
        } else if (!(strcmp(chosen, "local") == 0 && strcmp(key, "remote") == 0)) {
            netbe_options_add_error(opts, errors, key,
                                    "conflicts with %s = %s (allowed: " SOCK_TRANSPORTS ")", chosen,
                                    netbe_options_get_string(opts, chosen));
            return NULL;
        }
    }
    if (!chosen) {
        netbe_options_add_error(opts, errors, NULL,
                                "no transport given (allowed: " SOCK_TRANSPORTS ")");
    }
    return chosen;
}

/* Keys that only make sense with one transport. */
static void check_dependent_keys(SockState *s, GString *errors, const NetbeOptions *opts)
{
    bool udp = netbe_options_is_set(opts, "udp");

    if (netbe_options_is_set(opts, "reconnect") && s->mode != SOCK_MODE_CONNECT) {
        netbe_options_add_error(opts, errors, "reconnect",
                                "only applies to a stream client (connect =)");
    }
    if (netbe_options_is_set(opts, "localaddr") && !udp) {
        netbe_options_add_error(opts, errors, "localaddr",
                                "only applies with udp = (for unix datagrams use "
                                "local = and remote =)");
    }
    if (udp && !netbe_options_is_set(opts, "localaddr")) {
        netbe_options_add_error(opts, errors, "udp",
                                "needs localaddr = HOST:PORT to bind and receive on, as "
                                "QEMU's -netdev socket,udp=");
    }
    if (netbe_options_is_set(opts, "local") != netbe_options_is_set(opts, "remote")) {
        const char *given = netbe_options_is_set(opts, "local") ? "local" : "remote";

        netbe_options_add_error(opts, errors, given,
                                "needs %s = too (datagrams go from local to remote)",
                                strcmp(given, "local") == 0 ? "remote" : "local");
    }
}

/* Parse the addresses of the chosen transport. */
static void parse_addresses(SockState *s, GString *errors, const NetbeOptions *opts,
                            const char *chosen)
{
    const char *local_key = netbe_options_is_set(opts, "udp") ? "localaddr" : "local";
    const char *remote_key = netbe_options_is_set(opts, "udp") ? "udp" : "remote";

    switch (s->mode) {
    case SOCK_MODE_LISTEN:
    case SOCK_MODE_CONNECT:
        s->stream = true;
        s->has_addr =
            parse_addr_option(errors, opts, chosen, &s->addr, s->mode == SOCK_MODE_LISTEN);
        break;
    case SOCK_MODE_DGRAM:
        if (!netbe_options_is_set(opts, local_key) || !netbe_options_is_set(opts, remote_key)) {
            return; /* reported by check_dependent_keys() */
        }
        s->has_local = parse_addr_option(errors, opts, local_key, &s->local, true);
        s->has_addr = parse_addr_option(errors, opts, remote_key, &s->addr, false);
        if (s->has_local && s->has_addr && s->local.ss.ss_family != s->addr.ss.ss_family) {
            netbe_options_add_error(opts, errors, remote_key,
                                    "'%s' is not of the same family as %s = %s "
                                    "(allowed: both unix:PATH, or both IPv4, or both IPv6)",
                                    s->addr.text, local_key, s->local.text);
        } else if (s->has_addr && s->addr.ss.ss_family == AF_UNIX &&
                   strcmp(remote_key, "udp") == 0) {
            netbe_options_add_error(opts, errors, "udp",
                                    "'%s' is a unix address (allowed: A.B.C.D:PORT or "
                                    "[IPV6]:PORT; use local = and remote = for unix datagrams)",
                                    s->addr.text);
        }
        break;
    case SOCK_MODE_FD:
        s->inherited_fd = (int)netbe_options_get_int(opts, "fd");
        break;
    }
}

/* init: validate and record the options; opens nothing. */
static bool sock_init(NetbeBackend *be, const NetbeOptions *opts, GError **errp)
{
    SockState *s = netbe_backend_priv(be);
    g_autoptr(GString) errors = g_string_new(NULL);
    const char *chosen;

    s->be = be;
    s->id = netbe_backend_id(be);
    s->connect_fd = s->listen_fd = s->inherited_fd = -1;
    chosen = choose_transport(s, errors, opts);
    if (chosen) {
        check_dependent_keys(s, errors, opts);
        parse_addresses(s, errors, opts, chosen);
        s->reconnect_s = (unsigned)netbe_options_get_int(opts, "reconnect");
    }
    if (errors->len) {
        g_set_error_literal(errp, NETBE_CONFIG_ERROR, EINVAL, errors->str);
        sock_addr_clear(&s->addr);
        sock_addr_clear(&s->local);
        return false;
    }
    return true;
}

static bool sock_backend_connect(NetbeBackend *be, GError **errp)
{
    return sock_conn_start(netbe_backend_priv(be), errp);
}

/* cleanup: close everything; works on a half-built instance. */
static void sock_cleanup(NetbeBackend *be)
{
    SockState *s = netbe_backend_priv(be);

    sock_conn_close(s);
    sock_handover_cancel(s);
    if (s->retry_timer) {
        g_source_destroy(s->retry_timer);
        g_source_unref(s->retry_timer);
        s->retry_timer = NULL;
    }
    netbe_fd_watch_free(s->listen_watch);
    s->listen_watch = NULL;
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    /* handed over: the destination listens on the same path now */
    if (s->listen_unlink && s->addr.unix_path && !s->saved) {
        unlink(s->addr.unix_path);
    }
    if (s->local_unlink && s->local.unix_path && !s->saved) {
        unlink(s->local.unix_path);
    }
    sock_addr_clear(&s->addr);
    sock_addr_clear(&s->local);
}

/* Handover, source side: the plugin's state of a paused netdev (sock-handover.c); the core
 * carries the data socket and its buffered bytes. */
static bool sock_backend_save(NetbeBackend *be, NetbeMigWriter *w, GError **errp)
{
    return sock_save(netbe_backend_priv(be), w, errp);
}

/* Handover, destination side: check and adopt it instead of connecting. */
static bool sock_backend_load(NetbeBackend *be, NetbeMigReader *r, uint32_t version, GError **errp)
{
    return sock_load(netbe_backend_priv(be), r, version, errp);
}

/* The port of an IPv4 or IPv6 address; 0 for any other family. */
static unsigned sock_addr_port(const SockAddr *a)
{
    if (a->ss.ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    }
    if (a->ss.ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    }
    return 0;
}

/* Least privilege: a bind still to come (listen, or the local end of datagrams) on a port
 * below 1024 needs CAP_NET_BIND_SERVICE; clients, inherited fds and open sockets nothing. */
static uint64_t sock_needed_caps(NetbeBackend *be)
{
    const SockState *s = netbe_backend_priv(be);
    const SockAddr *bind_addr = s->mode == SOCK_MODE_LISTEN  ? &s->addr
                                : s->mode == SOCK_MODE_DGRAM ? &s->local
                                                             : NULL;
    unsigned port = bind_addr ? sock_addr_port(bind_addr) : 0;
    bool bound = s->listen_fd >= 0 || sock_is_up(s);

    return !bound && port > 0 && port < 1024 ? NETBE_LINUX_CAP(CAP_NET_BIND_SERVICE) : 0;
}

static const NetbePluginDesc sock_desc = {
    .abi_version = NETBE_PLUGIN_ABI,
    .struct_size = sizeof(NetbePluginDesc),
    .name = "socket",
    .summary = "QEMU-compatible stream (length-prefixed) and datagram socket transports",
    .options = sock_options,
    .state_size = sizeof(SockState),
    .caps = NETBE_CAP_HANDOVER,
    .state_version = SOCK_STATE_VERSION,
    .init = sock_init,
    .backend_connect = sock_backend_connect,
    .cleanup = sock_cleanup,
    .queue_broken = sock_queue_broken,
    .stream_framing = &sock_stream_framing,
    .save = sock_backend_save,
    .load = sock_backend_load,
    .needed_caps = sock_needed_caps,
};

NETBE_PLUGIN_DEFINE(sock_desc)
