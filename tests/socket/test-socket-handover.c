// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-handover.c - live handover of socket netdevs between two netbe-host processes
 * (conf/default.ini's shape: a deferred hub joining a UDP netdev and a TCP stream listener):
 * guests sending numbered frames both ways never notice, and a frame half received or half
 * sent when the handover happens continues on the destination; a real QEMU as the stream
 * peer (-netdev stream on a unix socket) stays connected. No root needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host-proc.h"
#include "sock-util.h"
#include "sock-test.h"

/* Frames: Ethernet broadcast header, ethertype 0x88b5, u32 sequence, a pattern. */
#define HO_HDR 14
#define HO_MIN_LEN (HO_HDR + 4)

/* The hosts a test runs (slots: source, destination, QEMU), for test_pid_track(). */
static void track_host(unsigned slot, TestHost *h)
{
    test_pid_track(slot, h ? h->pid : 0);
}

/* Both hosts (the destination has exited) and the @n sockets at @fds go. */
static void release_all(TestHost *src, TestHost *dst, const int *fds, int n)
{
    test_host_free(src);
    test_host_free(dst);
    track_host(0, NULL);
    track_host(1, NULL);
    for (int i = 0; i < n; i++) {
        close(fds[i]);
    }
}

/* The destination quits cleanly (exit 0). */
static void quit_dst(TestHost *dst)
{
    g_free(test_host_ctl(dst, "quit"));
    g_assert_cmpint(test_host_wait(dst, 10000), ==, 0);
}

/* The destination quits cleanly; both hosts and the @n sockets at @fds go. */
static void quit_and_close(TestHost *src, TestHost *dst, const int *fds, int n)
{
    quit_dst(dst);
    release_all(src, dst, fds, n);
}

/* Wait up to 5 s for @text in @h's log. */
static bool wait_log(TestHost *h, const char *text)
{
    for (int i = 0; i < 250; i++) {
        g_autofree char *log = NULL;

        if (g_file_get_contents(h->log, &log, NULL, NULL) && strstr(log, text)) {
            return true;
        }
        g_usleep(20000);
    }
    return false;
}

/* A deferred hub of a UDP netdev (its peer on @udp_peer_port) and a TCP listener, with
 * the ports left to the kernel (the logs say which). */
static char *lan_config(unsigned udp_peer_port)
{
    return g_strdup_printf("[runtime]\nqueue_limit = 1024\n"
                           "[netdev.guest1]\ntype = socket\nlocaladdr = 127.0.0.1:0\n"
                           "udp = 127.0.0.1:%u\n"
                           "[netdev.guest2]\ntype = socket\nlisten = 127.0.0.1:0\n"
                           "[hub.lan]\nports = guest1, guest2\nconnect = deferred\n",
                           udp_peer_port);
}

/* The port after @marker ("listening on 127.0.0.1:") in @h's log, 0 if absent. */
static unsigned port_from_log(TestHost *h, const char *marker)
{
    g_autofree char *log = NULL;
    const char *p;

    if (!g_file_get_contents(h->log, &log, NULL, NULL) || !(p = strstr(log, marker))) {
        return 0;
    }
    return (unsigned)strtoul(p + strlen(marker), NULL, 10);
}

/* A guest's UDP socket on 127.0.0.1 (port set on return), with room for 1 s of frames at
 * least: the test reads it from a thread the scheduler may leave waiting. */
static int udp_peer(unsigned *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int granted = st_udp_rcvbuf(fd, 8 << 20);

    g_test_message("a guest's UDP socket: a receive buffer of %d bytes", granted);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A blocking TCP connection to 127.0.0.1:@port; @rcvbuf > 0 sets SO_RCVBUF first. */
static int tcp_peer(unsigned port, int rcvbuf)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (rcvbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    return fd;
}

/* A frame of @len bytes numbered @seq, direction @dir. */
static void make_frame(uint8_t *f, size_t len, uint32_t seq, unsigned dir)
{
    uint32_t be = htonl(seq);

    memset(f, 0xff, 6);
    memcpy(f + 6, (uint8_t[]){0x02, 0, 0, 0, 0, (uint8_t)(dir + 1), 0x88, 0xb5}, 8);
    memcpy(f + HO_HDR, &be, 4);
    st_fill(f + HO_MIN_LEN, len - HO_MIN_LEN, seq * 2 + dir);
}

/* The number of a frame made by make_frame(), or -1 if it is not one intact. */
static int64_t frame_seq(const uint8_t *f, size_t len, unsigned dir)
{
    uint32_t be;

    if (len < HO_MIN_LEN || f[11] != dir + 1) {
        return -1;
    }
    memcpy(&be, f + HO_HDR, 4);
    return st_check(f + HO_MIN_LEN, len - HO_MIN_LEN, ntohl(be) * 2 + dir) ? (int64_t)ntohl(be)
                                                                           : -1;
}

static size_t frame_len(uint32_t seq)
{
    return 60 + (seq * 37) % 400;
}

/* Write all of @len bytes on a blocking socket within 5 s. */
static bool write_all(int fd, const void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        ssize_t n;

        if (poll(&p, 1, ST_TIMEOUT_MS) != 1) {
            return false;
        }
        n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return false;
        }
        off += n > 0 ? (size_t)n : 0;
    }
    return true;
}

