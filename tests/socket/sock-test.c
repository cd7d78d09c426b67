// SPDX-License-Identifier: GPL-2.0-or-later
/* sock-test.c - helpers for the socket plugin tests: runtimes pumped by the test, raw peers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "host-proc.h"
#include "sock-test.h"

static GPtrArray *live_runtimes;

/* Warnings a test provokes on purpose: not fatal, counted. */
static struct {
    char *domain, *pattern;
    unsigned seen;
} tolerated;

/* Whether a warning is one the tests let pass. */
static bool st_is_tolerated(const gchar *domain, const gchar *msg)
{
    return (g_strcmp0(domain, "netbe") == 0 && strstr(msg, "; the queue stops")) ||
           (tolerated.pattern && g_strcmp0(domain, tolerated.domain) == 0 &&
            g_pattern_match_simple(tolerated.pattern, msg));
}

static gboolean st_fatal_filter(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                                gpointer data)
{
    if (!st_is_tolerated(domain, msg)) {
        return true;
    }
    tolerated.seen += g_strcmp0(domain, "netbe") != 0;
    return false;
}

/* Print a tolerated warning as a comment (the default handler of a test would print it
 * as "Bail out!"), anything else as usual. */
static void st_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    if ((level & G_LOG_LEVEL_WARNING) && st_is_tolerated(domain, msg)) {
        printf("# %s-WARNING (tolerated): %s\n", domain, msg);
        return;
    }
    g_log_default_handler(domain, level, msg, data);
}

/* Tolerated warnings are neither fatal nor bail-outs (GLib resets the fatal handler after
 * each test case, so it is set again for every runtime). */
static void st_log_setup(void)
{
    static bool handlers;

    g_test_log_set_fatal_handler(st_fatal_filter, NULL);
    if (!handlers) {
        handlers = true;
        g_log_set_handler("netbe", G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, st_log, NULL);
        g_log_set_handler("netbe-socket", G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, st_log, NULL);
    }
}

void st_tolerate_warnings(const char *domain, const char *pattern)
{
    g_free(tolerated.domain);
    g_free(tolerated.pattern);
    tolerated.domain = g_strdup(domain);
    tolerated.pattern = g_strdup(pattern);
    tolerated.seen = 0;
}

unsigned st_tolerated_warnings(void)
{
    return tolerated.seen;
}

NetbeRuntime *st_runtime_try(const char *config, GError **errp)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);

    st_log_setup();
    netbe_runtime_set_plugin_path(rt, test_env_path("NETBE_PLUGIN_PATH"));
    if (!netbe_runtime_load_config_string(rt, config, "sock.ini", errp)) {
        netbe_runtime_free(rt);
        return NULL;
    }
    return rt;
}

NetbeRuntime *st_runtime_new(const char *config)
{
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = st_runtime_try(config, &err);

    g_assert_no_error(err);
    g_assert_true(netbe_runtime_start(rt, &err));
    g_assert_no_error(err);
    if (!live_runtimes) {
        live_runtimes = g_ptr_array_new();
    }
    g_ptr_array_add(live_runtimes, rt);
    return rt;
}

void st_runtime_free(NetbeRuntime *rt)
{
    if (live_runtimes) {
        g_ptr_array_remove(live_runtimes, rt);
    }
    netbe_runtime_free(rt);
}

void st_pump(void)
{
    for (guint i = 0; live_runtimes && i < live_runtimes->len; i++) {
        NetbeRuntime *rt = g_ptr_array_index(live_runtimes, i);

        for (int n = 0; n < 1000 && netbe_runtime_iterate(rt, false); n++) {
        }
    }
}

bool st_wait(bool (*cond)(void *data), void *data, unsigned timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        st_pump();
        if (cond(data)) {
            return true;
        }
        if (g_get_monotonic_time() > end) {
            return false;
        }
        g_usleep(200);
    }
}

static bool never(void *data)
{
    return false;
}

