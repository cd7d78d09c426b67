// SPDX-License-Identifier: LGPL-2.1-or-later
/* mig-channel.c - the migration stream on a UNIX socket: header, records, fds, timeouts. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "mig-priv.h"

G_DEFINE_QUARK(netbe - migrate - error - quark, netbe_mig_error)

static const char mig_magic[8] = {'N', 'E', 'T', 'B', 'E', 'M', 'I', 'G'};

typedef struct MigHeader {
    char magic[8];
    uint32_t version;
    uint32_t compat_version;
} MigHeader;

typedef struct MigRecordHeader {
    uint32_t type;
    uint32_t len;
    uint32_t nfds;
    uint32_t reserved;
} MigRecordHeader;

static const char *const record_names[MIG_REC_MAX] = {
    [MIG_REC_HELLO] = "hello",           [MIG_REC_REPLY] = "reply", [MIG_REC_BACKEND] = "backend",
    [MIG_REC_COMMIT] = "commit",         [MIG_REC_READY] = "ready", [MIG_REC_ERROR] = "error",
    [MIG_REC_DEVICE] = "device",         [MIG_REC_GO] = "go",       [MIG_REC_STARTED] = "started",
    [MIG_REC_VHOST_USER] = "vhost-user",
};

const char *mig_record_name(MigRecordType type)
{
    return type > 0 && type < MIG_REC_MAX ? record_names[type] : "unknown";
}

uint64_t mig_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

uint64_t mig_deadline_after(unsigned ms)
{
    return mig_now_ns() + (uint64_t)ms * 1000000u;
}

int mig_ms_until(uint64_t deadline_ns)
{
    uint64_t now = mig_now_ns();

    return now >= deadline_ns ? 0 : (int)((deadline_ns - now + 999999) / 1000000);
}

void mig_channel_init(MigChannel *ch, int fd, unsigned timeout_ms, const char *side)
{
    ch->fd = fd;
    ch->timeout_ms = timeout_ms;
    ch->deadline_ns = mig_deadline_after(timeout_ms);
    ch->side = side;
}

/* Wait for @events on the channel until its deadline (the whole attempt's, not a step's). */
static bool wait_fd(MigChannel *ch, short events, GError **errp)
{
    struct pollfd p = {.fd = ch->fd, .events = events};
    int n;

    do {
        n = poll(&p, 1, mig_ms_until(ch->deadline_ns));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        g_set_error(errp, NETBE_MIG_ERROR, ETIMEDOUT,
                    "the peer did not keep up: the handover "
                    "deadline (%u ms) passed",
                    ch->timeout_ms);
        return false;
    }
    if (n < 0) {
        g_set_error(errp, NETBE_MIG_ERROR, errno, "poll: %s", g_strerror(errno));
        return false;
    }
    return true;
}

/* One sendmsg() of @msg, waiting for room until the deadline. Return: bytes sent, or -1
 * with @errp set (EPIPE when the peer is gone). */
static ssize_t send_waiting(MigChannel *ch, const struct msghdr *msg, GError **errp)
{
    for (;;) {
        ssize_t n = sendmsg(ch->fd, msg, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n >= 0) {
            return n;
        }
        if (errno != EAGAIN && errno != EINTR) {
            g_set_error(errp, NETBE_MIG_ERROR, errno == ECONNRESET ? EPIPE : errno, "send: %s",
                        g_strerror(errno));
            return -1;
        }
        if (errno == EAGAIN && !wait_fd(ch, POLLOUT, errp)) {
            return -1;
        }
    }
}

/* One recvmsg() into @msg (fds arrive close-on-exec), waiting for data until the deadline.
 * Return: bytes received (> 0), or -1 with @errp set (EPIPE when the stream ended). */
static ssize_t recv_waiting(MigChannel *ch, struct msghdr *msg, GError **errp)
{
    for (;;) {
        ssize_t n = recvmsg(ch->fd, msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

        if (n > 0) {
            return n;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (errno == EAGAIN && !wait_fd(ch, POLLIN, errp)) {
                return -1;
            }
            continue;
        }
        g_set_error(errp, NETBE_MIG_ERROR, EPIPE, "stream ended%s%s",
                    n ? ": " : " early (truncated: the peer closed it)",
                    n ? g_strerror(errno) : "");
        return -1;
    }
}

static bool write_all(MigChannel *ch, const void *buf, size_t len, GError **errp)
{
    struct iovec iov = {(void *)buf, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

    while (iov.iov_len) {
        ssize_t n = send_waiting(ch, &msg, errp);

        if (n < 0) {
            return false;
        }
        iov.iov_base = (uint8_t *)iov.iov_base + n;
        iov.iov_len -= n;
    }
    return true;
}

static bool read_all(MigChannel *ch, void *buf, size_t len, GError **errp)
{
    struct iovec iov = {buf, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

    while (iov.iov_len) {
        ssize_t n = recv_waiting(ch, &msg, errp);

        if (n < 0) {
            return false;
        }
        iov.iov_base = (uint8_t *)iov.iov_base + n;
        iov.iov_len -= n;
    }
    return true;
}

bool mig_channel_wait_close(MigChannel *ch, unsigned timeout_ms)
{
    MigChannel wait = *ch;
    char c;

    wait.deadline_ns = mig_deadline_after(timeout_ms);
    for (;;) {
        ssize_t n = recv(ch->fd, &c, 1, MSG_DONTWAIT);

        if (n == 0) {
            return true;
        }
        if (n > 0 || (errno != EAGAIN && errno != EINTR)) {
            return n < 0; /* a reset is a close too; more data is not */
        }
        if (!wait_fd(&wait, POLLIN, NULL)) {
            return false;
        }
    }
}

bool mig_send_header(MigChannel *ch, GError **errp)
{
    MigHeader h = {.version = GUINT32_TO_LE(NETBE_MIG_VERSION),
                   .compat_version = GUINT32_TO_LE(NETBE_MIG_COMPAT_VERSION)};

    memcpy(h.magic, mig_magic, sizeof(h.magic));
    return write_all(ch, &h, sizeof(h), errp);
}

bool mig_recv_header(MigChannel *ch, GError **errp)
{
    MigHeader h;
    uint32_t version, compat;

    if (!read_all(ch, &h, sizeof(h), errp)) {
        g_prefix_error(errp, "stream header: ");
        return false;
    }
    if (memcmp(h.magic, mig_magic, sizeof(h.magic)) != 0) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "not a netbe migration stream (bad magic)");
        return false;
    }
    version = GUINT32_FROM_LE(h.version);
    compat = GUINT32_FROM_LE(h.compat_version);
    ch->peer_version = version;
    /* the peer must read what we write, and we what it writes */
    if (compat > NETBE_MIG_VERSION || NETBE_MIG_COMPAT_VERSION > version) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                    "stream version %u (compatible with %u) "
                    "cannot talk to ours, %u (compatible with %u)",
                    version, compat, NETBE_MIG_VERSION, NETBE_MIG_COMPAT_VERSION);
        return false;
    }
    return true;
}

