// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-vhost-user.c - the real netbe-host serving one vhost-user virtio-net device on a TAP,
 * driven by our own frontend process (tests/lib/vu-front.c: memfd guest memory, split rings,
 * a polling driver): frames/s guest->TAP and TAP->guest for 64 B, 1514 B and 64 KiB GSO
 * frames, next to the raw TAP read/write loop on a second TAP of the same namespace, same
 * run. Needs root. Table + JSON (bench/lib/bench-raw.c). */
#include <endian.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench-raw.h"
#include "host-proc.h"
#include "netns.h"
#include "vu-front.h"

#define TARGET 0.80
#define IDLE_S 0.05 /* a drain that sees no frame this long is dry */

/* Wait until every TX descriptor is back (the previous measurement finished). */
static void tx_settle(VuFront *f)
{
    VuQueue *q = &f->q[vu_txq(0)];
    double t0 = bench_now();

    while (q->nfree < q->size && bench_now() - t0 < 2) {
        vu_front_tx_reclaim(f, 0);
    }
    g_assert_cmpuint(q->nfree, ==, q->size); /* the device stopped taking TX frames */
}

/* Fill half the TX descriptors with the frame once (128 frames in flight, 8 MiB of 64 KiB
 * frames: what bench-vnet's guest keeps in flight with its 2-descriptor chains), then keep
 * re-posting the finished ones as they are (the data is in place) for bench_seconds.
 * netbe-host's CPU per frame into @cpu. Return: frames/s the device sent. */
static double vu_tx(VuFront *f, const BenchSize *s, BenchCpu *cpu)
{
    static uint8_t hdr[12], frame[BENCH_GSO_FRAME];
    unsigned slots = f->q[vu_txq(0)].size / 2;
    double t0, t;
    uint64_t n = 0, c0;

    tx_settle(f);
    bench_make_frame(hdr, frame, s);
    for (unsigned i = 0; i < slots; i++) {
        g_assert_true(vu_front_send(f, 0, hdr, frame, s->len, true));
    }
    vu_front_kick(f, vu_txq(0));
    c0 = cpu->clock(cpu->opaque);
    t0 = bench_now();
    do {
        for (int i = 0; i < 64; i++) {
            n += vu_front_tx_repost(f, 0);
        }
        t = bench_now();
    } while (t - t0 < bench_seconds);
    cpu->ns_per_frame = n ? (double)(cpu->clock(cpu->opaque) - c0) / n : 0;
    tx_settle(f);
    return n / (t - t0);
}

/* Diagnosis (BENCH_VU_DEBUG): pauses of the RX drain longer than 50 µs, and batches. */
static unsigned gaps;
static double gap_time;
static uint64_t batches;

/* The guest's sink: take used RX entries without copying until @want frames. */
static unsigned vu_drain(void *opaque, unsigned want)
{
    VuFront *f = opaque;
    unsigned got = 0;
    double last = bench_now();

    while (got < want) {
        unsigned n = vu_front_rx_drop(f, 0);

        if (n) {
            double t = bench_now();

            if (t - last > 50e-6) {
                gaps++;
                gap_time += t - last;
            }
            got += n;
            batches++;
            last = t;
        } else if (bench_now() - last > IDLE_S) {
            break;
        }
    }
    if (got < want && g_getenv("BENCH_VU_DEBUG")) {
        VuQueue *q = &f->q[vu_rxq(0)];

        printf("vu_drain: dry after %u of %u frames; avail %u used %u avail_event %u\n", got, want,
               q->avail_idx, q->last_used,
               le16toh(*(uint16_t *)(q->used + 4 + 8 * (size_t)q->size)));
    }
    return got;
}

/* Idle jiffies of CPUs 0 and 1 so far (/proc/stat). */
static void idle_ticks(unsigned long long idle[2])
{
    g_autofree char *stat = NULL;

    idle[0] = idle[1] = 0;
    if (!g_file_get_contents("/proc/stat", &stat, NULL, NULL)) {
        return;
    }
    for (int cpu = 0; cpu < 2; cpu++) {
        g_autofree char *tag = g_strdup_printf("\ncpu%d ", cpu);
        const char *p = strstr(stat, tag);
        unsigned long long v[4] = {0};

        if (p && sscanf(p + strlen(tag), "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) == 4) {
            idle[cpu] = v[3];
        }
    }
}

/*
 * Pin netbe-host to the CPU that was idler over the last 300 ms and the driver (and the raw
 * loop, which runs in it) to the other, as a vCPU thread and a vhost-user backend thread are
 * pinned apart in deployments. Unpinned, the scheduler's wake-affine placement moves
 * netbe-host, woken by a kick, onto the CPU where the polling driver spins, and the two share
 * one CPU. Another busy process on this machine then weighs on the driver and the raw loop
 * alike rather than on netbe-host alone. Return: netbe-host's CPU, -1 if not pinned (fewer
 * than 2 CPUs or affinity refused).
 */
static int pin(GPid host)
{
    unsigned long long before[2], after[2];
    cpu_set_t mine, its;
    int host_cpu;

    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        return -1;
    }
    idle_ticks(before);
    g_usleep(300000);
    idle_ticks(after);
    host_cpu = after[1] - before[1] >= after[0] - before[0] ? 1 : 0;
    CPU_ZERO(&mine);
    CPU_ZERO(&its);
    CPU_SET(1 - host_cpu, &mine);
    CPU_SET(host_cpu, &its);
    if (sched_setaffinity(0, sizeof(mine), &mine) != 0 ||
        sched_setaffinity(host, sizeof(its), &its) != 0) {
        return -1;
    }
    return host_cpu;
}

