// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-mem.c - guest memory map of a virtio device: translation with bounds checks. */
#include <errno.h>
#include <stdlib.h>
#include "vnet-mem.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

bool vnet_mem_have_prefetchw;

/* Whether PREFETCHW may run: CPUID leaf 0x80000001, ECX bit 8 (3DNowPrefetch). */
__attribute__((constructor)) static void vnet_mem_probe_prefetchw(void)
{
    unsigned a, b, c, d;

    vnet_mem_have_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_PRFCHW);
}
#endif

static int region_cmp(const void *a, const void *b)
{
    const VnetMemRegion *ra = a, *rb = b;

    return ra->gpa < rb->gpa ? -1 : ra->gpa > rb->gpa;
}

bool vnet_mem_set(VnetMem *m, const uint64_t *gpa, const uint64_t *size, void *const *hva,
                  unsigned n, GError **errp)
{
    VnetMemRegion *r = g_new0(VnetMemRegion, n ? n : 1);
    bool ok = false;

    for (unsigned i = 0; i < n; i++) {
        if (size[i] == 0 || gpa[i] + (size[i] - 1) < gpa[i] || !hva[i]) {
            g_set_error(errp, VNET_ERROR, EINVAL,
                        "guest memory region %u (0x%" G_GINT64_MODIFIER "x, %" G_GUINT64_FORMAT
                        " bytes) is empty, wraps around or has no host address",
                        i, gpa[i], size[i]);
            goto out;
        }
        r[i] = (VnetMemRegion){gpa[i], size[i], hva[i]};
    }
    qsort(r, n, sizeof(*r), region_cmp);
    for (unsigned i = 1; i < n; i++) {
        if (r[i].gpa - r[i - 1].gpa < r[i - 1].size) {
            g_set_error(errp, VNET_ERROR, EINVAL,
                        "guest memory regions at 0x%" G_GINT64_MODIFIER
                        "x and 0x%" G_GINT64_MODIFIER "x overlap",
                        r[i - 1].gpa, r[i].gpa);
            goto out;
        }
    }
    g_free(m->regions);
    m->regions = g_steal_pointer(&r);
    m->n = n;
    ok = true;
out:
    g_free(r);
    return ok;
}

void vnet_mem_clear(VnetMem *m)
{
    g_free(m->regions);
    m->regions = NULL;
    m->n = 0;
}

/* The region holding @gpa, or NULL. */
static const VnetMemRegion *mem_find(const VnetMem *m, uint64_t gpa)
{
    unsigned lo = 0, hi = m->n;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const VnetMemRegion *r = &m->regions[mid];

        if (gpa < r->gpa) {
            hi = mid;
        } else if (gpa - r->gpa >= r->size) {
            lo = mid + 1;
        } else {
            return r;
        }
    }
    return NULL;
}

void *vnet_mem_map(const VnetMem *m, uint64_t gpa, uint64_t len)
{
    const VnetMemRegion *r = mem_find(m, gpa);

    /* gpa - r->gpa < r->size holds; compare without overflowing */
    if (!r || len > r->size - (gpa - r->gpa)) {
        return NULL;
    }
    return r->hva + (gpa - r->gpa);
}

int vnet_mem_map_iov(const VnetMem *m, uint64_t gpa, uint64_t len, struct iovec *iov, int max)
{
    int n = 0;

    while (len > 0) {
        const VnetMemRegion *r = mem_find(m, gpa);
        uint64_t off, chunk;

        if (!r) {
            return VNET_MEM_EFAULT;
        }
        if (n >= max) {
            return VNET_MEM_E2BIG;
        }
        off = gpa - r->gpa;
        chunk = MIN(len, r->size - off);
        iov[n].iov_base = r->hva + off;
        iov[n].iov_len = chunk;
        n++;
        len -= chunk;
        if (len > 0 && gpa + chunk < gpa) {
            return VNET_MEM_EFAULT; /* would wrap past 2^64 */
        }
        gpa += chunk;
    }
    return n;
}

/* ---- dirty page log ---- */

void vnet_mem_set_log(VnetMem *m, void *log, uint64_t size)
{
    m->log = log;
    m->log_size = log ? size : 0;
    m->log_warned = false;
}

void vnet_mem_log_gpa_slow(VnetMem *m, uint64_t gpa, uint64_t len)
{
    uint64_t first, last;

    if (len == 0) {
        return;
    }
    first = gpa / VNET_LOG_PAGE;
    last = (gpa + (len - 1)) / VNET_LOG_PAGE; /* the range lies in a region: no wrap */
    for (uint64_t page = first; page <= last; page++) {
        if (page / 8 >= m->log_size) {
            if (!m->log_warned) {
                g_warning("device '%s': dirty log of %" G_GUINT64_FORMAT " bytes does not "
                          "cover guest address 0x%" G_GINT64_MODIFIER "x; writes there are "
                          "not logged",
                          m->name ? m->name : "?", m->log_size, page * VNET_LOG_PAGE);
                m->log_warned = true;
            }
            return;
        }
        __atomic_fetch_or(&m->log[page / 8], (uint8_t)(1u << (page % 8)), __ATOMIC_SEQ_CST);
    }
}

/* The region whose host range holds @p, or NULL (few regions: a linear search). */
static const VnetMemRegion *mem_find_hva(const VnetMem *m, const uint8_t *p)
{
    for (unsigned i = 0; i < m->n; i++) {
        const VnetMemRegion *r = &m->regions[i];

        if (p >= r->hva && (uint64_t)(p - r->hva) < r->size) {
            return r;
        }
    }
    return NULL;
}

void vnet_mem_log_iov_slow(VnetMem *m, const struct iovec *iov, int n, size_t len)
{
    for (int i = 0; i < n && len > 0; i++) {
        const VnetMemRegion *r = mem_find_hva(m, iov[i].iov_base);
        size_t l = MIN(len, iov[i].iov_len);

        if (r) {
            vnet_mem_log_gpa_slow(m, r->gpa + ((const uint8_t *)iov[i].iov_base - r->hva), l);
        }
        len -= l;
    }
}
