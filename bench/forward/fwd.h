/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwd.h - what the forwarding bench's parts share: the cases, one measurement's wiring, the
 * sender, the raw loops, the forwarders (QEMU, netbe-host) and the processes that run them. */
#ifndef NETBE_BENCH_FWD_H
#define NETBE_BENCH_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* The TAPs of the bench's namespace: frames enter at FWD_IF_IN (TAP -> TAP only), and every
 * forwarder writes them to FWD_IF_OUT, whose kernel counters count them. */
#define FWD_IF_IN "fwd-in"
#define FWD_IF_OUT "fwd-out"

/* Where frames come from; they always leave through the hub to FWD_IF_OUT. */
typedef enum FwdSource {
    FWD_STREAM, /* TCP, one connection, 4-byte big-endian length before each frame */
    FWD_DGRAM,  /* UDP, one frame per datagram */
    FWD_TAP,    /* another TAP (FWD_IF_IN) */
} FwdSource;

/*
 * FwdWiring - the endpoints of one measurement, on 127.0.0.1 in the bench's namespace
 * @source:      where frames come from
 * @frame_len:   Ethernet frame bytes
 * @sender_port: FWD_STREAM: the sender listens here, the forwarder connects;
 *               FWD_DGRAM: the sender's bound port (the forwarder's remote)
 * @fwd_port:    FWD_DGRAM: the port the forwarder binds and receives on
 */
typedef struct FwdWiring {
    FwdSource source;
    size_t frame_len;
    unsigned sender_port, fwd_port;
} FwdWiring;

/* ---- fwd-sender.c ---- */

/* fwd_make_frame() - an Ethernet frame of @len bytes to a MAC nobody has, ethertype 0x88b5
 * (no protocol takes it: the namespace drops it as soon as the TAP counted it). */
void fwd_make_frame(uint8_t *f, size_t len);

/*
 * fwd_sender_open() - the sender's socket for @w, before the forwarder starts: a listening
 * TCP socket or a bound UDP socket (their ports go into @w), or a packet socket on
 * FWD_IF_IN. Return: the fd, -1 with @err set.
 */
int fwd_sender_open(FwdWiring *w, GError **err);

/*
 * fwd_sender_run() - send frames of @w on @fd as fast as the other end takes them (a stream
 * sender accepts its one connection first), adding each frame sent to *@sent; returns only
 * when the peer is gone. Runs in a child process.
 */
void fwd_sender_run(const FwdWiring *w, int fd, uint64_t *sent);

/* ---- fwd-raw.c ---- */

/*
 * fwd_raw_run() - the raw limit: the least a forwarder does for @w, with blocking fds and one
 * syscall per frame each way: read the stream and write() each frame to FWD_IF_OUT, or
 * recv() / read() one frame and write() it. With @vnet_hdr the TAPs carry a (zero) 10-byte
 * virtio-net header as QEMU's and netbe's do: a writev() of header and frame, or a TAP
 * frame passed on with its header. Returns only on an error (printed). Runs in a child.
 */
void fwd_raw_run(const FwdWiring *w, bool vnet_hdr);

/* ---- fwd-peers.c ---- */

/* How QEMU's netdevs are written: the 7.2 forms (-netdev stream / dgram) or the old ones
 * (-netdev socket,connect= / socket,udp=), which are separate code in QEMU. */
typedef enum FwdQemuForm { FWD_QEMU_NEW, FWD_QEMU_LEGACY } FwdQemuForm;

/* fwd_qemu_argv() - a guestless QEMU @qemu whose hub joins @w's source to FWD_IF_OUT; its
 * TAPs with QEMU's default vnet header, or vnet_hdr=off unless @tap_vnet_hdr.
 * Return: a NULL-terminated argv (g_strfreev). */
char **fwd_qemu_argv(const char *qemu, const FwdWiring *w, FwdQemuForm form, bool tap_vnet_hdr);

/* fwd_netbe_config() - a netbe-host ini whose hub joins @w's source to FWD_IF_OUT; with
 * @io not NULL, [runtime] io = @io; its TAPs with the default vnet_hdr (auto), or off unless
 * @tap_vnet_hdr; @netdev_keys ("" for none) added to both netdevs. Return: the text (g_free). */
char *fwd_netbe_config(const FwdWiring *w, const char *io, bool tap_vnet_hdr,
                       const char *netdev_keys);

/* ---- fwd-proc.c ---- */

