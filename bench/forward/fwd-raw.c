// SPDX-License-Identifier: GPL-2.0-or-later
/* fwd-raw.c - the raw limit beside each forwarder: hand-written loops with one syscall per
 * frame each way and nothing else (no hub, blocking fds, a vnet header only if asked). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "fwd.h"

#define STREAM_BUF (256 * 1024)
#define FRAME_MAX 65536

#define VNET_HDR 10 /* struct virtio_net_hdr, the TAP's default header size */

/* Attach to the persistent TAP @ifname (IFF_NO_PI, a vnet header if @vnet_hdr). Return: fd,
 * -1. */
static int tap_attach(const char *ifname, bool vnet_hdr)
{
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0)};
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "raw: TAP %s: %s\n", ifname, g_strerror(errno));
        return -1;
    }
    return fd;
}

/* A UDP or TCP socket on 127.0.0.1: bound to @port (UDP) or connected to it (TCP). */
static int loopback_socket(int type, unsigned port)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    int rc = type == SOCK_STREAM ? connect(fd, (struct sockaddr *)&sa, sizeof(sa))
                                 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));

    if (fd < 0 || rc < 0) {
        fprintf(stderr, "raw: socket on port %u: %s\n", port, g_strerror(errno));
        return -1;
    }
    return fd;
}

/* Write @len bytes at @frame to TAP @out, behind a zero header of @hdr bytes. */
static ssize_t tap_write(int out, const uint8_t *frame, size_t len, size_t hdr)
{
    static uint8_t zero[VNET_HDR];
    struct iovec iov[2] = {{zero, hdr}, {(void *)frame, len}};

    return hdr ? writev(out, iov, 2) : write(out, frame, len);
}

/* Read the stream in big chunks, write() each whole frame; keep a partial one for later. */
static void raw_stream(int in, int out, size_t hdr)
{
    g_autofree uint8_t *buf = g_malloc(STREAM_BUF);
    size_t head = 0, tail = 0;

    for (;;) {
        ssize_t n = read(in, buf + tail, STREAM_BUF - tail);

        if (n <= 0) {
            fprintf(stderr, "raw: stream closed\n");
            return;
        }
        tail += n;
        while (tail - head >= 4) {
            uint32_t len;

            memcpy(&len, buf + head, 4);
            len = ntohl(len);
            if (len > FRAME_MAX) {
                fprintf(stderr, "raw: framing lost (length %u)\n", len);
                return;
            }
            if (tail - head < 4 + len) {
                break;
            }
            if (tap_write(out, buf + head + 4, len, hdr) < 0) {
                perror("raw: write TAP");
                return;
            }
            head += 4 + len;
        }
        memmove(buf, buf + head, tail - head);
        tail -= head;
        head = 0;
    }
}

/* One read() or recv() per frame, one write() to the TAP (@hdr: header bytes to add). */
static void raw_frames(int in, int out, size_t hdr)
{
    g_autofree uint8_t *buf = g_malloc(FRAME_MAX);

    for (;;) {
        ssize_t n = read(in, buf, FRAME_MAX);

        if (n <= 0 || tap_write(out, buf, n, hdr) < 0) {
            perror("raw: read or write");
            return;
        }
    }
}

void fwd_raw_run(const FwdWiring *w, bool vnet_hdr)
{
    int out = tap_attach(FWD_IF_OUT, vnet_hdr), in = -1;
    size_t hdr = vnet_hdr ? VNET_HDR : 0;

    switch (w->source) {
    case FWD_STREAM:
        in = loopback_socket(SOCK_STREAM, w->sender_port);
        break;
    case FWD_DGRAM:
        in = loopback_socket(SOCK_DGRAM, w->fwd_port);
        break;
    case FWD_TAP:
        in = tap_attach(FWD_IF_IN, vnet_hdr);
        hdr = 0; /* a frame read with its header is written with it */
        break;
    }
    if (in < 0 || out < 0) {
        return;
    }
    if (w->source == FWD_STREAM) {
        raw_stream(in, out, hdr);
    } else {
        raw_frames(in, out, hdr);
    }
}
