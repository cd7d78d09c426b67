// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-options.c - the socket plugin's option checks and connect-time errors: each
 * bad config gives a message with file, line, section and key that names the cause. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sock-test.h"

typedef struct BadOption {
    const char *lines;  /* [netdev.x] keys after "type = socket" (line 3 on) */
    const char *expect; /* a substring of the error */
} BadOption;

#define ALLOWED_ONE "(allowed: exactly one of listen, connect, udp, local + remote, fd)"
#define ADDR_FORMS "(allowed: A.B.C.D:PORT, [IPV6]:PORT, unix:PATH)"
#define LONG_PATH                                                                                  \
    "/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"                 \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const BadOption bad_options[] = {
    {"", "sock.ini:1: [netdev.x]: no transport given " ALLOWED_ONE},
    {"listen = unix:/tmp/a\nconnect = unix:/tmp/b",
     "sock.ini:4: [netdev.x] connect: conflicts with listen = unix:/tmp/a " ALLOWED_ONE},
    {"udp = 127.0.0.1:5000\nlocaladdr = 127.0.0.1:5001\nfd = 3",
     "sock.ini:5: [netdev.x] fd: conflicts with udp = 127.0.0.1:5000 " ALLOWED_ONE},
    {"local = unix:/tmp/a\nremote = unix:/tmp/b\nlisten = :5000",
     "sock.ini:3: [netdev.x] local: conflicts with listen = :5000 " ALLOWED_ONE},
    {"udp = 127.0.0.1:5000", "sock.ini:3: [netdev.x] udp: needs localaddr = HOST:PORT"},
    {"listen = :5000\nlocaladdr = 127.0.0.1:5001",
     "sock.ini:4: [netdev.x] localaddr: only applies with udp ="},
    {"listen = :5000\nreconnect = 2",
     "sock.ini:4: [netdev.x] reconnect: only applies to a stream client (connect =)"},
    {"local = unix:/tmp/a", "sock.ini:3: [netdev.x] local: needs remote = too"},
    {"remote = unix:/tmp/a", "sock.ini:3: [netdev.x] remote: needs local = too"},
    {"connect = 127.0.0.1",
     "sock.ini:3: [netdev.x] connect: '127.0.0.1' is not a valid address: no ':PORT' " ADDR_FORMS},
    {"connect = 256.0.0.1:80",
     "connect: '256.0.0.1:80' is not a valid address: '256.0.0.1' is not an IPv4 address "
     "(names are not resolved) " ADDR_FORMS},
    {"connect = localhost:80", "'localhost' is not an IPv4 address (names are not resolved)"},
    {"connect = [::1:80",
     "connect: '[::1:80' is not a valid address: no ']' after the IPv6 address"},
    {"connect = [::1]80", "no ':PORT' after ']'"},
    {"connect = [fe80::zz]:80", "'fe80::zz' is not an IPv6 address"},
    {"connect = ::1:80", "an IPv6 address needs brackets: [ADDR]:PORT"},
    {"connect = 127.0.0.1:70000", "port 70000 is out of range (allowed: 1..65535)"},
    {"connect = 127.0.0.1:0", "port 0 is out of range (allowed: 1..65535)"},
    {"connect = :80", "no host before ':PORT'"},
    {"listen = 127.0.0.1:http", "listen: '127.0.0.1:http' is not a valid address: port 'http' "
                                "is not a number"},
    {"listen = 127.0.0.1:", "no port after ':'"},
    {"connect = unix:", "connect: 'unix:' is not a valid address: empty unix socket path"},
    {"listen = unix:" LONG_PATH, "unix socket path is 119 bytes (allowed: at most 107)"},
    {"udp = unix:/tmp/a\nlocaladdr = unix:/tmp/b",
     "sock.ini:3: [netdev.x] udp: 'unix:/tmp/a' is a unix address"},
    {"local = unix:/tmp/a\nremote = 127.0.0.1:5000",
     "sock.ini:4: [netdev.x] remote: '127.0.0.1:5000' is not of the same family as "
     "local = unix:/tmp/a"},
    {"udp = 127.0.0.1:5000\nlocaladdr = [::1]:5001",
     "udp: '127.0.0.1:5000' is not of the same family as localaddr = [::1]:5001"},
    {"fd = -1", "sock.ini:3: [netdev.x] fd: '-1' is not valid (allowed: an integer 0..2147483647)"},
    {"connect = unix:/tmp/a\nreconnect = soon",
     "sock.ini:4: [netdev.x] reconnect: 'soon' is not valid (allowed: an integer 0..86400)"},
    {"listen = :5000\nmcast = 230.0.0.1:1234", "sock.ini:4: [netdev.x] mcast: unknown key"},
};

