// SPDX-License-Identifier: GPL-2.0-or-later
/* test-tap-fd.c - inherited fds, persistent TAPs, wrong fds and missing CAP_NET_ADMIN. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "tap-harness.h"
#include "tap-test-util.h"

/* The config error for [netdev.t] with @body, or NULL if the config loaded. */
static char *config_error(const char *body)
{
    g_autofree char *config = g_strdup_printf("[netdev.t]\ntype = tap\n%s", body);
    g_autoptr(GError) err = NULL;
    TapHarness *h = tap_harness_new(config, "t", &err);

    tap_harness_free(h);
    return err ? g_strdup(err->message) : NULL;
}

static void assert_contains(const char *text, const char *needle)
{
    if (!text || !strstr(text, needle)) {
        g_printerr("# expected '%s' in: %s\n", needle, text ? text : "(nothing)");
        g_assert_not_reached();
    }
}

/*
 * libvirt style: the test opens a single-queue TAP (with IFF_VNET_HDR) and a 4-queue
 * TAP itself, netbe-host inherits them as fd=5 and fds=6:7:8:9 and the test closes its
 * copies. A ping between the namespaces must work and the counters agree. Fails if the
 * plugin does not adopt the fds (connect error), opens a device of its own (wrong
 * queue count), or mishandles the fd's existing vnet header.
 */
static void test_inherited_fds_carry_traffic(void)
{
    g_autofree char *ifa = tap_test_ifname("fa");
    g_autofree char *ifb = tap_test_ifname("fb");
    g_autofree char *ns_a = NULL, *ns_b = NULL, *stats = NULL;
    static const char config[] = "[netdev.a]\ntype = tap\nfd = 5\n"
                                 "[netdev.b]\ntype = tap\nfds = 6:7:8:9\nvnet_hdr = off\n"
                                 "[hub.h]\nports = a, b\n";
    const int targets[] = {5, 6, 7, 8, 9};
    int fds[5];
    TestHost *h;

    if (!test_need_root_net()) {
        return;
    }
    fds[0] = tap_test_open_tap(ifa, true, false);
    g_assert_cmpint(fds[0], >=, 0);
    for (int i = 1; i < 5; i++) {
        fds[i] = tap_test_open_tap(ifb, true, true);
        g_assert_cmpint(fds[i], >=, 0);
    }
    h = tap_test_host_start_fds(config, NULL, fds, targets, 5);
    for (int i = 0; i < 5; i++) {
        close(fds[i]);
    }
    g_assert_nonnull(h);
    ns_a = test_netns_create("fda");
    ns_b = test_netns_create("fdb");
    tap_test_move(ifa, ns_a, NULL, "10.98.0.1/24");
    tap_test_move(ifb, ns_b, NULL, "10.98.0.2/24");
    g_assert_cmpint(test_sh("ip netns exec %s ping -c 3 -i 0.2 -W 2 -q 10.98.0.2", ns_a), ==, 0);

    stats = test_host_ctl(h, "stats --json");
    g_assert_nonnull(stats);
    g_assert_cmpuint(tap_test_stats_queues(stats, "b"), ==, 4);
    g_assert_cmpint(tap_test_stats(stats, "a", -1, "rx_frames"), >=, 4);
    g_assert_cmpint(tap_test_stats(stats, "a", -1, "rx_frames"), ==,
                    tap_test_stats(stats, "b", -1, "tx_frames"));
    g_assert_cmpint(tap_test_stats(stats, "b", -1, "rx_frames"), ==,
                    tap_test_stats(stats, "a", -1, "tx_frames"));
    g_assert_cmpint(tap_test_kernel_counter(ns_a, ifa, "tx_packets"), ==,
                    tap_test_stats(stats, "a", -1, "rx_frames"));
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
    /* netbe-host held the last fds: the TAPs are gone with it */
    g_assert_cmpint(test_sh("ip -n %s link show %s >/dev/null 2>&1", ns_a, ifa), !=, 0);
    test_netns_delete(ns_a);
    test_netns_delete(ns_b);
}

/*
 * After connect the backend owns an inherited fd: freeing the runtime closes it. Fails
 * if the plugin leaks adopted fds (or closes them before it is done).
 */
static void test_adopted_fd_closed_on_cleanup(void)
{
    g_autofree char *ifname = tap_test_ifname("o");
    g_autofree char *config = NULL;
    g_autoptr(GError) err = NULL;
    int keep, given;
    TapHarness *h;

    if (!test_need_root_net()) {
        return;
    }
    keep = tap_test_open_tap(ifname, false, false);
    g_assert_cmpint(keep, >=, 0);
    given = dup(keep);
    config = g_strdup_printf("[netdev.t]\ntype = tap\nfd = %d\n", given);
    h = tap_harness_new(config, "t", &err);
    g_assert_no_error(err);
    g_assert_true(h->be->connected);
    g_assert_cmpint(fcntl(given, F_GETFL) & O_NONBLOCK, !=, 0);
    tap_harness_free(h);
    g_assert_cmpint(fcntl(given, F_GETFD), ==, -1);
    g_assert_cmpint(fcntl(keep, F_GETFD), >=, 0);
    close(keep);
}

