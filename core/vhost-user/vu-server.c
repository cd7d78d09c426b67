// SPDX-License-Identifier: LGPL-2.1-or-later
/* vu-server.c - a vhost-user-net back-end for one device: listen on its socket, serve one
 * VMM at a time, read its messages without blocking, reset the device when it goes. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>
#include "vu-priv.h"

#define VU_BACKLOG 4
#define VU_MSGS_PER_WAKEUP 64   /* then let the rest of the loop run */
#define VU_PART_TIMEOUT_MS 5000 /* a message begun must be complete by then */
#define VU_ACCEPT_RETRY_MS 200  /* after accept() failed for lack of fds */

static void vu_listen_watch(VuServer *s);

static GSource *vu_attach(VuServer *s, GSource *src, GSourceFunc fn)
{
    GMainContext *ctx = s->dev->rt->ctx;

    g_source_set_callback(src, fn, s, NULL);
    g_source_attach(src, ctx);
    netbe_loop_fd_note_change(s->dev->rt->loop_fd, ctx);
    return src;
}

static void vu_source_clear(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

static void vu_close_fds(int *fds, unsigned *n)
{
    for (unsigned i = 0; i < *n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    *n = 0;
}

/* Forget the connection's fds and mappings without touching the device (it was reset,
 * or it now belongs to another process). */
static void vu_conn_free(VuServer *s)
{
    VuConn *c = s->conn;

    if (!c) {
        return;
    }
    vu_source_clear(&c->src);
    vu_source_clear(&c->part_src);
    vu_close_fds(c->fds, &c->nfds);
    if (c->fd >= 0) {
        close(c->fd);
    }
    g_free(c);
    s->conn = NULL;
}

void vu_conn_close(VuServer *s, const char *why)
{
    g_message("vhost-user device '%s': VMM pid %d: %s; device reset, waiting for the next "
              "VMM on %s",
              s->dev->id, (int)s->conn->pid, why, s->path);
    netbe_runtime_emit_event(
        s->dev->rt, NETBE_EVENT_VMM_DETACHED, "device", g_variant_new_string(s->dev->id), "pid",
        g_variant_new_int32(s->conn->pid), "reason", g_variant_new_string(why), NULL);
    vu_device_reset(s);
    vu_log_clear(s);
    vu_mem_clear(s);
    s->protocol_features = 0;
    vu_conn_free(s);
}

static gboolean vu_part_timeout(void *data)
{
    VuServer *s = data;

    g_source_unref(s->conn->part_src);
    s->conn->part_src = NULL;
    vu_conn_close(s, "sent part of a message and nothing more for 5 s");
    return G_SOURCE_REMOVE;
}

/* Keep the fds that came with the bytes just read. Return: false past VU_MAX_FDS. */
static bool vu_take_cmsg_fds(VuConn *c, struct msghdr *mh)
{
    bool ok = true;

    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        unsigned n;
        int *fds = (int *)CMSG_DATA(cm);

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (unsigned i = 0; i < n; i++) {
            if (c->nfds < VU_MAX_FDS) {
                c->fds[c->nfds++] = fds[i];
            } else {
                close(fds[i]);
                ok = false;
            }
        }
    }
    return ok && !(mh->msg_flags & MSG_CTRUNC);
}

/* Bytes of the message in c->buf still to read. */
static size_t vu_missing(const VuConn *c)
{
    VuHeader h;

    if (c->have < sizeof(h)) {
        return sizeof(h) - c->have;
    }
    memcpy(&h, c->buf, sizeof(h));
    return sizeof(h) + h.size - c->have;
}

/* One whole message is in c->buf: run it. Return: false if the connection closed. */
static bool vu_handle(VuServer *s)
{
    VuConn *c = s->conn;
    VuMsg m = {.payload = c->buf + sizeof(VuHeader), .fds = c->fds, .nfds = c->nfds};
    g_autoptr(GError) err = NULL;
    bool ok;

    memcpy(&m.hdr, c->buf, sizeof(m.hdr));
    vu_source_clear(&c->part_src);
    ok = vu_dispatch(s, &m, &err);
    if (!s->conn) {
        return false;
    }
    vu_close_fds(c->fds, &c->nfds); /* those the handler did not take */
    c->have = 0;
    if (!ok) {
        vu_conn_close(s, err->message);
    }
    return ok;
}

/* Read what the socket has, up to the end of the current message. Return: false if the
 * connection closed, else whether to read again (a message was handled). */
static int vu_read_some(VuServer *s)
{
    VuConn *c = s->conn;
    char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
    struct iovec iov = {.iov_base = c->buf + c->have, .iov_len = vu_missing(c)};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    VuHeader h;

    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return 0;
        }
        vu_conn_close(s, g_strerror(errno));
        return -1;
    }
    if (n == 0) {
        vu_conn_close(s, c->have ? "closed the connection in the middle of a message"
                                 : "closed the connection");
        return -1;
    }
    if (!vu_take_cmsg_fds(c, &mh)) {
        vu_conn_close(s, "sent more than 8 fds with one message");
        return -1;
    }
    if (!c->part_src) {
        c->part_src = vu_attach(s, g_timeout_source_new(VU_PART_TIMEOUT_MS), vu_part_timeout);
    }
    c->have += n;
    if (c->have == sizeof(h)) {
        memcpy(&h, c->buf, sizeof(h));
        if (h.size > VU_MAX_PAYLOAD) {
            g_autofree char *why = g_strdup_printf("request %u announces %u payload bytes "
                                                   "(allowed: up to %u)",
                                                   h.request, h.size, VU_MAX_PAYLOAD);
            vu_conn_close(s, why);
            return -1;
        }
    }
    if (vu_missing(c) > 0) {
        return 1;
    }
    return vu_handle(s) ? 1 : -1;
}

