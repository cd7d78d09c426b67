// SPDX-License-Identifier: GPL-2.0-or-later
/* test-queue-io.c - the core's I/O on queue fds (core/queue-io.c), through a backend whose
 * plugin only hands fds: stream framing, broken streams, partial writes, vnet header padding,
 * datagram destinations and the handover of buffered bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "migrate/mig-session.h"
#include "netbe/migrate.h"
#include "tap-harness.h"

#define MAX_FRAME (65536 + 20)

/* What the plugin under test saw, and the fd it hands at connect. */
static struct {
    int next_fd;
    NetbeQueueFd shape;
    int broken_calls;
    int broken_err;
} plug;

static ssize_t be32_frame_len(const uint8_t *prefix)
{
    uint32_t v;

    memcpy(&v, prefix, 4);
    return ntohl(v);
}

static void be32_write_prefix(uint8_t *prefix, size_t len)
{
    uint32_t v = htonl((uint32_t)len);

    memcpy(prefix, &v, 4);
}

static const NetbeStreamFraming be32 = {
    .prefix_len = 4,
    .max_frame = MAX_FRAME,
    .frame_len = be32_frame_len,
    .write_prefix = be32_write_prefix,
};

static bool qt_init(NetbeBackend *be, const NetbeOptions *opts, GError **errp)
{
    return true;
}

static bool qt_connect(NetbeBackend *be, GError **errp)
{
    NetbeQueueFd qfd = plug.shape;

    qfd.fd = plug.next_fd;
    return netbe_backend_set_queue_fd(be, 0, &qfd, errp);
}

static void qt_cleanup(NetbeBackend *be)
{
}

static void qt_queue_broken(NetbeBackend *be, unsigned queue, int err)
{
    plug.broken_calls++;
    plug.broken_err = err;
}

static bool qt_save(NetbeBackend *be, NetbeMigWriter *w, GError **errp)
{
    netbe_mig_put_u32(w, 7);
    return true;
}

static bool qt_load(NetbeBackend *be, NetbeMigReader *r, uint32_t version, GError **errp)
{
    uint32_t v;

    return version == 3 && netbe_mig_get_u32(r, &v) && v == 7;
}

static const NetbeOptionSpec qt_options[] = {{NULL}};

static const NetbePluginDesc qt_desc = {
    .abi_version = NETBE_PLUGIN_ABI,
    .struct_size = sizeof(NetbePluginDesc),
    .name = "qt",
    .options = qt_options,
    .caps = NETBE_CAP_HANDOVER,
    .state_version = 3,
    .init = qt_init,
    .backend_connect = qt_connect,
    .cleanup = qt_cleanup,
    .queue_broken = qt_queue_broken,
    .stream_framing = &be32,
    .save = qt_save,
    .load = qt_load,
};

/* A backend of the plugin above in @rt, not yet connected. */
static NetbeBackend *qt_backend(NetbeRuntime *rt, const char *id)
{
    static NetbePlugin plugin = {.path = (char *)"(linked in)", .desc = &qt_desc};
    NetbeOptions *o = netbe_options_new("test.ini", "netdev.q", 1);
    g_autoptr(GError) err = NULL;
    NetbeBackend *be = netbe_backend_new(rt, id, &plugin, o, 64, 0);

    g_ptr_array_add(rt->backends, be);
    g_assert_true(netbe_backend_init(be, &err));
    return be;
}

/* A started backend on a new runtime whose queue fd is @fd with @shape, and its peer. */
static TapHarness *qt_harness(int fd, NetbeQueueFd shape)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    NetbeBackend *be = qt_backend(rt, "q");
    g_autoptr(GError) err = NULL;
    TapHarness *h;

    memset(&plug, 0, sizeof(plug));
    plug.next_fd = fd;
    plug.shape = shape;
    h = tap_harness_attach(rt, be);
    h->owns_rt = true;
    g_assert_true(tap_harness_connect(h, &err));
    g_assert_no_error(err);
    return h;
}

static void write_all(int fd, const void *data, size_t len)
{
    g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
}

