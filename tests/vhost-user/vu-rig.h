/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vu-rig.h - a real netbe-host serving one vhost-user virtio-net device whose netdev is a UDP
 * socket on loopback, and the checks the vhost-user tests share. */
#ifndef NETBE_TEST_VU_RIG_H
#define NETBE_TEST_VU_RIG_H

#include <netinet/in.h>
#include "host-proc.h"
#include "vu-front.h"

#define VU_RIG_MAC "52:54:00:12:34:56"

typedef struct VuRig {
    TestHost *h;
    char *sock;                /* the device's vhost-user socket */
    int udp;                   /* the netdev's peer: frames the guest sends arrive here */
    struct sockaddr_in netdev; /* the netdev's address: frames sent here go to the guest */
    int base_fds;              /* netbe-host's open fds with no VMM connected */
} VuRig;

/*
 * vu_rig_new() - start netbe-host with [device.nic0] (vhost-user, socket vu.sock in its
 * directory, mac VU_RIG_MAC) on a socket netdev, plus @device_extra lines in that section
 * (may be NULL). Asserts it serves.
 */
VuRig *vu_rig_new(const char *device_extra);
/* The same with @netdev_extra lines in [netdev.net0] too (may be NULL). */
VuRig *vu_rig_new_full(const char *device_extra, const char *netdev_extra);
void vu_rig_free(VuRig *r);

/* A frontend connected and negotiated with @opt (may be NULL). Asserts. */
VuFront *vu_rig_front(VuRig *r, const VuFrontOptions *opt);

/* A test frame to the device's MAC: @len bytes, payload pattern from @seed. */
size_t vu_rig_frame(uint8_t *buf, size_t len, uint8_t seed);
/* The guest sends @len bytes of @frame; assert the netdev's peer gets exactly them. */
void vu_rig_check_tx(VuRig *r, VuFront *f, const uint8_t *frame, size_t len);
/* The peer sends @frame into the netdev; assert the guest receives exactly it. Return: the
 * num_buffers the device wrote. */
unsigned vu_rig_check_rx(VuRig *r, VuFront *f, const uint8_t *frame, size_t len);
/* One frame each way through @f. */
void vu_rig_roundtrip(VuRig *r, VuFront *f);

/* Lines in netbe-host's log so far. */
unsigned vu_rig_log_lines(VuRig *r);
/* The log from line @from on (one string, lines joined). */
char *vu_rig_log_since(VuRig *r, unsigned from);

/* Wait until netbe-host's status shows no VMM on nic0 (it saw the last one go); asserts
 * within 3 s. Connecting before that races with the host reading the old VMM's EOF. */
void vu_rig_wait_idle(VuRig *r);
/*
 * vu_rig_check_healthy() - netbe-host answers status, a new frontend negotiates and passes
 * a frame each way, and once it has gone the host holds r->base_fds fds again.
 */
void vu_rig_check_healthy(VuRig *r);
/* Wait up to 3 s until netbe-host holds r->base_fds fds; assert it does. */
void vu_rig_check_no_fd_leak(VuRig *r);

#endif /* NETBE_TEST_VU_RIG_H */
