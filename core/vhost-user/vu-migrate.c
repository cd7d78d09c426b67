// SPDX-License-Identifier: LGPL-2.1-or-later
/* vu-migrate.c - live handover of a vhost-user device's transport: the listener, the VMM's
 * connection (and a message half read from it), memory and log fds, ring state and fds. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "netbe/migrate.h"
#include "vu-priv.h"

/* Version of the transport record; another version is refused. */
#define VU_MIG_VERSION 1

#define RING_F_ADDR (1u << 0)
#define RING_F_ENABLED (1u << 1)
#define RING_F_STARTED (1u << 2)
#define RING_F_KICK (1u << 3)
#define RING_F_CALL (1u << 4)
#define RING_F_ERR (1u << 5)

/* An fd the record must carry; false (the handover fails) when the writer is full. */
static bool put_fd(NetbeMigWriter *w, int fd, GError **errp)
{
    if (!netbe_mig_put_fd(w, fd)) {
        g_set_error(errp, VU_ERROR, E2BIG, "more than %u fds in one record", NETBE_MIG_MAX_FDS);
        return false;
    }
    return true;
}

bool netbe_vu_save(NetbeDevice *dev, NetbeMigWriter *w, GError **errp)
{
    VuServer *s = dev->vu;
    VuConn *c = s ? s->conn : NULL;
    bool ok;

    if (!s) {
        g_set_error(errp, VU_ERROR, ENOTCONN, "vhost-user device '%s' does not serve yet", dev->id);
        return false;
    }
    netbe_mig_put_u32(w, VU_MIG_VERSION);
    ok = put_fd(w, s->listen_fd, errp);
    netbe_mig_put_u8(w, c != NULL);
    if (c) {
        netbe_mig_put_u32(w, c->pid);
        netbe_mig_put_u32(w, c->uid);
        netbe_mig_put_bytes(w, c->buf, c->have);
        netbe_mig_put_u32(w, c->nfds);
        ok = ok && put_fd(w, c->fd, errp);
        for (unsigned i = 0; ok && i < c->nfds; i++) {
            ok = put_fd(w, c->fds[i], errp);
        }
    }
    netbe_mig_put_u64(w, s->features);
    netbe_mig_put_u64(w, s->protocol_features);
    netbe_mig_put_u8(w, s->running);
    netbe_mig_put_u32(w, s->nregions);
    for (unsigned i = 0; ok && i < s->nregions; i++) {
        const VuMapped *r = &s->regions[i];

        netbe_mig_put_u64(w, r->gpa);
        netbe_mig_put_u64(w, r->size);
        netbe_mig_put_u64(w, r->uva);
        netbe_mig_put_u64(w, r->map_len - r->size);
        ok = put_fd(w, r->fd, errp);
    }
    netbe_mig_put_u8(w, s->log_map != NULL);
    if (s->log_map) {
        netbe_mig_put_u64(w, s->log_size);
        netbe_mig_put_u64(w, s->log_offset);
        ok = ok && put_fd(w, s->log_fd, errp);
    }
    netbe_mig_put_u32(w, s->nrings);
    for (unsigned i = 0; ok && i < s->nrings; i++) {
        const VuRing *r = &s->rings[i];
        uint32_t flags = (r->addr_set ? RING_F_ADDR : 0) | (r->enabled ? RING_F_ENABLED : 0) |
                         (r->started ? RING_F_STARTED : 0) | (r->kick_fd >= 0 ? RING_F_KICK : 0) |
                         (r->call_fd >= 0 ? RING_F_CALL : 0) | (r->err_fd >= 0 ? RING_F_ERR : 0);

        netbe_mig_put_u32(w, flags);
        netbe_mig_put_u32(w, r->num);
        netbe_mig_put_u32(w, r->base);
        netbe_mig_put_u64(w, r->desc);
        netbe_mig_put_u64(w, r->avail);
        netbe_mig_put_u64(w, r->used);
        for (const int *fd = (const int[]){r->kick_fd, r->call_fd, r->err_fd}, *end = fd + 3;
             ok && fd < end; fd++) {
            ok = *fd < 0 || put_fd(w, *fd, errp);
        }
    }
    return ok;
}

