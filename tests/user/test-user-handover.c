// SPDX-License-Identifier: GPL-2.0-or-later
/* test-user-handover.c - live handover of a user netdev: a netbe-host to netbe-host move
 * keeps the guest's DHCP lease and hostfwd; a differently configured destination and a
 * truncated or padded slirp state are refused without leaking an fd, and the source runs
 * on. */
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "host-proc.h"
#include "mig-wire.h"
#include "netbe/migrate.h"
#include "netbe/netbe.h"
#include "netns.h"
#include "plugin-dir.h"
#include "user-net.h"

#define WAIT_MS 5000

static char *tmp_dir;
static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t other_mac[6] = {0x52, 0x54, 0x00, 0x65, 0x43, 0x21};

/* A free port on 127.0.0.1 for @type (the socket is closed again). */
static uint16_t free_port(int type)
{
    uint16_t port;
    int fd = user_net_loopback_socket(type, &port);

    close(fd);
    return port;
}

/**
 * struct Guest - the guest, played over UDP: netbe-host's socket netdev sends each frame
 * the hub gives it as one datagram to @fd, and takes frames from it the same way
 * @fd:   bound to 127.0.0.1:@port, connected to the netdev's localaddr
 */
typedef struct Guest {
    int fd;
    uint16_t port, netdev_port;
} Guest;

static void guest_open(Guest *g)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    g->fd = user_net_loopback_socket(SOCK_DGRAM, &g->port);
    g->netdev_port = free_port(SOCK_DGRAM);
    a.sin_port = htons(g->netdev_port);
    g_assert_cmpint(connect(g->fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
}

static void guest_send(Guest *g, GByteArray *frame)
{
    g_assert_cmpint(send(g->fd, frame->data, frame->len, 0), ==, frame->len);
    g_byte_array_unref(frame);
}

typedef bool (*GuestMatch)(const GfFrame *f, const void *data);

/* The first frame @match accepts within @ms (others are dropped), or NULL. */
static GBytes *guest_wait(Guest *g, GuestMatch match, const void *data, int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000ll;
    uint8_t buf[65536];

    for (gint64 now; (now = g_get_monotonic_time()) < end;) {
        struct pollfd p = {.fd = g->fd, .events = POLLIN};
        GfFrame f;
        ssize_t n;

        if (poll(&p, 1, (int)((end - now) / 1000) + 1) <= 0) {
            continue;
        }
        n = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0 && gf_parse(&f, buf, n) && match(&f, data)) {
            return g_bytes_new(buf, n);
        }
    }
    return NULL;
}

static GfFrame parse(GBytes *b)
{
    GfFrame f;
    size_t len;
    const uint8_t *d = g_bytes_get_data(b, &len);

    g_assert_true(gf_parse(&f, d, len));
    return f;
}

static bool is_dhcp_reply(const GfFrame *f, const void *data)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_UDP && f->sport == 67 &&
           f->dport == 68 && gf_dhcp_xid(f) == *(const uint32_t *)data;
}

static bool is_arp_reply_from(const GfFrame *f, const void *data)
{
    return f->ethertype == GF_ETH_ARP && f->arp_op == 2 &&
           f->arp_spa.s_addr == ((const struct in_addr *)data)->s_addr;
}

static bool is_echo_reply(const GfFrame *f, const void *data)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_ICMP && f->icmp_type == 0 &&
           f->icmp_id == *(const uint16_t *)data;
}

static bool is_syn_to_port(const GfFrame *f, const void *data)
{
    return f->ethertype == GF_ETH_IPV4 && f->ip_proto == IPPROTO_TCP &&
           f->dport == *(const uint16_t *)data && f->tcp_flags == GF_TCP_SYN;
}

/* DISCOVER (and REQUEST if @request) from @mac. Return: the address offered. */
static struct in_addr guest_dhcp(Guest *g, const uint8_t mac[6], uint32_t xid, bool request)
{
    g_autoptr(GBytes) offer = NULL, ack = NULL;
    struct in_addr lease;
    GfFrame f;

