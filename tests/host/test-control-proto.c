// SPDX-License-Identifier: GPL-2.0-or-later
/* test-control-proto.c - control protocol 2 against a real netbe-host: many requests on one
 * connection with their ids, the error classes, hello, Prometheus metrics, and events
 * (in order; a subscriber that never reads is dropped, nobody else waits). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include "control.h"
#include "host-proc.h"
#include "sock-util.h"

/* A connection to a host's control socket, and the bytes read past the last line. */
typedef struct Conn {
    int fd;
    GString *buf;
} Conn;

static Conn *conn_open(TestHost *h)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    Conn *c = g_new0(Conn, 1);

    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(c->fd, >=, 0);
    g_strlcpy(addr.sun_path, h->control, sizeof(addr.sun_path));
    g_assert_cmpint(connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    c->buf = g_string_new(NULL);
    return c;
}

static void conn_close(Conn *c)
{
    close(c->fd);
    g_string_free(c->buf, true);
    g_free(c);
}

static void conn_send(Conn *c, const char *text)
{
    g_assert_cmpint(send(c->fd, text, strlen(text), MSG_NOSIGNAL), ==, (ssize_t)strlen(text));
}

/* The next line within @ms (without its newline), or NULL at the end of the stream. */
static char *conn_line(Conn *c, int ms)
{
    gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;

    for (;;) {
        char *nl = memchr(c->buf->str, '\n', c->buf->len);
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        char chunk[65536];
        int left = (end - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
        ssize_t n;

        if (nl) {
            char *line = g_strndup(c->buf->str, nl - c->buf->str);

            g_string_erase(c->buf, 0, nl - c->buf->str + 1);
            return line;
        }
        if (left <= 0 || poll(&p, 1, left) != 1) {
            g_error("no line from the host within %d ms (%zu bytes)", ms, c->buf->len);
        }
        n = read(c->fd, chunk, sizeof(chunk)); /* sockets and pipes */
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(c->buf, chunk, n);
    }
}

/* The next line as a JSON object (caller unrefs). */
static JsonObject *conn_object(Conn *c, int ms)
{
    g_autofree char *line = conn_line(c, ms);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonNode *root;

    g_assert_nonnull(line);
    json_parser_load_from_data(parser, line, -1, &err);
    g_assert_no_error(err);
    root = json_parser_get_root(parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return json_object_ref(json_node_get_object(root));
}

/* The id of reply @o as JSON text ("1", "\"a\"", ...). */
static char *id_text(JsonObject *o)
{
    JsonNode *id = json_object_get_member(o, "id");

    return id ? json_to_string(id, false) : g_strdup("(none)");
}

/* The class of reply @o's error, or NULL if it returned. */
static const char *error_class(JsonObject *o)
{
    JsonObject *err =
        json_object_has_member(o, "error") ? json_object_get_object_member(o, "error") : NULL;

    return err ? json_object_get_string_member(err, "class") : NULL;
}

/* Two socket netdevs on a hub: a listener on loopback and a client that reconnects. */
static const char hub_ini[] = "[netdev.lan0]\ntype = socket\nlisten = 127.0.0.1:0\n"
                              "[netdev.lan1]\ntype = socket\nlisten = 127.0.0.1:0\n"
                              "[hub.lan]\nports = lan0, lan1\n";

static TestHost *start_host(const char *ini, const char *const *args)
{
    TestHost *h = test_host_start(ini, NULL, args);

    g_assert_nonnull(h);
    return h;
}

static void finish(TestHost *h)
{
    g_assert_cmpint(test_host_stop(h), ==, 0); /* clean exit; under ASan: no leak */
    test_host_free(h);
}

/* Fails if requests on one connection are not all answered, in order, each with its own
 * id (of any JSON type), or if a reply carries both or neither of return and error. */
static void test_many_requests_one_connection_echo_ids(void)
{
    TestHost *h = start_host(hub_ini, NULL);
    Conn *c = conn_open(h);
    const char *ids[] = {"1", "\"a\"", "{\"n\":[1,2]}", "null", "-7.5", "\"\\u00e9\""};
    const char *cmds[] = {"status", "stats", "hello", "frobnicate", "metrics", "help"};
    GString *batch = g_string_new(NULL);

    /* all at once: the host answers them one after the other */
    for (unsigned round = 0; round < 3; round++) {
        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
            g_string_append_printf(batch, "{\"id\":%s,\"command\":\"%s\"}\n", ids[i], cmds[i]);
        }
    }
    conn_send(c, batch->str);
    for (unsigned round = 0; round < 3; round++) {
        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
            g_autoptr(JsonObject) o = conn_object(c, 5000);
            g_autofree char *id = id_text(o);
            g_autoptr(JsonParser) p = json_parser_new();
            g_autofree char *want = NULL;

            g_assert_true(json_parser_load_from_data(p, ids[i], -1, NULL));
            want = json_to_string(json_parser_get_root(p), false);
            g_assert_cmpstr(id, ==, want);
            g_assert_true(json_object_has_member(o, "return") !=
                          json_object_has_member(o, "error"));
            g_assert_cmpstr(error_class(o), ==, i == 3 ? "UnknownCommand" : NULL);
        }
    }
    g_string_free(batch, true);
    conn_close(c);
    finish(h);
}

