// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-vq.c - libFuzzer target for virtqueue chain parsing: the input is a guest memory
 * image with a split ring in it; the device walks, pushes and gives back every chain.
 * How to build and run it (and its replay in the normal suite): tests/virtio/meson.build. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vnet-hdr.h"
#include "vq.h"

#define FUZZ_GPA 0x10000ull
#define FUZZ_MEM_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read every byte the iovec points at (ASan flags anything outside guest memory). */
static unsigned touch(const struct iovec *iov, unsigned n)
{
    unsigned sum = 0;

    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = iov[i].iov_base;

        for (size_t k = 0; k < iov[i].iov_len; k += 61) {
            sum += p[k];
        }
        if (iov[i].iov_len) {
            sum += p[iov[i].iov_len - 1];
        }
    }
    return sum;
}

/*
 * Input: flags (bit 0 event idx, 1 indirect, 2 allow read, 3 allow write, 4 split the
 * memory into two regions, 5 dirty log on), log2 of the queue size, then the memory image:
 * descriptor table at FUZZ_GPA, driver ring after it, device ring after that (4-aligned).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct iovec iov[VQ_MAX_IOV], out[VQ_MAX_IOV + 2];
    static uint8_t scratch[VNET_HDR_MAX];
    VnetMem mem = {0};
    Vq vq = {0};
    unsigned qsize, allow;
    size_t need, mem_len;
    uint8_t *image, flags;
    uint64_t gpa[2], len[2];
    void *hva[2];
    unsigned nreg;
    volatile unsigned sink = 0;
    uint8_t *log = NULL;

    if (size < 2) {
        return 0;
    }
    flags = data[0];
    qsize = 1u << (data[1] % 9);
    data += 2;
    size -= 2;
    need = 16 * qsize + 6 + 2 * qsize + 2 + 6 + 8 * qsize + 64;
    mem_len = MAX(size, need);
    if (mem_len > FUZZ_MEM_MAX) {
        return 0;
    }
    image = calloc(1, mem_len);
    memcpy(image, data, size);
    nreg = (flags & 16) && mem_len > need + 2 ? 2 : 1;
    gpa[0] = FUZZ_GPA;
    len[0] = nreg == 2 ? need : mem_len;
    hva[0] = image;
    gpa[1] = FUZZ_GPA + need;
    len[1] = mem_len - need;
    hva[1] = image + need;
    if (!vnet_mem_set(&mem, gpa, len, hva, nreg, NULL)) {
        goto out;
    }
    if (flags & 32) { /* a log covering all of guest memory */
        size_t log_size = ((FUZZ_GPA + mem_len) / VNET_LOG_PAGE + 8) / 8;

        log = calloc(1, log_size);
        vnet_mem_set_log(&mem, log, log_size);
    }
    vq.mem = &mem;
    vq.size = qsize;
    vq.event_idx = flags & 1;
    vq.indirect = flags & 2;
    vq.desc_gpa = FUZZ_GPA;
    vq.avail_gpa = FUZZ_GPA + 16 * qsize;
    vq.used_gpa = (vq.avail_gpa + 6 + 2 * qsize + 2 + 3) & ~3ull;
    allow = (flags >> 2) & 3;
    if (!allow) {
        allow = VQ_ALLOW_READ | VQ_ALLOW_WRITE;
    }
    if (!vq_map(&vq)) {
        goto out;
    }
    for (unsigned round = 0; round < 2 * qsize + 2; round++) {
        VqChain c;
        VqPopResult r = vq_pop(&vq, iov, VQ_MAX_IOV, allow, &c);
        int n;

        if (r != VQ_POP_OK) {
            break;
        }
        sink += touch(iov, c.nread + c.nwrite);
        if (c.read_len >= VNET_HDR_LEN) {
            n = vnet_hdr_tx_iov(iov, c.nread, round % 3 ? 12 : 0, out, VQ_MAX_IOV + 2);
            if (n > 0) {
                sink += touch(out, n);
            }
        }
        if (c.write_len >= VNET_HDR_LEN) {
            n = vnet_hdr_rx_iov(iov + c.nread, c.nwrite, round % 3 ? 10 : 20, scratch, out,
                                VQ_MAX_IOV + 2);
            if (n > 0) {
                sink += touch(out, n);
            }
            vnet_hdr_rx_fix(iov + c.nread, c.nwrite, 0, 1);
            vnet_mem_log_iov(&mem, iov + c.nread, c.nwrite, c.write_len);
        }
        if (round % 5 == 4) {
            vq_unpop(&vq, 1); /* give one back, as mergeable RX does */
            continue;
        }
        vq_push(&vq, c.head, c.write_len);
        if (round % 4 == 3) {
            vq_flush(&vq);
            vq_set_notify(&vq, round & 1);
        }
    }
    vq_flush(&vq);
    if (log) { /* the used index was written: its page is marked */
        uint64_t page = (vq.used_gpa + 2) / VNET_LOG_PAGE;

        if (!(log[page / 8] & (1u << (page % 8)))) {
            abort();
        }
    }
out:
    (void)sink;
    vnet_mem_clear(&mem);
    free(log);
    free(image);
    return 0;
}
