// SPDX-License-Identifier: GPL-2.0-or-later
/* test-sandbox.c - netbe-host --user and its seccomp sandbox: the main scenarios (socket hub,
 * TAP hub, user NAT, live handover) run confined, with the credentials, capabilities and
 * filter read back from /proc; a forbidden syscall is refused and the host lives on. */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "../tap/tap-test-util.h"
#include "../user/guest-frames.h"
#include "host-proc.h"
#include "netns.h"
#include "plugin-dir.h"
#include "sock-test.h"

#define CAP_BIT(n) (UINT64_C(1) << (n))
#define CAP_NET_BIND_SERVICE_BIT CAP_BIT(10)
#define CAP_NET_ADMIN_BIT CAP_BIT(12)
#define FRAME_LEN 60

/* Remember @h (or forget slot @slot with NULL) for test_pid_track(). Return: @h. */
static TestHost *track(unsigned slot, TestHost *h)
{
    test_pid_track(slot, h ? h->pid : 0);
    return h;
}

/* Forget slot @slot and free @h. */
static void host_free(unsigned slot, TestHost *h)
{
    track(slot, NULL);
    test_host_free(h);
}

/* True when the tests run as root: then every host drops to nobody with --user. */
static bool as_root(void)
{
    return geteuid() == 0;
}

/* A private directory others may enter (a host dropped to nobody writes and sends there). */
static char *open_dir_new(void)
{
    char *dir = st_tmpdir_new();

    g_assert_cmpint(chmod(dir, 0755), ==, 0);
    return dir;
}

/* netbe-host's arguments: --user nobody when we are root, then @more (NULL-terminated). */
static const char **host_args(const char *const *more)
{
    GPtrArray *a = g_ptr_array_new();

    if (as_root()) {
        g_ptr_array_add(a, "--user");
        g_ptr_array_add(a, "nobody");
    }
    for (int i = 0; more && more[i]; i++) {
        g_ptr_array_add(a, (gpointer)more[i]);
    }
    g_ptr_array_add(a, NULL);
    return (const char **)g_ptr_array_free(a, false);
}

/* The value of @key in /proc/@pid/@file ("status" or "task/N/status"), NULL if absent. */
static char *proc_value(int pid, const char *file, const char *key)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", pid, file);
    g_autofree char *text = NULL;
    g_autofree char *want = g_strdup_printf("\n%s:", key);
    const char *p, *end;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strstr(text, want))) {
        return NULL;
    }
    p += strlen(want);
    end = strchr(p, '\n');
    return g_strstrip(g_strndup(p, end ? (size_t)(end - p) : strlen(p)));
}

static uint64_t proc_caps(int pid, const char *key)
{
    g_autofree char *v = proc_value(pid, "status", key);

    g_assert_nonnull(v);
    return g_ascii_strtoull(v, NULL, 16);
}

/* Every thread of @pid has seccomp mode @mode (2: filter, 0: none). */
static void assert_seccomp_every_thread(int pid, const char *mode)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *tid;
    unsigned threads = 0;

    g_assert_nonnull(d);
    while ((tid = g_dir_read_name(d))) {
        g_autofree char *file = g_strdup_printf("task/%s/status", tid);
        g_autofree char *v = proc_value(pid, file, "Seccomp");

        g_assert_cmpstr(v, ==, mode);
        threads++;
    }
    g_test_message("pid %d: %u threads, Seccomp %s in each", pid, threads, mode);
    g_assert_cmpuint(threads, >=, 1);
}

/*
 * assert_confined() - what /proc says of a running host: the seccomp filter on every thread;
 * as root, also user nobody with its group and no other, no_new_privs, and exactly @caps
 * as effective, permitted and bounding sets (inheritable and ambient empty).
 */