/* The error class of the reply to @request on @c. */
static char *class_of(Conn *c, const char *request)
{
    g_autoptr(JsonObject) o = NULL;

    conn_send(c, request);
    o = conn_object(c, 5000);
    return g_strdup(error_class(o));
}

/* Fails if a malformed request does not get the error class the protocol names for it, or
 * if the connection does not go on after each (but for a line too long, which ends it). */
static void test_error_classes(void)
{
    static const struct {
        const char *request, *class;
    } cases[] = {
        {"{\"id\":1,\"command\":\"frobnicate\"}\n", "UnknownCommand"},
        {"{\"id\":2,\"command\":\"status\"\n", "InvalidRequest"}, /* cut JSON */
        {"status\n", "InvalidRequest"},                           /* protocol 1 */
        {"[\"status\"]\n", "InvalidRequest"},
        {"{\"id\":3}\n", "InvalidRequest"},
        {"{\"id\":4,\"command\":7}\n", "InvalidRequest"},
        {"{\"id\":5,\"command\":\"status\",\"bogus\":1}\n", "InvalidRequest"},
        {"{\"id\":6,\"command\":\"status\",\"arguments\":[]}\n", "InvalidRequest"},
        {"{\"id\":7,\"command\":\"status\",\"arguments\":{\"x\":1}}\n", "InvalidArgument"},
        {"{\"id\":8,\"command\":\"migrate\"}\n", "InvalidArgument"},
        {"{\"id\":9,\"command\":\"migrate\",\"arguments\":{\"path\":5}}\n", "InvalidArgument"},
        {"{\"id\":10,\"command\":\"migrate\",\"arguments\":{\"path\":null}}\n", "InvalidArgument"},
        {"{\"id\":11,\"command\":\"migrate\",\"argv\":[\"a\",\"b\"]}\n", "InvalidArgument"},
        {"{\"id\":12,\"command\":\"migrate\",\"argv\":[\"/nonexistent/x.sock\"]}\n", "Failed"},
        {"{\"id\":13,\"command\":\"subscribe\"}\n", NULL},
        {"{\"id\":14,\"command\":\"subscribe\"}\n", "Busy"},
        {"{\"id\":15,\"command\":\"status\"}\n", NULL},
    };
    TestHost *h = start_host(hub_ini, NULL);
    Conn *c = conn_open(h);
    g_autofree char *big = g_strnfill(CONTROL_MAX_REQUEST + 10, ' ');
    g_autoptr(JsonObject) last = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *class = class_of(c, cases[i].request);

        g_test_message("%s -> %s", cases[i].request, class ? class : "return");
        g_assert_cmpstr(class, ==, cases[i].class);
    }
    conn_send(c, big); /* blanks, no newline: too long all the same */
    last = conn_object(c, 5000);
    g_assert_cmpstr(error_class(last), ==, "InvalidRequest");
    g_assert_null(conn_line(c, 5000)); /* and the host closed */
    conn_close(c);
    finish(h);
}

/* Fails if hello does not state protocol 2 and netbe's version, or does not list each
 * command of the table (a command added without its line, or a stale name). */
