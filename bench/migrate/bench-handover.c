/* bench-handover.c - live handover downtime and frames lost, netbe-host to netbe-host, for
 * 1 device x 1 queue, 1 x 8 queues and 16 devices, next to the way it is done without netbe
 * (close the TAP, reopen it by name) measured in the same run. Needs root. */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "seq-pump.h"

#define RATE 20000

typedef struct Row {
    const char *name;
    unsigned devices, queues, handovers;
    double median_ms, max_ms;
    uint32_t sent, lost;
} Row;

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void summarize(Row *row, double *ms, unsigned n)
{
    qsort(ms, n, sizeof(double), compare_doubles);
    row->median_ms = n ? (n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2) : 0;
    row->max_ms = n ? ms[n - 1] : 0;
}

/* Config: @devices TAPs, joined in pairs by hubs (the pump uses the first pair). */
static char *config_for(const char *prefix, unsigned devices, unsigned queues)
{
    GString *s = g_string_new(NULL);

    for (unsigned d = 0; d < devices; d++) {
        g_string_append_printf(s, "[netdev.t%u]\ntype = tap\nifname = %s%u\nqueues = %u\n", d,
                               prefix, d, queues);
    }
    for (unsigned d = 0; d + 1 < devices; d += 2) {
        g_string_append_printf(s, "[hub.h%u]\nports = t%u, t%u\nconnect = deferred\n", d, d,
                               d + 1);
    }
    return g_string_free(s, false);
}

/* netbe: a chain of @n handovers while the pump runs; downtime as the tools report it. */
static Row run_netbe(const char *name, unsigned devices, unsigned queues, unsigned n)
{
    g_autofree char *ns = test_netns_create("bench-mig");
    g_autofree char *prefix = g_strdup_printf("nbb%d", (int)getpid() % 10000);
    g_autofree char *config = config_for(prefix, devices, queues);
    g_autofree double *ms = g_new0(double, n);
    Row row = { name, devices, queues, 0 };
    TestHost *cur = test_host_start(config, NULL, NULL);
    g_autofree char *tx = g_strdup_printf("%s0", prefix), *rx = g_strdup_printf("%s1", prefix);
    SeqPump *pump;
    SeqPumpResult r;

    g_assert_nonnull(cur);
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns);
    for (unsigned d = 0; d < devices; d++) {
        test_sh("ip link set %s%u netns %s && ip -n %s link set %s%u up", prefix, d, ns, ns,
                prefix, d);
    }
    pump = seq_pump_start(ns, tx, rx, RATE);
    g_usleep(200000);
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *incoming = g_strdup_printf("%s/in%u.sock", cur->dir, i);
        g_autofree char *cmd = g_strdup_printf("migrate %s --json", incoming);
        const char *args[] = { "--incoming", incoming, NULL };
        TestHost *next = test_host_spawn(config, NULL, args, NULL);
        g_autofree char *out = NULL;
        double downtime;

        for (int k = 0; k < 500 && !g_file_test(incoming, G_FILE_TEST_EXISTS); k++) {
            g_usleep(2000);
        }
        out = test_host_ctl(cur, cmd);
        if (!out || sscanf(out, "{\"downtime_ms\":%lf", &downtime) != 1) {
            g_printerr("handover %u failed: %s\n", i, out ? out : "(no reply)");
            test_host_free(next);
            break;
        }
        ms[row.handovers++] = downtime;
        test_host_wait(cur, 10000);
        test_host_free(cur);
        cur = next;
        g_assert_true(test_host_wait_serving(cur, 10000));
        g_usleep(50000);
    }
    g_usleep(200000);
    r = seq_pump_stop(pump);
    row.sent = r.sent;
    row.lost = r.missing;
    summarize(&row, ms, row.handovers);
    test_host_free(cur);
    test_netns_delete(ns);
    return row;
}

/* Open (or create, persistent) TAP @name with @queues fds; Return: false on error. */
static bool tap_open_by_name(const char *name, unsigned queues, int *fds)
{
    for (unsigned q = 0; q < queues; q++) {
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | (queues > 1 ? IFF_MULTI_QUEUE : 0) };

        g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
        fds[q] = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fds[q] < 0 || ioctl(fds[q], TUNSETIFF, &ifr) < 0) {
            return false;
        }
    }
    return ioctl(fds[0], TUNSETPERSIST, 1) == 0;
}

typedef struct Forwarder {
    int *a, *b;
    unsigned queues;
    volatile gint stop;
    GThread *thread;
} Forwarder;

