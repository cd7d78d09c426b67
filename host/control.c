// SPDX-License-Identifier: GPL-2.0-or-later
/* control.c - netbe-host's control socket: accept, check the peer, read one request line,
 * write the reply without blocking, close; with deadlines, a bound on clients and a
 * listener that backs off instead of spinning when accept() fails (EMFILE). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include "control.h"

#define CONTROL_BACKLOG 32
#define CONTROL_ACCEPT_BATCH 16   /* accepts per wakeup, so clients cannot starve the loop */
#define CONTROL_BACKOFF_MIN_MS 50 /* first retry after accept() failed for lack of fds */
#define CONTROL_BACKOFF_MAX_MS 1000
#define CONTROL_DRAIN_MS 1000 /* last chance for pending replies when the host stops */

struct ControlServer {
    NetbeRuntime *rt;
    ControlOptions opts; /* defaults filled in */
    char *path;          /* socket file, NULL without a listener */
    struct stat file;    /* what bind() made there: removed only if still the same */
    int fd;              /* listener, -1 without */
    GSource *listen_src; /* NULL while paused */
    GSource *retry_src;  /* while paused: re-enables the listener */
    unsigned backoff_ms; /* 0 while accept() works */
    bool full;           /* refusing clients for being at opts.max_clients */
    GList *clients;      /* ControlClient* */
    unsigned n_clients;
};

/*
 * ControlClient - one connection: first reading its request, then writing its reply.
 * @in:       the request read so far (reading phase)
 * @out:      the reply (writing phase), @out_off bytes of it sent
 * @io:       G_IO_IN watch while reading, G_IO_OUT watch while a reply waits for room
 * @deadline: closes the client when its request or the reading of its reply is late
 */
typedef struct ControlClient {
    ControlServer *srv;
    int fd;
    pid_t pid;
    GString *in;
    char *out;
    size_t out_len, out_off;
    GSource *io;
    GSource *deadline;
} ControlClient;

static void listener_resume(ControlServer *srv);

static void source_clear(GSource **s)
{
    if (*s) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

static GSource *source_attach(ControlServer *srv, GSource *s, GSourceFunc fn, void *data)
{
    g_source_set_callback(s, fn, data, NULL);
    g_source_attach(s, netbe_runtime_get_context(srv->rt));
    return s;
}

/* Close a client's socket so that what we sent it stays readable: closing a UNIX socket
 * with unread bytes in it makes the peer's reads fail (ECONNRESET) before our reply. So
 * stop its writes (they fail with EPIPE from now on), drop what it sent, then close. */
static void close_client_fd(int fd)
{
    char buf[4096];

    shutdown(fd, SHUT_RD);
    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
        /* bounded: nothing new can arrive after SHUT_RD */
    }
    close(fd);
}

static void client_free(ControlClient *c)
{
    ControlServer *srv = c->srv;

    srv->clients = g_list_remove(srv->clients, c);
    srv->n_clients--;
    source_clear(&c->io);
    source_clear(&c->deadline);
    close_client_fd(c->fd);
    if (c->in) {
        g_string_free(c->in, true);
    }
    g_free(c->out);
    g_free(c);
    if (srv->full && srv->n_clients < srv->opts.max_clients) {
        srv->full = false;
        g_message("control socket: %u clients, serving new ones again", srv->n_clients);
    }
    if (srv->retry_src) {
        listener_resume(srv); /* an fd is free now */
    }
}

static gboolean client_timed_out(void *data)
{
    ControlClient *c = data;

    g_message("control client pid %d: %s within %u ms; closed", (int)c->pid,
              c->out ? "did not read its reply" : "sent no complete request",
              c->srv->opts.timeout_ms);
    client_free(c);
    return G_SOURCE_REMOVE;
}

static void client_arm_deadline(ControlClient *c)
{
    source_clear(&c->deadline);
    c->deadline =
        source_attach(c->srv, g_timeout_source_new(c->srv->opts.timeout_ms), client_timed_out, c);
}

/* Send what the socket takes of the reply now. Return: 1 all sent, 0 more to send, -1 gone. */
static int client_flush(ControlClient *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        if (n <= 0) {
            return -1; /* EPIPE, ECONNRESET: the client went away */
        }
        c->out_off += n;
    }
    return 1;
}

