// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-handover.c - live handover downtime and frames lost, netbe-host to netbe-host, for
 * 1 device x 1 queue, 1 x 8 queues, 16 devices and one vhost-user device under our own
 * frontend, next to the way it is done without netbe (close the TAP, reopen it by name)
 * measured in the same run. Needs root, but for the vhost-user case on a socket netdev.
 * Options: --handovers N, --json PATH, --vhost-user-only, --verbose (each vhost-user
 * handover's times), --logs DIR (keep the vhost-user hosts' logs). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "seq-pump.h"
#include "vu-pump.h"

#define RATE 20000
#define VU_RATE 10000 /* frames/s each way through the vhost-user device */

typedef struct Row {
    const char *name;
    unsigned devices, queues, handovers;
    double median_ms, p90_ms, max_ms;
    uint32_t sent, lost;
} Row;

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median, 90th percentile (nearest rank) and maximum of @n values (sorted here). */
typedef struct Spread {
    double median, p90, max;
} Spread;

static Spread spread_of(double *ms, unsigned n)
{
    Spread sp = {0};

    if (!n) {
        return sp;
    }
    qsort(ms, n, sizeof(double), compare_doubles);
    sp.median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    sp.p90 = ms[MIN(n - 1, (n * 9 + 9) / 10 - 1)];
    sp.max = ms[n - 1];
    return sp;
}

static void summarize(Row *row, double *ms, unsigned n)
{
    Spread sp = spread_of(ms, n);

    row->median_ms = sp.median;
    row->p90_ms = sp.p90;
    row->max_ms = sp.max;
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
        g_string_append_printf(s, "[hub.h%u]\nports = t%u, t%u\nconnect = deferred\n", d, d, d + 1);
    }
    return g_string_free(s, false);
}

/* Wait up to 5 s until "netbe-host --incoming" @h listens: its log says so (its socket
 * file appears at bind(), a moment before listen(): a connect then is refused). */
static bool wait_incoming(TestHost *h)
{
    for (int k = 0; k < 2500; k++) {
        g_autofree char *log = NULL;

        if (g_file_get_contents(h->log, &log, NULL, NULL) &&
            strstr(log, "waiting for a handover on")) {
            return true;
        }
        g_usleep(2000);
    }
    return false;
}

/* netbe: a chain of @n handovers while the pump runs; downtime as the tools report it. */
static Row run_netbe(const char *name, unsigned devices, unsigned queues, unsigned n)
{
    g_autofree char *ns = test_netns_create("bench-mig");
    g_autofree char *prefix = g_strdup_printf("nbb%d", (int)getpid() % 10000);
    g_autofree char *config = config_for(prefix, devices, queues);
    g_autofree double *ms = g_new0(double, n);
    Row row = {name, devices, queues, 0};
    TestHost *cur = test_host_start(config, NULL, NULL);
    g_autofree char *tx = g_strdup_printf("%s0", prefix), *rx = g_strdup_printf("%s1", prefix);
    SeqPump *pump;
    SeqPumpResult r;

    g_assert_nonnull(cur);
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns);
    for (unsigned d = 0; d < devices; d++) {
        test_sh("ip link set %s%u netns %s && ip -n %s link set %s%u up", prefix, d, ns, ns, prefix,
                d);
    }
    pump = seq_pump_start(ns, tx, rx, RATE);
    g_usleep(200000);
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *incoming = g_strdup_printf("%s/in%u.sock", cur->dir, i);
        g_autofree char *cmd = g_strdup_printf("migrate %s --json\n", incoming);
        const char *args[] = {"--incoming", incoming, NULL};
        TestHost *next = test_host_spawn(config, NULL, args, NULL);
        g_autofree char *out = NULL;
        double downtime;

        g_assert_true(wait_incoming(next));
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
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | (queues > 1 ? IFF_MULTI_QUEUE : 0)};

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
        p[q] = (struct pollfd){.fd = f->a[q], .events = POLLIN};
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
    Row row = {name, 2, queues, 0};
    Forwarder f = {fa, fb, queues};
    SeqPump *pump;
    SeqPumpResult r;

    g_assert_true(tap_open_by_name(a, queues, fa) && tap_open_by_name(b, queues, fb));
    test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns);
    test_sh("ip link set %s netns %s && ip link set %s netns %s && ip -n %s link set %s up && "
            "ip -n %s link set %s up",
            a, ns, b, ns, ns, a, ns, b);
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

