// SPDX-License-Identifier: GPL-2.0-or-later
/* vu-pump.c - numbered frames both ways through a vhost-user device, at a steady rate. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "netns.h"
#include "vu-pump.h"

#define PUMP_MAX_FRAMES (1u << 20) /* per direction */
#define PUMP_ETHERTYPE 0x88b5      /* local experimental */
#define PUMP_FRAME 64
#define PUMP_SEQ_OFF 14        /* u32 sequence number, network order */
#define PUMP_DIR_OFF 18        /* direction tag */
#define PUMP_QUIET_MS 2000     /* after the stop: wait this long for late frames */
#define PUMP_DONE_QUIET_MS 100 /* ... or this long once every one came */

/* What one direction has seen: who sends it counts up `sent`, who receives fills the rest. */
typedef struct PumpDir {
    volatile guint sent;
    uint8_t *seen; /* per sequence number: times received */
    uint32_t distinct, received, duplicates, stalls;
    int64_t *arrival_us; /* arrival times in order, narrivals of them */
    volatile guint narrivals;
} PumpDir;

struct VuPump {
    VuFront *f;
    VuPumpPeer peer;
    uint8_t mac[6];
    unsigned rate;
    long interval_ns; /* between batches */
    unsigned per_batch;
    PumpDir dir[VU_PUMP_DIRS];
    volatile gint stop_sending;
    GThread *guest, *peer_thread;
};

static int64_t now_us(void)
{
    return g_get_monotonic_time();
}

/* Frame @seq of direction @dir. */
static void pump_frame(const VuPump *p, unsigned dir, uint32_t seq, uint8_t *frame)
{
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x78};
    uint16_t type = htons(PUMP_ETHERTYPE);
    uint32_t be = htonl(seq);

    memset(frame, 0, PUMP_FRAME);
    memcpy(frame, p->mac, 6);
    memcpy(frame + 6, src, 6);
    memcpy(frame + 12, &type, 2);
    memcpy(frame + PUMP_SEQ_OFF, &be, 4);
    frame[PUMP_DIR_OFF] = (uint8_t)('T' + dir);
}

/* Count an arrived frame of @len bytes, if it is one of ours for @dir. */
static void pump_note(VuPump *p, unsigned dir, const uint8_t *frame, ssize_t len)
{
    PumpDir *d = &p->dir[dir];
    uint32_t seq;
    guint n;

    if (len < PUMP_FRAME || frame[PUMP_DIR_OFF] != 'T' + dir) {
        return;
    }
    memcpy(&seq, frame + PUMP_SEQ_OFF, 4);
    seq = ntohl(seq);
    if (seq >= PUMP_MAX_FRAMES) {
        return;
    }
    d->received++;
    if (d->seen[seq]++) {
        d->duplicates++;
    } else {
        d->distinct++;
    }
    n = g_atomic_int_get(&d->narrivals);
    if (n < PUMP_MAX_FRAMES) {
        d->arrival_us[n] = now_us();
        g_atomic_int_set(&d->narrivals, n + 1);
    }
}

/* Advance @next by one batch interval. */
static void pump_tick(const VuPump *p, struct timespec *next)
{
    next->tv_nsec += p->interval_ns;
    while (next->tv_nsec >= 1000000000) {
        next->tv_nsec -= 1000000000;
        next->tv_sec++;
    }
}

/*
 * pump_wait() - wait until @fd is readable or the time @next comes.
 * Return: true if it became readable before @next.
 */
static bool pump_wait(int fd, const struct timespec *next)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    struct timespec now, left;
    int64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (next->tv_sec - now.tv_sec) * 1000000000L + (next->tv_nsec - now.tv_nsec);
    if (ns <= 0) {
        return false;
    }
    left = (struct timespec){ns / 1000000000L, ns % 1000000000L};
    return ppoll(&pfd, 1, &left, NULL) == 1;
}

/* True once sending stopped and the direction has been quiet long enough. */
static bool pump_done(VuPump *p, unsigned dir, int64_t last_us)
{
    const PumpDir *d = &p->dir[dir];
    int64_t quiet = d->distinct >= d->sent ? PUMP_DONE_QUIET_MS : PUMP_QUIET_MS;

    return g_atomic_int_get(&p->stop_sending) && now_us() - last_us > quiet * 1000;
}

/* The guest: a batch of TX frames per tick (a full ring keeps the frame for the next
 * tick), and RX frames taken as they come (woken by the call fd) between ticks. */
