// SPDX-License-Identifier: GPL-2.0-or-later
/* vt-rig.c - test rig: a runtime with a virtio-net device on the socketpair fixture
 * backend (netbe-vtest.so), and a harness guest driving it. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vt-rig.h"

VtRig *vt_rig_new(unsigned queues, const char *netdev_extra, const char *device_extra,
                  const VgOptions *opt)
{
    VtRig *r = g_new0(VtRig, 1);
    g_autoptr(GString) fds = g_string_new(NULL);
    g_autofree char *conf = NULL, *extra = NULL;
    const char *dir = g_getenv("NETBE_VTEST_DIR");
    char *push;
    GError *err = NULL;

    g_assert_nonnull(dir);
    g_assert_cmpuint(queues, <=, VT_MAX_QUEUES);
    r->nqueues = queues;
    for (unsigned i = 0; i < queues; i++) {
        int sv[2], size = 8 << 20;

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
        for (int k = 0; k < 2; k++) {
            setsockopt(sv[k], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
            setsockopt(sv[k], SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        }
        r->peer[i] = sv[0];
        r->be_end[i] = sv[1];
        g_string_append_printf(fds, "%s%d", i ? ":" : "", sv[1]);
    }
    /* a "push = on" line picks the producer build of the fixture (it pushes frames) */
    extra = g_strdup(netdev_extra ? netdev_extra : "");
    push = strstr(extra, "push = on");
    if (push) {
        memmove(push, push + strlen("push = on"), strlen(push + strlen("push = on")) + 1);
    }
    conf = g_strdup_printf("[netdev.n0]\ntype = %s\nfds = %s\n%s\n"
                           "[device.d0]\nnetdev = n0\nqueues = %u\n%s\n",
                           push ? "vtest-push" : "vtest", fds->str, extra, queues,
                           device_extra ? device_extra : "");
    r->rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(r->rt, dir);
    g_assert_true(netbe_runtime_load_config_string(r->rt, conf, "vt-rig.ini", &err));
    g_assert_no_error(err);
    r->g = vg_new(r->rt, "d0", opt);
    return r;
}

void vt_rig_free(VtRig *r)
{
    if (!r) {
        return;
    }
    vg_free(r->g);
    netbe_runtime_free(r->rt);
    for (unsigned i = 0; i < r->nqueues; i++) {
        close(r->peer[i]);
        close(r->be_end[i]);
    }
    g_free(r);
}

ssize_t vt_peer_read(VtRig *r, unsigned q, void *buf, size_t max, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        ssize_t n;

        vg_pump(r->g);
        n = recv(r->peer[q], buf, max, MSG_DONTWAIT);
        if (n >= 0 || errno != EAGAIN || g_get_monotonic_time() > end) {
            return n < 0 ? -1 : n;
        }
        g_usleep(100);
    }
}

void vt_peer_write(VtRig *r, unsigned q, const void *buf, size_t len)
{
    g_assert_cmpint(send(r->peer[q], buf, len, 0), ==, (ssize_t)len);
}