/* ---- one vhost-user device, driven by our own frontend (tests/lib/vu-front.c) ---- */

typedef struct VuRow {
    const char *name;
    unsigned handovers;
    Spread ctl, dst;          /* ms: as netbe-ctl reports it, as the destination logs it */
    Spread gap[VU_PUMP_DIRS]; /* ms: the longest silence in each direction's frames */
    VuPumpCount count[VU_PUMP_DIRS];
} VuRow;

static const uint8_t vu_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const char *vu_log_dir; /* --logs DIR: keep each vhost-user host's log there */
static unsigned vu_log_count;
static bool vu_verbose; /* --verbose: each handover's times */

/* With --logs, copy the log of @h (about to go) into that directory. */
static void keep_log(TestHost *h)
{
    g_autofree char *text = NULL, *path = NULL;

    if (!vu_log_dir || !g_file_get_contents(h->log, &text, NULL, NULL)) {
        return;
    }
    g_mkdir_with_parents(vu_log_dir, 0755);
    path = g_strdup_printf("%s/vu-host-%03u.log", vu_log_dir, vu_log_count++);
    g_file_set_contents(path, text, -1, NULL);
}

/* A UDP socket on 127.0.0.1 (port 0: any). Return: the fd; *port gets its port. */
static int udp_on_loopback(unsigned *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int buf = 8 << 20;

    g_assert_cmpint(fd, >=, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/*
 * control_request() - send @line to netbe-host's control socket @path and read the reply
 * to its end, in this process (netbe-ctl would fork while frames are timed).
 * Return: the reply, NULL if the host could not be reached.
 */
static char *control_request(const char *path, const char *line)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    GString *reply = g_string_new(NULL);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[4096];
    ssize_t n;

    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
        if (fd >= 0) {
            close(fd);
        }
        g_string_free(reply, true);
        return NULL;
    }
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
        g_string_append_len(reply, buf, n);
    }
    close(fd);
    return g_string_free(reply, false);
}

/* The destination's own downtime (pause to serving) from its log line, -1 if absent. */
static double logged_downtime(TestHost *h)
{
    static const char marker[] = "handover received: downtime ";
    g_autofree char *log = NULL;
    const char *p;

    if (!g_file_get_contents(h->log, &log, NULL, NULL) || !(p = strstr(log, marker))) {
        return -1;
    }
    return g_ascii_strtod(p + strlen(marker), NULL);
}

/*
 * run_vu() - one vhost-user device (1 queue pair) on a TAP in a namespace (@tap) or a UDP
 * socket netdev, our frontend sending and receiving VU_RATE frames/s each way; a chain of
 * @n handovers to new netbe-hosts. Downtime as netbe-ctl and the destination report it,
 * and the longest gap in the frames each way around each handover.
 */