bool mig_send_record(MigChannel *ch, MigRecordType type, const NetbeMigWriter *w, GError **errp)
{
    size_t len = 0;
    unsigned nfds = 0;
    const uint8_t *data = w ? netbe_mig_writer_data(w, &len) : NULL;
    const int *fds = w ? netbe_mig_writer_fds(w, &nfds) : NULL;
    MigRecordHeader h = {GUINT32_TO_LE(type), GUINT32_TO_LE(len), GUINT32_TO_LE(nfds), 0};
    struct iovec iov = {&h, sizeof(h)};
    union {
        char buf[CMSG_SPACE(sizeof(int) * NETBE_MIG_MAX_FDS)];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    if (nfds) {
        struct cmsghdr *c;

        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    n = send_waiting(ch, &msg, errp);
    if (n < 0) {
        g_prefix_error(errp, "sending the %s record: ", mig_record_name(type));
        return false;
    }
    /* the fds went with the first byte; the rest of the header and the payload follow */
    if (!write_all(ch, (uint8_t *)&h + n, sizeof(h) - n, errp) || !write_all(ch, data, len, errp)) {
        g_prefix_error(errp, "sending the %s record: ", mig_record_name(type));
        return false;
    }
    return true;
}

bool mig_send_status(MigChannel *ch, MigRecordType type, bool ok, const char *reason,
                     uint64_t time_ns, GError **errp)
{
    NetbeMigWriter *w = netbe_mig_writer_new();
    bool sent;

    netbe_mig_put_u8(w, ok);
    netbe_mig_put_string(w, reason ? reason : "");
    netbe_mig_put_u64(w, time_ns);
    sent = mig_send_record(ch, type, w, errp);
    netbe_mig_writer_free(w);
    return sent;
}

bool mig_read_status(NetbeMigReader *r, bool *ok, char **reason, uint64_t *time_ns)
{
    uint8_t v;

    if (!netbe_mig_get_u8(r, &v) || !netbe_mig_get_string(r, reason)) {
        return false;
    }
    if (!netbe_mig_get_u64(r, time_ns)) {
        g_clear_pointer(reason, g_free);
        return false;
    }
    *ok = v;
    return true;
}

static void close_fds(const int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        close(fds[i]);
    }
}

NetbeMigReader *mig_recv_record(MigChannel *ch, MigRecordType *type, GError **errp)
{
    MigRecordHeader h;
    union {
        char buf[CMSG_SPACE(sizeof(int) * NETBE_MIG_MAX_FDS)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {&h, sizeof(h)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    int fds[NETBE_MIG_MAX_FDS];
    unsigned nfds = 0;
    g_autofree uint8_t *payload = NULL;
    NetbeMigReader *r = NULL;
    ssize_t n;

    n = recv_waiting(ch, &msg, errp);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            unsigned k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            k = MIN(k, NETBE_MIG_MAX_FDS - nfds);
            memcpy(fds + nfds, CMSG_DATA(c), k * sizeof(int));
            nfds += k;
        }
    }
    if (n < 0) {
        return NULL;
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "record carries more than %d fds",
                    NETBE_MIG_MAX_FDS);
        goto fail;
    }
    if (!read_all(ch, (uint8_t *)&h + n, sizeof(h) - n, errp)) {
        goto fail;
    }
    h.type = GUINT32_FROM_LE(h.type);
    h.len = GUINT32_FROM_LE(h.len);
    h.nfds = GUINT32_FROM_LE(h.nfds);
    if (h.type == 0 || h.type >= MIG_REC_MAX || h.len > NETBE_MIG_MAX_RECORD) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "bad record (type %u, %u bytes)", h.type, h.len);
        goto fail;
    }
    if (h.nfds != nfds) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                    "%s record: header announces %u fds, "
                    "%u came",
                    mig_record_name(h.type), h.nfds, nfds);
        goto fail;
    }
    payload = g_malloc(h.len ? h.len : 1);
    if (!read_all(ch, payload, h.len, errp)) {
        g_prefix_error(errp, "%s record: ", mig_record_name(h.type));
        goto fail;
    }
    *type = h.type;
    r = netbe_mig_reader_new(payload, h.len, fds, nfds);
    return r;
fail:
    close_fds(fds, nfds);
    return NULL;
}
