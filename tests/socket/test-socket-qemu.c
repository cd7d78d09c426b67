// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-qemu.c - wire compatibility with real QEMU: QEMU's -netdev stream and
 * -netdev dgram, joined by a QEMU hub (no guest needed), relay frames between two netbe
 * runtimes. Skipped when qemu-system-x86_64 is not installed. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sock-test.h"

static const size_t sizes[] = {60, 1514, 9000, 60000, 61};

/* Frames from @src's inj reach @dst's inj intact and in order through QEMU. */
static void relay(StRig *src, StRig *dst, unsigned seed)
{
    static uint8_t buf[ST_FRAME_MAX];

    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        st_fill(buf, sizes[i], seed + i);
        st_inject(src, buf, sizes[i]);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_assert_cmpint(st_take(dst, buf, sizeof(buf)), ==, sizes[i]);
        g_assert_true(st_check(buf, sizes[i], seed + i));
    }
}

/* Both rigs' links are joined by QEMU: a probe from a reaches b. */
static void exchange_through_qemu(StRig *a, StRig *b)
{
    NetbeQueueStats a0, b0, a1, b1;

    g_assert_true(st_probe(a, b->inj[0], false));
    a0 = st_stats(a->rt, "link");
    b0 = st_stats(b->rt, "link");
    relay(a, b, 10);
    relay(b, a, 20);
    a1 = st_stats(a->rt, "link");
    b1 = st_stats(b->rt, "link");
    g_assert_cmpuint(a1.tx_frames - a0.tx_frames, ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(a1.rx_frames - a0.rx_frames, ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(b1.tx_frames - b0.tx_frames, ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(b1.rx_frames - b0.rx_frames, ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(a1.rx_drops + b1.rx_drops, ==, 0);
}

/* Fails if QEMU's stream client cannot talk to our listen = (TCP) or QEMU's inet dgram to
 * our udp = + localaddr =, in either direction: framing or datagram format differ. */
static void test_qemu_inet_stream_client_and_udp(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    unsigned sport = st_free_tcp_port(), qport = st_free_udp_port(), bport = st_free_udp_port();
    g_autofree char *aopts = g_strdup_printf("listen = 127.0.0.1:%u", sport);
    g_autofree char *bopts =
        g_strdup_printf("udp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u", qport, bport);
    g_autofree char *stream = g_strdup_printf("stream,id=s,server=off,addr.type=inet,"
                                              "addr.host=127.0.0.1,addr.port=%u",
                                              sport);
    g_autofree char *dgram = g_strdup_printf("dgram,id=d,local.type=inet,local.host=127.0.0.1,"
                                             "local.port=%u,remote.type=inet,"
                                             "remote.host=127.0.0.1,remote.port=%u",
                                             qport, bport);
    StRig *a, *b;
    GPid pid;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 is not installed");
        return;
    }
    a = st_rig_new(aopts);
    b = st_rig_new(bopts);
    pid = st_qemu_hub_start(qemu, stream, dgram);
    g_assert_cmpint(pid, >, 0);
    exchange_through_qemu(a, b);
    st_qemu_stop(pid);
    st_rig_free(b);
    st_rig_free(a);
}

/* Fails if our connect = unix:PATH cannot talk to QEMU's unix stream server, or our
 * local/remote unix datagrams to QEMU's unix dgram. */
static void test_qemu_unix_stream_server_and_unix_dgram(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    char *dir = st_tmpdir_new();
    g_autofree char *aopts = g_strdup_printf("connect = unix:%s/qemu.sock\nreconnect = 1", dir);
    g_autofree char *bopts = g_strdup_printf("local = unix:%s/netbe.dgram\n"
                                             "remote = unix:%s/qemu.dgram",
                                             dir, dir);
    g_autofree char *stream = g_strdup_printf("stream,id=s,server=on,addr.type=unix,"
                                              "addr.path=%s/qemu.sock",
                                              dir);
    g_autofree char *dgram = g_strdup_printf("dgram,id=d,local.type=unix,"
                                             "local.path=%s/qemu.dgram,remote.type=unix,"
                                             "remote.path=%s/netbe.dgram",
                                             dir, dir);
    StRig *a, *b;
    GPid pid;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 is not installed");
        st_tmpdir_free(dir);
        return;
    }
    pid = st_qemu_hub_start(qemu, stream, dgram);
    g_assert_cmpint(pid, >, 0);
    a = st_rig_new(aopts); /* retries until QEMU listens */
    b = st_rig_new(bopts);
    exchange_through_qemu(a, b);
    st_qemu_stop(pid);
    st_rig_free(b);
    st_rig_free(a);
    st_tmpdir_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket/qemu/inet-stream-client-and-udp",
                    test_qemu_inet_stream_client_and_udp);
    g_test_add_func("/socket/qemu/unix-stream-server-and-unix-dgram",
                    test_qemu_unix_stream_server_and_unix_dgram);
    return g_test_run();
}
