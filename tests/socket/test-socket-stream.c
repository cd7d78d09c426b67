// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-stream.c - the socket plugin's stream transport over real loopback sockets:
 * QEMU's wire framing, two runtimes joined by TCP, partial writes, one peer at a time,
 * reconnect, bad framing and early close. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sock-test.h"

/* Fails if the length prefix is not 4 bytes big-endian, if a frame is cut or merged when
 * the peer writes it in pieces or several in one write, or if counters disagree. */
static void test_wire_format_is_qemu_length_prefix(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *opts = g_strdup_printf("listen = unix:%s/srv.sock", dir);
    g_autofree char *path = g_strdup_printf("%s/srv.sock", dir);
    StRig *r = st_rig_new(opts);
    uint8_t frame[300], got[ST_FRAME_MAX], prefix[4];
    uint32_t be_len = htonl(17);
    NetbeQueueStats base, st;
    int c = st_unix_connect(path);

    g_assert_cmpint(c, >=, 0);
    g_assert_true(st_probe(r, c, true));
    base = st_stats(r->rt, "link");

    /* hub -> peer: 258 bytes go out as 00 00 01 02 and the bytes themselves */
    st_fill(frame, 258, 1);
    st_inject(r, frame, 258);
    g_assert_true(st_read_exact(c, prefix, 4));
    g_assert_cmpmem(prefix, 4, ((uint8_t[]){0x00, 0x00, 0x01, 0x02}), 4);
    g_assert_true(st_read_exact(c, got, 258));
    g_assert_cmpmem(got, 258, frame, 258);

    /* peer -> hub: a frame written one byte at a time, prefix included */
    st_fill(frame, 17, 2);
    for (int i = 0; i < 4; i++) {
        g_assert_true(st_write_all(c, (uint8_t *)&be_len + i, 1));
        st_pump_for(2);
    }
    for (int i = 0; i < 17; i++) {
        g_assert_true(st_write_all(c, frame + i, 1));
        st_pump_for(1);
    }
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, 17);
    g_assert_true(st_check(got, 17, 2));

    /* three frames in one write come out as three */
    {
        uint8_t burst[3 * 4 + 60 + 80 + 100];
        size_t off = 0;

        for (int i = 0; i < 3; i++) {
            uint32_t l = htonl(60 + i * 20);

            memcpy(burst + off, &l, 4);
            st_fill(burst + off + 4, 60 + i * 20, 10 + i);
            off += 4 + 60 + i * 20;
        }
        g_assert_true(st_write_all(c, burst, off));
        for (int i = 0; i < 3; i++) {
            g_assert_cmpint(st_take(r, got, sizeof(got)), ==, 60 + i * 20);
            g_assert_true(st_check(got, 60 + i * 20, 10 + i));
        }
    }
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_frames - base.tx_frames, ==, 1);
    g_assert_cmpuint(st.tx_bytes - base.tx_bytes, ==, 258);
    g_assert_cmpuint(st.rx_frames - base.rx_frames, ==, 4);
    g_assert_cmpuint(st.rx_bytes - base.rx_bytes, ==, 17 + 60 + 80 + 100);
    g_assert_cmpuint(st.rx_drops, ==, 0);
    close(c);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* Sizes that cross every interesting boundary, up to the largest frame. */
static const size_t sizes[] = {60, 1514, 4096, 9000, 32768, ST_FRAME_MAX, 61, 1};

/* Send every size from @src's inj; check each arrives intact and in order at @dst's inj. */
static void exchange(StRig *src, StRig *dst, unsigned seed)
{
    static uint8_t buf[ST_FRAME_MAX];

    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        st_fill(buf, sizes[i], seed + i);
        st_inject(src, buf, sizes[i]);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        memset(buf, 0, sizeof(buf));
        g_assert_cmpint(st_take(dst, buf, sizeof(buf)), ==, sizes[i]);
        g_assert_true(st_check(buf, sizes[i], seed + i));
    }
}

static uint64_t sizes_total(void)
{
    uint64_t total = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        total += sizes[i];
    }
    return total;
}

/* Fails if two runtimes joined by listen/connect over TCP lose, change, reorder or
 * miscount a frame in either direction (frames of the largest length QEMU takes included). */
