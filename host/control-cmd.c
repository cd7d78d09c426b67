// SPDX-License-Identifier: GPL-2.0-or-later
/* control-cmd.c - the commands of netbe-host's control socket: parse a request, answer it. */
#include <string.h>
#include "control-traffic.h"
#include "control.h"

/* A parsed request line: a command, its arguments, and "--json" anywhere. */
typedef struct ControlRequest {
    const char *cmd;
    const char *arg;
    bool json;
    bool extra;      /* more than one argument */
    GPtrArray *args; /* every argument (const char *), NULL-terminated */
} ControlRequest;

/* A command that takes any number of arguments (@args, NULL-terminated). */
typedef char *(*ControlWordsHandler)(NetbeRuntime *rt, const char *const *args, bool json);

/* A command: @arg is its argument or NULL. Return: the reply (caller frees). */
typedef char *(*ControlHandler)(NetbeRuntime *rt, const char *arg, bool json,
                                ControlMigrateFn migrate);

static char *handle_status(NetbeRuntime *rt, const char *arg, bool json, ControlMigrateFn migrate)
{
    return netbe_runtime_status(rt, json);
}

static char *handle_stats(NetbeRuntime *rt, const char *arg, bool json, ControlMigrateFn migrate)
{
    return netbe_runtime_stats(rt, json);
}

/* Hand every deferred backend to the destination at @arg; on success, quit. */
static char *handle_migrate(NetbeRuntime *rt, const char *arg, bool json, ControlMigrateFn migrate)
{
    g_autoptr(GError) err = NULL;
    NetbeMigStats st = {0};

    if (!migrate(rt, arg, &st, &err)) {
        g_warning("%s; still running here", err->message);
        return g_strdup_printf(CONTROL_ERROR_PREFIX "%s; the source keeps running\n", err->message);
    }
    g_message("handed over to %s: downtime %.3f ms", arg, st.downtime_ns / 1e6);
    netbe_runtime_quit(rt);
    if (json) {
        return g_strdup_printf("{\"downtime_ms\":%.3f,\"backends\":%u,\"devices\":%u,"
                               "\"fds\":%u,\"frames\":%u}\n",
                               st.downtime_ns / 1e6, st.backends, st.devices, st.fds, st.frames);
    }
    return g_strdup_printf("migrated: downtime %.3f ms, %u backends, %u fds, %u queued frames, "
                           "%u devices\n",
                           st.downtime_ns / 1e6, st.backends, st.fds, st.frames, st.devices);
}

static char *handle_quit(NetbeRuntime *rt, const char *arg, bool json, ControlMigrateFn migrate)
{
    netbe_runtime_quit(rt);
    return g_strdup(json ? "{\"quitting\":true}\n" : "quitting\n");
}

static const struct {
    const char *name;
    ControlHandler handler;
    const char *arg; /* name of the one argument it needs, or NULL for none */
    const char *help;
    ControlWordsHandler words; /* instead of @handler: takes all its arguments */
} control_commands[] = {
    {"status", handle_status, NULL, "netdevs, hubs and devices with their state"},
    {"stats", handle_stats, NULL, "per netdev and queue counters"},
    {"quit", handle_quit, NULL, "shut down cleanly"},
    {"migrate", handle_migrate, "the destination's socket path",
     "hand the backends over to PATH, then exit"},
    {"capture", NULL, NULL,
     "ID FILE [--count N] [--seconds S]: write a netdev's frames to a pcap file", control_capture},
    {"capture-stop", NULL, NULL, "ID: stop a capture", control_capture_stop},
    {"rate-limit", NULL, NULL, "ID [key=value...]: change or show a netdev's rate limits",
     control_rate_limit},
};

/* Split @words (modified in place by the caller's strsplit) into @req. */
static void parse_request(char **words, ControlRequest *req)
{
    for (int i = 0; words[i]; i++) {
        if (strcmp(words[i], "--json") == 0) {
            req->json = true;
        } else if (!*words[i]) {
            continue; /* runs of blanks */
        } else if (!req->cmd) {
            req->cmd = words[i];
        } else {
            g_ptr_array_add(req->args, words[i]);
            req->extra = req->arg != NULL;
            req->arg = req->arg ? req->arg : words[i];
        }
    }
}

/* The error reply for an unknown command @cmd, listing the known ones. */
static char *unknown_command(const char *cmd)
{
    g_autofree char *shown = g_strescape(cmd ? cmd : "", NULL);
    GString *help = g_string_new(CONTROL_ERROR_PREFIX);

    g_string_append_printf(help, "unknown command '%s' (allowed:", shown);
    for (size_t i = 0; i < G_N_ELEMENTS(control_commands); i++) {
        g_string_append_printf(help, " %s", control_commands[i].name);
    }
    g_string_append(help, ")\n");
    return g_string_free(help, false);
}

char *control_answer(NetbeRuntime *rt, const char *line, ControlMigrateFn migrate)
{
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    ControlRequest req = {.args = args};

    parse_request(words, &req);
    g_ptr_array_add(args, NULL);
    for (size_t i = 0; req.cmd && i < G_N_ELEMENTS(control_commands); i++) {
        const char *want = control_commands[i].arg;

        if (strcmp(req.cmd, control_commands[i].name) != 0) {
            continue;
        }
        if (control_commands[i].words) {
            return control_commands[i].words(rt, (const char *const *)args->pdata, req.json);
        }
        if (want && !req.arg) {
            return g_strdup_printf(CONTROL_ERROR_PREFIX "%s needs %s\n", req.cmd, want);
        }
        if ((!want && req.arg) || req.extra) {
            return g_strdup_printf(CONTROL_ERROR_PREFIX "%s takes %s\n", req.cmd,
                                   want ? "one argument" : "no argument (only --json)");
        }
        return control_commands[i].handler(rt, req.arg, req.json, migrate);
    }
    return unknown_command(req.cmd);
}
