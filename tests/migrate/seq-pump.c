// SPDX-License-Identifier: GPL-2.0-or-later
/* seq-pump.c - numbered frames into one TAP and out of another, at a steady rate. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "netns.h"
#include "seq-pump.h"

#define PUMP_ETHERTYPE 0x88b5
#define PUMP_MAX_FRAMES (1u << 21)
/* Frames out of order or doubled that the pump remembers, to say when they came. */
#define PUMP_ANOMALIES 8

struct SeqPump {
    char *netns, *tx_if, *rx_if;
    unsigned rate;
    GThread *sender, *receiver;
    volatile gint stop_sending, stop_receiving;
    volatile guint sent; /* frames tried: their numbers are 0..sent-1 */
    guint refused;       /* of those, refused by send() */
    uint8_t *seen;       /* per sequence number: times received */
    uint32_t distinct;   /* sequence numbers received at least once */
    SeqPumpResult result;
    uint32_t highest;
    gint ready_rx;
    int64_t tap_drops;     /* @tx_if's count of frames dropped on their way out, at the start */
    unsigned anomalies[2]; /* frames that came after a higher number [0], or twice [1] */
    struct {
        uint32_t seq, highest;
        gint64 at; /* monotonic us */
    } anomaly[2][PUMP_ANOMALIES];
};

/* Frames the kernel dropped on their way out of @ifname in @netns (for a TAP: into its
 * reader's queue, which was full), -1 if unknown. */
static int64_t tx_dropped(const char *netns, const char *ifname)
{
    g_autofree char *out = test_sh_output(
        "ip netns exec %s cat /sys/class/net/%s/statistics/tx_dropped", netns, ifname);

    return out ? g_ascii_strtoll(out, NULL, 10) : -1;
}

/* An AF_PACKET socket for our ethertype on @ifname in the calling thread's netns. */
static int pump_socket(const char *ifname)
{
    int fd = test_packet_socket(NULL, ifname, PUMP_ETHERTYPE);
    int buf = 64 << 20; /* a burst after a stall must not overflow the witness itself */

    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
    return fd;
}

/* Frames the kernel dropped at packet socket @fd for want of room (PACKET_STATISTICS). */
static uint64_t socket_drops(int fd)
{
    struct tpacket_stats st = {0};
    socklen_t len = sizeof(st);

    g_assert_cmpint(getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len), ==, 0);
    return st.tp_drops;
}

static gpointer pump_send(gpointer data)
{
    SeqPump *p = data;
    int saved = test_netns_enter(p->netns), fd = pump_socket(p->tx_if);
    uint8_t frame[64] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1};
    struct timespec next;
    uint16_t type = htons(PUMP_ETHERTYPE);
    const long batch_ns = 1000000; /* one batch per millisecond */
    unsigned per_batch = MAX(1u, p->rate / 1000);

    memcpy(frame + 12, &type, 2);
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!g_atomic_int_get(&p->stop_sending) && p->sent < PUMP_MAX_FRAMES) {
        for (unsigned i = 0; i < per_batch; i++) {
            uint32_t seq = htonl(p->sent);

            memcpy(frame + 14, &seq, 4);
            /* a frame the kernel refuses (link down, queue full) counts as sent and lost:
             * an outage must not hide behind send() errors */
            if (send(fd, frame, sizeof(frame), 0) != sizeof(frame)) {
                p->refused++;
            }
            p->sent++;
        }
        next.tv_nsec += batch_ns;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    close(fd);
    test_netns_leave(saved);
    return NULL;
}

/* Remember when frame @seq came late or (@again) once more. */
static void pump_note_anomaly(SeqPump *p, bool again, uint32_t seq)
{
    unsigned i = p->anomalies[again]++;

    if (i < PUMP_ANOMALIES) {
        p->anomaly[again][i].seq = seq;
        p->anomaly[again][i].highest = p->highest;
        p->anomaly[again][i].at = g_get_monotonic_time();
    }
}

