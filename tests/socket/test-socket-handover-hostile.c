// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-handover-hostile.c - a fake source hands malformed or hostile socket state to
 * an in-process destination (netbe_runtime_migrate_from): each record is refused with a
 * clear error and no fd stays open; a valid one is adopted; a failed handover leaves the
 * source's unix socket path alone. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "host-proc.h"
#include "mig-wire.h"
#include "netbe/migrate.h"
#include "netbe/netbe.h"
#include "netbe/plugin.h"
#include "netns.h"
#include "sock-test.h"

/* The plugin's record (plugins/socket/sock-handover.c), written here on purpose. */
#define STATE_VERSION 2
enum {
    F_LISTEN_FD = 1u << 0,
    F_CONNECT_FD = 1u << 1,
    F_STREAM = 1u << 2,
    F_RETRY = 1u << 3,
    F_LISTEN_UNLINK = 1u << 7,
};
#define VALID_FLAGS (F_LISTEN_FD | F_STREAM)
/* Buffered bytes the core takes with a stream queue fd, at most (core/queue-io.c). */
#define QUEUE_RX_MAX (65536 + 16 + 65536 + 4096)
#define QUEUE_TX_MAX (16 + 65536 + 4096)

/* What goes in the place of an fd. */
typedef enum FdKind {
    FD_NONE = 0,
    FD_LISTENER, /* listening on the configured address */
    FD_ACCEPTED, /* a connection accepted on it */
    FD_PIPE,
    FD_UDP,
    FD_OTHER_LISTENER, /* listening on another port */
    FD_V6_LISTENER,    /* listening on [::1] */
    FD_UNCONNECTED,    /* a TCP socket, neither bound nor connected */
} FdKind;

/*
 * struct Case - one record a fake source sends
 * @expected: in the destination's error; NULL: adopted
 * @version:  the plugin's state version, as the core writes it
 * @data:     the queue fd the core's part carries (FD_NONE: none)
 * @framing:  NETBE_FRAMING_* of that queue
 * @rx_len, @tx_len: stream bytes the core's part carries with it
 * @flags:    the plugin's flags; @fds: the fds of the plugin's part
 * @data_missing: the core's part announces a queue fd that does not come
 * @truncate: the last field of the plugin's part is missing
 * @give_up:  an error record instead of the commit
 */
typedef struct Case {
    const char *name;
    const char *expected;
    uint32_t version;
    uint8_t mode;
    bool wrong_addr;
    FdKind data;
    uint32_t framing;
    uint32_t rx_len, tx_len;
    uint32_t flags;
    FdKind fds[3];
    bool data_missing;
    bool truncate;
    bool give_up;
} Case;

/* A listener with a connected peer, buffered bytes both ways: valid, adopted. */
#define VALID_QUEUE FD_ACCEPTED, NETBE_FRAMING_STREAM
#define VALID_PLUGIN                                                                               \
    VALID_FLAGS,                                                                                   \
    {                                                                                              \
        FD_LISTENER                                                                                \
    }