static void test_hello_lists_commands(void)
{
    TestHost *h = start_host(hub_ini, NULL);
    Conn *c = conn_open(h);
    g_autoptr(JsonObject) o = NULL;
    JsonObject *ret;
    JsonArray *names;

    conn_send(c, "{\"id\":\"h\",\"command\":\"hello\"}\n");
    o = conn_object(c, 5000);
    ret = json_object_get_object_member(o, "return");
    g_assert_cmpint(json_object_get_int_member(ret, "protocol"), ==, CONTROL_PROTOCOL);
    g_assert_cmpstr(json_object_get_string_member(ret, "version"), ==, NETBE_VERSION);
    names = json_object_get_array_member(ret, "commands");
    g_assert_cmpuint(json_array_get_length(names), ==, control_command_count);
    for (unsigned i = 0; i < control_command_count; i++) {
        g_assert_cmpstr(json_array_get_string_element(names, i), ==, control_commands[i].name);
    }
    conn_close(c);
    finish(h);
}

/* Whether @name is a valid Prometheus metric name. */
static bool metric_name_ok(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];

        if (!(g_ascii_isalpha(ch) || ch == '_' || ch == ':' || (i && g_ascii_isdigit(ch)))) {
            return false;
        }
    }
    return len > 0;
}

/* Fails if "netbe-ctl SOCK metrics" is not Prometheus text: a HELP and a TYPE line before
 * each family's samples, names and labels as the format wants, counters named *_total, a
 * value that is a number; one sample per netdev and queue of each queue counter, one per
 * limited netdev of each rate limit counter (wait times in seconds); or if a counter does
 * not say what stats says. */
static void test_metrics_are_prometheus_text(void)
{
    TestHost *h = start_host(hub_ini, NULL);
    g_autofree char *limit = test_host_ctl(h, "rate-limit lan0 rx_bytes_per_sec=1000000");
    g_autofree char *text = test_host_ctl(h, "metrics");
    g_auto(GStrv) lines = NULL;
    g_autoptr(GRegex) sample = g_regex_new("^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{netdev=\"([^\"\\\\]*)\""
                                           "(,queue=\"[0-9]+\")?\\} ([0-9]+(\\.[0-9]+)?)$",
                                           0, 0, NULL);
    g_autofree char *family = NULL;
    unsigned families = 0, samples = 0, queue_samples = 0;
    bool typed = false;

    g_assert_nonnull(limit);
    g_assert_nonnull(text);
    g_assert_true(g_str_has_suffix(text, "\n"));
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i] && *lines[i]; i++) {
        const char *l = lines[i];
        g_autoptr(GMatchInfo) m = NULL;

        if (g_str_has_prefix(l, "# HELP ")) {
            const char *name = l + 7, *sp = strchr(name, ' ');

            g_assert_nonnull(sp);
            g_assert_true(metric_name_ok(name, sp - name));
            g_free(family);
            family = g_strndup(name, sp - name);
            typed = false;
            families++;
        } else if (g_str_has_prefix(l, "# TYPE ")) {
            g_autofree char *want_c = g_strdup_printf("# TYPE %s counter", family);
            g_autofree char *want_g = g_strdup_printf("# TYPE %s gauge", family);

            g_assert_true(strcmp(l, want_c) == 0 || strcmp(l, want_g) == 0);
            g_assert_true(strcmp(l, want_g) == 0 || g_str_has_suffix(family, "_total"));
            typed = true;
        } else {
            g_autofree char *name = NULL;
            g_autofree char *queue = NULL;

            if (!g_regex_match(sample, l, 0, &m)) {
                g_error("not a sample line: '%s'", l);
            }
            name = g_match_info_fetch(m, 1);
            queue = g_match_info_fetch(m, 3);
            g_assert_true(typed);
            g_assert_cmpstr(name, ==, family);
            samples++;
            queue_samples += *queue != '\0';
        }
    }
    g_test_message("%u families, %u samples", families, samples);
    g_assert_cmpuint(queue_samples, ==, 8 * 2);                  /* 8 queue families, two netdevs */
    g_assert_cmpuint(samples - queue_samples, ==, families - 8); /* lan0 alone is limited */
    g_assert_nonnull(
        strstr(text, "\nnetbe_netdev_rx_frames_total{netdev=\"lan1\",queue=\"0\"} 0\n"));
    g_assert_nonnull(strstr(text, "\nnetbe_netdev_rate_limit_limited{netdev=\"lan0\"} 1\n"));
    g_assert_nonnull(strstr(
        text, "\nnetbe_netdev_rate_limit_rx_wait_seconds_total{netdev=\"lan0\"} 0.000000000\n"));
    finish(h);
}