void st_pump_for(unsigned ms)
{
    st_wait(never, NULL, ms);
}

NetbeQueueStats st_stats(NetbeRuntime *rt, const char *id)
{
    NetbeQueueStats st;

    g_assert_true(netbe_runtime_get_queue_stats(rt, id, 0, &st));
    return st;
}

typedef struct FramesWait {
    NetbeRuntime *rt;
    const char *id;
    uint64_t tx, rx;
} FramesWait;

static bool frames_reached(void *data)
{
    FramesWait *w = data;
    NetbeQueueStats st = st_stats(w->rt, w->id);

    return st.tx_frames + st.tx_drops >= w->tx && st.rx_frames + st.rx_drops >= w->rx;
}

bool st_wait_frames(NetbeRuntime *rt, const char *id, uint64_t tx, uint64_t rx)
{
    FramesWait w = {rt, id, tx, rx};

    return st_wait(frames_reached, &w, ST_TIMEOUT_MS);
}

char *st_tmpdir_new(void)
{
    g_autoptr(GError) err = NULL;
    char *dir = g_dir_make_tmp("netbe-sock-XXXXXX", &err);

    g_assert_no_error(err);
    return dir;
}

void st_tmpdir_free(char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        g_unlink(path);
    }
    if (d) {
        g_dir_close(d);
    }
    g_rmdir(dir);
    g_free(dir);
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static unsigned free_port(int type)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, type, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
    close(fd);
    return ntohs(sin.sin_port);
}

unsigned st_free_tcp_port(void)
{
    return free_port(SOCK_STREAM);
}

unsigned st_free_udp_port(void)
{
    return free_port(SOCK_DGRAM);
}

void st_socketpair(int type, int sv[2])
{
    g_assert_cmpint(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), ==, 0);
    set_nonblock(sv[0]);
}

/* A unix address; "@NAME" is NAME in the abstract namespace. */
static socklen_t unix_addr(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    g_assert_cmpuint(strlen(path), <, sizeof(sun->sun_path));
    strcpy(sun->sun_path, path);
    if (path[0] == '@') {
        sun->sun_path[0] = '\0';
        return offsetof(struct sockaddr_un, sun_path) + strlen(path);
    }
    return sizeof(*sun);
}

int st_unix_listen(const char *path)
{
    struct sockaddr_un sun;
    socklen_t len = unix_addr(&sun, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    g_assert_cmpint(bind(fd, (struct sockaddr *)&sun, len), ==, 0);
    g_assert_cmpint(listen(fd, 8), ==, 0);
    return fd;
}

/* Connect a blocking-then-non-blocking socket, retrying while pumping. */
static int connect_retry(int family, const struct sockaddr *sa, socklen_t len)
{
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;

    for (;;) {
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t elen = sizeof(err);

        if (connect(fd, sa, len) == 0) {
            return fd;
        }
        if (errno == EINPROGRESS) {
            while (poll(&pfd, 1, 0) == 0 && g_get_monotonic_time() < end) {
                st_pump();
                g_usleep(200);
            }
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
            if (pfd.revents && err == 0) {
                return fd;
            }
        }
        close(fd);
        if (g_get_monotonic_time() > end) {
            return -1;
        }
        st_pump_for(5);
    }
}

int st_unix_connect(const char *path)
{
    struct sockaddr_un sun;
    socklen_t len = unix_addr(&sun, path);

    return connect_retry(AF_UNIX, (struct sockaddr *)&sun, len);
}

int st_tcp_listen(unsigned *port)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(*port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(listen(fd, 8), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

int st_tcp_connect(unsigned port)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    return connect_retry(AF_INET, (struct sockaddr *)&sin, sizeof(sin));
}

int st_accept(int lfd)
{
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;

    while (g_get_monotonic_time() < end) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            return fd;
        }
        st_pump();
        g_usleep(200);
    }
    return -1;
}