static void assert_confined(TestHost *h, uint64_t caps)
{
    assert_seccomp_every_thread(h->pid, "2");
    if (as_root()) {
        struct passwd *pw = getpwnam("nobody");
        g_autofree char *uids =
            g_strdup_printf("%u\t%u\t%u\t%u", pw->pw_uid, pw->pw_uid, pw->pw_uid, pw->pw_uid);
        g_autofree char *gids =
            g_strdup_printf("%u\t%u\t%u\t%u", pw->pw_gid, pw->pw_gid, pw->pw_gid, pw->pw_gid);
        g_autofree char *uid = proc_value(h->pid, "status", "Uid");
        g_autofree char *gid = proc_value(h->pid, "status", "Gid");
        g_autofree char *groups = proc_value(h->pid, "status", "Groups");
        g_autofree char *nnp = proc_value(h->pid, "status", "NoNewPrivs");

        g_assert_cmpstr(uid, ==, uids);
        g_assert_cmpstr(gid, ==, gids);
        g_assert_cmpstr(groups, ==, "");
        g_assert_cmpstr(nnp, ==, "1");
        g_assert_cmphex(proc_caps(h->pid, "CapEff"), ==, caps);
        g_assert_cmphex(proc_caps(h->pid, "CapPrm"), ==, caps);
        g_assert_cmphex(proc_caps(h->pid, "CapBnd"), ==, caps);
        g_assert_cmphex(proc_caps(h->pid, "CapInh"), ==, 0);
        g_assert_cmphex(proc_caps(h->pid, "CapAmb"), ==, 0);
    }
}

/* @h's log (caller frees). */
static char *host_log(TestHost *h)
{
    char *log = NULL;

    g_assert_true(g_file_get_contents(h->log, &log, NULL, NULL));
    return log;
}

/* Fails if @h's log says the filter refused a syscall (none is expected). */
static void assert_nothing_refused(TestHost *h)
{
    g_autofree char *log = host_log(h);

    g_assert_null(strstr(log, "refused syscall"));
}

/* Wait up to 5 s for @text in file @path. */
static bool wait_file_has(const char *path, const char *text)
{
    for (int i = 0; i < 250; i++) {
        g_autofree char *s = NULL;

        if (g_file_get_contents(path, &s, NULL, NULL) && strstr(s, text)) {
            return true;
        }
        g_usleep(20000);
    }
    return false;
}

/* A unix datagram socket bound at @path that a host dropped to nobody may send to. */
static int guest_dgram(const char *path)
{
    int fd = st_unix_dgram_bind(path);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(chmod(path, 0666), ==, 0);
    return fd;
}

static void send_dgram(int fd, const char *path, const void *buf, size_t len)
{
    struct sockaddr_un to = {.sun_family = AF_UNIX};

    g_strlcpy(to.sun_path, path, sizeof(to.sun_path));
    g_assert_cmpint(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), ==, len);
}

/* A broadcast frame numbered @seed. */
static void make_frame(uint8_t *frame, unsigned seed)
{
    st_fill(frame, FRAME_LEN, seed);
    memset(frame, 0xff, 6);
}

/* [netdev.s] a unix stream listener at DIR/s.sock and [netdev.d] unix datagrams from
 * DIR/d-host.sock to DIR/d-guest.sock, joined by [hub.lan] (connect = @mode). */
static char *socket_hub_config(const char *dir, const char *mode)
{
    return g_strdup_printf("[runtime]\nqueue_limit = 1024\n"
                           "[netdev.s]\ntype = socket\nlisten = unix:%s/s.sock\n"
                           "[netdev.d]\ntype = socket\nlocal = unix:%s/d-host.sock\n"
                           "remote = unix:%s/d-guest.sock\n"
                           "[hub.lan]\nports = s, d\nconnect = %s\n",
                           dir, dir, dir, mode);
}

