// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-forward.c - netbe-host against QEMU 7.2 forwarding the same traffic through a hub into
 * a TAP, side by side in one run, with the raw syscall loop beside them (needs root).
 *
 * Every measurement starts one forwarder (the raw loop, a guestless QEMU or netbe-host) on
 * a CPU of its own and one sender on another, in a network namespace of the bench's own;
 * the frames/s are what the receiving TAP's kernel counters count after a warm-up, the
 * median of 0.25 s windows (the machine is shared: a window in which someone else took the
 * CPU does not count). The forwarders take turns, each run is repeated and the median of
 * the runs is reported.
 *
 * QEMU 7.2 as a forwarder: `-M none -nodefaults -display none` runs its net layer and main
 * loop with no guest; `-netdev hubport,id=H,hubid=0,netdev=ID` puts a netdev on hub 0 (it
 * warns "hub 0 with no nics"). `-netdev stream,server=off,addr.*` connects in the background
 * and once only (7.2 has no reconnect=), so the sender listens before QEMU starts;
 * `-netdev dgram,local.*,remote.*` is UDP; the old `socket,connect=` / `socket,udp=` forms are
 * separate code (--qemu-legacy). `-netdev tap,ifname=X,script=no,downscript=no` attaches to
 * our TAP with a vnet header by default: with a hub for peer it writes a zero header before
 * each frame and strips it on reads. netbe's vnet_hdr = auto leaves the header off when the
 * hub's ports use none. --no-vnet-hdr: vnet_hdr=off for both. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fwd.h"
#include "netns.h"

#define TARGET_STREAM 1.5 /* issue 10: netbe forwards a stream >= 1.5x QEMU */
#define START_TIMEOUT 10  /* s for a forwarder to pass its first frames */
#define WINDOW 0.25       /* s: a run's rate is the median of its windows' */
#define MAX_WINDOWS 400
#define NETBE_INI "netbe.ini"         /* netbe-host's config, in our temporary directory */
#define FORWARDER_LOG "forwarder.log" /* the forwarder's stdout and stderr, there too */
#define RETRIES 2                     /* more runs when others took the forwarder's CPU */
/* --hooks, row netbe-rl: limits on both netdevs and directions that never bind */
#define NETBE_RL_KEYS                                                                              \
    "rx_bytes_per_sec = 1024g\nrx_frames_per_sec = 1000000000\n"                                   \
    "tx_bytes_per_sec = 1024g\ntx_frames_per_sec = 1000000000\n"

typedef struct Case {
    FwdSource source;
    const char *name;
    size_t frame_len;
} Case;

static const Case cases[] = {
    {FWD_STREAM, "stream", 64}, {FWD_STREAM, "stream", 1514}, {FWD_TAP, "tap", 64},
    {FWD_TAP, "tap", 1514},     {FWD_DGRAM, "dgram", 64},     {FWD_DGRAM, "dgram", 1514},
};

typedef struct Opts {
    double seconds, warmup, max_others;
    int repeat, fwd_cpu, sender_cpu;
    char *qemu, *netbe_host, *plugin_path, *netbe_io, *only, *json;
    char *base_host, *base_plugins; /* --hooks: the build without them */
    gboolean qemu_legacy, netbe_no_sandbox, raw_vnet, no_vnet, hooks;
    char *tmpdir;
} Opts;

/* What a forked sender needs (set before each fork). */
typedef struct SenderJob {
    FwdWiring w;
    int fd;
    uint64_t *sent; /* shared with the bench */
} SenderJob;

/* What a forked raw loop needs. */
typedef struct RawJob {
    FwdWiring w;
    bool vnet_hdr;
} RawJob;

static SenderJob sender_job;
static RawJob raw_job;

static void sender_main(void *arg)
{
    SenderJob *j = arg;

    fwd_sender_run(&j->w, j->fd, j->sent);
}

static void raw_main(void *arg)
{
    RawJob *j = arg;

    fwd_raw_run(&j->w, j->vnet_hdr);
}

