// SPDX-License-Identifier: GPL-2.0-or-later
/* hub-peers.c - test helpers: a netbe-host whose hub joins UDP netdevs, the test's UDP peers
 * on the other side of each, and its control replies with their errors. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hub-peers.h"
#include "netns.h"
#include "sock-test.h"

HubPeers *hp_start(unsigned n, const char *const *extra, const char *more_ini,
                   const char *more_ports, const char *netns)
{
    HubPeers *hp = g_new0(HubPeers, 1);
    g_autoptr(GString) ini = g_string_new(NULL);
    const char *drop[] = {"--user", "nobody", NULL};
    int home = netns ? test_netns_enter(netns) : -1;

    g_assert_cmpuint(n, <=, HP_MAX);
    hp->n = n;
    hp->outdir = st_tmpdir_new();
    g_assert_cmpint(chmod(hp->outdir, 0777), ==, 0); /* netbe-host's user writes there */
    g_string_append_printf(ini, "[runtime]\nplugin_path = %s\n",
                           test_env_path("NETBE_PLUGIN_PATH"));
    for (unsigned i = 0; i < n; i++) {
        unsigned peer_port = 0;

        hp->peer[i] = st_udp_bind(&peer_port);
        hp->port[i] = st_free_udp_port();
        g_string_append_printf(ini,
                               "[netdev.n%u]\ntype = socket\nudp = 127.0.0.1:%u\n"
                               "localaddr = 127.0.0.1:%u\n%s\n",
                               i, peer_port, hp->port[i], extra && extra[i] ? extra[i] : "");
    }
    if (netns) {
        test_netns_leave(home); /* the sockets stay in the namespace they were made in */
    }
    g_string_append(ini, more_ini ? more_ini : "");
    g_string_append(ini, "[hub.h]\nports = ");
    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(ini, "%sn%u", i ? "," : "", i);
    }
    g_string_append_printf(ini, "%s\n", more_ports ? more_ports : "");
    hp->host = test_host_start(ini->str, netns, geteuid() == 0 ? drop : NULL);
    g_assert_nonnull(hp->host);
    test_pid_track(0, hp->host->pid);
    return hp;
}

void hp_stop(HubPeers *hp)
{
    g_assert_cmpint(test_host_stop(hp->host), ==, 0);
    test_pid_track(0, 0);
    test_host_free(hp->host);
    for (unsigned i = 0; i < hp->n; i++) {
        close(hp->peer[i]);
    }
    st_tmpdir_free(hp->outdir);
    g_free(hp);
}

void hp_send(HubPeers *hp, unsigned i, const void *frame, size_t len)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons(hp->port[i]),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    g_assert_cmpint(sendto(hp->peer[i], frame, len, 0, (struct sockaddr *)&to, sizeof(to)), ==,
                    len);
}

ssize_t hp_recv(HubPeers *hp, unsigned i, void *buf, size_t cap, int ms)
{
    struct pollfd p = {.fd = hp->peer[i], .events = POLLIN};
    ssize_t n = recv(hp->peer[i], buf, cap, 0);

    if (n < 0 && poll(&p, 1, ms) == 1) {
        n = recv(hp->peer[i], buf, cap, 0);
    }
    return n;
}

static char *hp_vctl(HubPeers *hp, bool *ok, const char *fmt, va_list ap) G_GNUC_PRINTF(3, 0);
static char *hp_vctl(HubPeers *hp, bool *ok, const char *fmt, va_list ap)
{
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    g_autofree char *line =
        g_strdup_printf("'%s' '%s' %s 2>&1", test_env_path("NETBE_CTL"), hp->host->control, cmd);
    const char *argv[] = {"/bin/sh", "-c", line, NULL};
    char *out = NULL;
    int status = -1;

    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, NULL, &status, NULL));
    *ok = g_spawn_check_wait_status(status, NULL);
    return out;
}

char *hp_ctl(HubPeers *hp, bool *ok, const char *fmt, ...)
{
    va_list ap;
    char *out;

    va_start(ap, fmt);
    out = hp_vctl(hp, ok, fmt, ap);
    va_end(ap);
    return out;
}

char *hp_ctl_ok(HubPeers *hp, const char *fmt, ...)
{
    va_list ap;
    bool ok;
    char *out;

    va_start(ap, fmt);
    out = hp_vctl(hp, &ok, fmt, ap);
    va_end(ap);
    if (!ok) {
        g_error("control command failed: %s", out);
    }
    return out;
}

void hp_frame(uint8_t *buf, size_t len, uint32_t seq)
{
    static const uint8_t head[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                     0,    0,    0,    0,    1,    0x88, 0xb5};
    uint32_t be = htonl(seq);

    g_assert_cmpuint(len, >=, sizeof(head) + sizeof(be));
    memcpy(buf, head, sizeof(head));
    memcpy(buf + sizeof(head), &be, sizeof(be));
    for (size_t i = sizeof(head) + sizeof(be); i < len; i++) {
        buf[i] = (uint8_t)(seq + i);
    }
}

uint32_t hp_frame_seq(const uint8_t *buf, size_t len)
{
    uint32_t be;

    if (len < 18 || buf[12] != 0x88 || buf[13] != 0xb5) {
        return UINT32_MAX;
    }
    memcpy(&be, buf + 14, sizeof(be));
    for (size_t i = 18; i < len; i++) {
        if (buf[i] != (uint8_t)(ntohl(be) + i)) {
            return UINT32_MAX;
        }
    }
    return ntohl(be);
}
