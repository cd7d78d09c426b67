// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-dispatch.c - what a foreign loop pays per netbe_runtime_dispatch(): syscalls and ns,
 * against the runtime fd's algorithm before issue 10 and GLib's own iteration, same run.
 *
 * Cases: "idle" (a dispatch with nothing to do), "frame" (a 64-byte frame through a hub of
 * two socket netdevs per round; the foreign loop waits for the fd, then dispatches) and
 * "timer" (a 1 ms timeout on the runtime's context). Variants: netbe_runtime_dispatch()
 * (after), the old loop fd (before: bench/core/loop-fd-old.c on its own epoll fd over the
 * same context) and g_main_context_iteration() (GLib's own loop, whose poll is its wait;
 * blocking for frames, not run for the timer). Syscalls: this program runs each variant
 * under strace -f with marks around every dispatch (--count) and counts what lies between
 * them. Time: without strace, the ns spent inside the dispatch calls only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include "dispatch-rig.h"
#include "loop-fd-old.h"

typedef enum Variant { V_NEW, V_OLD, V_GLIB, N_VARIANTS } Variant;
typedef enum Case { C_IDLE, C_FRAME, C_TIMER, N_CASES } Case;

static const char *const variant_names[] = {"netbe_runtime_dispatch", "old-loop-fd",
                                            "g_main_context_iteration"};
static const char *const case_names[] = {"idle", "frame", "timer"};
/* rounds timed without strace, per case (times --scale); and counted under strace */
static const unsigned timed_rounds[] = {100000, 20000, 300};
#define COUNTED_ROUNDS 200

/*
 * Run - one variant driving a rig.
 * @wait_fd: what the foreign loop waits for before a dispatch (-1: none)
 * @block:   g_main_context_iteration() may block (its poll is the wait)
 * @mark:    put each dispatch between marks, for strace
 * @ns:      time spent inside dispatch calls
 * @calls:   dispatch calls made
 * @fired:   the timer case's timeouts that ran
 */
typedef struct Run {
    DispatchRig *rig;
    Variant v;
    OldLoopFd *old;
    int wait_fd;
    bool block, mark;
    uint64_t ns;
    unsigned calls, fired;
} Run;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void run_dispatch(void *opaque)
{
    Run *r = opaque;
    uint64_t t0;

    if (r->mark) {
        dispatch_mark();
    }
    t0 = now_ns();
    if (r->v == V_NEW) {
        netbe_runtime_dispatch(r->rig->rt);
    } else if (r->v == V_OLD) {
        old_loop_fd_dispatch(r->old);
    } else {
        g_main_context_iteration(netbe_runtime_get_context(r->rig->rt), r->block);
    }
    r->ns += now_ns() - t0;
    if (r->mark) {
        dispatch_mark();
    }
    r->calls++;
}

static gboolean count_fire(gpointer opaque)
{
    ((Run *)opaque)->fired++;
    return G_SOURCE_CONTINUE;
}

static bool readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, ms) == 1;
}

/* A rig driven by variant @v, set up for case @c and settled (nothing left to do). */
static Run *run_open(Variant v, Case c)
{
    Run *r = g_new0(Run, 1);
    GMainContext *ctx;

    r->rig = dispatch_rig_new();
    r->v = v;
    r->wait_fd = -1;
    ctx = netbe_runtime_get_context(r->rig->rt);
    if (c == C_TIMER) {
        GSource *t = g_timeout_source_new(1);

        g_source_set_callback(t, count_fire, r, NULL);
        g_source_attach(t, ctx);
        g_source_unref(t);
    }
    if (v == V_NEW) {
        r->wait_fd = netbe_runtime_get_fd(r->rig->rt);
    } else if (v == V_OLD) {
        r->old = old_loop_fd_new(ctx);
        r->wait_fd = old_loop_fd_get(r->old);
    }
    for (int i = 0; i < 10 && (r->wait_fd < 0 || readable(r->wait_fd, 0)); i++) {
        run_dispatch(r);
    }
    r->block = v == V_GLIB && c == C_FRAME;
    r->ns = 0;
    r->calls = 0;
    r->fired = 0;
    return r;
}