static void test_tcp_stream_joins_two_runtimes_both_ways(void)
{
    unsigned port = st_free_tcp_port();
    g_autofree char *lopts = g_strdup_printf("listen = 127.0.0.1:%u", port);
    g_autofree char *copts = g_strdup_printf("connect = 127.0.0.1:%u\nreconnect = 1", port);
    StRig *a = st_rig_new(lopts);
    StRig *b = st_rig_new(copts);
    NetbeQueueStats a0, b0, a1, b1;
    uint8_t probe[64];

    /* wait until b's connect went through: a frame from b reaches a */
    st_fill(probe, sizeof(probe), 999);
    for (int i = 0; i < 500; i++) {
        st_inject(b, probe, sizeof(probe));
        st_pump_for(10);
        if (recv(a->inj[0], probe, sizeof(probe), MSG_DONTWAIT) > 0) {
            break;
        }
    }
    st_pump_for(30);
    while (recv(a->inj[0], probe, sizeof(probe), MSG_DONTWAIT) > 0) {
    }
    a0 = st_stats(a->rt, "link");
    b0 = st_stats(b->rt, "link");
    g_assert_cmpuint(a0.rx_frames, >=, 1);

    exchange(a, b, 100);
    exchange(b, a, 200);
    exchange(a, b, 300);

    a1 = st_stats(a->rt, "link");
    b1 = st_stats(b->rt, "link");
    g_assert_cmpuint(a1.tx_frames - a0.tx_frames, ==, 2 * G_N_ELEMENTS(sizes));
    g_assert_cmpuint(a1.tx_bytes - a0.tx_bytes, ==, 2 * sizes_total());
    g_assert_cmpuint(b1.rx_frames - b0.rx_frames, ==, 2 * G_N_ELEMENTS(sizes));
    g_assert_cmpuint(b1.rx_bytes - b0.rx_bytes, ==, 2 * sizes_total());
    g_assert_cmpuint(b1.tx_frames - b0.tx_frames, ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(a1.rx_frames - a0.rx_frames, ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(a1.tx_drops, ==, a0.tx_drops);
    g_assert_cmpuint(b1.tx_drops, ==, b0.tx_drops);
    g_assert_cmpuint(a1.rx_drops + b1.rx_drops, ==, 0);
    st_rig_free(b);
    st_rig_free(a);
}

#define PARTIAL_FRAMES 300

static size_t partial_len(unsigned i)
{
    return 1000 + (i * 7919) % 9000; /* odd sizes: writes end mid-frame */
}

/* Read what @fd has without running the runtime, until nothing came for 20 ms: every byte
 * the plugin wrote so far (loopback delivers it once the peer reads). Return: bytes read. */
static size_t read_unpumped(int fd, uint8_t *buf, size_t cap)
{
    gint64 quiet_until = g_get_monotonic_time() + 20000;
    size_t have = 0;

    while (g_get_monotonic_time() < quiet_until && have < cap) {
        ssize_t n = recv(fd, buf + have, cap - have, MSG_DONTWAIT);

        if (n > 0) {
            have += n;
            quiet_until = g_get_monotonic_time() + 20000;
        } else {
            g_usleep(200);
        }
    }
    return have;
}

/* Parse the whole frames of @stream from *@off on (numbered from @first), checking each.
 * Return: how many. */
static unsigned parse_partial(const uint8_t *stream, size_t have, size_t *off, unsigned first)
{
    unsigned n = 0;

    while (have - *off >= 4) {
        uint32_t len;

        memcpy(&len, stream + *off, 4);
        len = ntohl(len);
        g_assert_cmpuint(len, ==, partial_len(first + n));
        if (have - *off - 4 < len) {
            break;
        }
        g_assert_true(st_check(stream + *off + 4, len, first + n));
        *off += 4 + len;
        n++;
    }
    return n;
}

/* Fails if a full socket buffer (the peer reads nothing for a while) loses a frame,
 * corrupts the framing with a partly written frame, or the busy path is never taken, or
 * no frame was ever cut by the kernel (seen from the peer: while the runtime does not run,
 * what the netdev wrote ends in the middle of a frame, and the rest follows later). */
static void test_partial_writes_keep_framing(void)
{
    int small = 4096, one = 1, l, p, c;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(sin);
    g_autofree char *opts = NULL;
    static uint8_t buf[ST_FRAME_MAX], stream[PARTIAL_FRAMES * 10004];
    size_t have = 0, off = 0;
    unsigned frames = 0, cuts = 0;
    uint32_t most_queued = 0;
    gint64 end;
    NetbeQueueStats base, st;
    StRig *r;

    /* a TCP connection with tiny buffers at both ends; the plugin gets one end as fd = */
    l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    g_assert_cmpint(bind(l, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(listen(l, 1), ==, 0);
    g_assert_cmpint(getsockname(l, (struct sockaddr *)&sin, &alen), ==, 0);
    p = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(p, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    g_assert_cmpint(connect(p, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    c = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    g_assert_cmpint(c, >=, 0);
    close(l);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    opts = g_strdup_printf("fd = %d", p);
    r = st_rig_new(opts);
    base = st_stats(r->rt, "link");

    for (unsigned i = 0; i < PARTIAL_FRAMES; i++) {
        st_fill(buf, partial_len(i), i);
        st_inject(r, buf, partial_len(i));
        st_pump();
        most_queued = MAX(most_queued, st_stats(r->rt, "link").tx_queued);
    }
    g_assert_cmpuint(most_queued, >, 0); /* the socket was full: busy path taken */
    end = g_get_monotonic_time() + ST_TIMEOUT_MS * 1000;
    for (unsigned round = 0; frames < PARTIAL_FRAMES && g_get_monotonic_time() < end; round++) {
        /* the first rounds look for a cut frame; then the test reads while pumping */
        bool look = round < 40 && !cuts;

        if (look) {
            have += read_unpumped(c, stream + have, sizeof(stream) - have);
        } else {
            ssize_t n = recv(c, stream + have, sizeof(stream) - have, MSG_DONTWAIT);

            have += n > 0 ? (size_t)n : 0;
        }
        frames += parse_partial(stream, have, &off, frames);
        cuts += look && off != have; /* the runtime waits with the rest of a frame */
        st_pump_for(1);
    }
    g_assert_cmpuint(frames, ==, PARTIAL_FRAMES);
    g_assert_cmpuint(have, ==, off);
    g_assert_cmpuint(cuts, >, 0); /* frames were cut by the kernel, and continued */
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_frames - base.tx_frames, ==, PARTIAL_FRAMES);
    g_assert_cmpuint(st.tx_drops, ==, base.tx_drops);
    g_assert_cmpuint(st.tx_queued, ==, 0);
    g_test_message("a read ended mid-frame; at most %u frames queued", most_queued);
    close(c);
    st_rig_free(r);
}

/* Fails if a second client is let in (or left hanging) while one is connected, if the
 * first one stops working because of it, or if the server does not take a new peer
 * after the first leaves, with counters carried on. */
static void test_server_takes_one_peer_at_a_time(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *opts = g_strdup_printf("listen = unix:%s/srv.sock", dir);
    g_autofree char *path = g_strdup_printf("%s/srv.sock", dir);
    StRig *r = st_rig_new(opts);
    uint8_t frame[100], got[ST_FRAME_MAX];
    int c1 = st_unix_connect(path), c2, c3;
    NetbeQueueStats st;

    g_assert_true(st_probe(r, c1, true));
    c2 = st_unix_connect(path);
    g_assert_cmpint(c2, >=, 0);
    g_assert_true(st_wait_eof(c2)); /* refused: closed at once */

    st_fill(frame, sizeof(frame), 5);
    g_assert_true(st_write_framed(c1, frame, sizeof(frame)));
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 5));
    close(c1);
    close(c2);

    c3 = st_unix_connect(path);
    g_assert_true(st_probe(r, c3, true));
    st_fill(frame, sizeof(frame), 6);
    g_assert_true(st_write_framed(c3, frame, sizeof(frame)));
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 6));
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.rx_frames, ==, 2); /* one from c1, one from c3 */
    g_assert_cmpuint(st.rx_bytes, ==, 200);
    close(c3);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* Fails if the client does not come back after the peer goes away (reconnect = 1), if
 * frames sent meanwhile are not dropped and counted, or if counters restart. */
static void test_client_reconnects_after_peer_goes_away(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *path = g_strdup_printf("%s/peer.sock", dir);
    g_autofree char *opts = g_strdup_printf("connect = unix:%s\nreconnect = 1", path);
    int l = st_unix_listen(path), a1, a2;
    StRig *r = st_rig_new(opts);
    uint8_t frame[80], got[ST_FRAME_MAX];
    NetbeQueueStats st, before;

    a1 = st_accept(l);
    g_assert_cmpint(a1, >=, 0);
    st_fill(frame, sizeof(frame), 7);
    g_assert_true(st_write_framed(a1, frame, sizeof(frame)));
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
    st_inject(r, frame, sizeof(frame));
    g_assert_cmpint(st_read_framed(a1, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 7));

    close(a1); /* the peer goes away */
    st_pump_for(50);
    before = st_stats(r->rt, "link");
    st_inject(r, frame, sizeof(frame));
    g_assert_true(st_wait_frames(r->rt, "link", before.tx_frames + before.tx_drops + 1, 0));
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_drops, ==, before.tx_drops + 1); /* down: dropped, counted */

    a2 = st_accept(l); /* within reconnect = 1 s (+ slack) */
    g_assert_cmpint(a2, >=, 0);
    st_fill(frame, sizeof(frame), 8);
    g_assert_true(st_write_framed(a2, frame, sizeof(frame)));
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 8));
    g_assert_true(st_probe(r, a2, true));
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.rx_frames, ==, 2); /* counters carried across the reconnect */
    g_assert_cmpuint(st.tx_frames, >=, 2);
    close(a2);
    close(l);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* Fails if a length beyond 64 KiB + 4 KiB (QEMU's limit) is not treated as lost framing (connection
 * dropped with a warning, drop counted), or if the server does not recover. */