/* Fresh TAPs for each measurement: nothing a previous forwarder set on them stays. */
static bool taps_recreate(void)
{
    return test_sh("ip link del " FWD_IF_IN " 2>/dev/null; ip link del " FWD_IF_OUT
                   " 2>/dev/null; ip tuntap add " FWD_IF_IN " mode tap && ip tuntap add " FWD_IF_OUT
                   " mode tap && ip link set " FWD_IF_IN " up && ip link set " FWD_IF_OUT
                   " up") == 0;
}

/* Start @row's forwarder for @w (its log in @log). Return: pid, -1 with @err set. */
static GPid forwarder_start(const Opts *o, const FwdRow *row, const FwdWiring *w, const char *log,
                            GError **err)
{
    g_auto(GStrv) argv = NULL;

    if (g_str_has_prefix(row->forwarder, "raw")) {
        raw_job = (RawJob){*w, g_str_equal(row->forwarder, "raw-vnet")};
        return fwd_fork_pinned(o->fwd_cpu, raw_main, &raw_job);
    }
    if (g_str_equal(row->forwarder, "qemu")) {
        argv =
            fwd_qemu_argv(o->qemu, w, o->qemu_legacy ? FWD_QEMU_LEGACY : FWD_QEMU_NEW, !o->no_vnet);
    } else {
        bool base = g_str_equal(row->forwarder, "netbe-base");
        g_autofree char *ini = g_build_filename(o->tmpdir, NETBE_INI, NULL);
        g_autofree char *text = fwd_netbe_config(
            w, row->io, !o->no_vnet, g_str_equal(row->forwarder, "netbe-rl") ? NETBE_RL_KEYS : "");
        const char *args[] = {base ? o->base_host : o->netbe_host,
                              "-c",
                              ini,
                              "--plugin-path",
                              base ? o->base_plugins : o->plugin_path,
                              o->netbe_no_sandbox ? "--sandbox=off" : NULL,
                              NULL};

        if (!g_file_set_contents(ini, text, -1, err)) {
            return -1;
        }
        argv = g_strdupv((char **)args);
    }
    return fwd_spawn_pinned(argv, o->fwd_cpu, log, err);
}

/* The last 400 bytes of @log, for a failure message; NULL if it is empty or absent. */
static char *log_tail(const char *log)
{
    g_autofree char *text = NULL;
    size_t len;

    if (!g_file_get_contents(log, &text, &len, NULL) || len == 0) {
        return NULL;
    }
    g_strchomp(text);
    return g_strdup(len > 400 ? text + strlen(text) - 400 : text);
}

typedef struct Snapshot {
    double t;
    uint64_t frames, bytes, proc_ns, cpu_ns, sent;
} Snapshot;

static bool snapshot(GPid fwd, int cpu, const uint64_t *sent, Snapshot *s)
{
    s->t = g_get_monotonic_time() / 1e6;
    s->proc_ns = fwd_proc_cpu_ns(fwd);
    s->cpu_ns = fwd_cpu_busy_ns(cpu);
    s->sent = __atomic_load_n(sent, __ATOMIC_RELAXED);
    return fwd_if_counters(FWD_IF_OUT, &s->frames, &s->bytes);
}

/* Wait until @fwd passed its first thousand frames. Return: NULL, or why not. */
static char *wait_flowing(GPid fwd, int cpu, const uint64_t *sent)
{
    Snapshot s0, s;

    if (!snapshot(fwd, cpu, sent, &s0)) {
        return g_strdup("no counters for " FWD_IF_OUT);
    }
    for (int i = 0; i < START_TIMEOUT * 100; i++) {
        if (!fwd_proc_alive(fwd)) {
            return g_strdup("the forwarder exited");
        }
        if (snapshot(fwd, cpu, sent, &s) && s.frames - s0.frames >= 1000) {
            return NULL;
        }
        g_usleep(10000);
    }
    return g_strdup_printf("no frames reached " FWD_IF_OUT " in %d s", START_TIMEOUT);
}

/*
 * Append one run to @row from @n windows between the snapshots @s[0..n]: the medians of the
 * windows' frames/s, offered/s, process ns/frame and share of time run (a window in which
 * another tenant of the machine took the CPU does not count), and the share of the CPU
 * others took over the whole run (ticks are too coarse for a window).
 */
