// SPDX-License-Identifier: GPL-2.0-or-later
/* test-hub-gso.c - a hub of TAPs speaks a vnet header on every port when all can, so TCP
 * segments of up to 64 KiB (GSO) cross it whole; with one port that cannot, frames stay at
 * the MTU. Needs root (TAP devices, namespaces). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"

#define TRANSFER_BYTES (32u << 20)

typedef struct Receiver {
    const char *ns;
    int listen_fd;
    size_t got;
} Receiver;

static gpointer receive_all(gpointer data)
{
    Receiver *r = data;
    int saved = test_netns_enter(r->ns);
    int fd = accept(r->listen_fd, NULL, NULL);
    static char buf[1 << 16];
    ssize_t n;

    while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
        r->got += n;
    }
    if (fd >= 0) {
        close(fd);
    }
    test_netns_leave(saved);
    return NULL;
}

/* Send TRANSFER_BYTES over TCP from @ns1 (10.78.0.1) to @ns2 (10.78.0.2). Return: MB/s. */
static double tcp_transfer(const char *ns1, const char *ns2)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5201)};
    Receiver r = {ns2, -1, 0};
    static char buf[1 << 16];
    GThread *t;
    gint64 t0;
    int saved, fd, one = 1;
    size_t sent = 0;

    saved = test_netns_enter(ns2);
    r.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(r.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    g_assert_cmpint(bind(r.listen_fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(r.listen_fd, 1), ==, 0);
    test_netns_leave(saved);
    t = g_thread_new("receiver", receive_all, &r);
    saved = test_netns_enter(ns1);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, "10.78.0.2", &a.sin_addr);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    t0 = g_get_monotonic_time();
    while (sent < TRANSFER_BYTES) {
        ssize_t n = write(fd, buf, MIN(sizeof(buf), TRANSFER_BYTES - sent));

        g_assert_cmpint(n, >, 0);
        sent += n;
    }
    close(fd);
    test_netns_leave(saved);
    g_thread_join(t);
    close(r.listen_fd);
    g_assert_cmpuint(r.got, ==, TRANSFER_BYTES);
    return TRANSFER_BYTES / 1e6 / ((g_get_monotonic_time() - t0) / 1e6);
}

/* Average frame size netbe read from netdev @id, from its JSON counters. */
static double average_frame(TestHost *h, const char *id)
{
    g_autofree char *json = test_host_ctl(h, "stats --json");
    g_autofree char *key = g_strdup_printf("\"netdev\":\"%s\",\"queue\":0,", id);
    const char *p = json ? strstr(json, key) : NULL;
    unsigned long long frames = 0, bytes = 0;
    const char *f, *b;

    g_assert_nonnull(p);
    f = strstr(p, "\"rx_frames\":");
    b = strstr(p, "\"rx_bytes\":");
    g_assert_true(f && b);
    sscanf(f, "\"rx_frames\":%llu", &frames);
    sscanf(b, "\"rx_bytes\":%llu", &bytes);
    g_assert_cmpuint(frames, >, 0);
    return (double)bytes / frames;
}

/* Run the transfer through a hub of two TAPs (@b_vnet: vnet_hdr of the second). */
static double run_hub(const char *b_vnet, double *avg)
{
    g_autofree char *ns1 = test_netns_create("gso1"), *ns2 = test_netns_create("gso2");
    g_autofree char *ta = g_strdup_printf("nbg%da", (int)getpid() % 100000);
    g_autofree char *tb = g_strdup_printf("nbg%db", (int)getpid() % 100000);
    g_autofree char *conf = g_strdup_printf("[netdev.a]\ntype = tap\nifname = %s\n"
                                            "[netdev.b]\ntype = tap\nifname = %s\nvnet_hdr = %s\n"
                                            "[hub.h]\nports = a, b\n",
                                            ta, tb, b_vnet);
    TestHost *h = test_host_start(conf, NULL, NULL);
    double mbps;

    g_assert_nonnull(h);
    g_assert_cmpint(test_sh("ip link set %s netns %s && ip link set %s netns %s && "
                            "ip -n %s addr add 10.78.0.1/24 dev %s && ip -n %s link set %s up && "
                            "ip -n %s addr add 10.78.0.2/24 dev %s && ip -n %s link set %s up",
                            ta, ns1, tb, ns2, ns1, ta, ns1, ta, ns2, tb, ns2, tb),
                    ==, 0);
    mbps = tcp_transfer(ns1, ns2);
    *avg = average_frame(h, "a");
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
    test_netns_delete(ns1);
    test_netns_delete(ns2);
    return mbps;
}

/* Fails if the hub does not negotiate the header (frames would stay at MTU size), or
 * negotiates it with a port that cannot take it (the transfer would break). */
static void test_gso_frames_cross_a_tap_hub_whole(void)
{
    double avg_on, avg_off, mbps_on, mbps_off;

    if (!test_need_root_net()) {
        return;
    }
    mbps_on = run_hub("auto", &avg_on);
    mbps_off = run_hub("off", &avg_off);
    g_test_message("every port with a vnet header: %.0f MB/s, %.0f bytes per frame; one "
                   "without: %.0f MB/s, %.0f bytes per frame",
                   mbps_on, avg_on, mbps_off, avg_off);
    g_assert_cmpfloat(avg_on, >, 3000); /* GSO segments, not MTU frames */
    g_assert_cmpfloat(avg_off, <=, 1514 + 12);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hub/gso-frames-cross-a-tap-hub-whole", test_gso_frames_cross_a_tap_hub_whole);
    return g_test_run();
}