    guest_send(g, gf_dhcp(mac, xid, 1, (struct in_addr){0}, (struct in_addr){0}));
    offer = guest_wait(g, is_dhcp_reply, &xid, WAIT_MS);
    g_assert_nonnull(offer);
    f = parse(offer);
    g_assert_cmpuint(gf_dhcp_type(&f), ==, 2);
    lease = gf_dhcp_yiaddr(&f);
    if (request) {
        guest_send(g, gf_dhcp(mac, xid, 3, lease, gf_ip("10.0.2.2")));
        ack = guest_wait(g, is_dhcp_reply, &xid, WAIT_MS);
        g_assert_nonnull(ack);
        f = parse(ack);
        g_assert_cmpuint(gf_dhcp_type(&f), ==, 5);
    }
    return lease;
}

static char *read_text(const char *path)
{
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : g_strdup("");
}

/* A host with [netdev.net0] type = user (@user_opts) in a deferred hub, and the guest's
 * socket netdev over UDP when @g is given. */
static char *user_config(const char *user_opts, const Guest *g)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "[netdev.net0]\ntype = user\n%s\n", user_opts);
    if (g) {
        g_string_append_printf(s,
                               "[netdev.guest]\ntype = socket\nudp = 127.0.0.1:%u\n"
                               "localaddr = 127.0.0.1:%u\n",
                               g->port, g->netdev_port);
    }
    g_string_append_printf(s, "[hub.h]\nports = net0%s\nconnect = deferred\n", g ? ", guest" : "");
    return g_string_free(s, false);
}

/*
 * The guest takes a lease on the source; after the move, without a new DHCP exchange,
 * the gateway answers ARP and ping; a second client is offered the next address (the
 * lease table came along: a fresh slirp would offer .15 again); a host client connecting
 * to the hostfwd port is accepted and its SYN reaches the guest; the destination logs
 * the load. Fails if the state or the hostfwd is lost, or the source does not exit 0.
 */