static void record_run(FwdRow *row, const Case *c, const Snapshot *s, int n)
{
    double fps[MAX_WINDOWS], offered[MAX_WINDOWS], proc[MAX_WINDOWS], ran[MAX_WINDOWS];
    uint64_t frames = s[n].frames - s[0].frames, bytes = s[n].bytes - s[0].bytes;

    for (int i = 0; i < n; i++) {
        double dt = s[i + 1].t - s[i].t;
        uint64_t f = s[i + 1].frames - s[i].frames;

        fps[i] = f / dt;
        offered[i] = (s[i + 1].sent - s[i].sent) / dt;
        proc[i] = f ? (double)(s[i + 1].proc_ns - s[i].proc_ns) / f : 0;
        ran[i] = MIN(1.0, (s[i + 1].proc_ns - s[i].proc_ns) / 1e9 / dt);
    }
    row->fps[row->runs] = fwd_median(fps, n);
    row->offered[row->runs] = fwd_median(offered, n);
    row->proc_ns[row->runs] = fwd_median(proc, n);
    row->ran[row->runs] = fwd_median(ran, n);
    row->others[row->runs] =
        MAX(0.0, ((double)(s[n].cpu_ns - s[0].cpu_ns) - (double)(s[n].proc_ns - s[0].proc_ns)) /
                     1e9 / (s[n].t - s[0].t));
    row->runs++;
    if (frames && bytes != frames * c->frame_len) {
        g_printerr("# %s %zu B %s: %.1f bytes per frame on " FWD_IF_OUT " (other frames?)\n",
                   c->name, c->frame_len, row->forwarder, (double)bytes / frames);
    }
}

/* One measurement of @row on @c, appended to @row; a failure sets row->error. */
static void measure(const Opts *o, const Case *c, FwdRow *row, uint64_t *sent)
{
    g_autofree char *log = g_build_filename(o->tmpdir, FORWARDER_LOG, NULL);
    g_autoptr(GError) err = NULL;
    FwdWiring w = {.source = c->source, .frame_len = c->frame_len};
    int windows = CLAMP((int)(o->seconds / WINDOW + 0.5), 1, MAX_WINDOWS);
    Snapshot snaps[MAX_WINDOWS + 1];
    GPid fwd = -1, snd = -1;
    char *why = NULL;
    int sfd = -1;

    *sent = 0;
    unlink(log);
    if (!taps_recreate()) {
        why = g_strdup("cannot create the TAPs");
        goto out;
    }
    sfd = fwd_sender_open(&w, &err);
    if (sfd < 0 || (fwd = forwarder_start(o, row, &w, log, &err)) < 0) {
        why = g_strdup(err->message);
        goto out;
    }
    sender_job = (SenderJob){.w = w, .fd = sfd, .sent = sent};
    snd = fwd_fork_pinned(o->sender_cpu, sender_main, &sender_job);
    why = wait_flowing(fwd, o->fwd_cpu, sent);
    if (why) {
        goto out;
    }
    g_usleep((gulong)(o->warmup * 1e6));
    for (int i = 0; i <= windows; i++) {
        if (i > 0) {
            g_usleep((gulong)(WINDOW * 1e6));
        }
        snapshot(fwd, o->fwd_cpu, sent, &snaps[i]);
    }
    if (!fwd_proc_alive(fwd)) {
        why = g_strdup("the forwarder exited during the measurement");
        goto out;
    }
    record_run(row, c, snaps, windows);
out:
    /* the forwarder first: a raw loop whose stream closes would say so */
    fwd_proc_stop(fwd, g_str_has_prefix(row->forwarder, "raw"));
    fwd_proc_stop(snd, true);
    if (sfd >= 0) {
        close(sfd);
    }
    if (why) {
        g_autofree char *tail = log_tail(log);

        row->error = tail ? g_strdup_printf("%s: %s", why, tail) : g_strdup(why);
        g_free(why);
    }
}