static void test_oversized_length_drops_the_connection(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *opts = g_strdup_printf("listen = unix:%s/srv.sock", dir);
    g_autofree char *path = g_strdup_printf("%s/srv.sock", dir);
    StRig *r = st_rig_new(opts);
    uint32_t huge = htonl(ST_FRAME_MAX + 1);
    uint8_t frame[64], got[ST_FRAME_MAX];
    int c1 = st_unix_connect(path), c2;

    g_assert_true(st_probe(r, c1, true));
    st_tolerate_warnings("netbe-socket", "*over 69632 bytes*framing is lost*");
    g_assert_true(st_write_all(c1, &huge, 4));
    g_assert_true(st_write_all(c1, frame, sizeof(frame)));
    g_assert_true(st_wait_eof(c1));
    g_assert_cmpuint(st_tolerated_warnings(), ==, 1);
    st_tolerate_warnings(NULL, NULL);
    g_assert_cmpuint(st_stats(r->rt, "link").rx_drops, ==, 1);
    g_assert_cmpuint(st_stats(r->rt, "link").rx_frames, ==, 0);

    c2 = st_unix_connect(path);
    g_assert_true(st_probe(r, c2, true));
    st_fill(frame, sizeof(frame), 9);
    g_assert_true(st_write_framed(c2, frame, sizeof(frame)));
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 9));
    close(c1);
    close(c2);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* Fails if whole frames sent just before a close are lost, or if the half frame after
 * them is delivered. */
