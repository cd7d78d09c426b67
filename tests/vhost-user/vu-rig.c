// SPDX-License-Identifier: GPL-2.0-or-later
/* vu-rig.c - a real netbe-host serving one vhost-user device on a UDP netdev, for tests. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netns.h"
#include "vu-rig.h"

static const uint8_t rig_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* The port netbe-host's log gives after "datagrams on 127.0.0.1:", 0 if absent. */
static unsigned netdev_port(VuRig *r)
{
    static const char marker[] = "datagrams on 127.0.0.1:";
    g_autofree char *log = NULL;
    const char *p;

    if (!g_file_get_contents(r->h->log, &log, NULL, NULL) || !(p = strstr(log, marker))) {
        return 0;
    }
    return (unsigned)strtoul(p + strlen(marker), NULL, 10);
}

/* netbe-host's fd count once it stays the same for 100 ms. */
static int stable_fd_count(VuRig *r)
{
    int n = test_count_fds(r->h->pid), prev = -1;

    for (int i = 0; i < 50 && n != prev; i++) {
        g_usleep(100000);
        prev = n;
        n = test_count_fds(r->h->pid);
    }
    g_assert_cmpint(n, >, 0);
    return n;
}

VuRig *vu_rig_new(const char *device_extra)
{
    return vu_rig_new_full(device_extra, NULL);
}

VuRig *vu_rig_new_full(const char *device_extra, const char *netdev_extra)
{
    VuRig *r = g_new0(VuRig, 1);
    VuFront *f;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    g_autofree char *ini = NULL;
    unsigned port = 0;

    r->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(r->udp, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(r->udp, (struct sockaddr *)&a, &len), ==, 0);
    ini = g_strdup_printf("[netdev.net0]\ntype = socket\nlocaladdr = 127.0.0.1:0\n"
                          "udp = 127.0.0.1:%u\n%s"
                          "[device.nic0]\nmodel = virtio-net\ntransport = vhost-user\n"
                          "socket = vu.sock\nnetdev = net0\nmac = " VU_RIG_MAC "\n%s",
                          ntohs(a.sin_port), netdev_extra ? netdev_extra : "",
                          device_extra ? device_extra : "");
    r->h = test_host_start(ini, NULL, NULL);
    g_assert_nonnull(r->h);
    test_pid_track(0, r->h->pid);
    r->sock = g_build_filename(r->h->dir, "vu.sock", NULL);
    for (int i = 0; i < 100 && !g_file_test(r->sock, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10000);
    }
    g_assert_true(g_file_test(r->sock, G_FILE_TEST_EXISTS));
    /* the baseline: the fds of a host that has served a VMM (the first one replaces fds
     * the device opened for itself, and connects a connect=deferred netdev) and is idle
     * again */
    f = vu_rig_front(r, NULL);
    for (int i = 0; i < 100 && !(port = netdev_port(r)); i++) {
        g_usleep(10000);
    }
    g_assert_cmpuint(port, >, 0);
    r->netdev = (struct sockaddr_in){
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    vu_front_free(f);
    vu_rig_wait_idle(r);
    r->base_fds = stable_fd_count(r);
    return r;
}

void vu_rig_free(VuRig *r)
{
    test_pid_track(0, 0);
    test_host_free(r->h);
    close(r->udp);
    g_free(r->sock);
    g_free(r);
}

VuFront *vu_rig_front(VuRig *r, const VuFrontOptions *opt)
{
    g_autoptr(GError) err = NULL;
    VuFront *f = vu_front_connect(r->sock, opt, &err);

    g_assert_no_error(err);
    if (!vu_front_start(f, &err)) {
        g_autofree char *log = vu_rig_log_since(r, 0);

        g_printerr("# netbe-host's log:\n%s", log);
    }
    g_assert_no_error(err);
    return f;
}

size_t vu_rig_frame(uint8_t *buf, size_t len, uint8_t seed)
{
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x77};

    g_assert_cmpuint(len, >=, 14);
    memcpy(buf, rig_mac, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = 0x88;
    buf[13] = 0xb5; /* local experimental ethertype */
    for (size_t i = 14; i < len; i++) {
        buf[i] = (uint8_t)(seed + i * 7);
    }
    return len;
}

void vu_rig_check_tx(VuRig *r, VuFront *f, const uint8_t *frame, size_t len)
{
    g_autofree uint8_t *got = g_malloc(len + 1);
    struct pollfd p = {r->udp, POLLIN, 0};
    ssize_t n;

    g_assert_true(vu_front_send(f, 0, NULL, frame, len, false));
    g_assert_cmpint(poll(&p, 1, 3000), ==, 1); /* no frame: the device did not send it */
    n = recv(r->udp, got, len + 1, 0);
    g_assert_cmpint(n, ==, (ssize_t)len);
    g_assert_cmpmem(got, len, frame, len);
}

unsigned vu_rig_check_rx(VuRig *r, VuFront *f, const uint8_t *frame, size_t len)
{
    g_autofree uint8_t *got = g_malloc(len + 1);
    unsigned nb = 0;
    ssize_t n;

    g_assert_cmpint(sendto(r->udp, frame, len, 0, (struct sockaddr *)&r->netdev, sizeof(r->netdev)),
                    ==, (ssize_t)len);
    n = vu_front_recv(f, 0, got, len + 1, NULL, &nb, 3000);
    g_assert_cmpint(n, ==, (ssize_t)len); /* -1: nothing reached the guest in 3 s */
    g_assert_cmpmem(got, len, frame, len);
    return nb;
}

void vu_rig_roundtrip(VuRig *r, VuFront *f)
{
    uint8_t frame[100];

    vu_rig_check_tx(r, f, frame, vu_rig_frame(frame, sizeof(frame), 1));
    vu_rig_check_rx(r, f, frame, vu_rig_frame(frame, sizeof(frame), 2));
}

unsigned vu_rig_log_lines(VuRig *r)
{
    g_autofree char *log = NULL;
    unsigned n = 0;

    g_assert_true(g_file_get_contents(r->h->log, &log, NULL, NULL));
    for (const char *p = log; *p; p++) {
        n += *p == '\n';
    }
    return n;
}

char *vu_rig_log_since(VuRig *r, unsigned from)
{
    g_autofree char *log = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(r->h->log, &log, NULL, NULL));
    p = log;
    for (unsigned n = 0; n < from && (p = strchr(p, '\n')); n++) {
        p++;
    }
    return g_strdup(p ? p : "");
}

