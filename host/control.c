// SPDX-License-Identifier: GPL-2.0-or-later
/* control.c - netbe-host's control socket: accept, check the peer, read request lines and
 * queue their replies and the events a client subscribed to, write without blocking; with
 * deadlines, bounds on clients, lines and queues, and a listener that backs off instead of
 * spinning when accept() fails (EMFILE). */
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
#define CONTROL_READ_CHUNK 1024

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
    unsigned events_sub; /* the runtime subscription that feeds subscribed clients */
};

/* What a client's deadline waits for. */
typedef enum ClientWait {
    WAIT_NONE,    /* a subscriber with nothing to read or send */
    WAIT_REQUEST, /* its next complete request line */
    WAIT_OUTPUT,  /* progress in reading what we queued for it */
} ClientWait;

/*
 * ControlClient - one connection.
 * @in:         bytes read and not answered yet: requests, the last one maybe partial
 * @out:        lines (char*) to send, the first @out_off bytes of the head sent
 * @io:         the watch for @io_cond: G_IO_IN while nothing waits to go out, else G_IO_OUT
 * @deadline:   closes the client when what @wait waits for is late
 * @drop:       closes it from the loop (it fell behind on events)
 * @subscribed: events are queued for it
 * @eof:        it sent its last byte
 * @closing:    close once @out is sent (after an error that ends the connection)
 */
struct ControlClient {
    ControlServer *srv;
    int fd;
    pid_t pid;
    GString *in;
    GQueue out;
    size_t out_off;
    GSource *io;
    GIOCondition io_cond;
    GSource *deadline;
    ClientWait wait;
    GSource *drop;
    bool subscribed;
    bool eof;
    bool closing;
};

static void listener_resume(ControlServer *srv);
static bool client_process(ControlClient *c);

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
    source_clear(&c->drop);
    close_client_fd(c->fd);
    g_string_free(c->in, true);
    g_queue_clear_full(&c->out, g_free);
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
              c->wait == WAIT_OUTPUT ? "did not read its reply" : "sent no complete request",
              c->srv->opts.timeout_ms);
    client_free(c);
    return G_SOURCE_REMOVE;
}

/* Wait for @wait from now on (a new deadline even if it waited for that already). */
static void client_arm_deadline(ControlClient *c, ClientWait wait)
{
    source_clear(&c->deadline);
    c->wait = wait;
    if (wait != WAIT_NONE) {
        c->deadline = source_attach(c->srv, g_timeout_source_new(c->srv->opts.timeout_ms),
                                    client_timed_out, c);
    }
}

/* Send what the socket takes of the queued lines now. Return: 1 all sent, 0 more to send,
 * -1 the client is gone. Progress renews the deadline. */
static int client_flush(ControlClient *c)
{
    bool progress = false;
    const char *line;

    while ((line = g_queue_peek_head(&c->out))) {
        size_t len = strlen(line);
        ssize_t n = send(c->fd, line + c->out_off, len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n <= 0) {
            return -1; /* EPIPE, ECONNRESET: the client went away */
        }
        progress = true;
        c->out_off += n;
        if (c->out_off == len) {
            g_free(g_queue_pop_head(&c->out));
            c->out_off = 0;
        }
    }
    if (progress && c->wait == WAIT_OUTPUT) {
        client_arm_deadline(c, WAIT_OUTPUT);
    }
    return g_queue_is_empty(&c->out) ? 1 : 0;
}

static gboolean client_ready(int fd, GIOCondition cond, void *data);

/* Watch for what @c needs next and wait for it with a deadline. */
static void client_update(ControlClient *c)
{
    bool sending = !g_queue_is_empty(&c->out);
    GIOCondition want = sending ? G_IO_OUT : c->eof || c->closing ? 0 : G_IO_IN;
    ClientWait wait = sending                        ? WAIT_OUTPUT
                      : c->subscribed && !c->in->len ? WAIT_NONE
                                                     : WAIT_REQUEST;

    if (want != c->io_cond || !c->io) {
        source_clear(&c->io);
        c->io_cond = want;
        if (want) {
            c->io = source_attach(c->srv, g_unix_fd_source_new(c->fd, want),
                                  G_SOURCE_FUNC(client_ready), c);
        }
    }
    if (wait != c->wait || !c->deadline) {
        client_arm_deadline(c, wait);
    }
}

/* Queue @line (taken) for @c. */
static void client_queue(ControlClient *c, char *line)
{
    g_queue_push_tail(&c->out, line);
}

/* Answer the request of @len bytes at the start of @c->in. */
static void client_answer(ControlClient *c, size_t len)
{
    ControlCall call = {.rt = c->srv->rt, .srv = c->srv, .client = c};
    size_t n = len && c->in->str[len - 1] == '\r' ? len - 1 : len;

    if (len > CONTROL_MAX_REQUEST) {
        g_autofree char *msg =
            g_strdup_printf("request longer than %d bytes; closing", CONTROL_MAX_REQUEST);

        client_queue(c, control_error_line(NULL, CONTROL_ERROR_INVALID_REQUEST, msg));
        c->closing = true;
        return;
    }
    client_queue(c, control_request_run(&call, c->in->str, n));
    /* the next request has its own time: wait for it from now on */
    source_clear(&c->deadline);
}

/*
 * Answer the complete requests @c sent, one at a time: the next only once the reply to the
 * last one went out (a client that does not read does not make us queue). At its end of
 * stream, a last line without its newline counts too. Return: false if @c was freed.
 */
