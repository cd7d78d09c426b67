/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnet-mem.h - guest memory map of a virtio device: translation with bounds checks. */
#ifndef NETBE_VNET_MEM_H
#define NETBE_VNET_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

/* Error domain of the virtio-net frontend (codes are errno values). */
#define VNET_ERROR (g_quark_from_static_string("netbe-virtio-net-error"))

typedef struct VnetMemRegion {
    uint64_t gpa;  /* first guest address */
    uint64_t size; /* bytes, > 0; gpa + size - 1 does not wrap */
    uint8_t *hva;  /* host address of gpa */
} VnetMemRegion;

typedef struct VnetMem {
    VnetMemRegion *regions; /* sorted by gpa, disjoint */
    unsigned n;
    uint8_t *log;      /* dirty page bitmap (the VMM's), NULL: not logging */
    uint64_t log_size; /* its bytes */
    bool log_warned;   /* a write beyond it was reported */
    const char *name;  /* owner, for messages ("nic0") */
} VnetMem;

/* Page size of the dirty log (NETBE_VNET_LOG_PAGE). */
#define VNET_LOG_PAGE 4096

/* Errors of vnet_mem_map_iov(). */
#define VNET_MEM_EFAULT (-1) /* a byte lies outside every region */
#define VNET_MEM_E2BIG (-2)  /* more iovec entries than max */

#if defined(__x86_64__) || defined(__i386__)
extern bool vnet_mem_have_prefetchw; /* the CPU has PREFETCHW (CPUID 3DNowPrefetch) */
#endif

/*
 * vnet_mem_prefetch_write() - start taking the cache line of @p for writing: for a guest
 * buffer the driver's CPU read last, so that the copy into it later does not wait for the
 * line to come over. A hint only: never faults, a no-op where the CPU cannot.
 */
static inline void vnet_mem_prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    /* __builtin_prefetch(p, 1) gives PREFETCHW only with -mprfchw, which not every x86 has */
    if (vnet_mem_have_prefetchw) {
        __asm__ volatile("prefetchw %0" ::"m"(*(const char *)p));
    }
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

/*
 * vnet_mem_set() - replace the map with @n regions (gpa, size, hva triples).
 * Return: false (map unchanged) when a region is empty, wraps or overlaps another.
 */
bool vnet_mem_set(VnetMem *m, const uint64_t *gpa, const uint64_t *size, void *const *hva,
                  unsigned n, GError **errp);
void vnet_mem_clear(VnetMem *m);

/* vnet_mem_map() - host address of [gpa, gpa+len) when it lies in one region, else NULL. */
void *vnet_mem_map(const VnetMem *m, uint64_t gpa, uint64_t len);

/*
 * vnet_mem_map_iov() - translate [gpa, gpa+len) into iovec entries (one per region it
 * crosses). Return: entries written (0 for len 0), VNET_MEM_EFAULT or VNET_MEM_E2BIG.
 */
int vnet_mem_map_iov(const VnetMem *m, uint64_t gpa, uint64_t len, struct iovec *iov, int max);

/* vnet_mem_set_log() - log writes into guest memory in @log (@size bytes), NULL: stop. */
void vnet_mem_set_log(VnetMem *m, void *log, uint64_t size);
void vnet_mem_log_gpa_slow(VnetMem *m, uint64_t gpa, uint64_t len);
void vnet_mem_log_iov_slow(VnetMem *m, const struct iovec *iov, int n, size_t len);

/* vnet_mem_log_gpa() - the device wrote [gpa, gpa+len): mark its pages dirty if logging. */
static inline void vnet_mem_log_gpa(VnetMem *m, uint64_t gpa, uint64_t len)
{
    if (G_UNLIKELY(m->log != NULL)) {
        vnet_mem_log_gpa_slow(m, gpa, len);
    }
}

/* vnet_mem_log_iov() - the device wrote the first @len bytes of @iov (entries translated
 * by vnet_mem_map_iov()): mark their pages dirty if logging. */
static inline void vnet_mem_log_iov(VnetMem *m, const struct iovec *iov, int n, size_t len)
{
    if (G_UNLIKELY(m->log != NULL)) {
        vnet_mem_log_iov_slow(m, iov, n, len);
    }
}

#endif /* NETBE_VNET_MEM_H */
