// SPDX-License-Identifier: GPL-2.0-or-later
/* test-control-live.c - netbe-host changed while it runs, through netbe-ctl: netdev-add and
 * netdev-del, hub ports, link, reload with TCP guests connected. */
#include <string.h>
#include <unistd.h>
#include "host-proc.h"
#include "sock-util.h"
#include "sock-test.h"

/* Fails unless "netbe-ctl @command" fails with an error that says @text. */
static void assert_refused(TestHost *h, const char *command, const char *text)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(test_host_ctl_status(h, command, &err), ==, 1);
    if (!strstr(err, text)) {
        g_error("'%s' said '%s', not '%s'", command, err, text);
    }
}

/* @key of netdev @id's queue 0 in "stats --json", -1 if absent. */
static int64_t stat_of(TestHost *h, const char *id, const char *key)
{
    g_autofree char *json = test_host_ctl(h, "stats --json");
    g_autofree char *obj = g_strdup_printf("\"netdev\":\"%s\",\"queue\":0,", id);

    return test_json_int_in(json, obj, key);
}

static char *listener(const char *id, unsigned port)
{
    return g_strdup_printf("[netdev.%s]\ntype = socket\nlisten = 127.0.0.1:%u\n", id, port);
}

/* Send a frame from @from; it must arrive whole at every fd of @to (-1 ends). */
static void pass_frame(int from, const int *to, unsigned seed)
{
    uint8_t out[400], in[ST_FRAME_MAX];

    st_fill(out, sizeof(out), seed);
    g_assert_true(st_write_framed(from, out, sizeof(out)));
    for (int i = 0; to[i] >= 0; i++) {
        g_assert_cmpint(st_read_framed(to[i], in, sizeof(in)), ==, sizeof(out));
        g_assert_true(st_check(in, sizeof(out), seed));
    }
}

static void rewrite(TestHost *h, const char *text)
{
    g_assert_true(g_file_set_contents(h->config, text, -1, NULL));
}

/*
 * Two TCP guests on [hub.lan]; `reload` of the file netbe-host runs adds a third netdev, a
 * file with an error is refused as a whole, `netdev-add` / `hub-port-add` add a fourth,
 * `link` takes it down. Fails if a guest of an unchanged netdev is disconnected or loses
 * its counters, if a bad file or bad arguments change anything, if an error is not in the
 * ini's FILE:LINE style, or if a port added live does not forward at once.
 */
static void test_reload_and_live_commands(void)
{
    unsigned pa = st_free_tcp_port(), pb = st_free_tcp_port(), pc = st_free_tcp_port(),
             pd = st_free_tcp_port();
    g_autofree char *na = listener("a", pa), *nb = listener("b", pb), *nc = listener("c", pc);
    g_autofree char *v1 = g_strdup_printf("%s%s[hub.lan]\nports = a, b\n", na, nb);
    g_autofree char *v2 = g_strdup_printf("%s%s%s[hub.lan]\nports = a, b, c\n", na, nb, nc);
    g_autofree char *bad =
        g_strdup_printf("%s%s%s[hub.lan]\nports = a, b, c\nspeed = 9\n", na, nb, nc);
    g_autofree char *add = g_strdup_printf("netdev-add d type=socket listen=127.0.0.1:%u", pd);
    g_autofree char *out = NULL, *status = NULL;
    TestHost *h = test_host_start(v1, NULL, NULL);
    int a, b, c, d;

    g_assert_nonnull(h);
    a = st_tcp_connect(pa);
    b = st_tcp_connect(pb);
    g_assert_cmpint(a, >=, 0);
    g_assert_cmpint(b, >=, 0);
    g_usleep(100000);
    pass_frame(a, (const int[]){b, -1}, 1);

    rewrite(h, v2);
    out = test_host_ctl(h, "reload");
    g_assert_nonnull(out);
    g_assert_nonnull(strstr(out, "reloaded"));
    c = st_tcp_connect(pc);
    g_assert_cmpint(c, >=, 0);
    g_usleep(100000);
    pass_frame(a, (const int[]){b, c, -1}, 2); /* a and b stayed connected; c is in */
    g_assert_cmpint(stat_of(h, "a", "rx_frames"), ==, 2);

    rewrite(h, bad);
    assert_refused(h, "reload", ".ini:12: [hub.lan] speed: unknown key");
    assert_refused(h, "netdev-add d type=socket listen=127.0.0.1:1 colour=red",
                   "netdev-add:3: [netdev.d] colour: unknown key");
    assert_refused(h, "hub-port-add lan nosuch", "no netdev 'nosuch' (allowed: a, b, c)");
    assert_refused(h, "link a sideways", "allowed: up, down");
    status = test_host_ctl(h, "status");
    g_assert_null(strstr(status, "netdev d "));

    out = (g_free(out), test_host_ctl(h, add));
    g_assert_nonnull(out);
    out = (g_free(out), test_host_ctl(h, "hub-port-add lan d"));
    g_assert_nonnull(out);
    d = st_tcp_connect(pd);
    g_assert_cmpint(d, >=, 0);
    g_usleep(100000);
    pass_frame(b, (const int[]){a, c, d, -1}, 3);
    out = (g_free(out), test_host_ctl(h, "link d down"));
    g_assert_nonnull(out);
    status = (g_free(status), test_host_ctl(h, "status"));
    g_assert_nonnull(strstr(status, "frontend [hub.lan], link down"));
    pass_frame(b, (const int[]){a, c, -1}, 4);
    g_assert_true(st_quiet(d, 200)); /* nothing passes a link that is down */
    g_assert_cmpint(stat_of(h, "d", "tx_drops"), ==, 1);
    g_assert_cmpint(stat_of(h, "a", "rx_frames"), ==, 2);
    g_assert_cmpint(stat_of(h, "b", "rx_frames"), ==, 2);

    out = (g_free(out), test_host_ctl(h, "netdev-del d"));
    g_assert_nonnull(out);
    g_assert_true(st_wait_eof(d));
    pass_frame(a, (const int[]){b, c, -1}, 5);
    g_free(test_host_ctl(h, "quit"));
    g_assert_cmpint(test_host_wait(h, 10000), ==, 0);
    test_host_free(h);
    close(a);
    close(b);
    close(c);
    close(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/control-live/reload-and-live-commands", test_reload_and_live_commands);
    return g_test_run();
}