/* The baseline's data path: every queue of a to the same queue of b, nothing else. */
static gpointer forward(gpointer data)
{
    Forwarder *f = data;
    struct pollfd p[64];
    uint8_t buf[65536];

    for (unsigned q = 0; q < f->queues; q++) {
        p[q] = (struct pollfd){ .fd = f->a[q], .events = POLLIN };
    }
    while (!g_atomic_int_get(&f->stop)) {
        if (poll(p, f->queues, 10) <= 0) {
            continue;
        }
        for (unsigned q = 0; q < f->queues; q++) {
            ssize_t n;

            while ((n = read(f->a[q], buf, sizeof(buf))) > 0) {
                if (write(f->b[q], buf, n) < 0) {
                    break;
                }
            }
        }
    }
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Without netbe: stop, close every fd, reopen the persistent TAPs by name, go on. */
static Row run_reopen(const char *name, unsigned queues, unsigned n)
{
    g_autofree char *ns = test_netns_create("bench-reopen");
    g_autofree char *a = g_strdup_printf("nbr%da", (int)getpid() % 10000);
    g_autofree char *b = g_strdup_printf("nbr%db", (int)getpid() % 10000);
    g_autofree double *ms = g_new0(double, n);
    int fa[64], fb[64];
    Row row = { name, 2, queues, 0 };
    Forwarder f = { fa, fb, queues };
    SeqPump *pump;
    SeqPumpResult r;

    g_assert_true(tap_open_by_name(a, queues, fa) && tap_open_by_name(b, queues, fb));
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns);
    test_sh("ip link set %s netns %s && ip link set %s netns %s && ip -n %s link set %s up && "
            "ip -n %s link set %s up", a, ns, b, ns, ns, a, ns, b);
    f.thread = g_thread_new("forward", forward, &f);
    pump = seq_pump_start(ns, a, b, RATE);
    g_usleep(200000);
    for (unsigned i = 0; i < n; i++) {
        double t0 = now_ms();
        int saved;

        g_atomic_int_set(&f.stop, 1);
        g_thread_join(f.thread);
        for (unsigned q = 0; q < queues; q++) {
            close(fa[q]);
            close(fb[q]);
        }
        /* the persistent TAPs now live in the namespace: reopen them by name there */
        saved = test_netns_enter(ns);
        g_assert_true(tap_open_by_name(a, queues, fa) && tap_open_by_name(b, queues, fb));
        test_netns_leave(saved);
        g_atomic_int_set(&f.stop, 0);
        f.thread = g_thread_new("forward", forward, &f);
        ms[row.handovers++] = now_ms() - t0;
        g_usleep(50000);
    }
    g_usleep(200000);
    r = seq_pump_stop(pump);
    g_atomic_int_set(&f.stop, 1);
    g_thread_join(f.thread);
    for (unsigned q = 0; q < queues; q++) {
        ioctl(fa[q], TUNSETPERSIST, 0);
        ioctl(fb[q], TUNSETPERSIST, 0);
        close(fa[q]);
        close(fb[q]);
    }
    row.sent = r.sent;
    row.lost = r.missing;
    summarize(&row, ms, row.handovers);
    test_netns_delete(ns);
    return row;
}

int main(int argc, char **argv)
{
    const char *json_path = "bench-results/handover.json";
    unsigned n = 20;
    Row rows[6];
    unsigned nrows = 0;
    FILE *f;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc) {
            json_path = argv[++i];
        } else if (!strcmp(argv[i], "--handovers") && i + 1 < argc) {
            n = atoi(argv[++i]);
        }
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench-handover: needs root (TAP devices, namespaces)\n");
        return 77;
    }
    rows[nrows++] = run_netbe("netbe 1 device x 1 queue", 2, 1, n);
    rows[nrows++] = run_reopen("reopen by name, 1 queue", 1, n);
    rows[nrows++] = run_netbe("netbe 1 device x 8 queues", 2, 8, n);
    rows[nrows++] = run_reopen("reopen by name, 8 queues", 8, n);
    rows[nrows++] = run_netbe("netbe 16 devices", 16, 1, n);
    printf("live handover under a %u frames/s stream, %u handovers per row\n", RATE, n);
    printf("%-28s %8s %7s %11s %9s %9s %6s\n", "case", "devices", "queues", "median ms",
           "max ms", "sent", "lost");
    for (unsigned i = 0; i < nrows; i++) {
        printf("%-28s %8u %7u %11.3f %9.3f %9u %6u\n", rows[i].name, rows[i].devices,
               rows[i].queues, rows[i].median_ms, rows[i].max_ms, rows[i].sent, rows[i].lost);
    }
    printf("ratio of median downtimes, netbe / reopen: 1 queue %.3f, 8 queues %.3f\n",
           rows[0].median_ms / rows[1].median_ms, rows[2].median_ms / rows[3].median_ms);
    printf("netbe: source pause to destination resume, as netbe-ctl reports it; reopen: close "
           "of the old fds to the new forwarder running, in one process (no exec: generous to "
           "the baseline)\n");
    g_mkdir_with_parents(g_path_get_dirname(json_path), 0755);
    f = fopen(json_path, "w");
    if (f) {
        fprintf(f, "{\"benchmark\":\"handover\",\"rate_fps\":%u,\"handovers\":%u,\"rows\":[", RATE,
                n);
        for (unsigned i = 0; i < nrows; i++) {
            fprintf(f, "%s{\"case\":\"%s\",\"devices\":%u,\"queues\":%u,\"median_ms\":%.4f,"
                    "\"max_ms\":%.4f,\"sent\":%u,\"lost\":%u}", i ? "," : "", rows[i].name,
                    rows[i].devices, rows[i].queues, rows[i].median_ms, rows[i].max_ms,
                    rows[i].sent, rows[i].lost);
        }
        fprintf(f, "],\"ratio_median_1q\":%.4f,\"ratio_median_8q\":%.4f}\n",
                rows[0].median_ms / rows[1].median_ms, rows[2].median_ms / rows[3].median_ms);
        fclose(f);
        printf("wrote %s\n", json_path);
    }
    return 0;
}
