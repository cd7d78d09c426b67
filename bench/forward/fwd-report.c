// SPDX-License-Identifier: GPL-2.0-or-later
/* fwd-report.c - the forwarding bench's table and JSON: medians of the repeated runs, with
 * ratios against the raw loop and QEMU measured in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fwd.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double fwd_median(const double *v, unsigned n)
{
    g_autofree double *s = g_memdup2(v, n * sizeof(*v));

    if (n == 0) {
        return 0;
    }
    qsort(s, n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The row of @forwarder measured on the same source and frame as @r, NULL if none. */
static const FwdRow *baseline(const FwdRow *rows, size_t n, const FwdRow *r, const char *forwarder)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i].frame_len == r->frame_len && g_str_equal(rows[i].source, r->source) &&
            g_str_equal(rows[i].forwarder, forwarder) && !rows[i].error && rows[i].runs) {
            return &rows[i];
        }
    }
    return NULL;
}

/* @a / @b as "1.23" into @buf, "-" when either is unknown. */
static const char *ratio_text(char *buf, size_t size, double a, double b)
{
    if (a > 0 && b > 0) {
        g_snprintf(buf, size, "%.2f", a / b);
    } else {
        g_strlcpy(buf, "-", size);
    }
    return buf;
}

static void json_runs(GString *js, const double *v, unsigned n)
{
    g_string_append_c(js, '[');
    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(js, "%s%.0f", i ? ", " : "", v[i]);
    }
    g_string_append_c(js, ']');
}

static void json_ratio(GString *js, const char *key, double a, double b)
{
    if (a > 0 && b > 0) {
        g_string_append_printf(js, ", \"%s\": %.3f", key, a / b);
    } else {
        g_string_append_printf(js, ", \"%s\": null", key);
    }
}

/* One row of the table and its JSON object. Return: 1 if it is a netbe stream row that meets
 * @target against QEMU, -1 if it misses it, 0 if it is not checked (another row, no QEMU). */
static int report_row(const FwdRow *rows, size_t n, const FwdRow *r, double target, GString *js)
{
    const FwdRow *raw = baseline(rows, n, r, "raw"), *qemu = baseline(rows, n, r, "qemu");
    const FwdRow *base = baseline(rows, n, r, "netbe-base");
    double base_fps = base ? fwd_median(base->fps, base->runs) : 0;
    double base_proc = base ? fwd_median(base->proc_ns, base->runs) : 0;
    double fps = r->error ? 0 : fwd_median(r->fps, r->runs);
    double others = r->error ? 0 : fwd_median(r->others, r->runs);
    double proc = r->error ? 0 : fwd_median(r->proc_ns, r->runs);
    double raw_fps = raw ? fwd_median(raw->fps, raw->runs) : 0;
    double qemu_fps = qemu ? fwd_median(qemu->fps, qemu->runs) : 0;
    double qemu_proc = qemu ? fwd_median(qemu->proc_ns, qemu->runs) : 0;
    g_autofree char *name =
        r->io ? g_strdup_printf("%s io=%s", r->forwarder, r->io) : g_strdup(r->forwarder);
    bool checked = qemu && g_str_equal(r->forwarder, "netbe") && g_str_equal(r->source, "stream");
    int met = !checked ? 0 : fps >= target * qemu_fps ? 1 : -1;
    char b1[16], b2[16], b3[16], b4[16], b5[16];

    if (r->error) {
        printf("%-7s %6zu  %-18s failed: %s\n", r->source, r->frame_len, name, r->error);
    } else {
        printf(
            "%-7s %6zu  %-18s %10.0f %6.2f %10.0f %8.0f %5.0f%% %4.0f%% %6s %7s %8s %6s "
            "%8s%s\n",
            r->source, r->frame_len, name, fps, fps * r->frame_len * 8 / 1e9,
            fwd_median(r->offered, r->runs), proc, others * 100, fwd_median(r->ran, r->runs) * 100,
            ratio_text(b1, sizeof(b1), fps, raw_fps), ratio_text(b2, sizeof(b2), fps, qemu_fps),
            ratio_text(b3, sizeof(b3), qemu_proc, proc), ratio_text(b4, sizeof(b4), fps, base_fps),
            ratio_text(b5, sizeof(b5), base_proc, proc), met < 0 ? "  < target" : "");
    }
    g_string_append_printf(js,
                           "    {\"source\": \"%s\", \"frame_bytes\": %zu, \"forwarder\": \"%s\", "
                           "\"io\": ",
                           r->source, r->frame_len, r->forwarder);
    g_string_append_printf(js, r->io ? "\"%s\"" : "null", r->io);
    if (r->error) {
        g_autofree char *esc = g_strescape(r->error, NULL);

        g_string_append_printf(js, ", \"error\": \"%s\"}", esc);
        return met;
    }
    g_string_append_printf(js,
                           ", \"fps\": %.0f, \"gbps\": %.3f, \"offered_fps\": %.0f, "
                           "\"process_ns_per_frame\": %.0f, \"cpu_others\": %.3f, "
                           "\"process_ran\": %.3f, \"runs_measured_again\": %u, \"fps_runs\": ",
                           fps, fps * r->frame_len * 8 / 1e9, fwd_median(r->offered, r->runs), proc,
                           others, fwd_median(r->ran, r->runs), r->dropped);
    json_runs(js, r->fps, r->runs);
    json_ratio(js, "ratio_raw", fps, raw_fps);
    json_ratio(js, "ratio_qemu", fps, qemu_fps);
    json_ratio(js, "cpu_ratio_qemu", qemu_proc, proc);
    json_ratio(js, "ratio_netbe_base", fps, base_fps);
    json_ratio(js, "cpu_ratio_netbe_base", base_proc, proc);
    g_string_append(js, "}");
    return met;
}

