// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-live.c - what live changes cost with N netdevs in a hub (64 by default): netdev-add
 * (+ hub-port-add), netdev-del, and reloads (nothing changed, one netdev changed or added,
 * all changed), each against a cold load and start of the same config, same run.
 *
 * Backends: "socket" (stream listeners on 127.0.0.1, port chosen by the kernel; no
 * privileges) and, as root, "tap" (TAPs in a namespace this bench creates and deletes). Each
 * figure is the median of --rounds runs. Ratios: a reload against the cold load of its
 * file; netdev-add and netdev-del against the cold load's share of one netdev. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "netbe/netbe.h"
#include "host-proc.h"
#include "netns.h"

typedef enum Op {
    OP_COLD,
    OP_ADD,
    OP_DEL,
    OP_RELOAD_SAME,
    OP_RELOAD_ONE,
    OP_RELOAD_ADD,
    OP_RELOAD_ALL,
    N_OPS
} Op;

static const char *const op_names[] = {
    "cold load+start",  "netdev-add+port", "netdev-del",         "reload same",
    "reload 1 changed", "reload 1 added",  "reload all changed",
};

typedef struct Bench {
    const char *type; /* "socket" or "tap" */
    unsigned n;
    char *dir;
    char *ns; /* tap: the namespace the TAPs live in */
} Bench;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* "KEY=VALUE" words of netdev @i; @gen changes a value (a changed netdev). */
static char **netdev_words(const Bench *b, unsigned i, unsigned gen)
{
    g_autofree char *line =
        strcmp(b->type, "tap") == 0
            ? g_strdup_printf("type=tap ifname=nbl%u-%u queue_limit=%u", getpid() % 10000, i,
                              1000 + gen)
            : g_strdup_printf("type=socket listen=127.0.0.1:0 queue_limit=%u", 1000 + gen);

    return g_strsplit(line, " ", -1);
}

/* The ini of netdevs 0..@n-1 in [hub.h]; netdev @changed (-1: all, -2: none) changed. */
static char *config(const Bench *b, unsigned n, int changed)
{
    GString *s = g_string_new(NULL), *ports = g_string_new(NULL);

    for (unsigned i = 0; i < n; i++) {
        g_auto(GStrv) words = netdev_words(b, i, changed == (int)i || changed == -1);

        g_string_append_printf(s, "[netdev.n%u]\n", i);
        for (int k = 0; words[k]; k++) {
            g_autofree char *line = g_strdup(words[k]);
            char *eq = strchr(line, '=');

            *eq = 0;
            g_string_append_printf(s, "%s = %s\n", line, eq + 1);
        }
        g_string_append_printf(ports, "%sn%u", i ? ", " : "", i);
    }
    g_string_append_printf(s, "[hub.h]\nports = %s\n", ports->str);
    g_string_free(ports, true);
    return g_string_free(s, false);
}

