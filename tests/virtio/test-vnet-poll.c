// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vnet-poll.c - busy-polling of a dry TX ring (core/virtio/vnet-poll.c): when it spins,
 * that it sees the driver's chains, and that it backs off when spinning does not pay. */
#include <pthread.h>
#include <string.h>
#include <glib.h>
#include "vnet-poll.h"

#define QSIZE 8

/* A ring with just what vq_pending() reads: the driver's avail idx. */
typedef struct Ring {
    Vq vq;
    uint16_t avail[2 + QSIZE + 1]; /* flags, idx, ring, used_event */
    uint64_t post_after_us;        /* the driver thread's delay */
} Ring;

static void ring_init(Ring *r)
{
    memset(r, 0, sizeof(*r));
    r->vq.size = QSIZE;
    r->vq.avail = r->avail;
    r->vq.ready = true;
}

static void post_one(Ring *r)
{
    __atomic_store_n(&r->avail[1], (uint16_t)(r->avail[1] + 1), __ATOMIC_RELEASE);
}

static gint64 now_us(void)
{
    return g_get_monotonic_time();
}

/* After 8 spins that find nothing, only every 16th wait spins; one that finds chains brings
 * back a spin at every wait. Fails if an idle ring spins at every wait, or if polling never
 * comes back for a busy one. */
static void test_policy_backs_off_and_comes_back(void)
{
    VnetPoll p = {0};
    unsigned spins = 0;

    for (int i = 0; i < VNET_POLL_MISS_LIMIT; i++) {
        g_assert_true(vnet_poll_should_spin(&p));
        vnet_poll_record(&p, false);
    }
    for (int i = 1; i <= 3 * VNET_POLL_PROBE_EVERY; i++) {
        bool spin = vnet_poll_should_spin(&p);

        g_assert_cmpint(spin, ==, i % VNET_POLL_PROBE_EVERY == 0);
        if (spin) {
            spins++;
            vnet_poll_record(&p, false);
        }
    }
    g_assert_cmpuint(spins, ==, 3);
    while (!vnet_poll_should_spin(&p)) {
    }
    vnet_poll_record(&p, true); /* the probe found chains */
    g_assert_cmpuint(p.hits, ==, 1);
    for (int i = 0; i < 20; i++) {
        g_assert_true(vnet_poll_should_spin(&p));
        vnet_poll_record(&p, true);
    }
}

/* poll_us 0 never spins; a spin on a ring with nothing posted lasts the whole window and
 * says "wait for a kick"; a ring that has chains ends the spin at once. Fails if the window
 * is not honoured (too short) or pending chains are missed. */
static void test_spin_lasts_the_window_and_sees_pending_chains(void)
{
    Ring r;
    VnetPoll p = {0};
    gint64 t0;

    ring_init(&r);
    g_assert_false(vnet_poll_ring(&r.vq, &p, 0));
    g_assert_cmpuint(p.misses, ==, 0); /* off: no spin, nothing recorded */
    t0 = now_us();
    g_assert_false(vnet_poll_ring(&r.vq, &p, 300));
    g_assert_cmpint(now_us() - t0, >=, 300);
    g_assert_cmpuint(p.misses, ==, 1);
    post_one(&r);
    g_assert_true(vnet_poll_ring(&r.vq, &p, 300));
    g_assert_cmpuint(p.misses, ==, 0);
    g_assert_cmpuint(p.hits, ==, 1);
}

static void *driver_thread(void *opaque)
{
    Ring *r = opaque;

    g_usleep(r->post_after_us);
    post_one(r);
    return NULL;
}

/* The driver (another thread) posts 100 us into a 50 ms spin: the spin sees it. Fails if
 * the spin reads a stale index (no acquire load) or gives up early. */
static void test_spin_sees_a_chain_posted_meanwhile(void)
{
    Ring r;
    VnetPoll p = {0};
    pthread_t t;

    ring_init(&r);
    r.post_after_us = 100;
    g_assert_cmpint(pthread_create(&t, NULL, driver_thread, &r), ==, 0);
    g_assert_true(vnet_poll_ring(&r.vq, &p, 50000));
    pthread_join(t, NULL);
    g_assert_cmpuint(p.hits, ==, 1);
}

/* A ring whose driver index jumps more than its size ahead is broken: the spin ends and
 * says so (the caller stops the queue) rather than spinning out its window. */
static void test_spin_ends_on_a_broken_ring(void)
{
    Ring r;
    VnetPoll p = {0};
    gint64 t0;

    ring_init(&r);
    r.avail[1] = QSIZE + 3;
    t0 = now_us();
    g_assert_true(vnet_poll_ring(&r.vq, &p, 1000000));
    g_assert_true(r.vq.broken);
    g_assert_cmpint(now_us() - t0, <, 500000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnet-poll/policy-backs-off-and-comes-back",
                    test_policy_backs_off_and_comes_back);
    g_test_add_func("/vnet-poll/spin-lasts-the-window-and-sees-pending-chains",
                    test_spin_lasts_the_window_and_sees_pending_chains);
    g_test_add_func("/vnet-poll/spin-sees-a-chain-posted-meanwhile",
                    test_spin_sees_a_chain_posted_meanwhile);
    g_test_add_func("/vnet-poll/spin-ends-on-a-broken-ring", test_spin_ends_on_a_broken_ring);
    return g_test_run();
}