/* The forwarders of one case, in the order they take turns. */
static GArray *rows_for(const Opts *o, const Case *c)
{
    GArray *rows = g_array_new(false, true, sizeof(FwdRow));
    g_auto(GStrv) ios = o->netbe_io ? g_strsplit(o->netbe_io, ",", -1) : NULL;
    FwdRow r = {.source = c->name, .frame_len = c->frame_len};

    r.forwarder = "raw";
    g_array_append_val(rows, r);
    if (o->raw_vnet) {
        r.forwarder = "raw-vnet";
        g_array_append_val(rows, r);
    }
    if (o->qemu) {
        r.forwarder = "qemu";
        g_array_append_val(rows, r);
    }
    for (int i = 0; !ios || ios[i]; i++) {
        r.io = ios ? g_intern_string(g_strstrip(ios[i])) : NULL;
        /* --hooks: without them (another build), idle (no capture, no limits), a limiter on */
        for (size_t k = o->hooks ? 0 : 1; k < (o->hooks ? 3 : 2); k++) {
            r.forwarder = (const char *[]){"netbe-base", "netbe", "netbe-rl"}[k];
            g_array_append_val(rows, r);
        }
        if (!ios) {
            break;
        }
    }
    return rows;
}

static bool selected(const Opts *o, const Case *c)
{
    g_autofree char *full = g_strdup_printf("%s:%zu", c->name, c->frame_len);

    return !o->only || g_str_equal(o->only, c->name) || g_str_equal(o->only, full);
}

/* The settings of the run, as JSON object members. */
static char *meta_json(const Opts *o, const char *qemu_version)
{
    g_autofree char *qv = g_strescape(qemu_version ? qemu_version : "", NULL);

    return g_strdup_printf("  \"seconds\": %.2f,\n  \"window\": %.2f,\n  \"warmup\": %.2f,\n"
                           "  \"max_others\": %.2f,\n"
                           "  \"repeat\": %d,\n"
                           "  \"forwarder_cpu\": %d,\n  \"sender_cpu\": %d,\n"
                           "  \"qemu\": \"%s\",\n  \"qemu_netdevs\": \"%s\",\n"
                           "  \"netbe_sandbox\": %s,\n  \"tap_vnet_hdr\": %s",
                           o->seconds, WINDOW, o->warmup, o->max_others, o->repeat, o->fwd_cpu,
                           o->sender_cpu, qv, o->qemu_legacy ? "socket" : "stream/dgram",
                           o->netbe_no_sandbox ? "false" : "true", o->no_vnet ? "false" : "true");
}

static char *qemu_version(const char *qemu)
{
    const char *argv[] = {qemu, "-version", NULL};
    char *out = NULL;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      NULL, NULL)) {
        return NULL;
    }
    out[strcspn(out, "\n")] = '\0';
    return out;
}