static gpointer pump_guest(gpointer data)
{
    VuPump *p = data;
    PumpDir *tx = &p->dir[VU_PUMP_TX];
    uint8_t frame[PUMP_FRAME], got[2048];
    struct timespec next;
    int64_t last = now_us();

    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!pump_done(p, VU_PUMP_RX, last)) {
        for (unsigned i = 0;
             !g_atomic_int_get(&p->stop_sending) && i < p->per_batch && tx->sent < PUMP_MAX_FRAMES;
             i++) {
            pump_frame(p, VU_PUMP_TX, tx->sent, frame);
            if (!vu_front_send(p->f, 0, NULL, frame, sizeof(frame), false)) {
                tx->stalls++;
                break;
            }
            g_atomic_int_inc(&tx->sent);
        }
        pump_tick(p, &next);
        for (;;) {
            int call = p->f->q[vu_rxq(0)].call_fd;
            ssize_t n = vu_front_recv(p->f, 0, got, sizeof(got), NULL, NULL, 0);
            uint64_t v;

            if (n >= 0) {
                pump_note(p, VU_PUMP_RX, got, n);
                last = now_us();
                continue;
            }
            /* vu_front_recv() asked for a call before it gave up */
            if (!pump_wait(call, &next) || read(call, &v, sizeof(v)) != sizeof(v)) {
                break;
            }
        }
        vu_front_tx_reclaim(p->f, 0);
    }
    return NULL;
}

/* The peer: a batch of RX frames per tick, TX frames taken as they come between ticks. */
static gpointer pump_peer(gpointer data)
{
    VuPump *p = data;
    PumpDir *rx = &p->dir[VU_PUMP_RX];
    uint8_t frame[PUMP_FRAME], got[2048];
    struct timespec next;
    int64_t last = now_us();

    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!pump_done(p, VU_PUMP_TX, last)) {
        for (unsigned i = 0;
             !g_atomic_int_get(&p->stop_sending) && i < p->per_batch && rx->sent < PUMP_MAX_FRAMES;
             i++) {
            pump_frame(p, VU_PUMP_RX, rx->sent, frame);
            /* a frame the kernel refuses counts as sent, and so as lost */
            sendto(p->peer.fd, frame, sizeof(frame), 0, p->peer.to, p->peer.tolen);
            g_atomic_int_inc(&rx->sent);
        }
        pump_tick(p, &next);
        while (pump_wait(p->peer.fd, &next)) {
            struct sockaddr_storage from;
            socklen_t flen = sizeof(from);
            const struct sockaddr_ll *ll = (const struct sockaddr_ll *)&from;
            ssize_t n = recvfrom(p->peer.fd, got, sizeof(got), MSG_DONTWAIT,
                                 (struct sockaddr *)&from, &flen);

            if (n > 0 && !(from.ss_family == AF_PACKET && ll->sll_pkttype == PACKET_OUTGOING)) {
                pump_note(p, VU_PUMP_TX, got, n);
                last = now_us();
            }
        }
    }
    return NULL;
}

int vu_pump_packet_socket(const char *netns, const char *ifname)
{
    int fd = test_packet_socket(netns, ifname, PUMP_ETHERTYPE);
    int buf = 64 << 20; /* what arrives while a handover pauses the device */

    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
    return fd;
}

VuPump *vu_pump_start(VuFront *f, const VuPumpPeer *peer, const uint8_t mac[6], unsigned rate)
{
    VuPump *p = g_new0(VuPump, 1);

    p->f = f;
    p->peer = *peer;
    memcpy(p->mac, mac, 6);
    p->rate = MAX(rate, 1u);
    p->interval_ns = p->rate >= 10000 ? 100000 : 1000000000L / p->rate;
    p->per_batch = p->rate >= 10000 ? p->rate / 10000 : 1;
    for (unsigned d = 0; d < VU_PUMP_DIRS; d++) {
        p->dir[d].seen = g_malloc0(PUMP_MAX_FRAMES);
        p->dir[d].arrival_us = g_new(int64_t, PUMP_MAX_FRAMES);
    }
    p->guest = g_thread_new("vu-pump-guest", pump_guest, p);
    p->peer_thread = g_thread_new("vu-pump-peer", pump_peer, p);
    return p;
}

uint32_t vu_pump_sent(VuPump *p, unsigned dir)
{
    return g_atomic_int_get(&p->dir[dir].sent);
}

int64_t vu_pump_max_gap_us(VuPump *p, unsigned dir, int64_t from_us, int64_t to_us, int64_t *end_us)
{
    const PumpDir *d = &p->dir[dir];
    guint n = g_atomic_int_get(&d->narrivals);
    int64_t gap = 0;

    for (guint i = 1; i < n; i++) {
        if (d->arrival_us[i] >= from_us && d->arrival_us[i - 1] <= to_us &&
            d->arrival_us[i] - d->arrival_us[i - 1] > gap) {
            gap = d->arrival_us[i] - d->arrival_us[i - 1];
            if (end_us) {
                *end_us = d->arrival_us[i];
            }
        }
    }
    return gap;
}

void vu_pump_stop(VuPump *p, VuPumpCount *count)
{
    g_atomic_int_set(&p->stop_sending, 1);
    g_thread_join(p->guest);
    g_thread_join(p->peer_thread);
    for (unsigned dir = 0; dir < VU_PUMP_DIRS; dir++) {
        PumpDir *d = &p->dir[dir];
        VuPumpCount *c = &count[dir];

        *c = (VuPumpCount){.sent = d->sent,
                           .received = d->received,
                           .duplicates = d->duplicates,
                           .stalls = d->stalls};
        for (uint32_t i = 0; i < d->sent; i++) {
            c->missing += !d->seen[i];
        }
        g_free(d->seen);
        g_free(d->arrival_us);
    }
    g_free(p);
}
