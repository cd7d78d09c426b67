// SPDX-License-Identifier: GPL-2.0-or-later
/* netbe-ctl.c - a small client for netbe-host's control socket: one command from the
 * command line as a protocol 2 request, its reply as text (or JSON); or the events. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include "ctl-format.h"

/* Default for the whole exchange: a migrate waits for the handover (several seconds). */
#define CTL_TIMEOUT_MS 30000
#define CTL_CONNECT_RETRY_MS 20 /* the host's backlog is full: try again after this */

/* The id of our request: the reply carries it. */
#define CTL_REQUEST_ID 1

typedef struct CtlArgs {
    const char *path;
    const char *command; /* as the host names it ("events" asks for "subscribe") */
    GPtrArray *words;    /* the command's arguments, as typed */
    bool json;           /* print what the host returned as JSON */
    bool events;         /* subscribe, then print events until the end */
    gint64 deadline;     /* g_get_monotonic_time() when we give up */
    int timeout_ms;
} CtlArgs;

static int usage(void)
{
    fprintf(stderr, "usage: netbe-ctl [--json] [--timeout MS] SOCKET COMMAND [ARG...]\n"
                    "  COMMAND: status, stats, metrics, events, quit, migrate PATH, hello, help\n"
                    "  (help lists what this host offers, with the arguments)\n");
    return 2;
}

/* Milliseconds left before the deadline, at least 0. */
static int ms_left(const CtlArgs *a)
{
    gint64 left = (a->deadline - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;

    return left > 0 ? (int)left : 0;
}

/* Wait for @events on @fd until the deadline. Return: false on timeout. */
static bool wait_for(const CtlArgs *a, int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc;

    do {
        rc = poll(&p, 1, ms_left(a));
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}

/* Wait for input on @fd with no deadline (events). Return: false on a poll error. */
static bool wait_forever(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc;

    do {
        rc = poll(&p, 1, -1);
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}

/* What to tell the user when connect() failed with @err. */
static const char *connect_hint(int err)
{
    static const struct {
        int err;
        const char *hint;
    } hints[] = {
        {ENOENT, " (is netbe-host running with --control on this path?)"},
        {EACCES, " (the control socket is mode 0600: run as root or as netbe-host's user)"},
        {EPERM, " (the control socket is mode 0600: run as root or as netbe-host's user)"},
        {ECONNREFUSED, " (nothing listens: netbe-host is gone and left its socket file)"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(hints); i++) {
        if (hints[i].err == err) {
            return hints[i].hint;
        }
    }
    return "";
}

/* Connect to the host, waiting while its backlog is full. Return: the fd, or -1 (reported). */
static int ctl_connect(const CtlArgs *a)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    strcpy(addr.sun_path, a->path);
    while (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN || ms_left(a) == 0) {
            fprintf(stderr, "netbe-ctl: cannot connect to %s: %s%s\n", a->path,
                    errno == EAGAIN ? "the host accepts no connection (busy)" : g_strerror(errno),
                    connect_hint(errno));
            close(fd);
            return -1;
        }
        g_usleep(CTL_CONNECT_RETRY_MS * 1000);
    }
    if (fd < 0) {
        fprintf(stderr, "netbe-ctl: socket: %s\n", g_strerror(errno));
    }
    return fd;
}

/* The request line: {"id":1,"command":..,"argv":[words]}. */
static char *request_line(const CtlArgs *a)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, CTL_REQUEST_ID);
    json_builder_set_member_name(b, "command");
    json_builder_add_string_value(b, a->command);
    if (a->words->len) {
        json_builder_set_member_name(b, "argv");
        json_builder_begin_array(b);
        for (guint i = 0; i < a->words->len; i++) {
            json_builder_add_string_value(b, g_ptr_array_index(a->words, i));
        }
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, NULL);
    return g_strconcat(text, "\n", NULL);
}

