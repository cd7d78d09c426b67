// SPDX-License-Identifier: LGPL-2.1-or-later
/* tap.c - the Linux TAP backend plugin: options, lifecycle and vnet header negotiation. */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "netbe/migrate.h"
#include "tap-priv.h"
#include "tap-state.h"

static const char *const tap_vnet_choices[] = {"auto", "on", "off", NULL};

static const NetbeOptionSpec tap_options[] = {
    {"ifname", NETBE_OPT_STRING, NULL,
     "TAP device name (<= 15 bytes, may be a template like tap%d); created if absent, "
     "attached if it exists (persistent TAP)"},
    {"fd", NETBE_OPT_INT, NULL,
     "an open TAP fd inherited from the parent (libvirt style); exclusive with ifname, "
     "queues and fds",
     0, INT_MAX},
    {"fds", NETBE_OPT_STRING, NULL,
     "open TAP fds, one per queue, colon-separated (multiqueue); exclusive with ifname, "
     "queues and fd"},
    {"queues", NETBE_OPT_INT, "1", "queues; more than 1 uses IFF_MULTI_QUEUE, one fd each", 1,
     NETBE_MAX_QUEUES},
    {"vnet_hdr", NETBE_OPT_ENUM, "auto",
     "virtio-net header on the fds: auto (when the kernel has it and the frontend may use one: "
     "a hub of TAP and socket ports uses none), on (fail without), off",
     .choices = tap_vnet_choices},
    {"sndbuf", NETBE_OPT_SIZE, NULL, "TUNSETSNDBUF bytes; 0 or absent: unlimited (as QEMU)", 0,
     INT_MAX},
    {NULL}};

/* Parse "N:N:..." into *fds. Return: false with a reason in @errp (for key fds). */
static bool tap_parse_fds(const NetbeOptions *opts, const char *text, int **fds, unsigned *n,
                          GError **errp)
{
    g_auto(GStrv) parts = g_strsplit(text, ":", -1);
    unsigned count = g_strv_length(parts);
    int *out = NULL;
    bool ok = false;

    if (count < 1 || count > NETBE_MAX_QUEUES) {
        netbe_options_error(opts, errp, "fds", "%u fds (allowed: 1..%u, colon-separated)", count,
                            NETBE_MAX_QUEUES);
        goto out;
    }
    out = g_new(int, count);
    for (unsigned i = 0; i < count; i++) {
        char *end = NULL;
        long v;

        errno = 0;
        v = strtol(parts[i], &end, 10);
        if (!*parts[i] || *end || errno || v < 0 || v > INT_MAX) {
            netbe_options_error(opts, errp, "fds",
                                "'%s' is not an fd number (allowed: N:N:..., "
                                "decimal fds)",
                                parts[i]);
            goto out;
        }
        for (unsigned j = 0; j < i; j++) {
            if (out[j] == v) {
                netbe_options_error(opts, errp, "fds",
                                    "fd %ld is listed twice (allowed: one "
                                    "fd per queue)",
                                    v);
                goto out;
            }
        }
        out[i] = (int)v;
    }
    *fds = g_steal_pointer(&out);
    *n = count;
    ok = true;
out:
    g_free(out);
    return ok;
}

/* Kernel rules for a device name (dev_valid_name), checked before anything is opened. */
static bool tap_ifname_is_valid(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || g_ascii_isspace(*p)) {
            return false;
        }
    }
    return true;
}

/* Cross-option rules: fd/fds exclusive with each other and with ifname/queues. */
static bool tap_check_exclusive(const NetbeOptions *opts, GError **errp)
{
    static const char *const with_fd[] = {"ifname", "queues", NULL};
    bool fd = netbe_options_is_set(opts, "fd");
    bool fds = netbe_options_is_set(opts, "fds");

    if (fd && fds) {
        netbe_options_error(opts, errp, "fds",
                            "cannot be combined with fd (allowed: fd for one "
                            "queue or fds for several)");
        return false;
    }
    for (int i = 0; (fd || fds) && with_fd[i]; i++) {
        if (netbe_options_is_set(opts, with_fd[i])) {
            netbe_options_error(opts, errp, with_fd[i],
                                "cannot be combined with %s (the "
                                "inherited fds name the device and give the queue count)",
                                fd ? "fd" : "fds");
            return false;
        }
    }
    return true;
}