static void test_close_mid_frame_delivers_whole_frames_only(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *opts = g_strdup_printf("listen = unix:%s/srv.sock", dir);
    g_autofree char *path = g_strdup_printf("%s/srv.sock", dir);
    StRig *r = st_rig_new(opts);
    uint8_t frame[500], got[ST_FRAME_MAX];
    uint32_t half = htonl(500);
    int c = st_unix_connect(path);

    g_assert_true(st_probe(r, c, true));
    for (int i = 0; i < 3; i++) {
        st_fill(frame, sizeof(frame), 20 + i);
        g_assert_true(st_write_framed(c, frame, sizeof(frame)));
    }
    g_assert_true(st_write_all(c, &half, 4));
    g_assert_true(st_write_all(c, frame, 200));
    close(c);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
        g_assert_true(st_check(got, sizeof(frame), 20 + i));
    }
    g_assert_true(st_quiet(r->inj[0], 100));
    g_assert_cmpuint(st_stats(r->rt, "link").rx_frames, ==, 3);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* Fails if frames sent while no peer is connected are not dropped and counted (QEMU
 * drops them too), or if one of them reaches a peer that connects later. */
static void test_frames_before_peer_are_dropped_and_counted(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *opts = g_strdup_printf("listen = unix:%s/srv.sock", dir);
    g_autofree char *path = g_strdup_printf("%s/srv.sock", dir);
    StRig *r = st_rig_new(opts);
    uint8_t frame[70], got[ST_FRAME_MAX];
    NetbeQueueStats st;
    int c;

    st_fill(frame, sizeof(frame), 30);
    for (int i = 0; i < 3; i++) {
        st_inject(r, frame, sizeof(frame));
    }
    g_assert_true(st_wait_frames(r->rt, "link", 3, 0));
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_drops, ==, 3);
    g_assert_cmpuint(st.tx_frames, ==, 0);

    c = st_unix_connect(path);
    st_fill(frame, sizeof(frame), 31);
    g_assert_true(st_write_framed(c, frame, sizeof(frame)));
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
    st_inject(r, frame, sizeof(frame));
    g_assert_cmpint(st_read_framed(c, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 31)); /* not one of the early frames */
    close(c);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