static gboolean vu_conn_readable(int fd, GIOCondition cond, void *data)
{
    VuServer *s = data;

    (void)fd;
    (void)cond;
    for (int i = 0; i < VU_MSGS_PER_WAKEUP; i++) {
        int rc = vu_read_some(s);

        if (rc < 0) {
            return G_SOURCE_REMOVE; /* the source went with the connection */
        }
        if (rc == 0) {
            break;
        }
    }
    return G_SOURCE_CONTINUE;
}

static gboolean vu_accept_retry(void *data)
{
    VuServer *s = data;

    g_source_unref(s->listen_src);
    s->listen_src = NULL;
    vu_listen_watch(s);
    return G_SOURCE_REMOVE;
}

static void vu_refuse(VuServer *s, int fd, const struct ucred *cr)
{
    g_warning("vhost-user device '%s': refusing VMM pid %d (uid %d): VMM pid %d is connected "
              "(one at a time)",
              s->dev->id, (int)cr->pid, (int)cr->uid, (int)s->conn->pid);
    close(fd);
}

static gboolean vu_listen_ready(int lfd, GIOCondition cond, void *data)
{
    VuServer *s = data;
    struct ucred cr = {0};
    socklen_t len = sizeof(cr);
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    (void)cond;
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            g_warning("vhost-user device '%s': cannot accept: %s; retrying", s->dev->id,
                      g_strerror(errno));
            vu_source_clear(&s->listen_src);
            s->listen_src = vu_attach(s, g_timeout_source_new(VU_ACCEPT_RETRY_MS), vu_accept_retry);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len);
    if (s->conn) {
        /* a VMM that reconnects right after closing: its old end may have an EOF (or last
         * messages) we have not read yet in this loop iteration; read it first */
        vu_conn_readable(s->conn->fd, G_IO_IN, s);
    }
    if (s->conn) {
        vu_refuse(s, fd, &cr);
        return G_SOURCE_CONTINUE;
    }
    s->conn = g_new0(VuConn, 1);
    s->conn->fd = fd;
    s->conn->pid = cr.pid;
    s->conn->uid = cr.uid;
    vu_server_watch(s, true);
    g_message("vhost-user device '%s': VMM pid %d (uid %d) connected on %s", s->dev->id,
              (int)cr.pid, (int)cr.uid, s->path);
    netbe_runtime_emit_event(s->dev->rt, NETBE_EVENT_VMM_ATTACHED, "device",
                             g_variant_new_string(s->dev->id), "pid", g_variant_new_int32(cr.pid),
                             NULL);
    return G_SOURCE_CONTINUE;
}