/* Fails if a bad option is accepted, or its message lacks the place or the cause. */
static void test_each_bad_option_names_key_and_cause(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_options); i++) {
        g_autofree char *config =
            g_strdup_printf("[netdev.x]\ntype = socket\n%s\n", bad_options[i].lines);
        g_autoptr(GError) err = NULL;
        NetbeRuntime *rt = st_runtime_try(config, &err);

        g_test_message("case %zu: %s", i, bad_options[i].lines);
        g_assert_null(rt);
        g_assert_nonnull(err);
        if (!strstr(err->message, bad_options[i].expect)) {
            g_error("case %zu: expected\n  %s\ngot\n  %s", i, bad_options[i].expect, err->message);
        }
    }
}

/* Fails if the errors of several netdevs are not all reported in one run. */
static void test_all_errors_of_a_file_in_one_run(void)
{
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = st_runtime_try("[netdev.a]\ntype = socket\nconnect = 1.2.3:4\n"
                                      "[netdev.b]\ntype = socket\nudp = 127.0.0.1:5\n"
                                      "reconnect = 3\n",
                                      &err);

    g_assert_null(rt);
    g_assert_nonnull(strstr(err->message, "sock.ini:3: [netdev.a] connect: '1.2.3:4'"));
    g_assert_nonnull(strstr(err->message, "sock.ini:6: [netdev.b] udp: needs localaddr"));
    g_assert_nonnull(strstr(err->message, "sock.ini:7: [netdev.b] reconnect: only applies"));
}

/* Fails if good addresses of every form are refused, or if init (--check) binds, creates
 * or touches anything: a unix path appears, fd 1000 (not open) is looked at. */
static void test_good_addresses_are_accepted_without_side_effects(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *path = g_strdup_printf("%s/check.sock", dir);
    g_autofree char *listen_here = g_strdup_printf("listen = unix:%s", path);
    const char *const good[] = {
        "listen = 127.0.0.1:0",
        "listen = :0",
        "listen = [::1]:0",
        "listen = [::]:0",
        "connect = 10.1.2.3:65535\nreconnect = 5",
        "connect = [2001:db8::1]:22",
        "connect = unix:/nonexistent/dir/x.sock\nreconnect = 1",
        "connect = unix:@netbe-abstract",
        "udp = 127.0.0.1:9\nlocaladdr = 127.0.0.1:0",
        "local = unix:/nonexistent/a\nremote = unix:/nonexistent/b",
        "local = [::1]:0\nremote = [::1]:9",
        "fd = 1000",
        listen_here,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *config = g_strdup_printf("[netdev.x]\ntype = socket\n%s\n", good[i]);
        g_autoptr(GError) err = NULL;
        NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_CHECK_ONLY);

        g_test_message("case %zu: %s", i, good[i]);
        netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
        g_assert_true(netbe_runtime_load_config_string(rt, config, "sock.ini", &err));
        g_assert_no_error(err);
        netbe_runtime_free(rt);
    }
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    st_tmpdir_free(dir);
}

/* Connect-time errors: load @lines with connecting, expect failure with @expect. */
static void assert_connect_error(const char *lines, const char *expect)
{
    g_autofree char *config = g_strdup_printf("[netdev.x]\ntype = socket\n%s\n", lines);
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = st_runtime_try(config, &err);

    g_assert_null(rt);
    g_assert_nonnull(err);
    if (!strstr(err->message, expect) || !strstr(err->message, "netdev 'x' (socket): ")) {
        g_error("expected\n  %s\ngot\n  %s", expect, err->message);
    }
}

/* Fails if a wrong fd =, a path that is taken, a missing peer or a busy port is not an
 * error at connect time that names the object and the cause. */