/* A frame of @len bytes whose bytes count up from @seed, with its 4-byte length before it. */
static uint8_t *framed(size_t len, uint8_t seed, size_t *out_len)
{
    uint8_t *b = g_malloc(len + 4);

    be32_write_prefix(b, len);
    for (size_t i = 0; i < len; i++) {
        b[4 + i] = (uint8_t)(seed + i);
    }
    *out_len = len + 4;
    return b;
}

typedef struct Seen {
    GPtrArray *frames; /* GBytes */
} Seen;

static void seen_frame(void *opaque, unsigned queue, const uint8_t *frame, size_t len)
{
    g_ptr_array_add(((Seen *)opaque)->frames, g_bytes_new(frame, len));
}

/*
 * Frames whose bytes arrive one at a time, prefix split included, come out whole, in
 * order and unchanged. Fails if the reassembly loses or shifts a byte, or waits for more
 * than a frame.
 */
static void test_stream_frames_split_anywhere(void)
{
    int sv[2];
    Seen seen = {g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref)};
    TapHarness *h;
    size_t len[3] = {60, 1514, 9000}, total = 0;
    g_autoptr(GByteArray) all = g_byte_array_new();

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_STREAM});
    h->on_frame = seen_frame;
    h->opaque = &seen;
    for (int i = 0; i < 3; i++) {
        size_t n;
        g_autofree uint8_t *f = framed(len[i], (uint8_t)i, &n);

        g_byte_array_append(all, f, n);
    }
    for (size_t off = 0, step; off < all->len; off += step) {
        step = MIN(off < 64 ? 1 : 97, all->len - off); /* the first prefix byte by byte */
        write_all(sv[0], all->data + off, step);
        total += step;
        tap_harness_run_for(h, off < 64 ? 2 : 0);
    }
    g_assert_cmpuint(total, ==, all->len);
    g_assert_true(tap_harness_wait_rx(h, 3, 2000));
    for (int i = 0; i < 3; i++) {
        GBytes *b = g_ptr_array_index(seen.frames, i);
        const uint8_t *p = g_bytes_get_data(b, NULL);

        g_assert_cmpuint(g_bytes_get_size(b), ==, len[i]);
        for (size_t k = 0; k < len[i]; k++) {
            g_assert_cmpuint(p[k], ==, (uint8_t)(i + k));
        }
    }
    g_assert_cmpint(plug.broken_calls, ==, 0);
    tap_harness_free(h);
    close(sv[0]);
    g_ptr_array_unref(seen.frames);
}

/*
 * A length beyond the framing's largest frame (a lying or foreign peer) breaks the queue:
 * one warning, the fd closed, the plugin told EPROTO, nothing delivered; the end of the
 * stream is told as 0. Fails if the core allocates for the lie or reads on.
 */
static void test_stream_lie_and_end_break_the_queue(void)
{
    static const uint8_t lie[4] = {0x7f, 0xff, 0xff, 0xff};
    int sv[2];
    TapHarness *h;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_STREAM});
    g_test_expect_message("netbe", G_LOG_LEVEL_MESSAGE, "*(qt): queue 0: read failed: Protocol*");
    write_all(sv[0], lie, sizeof(lie));
    tap_harness_run_for(h, 50);
    g_test_assert_expected_messages();
    g_assert_cmpint(plug.broken_calls, ==, 1);
    g_assert_cmpint(plug.broken_err, ==, EPROTO);
    g_assert_cmpint(netbe_backend_get_queue_fd(h->be, 0), ==, -1);
    g_assert_cmpint(send(sv[0], lie, 1, MSG_NOSIGNAL), ==, -1); /* our end was closed */
    g_assert_cmpuint(h->rx_frames, ==, 0);
    close(sv[0]);
    tap_harness_free(h);

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_STREAM});
    g_test_expect_message("netbe", G_LOG_LEVEL_MESSAGE, "*(qt): queue 0: end of stream*");
    close(sv[0]);
    tap_harness_run_for(h, 50);
    g_test_assert_expected_messages();
    g_assert_cmpint(plug.broken_calls, ==, 1);
    g_assert_cmpint(plug.broken_err, ==, 0);
    tap_harness_free(h);
}

/*
 * A peer that reads slowly: a frame the socket takes only in part is taken whole (its rest
 * waits in the core), later sends are busy until POLLOUT wrote the rest, and the reader
 * gets every frame whole and in order. Fails if a frame is cut, duplicated or reordered, or
 * if sending goes on over a half-written frame.
 */
