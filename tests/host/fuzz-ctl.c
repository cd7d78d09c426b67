// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-ctl.c - fuzz netbe-host's control protocol 2: arbitrary bytes as a client's request
 * lines (JSON parsing, argument checks, dispatch), through a socketpair into a real
 * ControlServer on a runtime of socket netdevs and a hub.
 * "migrate" calls a fake (nothing leaves the process); "quit" only flags a loop that never
 * runs. Live changes (netdev-add, link, ...) act on a runtime that has the socket plugin
 * only (no TAP, no slirp), and a reload after every input puts the config back. libFuzzer entry
 * point; tests/virtio/fuzz-replay.c makes the replay test of it.
 *
 * Input: byte 0 chooses how the client behaves (bit 0: it closes without reading the reply;
 * bits 1-2: the size of its writes: 1, 7, 64 or all at once), the rest is what it sends.
 * With -Dfuzz=true and clang: build/tests/host/fuzz-ctl -max_total_time=60 CORPUS_DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "control.h"

#define FUZZ_SPINS 100000 /* main loop iterations a client may take before we call it stuck */

static const char fuzz_config[] =
    "[netdev.a]\ntype = socket\nconnect = unix:/nonexistent/netbe-fuzz-ctl/a.sock\n"
    "reconnect = 3600\n"
    "[netdev.b]\ntype = socket\nconnect = unix:/nonexistent/netbe-fuzz-ctl/b.sock\n"
    "reconnect = 3600\n"
    "[hub.lan]\nports = a, b\nconnect = deferred\n";

static NetbeRuntime *rt;
static ControlServer *srv;
static char *config_path; /* fuzz_config in a file: the reload after each input reads it */
static char *plugin_dir;  /* the copy of the socket plugin */

static void remove_files(void)
{
    g_autofree char *plugin = g_build_filename(plugin_dir, "netbe-socket.so", NULL);

    unlink(plugin);
    rmdir(plugin_dir);
    unlink(config_path);
}

/* The fake handover: "ok" succeeds, anything else fails; no socket is ever touched. */
static bool fake_migrate(NetbeRuntime *r, const char *path, NetbeMigStats *st, GError **errp)
{
    if (strcmp(path, "ok") == 0) {
        st->backends = 2;
        return true;
    }
    g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_FAILED, "fuzz: no handover to '%s'", path);
    return false;
}

