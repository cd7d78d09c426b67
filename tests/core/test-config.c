// SPDX-License-Identifier: GPL-2.0-or-later
/* test-config.c - the ini config: one test per error class, each asserting the file,
 * the line, the section and the key in the message; and all errors in one run. */
#include "netbe/netbe.h"
#include "plugin-dir.h"

static char *plugin_dir;

/* Load @text as "test.ini"; Return: NULL if it loaded, else the error message. */
static char *load_config(const char *text)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;
    char *msg = NULL;

    netbe_runtime_set_plugin_path(rt, plugin_dir);
    if (!netbe_runtime_load_config_string(rt, text, "test.ini", &err)) {
        msg = g_strdup(err->message);
        g_test_message("errors:\n%s", msg);
    }
    netbe_runtime_free(rt);
    return msg;
}

/* The config must fail with a line of the message starting with @prefix and holding @word. */
static void expect_error(const char *text, const char *prefix, const char *word)
{
    g_autofree char *msg = load_config(text);
    g_auto(GStrv) lines = NULL;
    bool found = false;

    g_assert_nonnull(msg);
    lines = g_strsplit(msg, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        found |= g_str_has_prefix(lines[i], prefix) && (!word || strstr(lines[i], word));
    }
    if (!found) {
        g_test_message("no line starts with '%s' and holds '%s'", prefix, word ? word : "");
    }
    g_assert_true(found);
}

/* Number of lines (errors) of a message. */
static guint count_lines(const char *msg)
{
    g_auto(GStrv) lines = g_strsplit(msg, "\n", -1);

    return g_strv_length(lines);
}

/* Fails if a well-formed file with comments and every section kind does not load. */
static void test_valid_config_loads(void)
{
    g_autofree char *msg =
        load_config("; a comment\n# another\n[runtime]\nqueue_limit = 64\n\n"
                    "[netdev.a]\ntype = fixture ; inline comment\nqueues = 2\n"
                    "[netdev.b]\ntype = fixture\n[netdev.c]\n  type = fixture\n"
                    "[hub.h]\nports = a, b\n"
                    "[device.nic0]\nnetdev = c\nmac = 52:54:00:00:00:01\nconnect = deferred\n");

    g_assert_null(msg);
}

static void test_syntax_error_names_line(void)
{
    expect_error("[netdev.a]\ntype = fixture\nthis line has no equals sign\n",
                 "test.ini:3: expected 'key = value'", NULL);
}

static void test_malformed_section_header(void)
{
    expect_error("[netdev.a\ntype = fixture\n", "test.ini:1: malformed section header", NULL);
}

static void test_unknown_section(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[bridge.x]\nports = a\n",
                 "test.ini:3: [bridge.x]: unknown section", "allowed: runtime, netdev.ID");
}

static void test_bad_section_id(void)
{
    expect_error("[netdev.a/b]\ntype = fixture\n", "test.ini:1: [netdev.a/b]: bad id 'a/b'",
                 "allowed:");
}

static void test_unknown_key_lists_allowed_keys(void)
{
    expect_error("[netdev.a]\ntype = fixture\nifname = tap0\n",
                 "test.ini:3: [netdev.a] ifname: unknown key",
                 "allowed: type, queue_limit, batch, rx_bytes_per_sec, rx_bytes_burst, "
                 "rx_bytes_initial_burst, rx_frames_per_sec, rx_frames_burst, "
                 "rx_frames_initial_burst, tx_bytes_per_sec, tx_bytes_burst, "
                 "tx_bytes_initial_burst, tx_frames_per_sec, tx_frames_burst, "
                 "tx_frames_initial_burst, log, queues, fail_connect");
}

static void test_integer_out_of_range(void)
{
    expect_error("[netdev.a]\ntype = fixture\nqueues = 9\n",
                 "test.ini:3: [netdev.a] queues: '9' is not valid", "allowed: an integer 1..4");
}