/* fwd_proc_init() - remember @netns and @tmpdir with the NULL-terminated @tmp_files in it
 * (4 at most), ours, and install the handlers that kill our children and delete them when
 * the bench exits, fails an assertion or is stopped. */
void fwd_proc_init(const char *netns, const char *tmpdir, const char *const *tmp_files);

/* fwd_proc_cleanup() - kill what still runs, leave nothing behind (also run at exit). */
void fwd_proc_cleanup(void);

/* fwd_fork_pinned() - fork a child on CPU @cpu that runs @fn(@arg) and exits; it dies with
 * us. Return: its pid, tracked until fwd_proc_stop(). */
GPid fwd_fork_pinned(int cpu, void (*fn)(void *arg), void *arg);

/* fwd_spawn_pinned() - run @argv on CPU @cpu (every thread), stdout and stderr to @log; it
 * dies with us. Return: its pid (tracked), -1 with @err set. */
GPid fwd_spawn_pinned(char **argv, int cpu, const char *log, GError **err);

/* fwd_proc_alive() - true while child @pid has not exited (an exited one is reaped). */
bool fwd_proc_alive(GPid pid);

/* fwd_proc_stop() - SIGTERM (SIGKILL at once if @kill, or after 2 s), reap, untrack; nothing
 * for a pid not ours (any more). */
void fwd_proc_stop(GPid pid, bool kill);

/* fwd_proc_cpu_ns() - CPU time (ns) process @pid used so far, all its threads; 0 unknown. */
uint64_t fwd_proc_cpu_ns(GPid pid);

/* fwd_cpu_busy_ns() - time (ns, in ticks) CPU @cpu spent on anything but idling: every
 * process and the kernel's work (softirqs, ksoftirqd) on it; 0 unknown. */
uint64_t fwd_cpu_busy_ns(int cpu);

/* fwd_if_counters() - FWD_IF_OUT-style counters of @ifname in our namespace: frames and
 * bytes it received (what the forwarder wrote to its fd). Return: false if not found. */
bool fwd_if_counters(const char *ifname, uint64_t *rx_frames, uint64_t *rx_bytes);

/* ---- fwd-report.c ---- */

#define FWD_MAX_REPEAT 15

/*
 * FwdRow - one forwarder on one case, over its repeated measurements
 * @source:    "stream", "tap" or "dgram"
 * @frame_len: Ethernet frame bytes
 * @forwarder: "raw", "qemu", "netbe", or with --hooks "netbe-base" (the same source built
 *             with -DNETBE_BENCH_NO_HOOKS: the capture and rate-limit hooks compiled out) and
 * "netbe-rl" (rate limits set far above the rate: the limiter runs, never waits)
 * @io:        netbe: the [runtime] io value it ran with, NULL: not set
 * @runs:      measurements made (each array holds @runs values)
 * @fps:       frames per second counted on FWD_IF_OUT
 * @offered:   frames per second the sender got rid of (UDP and TAP senders lose the rest)
 * @proc_ns:   the forwarder process's CPU time per forwarded frame (ns)
 * @others:    the share of the forwarder's CPU that went to anything else (in ticks): the
 *             kernel's work there outside the process (ksoftirqd) and other people's
 * @ran:       the share of the time the forwarder process ran (1: always; less: it waited
 *             for frames, or others took its CPU)
 * @dropped:   runs measured again because others took the forwarder's CPU
 * @error:     why a measurement failed (the row has no figures), NULL
 */
typedef struct FwdRow {
    const char *source;
    size_t frame_len;
    const char *forwarder;
    const char *io;
    unsigned runs;
    double fps[FWD_MAX_REPEAT], offered[FWD_MAX_REPEAT], others[FWD_MAX_REPEAT];
    double proc_ns[FWD_MAX_REPEAT], ran[FWD_MAX_REPEAT];
    unsigned dropped;
    char *error;
} FwdRow;

/* fwd_median() - the median of the @n values of @v (0 for none). */
double fwd_median(const double *v, unsigned n);

/*
 * fwd_report() - print @rows as a table (medians; ratios against the raw and the qemu row of
 * the same source and frame) and write them as JSON to @json_path, with @meta (the members of
 * a JSON object, the run's settings) on top; netbe stream rows below @target times QEMU's
 * frames/s are flagged. Return: false if the JSON could not be written.
 */
bool fwd_report(const FwdRow *rows, size_t n, double target, const char *meta,
                const char *json_path);

#endif /* NETBE_BENCH_FWD_H */