/*
 * A persistent TAP made by "ip tuntap add" is attached, carries frames both ways, and
 * outlives the backend. Fails if the plugin cannot attach to an existing device, or
 * deletes it (TUNSETPERSIST) on cleanup.
 */
static void test_persistent_tap_attached(void)
{
    g_autofree char *ifname = tap_test_ifname("p");
    g_autofree char *config = NULL;
    g_autofree char *ns = NULL;
    g_autoptr(GError) err = NULL;
    static const uint8_t frame[60] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2,
        0,    0,    0,    0,    9,    0x88, 0xb5}; /* broadcast, local experimental type */
    TapHarness *h;

    if (!test_need_root_net()) {
        return;
    }
    ns = test_netns_create("pers");
    g_assert_cmpint(test_sh("ip tuntap add dev %s mode tap", ifname), ==, 0);
    tap_test_move(ifname, ns, NULL, "10.97.0.1/24");
    /* the device lives in ns: the backend must be created there too */
    int saved = test_netns_enter(ns);
    config = g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\n", ifname);
    h = tap_harness_new(config, "t", &err);
    test_netns_leave(saved);
    g_assert_no_error(err);

    g_assert_cmpint(tap_harness_send(h, 0, frame, sizeof(frame), 1000), ==, sizeof(frame));
    g_assert_cmpint(tap_test_kernel_counter(ns, ifname, "rx_packets"), ==, 1);
    /* an ARP request from the namespace comes out of the backend */
    test_sh("ip netns exec %s ping -c 1 -W 1 10.97.0.2 >/dev/null 2>&1 &", ns);
    g_assert_true(tap_harness_wait_rx(h, 1, 3000));
    tap_harness_free(h);
    g_assert_cmpint(test_sh("ip -n %s link show %s >/dev/null", ns, ifname), ==, 0);
    test_netns_delete(ns);
}

/*
 * Attaching to a persistent multiqueue TAP with the wrong queue count fails with a
 * message that says so, and the right count works. Fails if the plugin reports only
 * "Invalid argument" or attaches anyway.
 */
static void test_persistent_multiqueue_mismatch(void)
{
    g_autofree char *mq = tap_test_ifname("m");
    g_autofree char *sq = tap_test_ifname("s");
    g_autofree char *msg = NULL;
    g_autofree char *expect = NULL;
    g_autofree char *body = NULL;

    if (!test_need_root_net()) {
        return;
    }
    g_assert_cmpint(test_sh("ip tuntap add dev %s mode tap multi_queue", mq), ==, 0);
    g_assert_cmpint(test_sh("ip tuntap add dev %s mode tap", sq), ==, 0);

    body = g_strdup_printf("ifname = %s\n", mq);
    msg = config_error(body);
    expect = g_strdup_printf("netdev 't' (tap): ifname '%s' is multiqueue but queues=1", mq);
    assert_contains(msg, expect);
    g_free(body);
    g_free(msg);
    body = g_strdup_printf("ifname = %s\nqueues = 2\n", mq);
    msg = config_error(body);
    g_assert_null(msg);

    g_free(body);
    g_free(expect);
    body = g_strdup_printf("ifname = %s\nqueues = 2\n", sq);
    msg = config_error(body);
    expect = g_strdup_printf("ifname '%s' is single-queue but queues=2", sq);
    assert_contains(msg, expect);

    test_sh("ip link del %s", mq);
    test_sh("ip link del %s", sq);
}

/*
 * fd= naming something that is not a TAP (a pipe, a regular file, /dev/null, a
 * /dev/net/tun fd without a device) is refused with the fd and what it is; the fd is
 * left open for its owner. Fails if the plugin accepts it (and would later read
 * garbage) or closes an fd it never adopted.
 */