static gpointer pump_receive(gpointer data)
{
    SeqPump *p = data;
    int saved = test_netns_enter(p->netns), fd = pump_socket(p->rx_if);
    uint8_t frame[2048];
    int quiet_ms = 0;

    g_atomic_int_set(&p->ready_rx, 1);
    /* after the stop: 1 s of quiet for late frames, 100 ms once every one came (long enough
     * for a doubled frame to show) */
    while (!g_atomic_int_get(&p->stop_receiving) ||
           quiet_ms < (p->distinct >= p->sent ? 100 : 1000)) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        struct sockaddr_ll from;
        socklen_t flen = sizeof(from);
        ssize_t n;
        uint32_t seq;

        if (poll(&pfd, 1, 50) <= 0) {
            quiet_ms += g_atomic_int_get(&p->stop_receiving) ? 50 : 0;
            continue;
        }
        quiet_ms = 0;
        n = recvfrom(fd, frame, sizeof(frame), 0, (struct sockaddr *)&from, &flen);
        if (n < 18 || from.sll_pkttype == PACKET_OUTGOING) {
            continue;
        }
        memcpy(&seq, frame + 14, 4);
        seq = ntohl(seq);
        if (seq >= PUMP_MAX_FRAMES) {
            continue;
        }
        p->result.received++;
        if (p->seen[seq]++) {
            p->result.duplicates++;
        } else {
            p->distinct++;
        }
        if (seq < p->highest) {
            p->result.out_of_order++;
        }
        if (seq < p->highest || p->seen[seq] > 1) {
            pump_note_anomaly(p, p->seen[seq] > 1, seq);
        }
        p->highest = MAX(p->highest, seq);
    }
    p->result.witness_drops = socket_drops(fd);
    close(fd);
    test_netns_leave(saved);
    return NULL;
}

SeqPump *seq_pump_start(const char *netns, const char *tx_if, const char *rx_if, unsigned rate)
{
    SeqPump *p = g_new0(SeqPump, 1);

    p->netns = g_strdup(netns);
    p->tx_if = g_strdup(tx_if);
    p->rx_if = g_strdup(rx_if);
    p->rate = rate;
    p->seen = g_malloc0(PUMP_MAX_FRAMES);
    p->tap_drops = tx_dropped(netns, tx_if);
    g_assert_cmpint(p->tap_drops, >=, 0);
    p->receiver = g_thread_new("pump-rx", pump_receive, p);
    while (!g_atomic_int_get(&p->ready_rx)) {
        g_usleep(1000);
    }
    p->sender = g_thread_new("pump-tx", pump_send, p);
    return p;
}

uint32_t seq_pump_sent(SeqPump *p)
{
    return p->sent;
}

SeqPumpResult seq_pump_stop(SeqPump *p)
{
    SeqPumpResult r;

    g_atomic_int_set(&p->stop_sending, 1);
    g_thread_join(p->sender);
    g_atomic_int_set(&p->stop_receiving, 1);
    g_thread_join(p->receiver);
    p->result.sent = p->sent;
    p->result.refused = p->refused;
    p->result.tap_drops = (uint64_t)(tx_dropped(p->netns, p->tx_if) - p->tap_drops);
    for (uint32_t i = 0; i < p->sent; i++) {
        p->result.missing += !p->seen[i];
    }
    for (unsigned k = 0; k < 2; k++) {
        for (unsigned i = 0; i < MIN(p->anomalies[k], PUMP_ANOMALIES); i++) {
            g_test_message("%s: frame %u came %s after %u, at %.1f ms (monotonic)", p->rx_if,
                           p->anomaly[k][i].seq, k ? "again" : "late", p->anomaly[k][i].highest,
                           p->anomaly[k][i].at / 1000.0);
        }
    }
    r = p->result;
    g_free(p->seen);
    g_free(p->netns);
    g_free(p->tx_if);
    g_free(p->rx_if);
    g_free(p);
    return r;
}
