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
    uint64_t gpa;     /* first guest address */
    uint64_t size;    /* bytes, > 0; gpa + size - 1 does not wrap */
    uint8_t *hva;     /* host address of gpa */
} VnetMemRegion;

typedef struct VnetMem {
    VnetMemRegion *regions;  /* sorted by gpa, disjoint */
    unsigned n;
} VnetMem;

/* Errors of vnet_mem_map_iov(). */
#define VNET_MEM_EFAULT (-1)  /* a byte lies outside every region */
#define VNET_MEM_E2BIG (-2)   /* more iovec entries than max */

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

#endif /* NETBE_VNET_MEM_H */