static gboolean client_writable(int fd, GIOCondition cond, void *data)
{
    ControlClient *c = data;

    if (client_flush(c) != 0) {
        client_free(c); /* destroys this very source: GLib holds it until we return */
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* Queue @reply (taken) and send it; what the socket does not take goes when it has room. */
static void client_reply(ControlClient *c, char *reply)
{
    c->out = reply;
    c->out_len = strlen(reply);
    if (client_flush(c) != 0) {
        client_free(c);
        return;
    }
    c->io = source_attach(c->srv, g_unix_fd_source_new(c->fd, G_IO_OUT),
                          G_SOURCE_FUNC(client_writable), c);
    client_arm_deadline(c);
}

/* The request line in @c->in is complete (@len bytes): answer it. */
static void client_answer(ControlClient *c, size_t len)
{
    char *line = c->in->str;

    source_clear(&c->io); /* no more reading; nothing may fire while a command runs */
    source_clear(&c->deadline);
    if (len > CONTROL_MAX_REQUEST) {
        client_reply(c, g_strdup_printf(CONTROL_ERROR_PREFIX "request longer than %d bytes\n",
                                        CONTROL_MAX_REQUEST));
        return;
    }
    if (memchr(line, '\0', len)) {
        client_reply(c, g_strdup(CONTROL_ERROR_PREFIX "request contains a NUL byte\n"));
        return;
    }
    line[len] = '\0';
    if (len && line[len - 1] == '\r') {
        line[len - 1] = '\0';
    }
    client_reply(c, control_answer(c->srv->rt, line, c->srv->opts.migrate));
}

static gboolean client_readable(int fd, GIOCondition cond, void *data)
{
    ControlClient *c = data;
    char buf[1024];
    size_t old = c->in->len;
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    char *nl;

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 || (n == 0 && old == 0)) {
        client_free(c); /* gone, or closed without a request */
        return G_SOURCE_REMOVE;
    }
    if (n == 0) {
        client_answer(c, old); /* a last line without its newline */
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(c->in, buf, n);
    nl = memchr(c->in->str + old, '\n', n);
    if (nl || c->in->len > CONTROL_MAX_REQUEST) {
        client_answer(c, nl ? (size_t)(nl - c->in->str) : c->in->len);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* Send a one-line refusal (it fits: the socket is new) and close. */
static void refuse(int fd, const char *text)
{
    if (send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        g_debug("control socket: refusal not delivered: %s", g_strerror(errno));
    }
    close_client_fd(fd);
}

/* Check @fd's peer: root or our own uid. Return: false with *why set (caller frees). */
static bool peer_allowed(int fd, struct ucred *cred, char **why)
{
    socklen_t len = sizeof(*cred);
    uid_t me = geteuid();

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0) {
        *why = g_strdup_printf(CONTROL_ERROR_PREFIX "cannot identify the peer: %s\n",
                               g_strerror(errno));
        return false;
    }
    if (cred->uid != 0 && cred->uid != me) {
        *why = g_strdup_printf(CONTROL_ERROR_PREFIX "uid %u (pid %d) may not use this control "
                                                    "socket (only root and uid %u)\n",
                               (unsigned)cred->uid, (int)cred->pid, (unsigned)me);
        return false;
    }
    return true;
}

void control_server_add_client(ControlServer *srv, int fd)
{
    g_autofree char *why = NULL;
    struct ucred cred = {.pid = -1};
    ControlClient *c;

    if (!peer_allowed(fd, &cred, &why)) {
        g_message("control socket: refused: %s", why + strlen(CONTROL_ERROR_PREFIX));
        goto refused;
    }
    if (srv->n_clients >= srv->opts.max_clients) {
        if (!srv->full) {
            g_message("control socket: %u clients, refusing more until one leaves", srv->n_clients);
            srv->full = true;
        }
        why = g_strdup(CONTROL_ERROR_PREFIX "busy: too many control clients, try again\n");
        goto refused;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        g_warning("control socket: client pid %d: %s", (int)cred.pid, g_strerror(errno));
        why = g_strdup(CONTROL_ERROR_PREFIX "cannot serve this connection\n");
        goto refused;
    }
    c = g_new0(ControlClient, 1);
    c->srv = srv;
    c->fd = fd;
    c->pid = cred.pid;
    c->in = g_string_sized_new(128);
    c->io = source_attach(srv, g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR),
                          G_SOURCE_FUNC(client_readable), c);
    srv->clients = g_list_prepend(srv->clients, c);
    srv->n_clients++;
    client_arm_deadline(c);
    return;
refused:
    refuse(fd, why);
}

static gboolean listener_retry(void *data)
{
    ControlServer *srv = data;

    listener_resume(srv);
    return G_SOURCE_REMOVE;
}

/* accept() failed with @err (EMFILE, ENFILE, ENOBUFS...): stop polling the listener (the
 * pending connection would wake us at once, forever) and retry after a growing delay, or
 * as soon as a client of ours closes. */
static void listener_pause(ControlServer *srv, int err)
{
    if (!srv->backoff_ms) {
        g_warning("control socket %s: cannot accept: %s; retrying", srv->path, g_strerror(err));
    }
    srv->backoff_ms = CLAMP(srv->backoff_ms * 2, CONTROL_BACKOFF_MIN_MS, CONTROL_BACKOFF_MAX_MS);
    source_clear(&srv->listen_src);
    source_clear(&srv->retry_src);
    srv->retry_src = source_attach(srv, g_timeout_source_new(srv->backoff_ms), listener_retry, srv);
}

static gboolean listener_ready(int fd, GIOCondition cond, void *data)
{
    ControlServer *srv = data;

    for (int i = 0; i < CONTROL_ACCEPT_BATCH; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd >= 0) {
            if (srv->backoff_ms) {
                g_message("control socket %s: accepting again", srv->path);
                srv->backoff_ms = 0;
            }
            control_server_add_client(srv, cfd);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR && errno != ECONNABORTED) {
            listener_pause(srv, errno); /* destroys this source; GLib holds it until we return */
            return G_SOURCE_REMOVE;
        }
    }
    return G_SOURCE_CONTINUE;
}

static void listener_resume(ControlServer *srv)
{
    source_clear(&srv->retry_src);
    if (!srv->listen_src) {
        srv->listen_src = source_attach(srv, g_unix_fd_source_new(srv->fd, G_IO_IN),
                                        G_SOURCE_FUNC(listener_ready), srv);
    }
}

ControlServer *control_server_new(NetbeRuntime *rt, const char *path, const ControlOptions *opts,
                                  GError **errp)
{
    ControlServer *srv = g_new0(ControlServer, 1);

    srv->rt = rt;
    srv->fd = -1;
    if (opts) {
        srv->opts = *opts;
    }
    srv->opts.timeout_ms = srv->opts.timeout_ms ? srv->opts.timeout_ms : CONTROL_TIMEOUT_MS;
    srv->opts.max_clients = srv->opts.max_clients ? srv->opts.max_clients : CONTROL_MAX_CLIENTS;
    srv->opts.migrate = srv->opts.migrate ? srv->opts.migrate : netbe_runtime_migrate_to;
    if (path) {
        srv->fd =
            netbe_unix_listen("control socket", path, 0600, CONTROL_BACKLOG, &srv->file, errp);
        if (srv->fd < 0) {
            g_free(srv);
            return NULL;
        }
        srv->path = g_strdup(path);
        listener_resume(srv);
    }
    return srv;
}

unsigned control_server_clients(const ControlServer *srv)
{
    return srv->n_clients;
}

/* Give replies still queued (quit, migrate) up to CONTROL_DRAIN_MS in all to go out. */
static void drain_replies(ControlServer *srv)
{
    gint64 end = g_get_monotonic_time() +
                 MIN(srv->opts.timeout_ms, CONTROL_DRAIN_MS) * G_TIME_SPAN_MILLISECOND;

    for (GList *l = srv->clients; l; l = l->next) {
        ControlClient *c = l->data;
        struct pollfd p = {.fd = c->fd, .events = POLLOUT};

        while (c->out && client_flush(c) == 0) {
            gint64 left = (end - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;

            if (left <= 0 || poll(&p, 1, left) <= 0) {
                return;
            }
        }
    }
}

void control_server_free(ControlServer *srv)
{
    struct stat st;

    if (!srv) {
        return;
    }
    drain_replies(srv);
    source_clear(&srv->listen_src);
    source_clear(&srv->retry_src);
    srv->full = false;
    while (srv->clients) {
        client_free(srv->clients->data);
    }
    if (srv->fd >= 0) {
        close(srv->fd);
    }
    /* remove the file only if it is still ours, not one a newer process put there */
    if (srv->path && lstat(srv->path, &st) == 0 && st.st_dev == srv->file.st_dev &&
        st.st_ino == srv->file.st_ino) {
        unlink(srv->path);
    }
    g_free(srv->path);
    g_free(srv);
}