static bool parse_opts(Opts *o, int *argc, char ***argv)
{
    GOptionEntry entries[] = {
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o->seconds,
         "measured seconds per run (2), in windows of 0.25 s", "S"},
        {"warmup", 0, 0, G_OPTION_ARG_DOUBLE, &o->warmup, "seconds before measuring (0.5)", "S"},
        {"max-others", 0, 0, G_OPTION_ARG_DOUBLE, &o->max_others,
         "measure a run again (twice at most) when others took more than this share of the "
         "forwarder's CPU (0.1)",
         "X"},
        {"repeat", 0, 0, G_OPTION_ARG_INT, &o->repeat, "runs per forwarder and case (3)", "N"},
        {"forwarder-cpu", 0, 0, G_OPTION_ARG_INT, &o->fwd_cpu, "CPU of the forwarders (1)", "N"},
        {"sender-cpu", 0, 0, G_OPTION_ARG_INT, &o->sender_cpu, "CPU of the sender (0)", "N"},
        {"only", 0, 0, G_OPTION_ARG_STRING, &o->only,
         "one source (stream, tap, dgram) or SOURCE:FRAME_BYTES", "CASE"},
        {"qemu", 0, 0, G_OPTION_ARG_FILENAME, &o->qemu,
         "QEMU binary (default: qemu-system-x86_64 from PATH; none: skip QEMU)", "PATH"},
        {"qemu-legacy", 0, 0, G_OPTION_ARG_NONE, &o->qemu_legacy,
         "QEMU's -netdev socket,connect= / socket,udp= instead of stream / dgram", NULL},
        {"raw-vnet-hdr", 0, 0, G_OPTION_ARG_NONE, &o->raw_vnet,
         "also a raw row whose TAPs carry a vnet header, as QEMU's and netbe's do", NULL},
        {"no-vnet-hdr", 0, 0, G_OPTION_ARG_NONE, &o->no_vnet,
         "QEMU's and netbe's TAPs with vnet_hdr=off (default: each its default)", NULL},
        {"netbe-host", 0, 0, G_OPTION_ARG_FILENAME, &o->netbe_host, "netbe-host binary", "PATH"},
        {"plugin-path", 0, 0, G_OPTION_ARG_FILENAME, &o->plugin_path, "netbe plugin directory",
         "DIR"},
        {"netbe-io", 0, 0, G_OPTION_ARG_STRING, &o->netbe_io,
         "run the netbe rows once per value, with [runtime] io = VALUE (default: key not set)",
         "LIST"},
        {"netbe-no-sandbox", 0, 0, G_OPTION_ARG_NONE, &o->netbe_no_sandbox,
         "netbe-host --sandbox=off (default: its seccomp filter on, as shipped)", NULL},
        {"hooks", 0, 0, G_OPTION_ARG_NONE, &o->hooks,
         "the cost of the capture and rate-limit hooks: rows netbe-base (--base-host, a build "
         "without them), netbe (idle: no capture, no limits) and netbe-rl (limits that never "
         "bind); ratios x base",
         NULL},
        {"base-host", 0, 0, G_OPTION_ARG_FILENAME, &o->base_host,
         "--hooks: netbe-host of the same source built without the hooks: meson setup DIR "
         "-Dc_args=-DNETBE_BENCH_NO_HOOKS",
         "PATH"},
        {"base-plugins", 0, 0, G_OPTION_ARG_FILENAME, &o->base_plugins,
         "--hooks: that build's plugin directory", "DIR"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o->json, "write results here", "FILE"},
        {NULL}};
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- netbe-host against QEMU forwarding into a TAP (needs root)");
    g_autoptr(GError) err = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        g_printerr("bench-forward: %s\n", err->message);
        return false;
    }
    if (o->repeat < 1 || o->repeat > FWD_MAX_REPEAT || o->seconds <= 0 || o->warmup < 0) {
        g_printerr("bench-forward: --repeat 1..%d, --seconds > 0, --warmup >= 0\n", FWD_MAX_REPEAT);
        return false;
    }
    if (o->fwd_cpu == o->sender_cpu || o->fwd_cpu < 0 || o->sender_cpu < 0 ||
        MAX(o->fwd_cpu, o->sender_cpu) >= sysconf(_SC_NPROCESSORS_ONLN)) {
        g_printerr("bench-forward: --forwarder-cpu and --sender-cpu: two CPUs of the %ld online\n",
                   sysconf(_SC_NPROCESSORS_ONLN));
        return false;
    }
    if (o->hooks && (!o->base_host || !o->base_plugins)) {
        g_printerr("bench-forward: --hooks needs --base-host and --base-plugins\n");
        return false;
    }
    if (!o->qemu) {
        o->qemu = g_find_program_in_path("qemu-system-x86_64");
    } else if (g_str_equal(o->qemu, "none")) {
        g_clear_pointer(&o->qemu, g_free);
    }
    o->json = o->json ? o->json : g_strdup("bench-results/forward.json");
    o->netbe_host = o->netbe_host ? o->netbe_host : g_strdup(BENCH_NETBE_HOST);
    o->plugin_path = o->plugin_path ? o->plugin_path : g_strdup(BENCH_PLUGIN_DIR);
    return true;
}

/* Measure @row once on @c; a run in which others took more than --max-others of the
 * forwarder's CPU is measured again (up to RETRIES times), the last one kept. */
