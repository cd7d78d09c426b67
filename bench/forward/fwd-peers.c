// SPDX-License-Identifier: GPL-2.0-or-later
/* fwd-peers.c - the two forwarders under test, wired alike: a guestless QEMU whose hub joins
 * the source netdev to a TAP netdev, and a netbe-host whose [hub] does the same. */
#include "fwd.h"

/* QEMU's -netdev value for @w's source, id "src" (@vnet: its vnet_hdr= for a TAP). */
static char *qemu_source(const FwdWiring *w, FwdQemuForm form, const char *vnet)
{
    switch (w->source) {
    case FWD_STREAM:
        return form == FWD_QEMU_NEW
                   ? g_strdup_printf("stream,id=src,server=off,addr.type=inet,"
                                     "addr.host=127.0.0.1,addr.port=%u",
                                     w->sender_port)
                   : g_strdup_printf("socket,id=src,connect=127.0.0.1:%u", w->sender_port);
    case FWD_DGRAM:
        return form == FWD_QEMU_NEW
                   ? g_strdup_printf("dgram,id=src,local.type=inet,local.host=127.0.0.1,"
                                     "local.port=%u,remote.type=inet,remote.host=127.0.0.1,"
                                     "remote.port=%u",
                                     w->fwd_port, w->sender_port)
                   : g_strdup_printf("socket,id=src,udp=127.0.0.1:%u,localaddr=127.0.0.1:%u",
                                     w->sender_port, w->fwd_port);
    case FWD_TAP:
        break;
    }
    return g_strdup_printf("tap,id=src,ifname=" FWD_IF_IN ",script=no,downscript=no%s", vnet);
}

char **fwd_qemu_argv(const char *qemu, const FwdWiring *w, FwdQemuForm form, bool tap_vnet_hdr)
{
    const char *vnet = tap_vnet_hdr ? "" : ",vnet_hdr=off"; /* default: on when the kernel has it */
    GStrvBuilder *b = g_strv_builder_new();
    g_autofree char *src = qemu_source(w, form, vnet);
    g_autofree char *out =
        g_strdup_printf("tap,id=out,ifname=" FWD_IF_OUT ",script=no,downscript=no%s", vnet);
    char **argv;

    /* no machine, no guest: only the net layer and its main loop run */
    g_strv_builder_add_many(
        b, qemu, "-M", "none", "-nodefaults", "-display", "none", "-netdev", src, "-netdev",
        "tap,id=out,ifname=" FWD_IF_OUT ",script=no,downscript=no", "-netdev",
        "hubport,id=h0,hubid=0,netdev=src", "-netdev", "hubport,id=h1,hubid=0,netdev=out", NULL);
    argv = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return argv;
}

/* The [netdev.src] keys for @w's source (@vnet: a vnet_hdr line for a TAP, or ""). */
static char *netbe_source(const FwdWiring *w, const char *vnet)
{
    switch (w->source) {
    case FWD_STREAM:
        return g_strdup_printf("type = socket\nconnect = 127.0.0.1:%u\n", w->sender_port);
    case FWD_DGRAM:
        return g_strdup_printf("type = socket\nudp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u\n",
                               w->sender_port, w->fwd_port);
    case FWD_TAP:
        break;
    }
    return g_strdup_printf("type = tap\nifname = " FWD_IF_IN "\n%s", vnet);
}

char *fwd_netbe_config(const FwdWiring *w, const char *io, bool tap_vnet_hdr,
                       const char *netdev_keys)
{
    const char *vnet = tap_vnet_hdr ? "" : "vnet_hdr = off\n"; /* default: auto */
    g_autofree char *src = netbe_source(w, vnet);
    g_autofree char *runtime = io ? g_strdup_printf("[runtime]\nio = %s\n\n", io) : g_strdup("");

    return g_strdup_printf("; bench-forward: %s source -> hub -> TAP " FWD_IF_OUT "\n"
                           "%s[netdev.src]\n%s%s\n[netdev.out]\ntype = tap\nifname = " FWD_IF_OUT
                           "\n%s%s\n[hub.fwd]\nports = src, out\n",
                           w->source == FWD_STREAM  ? "stream"
                           : w->source == FWD_DGRAM ? "datagram"
                                                    : "TAP",
                           runtime, src, netdev_keys, vnet, netdev_keys);
}