/* The next fd of the record, into *fd. */
static bool get_fd(NetbeMigReader *r, int *fd)
{
    *fd = netbe_mig_get_fd(r);
    return *fd >= 0;
}

/* The connection: fd, peer, a message half read. */
static bool vu_load_conn(VuServer *s, NetbeMigReader *r)
{
    VuConn *c = g_new0(VuConn, 1);
    uint32_t pid, uid, nfds;
    const void *buf;
    uint32_t have;

    s->conn = c;
    c->fd = -1;
    if (!netbe_mig_get_u32(r, &pid) || !netbe_mig_get_u32(r, &uid) ||
        !netbe_mig_get_bytes(r, &buf, &have) || have > sizeof(c->buf) ||
        !netbe_mig_get_u32(r, &nfds) || nfds > VU_MAX_FDS || !get_fd(r, &c->fd)) {
        return false;
    }
    c->pid = pid;
    c->uid = uid;
    memcpy(c->buf, buf, have);
    c->have = have;
    for (; c->nfds < nfds; c->nfds++) {
        if (!get_fd(r, &c->fds[c->nfds])) {
            return false;
        }
    }
    return true;
}

/* Regions, mapped here and given to the device (its rings are checked against them). */
static bool vu_load_regions(VuServer *s, NetbeMigReader *r, GError **errp)
{
    VuMemTable t = {0};
    VuMsg m = {.fds = (int[VU_MAX_FDS]){0}};

    if (!netbe_mig_get_u32(r, &t.nregions) || t.nregions > VU_MAX_REGIONS) {
        return false;
    }
    for (unsigned i = 0; i < t.nregions; i++) {
        VuRegion *reg = &t.regions[i];

        if (!netbe_mig_get_u64(r, &reg->gpa) || !netbe_mig_get_u64(r, &reg->size) ||
            !netbe_mig_get_u64(r, &reg->uva) || !netbe_mig_get_u64(r, &reg->mmap_offset) ||
            !get_fd(r, &m.fds[m.nfds])) {
            for (unsigned k = 0; k < m.nfds; k++) {
                close(m.fds[k]);
            }
            return false;
        }
        m.nfds++;
    }
    if (t.nregions == 0) {
        return true;
    }
    if (!vu_mem_set(s, &t, &m, errp)) {
        for (unsigned k = 0; k < m.nfds; k++) {
            if (m.fds[k] >= 0) {
                close(m.fds[k]);
            }
        }
        return false;
    }
    return true;
}

static bool vu_load_log(VuServer *s, NetbeMigReader *r, GError **errp)
{
    uint8_t has;
    VuLog l;
    int fd;

    if (!netbe_mig_get_u8(r, &has) || has > 1) {
        return false;
    }
    if (!has) {
        return true;
    }
    if (!netbe_mig_get_u64(r, &l.size) || !netbe_mig_get_u64(r, &l.offset) || !get_fd(r, &fd)) {
        return false;
    }
    if (!vu_log_set(s, &l, fd, errp)) {
        close(fd);
        return false;
    }
    return true;
}