static void measure_quiet(const Opts *o, const Case *c, FwdRow *row, uint64_t *sent)
{
    for (int attempt = 0; !row->error; attempt++) {
        measure(o, c, row, sent);
        if (row->error || row->others[row->runs - 1] <= o->max_others || attempt == RETRIES) {
            return;
        }
        row->runs--;
        row->dropped++;
    }
}

/* Measure every selected case, the forwarders taking turns; Return: all rows. */
static GArray *run_cases(const Opts *o, uint64_t *sent)
{
    GArray *all = g_array_new(false, true, sizeof(FwdRow));

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GArray) rows = NULL;

        if (!selected(o, &cases[i])) {
            continue;
        }
        rows = rows_for(o, &cases[i]);
        for (int rep = 0; rep < o->repeat; rep++) {
            for (guint k = 0; k < rows->len; k++) {
                FwdRow *r = &g_array_index(rows, FwdRow, k);

                measure_quiet(o, &cases[i], r, sent);
            }
        }
        for (guint k = 0; k < rows->len; k++) {
            FwdRow *r = &g_array_index(rows, FwdRow, k);

            printf("# %s %zu B %-8s %s", r->source, r->frame_len, r->forwarder, r->io ? r->io : "");
            for (unsigned n = 0; n < r->runs; n++) {
                printf(" %.0f", r->fps[n]);
            }
            if (r->dropped) {
                printf(" (%u runs measured again: others took its CPU)", r->dropped);
            }
            printf("%s%s\n", r->error ? " failed: " : "", r->error ? r->error : "");
        }
        fflush(stdout);
        g_array_append_vals(all, rows->data, rows->len);
    }
    return all;
}

int main(int argc, char **argv)
{
    Opts o = {
        .seconds = 2, .warmup = 0.5, .max_others = 0.1, .repeat = 3, .fwd_cpu = 1, .sender_cpu = 0};
    g_autofree char *ns = NULL, *meta = NULL, *qv = NULL;
    g_autoptr(GArray) rows = NULL;
    uint64_t *sent;
    bool failed = false;
    cpu_set_t cpus;

    if (!parse_opts(&o, &argc, &argv)) {
        return 2;
    }
    if (geteuid() != 0) {
        printf("bench-forward needs root: TAP devices in a network namespace of its own\n");
        return 77;
    }
    /* the bench itself (it wakes every window) stays off the forwarder's CPU */
    CPU_ZERO(&cpus);
    CPU_SET(o.sender_cpu, &cpus);
    sched_setaffinity(0, sizeof(cpus), &cpus);
    sent = mmap(NULL, sizeof(*sent), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    g_assert(sent != MAP_FAILED);
    qv = o.qemu ? qemu_version(o.qemu) : NULL;
    printf("forwarders on CPU %d, sender on CPU %d; %d x %.1f s (after %.1f s warm-up) each\n"
           "qemu: %s (%s netdevs)\nnetbe: %s%s\nTAPs of QEMU and netbe: %s\n",
           o.fwd_cpu, o.sender_cpu, o.repeat, o.seconds, o.warmup, qv ? qv : "not run",
           o.qemu_legacy ? "socket" : "stream/dgram", o.netbe_host,
           o.netbe_no_sandbox ? " --sandbox=off" : "",
           o.no_vnet ? "vnet_hdr=off" : "their default vnet_hdr (QEMU: on; netbe: auto)");
    o.tmpdir = g_dir_make_tmp("bench-forward-XXXXXX", NULL);
    g_assert(o.tmpdir);
    ns = test_netns_create("fwd");
    fwd_proc_init(ns, o.tmpdir, (const char *const[]){NETBE_INI, FORWARDER_LOG, NULL});
    g_assert_cmpint(test_netns_enter(ns), >=, 0); /* we stay in it: children start there */
    test_sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
    rows = run_cases(&o, sent);
    fwd_proc_cleanup(); /* deletes the namespace and the temporary files */
    meta = meta_json(&o, qv);
    for (guint k = 0; k < rows->len; k++) {
        failed |= g_array_index(rows, FwdRow, k).error != NULL;
    }
    if (!fwd_report((FwdRow *)rows->data, rows->len, TARGET_STREAM, meta, o.json)) {
        failed = true;
    }
    return failed ? 1 : 0;
}
