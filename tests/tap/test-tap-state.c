// SPDX-License-Identifier: GPL-2.0-or-later
/* test-tap-state.c - the tap handover state: encoding, checks on bad input, adopting a live TAP. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "migrate/mig-session.h"
#include "netbe/migrate.h"
#include "netns.h"
#include "tap-harness.h"
#include "tap-priv.h"
#include "tap-state.h"
#include "tap-test-util.h"

/* The descriptor of the tap plugin code linked into this test. */
const NetbePluginDesc *netbe_plugin_query(uint32_t host_abi);

static TapState sample_state(void)
{
    TapState st = {.ifname = "tap0",
                   .nqueues = 2,
                   .vnet_hdr = true,
                   .kernel_hdr_len = 12,
                   .peer_hdr_len = 12,
                   .offload_caps = 0x7f,
                   .offloads = 0x7,
                   .sndbuf = INT_MAX};

    st.queue_flags[0] = TAP_STATE_Q_ENABLED;
    return st;
}

/*
 * What goes in comes out, in the documented size. Fails if a field is dropped or
 * misplaced by encode or decode.
 */
static void test_round_trip(void)
{
    TapState st = sample_state(), back;
    g_autoptr(GBytes) bytes = tap_state_encode(&st);
    g_autoptr(GError) err = NULL;
    size_t len;
    const uint8_t *data = g_bytes_get_data(bytes, &len);

    g_assert_cmpuint(len, ==, TAP_STATE_HEADER_SIZE + 2);
    g_assert_cmpmem(data, 4, TAP_STATE_MAGIC, 4);
    g_assert_true(tap_state_decode(data, len, 2, &back, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(back.ifname, ==, "tap0");
    g_assert_cmpuint(back.nqueues, ==, 2);
    g_assert_true(back.vnet_hdr);
    g_assert_cmpuint(back.kernel_hdr_len, ==, 12);
    g_assert_cmpuint(back.peer_hdr_len, ==, 12);
    g_assert_cmpuint(back.offload_caps, ==, 0x7f);
    g_assert_cmpuint(back.offloads, ==, 0x7);
    g_assert_cmpint(back.sndbuf, ==, INT_MAX);
    g_assert_cmpuint(back.queue_flags[0], ==, TAP_STATE_Q_ENABLED);
    g_assert_cmpuint(back.queue_flags[1], ==, 0);
}

typedef void (*Mutate)(uint8_t *b, size_t *len, unsigned *nfds);

static void m_short(uint8_t *b, size_t *len, unsigned *nfds)
{
    *len = TAP_STATE_HEADER_SIZE - 1;
}
static void m_magic(uint8_t *b, size_t *len, unsigned *nfds)
{
    b[0] = 'x';
}
static void m_version(uint8_t *b, size_t *len, unsigned *nfds)
{
    b[4] = 2;
}
static void m_extra(uint8_t *b, size_t *len, unsigned *nfds)
{
    (*len)++;
}
static void m_nfds(uint8_t *b, size_t *len, unsigned *nfds)
{
    *nfds = 1;
}
static void m_offloads(uint8_t *b, size_t *len, unsigned *nfds)
{
    b[32] = 0xff;
}
static void m_hdr(uint8_t *b, size_t *len, unsigned *nfds)
{
    b[25] = 10;
}
static void m_qflags(uint8_t *b, size_t *len, unsigned *nfds)
{
    b[TAP_STATE_HEADER_SIZE] = 0x80;
}
static void m_ifname(uint8_t *b, size_t *len, unsigned *nfds)
{
    memset(b + 8, 'a', 16);
}
static void m_queues(uint8_t *b, size_t *len, unsigned *nfds)
{
    b[6] = 0;
}
static void m_sndbuf(uint8_t *b, size_t *len, unsigned *nfds)
{
    memset(b + 36, 0xff, 4);
}

/*
 * A stream is untrusted: each kind of damage is refused with a reason, and no byte
 * pattern (every truncation, random flips) crashes or reads out of bounds (ASan).
 * Fails if a damaged record is accepted.
 */
static void test_malformed_refused(void)
{
    static const struct {
        Mutate mutate;
        const char *message;
    } cases[] = {
        {m_short, "not a tap state record"},
        {m_magic, "not a tap state record"},
        {m_version, "version 2, this plugin reads version 1"},
        {m_extra, "malformed record"},
        {m_nfds, "fd count differs from the queue count"},
        {m_offloads, "offloads outside the capabilities"},
        {m_hdr, "frontend header length does not match the kernel's"},
        {m_qflags, "unknown queue flags"},
        {m_ifname, "malformed record"},
        {m_queues, "malformed record"},
        {m_sndbuf, "sndbuf not positive"},
    };
    TapState st = sample_state(), out;
    g_autoptr(GBytes) bytes = tap_state_encode(&st);
    size_t good_len;
    const uint8_t *good = g_bytes_get_data(bytes, &good_len);
    g_autoptr(GRand) rand = g_rand_new_with_seed(42);

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree uint8_t *b = g_malloc0(good_len + 1);
        g_autoptr(GError) err = NULL;
        size_t len = good_len;
        unsigned nfds = 2;

        memcpy(b, good, good_len);
        cases[i].mutate(b, &len, &nfds);
        g_assert_false(tap_state_decode(b, len, nfds, &out, &err));
        g_assert_nonnull(strstr(err->message, cases[i].message));
    }
    for (size_t len = 0; len < good_len; len++) {
        g_autofree uint8_t *b = g_memdup2(good, len ? len : 1);

        g_assert_false(tap_state_decode(b, len, 2, &out, NULL));
    }
    for (int i = 0; i < 20000; i++) {
        g_autofree uint8_t *b = g_memdup2(good, good_len);

        for (int k = 0; k < 3; k++) {
            b[g_rand_int_range(rand, 0, (gint32)good_len)] = (uint8_t)g_rand_int(rand);
        }
        if (tap_state_decode(b, good_len, 2, &out, NULL)) {
            g_assert_cmpuint(out.nqueues, ==, 2);
            g_assert_cmpuint(out.offloads & ~out.offload_caps, ==, 0);
            g_assert_nonnull(memchr(out.ifname, '\0', sizeof(out.ifname)));
        }
    }
}

/* A tap backend built from the plugin code linked into this test. */
static NetbeBackend *linked_tap_backend(NetbeRuntime *rt, const char *id, const char *ifname)
{
    static NetbePlugin plugin = {.path = (char *)"(linked in)"};
    g_autofree char *section = g_strdup_printf("netdev.%s", id);
    NetbeOptions *o = netbe_options_new("test.ini", section, 1);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    NetbeBackend *be;

    netbe_options_add(o, "ifname", ifname, 2);
    netbe_options_add(o, "queues", "2", 3);
    plugin.desc = netbe_plugin_query(NETBE_PLUGIN_ABI);
    netbe_options_add_schema(o, plugin.desc->options);
    g_assert_true(netbe_options_validate(o, errors));
    be = netbe_backend_new(rt, id, &plugin, o, 64, 0);
    g_ptr_array_add(rt->backends, be);
    g_assert_true(netbe_backend_init(be, &err));
    g_assert_no_error(err);
    return be;
}

/* The backend's handover record as the core writes it (its queue fds, then tap's state). */
static NetbeMigWriter *save_record(NetbeBackend *be)
{
    g_autoptr(GError) err = NULL;
    NetbeMigWriter *w = netbe_mig_writer_new();
    uint32_t frames = 0;

    g_assert_true(mig_backend_save(be, w, &frames, &err));
    g_assert_no_error(err);
    return w;
}

/* Adopt a record as the core does: the header the session reads, then the backend's. */
static bool load_record(NetbeBackend *be, NetbeMigReader *r, GError **errp)
{
    g_autofree char *id = NULL, *plugin = NULL;
    uint32_t queues, frames = 0;

    g_assert_true(netbe_mig_get_string(r, &id) && netbe_mig_get_string(r, &plugin) &&
                  netbe_mig_get_u32(r, &queues));
    return mig_backend_load(be, r, &frames, errp);
}

/* A hand-made record for a 2-queue tap backend: the state @bytes, and @fds (-1: none). */
static NetbeMigWriter *tap_record(GBytes *bytes, const int fds[2])
{
    NetbeMigWriter *w = netbe_mig_writer_new();

    netbe_mig_put_string(w, "dst");
    netbe_mig_put_string(w, "tap");
    netbe_mig_put_u32(w, 2);
    netbe_mig_put_u32(w, 0); /* vnet header length */
    for (int q = 0; q < 2; q++) {
        netbe_mig_put_u32(w, 0); /* frames held for the backend */
        netbe_mig_put_u32(w, 0); /* and for the frontend */
        netbe_mig_put_u32(w, fds[q] >= 0);
        if (fds[q] >= 0) {
            netbe_mig_put_fd(w, fds[q]);
            netbe_mig_put_u32(w, 12); /* vnet header on the fd */
            netbe_mig_put_u32(w, NETBE_FRAMING_PACKET);
            netbe_mig_put_bytes(w, NULL, 0); /* destination */
            netbe_mig_put_bytes(w, NULL, 0); /* stream bytes read */
            netbe_mig_put_bytes(w, NULL, 0); /* and not yet written */
            netbe_mig_put_u32(w, 0);         /* datagrams read ahead */
        }
    }
    netbe_mig_put_u32(w, TAP_STATE_VERSION);
    netbe_mig_put_bytes(w, g_bytes_get_data(bytes, NULL), (uint32_t)g_bytes_get_size(bytes));
    return w;
}

/* A reader over a copy of @data with duplicates of @fds (what SCM_RIGHTS does). */
static NetbeMigReader *reader_with_dups(const void *data, size_t len, const int *fds, unsigned n,
                                        int *dups)
{
    for (unsigned i = 0; i < n; i++) {
        dups[i] = dup(fds[i]);
        g_assert_cmpint(dups[i], >=, 0);
    }
    return netbe_mig_reader_new(data, len, dups, n);
}

/*
 * A live 2-queue TAP (vnet header 12, TSO on, queue 1 detached) moves from one backend
 * to another through the plugin's save() and load(), with the record and fds a
 * migration stream would carry. The first backend goes away; the second adopts without
 * opening anything, has the same negotiated state in the kernel, and carries frames. A
 * second load, or a record with too few fds, is refused and closes what it took. Fails
 * if save/load lose a field, if load opens a new device, forgets to re-apply the header
 * length, or leaks fds on refusal.
 */
static void test_handover_adopts_live_tap(void)
{
    g_autofree char *ifname = tap_test_ifname("h");
    g_autofree char *ns = NULL;
    g_autofree char *detail = NULL;
    g_autofree void *data = NULL;
    g_autoptr(GError) err = NULL;
    static const uint8_t frame[12 + 60] = {[12] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2,
                                           0,           0,    0,    0,    9,    0x88, 0xb5};
    NetbeRuntime *rt;
    NetbeBackend *src, *dst;
    NetbeCaps caps_src, caps_dst;
    NetbeMigWriter *w;
    NetbeMigReader *r;
    int fds[2], dups[2], again[2], hdr = 0;
    const int *wfds;
    const uint8_t *wdata;
    unsigned nwfds;
    size_t len;
    TapHarness *h;

    if (!test_need_root_net()) {
        return;
    }
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    src = linked_tap_backend(rt, "src", ifname);
    g_assert_true(netbe_backend_connect(src, &err));
    g_assert_true(netbe_backend_set_vnet_hdr_len(src, 12, &err));
    g_assert_true(netbe_backend_set_offloads(src, NETBE_OFFLOAD_CSUM | NETBE_OFFLOAD_TSO4, &err));
    g_assert_true(netbe_backend_set_queue_enabled(src, 1, false, &err));
    g_assert_no_error(err);
    netbe_backend_get_caps(src, &caps_src);
    g_assert_cmpuint(src->desc->caps & NETBE_CAP_HANDOVER, !=, 0);
    ns = test_netns_create("ho");
    tap_test_move(ifname, ns, NULL, NULL);

    w = save_record(src);
    wdata = netbe_mig_writer_data(w, &len);
    data = g_memdup2(wdata, len);
    wfds = netbe_mig_writer_fds(w, &nwfds);
    g_assert_cmpuint(nwfds, ==, 2);
    fds[0] = wfds[0];
    fds[1] = wfds[1];
    r = reader_with_dups(data, len, fds, 2, dups);
    netbe_mig_writer_free(w);
    g_ptr_array_remove(rt->backends, src);
    netbe_backend_free(src); /* closes its fds: the TAP lives on in the duplicates */
    g_assert_cmpint(test_sh("ip -n %s link show %s >/dev/null", ns, ifname), ==, 0);

    dst = linked_tap_backend(rt, "dst", ifname);
    g_assert_true(load_record(dst, r, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_mig_reader_at_end(r));
    netbe_mig_reader_free(r);
    h = tap_harness_attach(rt, dst);

    netbe_backend_get_caps(dst, &caps_dst);
    g_assert_cmpuint(caps_dst.offloads, ==, caps_src.offloads);
    g_assert_cmpint(ioctl(dups[0], TUNGETVNETHDRSZ, &hdr), ==, 0);
    g_assert_cmpint(hdr, ==, 12);
    detail = test_sh_output("ip -n %s -d link show %s", ns, ifname);
    g_assert_nonnull(strstr(detail, "numqueues 1 numdisabled 1"));
    g_assert_cmpint(tap_harness_send(h, 0, frame, sizeof(frame), 1000), ==, sizeof(frame));
    g_assert_cmpint(tap_test_kernel_counter(ns, ifname, "rx_packets"), ==, 1);
    g_assert_true(netbe_backend_set_queue_enabled(dst, 1, true, &err));
    g_assert_no_error(err);

    /* a second load on a connected backend is refused; the fds it took are closed */
    r = reader_with_dups(data, len, dups, 2, again);
    g_assert_false(load_record(dst, r, &err));
    g_assert_nonnull(strstr(err->message, "connected already"));
    g_clear_error(&err);
    netbe_mig_reader_free(r);
    g_assert_cmpint(fcntl(again[0], F_GETFD), ==, -1);
    g_assert_cmpint(fcntl(again[1], F_GETFD), ==, -1);

    tap_harness_free(h);
    netbe_runtime_free(rt);
    g_assert_cmpint(fcntl(dups[0], F_GETFD), ==, -1); /* the adopter closed them */
    test_netns_delete(ns);
}

/*
 * A record whose fd count does not match its queue count is refused, and the fds are
 * closed (nothing leaks). Fails if the plugin adopts a partial set.
 */
static void test_load_with_missing_fd_refused(void)
{
    TapState st = sample_state();
    g_autoptr(GBytes) bytes = tap_state_encode(&st);
    g_autoptr(GError) err = NULL;
    NetbeMigWriter *w;
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    NetbeBackend *be = linked_tap_backend(rt, "dst", "tap0");
    NetbeMigReader *r;
    int pipefd[2], dups[1];
    size_t len;
    const void *data;

    g_assert_cmpint(pipe(pipefd), ==, 0);
    w = tap_record(bytes, (const int[2]){pipefd[0], -1});
    data = netbe_mig_writer_data(w, &len);
    r = reader_with_dups(data, len, pipefd, 1, dups);
    g_assert_false(load_record(be, r, &err));
    g_assert_nonnull(strstr(err->message, "fd count differs from the queue count"));
    netbe_mig_reader_free(r);
    g_assert_cmpint(fcntl(dups[0], F_GETFD), ==, -1);
    g_assert_false(be->connected);
    netbe_mig_writer_free(w);
    netbe_runtime_free(rt);
    close(pipefd[0]);
    close(pipefd[1]);
}

/*
 * A record of the right shape whose queue fd is a pipe, not a TAP, is refused with a
 * message that says so, and both fds are closed. Fails if the plugin adopts a non-TAP fd.
 */
static void test_load_with_non_tap_fd_refused(void)
{
    TapState st = sample_state();
    g_autoptr(GBytes) bytes = tap_state_encode(&st);
    g_autoptr(GError) err = NULL;
    NetbeMigWriter *w;
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    NetbeBackend *be = linked_tap_backend(rt, "dst", "tap0");
    NetbeMigReader *r;
    int pipefd[2], dups[2];
    size_t len;
    const void *data;

    g_assert_cmpint(pipe(pipefd), ==, 0);
    w = tap_record(bytes, pipefd);
    data = netbe_mig_writer_data(w, &len);
    r = reader_with_dups(data, len, pipefd, 2, dups);
    g_assert_false(load_record(be, r, &err));
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "not a TAP device"));
    netbe_mig_reader_free(r);
    g_assert_cmpint(fcntl(dups[0], F_GETFD), ==, -1);
    g_assert_cmpint(fcntl(dups[1], F_GETFD), ==, -1);
    g_assert_false(be->connected);
    netbe_mig_writer_free(w);
    netbe_runtime_free(rt);
    close(pipefd[0]);
    close(pipefd[1]);
}

