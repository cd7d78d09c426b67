/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vt-rig.h - test rig: a runtime with a virtio-net device on the socketpair fixture
 * backend (netbe-vtest.so), and a harness guest driving it. */
#ifndef NETBE_TEST_VT_RIG_H
#define NETBE_TEST_VT_RIG_H

#include "harness.h"

#define VT_MAX_QUEUES 8

typedef struct VtRig {
    NetbeRuntime *rt;
    int peer[VT_MAX_QUEUES]; /* the test's ends; the backend has the others */
    int be_end[VT_MAX_QUEUES];
    unsigned nqueues;
    VgGuest *g;
} VtRig;

/*
 * vt_rig_new() - runtime + device "d0" on netdev "n0" (vtest, @queues socketpairs).
 * @netdev_extra / @device_extra: more ini lines for the sections (may be NULL)
 * @opt: harness options; NULL for defaults. Asserts on failure.
 */
VtRig *vt_rig_new(unsigned queues, const char *netdev_extra, const char *device_extra,
                  const VgOptions *opt);
void vt_rig_free(VtRig *r);
/* Read one frame from the peer end of queue @q within @timeout_ms (pumping the runtime).
 * Return: its length, -1 on timeout. */
ssize_t vt_peer_read(VtRig *r, unsigned q, void *buf, size_t max, int timeout_ms);
/* Write one frame (header included when the backend uses one) into queue @q. */
void vt_peer_write(VtRig *r, unsigned q, const void *buf, size_t len);

#endif /* NETBE_TEST_VT_RIG_H */