/* What one run measures with: the frontend, the raw TAP and the TAP fillers. */
typedef struct Bench {
    VuFront *f;
    GPid host;
    int raw_fd;
    int p_vu, p_vu_gso, p_raw, p_raw_gso; /* packet sockets filling each TAP */
    int fill_cpu;                         /* CPU that fills netbe-host's TAP, -1: any */
} Bench;

/* One run of one path: frames/s of the raw loop or of netbe-host, in direction @rx; the CPU
 * its worker (our thread or netbe-host) spent per frame into *@cpu_ns. */
static double measure_once(Bench *b, bool rx, bool vu, const BenchSize *s, double *cpu_ns)
{
    BenchCpu cpu = {vu ? bench_pid_cpu_ns : bench_thread_cpu_ns, &b->host, vu, 0};
    double fps;

    if (!rx) {
        fps = vu ? vu_tx(b->f, s, &cpu) : bench_raw_tx(b->raw_fd, s, &cpu);
    } else if (vu) {
        fps = bench_rx_rate(s->gso ? b->p_vu_gso : b->p_vu, s, vu_drain, b->f, b->fill_cpu, &cpu);
    } else {
        fps = bench_rx_rate(s->gso ? b->p_raw_gso : b->p_raw, s, bench_raw_drain, &b->raw_fd, -1,
                            &cpu);
    }
    *cpu_ns = cpu.ns_per_frame;
    return fps;
}

/* Best of @repeat runs of each path, alternating which goes first, so that what other
 * processes of the machine take hits both alike; the CPU per frame of the best run. */
static BenchResult measure(Bench *b, bool rx, const BenchSize *s, int repeat)
{
    BenchResult r = {rx ? "tap->guest" : "guest->tap", s->name, 0, 0, s->len, 0, 0};

    for (int i = 0; i < repeat; i++) {
        for (int k = 0; k < 2; k++) {
            bool vu = (i + k) % 2;
            double cpu_ns, fps = measure_once(b, rx, vu, s, &cpu_ns);

            if (vu && fps > r.dev_fps) {
                r.dev_fps = fps;
                r.dev_cpu_ns = cpu_ns;
            } else if (!vu && fps > r.raw_fps) {
                r.raw_fps = fps;
                r.raw_cpu_ns = cpu_ns;
            }
        }
    }
    return r;
}

