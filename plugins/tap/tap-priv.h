/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tap-priv.h - private state of the tap plugin, shared by its source files. */
#ifndef NETBE_TAP_PRIV_H
#define NETBE_TAP_PRIV_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"

typedef enum TapVnetMode {
    TAP_VNET_AUTO = 0, /* use IFF_VNET_HDR when the kernel has it */
    TAP_VNET_ON,       /* fail without it */
    TAP_VNET_OFF,      /* never offer a header to the frontend */
} TapVnetMode;

struct Tap;

/*
 * struct TapQueue - one queue: one TAP fd.
 * @tap:     the backend's state
 * @index:   queue number
 * @fd:      the TAP fd, -1 when none; once @handed the core owns it (it does the I/O) and
 *           the plugin only makes ioctls on it
 * @handed:  @fd is the core's (netbe_backend_set_queue_fd())
 * @enabled: queue attached to the device (TUNSETQUEUE); always true single-queue
 */
typedef struct TapQueue {
    struct Tap *tap;
    unsigned index;
    int fd;
    bool handed;
    bool enabled;
} TapQueue;

/*
 * struct Tap - private state of one tap backend (netbe_backend_priv()).
 * @be:             the backend
 * @ifname:         device name: requested (may be empty or a "tap%d" template) before
 *                  connect, the real one after
 * @adopt_fds:      fd=/fds=: inherited fds, one per queue; NULL when we open the device
 * @nqueues:        number of queues (fds)
 * @vnet_mode:      vnet_hdr option
 * @sndbuf:         TUNSETSNDBUF value
 * @connected:      the fds are open and configured
 * @vnet_hdr:       the fds carry a virtio-net header (IFF_VNET_HDR)
 * @kernel_hdr_len: header length the kernel uses (TUNSETVNETHDRSZ), if @vnet_hdr
 * @peer_hdr_len:   header length of the frontend's frames (set_vnet_hdr_len), 0 none
 * @offload_caps:   NETBE_OFFLOAD_* the kernel accepts (probed at connect)
 * @offloads:       NETBE_OFFLOAD_* in effect
 * @queues:         @nqueues queues
 */
typedef struct Tap {
    NetbeBackend *be;
    char ifname[IFNAMSIZ];
    int *adopt_fds;
    unsigned nqueues;
    TapVnetMode vnet_mode;
    int sndbuf;
    bool connected;
    bool vnet_hdr;
    unsigned kernel_hdr_len;
    unsigned peer_hdr_len;
    uint32_t offload_caps;
    uint32_t offloads;
    TapQueue *queues;
} Tap;

/* tap.c: hand every queue fd to the core, which does the I/O. Return: false (the fds
 * then closed) if the core refused one. */
bool tap_hand_fds(Tap *tap, GError **errp);

/* tap-dev.c: the kernel side (/dev/net/tun ioctls) */
bool tap_dev_open(Tap *tap, GError **errp);
bool tap_dev_adopt(Tap *tap, GError **errp);
/* Check that @fd is a TAP with IFF_NO_PI; its name goes to @name. Return: flags or -1. */
int tap_dev_check_fd(int fd, char name[IFNAMSIZ], GError **errp);
/* The TUNGETIFF flags of @fd (read-only), or -1. */
int tap_dev_peek_flags(int fd);
/* O_NONBLOCK and sndbuf on every fd; read the kernel's header length. */
bool tap_dev_configure(Tap *tap, GError **errp);
bool tap_dev_set_hdr_len(Tap *tap, unsigned len, GError **errp);
bool tap_dev_set_queue(Tap *tap, TapQueue *tq, bool enabled, GError **errp);
/* The fd that device-wide ioctls go to: the first enabled queue's, or -1. */
int tap_dev_control_fd(const Tap *tap);

/* tap-offload.c: NETBE_OFFLOAD_* <-> TUN_F_* */
uint32_t tap_offload_expected(void);
uint32_t tap_offload_probe(int fd);
bool tap_offload_apply(Tap *tap, uint32_t offloads, GError **errp);
char *tap_offload_names(uint32_t offloads);

/* tap-handover.c: state for a live handover (tap-state.h) */
struct TapState;
void tap_state_capture(const Tap *tap, struct TapState *st);
bool tap_state_adopt(Tap *tap, const struct TapState *st, const int *fds, GError **errp);
/* Close the fds (the core's through the core); the options stay (tap.c). */
void tap_disconnect(Tap *tap);

#endif /* NETBE_TAP_PRIV_H */