int st_unix_dgram_bind(const char *path)
{
    struct sockaddr_un sun;
    socklen_t len = unix_addr(&sun, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    g_assert_cmpint(bind(fd, (struct sockaddr *)&sun, len), ==, 0);
    return fd;
}

int st_udp_bind(unsigned *port)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(*port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

bool st_write_all(int fd, const void *buf, size_t len)
{
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            p += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return false;
        }
        if (g_get_monotonic_time() > end) {
            return false;
        }
        st_pump();
        g_usleep(100);
    }
    return true;
}

bool st_read_exact(int fd, void *buf, size_t len)
{
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;
    uint8_t *p = buf;

    while (len) {
        ssize_t n = recv(fd, p, len, MSG_DONTWAIT);

        if (n > 0) {
            p += n;
            len -= n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            return false;
        }
        if (g_get_monotonic_time() > end) {
            return false;
        }
        st_pump();
        g_usleep(100);
    }
    return true;
}

ssize_t st_recv_dgram(int fd, void *buf, size_t cap)
{
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;

    while (g_get_monotonic_time() < end) {
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);

        if (n >= 0) {
            return n;
        }
        st_pump();
        g_usleep(100);
    }
    return -1;
}

bool st_wait_eof(int fd)
{
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;
    char c;

    while (g_get_monotonic_time() < end) {
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return true;
        }
        if (n > 0) {
            return false;
        }
        st_pump();
        g_usleep(200);
    }
    return false;
}

bool st_quiet(int fd, unsigned ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    char c;

    do {
        st_pump();
        if (recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) >= 0) {
            return false;
        }
        g_usleep(200);
    } while (g_get_monotonic_time() < end);
    return true;
}

int64_t st_udp_kernel_drops(unsigned port, unsigned *queued)
{
    g_autofree char *table = NULL;
    g_auto(GStrv) lines = NULL;
    g_autofree char *local = g_strdup_printf("0100007F:%04X", port);

    if (!g_file_get_contents("/proc/net/udp", &table, NULL, NULL)) {
        return -1;
    }
    lines = g_strsplit(table, "\n", -1);
    for (int i = 1; lines[i]; i++) {
        char addr[64];
        unsigned txq, rxq;
        unsigned long long drops;

        /* sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ref ptr drops */
        if (sscanf(lines[i], " %*s %63s %*s %*x %x:%x %*s %*s %*u %*d %*u %*d %*s %llu", addr, &txq,
                   &rxq, &drops) == 4 &&
            strcmp(addr, local) == 0) {
            if (queued) {
                *queued = rxq;
            }
            return (int64_t)drops;
        }
    }
    return -1;
}

/* The receive buffer a socket gets unless it asks for another (bytes). */
static unsigned default_rcvbuf(void)
{
    static unsigned bytes;
    g_autofree char *text = NULL;

    if (!bytes) {
        bytes = g_file_get_contents("/proc/sys/net/core/rmem_default", &text, NULL, NULL)
                    ? (unsigned)g_ascii_strtoull(text, NULL, 10)
                    : 0;
        bytes = bytes ? bytes : 212992; /* Linux's default */
    }
    return bytes;
}

bool st_udp_wait_room(unsigned port, unsigned timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    unsigned queued;

    while (st_udp_kernel_drops(port, &queued) >= 0) {
        if (queued < default_rcvbuf() / 2) {
            return true;
        }
        if (g_get_monotonic_time() > end) {
            return false;
        }
        g_usleep(200);
    }
    return false;
}

int st_udp_rcvbuf(int fd, int bytes)
{
    int got = 0;
    socklen_t len = sizeof(got);

    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    }
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
    return got;
}

bool st_write_framed(int fd, const void *frame, size_t len)
{
    uint32_t prefix = htonl((uint32_t)len);

    return st_write_all(fd, &prefix, 4) && st_write_all(fd, frame, len);
}

ssize_t st_read_framed(int fd, void *buf, size_t cap)
{
    uint32_t prefix;
    size_t len;

    if (!st_read_exact(fd, &prefix, 4)) {
        return -1;
    }
    len = ntohl(prefix);
    if (len > cap || !st_read_exact(fd, buf, len)) {
        return -1;
    }
    return len;
}

