/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate.h - live handover of backends between processes: records, fds and the stream. */
#ifndef NETBE_MIGRATE_H
#define NETBE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"

#include "netbe/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The stream (DESIGN section 5), over a connected UNIX stream socket:
 *   header   "NETBEMIG", u32 version, u32 compat_version (both ways)
 *   records  u32 type, u32 payload length, u32 fd count, u32 0; payload; the record's
 *            fds ride on the same sendmsg() as its header (SCM_RIGHTS), counts checked
 *
 *   source                                   destination
 *   connect, check peer (SO_PEERCRED)        accept, check peer (SO_PEERCRED)
 *   hello + serving-lock fd         ---->    check ids, plugins, queues
 *                                   <----    reply
 *   pause (nothing reads the fds)
 *   backend / device records + fds  ---->    check every fd against its config, load
 *   commit                          ---->    everything loaded; nothing touched yet
 *                                   <----    ready
 *   unlock the serving lock; go     ---->    take the serving lock, then start
 *                                   <----    started (resume time)
 *   take the lock: fails -> the destination serves, close our copies
 *                  works -> the destination never will: resume
 *
 * Time: one deadline covers a whole attempt on each side (5 s unless set); every send and
 * receive is non-blocking under it. Trust: each end checks that the other is root, its
 * own uid, or a uid its operator allowed, before any fd moves.
 *
 * The commit rule. A process reads or writes the handed-over fds only while it holds the
 * serving lock: an flock() on a sealed memfd that the source creates, locked, for each
 * attempt and sends with its hello; the destination opens its own description of it. The
 * kernel drops a lock when its holder dies, and at every instant at most one holds it.
 * - The source holds it from the hello on; it lets go only right before it sends go.
 * - The destination tries to take it only after go, or after the source's end closed
 *   (then a taken lock means the source died: the destination takes over what it has).
 *   It touches nothing before it holds it; failing to take it, it closes what it received.
 * - A source that failed or timed out before go resumes at once (it never let go). After
 *   go it waits for started until its deadline, then takes the lock back if it can: if it
 *   can, the destination has not started and never will (it would need the lock); if it
 *   cannot, the destination serves and the source closes its copies.
 * - A source that took its lock back keeps it for as long as it lives, so a destination
 *   that wakes up late can never start.
 * After any failure exactly one of the two serves: the holder of the lock, or, when no
 * one holds it because the destination died, the source.
 */
/* Version 3: a backend record may end with its queues' counters, written only to a peer of
 * version 3 or later (a version 2 peer gets version 2 records); a reader takes records
 * with or without them. Version 4: after the counters, its rate limits (settings, the
 * buckets' fill, wait counters), likewise only to a peer of version 4 or later. */
#define NETBE_MIG_VERSION 4
#define NETBE_MIG_COMPAT_VERSION 2
/* The stream version from which backend records carry their queues' counters. */
#define NETBE_MIG_VERSION_COUNTERS 3
/* The stream version from which they carry the netdev's rate limits after them. */
#define NETBE_MIG_VERSION_RATE_LIMITS 4
/* Most fds one record may carry (one per TAP queue) and largest payload. */
#define NETBE_MIG_MAX_FDS 256
#define NETBE_MIG_MAX_RECORD (64u << 20)

/* ---- Writer: the fields and fds of one record, built in memory ---- */

/*
 * Fields are tagged (u8/u32/u64/bytes/string/fd), so a reader that expects another field
 * than the stream has fails cleanly instead of misreading. fds are borrowed: the writer
 * never closes them; they are sent (duplicated by the kernel) with the record.
 */
/**
 * netbe_mig_writer_new() - an empty record to write fields and fds into.
 *
 * Return: the writer; free with netbe_mig_writer_free().
 */
NETBE_API NetbeMigWriter *netbe_mig_writer_new(void);
/**
 * netbe_mig_writer_free() - free a writer; its fds stay open (they were borrowed).
 * @w: the writer; NULL is ignored
 */
NETBE_API void netbe_mig_writer_free(NetbeMigWriter *w);
/**
 * netbe_mig_put_u8() - append a u8 field.
 * @w: the writer
 * @v: the value
 */
NETBE_API void netbe_mig_put_u8(NetbeMigWriter *w, uint8_t v);
/**
 * netbe_mig_put_u32() - append a u32 field (little endian in the record).
 * @w: the writer
 * @v: the value
 */
NETBE_API void netbe_mig_put_u32(NetbeMigWriter *w, uint32_t v);
/**
 * netbe_mig_put_u64() - append a u64 field (little endian in the record).
 * @w: the writer
 * @v: the value
 */
NETBE_API void netbe_mig_put_u64(NetbeMigWriter *w, uint64_t v);
/**
 * netbe_mig_put_bytes() - append a bytes field: its length, then the bytes.
 * @w: the writer
 * @data: the bytes; copied
 * @len: their number
 */