static void test_stream_partial_write_finishes_at_pollout(void)
{
    int sv[2], small = 4096, busy = 0;
    TapHarness *h;
    g_autofree uint8_t *frame = g_malloc(MAX_FRAME);
    g_autofree uint8_t *got = g_malloc(MAX_FRAME + 4);
    unsigned sent = 0, read_frames = 0;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_STREAM});
    for (unsigned i = 0; i < 8; i++) {
        memset(frame, 'a' + (int)i, 30000);
        if (tap_harness_send(h, 0, frame, 30000, 0) == 30000) {
            sent++;
        } else {
            busy++;
            break;
        }
    }
    g_assert_cmpuint(sent, >=, 1);
    g_assert_cmpint(busy, ==, 1); /* the socket filled: a frame's rest waits in the core */
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    while (read_frames < sent) {
        uint32_t len;
        size_t have = 0;

        while (have < 4) {
            ssize_t n = read(sv[0], (uint8_t *)&len + have, 4 - have);

            if (n > 0) {
                have += (size_t)n;
            } else {
                tap_harness_run_for(h, 1);
            }
        }
        g_assert_cmpuint(ntohl(len), ==, 30000);
        for (have = 0; have < 30000;) {
            ssize_t n = read(sv[0], got + have, 30000 - have);

            if (n > 0) {
                have += (size_t)n;
            } else {
                tap_harness_run_for(h, 1);
            }
        }
        for (size_t k = 0; k < 30000; k++) {
            g_assert_cmpuint(got[k], ==, 'a' + read_frames);
        }
        read_frames++;
    }
    tap_harness_run_for(h, 20);
    g_assert_true(h->tx_ready); /* the rest went out: the frontend may send again */
    g_assert_cmpint(tap_harness_send(h, 0, frame, 100, 1000), ==, 100);
    tap_harness_free(h);
    close(sv[0]);
}

/*
 * A TAP-like fd that carries a 10-byte vnet header, with a frontend that uses none: the
 * core writes a zero header before every frame and drops the header of every frame it
 * reads. Fails if a header byte reaches either side.
 */
static void test_packet_header_padding(void)
{
    static const uint8_t frame[60] = {1, 2, 3, 4, 5, 6};
    uint8_t buf[128] = {0}, in[70];
    int sv[2];
    TapHarness *h;
    Seen seen = {g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref)};

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .hdr_len = 10, .framing = NETBE_FRAMING_PACKET});
    h->on_frame = seen_frame;
    h->opaque = &seen;
    g_assert_cmpint(tap_harness_send(h, 0, frame, sizeof(frame), 1000), ==, sizeof(frame));
    g_assert_cmpint(read(sv[0], buf, sizeof(buf)), ==, 70);
    for (int i = 0; i < 10; i++) {
        g_assert_cmpuint(buf[i], ==, 0);
    }
    g_assert_cmpmem(buf + 10, 60, frame, 60);
    memset(in, 0xee, 10);
    memcpy(in + 10, frame, 60);
    write_all(sv[0], in, sizeof(in));
    g_assert_true(tap_harness_wait_rx(h, 1, 2000));
    g_assert_cmpmem(g_bytes_get_data(g_ptr_array_index(seen.frames, 0), NULL),
                    g_bytes_get_size(g_ptr_array_index(seen.frames, 0)), frame, 60);
    tap_harness_free(h);
    close(sv[0]);
    g_ptr_array_unref(seen.frames);
}

/*
 * An unconnected datagram socket with a destination: frames go there (sendto). Fails if the
 * core writes without the address (ENOTCONN, counted as a drop).
 */
