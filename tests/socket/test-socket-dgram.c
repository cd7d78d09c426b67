// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-dgram.c - the socket plugin's datagram transports over real loopback
 * sockets: UDP between two runtimes, unix datagrams with a raw peer, a busy peer, a
 * missing peer. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "sock-test.h"

/* UDP carries at most 65507 bytes over IPv4. */
static const size_t udp_sizes[] = {60, 1514, 4096, 9000, 32768, 65507, 61, 1};

/* Fails if two runtimes joined by udp + localaddr lose, change, reorder or miscount a
 * frame in either direction. */
static void test_udp_joins_two_runtimes_both_ways(void)
{
    unsigned pa = st_free_udp_port(), pb = st_free_udp_port();
    g_autofree char *aopts =
        g_strdup_printf("udp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u", pb, pa);
    g_autofree char *bopts =
        g_strdup_printf("udp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u", pa, pb);
    StRig *a = st_rig_new(aopts);
    StRig *b = st_rig_new(bopts);
    static uint8_t buf[ST_FRAME_MAX];
    uint64_t total = 0;
    StRig *src[] = {a, b}, *dst[] = {b, a};

    for (int dir = 0; dir < 2; dir++) {
        for (size_t i = 0; i < G_N_ELEMENTS(udp_sizes); i++) {
            st_fill(buf, udp_sizes[i], dir * 100 + i);
            st_inject(src[dir], buf, udp_sizes[i]);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(udp_sizes); i++) {
            memset(buf, 0, sizeof(buf));
            g_assert_cmpint(st_take(dst[dir], buf, sizeof(buf)), ==, udp_sizes[i]);
            g_assert_true(st_check(buf, udp_sizes[i], dir * 100 + i));
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(udp_sizes); i++) {
        total += udp_sizes[i];
    }
    for (int i = 0; i < 2; i++) {
        NetbeQueueStats st = st_stats(src[i]->rt, "link");

        g_assert_cmpuint(st.tx_frames, ==, G_N_ELEMENTS(udp_sizes));
        g_assert_cmpuint(st.tx_bytes, ==, total);
        g_assert_cmpuint(st.rx_frames, ==, G_N_ELEMENTS(udp_sizes));
        g_assert_cmpuint(st.rx_bytes, ==, total);
        g_assert_cmpuint(st.tx_drops + st.rx_drops, ==, 0);
    }
    st_rig_free(b);
    st_rig_free(a);
}

/* Fails if a unix datagram netdev (local + remote) does not carry one frame per datagram
 * to and from a peer written here, byte for byte. */
static void test_unix_dgram_talks_to_a_raw_peer(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *mine = g_strdup_printf("%s/netbe.sock", dir);
    g_autofree char *peer = g_strdup_printf("%s/peer.sock", dir);
    g_autofree char *opts = g_strdup_printf("local = unix:%s\nremote = unix:%s", mine, peer);
    int p = st_unix_dgram_bind(peer);
    StRig *r = st_rig_new(opts);
    struct sockaddr_un to = {.sun_family = AF_UNIX};
    uint8_t frame[1514], got[ST_FRAME_MAX];
    NetbeQueueStats st;

    strcpy(to.sun_path, mine);
    st_fill(frame, sizeof(frame), 1);
    st_inject(r, frame, sizeof(frame));
    g_assert_cmpint(st_recv_dgram(p, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 1));

    st_fill(frame, 777, 2);
    g_assert_cmpint(sendto(p, frame, 777, 0, (struct sockaddr *)&to, sizeof(to)), ==, 777);
    g_assert_cmpint(st_take(r, got, sizeof(got)), ==, 777);
    g_assert_true(st_check(got, 777, 2));
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_frames, ==, 1);
    g_assert_cmpuint(st.tx_bytes, ==, sizeof(frame));
    g_assert_cmpuint(st.rx_frames, ==, 1);
    g_assert_cmpuint(st.rx_bytes, ==, 777);
    close(p);
    st_rig_free(r);
    g_assert_false(g_file_test(mine, G_FILE_TEST_EXISTS)); /* cleanup removed our socket */
    st_tmpdir_free(dir);
}

#define BUSY_FRAMES 200

/* Fails if frames are lost or reordered while a unix datagram peer does not read (its
 * queue holds only a few datagrams, so sends fail with EAGAIN and must be retried). */