static void run_close(Run *r)
{
    if (r->old) {
        old_loop_fd_free(r->old);
    }
    dispatch_rig_free(r->rig);
    g_free(r);
}

/* One round of case @c. Return: false if its frame or timeout did not come. */
static bool run_round(Run *r, Case c)
{
    unsigned fired = r->fired;

    switch (c) {
    case C_IDLE:
        run_dispatch(r);
        return true;
    case C_FRAME:
        return dispatch_rig_forward(r->rig, 64, r->wait_fd, run_dispatch, r, false) > 0;
    default:
        for (int i = 0; i < 1000 && r->fired == fired; i++) {
            readable(r->wait_fd, 100);
            run_dispatch(r);
        }
        return r->fired > fired;
    }
}

/* @n rounds; @mark: for strace. Return: false if a round failed. */
static bool run_rounds(Variant v, Case c, unsigned n, bool mark, uint64_t *ns, unsigned *calls)
{
    Run *r = run_open(v, c);
    bool ok = true;

    r->mark = mark;
    for (unsigned i = 0; i < n && ok; i++) {
        ok = run_round(r, c);
    }
    *ns = r->ns;
    *calls = r->calls;
    run_close(r);
    return ok;
}

/*
 * Counted - what strace saw.
 * @dispatches: marked dispatches
 * @syscalls:   syscalls inside them
 * @mix:        per dispatch, by syscall ("epoll_wait 1, recvmsg 2, ...")
 */
typedef struct Counted {
    unsigned dispatches, syscalls;
    char *mix;
} Counted;

static gint by_count_desc(gconstpointer a, gconstpointer b, gpointer counts)
{
    return GPOINTER_TO_INT(g_hash_table_lookup(counts, b)) -
           GPOINTER_TO_INT(g_hash_table_lookup(counts, a));
}

/* Run this program with --count under strace for @v and @c. Return: false on failure. */
static bool count_syscalls(Variant v, Case c, Counted *out)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *rounds = g_strdup_printf("%u", COUNTED_ROUNDS);
    char *argv[] = {self,   "--count", (char *)case_names[c], (char *)variant_names[v], "--rounds",
                    rounds, NULL};
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) stretches = dispatch_trace(argv, NULL, &err);
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GList) names = NULL;
    g_autoptr(GString) mix = g_string_new("");

    if (!stretches) {
        g_printerr("bench-dispatch: %s\n", err->message);
        return false;
    }
    *out = (Counted){.dispatches = stretches->len};
    for (guint i = 0; i < stretches->len; i++) {
        GPtrArray *s = g_ptr_array_index(stretches, i);

        out->syscalls += s->len;
        for (guint j = 0; j < s->len; j++) {
            char *name = dispatch_trace_name(g_ptr_array_index(s, j));
            gpointer n = g_hash_table_lookup(counts, name);

            g_hash_table_insert(counts, name, GINT_TO_POINTER(GPOINTER_TO_INT(n) + 1));
        }
    }
    names = g_list_sort_with_data(g_hash_table_get_keys(counts), by_count_desc, counts);
    for (GList *l = names; l; l = l->next) {
        g_string_append_printf(mix, "%s%s %.2g", l == names ? "" : ", ", (char *)l->data,
                               (double)GPOINTER_TO_INT(g_hash_table_lookup(counts, l->data)) /
                                   out->dispatches);
    }
    out->mix = g_strdup(mix->str);
    return out->dispatches > 0;
}

/* --count CASE VARIANT: the rounds strace watches. Return: the exit status. */
static int count_mode(const char *case_name, const char *variant_name, unsigned rounds)
{
    uint64_t ns;
    unsigned calls;

    for (int c = 0; c < N_CASES; c++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            if (strcmp(case_name, case_names[c]) == 0 &&
                strcmp(variant_name, variant_names[v]) == 0) {
                return run_rounds(v, c, rounds, true, &ns, &calls) ? 0 : 1;
            }
        }
    }
    g_printerr("bench-dispatch: no case %s or variant %s\n", case_name, variant_name);
    return 2;
}

