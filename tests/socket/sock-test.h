/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sock-test.h - helpers for the socket plugin tests: runtimes pumped by the test, raw peers. */
#ifndef NETBE_SOCK_TEST_H
#define NETBE_SOCK_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>
#include "netbe/netbe.h"

/* Longest any helper waits for something to happen. */
#define ST_TIMEOUT_MS 5000
/* Largest stream frame the plugin takes: QEMU's NET_BUFSIZE (64 KiB GSO + 4 KiB). */
#define ST_FRAME_MAX (65536 + 4096)

/*
 * st_runtime_new() - a runtime on its own context, plugins from NETBE_PLUGIN_PATH, loaded
 * from @config and started; it is pumped by every st_* wait below until st_runtime_free().
 */
NetbeRuntime *st_runtime_new(const char *config);
/* Load @config into a fresh runtime. Return: NULL with @errp set on failure. */
NetbeRuntime *st_runtime_try(const char *config, GError **errp);
void st_runtime_free(NetbeRuntime *rt);

/*
 * st_tolerate_warnings() - warnings of @domain matching @pattern (g_pattern_match_simple)
 * are not fatal from now on, and counted (st_tolerated_warnings()); NULL: none again. The
 * core's warning that a queue fd broke is always tolerated: for a socket netdev a peer that
 * leaves is routine (the plugin logs what it does next).
 */
void st_tolerate_warnings(const char *domain, const char *pattern);
unsigned st_tolerated_warnings(void);

/* Dispatch whatever is ready in every live runtime, without blocking. */
void st_pump(void);
/* Pump for @ms milliseconds. */
void st_pump_for(unsigned ms);
/* Pump until @cond(@data) is true. Return: false after @timeout_ms. */
bool st_wait(bool (*cond)(void *data), void *data, unsigned timeout_ms);

/* Counters of queue 0 of netdev @id. */
NetbeQueueStats st_stats(NetbeRuntime *rt, const char *id);
/* Pump until netdev @id has counted @tx frames out and @rx in. Return: false on timeout. */
bool st_wait_frames(NetbeRuntime *rt, const char *id, uint64_t tx, uint64_t rx);

/* A fresh temp dir (removed with everything in it by st_tmpdir_free). */
char *st_tmpdir_new(void);
void st_tmpdir_free(char *dir);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
unsigned st_free_tcp_port(void);
/* A UDP port on 127.0.0.1 that was free a moment ago. */
unsigned st_free_udp_port(void);
/* A connected non-blocking socketpair of @type; sv[1] goes to the plugin as fd=. */
void st_socketpair(int type, int sv[2]);

/* Listening / connecting / bound raw sockets for a peer written in the test (non-blocking). */
int st_unix_listen(const char *path);  /* "@NAME": abstract namespace */
int st_tcp_listen(unsigned *port);     /* 127.0.0.1, *port 0: any (set on return) */
int st_unix_connect(const char *path); /* retried while pumping; -1 on timeout */
int st_tcp_connect(unsigned port);     /* 127.0.0.1; -1 on timeout */
int st_accept(int lfd);                /* pumps; -1 on timeout */
int st_unix_dgram_bind(const char *path);
int st_udp_bind(unsigned *port); /* 127.0.0.1, *port 0: any (set on return) */

/* Write all of @buf, pumping while the socket is full. Return: false on timeout/error. */
bool st_write_all(int fd, const void *buf, size_t len);
/* Read exactly @len bytes, pumping meanwhile. Return: false on timeout, EOF or error. */
bool st_read_exact(int fd, void *buf, size_t len);
/* One datagram, pumping meanwhile. Return: its length, -1 on timeout. */
ssize_t st_recv_dgram(int fd, void *buf, size_t cap);
/* Pump until @fd reads EOF or reset. Return: false on timeout or if data came instead. */
bool st_wait_eof(int fd);
/* True if nothing arrives on @fd within @ms. */
bool st_quiet(int fd, unsigned ms);

/*
 * st_udp_kernel_drops() - datagrams the kernel dropped at the UDP socket bound to
 * 127.0.0.1:@port because its receive buffer was full (the "drops" of /proc/net/udp; the
 * count belongs to the socket, so it goes on across a handover of its fd); its bytes queued
 * now in *@queued if not NULL.
 * Return: the count, -1 if no such socket exists.
 */
int64_t st_udp_kernel_drops(unsigned port, unsigned *queued);

/*
 * st_udp_wait_room() - wait until the UDP socket bound to 127.0.0.1:@port (a receiver's in
 * another process, whose buffer is the kernel's default, net.core.rmem_default) is less than
 * half full, so that a datagram sent now is not dropped by the kernel for want of room. A
 * sender that waits so loses nothing to the kernel while the receiver does not read (during
 * a handover's pause, or while the scheduler leaves it waiting under load); every frame
 * missing after that is the receiver's loss.
 * Return: false if it stayed that full for @timeout_ms (nobody reads it) or does not exist.
 */
bool st_udp_wait_room(unsigned port, unsigned timeout_ms);

/* st_udp_rcvbuf() - give @fd a receive buffer of @bytes, beyond net.core.rmem_max where the
 * test may (CAP_NET_ADMIN). Return: the buffer the kernel granted (getsockopt). */
int st_udp_rcvbuf(int fd, int bytes);

/* QEMU's stream framing: a 4-byte big-endian length, then the frame. */
bool st_write_framed(int fd, const void *frame, size_t len);
/* Read one framed frame. Return: its length, -1 on timeout or a bad length. */
ssize_t st_read_framed(int fd, void *buf, size_t cap);

/* Fill @buf with a pattern that depends on @seed and the offset. */
void st_fill(void *buf, size_t len, unsigned seed);
/* True if @buf holds st_fill(len, seed). */
bool st_check(const void *buf, size_t len, unsigned seed);

/*
 * StRig - a runtime whose hub joins "inj" (fd = one end of a datagram socketpair the test
 * holds: frames in and out of the hub) and "link" (the socket netdev under test).
 */
typedef struct StRig {
    int inj[2]; /* inj[0]: the test's end; inj[1]: the plugin's fd = */
    NetbeRuntime *rt;
} StRig;

/* Start a rig; @link_options are the lines of [netdev.link] after "type = socket". */
StRig *st_rig_new(const char *link_options);
void st_rig_free(StRig *r);
/* Put a frame into the hub through inj (it leaves through link). */
void st_inject(StRig *r, const void *frame, size_t len);
/* A frame the hub sent out through inj (it came in through link). Return: length or -1. */
ssize_t st_take(StRig *r, void *buf, size_t cap);
/*
 * st_probe() - inject probe frames until one reaches @peer_fd (framed stream or datagram),
 * so that the link is known to be up; drains the probes. Return: false on timeout.
 */
bool st_probe(StRig *r, int peer_fd, bool framed);

/*
 * st_qemu_hub_start() - a guestless QEMU (@qemu) whose two netdevs @stream (id s) and
 * @dgram (id d) are joined by its hub 0, as QEMU users relay frames.
 * Return: its pid, or -1 (said on stderr) if it could not start.
 */
GPid st_qemu_hub_start(const char *qemu, const char *stream, const char *dgram);

/* st_qemu_stop() - stop QEMU @pid. Return: true if it was still running. */
bool st_qemu_stop(GPid pid);

#endif /* NETBE_SOCK_TEST_H */
