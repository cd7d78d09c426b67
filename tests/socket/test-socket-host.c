// SPDX-License-Identifier: GPL-2.0-or-later
/* test-socket-host.c - the socket plugin in netbe-host, run unprivileged: a hub joins a UDP
 * netdev, a stream server and a stream client; raw peers written here exchange frames
 * through it, and netbe-ctl's counters match exactly. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "host-proc.h"
#include "sock-test.h"

typedef struct Peers {
    int udp;            /* net0's remote: a UDP socket */
    unsigned host_port; /* net0's localaddr */
    int srv_client;     /* connected to net1 (listen) */
    int cli_accepted;   /* accepted from net2 (connect) */
} Peers;

static void send_udp(Peers *p, const void *frame, size_t len)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons(p->host_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    g_assert_cmpint(sendto(p->udp, frame, len, 0, (struct sockaddr *)&to, sizeof(to)), ==, len);
}

static void expect_framed(int fd, size_t len, unsigned seed)
{
    static uint8_t got[ST_FRAME_MAX];

    g_assert_cmpint(st_read_framed(fd, got, sizeof(got)), ==, len);
    g_assert_true(st_check(got, len, seed));
}

static void expect_dgram(int fd, size_t len, unsigned seed)
{
    static uint8_t got[ST_FRAME_MAX];

    g_assert_cmpint(st_recv_dgram(fd, got, sizeof(got)), ==, len);
    g_assert_true(st_check(got, len, seed));
}

/* Wait up to 10 s until netbe-host's log holds @needle @count times: the plugin logs each
 * completed connect, and a frame sent before netbe has seen its connect complete is
 * (rightly) dropped, so the test must not race it. */
static void wait_log_count(TestHost *h, const char *needle, unsigned count)
{
    for (int i = 0; i < 500; i++) {
        g_autofree char *log = NULL;
        unsigned n = 0;

        if (g_file_get_contents(h->log, &log, NULL, NULL)) {
            for (const char *p = log; (p = strstr(p, needle)); p++) {
                n++;
            }
        }
        if (n >= count) {
            return;
        }
        g_usleep(20000);
    }
    g_error("netbe-host did not log '%s' %u times", needle, count);
}

/* The "stats --json" entry of @id: {"netdev":"ID","queue":0,...} as a substring. */
static void assert_stats(TestHost *h, const char *id, unsigned tx, unsigned txb, unsigned txd,
                         unsigned rx, unsigned rxb)
{
    g_autofree char *json = test_host_ctl(h, "stats --json");
    g_autofree char *want = g_strdup_printf("{\"netdev\":\"%s\",\"queue\":0,\"tx_frames\":%u,"
                                            "\"tx_bytes\":%u,\"tx_drops\":%u,\"tx_queued\":0,"
                                            "\"rx_frames\":%u,\"rx_bytes\":%u,\"rx_drops\":0,",
                                            id, tx, txb, txd, rx, rxb);

    if (!json || !strstr(json, want)) {
        g_error("expected %s in %s", want, json ? json : "(no answer)");
    }
}

/* Fails if netbe-host needs privileges for socket netdevs, if a frame entering through one
 * transport does not leave intact through both others (QEMU framing on the streams), if
 * the counters shown by netbe-ctl are off by one frame or byte, or if the client netdev
 * does not reconnect after its peer goes away. */
static void test_host_joins_udp_and_streams_unprivileged(void)
{
    unsigned listen_port = 0, udp_port = 0;
    int l = st_tcp_listen(&listen_port);
    g_autofree char *abstract = g_strdup_printf("@netbe-sock-test-%d", (int)getpid());
    g_autofree char *config = NULL;
    uint8_t frame[1500];
    Peers p = {.udp = st_udp_bind(&udp_port), .host_port = st_free_udp_port()};
    TestHost *h;

    config = g_strdup_printf("[netdev.net0]\ntype = socket\nudp = 127.0.0.1:%u\n"
                             "localaddr = 127.0.0.1:%u\n"
                             "[netdev.net1]\ntype = socket\nlisten = unix:%s\n"
                             "[netdev.net2]\ntype = socket\nconnect = 127.0.0.1:%u\n"
                             "reconnect = 1\n"
                             "[hub.h0]\nports = net0, net1, net2\n",
                             udp_port, p.host_port, abstract, listen_port);
    h = test_host_start_as(config, NULL, NULL, "nobody");
    g_assert_nonnull(h);
    p.cli_accepted = st_accept(l);
    g_assert_cmpint(p.cli_accepted, >=, 0);
    wait_log_count(h, "netdev 'net2': connected to", 1);
    p.srv_client = st_unix_connect(abstract);
    g_assert_cmpint(p.srv_client, >=, 0);

    /* stream server -> udp and stream client (read after accept: nothing is lost) */
    st_fill(frame, 100, 1);
    g_assert_true(st_write_framed(p.srv_client, frame, 100));
    expect_dgram(p.udp, 100, 1);
    expect_framed(p.cli_accepted, 100, 1);
    /* udp -> both streams */
    st_fill(frame, 1500, 2);
    send_udp(&p, frame, 1500);
    expect_framed(p.srv_client, 1500, 2);
    expect_framed(p.cli_accepted, 1500, 2);
    /* stream client -> udp and stream server */
    st_fill(frame, 60, 3);
    g_assert_true(st_write_framed(p.cli_accepted, frame, 60));
    expect_dgram(p.udp, 60, 3);
    expect_framed(p.srv_client, 60, 3);

    assert_stats(h, "net0", 2, 160, 0, 1, 1500);
    assert_stats(h, "net1", 2, 1560, 0, 1, 100);
    assert_stats(h, "net2", 2, 1600, 0, 1, 60);

    /* the client's peer goes away: net2 comes back within reconnect = 1 s */
    close(p.cli_accepted);
    p.cli_accepted = st_accept(l);
    g_assert_cmpint(p.cli_accepted, >=, 0);
    wait_log_count(h, "netdev 'net2': connected to", 2);
    st_fill(frame, 200, 4);
    send_udp(&p, frame, 200);
    expect_framed(p.cli_accepted, 200, 4);
    expect_framed(p.srv_client, 200, 4);
    assert_stats(h, "net2", 3, 1800, 0, 1, 60); /* counters continue */

    close(p.srv_client);
    close(p.cli_accepted);
    close(p.udp);
    close(l);
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socket/host/joins-udp-and-streams-unprivileged",
                    test_host_joins_udp_and_streams_unprivileged);
    return g_test_run();
}