/* Send @line whole. Return: false (reported) on a failure; a host that refused us before
 * reading counts as sent: its refusal line says why. */
static bool send_all(const CtlArgs *a, int fd, const char *line)
{
    size_t off = 0, len = strlen(line);

    while (off < len) {
        ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EAGAIN && wait_for(a, fd, POLLOUT)) {
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            break;
        }
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "netbe-ctl: %s: cannot send the request: %s\n", a->path,
                    errno == EAGAIN ? "timed out" : g_strerror(errno));
            return false;
        }
        off += n > 0 ? (size_t)n : 0;
    }
    return true;
}

/*
 * The next line from the host (without its newline), reading into @buf; until the deadline
 * when @timed. Return: the line (caller frees), or NULL (reported, unless at a clean end of
 * stream when @eof_ok) at the end of the stream, on a timeout or an error.
 */
static char *read_line(const CtlArgs *a, int fd, GString *buf, bool timed, bool eof_ok)
{
    char chunk[16384];

    for (;;) {
        char *nl = memchr(buf->str, '\n', buf->len);
        ssize_t n;

        if (nl) {
            char *line = g_strndup(buf->str, nl - buf->str);

            g_string_erase(buf, 0, nl - buf->str + 1);
            return line;
        }
        n = recv(fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            g_string_append_len(buf, chunk, n);
        } else if (n == 0) {
            if (buf->len || !eof_ok) {
                fprintf(stderr, "netbe-ctl: %s: %s\n", a->path,
                        buf->len ? "the reply was cut short (no final newline)"
                                 : "the host closed the connection without a reply");
            }
            return NULL;
        } else if (errno == EAGAIN && !(timed ? wait_for(a, fd, POLLIN) : wait_forever(fd))) {
            fprintf(stderr, "netbe-ctl: %s: no complete reply within %d ms (%zu bytes so far)\n",
                    a->path, a->timeout_ms, buf->len);
            return NULL;
        } else if (errno != EAGAIN && errno != EINTR) {
            fprintf(stderr, "netbe-ctl: %s: reading the reply: %s\n", a->path, g_strerror(errno));
            return NULL;
        }
    }
}

/* @line parsed as a JSON object, or NULL (reported). */
static JsonObject *parse_object(const CtlArgs *a, JsonParser *parser, const char *line)
{
    g_autoptr(GError) err = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, line, -1, &err)) {
        fprintf(stderr, "netbe-ctl: %s: the host sent no JSON: %s\n", a->path, err->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        fprintf(stderr, "netbe-ctl: %s: the host sent no JSON object\n", a->path);
        return NULL;
    }
    return json_node_get_object(root);
}

/* Whether @o answers our request: its id, or an error without id (a refusal, a request
 * the host could not parse). */
static bool is_our_reply(JsonObject *o)
{
    JsonNode *id = json_object_get_member(o, "id");

    if (!id) {
        return json_object_has_member(o, "error");
    }
    return JSON_NODE_HOLDS_VALUE(id) && json_node_get_value_type(id) == G_TYPE_INT64 &&
           json_node_get_int(id) == CTL_REQUEST_ID;
}

/* Print the reply @o: its return on stdout, its error on stderr. Return: exit status. */
static int print_reply(const CtlArgs *a, JsonObject *o, const char *line)
{
    JsonNode *ret = json_object_get_member(o, "return");
    JsonNode *err_node = json_object_get_member(o, "error");
    JsonObject *error =
        err_node && JSON_NODE_HOLDS_OBJECT(err_node) ? json_node_get_object(err_node) : NULL;
    g_autofree char *text = NULL;

    if (err_node || !ret) {
        const char *msg = error ? json_object_get_string_member_with_default(error, "message", "")
                          : err_node ? "the host's error has no message"
                                     : "the reply has neither a return nor an error";

        fprintf(stderr, "error: %s\n", msg);
        return 1;
    }
    if (a->events) {
        return 0; /* subscribed: the events follow */
    }
    if (a->json) {
        text = json_to_string(ret, false);
        printf("%s\n", text);
    } else {
        text = ctl_format_return(a->command, ret);
        fputs(text, stdout);
    }
    fflush(stdout);
    return 0;
}

