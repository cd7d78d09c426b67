// SPDX-License-Identifier: LGPL-2.1-or-later
/* tap-offload.c - offloads: NETBE_OFFLOAD_* to TUN_F_*, probing and applying (TUNSETOFFLOAD). */
#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include "tap-priv.h"

/* Since Linux 6.2; older uapi headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define OFF_TSO (NETBE_OFFLOAD_TSO4 | NETBE_OFFLOAD_TSO6)
#define OFF_USO (NETBE_OFFLOAD_USO4 | NETBE_OFFLOAD_USO6)

static const struct {
    uint32_t offload;
    unsigned tun_flag;
    const char *name;
} tap_offload_map[] = {
    {NETBE_OFFLOAD_CSUM, TUN_F_CSUM, "csum"}, {NETBE_OFFLOAD_TSO4, TUN_F_TSO4, "tso4"},
    {NETBE_OFFLOAD_TSO6, TUN_F_TSO6, "tso6"}, {NETBE_OFFLOAD_ECN, TUN_F_TSO_ECN, "ecn"},
    {NETBE_OFFLOAD_UFO, TUN_F_UFO, "ufo"},    {NETBE_OFFLOAD_USO4, TUN_F_USO4, "uso4"},
    {NETBE_OFFLOAD_USO6, TUN_F_USO6, "uso6"},
};

/*
 * What the probe tries, one set at a time, following the kernel's rules: everything
 * needs csum, ECN needs TSO, USO4 and USO6 only go together.
 */
static const uint32_t tap_probe_sets[] = {
    NETBE_OFFLOAD_CSUM,
    NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_TSO4,
    NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_TSO6,
    NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_TSO4 | NETBE_OFFLOAD_ECN,
    NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_UFO,
    NETBE_OFFLOAD_CSUM | OFF_USO,
};

static unsigned tap_offload_to_tun(uint32_t offloads)
{
    unsigned flags = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(tap_offload_map); i++) {
        if (offloads & tap_offload_map[i].offload) {
            flags |= tap_offload_map[i].tun_flag;
        }
    }
    return flags;
}

/* "csum, tso4" for a mask; caller frees. */
char *tap_offload_names(uint32_t offloads)
{
    GString *s = g_string_new(NULL);

    for (size_t i = 0; i < G_N_ELEMENTS(tap_offload_map); i++) {
        if (offloads & tap_offload_map[i].offload) {
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", tap_offload_map[i].name);
        }
    }
    return g_string_free(s, false);
}

/*
 * tap_offload_expected() - what get_caps() reports before connect, without touching a
 * device: what every kernel with IFF_VNET_HDR takes, plus USO from Linux 6.2 on.
 */
uint32_t tap_offload_expected(void)
{
    uint32_t offloads = NETBE_OFFLOAD_CSUM | OFF_TSO | NETBE_OFFLOAD_ECN | NETBE_OFFLOAD_UFO;
    struct utsname u;
    unsigned major = 0, minor = 0;

    if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
        (major > 6 || (major == 6 && minor >= 2))) {
        offloads |= OFF_USO;
    }
    return offloads;
}

/*
 * tap_offload_probe() - which offloads the device on @fd accepts. Leaves the device with
 * no offloads; the caller applies the negotiated set next.
 * Return: NETBE_OFFLOAD_* mask.
 */
uint32_t tap_offload_probe(int fd)
{
    uint32_t caps = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(tap_probe_sets); i++) {
        if (ioctl(fd, TUNSETOFFLOAD, tap_offload_to_tun(tap_probe_sets[i])) == 0) {
            caps |= tap_probe_sets[i];
        }
    }
    if (ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
        g_debug("TUNSETOFFLOAD 0: %s", g_strerror(errno));
    }
    return caps;
}

/* Drop what the kernel would refuse: no csum, no rest; ECN needs TSO; USO in pairs. */
static uint32_t tap_offload_sanitize(uint32_t offloads)
{
    if (!(offloads & NETBE_OFFLOAD_CSUM)) {
        return 0;
    }
    if (!(offloads & OFF_TSO)) {
        offloads &= ~NETBE_OFFLOAD_ECN;
    }
    if ((offloads & OFF_USO) != OFF_USO) {
        offloads &= ~OFF_USO;
    }
    return offloads;
}

/*
 * tap_offload_apply() - tell the kernel which offloads the frontend takes in received
 * frames. Bits the kernel would refuse in this combination are left out.
 * Return: false with the TUNSETOFFLOAD error in @errp.
 */
bool tap_offload_apply(Tap *tap, uint32_t offloads, GError **errp)
{
    uint32_t apply = tap_offload_sanitize(offloads);

    if (apply != offloads) {
        g_autofree char *names = tap_offload_names(offloads & ~apply);

        g_debug("netdev '%s': offloads %s left out (the kernel needs csum for all, TSO for "
                "ECN, and USO4 with USO6)",
                netbe_backend_id(tap->be), names);
    }
    if (ioctl(tap_dev_control_fd(tap), TUNSETOFFLOAD, tap_offload_to_tun(apply)) < 0) {
        g_autofree char *names = tap_offload_names(apply);

        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "TAP device '%s': TUNSETOFFLOAD %s: %s",
                    tap->ifname, *names ? names : "none", g_strerror(errno));
        return false;
    }
    tap->offloads = apply;
    return true;
}