/* Frames both ways between the stream guest @s and the datagram guest @d. */
static void assert_hub_forwards(int s, int d, const char *dir, unsigned seed)
{
    g_autofree char *d_host = g_build_filename(dir, "d-host.sock", NULL);
    uint8_t frame[FRAME_LEN], got[2048];

    make_frame(frame, seed);
    g_assert_true(st_write_framed(s, frame, sizeof(frame)));
    g_assert_cmpint(st_recv_dgram(d, got, sizeof(got)), ==, sizeof(frame));
    g_assert_cmpmem(got, sizeof(frame), frame, sizeof(frame));
    make_frame(frame, seed + 1);
    send_dgram(d, d_host, frame, sizeof(frame));
    g_assert_cmpint(st_read_framed(s, got, sizeof(got)), ==, sizeof(frame));
    g_assert_cmpmem(got, sizeof(frame), frame, sizeof(frame));
}

/*
 * Fails if a hub of socket netdevs (a unix stream listener and unix datagrams) stops
 * forwarding once the host runs as nobody under the filter, if the host keeps a
 * capability, a group or its uid, or if the filter is missing on a thread.
 */
static void test_socket_hub_forwards_confined(void)
{
    g_autofree char *dir = open_dir_new();
    g_autofree char *config = socket_hub_config(dir, "immediate");
    g_autofree char *s_path = g_build_filename(dir, "s.sock", NULL);
    g_autofree char *d_path = g_build_filename(dir, "d-guest.sock", NULL);
    g_autofree const char **args = host_args(NULL);
    g_autofree char *log = NULL;
    int d = guest_dgram(d_path);
    TestHost *h = track(0, test_host_start(config, NULL, args));
    int s;

    g_assert_nonnull(h);
    s = st_unix_connect(s_path);
    g_assert_cmpint(s, >=, 0);
    assert_hub_forwards(s, d, dir, 1);
    assert_confined(h, 0);
    log = host_log(h);
    g_assert_nonnull(strstr(log, "sandbox on"));
    g_assert_null(strstr(log, "refused syscall"));
    close(s);
    close(d);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    host_free(0, h);
    st_tmpdir_free(g_steal_pointer(&dir));
}

typedef struct CapsCase {
    const char *backends; /* netdevs and deferred devices added to a running socket hub */
    uint64_t caps;        /* what must be kept */
    const char *names;    /* and what the log says */
} CapsCase;

/*
 * Fails if the host does not keep exactly the capabilities its not-yet-connected backends
 * need (CAP_NET_ADMIN for a TAP it will open by name, CAP_NET_BIND_SERVICE for a listen on
 * port 80, nothing for a TAP whose fd is passed in) in its effective, permitted and
 * bounding sets, or keeps others. Opens nothing: the devices are deferred and netbe-host
 * has no VMM to start them.
 */
static void test_caps_kept_for_deferred_backends(gconstpointer data)
{
    const CapsCase *c = data;
    g_autofree char *dir = open_dir_new();
    g_autofree char *ifname = tap_test_ifname("c");
    g_autofree char *backends = NULL, *config = NULL, *log = NULL;
    g_autofree const char **args = host_args(NULL);
    g_auto(GStrv) parts = NULL;
    TestHost *h;

    if (!as_root()) {
        g_test_skip("needs root: --user and capabilities to keep");
        st_tmpdir_free(g_steal_pointer(&dir));
        return;
    }
    parts = g_strsplit(c->backends, "@IFNAME@", -1);
    backends = g_strjoinv(ifname, parts);
    config = g_strdup_printf("[netdev.s]\ntype = socket\nlisten = unix:%s/s.sock\n"
                             "[hub.lan]\nports = s\n%s",
                             dir, backends);
    h = track(0, test_host_start(config, NULL, args));
    g_assert_nonnull(h);
    assert_confined(h, c->caps);
    log = host_log(h);
    g_assert_nonnull(strstr(log, c->names));
    g_assert_cmpint(test_host_stop(h), ==, 0);
    host_free(0, h);
    /* deferred and never started: no TAP was created */
    g_assert_cmpint(test_sh("ip link show %s >/dev/null 2>&1", ifname), !=, 0);
    st_tmpdir_free(g_steal_pointer(&dir));
}

/*
 * Fails if --user is taken without the privilege to switch users (the host must refuse to
 * run rather than run as itself), or an unknown user is not refused by name.
 */