/*
 * A record for 2-queue TAP A whose detached queue 1 is really the detached queue of
 * another TAP, B, is refused naming B; nothing is adopted, every fd it brought is closed,
 * and B's queue is detached again. A's own detached queue passes the same check. Fails
 * if detached queues are taken on trust (the hole this closes), or if the check leaves
 * a queue attached.
 */
static void test_load_with_foreign_detached_queue_refused(void)
{
    g_autofree char *name_a = tap_test_ifname("a");
    g_autofree char *name_b = tap_test_ifname("b");
    g_autofree char *ns = NULL;
    g_autofree char *detail = NULL;
    g_autofree void *data = NULL;
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt;
    NetbeBackend *a, *b, *dst;
    NetbeMigWriter *w;
    NetbeMigReader *r;
    const int *wfds;
    int fds[2], dups[2], home;
    unsigned nwfds;
    size_t len;

    if (!test_need_root_net()) {
        return;
    }
    ns = test_netns_create("dq");
    home = test_netns_enter(ns); /* the TAPs are born in the test's own namespace */
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    a = linked_tap_backend(rt, "a", name_a);
    b = linked_tap_backend(rt, "b", name_b);
    g_assert_true(netbe_backend_connect(a, &err));
    g_assert_true(netbe_backend_connect(b, &err));
    g_assert_true(netbe_backend_set_queue_enabled(a, 1, false, &err));
    g_assert_true(netbe_backend_set_queue_enabled(b, 1, false, &err));
    g_assert_no_error(err);
    w = save_record(a);
    netbe_mig_writer_data(w, &len);
    data = g_memdup2(netbe_mig_writer_data(w, &len), len);
    wfds = netbe_mig_writer_fds(w, &nwfds);
    g_assert_cmpuint(nwfds, ==, 2);
    fds[0] = wfds[0];
    netbe_mig_writer_free(w);
    w = save_record(b);
    fds[1] = netbe_mig_writer_fds(w, &nwfds)[1]; /* B's detached queue */

    dst = linked_tap_backend(rt, "dst", name_a);
    r = reader_with_dups(data, len, fds, 2, dups);
    g_assert_false(load_record(dst, r, &err));
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, name_b));
    g_clear_error(&err);
    netbe_mig_reader_free(r);
    g_assert_cmpint(fcntl(dups[0], F_GETFD), ==, -1);
    g_assert_cmpint(fcntl(dups[1], F_GETFD), ==, -1);
    g_assert_false(dst->connected);
    netbe_mig_writer_free(w);
    detail = test_sh_output("ip -d link show %s", name_b);
    g_assert_nonnull(strstr(detail, "numqueues 1 numdisabled 1"));
    g_clear_pointer(&detail, g_free);

    /* A's own detached queue is A's: adopted, and still detached afterwards */
    w = save_record(a);
    r = reader_with_dups(data, len, netbe_mig_writer_fds(w, &nwfds), 2, dups);
    g_assert_true(load_record(dst, r, &err));
    g_assert_no_error(err);
    netbe_mig_reader_free(r);
    netbe_mig_writer_free(w);
    detail = test_sh_output("ip -d link show %s", name_a);
    g_assert_nonnull(strstr(detail, "numqueues 1 numdisabled 1"));
    netbe_runtime_free(rt);
    test_netns_leave(home);
    test_netns_delete(ns);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tap/state/round-trip", test_round_trip);
    g_test_add_func("/tap/state/malformed-refused", test_malformed_refused);
    g_test_add_func("/tap/state/handover-adopts-live-tap", test_handover_adopts_live_tap);
    g_test_add_func("/tap/state/load-with-missing-fd-refused", test_load_with_missing_fd_refused);
    g_test_add_func("/tap/state/load-with-non-tap-fd-refused", test_load_with_non_tap_fd_refused);
    g_test_add_func("/tap/state/load-with-foreign-detached-queue-refused",
                    test_load_with_foreign_detached_queue_refused);
    return g_test_run();
}