typedef struct HeldWait {
    NetbeRuntime *rt;
    bool want_queued; /* wait for frames held (true) or for none (false) */
} HeldWait;

static bool held_as_wanted(void *data)
{
    HeldWait *w = data;

    return (st_stats(w->rt, "link").tx_queued > 0) == w->want_queued;
}

/* Fails if frames held for a peer that reads nothing stay held once it has gone (they must
 * be dropped and counted, as frames sent while no peer is connected), or if they keep the
 * next peer from getting frames. */
static void test_frames_held_for_a_peer_that_left_do_not_block_the_next(void)
{
    unsigned port = st_free_tcp_port();
    g_autofree char *opts = g_strdup_printf("listen = 127.0.0.1:%u", port);
    StRig *r = st_rig_new(opts);
    static uint8_t frame[30000], got[ST_FRAME_MAX];
    HeldWait held = {r->rt, true};
    NetbeQueueStats st;
    int c1 = st_tcp_connect(port), c2;

    g_assert_true(st_probe(r, c1, true));
    st_fill(frame, sizeof(frame), 60);
    for (int i = 0; i < 400 && !held_as_wanted(&held); i++) {
        st_inject(r, frame, sizeof(frame)); /* c1 reads nothing: the socket fills up */
        st_pump_for(1);
    }
    g_assert_true(held_as_wanted(&held));
    close(c1); /* with unread bytes: a reset */
    held.want_queued = false;
    g_assert_true(st_wait(held_as_wanted, &held, ST_TIMEOUT_MS)); /* dropped, not kept */
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_drops, >, 0);

    c2 = st_tcp_connect(port);
    g_assert_true(st_probe(r, c2, true));
    st_fill(frame, 100, 61);
    st_inject(r, frame, 100);
    g_assert_cmpint(st_read_framed(c2, got, sizeof(got)), ==, 100);
    g_assert_true(st_check(got, 100, 61));
    close(c2);
    st_rig_free(r);
}

/* Fails if an inherited stream socket (fd =) is not recognised as a stream by SO_TYPE
 * and spoken to with the length-prefix framing. */
static void test_inherited_stream_fd_uses_framing(void)
{
    int sp[2];
    g_autofree char *opts = NULL;
    uint8_t frame[123], got[ST_FRAME_MAX];
    StRig *r;

    st_socketpair(SOCK_STREAM, sp);
    opts = g_strdup_printf("fd = %d", sp[1]);
    r = st_rig_new(opts);
    st_fill(frame, sizeof(frame), 40);
    st_inject(r, frame, sizeof(frame));
    g_assert_cmpint(st_read_framed(sp[0], got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 40));
    st_fill(frame, sizeof(frame), 41);
    g_assert_true(st_write_framed(sp[0], frame, sizeof(frame)));
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 41));
    st_rig_free(r); /* closes sp[1] */
    g_assert_true(st_wait_eof(sp[0]));
    close(sp[0]);
}

