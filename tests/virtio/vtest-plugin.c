// SPDX-License-Identifier: GPL-2.0-or-later
/* vtest-plugin.c - test fixture backends over socketpair fds, one per queue: "vtest" hands
 * them to the core (an fd backend, like tap), "vtest-push" (built with VTEST_PUSH) reads
 * them itself and pushes frames with netbe_backend_deliver() (a producer, like slirp). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netbe/migrate.h"
#include "netbe/netbe.h"
#include "netbe/plugin.h"

#define VTEST_MAX_QUEUES 16
#define VTEST_FRAME_MAX 70000
#define VTEST_STATE_VERSION 1

typedef struct Vtest Vtest;

typedef struct VtestQueue {
    Vtest *t;
    unsigned index;
    int fd; /* vtest-push: ours; vtest: the core's once handed */
    NetbeFdWatch *watch;
    bool want_in, want_out;
    bool enabled;
} VtestQueue;

struct Vtest {
    NetbeBackend *be;
    unsigned nqueues;
    int src_fds[VTEST_MAX_QUEUES];
    VtestQueue q[VTEST_MAX_QUEUES];
    bool vnet_hdr;
    uint8_t *push_buf;
    uint32_t offload_caps;
    unsigned hdr_len;
    uint32_t offloads;
};

static const char *const vtest_bools[] = {"on", "off", NULL};

static const NetbeOptionSpec vtest_options[] = {
    {"fds", NETBE_OPT_STRING, NULL, "socket fds, one per queue, colon-separated",
     .flags = NETBE_OPT_REQUIRED},
    {"vnet_hdr", NETBE_OPT_ENUM, "off", "offer a vnet header", .choices = vtest_bools},
    {"offloads", NETBE_OPT_INT, "0", "NETBE_OFFLOAD_* bits offered", 0, 0x7f},
    {NULL}};

static bool vtest_init(NetbeBackend *be, const NetbeOptions *opts, GError **errp)
{
    Vtest *t = netbe_backend_priv(be);
    g_auto(GStrv) parts = g_strsplit(netbe_options_get_string(opts, "fds"), ":", -1);

    t->be = be;
    t->nqueues = g_strv_length(parts);
    if (t->nqueues < 1 || t->nqueues > VTEST_MAX_QUEUES) {
        netbe_options_error(opts, errp, "fds", "%u fds (allowed: 1..%d)", t->nqueues,
                            VTEST_MAX_QUEUES);
        return false;
    }
    for (unsigned i = 0; i < t->nqueues; i++) {
        t->src_fds[i] = atoi(parts[i]);
        t->q[i] = (VtestQueue){.t = t, .index = i, .fd = -1, .enabled = true};
    }
    t->vnet_hdr = strcmp(netbe_options_get_string(opts, "vnet_hdr"), "on") == 0;
    t->offload_caps = netbe_options_get_int(opts, "offloads");
    return netbe_backend_set_queues(be, t->nqueues, errp);
}

#ifdef VTEST_PUSH
static void vtest_update(VtestQueue *q)
{
    if (q->watch) {
        netbe_fd_watch_set_events(q->watch,
                                  (q->want_in ? G_IO_IN : 0) | (q->want_out ? G_IO_OUT : 0));
    }
}

/* Read into our own buffer and deliver, while the runtime wants frames. */
static void vtest_fd_event(int fd, GIOCondition revents, void *opaque)
{
    VtestQueue *q = opaque;

    (void)fd;
    if ((revents & G_IO_OUT) && q->want_out) {
        q->want_out = false;
        vtest_update(q);
        netbe_backend_tx_ready(q->t->be, q->index);
    }
    for (int i = 0; i < 64 && (revents & G_IO_IN) && q->want_in; i++) {
        ssize_t n = recv(q->fd, q->t->push_buf, VTEST_FRAME_MAX, MSG_DONTWAIT);
        struct iovec iov = {q->t->push_buf, n > 0 ? (size_t)n : 0};

        if (n <= 0) {
            break;
        }
        netbe_backend_deliver(q->t->be, q->index, &iov, 1);
    }
}

static ssize_t vtest_send(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt)
{
    Vtest *t = netbe_backend_priv(be);
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
    ssize_t n = sendmsg(t->q[queue].fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
        t->q[queue].want_out = true;
        vtest_update(&t->q[queue]);
        return 0;
    }
    return n < 0 ? -errno : n;
}

static void vtest_poll(NetbeBackend *be, unsigned queue, bool enable)
{
    Vtest *t = netbe_backend_priv(be);

    t->q[queue].want_in = enable;
    vtest_update(&t->q[queue]);
}
#endif

/* Take queue @i's fd (a duplicate, or one a handover brought). */
static bool vtest_queue_open(Vtest *t, unsigned i, int fd, GError **errp)
{
#ifdef VTEST_PUSH
    t->q[i].fd = fd;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    t->q[i].watch = netbe_fd_watch_new(t->be, fd, 0, vtest_fd_event, &t->q[i]);
    return true;
#else
    NetbeQueueFd qfd = {.fd = fd, .hdr_len = t->hdr_len, .framing = NETBE_FRAMING_PACKET};

    t->q[i].fd = fd;
    return netbe_backend_set_queue_fd(t->be, i, &qfd, errp);
#endif
}