NETBE_API void netbe_mig_put_bytes(NetbeMigWriter *w, const void *data, uint32_t len);
/**
 * netbe_mig_put_string() - append a string field (without its NUL).
 * @w: the writer
 * @s: the string; copied
 */
NETBE_API void netbe_mig_put_string(NetbeMigWriter *w, const char *s);
/**
 * netbe_mig_put_fd() - attach @fd to the record, as a field in its place.
 * @w: the writer
 * @fd: the fd; borrowed
 *
 * Return: false past NETBE_MIG_MAX_FDS or for a negative @fd.
 */
NETBE_API bool netbe_mig_put_fd(NetbeMigWriter *w, int fd);
/**
 * netbe_mig_writer_data() - the encoded fields, for a VMM that carries them in its own
 * stream.
 * @w: the writer
 * @len: gets their length in bytes
 *
 * Return: the bytes, owned by the writer, valid until the next put or the free.
 */
NETBE_API const uint8_t *netbe_mig_writer_data(const NetbeMigWriter *w, size_t *len);
/**
 * netbe_mig_writer_fds() - the record's fds, for a VMM that carries them in its own stream.
 * @w: the writer
 * @count: gets their number
 *
 * Return: the fds in the order they were put, owned by the writer, valid until the next
 * put or the free.
 */
NETBE_API const int *netbe_mig_writer_fds(const NetbeMigWriter *w, unsigned *count);

/* ---- Reader: checked access to a received record ---- */

/**
 * netbe_mig_reader_new() - read the fields in @data and own @fds.
 * @data: the encoded fields; copied
 * @len: their length in bytes
 * @fds: the record's fds, owned by the reader from now on (the array is copied)
 * @nfds: their number
 *
 * Every get fails (false / -1) on a missing, short or differently tagged field; the fds
 * not taken with netbe_mig_get_fd() are closed by netbe_mig_reader_free().
 *
 * Return: the reader; free with netbe_mig_reader_free().
 */
NETBE_API NetbeMigReader *netbe_mig_reader_new(const void *data, size_t len, const int *fds,
                                               unsigned nfds);
/**
 * netbe_mig_reader_free() - free a reader, closing the fds not taken.
 * @r: the reader; NULL is ignored
 */
NETBE_API void netbe_mig_reader_free(NetbeMigReader *r);
/**
 * netbe_mig_get_u8() - read the next field, a u8.
 * @r: the reader
 * @v: gets the value
 *
 * Return: false if the next field is missing, short or not a u8.
 */
NETBE_API bool netbe_mig_get_u8(NetbeMigReader *r, uint8_t *v);
/**
 * netbe_mig_get_u32() - read the next field, a u32.
 * @r: the reader
 * @v: gets the value
 *
 * Return: false if the next field is missing, short or not a u32.
 */
NETBE_API bool netbe_mig_get_u32(NetbeMigReader *r, uint32_t *v);
/**
 * netbe_mig_get_u64() - read the next field, a u64.
 * @r: the reader
 * @v: gets the value
 *
 * Return: false if the next field is missing, short or not a u64.
 */
NETBE_API bool netbe_mig_get_u64(NetbeMigReader *r, uint64_t *v);
/**
 * netbe_mig_get_bytes() - read the next field, bytes.
 * @r: the reader
 * @data: gets a pointer into the reader's buffer, valid until the reader is freed
 * @len: gets their number
 *
 * Return: false if the next field is missing, short or not bytes.
 */
NETBE_API bool netbe_mig_get_bytes(NetbeMigReader *r, const void **data, uint32_t *len);
/**
 * netbe_mig_get_string() - read the next field, a string.
 * @r: the reader
 * @s: gets the string, newly allocated (free with g_free())
 *
 * Return: false if the next field is missing, short, not a string, or holds a NUL.
 */
NETBE_API bool netbe_mig_get_string(NetbeMigReader *r, char **s);
/**
 * netbe_mig_get_fd() - take the next field, an fd.
 * @r: the reader
 *
 * Return: the fd (the caller owns it now), or -1 if the record carries no more or the
 * next field is not an fd.
 */
NETBE_API int netbe_mig_get_fd(NetbeMigReader *r);
/**
 * netbe_mig_reader_at_end() - whether the whole record was read.
 * @r: the reader
 *
 * Return: true once every field and fd has been consumed.
 */
NETBE_API bool netbe_mig_reader_at_end(const NetbeMigReader *r);

/* ---- A device's state, for a VMM that carries it in its own stream ---- */

/**
 * netbe_device_pause() - stop the device.
 * @dev: the device
 *
 * No guest queue is processed and its backend is not read; used entries are published;
 * chains popped but not used are given back. netbe_device_resume() undoes it (the source
 * after a failed handover).
 */
