// SPDX-License-Identifier: GPL-2.0-or-later
/* netbe-host.c - the reference host: runs a netbe runtime from an ini file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include "control.h"
#include "host-log.h"
#include "host-notify.h"
#include "netbe/migrate.h"
#include "netbe/netbe.h"
#include "privdrop.h"
#include "sandbox.h"

typedef struct HostOptions {
    char *config;
    char *control;
    char *plugin_path;
    char *help_plugin;
    char *incoming;
    int incoming_timeout;
    int control_timeout;
    char **handover_allow;
    int handover_timeout;
    gboolean check;
    gboolean list_plugins;
    gboolean verbose;
    char *user;       /* --user: drop to this user once started */
    char *sandbox;    /* --sandbox: on (default) or off */
    PrivUser drop_to; /* --user, looked up at start-up (name borrowed from user) */
} HostOptions;

/* SIGINT or SIGTERM came: leave the main loop; SIGHUP: reload the config. */
static gboolean on_signal(gint fd, GIOCondition cond, gpointer data)
{
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        g_autoptr(GError) err = NULL;

        if (si.ssi_signo == SIGHUP) {
            host_reload(data, NULL, "SIGHUP", &err); /* logged there */
        } else {
            netbe_runtime_quit(data);
        }
    }
    return G_SOURCE_CONTINUE;
}

/*
 * watch_signals() - take SIGINT, SIGTERM and SIGHUP from a signalfd on the runtime's context.
 * GLib's unix signal sources would start a helper thread that blocks every signal: the
 * sandbox's SIGSYS report cannot run there (a refused syscall would kill the process), and
 * the capability drop must happen while one thread runs. So the process keeps one thread.
 * Return: the source (destroy it, then close @fd_out), or NULL with errno set.
 */
static GSource *watch_signals(NetbeRuntime *rt, int *fd_out)
{
    GSource *s;
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        return NULL;
    }
    s = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(s, G_SOURCE_FUNC(on_signal), rt, NULL);
    g_source_attach(s, netbe_runtime_get_context(rt));
    *fd_out = fd;
    return s;
}

/*
 * Hold SIGHUP from the start: its default action would kill netbe-host while it still starts
 * or waits for a handover (--incoming, up to a minute), when systemd's ExecReload or an
 * operator may well send it. Held, it waits until watch_signals() reads it as a reload.
 */
static void block_sighup(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static bool parse_args(int *argc, char ***argv, HostOptions *o)
{
    const GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config, "ini file to run", "FILE"},
        {"check", 0, 0, G_OPTION_ARG_NONE, &o->check,
         "validate the config and exit; opens and connects nothing", NULL},
        {"control", 0, 0, G_OPTION_ARG_FILENAME, &o->control,
         "serve the control protocol (JSON lines; netbe-ctl) on this UNIX socket (mode 0600)",
         "PATH"},
        {"control-timeout", 0, 0, G_OPTION_ARG_INT, &o->control_timeout,
         "ms a control client has to complete a request, to send the next one (unless it "
         "subscribed to events), and to make progress reading (default 5000)",
         "MS"},
        {"plugin-path", 0, 0, G_OPTION_ARG_STRING, &o->plugin_path,
         "':'-separated plugin directories (overrides the config and NETBE_PLUGIN_PATH)", "DIRS"},
        {"list-plugins", 0, 0, G_OPTION_ARG_NONE, &o->list_plugins,
         "list the plugins found and exit", NULL},
        {"help-plugin", 0, 0, G_OPTION_ARG_STRING, &o->help_plugin,
         "show the options of a plugin and exit", "NAME"},
        {"incoming", 0, 0, G_OPTION_ARG_FILENAME, &o->incoming,
         "start as the destination of a live handover: listen on this UNIX socket", "PATH"},
        {"incoming-timeout", 0, 0, G_OPTION_ARG_INT, &o->incoming_timeout,
         "seconds to wait for the source (default 60)", "SEC"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &o->user,
         "once the backends are connected, run as USER (its group, no other groups), "
         "keeping only the capabilities deferred backends still need",
         "USER"},
        {"sandbox", 0, 0, G_OPTION_ARG_STRING, &o->sandbox,
         "on (default): a seccomp filter allows only the syscalls netbe uses once "
         "started; off: none (debugging). --check and --list-plugins never sandbox",
         "on|off"},
        {"handover-allow-uid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->handover_allow,
         "also trust this user or uid as a handover peer (besides root and our own uid); "
         "may be repeated",
         "USER"},
        {"handover-timeout", 0, 0, G_OPTION_ARG_INT, &o->handover_timeout,
         "ms a whole handover attempt may take on this side (default 5000)", "MS"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose, "debug logging", NULL},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- run netbe network backends");
    g_autoptr(GError) err = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(
        ctx, "Examples:\n  netbe-host -c conf/default.ini --control /run/netbe.sock\n"
             "  netbe-host -c my.ini --check\n  netbe-host --help-plugin tap\n");
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "netbe-host: %s (try --help)\n", err->message);
        return false;
    }
    if (*argc > 1) {
        fprintf(stderr, "netbe-host: unexpected argument '%s' (try --help)\n", (*argv)[1]);
        return false;
    }
    if (o->sandbox && strcmp(o->sandbox, "on") != 0 && strcmp(o->sandbox, "off") != 0) {
        fprintf(stderr, "netbe-host: --sandbox %s (allowed: on, off)\n", o->sandbox);
        return false;
    }
    if (o->user && !netbe_user_lookup(o->user, &o->drop_to.uid, &o->drop_to.gid, &err)) {
        fprintf(stderr, "netbe-host: --user: %s\n", err->message);
        return false;
    }
    o->drop_to.name = o->user;
    if (o->control_timeout < 0) {
        fprintf(stderr, "netbe-host: --control-timeout %d: must be 0 (default) or more ms\n",
                o->control_timeout);
        return false;
    }
    if (!o->config && !o->list_plugins && !o->help_plugin) {
        fprintf(stderr, "netbe-host: no config: give -c FILE (try --help)\n");
        return false;
    }
    return true;
}