/* Gaps a direction remembers, to say where they were. */
#define TALLY_GAPS 8

/* What one direction saw: every number in order once, or not. */
typedef struct Tally {
    uint32_t next; /* the number expected next */
    uint32_t received, bad, out_of_order;
    uint32_t missing; /* numbers skipped by gaps (forward jumps) */
    unsigned gaps;
    struct {
        uint32_t from, to; /* numbers from..to-1 did not come */
        gint64 at;         /* when the frame after the gap came (monotonic us) */
    } gap[TALLY_GAPS];
} Tally;

static void tally(Tally *t, int64_t seq)
{
    t->received++;
    if (seq < 0) {
        t->bad++;
        return;
    }
    if ((uint32_t)seq > t->next) {
        if (t->gaps < TALLY_GAPS) {
            t->gap[t->gaps].from = t->next;
            t->gap[t->gaps].to = (uint32_t)seq;
            t->gap[t->gaps].at = g_get_monotonic_time();
        }
        t->gaps++;
        t->missing += (uint32_t)seq - t->next;
    }
    if ((uint32_t)seq != t->next) {
        t->out_of_order++; /* a gap, a repeat or a step back */
    }
    t->next = (uint32_t)seq + 1;
}

/* Say where @t's gaps were, in ms from @t0. */
static void tally_report(const Tally *t, const char *what, gint64 t0)
{
    for (unsigned i = 0; i < MIN(t->gaps, TALLY_GAPS); i++) {
        g_test_message("%s: gap %u..%u (%u frames), next frame at %+.1f ms", what, t->gap[i].from,
                       t->gap[i].to - 1, t->gap[i].to - t->gap[i].from,
                       (t->gap[i].at - t0) / 1000.0);
    }
}

/* The UDP sockets on the guests' paths, where the kernel drops what finds no room. */
enum { HOP_NETBE, HOP_QEMU, HOP_GUEST_A, HOP_GUEST_B, HOPS };

static const char *const hop_names[HOPS] = {
    [HOP_NETBE] = "netbe's UDP socket (guest1)",
    [HOP_QEMU] = "QEMU's dgram socket",
    [HOP_GUEST_A] = "the UDP guest's socket",
    [HOP_GUEST_B] = "the socket of the guest behind QEMU",
};

/*
 * Two guests: numbered frames both ways at a steady rate, from threads. A datagram socket
 * that nobody reads for a while (netbe's while it hands over or waits for a CPU, QEMU's)
 * overflows and the kernel drops what comes: that loss is not netbe's and says nothing of
 * the handover, so the sender does not send into a socket of another process that is half
 * full (st_udp_wait_room()), and the guests' own sockets have room for a second or more.
 * The kernel's drop counters of all of them are then zero, or the test says which.
 */
typedef struct Guests {
    int udp, tcp;      /* tcp: the guest behind the stream netdev */
    bool tcp_is_dgram; /* ... which is behind QEMU: a UDP socket to peer_to */
    struct sockaddr_in peer_to;
    struct sockaddr_in host_udp; /* guest1's localaddr on the host */
    unsigned rate, count;        /* frames/s each way, and how many */
    Tally to_udp, to_tcp;        /* frames the UDP guest got (from TCP), and the reverse */
    bool tcp_closed;             /* the TCP guest saw EOF or an error */
    volatile bool sent_all;
    gint64 last_rx;
    gint64 start;    /* when the sender began (monotonic us) */
    gint64 max_late; /* the longest the sender was behind its schedule (us) */
    uint32_t late_seq;
    unsigned hop_port[HOPS]; /* 0: not on this test's paths */
    int64_t hop_drops[HOPS]; /* the kernel's count when the guests began */
    bool stalled;            /* a socket paced on stayed full: its reader stopped */
} Guests;

/* Learn the ports of the UDP sockets on the paths and their drop counts so far. */
static void guests_hops_start(Guests *g)
{
    int fds[HOPS] = {[HOP_NETBE] = -1,
                     [HOP_QEMU] = -1,
                     [HOP_GUEST_A] = g->udp,
                     [HOP_GUEST_B] = g->tcp_is_dgram ? g->tcp : -1};

    g->hop_port[HOP_NETBE] = ntohs(g->host_udp.sin_port);
    g->hop_port[HOP_QEMU] = g->tcp_is_dgram ? ntohs(g->peer_to.sin_port) : 0;
    for (unsigned h = 0; h < HOPS; h++) {
        struct sockaddr_in a;
        socklen_t len = sizeof(a);

        if (fds[h] >= 0 && getsockname(fds[h], (struct sockaddr *)&a, &len) == 0) {
            g->hop_port[h] = ntohs(a.sin_port);
        }
        g->hop_drops[h] = g->hop_port[h] ? st_udp_kernel_drops(g->hop_port[h], NULL) : 0;
        g_assert_cmpint(g->hop_drops[h], >=, 0);
    }
}

/* Fails if the kernel dropped a datagram at a socket on the paths since the guests began:
 * the frames missing then would not be netbe's loss. */
