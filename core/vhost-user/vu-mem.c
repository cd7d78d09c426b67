// SPDX-License-Identifier: LGPL-2.1-or-later
/* vu-mem.c - the front-end's memory table and dirty log: map the fds it sends, translate
 * its addresses, hand guest memory and the log to the device. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vu-priv.h"

/* The fd must hold [0, len): mapping past its end would SIGBUS us on the first access. */
static bool vu_fd_covers(int fd, uint64_t len, const char *what, GError **errp)
{
    struct stat st;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "%s: the fd is not a memory file (memfd, shm or "
                    "hugetlbfs)",
                    what);
        return false;
    }
    if ((uint64_t)st.st_size < len) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "%s: needs %" G_GUINT64_FORMAT " bytes, the fd has "
                    "%" G_GUINT64_FORMAT,
                    what, len, (uint64_t)st.st_size);
        return false;
    }
    return true;
}

/* Map @fd shared, [0, len). Return: the mapping or NULL with @errp set. */
static void *vu_map(int fd, uint64_t len, const char *what, GError **errp)
{
    void *p;

    if (!vu_fd_covers(fd, len, what, errp)) {
        return NULL;
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        g_set_error(errp, VU_ERROR, errno, "%s: mmap: %s", what, g_strerror(errno));
        return NULL;
    }
    return p;
}

static void vu_unmap_regions(VuMapped *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (r[i].map) {
            munmap(r[i].map, r[i].map_len);
        }
        if (r[i].fd >= 0) {
            close(r[i].fd);
        }
        r[i] = (VuMapped){.fd = -1};
    }
}

/* Check the table's shape: sizes, wrap-around; overlaps are the device's check. */
static bool vu_mem_check(const VuMemTable *t, unsigned nfds, GError **errp)
{
    if (t->nregions == 0 || t->nregions > VU_MAX_REGIONS || t->nregions != nfds) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "%u regions with %u fds (allowed: "
                    "1..%u, one fd each)",
                    t->nregions, nfds, VU_MAX_REGIONS);
        return false;
    }
    for (unsigned i = 0; i < t->nregions; i++) {
        const VuRegion *r = &t->regions[i];

        if (r->size == 0 || r->gpa + r->size < r->gpa || r->uva + r->size < r->uva ||
            r->mmap_offset + r->size < r->mmap_offset || r->mmap_offset + r->size > SIZE_MAX) {
            g_set_error(errp, VU_ERROR, EINVAL,
                        "region %u (guest 0x%" G_GINT64_MODIFIER "x, %" G_GUINT64_FORMAT
                        " bytes, offset %" G_GUINT64_FORMAT ") is empty or wraps",
                        i, r->gpa, r->size, r->mmap_offset);
            return false;
        }
    }
    return true;
}

/* Does @t describe what is mapped already, with the same files? (QEMU sends the table once
 * per queue pair: the second need not stop the first pair's rings.) */
