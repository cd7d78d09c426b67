// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-socket.c - socket plugin throughput against a hand-written relay loop, same run.
 *
 * Both paths move frames between a datagram socketpair (the "hub side", as a VM's frames
 * would arrive) and a link socket (a unix stream with QEMU's length framing, or UDP on
 * loopback), in both directions. The netbe path is a runtime whose hub joins two socket
 * netdevs; the baseline is the least a relay must do: recv() one side, send() the other
 * (sendmsg with the 4-byte prefix on the stream, read() and parse on the way back). The
 * driver (writing and reading the outer ends) is the same code for both, so the ratio
 * netbe/raw is the cost of the plugin and the runtime. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>
#include "sock-test.h"

#define BATCH 64        /* frames the driver writes before letting the relay run */
#define FRAME_BIG 65000 /* fits UDP over IPv4 too */

typedef enum Transport { T_STREAM, T_UDP } Transport;
typedef enum Direction { D_TX, D_RX } Direction; /* TX: hub side -> link; RX: back */

static const char *const transport_names[] = {"stream", "udp"};
static const char *const direction_names[] = {"hub->link", "link->hub"};

typedef struct Size {
    size_t len;
    unsigned frames;
} Size;

static const Size sizes[] = {{64, 200000}, {1500, 100000}, {FRAME_BIG, 8000}};

/*
 * One measurement setup: the driver's two ends and, for the raw path, the relay's two.
 * hub_drv <-> hub_rly: datagram socketpair; link_drv <-> link_rly: stream pair or UDP.
 */
typedef struct Path {
    int hub_drv, hub_rly;
    int link_drv, link_rly;
    NetbeRuntime *rt; /* NULL: the raw relay runs */
    Transport t;
    uint8_t *rbuf; /* raw relay: stream receive buffer */
    size_t rhead, rtail;
    uint8_t *pbuf; /* raw relay: a frame the destination could not take yet */
    size_t pend, poff;
    uint8_t *framed;     /* driver: 4-byte prefix + the frame */
    size_t len, drv_off; /* frame length; bytes of the current stream frame written */
    uint8_t *dbuf;       /* driver: stream bytes read, not yet a whole frame */
    size_t dtail;
} Path;