static void silent(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

/* A private plugin directory with a copy of the socket plugin of NETBE_PLUGIN_PATH. */
static char *socket_plugin_dir(GError **errp)
{
    g_autofree char *dir = g_dir_make_tmp("netbe-fuzz-ctl-XXXXXX", errp);
    g_autofree char *from = NULL, *to = NULL, *bytes = NULL;
    gsize len = 0;

    if (!dir) {
        return NULL;
    }
    from = g_build_filename(g_getenv("NETBE_PLUGIN_PATH") ? g_getenv("NETBE_PLUGIN_PATH") : ".",
                            "netbe-socket.so", NULL);
    to = g_build_filename(dir, "netbe-socket.so", NULL);
    if (!g_file_get_contents(from, &bytes, &len, errp) ||
        !g_file_set_contents_full(to, bytes, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0644, errp)) {
        return NULL;
    }
    return g_steal_pointer(&dir);
}

/* Undo what an input changed: the file's config, and the links up. */
static void restore(void)
{
    netbe_runtime_reload(rt, NULL, NULL);
    netbe_runtime_set_link(rt, "a", true, NULL);
    netbe_runtime_set_link(rt, "b", true, NULL);
}

static void setup(void)
{
    static const char *const refuse[] = {"capture", "reload", NULL}; /* no file is touched */
    const ControlOptions opts = {
        .timeout_ms = 1000, .max_clients = 4, .migrate = fake_migrate, .refuse = refuse};
    g_autoptr(GError) err = NULL;
    int fd;

    g_log_set_default_handler(silent, NULL);
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    fd = g_file_open_tmp("netbe-fuzz-ctl-XXXXXX.ini", &config_path, &err);
    if (fd >= 0) {
        close(fd);
    }
    if (fd < 0 || !g_file_set_contents(config_path, fuzz_config, -1, &err) ||
        !(plugin_dir = socket_plugin_dir(&err))) {
        fprintf(stderr, "fuzz-ctl: %s\n", err->message);
        abort();
    }
    atexit(remove_files);
    netbe_runtime_set_plugin_path(rt, plugin_dir);
    if (!netbe_runtime_load_config_file(rt, config_path, &err) || !netbe_runtime_start(rt, &err) ||
        !(srv = control_server_new(rt, NULL, &opts, &err))) {
        fprintf(stderr, "fuzz-ctl: %s (NETBE_PLUGIN_PATH must name the socket plugin)\n",
                err->message);
        abort();
    }
}

/* Iterate the runtime until the server has no client left; abort if it holds one forever. */
static void settle(void)
{
    for (int i = 0; control_server_clients(srv) > 0; i++) {
        if (i == FUZZ_SPINS) {
            fprintf(stderr, "fuzz-ctl: the server still holds its client\n");
            abort();
        }
        netbe_runtime_iterate(rt, false);
    }
}

/* Parse @line, which must be one JSON object; abort if it is not. */
static JsonParser *parse_object_line(const char *line, JsonObject **objp)
{
    JsonParser *parser = json_parser_new();
    JsonNode *root;

    if (!json_parser_load_from_data(parser, line, -1, NULL) ||
        !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        fprintf(stderr, "fuzz-ctl: reply is no JSON object: %s\n", line);
        abort();
    }
    *objp = json_node_get_object(root);
    return parser;
}

/* Whether @line is an event (a subscribed client gets them between its replies); abort if
 * an event lacks its name or its timestamp, or also carries a reply's members. */
static bool is_event_line(const char *line)
{
    g_autoptr(JsonParser) parser = NULL;
    JsonObject *o, *ts;

    if (!g_str_has_prefix(line, "{\"event\":")) {
        return false;
    }
    parser = parse_object_line(line, &o);
    ts = json_object_has_member(o, "timestamp") ? json_object_get_object_member(o, "timestamp")
                                                : NULL;
    if (!json_object_get_string_member_with_default(o, "event", NULL) || !ts ||
        !json_object_has_member(ts, "seconds") || !json_object_has_member(ts, "microseconds") ||
        json_object_has_member(o, "return") || json_object_has_member(o, "error")) {
        fprintf(stderr, "fuzz-ctl: malformed event: %s\n", line);
        abort();
    }
    return true;
}

/* The lines of @reply that answer requests, in order, events left out; abort if the text
 * does not end with a newline. Split by hand: g_strsplit() is quadratic under ASan. */
static GPtrArray *reply_lines(const GString *reply)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    const char *p = reply->str, *end = reply->str + reply->len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line;

        if (!nl) {
            fprintf(stderr, "fuzz-ctl: reply without its final newline\n");
            abort();
        }
        line = g_strndup(p, (gsize)(nl - p));
        if (is_event_line(line)) {
            g_free(line);
        } else {
            g_ptr_array_add(lines, line);
        }
        p = nl + 1;
    }
    return lines;
}

/* Reply line @line must be a JSON object with a "return" or an "error" of a known class;
 * an error whose message starts with @want if that is not NULL. */
static void check_reply_line(const char *line, const char *want)
{
    g_autoptr(JsonParser) parser = NULL;
    JsonObject *o, *err;

    parser = parse_object_line(line, &o);
    err = json_object_has_member(o, "error") ? json_object_get_object_member(o, "error") : NULL;
    if (!err == !json_object_has_member(o, "return")) {
        fprintf(stderr, "fuzz-ctl: reply with neither or both of return and error: %s\n", line);
        abort();
    }
    if (err && (!json_object_get_string_member_with_default(err, "class", NULL) ||
                !json_object_get_string_member_with_default(err, "message", NULL))) {
        abort();
    }
    if (want && (!err || !g_str_has_prefix(json_object_get_string_member(err, "message"), want))) {
        fprintf(stderr, "fuzz-ctl: expected an error '%s...', got %s\n", want, line);
        abort();
    }
}

