// SPDX-License-Identifier: GPL-2.0-or-later
/* test-migrate-faults.c - the commit rule under fault injection: kill -9, a stall past the
 * deadline and a closed socket at every step of a handover, on either side, while numbered
 * frames cross a hub of two TAPs; afterwards exactly one netbe-host serves, and no frame is
 * doubled or lost. Needs root (TAP devices, namespaces). */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "seq-pump.h"

#define DEADLINE_MS 600 /* --handover-timeout on both sides */
#define STALL_MS (DEADLINE_MS + 400)
#define RATE 2000 /* frames/s through the hub */
/* The TAPs' kernel queues hold what arrives while nobody reads them: a paused handover,
 * or a stopped process that serves, for up to about 3 s here (the default 500 would
 * overflow in a stall, which no protocol can prevent). */
#define TAP_QUEUE_FRAMES 20000

/* One cell of the matrix: a side, the step it faults before, and the fault. */
typedef struct Fault {
    const char *side;   /* "source" or "destination" */
    const char *point;  /* a step name of mig-source.c / mig-target.c */
    const char *action; /* "kill", "stall" or "close" */
} Fault;

static const char *const source_points[] = {
    "connect", "hello", "pause", "state", "commit", "go", "started",
};
static const char *const destination_points[] = {
    "accept", "hello", "state", "ready", "go", "lock", "start",
};
static const char *const actions[] = {"kill", "stall", "close"};

/* Source steps before which the TAP fds have not left the source: if it dies there, the
 * TAPs die with it (nothing else holds them), so frames are lost by the kernel; the
 * destination still takes over. */
static bool fds_die_with_source(const Fault *f)
{
    static const char *const early[] = {"connect", "hello", "pause", "state"};

    if (strcmp(f->side, "source") != 0 || strcmp(f->action, "kill") != 0) {
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(early); i++) {
        if (strcmp(f->point, early[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The state letter of /proc/PID/stat ('T' when stopped), or 0 if it is gone. */
static char proc_state(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *p;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strrchr(text, ')'))) {
        return 0;
    }
    return p[1] == ' ' ? p[2] : 0;
}

/* Wait up to @ms for @pid to stop itself at the fault point. */
static bool wait_stopped(GPid pid, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if (proc_state(pid) == 'T') {
            return true;
        }
        g_usleep(10000);
    }
    return false;
}

/* True while @h's process runs (exits are reaped and noted). */
static bool host_alive(TestHost *h)
{
    int status;

    if (h->pid > 0 && waitpid(h->pid, &status, WNOHANG) == h->pid) {
        h->pid = -1;
    }
    return h->pid > 0;
}

/* Run "netbe-ctl SOCK migrate PATH" in the background. Return: its pid. */
static GPid start_migrate(TestHost *src, const char *path)
{
    const char *argv[] = {test_env_path("NETBE_CTL"), src->control, "migrate", path, NULL};
    GPid pid;

    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, NULL));
    return pid;
}

/* Spawn netbe-host on @config in @ns with the fault armed in its environment if it is
 * @side's. */
static TestHost *spawn_host(const char *config, const char *ns, const char *const *args,
                            const Fault *f, const char *side)
{
    g_autofree char *spec = NULL;
    TestHost *h;

    if (strcmp(f->side, side) == 0) {
        spec = g_strdup_printf("%s:%s:%s", side, f->point,
                               strcmp(f->action, "close") == 0 ? "close" : "stop");
        g_setenv("NETBE_MIG_FAULT", spec, true);
    }
    h = test_host_spawn(config, ns, args, NULL);
    g_unsetenv("NETBE_MIG_FAULT");
    g_assert_nonnull(h);
    return h;
}

/*
 * One cell. Fails if, once the dust settles, not exactly one netbe-host runs, if the one
 * that runs does not answer, or if a numbered frame arrives twice or (unless the source
 * died holding the only TAP fds) goes missing.
 */
