// SPDX-License-Identifier: GPL-2.0-or-later
/* test-default-conf.c - the shipped configs: every conf/NAME.ini passes --check, and
 * conf/default.ini runs unprivileged and forwards frames between its two guests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../user/guest-frames.h"
#include "host-proc.h"
#include "netns.h"

static char *conf_path(const char *name)
{
    return g_build_filename(test_env_path("NETBE_SOURCE_ROOT"), "conf", name, NULL);
}

/* Fails if a shipped example does not validate. */
static void test_every_shipped_config_checks(void)
{
    g_autofree char *dir = conf_path("");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    int n = 0;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".ini")) {
            g_autofree char *path = conf_path(name);

            g_test_message("checking %s", name);
            g_assert_cmpint(test_sh("'%s' --check -c '%s'", test_env_path("NETBE_HOST"), path), ==,
                            0);
            n++;
        }
    }
    g_assert_cmpint(n, >=, 1);
}

static int udp_socket(int port)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    return fd;
}

static int tcp_connect(int port)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    return fd;
}

/* Read exactly len bytes within 2 s. */
static void read_exact(int fd, void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        g_assert_cmpint(poll(&p, 1, 2000), ==, 1);
        n = read(fd, (char *)buf + off, len - off);
        g_assert_cmpint(n, >, 0);
        off += n;
    }
}

/* Fails if default.ini needs root, or the hub does not join its datagram and stream guests
 * with QEMU's framing (4-byte big-endian length before each frame on the stream). */
static void test_default_config_forwards_unprivileged(void)
{
    g_autofree char *path = conf_path("default.ini");
    g_autofree char *text = NULL;
    TestHost *h;
    uint8_t frame[60], got[64];
    uint32_t be_len;
    int udp, tcp;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    h = test_host_start_as(text, NULL, NULL, "nobody");
    g_assert_nonnull(h);
    udp = udp_socket(10011);  /* guest 1's end */
    tcp = tcp_connect(10002); /* guest 2's end */
    for (size_t i = 0; i < sizeof(frame); i++) {
        frame[i] = i * 7;
    }
    memset(frame, 0xff, 6); /* broadcast destination */
    /* guest 2 -> guest 1; repeat until the listener has taken the connection */
    be_len = htonl(sizeof(frame));
    g_assert_cmpint(write(tcp, &be_len, 4), ==, 4);
    g_assert_cmpint(write(tcp, frame, sizeof(frame)), ==, sizeof(frame));
    {
        struct pollfd p = {.fd = udp, .events = POLLIN};

        g_assert_cmpint(poll(&p, 1, 2000), ==, 1);
        g_assert_cmpint(recv(udp, got, sizeof(got), 0), ==, sizeof(frame));
        g_assert_cmpmem(got, sizeof(frame), frame, sizeof(frame));
    }
    /* guest 1 -> guest 2 */
    {
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons(10001),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

        frame[59] = 0x42;
        g_assert_cmpint(sendto(udp, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)),
                        ==, sizeof(frame));
        read_exact(tcp, &be_len, 4);
        g_assert_cmpuint(ntohl(be_len), ==, sizeof(frame));
        read_exact(tcp, got, sizeof(frame));
        g_assert_cmpmem(got, sizeof(frame), frame, sizeof(frame));
    }
    close(udp);
    close(tcp);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
}

/* Fails if conf/user-nat.ini needs root, or a guest on its datagram socket gets no DHCP
 * offer of 10.0.2.15 from the user netdev behind the hub. */
static void test_user_nat_config_leases_unprivileged(void)
{
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
    g_autofree char *path = conf_path("user-nat.ini");
    g_autofree char *text = NULL;
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(10101), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    uint32_t xid = 0x5eed;
    GByteArray *discover;
    uint8_t buf[2048];
    bool offered = false;
    TestHost *h;
    int guest;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    h = test_host_start_as(text, NULL, NULL, "nobody");
    g_assert_nonnull(h);
    guest = udp_socket(10111);
    discover = gf_dhcp(mac, xid, 1, (struct in_addr){0}, (struct in_addr){0});
    g_assert_cmpint(
        sendto(guest, discover->data, discover->len, 0, (struct sockaddr *)&to, sizeof(to)), ==,
        discover->len);
    g_byte_array_unref(discover);
    for (int i = 0; i < 20 && !offered; i++) {
        struct pollfd p = {.fd = guest, .events = POLLIN};
        GfFrame f;
        ssize_t n;

        if (poll(&p, 1, 200) != 1) {
            continue;
        }
        n = recv(guest, buf, sizeof(buf), 0);
        offered = n > 0 && gf_parse(&f, buf, n) && f.sport == 67 && gf_dhcp_xid(&f) == xid &&
                  gf_dhcp_type(&f) == 2 && gf_dhcp_yiaddr(&f).s_addr == htonl(0x0a00020f);
    }
    close(guest);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
    g_assert_true(offered);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/every-shipped-config-checks", test_every_shipped_config_checks);
    g_test_add_func("/conf/default-forwards-unprivileged",
                    test_default_config_forwards_unprivileged);
    g_test_add_func("/conf/user-nat-leases-unprivileged", test_user_nat_config_leases_unprivileged);
    return g_test_run();
}