/* One reply line per request line, in order, each ending with its newline: an error for a
 * line that holds a NUL byte; for a line too long, an error that is the last line. */
static void check_reply(const uint8_t *req, size_t size, const GString *reply)
{
    g_autoptr(GPtrArray) lines = reply_lines(reply);
    guint n = lines->len, k = 0;
    size_t off = 0;

    while (off < size) {
        const uint8_t *nl = memchr(req + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (req + off)) : size - off;

        if (k == n) {
            fprintf(stderr, "fuzz-ctl: %u replies, more requests\n", n);
            abort();
        }
        if (len > CONTROL_MAX_REQUEST) {
            check_reply_line(lines->pdata[k], "request longer than");
            if (k + 1 != n) {
                abort(); /* the connection ends there */
            }
            return;
        }
        check_reply_line(lines->pdata[k++],
                         memchr(req + off, '\0', len) ? "the request contains a NUL" : NULL);
        off += len + 1;
    }
    if (k != n) {
        fprintf(stderr, "fuzz-ctl: %u replies to %u requests\n", n, k);
        abort();
    }
}

/* Send the next at most @chunk bytes of @data from *@off. Return false once the server
 * closed (after a request too long it answers and closes). */
static bool send_some(int fd, const uint8_t *data, size_t size, size_t chunk, size_t *off)
{
    ssize_t n = send(fd, data + *off, MIN(chunk, size - *off), MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n < 0 && errno == EPIPE) {
        return false;
    }
    if (n < 0 && errno != EAGAIN) {
        abort();
    }
    *off += n > 0 ? (size_t)n : 0;
    return true;
}

/* Talk as a client that reads while it writes (netbe-ctl does; the server answers the
 * next request only once the last reply went out): send @data, end our side, and collect
 * what comes back up to the server's end into @reply. */
static void converse(int fd, const uint8_t *data, size_t size, size_t chunk, GString *reply)
{
    bool writing = true;
    size_t off = 0;

    for (int idle = 0;; idle++) {
        char buf[4096];
        size_t was = off;
        ssize_t n;

        if (writing && off < size) {
            writing = send_some(fd, data, size, chunk, &off);
        }
        if (writing && off == size) {
            shutdown(fd, SHUT_WR);
            writing = false;
        }
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            g_string_append_len(reply, buf, n);
        } else if (n == 0 || errno == ECONNRESET) {
            break; /* ECONNRESET: the server closed with bytes of ours unread (after a line) */
        } else if (errno != EAGAIN || idle == FUZZ_SPINS) {
            fprintf(stderr, "fuzz-ctl: no complete reply: %s\n", g_strerror(errno));
            abort();
        }
        if (n > 0 || off != was) {
            idle = 0;
        }
        netbe_runtime_iterate(rt, false);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = {1, 7, 64, SIZE_MAX};
    g_autoptr(GString) reply = g_string_new(NULL);
    bool leave;
    size_t chunk, off = 0;
    int sp[2];

    if (!rt) {
        setup();
    }
    if (size == 0) {
        return 0;
    }
    leave = data[0] & 1;
    chunk = chunks[(data[0] >> 1) & 3];
    data++, size--;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        abort();
    }
    control_server_add_client(srv, sp[1]);
    if (leave) {
        /* it sends without reading and closes: the server must cope (with a reply it
         * cannot send, it stops reading and drops us after opts.timeout_ms) */
        while (off < size && send_some(sp[0], data, size, chunk, &off)) {
            netbe_runtime_iterate(rt, false);
        }
        close(sp[0]);
        settle();
        restore();
        return 0;
    }
    converse(sp[0], data, size, chunk, reply);
    close(sp[0]);
    settle();
    check_reply(data, size, reply);
    restore();
    return 0;
}