void st_fill(void *buf, size_t len, unsigned seed)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
    }
}

bool st_check(const void *buf, size_t len, unsigned seed)
{
    const uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        if (p[i] != (uint8_t)(seed * 131 + i * 7 + (i >> 8))) {
            return false;
        }
    }
    return true;
}

StRig *st_rig_new(const char *link_options)
{
    StRig *r = g_new0(StRig, 1);
    g_autofree char *config = NULL;

    st_socketpair(SOCK_DGRAM, r->inj);
    config = g_strdup_printf("[netdev.inj]\ntype = socket\nfd = %d\n"
                             "[netdev.link]\ntype = socket\n%s\n"
                             "[hub.h]\nports = inj, link\n",
                             r->inj[1], link_options);
    r->rt = st_runtime_new(config);
    return r;
}

void st_rig_free(StRig *r)
{
    st_runtime_free(r->rt); /* closes inj[1] */
    close(r->inj[0]);
    g_free(r);
}

void st_inject(StRig *r, const void *frame, size_t len)
{
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;

    while (send(r->inj[0], frame, len, MSG_DONTWAIT) < 0) {
        g_assert_cmpint(errno, ==, EAGAIN);
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        st_pump();
        g_usleep(100);
    }
}

ssize_t st_take(StRig *r, void *buf, size_t cap)
{
    return st_recv_dgram(r->inj[0], buf, cap);
}

#define ST_PROBE_SEED 999
#define ST_PROBE_LEN 42

/* A probe frame waiting on @fd? Read it (and check it is one). */
static bool probe_arrived(int fd, bool framed)
{
    uint8_t buf[ST_FRAME_MAX];
    ssize_t n;

    if (recv(fd, buf, 1, MSG_DONTWAIT | MSG_PEEK) <= 0) {
        return false;
    }
    n = framed ? st_read_framed(fd, buf, sizeof(buf)) : st_recv_dgram(fd, buf, sizeof(buf));
    g_assert_cmpint(n, ==, ST_PROBE_LEN);
    g_assert_true(st_check(buf, n, ST_PROBE_SEED));
    return true;
}

bool st_probe(StRig *r, int peer_fd, bool framed)
{
    uint8_t probe[ST_PROBE_LEN];
    gint64 end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;

    st_fill(probe, sizeof(probe), ST_PROBE_SEED);
    while (g_get_monotonic_time() < end) {
        st_inject(r, probe, sizeof(probe));
        for (int i = 0; i < 20; i++) {
            st_pump_for(1);
            if (probe_arrived(peer_fd, framed)) {
                st_pump_for(30);
                while (probe_arrived(peer_fd, framed)) {
                    st_pump_for(30);
                }
                return true;
            }
        }
    }
    return false;
}

GPid st_qemu_hub_start(const char *qemu, const char *stream, const char *dgram)
{
    const char *argv[] = {
        qemu,       "-M",
        "none",     "-nodefaults",
        "-display", "none",
        "-netdev",  stream,
        "-netdev",  dgram,
        "-netdev",  "hubport,id=h1,hubid=0,netdev=s",
        "-netdev",  "hubport,id=h2,hubid=0,netdev=d",
        NULL,
    };
    g_autoptr(GError) err = NULL;
    GPid pid = -1;

    if (!g_spawn_async(NULL, (char **)argv, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid,
                       &err)) {
        g_printerr("# cannot start %s: %s\n", qemu, err->message);
        return -1;
    }
    return pid;
}

bool st_qemu_stop(GPid pid)
{
    int status;
    bool running = waitpid(pid, &status, WNOHANG) == 0;

    kill(pid, SIGTERM);
    for (int i = 0; i < 250 && waitpid(pid, &status, WNOHANG) != pid; i++) {
        g_usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, WNOHANG);
    return running;
}