static bool client_process(ControlClient *c)
{
    int sent = g_queue_is_empty(&c->out) ? 1 : 0; /* events may wait to go out too */

    while (!c->closing && sent == 1) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        size_t len = nl ? (size_t)(nl - c->in->str) : c->in->len;

        if (!nl && !(c->eof && c->in->len) && c->in->len <= CONTROL_MAX_REQUEST) {
            break; /* no complete line yet */
        }
        client_answer(c, len);
        g_string_erase(c->in, 0, MIN(len + 1, c->in->len));
        sent = client_flush(c);
    }
    if (sent < 0 || (g_queue_is_empty(&c->out) && (c->closing || (c->eof && !c->in->len)))) {
        client_free(c);
        return false;
    }
    client_update(c);
    return true;
}

static gboolean client_ready(int fd, GIOCondition cond, void *data)
{
    ControlClient *c = data;
    GSource *self = c->io;
    char buf[CONTROL_READ_CHUNK];
    ssize_t n;

    if (c->io_cond == G_IO_OUT) {
        if (client_flush(c) < 0) {
            client_free(c);
            return G_SOURCE_REMOVE;
        }
    } else {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return G_SOURCE_CONTINUE;
        }
        if (n < 0) {
            client_free(c); /* gone */
            return G_SOURCE_REMOVE;
        }
        g_string_append_len(c->in, buf, n);
        /* a short read emptied the socket: if the client closed its side after its request
         * (netbe-ctl does), see it now, so that we close right after the reply */
        c->eof =
            n == 0 || ((size_t)n < sizeof(buf) && recv(fd, buf, 1, MSG_DONTWAIT | MSG_PEEK) == 0);
    }
    /* client_process() may replace this very source: GLib holds it until we return */
    return client_process(c) && c->io == self ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean client_drop_due(void *data)
{
    ControlClient *c = data;

    client_free(c);
    return G_SOURCE_REMOVE;
}

bool control_client_subscribe(ControlClient *c)
{
    if (c->subscribed) {
        return false;
    }
    c->subscribed = true;
    return true;
}

/* An event of the runtime: queue it for every subscribed client, in order. A client that
 * has opts.max_queued lines waiting already is dropped (from the loop, not from here: a
 * command may be running for it). */
static void server_event(const char *name, GVariant *data, gint64 time_us, void *opaque)
{
    ControlServer *srv = opaque;
    g_autofree char *line = NULL;

    for (GList *l = srv->clients; l; l = l->next) {
        ControlClient *c = l->data;

        if (!c->subscribed || c->drop) {
            continue;
        }
        if (g_queue_get_length(&c->out) >= srv->opts.max_queued) {
            g_message("control client pid %d: %u lines not read; dropped", (int)c->pid,
                      g_queue_get_length(&c->out));
            source_clear(&c->io);
            source_clear(&c->deadline);
            c->drop = source_attach(srv, g_idle_source_new(), client_drop_due, c);
            continue;
        }
        if (!line) {
            line = control_event_line(name, data, time_us);
        }
        client_queue(c, g_strdup(line));
        client_update(c);
    }
}

/* Send a one-line refusal (it fits: the socket is new) and close. */
static void refuse(int fd, ControlErrorClass class, const char *why)
{
    g_autofree char *line = control_error_line(NULL, class, why);

    if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
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
        *why = g_strdup_printf("cannot identify the peer: %s", g_strerror(errno));
        return false;
    }
    if (cred->uid != 0 && cred->uid != me) {
        *why = g_strdup_printf("uid %u (pid %d) may not use this control socket (only root "
                               "and uid %u)",
                               (unsigned)cred->uid, (int)cred->pid, (unsigned)me);
        return false;
    }
    return true;
}

void control_server_add_client(ControlServer *srv, int fd)
{
    g_autofree char *why = NULL;
    struct ucred cred = {.pid = -1};
    ControlErrorClass class = CONTROL_ERROR_FAILED;
    ControlClient *c;

    if (!peer_allowed(fd, &cred, &why)) {
        g_message("control socket: refused: %s", why);
        class = CONTROL_ERROR_DENIED;
        goto refused;
    }
    if (srv->n_clients >= srv->opts.max_clients) {
        if (!srv->full) {
            g_message("control socket: %u clients, refusing more until one leaves", srv->n_clients);
            srv->full = true;
        }
        class = CONTROL_ERROR_BUSY;
        why = g_strdup("busy: too many control clients, try again");
        goto refused;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        g_warning("control socket: client pid %d: %s", (int)cred.pid, g_strerror(errno));
        why = g_strdup("cannot serve this connection");
        goto refused;
    }
    c = g_new0(ControlClient, 1);
    c->srv = srv;
    c->fd = fd;
    c->pid = cred.pid;
    c->in = g_string_sized_new(128);
    g_queue_init(&c->out);
    srv->clients = g_list_prepend(srv->clients, c);
    srv->n_clients++;
    client_update(c);
    return;
refused:
    refuse(fd, class, why);
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
    srv->opts.max_queued = srv->opts.max_queued ? srv->opts.max_queued : CONTROL_MAX_QUEUED;
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
    srv->events_sub = netbe_runtime_subscribe(rt, server_event, srv);
    return srv;
}

unsigned control_server_clients(const ControlServer *srv)
{
    return srv->n_clients;
}

const ControlOptions *control_server_options(const ControlServer *srv)
{
    return &srv->opts;
}

/* Give replies still queued (quit, migrate) up to CONTROL_DRAIN_MS in all to go out. */
static void drain_replies(ControlServer *srv)
{
    gint64 end = g_get_monotonic_time() +
                 MIN(srv->opts.timeout_ms, CONTROL_DRAIN_MS) * G_TIME_SPAN_MILLISECOND;

    for (GList *l = srv->clients; l; l = l->next) {
        ControlClient *c = l->data;
        struct pollfd p = {.fd = c->fd, .events = POLLOUT};

        while (!c->drop && client_flush(c) == 0) {
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
    netbe_runtime_unsubscribe(srv->rt, srv->events_sub);
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
