// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-reload.c - netbe_runtime_reload() and live changes with TCP guests (socket
 * stream netdevs in a hub) connected: what did not change keeps its connections and
 * counters. */
#include <string.h>
#include <unistd.h>
#include "sock-test.h"

/* [netdev.ID] of a stream socket listening on 127.0.0.1:@port. */
static char *listener(const char *id, unsigned port, const char *extra)
{
    return g_strdup_printf("[netdev.%s]\ntype = socket\nlisten = 127.0.0.1:%u\n%s", id, port,
                           extra);
}

static void write_config(const char *path, const char *text)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(g_file_set_contents(path, text, -1, &err));
}

/* Send one frame from @from and check it arrives whole at every fd of @to (-1 ends). */
static void pass_frame(int from, const int *to, unsigned seed)
{
    uint8_t out[600], in[ST_FRAME_MAX];

    st_fill(out, sizeof(out), seed);
    g_assert_true(st_write_framed(from, out, sizeof(out)));
    for (int i = 0; to[i] >= 0; i++) {
        g_assert_cmpint(st_read_framed(to[i], in, sizeof(in)), ==, sizeof(out));
        g_assert_true(st_check(in, sizeof(out), seed));
    }
}

/*
 * Guests a and b are connected through [hub.lan]. A reload adds netdev c to the hub, a bad
 * file changes nothing, and a last reload takes c away and changes b's queue_limit (b is
 * replaced). Fails if a reload closes a connection of a netdev that did not change, resets
 * its counters, misses the new netdev, applies any part of a bad file, or leaves the
 * removed netdev's guest connected.
 */
static void test_reload_keeps_unchanged_connections(void)
{
    unsigned pa = st_free_tcp_port(), pb = st_free_tcp_port(), pc = st_free_tcp_port();
    g_autofree char *dir = st_tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "lan.ini", NULL);
    g_autofree char *na = listener("a", pa, ""), *nb = listener("b", pb, "");
    g_autofree char *nc = listener("c", pc, ""), *nb2 = listener("b", pb, "queue_limit = 64\n");
    g_autofree char *v1 = g_strdup_printf("%s%s[hub.lan]\nports = a, b\n", na, nb);
    g_autofree char *v2 = g_strdup_printf("%s%s%s[hub.lan]\nports = a, b, c\n", na, nb, nc);
    g_autofree char *bad = g_strdup_printf("%s%s%s[hub.lan]\nports = a, b, c, d\n", na, nb, nc);
    g_autofree char *v3 = g_strdup_printf("%s%s[hub.lan]\nports = a, b\n", na, nb2);
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = st_runtime_new(v1);
    int a = st_tcp_connect(pa), b = st_tcp_connect(pb), c;
    uint64_t a_rx;

    g_assert_cmpint(a, >=, 0);
    g_assert_cmpint(b, >=, 0);
    st_pump_for(100); /* the netdevs accept */
    pass_frame(a, (const int[]){b, -1}, 1);
    pass_frame(b, (const int[]){a, -1}, 2);

    write_config(path, v2);
    g_assert_true(netbe_runtime_reload(rt, path, &err));
    g_assert_no_error(err);
    c = st_tcp_connect(pc);
    g_assert_cmpint(c, >=, 0);
    st_pump_for(100);
    pass_frame(a, (const int[]){b, c, -1}, 3); /* a and b never noticed; c is in */
    g_assert_cmpuint(st_stats(rt, "a").rx_frames, ==, 2);
    g_assert_cmpuint(st_stats(rt, "b").tx_frames, ==, 2);

    write_config(path, bad);
    g_assert_false(netbe_runtime_reload(rt, NULL, &err)); /* NULL: the file reloaded last */
    g_assert_nonnull(strstr(err->message, "lan.ini:11: [hub.lan] ports: no [netdev.d]"));
    g_clear_error(&err);
    pass_frame(c, (const int[]){a, b, -1}, 4);

    write_config(path, v3);
    g_assert_true(netbe_runtime_reload(rt, NULL, &err));
    g_assert_no_error(err);
    g_assert_true(st_wait_eof(c)); /* c went: its guest sees the connection close */
    g_assert_true(st_wait_eof(b)); /* b was replaced: a new listener, a new connection */
    close(b);
    b = st_tcp_connect(pb);
    g_assert_cmpint(b, >=, 0);
    st_pump_for(100);
    a_rx = st_stats(rt, "a").rx_frames;
    pass_frame(a, (const int[]){b, -1}, 5);
    g_assert_cmpuint(st_stats(rt, "a").rx_frames, ==, a_rx + 1); /* a's counters go on */
    g_assert_cmpuint(st_stats(rt, "b").tx_frames, ==, 1);        /* b's start again */
    close(a);
    close(b);
    close(c);
    st_runtime_free(rt);
    st_tmpdir_free(g_steal_pointer(&dir));
}