static void test_datagram_destination(void)
{
    g_autofree char *dir = g_dir_make_tmp("netbe-qio-XXXXXX", NULL);
    struct sockaddr_un dst = {.sun_family = AF_UNIX};
    int rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int tx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    uint8_t buf[64];
    TapHarness *h;

    g_snprintf(dst.sun_path, sizeof(dst.sun_path), "%s/rx.sock", dir);
    g_assert_cmpint(bind(rx, (struct sockaddr *)&dst, sizeof(dst)), ==, 0);
    h = qt_harness(tx, (NetbeQueueFd){.fd = -1,
                                      .framing = NETBE_FRAMING_PACKET,
                                      .dest = (struct sockaddr *)&dst,
                                      .dest_len = sizeof(dst)});
    g_assert_cmpint(tap_harness_send(h, 0, "hello", 5, 1000), ==, 5);
    g_assert_cmpint(recv(rx, buf, sizeof(buf), MSG_DONTWAIT), ==, 5);
    g_assert_cmpmem(buf, 5, "hello", 5);
    tap_harness_free(h);
    close(rx);
    unlink(dst.sun_path);
    rmdir(dir);
}

/*
 * A stream queue moves with half a frame read: the new backend gets the fd and the bytes
 * already read, and delivers the frame once the rest comes. Fails if buffered bytes are
 * lost in the move (the stream would then be misframed for good).
 */
static void test_stream_handover_keeps_read_bytes(void)
{
    g_autoptr(GError) err = NULL;
    Seen seen = {g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref)};
    NetbeMigWriter *w;
    NetbeMigReader *r;
    TapHarness *h, *h2;
    NetbeRuntime *rt2;
    NetbeBackend *dst;
    g_autofree uint8_t *f = NULL;
    g_autofree char *id = NULL, *name = NULL;
    uint32_t frames = 0, queues;
    const void *data;
    size_t n, len;
    int sv[2], dup_fd;
    unsigned nfds;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_STREAM});
    f = framed(1000, 9, &n);
    write_all(sv[0], f, 500); /* half a frame: read by the core, not delivered */
    tap_harness_run_for(h, 20);
    g_assert_cmpuint(h->rx_frames, ==, 0);
    netbe_backend_stop(h->be);
    w = netbe_mig_writer_new();
    g_assert_true(mig_backend_save(h->be, w, &frames, &err));
    g_assert_no_error(err);
    data = netbe_mig_writer_data(w, &len);
    dup_fd = dup(netbe_mig_writer_fds(w, &nfds)[0]);
    g_assert_cmpuint(nfds, ==, 1);
    r = netbe_mig_reader_new(data, len, &dup_fd, 1);
    netbe_mig_writer_free(w);
    tap_harness_free(h); /* the source lets go of its copy */

    rt2 = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    dst = qt_backend(rt2, "q");
    g_assert_true(netbe_mig_get_string(r, &id) && netbe_mig_get_string(r, &name) &&
                  netbe_mig_get_u32(r, &queues));
    g_assert_true(mig_backend_load(dst, r, &frames, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_mig_reader_at_end(r));
    netbe_mig_reader_free(r);
    h2 = tap_harness_attach(rt2, dst);
    h2->owns_rt = true;
    h2->on_frame = seen_frame;
    h2->opaque = &seen;
    write_all(sv[0], f + 500, n - 500);
    g_assert_true(tap_harness_wait_rx(h2, 1, 2000));
    data = g_bytes_get_data(g_ptr_array_index(seen.frames, 0), &len);
    g_assert_cmpmem(data, len, f + 4, 1000);
    tap_harness_free(h2);
    close(sv[0]);
    g_ptr_array_unref(seen.frames);
}

/* How a handover record ends: as a version 2 source writes it, with the counters, or with
 * a trailer that is not counters. */
typedef enum CountersCase { COUNTERS_NONE, COUNTERS_CARRIED, COUNTERS_BAD } CountersCase;

/*
 * A backend that counted frames moves; a destination of stream version 3 reads the record
 * of either version. Fails if the counters do not go on from the source's (CARRIED), if a
 * version 2 record without them is refused or leaves the counters other than at 0 (NONE),
 * or if a trailer that is not counters is loaded (BAD).
 */