/* Subscribe on @c; Return: after the reply. */
static void subscribe(Conn *c)
{
    g_autoptr(JsonObject) o = NULL;
    g_autofree char *id = NULL;

    conn_send(c, "{\"id\":\"sub\",\"command\":\"subscribe\"}\n");
    o = conn_object(c, 5000);
    id = id_text(o);
    g_assert_cmpstr(id, ==, "\"sub\"");
    g_assert_null(error_class(o));
}

/* The next event on @c: its name; *netdev gets data.netdev, *t its timestamp in us. */
static char *next_event(Conn *c, char **netdev, gint64 *t)
{
    g_autoptr(JsonObject) o = conn_object(c, 10000);
    JsonObject *data = json_object_get_object_member(o, "data");
    JsonObject *ts = json_object_get_object_member(o, "timestamp");

    *netdev = g_strdup(json_object_get_string_member_with_default(data, "netdev", ""));
    *t = json_object_get_int_member(ts, "seconds") * G_USEC_PER_SEC +
         json_object_get_int_member(ts, "microseconds");
    g_assert_cmpint(json_object_get_int_member(ts, "microseconds"), <, G_USEC_PER_SEC);
    return g_strdup(json_object_get_string_member(o, "event"));
}

/* Fails if a subscriber does not get, in the order they happened, the peer events of a
 * socket netdev whose peer goes, comes back (it reconnects) and goes again; or if a
 * request on the subscribed connection is not answered between events. */
static void test_events_in_order_peer_down_up(void)
{
    unsigned port;
    int lfd = test_tcp_listener(&port), peer;
    g_autofree char *ini = g_strdup_printf("[netdev.up]\ntype = socket\nconnect = 127.0.0.1:%u\n"
                                           "reconnect = 1\n"
                                           "[netdev.lan1]\ntype = socket\nlisten = 127.0.0.1:0\n"
                                           "[hub.lan]\nports = up, lan1\n",
                                           port);
    TestHost *h = start_host(ini, NULL);
    Conn *c = conn_open(h);
    const char *want[] = {"peer-disconnected", "peer-connected", "peer-disconnected"};
    gint64 last = 0;

    peer = test_accept_within(lfd, 5000); /* the host connected at start, before we subscribed */
    subscribe(c);
    close(peer);                          /* down */
    peer = test_accept_within(lfd, 5000); /* it reconnects after 1 s: up */
    close(peer);                          /* down again */
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *netdev = NULL;
        g_autofree char *name = NULL;
        gint64 t;

        name = next_event(c, &netdev, &t);
        g_test_message("event %s netdev %s", name, netdev);
        g_assert_cmpstr(name, ==, want[i]);
        g_assert_cmpstr(netdev, ==, "up");
        g_assert_cmpint(t, >=, last);
        last = t;
    }
    conn_send(c, "{\"id\":2,\"command\":\"hello\"}\n"); /* still a request channel */
    {
        g_autoptr(JsonObject) o = NULL;
        g_autofree char *id = NULL;

        do {
            g_clear_pointer(&o, json_object_unref);
            o = conn_object(c, 5000);
        } while (json_object_has_member(o, "event")); /* a reconnect may come first */
        id = id_text(o);
        g_assert_cmpstr(id, ==, "2");
    }
    conn_close(c);
    close(lfd);
    finish(h);
}

static bool log_has(TestHost *h, const char *text)
{
    g_autofree char *log = NULL;

    return g_file_get_contents(h->log, &log, NULL, NULL) && strstr(log, text);
}

/* Connect to @path and close at once: the listening netdev's peer comes and goes. While
 * the listener's backlog is full, the connect waits (for the host: the pace is its own). */
static void touch_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        g_error("connect to %s: %s", path, g_strerror(errno));
    }
    close(fd);
}

/* Fails if a subscriber that never reads makes the host queue without bound (it must be
 * dropped, with a log line, once CONTROL_MAX_QUEUED lines wait) or stalls other clients:
 * status must answer at once all along. */
