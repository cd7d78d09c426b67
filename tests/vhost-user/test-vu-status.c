// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vu-status.c - what netbe-ctl status says of a vhost-user device: the connected VMM's
 * pid (SO_PEERCRED), the negotiated features, the queue pairs running, the link; and that it
 * says so again once the VMM has gone. */
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "netbe/virtio-net.h"
#include "vu-rig.h"

/* `status --json` holds @field (a JSON fragment such as "\"vmm_pid\":null"). */
static void assert_status_has(VuRig *r, const char *field)
{
    g_autofree char *out = test_host_ctl(r->h, "status --json");

    if (!strstr(out, field)) {
        g_error("status --json lacks %s: %s", field, out);
    }
}

/* Fails if the VMM's pid, features, pairs or link are missing, wrong, or left behind after
 * the VMM went away. */
static void test_status_shows_the_vmm(void)
{
    VuRig *r = vu_rig_new(NULL);
    g_autofree char *sock =
        g_strdup_printf("\"transport\":\"vhost-user\",\"socket\":\"%s\"", r->sock);
    g_autofree char *pid = g_strdup_printf("\"vmm_pid\":%d,", (int)getpid());
    g_autofree char *features = NULL;
    g_autofree char *text = NULL;
    VuFront *f;

    assert_status_has(r, sock);
    assert_status_has(r, "\"vmm_pid\":null");
    assert_status_has(r, "\"queue_pairs\":0");

    f = vu_rig_front(r, NULL);
    vu_rig_roundtrip(r, f);
    features = g_strdup_printf("\"features\":\"0x%016" PRIx64 "\"", f->features);
    assert_status_has(r, pid);
    assert_status_has(r, features);
    assert_status_has(r, "\"queue_pairs\":1,\"link\":\"up\"");
    assert_status_has(r, "\"state\":\"started\"");
    assert_status_has(r, "\"rings\":[{\"vring\":0,");
    assert_status_has(r, "{\"vring\":1,");
    assert_status_has(r, "\"broken\":false}]");
    text = test_host_ctl(r->h, "status");
    g_assert_nonnull(strstr(text, "VMM pid"));
    g_assert_nonnull(strstr(text, "1 queue pair running, link up"));
    g_assert_nonnull(strstr(text, "    vring 1: "));

    vu_front_free(f);
    vu_rig_wait_idle(r);
    assert_status_has(r, "\"vmm_pid\":null");
    assert_status_has(r, "\"queue_pairs\":0");
    assert_status_has(r, "\"rings\":[]");
    vu_rig_free(r);
}

/* A control connection to @r's host that subscribed to events. */
static int subscriber(VuRig *r)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    const char req[] = "{\"id\":1,\"command\":\"subscribe\"}\n";
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[256];
    ssize_t n;

    g_strlcpy(addr.sun_path, r->h->control, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(send(fd, req, strlen(req), MSG_NOSIGNAL), ==, (ssize_t)strlen(req));
    n = recv(fd, buf, sizeof(buf) - 1, 0); /* the reply: nothing else can come before it */
    g_assert_cmpint(n, >, 0);
    buf[n] = '\0';
    g_assert_cmpstr(buf, ==, "{\"id\":1,\"return\":{}}\n");
    return fd;
}

/* Read from @fd until @text has come (10 s at most); Return: all read so far. */
static GString *read_until(int fd, GString *got, const char *text)
{
    gint64 end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;

    while (!strstr(got->str, text)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char buf[4096];
        ssize_t n;

        if (poll(&p, 1, (end - g_get_monotonic_time()) / 1000) != 1 ||
            (n = recv(fd, buf, sizeof(buf), 0)) <= 0) {
            g_error("no '%s' among the events: %s", text, got->str);
        }
        g_string_append_len(got, buf, n);
    }
    return got;
}

/* Fails if a subscriber does not hear vmm-attached with the VMM's pid when it connects, then
 * vmm-detached when it goes, in that order. */
static void test_vmm_events(void)
{
    VuRig *r = vu_rig_new(NULL);
    int fd = subscriber(r);
    g_autoptr(GString) got = g_string_new(NULL);
    g_autofree char *attached = g_strdup_printf(
        "{\"event\":\"vmm-attached\",\"data\":{\"device\":\"nic0\",\"pid\":%d}", (int)getpid());
    g_autofree char *detached = g_strdup_printf(
        "{\"event\":\"vmm-detached\",\"data\":{\"device\":\"nic0\",\"pid\":%d,", (int)getpid());
    VuFront *f = vu_rig_front(r, NULL);

    vu_rig_roundtrip(r, f);
    read_until(fd, got, attached);
    vu_front_free(f);
    read_until(fd, got, detached);
    g_assert_true(strstr(got->str, attached) < strstr(got->str, detached));
    close(fd);
    vu_rig_free(r);
}

/* The config status field as the VMM reads it (GET_CONFIG). */
static uint16_t config_status(VuFront *f)
{
    g_autoptr(GError) err = NULL;
    uint8_t st[2] = {0};

    g_assert_true(vu_front_get_config(f, NETBE_VIRTIO_NET_CFG_STATUS, st, sizeof(st), &err));
    g_assert_no_error(err);
    return (uint16_t)(st[0] | st[1] << 8);
}

/* `link nic0 down` / `up` through the control socket: the VMM's GET_CONFIG and status say
 * it, and frames pass again once it is up. Fails if the config space keeps the old state
 * or the device stays broken after the link came back. */
static void test_link_shows_in_config_space(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    g_autofree char *out = NULL;

    vu_rig_roundtrip(r, f);
    g_assert_true(config_status(f) & NETBE_VIRTIO_NET_S_LINK_UP);
    out = test_host_ctl(r->h, "link nic0 down");
    g_assert_nonnull(out);
    g_assert_false(config_status(f) & NETBE_VIRTIO_NET_S_LINK_UP);
    assert_status_has(r, "\"link\":\"down\"");
    out = (g_free(out), test_host_ctl(r->h, "link nic0 up"));
    g_assert_nonnull(out);
    g_assert_true(config_status(f) & NETBE_VIRTIO_NET_S_LINK_UP);
    vu_rig_roundtrip(r, f);
    vu_front_free(f);
    vu_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vhost-user/status-shows-the-vmm", test_status_shows_the_vmm);
    g_test_add_func("/vhost-user/link-shows-in-config-space", test_link_shows_in_config_space);
    g_test_add_func("/vhost-user/vmm-attached-detached-events", test_vmm_events);
    return g_test_run();
}