static void run_handover_counters(gconstpointer data)
{
    CountersCase c = GPOINTER_TO_INT(data);
    g_autoptr(GError) err = NULL;
    g_autofree uint8_t *f = NULL;
    g_autofree char *id = NULL, *name = NULL;
    NetbeQueueStats before, after;
    NetbeMigWriter *w;
    NetbeMigReader *r;
    TapHarness *h;
    NetbeRuntime *rt2;
    NetbeBackend *dst;
    uint32_t frames = 0, queues;
    const void *bytes;
    size_t n, len;
    int sv[2], dup_fd;
    unsigned nfds;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_STREAM});
    f = framed(300, 3, &n);
    for (int i = 0; i < 3; i++) {
        write_all(sv[0], f, n);
    }
    g_assert_true(tap_harness_wait_rx(h, 3, 2000));
    netbe_backend_stop(h->be);
    before = h->be->queues[0].stats;
    g_assert_cmpuint(before.rx_frames, ==, 3);
    w = netbe_mig_writer_new();
    g_assert_true(mig_backend_save(h->be, w, &frames, &err));
    if (c == COUNTERS_CARRIED) {
        mig_backend_save_counters(h->be, w);
    } else if (c == COUNTERS_BAD) {
        netbe_mig_put_u32(w, 0x12345678);
    }
    bytes = netbe_mig_writer_data(w, &len);
    dup_fd = dup(netbe_mig_writer_fds(w, &nfds)[0]);
    r = netbe_mig_reader_new(bytes, len, &dup_fd, 1);
    netbe_mig_writer_free(w);
    tap_harness_free(h);

    rt2 = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    dst = qt_backend(rt2, "q");
    g_assert_true(netbe_mig_get_string(r, &id) && netbe_mig_get_string(r, &name) &&
                  netbe_mig_get_u32(r, &queues));
    g_assert_cmpint(mig_backend_load(dst, r, &frames, &err), ==, c != COUNTERS_BAD);
    after = dst->queues[0].stats;
    if (c == COUNTERS_BAD) {
        g_assert_nonnull(err);
    } else {
        g_assert_no_error(err);
        g_assert_cmpuint(after.rx_frames, ==, c == COUNTERS_CARRIED ? before.rx_frames : 0);
        g_assert_cmpuint(after.rx_bytes, ==, c == COUNTERS_CARRIED ? before.rx_bytes : 0);
    }
    netbe_mig_reader_free(r);
    netbe_runtime_free(rt2);
    close(sv[0]);
}

/*
 * Batches of frames through the engine, io_uring and plain syscalls alike, on a non-socket
 * fd (a pipe, whose small writes are whole, as a TAP's): a batch of 64 arrives whole and in
 * order with the header added; when the pipe fills mid-batch the batch stops where it
 * filled and the rest goes after POLLOUT, in order, none twice. Fails if a batch reorders,
 * loses or duplicates a frame, or the engine is not the one asked.
 */
static void run_batch(gconstpointer data)
{
    NetbeIoMode mode = GPOINTER_TO_INT(data);
    int pfd[2], next = 0;
    struct iovec frames[64], *iovs[64];
    int cnts[64];
    uint8_t bodies[64][100], buf[110];
    unsigned taken;
    TapHarness *h;
    NetbeQueueStats st;

    g_assert_cmpint(pipe2(pfd, O_CLOEXEC | O_NONBLOCK), ==, 0);
    h = qt_harness(pfd[1],
                   (NetbeQueueFd){.fd = -1, .hdr_len = 10, .framing = NETBE_FRAMING_PACKET});
    netbe_io_engine_free(h->rt->io);
    h->rt->io = netbe_io_engine_new(mode);
    g_assert_cmpstr(netbe_io_engine_name(h->rt->io), ==,
                    mode == NETBE_IO_SYSCALLS ? "syscalls" : "io_uring");
    for (int i = 0; i < 64; i++) {
        memset(bodies[i], i, sizeof(bodies[i]));
        frames[i] = (struct iovec){bodies[i], sizeof(bodies[i])};
        iovs[i] = &frames[i];
        cnts[i] = 1;
    }
    g_assert_cmpuint(netbe_backend_send_batch(h->be, 0, iovs, cnts, 64, false), ==, 64);
    for (int i = 0; i < 64; i++) {
        g_assert_cmpint(read(pfd[0], buf, sizeof(buf)), ==, 110);
        g_assert_cmpuint(buf[0], ==, 0);
        g_assert_cmpuint(buf[10], ==, i);
    }
    /* a pipe of one page fills after 37 frames: the batch stops there */
    g_assert_cmpint(fcntl(pfd[1], F_SETPIPE_SZ, 4096), ==, 4096);
    taken = netbe_backend_send_batch(h->be, 0, iovs, cnts, 64, false);
    g_assert_cmpuint(taken, ==, 4096 / 110);
    while (next < 64) {
        if (read(pfd[0], buf, sizeof(buf)) == 110) {
            g_assert_cmpuint(buf[10], ==, next);
            next++;
            continue;
        }
        tap_harness_run_for(h, 1);
        if (h->tx_ready && taken < 64) {
            h->tx_ready = false;
            taken +=
                netbe_backend_send_batch(h->be, 0, iovs + taken, cnts + taken, 64 - taken, false);
        }
    }
    g_assert_cmpint(read(pfd[0], buf, sizeof(buf)), ==, -1);
    g_assert_true(netbe_runtime_get_queue_stats(h->rt, "q", 0, &st));
    g_assert_cmpuint(st.tx_frames, ==, 128);
    g_assert_cmpuint(st.tx_drops, ==, 0);
    tap_harness_free(h);
    close(pfd[0]);
}