/* --list-plugins and --help-plugin. Return: exit status. */
static int show_plugins(NetbeRuntime *rt, const HostOptions *o)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = o->list_plugins ? netbe_runtime_list_plugins(rt, &err)
                                            : netbe_runtime_plugin_help(rt, o->help_plugin, &err);

    if (!text) {
        fprintf(stderr, "netbe-host: %s\n", err->message);
        return 1;
    }
    fputs(text, stdout);
    return 0;
}

/*
 * Listen on @path: bound and listening under a temporary name, then linked to @path (which
 * must not exist, as with bind()), so that the file appears only once a source can connect
 * (a source that saw it and connected at once was refused). Return: the listening fd, or -1
 * with @errp set.
 */
static int listen_incoming(const char *path, const HostOptions *o, GError **errp)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_autofree char *tmp = g_strdup_printf("%s.%d", path, (int)getpid());
    mode_t old_umask;
    int fd, err;

    if (strlen(tmp) >= sizeof(addr.sun_path)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG, "--incoming %s: path too long",
                    path);
        return -1;
    }
    strcpy(addr.sun_path, tmp);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    old_umask = umask(0177);
    /* with --user, a source that runs as that user may connect (the handover checks it) */
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        (o->user && chown(tmp, o->drop_to.uid, o->drop_to.gid) < 0) || listen(fd, 1) < 0 ||
        link(tmp, path) < 0) {
        err = errno;
        umask(old_umask);
        if (fd >= 0) {
            unlink(tmp);
            close(fd);
        }
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err), "--incoming %s: %s", path,
                    g_strerror(err));
        return -1;
    }
    umask(old_umask);
    unlink(tmp);
    return fd;
}

/* --incoming: listen, adopt what the source hands over, start. */
static bool receive_handover(NetbeRuntime *rt, const HostOptions *o, GError **errp)
{
    g_autofree char *status = NULL;
    NetbeMigStats st;
    bool ok;
    int fd = listen_incoming(o->incoming, o, errp);

    if (fd < 0) {
        return false;
    }
    g_message("waiting for a handover on %s", o->incoming);
    status = g_strdup_printf("waiting for a handover on %s", o->incoming);
    host_notify_status(status);
    ok = netbe_runtime_migrate_from(
        rt, fd, (o->incoming_timeout > 0 ? o->incoming_timeout : 60) * 1000, &st, errp);
    if (ok) {
        g_message("handover received: downtime %.3f ms, %u backends, %u fds, %u queued frames",
                  st.downtime_ns / 1e6, st.backends, st.fds, st.frames);
    }
    unlink(o->incoming);
    close(fd);
    return ok;
}

/* --user: become that user, keeping the capabilities the backends still need. */
static bool drop_privileges(NetbeRuntime *rt, const HostOptions *o, GError **errp)
{
    uint64_t keep = netbe_runtime_needed_caps(rt);
    g_autofree char *caps = priv_caps_text(keep);

    if (!priv_drop(&o->drop_to, keep, errp)) {
        return false;
    }
    g_message("running as user %s (uid %u, gid %u, no supplementary groups), no_new_privs; "
              "capabilities kept for deferred backends: %s",
              o->user, (unsigned)o->drop_to.uid, (unsigned)o->drop_to.gid, caps);
    return true;
}

/* The seccomp filter, with the syscalls the configured plugins add, compiled. */
static SandboxFilter *prepare_sandbox(NetbeRuntime *rt, char **names, GError **errp)
{
    g_autofree const char **extra = netbe_runtime_extra_syscalls(rt);

    *names = g_strjoinv(",", (char **)extra);
    return sandbox_prepare(extra, errp);
}

