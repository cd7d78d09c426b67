// SPDX-License-Identifier: LGPL-2.1-or-later
/* user.c - the user backend: user-mode networking (NAT, DHCP, DNS, hostfwd) on libslirp. */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <libslirp.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"
#include "user-config.h"
#include "user-fwd.h"
#include "user-handover.h"
#include "user-loop.h"

#if SLIRP_CONFIG_VERSION_MAX < 4
#error "netbe-user needs libslirp with SlirpConfig version 4 (init_completed, timer_new_opaque)"
#endif

#define USER_CONFIG_VERSION 4 /* the SlirpConfig and SlirpCb fields we fill */
#define USER_ETH_HLEN 14
#define USER_FRAME_MAX (65535 + USER_ETH_HLEN)

/**
 * struct UserState - private state of one user backend
 * @be:      the backend
 * @cfg:     checked options (init)
 * @slirp:   the stack, from backend_connect (set early by init_completed)
 * @poller:  the GSource for slirp's host sockets
 * @polling: what the runtime last said through poll()
 * @fwd_pending: loaded from a handover: open the hostfwd listeners at the first poll
 * @txbuf:   USER_FRAME_MAX bytes to flatten a frame that comes in pieces
 */
typedef struct UserState {
    NetbeBackend *be;
    UserConfig cfg;
    Slirp *slirp;
    UserPoller *poller;
    bool polling;
    bool fwd_pending;
    uint8_t *txbuf;
} UserState;

/*
 * Handover (save/load, user-handover.c). save() runs on a paused backend and writes the
 * bytes slirp_state_save() produces, slirp_state_version() and a digest of the options
 * that shape the network, so that load() refuses a destination configured differently.
 * What libslirp 4.7 saves: the DHCP leases, the IP id, and guestfwd connections (we
 * configure none); not the ARP/NDP tables (slirp asks again), not NAT'd TCP/UDP
 * connections to the outside: their host sockets cannot travel in slirp's state, so the
 * guest sees them reset and UDP flows start afresh. load() creates the Slirp instance from
 * the destination's own options as backend_connect() does and feeds it the state.
 * libslirp offers no way to adopt an existing listening fd (slirp_add_hostfwd() always
 * binds its own), so the hostfwd listeners do not move either: the destination opens
 * them when the runtime first polls it after the commit, which the runtime orders after
 * the source released its own (it waits for that when a record carried no fds). A host
 * client connecting in between is refused. NETBE_CAP_MIGRATE_FDS stays off: no fd moves.
 */

/* ---- callbacks from libslirp ---- */

/* SlirpCb.send_packet: a frame for the guest. */
static ssize_t user_send_packet(const void *buf, size_t len, void *opaque)
{
    UserState *s = opaque;
    struct iovec iov = {(void *)buf, len};

    /* -ENOBUFS: the core dropped and counted it; slirp must not see an error
     * (it logs one as critical), TCP retransmits */
    netbe_backend_deliver(s->be, 0, &iov, 1);
    return len;
}

static void user_guest_error(const char *msg, void *opaque)
{
    UserState *s = opaque;

    g_debug("netdev '%s' (user): guest error: %s", netbe_backend_id(s->be), msg);
}

static int64_t user_clock_get_ns(void *opaque)
{
    return user_clock_ns();
}

static void user_init_completed(Slirp *slirp, void *opaque)
{
    UserState *s = opaque;

    s->slirp = slirp;
}

static void *user_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    UserState *s = opaque;

    return user_timer_new(netbe_backend_context(s->be), &s->slirp, id, cb_opaque);
}

static void *user_timer_new_cb(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    /* not used: timer_new_opaque is set and the config version is 4 */
    g_warning("netdev '%s' (user): libslirp asked for a callback timer; none given",
              netbe_backend_id(((UserState *)opaque)->be));
    return NULL;
}

static void user_timer_free_cb(void *timer, void *opaque)
{
    user_timer_free(timer);
}

static void user_timer_mod_cb(void *timer, int64_t expire_ms, void *opaque)
{
    if (timer) {
        user_timer_mod(timer, expire_ms);
    }
}

static void user_register_poll_fd(int fd, void *opaque)
{
    /* the poller learns slirp's sockets from slirp_pollfds_fill() */
}

static void user_unregister_poll_fd(int fd, void *opaque)
{
    UserState *s = opaque;

    user_poller_forget_fd(s->poller, fd);
}

static void user_notify(void *opaque)
{
    UserState *s = opaque;

    g_main_context_wakeup(netbe_backend_context(s->be));
}