static void guests_assert_no_kernel_drops(const Guests *g)
{
    for (unsigned h = 0; h < HOPS; h++) {
        int64_t drops;

        if (!g->hop_port[h]) {
            continue;
        }
        drops = st_udp_kernel_drops(g->hop_port[h], NULL) - g->hop_drops[h];
        g_test_message("the kernel dropped %" G_GINT64_FORMAT " datagrams at %s (port %u)", drops,
                       hop_names[h], g->hop_port[h]);
        if (drops != 0) {
            g_error("the kernel dropped %" G_GINT64_FORMAT " datagrams at %s: its receive "
                    "buffer overflowed although the sender paced itself",
                    drops, hop_names[h]);
        }
    }
}

/* Wait until the socket of @hop has room for a frame. Return: false if its reader stopped. */
static bool guests_wait_room(Guests *g, unsigned hop)
{
    if (st_udp_wait_room(g->hop_port[hop], ST_TIMEOUT_MS)) {
        return true;
    }
    g_test_message("%s stayed full for %d ms: nobody read it", hop_names[hop], ST_TIMEOUT_MS);
    g->stalled = true;
    return false;
}

static gpointer guests_send(gpointer data)
{
    Guests *g = data;
    static uint8_t f[ST_FRAME_MAX + 4];
    gint64 start = g_get_monotonic_time();

    g->start = start;
    for (uint32_t i = 0; i < g->count; i++) {
        gint64 due = start + (gint64)i * G_USEC_PER_SEC / g->rate;
        size_t len = frame_len(i);
        uint32_t prefix = htonl((uint32_t)len);

        while (g_get_monotonic_time() < due) {
            g_usleep(200);
        }
        if (g_get_monotonic_time() - due > g->max_late) {
            g->max_late = g_get_monotonic_time() - due;
            g->late_seq = i;
        }
        make_frame(f + 4, len, i, 0);
        if (!guests_wait_room(g, HOP_NETBE)) {
            break;
        }
        g_assert_cmpint(
            sendto(g->udp, f + 4, len, 0, (struct sockaddr *)&g->host_udp, sizeof(g->host_udp)), ==,
            len);
        make_frame(f + 4, len, i, 1);
        memcpy(f, &prefix, 4);
        if (g->tcp_is_dgram) {
            if (!guests_wait_room(g, HOP_QEMU)) {
                break;
            }
            g_assert_cmpint(
                sendto(g->tcp, f + 4, len, 0, (struct sockaddr *)&g->peer_to, sizeof(g->peer_to)),
                ==, len);
        } else if (!write_all(g->tcp, f, len + 4)) {
            g->tcp_closed = true;
            break;
        }
    }
    g->sent_all = true;
    return NULL;
}

/* Parse whole frames out of the TCP guest's buffer; Return: bytes consumed. */
static size_t parse_stream(Guests *g, const uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (len - off >= 4) {
        uint32_t flen;

        memcpy(&flen, buf + off, 4);
        flen = ntohl(flen);
        if (flen > ST_FRAME_MAX) {
            g->to_tcp.bad++;
            return len;
        }
        if (len - off < 4 + (size_t)flen) {
            break;
        }
        tally(&g->to_tcp, frame_seq(buf + off + 4, flen, 0));
        off += 4 + flen;
    }
    return off;
}