static void usage_exit(const char *arg)
{
    fprintf(stderr,
            "bench-vhost-user: unknown argument %s\n"
            "usage: bench-vhost-user [--json FILE] [--only DIR:SIZE] [--seconds S] "
            "[--repeat N] [--raw-ring N] [--no-pin] [--fill-far] [--no-mrg] [--sandbox-off] "
            "[--hugepages] [--poll-us N]\n",
            arg);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *json = "bench-results/vhost-user.json", *only = NULL, *poll_us = NULL;
    BenchResult res[2 * G_N_ELEMENTS(bench_sizes)];
    g_autofree char *ns = NULL, *ini = NULL, *sock = NULL, *title = NULL;
    g_autoptr(GError) err = NULL;
    VuFrontOptions opt = {.rx_buf_size = 4096};
    TestHost *h;
    Bench b = {.fill_cpu = -1};
    int saved, repeat = 3;
    size_t nres = 0;
    bool no_pin = false, fill_near = true;
    const char *host_args[] = {"--sandbox=off", NULL};
    bool sandbox_off = false;
    int host_cpu;

    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--json") && i + 1 < argc) {
            json = argv[++i];
        } else if (g_str_equal(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i]; /* e.g. "tap->guest:64B", for profiling */
        } else if (g_str_equal(argv[i], "--raw-ring") && i + 1 < argc) {
            bench_raw_ring_slots = atoi(argv[++i]);
        } else if (g_str_equal(argv[i], "--seconds") && i + 1 < argc) {
            bench_seconds = g_ascii_strtod(argv[++i], NULL);
        } else if (g_str_equal(argv[i], "--repeat") && i + 1 < argc) {
            repeat = atoi(argv[++i]); /* MAX() would evaluate argv[++i] twice */
            repeat = MAX(1, repeat);
        } else if (g_str_equal(argv[i], "--no-pin")) {
            no_pin = true; /* diagnosis: let the scheduler place both processes */
        } else if (g_str_equal(argv[i], "--no-mrg")) {
            /* diagnosis: one 64 KiB buffer per frame, no merged-buffer gather */
            opt.features_clear = 1ull << 15;
            opt.rx_buf_size = 0;
        } else if (g_str_equal(argv[i], "--hugepages")) {
            opt.hugepages = true; /* guest memory in 2 MiB pages: vm.nr_hugepages >= 64 */
        } else if (g_str_equal(argv[i], "--sandbox-off")) {
            sandbox_off = true; /* diagnosis: what the seccomp filter costs per frame */
        } else if (g_str_equal(argv[i], "--poll-us") && i + 1 < argc) {
            poll_us = argv[++i]; /* the device's poll_us (default: netbe's, 32 for vhost-user) */
        } else if (g_str_equal(argv[i], "--fill-far")) {
            fill_near = false; /* diagnosis: queue TAP->guest frames from the driver's CPU */
        } else {
            usage_exit(argv[i]);
        }
    }
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
        printf("bench-vhost-user: needs root and /dev/net/tun; skipped\n");
        return 77;
    }
    ns = test_netns_create("bvu");
    saved = test_netns_enter(ns);
    b.raw_fd = bench_raw_tap_open("bvraw0");
    test_netns_leave(saved);
    ini = g_strdup_printf("[netdev.t0]\ntype = tap\nifname = bvtap0\nvnet_hdr = on\n"
                          "[device.d0]\nmodel = virtio-net\ntransport = vhost-user\n"
                          "socket = vu.sock\nnetdev = t0\n%s%s%s",
                          poll_us ? "poll_us = " : "", poll_us ? poll_us : "", poll_us ? "\n" : "");
    h = test_host_start(ini, ns, sandbox_off ? host_args : NULL);
    if (!h) {
        fprintf(stderr, "bench-vhost-user: netbe-host did not start\n");
        test_netns_delete(ns);
        return 1;
    }
    test_pid_track(0, h->pid);
    b.host = h->pid;
    sock = g_build_filename(h->dir, "vu.sock", NULL);
    host_cpu = no_pin ? -1 : pin(h->pid);
    b.fill_cpu = fill_near ? host_cpu : -1;
    g_assert_cmpint(test_sh("ip -n %s link set bvtap0 up txqueuelen 20000 && "
                            "ip -n %s link set bvraw0 up txqueuelen 20000",
                            ns, ns),
                    ==, 0);
    g_assert_cmpint(fcntl(b.raw_fd, F_SETFL, O_NONBLOCK), ==, 0);
    b.f = vu_front_connect(sock, &opt, &err);
    g_assert_no_error(err);
    vu_front_start(b.f, &err);
    g_assert_no_error(err);
    b.p_vu = test_packet_sender(ns, "bvtap0", false);
    b.p_vu_gso = test_packet_sender(ns, "bvtap0", true);
    b.p_raw = test_packet_sender(ns, "bvraw0", false);
    b.p_raw_gso = test_packet_sender(ns, "bvraw0", true);
    g_usleep(100000);
    vu_drain(b.f, 100000); /* IPv6 chatter from link up */
    bench_raw_drain(&b.raw_fd, 100000);

    for (int rx = 0; rx < 2; rx++) {
        for (size_t i = 0; i < G_N_ELEMENTS(bench_sizes); i++) {
            const BenchSize *s = &bench_sizes[i];

            if (bench_selected(only, rx ? "tap->guest" : "guest->tap", s->name)) {
                res[nres++] = measure(&b, rx, s, repeat);
            }
        }
    }
    if (g_getenv("BENCH_VU_DEBUG")) {
        g_autofree char *stats = test_host_ctl(h, "stats");
        g_autofree char *status = test_host_ctl(h, "status"); /* kicks per vring */

        printf("RX drain: %u pauses > 50 us, %.3f s in them; %" G_GUINT64_FORMAT " batches\n%s",
               gaps, gap_time, batches, stats ? stats : "(no stats)\n");
        printf("%s", status ? status : "(no status)\n");
        test_sh("ip -s -n %s link show bvtap0 >&2", ns);
    }
    title = g_strdup_printf("netbe-host vhost-user device + tap vs raw TAP loop (driver: vu-front, "
                            "a polling guest in its own process; poll_us %s; %s; best of %d)",
                            poll_us ? poll_us : "default",
                            host_cpu < 0 ? "not pinned"
                            : host_cpu   ? "driver and raw loop on CPU 0, netbe-host on CPU 1"
                                         : "driver and raw loop on CPU 1, netbe-host on CPU 0",
                            repeat);
    bench_print_and_save(title, "vu", TARGET, res, nres, json);
    close(b.p_vu);
    close(b.p_vu_gso);
    close(b.p_raw);
    close(b.p_raw_gso);
    close(b.raw_fd);
    vu_front_free(b.f);
    test_pid_track(0, 0);
    test_host_free(h);
    test_netns_delete(ns);
    return 0;
}