static VuRow run_vu(const char *name, bool tap, unsigned n)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("netbe-bench-vu-XXXXXX", &err);
    g_autofree char *sock = g_build_filename(dir, "vu.sock", NULL);
    g_autofree char *ifname = g_strdup_printf("nbv%d", (int)getpid() % 10000);
    g_autofree char *ns = NULL, *netdev = NULL, *config = NULL;
    g_autofree double *ctl = g_new0(double, n), *dst = g_new0(double, n);
    g_autofree double *gap[VU_PUMP_DIRS] = {g_new0(double, n), g_new0(double, n)};
    VuRow row = {.name = name};
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    VuPumpPeer peer = {-1, NULL, 0};
    unsigned udp_port = 0, netdev_port = 0;
    TestHost *cur;
    VuFront *f;
    VuPump *pump;
    GPtrArray *gone = g_ptr_array_new();

    g_assert_no_error(err);
    if (tap) {
        ns = test_netns_create("bench-vu");
        netdev = g_strdup_printf("type = tap\nifname = %s\n", ifname);
    } else {
        int probe = udp_on_loopback(&netdev_port); /* a free port for the netdev */

        close(probe);
        peer.fd = udp_on_loopback(&udp_port);
        netdev = g_strdup_printf("type = socket\nlocaladdr = 127.0.0.1:%u\nudp = 127.0.0.1:%u\n",
                                 netdev_port, udp_port);
        to.sin_port = htons(netdev_port);
        peer.to = (const struct sockaddr *)&to;
        peer.tolen = sizeof(to);
    }
    config = g_strdup_printf("[netdev.t0]\n%s[device.nic0]\nmodel = virtio-net\ntransport = "
                             "vhost-user\nsocket = %s\nnetdev = t0\nmac = 52:54:00:12:34:56\n"
                             "connect = deferred\n",
                             netdev, sock);
    cur = test_host_start(config, NULL, NULL);
    g_assert_nonnull(cur);
    f = vu_front_connect(sock, NULL, &err);
    g_assert_no_error(err);
    g_assert_true(vu_front_start(f, &err)); /* the backend connects: the TAP appears */
    g_assert_no_error(err);
    if (tap) {
        test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1", ns);
        g_assert_cmpint(
            test_sh("ip link set %s netns %s && ip -n %s link set %s up", ifname, ns, ns, ifname),
            ==, 0);
        peer.fd = vu_pump_packet_socket(ns, ifname);
    }
    pump = vu_pump_start(f, &peer, vu_mac, VU_RATE);
    g_usleep(200000);
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *incoming = g_strdup_printf("%s/in%u.sock", dir, i);
        g_autofree char *cmd = g_strdup_printf("migrate %s --json\n", incoming);
        const char *args[] = {"--incoming", incoming, NULL};
        TestHost *next = test_host_spawn(config, NULL, args, NULL);
        g_autofree char *out = NULL;
        int64_t t0, t1, end[VU_PUMP_DIRS] = {0};
        double downtime;

        g_assert_true(wait_incoming(next));
        t0 = g_get_monotonic_time();
        out = control_request(cur->control, cmd);
        t1 = g_get_monotonic_time();
        if (!out || sscanf(out, "{\"downtime_ms\":%lf", &downtime) != 1) {
            g_printerr("vhost-user handover %u failed: %s\n", i, out ? out : "(no reply)");
            test_host_free(next);
            break;
        }
        /* no fork while frames are timed: the old host's files go after the pump */
        test_host_wait(cur, 10000);
        g_ptr_array_add(gone, cur);
        cur = next;
        g_usleep(20000);
        ctl[row.handovers] = downtime;
        for (int k = 0; k < 1000 && (dst[row.handovers] = logged_downtime(cur)) < 0; k++) {
            g_usleep(2000);
        }
        for (unsigned d = 0; d < VU_PUMP_DIRS; d++) {
            gap[d][row.handovers] = vu_pump_max_gap_us(pump, d, t0, t1, &end[d]) / 1e3;
        }
        if (vu_verbose) {
            printf("  %s #%u: netbe-ctl %.3f ms (reports %.3f, destination %.3f); gap "
                   "guest->net %.3f ms from +%.3f to +%.3f, net->guest %.3f ms from +%.3f to "
                   "+%.3f (ms since netbe-ctl started)\n",
                   name, i, (t1 - t0) / 1e3, ctl[row.handovers], dst[row.handovers],
                   gap[0][row.handovers], (end[0] - t0) / 1e3 - gap[0][row.handovers],
                   (end[0] - t0) / 1e3, gap[1][row.handovers],
                   (end[1] - t0) / 1e3 - gap[1][row.handovers], (end[1] - t0) / 1e3);
        }
        row.handovers++;
    }
    vu_pump_stop(pump, row.count);
    for (guint i = 0; i < gone->len; i++) {
        TestHost *h = g_ptr_array_index(gone, i);

        keep_log(h);
        test_host_free(h);
    }
    g_ptr_array_unref(gone);
    row.ctl = spread_of(ctl, row.handovers);
    row.dst = spread_of(dst, row.handovers);
    for (unsigned d = 0; d < VU_PUMP_DIRS; d++) {
        row.gap[d] = spread_of(gap[d], row.handovers);
    }
    vu_front_free(f);
    keep_log(cur);
    test_host_free(cur);
    close(peer.fd);
    if (ns) {
        test_netns_delete(ns);
    }
    test_sh("rm -rf '%s'", dir);
    return row;
}