/* After subscribing: print every event line until the host closes. Return: exit status. */
static int print_events(const CtlArgs *a, int fd, GString *buf)
{
    for (;;) {
        g_autofree char *line = read_line(a, fd, buf, false, true);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autofree char *text = NULL;
        JsonObject *o;

        if (!line) {
            return 0;
        }
        if (!(o = parse_object(a, parser, line)) || !json_object_has_member(o, "event")) {
            continue;
        }
        if (a->json) {
            printf("%s\n", line);
        } else {
            text = ctl_format_event(o);
            fputs(text, stdout);
        }
        fflush(stdout);
    }
}

/* Wait (until the deadline) for the host to close the connection after its reply: once we
 * exit, it holds nothing of ours any more (tests count its fds). */
static void wait_closed(const CtlArgs *a, int fd)
{
    char buf[4096];
    ssize_t n;

    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
        if (n < 0 && errno != EINTR && (errno != EAGAIN || !wait_for(a, fd, POLLIN))) {
            return;
        }
    }
}

/* Send the request, wait for its reply (skipping other lines), print it. Return: exit
 * status. */
static int exchange(const CtlArgs *a, int fd)
{
    g_autofree char *request = request_line(a);
    g_autoptr(GString) buf = g_string_new(NULL);

    if (!send_all(a, fd, request)) {
        return 1;
    }
    if (!a->events) {
        shutdown(fd, SHUT_WR); /* one request: the host closes once it answered */
    }
    for (;;) {
        g_autofree char *line = read_line(a, fd, buf, true, false);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *o;
        int rc;

        if (!line || !(o = parse_object(a, parser, line))) {
            return 1;
        }
        if (!is_our_reply(o)) {
            continue;
        }
        rc = print_reply(a, o, line);
        if (a->events) {
            return rc == 0 ? print_events(a, fd, buf) : rc;
        }
        wait_closed(a, fd);
        return rc;
    }
}

/* Parse the command line into @a. Return: false on a usage error. */
static bool parse_args(int argc, char **argv, CtlArgs *a)
{
    struct sockaddr_un addr;

    a->timeout_ms = CTL_TIMEOUT_MS;
    for (int i = 1; i < argc; i++) {
        char *end;

        if (strcmp(argv[i], "--json") == 0) {
            a->json = true;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            a->timeout_ms = strtol(argv[++i], &end, 10);
            if (*end || a->timeout_ms <= 0) {
                fprintf(stderr, "netbe-ctl: --timeout %s: give milliseconds, more than 0\n",
                        argv[i]);
                return false;
            }
        } else if (!a->path) {
            a->path = argv[i];
        } else if (!a->command) {
            a->command = argv[i];
        } else {
            g_ptr_array_add(a->words, argv[i]);
        }
    }
    if (!a->path || !a->command) {
        return false;
    }
    if (strlen(a->path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "netbe-ctl: %s: path longer than %zu bytes\n", a->path,
                sizeof(addr.sun_path) - 1);
        return false;
    }
    if (strcmp(a->command, "events") == 0) {
        a->command = "subscribe";
        a->events = true;
    }
    a->deadline = g_get_monotonic_time() + a->timeout_ms * G_TIME_SPAN_MILLISECOND;
    return true;
}

int main(int argc, char **argv)
{
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    CtlArgs a = {.words = words};
    int fd, rc;

    signal(SIGPIPE, SIG_IGN);
    if (!parse_args(argc, argv, &a)) {
        return usage();
    }
    fd = ctl_connect(&a);
    if (fd < 0) {
        return 1;
    }
    rc = exchange(&a, fd);
    close(fd);
    return rc;
}