/* --handover-allow-uid and --handover-timeout, over what the config says. */
static bool apply_handover_options(NetbeRuntime *rt, const HostOptions *o, GError **errp)
{
    for (int i = 0; o->handover_allow && o->handover_allow[i]; i++) {
        uid_t uid;

        if (!netbe_user_lookup(o->handover_allow[i], &uid, NULL, errp)) {
            g_prefix_error(errp, "--handover-allow-uid: ");
            return false;
        }
        netbe_runtime_allow_handover_uid(rt, uid);
    }
    if (o->handover_timeout && (o->handover_timeout < NETBE_HANDOVER_TIMEOUT_MIN_MS ||
                                o->handover_timeout > NETBE_HANDOVER_TIMEOUT_MAX_MS)) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--handover-timeout %d: out of range (allowed: %d..%d ms)", o->handover_timeout,
                    NETBE_HANDOVER_TIMEOUT_MIN_MS, NETBE_HANDOVER_TIMEOUT_MAX_MS);
        return false;
    }
    if (o->handover_timeout) {
        netbe_runtime_set_handover_timeout(rt, o->handover_timeout);
    }
    return true;
}

static int run_host(NetbeRuntime *rt, const HostOptions *o)
{
    g_autoptr(GError) err = NULL;
    ControlServer *control = NULL;
    SandboxFilter *filter = NULL;
    g_autofree char *extra_names = NULL;
    g_autofree char *status = NULL;
    GSource *signals = NULL;
    gint64 t0 = g_get_monotonic_time();
    int sig_fd = -1, rc = 1;

    /* a second host on a live control socket refuses before it opens any backend (loading
     * the config connects unused ones; its TAP queues would join the live host's TAPs);
     * a handover's source holds the socket meanwhile */
    if (o->control && !o->incoming && !o->check &&
        !netbe_unix_path_usable("control socket", o->control, &err)) {
        fprintf(stderr, "netbe-host: %s\n", err->message);
        return 1;
    }
    if (!netbe_runtime_load_config_file(rt, o->config, &err)) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    if (!apply_handover_options(rt, o, &err)) {
        fprintf(stderr, "netbe-host: %s\n", err->message);
        return 2;
    }
    if (o->user) {
        /* a peer dropped to that user, as we will be, is as trusted as one running as us */
        netbe_runtime_allow_handover_uid(rt, o->drop_to.uid);
    }
    if (o->check) {
        printf("%s: OK\n", o->config);
        return 0;
    }
    /* compiled now, loaded once started: a handover destination serves sooner */
    if (g_strcmp0(o->sandbox, "off") != 0 && !(filter = prepare_sandbox(rt, &extra_names, &err))) {
        goto out;
    }
    if (o->incoming ? !receive_handover(rt, o, &err) : !netbe_runtime_start(rt, &err)) {
        goto out;
    }
    if (o->control &&
        !(control = control_server_new(
              rt, o->control, &(ControlOptions){.timeout_ms = o->control_timeout}, &err))) {
        goto out;
    }
    if (!(signals = watch_signals(rt, &sig_fd))) {
        g_set_error(&err, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot watch SIGINT, SIGTERM and SIGHUP: %s", g_strerror(errno));
        goto out;
    }
    /* started: drop what is not needed any more, then confine what is left */
    if ((o->user && !drop_privileges(rt, o, &err)) || (filter && !sandbox_enter(filter, &err))) {
        goto out;
    }
    if (filter) {
        g_message("sandbox on: seccomp filter on every thread%s%s",
                  *extra_names ? "; plugins add " : "", extra_names);
    }
    g_message("serving %s in %.2f ms", o->config, (g_get_monotonic_time() - t0) / 1000.0);
    status = g_strdup_printf("serving %s", o->config);
    host_notify_ready(status);
    netbe_runtime_run(rt);
    g_message("shutting down");
    host_notify_stopping();
    rc = 0;
out:
    if (err) {
        fprintf(stderr, "netbe-host: %s\n", err->message);
    }
    control_server_free(control);
    sandbox_filter_free(filter);
    if (signals) {
        g_source_destroy(signals);
        g_source_unref(signals);
        close(sig_fd);
    }
    netbe_runtime_stop(rt);
    return rc;
}

/* Free what the option parser filled in (also after it refused the arguments). */
static void host_options_clear(HostOptions *o)
{
    g_free(o->config);
    g_free(o->control);
    g_free(o->plugin_path);
    g_free(o->help_plugin);
    g_free(o->incoming);
    g_free(o->user);
    g_free(o->sandbox);
    g_strfreev(o->handover_allow);
}

int main(int argc, char **argv)
{
    HostOptions o = {0};
    NetbeRuntime *rt;
    const char *env_path = g_getenv("NETBE_PLUGIN_PATH");
    int rc;

    if (!parse_args(&argc, &argv, &o)) {
        host_options_clear(&o);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a peer that went away is an error return, not our death */
    block_sighup();           /* a reload asked for while we start waits for the signalfd */
    host_log_setup();         /* to the journal with netbe's fields, when stderr is the journal */
    if (o.verbose) {
        g_setenv("G_MESSAGES_DEBUG", "all", true);
    }
    rt = netbe_runtime_new(NULL, o.check ? NETBE_RUNTIME_CHECK_ONLY : NETBE_RUNTIME_DEFAULT);
    if (o.plugin_path || env_path) {
        netbe_runtime_set_plugin_path(rt, o.plugin_path ? o.plugin_path : env_path);
    }
    rc = o.config ? run_host(rt, &o) : show_plugins(rt, &o);
    netbe_runtime_free(rt);
    host_options_clear(&o);
    return rc;
}
