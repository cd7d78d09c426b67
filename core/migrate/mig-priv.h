/* mig-priv.h - the migration channel and record types shared by source and target. */
#ifndef NETBE_MIG_PRIV_H
#define NETBE_MIG_PRIV_H

#include "netbe/migrate.h"
#include "../netbe-priv.h"

#define NETBE_MIG_ERROR (netbe_mig_error_quark())
GQuark netbe_mig_error_quark(void);

/* Record types, in stream order. */
typedef enum MigRecordType {
    MIG_REC_HELLO = 1,    /* source: what it will hand over */
    MIG_REC_REPLY,        /* target: u8 ok, string reason */
    MIG_REC_BACKEND,      /* source: one backend's state and fds */
    MIG_REC_COMMIT,       /* source: u64 pause time; no more state follows */
    MIG_REC_ACK,          /* target: u8 ok, string reason, u64 resume time */
    MIG_REC_ERROR,        /* either side: string reason; the handover is off */
    MIG_REC_DEVICE,       /* source: a device's state, after its backend's record */
    MIG_REC_MAX,
} MigRecordType;

/* Per-step timeout: a peer that stalls longer fails the handover. */
#define MIG_STEP_TIMEOUT_MS 5000

/* Send / check the stream header ("NETBEMIG", version, compat version). */
bool mig_send_header(int fd, GError **errp);
bool mig_recv_header(int fd, int timeout_ms, GError **errp);
/* Send one record: its fields and fds (the fds are duplicated by the kernel). */
bool mig_send_record(int fd, MigRecordType type, const NetbeMigWriter *w, GError **errp);
/* Send a record with just a reason string (REPLY/ACK failures, ERROR). */
bool mig_send_status(int fd, MigRecordType type, bool ok, const char *reason, uint64_t time_ns,
                     GError **errp);
/*
 * mig_recv_record() - read one record within @timeout_ms. Checks the type, the length
 * limit and that the fds that came are exactly those the header announced.
 * Return: a reader owning the fds (*type set), or NULL with @errp set (fds closed).
 */
NetbeMigReader *mig_recv_record(int fd, int timeout_ms, MigRecordType *type, GError **errp);
/* Read a status record's fields; Return: false if malformed. */
bool mig_read_status(NetbeMigReader *r, bool *ok, char **reason, uint64_t *time_ns);

uint64_t mig_now_ns(void);
/* How many fds a record brought. */
unsigned mig_reader_fd_count(const NetbeMigReader *r);
const char *mig_record_name(MigRecordType type);

#endif /* NETBE_MIG_PRIV_H */