static void print_vu(const VuRow *rows, unsigned nrows, unsigned n)
{
    printf("\nvhost-user: 1 device, 1 queue pair, our frontend sending and receiving %u frames/s "
           "each way, %u handovers per row; ms, median / p90\n",
           VU_RATE, n);
    printf("%-26s %15s %15s %15s %15s %11s %11s\n", "case", "netbe-ctl", "destination",
           "gap guest->net", "gap net->guest", "lost g->n", "lost n->g");
    for (unsigned i = 0; i < nrows; i++) {
        const VuRow *r = &rows[i];

        printf("%-26s %7.3f/%7.3f %7.3f/%7.3f %7.3f/%7.3f %7.3f/%7.3f %5u/%5u %5u/%5u\n", r->name,
               r->ctl.median, r->ctl.p90, r->dst.median, r->dst.p90, r->gap[VU_PUMP_TX].median,
               r->gap[VU_PUMP_TX].p90, r->gap[VU_PUMP_RX].median, r->gap[VU_PUMP_RX].p90,
               r->count[VU_PUMP_TX].missing, r->count[VU_PUMP_TX].sent,
               r->count[VU_PUMP_RX].missing, r->count[VU_PUMP_RX].sent);
    }
    printf("netbe-ctl: source pause to the destination's resume; destination: source pause to "
           "its devices resumed and serving; gap: the longest silence between two frames "
           "arriving around a handover (frames go out every %.1f ms)\n",
           1e3 / VU_RATE);
}

static void json_spread(FILE *f, const char *key, Spread sp)
{
    fprintf(f, ",\"%s\":{\"median_ms\":%.4f,\"p90_ms\":%.4f,\"max_ms\":%.4f}", key, sp.median,
            sp.p90, sp.max);
}

static void json_vu(FILE *f, const VuRow *rows, unsigned nrows)
{
    fprintf(f, "\"vhost_user_rate_fps\":%u,\"vhost_user\":[", VU_RATE);
    for (unsigned i = 0; i < nrows; i++) {
        const VuRow *r = &rows[i];

        fprintf(f, "%s{\"case\":\"%s\",\"handovers\":%u", i ? "," : "", r->name, r->handovers);
        json_spread(f, "downtime_ctl", r->ctl);
        json_spread(f, "downtime_destination", r->dst);
        json_spread(f, "gap_guest_to_net", r->gap[VU_PUMP_TX]);
        json_spread(f, "gap_net_to_guest", r->gap[VU_PUMP_RX]);
        fprintf(f,
                ",\"sent_guest_to_net\":%u,\"lost_guest_to_net\":%u,\"dup_guest_to_net\":%u,"
                "\"sent_net_to_guest\":%u,\"lost_net_to_guest\":%u,\"dup_net_to_guest\":%u}",
                r->count[VU_PUMP_TX].sent, r->count[VU_PUMP_TX].missing,
                r->count[VU_PUMP_TX].duplicates, r->count[VU_PUMP_RX].sent,
                r->count[VU_PUMP_RX].missing, r->count[VU_PUMP_RX].duplicates);
    }
    fprintf(f, "]");
}