static void run_fault(gconstpointer data)
{
    const Fault *f = data;
    g_autofree char *ns = NULL, *config = NULL, *incoming = NULL, *tap_a = NULL, *tap_b = NULL;
    g_autofree char *status = NULL;
    const char *timeout_args[] = {"--handover-timeout", G_STRINGIFY(DEADLINE_MS), NULL};
    const char *dst_args[] = {"--handover-timeout", G_STRINGIFY(DEADLINE_MS), "--incoming", NULL,
                              NULL};
    TestHost *src, *dst, *faulty, *serving;
    SeqPump *pump;
    SeqPumpResult r;
    GPid ctl;
    int waited;

    if (!test_need_root_net()) {
        return;
    }
    ns = test_netns_create("flt");
    tap_a = g_strdup_printf("nbf%da", (int)getpid() % 100000);
    tap_b = g_strdup_printf("nbf%db", (int)getpid() % 100000);
    config = g_strdup_printf("[netdev.a]\ntype = tap\nifname = %s\n[netdev.b]\ntype = tap\n"
                             "ifname = %s\n[hub.h]\nports = a, b\nconnect = deferred\n",
                             tap_a, tap_b);
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns);
    src = spawn_host(config, ns, timeout_args, f, "source");
    g_assert_true(test_host_wait_serving(src, 10000));
    g_assert_cmpint(test_sh("for t in %s %s; do ip -n %s link set $t txqueuelen %d up || exit 1; "
                            "done",
                            tap_a, tap_b, ns, TAP_QUEUE_FRAMES),
                    ==, 0);
    pump = seq_pump_start(ns, tap_a, tap_b, RATE);
    g_usleep(200000);

    incoming = g_strdup_printf("%s/incoming.sock", src->dir);
    dst_args[3] = incoming;
    dst = spawn_host(config, ns, dst_args, f, "destination");
    for (int i = 0; i < 250 && !g_file_test(incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    ctl = start_migrate(src, incoming);
    faulty = strcmp(f->side, "source") == 0 ? src : dst;
    if (strcmp(f->action, "close") != 0) {
        g_assert_true(wait_stopped(faulty->pid, 5000)); /* it reached the fault point */
        if (strcmp(f->action, "kill") == 0) {
            kill(faulty->pid, SIGKILL);
        } else {
            g_usleep(STALL_MS * 1000);
            kill(faulty->pid, SIGCONT);
        }
    }
    waitpid(ctl, NULL, 0);
    /* settle: the loser exits (a source after a handover, a destination that gave up) */
    for (waited = 0; waited < 4 * DEADLINE_MS && host_alive(src) && host_alive(dst); waited += 20) {
        g_usleep(20000);
    }
    g_usleep(300000); /* frames flow through whoever serves now */
    r = seq_pump_stop(pump);
    serving = host_alive(src) ? src : dst;
    g_test_message("row: %-11s %-7s %-5s -> %s serves; sent %u, lost %u, duplicated %u", f->side,
                   f->point, f->action, serving == src ? "source" : "destination", r.sent,
                   r.missing, r.duplicates);
    if (host_alive(src) == host_alive(dst)) {
        g_autofree char *slog = NULL, *dlog = NULL;

        g_file_get_contents(src->log, &slog, NULL, NULL);
        g_file_get_contents(dst->log, &dlog, NULL, NULL);
        g_test_message("source log:\n%s\ndestination log:\n%s", slog, dlog);
    }
    g_assert_true(host_alive(src) != host_alive(dst));
    g_assert_nonnull(status = test_host_ctl(serving, "status"));
    g_assert_cmpuint(r.duplicates, ==, 0);
    if (fds_die_with_source(f)) {
        g_assert_true(serving == dst); /* it took over, with TAPs of its own */
    } else {
        g_assert_cmpuint(r.sent, >, RATE / 4);
        g_assert_cmpuint(r.missing, ==, 0);
        g_assert_cmpuint(r.received, ==, r.sent);
    }
    test_host_free(src);
    test_host_free(dst);
    test_netns_delete(ns);
}

int main(int argc, char **argv)
{
    GPtrArray *faults = g_ptr_array_new_with_free_func(g_free);
    int rc;

    g_test_init(&argc, &argv, NULL);
    for (int side = 0; side < 2; side++) {
        const char *const *points = side ? destination_points : source_points;
        size_t npoints = side ? G_N_ELEMENTS(destination_points) : G_N_ELEMENTS(source_points);

        for (size_t p = 0; p < npoints; p++) {
            for (size_t a = 0; a < G_N_ELEMENTS(actions); a++) {
                Fault *f = g_new(Fault, 1);
                g_autofree char *path = NULL;

                *f = (Fault){side ? "destination" : "source", points[p], actions[a]};
                path = g_strdup_printf("/migrate-faults/%s/%s/%s", f->side, f->point, f->action);
                g_ptr_array_add(faults, f);
                g_test_add_data_func(path, f, run_fault);
            }
        }
    }
    rc = g_test_run();
    g_ptr_array_unref(faults);
    return rc;
}