NETBE_API void netbe_device_pause(NetbeDevice *dev);
/**
 * netbe_device_resume() - run a paused or loaded device again.
 * @dev: the device
 *
 * Undoes netbe_device_pause(); after netbe_device_load() it runs the device as after
 * DRIVER_OK, without connecting a new backend.
 */
NETBE_API void netbe_device_resume(NetbeDevice *dev);
/**
 * netbe_device_save() - write the virtio-net state of a paused device.
 * @dev: the device, paused
 * @w: gets the state
 * @errp: gets the error
 *
 * The state: features, status, MAC, config, per queue its ring addresses, size, enable
 * and indices, the RX filters. The backend's state moves in its own record
 * (netbe_runtime_migrate_to() sends both).
 *
 * Return: false with @errp set if the device is running (not paused) or has no netdev,
 * hence no state to move.
 */
NETBE_API bool netbe_device_save(NetbeDevice *dev, NetbeMigWriter *w, GError **errp);
/**
 * netbe_device_load() - restore the state netbe_device_save() wrote, leaving the device
 * paused.
 * @dev: the device, on the destination
 * @r: the state
 * @errp: gets the error
 *
 * Call it after the VMM set guest memory and hooks and before anything starts the device.
 * The device then touches neither the guest's rings nor the backend until
 * netbe_device_resume(), which the destination calls only once the source has let go
 * (after the commit), and which then runs it as after DRIVER_OK without connecting a new
 * backend.
 *
 * Return: false on a malformed or mismatched record (queue sizes beyond the config, rings
 * outside guest memory, features not offered here); nothing is changed then.
 */
NETBE_API bool netbe_device_load(NetbeDevice *dev, NetbeMigReader *r, GError **errp);

/* ---- Handover between runtimes (netbe-host and VMMs that let netbe do it) ---- */

/**
 * struct NetbeMigStats - what a handover moved, and how long it took.
 * @downtime_ns: source pause -> destination resume (CLOCK_MONOTONIC)
 * @backends: backends whose fds and state moved
 * @devices: virtio-net devices whose state moved with them
 * @fds: fds that moved
 * @frames: frames held in netbe's queues that moved with them
 */
typedef struct NetbeMigStats {
    uint64_t downtime_ns;
    uint32_t backends;
    uint32_t devices;
    uint32_t fds;
    uint32_t frames;
} NetbeMigStats;

/**
 * netbe_runtime_allow_handover_uid() - trust @uid as a handover peer.
 * @rt: the runtime
 * @uid: the uid, trusted besides root and our own euid
 *
 * Both ends check the other with SO_PEERCRED before any fd moves.
 */
NETBE_API void netbe_runtime_allow_handover_uid(NetbeRuntime *rt, uid_t uid);
/* The range of a handover deadline, in ms. */
#define NETBE_HANDOVER_TIMEOUT_MIN_MS 100
#define NETBE_HANDOVER_TIMEOUT_MAX_MS 600000
/**
 * netbe_runtime_set_handover_timeout() - the deadline of one whole handover attempt on
 * this side.
 * @rt: the runtime
 * @timeout_ms: the deadline in ms; 0: the default, 5000
 */
NETBE_API void netbe_runtime_set_handover_timeout(NetbeRuntime *rt, unsigned timeout_ms);

/**
 * netbe_runtime_migrate_to() - hand every backend of deferred frontends over to a
 * destination.
 * @rt: the runtime
 * @path: the UNIX socket the destination listens on
 * @stats: gets what moved; may be NULL
 * @errp: gets the error
 *
 * Blocks until the attempt ends, at the latest at its deadline
 * (netbe_runtime_set_handover_timeout()). On success the backends are closed here and the
 * caller should exit; on failure nothing was lost: the runtime resumes and keeps
 * forwarding.
 *
 * Return: true after the destination's acknowledgement, with @stats filled; false with
 * @errp set.
 */
NETBE_API bool netbe_runtime_migrate_to(NetbeRuntime *rt, const char *path, NetbeMigStats *stats,
                                        GError **errp);

/**
 * netbe_runtime_migrate_from() - adopt what one source hands over, then start.
 * @rt: a runtime whose config is loaded but not started
 * @listen_fd: a listening UNIX socket; one source is accepted on it
 * @timeout_ms: how long to wait for a source to connect, in ms
 * @stats: gets what moved; may be NULL
 * @errp: gets the error
 *
 * Deferred frontends whose backends did not come connect their own.
 *
 * Return: true once started; false with a clear error (the runtime should then be
 * freed); received fds are closed.
 */
NETBE_API bool netbe_runtime_migrate_from(NetbeRuntime *rt, int listen_fd, int timeout_ms,
                                          NetbeMigStats *stats, GError **errp);

#ifdef __cplusplus
}
#endif
#endif /* NETBE_MIGRATE_H */