static void vu_listen_watch(VuServer *s)
{
    s->listen_src =
        vu_attach(s, g_unix_fd_source_new(s->listen_fd, G_IO_IN), G_SOURCE_FUNC(vu_listen_ready));
}

void vu_server_watch(VuServer *s, bool on)
{
    VuConn *c = s->conn;

    if (!on) {
        vu_source_clear(&s->listen_src);
        if (c) {
            vu_source_clear(&c->src);
            vu_source_clear(&c->part_src);
        }
        return;
    }
    if (!s->listen_src && s->listen_fd >= 0) {
        vu_listen_watch(s);
    }
    if (c && !c->src) {
        c->src = vu_attach(s, g_unix_fd_source_new(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR),
                           G_SOURCE_FUNC(vu_conn_readable));
    }
    if (c && c->have && !c->part_src) {
        c->part_src = vu_attach(s, g_timeout_source_new(VU_PART_TIMEOUT_MS), vu_part_timeout);
    }
}

VuServer *vu_server_new(NetbeDevice *dev)
{
    VuServer *s = g_new0(VuServer, 1);

    for (unsigned i = 0; i < VU_MAX_REGIONS; i++) {
        s->regions[i].fd = -1;
    }
    s->log_fd = -1;
    netbe_runtime_find_device(dev->rt, dev->id); /* binds the virtio-net model */
    s->dev = dev;
    s->path = g_strdup(dev->socket_path);
    s->listen_fd = -1;
    s->nrings = 2 * dev->queues;
    s->rings = g_new0(VuRing, s->nrings);
    vu_rings_init(s);
    return s;
}

bool netbe_vu_server_start(NetbeDevice *dev, GError **errp)
{
    VuServer *s;

    if (dev->vu) {
        return true;
    }
    s = vu_server_new(dev);
    s->listen_fd =
        netbe_unix_listen("vhost-user socket", s->path, 0600, VU_BACKLOG, &s->file, errp);
    if (s->listen_fd < 0) {
        g_prefix_error(errp, "device '%s': ", dev->id);
        netbe_vu_server_free(s, false);
        return false;
    }
    if (dev->socket_owner_set && chown(s->path, dev->socket_uid, dev->socket_gid) < 0) {
        g_set_error(errp, VU_ERROR, errno,
                    "device '%s': vhost-user socket %s: cannot give it to "
                    "uid %d: %s",
                    dev->id, s->path, (int)dev->socket_uid, g_strerror(errno));
        netbe_vu_server_free(s, false);
        return false;
    }
    vu_listen_watch(s);
    dev->vu = s;
    g_message("vhost-user device '%s': listening on %s", dev->id, s->path);
    return true;
}

/* Remove the socket file if it is still the one we made. */
static void vu_unlink_ours(VuServer *s)
{
    struct stat st;

    if (s->listen_fd >= 0 && stat(s->path, &st) == 0 && st.st_dev == s->file.st_dev &&
        st.st_ino == s->file.st_ino) {
        unlink(s->path);
    }
}

void netbe_vu_server_free(VuServer *s, bool handed_over)
{
    if (!s) {
        return;
    }
    if (handed_over) {
        /* another process serves now: let go of our copies, touch nothing of the guest
         * (a reset forgets the rings without writing to them) */
        netbe_vnet_reset(s->dev);
        vu_rings_close_fds(s);
        vu_log_clear(s);
        vu_mem_clear(s);
    } else {
        if (s->conn) {
            vu_conn_close(s, "netbe-host stops");
        }
        vu_unlink_ours(s);
    }
    vu_conn_free(s);
    vu_source_clear(&s->listen_src);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->dev && s->dev->vu == s) {
        s->dev->vu = NULL;
    }
    g_free(s->rings);
    g_free(s->path);
    g_free(s);
}