static void test_user_refused_without_privilege_or_user(void)
{
    g_autofree char *dir = open_dir_new();
    g_autofree char *config = socket_hub_config(dir, "immediate");
    g_autofree char *ini = g_build_filename(dir, "hub.ini", NULL);
    g_autofree char *out = NULL;
    g_autofree char *cmd = NULL;

    g_assert_true(g_file_set_contents(ini, config, -1, NULL));
    g_assert_cmpint(chmod(ini, 0644), ==, 0);
    out = test_sh_output("'%s' -c '%s' --user no-such-user-here 2>&1; echo \"exit $?\"",
                         test_env_path("NETBE_HOST"), ini);
    g_assert_nonnull(out);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "--user: no user 'no-such-user-here'"));
    g_assert_nonnull(strstr(out, "exit 2"));
    if (as_root()) {
        g_free(out);
        g_assert_cmpint(chmod(dir, 0777), ==, 0); /* nobody binds its socket there */
        /* nobody asking to become daemon: the switch is refused, the host exits */
        out = test_sh_output("setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups "
                             "'%s' -c '%s' --user daemon 2>&1; echo \"exit $?\"",
                             test_env_path("NETBE_HOST"), ini);
        g_assert_nonnull(out);
        g_test_message("%s", out);
        g_assert_nonnull(strstr(out, "--user daemon: "));
        g_assert_nonnull(strstr(out, "failed: Operation not permitted (dropping privileges "
                                     "needs root"));
        g_assert_nonnull(strstr(out, "exit 1"));
        g_assert_null(strstr(out, "serving"));
    }
    st_tmpdir_free(g_steal_pointer(&dir));
}

/* [netdev.f] the fixture (probe_syscalls, logging to @flog) and [netdev.d] unix datagrams
 * in a hub; the plugin path is the build's plugins plus @plugin_dir. */
static char *probe_config(const char *dir, const char *flog, const char *fixture_type)
{
    return g_strdup_printf("[netdev.f]\ntype = %s\nlog = %s\nprobe_syscalls = on\n"
                           "[netdev.d]\ntype = socket\nlocal = unix:%s/d-host.sock\n"
                           "remote = unix:%s/d-guest.sock\n"
                           "[hub.lan]\nports = f, d\n",
                           fixture_type, flog, dir, dir);
}

/* Start a host on probe_config() with @more arguments. */
static TestHost *probe_host(const char *dir, const char *plugins, const char *fixture_type,
                            const char *flog, const char *const *more)
{
    g_autofree char *config = probe_config(dir, flog, fixture_type);
    g_autofree char *path = g_strdup_printf("%s:%s", test_env_path("NETBE_PLUGIN_PATH"), plugins);
    const char *with_path[8] = {"--plugin-path", path};
    g_autofree const char **args = NULL;

    for (int i = 0; more && more[i]; i++) {
        with_path[2 + i] = more[i];
    }
    args = host_args(with_path);
    g_assert_true(g_file_set_contents(flog, "", 0, NULL));
    g_assert_cmpint(chmod(flog, 0666), ==, 0);
    return track(0, test_host_start(config, NULL, args));
}

/* The fixture's stats line "tx_frames" for netdev f, from stats --json. */
static int64_t fixture_tx_frames(TestHost *h)
{
    g_autofree char *json = test_host_ctl(h, "stats --json");

    g_assert_nonnull(json);
    return tap_test_stats(json, "f", -1, "tx_frames");
}

/* A probing fixture host and its guest: plugins, folder, logs, a datagram guest. */
typedef struct ProbeRig {
    char *plugins, *dir, *flog, *d_host;
    int d; /* the guest's datagram socket */
    TestHost *h;
} ProbeRig;