/* Fails if a client with reconnect gives up on a server that is not there yet, instead of
 * connecting once it appears. */
static void test_client_retries_until_server_appears(void)
{
    unsigned port = st_free_tcp_port();
    g_autofree char *opts = g_strdup_printf("connect = 127.0.0.1:%u\nreconnect = 1", port);
    StRig *r = st_rig_new(opts);
    int l, a;

    st_pump_for(300); /* the first attempt is refused */
    l = st_tcp_listen(&port);
    a = st_accept(l);
    g_assert_cmpint(a, >=, 0);
    g_assert_true(st_probe(r, a, true));
    close(a);
    close(l);
    st_rig_free(r);
}

/* Fails if a client without reconnect retries (QEMU does not), or fails silently: it must
 * warn once, stay down, and count the frames it cannot send. */
static void test_client_without_reconnect_warns_and_stays_down(void)
{
    unsigned port = st_free_tcp_port();
    g_autofree char *opts = g_strdup_printf("connect = 127.0.0.1:%u", port);
    g_autofree char *pattern = g_strdup_printf("*cannot connect to 127.0.0.1:%u: Connection "
                                               "refused; not retrying (reconnect = 0)*",
                                               port);
    uint8_t frame[60];
    StRig *r;

    r = st_rig_new(opts); /* the refusal is seen when the loop runs */
    g_test_expect_message("netbe-socket", G_LOG_LEVEL_WARNING, pattern);
    st_pump_for(500);
    g_test_assert_expected_messages();
    st_fill(frame, sizeof(frame), 1);
    st_inject(r, frame, sizeof(frame));
    g_assert_true(st_wait_frames(r->rt, "link", 1, 0));
    g_assert_cmpuint(st_stats(r->rt, "link").tx_drops, ==, 1);
    st_rig_free(r);
}

static unsigned went_away_messages;

static void count_went_away(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
    if (strstr(msg, "went away")) {
        went_away_messages++;
    }
    g_log_default_handler(domain, level, msg, data);
}

/* Fails if a netbe client refused by a busy netbe server does not get in once the first
 * peer leaves, or if its refusals fill the log (one message, then debug). */
static void test_refused_client_gets_in_later_quietly(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *sopts = g_strdup_printf("listen = unix:%s/srv.sock", dir);
    g_autofree char *copts = g_strdup_printf("connect = unix:%s/srv.sock\nreconnect = 1", dir);
    g_autofree char *path = g_strdup_printf("%s/srv.sock", dir);
    StRig *s = st_rig_new(sopts);
    int c1 = st_unix_connect(path);
    guint handler;
    StRig *c;

    g_assert_true(st_probe(s, c1, true)); /* c1 holds the only slot */
    handler = g_log_set_handler("netbe-socket", G_LOG_LEVEL_MESSAGE, count_went_away, NULL);
    went_away_messages = 0;
    c = st_rig_new(copts);
    st_pump_for(2500); /* refused about three times */
    g_assert_cmpuint(went_away_messages, ==, 1);
    close(c1);
    g_assert_true(st_probe(c, s->inj[0], false)); /* c gets in within reconnect = 1 s */
    g_log_remove_handler("netbe-socket", handler);
    st_rig_free(c);
    st_rig_free(s);
    st_tmpdir_free(dir);
}

static unsigned accept_errors;

static void count_accept_errors(const char *domain, GLogLevelFlags level, const char *msg,
                                void *data)
{
    if (strstr(msg, "accept on")) {
        accept_errors++;
    }
}

/* Fails if running out of fds makes the server spin on a pending connection (and flood
 * the log) instead of pausing, or if it does not take the peer once fds are back. */