static void test_bad_boolean(void)
{
    expect_error("[netdev.a]\ntype = fixture\nfail_connect = maybe\n",
                 "test.ini:3: [netdev.a] fail_connect: 'maybe' is not valid", "allowed: on, off");
}

static void test_bad_enum_value(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[device.d]\nnetdev = a\nconnect = later\n",
                 "test.ini:5: [device.d] connect: 'later' is not valid",
                 "allowed: immediate, deferred");
}

static void test_missing_required_key(void)
{
    expect_error("[netdev.a]\nqueues = 1\n", "test.ini:1: [netdev.a] type: required key is missing",
                 NULL);
    expect_error("[netdev.a]\ntype = fixture\n[device.d]\nmac = 52:54:00:00:00:01\n",
                 "test.ini:3: [device.d] netdev: required key is missing", NULL);
}

static void test_key_given_twice(void)
{
    expect_error("[netdev.a]\ntype = fixture\nqueues = 1\nqueues = 2\n",
                 "test.ini:4: [netdev.a] queues: given twice", "first at line 3");
}

static void test_section_given_twice(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[netdev.a]\nqueues = 2\n",
                 "test.ini:3: [netdev.a]: section given twice", "first at line 1");
}

static void test_dangling_netdev_reference(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[device.d]\nnetdev = nosuch\n",
                 "test.ini:4: [device.d] netdev: no [netdev.nosuch]", "allowed: a");
}

static void test_dangling_hub_port(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[hub.h]\nports = a, b\n",
                 "test.ini:4: [hub.h] ports: no [netdev.b]", "allowed: a");
}

static void test_netdev_used_by_two_frontends(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[netdev.b]\ntype = fixture\n"
                 "[hub.h]\nports = a, b\n[device.d]\nnetdev = a\n",
                 "test.ini:8: [device.d] netdev: netdev 'a' is already used by [hub.h] at line 5",
                 NULL);
}

static void test_unknown_plugin_type(void)
{
    expect_error("[netdev.a]\ntype = warp\n",
                 "test.ini:2: [netdev.a] type: no plugin 'warp' in the plugin path",
                 "allowed: fixture");
}

static void test_bad_mac(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[device.d]\nnetdev = a\nmac = 01:00:5e:00:00:01\n",
                 "test.ini:5: [device.d] mac: '01:00:5e:00:00:01' is not a unicast MAC", NULL);
    expect_error("[netdev.a]\ntype = fixture\n[device.d]\nnetdev = a\nmac = 52:54:00:zz:00:01\n",
                 "test.ini:5: [device.d] mac:", "allowed: six hex bytes");
}

static void test_queue_size_not_power_of_two(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[device.d]\nnetdev = a\nrx_queue_size = 300\n",
                 "test.ini:5: [device.d] rx_queue_size: 300 is not a power of two", NULL);
}

/* Fails if a spin longer than 1 ms (the whole loop would wait on one ring) is accepted. */
static void test_poll_us_out_of_range(void)
{
    expect_error("[netdev.a]\ntype = fixture\n[device.d]\nnetdev = a\npoll_us = 5000\n",
                 "test.ini:5: [device.d] poll_us: '5000' is not valid", "0..1000");
}

static void test_device_queues_beyond_backend(void)
{
    expect_error("[netdev.a]\ntype = fixture\nqueues = 2\n[device.d]\nnetdev = a\nqueues = 4\n",
                 "test.ini:6: [device.d] queues: 4 queue pairs, but netdev 'a' has 2 queues", NULL);
}

/* Fails if a vhost-user device without its socket, a socket on an embedded device, or an
 * unknown socket_user is accepted, or the error does not name the file, line and key. */