#define RBUF_SIZE (256 * 1024)

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* A connected UDP pair on 127.0.0.1; *a and *b are bound, ports in *pa, *pb. */
static void udp_pair(int *a, int *b, unsigned *pa, unsigned *pb)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int big = 4 << 20;

    *pa = *pb = 0;
    *a = st_udp_bind(pa);
    *b = st_udp_bind(pb);
    setsockopt(*a, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    setsockopt(*b, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    sa.sin_port = htons(*pb);
    g_assert_cmpint(connect(*a, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    sa.sin_port = htons(*pa);
    g_assert_cmpint(connect(*b, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
}

static void path_open(Path *p, Transport t, bool netbe, size_t len)
{
    int hub[2], link[2];
    unsigned pa, pb;
    g_autofree char *config = NULL, *link_opts = NULL;

    uint32_t prefix = htonl((uint32_t)len);

    memset(p, 0, sizeof(*p));
    p->t = t;
    p->len = len;
    p->framed = g_malloc(len + 4);
    p->dbuf = g_malloc(RBUF_SIZE);
    memcpy(p->framed, &prefix, 4);
    st_fill(p->framed + 4, len, 1);
    st_socketpair(SOCK_DGRAM, hub);
    if (t == T_STREAM) {
        st_socketpair(SOCK_STREAM, link);
    } else {
        udp_pair(&link[0], &link[1], &pa, &pb);
    }
    p->hub_drv = hub[0];
    p->link_drv = link[0];
    if (!netbe) {
        p->hub_rly = hub[1];
        p->link_rly = link[1];
        g_unix_set_fd_nonblocking(hub[1], true, NULL);
        g_unix_set_fd_nonblocking(link[0], true, NULL);
        g_unix_set_fd_nonblocking(link[1], true, NULL);
        p->rbuf = g_malloc(RBUF_SIZE);
        p->pbuf = g_malloc(ST_FRAME_MAX + 4);
        return;
    }
    g_unix_set_fd_nonblocking(link[0], true, NULL);
    if (t == T_STREAM) {
        link_opts = g_strdup_printf("fd = %d", link[1]);
    } else {
        close(link[1]); /* the plugin binds its own socket on that port */
        link_opts = g_strdup_printf("udp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u", pa, pb);
    }
    config = g_strdup_printf("[runtime]\nqueue_limit = 4096\n"
                             "[netdev.hub]\ntype = socket\nfd = %d\n"
                             "[netdev.link]\ntype = socket\n%s\n[hub.h]\nports = hub, link\n",
                             hub[1], link_opts);
    p->rt = st_runtime_new(config);
}

static void path_close(Path *p)
{
    if (p->rt) {
        st_runtime_free(p->rt);
    } else {
        close(p->hub_rly);
        close(p->link_rly);
    }
    close(p->hub_drv);
    close(p->link_drv);
    g_free(p->rbuf);
    g_free(p->pbuf);
    g_free(p->framed);
    g_free(p->dbuf);
}

/* Raw relay, hub side -> link: one recv straight behind a 4-byte prefix slot, one send.
 * What the link cannot take yet waits in pbuf (poff bytes of it sent): it never spins. */
static void raw_relay_tx(Path *p)
{
    for (;;) {
        size_t start = p->t == T_STREAM ? 0 : 4;
        ssize_t n;

        if (!p->pend) {
            uint32_t prefix;

            n = recv(p->hub_rly, p->pbuf + 4, ST_FRAME_MAX, MSG_DONTWAIT);
            if (n <= 0) {
                return;
            }
            prefix = htonl((uint32_t)n);
            memcpy(p->pbuf, &prefix, 4);
            p->pend = n + 4 - start;
            p->poff = 0;
        }
        n = send(p->link_rly, p->pbuf + start + p->poff, p->pend - p->poff,
                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            return; /* full: try again next round */
        }
        p->poff += n;
        if (p->poff == p->pend) {
            p->pend = 0;
        }
    }
}

/* Raw relay, link -> hub side: recv (UDP) or read and parse (stream), then send. */
static void raw_relay_rx(Path *p)
{
    for (;;) {
        uint32_t len;
        ssize_t n;

        if (p->t == T_UDP) {
            if (!p->pend) {
                n = recv(p->link_rly, p->pbuf, ST_FRAME_MAX, MSG_DONTWAIT);
                if (n <= 0) {
                    return;
                }
                p->pend = n;
            }
            if (send(p->hub_rly, p->pbuf, p->pend, MSG_DONTWAIT) < 0) {
                return;
            }
            p->pend = 0;
            continue;
        }
        if (p->rtail - p->rhead >= 4) {
            memcpy(&len, p->rbuf + p->rhead, 4);
            len = ntohl(len);
            if (p->rtail - p->rhead >= 4 + len) {
                if (send(p->hub_rly, p->rbuf + p->rhead + 4, len, MSG_DONTWAIT) < 0) {
                    return;
                }
                p->rhead += 4 + len;
                continue;
            }
        }
        if (p->rhead == p->rtail) {
            p->rhead = p->rtail = 0;
        } else if (p->rtail > 128 * 1024) {
            memmove(p->rbuf, p->rbuf + p->rhead, p->rtail - p->rhead);
            p->rtail -= p->rhead;
            p->rhead = 0;
        }
        n = read(p->link_rly, p->rbuf + p->rtail, RBUF_SIZE - p->rtail);
        if (n <= 0) {
            return;
        }
        p->rtail += n;
    }
}

static void relay_run(Path *p, Direction d)
{
    if (p->rt) {
        st_pump();
    } else if (d == D_TX) {
        raw_relay_tx(p);
    } else {
        raw_relay_rx(p);
    }
}

/* Driver: write one frame into the source end. Return: false if the socket is full (a
 * partly written stream frame is finished by the next calls: all frames are alike). */
static bool drive_write(Path *p, Direction d)
{
    size_t total = p->len + 4;
    ssize_t n;

    if (d == D_TX) {
        return send(p->hub_drv, p->framed + 4, p->len, MSG_DONTWAIT) == (ssize_t)p->len;
    }
    if (p->t == T_UDP) {
        return send(p->link_drv, p->framed + 4, p->len, MSG_DONTWAIT) == (ssize_t)p->len;
    }
    n = send(p->link_drv, p->framed + p->drv_off, total - p->drv_off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) {
        return false;
    }
    p->drv_off += n;
    if (p->drv_off < total) {
        return false;
    }
    p->drv_off = 0;
    return true;
}

/* Driver: read what arrived at the destination end. Return: whole frames read. */
static unsigned drive_read(Path *p, Direction d, uint8_t *buf)
{
    unsigned got = 0;

    if (d == D_RX || p->t == T_UDP) {
        int fd = d == D_RX ? p->hub_drv : p->link_drv;

        while (recv(fd, buf, ST_FRAME_MAX, MSG_DONTWAIT) == (ssize_t)p->len) {
            got++;
        }
        return got;
    }
    /* a stream: read what is there, as a real peer would, and count whole frames */
    for (;;) {
        ssize_t n = recv(p->link_drv, p->dbuf + p->dtail, RBUF_SIZE - p->dtail, MSG_DONTWAIT);
        size_t off = 0;

        if (n <= 0) {
            return got;
        }
        p->dtail += n;
        while (p->dtail - off >= p->len + 4) {
            uint32_t len;

            memcpy(&len, p->dbuf + off, 4);
            g_assert_cmpuint(ntohl(len), ==, p->len); /* framing intact */
            off += p->len + 4;
            got++;
        }
        memmove(p->dbuf, p->dbuf + off, p->dtail - off);
        p->dtail -= off;
    }
}

/* Move @frames frames of @len bytes; Return: frames per second. */
static double measure(Transport t, Direction d, bool netbe, size_t len, unsigned frames)
{
    static uint8_t buf[ST_FRAME_MAX + 4];
    unsigned sent = 0, got = 0, idle = 0;
    /* UDP drops what overflows a receive buffer (~200 KiB): keep less than that in flight */
    unsigned window = t == T_UDP ? MAX(1, MIN(4 * BATCH, 150000 / (len + 300))) : 1u << 30;
    double start, end, deadline;
    Path p;

    path_open(&p, t, netbe, len);
    start = now_s();
    deadline = start + 30;
    while (got < frames && now_s() < deadline) {
        unsigned before = got;

        for (int i = 0; i < BATCH && sent < frames && sent - got < window && drive_write(&p, d);
             i++) {
            sent++;
        }
        relay_run(&p, d);
        got += drive_read(&p, d, buf);
        if (sent == frames && got == before) {
            /* only UDP may lose frames: stop when nothing more comes for a while */
            if (++idle > 2000) {
                break;
            }
            g_usleep(10);
        } else {
            idle = 0;
        }
    }
    end = now_s();
    path_close(&p);
    if (got < frames) {
        g_printerr("# %s %s %zu B %s: %u of %u frames arrived\n", transport_names[t],
                   direction_names[d], len, netbe ? "netbe" : "raw", got, frames);
    }
    return got / (end - start);
}

/* Keep the plugin's connection messages out of the table. */
static void quiet_log(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

int main(int argc, char **argv)
{
    g_autofree char *json_path = NULL;
    double scale = 1.0;
    int only = -1, index = 0;
    gboolean netbe_only = false;
    GOptionEntry entries[] = {
        {"case", 0, 0, G_OPTION_ARG_INT, &only, "run only row N of the table (from 0)", "N"},
        {"netbe-only", 0, 0, G_OPTION_ARG_NONE, &netbe_only,
         "skip the baseline (for profiling the plugin)", NULL},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "write results here", "FILE"},
        {"scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "multiply frame counts", "X"},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- socket plugin throughput");
    g_autoptr(GString) json = g_string_new("{\"bench\":\"socket\",\"results\":[");
    g_autoptr(GError) err = NULL;
    bool first = true;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("bench-socket: %s\n", err->message);
        return 2;
    }
    if (!json_path) {
        g_mkdir_with_parents("bench-results", 0755);
        json_path = g_strdup("bench-results/socket.json");
    }
    g_log_set_handler("netbe-socket", G_LOG_LEVEL_MESSAGE, quiet_log, NULL);
    printf("%-8s %-10s %8s %14s %14s %10s %7s\n", "link", "direction", "frame", "netbe fr/s",
           "raw fr/s", "netbe Gb/s", "ratio");
    for (int t = T_STREAM; t <= T_UDP; t++) {
        for (int d = D_TX; d <= D_RX; d++) {
            for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
                if (only >= 0 && index++ != only) {
                    continue;
                }
                unsigned n = MAX(100, (unsigned)(sizes[i].frames * scale));
                double raw = netbe_only ? 1 : measure(t, d, false, sizes[i].len, n);
                double nb = measure(t, d, true, sizes[i].len, n);
                double gbps = nb * sizes[i].len * 8 / 1e9;

                printf("%-8s %-10s %8zu %14.0f %14.0f %10.2f %7.2f\n", transport_names[t],
                       direction_names[d], sizes[i].len, nb, raw, gbps, nb / raw);
                fflush(stdout);
                g_string_append_printf(json,
                                       "%s{\"link\":\"%s\",\"direction\":\"%s\","
                                       "\"frame_bytes\":%zu,\"frames\":%u,"
                                       "\"netbe_frames_per_s\":%.0f,\"raw_frames_per_s\":%.0f,"
                                       "\"netbe_gbit_per_s\":%.3f,\"ratio\":%.3f}",
                                       first ? "" : ",", transport_names[t], direction_names[d],
                                       sizes[i].len, n, nb, raw, gbps, nb / raw);
                first = false;
            }
        }
    }
    g_string_append(json, "]}\n");
    if (!g_file_set_contents(json_path, json->str, -1, &err)) {
        g_printerr("bench-socket: %s\n", err->message);
        return 1;
    }
    printf("results: %s\n", json_path);
    return 0;
}
