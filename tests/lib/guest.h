/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guest.h - test helpers: boot a real Linux guest in QEMU (TCG), drive it over its serial
 * console and QMP, migrate it, and take a TCP stream from it on the host. */
#ifndef NETBE_TEST_GUEST_H
#define NETBE_TEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* The guest's side of the serial protocol, from scripts/guest-image.sh. */
#define TEST_GUEST_READY "__NETBE_READY__"

typedef struct TestGuest TestGuest;

/* Errors of this harness: QEMU or the guest did not do what was asked (FAILED), did not
 * answer in time (TIMEOUT), or QEMU is gone (GONE). */
#define TEST_GUEST_ERROR test_guest_error_quark()
GQuark test_guest_error_quark(void);
typedef enum {
    TEST_GUEST_ERROR_FAILED,
    TEST_GUEST_ERROR_TIMEOUT,
    TEST_GUEST_ERROR_GONE,
} TestGuestError;

/**
 * struct TestGuestOpts - how to start QEMU
 * @mem_mib:         guest RAM in MiB (and 8 KiB more: see guest.c), a shared memfd (vhost-user
 *                   needs it); 0: 256
 * @cpus:            vCPUs; 0: 1
 * @incoming:        NULL to boot; else a QEMU -incoming URI ("unix:PATH"): wait for a
 *                   migration, the guest is the one that arrives
 * @args:            more QEMU arguments (chardevs, netdevs, devices), NULL-terminated
 * @boot_timeout_ms: how long to wait for the guest's ready line; 0: 120 s
 */
typedef struct TestGuestOpts {
    unsigned mem_mib;
    unsigned cpus;
    const char *incoming;
    const char *const *args;
    int boot_timeout_ms;
} TestGuestOpts;

/*
 * test_guest_image() - the guest's kernel and initramfs, built on first use by
 * scripts/guest-image.sh (cached outside the tree; the same paths for the whole process).
 * Return: false with @error (the script's complaint) if there is none.
 */
bool test_guest_image(const char **kernel, const char **initrd, GError **error);

/*
 * test_guest_start() - start qemu-system-x86_64 (-accel tcg -M q35, -nodefaults, serial on
 * a pipe, QMP on a socket in a private temp dir, dies with the test) and, unless
 * @opts->incoming, wait until the guest takes commands.
 * Return: the guest, or NULL with @error (QEMU's stderr and the console's tail are printed).
 */
TestGuest *test_guest_start(const TestGuestOpts *opts, GError **error);

/* A private temp dir of @g, removed with it (for sockets of the test). */
const char *test_guest_dir(TestGuest *g);
/* QEMU's pid (0 once it is gone). */
GPid test_guest_pid(TestGuest *g);
/* Seconds from starting QEMU until the guest was ready (0 for an incoming guest). */
double test_guest_boot_seconds(TestGuest *g);

/*
 * test_guest_run() - run shell command @fmt in the guest and wait up to @timeout_ms for it.
 * @status: its exit status; @output (may be NULL): its stdout and stderr, caller frees
 * Return: false with @error if QEMU died or the command did not finish in time.
 */
bool test_guest_run(TestGuest *g, int timeout_ms, int *status, char **output, GError **error,
                    const char *fmt, ...) G_GNUC_PRINTF(6, 7);

/*
 * test_guest_ok() - run @fmt in the guest and assert it exits with status 0 within
 * @timeout_ms. Return: its output (caller frees).
 */