static bool tap_init(NetbeBackend *be, const NetbeOptions *opts, GError **errp)
{
    Tap *tap = netbe_backend_priv(be);
    const char *ifname = netbe_options_get_string(opts, "ifname");
    const char *vnet = netbe_options_get_string(opts, "vnet_hdr");
    int64_t sndbuf = netbe_options_get_int(opts, "sndbuf");

    tap->be = be;
    if (!tap_check_exclusive(opts, errp)) {
        return false;
    }
    if (ifname && !tap_ifname_is_valid(ifname)) {
        netbe_options_error(opts, errp, "ifname",
                            "'%s' is not a valid device name (allowed: 1..%d "
                            "bytes without '/', ':' or spaces)",
                            ifname, IFNAMSIZ - 1);
        return false;
    }
    if (netbe_options_is_set(opts, "fds")) {
        if (!tap_parse_fds(opts, netbe_options_get_string(opts, "fds"), &tap->adopt_fds,
                           &tap->nqueues, errp)) {
            return false;
        }
    } else if (netbe_options_is_set(opts, "fd")) {
        tap->adopt_fds = g_new(int, 1);
        tap->adopt_fds[0] = (int)netbe_options_get_int(opts, "fd");
        tap->nqueues = 1;
    } else {
        tap->nqueues = (unsigned)netbe_options_get_int(opts, "queues");
    }
    g_strlcpy(tap->ifname, ifname ? ifname : "", sizeof(tap->ifname));
    tap->vnet_mode = strcmp(vnet, "on") == 0    ? TAP_VNET_ON
                     : strcmp(vnet, "off") == 0 ? TAP_VNET_OFF
                                                : TAP_VNET_AUTO;
    tap->sndbuf = sndbuf > 0 ? (int)sndbuf : INT_MAX;
    if (!netbe_backend_set_queues(be, tap->nqueues, errp)) {
        return false;
    }
    tap->queues = g_new0(TapQueue, tap->nqueues);
    for (unsigned q = 0; q < tap->nqueues; q++) {
        tap->queues[q] = (TapQueue){.tap = tap, .index = q, .fd = -1, .enabled = true};
    }
    return true;
}

/* Close the fds (the core closes those it owns); the options stay, so connect can run
 * again. */
void tap_disconnect(Tap *tap)
{
    for (unsigned q = 0; tap->queues && q < tap->nqueues; q++) {
        TapQueue *tq = &tap->queues[q];

        if (tq->handed) {
            netbe_backend_close_queue_fd(tap->be, q);
        } else if (tq->fd >= 0) {
            close(tq->fd);
        }
        tq->fd = -1;
        tq->handed = false;
    }
    tap->connected = false;
}

bool tap_hand_fds(Tap *tap, GError **errp)
{
    for (unsigned q = 0; q < tap->nqueues; q++) {
        TapQueue *tq = &tap->queues[q];
        NetbeQueueFd qfd = {
            .fd = tq->fd,
            .hdr_len = tap->vnet_hdr ? tap->kernel_hdr_len : 0,
            .framing = NETBE_FRAMING_PACKET,
        };

        tq->handed = true; /* the core's now, also if it refuses it (then closed) */
        if (!netbe_backend_set_queue_fd(tap->be, q, &qfd, errp)) {
            tq->fd = -1;
            return false;
        }
    }
    return true;
}

/* The core found a queue's fd broken (the device was deleted) and closed it. */
static void tap_queue_broken(NetbeBackend *be, unsigned queue, int err)
{
    Tap *tap = netbe_backend_priv(be);

    (void)err;
    tap->queues[queue].fd = -1;
    tap->queues[queue].handed = false;
}

static void tap_cleanup(NetbeBackend *be)
{
    Tap *tap = netbe_backend_priv(be);

    tap_disconnect(tap);
    g_free(tap->queues);
    tap->queues = NULL;
    g_free(tap->adopt_fds);
    tap->adopt_fds = NULL;
}

/* Apply what the frontend negotiated before connect: header length, offloads, queues. */
static bool tap_apply_negotiated(Tap *tap, GError **errp)
{
    if (tap->peer_hdr_len && !tap->vnet_hdr) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                    "the frontend uses a %u-byte vnet "
                    "header but the TAP has none (vnet_hdr=off or an fd without IFF_VNET_HDR)",
                    tap->peer_hdr_len);
        return false;
    }
    if (tap->peer_hdr_len && !tap_dev_set_hdr_len(tap, tap->peer_hdr_len, errp)) {
        return false;
    }
    for (unsigned q = 0; q < tap->nqueues; q++) {
        if (!tap->queues[q].enabled && !tap_dev_set_queue(tap, &tap->queues[q], false, errp)) {
            return false;
        }
    }
    return tap_offload_apply(tap, tap->offloads & tap->offload_caps, errp);
}

