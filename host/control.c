/* control.c - netbe-host's control socket: one request line, one reply, then close. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include "control.h"
#include "netbe/migrate.h"

struct ControlServer {
    NetbeRuntime *rt;
    char *path;
    int fd;
    GSource *source;
    GList *clients;     /* ControlClient* */
};

typedef struct ControlClient {
    ControlServer *srv;
    int fd;
    GSource *source;
    GString *request;
} ControlClient;

/* A command: @arg is its one argument or NULL. Return: the reply (caller frees). */
typedef char *(*ControlHandler)(ControlServer *srv, const char *arg, bool json);

static char *handle_status(ControlServer *srv, const char *arg, bool json)
{
    return netbe_runtime_status(srv->rt, json);
}

static char *handle_stats(ControlServer *srv, const char *arg, bool json)
{
    return netbe_runtime_stats(srv->rt, json);
}

/* Hand every deferred backend to the destination at @arg; on success, quit. */
static char *handle_migrate(ControlServer *srv, const char *arg, bool json)
{
    g_autoptr(GError) err = NULL;
    NetbeMigStats st;

    if (!arg) {
        return g_strdup(CONTROL_ERROR_PREFIX "migrate needs the destination's socket path\n");
    }
    if (!netbe_runtime_migrate_to(srv->rt, arg, &st, &err)) {
        g_warning("%s; still running here", err->message);
        return g_strdup_printf(CONTROL_ERROR_PREFIX "%s; the source keeps running\n",
                               err->message);
    }
    g_message("handed over to %s: downtime %.3f ms", arg, st.downtime_ns / 1e6);
    netbe_runtime_quit(srv->rt);
    if (json) {
        return g_strdup_printf("{\"downtime_ms\":%.3f,\"backends\":%u,\"devices\":%u,"
                               "\"fds\":%u,\"frames\":%u}\n", st.downtime_ns / 1e6,
                               st.backends, st.devices, st.fds, st.frames);
    }
    return g_strdup_printf("migrated: downtime %.3f ms, %u backends, %u fds, %u queued frames, "
                           "%u devices\n", st.downtime_ns / 1e6, st.backends, st.fds, st.frames,
                           st.devices);
}

static char *handle_quit(ControlServer *srv, const char *arg, bool json)
{
    netbe_runtime_quit(srv->rt);
    return g_strdup(json ? "{\"quitting\":true}\n" : "quitting\n");
}

static const struct {
    const char *name;
    ControlHandler handler;
    const char *help;
} control_commands[] = {
    { "status", handle_status, "netdevs, hubs and devices with their state" },
    { "stats", handle_stats, "per netdev and queue counters" },
    { "quit", handle_quit, "shut down cleanly" },
    { "migrate", handle_migrate, "hand the backends over to PATH, then exit" },
};

/* Answer one request line. Return: the reply (caller frees). */
static char *control_answer(ControlServer *srv, const char *line)
{
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    const char *cmd = NULL, *arg = NULL;
    bool json = false;
    GString *help;

    for (int i = 0; words[i]; i++) {
        if (strcmp(words[i], "--json") == 0) {
            json = true;
        } else if (*words[i] && !cmd) {
            cmd = words[i];
        } else if (*words[i] && !arg) {
            arg = words[i];
        }
    }
    for (size_t i = 0; cmd && i < G_N_ELEMENTS(control_commands); i++) {
        if (strcmp(cmd, control_commands[i].name) == 0) {
            return control_commands[i].handler(srv, arg, json);
        }
    }
    help = g_string_new(CONTROL_ERROR_PREFIX);
    g_string_append_printf(help, "unknown command '%s' (allowed:", cmd ? cmd : "");
    for (size_t i = 0; i < G_N_ELEMENTS(control_commands); i++) {
        g_string_append_printf(help, " %s", control_commands[i].name);
    }
    g_string_append(help, ")\n");
    return g_string_free(help, false);
}

static void control_client_free(ControlClient *c)
{
    c->srv->clients = g_list_remove(c->srv->clients, c);
    g_source_destroy(c->source);
    g_source_unref(c->source);
    close(c->fd);
    g_string_free(c->request, true);
    g_free(c);
}

static void control_reply(ControlClient *c, const char *reply)
{
    size_t len = strlen(reply), off = 0;

    while (off < len) {
        ssize_t n = write(c->fd, reply + off, len - off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* the client went away or stalled past SO_SNDTIMEO */
        }
        off += n;
    }
}

static gboolean control_client_readable(gint fd, GIOCondition cond, gpointer data)
{
    ControlClient *c = data;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf));
    char *nl;

    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n > 0) {
        g_string_append_len(c->request, buf, n);
    }
    nl = memchr(c->request->str, '\n', c->request->len);
    if (!nl && n > 0 && c->request->len <= CONTROL_MAX_REQUEST) {
        return G_SOURCE_CONTINUE;
    }
    if (nl || n == 0) {
        g_autofree char *reply = NULL;

        if (nl) {
            *nl = '\0';
        }
        reply = c->request->len > CONTROL_MAX_REQUEST ?
                g_strdup(CONTROL_ERROR_PREFIX "request too long\n") :
                control_answer(c->srv, c->request->str);
        control_reply(c, reply);
    }
    control_client_free(c);
    return G_SOURCE_REMOVE;
}

static gboolean control_accept(gint fd, GIOCondition cond, gpointer data)
{
    ControlServer *srv = data;
    struct timeval tv = { .tv_sec = 2 };
    ControlClient *c;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (cfd < 0) {
        return G_SOURCE_CONTINUE;
    }
    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c = g_new0(ControlClient, 1);
    c->srv = srv;
    c->fd = cfd;
    c->request = g_string_new(NULL);
    c->source = g_unix_fd_source_new(cfd, G_IO_IN | G_IO_HUP);
    g_source_set_callback(c->source, G_SOURCE_FUNC(control_client_readable), c, NULL);
    g_source_attach(c->source, netbe_runtime_get_context(srv->rt));
    srv->clients = g_list_prepend(srv->clients, c);
    return G_SOURCE_CONTINUE;
}

ControlServer *control_server_new(NetbeRuntime *rt, const char *path, GError **errp)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    ControlServer *srv;
    mode_t old_umask;
    int fd, rc;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
                    "control socket %s: path longer than %zu bytes", path,
                    sizeof(addr.sun_path) - 1);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "control socket %s: %s", path, g_strerror(errno));
        return NULL;
    }
    old_umask = umask(0177); /* the socket file is created 0600 */
    rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old_umask);
    if (rc < 0 || listen(fd, 8) < 0) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "control socket %s: %s%s", path, g_strerror(errno),
                    errno == EADDRINUSE ? " (another netbe-host? remove the file if not)" : "");
        close(fd);
        return NULL;
    }
    srv = g_new0(ControlServer, 1);
    srv->rt = rt;
    srv->path = g_strdup(path);
    srv->fd = fd;
    srv->source = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(srv->source, G_SOURCE_FUNC(control_accept), srv, NULL);
    g_source_attach(srv->source, netbe_runtime_get_context(rt));
    return srv;
}

void control_server_free(ControlServer *srv)
{
    if (!srv) {
        return;
    }
    while (srv->clients) {
        control_client_free(srv->clients->data);
    }
    g_source_destroy(srv->source);
    g_source_unref(srv->source);
    close(srv->fd);
    unlink(srv->path);
    g_free(srv->path);
    g_free(srv);
}
