// SPDX-License-Identifier: GPL-2.0-or-later
/* user-net.c - test harness: a user netdev in a hub with a fixture port playing the guest. */
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>
#include "host-proc.h"
#include "netns.h"
#include "plugin-dir.h"
#include "user-net.h"

static bool use_runtime_fd;

void user_net_use_runtime_fd(bool on)
{
    use_runtime_fd = on;
}

const uint8_t user_net_guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

char *user_net_plugin_dir(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autofree char *user =
        g_build_filename(test_env_path("NETBE_PLUGIN_PATH"), "netbe-user.so", NULL);

    g_assert_cmpint(test_sh("cp '%s' '%s/' && chmod 0755 '%s/netbe-user.so'", user, dir, dir), ==,
                    0);
    return dir;
}

UserNet *user_net_new(const char *options, const char *guest_ip)
{
    return user_net_new_full("", options, guest_ip);
}

UserNet *user_net_new_full(const char *wire_options, const char *options, const char *guest_ip)
{
    UserNet *n = g_new0(UserNet, 1);
    g_autoptr(GError) err = NULL;
    g_autofree char *config = g_strdup_printf("[netdev.wire]\ntype = fixture\n%s\n"
                                              "[netdev.net0]\ntype = user\n%s\n"
                                              "[hub.h]\nports = wire, net0\n",
                                              wire_options, options);

    n->dir = user_net_plugin_dir();
    n->rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    n->backlog = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    memcpy(n->mac, user_net_guest_mac, 6);
    n->ip = gf_ip(guest_ip);
    netbe_runtime_set_plugin_path(n->rt, n->dir);
    netbe_runtime_load_config_string(n->rt, config, "user.ini", &err);
    g_assert_no_error(err);
    netbe_runtime_start(n->rt, &err);
    g_assert_no_error(err);
    n->inject = test_fixture_symbol(n->dir, "fixture_inject");
    n->take = test_fixture_symbol(n->dir, "fixture_take_sent");
    n->set_busy = test_fixture_symbol(n->dir, "fixture_set_busy");
    return n;
}

void user_net_free(UserNet *n)
{
    if (!n) {
        return;
    }
    netbe_runtime_free(n->rt);
    test_plugin_dir_free(n->dir);
    g_ptr_array_unref(n->backlog);
    g_free(n);
}

void user_net_send(UserNet *n, GByteArray *frame)
{
    g_assert_cmpint(n->inject("wire", 0, frame->data, frame->len), ==, frame->len);
    g_byte_array_unref(frame);
}

/* Move what the guest got into the backlog, answering ARP requests for the guest. */
static void pump(UserNet *n)
{
    GBytes *b;

    while ((b = n->take("wire"))) {
        GfFrame f;
        size_t len;
        const uint8_t *p = g_bytes_get_data(b, &len);

        if (gf_parse(&f, p, len) && f.ethertype == GF_ETH_ARP && f.arp_op == 1 &&
            f.arp_tpa.s_addr == n->ip.s_addr) {
            user_net_send(n, gf_arp_reply(n->mac, n->ip, f.arp_sha, f.arp_spa));
            g_bytes_unref(b);
            continue;
        }
        g_ptr_array_add(n->backlog, b);
    }
}

static gboolean set_flag(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* One blocking iteration, woken after @ms at the latest. */
static void iterate_at_most(UserNet *n, gint64 ms)
{
    GSource *t;

    if (use_runtime_fd) {
        struct pollfd pfd = {.fd = netbe_runtime_get_fd(n->rt), .events = POLLIN};

        g_assert_cmpint(pfd.fd, >=, 0);
        poll(&pfd, 1, (int)MIN(MAX(ms, 0), G_MAXINT));
        netbe_runtime_dispatch(n->rt);
        return;
    }
    t = g_timeout_source_new(MAX(ms, 0));
    bool fired = false;

    g_source_set_callback(t, set_flag, &fired, NULL);
    g_source_attach(t, netbe_runtime_get_context(n->rt));
    netbe_runtime_iterate(n->rt, true);
    g_source_destroy(t);
    g_source_unref(t);
}

GBytes *user_net_wait(UserNet *n, UserNetMatch match, void *data, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        pump(n);
        for (guint i = 0; i < n->backlog->len; i++) {
            GBytes *b = g_ptr_array_index(n->backlog, i);
            size_t len;
            const uint8_t *p = g_bytes_get_data(b, &len);
            GfFrame f;

            if (gf_parse(&f, p, len) && match(&f, data)) {
                return g_ptr_array_steal_index(n->backlog, i);
            }
        }
        if (g_get_monotonic_time() >= deadline) {
            return NULL;
        }
        iterate_at_most(n, (deadline - g_get_monotonic_time()) / 1000 + 1);
    }
}

bool user_net_wait_fd(UserNet *n, int fd, GIOCondition cond, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    struct pollfd pfd = {.fd = fd, .events = cond};
    GSource *watch = g_unix_fd_source_new(fd, cond);
    bool ready = false;

    g_source_set_callback(watch, set_flag, &ready, NULL);
    g_source_attach(watch, netbe_runtime_get_context(n->rt));
    while (poll(&pfd, 1, 0) == 0 && g_get_monotonic_time() < deadline) {
        pump(n);
        iterate_at_most(n, (deadline - g_get_monotonic_time()) / 1000 + 1);
    }
    pump(n);
    g_source_destroy(watch);
    g_source_unref(watch);
    return poll(&pfd, 1, 0) == 1;
}

void user_net_run_for(UserNet *n, int ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;

    while (g_get_monotonic_time() < deadline) {
        pump(n);
        iterate_at_most(n, (deadline - g_get_monotonic_time()) / 1000 + 1);
    }
    pump(n);
}

NetbeQueueStats user_net_stats(UserNet *n, const char *id)
{
    NetbeQueueStats st;

    g_assert_true(netbe_runtime_get_queue_stats(n->rt, id, 0, &st));
    return st;
}

int user_net_loopback_socket(int type, uint16_t *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    if (type == SOCK_STREAM) {
        g_assert_cmpint(listen(fd, 4), ==, 0);
    }
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
    *port = ntohs(sin.sin_port);
    return fd;
}