static void test_vhost_user_socket_keys(void)
{
    static const char dev[] = "[netdev.a]\ntype = fixture\n[device.d]\nnetdev = a\n";
    g_autofree char *no_socket = g_strconcat(dev, "transport = vhost-user\n", NULL);
    g_autofree char *embedded = g_strconcat(dev, "socket = /run/x.sock\n", NULL);
    g_autofree char *bad_user = g_strconcat(dev,
                                            "transport = vhost-user\nsocket = x.sock\n"
                                            "socket_user = no-such-user-here\n",
                                            NULL);
    g_autofree char *too_long =
        g_strdup_printf("%stransport = vhost-user\nsocket = /%0120d\n", dev, 0);

    expect_error(no_socket, "test.ini:5: [device.d] transport: vhost-user needs 'socket = PATH'",
                 NULL);
    expect_error(embedded, "test.ini:5: [device.d] socket: only a vhost-user device has a socket",
                 NULL);
    expect_error(bad_user, "test.ini:7: [device.d] socket_user:", "no-such-user-here");
    expect_error(too_long, "test.ini:6: [device.d] socket: path", "longer than a UNIX socket");
}

static void test_key_outside_section(void)
{
    expect_error("type = fixture\n[netdev.a]\ntype = fixture\n",
                 "test.ini:1: type: key outside any section", NULL);
}

/* Fails if a value longer than 200 bytes (inih's old line buffer) is cut or refused. */
static void test_long_lines_keep_their_value(void)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GString) ports = g_string_new(NULL);

    for (int i = 0; i < 40; i++) {
        g_string_append_printf(text, "[netdev.port%02d]\ntype = fixture\n", i);
        g_string_append_printf(ports, "%sport%02d", i ? ", " : "", i);
    }
    g_string_append_printf(text, "[hub.h]\nports = %s ; forty ports\nconnect = bogus\n",
                           ports->str);
    /* the one error proves the long line parsed: all forty ports were found */
    expect_error(text->str, "test.ini:83: [hub.h] connect: 'bogus' is not valid", NULL);
    g_string_truncate(text, text->len - strlen("connect = bogus\n"));
    g_autofree char *msg = load_config(text->str);
    g_assert_null(msg);
}

/* Fails if a section header longer than inih's old 200-byte buffer is dropped and its keys
 * merge into the section before: the header must be read, and refused by the id rule. */
static void test_long_section_header_is_read_not_merged(void)
{
    g_autoptr(GString) text = g_string_new("[netdev.a]\ntype = fixture\n[netdev.");
    g_autofree char *msg = NULL;

    for (int i = 0; i < 300; i++) {
        g_string_append_c(text, 'x');
    }
    g_string_append(text, "]\nqueues = 2\n");
    msg = load_config(text->str);
    g_assert_nonnull(msg);
    g_assert_true(g_str_has_prefix(msg, "test.ini:3: [netdev.xxxx"));
    g_assert_nonnull(strstr(msg, "bad id 'xxxx"));
    g_assert_null(strstr(msg, "[netdev.a] queues")); /* not merged into [netdev.a] */
    g_assert_cmpuint(count_lines(msg), ==, 1);
}

/* Fails if a value starting with the old in-band marker byte (0x01) crashes or passes:
 * a control character is refused at its line and column. */
static void test_control_character_refused_not_crash(void)
{
    expect_error("[netdev.a]\ntype = fixture\nlog = \x01"
                 "0\n",
                 "test.ini:3: control character 0x01 at column 7", "allowed: printable text");
    expect_error("[netdev.a]\ntype = fixture\nlog = a\x7f\n", "test.ini:3: control character 0x7f",
                 NULL);
}

/* Fails if invalid UTF-8 passes, or its line is not named. */
static void test_invalid_utf8_refused(void)
{
    expect_error("[netdev.a]\ntype = fixture\nlog = /tmp/\xff\xfe\n",
                 "test.ini:3: invalid UTF-8 at column 12", "allowed: UTF-8 text");
    expect_error("[netdev.\xc3]\ntype = fixture\n", "test.ini:1: invalid UTF-8", NULL);
}

