/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mig-priv.h - the migration channel and record types shared by source and target. */
#ifndef NETBE_MIG_PRIV_H
#define NETBE_MIG_PRIV_H

#include "netbe/migrate.h"
#include "../netbe-priv.h"

#define NETBE_MIG_ERROR (netbe_mig_error_quark())
GQuark netbe_mig_error_quark(void);

/* Record types, in stream order. */
typedef enum MigRecordType {
    MIG_REC_HELLO = 1,  /* source: what it will hand over; carries the serving lock's fd */
    MIG_REC_REPLY,      /* target: u8 ok, string reason */
    MIG_REC_BACKEND,    /* source: one backend's state and fds */
    MIG_REC_COMMIT,     /* source: u64 pause time; no more state follows */
    MIG_REC_READY,      /* target: u8 ok, string reason: all state loaded, nothing touched */
    MIG_REC_ERROR,      /* either side: string reason; the handover is off */
    MIG_REC_DEVICE,     /* source: a device's state, after its backend's record */
    MIG_REC_GO,         /* source: it let go of the serving lock; take it and start */
    MIG_REC_STARTED,    /* target: u8 ok, string, u64 resume time: it holds the lock */
    MIG_REC_VHOST_USER, /* source: a vhost-user device's transport and fds, before its
                         * device record (the target maps guest memory first) */
    MIG_REC_MAX,
} MigRecordType;

/* Default deadline of a whole handover attempt, on each side. */
#define MIG_DEFAULT_TIMEOUT_MS 5000

/*
 * One end of a handover stream: a non-blocking UNIX stream socket and the deadline of the
 * whole attempt. Every send and receive waits at most until @deadline_ns.
 * @fd:          the connected socket (SOCK_NONBLOCK)
 * @deadline_ns: CLOCK_MONOTONIC time when the attempt fails
 * @timeout_ms:  the length of the attempt, for messages
 * @side:        "source" or "destination", for fault injection and messages
 * @peer_version: the stream version the peer's header gave (mig_recv_header())
 */
typedef struct MigChannel {
    int fd;
    uint64_t deadline_ns;
    unsigned timeout_ms;
    const char *side;
    uint32_t peer_version;
} MigChannel;

/* Start @ch's deadline @timeout_ms from now. */
void mig_channel_init(MigChannel *ch, int fd, unsigned timeout_ms, const char *side);
/* Send / check the stream header ("NETBEMIG", version, compat version). */
bool mig_send_header(MigChannel *ch, GError **errp);
bool mig_recv_header(MigChannel *ch, GError **errp);
/* Send one record: its fields and fds (the fds are duplicated by the kernel). */
bool mig_send_record(MigChannel *ch, MigRecordType type, const NetbeMigWriter *w, GError **errp);
/* Send a record with just a status: ok, reason, time (REPLY, READY, STARTED, ERROR). */
bool mig_send_status(MigChannel *ch, MigRecordType type, bool ok, const char *reason,
                     uint64_t time_ns, GError **errp);
/*
 * mig_recv_record() - read one record before the deadline. Checks the type, the length
 * limit and that the fds that came are exactly those the header announced.
 * Return: a reader owning the fds (*type set), or NULL with @errp set (fds closed);
 * the error code is ETIMEDOUT past the deadline, EPIPE when the peer closed.
 */
NetbeMigReader *mig_recv_record(MigChannel *ch, MigRecordType *type, GError **errp);
/* Wait up to @timeout_ms for the peer to close its end. Return: true if it did. */
bool mig_channel_wait_close(MigChannel *ch, unsigned timeout_ms);
/* Read a status record's fields; Return: false if malformed. */
bool mig_read_status(NetbeMigReader *r, bool *ok, char **reason, uint64_t *time_ns);

/*
 * mig_check_peer() - who is at the other end of @fd (SO_PEERCRED): root, our euid, or a
 * uid @rt allows. @role names the peer in the refusal ("destination", "source").
 * @pid: gets the peer's pid (may be NULL)
 * Return: true if trusted; false with an error naming its pid and uid.
 */
bool mig_check_peer(NetbeRuntime *rt, int fd, const char *role, pid_t *pid, GError **errp);
/* The deadline of one attempt on @rt, in ms. */
unsigned mig_timeout_ms(const NetbeRuntime *rt);

/*
 * The serving lock (mig-lock.c). Exactly one process holds it while it serves the handed
 * over fds: the source until it sends GO (and again if it takes them back), the
 * destination once it took it after GO. It is an flock() on a sealed memfd that the source
 * makes per attempt and sends with its hello; the destination opens its own description
 * of that file (/proc/self/fd/N), so the two contend even inside one process, and the
 * kernel drops a lock when its holder dies.
 */
/* Make and lock a new lock file. Return: its fd, or -1 with @errp set. */
int mig_lock_create(GError **errp);
/* Check that @fd (received with the hello) is a serving lock and open our own description
 * of it; @fd is closed. Return: the new fd, or -1 with @errp set. */
int mig_lock_adopt(int fd, GError **errp);
/* Take the lock without waiting. Return: true if we hold it now. */
bool mig_lock_try(int fd);
/* Let it go (the source, right before GO). */
void mig_lock_release(int fd);
/* Keep @fd, locked, for as long as @rt lives (it proves @rt serves). */
void mig_lock_keep(NetbeRuntime *rt, int fd);

/*
 * Fault injection for tests (mig-fault.c): NETBE_MIG_FAULT="SIDE:POINT:ACTION" makes the
 * SIDE ("source" or "destination") do ACTION at POINT (a step name of migrate.h's table):
 * "stop" raises SIGSTOP (the test then kills it or lets it go on), "close" shuts the
 * channel down, "exit" calls _exit(3). Unset, it costs one getenv per step.
 */
void mig_fault_point(MigChannel *ch, const char *point);

uint64_t mig_now_ns(void);
/* The CLOCK_MONOTONIC time @ms from now, and the ms (rounded up) left until @deadline_ns. */
uint64_t mig_deadline_after(unsigned ms);
int mig_ms_until(uint64_t deadline_ns);
/* How many fds a record brought. */
unsigned mig_reader_fd_count(const NetbeMigReader *r);
const char *mig_record_name(MigRecordType type);

#endif /* NETBE_MIG_PRIV_H */