static void quiet_log(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

/*
 * Row - one case and variant: strace's count and the time per dispatch.
 * @rounds: rounds timed; @calls: dispatches they took
 */
typedef struct Row {
    Counted counted;
    unsigned rounds, calls;
    double ns_per_dispatch;
} Row;

static bool measure(Variant v, Case c, double scale, Row *row)
{
    uint64_t ns;

    row->rounds = MAX(10, (unsigned)(timed_rounds[c] * scale));
    if (!count_syscalls(v, c, &row->counted) ||
        !run_rounds(v, c, row->rounds, false, &ns, &row->calls)) {
        return false;
    }
    row->ns_per_dispatch = (double)ns / MAX(row->calls, 1);
    return true;
}

static double per_dispatch(const Row *r)
{
    return (double)r->counted.syscalls / MAX(r->counted.dispatches, 1);
}

int main(int argc, char **argv)
{
    g_autofree char *json_path = NULL, *json_dir = NULL, *count_case = NULL;
    double scale = 1.0;
    int rounds = COUNTED_ROUNDS;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "write results here", "FILE"},
        {"scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "multiply the timed rounds", "X"},
        {"count", 0, 0, G_OPTION_ARG_STRING, &count_case,
         "run CASE VARIANT's rounds for strace (internal)", "CASE"},
        {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "rounds for --count", "N"},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- syscalls and ns per dispatch");
    g_autoptr(GString) json = g_string_new("{\"bench\":\"dispatch\",\"results\":[");
    g_autoptr(GError) err = NULL;
    Row rows[N_CASES][N_VARIANTS] = {0};

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("bench-dispatch: %s\n", err->message);
        return 2;
    }
    g_log_set_handler("netbe-socket", G_LOG_LEVEL_MESSAGE, quiet_log, NULL);
    if (count_case) {
        return argc == 2 ? count_mode(count_case, argv[1], (unsigned)rounds) : 2;
    }
    if (!json_path) {
        json_path = g_strdup("bench-results/dispatch.json");
    }
    json_dir = g_path_get_dirname(json_path);
    g_mkdir_with_parents(json_dir, 0755);
    printf("%-6s %-25s %9s %9s %9s %7s %7s  %s\n", "case", "variant", "sys/disp", "disp/rnd",
           "ns/disp", "sys/old", "ns/old", "syscalls per dispatch (strace)");
    for (int c = 0; c < N_CASES; c++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            Row *r = &rows[c][v];

            if (c == C_TIMER && v == V_GLIB) {
                continue; /* its poll would sleep inside the timed call */
            }
            if (!measure(v, c, scale, r)) {
                g_printerr("bench-dispatch: %s / %s failed\n", case_names[c], variant_names[v]);
                return 1;
            }
        }
        for (int v = 0; v < N_VARIANTS; v++) {
            Row *r = &rows[c][v], *old = &rows[c][V_OLD];

            if (!r->calls) {
                continue;
            }
            printf("%-6s %-25s %9.2f %9.2f %9.0f %7.2f %7.2f  %s\n", case_names[c],
                   variant_names[v], per_dispatch(r), (double)r->calls / r->rounds,
                   r->ns_per_dispatch, per_dispatch(r) / per_dispatch(old),
                   r->ns_per_dispatch / old->ns_per_dispatch, r->counted.mix);
            g_string_append_printf(
                json,
                "%s{\"case\":\"%s\",\"variant\":\"%s\",\"syscalls_per_dispatch\":%.3f,"
                "\"syscall_mix\":\"%s\",\"dispatches_per_round\":%.3f,\"ns_per_dispatch\":%.1f,"
                "\"syscalls_ratio_vs_old\":%.3f,\"ns_ratio_vs_old\":%.3f}",
                json->str[json->len - 1] == '[' ? "" : ",", case_names[c], variant_names[v],
                per_dispatch(r), r->counted.mix, (double)r->calls / r->rounds, r->ns_per_dispatch,
                per_dispatch(r) / per_dispatch(old), r->ns_per_dispatch / old->ns_per_dispatch);
            g_free(r->counted.mix);
        }
        fflush(stdout);
    }
    g_string_append(json, "]}\n");
    if (!g_file_set_contents(json_path, json->str, -1, &err)) {
        g_printerr("bench-dispatch: %s\n", err->message);
        return 1;
    }
    printf("results: %s\n", json_path);
    return 0;
}