/* Start a host of @fixture (a file of NETBE_FIXTURE_DIR, netdev type @type) with @more. */
static void probe_rig_start(ProbeRig *r, const char *fixture, const char *type,
                            const char *const *more)
{
    const char *files[] = {fixture, NULL};
    g_autofree char *d_path = NULL;

    r->plugins = test_plugin_dir_new(files);
    r->dir = open_dir_new();
    r->flog = g_build_filename(r->dir, "fixture.log", NULL);
    r->d_host = g_build_filename(r->dir, "d-host.sock", NULL);
    d_path = g_build_filename(r->dir, "d-guest.sock", NULL);
    r->d = guest_dgram(d_path);
    r->h = probe_host(r->dir, r->plugins, type, r->flog, more);
    g_assert_nonnull(r->h);
}

/* Send frame number @seq from the guest to the fixture (it probes on its first frame). */
static void probe_rig_send(ProbeRig *r, uint8_t seq)
{
    uint8_t frame[FRAME_LEN];

    make_frame(frame, seq);
    send_dgram(r->d, r->d_host, frame, sizeof(frame));
}

/* Stop the host (it must exit 0) and remove everything. */
static void probe_rig_finish(ProbeRig *r)
{
    close(r->d);
    g_assert_cmpint(test_host_stop(r->h), ==, 0);
    host_free(0, r->h);
    test_plugin_dir_free(r->plugins);
    st_tmpdir_free(r->dir);
    g_free(r->flog);
    g_free(r->d_host);
}

/*
 * Fails if a syscall no netbe code makes (getcpu), tried by a running plugin after
 * start-up, is not refused with EPERM and named in the host's log; if the one the plugin
 * names in its descriptor (getpriority) is refused; or if the host stops serving or
 * forwarding after the refusal.
 */
static void test_forbidden_syscall_refused_host_lives(void)
{
    g_autofree char *log = NULL, *calls = NULL;
    ProbeRig r;
    const char *p;

    probe_rig_start(&r, "netbe-fixture.so", "fixture", NULL);
    probe_rig_send(&r, 7); /* reaches the fixture: it probes */
    g_assert_true(wait_file_has(r.flog, "probe getpriority"));
    g_assert_true(g_file_get_contents(r.flog, &calls, NULL, NULL));
    g_test_message("fixture log:\n%s", calls);
    g_assert_nonnull(strstr(calls, "probe getcpu rc=-1 errno=1\n")); /* EPERM */
    p = strstr(calls, "probe getpriority rc=");
    g_assert_nonnull(p);
    g_assert_cmpint(atoi(p + strlen("probe getpriority rc=")), >=, 1); /* 20 - nice */
    g_assert_nonnull(strstr(p, "errno=0\n"));
    g_assert_true(wait_file_has(r.h->log, "refused syscall getcpu"));
    log = host_log(r.h);
    g_test_message("host log:\n%s", log);
    g_assert_nonnull(strstr(log, "plugins add getpriority"));
    /* alive and forwarding */
    probe_rig_send(&r, 8);
    for (int i = 0; i < 100 && fixture_tx_frames(r.h) < 2; i++) {
        g_usleep(20000);
    }
    g_assert_cmpint(fixture_tx_frames(r.h), ==, 2);
    assert_confined(r.h, 0);
    probe_rig_finish(&r);
}

/*
 * Fails if --sandbox=off leaves a filter on any thread, or a syscall the filter would
 * refuse fails anyway.
 */
static void test_sandbox_off_leaves_no_filter(void)
{
    const char *off[] = {"--sandbox=off", NULL};
    g_autofree char *log = NULL, *calls = NULL;
    ProbeRig r;

    probe_rig_start(&r, "netbe-fixture.so", "fixture", off);
    assert_seccomp_every_thread(r.h->pid, "0");
    probe_rig_send(&r, 9);
    g_assert_true(wait_file_has(r.flog, "probe getpriority"));
    g_assert_true(g_file_get_contents(r.flog, &calls, NULL, NULL));
    g_assert_nonnull(strstr(calls, "probe getcpu rc=0 errno=0\n"));
    log = host_log(r.h);
    g_assert_null(strstr(log, "sandbox on"));
    g_assert_null(strstr(log, "refused syscall"));
    probe_rig_finish(&r);
}