static const Case cases[] = {
    {"valid", NULL, STATE_VERSION, 0, false, VALID_QUEUE, 5, 7, VALID_PLUGIN},
    {"version", "version 1, this plugin reads version 2", 1, 0, false, VALID_QUEUE, 0, 0,
     VALID_PLUGIN},
    {"transport", "the source's transport is connect, this netdev's is listen", STATE_VERSION, 1,
     false, VALID_QUEUE, 0, 0, VALID_PLUGIN},
    {"unknown-transport", "unknown transport 9", STATE_VERSION, 9, false, VALID_QUEUE, 0, 0,
     VALID_PLUGIN},
    {"address", "configs differ", STATE_VERSION, 0, true, VALID_QUEUE, 0, 0, VALID_PLUGIN},
    {"unknown-flags",
     "unknown flags",
     STATE_VERSION,
     0,
     false,
     VALID_QUEUE,
     0,
     0,
     VALID_FLAGS | (1u << 20),
     {FD_LISTENER}},
    {"rx-too-long", "malformed queue record", STATE_VERSION, 0, false, VALID_QUEUE,
     QUEUE_RX_MAX + 1, 0, VALID_PLUGIN},
    {"tx-too-long", "malformed queue record", STATE_VERSION, 0, false, VALID_QUEUE, 0,
     QUEUE_TX_MAX + 1, VALID_PLUGIN},
    {"bytes-on-a-packet-queue", "malformed queue record", STATE_VERSION, 0, false, FD_ACCEPTED,
     NETBE_FRAMING_PACKET, 10, 0, VALID_PLUGIN},
    {"queue-fd-missing",
     "malformed queue record",
     STATE_VERSION,
     0,
     false,
     FD_NONE,
     NETBE_FRAMING_STREAM,
     0,
     0,
     VALID_FLAGS,
     {FD_NONE},
     true},
    {"connecting-listener",
     "connecting is for a client",
     STATE_VERSION,
     0,
     false,
     VALID_QUEUE,
     0,
     0,
     VALID_FLAGS | F_CONNECT_FD,
     {FD_LISTENER, FD_ACCEPTED}},
    {"retry-listener",
     "a reconnect is due only for a client",
     STATE_VERSION,
     0,
     false,
     FD_NONE,
     NETBE_FRAMING_STREAM,
     0,
     0,
     VALID_FLAGS | F_RETRY,
     {FD_LISTENER}},
    {"no-listener",
     "a listening socket only and always comes with listen =",
     STATE_VERSION,
     0,
     false,
     VALID_QUEUE,
     0,
     0,
     F_STREAM,
     {FD_NONE}},
    {"fd-not-a-socket", "the accepted stream fd is not a socket", STATE_VERSION, 0, false, FD_PIPE,
     NETBE_FRAMING_STREAM, 0, 0, VALID_PLUGIN},
    {"fd-datagram", "is a datagram socket, expected stream", STATE_VERSION, 0, false, FD_UDP,
     NETBE_FRAMING_STREAM, 0, 0, VALID_PLUGIN},
    {"listener-wrong-port",
     "this netdev's config says 127.0.0.1:",
     STATE_VERSION,
     0,
     false,
     VALID_QUEUE,
     0,
     0,
     VALID_FLAGS,
     {FD_OTHER_LISTENER}},
    {"listener-wrong-family",
     "expected IPv4",
     STATE_VERSION,
     0,
     false,
     VALID_QUEUE,
     0,
     0,
     VALID_FLAGS,
     {FD_V6_LISTENER}},
    {"data-is-a-listener", "the accepted stream fd is a listening socket", STATE_VERSION, 0, false,
     FD_LISTENER, NETBE_FRAMING_STREAM, 0, 0, VALID_PLUGIN},
    {"data-not-connected", "the accepted stream fd is bound to 0.0.0.0:0", STATE_VERSION, 0, false,
     FD_UNCONNECTED, NETBE_FRAMING_STREAM, 0, 0, VALID_PLUGIN},
    {"listener-missing",
     "the listening socket is announced but did not come",
     STATE_VERSION,
     0,
     false,
     VALID_QUEUE,
     0,
     0,
     VALID_FLAGS,
     {FD_NONE}},
    {"extra-fd",
     "more fds than the flags announce",
     STATE_VERSION,
     0,
     false,
     VALID_QUEUE,
     0,
     0,
     VALID_FLAGS,
     {FD_LISTENER, FD_ACCEPTED}},
    {"truncated", "malformed record", STATE_VERSION, 0, false, VALID_QUEUE, 0, 0, VALID_PLUGIN,
     false, true},
};

static unsigned listen_port;
static char *tmp_dir;

typedef struct Source {
    const Case *c;
    char *path;        /* the destination's incoming socket */
    char *listen_text; /* listen = as configured */
    char *unix_path;   /* the listener is this unix path (else 127.0.0.1:listen_port) */
    GArray *fds;       /* everything the fake source opened, closed at the end */
} Source;

static int keep(Source *s, int fd)
{
    g_assert_cmpint(fd, >=, 0);
    g_array_append_val(s->fds, fd);
    return fd;
}

static int tcp_listener(Source *s, int family, unsigned port)
{
    struct sockaddr_in a4 = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in6 a6 = {
        .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int fd = keep(s, socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)), one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    g_assert_cmpint(family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4))
                                      : bind(fd, (struct sockaddr *)&a6, sizeof(a6)),
                    ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    return fd;
}