static gpointer guests_receive(gpointer data)
{
    Guests *g = data;
    static uint8_t sbuf[1 << 20];
    static uint8_t d[ST_FRAME_MAX];
    size_t have = 0;

    g->last_rx = g_get_monotonic_time();
    while (g->to_udp.received < g->count || g->to_tcp.received < g->count) {
        struct pollfd p[2] = {{.fd = g->udp, .events = POLLIN}, {.fd = g->tcp, .events = POLLIN}};
        ssize_t n;

        /* done when nothing came for 3 s after the last frame went out */
        if (g->sent_all && g_get_monotonic_time() - g->last_rx > 3 * G_USEC_PER_SEC) {
            break;
        }
        if (poll(p, 2, 100) <= 0) {
            continue;
        }
        g->last_rx = g_get_monotonic_time();
        if (p[0].revents & POLLIN) {
            n = recv(g->udp, d, sizeof(d), MSG_DONTWAIT);
            if (n > 0) {
                tally(&g->to_udp, frame_seq(d, n, 1));
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (g->tcp_is_dgram) {
                n = recv(g->tcp, d, sizeof(d), MSG_DONTWAIT);
                if (n > 0) {
                    tally(&g->to_tcp, frame_seq(d, n, 0));
                }
                continue;
            }
            n = recv(g->tcp, sbuf + have, sizeof(sbuf) - have, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                g->tcp_closed = true;
                break;
            }
            if (n > 0) {
                size_t used = parse_stream(g, sbuf, have + n);

                have += n - used;
                memmove(sbuf, sbuf + used, have);
            }
        }
    }
    return NULL;
}

/*
 * Start the destination with --incoming and hand over from @src.
 * Return: the destination (serving), netbe-ctl's output in *out.
 */
static TestHost *handover(TestHost *src, const char *config, const char *moved, char **out)
{
    g_autofree char *incoming = g_build_filename(src->dir, "incoming.sock", NULL);
    g_autofree char *cmd = g_strdup_printf("migrate %s", incoming);
    const char *args[] = {"--incoming", incoming, "--incoming-timeout", "20", NULL};
    TestHost *dst = test_host_spawn(config, NULL, args, NULL);

    g_assert_nonnull(dst);
    track_host(1, dst);
    for (int i = 0; i < 250 && !g_file_test(incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    *out = test_host_ctl(src, cmd);
    g_assert_nonnull(*out);
    g_test_message("%s", *out);
    g_assert_nonnull(strstr(*out, "migrated: downtime"));
    g_assert_nonnull(strstr(*out, moved));
    g_assert_cmpint(test_host_wait(src, 10000), ==, 0); /* the source exits 0 */
    g_assert_true(test_host_wait_serving(dst, 10000));
    return dst;
}

/* @h's log, which says @text. */
static char *assert_log_has(TestHost *h, const char *text)
{
    char *log = NULL;

    g_assert_true(g_file_get_contents(h->log, &log, NULL, NULL));
    g_test_message("log of %s:\n%s", h->config, log);
    g_assert_nonnull(strstr(log, text));
    return log;
}

/* The destination took the sockets over and never bound or listened itself. */
static char *assert_adopted(TestHost *dst)
{
    char *log = NULL;

    g_assert_true(g_file_get_contents(dst->log, &log, NULL, NULL));
    g_test_message("destination log:\n%s", log);
    g_assert_null(strstr(log, "listening on"));
    g_assert_null(strstr(log, "datagrams on"));
    g_assert_nonnull(strstr(log, "netdev 'guest1': took over the datagram transport"));
    g_assert_nonnull(strstr(log, "netdev 'guest2': took over the listen transport"));
    return log;
}

/* @key of netdev @id's queue 0 in "stats --json", -1 if absent. */
static int64_t stat_of(const char *json, const char *id, const char *key)
{
    g_autofree char *obj = g_strdup_printf("\"netdev\":\"%s\",\"queue\":0,", id);

    return test_json_int_in(json, obj, key);
}

/* Start the source and learn its ports. */
static TestHost *start_source(const char *config, struct sockaddr_in *host_udp,
                              unsigned *listen_port)
{
    TestHost *src = test_host_start(config, NULL, NULL);

    g_assert_nonnull(src);
    track_host(0, src);
    *host_udp =
        (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    host_udp->sin_port = htons(port_from_log(src, "datagrams on 127.0.0.1:"));
    *listen_port = port_from_log(src, "listening on 127.0.0.1:");
    g_assert_cmpuint(ntohs(host_udp->sin_port), >, 0);
    g_assert_cmpuint(*listen_port, >, 0);
    return src;
}

/*
 * Fails if a frame is lost, doubled, corrupted or reordered in either direction while the
 * source hands over mid-stream, if the TCP guest's connection closes (a real QEMU would
 * notice), if the frames after the handover did not go through the destination, or if
 * the destination bound or listened itself instead of adopting the source's sockets.
 */
static void test_guests_never_notice_handover(void)
{
    Guests g = {.rate = 3000, .count = 6000};
    unsigned udp_port, listen_port;
    gint64 ho_start, ho_end;
    g_autofree char *config = NULL, *out = NULL, *log = NULL, *stats = NULL;
    TestHost *src, *dst;
    GThread *tx, *rx;

    g.udp = udp_peer(&udp_port);
    config = lan_config(udp_port);
    src = start_source(config, &g.host_udp, &listen_port);
    g.tcp = tcp_peer(listen_port, 0);
    g_assert_true(wait_log(src, "connected to")); /* frames before that are dropped */
    guests_hops_start(&g);
    rx = g_thread_new("guests-rx", guests_receive, &g);
    tx = g_thread_new("guests-tx", guests_send, &g);
    g_usleep(700000);
    ho_start = g_get_monotonic_time();
    dst = handover(src, config, "2 backends, 3 fds", &out);
    ho_end = g_get_monotonic_time();
    g_thread_join(tx);
    g_thread_join(rx);
    g_test_message("UDP guest got %u (%u bad, %u out of order), TCP guest got %u (%u bad, %u out "
                   "of order) of %u each",
                   g.to_udp.received, g.to_udp.bad, g.to_udp.out_of_order, g.to_tcp.received,
                   g.to_tcp.bad, g.to_tcp.out_of_order, g.count);
    g_test_message("handover from %+.1f to %+.1f ms; sender at most %.1f ms late (frame %u)",
                   (ho_start - g.start) / 1000.0, (ho_end - g.start) / 1000.0, g.max_late / 1000.0,
                   g.late_seq);
    tally_report(&g.to_tcp, "to the TCP guest", g.start);
    tally_report(&g.to_udp, "to the UDP guest", g.start);
    stats = test_host_ctl(dst, "stats --json");
    g_test_message("destination stats: %s", stats);
    g_assert_false(g.stalled);
    guests_assert_no_kernel_drops(&g);
    g_assert_false(g.tcp_closed);
    g_assert_cmpuint(g.to_udp.received, ==, g.count);
    g_assert_cmpuint(g.to_tcp.received, ==, g.count);
    g_assert_cmpuint(g.to_udp.bad + g.to_udp.out_of_order, ==, 0);
    g_assert_cmpuint(g.to_tcp.bad + g.to_tcp.out_of_order, ==, 0);
    g_assert_cmpuint(g.to_udp.next, ==, g.count);
    g_assert_cmpuint(g.to_tcp.next, ==, g.count);
    /* the connection is still open: nothing more arrives, and no EOF either */
    g_assert_true(st_quiet(g.tcp, 100));
    log = assert_adopted(dst);
    g_assert_nonnull(stats);
    g_assert_nonnull(strstr(stats, "\"netdev\":\"guest1\""));
    g_assert_null(strstr(stats, "\"rx_frames\":0,")); /* both netdevs forwarded there */
    /* the counters went on from the source's: every frame of the guests is counted here */
    g_assert_cmpint(stat_of(stats, "guest1", "rx_frames"), ==, g.count);
    g_assert_cmpint(stat_of(stats, "guest2", "rx_frames"), ==, g.count);
    g_assert_cmpint(stat_of(stats, "guest1", "tx_frames"), ==, g.count);
    g_assert_cmpint(stat_of(stats, "guest2", "tx_frames"), ==, g.count);
    quit_and_close(src, dst, (int[]){g.udp, g.tcp}, 2);
}

#define HALF_BIG_FRAMES 300
#define HALF_BIG_LEN 30000
#define HALF_SMALL_LEN 100
#define HALF_SMALL_CUT 30

/*
 * Fails if a stream frame half received by the source (its first bytes in the source's
 * buffer, the rest still to come) does not arrive whole and once through the destination,
 * or if a frame the source had partly written to a full TCP peer does not continue from
 * the byte where it stopped (a lost, repeated or reordered byte breaks the framing or the
 * numbering).
 */
static void test_half_frames_continue_on_destination(void)
{
    struct sockaddr_in host_udp;
    unsigned udp_port, listen_port;
    g_autofree char *config = NULL, *out = NULL, *log = NULL, *stats = NULL;
    static uint8_t f[ST_FRAME_MAX + 4];
    uint8_t small[4 + HALF_SMALL_LEN];
    uint32_t prefix = htonl(HALF_SMALL_LEN);
    int udp, tcp;
    TestHost *src, *dst;
    int64_t drops;
    ssize_t n;

    udp = udp_peer(&udp_port);
    config = lan_config(udp_port);
    src = start_source(config, &host_udp, &listen_port);
    tcp = tcp_peer(listen_port, 4096); /* reads nothing for now: the source fills up */
    g_assert_true(wait_log(src, "connected to"));
    drops = st_udp_kernel_drops(ntohs(host_udp.sin_port), NULL);
    for (uint32_t i = 0; i < HALF_BIG_FRAMES; i++) {
        make_frame(f, HALF_BIG_LEN, i, 0);
        /* the host's UDP socket holds only a few of these: send none it has no room for */
        g_assert_true(st_udp_wait_room(ntohs(host_udp.sin_port), ST_TIMEOUT_MS));
        g_assert_cmpint(
            sendto(udp, f, HALF_BIG_LEN, 0, (struct sockaddr *)&host_udp, sizeof(host_udp)), ==,
            HALF_BIG_LEN);
    }
    /* the TCP guest writes the first bytes of a frame, the source reads them */
    make_frame(small + 4, HALF_SMALL_LEN, 7, 1);
    memcpy(small, &prefix, 4);
    g_assert_true(write_all(tcp, small, 4 + HALF_SMALL_CUT));
    g_usleep(200000);
    stats = test_host_ctl(src, "stats");
    g_test_message("source before the handover:\n%s", stats);
    dst = handover(src, config, "2 backends, 3 fds", &out);
    log = assert_adopted(dst);
    /* a big frame missing below would be the kernel's loss, not the handover's */
    g_assert_cmpint(st_udp_kernel_drops(ntohs(host_udp.sin_port), NULL), ==, drops);
    /* the rest of the half received frame: it arrives whole, once */
    g_assert_true(write_all(tcp, small + 4 + HALF_SMALL_CUT, HALF_SMALL_LEN - HALF_SMALL_CUT));
    n = st_recv_dgram(udp, f, sizeof(f));
    g_assert_cmpint(n, ==, HALF_SMALL_LEN);
    g_assert_cmpint(frame_seq(f, n, 1), ==, 7);
    g_assert_true(st_quiet(udp, 100));
    /* every big frame, in order, intact: the half-sent one continued where it stopped */
    for (uint32_t i = 0; i < HALF_BIG_FRAMES; i++) {
        n = st_read_framed(tcp, f, sizeof(f));
        if (n != HALF_BIG_LEN || frame_seq(f, n, 0) != i) {
            g_error("frame %u: length %zd, number %" G_GINT64_FORMAT, i, n,
                    n > 0 ? frame_seq(f, n, 0) : -1);
        }
    }
    g_assert_true(st_quiet(tcp, 100));
    quit_and_close(src, dst, (int[]){udp, tcp}, 2);
}

/* A frame written framed on @from arrives whole on @to. */
static void pass_framed(int from, int to, uint32_t seq)
{
    static uint8_t f[ST_FRAME_MAX];

    make_frame(f, frame_len(seq), seq, 0);
    g_assert_true(st_write_framed(from, f, frame_len(seq)));
    g_assert_cmpint(st_read_framed(to, f, sizeof(f)), ==, frame_len(seq));
    g_assert_cmpint(frame_seq(f, frame_len(seq), 0), ==, seq);
}

/*
 * Fails if a client netdev's state does not move: the connected client (c1) must keep its
 * connection (no reconnect on the destination, the server's socket carries frames after),
 * and the client that was down and waiting to reconnect (c2) must go on trying from the
 * destination and connect there once its server appears.
 */
static void test_client_states_move(void)
{
    unsigned p1 = 0, p2 = 0;
    int l1 = test_tcp_listener(&p1), l2, c1, c2;
    g_autofree char *config = NULL, *out = NULL, *dlog = NULL;
    TestHost *src, *dst;

    l2 = test_tcp_listener(&p2);
    close(l2); /* nobody there yet: c2 is refused and retries every second */
    config = g_strdup_printf("[netdev.c1]\ntype = socket\nconnect = 127.0.0.1:%u\n"
                             "reconnect = 1\n"
                             "[netdev.c2]\ntype = socket\nconnect = 127.0.0.1:%u\n"
                             "reconnect = 1\n"
                             "[hub.lan]\nports = c1, c2\nconnect = deferred\n",
                             p1, p2);
    src = test_host_start(config, NULL, NULL);
    g_assert_nonnull(src);
    track_host(0, src);
    c1 = test_accept_within(l1, ST_TIMEOUT_MS);
    g_assert_true(wait_log(src, "netdev 'c1': connected to"));
    g_assert_true(wait_log(src, "netdev 'c2': cannot connect"));
    dst = handover(src, config, "2 backends, 1 fds", &out); /* c1's stream; c2 has none */
    l2 = test_tcp_listener(&p2);
    c2 = test_accept_within(l2, 3000); /* the destination retried */
    g_assert_cmpint(c2, >=, 0);
    g_assert_true(wait_log(dst, "netdev 'c2': connected to"));
    pass_framed(c1, c2, 1);
    pass_framed(c2, c1, 2);
    dlog = assert_log_has(dst, "netdev 'c1': took over the connect transport");
    g_assert_null(strstr(dlog, "netdev 'c1': connected to")); /* kept, not reconnected */
    g_assert_null(strstr(dlog, "went away"));
    quit_and_close(src, dst, (int[]){c1, c2, l1, l2}, 4);
}

/* @id's rate_limits entry in "stats --json": @key's value, -1 if absent. */
static int64_t rate_stat_of(const char *json, const char *id, const char *key)
{
    g_autofree char *obj = g_strdup_printf("{\"netdev\":\"%s\",\"limited\"", id);

    return test_json_int_in(json, obj, key);
}

/*
 * Fails if the rate limits in effect stay behind: c1's limit changed live on the source
 * (its ini says 1000 frames/s) must hold on the destination, whose ini says the same as the
 * source's, and the wait counters go on from the source's.
 */
static void test_rate_limits_move(void)
{
    unsigned p1 = 0, p2 = 0;
    int l1 = test_tcp_listener(&p1), l2 = test_tcp_listener(&p2), c1, c2;
    g_autofree char *config = NULL, *out = NULL, *limits = NULL, *json = NULL, *dst_json = NULL;
    TestHost *src, *dst;
    int64_t waits;

    config = g_strdup_printf("[netdev.c1]\ntype = socket\nconnect = 127.0.0.1:%u\n"
                             "rx_frames_per_sec = 1000\n"
                             "[netdev.c2]\ntype = socket\nconnect = 127.0.0.1:%u\n"
                             "[hub.lan]\nports = c1, c2\nconnect = deferred\n",
                             p1, p2);
    src = test_host_start(config, NULL, NULL);
    g_assert_nonnull(src);
    track_host(0, src);
    c1 = test_accept_within(l1, ST_TIMEOUT_MS);
    c2 = test_accept_within(l2, ST_TIMEOUT_MS);
    g_assert_true(wait_log(src, "netdev 'c2': connected to"));
    g_free(test_host_ctl(src, "rate-limit c1 rx_frames_per_sec=20 rx_frames_burst=2 "
                              "tx_bytes_per_sec=1000000"));
    for (uint32_t seq = 1; seq <= 6; seq++) { /* 2 at once, then 20/s: waits */
        pass_framed(c1, c2, seq);
    }
    json = test_host_ctl(src, "stats --json");
    waits = rate_stat_of(json, "c1", "rx_waits");
    g_assert_cmpint(waits, >, 0);
    dst = handover(src, config, "2 backends, 2 fds", &out);
    limits = test_host_ctl(dst, "rate-limit c1");
    g_test_message("destination: %s", limits);
    g_assert_nonnull(strstr(limits, "rx_frames_per_sec=20 rx_frames_burst=2"));
    g_assert_nonnull(strstr(limits, "tx_bytes_per_sec=1000000"));
    dst_json = test_host_ctl(dst, "stats --json");
    g_assert_cmpint(rate_stat_of(dst_json, "c1", "rx_waits"), >=, waits);
    g_assert_cmpint(rate_stat_of(dst_json, "c1", "rx_wait_ns"), >,
                    rate_stat_of(json, "c1", "rx_wait_ns") - 1);
    pass_framed(c1, c2, 7);
    pass_framed(c2, c1, 8);
    quit_and_close(src, dst, (int[]){c1, c2, l1, l2}, 4);
}

/* netbe-host on @config_text, inheriting the open fds (test_host_start closes them). */
static TestHost *start_inheriting(const char *config_text)
{
    TestHost *h = g_new0(TestHost, 1);
    g_autofree char *cmd = NULL;
    const char *argv[] = {"/bin/sh", "-c", NULL, NULL};

    h->dir = g_dir_make_tmp("netbe-test-XXXXXX", NULL);
    h->config = g_build_filename(h->dir, "netbe.ini", NULL);
    h->control = g_build_filename(h->dir, "control.sock", NULL);
    h->log = g_build_filename(h->dir, "host.log", NULL);
    g_assert_true(g_file_set_contents(h->config, config_text, -1, NULL));
    cmd = g_strdup_printf("exec '%s' -c '%s' --control '%s' 2>'%s'", test_env_path("NETBE_HOST"),
                          h->config, h->control, h->log);
    argv[2] = cmd;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_LEAVE_DESCRIPTORS_OPEN, NULL,
                                NULL, &h->pid, NULL));
    track_host(0, h);
    g_assert_true(test_host_wait_serving(h, 10000));
    return h;
}

/*
 * Fails if a netdev on an inherited stream (fd = N) does not move: the destination, which
 * never had fd N, must take the socket from the stream and go on framing on it.
 */
static void test_inherited_fd_moves(void)
{
    int fv[2], gv[2]; /* [1] goes to netbe-host as fd = N (no close-on-exec); [0]: peer */
    g_autofree char *config = NULL, *out = NULL, *dlog = NULL;
    TestHost *src, *dst;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, fv), ==, 0);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, gv), ==, 0);
    fcntl(fv[0], F_SETFD, FD_CLOEXEC);
    fcntl(gv[0], F_SETFD, FD_CLOEXEC);
    config = g_strdup_printf("[netdev.f]\ntype = socket\nfd = %d\n"
                             "[netdev.g]\ntype = socket\nfd = %d\n"
                             "[hub.lan]\nports = f, g\nconnect = deferred\n",
                             fv[1], gv[1]);
    src = start_inheriting(config);
    close(fv[1]);
    close(gv[1]);
    pass_framed(fv[0], gv[0], 1);
    dst = handover(src, config, "2 backends, 2 fds", &out);
    pass_framed(fv[0], gv[0], 2);
    pass_framed(gv[0], fv[0], 3);
    dlog = assert_log_has(dst, "netdev 'f': took over the fd transport");
    g_assert_null(strstr(dlog, "went away"));
    quit_dst(dst);
    g_assert_true(st_wait_eof(fv[0])); /* the destination closed it at exit: it was its */
    release_all(src, dst, (int[]){fv[0], gv[0]}, 2);
}