/*
 * A datagram socket queue reads a burst with one recvmmsg() and writes a batch with one
 * sendmmsg(): every frame arrives once, in order, unchanged; a datagram longer than any
 * frame is dropped and counted, never delivered cut. Fails if the batch loses, reorders or
 * truncates a frame.
 */
static void test_datagram_batches(void)
{
    Seen seen = {g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref)};
    g_autofree uint8_t *huge = g_malloc0(NETBE_FRAME_MAX + 400);
    struct iovec frames[40], *iovs[40];
    uint8_t bodies[40][200], buf[256];
    int sv[2], cnts[40], big = 4 << 20;
    NetbeQueueStats st;
    TapHarness *h;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_PACKET});
    h->on_frame = seen_frame;
    h->opaque = &seen;
    for (int i = 0; i < 40; i++) {
        memset(bodies[i], 'A' + i, sizeof(bodies[i]));
        if (i == 20) {
            g_assert_cmpint(send(sv[0], huge, NETBE_FRAME_MAX + 400, 0), ==, NETBE_FRAME_MAX + 400);
        }
        g_assert_cmpint(send(sv[0], bodies[i], 60 + i, 0), ==, 60 + i);
        frames[i] = (struct iovec){bodies[i], 60 + (size_t)i};
        iovs[i] = &frames[i];
        cnts[i] = 1;
    }
    g_assert_true(tap_harness_wait_rx(h, 40, 2000));
    tap_harness_run_for(h, 20);
    g_assert_cmpuint(seen.frames->len, ==, 40);
    for (int i = 0; i < 40; i++) {
        GBytes *b = g_ptr_array_index(seen.frames, i);

        g_assert_cmpmem(g_bytes_get_data(b, NULL), g_bytes_get_size(b), bodies[i], 60 + i);
    }
    g_assert_true(netbe_runtime_get_queue_stats(h->rt, "q", 0, &st));
    g_assert_cmpuint(st.rx_drops, ==, 1); /* the datagram longer than any frame */
    g_assert_cmpuint(netbe_backend_send_batch(h->be, 0, iovs, cnts, 40, false), ==, 40);
    for (int i = 0; i < 40; i++) {
        g_assert_cmpint(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), ==, 60 + i);
        g_assert_cmpuint(buf[0], ==, 'A' + i);
    }
    /* a hub's way in: frames lent from the queue's pool, filled by one recvmmsg() */
    for (int i = 0; i < 4; i++) {
        if (i == 2) {
            g_assert_cmpint(send(sv[0], huge, NETBE_FRAME_MAX + 400, 0), ==, NETBE_FRAME_MAX + 400);
        }
        g_assert_cmpint(send(sv[0], bodies[i], 60 + i, 0), ==, 60 + i);
    }
    for (int i = 0; i < 5; i++) {
        const void *frame;
        ssize_t n = netbe_backend_recv_ref(h->be, 0, &frame);

        if (i == 2) {
            g_assert_cmpint(n, ==, -EINVAL); /* too long: dropped */
            continue;
        }
        g_assert_cmpint(n, ==, 60 + i - (i > 2));
        g_assert_cmpmem(frame, n, bodies[i - (i > 2)], n);
    }
    g_assert_cmpint(netbe_backend_recv_ref(h->be, 0, &(const void *){NULL}), ==, 0);
    qio_unpin(&h->be->queues[0].io);
    tap_harness_free(h);
    close(sv[0]);
    g_ptr_array_unref(seen.frames);
}