static bool vu_load_rings(VuServer *s, NetbeMigReader *r, GError **errp)
{
    uint32_t n;

    if (!netbe_mig_get_u32(r, &n) || n != s->nrings) {
        g_set_error(errp, VU_ERROR, EPROTO,
                    "%u vrings there, %u here: 'queues' differs in "
                    "[device.%s]",
                    n, s->nrings, s->dev->id);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        VuRing *ring = &s->rings[i];
        uint32_t flags, num, base;

        if (!netbe_mig_get_u32(r, &flags) || !netbe_mig_get_u32(r, &num) ||
            !netbe_mig_get_u32(r, &base) || base > 0xffff || !netbe_mig_get_u64(r, &ring->desc) ||
            !netbe_mig_get_u64(r, &ring->avail) || !netbe_mig_get_u64(r, &ring->used) ||
            ((flags & RING_F_KICK) && !get_fd(r, &ring->kick_fd)) ||
            ((flags & RING_F_CALL) && !get_fd(r, &ring->call_fd)) ||
            ((flags & RING_F_ERR) && !get_fd(r, &ring->err_fd))) {
            g_set_error(errp, VU_ERROR, EPROTO, "vring %u: malformed state", i);
            return false;
        }
        if (num > netbe_vnet_queue_max_size(s->dev, i)) {
            g_set_error(errp, VU_ERROR, EPROTO,
                        "vring %u: %u entries there, at most %u here: "
                        "ring sizes differ in [device.%s]",
                        i, num, netbe_vnet_queue_max_size(s->dev, i), s->dev->id);
            return false;
        }
        ring->num = num;
        ring->base = base;
        ring->addr_set = flags & RING_F_ADDR;
        ring->enabled = flags & RING_F_ENABLED;
        ring->started = flags & RING_F_STARTED;
    }
    return true;
}

bool netbe_vu_load(NetbeDevice *dev, NetbeMigReader *r, GError **errp)
{
    VuServer *s;
    uint32_t version;
    uint8_t has_conn, running;
    bool ok;

    if (!dev->vhost_user || dev->vu) {
        g_set_error(errp, VU_ERROR, EPROTO,
                    "device '%s': vhost-user state for a device that "
                    "is %s here",
                    dev->id, dev->vu ? "serving already" : "not vhost-user");
        return false;
    }
    if (!netbe_mig_get_u32(r, &version) || version != VU_MIG_VERSION) {
        g_set_error(errp, VU_ERROR, EPROTO,
                    "device '%s': vhost-user record version %u (this "
                    "library reads %u)",
                    dev->id, version, VU_MIG_VERSION);
        return false;
    }
    s = vu_server_new(dev);
    ok = get_fd(r, &s->listen_fd) && netbe_mig_get_u8(r, &has_conn) && has_conn <= 1 &&
         (!has_conn || vu_load_conn(s, r)) && netbe_mig_get_u64(r, &s->features) &&
         netbe_mig_get_u64(r, &s->protocol_features) && netbe_mig_get_u8(r, &running);
    if (!ok) {
        g_set_error(errp, VU_ERROR, EPROTO, "truncated or malformed vhost-user record");
    }
    ok = ok && vu_load_regions(s, r, errp) && vu_load_log(s, r, errp) && vu_load_rings(s, r, errp);
    if (ok && !netbe_mig_reader_at_end(r)) {
        g_set_error(errp, VU_ERROR, EPROTO,
                    "the vhost-user record has more fields than version "
                    "%u",
                    VU_MIG_VERSION);
        ok = false;
    }
    if (!ok) {
        if (errp && !*errp) {
            g_set_error(errp, VU_ERROR, EPROTO, "truncated or malformed vhost-user record");
        }
        g_prefix_error(errp, "device '%s': ", dev->id);
        netbe_vu_server_free(s, true);
        return false;
    }
    s->running = running;
    dev->vu = s; /* nothing watched before netbe_vu_resume(): the source may roll back */
    return true;
}

void netbe_vu_pause(NetbeDevice *dev)
{
    if (dev->vu) {
        vu_server_watch(dev->vu, false); /* the VMM's messages wait in the socket */
    }
}

void netbe_vu_resume(NetbeDevice *dev)
{
    VuServer *s = dev->vu;
    g_autoptr(GError) err = NULL;

    if (!s) {
        return;
    }
    for (unsigned i = 0; i < s->nrings; i++) {
        VuRing *r = &s->rings[i];

        if (r->started && (!netbe_vnet_queue_set_kick_fd(dev, i, r->kick_fd, &err) ||
                           !netbe_vnet_queue_set_call_fd(dev, i, r->call_fd, &err))) {
            g_warning("vhost-user device '%s': %s", dev->id, err->message);
            g_clear_error(&err);
        }
    }
    vu_log_apply(s);
    vu_server_watch(s, true);
}
