// SPDX-License-Identifier: GPL-2.0-or-later
/* mig-wire.c - test side of the migration wire format, to play a misbehaving peer. */
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "mig-wire.h"

typedef struct WireRecordHeader {
    uint32_t type, len, nfds, reserved;
} WireRecordHeader;

bool wire_send_header(int fd, uint32_t version, uint32_t compat)
{
    uint8_t h[16];
    uint32_t v = GUINT32_TO_LE(version), c = GUINT32_TO_LE(compat);

    memcpy(h, "NETBEMIG", 8);
    memcpy(h + 8, &v, 4);
    memcpy(h + 12, &c, 4);
    return send(fd, h, sizeof(h), MSG_NOSIGNAL) == sizeof(h);
}

static bool read_full(int fd, void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 5000) != 1) {
            return false;
        }
        n = recv(fd, (char *)buf + off, len - off, 0);
        if (n <= 0) {
            return false;
        }
        off += n;
    }
    return true;
}

bool wire_recv_header(int fd)
{
    uint8_t h[16];

    return read_full(fd, h, sizeof(h)) && memcmp(h, "NETBEMIG", 8) == 0;
}

ssize_t wire_send_with_fds(int fd, const void *data, size_t len, const int *fds, unsigned nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {(void *)data, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

    g_assert_cmpuint(nfds, <=, WIRE_MAX_FDS);
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
    return sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

bool wire_send_record(int fd, uint32_t type, NetbeMigWriter *w, int announced_fds,
                      size_t truncate_to)
{
    size_t len = 0;
    unsigned nfds = 0;
    const uint8_t *data = netbe_mig_writer_data(w, &len);
    const int *fds = netbe_mig_writer_fds(w, &nfds);
    WireRecordHeader h = {GUINT32_TO_LE(type), GUINT32_TO_LE(len),
                          GUINT32_TO_LE(announced_fds < 0 ? nfds : (unsigned)announced_fds), 0};
    if (wire_send_with_fds(fd, &h, sizeof(h), fds, nfds) != sizeof(h)) {
        return false;
    }
    len = MIN(len, truncate_to);
    return send(fd, data, len, MSG_NOSIGNAL) == (ssize_t)len;
}

NetbeMigReader *wire_recv_record(int fd, uint32_t *type)
{
    WireRecordHeader h;
    int fds[16];
    unsigned nfds = 0;
    char cbuf[CMSG_SPACE(sizeof(fds))];
    struct iovec iov = {&h, sizeof(h)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    struct pollfd p = {.fd = fd, .events = POLLIN};
    g_autofree uint8_t *payload = NULL;
    ssize_t n;

    if (poll(&p, 1, 5000) != 1 || (n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) <= 0) {
        return NULL;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        unsigned k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

        memcpy(fds + nfds, CMSG_DATA(c), k * sizeof(int));
        nfds += k;
    }
    if (!read_full(fd, (char *)&h + n, sizeof(h) - n)) {
        return NULL;
    }
    payload = g_malloc(GUINT32_FROM_LE(h.len) + 1);
    if (!read_full(fd, payload, GUINT32_FROM_LE(h.len))) {
        return NULL;
    }
    *type = GUINT32_FROM_LE(h.type);
    return netbe_mig_reader_new(payload, GUINT32_FROM_LE(h.len), fds, nfds);
}

bool wire_send_status(int fd, uint32_t type, bool ok, const char *reason)
{
    NetbeMigWriter *w = netbe_mig_writer_new();
    bool sent;

    netbe_mig_put_u8(w, ok);
    netbe_mig_put_string(w, reason);
    netbe_mig_put_u64(w, 0);
    sent = wire_send_record(fd, type, w, -1, SIZE_MAX);
    netbe_mig_writer_free(w);
    return sent;
}

int wire_listen(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    unlink(path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

int wire_connect(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    for (int i = 0; i < 250; i++) {
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            return fd;
        }
        g_usleep(20000);
    }
    close(fd);
    return -1;
}

int wire_accept(int lfd, int timeout_ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};

    if (poll(&p, 1, timeout_ms) != 1) {
        return -1;
    }
    return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

int wire_put_lock(NetbeMigWriter *w)
{
    int fd = memfd_create("netbe-serving-lock", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(
        fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), ==, 0);
    g_assert_cmpint(flock(fd, LOCK_EX | LOCK_NB), ==, 0);
    g_assert_true(netbe_mig_put_fd(w, fd));
    return fd;
}

/* Read one status record of @want type; Return: true if it says ok. */
static bool wire_recv_ok(int fd, uint32_t want)
{
    uint32_t type = 0;
    NetbeMigReader *r = wire_recv_record(fd, &type);
    uint8_t ok = 0;

    if (r && type == want) {
        netbe_mig_get_u8(r, &ok);
    }
    netbe_mig_reader_free(r);
    return ok;
}

bool wire_finish_source(int fd, int lock)
{
    NetbeMigWriter *w;
    bool sent;

    if (!wire_recv_ok(fd, WIRE_READY)) {
        return false;
    }
    flock(lock, LOCK_UN);
    w = netbe_mig_writer_new();
    netbe_mig_put_u8(w, 1);
    netbe_mig_put_string(w, "");
    netbe_mig_put_u64(w, 0);
    sent = wire_send_record(fd, WIRE_GO, w, -1, SIZE_MAX);
    netbe_mig_writer_free(w);
    return sent && wire_recv_ok(fd, WIRE_STARTED);
}
