// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-fixture.c - a small fd plugin with handover for netbe-plugin-check's tests; built well
 * and with one deliberate contract break per variant (tests/plugin-check/meson.build):
 * PCF_INIT_FD (init opens an fd), PCF_BAD_CLEANUP (cleanup crashes on an instance never
 * connected), PCF_GERROR (option errors without FILE:LINE), PCF_ANY_VERSION (load takes
 * any state version). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netbe/migrate.h>
#include <netbe/plugin.h>

#define PCF_STATE_VERSION 3
#define PCF_MAGIC 0x70636678u
#define PCF_ERROR g_quark_from_static_string("netbe-pcf-error")

/* What connect made: the far end of the queue's socket pair. */
typedef struct PcfConn {
    int far_fd;
} PcfConn;

typedef struct PcfState {
    int init_fd; /* PCF_INIT_FD: what init must not open */
    PcfConn *conn;
} PcfState;

static const char *const pcf_speeds[] = {"slow", "fast", NULL};

static const NetbeOptionSpec pcf_options[] = {
    NETBE_OPTION_STRING("mode", "ok", "ok or also-ok"),
    NETBE_OPTION_INT("depth", "1", "a number", 1, 8),
    NETBE_OPTION_ENUM("speed", "slow", "slow or fast", pcf_speeds),
    NETBE_OPTION_END,
};

static bool pcf_init(NetbeBackend *be, const NetbeOptions *opts, GError **errp)
{
    PcfState *st = netbe_backend_priv(be);
    const char *mode = netbe_options_get_string(opts, "mode");

    st->init_fd = -1;
#ifdef PCF_INIT_FD
    st->init_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
#endif
    if (strcmp(mode, "ok") != 0 && strcmp(mode, "also-ok") != 0) {
#ifdef PCF_GERROR
        g_set_error(errp, PCF_ERROR, EINVAL, "bad mode '%s'", mode);
#else
        netbe_options_error(opts, errp, "mode", "'%s' is not a mode (allowed: ok, also-ok)", mode);
#endif
        return false;
    }
    return true;
}

static bool pcf_connect(NetbeBackend *be, GError **errp)
{
    PcfState *st = netbe_backend_priv(be);
    NetbeQueueFd qfd = {.framing = NETBE_FRAMING_PACKET};
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
        g_set_error(errp, PCF_ERROR, errno, "socketpair: %s", g_strerror(errno));
        return false;
    }
    st->conn = g_new0(PcfConn, 1);
    st->conn->far_fd = sv[1];
    qfd.fd = sv[0];
    return netbe_backend_set_queue_fd(be, 0, &qfd, errp);
}

static void pcf_cleanup(NetbeBackend *be)
{
    PcfState *st = netbe_backend_priv(be);

#ifdef PCF_BAD_CLEANUP
    close(st->conn->far_fd); /* assumes connect ran */
#else
    if (st->conn) {
        close(st->conn->far_fd);
    }
#endif
    g_free(st->conn);
    if (st->init_fd >= 0) {
        close(st->init_fd);
    }
}

static bool pcf_save(NetbeBackend *be, NetbeMigWriter *w, GError **errp)
{
    netbe_mig_put_u32(w, PCF_MAGIC);
    return true;
}

static bool pcf_load(NetbeBackend *be, NetbeMigReader *r, uint32_t version, GError **errp)
{
    uint32_t magic;

#ifndef PCF_ANY_VERSION
    if (version != PCF_STATE_VERSION) {
        g_set_error(errp, PCF_ERROR, ENOTSUP, "state version %u (this plugin reads %u)", version,
                    PCF_STATE_VERSION);
        return false;
    }
#endif
    if (!netbe_mig_get_u32(r, &magic) || magic != PCF_MAGIC) {
        g_set_error(errp, PCF_ERROR, EPROTO, "not a fixture record");
        return false;
    }
    return true;
}

static const NetbePluginDesc pcf_desc = {
    .abi_version = NETBE_PLUGIN_ABI,
    .struct_size = sizeof(NetbePluginDesc),
    .name = "pcfixture",
    .summary = "netbe-plugin-check's test fixture",
    .options = pcf_options,
    .state_size = sizeof(PcfState),
    .caps = NETBE_CAP_HANDOVER,
    .state_version = PCF_STATE_VERSION,
    .init = pcf_init,
    .backend_connect = pcf_connect,
    .cleanup = pcf_cleanup,
    .save = pcf_save,
    .load = pcf_load,
};

NETBE_PLUGIN_DEFINE(pcf_desc)