/* QEMU relays for the stream guest: -netdev stream (client of @sock_path) and -netdev
 * dgram (127.0.0.1:@qport to 127.0.0.1:@peer_port), joined by a QEMU hub; no guest. */
static GPid qemu_relay(const char *qemu, const char *sock_path, unsigned qport, unsigned peer_port)
{
    g_autofree char *stream = g_strdup_printf("stream,id=s,server=off,addr.type=unix,"
                                              "addr.path=%s",
                                              sock_path);
    g_autofree char *dgram = g_strdup_printf("dgram,id=d,local.type=inet,local.host=127.0.0.1,"
                                             "local.port=%u,remote.type=inet,"
                                             "remote.host=127.0.0.1,remote.port=%u",
                                             qport, peer_port);
    GPid pid = st_qemu_hub_start(qemu, stream, dgram);

    g_assert_cmpint(pid, >, 0);
    test_pid_track(2, pid);
    return pid;
}

/* Return: true if QEMU was still running (it is stopped now). */
static bool qemu_stop(GPid pid)
{
    test_pid_track(2, 0);
    return st_qemu_stop(pid);
}

/* One frame through the whole path each way (QEMU ready), then nothing left over. */
static void probe_path(Guests *g)
{
    static uint8_t f[ST_FRAME_MAX];
    bool a_got = false, b_got = false;

    make_frame(f, 60, 0, 2);
    for (int i = 0; i < 100 && !(a_got && b_got); i++) {
        struct pollfd p[2] = {{.fd = g->udp, .events = POLLIN}, {.fd = g->tcp, .events = POLLIN}};

        sendto(g->udp, f, 60, 0, (struct sockaddr *)&g->host_udp, sizeof(g->host_udp));
        sendto(g->tcp, f, 60, 0, (struct sockaddr *)&g->peer_to, sizeof(g->peer_to));
        g_usleep(50000);
        poll(p, 2, 0);
        a_got |= p[0].revents & POLLIN;
        b_got |= p[1].revents & POLLIN;
    }
    if (!(a_got && b_got)) {
        g_error("probe: %s got nothing", a_got ? "the guest behind QEMU" : "the UDP guest");
    }
    g_usleep(200000);
    while (recv(g->udp, f, sizeof(f), MSG_DONTWAIT) > 0 ||
           recv(g->tcp, f, sizeof(f), MSG_DONTWAIT) > 0) {
    }
}