static bool vtest_connect(NetbeBackend *be, GError **errp)
{
    Vtest *t = netbe_backend_priv(be);

    t->push_buf = g_malloc(VTEST_FRAME_MAX);
    for (unsigned i = 0; i < t->nqueues; i++) {
        int fd = fcntl(t->src_fds[i], F_DUPFD_CLOEXEC, 3);

        if (fd < 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot dup fd %d: %s", t->src_fds[i],
                        g_strerror(errno));
            return false;
        }
        if (!vtest_queue_open(t, i, fd, errp)) {
            return false;
        }
    }
    return true;
}

/* Handover: the queue count, header length, offloads; vtest-push adds one fd per queue
 * (vtest's fds travel with the core's record). */
static bool vtest_save(NetbeBackend *be, NetbeMigWriter *w, GError **errp)
{
    Vtest *t = netbe_backend_priv(be);

    (void)errp;
    netbe_mig_put_u32(w, t->nqueues);
    netbe_mig_put_u32(w, t->hdr_len);
    netbe_mig_put_u32(w, t->offloads);
#ifdef VTEST_PUSH
    for (unsigned i = 0; i < t->nqueues; i++) {
        netbe_mig_put_fd(w, t->q[i].fd);
    }
#endif
    return true;
}

static bool vtest_load(NetbeBackend *be, NetbeMigReader *r, uint32_t version, GError **errp)
{
    Vtest *t = netbe_backend_priv(be);
    uint32_t n, hdr, off;

    if (version != VTEST_STATE_VERSION || !netbe_mig_get_u32(r, &n) || n != t->nqueues ||
        !netbe_mig_get_u32(r, &hdr) || !netbe_mig_get_u32(r, &off)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO, "malformed vtest state (version %u)",
                    version);
        return false;
    }
    t->push_buf = g_malloc(VTEST_FRAME_MAX);
    for (unsigned i = 0; i < t->nqueues; i++) {
#ifdef VTEST_PUSH
        int fd = netbe_mig_get_fd(r);

        if (fd < 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO, "vtest state without fd %u", i);
            return false;
        }
        vtest_queue_open(t, i, fd, NULL);
#else
        t->q[i].fd = netbe_backend_get_queue_fd(be, i);
        if (t->q[i].fd < 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO, "vtest state without fd %u", i);
            return false;
        }
#endif
    }
    t->hdr_len = hdr;
    t->offloads = off;
    return true;
}

static void vtest_cleanup(NetbeBackend *be)
{
    Vtest *t = netbe_backend_priv(be);

    for (unsigned i = 0; i < t->nqueues; i++) {
        netbe_fd_watch_free(t->q[i].watch);
        t->q[i].watch = NULL;
#ifdef VTEST_PUSH
        if (t->q[i].fd >= 0) {
            close(t->q[i].fd);
        }
#endif
        t->q[i].fd = -1; /* vtest: the core closes its fds */
    }
    g_free(t->push_buf);
    t->push_buf = NULL;
}

static void vtest_get_caps(NetbeBackend *be, NetbeCaps *caps)
{
    Vtest *t = netbe_backend_priv(be);

    caps->flags = t->vnet_hdr ? NETBE_CAP_VNET_HDR : 0;
    caps->offloads = t->vnet_hdr ? t->offload_caps : 0;
}

static bool vtest_set_vnet_hdr_len(NetbeBackend *be, unsigned len, GError **errp)
{
    Vtest *t = netbe_backend_priv(be);

    if (len && !t->vnet_hdr) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP, "no vnet header");
        return false;
    }
    t->hdr_len = len;
    return true;
}

static bool vtest_set_offloads(NetbeBackend *be, uint32_t offloads, GError **errp)
{
    Vtest *t = netbe_backend_priv(be);

    if (offloads & ~t->offload_caps) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP, "offloads 0x%x not offered", offloads);
        return false;
    }
    t->offloads = offloads;
    return true;
}

static bool vtest_set_queue_enabled(NetbeBackend *be, unsigned queue, bool enabled, GError **errp)
{
    Vtest *t = netbe_backend_priv(be);

    (void)errp;
    t->q[queue].enabled = enabled;
    return true;
}

static const NetbePluginDesc vtest_desc = {
    .abi_version = NETBE_PLUGIN_ABI,
    .struct_size = sizeof(NetbePluginDesc),
#ifdef VTEST_PUSH
    .name = "vtest-push",
    .summary = "test fixture: reads socketpair fds itself and pushes frames (a producer)",
    .send = vtest_send,
    .poll = vtest_poll,
#else
    .name = "vtest",
    .summary = "test fixture: socketpair fds, one per queue, handed to the core",
#endif
    .options = vtest_options,
    .state_size = sizeof(Vtest),
    .caps = NETBE_CAP_MULTIQUEUE | NETBE_CAP_HANDOVER,
    .state_version = VTEST_STATE_VERSION,
    .init = vtest_init,
    .backend_connect = vtest_connect,
    .cleanup = vtest_cleanup,
    .get_caps = vtest_get_caps,
    .set_vnet_hdr_len = vtest_set_vnet_hdr_len,
    .set_offloads = vtest_set_offloads,
    .set_queue_enabled = vtest_set_queue_enabled,
    .save = vtest_save,
    .load = vtest_load,
};

NETBE_PLUGIN_DEFINE(vtest_desc)