/*
 * Fails if two TAPs joined by a hub stop carrying a ping between two namespaces once the
 * host runs as nobody under the filter (TAP reads, writes and ioctls allowed), or if the
 * host keeps CAP_NET_ADMIN although both TAPs are open.
 */
static void test_tap_hub_pings_confined(void)
{
    g_autofree char *ifa = tap_test_ifname("sa");
    g_autofree char *ifb = tap_test_ifname("sb");
    g_autofree char *config = NULL, *ns_a = NULL, *ns_b = NULL, *stats = NULL;
    g_autofree const char **args = host_args(NULL);
    TestHost *h;

    if (!test_need_root_net()) {
        return;
    }
    config = g_strdup_printf("[netdev.a]\ntype = tap\nifname = %s\nqueues = 2\n"
                             "[netdev.b]\ntype = tap\nifname = %s\nqueues = 2\n"
                             "[hub.h]\nports = a, b\n",
                             ifa, ifb);
    h = track(0, test_host_start(config, NULL, args));
    g_assert_nonnull(h);
    assert_confined(h, 0);
    ns_a = test_netns_create("sba");
    ns_b = test_netns_create("sbb");
    tap_test_move(ifa, ns_a, NULL, "10.98.0.1/24");
    tap_test_move(ifb, ns_b, NULL, "10.98.0.2/24");
    g_assert_cmpint(test_sh("ip netns exec %s ping -c 3 -i 0.2 -W 2 -q 10.98.0.2", ns_a), ==, 0);
    stats = test_host_ctl(h, "stats --json");
    g_assert_nonnull(stats);
    g_assert_cmpint(tap_test_stats(stats, "a", -1, "rx_frames"), >=, 4); /* ARP + 3 echoes */
    g_assert_cmpint(tap_test_stats(stats, "b", -1, "tx_drops"), ==, 0);
    assert_nothing_refused(h);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    host_free(0, h);
    test_netns_delete(ns_a);
    test_netns_delete(ns_b);
}

/* A DHCP offer for @xid among the frames @guest gets within 4 s; its sender MAC in @mac. */
static bool wait_dhcp_offer(int guest, uint32_t xid, uint8_t mac[6])
{
    uint8_t buf[2048];

    for (int i = 0; i < 20; i++) {
        ssize_t n = st_recv_dgram(guest, buf, sizeof(buf));
        GfFrame f;

        if (n > 0 && gf_parse(&f, buf, n) && f.sport == 67 && gf_dhcp_xid(&f) == xid &&
            gf_dhcp_type(&f) == 2 && gf_dhcp_yiaddr(&f).s_addr == htonl(0x0a00020f)) {
            memcpy(mac, f.src_mac, 6);
            return true;
        }
    }
    return false;
}

/* True once @guest gets slirp's SYN to 10.0.2.15:22, or its ARP request for 10.0.2.15. */
static bool wait_hostfwd_frame(int guest)
{
    uint8_t buf[2048];

    for (int i = 0; i < 20; i++) {
        ssize_t n = st_recv_dgram(guest, buf, sizeof(buf));
        GfFrame f;

        if (n > 0 && gf_parse(&f, buf, n) &&
            ((f.ip_proto == IPPROTO_TCP && f.dport == 22 && (f.tcp_flags & GF_TCP_SYN)) ||
             (f.arp_op == 1 && f.arp_tpa.s_addr == htonl(0x0a00020f)))) {
            return true;
        }
    }
    return false;
}

/* A DNS query for "example.test" A, from the guest to slirp's resolver 10.0.2.3. */
static GByteArray *dns_query(const GfTcp *t)
{
    static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,
                                0,    0,    7,    'e',  'x', 'a', 'm', 'p', 'l', 'e',
                                4,    't',  'e',  's',  't', 0,   0,   1,   0,   1};

    return gf_udp(t->mac, t->peer_mac, t->ip, 40053, gf_ip("10.0.2.3"), 53, q, sizeof(q));
}

