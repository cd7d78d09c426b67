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
#include "netns.h"
#include "sock-test.h"

/* The plugin's record (plugins/socket/sock-handover.c), written here on purpose. */
enum {
    F_LISTEN_FD = 1u << 0,
    F_DATA_FD = 1u << 1,
    F_STREAM = 1u << 2,
    F_UP = 1u << 3,
    F_CONNECTING = 1u << 4,
    F_RETRY = 1u << 6,
    F_LISTEN_UNLINK = 1u << 11,
};
#define VALID_FLAGS (F_LISTEN_FD | F_DATA_FD | F_STREAM | F_UP)

/* What goes in the place of one of the two fds. */
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

typedef struct Case {
    const char *name;
    const char *expected; /* in the destination's error; NULL: adopted */
    uint32_t version;
    uint8_t mode;
    bool wrong_addr;
    uint32_t flags;
    uint32_t rx_len, tx_len;
    FdKind fds[3];
    bool truncate; /* the last field is missing */
    bool give_up;  /* an error record instead of the commit */
} Case;

static const Case cases[] = {
    {"valid", NULL, 1, 0, false, VALID_FLAGS, 5, 7, {FD_LISTENER, FD_ACCEPTED}},
    {"version",
     "version 2, this plugin reads version 1",
     2,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_ACCEPTED}},
    {"transport",
     "the source's transport is connect, this netdev's is listen",
     1,
     1,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_ACCEPTED}},
    {"unknown-transport",
     "unknown transport 9",
     1,
     9,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_ACCEPTED}},
    {"address", "configs differ", 1, 0, true, VALID_FLAGS, 0, 0, {FD_LISTENER, FD_ACCEPTED}},
    {"unknown-flags",
     "unknown flags",
     1,
     0,
     false,
     VALID_FLAGS | (1u << 20),
     0,
     0,
     {FD_LISTENER, FD_ACCEPTED}},
    {"rx-too-long",
     "buffered bytes exceed the buffers",
     1,
     0,
     false,
     VALID_FLAGS,
     256 * 1024 + 1,
     0,
     {FD_LISTENER, FD_ACCEPTED}},
    {"tx-too-long",
     "buffered bytes exceed the buffers",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     65536 + 20 + 4 + 1,
     {FD_LISTENER, FD_ACCEPTED}},
    {"bytes-while-down",
     "buffered bytes without a stream that is up",
     1,
     0,
     false,
     F_LISTEN_FD | F_STREAM,
     10,
     0,
     {FD_LISTENER}},
    {"connecting-listener",
     "connecting is for a client",
     1,
     0,
     false,
     F_LISTEN_FD | F_DATA_FD | F_STREAM | F_CONNECTING,
     0,
     0,
     {FD_LISTENER, FD_ACCEPTED}},
    {"retry-listener",
     "a reconnect is due only for a client",
     1,
     0,
     false,
     F_LISTEN_FD | F_STREAM | F_RETRY,
     0,
     0,
     {FD_LISTENER}},
    {"no-listener",
     "a listening socket only and always comes with listen =",
     1,
     0,
     false,
     F_DATA_FD | F_STREAM | F_UP,
     0,
     0,
     {FD_ACCEPTED}},
    {"fd-not-a-socket",
     "the accepted stream fd is not a socket",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_PIPE}},
    {"fd-datagram",
     "is a datagram socket, expected stream",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_UDP}},
    {"listener-wrong-port",
     "this netdev's config says 127.0.0.1:",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_OTHER_LISTENER, FD_ACCEPTED}},
    {"listener-wrong-family",
     "expected IPv4",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_V6_LISTENER, FD_ACCEPTED}},
    {"data-is-a-listener",
     "the accepted stream fd is a listening socket",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_LISTENER}},
    {"data-not-connected",
     "the accepted stream fd is bound to 0.0.0.0:0",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_UNCONNECTED}},
    {"fd-missing",
     "the data socket is announced but did not come",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER}},
    {"extra-fd",
     "more fds than the flags announce",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_ACCEPTED, FD_ACCEPTED}},
    {"truncated",
     "malformed record",
     1,
     0,
     false,
     VALID_FLAGS,
     0,
     0,
     {FD_LISTENER, FD_ACCEPTED},
     true},
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

/* The socket plugin's part of the backend record, as @c says. */
static void put_socket_state(Source *s, NetbeMigWriter *w)
{
    const Case *c = s->c;
    g_autofree uint8_t *rx = g_malloc0(c->rx_len + 1), *tx = g_malloc0(c->tx_len + 1);
    int listener = -1;

    netbe_mig_put_u32(w, c->version);
    netbe_mig_put_u8(w, c->mode);
    netbe_mig_put_string(w, c->wrong_addr ? "127.0.0.1:1" : s->listen_text);
    netbe_mig_put_string(w, "");
    netbe_mig_put_u32(w, c->flags);
    netbe_mig_put_u32(w, 0);
    netbe_mig_put_u64(w, 0);
    netbe_mig_put_string(w, "fake peer");
    netbe_mig_put_bytes(w, rx, c->rx_len);
    if (!c->truncate) {
        netbe_mig_put_bytes(w, tx, c->tx_len);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(c->fds) && c->fds[i] != FD_NONE; i++) {
        g_assert_true(netbe_mig_put_fd(w, make_fd(s, c->fds[i], &listener)));
    }
}

/* The fake source: hello for netdev 'l', its record, then the commit (or an error). */
static gpointer fake_source(gpointer data)
{
    Source *s = data;
    int fd = keep(s, wire_connect(s->path));
    NetbeMigWriter *w = netbe_mig_writer_new();
    uint32_t type;
    int lock;

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
    netbe_mig_put_u32(w, 0); /* held frames, tx */
    netbe_mig_put_u32(w, 0); /* held frames, rx */
    put_socket_state(s, w);
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
    Case c = {
        "unix", NULL, 1, 0, false, VALID_FLAGS | F_LISTEN_UNLINK, 0, 0, {FD_LISTENER, FD_ACCEPTED}};
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