/* The configured listener (TCP or unix), made once per source. */
static int main_listener(Source *s, int *made)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};

    if (*made >= 0) {
        return *made;
    }
    if (!s->unix_path) {
        return *made = tcp_listener(s, AF_INET, listen_port);
    }
    g_strlcpy(a.sun_path, s->unix_path, sizeof(a.sun_path));
    *made = keep(s, socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    g_assert_cmpint(bind(*made, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(*made, 4), ==, 0);
    return *made;
}

/* A connection accepted on @lfd (its client end is kept too). */
static int accepted(Source *s, int lfd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int c;

    g_assert_cmpint(getsockname(lfd, (struct sockaddr *)&ss, &len), ==, 0);
    c = keep(s, socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    g_assert_cmpint(connect(c, (struct sockaddr *)&ss, len), ==, 0);
    return keep(s, accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
}

static int make_fd(Source *s, FdKind kind, int *listener)
{
    int p[2];

    switch (kind) {
    case FD_LISTENER:
        return main_listener(s, listener);
    case FD_ACCEPTED:
        return accepted(s, main_listener(s, listener));
    case FD_PIPE:
        g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
        keep(s, p[1]);
        return keep(s, p[0]);
    case FD_UDP:
        return keep(s, socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    case FD_OTHER_LISTENER:
        return tcp_listener(s, AF_INET, 0);
    case FD_V6_LISTENER:
        return tcp_listener(s, AF_INET6, 0);
    case FD_UNCONNECTED:
        return keep(s, socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    case FD_NONE:
        break;
    }
    return -1;
}

/* The core's part of queue 0: its fd, shape and buffered bytes, as @c says. */
static void put_queue(Source *s, NetbeMigWriter *w, int *listener)
{
    const Case *c = s->c;
    g_autofree uint8_t *rx = g_malloc0(c->rx_len + 1), *tx = g_malloc0(c->tx_len + 1);

    netbe_mig_put_u32(w, 0); /* held frames, tx */
    netbe_mig_put_u32(w, 0); /* held frames, rx */
    netbe_mig_put_u32(w, c->data != FD_NONE || c->data_missing);
    if (c->data == FD_NONE) {
        return;
    }
    g_assert_true(netbe_mig_put_fd(w, make_fd(s, c->data, listener)));
    netbe_mig_put_u32(w, 0); /* vnet header length */
    netbe_mig_put_u32(w, c->framing);
    netbe_mig_put_bytes(w, "", 0); /* no destination address */
    netbe_mig_put_bytes(w, rx, c->rx_len);
    netbe_mig_put_bytes(w, tx, c->tx_len);
    netbe_mig_put_u32(w, 0); /* no datagrams read ahead */
}

/* The socket plugin's part of the backend record, as @c says. */
static void put_socket_state(Source *s, NetbeMigWriter *w, int *listener)
{
    const Case *c = s->c;

    netbe_mig_put_u32(w, c->version);
    netbe_mig_put_u8(w, c->mode);
    netbe_mig_put_string(w, c->wrong_addr ? "127.0.0.1:1" : s->listen_text);
    netbe_mig_put_string(w, "");
    netbe_mig_put_u32(w, c->flags);
    netbe_mig_put_u32(w, 0);
    if (!c->truncate) {
        netbe_mig_put_string(w, "fake peer");
    }
    for (size_t i = 0; i < G_N_ELEMENTS(c->fds) && c->fds[i] != FD_NONE; i++) {
        g_assert_true(netbe_mig_put_fd(w, make_fd(s, c->fds[i], listener)));
    }
}

/* The fake source: hello for netdev 'l', its record, then the commit (or an error). */
static gpointer fake_source(gpointer data)
{
    Source *s = data;
    int fd = keep(s, wire_connect(s->path));
    NetbeMigWriter *w = netbe_mig_writer_new();
    uint32_t type;
    int lock, listener = -1;

    wire_send_header(fd, WIRE_VERSION, WIRE_VERSION);
    wire_recv_header(fd);
    lock = keep(s, wire_put_lock(w));
    netbe_mig_put_u32(w, 1);
    netbe_mig_put_string(w, "l");
    netbe_mig_put_string(w, "socket");
    netbe_mig_put_u32(w, 1);
    netbe_mig_put_u32(w, 0); /* no devices */
    wire_send_record(fd, WIRE_HELLO, w, -1, SIZE_MAX);
    netbe_mig_writer_free(w);
    netbe_mig_reader_free(wire_recv_record(fd, &type));
    w = netbe_mig_writer_new();
    netbe_mig_put_string(w, "l");
    netbe_mig_put_string(w, "socket");
    netbe_mig_put_u32(w, 1);
    netbe_mig_put_u32(w, 0); /* vnet header length */
    put_queue(s, w, &listener);
    put_socket_state(s, w, &listener);
    wire_send_record(fd, WIRE_BACKEND, w, -1, SIZE_MAX);
    netbe_mig_writer_free(w);
    if (s->c->give_up) {
        wire_send_status(fd, WIRE_ERROR, false, "operator cancelled");
    } else {
        w = netbe_mig_writer_new();
        netbe_mig_put_u64(w, 0);
        wire_send_record(fd, WIRE_COMMIT, w, -1, SIZE_MAX);
        netbe_mig_writer_free(w);
        wire_finish_source(fd, lock);
    }
    if (s->c->give_up) {
        netbe_mig_reader_free(wire_recv_record(fd, &type));
    }
    for (guint i = 0; i < s->fds->len; i++) {
        close(g_array_index(s->fds, int, i));
    }
    return NULL;
}

/*
 * Run @c against a destination whose netdev 'l' listens on @listen_text. Return: the
 * destination's error (NULL if it adopted), after the runtime is freed and the fd count
 * checked: the same as before.
 */
static char *run_case(const Case *c, const char *listen_text, const char *unix_path)
{
    Source s = {c, g_build_filename(tmp_dir, "incoming.sock", NULL), (char *)listen_text,
                (char *)unix_path, g_array_new(false, false, sizeof(int))};
    g_autofree char *conf = g_strdup_printf("[netdev.l]\ntype = socket\nlisten = %s\n"
                                            "[netdev.u]\ntype = socket\nlocaladdr = 127.0.0.1:0\n"
                                            "udp = 127.0.0.1:9\n"
                                            "[hub.h]\nports = l, u\nconnect = deferred\n",
                                            listen_text);
    int before = test_count_fds(0), lfd;
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = st_runtime_try(conf, &err);
    GThread *peer;
    bool ok;

    g_assert_no_error(err);
    lfd = wire_listen(s.path);
    peer = g_thread_new("fake-source", fake_source, &s);
    ok = netbe_runtime_migrate_from(rt, lfd, 5000, NULL, &err);
    g_thread_join(peer);
    for (int i = 0; ok && i < 100 && netbe_runtime_iterate(rt, false); i++) {
        /* adopted: the destination runs a moment before it stops */
    }
    close(lfd);
    unlink(s.path);
    netbe_runtime_free(rt);
    g_assert_cmpint(test_count_fds(0), ==, before); /* nothing leaked, either way */
    g_array_unref(s.fds);
    g_free(s.path);
    g_assert_true(ok == (err == NULL));
    return err ? g_strdup(err->message) : NULL;
}

/* Fails if a hostile record is adopted, refused without naming its problem, or leaves an fd
 * open; or if the valid control record (the same writer) is not adopted. */
static void run_hostile(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *text = g_strdup_printf("127.0.0.1:%u", listen_port);
    g_autofree char *msg = run_case(c, text, NULL);

    g_test_message("destination says: %s", msg ? msg : "(adopted)");
    if (!c->expected) {
        g_assert_null(msg);
        return;
    }
    g_assert_nonnull(msg);
    g_assert_nonnull(strstr(msg, "netdev 'l' (socket)"));
    g_assert_nonnull(strstr(msg, c->expected));
}

/*
 * Fails if a destination that adopted a unix listener removes its path when the handover
 * fails afterwards (the source still listens there), or does not remove it at shutdown
 * once it ran the netdev (it is its own then).
 */
static void test_unix_path_follows_the_owner(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "lan.sock", NULL);
    g_autofree char *text = g_strdup_printf("unix:%s", path);
    Case c = {"unix",
              NULL,
              STATE_VERSION,
              0,
              false,
              VALID_QUEUE,
              0,
              0,
              VALID_FLAGS | F_LISTEN_UNLINK,
              {FD_LISTENER}};
    g_autofree char *msg = NULL;
    struct stat st;

    c.give_up = true; /* loaded, then the source gives up */
    msg = run_case(&c, text, path);
    g_test_message("destination says: %s", msg);
    g_assert_nonnull(strstr(msg, "operator cancelled"));
    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISSOCK(st.st_mode));
    unlink(path);
    g_free(msg);
    c.give_up = false; /* adopted and run: the destination owns the path now */
    msg = run_case(&c, text, path);
    g_assert_null(msg);
    g_assert_cmpint(lstat(path, &st), ==, -1);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    listen_port = st_free_tcp_port();
    tmp_dir = g_dir_make_tmp("netbe-sockmig-XXXXXX", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strdup_printf("/socket-handover/record/%s", cases[i].name);

        g_test_add_data_func(name, &cases[i], run_hostile);
    }
    g_test_add_func("/socket-handover/unix-path-follows-the-owner",
                    test_unix_path_follows_the_owner);
    rc = g_test_run();
    test_sh("rm -rf '%s'", tmp_dir);
    g_free(tmp_dir);
    return rc;
}