static void test_connect_errors_name_the_cause(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *file = g_strdup_printf("%s/plain-file", dir);
    g_autofree char *live = g_strdup_printf("%s/live.sock", dir);
    g_autofree char *lines = NULL, *expect = NULL;
    int ffd, l, port_fd;
    unsigned port = 0;

    assert_connect_error("fd = 1000", "fd 1000 is not open (was it passed to this process?)");

    g_assert_true(g_file_set_contents(file, "x", 1, NULL));
    ffd = open(file, O_RDONLY | O_CLOEXEC);
    lines = g_strdup_printf("fd = %d", ffd);
    expect = g_strdup_printf("fd %d is not a socket: Socket operation on non-socket", ffd);
    assert_connect_error(lines, expect);
    close(ffd);
    g_free(lines);
    g_free(expect);

    lines = g_strdup_printf("listen = unix:%s", file);
    expect = g_strdup_printf("%s exists and is not a socket", file);
    assert_connect_error(lines, expect);
    g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR)); /* and was left alone */
    g_free(lines);
    g_free(expect);

    l = st_unix_listen(live);
    lines = g_strdup_printf("listen = unix:%s", live);
    expect = g_strdup_printf("%s is in use by another process", live);
    assert_connect_error(lines, expect);
    close(l);
    g_free(lines);
    g_free(expect);

    lines = g_strdup_printf("connect = unix:%s/none.sock", dir);
    expect = g_strdup_printf("cannot connect to unix:%s/none.sock: No such file or directory", dir);
    assert_connect_error(lines, expect);
    g_free(lines);
    g_free(expect);

    port = 0;
    port_fd = st_tcp_listen(&port);
    lines = g_strdup_printf("listen = 127.0.0.1:%u", port);
    expect = g_strdup_printf("cannot listen on 127.0.0.1:%u: bind: Address already in use", port);
    assert_connect_error(lines, expect);
    close(port_fd);
    g_free(lines);
    g_free(expect);

    port = 0;
    port_fd = st_udp_bind(&port);
    lines = g_strdup_printf("udp = 127.0.0.1:9\nlocaladdr = 127.0.0.1:%u", port);
    expect = g_strdup_printf("cannot bind 127.0.0.1:%u: Address already in use", port);
    assert_connect_error(lines, expect);
    close(port_fd);
    st_tmpdir_free(dir);
}

/* Fails if a stale socket file (nobody listens) blocks listen = unix:PATH, or if a client
 * with reconnect refuses to start while its server is not up yet. */
static void test_stale_socket_and_absent_server_are_not_errors(void)
{
    char *dir = st_tmpdir_new();
    g_autofree char *stale = g_strdup_printf("%s/stale.sock", dir);
    g_autofree char *config = NULL;
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt;

    close(st_unix_listen(stale)); /* the file stays, nobody answers */
    g_assert_true(g_file_test(stale, G_FILE_TEST_EXISTS));
    config = g_strdup_printf("[netdev.s]\ntype = socket\nlisten = unix:%s\n"
                             "[netdev.c]\ntype = socket\nconnect = unix:%s/later.sock\n"
                             "reconnect = 1\n",
                             stale, dir);
    rt = st_runtime_try(config, &err);
    g_assert_no_error(err);
    g_assert_nonnull(rt);
    netbe_runtime_free(rt);
    g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS)); /* ours, removed at cleanup */
    st_tmpdir_free(dir);
}

/* Fails if a connect that failed leaves something half open, so that trying again (a
 * deferred hub started a second time) wrongly succeeds or fails again once the cause
 * is gone. */
static void test_failed_listen_can_be_retried(void)
{
    unsigned port = 0;
    int busy = st_tcp_listen(&port);
    g_autofree char *config = g_strdup_printf("[netdev.a]\ntype = socket\nlisten = 127.0.0.1:%u\n"
                                              "[netdev.b]\ntype = socket\nfd = 1000\n"
                                              "[hub.h]\nports = a, b\nconnect = deferred\n",
                                              port);
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = st_runtime_try(config, &err);
    int c;

    g_assert_no_error(err);
    g_assert_false(netbe_runtime_start(rt, &err));
    g_assert_nonnull(strstr(err->message, "Address already in use"));
    g_clear_error(&err);
    g_assert_false(netbe_runtime_start(rt, &err)); /* still taken: fails again, same cause */
    g_assert_nonnull(strstr(err->message, "Address already in use"));
    g_clear_error(&err);
    close(busy);
    g_assert_false(netbe_runtime_start(rt, &err)); /* a listens now; b (fd 1000) cannot */
    g_assert_nonnull(strstr(err->message, "fd 1000 is not open"));
    g_clear_error(&err);
    c = st_tcp_connect(port);
    g_assert_cmpint(c, >=, 0); /* a really listens */
    close(c);
    netbe_runtime_free(rt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket/options/each-bad-option-names-key-and-cause",
                    test_each_bad_option_names_key_and_cause);
    g_test_add_func("/socket/options/all-errors-of-a-file-in-one-run",
                    test_all_errors_of_a_file_in_one_run);
    g_test_add_func("/socket/options/good-addresses-are-accepted-without-side-effects",
                    test_good_addresses_are_accepted_without_side_effects);
    g_test_add_func("/socket/options/connect-errors-name-the-cause",
                    test_connect_errors_name_the_cause);
    g_test_add_func("/socket/options/stale-socket-and-absent-server-are-not-errors",
                    test_stale_socket_and_absent_server_are_not_errors);
    g_test_add_func("/socket/options/failed-listen-can-be-retried",
                    test_failed_listen_can_be_retried);
    return g_test_run();
}