void vu_rig_check_no_fd_leak(VuRig *r)
{
    int n = 0;

    for (int i = 0; i < 150 && (n = test_count_fds(r->h->pid)) != r->base_fds; i++) {
        g_usleep(20000);
    }
    if (n != r->base_fds) {
        g_autofree char *ls = test_sh_output("ls -l /proc/%d/fd", r->h->pid);

        g_printerr("# netbe-host fds now:\n%s", ls ? ls : "?");
    }
    g_assert_cmpint(n, ==, r->base_fds); /* more: an fd of a gone VMM was not closed */
}

void vu_rig_wait_idle(VuRig *r)
{
    for (int i = 0; i < 150; i++) {
        g_autofree char *status = test_host_ctl(r->h, "status");

        g_assert_nonnull(status); /* netbe-host died or stopped answering its control socket */
        if (strstr(status, "no VMM connected")) {
            return;
        }
        g_usleep(20000);
    }
    g_error("netbe-host still shows a VMM on nic0 3 s after it went away");
}

void vu_rig_check_healthy(VuRig *r)
{
    g_autofree char *status = test_host_ctl(r->h, "status");
    VuFront *f;

    g_assert_nonnull(status); /* netbe-host died or stopped answering its control socket */
    g_assert_nonnull(strstr(status, "nic0"));
    vu_rig_wait_idle(r);
    f = vu_rig_front(r, NULL);
    vu_rig_roundtrip(r, f);
    vu_front_free(f);
    vu_rig_check_no_fd_leak(r);
}
