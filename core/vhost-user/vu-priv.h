/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vu-priv.h - internal state of the vhost-user backend server, shared by its files. */
#ifndef NETBE_VU_PRIV_H
#define NETBE_VU_PRIV_H

#include <sys/stat.h>
#include "netbe-priv.h"
#include "netbe/virtio-net.h"
#include "vu-proto.h"

#define VU_ERROR (g_quark_from_static_string("netbe-vhost-user-error"))

/* One region of the front-end's memory table, mapped here. */
typedef struct VuMapped {
    uint64_t gpa, size, uva;
    void *map;      /* mmap() of the fd from offset 0 */
    size_t map_len; /* mmap_offset + size */
    int fd;         /* kept for a live handover (-1 in an empty slot) */
} VuMapped;

/*
 * VuRing - what the front-end said about one vring; it runs on the device's virtqueue
 * of the same number once it has a size, addresses, a kick fd and is enabled.
 */
typedef struct VuRing {
    unsigned num;
    uint16_t base; /* next avail index: set by SET_VRING_BASE, got back at stop */
    bool addr_set;
    uint64_t desc, avail, used; /* guest physical */
    int kick_fd, call_fd, err_fd;
    bool enabled; /* SET_VRING_ENABLE 1, or no protocol features negotiated */
    bool started; /* running on the device */
} VuRing;

/* One connected front-end (a VMM), and the message being read from it. */
typedef struct VuConn {
    int fd;
    GSource *src;
    GSource *part_src; /* deadline of a message begun and not complete */
    pid_t pid;
    uid_t uid;
    uint8_t buf[sizeof(VuHeader) + VU_MAX_PAYLOAD];
    size_t have; /* bytes of buf read so far */
    int fds[VU_MAX_FDS];
    unsigned nfds;
} VuConn;

typedef struct VuServer {
    NetbeDevice *dev;
    char *path;
    struct stat file; /* the socket file we made: removed only if still ours */
    int listen_fd;
    GSource *listen_src;
    VuConn *conn;      /* NULL while no VMM is connected */
    uint64_t features; /* SET_FEATURES, with the vhost-user bits */
    uint64_t protocol_features;
    bool running; /* the device has DRIVER_OK */
    VuMapped regions[VU_MAX_REGIONS];
    unsigned nregions;
    void *log_map; /* SET_LOG_BASE: mmap of the log fd */
    size_t log_map_len;
    int log_fd;
    uint64_t log_offset, log_size;
    unsigned nrings; /* 2 * queue pairs */
    VuRing *rings;
    uint64_t messages; /* handled since the server started */
} VuServer;

/* A decoded request: header, payload, fds (owned until taken: set to -1). */
typedef struct VuMsg {
    VuHeader hdr;
    const uint8_t *payload;
    int *fds;
    unsigned nfds;
} VuMsg;

/* What a handler answers, for requests that have a reply. */
typedef struct VuReply {
    uint8_t payload[VU_MAX_PAYLOAD];
    uint32_t size;
} VuReply;

/* vu-dispatch.c: check @m against the request table and run its handler; reply.
 * Return: false when the connection must close (@errp says why). */
bool vu_dispatch(VuServer *s, VuMsg *m, GError **errp);

/* vu-mem.c */
/* Map the table's regions (taking their fds from @m) and give them to the device. */
bool vu_mem_set(VuServer *s, const VuMemTable *t, VuMsg *m, GError **errp);
void vu_mem_clear(VuServer *s);
/* Guest physical address of the front-end's address @uva (len bytes in one region). */
bool vu_mem_uva_to_gpa(const VuServer *s, uint64_t uva, uint64_t len, uint64_t *gpa);
/* Map the dirty log @fd (taken on success). */
bool vu_log_set(VuServer *s, const VuLog *l, int fd, GError **errp);
/* Give the device the log while VHOST_F_LOG_ALL is negotiated, else none. */
void vu_log_apply(VuServer *s);
void vu_log_clear(VuServer *s);

/* vu-rings.c */
void vu_rings_init(VuServer *s);
/* Start ring @i on the device if it has all it needs. Return: false on a device error. */
bool vu_ring_try_start(VuServer *s, unsigned i, GError **errp);
/* Stop ring @i (its base is kept in the ring). */
void vu_ring_stop(VuServer *s, unsigned i);
/* Stop and start every started ring again (memory or features changed). */
bool vu_rings_restart(VuServer *s, GError **errp);
/* Stop every ring, reset the device, forget rings and features (keeps memory). */
void vu_device_reset(VuServer *s);
/* Close the rings' fds (connection gone). */
void vu_rings_close_fds(VuServer *s);

/* vu-server.c */
void vu_conn_close(VuServer *s, const char *why);
/* A server for @dev with no listener and no connection yet. */
VuServer *vu_server_new(NetbeDevice *dev);
/* Watch the listener and the connection (again), or stop watching them. */
void vu_server_watch(VuServer *s, bool on);

#endif /* NETBE_VU_PRIV_H */
