// SPDX-License-Identifier: LGPL-2.1-or-later
/* tap-dev.c - the kernel side of the tap plugin: open, attach or adopt TAP fds (ioctls). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap-priv.h"

#define TAP_DEFAULT_HDR_LEN 10 /* the kernel's vnet header size until TUNSETVNETHDRSZ */

int tap_dev_control_fd(const Tap *tap)
{
    for (unsigned q = 0; q < tap->nqueues; q++) {
        if (tap->queues[q].enabled && tap->queues[q].fd >= 0) {
            return tap->queues[q].fd;
        }
    }
    return -1;
}

/* The TUN flags of an existing device (sysfs), or -1 if it does not exist or is no TUN/TAP. */
static long tap_dev_existing_flags(const char *ifname)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/tun_flags", ifname);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return -1;
    }
    return strtol(text, NULL, 16);
}

static bool tap_dev_exists(const char *ifname)
{
    return *ifname && if_nametoindex(ifname) != 0;
}

/* Explain a failed TUNSETIFF on @ifname with what the user can do about it. */
static void tap_dev_setiff_error(Tap *tap, const char *ifname, int err, GError **errp)
{
    bool exists = tap_dev_exists(ifname);
    long flags = exists ? tap_dev_existing_flags(ifname) : -1;
    const char *name = *ifname ? ifname : "(new)";

    if (err == EPERM || err == EACCES) {
        g_set_error(errp, NETBE_BACKEND_ERROR, err, "cannot %s TAP device '%s': %s (%s)",
                    exists ? "attach to" : "create", name, g_strerror(err),
                    exists ? "it belongs to another user; need CAP_NET_ADMIN, or pass fd="
                           : "need CAP_NET_ADMIN, or pass fd=");
    } else if (err == EINVAL && exists && flags < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, err, "ifname '%s' exists and is not a TAP device",
                    ifname);
    } else if (err == EINVAL && exists && (flags & TUN_TYPE_MASK) != IFF_TAP) {
        g_set_error(errp, NETBE_BACKEND_ERROR, err, "ifname '%s' is a TUN device, not a TAP",
                    ifname);
    } else if (err == EINVAL && exists && !!(flags & IFF_MULTI_QUEUE) != (tap->nqueues > 1)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, err, "ifname '%s' is %s but queues=%u", ifname,
                    (flags & IFF_MULTI_QUEUE) ? "multiqueue" : "single-queue", tap->nqueues);
    } else if (err == EBUSY) {
        g_set_error(errp, NETBE_BACKEND_ERROR, err,
                    "TAP device '%s' is busy: another process "
                    "has its queue open (a single-queue TAP takes one fd)",
                    name);
    } else if (err == E2BIG) {
        g_set_error(errp, NETBE_BACKEND_ERROR, err,
                    "TAP device '%s' cannot take %u more "
                    "queues: %s",
                    name, tap->nqueues, g_strerror(err));
    } else {
        g_set_error(errp, NETBE_BACKEND_ERROR, err, "cannot %s TAP device '%s' (TUNSETIFF): %s",
                    exists ? "attach to" : "create", name, g_strerror(err));
    }
}

/* Settings common to opened and adopted fds: O_NONBLOCK, sndbuf, header length. */
bool tap_dev_configure(Tap *tap, GError **errp)
{
    int hdr_len = TAP_DEFAULT_HDR_LEN;

    for (unsigned q = 0; q < tap->nqueues; q++) {
        int fd = tap->queues[q].fd;
        int fl = fcntl(fd, F_GETFL);

        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, errno,
                        "fd %d: cannot make it non-blocking: "
                        "%s",
                        fd, g_strerror(errno));
            return false;
        }
        /* a detached queue takes no device ioctls; the device-wide value reaches it */
        if (tap->queues[q].enabled && ioctl(fd, TUNSETSNDBUF, &tap->sndbuf) < 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, errno, "TAP device '%s': TUNSETSNDBUF %d: %s",
                        tap->ifname, tap->sndbuf, g_strerror(errno));
            return false;
        }
    }
    if (tap->vnet_hdr && ioctl(tap_dev_control_fd(tap), TUNGETVNETHDRSZ, &hdr_len) < 0) {
        hdr_len = TAP_DEFAULT_HDR_LEN;
    }
    tap->kernel_hdr_len = tap->vnet_hdr ? (unsigned)hdr_len : 0;
    return true;
}

