// SPDX-License-Identifier: LGPL-2.1-or-later
/* tap-handover.c - capture a live tap backend's state and fds, or adopt them (migration). */
#include <errno.h>
#include <linux/if_tun.h>
#include <string.h>
#include "tap-priv.h"
#include "tap-state.h"

/*
 * tap_state_capture() - the state of a connected (and paused) backend; the core carries
 * its queue fds.
 * @st:  filled in
 */
void tap_state_capture(const Tap *tap, TapState *st)
{
    memset(st, 0, sizeof(*st));
    g_strlcpy(st->ifname, tap->ifname, sizeof(st->ifname));
    st->nqueues = tap->nqueues;
    st->vnet_hdr = tap->vnet_hdr;
    st->kernel_hdr_len = (uint8_t)(tap->vnet_hdr ? tap->kernel_hdr_len : 0);
    st->peer_hdr_len = (uint8_t)tap->peer_hdr_len;
    st->offload_caps = tap->offload_caps;
    st->offloads = tap->offloads;
    st->sndbuf = tap->sndbuf;
    for (unsigned q = 0; q < tap->nqueues; q++) {
        st->queue_flags[q] = tap->queues[q].enabled ? TAP_STATE_Q_ENABLED : 0;
    }
}

/* The checks that need the backend: same shape as configured, fds that are this TAP. */
static bool tap_state_fits(const Tap *tap, const TapState *st, const int *fds, GError **errp)
{
    if (tap->connected) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBUSY,
                    "already connected: cannot adopt the fds "
                    "of '%s' as well",
                    st->ifname);
        return false;
    }
    if (st->nqueues != tap->nqueues) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "the handed-over TAP '%s' has %u queues, "
                    "this netdev %u",
                    st->ifname, st->nqueues, tap->nqueues);
        return false;
    }
    if (!tap->adopt_fds && tap->ifname[0] && !strchr(tap->ifname, '%') &&
        strcmp(tap->ifname, st->ifname) != 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "the handed-over TAP is '%s' but "
                    "ifname=%s",
                    st->ifname, tap->ifname);
        return false;
    }
    if (st->peer_hdr_len && tap->vnet_mode == TAP_VNET_OFF) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "the handed-over TAP '%s' uses a vnet "
                    "header but vnet_hdr=off",
                    st->ifname);
        return false;
    }
    for (unsigned q = 0; q < st->nqueues; q++) {
        char name[IFNAMSIZ];
        int flags;

        /* detached queues too: a detached queue still answers TUNGETIFF for its device */
        flags = tap_dev_check_fd(fds[q], name, errp);
        if (flags < 0) {
            return false;
        }
        if (strcmp(name, st->ifname) != 0 || !!(flags & IFF_VNET_HDR) != st->vnet_hdr) {
            g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                        "fd %d of queue %u is '%s'%s, the "
                        "state says '%s'%s",
                        fds[q], q, name, (flags & IFF_VNET_HDR) ? " with vnet header" : "",
                        st->ifname, st->vnet_hdr ? " with vnet header" : "");
            return false;
        }
    }
    return true;
}

/*
 * tap_state_adopt() - take over a live TAP instead of backend_connect(): the core holds
 * the fds already (it received them); the vnet header length and offloads are applied to
 * the kernel again.
 * @st:  checked state (tap_state_decode())
 * @fds: st->nqueues fds, fd i for queue i (the core's)
 * Return: false with the reason in @errp; the core closes the fds then.
 */
bool tap_state_adopt(Tap *tap, const TapState *st, const int *fds, GError **errp)
{
    if (!tap_state_fits(tap, st, fds, errp)) {
        return false;
    }
    g_strlcpy(tap->ifname, st->ifname, sizeof(tap->ifname));
    tap->vnet_hdr = st->vnet_hdr;
    tap->peer_hdr_len = st->peer_hdr_len;
    tap->offload_caps = st->offload_caps;
    tap->sndbuf = st->sndbuf;
    for (unsigned q = 0; q < tap->nqueues; q++) {
        tap->queues[q].fd = fds[q];
        tap->queues[q].handed = true;
        tap->queues[q].enabled = st->queue_flags[q] & TAP_STATE_Q_ENABLED;
    }
    if (!tap_dev_configure(tap, errp) ||
        (tap->peer_hdr_len && !tap_dev_set_hdr_len(tap, tap->peer_hdr_len, errp)) ||
        !tap_offload_apply(tap, st->offloads, errp)) {
        goto fail;
    }
    tap->connected = true;
    return true;
fail:
    for (unsigned q = 0; q < tap->nqueues; q++) {
        tap->queues[q].fd = -1;
        tap->queues[q].handed = false;
        tap->queues[q].enabled = true;
    }
    return false;
}
