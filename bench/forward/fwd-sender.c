// SPDX-License-Identifier: GPL-2.0-or-later
/* fwd-sender.c - the one sender every forwarder is fed by: framed frames on a TCP
 * connection, UDP datagrams, or frames sent out of a TAP, as fast as they are taken. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fwd.h"

#define STREAM_CHUNK (256 * 1024) /* bytes of framed frames per send() */
#define BATCH 64                  /* datagrams or packets per sendmmsg() */

void fwd_make_frame(uint8_t *f, size_t len)
{
    static const uint8_t head[14] = {0x02, 0xbb, 0, 0, 0, 1, 0x02, 0xaa, 0, 0, 0, 2, 0x88, 0xb5};

    memset(f, 0, len);
    memcpy(f, head, sizeof(head));
    for (size_t i = sizeof(head); i < len; i++) {
        f[i] = (uint8_t)i;
    }
}

/* A socket of @type bound to 127.0.0.1, any port (into *@port). Return: fd, -1 on error. */
static int bind_loopback(int type, unsigned *port, GError **err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "bind 127.0.0.1: %s",
                    g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A send-only packet socket on @ifname that skips the qdisc: frames go straight to the
 * TAP's queue, which drops what its reader has not taken. */
static int packet_open(const char *ifname, GError **err)
{
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(ifname)};
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "packet socket on %s: %s",
                    ifname, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

int fwd_sender_open(FwdWiring *w, GError **err)
{
    int fd = -1, probe;

    switch (w->source) {
    case FWD_STREAM:
        fd = bind_loopback(SOCK_STREAM, &w->sender_port, err);
        if (fd >= 0 && listen(fd, 1) < 0) {
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "listen: %s",
                        g_strerror(errno));
            close(fd);
            fd = -1;
        }
        break;
    case FWD_DGRAM:
        /* the forwarder's port: free now, and nobody else lives in our namespace */
        probe = bind_loopback(SOCK_DGRAM, &w->fwd_port, err);
        if (probe < 0) {
            return -1;
        }
        fd = bind_loopback(SOCK_DGRAM, &w->sender_port, err);
        close(probe);
        break;
    case FWD_TAP:
        fd = packet_open(FWD_IF_IN, err);
        break;
    }
    return fd;
}

/* Accept the forwarder's connection and send framed frames until it goes away. */
static void send_stream(const FwdWiring *w, int lfd, uint64_t *sent)
{
    size_t rec = 4 + w->frame_len, per_chunk = STREAM_CHUNK / rec;
    g_autofree uint8_t *buf = g_malloc(per_chunk * rec);
    uint32_t prefix = htonl((uint32_t)w->frame_len);
    size_t off = 0, whole = 0;
    int fd = accept(lfd, NULL, NULL);

    if (fd < 0) {
        perror("sender: accept");
        return;
    }
    for (size_t i = 0; i < per_chunk; i++) {
        memcpy(buf + i * rec, &prefix, 4);
        fwd_make_frame(buf + i * rec + 4, w->frame_len);
    }
    for (;;) {
        ssize_t n = send(fd, buf + off, per_chunk * rec - off, MSG_NOSIGNAL);

        if (n <= 0) {
            return; /* the forwarder went away */
        }
        /* count whole frames handed to TCP; a partial one is counted when it completes */
        whole += n;
        __atomic_add_fetch(sent, whole / rec, __ATOMIC_RELAXED);
        whole %= rec;
        off = (off + n) % (per_chunk * rec);
    }
}

/* sendmmsg() batches of one frame on @fd (connected UDP, or a packet socket) for ever;
 * errors (nobody bound yet, a full TAP queue: ENOBUFS) only mean "not sent", try again. */
static void send_batches(const FwdWiring *w, int fd, uint64_t *sent)
{
    g_autofree uint8_t *frame = g_malloc(w->frame_len);
    struct iovec iov = {frame, w->frame_len};
    struct mmsghdr msgs[BATCH];

    fwd_make_frame(frame, w->frame_len);
    for (int i = 0; i < BATCH; i++) {
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
    }
    for (;;) {
        int k = sendmmsg(fd, msgs, BATCH, 0);

        if (k > 0) {
            __atomic_add_fetch(sent, (uint64_t)k, __ATOMIC_RELAXED);
        }
    }
}

void fwd_sender_run(const FwdWiring *w, int fd, uint64_t *sent)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons(w->fwd_port)};

    switch (w->source) {
    case FWD_STREAM:
        send_stream(w, fd, sent);
        break;
    case FWD_DGRAM:
        if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
            perror("sender: connect");
            return;
        }
        send_batches(w, fd, sent);
        break;
    case FWD_TAP:
        send_batches(w, fd, sent);
        break;
    }
}