/*
 * Fails if user-mode networking behind a hub, run as nobody under the filter, does not
 * lease 10.0.2.15 by DHCP, does not connect a guest's TCP SYN to the host (slirp's
 * socket, connect), or does not accept a host client on its hostfwd port (accept), or if
 * a DNS query (slirp reads the host's resolv.conf and forwards it) meets a refused syscall.
 */
static void test_user_nat_confined(void)
{
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x58};
    g_autofree char *dir = open_dir_new();
    g_autofree char *d_path = g_build_filename(dir, "d-guest.sock", NULL);
    g_autofree char *d_host = g_build_filename(dir, "d-host.sock", NULL);
    g_autofree const char **args = host_args(NULL);
    g_autofree char *config = NULL;
    unsigned fwd_port = st_free_tcp_port(), host_port = 0;
    int guest = guest_dgram(d_path), listener = st_tcp_listen(&host_port), conn, client;
    GByteArray *frame;
    GfTcp t = {
        .ip = gf_ip("10.0.2.15"), .peer_ip = gf_ip("10.0.2.2"), .port = 40000, .snd_nxt = 1000};
    TestHost *h;

    config = g_strdup_printf("[netdev.guest]\ntype = socket\nlocal = unix:%s\nremote = unix:%s\n"
                             "[netdev.nat]\ntype = user\nnet = 10.0.2.0/24\n"
                             "hostfwd = tcp:127.0.0.1:%u-:22\n"
                             "[hub.lan]\nports = guest, nat\nconnect = deferred\n",
                             d_host, d_path, fwd_port);
    h = track(0, test_host_start(config, NULL, args));
    g_assert_nonnull(h);
    assert_confined(h, 0);
    frame = gf_dhcp(mac, 0x5eed, 1, (struct in_addr){0}, (struct in_addr){0});
    send_dgram(guest, d_host, frame->data, frame->len);
    g_byte_array_unref(frame);
    memcpy(t.mac, mac, 6);
    g_assert_true(wait_dhcp_offer(guest, 0x5eed, t.peer_mac));
    /* the guest connects out through the NAT: slirp opens a socket to 127.0.0.1 */
    t.peer_port = (uint16_t)host_port;
    frame = gf_tcp_segment(&t, GF_TCP_SYN, NULL, 0);
    send_dgram(guest, d_host, frame->data, frame->len);
    g_byte_array_unref(frame);
    conn = st_accept(listener);
    g_assert_cmpint(conn, >=, 0);
    /* a host client on the hostfwd port: slirp accepts it and calls the guest */
    client = st_tcp_connect(fwd_port);
    g_assert_cmpint(client, >=, 0);
    g_assert_true(wait_hostfwd_frame(guest));
    frame = dns_query(&t);
    send_dgram(guest, d_host, frame->data, frame->len);
    g_byte_array_unref(frame);
    g_usleep(300 * 1000);
    assert_nothing_refused(h);
    close(client);
    close(conn);
    close(listener);
    close(guest);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    host_free(0, h);
    st_tmpdir_free(g_steal_pointer(&dir));
}

/*
 * Fails if two confined hosts cannot hand a deferred socket hub over (the destination's
 * incoming socket is reachable by the dropped source, and each trusts the other: root, or
 * the --user uid), if the stream guest's connection does not move with it, or if the
 * destination does not run confined afterwards.
 */
