// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-hdr.c - the one place where guest and backend virtio-net headers are matched up. */
#include <endian.h>
#include <stdbool.h>
#include <string.h>
#include "vnet-hdr.h"

#define MIN_SZ(a, b) ((a) < (b) ? (a) : (b))

static const uint8_t zero_hdr[VNET_HDR_MAX];

int vnet_iov_slice(const struct iovec *in, int n, size_t off, size_t len, struct iovec *out,
                   int count, int max)
{
    for (int i = 0; i < n && len > 0; i++) {
        size_t take;

        if (off >= in[i].iov_len) {
            off -= in[i].iov_len;
            continue;
        }
        if (count >= max) {
            return -1;
        }
        take = in[i].iov_len - off;
        if (take > len) {
            take = len;
        }
        out[count].iov_base = (uint8_t *)in[i].iov_base + off;
        out[count].iov_len = take;
        count++;
        len -= take;
        off = 0;
    }
    return count;
}

size_t vnet_iov_buf_copy(const struct iovec *iov, int n, size_t off, void *buf, size_t len,
                         bool into_iov)
{
    uint8_t *b = buf;
    size_t done = 0;

    for (int i = 0; i < n && done < len; i++) {
        uint8_t *seg;
        size_t take;

        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        seg = (uint8_t *)iov[i].iov_base + off;
        take = MIN_SZ(iov[i].iov_len - off, len - done);
        memcpy(into_iov ? seg : b + done, into_iov ? b + done : seg, take);
        done += take;
        off = 0;
    }
    return done;
}

size_t vnet_iov_copy(const struct iovec *dst, int dn, const struct iovec *src, int sn)
{
    size_t done = 0;

    for (int i = 0; i < sn; i++) {
        size_t got = vnet_iov_from_buf(dst, dn, done, src[i].iov_base, src[i].iov_len);

        done += got;
        if (got < src[i].iov_len) {
            break;
        }
    }
    return done;
}

/*
 * The guest's iovec @in re-cut for a backend whose header is @be_hdr bytes, where the
 * guest's is VNET_HDR_LEN: the first min(be_hdr, VNET_HDR_LEN) header bytes, then (for a
 * longer backend header) @pad for the difference, then the frame after the guest's header.
 */
static int vnet_hdr_map_iov(const struct iovec *in, int n, unsigned be_hdr, void *pad,
                            struct iovec *out, int max)
{
    unsigned keep = be_hdr < VNET_HDR_LEN ? be_hdr : VNET_HDR_LEN;
    int count = 0;

    if (be_hdr == VNET_HDR_LEN) {
        if (n > max) {
            return -1;
        }
        for (int i = 0; i < n; i++) { /* mostly one or two entries: no memcpy call */
            out[i] = in[i];
        }
        return n;
    }
    count = vnet_iov_slice(in, n, 0, keep, out, count, max);
    if (count >= 0 && be_hdr > VNET_HDR_LEN) {
        if (count >= max) {
            return -1;
        }
        out[count].iov_base = pad;
        out[count].iov_len = be_hdr - VNET_HDR_LEN;
        count++;
    }
    if (count >= 0) {
        count = vnet_iov_slice(in, n, VNET_HDR_LEN, SIZE_MAX, out, count, max);
    }
    return count;
}

int vnet_hdr_tx_iov(const struct iovec *in, int n, unsigned be_hdr, struct iovec *out, int max)
{
    /* the backend reads the padding: zeros */
    return vnet_hdr_map_iov(in, n, be_hdr, (void *)zero_hdr, out, max);
}

int vnet_hdr_rx_iov(const struct iovec *guest, int n, unsigned be_hdr, uint8_t *scratch,
                    struct iovec *out, int max)
{
    /* the backend writes the padding: into scratch, never into guest memory */
    return vnet_hdr_map_iov(guest, n, be_hdr, scratch, out, max);
}

void vnet_hdr_rx_fix(const struct iovec *guest, int n, unsigned be_hdr, uint16_t num_buffers)
{
    uint16_t nb = htole16(num_buffers);

    if (be_hdr < VNET_HDR_NUM_BUFFERS_OFF) {
        vnet_iov_from_buf(guest, n, be_hdr, zero_hdr, VNET_HDR_NUM_BUFFERS_OFF - be_hdr);
    }
    vnet_iov_from_buf(guest, n, VNET_HDR_NUM_BUFFERS_OFF, &nb, sizeof(nb));
}

int vnet_iov_merge(struct iovec *iov, int n)
{
    int out = 0;

    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len == 0) {
            continue;
        }
        if (out > 0 &&
            (uint8_t *)iov[out - 1].iov_base + iov[out - 1].iov_len == (uint8_t *)iov[i].iov_base) {
            iov[out - 1].iov_len += iov[i].iov_len;
        } else {
            iov[out++] = iov[i];
        }
    }
    return out;
}