char *test_guest_ok(TestGuest *g, int timeout_ms, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/*
 * test_guest_wait_console() - wait up to @timeout_ms for a console line holding @needle.
 * Return: false with @error on timeout or QEMU's exit.
 */
bool test_guest_wait_console(TestGuest *g, const char *needle, int timeout_ms, GError **error);

/*
 * test_guest_qmp() - send QMP command @json (connecting and negotiating capabilities on
 * first use) and wait up to 10 s for its answer, skipping events.
 * Return: the answer line ({"return": ...}), or NULL with @error (the QMP error too).
 */
char *test_guest_qmp(TestGuest *g, const char *json, GError **error);

/*
 * test_guest_migrate() - QMP "migrate" of @src to @uri (bandwidth unlimited), then poll
 * query-migrate until it completes. Return: false with @error if it failed or took more than
 * @timeout_ms.
 */
bool test_guest_migrate(TestGuest *src, const char *uri, int timeout_ms, GError **error);

/*
 * test_guest_wait_incoming() - wait up to @timeout_ms until guest @g, started with -incoming
 * and -S, has taken in the whole migration (it is paused, no longer "inmigrate").
 * Return: false with @error if it did not.
 */
bool test_guest_wait_incoming(TestGuest *g, int timeout_ms, GError **error);

/*
 * test_guest_ram_diff() - compare the RAM of guests @a and @b (both stopped) page by page.
 * @report: the guest addresses of the first pages that differ are appended to it
 * Return: pages that differ, or -1 (said in @report) if the RAM cannot be read.
 */
long test_guest_ram_diff(TestGuest *a, TestGuest *b, GString *report);

/*
 * test_guest_kill() - SIGKILL QEMU (a crash, as far as the backend can tell) and reap it.
 */
void test_guest_kill(TestGuest *g);

/* Stop QEMU (SIGTERM, SIGKILL after 5 s), remove the temp dir, free. NULL is fine. */
void test_guest_free(TestGuest *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestGuest, test_guest_free)

typedef struct TestSink TestSink;

/*
 * test_sink_start() - a TCP listener on @addr (an IPv4 address, port 0: any free one),
 * inside namespace @netns if not NULL, whose thread takes one connection and reads it to
 * the end, hashing it with SHA-256.
 * Return: the sink; its port in *@port.
 */
TestSink *test_sink_start(const char *netns, const char *addr, uint16_t *port);

/*
 * test_sink_finish() - wait up to @timeout_ms for the sender to close.
 * @sha256: (out) lower-case hex digest of the bytes, caller frees
 * Return: the number of bytes, or -1 if the stream did not end in time (or never began).
 */
int64_t test_sink_finish(TestSink *s, int timeout_ms, char **sha256);

/* Bytes received so far (while the stream runs). */
int64_t test_sink_received(TestSink *s);

void test_sink_free(TestSink *s);

/*
 * test_stream_send() - connect to @addr:@port (from namespace @netns if not NULL), retrying
 * while refused for up to @timeout_ms, send @bytes pseudo-random bytes, pausing @pause_us
 * after each MiB (0: as fast as it goes), and close.
 * Return: the SHA-256 (hex) of what was sent, caller frees; NULL if it could not.
 */
char *test_stream_send(const char *netns, const char *addr, uint16_t port, size_t bytes,
                       unsigned pause_us, int timeout_ms);

typedef struct TestStream TestStream;

/* test_stream_send() on a thread of its own: start it ... */
TestStream *test_stream_start(const char *netns, const char *addr, uint16_t port, size_t bytes,
                              unsigned pause_us, int timeout_ms);
/* ... and wait for its end. Return: the SHA-256 (hex) of what was sent, NULL if it could
 * not send it all; frees @s. */
char *test_stream_finish(TestStream *s);

typedef struct TestPinger TestPinger;

/**
 * struct TestPingerResult - what a pinger saw
 * @sent:       echo requests sent
 * @answered:   of those, answered (each counted once)
 * @longest_ms: the longest wall-clock gap between two answers
 * @median_ms:  the median gap (the pinger's rhythm as the guest answers it)
 */
typedef struct TestPingerResult {
    unsigned sent;
    unsigned answered;
    double longest_ms;
    double median_ms;
} TestPingerResult;

/*
 * test_pinger_start() - ICMP echo requests to @addr every @interval_ms from a thread (raw
 * socket made in namespace @netns if not NULL: needs root), timing every answer.
 */
TestPinger *test_pinger_start(const char *netns, const char *addr, unsigned interval_ms);
/* What it saw so far (it goes on). */
TestPingerResult test_pinger_peek(TestPinger *p);
/* Stop sending, wait a second for the last answers, tally; frees @p. */
TestPingerResult test_pinger_stop(TestPinger *p);

#endif /* NETBE_TEST_GUEST_H */
