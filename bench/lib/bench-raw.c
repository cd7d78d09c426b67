// SPDX-License-Identifier: GPL-2.0-or-later
/* bench-raw.c - the virtio-net benches' frames, raw TAP baseline, TAP filler and report. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "bench-raw.h"
#include "harness.h"
#include "netns.h"

const BenchSize bench_sizes[3] = {
    {"64B", 64, false},
    {"1514B", 1514, false},
    {"64KiB-GSO", BENCH_GSO_FRAME, true},
};

double bench_seconds = 1.0;
unsigned bench_raw_ring_slots;

double bench_now(void)
{
    return g_get_monotonic_time() / 1e6;
}

void bench_make_frame(uint8_t *hdr, uint8_t *f, const BenchSize *s)
{
    static const uint8_t dst[6] = {0x02, 0xbb, 0, 0, 0, 1}, src[6] = {0x02, 0xaa, 0, 0, 0, 2};
    const uint8_t sip[4] = {10, 78, 0, 2}, dip[4] = {10, 78, 0, 9};

    memset(hdr, 0, 12);
    memset(f, 0, s->len);
    if (!s->gso) {
        vg_make_frame(f, dst, src, 0x88b5, s->len - 14, 1);
        return;
    }
    vg_make_ipv4(f, dst, src, sip, dip, 6, s->len - 34);
    f[34 + 12] = 5 << 4;
    f[34 + 13] = 0x18;
    vg_tcp4_gso_hdr(hdr, 1460);
}

int bench_raw_tap_open(const char *ifname)
{
    struct ifreq ifr = {0};
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), len = 12;
    unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

    g_assert_cmpint(fd, >=, 0);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    g_assert_cmpint(ioctl(fd, TUNSETIFF, &ifr), ==, 0);
    g_assert_cmpint(ioctl(fd, TUNSETVNETHDRSZ, &len), ==, 0);
    g_assert_cmpint(ioctl(fd, TUNSETOFFLOAD, off), ==, 0);
    return fd;
}

uint64_t bench_thread_cpu_ns(void *unused)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_pid_cpu_ns(void *pid)
{
    struct timespec ts;
    clockid_t clock;

    /* the process CPU clock counts the running slice too (schedstat waits for a tick) */
    if (clock_getcpuclockid(*(int *)pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_raw_tx(int fd, const BenchSize *s, BenchCpu *cpu)
{
    static uint8_t buf[12 + BENCH_GSO_FRAME];
    double t0 = bench_now(), t;
    uint64_t n = 0, c0 = cpu ? cpu->clock(cpu->opaque) : 0;

    bench_make_frame(buf, buf + 12, s); /* header and frame in one buffer: one write() */
    do {
        for (int i = 0; i < 256; i++) {
            if (write(fd, buf, 12 + s->len) > 0) {
                n++;
            }
        }
        t = bench_now();
    } while (t - t0 < bench_seconds);
    if (cpu) {
        cpu->ns_per_frame = n ? (double)(cpu->clock(cpu->opaque) - c0) / n : 0;
    }
    return n / (t - t0);
}

/* Queue @count frames into the TAP (the kernel "transmits" them to its reader). */
static unsigned fill(int pfd, const BenchSize *s, unsigned count)
{
    static uint8_t hdr[12], f[BENCH_GSO_FRAME];
    struct iovec iov[2] = {{hdr, 10}, {f, s->len}};
    struct msghdr msg = {.msg_iov = s->gso ? iov : iov + 1, .msg_iovlen = s->gso ? 2 : 1};
    unsigned sent = 0;

    bench_make_frame(hdr, f, s);
    for (unsigned i = 0; i < count; i++) {
        sent += sendmsg(pfd, &msg, MSG_DONTWAIT) > 0;
    }
    return sent;
}

/* Run on CPU @cpu only (-1: leave as is); Return: the affinity we had, for restoring. */
static cpu_set_t move_to(int cpu)
{
    cpu_set_t had, to;

    sched_getaffinity(0, sizeof(had), &had);
    if (cpu >= 0) {
        CPU_ZERO(&to);
        CPU_SET(cpu, &to);
        g_assert_cmpint(sched_setaffinity(0, sizeof(to), &to), ==, 0);
    }
    return had;
}

double bench_rx_rate(int pfd, const BenchSize *s, BenchDrainFunc drain, void *opaque, int fill_cpu,
                     BenchCpu *cpu)
{
    unsigned batch = s->gso ? 512 : 4096;
    double busy = 0;
    uint64_t frames = 0, cpu_ns = 0, start = cpu ? cpu->clock(cpu->opaque) : 0;

    while (busy < bench_seconds) {
        cpu_set_t had = move_to(fill_cpu);
        unsigned queued = fill(pfd, s, batch), got;
        uint64_t c0;
        double t0;

        if (fill_cpu >= 0) {
            g_assert_cmpint(sched_setaffinity(0, sizeof(had), &had), ==, 0);
        }
        t0 = bench_now();
        c0 = cpu ? cpu->clock(cpu->opaque) : 0;
        got = drain(opaque, queued);
        busy += bench_now() - t0;
        cpu_ns += cpu ? cpu->clock(cpu->opaque) - c0 : 0;
        frames += got;
        if (queued == 0 || got < queued / 2) {
            break; /* the source (the TAP went away) or the sink stopped working */
        }
    }
    if (cpu) {
        if (cpu->whole) {
            cpu_ns = cpu->clock(cpu->opaque) - start;
        }
        cpu->ns_per_frame = frames ? (double)cpu_ns / frames : 0;
    }
    return busy > 0 ? frames / busy : 0;
}

unsigned bench_raw_drain(void *opaque, unsigned want)
{
    static uint8_t buf[70000];
    static uint8_t *ring;
    static unsigned slot;
    int fd = *(int *)opaque;
    unsigned got = 0;
    int idle = 0;

    if (bench_raw_ring_slots && !ring) {
        ring = g_malloc0((size_t)bench_raw_ring_slots * 4096 + sizeof(buf));
    }
    while (got < want && idle < 1000) {
        uint8_t *dst = ring ? ring + (size_t)(slot++ % bench_raw_ring_slots) * 4096 : buf;

        if (read(fd, dst, sizeof(buf)) > 0) {
            got++;
            idle = 0;
        } else {
            idle++;
        }
    }
    return got;
}

bool bench_print_and_save(const char *title, const char *label, double target,
                          const BenchResult *res, size_t n, const char *json_path)
{
    GString *js = g_string_new(NULL);
    g_autofree char *dir = g_path_get_dirname(json_path);
    g_autofree char *fps_col = g_strdup_printf("%s frames/s", label);
    g_autofree char *gbps_col = g_strdup_printf("%s Gb/s", label);
    g_autofree char *cpu_col = g_strdup_printf("%s ns/fr", label);
    bool met = true;

    g_string_append_printf(js,
                           "{\n  \"benchmark\": \"%s\",\n  \"target_ratio_64B\": %.2f,\n"
                           "  \"results\": [\n",
                           title, target);
    printf("%s\n", title);
    printf("%-10s %-10s %14s %10s %14s %10s %7s %11s %10s %9s\n", "direction", "frame",
           "raw frames/s", "raw Gb/s", fps_col, gbps_col, "ratio", "raw ns/fr", cpu_col,
           "cpu ratio");
    for (size_t i = 0; i < n; i++) {
        const BenchResult *r = &res[i];
        double rg = r->raw_fps * r->frame_len * 8 / 1e9, dg = r->dev_fps * r->frame_len * 8 / 1e9;
        double ratio = r->raw_fps > 0 ? r->dev_fps / r->raw_fps : 0;
        bool small = g_str_equal(r->size, "64B");
        double cpu_ratio =
            r->raw_cpu_ns > 0 && r->dev_cpu_ns > 0 ? r->raw_cpu_ns / r->dev_cpu_ns : 0;

        met &= !small || ratio >= target;
        printf("%-10s %-10s %14.0f %10.2f %14.0f %10.2f %6.0f%%", r->dir, r->size, r->raw_fps, rg,
               r->dev_fps, dg, ratio * 100);
        if (cpu_ratio > 0) {
            printf(" %11.0f %10.0f %8.0f%%", r->raw_cpu_ns, r->dev_cpu_ns, cpu_ratio * 100);
        } else {
            printf(" %11s %10s %9s", "-", "-", "-");
        }
        printf("%s\n", small && ratio < target ? "  < target" : "");
        g_string_append_printf(js,
                               "    {\"direction\": \"%s\", \"frame\": \"%s\", "
                               "\"frame_bytes\": %zu, \"raw_fps\": %.0f, \"raw_gbps\": %.3f, "
                               "\"%s_fps\": %.0f, \"%s_gbps\": %.3f, \"ratio\": %.3f, "
                               "\"raw_cpu_ns_per_frame\": %.0f, \"%s_cpu_ns_per_frame\": %.0f, "
                               "\"cpu_ratio\": %.3f}%s\n",
                               r->dir, r->size, r->frame_len, r->raw_fps, rg, label, r->dev_fps,
                               label, dg, ratio, r->raw_cpu_ns, label, r->dev_cpu_ns, cpu_ratio,
                               i + 1 < n ? "," : "");
    }
    g_string_append_printf(js, "  ],\n  \"target_met_64B\": %s\n}\n", met ? "true" : "false");
    if (target > 0) {
        printf("ratio = %s / raw; target at 64 B >= %.0f%%: %s. ", label, target * 100,
               met ? "met" : "NOT met");
    } else {
        printf("ratio = %s / raw. ", label);
    }
    printf("ns/fr: CPU time of each path's worker per frame (-: not measured); cpu ratio = raw "
           "ns/fr / %s ns/fr\n",
           label);
    g_mkdir_with_parents(dir, 0755);
    if (g_file_set_contents(json_path, js->str, -1, NULL)) {
        printf("JSON: %s\n", json_path);
    } else {
        fprintf(stderr, "cannot write %s\n", json_path);
    }
    g_string_free(js, true);
    return met;
}

bool bench_selected(const char *only, const char *dir, const char *size)
{
    g_autofree char *name = g_strdup_printf("%s:%s", dir, size);

    return !only || g_str_equal(only, name);
}