int main(int argc, char **argv)
{
    const char *json_path = "bench-results/handover.json";
    unsigned n = 20;
    bool root = geteuid() == 0, vu_only = false;
    Row rows[6];
    VuRow vu[2];
    unsigned nrows = 0, nvu = 0;
    g_autofree char *json_dir = NULL;
    FILE *f;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc) {
            json_path = argv[++i];
        } else if (!strcmp(argv[i], "--handovers") && i + 1 < argc) {
            n = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--vhost-user-only")) {
            vu_only = true;
        } else if (!strcmp(argv[i], "--verbose")) {
            vu_verbose = true;
        } else if (!strcmp(argv[i], "--logs") && i + 1 < argc) {
            vu_log_dir = argv[++i];
        }
    }
    if (!root) {
        fprintf(stderr, "bench-handover: not root: only the vhost-user case, on a socket "
                        "netdev (the others need TAP devices and namespaces)\n");
    }
    if (root && !vu_only) {
        rows[nrows++] = run_netbe("netbe 1 device x 1 queue", 2, 1, n);
        rows[nrows++] = run_reopen("reopen by name, 1 queue", 1, n);
        rows[nrows++] = run_netbe("netbe 1 device x 8 queues", 2, 8, n);
        rows[nrows++] = run_reopen("reopen by name, 8 queues", 8, n);
        rows[nrows++] = run_netbe("netbe 16 devices", 16, 1, n);
    }
    if (root) {
        vu[nvu++] = run_vu("vhost-user on a TAP", true, n);
    }
    vu[nvu++] = run_vu("vhost-user on a UDP socket", false, n);
    if (nrows) {
        printf("live handover under a %u frames/s stream, %u handovers per row\n", RATE, n);
        printf("%-28s %8s %7s %11s %9s %9s %9s %6s\n", "case", "devices", "queues", "median ms",
               "p90 ms", "max ms", "sent", "lost");
        for (unsigned i = 0; i < nrows; i++) {
            printf("%-28s %8u %7u %11.3f %9.3f %9.3f %9u %6u\n", rows[i].name, rows[i].devices,
                   rows[i].queues, rows[i].median_ms, rows[i].p90_ms, rows[i].max_ms, rows[i].sent,
                   rows[i].lost);
        }
        printf("ratio of median downtimes, netbe / reopen: 1 queue %.3f, 8 queues %.3f\n",
               rows[0].median_ms / rows[1].median_ms, rows[2].median_ms / rows[3].median_ms);
        printf("netbe: source pause to destination resume, as netbe-ctl reports it; reopen: "
               "close of the old fds to the new forwarder running, in one process (no exec: "
               "generous to the baseline)\n");
    }
    print_vu(vu, nvu, n);
    if (nrows) {
        printf("ratio of median downtimes (netbe-ctl), vhost-user on a TAP / reopen by name, 1 "
               "queue: %.3f; / netbe 1 device x 1 queue: %.3f\n",
               vu[0].ctl.median / rows[1].median_ms, vu[0].ctl.median / rows[0].median_ms);
    }
    json_dir = g_path_get_dirname(json_path);
    g_mkdir_with_parents(json_dir, 0755);
    f = fopen(json_path, "w");
    if (f) {
        fprintf(f, "{\"benchmark\":\"handover\",\"rate_fps\":%u,\"handovers\":%u,\"rows\":[", RATE,
                n);
        for (unsigned i = 0; i < nrows; i++) {
            fprintf(f,
                    "%s{\"case\":\"%s\",\"devices\":%u,\"queues\":%u,\"median_ms\":%.4f,"
                    "\"p90_ms\":%.4f,\"max_ms\":%.4f,\"sent\":%u,\"lost\":%u}",
                    i ? "," : "", rows[i].name, rows[i].devices, rows[i].queues, rows[i].median_ms,
                    rows[i].p90_ms, rows[i].max_ms, rows[i].sent, rows[i].lost);
        }
        fprintf(f, "],");
        if (nrows) {
            fprintf(f,
                    "\"ratio_median_1q\":%.4f,\"ratio_median_8q\":%.4f,"
                    "\"ratio_median_vhost_user_tap_reopen\":%.4f,",
                    rows[0].median_ms / rows[1].median_ms, rows[2].median_ms / rows[3].median_ms,
                    vu[0].ctl.median / rows[1].median_ms);
        }
        json_vu(f, vu, nvu);
        fprintf(f, "}\n");
        fclose(f);
        printf("wrote %s\n", json_path);
    }
    return 0;
}