/* Fails if a long key line is cut, or a long "key" without '=' is not refused at its line. */
static void test_long_lines_any_kind(void)
{
    g_autoptr(GString) path = g_string_new("/tmp/");
    g_autoptr(GString) noeq = g_string_new(NULL);
    g_autofree char *text = NULL, *text2 = NULL;

    for (int i = 0; i < 5000; i++) {
        g_string_append_c(path, 'a' + i % 26);
        g_string_append_c(noeq, 'k');
    }
    /* queues = 9 after the long line proves the reader stays in step */
    text = g_strdup_printf("[netdev.a]\ntype = fixture\nlog = %s\nqueues = 9\n", path->str);
    expect_error(text, "test.ini:4: [netdev.a] queues: '9' is not valid", NULL);
    text2 = g_strdup_printf("[netdev.a]\ntype = fixture\n%s\n", noeq->str);
    expect_error(text2, "test.ini:3: expected 'key = value'", NULL);
}

/* Fails if CRLF line ends, a byte order mark, or inline-comment rules differ from inih's:
 * ';' after a blank starts a comment, ';' glued to text does not, '#' only at line start. */
static void test_line_ends_bom_and_comments(void)
{
    g_autofree char *msg = load_config("\xef\xbb\xbf[netdev.a]\r\ntype = fixture\r\n"
                                       "# comment\r\n[netdev.b]\ntype = fixture ;c\n"
                                       "log = x;y ; gone\nqueues = 3 # not a comment\n");

    g_assert_nonnull(msg);
    /* the only error: '3 # not a comment' is the whole value of queues */
    g_assert_cmpstr(msg, ==,
                    "test.ini:7: [netdev.b] queues: '3 # not a comment' is not valid "
                    "(allowed: an integer 1..4)");
}

/* Fails if text larger than the 1 MiB limit is parsed, or an empty text is accepted. */
static void test_empty_and_huge_text_refused(void)
{
    g_autofree char *huge = g_strnfill(1024 * 1024 + 1, '\n');

    expect_error("", "test.ini: empty", NULL);
    expect_error(huge, "test.ini: 1048577 bytes, larger than 1 MiB", "allowed: up to 1 MiB");
}

/* Fails if a binary file yields an error per line without end: reading stops at 50. */
static void test_binary_text_stops_early(void)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autofree char *msg = NULL;

    for (int i = 0; i < 10000; i++) {
        g_string_append(text, "\x01\x02\n");
    }
    msg = load_config(text->str);
    g_assert_nonnull(msg);
    g_assert_nonnull(strstr(msg, "test.ini:50: 50 errors; reading stops here"));
    g_assert_cmpuint(count_lines(msg), ==, 51);
}

/* Fails if the plugin's own validation (init) loses file/line/key. */
static void test_plugin_init_error_has_location(void)
{
    expect_error("[netdev.a]\ntype = fixture\nlog =\n",
                 "test.ini:3: [netdev.a] log: must not be empty", NULL);
}

/* Fails if loading stops at the first error: all five must be reported together. */
static void test_all_errors_in_one_run(void)
{
    g_autofree char *msg = load_config("[netdev.a]\ntype = fixture\nqueues = 0\nbogus = 1\n"
                                       "[device.d]\nnetdev = zz\nmtu = 1\n[weird]\n");
    g_auto(GStrv) lines = NULL;

    g_assert_nonnull(msg);
    lines = g_strsplit(msg, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 5);
    g_assert_nonnull(strstr(msg, "test.ini:3: [netdev.a] queues"));
    g_assert_nonnull(strstr(msg, "test.ini:4: [netdev.a] bogus"));
    g_assert_nonnull(strstr(msg, "test.ini:6: [device.d] netdev"));
    g_assert_nonnull(strstr(msg, "test.ini:7: [device.d] mtu"));
    g_assert_nonnull(strstr(msg, "test.ini:8: [weird]"));
}