/* Decide on IFF_VNET_HDR from the option and what the kernel offers. */
static bool tap_dev_choose_vnet(Tap *tap, unsigned features, GError **errp)
{
    bool have = features & IFF_VNET_HDR;

    if (tap->vnet_mode == TAP_VNET_ON && !have) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                    "vnet_hdr=on but the kernel's TAP has "
                    "no IFF_VNET_HDR");
        return false;
    }
    /* auto: a header only for a frontend that may use one (the kernel's header work is a
     * third of the rate of small frames; a hub of socket and TAP ports uses none) */
    tap->vnet_hdr = have && tap->vnet_mode != TAP_VNET_OFF &&
                    !(tap->vnet_mode == TAP_VNET_AUTO && tap->peer_hdr_known && !tap->peer_hdr_len);
    return true;
}

/*
 * tap_dev_open() - open /dev/net/tun once per queue and create or attach the device
 * named by tap->ifname (a kernel-chosen name when empty). On success tap->ifname is the
 * real name and every queue has its fd.
 * Return: false with an explanation in @errp; the fds opened so far stay in the queues
 * for the caller to close.
 */
bool tap_dev_open(Tap *tap, GError **errp)
{
    unsigned features = IFF_TAP | IFF_NO_PI;

    for (unsigned q = 0; q < tap->nqueues; q++) {
        struct ifreq ifr = {0};
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0) {
            int err = errno;

            g_set_error(errp, NETBE_BACKEND_ERROR, err, "cannot open /dev/net/tun: %s%s",
                        g_strerror(err),
                        err == EACCES || err == EPERM ? " (need CAP_NET_ADMIN, or pass fd=)"
                        : err == ENOENT               ? " (is the tun module loaded?)"
                                                      : "");
            return false;
        }
        tap->queues[q].fd = fd;
        if (q == 0) {
            if (ioctl(fd, TUNGETFEATURES, &features) < 0) {
                features = IFF_TAP | IFF_NO_PI;
            }
            if (!tap_dev_choose_vnet(tap, features, errp)) {
                return false;
            }
            if (tap->nqueues > 1 && !(features & IFF_MULTI_QUEUE)) {
                g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                            "queues=%u but the kernel's "
                            "TAP has no IFF_MULTI_QUEUE",
                            tap->nqueues);
                return false;
            }
        }
        g_strlcpy(ifr.ifr_name, tap->ifname, sizeof(ifr.ifr_name));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (tap->vnet_hdr ? IFF_VNET_HDR : 0) |
                        (tap->nqueues > 1 ? IFF_MULTI_QUEUE : 0);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
            tap_dev_setiff_error(tap, tap->ifname, errno, errp);
            return false;
        }
        if (q == 0) {
            g_strlcpy(tap->ifname, ifr.ifr_name, sizeof(tap->ifname));
        }
    }
    return tap_dev_configure(tap, errp);
}

/* What kind of file @fd is, for "fd 7 is not a TAP device (it is a pipe)". */
static const char *tap_dev_fd_kind(int fd)
{
    static const struct {
        mode_t type;
        const char *what;
    } kinds[] = {
        {S_IFIFO, "a pipe"},      {S_IFREG, "a regular file"}, {S_IFSOCK, "a socket"},
        {S_IFDIR, "a directory"}, {S_IFBLK, "a block device"}, {S_IFLNK, "a symbolic link"},
    };
    struct stat st;

    if (fstat(fd, &st) < 0) {
        return NULL;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if ((st.st_mode & S_IFMT) == kinds[i].type) {
            return kinds[i].what;
        }
    }
    return NULL;
}

/* The TUNGETIFF flags of @fd (a read-only query), or -1 if it is no attached TUN/TAP. */
int tap_dev_peek_flags(int fd)
{
    struct ifreq ifr = {0};

    return ioctl(fd, TUNGETIFF, &ifr) < 0 ? -1 : ifr.ifr_flags & 0xffff;
}