static void test_busy_unix_dgram_peer_gets_every_frame(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *mine = g_strdup_printf("%s/netbe.sock", dir);
    g_autofree char *peer = g_strdup_printf("%s/peer.sock", dir);
    g_autofree char *opts = g_strdup_printf("local = unix:%s\nremote = unix:%s", mine, peer);
    int p = st_unix_dgram_bind(peer);
    StRig *r = st_rig_new(opts);
    uint8_t frame[1000], got[ST_FRAME_MAX];
    uint32_t most_queued = 0;
    NetbeQueueStats st;

    for (unsigned i = 0; i < BUSY_FRAMES; i++) {
        st_fill(frame, sizeof(frame), i);
        st_inject(r, frame, sizeof(frame));
        st_pump();
        most_queued = MAX(most_queued, st_stats(r->rt, "link").tx_queued);
    }
    st_pump_for(20);
    g_assert_cmpuint(most_queued, >, 0); /* the peer's queue was full */
    for (unsigned i = 0; i < BUSY_FRAMES; i++) {
        g_assert_cmpint(st_recv_dgram(p, got, sizeof(got)), ==, sizeof(frame));
        g_assert_true(st_check(got, sizeof(frame), i));
    }
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_frames, ==, BUSY_FRAMES);
    g_assert_cmpuint(st.tx_drops, ==, 0);
    g_assert_cmpuint(st.tx_queued, ==, 0);
    close(p);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* Fails if frames to a unix peer that is not there are not dropped and counted, or if
 * sending does not resume once the peer binds its socket. */
static void test_missing_unix_peer_drops_then_recovers(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *mine = g_strdup_printf("%s/netbe.sock", dir);
    g_autofree char *peer = g_strdup_printf("%s/peer.sock", dir);
    g_autofree char *opts = g_strdup_printf("local = unix:%s\nremote = unix:%s", mine, peer);
    StRig *r = st_rig_new(opts);
    uint8_t frame[100], got[ST_FRAME_MAX];
    NetbeQueueStats st;
    int p;

    st_fill(frame, sizeof(frame), 3);
    st_inject(r, frame, sizeof(frame));
    st_inject(r, frame, sizeof(frame));
    g_assert_true(st_wait_frames(r->rt, "link", 2, 0));
    st = st_stats(r->rt, "link");
    g_assert_cmpuint(st.tx_drops, ==, 2);
    g_assert_cmpuint(st.tx_frames, ==, 0);

    p = st_unix_dgram_bind(peer);
    st_fill(frame, sizeof(frame), 4);
    st_inject(r, frame, sizeof(frame));
    g_assert_cmpint(st_recv_dgram(p, got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 4));
    g_assert_cmpuint(st_stats(r->rt, "link").tx_frames, ==, 1);
    close(p);
    st_rig_free(r);
    st_tmpdir_free(dir);
}

/* Fails if a frame longer than a UDP datagram can be is not dropped and counted, or if any
 * part of it is sent. */
static void test_oversized_datagrams_are_dropped_and_counted(void)
{
    unsigned port = 0, pa = st_free_udp_port();
    int p = st_udp_bind(&port);
    g_autofree char *opts =
        g_strdup_printf("udp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u", port, pa);
    StRig *r = st_rig_new(opts);
    static uint8_t frame[ST_FRAME_MAX];

    st_fill(frame, sizeof(frame), 5);
    st_inject(r, frame, 65508); /* one byte over what UDP/IPv4 carries */
    g_assert_true(st_wait_frames(r->rt, "link", 1, 0));
    g_assert_cmpuint(st_stats(r->rt, "link").tx_drops, ==, 1);
    g_assert_true(st_quiet(p, 50));
    close(p);
    st_rig_free(r);
}

/* Fails if an inherited datagram socket (fd =) is not found to be one by SO_TYPE, e.g.
 * if it were spoken to with the stream framing. */
static void test_inherited_dgram_fd_has_no_framing(void)
{
    int sp[2];
    g_autofree char *opts = NULL;
    uint8_t frame[321], got[ST_FRAME_MAX];
    StRig *r;

    st_socketpair(SOCK_DGRAM, sp);
    opts = g_strdup_printf("fd = %d", sp[1]);
    r = st_rig_new(opts);
    st_fill(frame, sizeof(frame), 6);
    st_inject(r, frame, sizeof(frame));
    g_assert_cmpint(st_recv_dgram(sp[0], got, sizeof(got)), ==, sizeof(frame));
    g_assert_true(st_check(got, sizeof(frame), 6));
    st_rig_free(r);
    close(sp[0]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket/dgram/udp-joins-two-runtimes-both-ways",
                    test_udp_joins_two_runtimes_both_ways);
    g_test_add_func("/socket/dgram/unix-dgram-talks-to-a-raw-peer",
                    test_unix_dgram_talks_to_a_raw_peer);
    g_test_add_func("/socket/dgram/busy-unix-dgram-peer-gets-every-frame",
                    test_busy_unix_dgram_peer_gets_every_frame);
    g_test_add_func("/socket/dgram/missing-unix-peer-drops-then-recovers",
                    test_missing_unix_peer_drops_then_recovers);
    g_test_add_func("/socket/dgram/oversized-datagrams-are-dropped-and-counted",
                    test_oversized_datagrams_are_dropped_and_counted);
    g_test_add_func("/socket/dgram/inherited-dgram-fd-has-no-framing",
                    test_inherited_dgram_fd_has_no_framing);
    return g_test_run();
}