bool fwd_report(const FwdRow *rows, size_t n, double target, const char *meta,
                const char *json_path)
{
    g_autoptr(GString) js = g_string_new("{\n  \"benchmark\": \"forward\",\n");
    g_autofree char *dir = g_path_get_dirname(json_path);
    g_autoptr(GError) err = NULL;
    unsigned checked = 0, missed = 0;
    double busiest = 0; /* the most others took of the forwarder's CPU in a row */

    g_string_append_printf(js, "%s,\n  \"target_ratio_qemu_stream\": %.2f,\n  \"results\": [\n",
                           meta, target);
    printf("\n%-7s %6s  %-18s %10s %6s %10s %8s %6s %5s %6s %7s %8s %6s %8s\n", "source", "frame",
           "forwarder", "frames/s", "Gb/s", "offered/s", "ns/frame", "others", "ran", "x raw",
           "x qemu", "cpu x qemu", "x base", "cpu x base");
    for (size_t i = 0; i < n; i++) {
        int met;

        if (i > 0 && (rows[i].frame_len != rows[i - 1].frame_len ||
                      !g_str_equal(rows[i].source, rows[i - 1].source))) {
            printf("\n");
        }
        met = report_row(rows, n, &rows[i], target, js);
        checked += met != 0;
        missed += met < 0;
        if (!rows[i].error) {
            busiest = MAX(busiest, fwd_median(rows[i].others, rows[i].runs));
        }
        g_string_append(js, i + 1 < n ? ",\n" : "\n");
    }
    g_string_append_printf(js, "  ],\n  \"target_met\": %s\n}\n",
                           !checked ? "null"
                           : missed ? "false"
                                    : "true");
    printf("\nframes/s: counted on the receiving TAP, median of the runs' (each the median of its "
           "0.25 s\nwindows); offered/s: what the sender got rid of; ns/frame: the forwarder "
           "process's\nCPU time per frame; others: the share of its CPU that went to anything "
           "else (ksoftirqd,\nother people; a run above --max-others is measured again); ran: "
           "the share of the time\nthe forwarder ran (below 100%%: it waited for frames, or "
           "others took its CPU); x raw,\nx qemu: frames/s against those rows; cpu x qemu: "
           "QEMU's ns/frame / this row's (the rate\nratio each would reach with a CPU of its "
           "own);\nx base, cpu x base: the same against netbe-base (--hooks: a build without the "
           "capture\nand rate-limit hooks)."
           "\nTarget: netbe stream >= %.2f x qemu: %s\n",
           target,
           !checked ? "not measured"
           : missed ? "NOT met"
                    : "met");
    if (busiest > 0.1) {
        printf("Others took up to %.0f%% of the forwarder's CPU: its frames/s are low; compare "
               "ns/frame\n(cpu x qemu), or run again on a quiet machine.\n",
               busiest * 100);
    }
    g_mkdir_with_parents(dir, 0755);
    if (!g_file_set_contents(json_path, js->str, -1, &err)) {
        g_printerr("bench-forward: %s\n", err->message);
        return false;
    }
    printf("JSON: %s\n", json_path);
    return true;
}
