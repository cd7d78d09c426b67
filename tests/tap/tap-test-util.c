// SPDX-License-Identifier: GPL-2.0-or-later
/* tap-test-util.c - helpers for the tap tests: names, namespaces, counters, host with fds. */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "netns.h"
#include "tap-test-util.h"

char *tap_test_ifname(const char *tag)
{
    char *name = g_strdup_printf("nbt%d%s", (int)getpid(), tag);

    g_assert_cmpuint(strlen(name), <, IFNAMSIZ);
    return name;
}

int tap_test_open_tap(const char *ifname, bool vnet_hdr, bool multi_queue)
{
    struct ifreq ifr = {0};
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        return -1;
    }
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    ifr.ifr_flags =
        IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0) | (multi_queue ? IFF_MULTI_QUEUE : 0);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void tap_test_move(const char *ifname, const char *ns, const char *mac, const char *cidr)
{
    g_assert_cmpint(test_sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                            "net.ipv6.conf.default.disable_ipv6=1",
                            ns),
                    ==, 0);
    g_assert_cmpint(test_sh("ip link set %s netns %s", ifname, ns), ==, 0);
    if (mac) {
        g_assert_cmpint(test_sh("ip -n %s link set %s address %s", ns, ifname, mac), ==, 0);
    }
    if (cidr) {
        g_assert_cmpint(test_sh("ip -n %s addr add %s dev %s", ns, cidr, ifname), ==, 0);
    }
    g_assert_cmpint(test_sh("ip -n %s link set %s up", ns, ifname), ==, 0);
}

int64_t tap_test_kernel_counter(const char *ns, const char *ifname, const char *counter)
{
    g_autofree char *out =
        test_sh_output("ip netns exec %s cat /sys/class/net/%s/statistics/%s", ns, ifname, counter);

    return out ? g_ascii_strtoll(out, NULL, 10) : -1;
}

/* The JSON object of @netdev's queue @queue in @json, copied; NULL if absent. */
static char *stats_object(const char *json, const char *netdev, unsigned queue)
{
    g_autofree char *needle = g_strdup_printf("{\"netdev\":\"%s\",\"queue\":%u,", netdev, queue);
    const char *start = strstr(json, needle);
    const char *end = start ? strchr(start, '}') : NULL;

    return end ? g_strndup(start, end - start + 1) : NULL;
}

static int64_t object_key(const char *obj, const char *key)
{
    g_autofree char *needle = g_strdup_printf("\"%s\":", key);
    const char *p = strstr(obj, needle);

    return p ? g_ascii_strtoll(p + strlen(needle), NULL, 10) : -1;
}

int64_t tap_test_stats(const char *json, const char *netdev, int queue, const char *key)
{
    int64_t sum = 0;

    if (queue >= 0) {
        g_autofree char *obj = stats_object(json, netdev, (unsigned)queue);

        return obj ? object_key(obj, key) : -1;
    }
    for (unsigned q = 0;; q++) {
        g_autofree char *obj = stats_object(json, netdev, q);

        if (!obj) {
            return q ? sum : -1;
        }
        sum += object_key(obj, key);
    }
}

unsigned tap_test_stats_queues(const char *json, const char *netdev)
{
    unsigned q = 0;

    for (;; q++) {
        g_autofree char *obj = stats_object(json, netdev, q);

        if (!obj) {
            return q;
        }
    }
}

/* @wrapper followed by @args: a new NULL-terminated vector (strings not copied). */
static const char **argv_join(const char *const *wrapper, const char *const *args)
{
    GPtrArray *v = g_ptr_array_new();

    for (int i = 0; wrapper && wrapper[i]; i++) {
        g_ptr_array_add(v, (gpointer)wrapper[i]);
    }
    for (int i = 0; args[i]; i++) {
        g_ptr_array_add(v, (gpointer)args[i]);
    }
    g_ptr_array_add(v, NULL);
    return (const char **)g_ptr_array_free(v, false);
}

int tap_test_host_run(const char *config_path, const char *const *wrapper, char **err_out)
{
    const char *args[] = {"timeout", "10", test_env_path("NETBE_HOST"), "-c", config_path, NULL};
    g_autofree const char **argv = argv_join(wrapper, args);
    g_autoptr(GError) err = NULL;
    int status = -1;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, err_out, &status, &err)) {
        g_printerr("# cannot run netbe-host: %s\n", err->message);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Spawn netbe-host (see tap_test_host_start_fds) and wait until it serves, or until
 * @wait_path exists when it is not NULL. */
static TestHost *host_spawn(const char *config_text, const char *const *wrapper, const int *fds,
                            const int *targets, int nfds, const char *const *extra,
                            const char *wait_path)
{
    TestHost *h = g_new0(TestHost, 1);
    g_autoptr(GError) err = NULL;
    const char *args[] = {test_env_path("NETBE_HOST"), "-c", NULL, "--control", NULL, NULL};
    g_autofree const char **base = NULL;
    g_autofree const char **argv = NULL;
    int log_fd;

    h->pid = -1;
    h->dir = g_dir_make_tmp("netbe-tap-XXXXXX", &err);
    g_assert_no_error(err);
    h->config = g_build_filename(h->dir, "netbe.ini", NULL);
    h->control = g_build_filename(h->dir, "control.sock", NULL);
    h->log = g_build_filename(h->dir, "host.log", NULL);
    g_assert_true(g_file_set_contents(h->config, config_text, -1, NULL));
    args[2] = h->config;
    args[4] = h->control;
    base = argv_join(wrapper, args);
    argv = argv_join(base, extra ? extra : (const char *const[]){NULL});
    log_fd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(log_fd, >=, 0);
    if (!g_spawn_async_with_pipes_and_fds(
            NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, NULL, NULL, -1, -1,
            log_fd, fds, targets, (gsize)nfds, &h->pid, NULL, NULL, NULL, &err)) {
        g_printerr("# cannot start netbe-host: %s\n", err->message);
        close(log_fd);
        test_host_free(h);
        return NULL;
    }
    close(log_fd);
    for (int i = 0; i < 500; i++) {
        g_autofree char *out = NULL;
        g_autofree char *log = NULL;
        int status;

        if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
            h->pid = -1;
            g_file_get_contents(h->log, &log, NULL, NULL);
            g_printerr("# netbe-host exited early (status %d): %s\n", status, log ? log : "");
            test_host_free(h);
            return NULL;
        }
        if (wait_path ? g_file_test(wait_path, G_FILE_TEST_EXISTS)
                      : g_file_test(h->control, G_FILE_TEST_EXISTS) &&
                            (out = test_host_ctl(h, "status"))) {
            return h;
        }
        g_usleep(20000);
    }
    g_printerr("# netbe-host did not come up within 10 s\n");
    test_host_free(h);
    return NULL;
}

TestHost *tap_test_host_start_fds(const char *config_text, const char *const *wrapper,
                                  const int *fds, const int *targets, int nfds)
{
    return host_spawn(config_text, wrapper, fds, targets, nfds, NULL, NULL);
}

TestHost *tap_test_host_incoming(const char *config_text, const char *path)
{
    const char *const extra[] = {"--incoming", path, NULL};

    return host_spawn(config_text, NULL, NULL, NULL, 0, extra, path);
}