static char *write_config(const Bench *b, const char *name, const char *text)
{
    char *path = g_build_filename(b->dir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static NetbeRuntime *start(const char *path, double *ms)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;
    double t0;

    netbe_runtime_set_plugin_path(rt, test_env_path("NETBE_PLUGIN_PATH"));
    t0 = now_ms();
    if (!netbe_runtime_load_config_file(rt, path, &err) || !netbe_runtime_start(rt, &err)) {
        g_error("bench-live: %s", err->message);
    }
    *ms = now_ms() - t0;
    return rt;
}

/* One round of every op, times in @ms[op]. */
static void round_once(const Bench *b, double ms[N_OPS])
{
    g_autofree char *base = config(b, b->n, -2), *one = config(b, b->n, 0);
    g_autofree char *more = config(b, b->n + 1, -2), *all = config(b, b->n, -1);
    g_autofree char *p_base = write_config(b, "base.ini", base);
    g_autofree char *p_one = write_config(b, "one.ini", one);
    g_autofree char *p_more = write_config(b, "more.ini", more);
    g_autofree char *p_all = write_config(b, "all.ini", all);
    g_autofree char *id = g_strdup_printf("n%u", b->n);
    g_auto(GStrv) words = netdev_words(b, b->n, 0);
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = start(p_base, &ms[OP_COLD]);
    struct {
        Op op;
        const char *path;
    } reloads[] = {{OP_RELOAD_SAME, p_base},
                   {OP_RELOAD_ONE, p_one},
                   {OP_RELOAD_ADD, p_more},
                   {OP_RELOAD_ALL, p_all}};
    double t0 = now_ms();

    if (!netbe_runtime_netdev_add(rt, id, (const char *const *)words, &err) ||
        !netbe_runtime_hub_port_add(rt, "h", id, &err)) {
        g_error("bench-live: %s", err->message);
    }
    ms[OP_ADD] = now_ms() - t0;
    t0 = now_ms();
    g_assert_true(netbe_runtime_netdev_del(rt, id, NULL));
    ms[OP_DEL] = now_ms() - t0;
    for (size_t i = 0; i < G_N_ELEMENTS(reloads); i++) {
        g_assert_true(netbe_runtime_reload(rt, p_base, NULL)); /* back to the base first */
        t0 = now_ms();
        if (!netbe_runtime_reload(rt, reloads[i].path, &err)) {
            g_error("bench-live: %s", err->message);
        }
        ms[reloads[i].op] = now_ms() - t0;
    }
    netbe_runtime_free(rt);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median of every op over @rounds rounds into @med. */
static void run(const Bench *b, unsigned rounds, double med[N_OPS])
{
    g_autofree double *all = g_new0(double, (size_t)rounds *N_OPS);
    int saved = b->ns ? test_netns_enter(b->ns) : -1;

    for (unsigned r = 0; r < rounds; r++) {
        double ms[N_OPS];

        round_once(b, ms);
        for (int op = 0; op < N_OPS; op++) {
            all[(size_t)op * rounds + r] = ms[op];
        }
    }
    if (b->ns) {
        test_netns_leave(saved);
    }
    for (int op = 0; op < N_OPS; op++) {
        qsort(&all[(size_t)op * rounds], rounds, sizeof(double), cmp_double);
        med[op] = all[(size_t)op * rounds + rounds / 2];
    }
}

static void quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
}

int main(int argc, char **argv)
{
    g_autofree char *json_path = NULL, *json_dir = NULL;
    int netdevs = 64, rounds = 5;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "write results here", "FILE"},
        {"netdevs", 0, 0, G_OPTION_ARG_INT, &netdevs, "netdevs in the hub (64)", "N"},
        {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "rounds; the median is shown (5)", "N"},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the cost of live changes");
    g_autoptr(GString) json = g_string_new("{\"bench\":\"live\",\"results\":[");
    g_autoptr(GError) err = NULL;
    const char *types[] = {"socket", geteuid() == 0 ? "tap" : NULL};

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || netdevs < 1 || rounds < 1) {
        g_printerr("bench-live: %s\n", err ? err->message : "--netdevs and --rounds must be > 0");
        return 2;
    }
    g_log_set_handler("netbe", G_LOG_LEVEL_MESSAGE, quiet_log, NULL);
    g_log_set_handler("netbe-socket", G_LOG_LEVEL_MESSAGE, quiet_log, NULL);
    g_log_set_handler("netbe-tap", G_LOG_LEVEL_MESSAGE, quiet_log, NULL);
    if (!json_path) {
        json_path = g_strdup("bench-results/live.json");
    }
    json_dir = g_path_get_dirname(json_path);
    g_mkdir_with_parents(json_dir, 0755);
    printf("%-7s %4s %-19s %10s %9s  %s\n", "backend", "n", "operation", "ms", "x cold", "against");
    for (size_t t = 0; t < G_N_ELEMENTS(types) && types[t]; t++) {
        Bench b = {
            .type = types[t], .n = (unsigned)netdevs, .dir = g_dir_make_tmp("nbl-XXXXXX", NULL)};
        double med[N_OPS];

        b.ns = strcmp(b.type, "tap") == 0 ? test_netns_create("bl") : NULL;
        run(&b, (unsigned)rounds, med);
        for (int op = 0; op < N_OPS; op++) {
            bool per_netdev = op == OP_ADD || op == OP_DEL;
            double base = op == OP_COLD ? med[OP_COLD]
                          : per_netdev  ? med[OP_COLD] / b.n
                                        : med[OP_COLD];

            printf("%-7s %4u %-19s %10.3f %9.3f  %s\n", b.type, b.n, op_names[op], med[op],
                   med[op] / base,
                   op == OP_COLD ? "itself"
                   : per_netdev  ? "cold load / n"
                                 : "cold load");
            g_string_append_printf(json,
                                   "%s{\"backend\":\"%s\",\"netdevs\":%u,\"op\":\"%s\","
                                   "\"ms\":%.4f,\"ratio\":%.4f,\"against\":\"%s\"}",
                                   json->str[json->len - 1] == '[' ? "" : ",", b.type, b.n,
                                   op_names[op], med[op], med[op] / base,
                                   op == OP_COLD ? "itself"
                                   : per_netdev  ? "cold_per_netdev"
                                                 : "cold");
        }
        if (b.ns) {
            test_netns_delete(b.ns);
            g_free(b.ns);
        }
        for (const char *const *f =
                 (const char *const[]){"base.ini", "one.ini", "more.ini", "all.ini", NULL};
             *f; f++) {
            g_autofree char *path = g_build_filename(b.dir, *f, NULL);

            unlink(path);
        }
        rmdir(b.dir);
        g_free(b.dir);
    }
    g_string_append(json, "]}\n");
    if (!g_file_set_contents(json_path, json->str, -1, &err)) {
        g_printerr("bench-live: %s\n", err->message);
        return 1;
    }
    printf("results: %s\n", json_path);
    return 0;
}