static void test_handover_between_confined_hosts(void)
{
    g_autofree char *dir = open_dir_new();
    g_autofree char *config = socket_hub_config(dir, "deferred");
    g_autofree char *s_path = g_build_filename(dir, "s.sock", NULL);
    g_autofree char *d_path = g_build_filename(dir, "d-guest.sock", NULL);
    g_autofree char *incoming = g_build_filename(dir, "incoming.sock", NULL);
    g_autofree char *cmd = g_strdup_printf("migrate %s", incoming);
    const char *in_args[] = {"--incoming", incoming, "--incoming-timeout", "20", NULL};
    g_autofree const char **src_args = host_args(NULL);
    g_autofree const char **dst_args = host_args(in_args);
    g_autofree char *out = NULL;
    int d = guest_dgram(d_path), s;
    TestHost *src = track(0, test_host_start(config, NULL, src_args)), *dst;

    g_assert_nonnull(src);
    s = st_unix_connect(s_path);
    g_assert_cmpint(s, >=, 0);
    assert_hub_forwards(s, d, dir, 20);
    assert_confined(src, 0);
    dst = track(1, test_host_spawn(config, NULL, dst_args, NULL));
    g_assert_nonnull(dst);
    for (int i = 0; i < 250 && !g_file_test(incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    out = test_host_ctl(src, cmd);
    g_test_message("migrate: %s", out ? out : "(no answer)");
    g_assert_nonnull(out);
    g_assert_nonnull(strstr(out, "migrated: downtime"));
    g_assert_cmpint(test_host_wait(src, 10000), ==, 0);
    g_assert_true(test_host_wait_serving(dst, 10000));
    assert_hub_forwards(s, d, dir, 30); /* the same stream connection, now on dst */
    assert_confined(dst, 0);
    assert_nothing_refused(src);
    assert_nothing_refused(dst);
    close(s);
    close(d);
    g_assert_cmpint(test_host_stop(dst), ==, 0);
    host_free(1, dst);
    host_free(0, src);
    st_tmpdir_free(g_steal_pointer(&dir));
}

int main(int argc, char **argv)
{
#define TAP_BY_NAME                                                                                \
    "[netdev.t]\ntype = tap\nifname = @IFNAME@\n"                                                  \
    "[device.nic0]\nmodel = virtio-net\nnetdev = t\nconnect = deferred\n"
#define TAP_BY_FD                                                                                  \
    "[netdev.t]\ntype = tap\nfd = 3\n"                                                             \
    "[device.nic0]\nmodel = virtio-net\nnetdev = t\nconnect = deferred\n"
#define PORT_80                                                                                    \
    "[netdev.p]\ntype = socket\nlisten = 127.0.0.1:80\n"                                           \
    "[device.nic1]\nmodel = virtio-net\nnetdev = p\nconnect = deferred\n"
#define KEPT "capabilities kept for deferred backends: "
    static const CapsCase tap_and_80 = {TAP_BY_NAME PORT_80,
                                        CAP_NET_ADMIN_BIT | CAP_NET_BIND_SERVICE_BIT,
                                        KEPT "CAP_NET_BIND_SERVICE,CAP_NET_ADMIN\n"};
    static const CapsCase only_80 = {PORT_80, CAP_NET_BIND_SERVICE_BIT,
                                     KEPT "CAP_NET_BIND_SERVICE\n"};
    static const CapsCase tap_fd = {TAP_BY_FD, 0, KEPT "none\n"};

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/socket-hub-forwards-confined", test_socket_hub_forwards_confined);
    g_test_add_data_func("/sandbox/caps-kept-for-deferred-tap-and-port-80", &tap_and_80,
                         test_caps_kept_for_deferred_backends);
    g_test_add_data_func("/sandbox/caps-kept-for-deferred-port-80", &only_80,
                         test_caps_kept_for_deferred_backends);
    g_test_add_data_func("/sandbox/caps-none-for-deferred-tap-fd", &tap_fd,
                         test_caps_kept_for_deferred_backends);
    g_test_add_func("/sandbox/user-refused-without-privilege-or-user",
                    test_user_refused_without_privilege_or_user);
    g_test_add_func("/sandbox/forbidden-syscall-refused-host-lives",
                    test_forbidden_syscall_refused_host_lives);
    g_test_add_func("/sandbox/off-leaves-no-filter", test_sandbox_off_leaves_no_filter);
    g_test_add_func("/sandbox/tap-hub-pings-confined", test_tap_hub_pings_confined);
    g_test_add_func("/sandbox/user-nat-confined", test_user_nat_confined);
    g_test_add_func("/sandbox/handover-between-confined-hosts",
                    test_handover_between_confined_hosts);
    return g_test_run();
}