static void test_wrong_fd_refused(void)
{
    g_autofree char *path = NULL;
    int pipefd[2];
    int file, null, tun;
    struct {
        int fd;
        const char *what;
    } cases[4];

    g_assert_cmpint(pipe(pipefd), ==, 0);
    file = g_file_open_tmp("netbe-tap-XXXXXX", &path, NULL);
    g_assert_cmpint(file, >=, 0);
    null = open("/dev/null", O_RDWR);
    tun = open("/dev/net/tun", O_RDWR); /* may fail without root: case skipped */
    cases[0].fd = pipefd[0], cases[0].what = "(it is a pipe)";
    cases[1].fd = file, cases[1].what = "(it is a regular file)";
    cases[2].fd = null, cases[2].what = "(TUNGETIFF: Inappropriate ioctl for device)";
    cases[3].fd = tun, cases[3].what = "(TUNGETIFF: File descriptor in bad state";
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *body = NULL;
        g_autofree char *msg = NULL;
        g_autofree char *expect = NULL;

        if (cases[i].fd < 0) {
            continue;
        }
        body = g_strdup_printf("fd = %d\n", cases[i].fd);
        msg = config_error(body);
        expect = g_strdup_printf("netdev 't' (tap): fd %d is not a TAP device %s", cases[i].fd,
                                 cases[i].what);
        assert_contains(msg, expect);
        g_assert_cmpint(fcntl(cases[i].fd, F_GETFD), >=, 0);
    }
    close(pipefd[0]);
    close(pipefd[1]);
    close(file);
    unlink(path);
    close(null);
    if (tun >= 0) {
        close(tun);
    }
}

/* A config file anyone can read (for netbe-host run as nobody). Caller frees both. */
static char *world_readable_config(const char *text, char **dir)
{
    *dir = g_dir_make_tmp("netbe-tap-XXXXXX", NULL);
    g_assert_nonnull(*dir);
    g_assert_cmpint(chmod(*dir, 0755), ==, 0);
    char *path = g_build_filename(*dir, "netbe.ini", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_assert_cmpint(chmod(path, 0644), ==, 0);
    return path;
}

/*
 * netbe-host without CAP_NET_ADMIN: as root with the capability dropped, creating the
 * TAP fails with EPERM; as an unprivileged user, /dev/net/tun cannot even be opened.
 * Both messages name the netdev, the call and the fix; and the fix works: the same
 * process without the capability runs fine on an inherited fd. Fails if a message is
 * vague (no netdev, no hint) or if fd= needed the capability.
 */
static void test_without_cap_net_admin(void)
{
    g_autofree char *ifname = tap_test_ifname("c");
    g_autofree char *config = NULL, *path = NULL, *dir = NULL;
    g_autofree char *err_nocap = NULL, *err_nobody = NULL, *expect = NULL;
    static const char *const nocap[] = {"setpriv", "--bounding-set=-net_admin",
                                        "--inh-caps=-net_admin", NULL};
    static const char *const nobody[] = {"setpriv", "--reuid=65534", "--regid=65534",
                                         "--clear-groups", NULL};
    const int targets[] = {5};
    TestHost *h;
    int fd;

    if (!test_need_root_net()) {
        return;
    }
    if (test_sh("setpriv --help >/dev/null 2>&1") != 0) {
        g_test_skip("needs setpriv (util-linux)");
        return;
    }
    config = g_strdup_printf("[netdev.t]\ntype = tap\nifname = %s\n", ifname);
    path = world_readable_config(config, &dir);

    g_assert_cmpint(tap_test_host_run(path, nocap, &err_nocap), !=, 0);
    expect = g_strdup_printf("netdev 't' (tap): cannot create TAP device '%s': Operation not "
                             "permitted (need CAP_NET_ADMIN, or pass fd=)",
                             ifname);
    assert_contains(err_nocap, expect);

    g_assert_cmpint(tap_test_host_run(path, nobody, &err_nobody), !=, 0);
    assert_contains(err_nobody, "netdev 't' (tap): cannot open /dev/net/tun: Permission denied "
                                "(need CAP_NET_ADMIN, or pass fd=)");
    g_assert_cmpint(test_sh("ip link show %s >/dev/null 2>&1", ifname), !=, 0);

    /* the fix the message offers: an fd opened by a privileged parent */
    fd = tap_test_open_tap(ifname, true, false);
    g_assert_cmpint(fd, >=, 0);
    h = tap_test_host_start_fds("[netdev.t]\ntype = tap\nfd = 5\n", nocap, &fd, targets, 1);
    close(fd);
    g_assert_nonnull(h);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);

    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tap/fd/inherited-fds-carry-traffic", test_inherited_fds_carry_traffic);
    g_test_add_func("/tap/fd/adopted-fd-closed-on-cleanup", test_adopted_fd_closed_on_cleanup);
    g_test_add_func("/tap/fd/persistent-tap-attached", test_persistent_tap_attached);
    g_test_add_func("/tap/fd/persistent-multiqueue-mismatch", test_persistent_multiqueue_mismatch);
    g_test_add_func("/tap/fd/wrong-fd-refused", test_wrong_fd_refused);
    g_test_add_func("/tap/fd/without-cap-net-admin", test_without_cap_net_admin);
    return g_test_run();
}