/* Fails if an immediate connect failure is not reported with the device and the cause. */
static void test_connect_failure_names_netdev_and_cause(void)
{
    expect_error("[netdev.a]\ntype = fixture\nfail_connect = on\n[device.d]\nnetdev = a\n",
                 "test.ini:1: [netdev.a] of [device.d] at line 4: netdev 'a' (fixture)",
                 "Connection refused");
}

/* Fails if a missing file is not reported with its path. */
static void test_missing_file(void)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;

    g_assert_false(netbe_runtime_load_config_file(rt, "/nonexistent/netbe.ini", &err));
    g_assert_nonnull(strstr(err->message, "/nonexistent/netbe.ini: cannot read"));
    netbe_runtime_free(rt);
}

int main(int argc, char **argv)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    int rc;

    g_test_init(&argc, &argv, NULL);
    plugin_dir = test_plugin_dir_new(files);
    g_test_add_func("/config/valid-config-loads", test_valid_config_loads);
    g_test_add_func("/config/syntax-error", test_syntax_error_names_line);
    g_test_add_func("/config/malformed-section-header", test_malformed_section_header);
    g_test_add_func("/config/unknown-section", test_unknown_section);
    g_test_add_func("/config/bad-section-id", test_bad_section_id);
    g_test_add_func("/config/unknown-key", test_unknown_key_lists_allowed_keys);
    g_test_add_func("/config/integer-out-of-range", test_integer_out_of_range);
    g_test_add_func("/config/bad-boolean", test_bad_boolean);
    g_test_add_func("/config/bad-enum", test_bad_enum_value);
    g_test_add_func("/config/missing-required-key", test_missing_required_key);
    g_test_add_func("/config/key-given-twice", test_key_given_twice);
    g_test_add_func("/config/section-given-twice", test_section_given_twice);
    g_test_add_func("/config/dangling-netdev", test_dangling_netdev_reference);
    g_test_add_func("/config/dangling-hub-port", test_dangling_hub_port);
    g_test_add_func("/config/netdev-used-twice", test_netdev_used_by_two_frontends);
    g_test_add_func("/config/unknown-plugin-type", test_unknown_plugin_type);
    g_test_add_func("/config/bad-mac", test_bad_mac);
    g_test_add_func("/config/queue-size-power-of-two", test_queue_size_not_power_of_two);
    g_test_add_func("/config/poll-us-out-of-range", test_poll_us_out_of_range);
    g_test_add_func("/config/device-queues-beyond-backend", test_device_queues_beyond_backend);
    g_test_add_func("/config/vhost-user-socket-keys", test_vhost_user_socket_keys);
    g_test_add_func("/config/key-outside-section", test_key_outside_section);
    g_test_add_func("/config/long-lines-keep-their-value", test_long_lines_keep_their_value);
    g_test_add_func("/config/long-section-header-not-merged",
                    test_long_section_header_is_read_not_merged);
    g_test_add_func("/config/control-character-refused", test_control_character_refused_not_crash);
    g_test_add_func("/config/invalid-utf8-refused", test_invalid_utf8_refused);
    g_test_add_func("/config/long-lines-any-kind", test_long_lines_any_kind);
    g_test_add_func("/config/line-ends-bom-comments", test_line_ends_bom_and_comments);
    g_test_add_func("/config/empty-and-huge-refused", test_empty_and_huge_text_refused);
    g_test_add_func("/config/binary-text-stops-early", test_binary_text_stops_early);
    g_test_add_func("/config/plugin-init-error-location", test_plugin_init_error_has_location);
    g_test_add_func("/config/all-errors-in-one-run", test_all_errors_in_one_run);
    g_test_add_func("/config/connect-failure", test_connect_failure_names_netdev_and_cause);
    g_test_add_func("/config/missing-file", test_missing_file);
    rc = g_test_run();
    test_plugin_dir_free(plugin_dir);
    return rc;
}