static bool vu_mem_same(const VuServer *s, const VuMemTable *t, const VuMsg *m)
{
    if (t->nregions != s->nregions || m->nfds != t->nregions) {
        return false;
    }
    for (unsigned i = 0; i < t->nregions; i++) {
        const VuRegion *r = &t->regions[i];
        const VuMapped *have = &s->regions[i];
        struct stat a, b;

        if (r->gpa != have->gpa || r->size != have->size || r->uva != have->uva ||
            r->mmap_offset + r->size != have->map_len || fstat(m->fds[i], &a) < 0 ||
            fstat(have->fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
            return false;
        }
    }
    return true;
}

bool vu_mem_set(VuServer *s, const VuMemTable *t, VuMsg *m, GError **errp)
{
    VuMapped next[VU_MAX_REGIONS];
    NetbeGuestRegion regions[VU_MAX_REGIONS];
    g_autofree bool *restart = g_new0(bool, s->nrings);
    bool ok = false;

    if (!vu_mem_check(t, m->nfds, errp)) {
        return false;
    }
    if (vu_mem_same(s, t, m)) {
        return true; /* the caller closes the fds we did not take */
    }
    for (unsigned i = 0; i < VU_MAX_REGIONS; i++) {
        next[i] = (VuMapped){.fd = -1};
    }
    for (unsigned i = 0; i < t->nregions; i++) {
        const VuRegion *r = &t->regions[i];
        g_autofree char *what = g_strdup_printf("region %u", i);

        next[i] = (VuMapped){.gpa = r->gpa,
                             .size = r->size,
                             .uva = r->uva,
                             .map_len = r->mmap_offset + r->size,
                             .fd = -1};
        next[i].map = vu_map(m->fds[i], next[i].map_len, what, errp);
        next[i].fd = m->fds[i];
        m->fds[i] = -1;
        if (!next[i].map) {
            goto out;
        }
        regions[i] = (NetbeGuestRegion){
            .gpa = r->gpa, .size = r->size, .hva = (uint8_t *)next[i].map + r->mmap_offset};
    }
    /* rings hold pointers into the old mappings: stop them while the map changes */
    for (unsigned i = 0; i < s->nrings; i++) {
        if (s->rings[i].started) {
            vu_ring_stop(s, i);
            restart[i] = true;
        }
    }
    if (!netbe_vnet_set_memory(s->dev, regions, t->nregions, errp)) {
        goto out;
    }
    vu_unmap_regions(s->regions, s->nregions);
    memcpy(s->regions, next, sizeof(next));
    s->nregions = t->nregions;
    for (unsigned i = 0; i < VU_MAX_REGIONS; i++) {
        next[i] = (VuMapped){.fd = -1};
    }
    ok = true;
out:
    vu_unmap_regions(next, t->nregions);
    for (unsigned i = 0; i < s->nrings; i++) {
        if (restart[i] && ok && !vu_ring_try_start(s, i, errp)) {
            ok = false;
        }
    }
    return ok;
}

void vu_mem_clear(VuServer *s)
{
    netbe_vnet_set_memory(s->dev, NULL, 0, NULL);
    vu_unmap_regions(s->regions, s->nregions);
    s->nregions = 0;
}

bool vu_mem_uva_to_gpa(const VuServer *s, uint64_t uva, uint64_t len, uint64_t *gpa)
{
    for (unsigned i = 0; i < s->nregions; i++) {
        const VuMapped *r = &s->regions[i];

        if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva)) {
            *gpa = r->gpa + (uva - r->uva);
            return true;
        }
    }
    return false;
}

bool vu_log_set(VuServer *s, const VuLog *l, int fd, GError **errp)
{
    void *map;

    if (l->size == 0 || l->offset + l->size < l->offset || l->offset + l->size > SIZE_MAX) {
        g_set_error(errp, VU_ERROR, EINVAL,
                    "%" G_GUINT64_FORMAT " bytes at "
                    "offset %" G_GUINT64_FORMAT " is empty or wraps",
                    l->size, l->offset);
        return false;
    }
    map = vu_map(fd, l->offset + l->size, "log", errp);
    if (!map) {
        return false;
    }
    netbe_vnet_set_dirty_log(s->dev, NULL, 0); /* the device lets go of the old log first */
    vu_log_clear(s);
    s->log_map = map;
    s->log_fd = fd;
    s->log_map_len = l->offset + l->size;
    s->log_offset = l->offset;
    s->log_size = l->size;
    vu_log_apply(s);
    return true;
}

void vu_log_apply(VuServer *s)
{
    bool on = s->log_map && (s->features & (1ull << VU_F_LOG_ALL));

    netbe_vnet_set_dirty_log(s->dev, on ? (uint8_t *)s->log_map + s->log_offset : NULL,
                             on ? s->log_size : 0);
}

void vu_log_clear(VuServer *s)
{
    netbe_vnet_set_dirty_log(s->dev, NULL, 0);
    if (s->log_map) {
        munmap(s->log_map, s->log_map_len);
    }
    if (s->log_fd >= 0) {
        close(s->log_fd);
    }
    s->log_fd = -1;
    s->log_map = NULL;
    s->log_map_len = 0;
    s->log_size = s->log_offset = 0;
}