/* One main-loop iteration that dispatches the queue (other sources may come first). */
static void iterate_until_pulled(TapHarness *h)
{
    GMainContext *ctx = netbe_runtime_get_context(h->rt);
    unsigned before = h->pulls;

    for (int i = 0; i < 100 && h->pulls == before; i++) {
        g_main_context_iteration(ctx, TRUE);
    }
    g_assert_cmpuint(h->pulls, >, before);
}

/*
 * A readable queue is read in batches (NETBE_RX_BATCH_DEFAULT frames, each one pull of the peer)
 * for up to NETBE_RX_WEIGHT frames per wakeup, then the main loop runs again; a batch the peer does
 * not fill ends the wakeup. Fails if one wakeup reads a single batch (a poll() per 64 frames)
 * or more than the weight (other sources starve).
 */
static void test_rx_weight(void)
{
    uint8_t body[60] = {0};
    int sv[2], big = 4 << 20;
    TapHarness *h;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    h = qt_harness(sv[1], (NetbeQueueFd){.fd = -1, .framing = NETBE_FRAMING_PACKET});
    for (int i = 0; i < 300; i++) { /* fewer than net.unix.max_dgram_qlen (512) */
        g_assert_cmpint(send(sv[0], body, sizeof(body), 0), ==, sizeof(body));
    }
    iterate_until_pulled(h);
    g_assert_cmpuint(h->rx_frames, ==, NETBE_RX_WEIGHT);
    g_assert_cmpuint(h->pulls, ==, NETBE_RX_WEIGHT / NETBE_RX_BATCH_DEFAULT);
    iterate_until_pulled(h);
    g_assert_cmpuint(h->rx_frames, ==, 300); /* 44: a short batch, the last of the wakeup */
    g_assert_cmpuint(h->pulls, ==, NETBE_RX_WEIGHT / NETBE_RX_BATCH_DEFAULT + 1);
    /* a peer that takes fewer frames than offered is offered no second batch */
    h->budget = 10;
    for (int i = 0; i < 100; i++) {
        g_assert_cmpint(send(sv[0], body, sizeof(body), 0), ==, sizeof(body));
    }
    iterate_until_pulled(h);
    g_assert_cmpuint(h->rx_frames, ==, 310);
    g_assert_cmpuint(h->pulls, ==, NETBE_RX_WEIGHT / NETBE_RX_BATCH_DEFAULT + 2);
    tap_harness_free(h);
    close(sv[0]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/queue-io/stream-frames-split-anywhere", test_stream_frames_split_anywhere);
    g_test_add_func("/queue-io/stream-lie-and-end-break-the-queue",
                    test_stream_lie_and_end_break_the_queue);
    g_test_add_func("/queue-io/stream-partial-write-finishes-at-pollout",
                    test_stream_partial_write_finishes_at_pollout);
    g_test_add_func("/queue-io/packet-header-padding", test_packet_header_padding);
    g_test_add_func("/queue-io/datagram-destination", test_datagram_destination);
    g_test_add_func("/queue-io/stream-handover-keeps-read-bytes",
                    test_stream_handover_keeps_read_bytes);
    g_test_add_func("/queue-io/datagram-batches", test_datagram_batches);
    g_test_add_func("/queue-io/rx-weight", test_rx_weight);
    g_test_add_data_func("/queue-io/handover-counters/carried", GINT_TO_POINTER(COUNTERS_CARRIED),
                         run_handover_counters);
    g_test_add_data_func("/queue-io/handover-counters/version-2-record",
                         GINT_TO_POINTER(COUNTERS_NONE), run_handover_counters);
    g_test_add_data_func("/queue-io/handover-counters/bad-trailer-refused",
                         GINT_TO_POINTER(COUNTERS_BAD), run_handover_counters);
    g_test_add_data_func("/queue-io/batch/io_uring", GINT_TO_POINTER(NETBE_IO_URING), run_batch);
    g_test_add_data_func("/queue-io/batch/syscalls", GINT_TO_POINTER(NETBE_IO_SYSCALLS), run_batch);
    return g_test_run();
}
