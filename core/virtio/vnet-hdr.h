/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnet-hdr.h - the one place where guest and backend virtio-net headers are matched up. */
#ifndef NETBE_VNET_HDR_H
#define NETBE_VNET_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

/* The header a VERSION_1 driver uses: flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset (10 bytes), num_buffers (2). */
#define VNET_HDR_LEN 12
#define VNET_HDR_NUM_BUFFERS_OFF 10
/* Largest backend header we adapt to (20: with hash report). */
#define VNET_HDR_MAX 24

/* Append bytes [off, off+len) of @in to @out (SIZE_MAX: to the end). Return: new count, or
 * -1 past max. */
int vnet_iov_slice(const struct iovec *in, int n, size_t off, size_t len, struct iovec *out,
                   int count, int max);
/* Copy @len bytes between @buf and @iov at @off, into the iovec if @into_iov, segment by
 * segment. Return: bytes copied. */
size_t vnet_iov_buf_copy(const struct iovec *iov, int n, size_t off, void *buf, size_t len,
                         bool into_iov);

/* Copy @len bytes from @buf into @iov at @off; Return: bytes copied. Inline for the usual
 * case, a range within the first segment (a header, a small frame): one memcpy per frame. */
static inline size_t vnet_iov_from_buf(const struct iovec *iov, int n, size_t off, const void *buf,
                                       size_t len)
{
    if (n > 0 && off + len <= iov[0].iov_len) {
        memcpy((uint8_t *)iov[0].iov_base + off, buf, len);
        return len;
    }
    return vnet_iov_buf_copy(iov, n, off, (void *)buf, len, true);
}

/* Copy @len bytes of @iov at @off into @buf; Return: bytes copied (as above, inline). */
static inline size_t vnet_iov_to_buf(const struct iovec *iov, int n, size_t off, void *buf,
                                     size_t len)
{
    if (n > 0 && off + len <= iov[0].iov_len) {
        memcpy(buf, (const uint8_t *)iov[0].iov_base + off, len);
        return len;
    }
    return vnet_iov_buf_copy(iov, n, off, buf, len, false);
}
/* Copy @src into @dst; Return: bytes copied (the smaller of the two sizes). */
size_t vnet_iov_copy(const struct iovec *dst, int dn, const struct iovec *src, int sn);

/* Join entries that are adjacent in host memory, drop empty ones (fewer segments for
 * readv/writev, same bytes). Return: the new count. */
int vnet_iov_merge(struct iovec *iov, int n);

/*
 * vnet_hdr_tx_iov() - the iovec to send for a guest TX chain @in (guest header first)
 * to a backend whose frames carry @be_hdr header bytes: passthrough when equal, else
 * the header is cut or padded with zeros, without copying the payload.
 * Return: entries in @out, -1 if they do not fit in max.
 */
int vnet_hdr_tx_iov(const struct iovec *in, int n, unsigned be_hdr, struct iovec *out, int max);

/*
 * vnet_hdr_rx_iov() - the iovec a backend with @be_hdr header bytes receives into, so
 * that its header lands on the guest's (the first bytes of @guest) and the payload
 * right after the guest header. Extra backend header bytes go to @scratch.
 * Return: entries in @out, -1 if they do not fit.
 */
int vnet_hdr_rx_iov(const struct iovec *guest, int n, unsigned be_hdr, uint8_t *scratch,
                    struct iovec *out, int max);

/* vnet_hdr_rx_fix() - after a receive: zero the guest header bytes the backend did not
 * write and set num_buffers. */
void vnet_hdr_rx_fix(const struct iovec *guest, int n, unsigned be_hdr, uint16_t num_buffers);

#endif /* NETBE_VNET_HDR_H */