static void test_subscriber_that_never_reads_is_dropped(void)
{
    const char *args[] = {"--control-timeout", "60000", NULL}; /* the queue bound drops it */
    g_autofree char *dir = g_dir_make_tmp("netbe-ctl-proto-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "peer.sock", NULL);
    g_autofree char *ini = g_strdup_printf("[netdev.lan0]\ntype = socket\nlisten = unix:%s\n"
                                           "[netdev.lan1]\ntype = socket\nlisten = 127.0.0.1:0\n"
                                           "[hub.lan]\nports = lan0, lan1\n",
                                           path);
    TestHost *h = start_host(ini, args);
    Conn *c = conn_open(h);
    unsigned cycles = 0;
    int small = 4096;
    gint64 worst = 0, start = g_get_monotonic_time();

    g_assert_cmpint(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), ==, 0);
    subscribe(c);
    while (!log_has(h, "lines not read; dropped")) {
        g_assert_cmpint(g_get_monotonic_time() - start, <, 60 * G_TIME_SPAN_SECOND);
        for (int i = 0; i < 200; i++, cycles++) {
            touch_unix(path);
        }
        {
            gint64 t0 = g_get_monotonic_time();
            g_autofree char *status = test_host_ctl(h, "status");

            g_assert_nonnull(status);
            worst = MAX(worst, g_get_monotonic_time() - t0);
        }
    }
    g_test_message("dropped after %u peer cycles in %.1f s; status took at most %.1f ms", cycles,
                   (g_get_monotonic_time() - start) / 1e6, worst / 1000.0);
    g_assert_cmpint(worst, <, G_TIME_SPAN_SECOND);
    conn_close(c);
    finish(h);
    unlink(path);
    rmdir(dir);
}

/* The next event of @c, skipping peer events of @skip_netdev (a peer that may come and go). */
static JsonObject *next_event_object(Conn *c)
{
    JsonObject *o = conn_object(c, 10000);

    g_assert_true(json_object_has_member(o, "event"));
    return o;
}

/* "NAME field=value ..." of event @o's name and the data fields @keys (for comparing). */
static char *event_text(JsonObject *o, const char *const *keys)
{
    JsonObject *data = json_object_get_object_member(o, "data");
    GString *out = g_string_new(json_object_get_string_member(o, "event"));

    for (int i = 0; keys[i]; i++) {
        JsonNode *v = json_object_get_member(data, keys[i]);
        g_autofree char *text = v ? json_to_string(v, false) : g_strdup("(none)");

        g_string_append_printf(out, " %s=%s", keys[i], text);
    }
    return g_string_free(out, false);
}

/* Fails if a netdev added live, taken down and up and removed does not produce, in that
 * order and on every subscriber, netdev-up, link-changed down, link-changed up and
 * netdev-down; or if a subscriber gets events of a time before it subscribed. */
static void test_events_netdev_lifecycle(void)
{
    TestHost *h = start_host(hub_ini, NULL);
    Conn *a = conn_open(h), *b = conn_open(h);
    const char *const keys[] = {"netdev", "link", NULL};
    g_autofree char *added = NULL;
    const char *want[] = {
        "netdev-up netdev=\"x\" link=(none)", "link-changed netdev=\"x\" link=\"down\"",
        "link-changed netdev=\"x\" link=\"up\"", "netdev-down netdev=\"x\" link=(none)"};

    g_free(test_host_ctl(h, "link lan1 down")); /* before anyone subscribed: not seen */
    subscribe(a);
    subscribe(b);
    added = test_host_ctl(h, "netdev-add x type=socket listen=127.0.0.1:0");
    g_assert_nonnull(added);
    g_free(test_host_ctl(h, "link x down"));
    g_free(test_host_ctl(h, "link x up"));
    g_free(test_host_ctl(h, "netdev-del x"));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autoptr(JsonObject) ea = next_event_object(a);
        g_autoptr(JsonObject) eb = next_event_object(b);
        g_autofree char *ta = event_text(ea, keys);
        g_autofree char *tb = event_text(eb, keys);

        g_test_message("event %s", ta);
        g_assert_cmpstr(ta, ==, want[i]);
        g_assert_cmpstr(tb, ==, want[i]);
    }
    conn_close(a);
    conn_close(b);
    finish(h);
}