static void test_handover_keeps_lease_and_hostfwd(void)
{
    Guest g;
    uint16_t fwd_port = free_port(SOCK_STREAM), guest_port = 7777, echo_id = 0x4242;
    g_autofree char *opts = NULL, *conf = NULL, *incoming = NULL, *out = NULL, *dlog = NULL;
    g_autoptr(GBytes) arp = NULL, echo = NULL, syn = NULL;
    struct in_addr gw = gf_ip("10.0.2.2"), lease, next;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    TestHost *src, *dst;
    const char *args[3] = {"--incoming", NULL, NULL};
    uint8_t gw_mac[6];
    int conn;

    guest_open(&g);
    opts = g_strdup_printf("hostfwd = tcp:127.0.0.1:%u-:%u", fwd_port, guest_port);
    conf = user_config(opts, &g);
    incoming = g_build_filename(tmp_dir, "incoming.sock", NULL);
    args[1] = incoming;
    src = test_host_start(conf, NULL, NULL);
    g_assert_nonnull(src);
    lease = guest_dhcp(&g, guest_mac, 0x1111, true);
    g_assert_cmpuint(lease.s_addr, ==, gf_ip("10.0.2.15").s_addr);

    dst = test_host_spawn(conf, NULL, args, NULL);
    for (int i = 0; i < 250 && !g_file_test(incoming, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    out = test_sh_output("'%s' '%s' migrate '%s'", test_env_path("NETBE_CTL"), src->control,
                         incoming);
    g_assert_nonnull(out);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "migrated: downtime"));
    g_assert_cmpint(test_host_wait(src, 10000), ==, 0);
    g_assert_true(test_host_wait_serving(dst, 10000));

    /* no DHCP on the destination: ARP and ping to the gateway straight away */
    guest_send(&g, gf_arp_request(guest_mac, lease, gw));
    arp = guest_wait(&g, is_arp_reply_from, &gw, WAIT_MS);
    g_assert_nonnull(arp);
    memcpy(gw_mac, parse(arp).arp_sha, 6);
    guest_send(&g, gf_icmp_echo(guest_mac, gw_mac, lease, gw, echo_id, 1, "after", 5));
    echo = guest_wait(&g, is_echo_reply, &echo_id, WAIT_MS);
    g_assert_nonnull(echo);
    g_assert_cmpuint(parse(echo).ip_dst.s_addr, ==, lease.s_addr);
    /* the lease table moved: another client gets the next address */
    next = guest_dhcp(&g, other_mac, 0x2222, false);
    g_assert_cmpuint(next.s_addr, ==, gf_ip("10.0.2.16").s_addr);

    /* the destination's hostfwd listens (reopened after the source let go) */
    conn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_port = htons(fwd_port);
    g_assert_cmpint(connect(conn, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    syn = guest_wait(&g, is_syn_to_port, &guest_port, WAIT_MS);
    g_assert_nonnull(syn);
    g_assert_cmpuint(parse(syn).ip_dst.s_addr, ==, lease.s_addr);
    close(conn);

    dlog = read_text(dst->log);
    g_test_message("destination log:\n%s", dlog);
    g_assert_nonnull(strstr(dlog, "slirp state loaded"));
    g_assert_nonnull(strstr(dlog, "NAT'd connections to the outside did not move"));
    g_assert_nonnull(strstr(dlog, "1 of 1 hostfwd listener(s) reopened"));
    g_assert_cmpint(test_host_stop(dst), ==, 0);
    test_host_free(src);
    test_host_free(dst);
    close(g.fd);
}

/* ---- refusals: a real source, an in-process destination ---- */

typedef struct Relay {
    char *from; /* where the source connects */
    char *to;   /* the destination's socket */
    int lfd;
    uint32_t keep; /* bytes of the slirp state passed on */
} Relay;

/* The source's serving lock, as the relay passed it on (closed when the relay ends). */
static int relayed_lock = -1;

/* Re-encode the hello (its layout is migrate.h's). Return: false if malformed. */
static bool copy_hello(NetbeMigReader *r, NetbeMigWriter *w)
{
    uint32_t n, q;

    relayed_lock = netbe_mig_get_fd(r); /* the source's serving lock goes on as it is */
    if (relayed_lock < 0 || !netbe_mig_put_fd(w, relayed_lock) || !netbe_mig_get_u32(r, &n)) {
        return false;
    }
    netbe_mig_put_u32(w, n);
    for (uint32_t i = 0; i < n; i++) {
        g_autofree char *id = NULL, *plugin = NULL;

        if (!netbe_mig_get_string(r, &id) || !netbe_mig_get_string(r, &plugin) ||
            !netbe_mig_get_u32(r, &q)) {
            return false;
        }
        netbe_mig_put_string(w, id);
        netbe_mig_put_string(w, plugin);
        netbe_mig_put_u32(w, q);
    }
    if (!netbe_mig_get_u32(r, &n) || n != 0) {
        return false; /* no device here */
    }
    netbe_mig_put_u32(w, 0);
    return true;
}

/* Relay's "keep" asking for the whole state plus one byte. */
#define RELAY_PAD UINT32_MAX

/* The user backend's record with its slirp state cut to @keep bytes (or one byte longer). */
static bool copy_backend_truncated(NetbeMigReader *r, NetbeMigWriter *w, uint32_t keep)
{
    g_autofree char *id = NULL, *plugin = NULL, *digest = NULL;
    uint32_t q, hdr, tx, rx, has_fd, format, version, len;
    const void *state;

    /* the core's part (one queue: no frames held, no queue fd: a producer), then the
     * plugin's state version and its record */
    if (!netbe_mig_get_string(r, &id) || !netbe_mig_get_string(r, &plugin) ||
        !netbe_mig_get_u32(r, &q) || !netbe_mig_get_u32(r, &hdr) || !netbe_mig_get_u32(r, &tx) ||
        tx || !netbe_mig_get_u32(r, &rx) || rx || !netbe_mig_get_u32(r, &has_fd) || has_fd ||
        !netbe_mig_get_u32(r, &format) || !netbe_mig_get_string(r, &digest) ||
        !netbe_mig_get_u32(r, &version) || !netbe_mig_get_bytes(r, &state, &len) ||
        (keep >= len && keep != RELAY_PAD)) {
        return false;
    }
    netbe_mig_put_string(w, id);
    netbe_mig_put_string(w, plugin);
    netbe_mig_put_u32(w, q);
    netbe_mig_put_u32(w, hdr);
    netbe_mig_put_u32(w, 0);
    netbe_mig_put_u32(w, 0);
    netbe_mig_put_u32(w, 0);
    netbe_mig_put_u32(w, format);
    netbe_mig_put_string(w, digest);
    netbe_mig_put_u32(w, version);
    if (keep == RELAY_PAD) {
        g_autofree uint8_t *padded = g_malloc0(len + 1);

        memcpy(padded, state, len);
        netbe_mig_put_bytes(w, padded, len + 1);
    } else {
        netbe_mig_put_bytes(w, state, keep);
    }
    return true;
}

/* Pass one record of @want type from @in to @out, through @copy. */
static bool relay_record(int in, int out, uint32_t want,
                         bool (*copy)(NetbeMigReader *, NetbeMigWriter *, uint32_t), uint32_t arg)
{
    uint32_t type = 0;
    NetbeMigReader *r = wire_recv_record(in, &type);
    NetbeMigWriter *w = netbe_mig_writer_new();
    bool ok = r && type == want && copy(r, w, arg) && wire_send_record(out, type, w, -1, SIZE_MAX);

    netbe_mig_reader_free(r);
    netbe_mig_writer_free(w);
    return ok;
}

static bool copy_hello_cb(NetbeMigReader *r, NetbeMigWriter *w, uint32_t unused)
{
    return copy_hello(r, w);
}

/* A fake source for the destination: it relays the real source's stream and cuts the
 * slirp state short (or pads it). */
static gpointer relay_thread(gpointer data)
{
    Relay *rl = data;
    int src = wire_accept(rl->lfd, WAIT_MS), dst = -1;
    uint32_t type = 0;
    bool ok;

    ok = src >= 0 && wire_recv_header(src) && wire_send_header(src, WIRE_VERSION, WIRE_VERSION);
    if (ok) {
        dst = wire_connect(rl->to);
        ok = dst >= 0 && wire_send_header(dst, WIRE_VERSION, WIRE_VERSION) &&
             wire_recv_header(dst) && relay_record(src, dst, WIRE_HELLO, copy_hello_cb, 0);
    }
    if (ok) {
        NetbeMigReader *r = wire_recv_record(dst, &type); /* the destination's reply */

        ok = r && type == WIRE_REPLY && wire_send_status(src, WIRE_REPLY, true, "");
        netbe_mig_reader_free(r);
    }
    if (ok) {
        relay_record(src, dst, WIRE_BACKEND, copy_backend_truncated, rl->keep);
    }
    /* the destination refuses: whatever it says, the source sees the stream end */
    netbe_mig_reader_free(wire_recv_record(dst, &type));
    if (dst >= 0) {
        close(dst);
    }
    if (src >= 0) {
        close(src);
    }
    if (relayed_lock >= 0) {
        close(relayed_lock);
        relayed_lock = -1;
    }
    return NULL;
}

typedef struct Refusal {
    const char *source_opts; /* [netdev.net0] of the source */
    uint32_t keep;           /* relay through a fake source keeping that much state; 0:
                              * the source talks to the destination directly */
    const char *expected;
} Refusal;

/*
 * The destination (in this process) refuses the record with @data's message, keeps no
 * fd, and the source (netbe-host) resumes and still serves its hostfwd. Fails if a
 * mismatched or truncated state is adopted, the message is unclear, or an fd leaks.
 */
static void run_refusal(gconstpointer data)
{
    const Refusal *rf = data;
    uint16_t fwd_port = free_port(SOCK_STREAM);
    g_autofree char *fwd = g_strdup_printf("hostfwd = tcp:127.0.0.1:%u-:22", fwd_port);
    g_autofree char *sopts = g_strdup_printf("%s\n%s", rf->source_opts, fwd);
    g_autofree char *sconf = user_config(sopts, NULL), *dconf = user_config(fwd, NULL);
    g_autofree char *dpath = g_build_filename(tmp_dir, "refuse-dst.sock", NULL);
    g_autofree char *rpath = g_build_filename(tmp_dir, "refuse-relay.sock", NULL);
    g_autofree char *status = NULL;
    char *plugins = user_net_plugin_dir();
    g_autoptr(GError) err = NULL;
    Relay rl = {rpath, dpath, -1, rf->keep};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    TestHost *src = test_host_start(sconf, NULL, NULL);
    GThread *relay = NULL;
    NetbeRuntime *rt;
    int before, lfd, conn;

    g_assert_nonnull(src);
    before = test_count_fds(0);
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(rt, plugins);
    g_assert_true(netbe_runtime_load_config_string(rt, dconf, "refuse.ini", &err));
    lfd = wire_listen(dpath);
    if (rf->keep) {
        rl.lfd = wire_listen(rpath);
        relay = g_thread_new("fake-source", relay_thread, &rl);
    }
    g_assert_cmpint(test_sh("'%s' '%s' migrate '%s' >/dev/null 2>&1 &", test_env_path("NETBE_CTL"),
                            src->control, rf->keep ? rpath : dpath),
                    ==, 0);
    g_assert_false(netbe_runtime_migrate_from(rt, lfd, WAIT_MS, NULL, &err));
    g_test_message("destination says: %s", err->message);
    g_assert_nonnull(strstr(err->message, "netdev 'net0' (user)"));
    g_assert_nonnull(strstr(err->message, rf->expected));
    if (relay) {
        g_thread_join(relay);
        close(rl.lfd);
    }
    close(lfd);
    netbe_runtime_free(rt);
    g_assert_cmpint(test_count_fds(0), ==, before);

    /* the source resumed: it serves, and its hostfwd still accepts */
    for (int i = 0; i < 100; i++) {
        g_free(status);
        status = test_host_ctl(src, "status");
        if (status && strstr(status, "running")) {
            break;
        }
        g_usleep(50000);
    }
    g_assert_nonnull(strstr(status, "running"));
    conn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_port = htons(fwd_port);
    g_assert_cmpint(connect(conn, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    close(conn);
    g_assert_cmpint(test_host_stop(src), ==, 0);
    test_host_free(src);
    unlink(dpath);
    unlink(rpath);
    test_plugin_dir_free(plugins);
}

static const Refusal other_net = {"net = 10.0.3.0/24", 0, "network options differ"};
static const Refusal truncated = {"", 40, "truncated"};
static const Refusal padded = {"", RELAY_PAD, "bytes left over"};

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    tmp_dir = g_dir_make_tmp("netbe-user-mig-XXXXXX", NULL);
    g_test_add_func("/user/handover/keeps-lease-and-hostfwd",
                    test_handover_keeps_lease_and_hostfwd);
    g_test_add_data_func("/user/handover/refuses-other-net", &other_net, run_refusal);
    g_test_add_data_func("/user/handover/refuses-truncated-state", &truncated, run_refusal);
    g_test_add_data_func("/user/handover/refuses-padded-state", &padded, run_refusal);
    rc = g_test_run();
    test_sh("rm -rf '%s'", tmp_dir);
    g_free(tmp_dir);
    return rc;
}