static const SlirpCb user_slirp_callbacks = {
    .send_packet = user_send_packet,
    .guest_error = user_guest_error,
    .clock_get_ns = user_clock_get_ns,
    .timer_new = user_timer_new_cb,
    .timer_free = user_timer_free_cb,
    .timer_mod = user_timer_mod_cb,
    .register_poll_fd = user_register_poll_fd,
    .unregister_poll_fd = user_unregister_poll_fd,
    .notify = user_notify,
    .init_completed = user_init_completed,
    .timer_new_opaque = user_timer_new_opaque,
};

/* ---- entry points ---- */

static bool user_init(NetbeBackend *be, const NetbeOptions *opts, GError **errp)
{
    UserState *s = netbe_backend_priv(be);

    s->be = be;
    if (!netbe_backend_set_queues(be, 1, errp) || !user_config_parse(&s->cfg, opts, errp)) {
        user_config_clear(&s->cfg); /* no cleanup() follows a failed init() */
        return false;
    }
    return true;
}

/* Open the listening socket of every hostfwd rule. */
static bool user_add_hostfwds(UserState *s, GError **errp)
{
    for (unsigned i = 0; i < s->cfg.nfwds; i++) {
        if (!user_fwd_open(s->slirp, &s->cfg.fwds[i], errp)) {
            return false;
        }
    }
    return true;
}

/* After a handover committed: open the listeners the source had; past the commit a rule
 * that fails (the port taken meanwhile) is reported and the others still open. */
static void user_reopen_hostfwds(UserState *s)
{
    unsigned opened = 0;

    s->fwd_pending = false;
    for (unsigned i = 0; i < s->cfg.nfwds; i++) {
        g_autoptr(GError) err = NULL;

        if (user_fwd_open(s->slirp, &s->cfg.fwds[i], &err)) {
            opened++;
        } else {
            g_warning("netdev '%s' (user): after the handover: %s", netbe_backend_id(s->be),
                      err->message);
        }
    }
    if (s->cfg.nfwds) {
        g_message("netdev '%s' (user): %u of %u hostfwd listener(s) reopened after the "
                  "handover",
                  netbe_backend_id(s->be), opened, s->cfg.nfwds);
    }
}

/* Undo backend_connect(): hostfwd listeners, NAT sockets, timers. Options stay. */
static void user_disconnect(UserState *s)
{
    user_poller_free(s->poller);
    s->poller = NULL;
    if (s->slirp) {
        slirp_cleanup(s->slirp); /* frees its timers through timer_free */
        s->slirp = NULL;
    }
    g_free(s->txbuf);
    s->txbuf = NULL;
    s->fwd_pending = false;
}

/* The Slirp instance and its poller from the options, without hostfwd listeners. */
static bool user_create(UserState *s, GError **errp)
{
    const UserConfig *c = &s->cfg;
    SlirpConfig sc = {
        .version = USER_CONFIG_VERSION,
        .restricted = c->restricted,
        .in_enabled = c->ipv4,
        .vnetwork = c->net,
        .vnetmask = c->mask,
        .vhost = c->host,
        .in6_enabled = c->ipv6,
        .vprefix_addr6 = c->prefix6,
        .vprefix_len = c->prefix6_len,
        .vhost6 = c->host6,
        .vhostname = c->hostname,
        .tftp_path = c->tftp,
        .bootfile = c->bootfile,
        .vdhcp_start = c->dhcp_start,
        .vnameserver = c->dns,
        .vnameserver6 = c->dns6,
        .vdnssearch = (const char **)c->dnssearch,
        .vdomainname = c->domainname,
        .if_mtu = c->mtu,
        .if_mru = c->mtu,
        .disable_host_loopback = !c->host_loopback,
        .disable_dhcp = !c->dhcp,
    };
    Slirp *slirp;

    /* init_completed sets s->slirp already inside slirp_new(): its timers need it */
    slirp = slirp_new(&sc, &user_slirp_callbacks, s);
    s->slirp = slirp;
    if (!s->slirp) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "libslirp %s refused the configuration (SlirpConfig version %d)",
                    slirp_version_string(), USER_CONFIG_VERSION);
        return false;
    }
    s->txbuf = g_malloc(USER_FRAME_MAX);
    s->poller = user_poller_new(netbe_backend_context(s->be), s->slirp);
    user_poller_set_enabled(s->poller, s->polling);
    return true;
}

static bool user_connect(NetbeBackend *be, GError **errp)
{
    UserState *s = netbe_backend_priv(be);

    if (s->slirp) {
        return true;
    }
    if (!user_create(s, errp) || !user_add_hostfwds(s, errp)) {
        goto fail;
    }
    g_debug("netdev '%s' (user): libslirp %s up", netbe_backend_id(be), slirp_version_string());
    return true;
fail:
    user_disconnect(s); /* nothing stays open: a later connect starts afresh */
    return false;
}