static bool tap_connect(NetbeBackend *be, GError **errp)
{
    Tap *tap = netbe_backend_priv(be);
    bool adopted = tap->adopt_fds != NULL;

    if (tap->connected) {
        return true;
    }
    if (!(adopted ? tap_dev_adopt(tap, errp) : tap_dev_open(tap, errp))) {
        goto fail;
    }
    tap->offload_caps = tap->vnet_hdr ? tap_offload_probe(tap_dev_control_fd(tap)) : 0;
    if (!tap_apply_negotiated(tap, errp) || !tap_hand_fds(tap, errp)) {
        goto fail;
    }
    tap->connected = true;
    g_debug("netdev '%s': %s %s, %u queue%s, vnet header %s (%u bytes), offloads 0x%x of 0x%x",
            netbe_backend_id(be), adopted ? "adopted" : "opened", tap->ifname, tap->nqueues,
            tap->nqueues > 1 ? "s" : "", tap->vnet_hdr ? "on" : "off", tap->kernel_hdr_len,
            tap->offloads, tap->offload_caps);
    return true;
fail:
    if (adopted) {
        /* the fds stay the caller's: forget those not handed yet before tap_disconnect() */
        for (unsigned q = 0; q < tap->nqueues; q++) {
            if (!tap->queues[q].handed) {
                tap->queues[q].fd = -1;
            }
        }
    }
    tap_disconnect(tap);
    return false;
}

/* Whether frames will carry a vnet header, asked before connect: the option, and for an
 * inherited fd what it was set up with (a read-only TUNGETIFF; no side effect). */
static bool tap_expect_vnet(const Tap *tap)
{
    int flags = tap->adopt_fds ? tap_dev_peek_flags(tap->adopt_fds[0]) : -1;

    if (tap->vnet_mode == TAP_VNET_OFF) {
        return false;
    }
    return flags < 0 || (flags & IFF_VNET_HDR);
}

/* Capabilities: before connect what we expect, after connect what the kernel said. */
static void tap_get_caps(NetbeBackend *be, NetbeCaps *caps)
{
    Tap *tap = netbe_backend_priv(be);
    bool vnet =
        tap->connected ? tap->vnet_hdr && tap->vnet_mode != TAP_VNET_OFF : tap_expect_vnet(tap);

    caps->flags = vnet ? NETBE_CAP_VNET_HDR : 0;
    caps->offloads = !vnet ? 0 : tap->connected ? tap->offload_caps : tap_offload_expected();
}

/* The frontend's header length: 0 (none), 10, 12 or 20 bytes. */
static bool tap_set_vnet_hdr_len(NetbeBackend *be, unsigned len, GError **errp)
{
    Tap *tap = netbe_backend_priv(be);

    if (len != 0 && len != 10 && len != 12 && len != 20) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "vnet header of %u bytes (allowed: 0, 10, "
                    "12, 20)",
                    len);
        return false;
    }
    if (len && tap->vnet_mode == TAP_VNET_OFF) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                    "vnet header of %u bytes asked for, but "
                    "vnet_hdr=off",
                    len);
        return false;
    }
    if (tap->connected) {
        if (len && !tap->vnet_hdr) {
            g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                        "vnet header of %u bytes asked "
                        "for, but the TAP has none (fd without IFF_VNET_HDR)",
                        len);
            return false;
        }
        if (len && !tap_dev_set_hdr_len(tap, len, errp)) {
            return false;
        }
    }
    tap->peer_hdr_len = len;
    tap->peer_hdr_known = true;
    if (!len) {
        tap->offloads = 0;
        if (tap->connected && !tap_offload_apply(tap, 0, errp)) {
            return false;
        }
    }
    return true;
}