/* Fails if a handover that fails does not show as handover-started (role source, the peer's
 * path) then handover-finished (ok false, the reason) to a subscriber, or if the reply to
 * the migrate on that same connection does not come after both. */
static void test_events_handover_started_finished(void)
{
    TestHost *h = start_host(hub_ini, NULL);
    g_autofree char *path = g_build_filename(h->dir, "dst.sock", NULL);
    g_autofree char *req = g_strdup_printf(
        "{\"id\":\"m\",\"command\":\"migrate\",\"arguments\":{\"path\":\"%s\"}}\n", path);
    int lfd = test_unix_listener(path, 1), dst;
    Conn *c = conn_open(h);
    g_autoptr(JsonObject) started = NULL;
    g_autoptr(JsonObject) finished = NULL;
    g_autoptr(JsonObject) reply = NULL;
    JsonObject *data;

    subscribe(c);
    conn_send(c, req);
    dst = test_accept_within(lfd, 5000);
    close(dst); /* the destination goes at once: the handover fails, the source serves on */
    started = next_event_object(c);
    g_assert_cmpstr(json_object_get_string_member(started, "event"), ==, "handover-started");
    data = json_object_get_object_member(started, "data");
    g_assert_cmpstr(json_object_get_string_member(data, "role"), ==, "source");
    g_assert_cmpstr(json_object_get_string_member(data, "peer"), ==, path);
    finished = next_event_object(c);
    g_assert_cmpstr(json_object_get_string_member(finished, "event"), ==, "handover-finished");
    data = json_object_get_object_member(finished, "data");
    g_assert_false(json_object_get_boolean_member(data, "ok"));
    g_assert_true(*json_object_get_string_member(data, "error"));
    reply = conn_object(c, 10000);
    g_assert_cmpstr(error_class(reply), ==, "Failed");
    conn_close(c);
    close(lfd);
    finish(h);
}

/* Fails if "netbe-ctl SOCK events" does not print one line per event as it comes (text,
 * and the raw line with --json), before the host quits. */
static void test_netbe_ctl_events_prints_lines(void)
{
    TestHost *h = start_host(hub_ini, NULL);
    g_autofree char *cmd =
        g_strdup_printf("exec '%s' --json '%s' events", test_env_path("NETBE_CTL"), h->control);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    GPid pid;
    int out_fd;
    Conn pipe_conn;
    g_autofree char *line = NULL;

    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, &out_fd, NULL, NULL));
    pipe_conn.fd = out_fd;
    pipe_conn.buf = g_string_new(NULL);
    /* netbe-ctl subscribed once its events show up: repeat the change until one does */
    for (int i = 0; i < 100; i++) {
        struct pollfd p = {.fd = out_fd, .events = POLLIN};

        g_free(test_host_ctl(h, i % 2 ? "link lan0 up" : "link lan0 down"));
        if (poll(&p, 1, 100) == 1) {
            break;
        }
    }
    line = conn_line(&pipe_conn, 5000);
    g_assert_nonnull(line);
    g_test_message("netbe-ctl events: %s", line);
    g_assert_true(
        g_str_has_prefix(line, "{\"event\":\"link-changed\",\"data\":{\"netdev\":\"lan0\""));
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);
    close(out_fd);
    g_string_free(pipe_conn.buf, true);
    finish(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/control-proto/many-requests-one-connection",
                    test_many_requests_one_connection_echo_ids);
    g_test_add_func("/control-proto/error-classes", test_error_classes);
    g_test_add_func("/control-proto/hello-lists-commands", test_hello_lists_commands);
    g_test_add_func("/control-proto/metrics-prometheus-text", test_metrics_are_prometheus_text);
    g_test_add_func("/control-proto/events-in-order", test_events_in_order_peer_down_up);
    g_test_add_func("/control-proto/subscriber-never-reads-dropped",
                    test_subscriber_that_never_reads_is_dropped);
    g_test_add_func("/control-proto/events-netdev-lifecycle", test_events_netdev_lifecycle);
    g_test_add_func("/control-proto/events-handover", test_events_handover_started_finished);
    g_test_add_func("/control-proto/netbe-ctl-events", test_netbe_ctl_events_prints_lines);
    return g_test_run();
}