/* Check one inherited fd: a TAP, IFF_NO_PI. Return: its TUNGETIFF flags, or -1. */
int tap_dev_check_fd(int fd, char name[IFNAMSIZ], GError **errp)
{
    struct ifreq ifr = {0};
    const char *kind;

    if (fcntl(fd, F_GETFD) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBADF,
                    "fd %d is not open (was it inherited? "
                    "clear FD_CLOEXEC in the parent)",
                    fd);
        return -1;
    }
    kind = tap_dev_fd_kind(fd);
    if (kind) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTTY, "fd %d is not a TAP device (it is %s)", fd,
                    kind);
        return -1;
    }
    if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
        int err = errno;

        g_set_error(errp, NETBE_BACKEND_ERROR, err, "fd %d is not a TAP device (TUNGETIFF: %s%s)",
                    fd, g_strerror(err),
                    err == EBADFD ? "; a /dev/net/tun fd without TUNSETIFF" : "");
        return -1;
    }
    if ((ifr.ifr_flags & TUN_TYPE_MASK) != IFF_TAP) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "fd %d is a TUN device ('%s'), not a TAP",
                    fd, ifr.ifr_name);
        return -1;
    }
    if (!(ifr.ifr_flags & IFF_NO_PI)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "fd %d ('%s') was set up without "
                    "IFF_NO_PI (its frames would carry a packet-info header)",
                    fd, ifr.ifr_name);
        return -1;
    }
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    name[IFNAMSIZ - 1] = '\0';
    return ifr.ifr_flags & 0xffff;
}

/*
 * tap_dev_adopt() - take the fds of fd=/fds=: each must be a TAP of the same device,
 * with IFF_NO_PI, and multiqueue when there are several.
 * Return: false with the offending fd named in @errp; fds checked so far are in the
 * queues (still the caller's: the caller forgets them on failure).
 */
bool tap_dev_adopt(Tap *tap, GError **errp)
{
    int first_flags = 0;

    for (unsigned q = 0; q < tap->nqueues; q++) {
        int fd = tap->adopt_fds[q];
        char name[IFNAMSIZ];
        int flags = tap_dev_check_fd(fd, name, errp);

        if (flags < 0) {
            return false;
        }
        if (q == 0) {
            first_flags = flags;
            g_strlcpy(tap->ifname, name, sizeof(tap->ifname));
        } else if (strcmp(name, tap->ifname) != 0) {
            g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                        "fds %d and %d belong to different "
                        "devices ('%s', '%s')",
                        tap->adopt_fds[0], fd, tap->ifname, name);
            return false;
        }
        if (tap->nqueues > 1 && !(flags & IFF_MULTI_QUEUE)) {
            g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                        "fd %d ('%s') is a single-queue TAP "
                        "but fds has %u fds (IFF_MULTI_QUEUE missing)",
                        fd, name, tap->nqueues);
            return false;
        }
        tap->queues[q].fd = fd;
    }
    if (tap->vnet_mode == TAP_VNET_ON && !(first_flags & IFF_VNET_HDR)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                    "fd %d ('%s') was set up without "
                    "IFF_VNET_HDR but vnet_hdr=on",
                    tap->adopt_fds[0], tap->ifname);
        return false;
    }
    /* with vnet_hdr=off the kernel may still use a header: the plugin strips it */
    tap->vnet_hdr = first_flags & IFF_VNET_HDR;
    return tap_dev_configure(tap, errp);
}

/* Set the kernel's vnet header length (device-wide). */
bool tap_dev_set_hdr_len(Tap *tap, unsigned len, GError **errp)
{
    int v = (int)len;

    if (ioctl(tap_dev_control_fd(tap), TUNSETVNETHDRSZ, &v) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "TAP device '%s': TUNSETVNETHDRSZ %u: %s",
                    tap->ifname, len, g_strerror(errno));
        return false;
    }
    tap->kernel_hdr_len = len;
    return true;
}

/* Attach or detach one queue of a multiqueue TAP (TUNSETQUEUE). */
bool tap_dev_set_queue(Tap *tap, TapQueue *tq, bool enabled, GError **errp)
{
    struct ifreq ifr = {.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE};

    if (ioctl(tq->fd, TUNSETQUEUE, &ifr) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno,
                    "TAP device '%s': cannot %s queue %u "
                    "(TUNSETQUEUE): %s",
                    tap->ifname, enabled ? "attach" : "detach", tq->index, g_strerror(errno));
        return false;
    }
    return true;
}