/* Offloads the frontend accepts in frames it receives (TUNSETOFFLOAD). */
static bool tap_set_offloads(NetbeBackend *be, uint32_t offloads, GError **errp)
{
    Tap *tap = netbe_backend_priv(be);
    uint32_t caps = tap->connected ? tap->offload_caps : tap_offload_expected();

    if (offloads && !tap->peer_hdr_len) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "offloads need a vnet header: call "
                    "set_vnet_hdr_len first");
        return false;
    }
    if (offloads & ~caps) {
        g_autofree char *names = tap_offload_names(offloads & ~caps);

        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                    "offloads %s are not supported by "
                    "this TAP",
                    names);
        return false;
    }
    if (tap->connected) {
        return tap_offload_apply(tap, offloads, errp);
    }
    tap->offloads = offloads;
    return true;
}

static bool tap_set_queue_enabled(NetbeBackend *be, unsigned queue, bool enabled, GError **errp)
{
    Tap *tap = netbe_backend_priv(be);
    TapQueue *tq;

    if (queue >= tap->nqueues) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "no queue %u (allowed: 0..%u)", queue,
                    tap->nqueues - 1);
        return false;
    }
    tq = &tap->queues[queue];
    if (tq->enabled == enabled) {
        return true;
    }
    if (tap->nqueues == 1) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                    "queue %u cannot be disabled: a "
                    "single-queue TAP (queues=1)",
                    queue);
        return false;
    }
    if (tap->connected && !tap_dev_set_queue(tap, tq, enabled, errp)) {
        return false;
    }
    tq->enabled = enabled;
    return true;
}

/* Handover, source side: the state record (tap-state.h); the core carries the fds. */
static bool tap_save(NetbeBackend *be, NetbeMigWriter *w, GError **errp)
{
    Tap *tap = netbe_backend_priv(be);
    g_autoptr(GBytes) bytes = NULL;
    TapState st;
    size_t len;
    const void *data;

    if (!tap->connected) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTCONN, "not connected: nothing to hand over");
        return false;
    }
    tap_state_capture(tap, &st);
    bytes = tap_state_encode(&st);
    data = g_bytes_get_data(bytes, &len);
    netbe_mig_put_bytes(w, data, (uint32_t)len);
    return true;
}

/* Handover, destination side: check the record against the fds the core received (one per
 * queue, in place already) and adopt them instead of connecting. */
static bool tap_load(NetbeBackend *be, NetbeMigReader *r, uint32_t version, GError **errp)
{
    Tap *tap = netbe_backend_priv(be);
    int fds[NETBE_MAX_QUEUES];
    unsigned nfds = 0;
    const void *data;
    uint32_t len;
    TapState st;

    if (version != TAP_STATE_VERSION) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "tap state version %u (this plugin reads %u)", version, TAP_STATE_VERSION);
        return false;
    }
    if (!netbe_mig_get_bytes(r, &data, &len)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO, "tap state: the record has none");
        return false;
    }
    while (nfds < tap->nqueues && (fds[nfds] = netbe_backend_get_queue_fd(be, nfds)) >= 0) {
        nfds++;
    }
    return tap_state_decode(data, len, nfds, &st, errp) && tap_state_adopt(tap, &st, fds, errp);
}

/* Least privilege: opening /dev/net/tun by ifname (TUNSETIFF) needs CAP_NET_ADMIN;
 * inherited fds (fd=, fds=) and a device open already need nothing more. */
static uint64_t tap_needed_caps(NetbeBackend *be)
{
    const Tap *tap = netbe_backend_priv(be);

    return tap->connected || tap->adopt_fds ? 0 : NETBE_LINUX_CAP(CAP_NET_ADMIN);
}

static const NetbePluginDesc tap_desc = {
    .abi_version = NETBE_PLUGIN_ABI,
    .struct_size = sizeof(NetbePluginDesc),
    .name = "tap",
    .summary = "Linux TAP device (/dev/net/tun): multiqueue, vnet header, offloads, fd passing",
    .options = tap_options,
    .state_size = sizeof(Tap),
    .caps = NETBE_CAP_MULTIQUEUE | NETBE_CAP_HANDOVER,
    .state_version = TAP_STATE_VERSION,
    .init = tap_init,
    .backend_connect = tap_connect,
    .cleanup = tap_cleanup,
    .queue_broken = tap_queue_broken,
    .get_caps = tap_get_caps,
    .set_vnet_hdr_len = tap_set_vnet_hdr_len,
    .set_offloads = tap_set_offloads,
    .set_queue_enabled = tap_set_queue_enabled,
    .save = tap_save,
    .load = tap_load,
    .needed_caps = tap_needed_caps,
};

NETBE_PLUGIN_DEFINE(tap_desc)