/*
 * Churn: 40 rounds of netdev-add, hub-port-add, a guest connecting and sending, link down
 * and up, hub-port-del or netdev-del while frames flow from a and b (ASan: no use after
 * free, no leak). Fails if a round breaks the hub for the guests that stay, or their
 * counters miss a frame.
 */
static void test_live_churn_keeps_the_hub_working(void)
{
    unsigned pa = st_free_tcp_port(), pb = st_free_tcp_port();
    g_autofree char *na = listener("a", pa, ""), *nb = listener("b", pb, "");
    g_autofree char *v1 = g_strdup_printf("%s%s[hub.lan]\nports = a, b\n", na, nb);
    NetbeRuntime *rt = st_runtime_new(v1);
    int a = st_tcp_connect(pa), b = st_tcp_connect(pb);
    uint8_t frame[300], in[ST_FRAME_MAX];
    unsigned sent = 0;

    g_assert_cmpint(a, >=, 0);
    g_assert_cmpint(b, >=, 0);
    st_pump_for(100);
    for (unsigned round = 0; round < 40; round++) {
        unsigned pc = st_free_tcp_port();
        g_autofree char *listen = g_strdup_printf("listen=127.0.0.1:%u", pc);
        g_autoptr(GError) err = NULL;
        int c;

        g_assert_true(netbe_runtime_netdev_add(
            rt, "c", (const char *const[]){"type=socket", listen, NULL}, &err));
        g_assert_no_error(err);
        g_assert_true(netbe_runtime_hub_port_add(rt, "lan", "c", &err));
        c = st_tcp_connect(pc);
        g_assert_cmpint(c, >=, 0);
        st_pump_for(20);
        for (int i = 0; i < 5; i++) { /* frames in flight when c goes */
            st_fill(frame, sizeof(frame), round);
            g_assert_true(st_write_framed(a, frame, sizeof(frame)));
            st_fill(frame, sizeof(frame), 1000 + round);
            g_assert_true(st_write_framed(c, frame, sizeof(frame)));
            sent++;
        }
        g_assert_true(netbe_runtime_set_link(rt, "c", round % 2, &err));
        st_pump();
        if (round % 3 == 0) {
            g_assert_true(netbe_runtime_hub_port_del(rt, "lan", "c", &err));
        }
        g_assert_true(netbe_runtime_netdev_del(rt, "c", &err));
        g_assert_no_error(err);
        close(c);
        /* b gets every frame of a, whatever c did meanwhile (c's, while its link was up,
         * may come between: they are c's by their pattern) */
        for (int got = 0; got < 5;) {
            bool of_c = false;

            g_assert_cmpint(st_read_framed(b, in, sizeof(in)), ==, sizeof(frame));
            for (unsigned r = 0; r <= round && !of_c; r++) {
                of_c = st_check(in, sizeof(frame), 1000 + r);
            }
            g_assert_true(of_c || st_check(in, sizeof(frame), round));
            got += !of_c;
        }
    }
    g_assert_cmpuint(st_stats(rt, "a").rx_frames, ==, sent);
    g_assert_cmpuint(st_stats(rt, "b").tx_frames, >=, sent);
    close(a);
    close(b);
    st_runtime_free(rt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket-reload/keeps-unchanged-connections",
                    test_reload_keeps_unchanged_connections);
    g_test_add_func("/socket-reload/live-churn-keeps-the-hub-working",
                    test_live_churn_keeps_the_hub_working);
    return g_test_run();
}