static void test_server_out_of_fds_pauses_then_accepts(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *opts = g_strdup_printf("listen = unix:%s/srv.sock", dir);
    g_autofree char *path = g_strdup_printf("%s/srv.sock", dir);
    StRig *r = st_rig_new(opts);
    struct rlimit old, low;
    GArray *fillers = g_array_new(false, false, sizeof(int));
    guint handler;
    int c, fd;

    c = st_unix_connect(path); /* connected in the kernel; the plugin accepts later */
    g_assert_cmpint(c, >=, 0);
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &old), ==, 0);
    low = old;
    low.rlim_cur = 64;
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
    while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
        g_array_append_val(fillers, fd);
    }
    handler = g_log_set_handler("netbe-socket", G_LOG_LEVEL_MESSAGE, count_accept_errors, NULL);
    accept_errors = 0;
    st_pump_for(300);
    g_assert_cmpuint(accept_errors, ==, 1); /* once, then paused for a second */

    for (guint i = 0; i < fillers->len; i++) {
        close(g_array_index(fillers, int, i));
    }
    g_array_free(fillers, true);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &old), ==, 0);
    g_assert_true(st_probe(r, c, true)); /* accepted after the pause */
    g_log_remove_handler("netbe-socket", handler);
    close(c);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* A TCP port on [::1] that was free a moment ago; 0 if IPv6 loopback is not there. */
static unsigned free_ipv6_port(void)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len = sizeof(sin6);
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unsigned port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin6, &len) == 0) {
        port = ntohs(sin6.sin6_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* Fails if [IPv6]:PORT addresses do not work for listen and connect (parsed, bound,
 * connected, frames carried both ways). */
static void test_ipv6_stream_between_runtimes(void)
{
    unsigned port = free_ipv6_port();
    g_autofree char *lopts = g_strdup_printf("listen = [::1]:%u", port);
    g_autofree char *copts = g_strdup_printf("connect = [::1]:%u\nreconnect = 1", port);
    uint8_t frame[200], got[ST_FRAME_MAX];
    StRig *a, *b;

    if (!port) {
        g_test_skip("no IPv6 loopback");
        return;
    }
    a = st_rig_new(lopts);
    b = st_rig_new(copts);
    g_assert_true(st_probe(b, a->inj[0], false)); /* b -> a once b has connected */
    st_fill(frame, sizeof(frame), 50);
    st_inject(a, frame, sizeof(frame));
    g_assert_cmpint(st_take(b, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 50));
    st_rig_free(b);
    st_rig_free(a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket/stream/wire-format-is-qemu-length-prefix",
                    test_wire_format_is_qemu_length_prefix);
    g_test_add_func("/socket/stream/tcp-joins-two-runtimes-both-ways",
                    test_tcp_stream_joins_two_runtimes_both_ways);
    g_test_add_func("/socket/stream/partial-writes-keep-framing", test_partial_writes_keep_framing);
    g_test_add_func("/socket/stream/server-takes-one-peer-at-a-time",
                    test_server_takes_one_peer_at_a_time);
    g_test_add_func("/socket/stream/client-reconnects-after-peer-goes-away",
                    test_client_reconnects_after_peer_goes_away);
    g_test_add_func("/socket/stream/oversized-length-drops-the-connection",
                    test_oversized_length_drops_the_connection);
    g_test_add_func("/socket/stream/close-mid-frame-delivers-whole-frames-only",
                    test_close_mid_frame_delivers_whole_frames_only);
    g_test_add_func("/socket/stream/frames-before-peer-are-dropped-and-counted",
                    test_frames_before_peer_are_dropped_and_counted);
    g_test_add_func("/socket/stream/frames-held-for-a-peer-that-left-do-not-block-the-next",
                    test_frames_held_for_a_peer_that_left_do_not_block_the_next);
    g_test_add_func("/socket/stream/inherited-stream-fd-uses-framing",
                    test_inherited_stream_fd_uses_framing);
    g_test_add_func("/socket/stream/client-retries-until-server-appears",
                    test_client_retries_until_server_appears);
    g_test_add_func("/socket/stream/client-without-reconnect-warns-and-stays-down",
                    test_client_without_reconnect_warns_and_stays_down);
    g_test_add_func("/socket/stream/refused-client-gets-in-later-quietly",
                    test_refused_client_gets_in_later_quietly);
    g_test_add_func("/socket/stream/server-out-of-fds-pauses-then-accepts",
                    test_server_out_of_fds_pauses_then_accepts);
    g_test_add_func("/socket/stream/ipv6-stream-between-runtimes",
                    test_ipv6_stream_between_runtimes);
    return g_test_run();
}
