/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-raw.h - what the virtio-net benches share: the frame sizes, frames with their vnet
 * header, the raw TAP syscall loop they are measured against (same run, same namespace),
 * the packet socket that fills a TAP for the TAP->guest direction, and the table + JSON. */
#ifndef NETBE_BENCH_RAW_H
#define NETBE_BENCH_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_GSO_PAYLOAD 65000
#define BENCH_GSO_FRAME (54 + BENCH_GSO_PAYLOAD)

typedef struct BenchSize {
    const char *name;
    size_t len; /* Ethernet frame bytes */
    bool gso;
} BenchSize;

/* 64 B, 1514 B and a 64 KiB TCPv4 GSO frame. */
extern const BenchSize bench_sizes[3];
/* Seconds each measurement runs (--seconds). */
extern double bench_seconds;
/* --raw-ring N: the raw loop reads into N rotating 4 KiB buffers (cold, as an RX ring)
 * instead of one hot buffer; 0 = one buffer. */
extern unsigned bench_raw_ring_slots;

double bench_now(void);

/* bench_make_frame() - a 12-byte vnet header in @hdr and the frame of @s in @f: UDP-ish
 * filler, or a TCPv4 GSO frame with checksum offload. */
void bench_make_frame(uint8_t *hdr, uint8_t *f, const BenchSize *s);

/* bench_raw_tap_open() - the baseline's TAP @ifname (in the current namespace), with a
 * 12-byte vnet header and TSO offloads as netbe's tap plugin sets them. Asserts. */
int bench_raw_tap_open(const char *ifname);
/*
 * BenchCpu - the CPU time a path's worker spends per frame, next to its rate: that does not
 * depend on how much of a CPU other processes of the machine leave it.
 * @clock:        CPU time (ns) the worker used so far
 * @opaque:       for @clock
 * @whole:        count the worker's CPU over the whole TAP->guest measurement, queueing
 *                included (a worker in another process, which works for the frames it
 *                takes whenever it runs), not only while the sink drains (our own thread,
 *                which also queues the frames)
 * @ns_per_frame: out: CPU ns per frame of the last measurement (0: none)
 */
typedef struct BenchCpu {
    uint64_t (*clock)(void *opaque);
    void *opaque;
    bool whole;
    double ns_per_frame;
} BenchCpu;

/* The calling thread's CPU time (a BenchCpu clock; @unused). */
uint64_t bench_thread_cpu_ns(void *unused);
/* The CPU time of process *(int *)@pid (a BenchCpu clock; its CPU-time clock). */
uint64_t bench_pid_cpu_ns(void *pid);

/* bench_raw_tx() - write() frames of @s to @fd for bench_seconds; our CPU per frame into
 * @cpu (may be NULL). Return: frames/s. */
double bench_raw_tx(int fd, const BenchSize *s, BenchCpu *cpu);

/* A sink that takes up to @want frames. Return: frames taken (fewer: it ran dry). */
typedef unsigned (*BenchDrainFunc)(void *opaque, unsigned want);
/*
 * bench_rx_rate() - queue a batch of frames of @s into the TAP behind @pfd (untimed), time
 * @drain taking them; repeat for about bench_seconds of drain time. @fill_cpu: queue them
 * from that CPU (the one that reads the TAP, so the frames are in its cache as they are for
 * a raw loop that fills and reads on one CPU), -1 from wherever we run. @cpu
 * (may be NULL): the reader's CPU per frame over the drains. Return: frames/s.
 */
double bench_rx_rate(int pfd, const BenchSize *s, BenchDrainFunc drain, void *opaque, int fill_cpu,
                     BenchCpu *cpu);
/* The raw sink: read() from the TAP fd *(int *)@opaque until @want frames or it is dry. */
unsigned bench_raw_drain(void *opaque, unsigned want);

/* bench-raw-uring.c: the same raw loops with 64 frames per io_uring_enter() (RWF_NOWAIT),
 * the most that batching gives over one syscall per frame on the running kernel. */
double bench_raw_tx_uring(int fd, const BenchSize *s);
unsigned bench_raw_drain_uring(void *opaque, unsigned want);

typedef struct BenchResult {
    const char *dir, *size;
    double raw_fps, dev_fps;
    size_t frame_len;
    double raw_cpu_ns, dev_cpu_ns; /* CPU ns per frame of each path's worker, 0: unknown */
} BenchResult;

/*
 * bench_print_and_save() - print the table (raw vs @label frames/s, Gb/s, ratio) and write
 * it as JSON to @json_path ("@label_fps" keys), titled @title; rows below @target ratio at
 * 64 B are flagged (none with @target 0). With CPU costs known, also the CPU ns per frame
 * of each path and their ratio (raw / @label: the rate ratio each would reach with a CPU
 * of its own).
 * Return: true if every 64 B row meets @target.
 */
bool bench_print_and_save(const char *title, const char *label, double target,
                          const BenchResult *res, size_t n, const char *json_path);

/* True if @dir:@size is wanted (--only DIR:SIZE, or all when @only is NULL). */
bool bench_selected(const char *only, const char *dir, const char *size);

#endif /* NETBE_BENCH_RAW_H */
