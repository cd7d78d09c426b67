// SPDX-License-Identifier: GPL-2.0-or-later
/* netns.c - test helpers: network namespaces, commands, skipping without root. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netns.h"

bool test_need_root_net(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root (CAP_NET_ADMIN) for TAP devices and namespaces");
        return false;
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        g_test_skip("needs /dev/net/tun");
        return false;
    }
    if (system("ip -V >/dev/null 2>&1") != 0) {
        g_test_skip("needs the ip tool (iproute2)");
        return false;
    }
    return true;
}

static int vsh(char **out, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);
static int vsh(char **out, const char *fmt, va_list ap)
{
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    g_autoptr(GError) err = NULL;
    int status = -1;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                      out, NULL, &status, &err)) {
        g_printerr("# cannot run '%s': %s\n", cmd, err->message);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int test_sh(const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vsh(NULL, fmt, ap);
    va_end(ap);
    return rc;
}

char *test_sh_output(const char *fmt, ...)
{
    char *out = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vsh(&out, fmt, ap);
    va_end(ap);
    if (rc != 0) {
        g_free(out);
        return NULL;
    }
    return out;
}

char *test_netns_create(const char *prefix)
{
    static int counter;
    char *name = g_strdup_printf("nbt-%s-%d-%d", prefix, (int)getpid(), counter++);

    test_sh("ip netns del %s 2>/dev/null", name);
    g_assert_cmpint(test_sh("ip netns add %s", name), ==, 0);
    g_assert_cmpint(test_sh("ip -n %s link set lo up", name), ==, 0);
    return name;
}

void test_netns_delete(const char *name)
{
    if (name) {
        test_sh("ip netns del %s", name);
    }
}

int test_netns_enter(const char *name)
{
    g_autofree char *path = g_strdup_printf("/var/run/netns/%s", name);
    int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (saved < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        if (saved >= 0) {
            close(saved);
        }
        saved = -1;
    }
    if (fd >= 0) {
        close(fd);
    }
    return saved;
}

void test_netns_leave(int saved_fd)
{
    if (saved_fd >= 0) {
        g_assert_cmpint(setns(saved_fd, CLONE_NEWNET), ==, 0);
        close(saved_fd);
    }
}

int test_packet_socket(const char *ns, const char *ifname, uint16_t ethertype)
{
    int saved = ns ? test_netns_enter(ns) : -1;
    struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ethertype)};
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* 0: nothing until bind() */

    g_assert_true(!ns || saved >= 0);
    a.sll_ifindex = (int)if_nametoindex(ifname);
    test_netns_leave(saved);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(a.sll_ifindex, >, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    return fd;
}

int test_packet_sender(const char *ns, const char *ifname, bool vnet_hdr)
{
    int fd = test_packet_socket(ns, ifname, 0), one = 1; /* ethertype 0: receives nothing */

    if (vnet_hdr) {
        g_assert_cmpint(setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), ==, 0);
    }
    return fd;
}

int test_count_fds(int pid)
{
    g_autofree char *path = pid ? g_strdup_printf("/proc/%d/fd", pid) : g_strdup("/proc/self/fd");
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    int n = 0;

    while (d && g_dir_read_name(d)) {
        n++;
    }
    return pid ? n : n - 1; /* our own listing holds one fd */
}