static void user_cleanup(NetbeBackend *be)
{
    UserState *s = netbe_backend_priv(be);

    user_disconnect(s);
    user_config_clear(&s->cfg);
}

/* A frame from the guest: into the stack. Return: its length, or -errno to drop it. */
static ssize_t user_send(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt)
{
    UserState *s = netbe_backend_priv(be);
    const uint8_t *frame;
    size_t len = 0;

    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    if (!s->slirp) {
        return -ENOTCONN;
    }
    if (len < USER_ETH_HLEN || len > USER_FRAME_MAX) {
        return -EMSGSIZE;
    }
    if (iovcnt == 1) {
        frame = iov[0].iov_base;
    } else {
        size_t off = 0;

        for (int i = 0; i < iovcnt; i++) {
            memcpy(s->txbuf + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        frame = s->txbuf;
    }
    slirp_input(s->slirp, frame, (int)len);
    user_poller_kick(s->poller);
    return len;
}

/* The runtime wants frames (true) or not: watch the host sockets or leave them be. */
static void user_poll(NetbeBackend *be, unsigned queue, bool enable)
{
    UserState *s = netbe_backend_priv(be);

    s->polling = enable;
    if (enable && s->fwd_pending) {
        user_reopen_hostfwds(s); /* the first poll after a handover: the source let go */
    }
    user_poller_set_enabled(s->poller, enable);
}

/* save(): the state of a connected, paused backend; nothing here changes. */
static bool user_save(NetbeBackend *be, NetbeMigWriter *w, GError **errp)
{
    UserState *s = netbe_backend_priv(be);

    if (!s->slirp) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTCONN, "not connected: no slirp state");
        return false;
    }
    user_handover_write(w, &s->cfg, s->slirp);
    return true;
}

/* load(): check the record, then a fresh stack from our options with the source's state;
 * on any failure nothing stays open. */
static bool user_load(NetbeBackend *be, NetbeMigReader *r, uint32_t version, GError **errp)
{
    UserState *s = netbe_backend_priv(be);
    UserHandover h;

    if (s->slirp) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBUSY,
                    "already connected: cannot load a "
                    "handed-over slirp state as well");
        return false;
    }
    if (!user_handover_read(r, version, &s->cfg, &h, errp) || !user_create(s, errp) ||
        !user_handover_apply(s->slirp, &h, errp)) {
        user_disconnect(s);
        return false;
    }
    s->fwd_pending = true;
    g_message("netdev '%s' (user): slirp state loaded (version %d, %u bytes): DHCP leases "
              "kept; NAT'd connections to the outside did not move (their host sockets stay "
              "with the source: the guest sees them reset); %u hostfwd listener(s) reopen "
              "once the source released them",
              netbe_backend_id(be), h.version, h.len, s->cfg.nfwds);
    return true;
}

/* Least privilege: nothing, unless a hostfwd listener on a port below 1024 is still to be
 * opened (by backend_connect, or after a handover): CAP_NET_BIND_SERVICE. */
static uint64_t user_needed_caps(NetbeBackend *be)
{
    const UserState *s = netbe_backend_priv(be);

    for (unsigned i = 0; (!s->slirp || s->fwd_pending) && i < s->cfg.nfwds; i++) {
        if (s->cfg.fwds[i].host_port < 1024) {
            return NETBE_LINUX_CAP(CAP_NET_BIND_SERVICE);
        }
    }
    return 0;
}

/* Runtime commands: hostfwd-add and hostfwd-del (user-fwd.c). Listeners change at once while
 * slirp runs; before it connects, or until a handover's commit opens them, the list does. */
static bool user_control(NetbeBackend *be, const char *cmd, const char *arg, GError **errp)
{
    UserState *s = netbe_backend_priv(be);

    return user_fwd_command(&s->cfg, s->fwd_pending ? NULL : s->slirp, cmd, arg, errp);
}

static const NetbePluginDesc user_desc = {
    .abi_version = NETBE_PLUGIN_ABI,
    .struct_size = sizeof(NetbePluginDesc),
    .name = "user",
    .summary = "user-mode networking on libslirp: NAT to the host, DHCP, DNS, hostfwd; "
               "no privileges",
    .options = user_option_specs,
    .state_size = sizeof(UserState),
    .caps = NETBE_CAP_HANDOVER,
    .state_version = USER_HANDOVER_FORMAT,
    .init = user_init,
    .backend_connect = user_connect,
    .cleanup = user_cleanup,
    .send = user_send,
    .poll = user_poll,
    .save = user_save, /* state only: no fd moves (see the handover notes above) */
    .load = user_load,
    .needed_caps = user_needed_caps,
    .control = user_control,
};

NETBE_PLUGIN_DEFINE(user_desc)