/*
 * Fails if QEMU, a stream client of the netdev (-netdev stream on a unix socket), notices
 * the handover: its connection drops (it does not reconnect: frames would stop), a frame
 * through it is lost, doubled or reordered, the destination sees a new peer, or the unix
 * path is removed by the source (it belongs to the destination, which removes it at exit).
 */
static void test_qemu_stream_peer_never_notices(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    Guests g = {.rate = 1000, .count = 2000, .tcp_is_dgram = true};
    g_autofree char *sock_path = NULL, *config = NULL, *out = NULL, *dlog = NULL;
    g_autofree char *slog = NULL;
    unsigned a_port, b_port;
    TestHost *src, *dst;
    GThread *tx, *rx;
    char *dir;
    GPid pid;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 is not installed");
        return;
    }
    dir = st_tmpdir_new();
    sock_path = g_build_filename(dir, "lan.sock", NULL);
    g.udp = udp_peer(&a_port);
    g.tcp = udp_peer(&b_port);
    g.peer_to = (struct sockaddr_in){.sin_family = AF_INET,
                                     .sin_port = htons(st_free_udp_port()),
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    config = g_strdup_printf("[netdev.guest1]\ntype = socket\nlocaladdr = 127.0.0.1:0\n"
                             "udp = 127.0.0.1:%u\n"
                             "[netdev.guest2]\ntype = socket\nlisten = unix:%s\n"
                             "[hub.lan]\nports = guest1, guest2\nconnect = deferred\n",
                             a_port, sock_path);
    src = test_host_start(config, NULL, NULL);
    g_assert_nonnull(src);
    track_host(0, src);
    g.host_udp =
        (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g.host_udp.sin_port = htons(port_from_log(src, "datagrams on 127.0.0.1:"));
    pid = qemu_relay(qemu, sock_path, ntohs(g.peer_to.sin_port), b_port);
    g_assert_true(wait_log(src, "connected to"));
    probe_path(&g);
    guests_hops_start(&g);
    rx = g_thread_new("guests-rx", guests_receive, &g);
    tx = g_thread_new("guests-tx", guests_send, &g);
    g_usleep(700000);
    dst = handover(src, config, "2 backends, 3 fds", &out);
    g_assert_true(g_file_test(sock_path, G_FILE_TEST_EXISTS)); /* the source left it */
    g_thread_join(tx);
    g_thread_join(rx);
    g_test_message("A got %u (%u bad, %u out of order), B behind QEMU got %u (%u bad, %u out of "
                   "order) of %u each",
                   g.to_udp.received, g.to_udp.bad, g.to_udp.out_of_order, g.to_tcp.received,
                   g.to_tcp.bad, g.to_tcp.out_of_order, g.count);
    tally_report(&g.to_tcp, "to the guest behind QEMU", g.start);
    tally_report(&g.to_udp, "to the UDP guest", g.start);
    g_assert_false(g.stalled);
    guests_assert_no_kernel_drops(&g);
    g_assert_cmpuint(g.to_udp.received, ==, g.count);
    g_assert_cmpuint(g.to_tcp.received, ==, g.count);
    g_assert_cmpuint(g.to_udp.bad + g.to_udp.out_of_order + g.to_tcp.bad + g.to_tcp.out_of_order,
                     ==, 0);
    dlog = assert_adopted(dst);
    g_assert_true(g_file_get_contents(src->log, &slog, NULL, NULL));
    g_assert_null(strstr(slog, "went away"));
    g_assert_null(strstr(dlog, "went away"));
    g_assert_null(strstr(dlog, "connected to")); /* no new peer: QEMU's stayed */
    g_assert_true(qemu_stop(pid));               /* and QEMU ran all along */
    quit_dst(dst);
    g_assert_false(g_file_test(sock_path, G_FILE_TEST_EXISTS)); /* the destination's to remove */
    release_all(src, dst, (int[]){g.udp, g.tcp}, 2);
    st_tmpdir_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket-handover/guests-never-notice", test_guests_never_notice_handover);
    g_test_add_func("/socket-handover/half-frames-continue",
                    test_half_frames_continue_on_destination);
    g_test_add_func("/socket-handover/client-states-move", test_client_states_move);
    g_test_add_func("/socket-handover/rate-limits-move", test_rate_limits_move);
    g_test_add_func("/socket-handover/inherited-fd-moves", test_inherited_fd_moves);
    g_test_add_func("/socket-handover/qemu-stream-peer-never-notices",
                    test_qemu_stream_peer_never_notices);
    return g_test_run();
}
