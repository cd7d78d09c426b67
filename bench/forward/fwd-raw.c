/* fwd-raw.c - the raw limit beside each forwarder: hand-written loops with one syscall per
 * frame each way and nothing else (no hub, no vnet header, blocking fds). */
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
#include <unistd.h>
#include "fwd.h"

#define STREAM_BUF (256 * 1024)
#define FRAME_MAX 65536

/* Attach to the persistent TAP @ifname (IFF_NO_PI, no vnet header). Return: fd, -1. */
static int tap_attach(const char *ifname)
{
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
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

/* Read the stream in big chunks, write() each whole frame; keep a partial one for later. */
static void raw_stream(int in, int out)
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
            if (write(out, buf + head + 4, len) < 0) {
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

/* One read() or recv() per frame, one write() to the TAP. */
static void raw_frames(int in, int out)
{
    g_autofree uint8_t *buf = g_malloc(FRAME_MAX);

    for (;;) {
        ssize_t n = read(in, buf, FRAME_MAX);

        if (n <= 0 || write(out, buf, n) < 0) {
            perror("raw: read or write");
            return;
        }
    }
}

void fwd_raw_run(const FwdWiring *w)
{
    int out = tap_attach(FWD_IF_OUT), in = -1;

    switch (w->source) {
    case FWD_STREAM:
        in = loopback_socket(SOCK_STREAM, w->sender_port);
        break;
    case FWD_DGRAM:
        in = loopback_socket(SOCK_DGRAM, w->fwd_port);
        break;
    case FWD_TAP:
        in = tap_attach(FWD_IF_IN);
        break;
    }
    if (in < 0 || out < 0) {
        return;
    }
    if (w->source == FWD_STREAM) {
        raw_stream(in, out);
    } else {
        raw_frames(in, out);
    }
}
