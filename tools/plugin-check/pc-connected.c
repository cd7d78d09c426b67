// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-connected.c - netbe-plugin-check: a connected instance obeys the ABI (queue fds in the
 * core, or a producer's send and poll), frames flow through it, and its handover record
 * loads in a fresh runtime with its fds and refuses a newer state version. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include "migrate/mig-session.h"
#include "pc-peer.h"
#include "pc-wire.h"

#define PC_FRAME_SMALL 60
#define PC_FRAME_LARGE 1514

/* An instance of the plugin, connected, with the check as its frontend. */
typedef struct PcLive {
    NetbeRuntime *rt;
    NetbeBackend *be;
    PcPeer peer;
    PcShim *shim;
    PcWire wire;
    char *no_wire; /* why there is no wire */
    char *text;    /* its config */
} PcLive;

static bool peer_got(void *opaque)
{
    void **args = opaque;

    return pc_peer_has(args[0], args[1], PC_FRAME_SMALL);
}

/* One frame each way through @be and the wire. Return: NULL, or what went wrong. */
static char *loop_frames(NetbeRuntime *rt, NetbeBackend *be, PcPeer *peer, PcWire *w, unsigned seq)
{
    uint8_t out[PC_FRAME_LARGE], in[PC_FRAME_SMALL];
    struct iovec iov = {out, sizeof(out)};
    void *args[2] = {peer, in};
    ssize_t n;

    pc_frame_make(out, sizeof(out), seq);
    n = netbe_backend_send(be, 0, &iov, 1, false);
    if (n != (ssize_t)sizeof(out)) {
        return g_strdup_printf("sending a %zu-byte frame gave %zd", sizeof(out), n);
    }
    if (!pc_wire_expect(w, out, sizeof(out), 2000)) {
        return g_strdup_printf("a %zu-byte frame sent to the backend did not reach %s", sizeof(out),
                               w->what);
    }
    pc_frame_make(in, sizeof(in), seq + 1);
    if (!pc_wire_write(w, in, sizeof(in))) {
        return g_strdup_printf("writing to %s: %s", w->what, g_strerror(errno));
    }
    if (!pc_run_until(rt, peer_got, args, 2000)) {
        return g_strdup_printf("a %zu-byte frame written to %s did not reach the frontend",
                               sizeof(in), w->what);
    }
    return NULL;
}

/* Init and connect an instance from the connect config. */
static bool live_connect(PcCtx *c, PcLive *l)
{
    g_autoptr(GHashTable) before = NULL;
    g_autoptr(GError) err = NULL;

    pc_step("connect");
    if (c->connect_config && !g_file_get_contents(c->connect_config, &l->text, NULL, &err)) {
        pc_result(PC_FAIL, "connect", "%s", err->message);
        return false;
    }
    if (!l->text) {
        l->text = pc_config_text(c, NULL, NULL, NULL);
    }
    l->rt = pc_runtime_new(c, NETBE_RUNTIME_CHECK_ONLY);
    if (!netbe_runtime_load_config_string(l->rt, l->text, c->connect_config ?: PC_CONFIG_NAME,
                                          &err) ||
        !(l->be = pc_find_backend(c, l->rt))) {
        pc_result(PC_FAIL, "connect", "the config: %s",
                  err ? err->message : "has no netdev of this plugin's type");
        return false;
    }
    l->shim = pc_shim_install(l->be);
    pc_peer_attach(&l->peer, l->be);
    before = pc_fds_snapshot();
    if (!netbe_backend_connect(l->be, &err)) {
        pc_result(PC_FAIL, "connect", "backend_connect: %s", err->message);
        return false;
    }
    netbe_backend_start(l->be);
    pc_result(PC_PASS, "connect", "backend_connect succeeded (%u queue%s)", l->be->nqueues,
              l->be->nqueues == 1 ? "" : "s");
    if (netbe_backend_has_queue_fds(l->be) &&
        !pc_wire_find(l->rt, l->be, before, &l->wire, &l->no_wire)) {
        l->wire.fd = -1;
    }
    return true;
}

/* An fd plugin: every queue's fd is in the core; frames loop through the wire. */
static void check_fd_queues(PcLive *l)
{
    unsigned missing = 0;
    g_autofree char *why = NULL;

    pc_step("queue-fds");
    for (unsigned q = 0; q < l->be->nqueues; q++) {
        missing += netbe_backend_get_queue_fd(l->be, q) < 0;
    }
    if (missing) {
        pc_result(PC_FAIL, "queue-fds",
                  "%u of %u queues have no fd in the core after connect (hand them with "
                  "netbe_backend_set_queue_fd())%s%s",
                  missing, l->be->nqueues, l->no_wire ? "; " : "", l->no_wire ? l->no_wire : "");
    } else {
        pc_result(PC_PASS, "queue-fds", "every queue's fd is in the core");
    }
    pc_step("frames");
    if (l->wire.fd < 0) {
        pc_result(PC_SKIP, "frames", "no loopback: %s", l->no_wire);
    } else if ((why = loop_frames(l->rt, l->be, &l->peer, &l->wire, 1))) {
        pc_result(PC_FAIL, "frames", "%s", why);
    } else {
        pc_result(PC_PASS, "frames", "a frame each way through %s", l->wire.what);
    }
}

/* A producer: send answers bytes, 0 or -errno; poll starts and stops it. */
static void check_producer(PcLive *l)
{
    static const size_t sizes[] = {PC_FRAME_SMALL, PC_FRAME_LARGE, 14, NETBE_FRAME_MAX};
    uint64_t drops;
    NetbeQueueStats *st = &l->be->queues[0].stats;

    pc_step("send");
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree uint8_t *f = g_malloc0(sizes[i] < 60 ? 60 : sizes[i]);
        struct iovec iov = {f, sizes[i]};

        pc_frame_make(f, sizes[i] < 60 ? 60 : sizes[i], (unsigned)i);
        netbe_backend_send(l->be, 0, &iov, 1, false);
        pc_run_for(l->rt, 20);
    }
    if (l->shim->bad_sends) {
        pc_result(PC_FAIL, "send",
                  "%u of %u answers were not bytes taken, 0 or -errno (last: %zd for a %zu-byte "
                  "frame)",
                  l->shim->bad_sends, l->shim->sends, l->shim->bad_answer, l->shim->bad_len);
    } else {
        pc_result(PC_PASS, "send", "%u frames (14 to %u bytes): each answer bytes, 0 or -errno",
                  l->shim->sends, NETBE_FRAME_MAX);
    }
    pc_step("poll");
    pc_run_for(l->rt, 100);
    netbe_backend_stop(l->be);
    drops = st->rx_drops;
    pc_run_for(l->rt, 200);
    if (!l->shim->polls_on || !l->shim->polls_off) {
        pc_result(PC_FAIL, "poll", "the core's poll calls did not reach the plugin");
    } else if (st->rx_drops > drops) {
        pc_result(PC_FAIL, "poll", "%" G_GUINT64_FORMAT " frames delivered after poll(false)",
                  st->rx_drops - drops);
    } else {
        pc_result(PC_PASS, "poll",
                  "started and stopped; nothing delivered while stopped (%u frames delivered "
                  "while polling)",
                  l->peer.frames->len);
    }
    netbe_backend_start(l->be);
    pc_result(PC_SKIP, "frames", "a producer's frames depend on what it is (%u delivered here)",
              l->peer.frames->len);
}

/* The record of @w as a reader of its own (the fds duplicated), past id, plugin, queues. */
static NetbeMigReader *record_reader(NetbeMigWriter *w, unsigned *nfds)
{
    size_t len;
    const uint8_t *data = netbe_mig_writer_data(w, &len);
    const int *fds = netbe_mig_writer_fds(w, nfds);
    int dups[NETBE_MAX_QUEUES * 2 + 16];
    NetbeMigReader *r;
    g_autofree char *id = NULL, *name = NULL;
    uint32_t queues;

    g_assert(*nfds <= G_N_ELEMENTS(dups));
    for (unsigned i = 0; i < *nfds; i++) {
        dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
    }
    r = netbe_mig_reader_new(data, len, dups, *nfds);
    g_assert(netbe_mig_get_string(r, &id) && netbe_mig_get_string(r, &name) &&
             netbe_mig_get_u32(r, &queues));
    return r;
}

/* The record claims state_version + 1: a fresh instance's load must refuse it, and leak
 * nothing. */
static void check_newer_version(PcCtx *c, PcLive *l, NetbeMigWriter *newer)
{
    g_autoptr(GHashTable) before = pc_fds_snapshot();
    g_autoptr(GHashTable) after = NULL;
    g_autofree char *leaked = NULL;
    g_autoptr(GError) err = NULL;
    NetbeBackend *be;
    uint32_t frames = 0;
    unsigned nfds;
    NetbeMigReader *r = record_reader(newer, &nfds);
    NetbeRuntime *rt = pc_instance_new(c, l->text, &be, NULL);
    bool loaded;

    pc_step("handover-version");
    g_assert(rt);
    loaded = mig_backend_load(be, r, &frames, &err);
    netbe_mig_reader_free(r);
    netbe_runtime_free(rt);
    after = pc_fds_snapshot();
    leaked = pc_fds_new(before, after);
    if (loaded) {
        pc_result(PC_FAIL, "handover-version",
                  "load accepted a record of state_version %u (the plugin writes %u): it must "
                  "refuse a version it cannot read",
                  c->desc->state_version + 1, c->desc->state_version);
    } else if (leaked) {
        pc_result(PC_FAIL, "handover-version",
                  "load refused state_version %u, but after cleanup still open: %s",
                  c->desc->state_version + 1, leaked);
    } else {
        pc_result(PC_PASS, "handover-version", "load refused state_version %u: %s",
                  c->desc->state_version + 1, err->message);
    }
}

/* Save the paused instance, load it in a fresh runtime, and run it there. */
static void check_handover(PcCtx *c, PcLive *l)
{
    NetbeMigWriter *w = netbe_mig_writer_new(), *newer = netbe_mig_writer_new();
    g_autoptr(GError) err = NULL;
    g_autofree char *why = NULL;
    PcPeer peer2 = {0};
    NetbeRuntime *rt2 = NULL;
    NetbeBackend *be2;
    NetbeMigReader *r;
    uint32_t frames = 0;
    unsigned nfds, missing = 0;

    pc_step("handover-save");
    netbe_backend_stop(l->be);
    if (!mig_backend_save_as(l->be, newer, c->desc->state_version + 1, &frames, &err) ||
        !mig_backend_save(l->be, w, &frames, &err)) {
        pc_result(PC_FAIL, "handover-save", "%s", err->message);
        goto out;
    }
    check_newer_version(c, l, newer);
    pc_step("handover-load");
    r = record_reader(w, &nfds);
    rt2 = pc_instance_new(c, l->text, &be2, NULL);
    g_assert(rt2);
    if (!mig_backend_load(be2, r, &frames, &err)) {
        netbe_mig_reader_free(r);
        pc_result(PC_FAIL, "handover-load", "a fresh runtime refused the record: %s", err->message);
        goto out;
    }
    netbe_mig_reader_free(r);
    pc_result(PC_PASS, "handover-load", "the record (%u fds) loaded in a fresh runtime", nfds);
    pc_step("handover-fds");
    for (unsigned q = 0; q < be2->nqueues; q++) {
        missing += netbe_backend_get_queue_fd(be2, q) < 0;
    }
    if (!netbe_backend_has_queue_fds(be2)) {
        pc_result(PC_SKIP, "handover-fds", "a producer has no queue fds to carry");
    } else if (missing) {
        pc_result(PC_FAIL, "handover-fds", "%u of %u queues have no fd after the load", missing,
                  be2->nqueues);
    } else {
        pc_result(PC_PASS, "handover-fds", "every queue's fd arrived in the new instance");
    }
    /* the source lets go, as after a handover; the new instance runs */
    netbe_runtime_release(l->rt);
    pc_peer_attach(&peer2, be2);
    netbe_backend_start(be2);
    pc_step("handover-frames");
    if (l->wire.fd < 0) {
        pc_result(PC_SKIP, "handover-frames", "no loopback");
    } else if ((why = loop_frames(rt2, be2, &peer2, &l->wire, 11))) {
        pc_result(PC_FAIL, "handover-frames", "after the handover, %s", why);
    } else {
        pc_result(PC_PASS, "handover-frames", "a frame each way through the new instance");
    }
out:
    netbe_runtime_free(rt2);
    pc_peer_clear(&peer2);
    netbe_mig_writer_free(w);
    netbe_mig_writer_free(newer);
}

void pc_check_connected(PcCtx *c)
{
    PcLive l = {.wire.fd = -1};

    if (c->no_connect_why || !c->connect) {
        pc_result(PC_SKIP, "connect", "%s",
                  c->no_connect_why ? c->no_connect_why
                                    : "not asked for (give --connect, --option KEY=VALUE or "
                                      "--connect-config FILE)");
        return;
    }
    if (live_connect(c, &l)) {
        if (netbe_backend_has_queue_fds(l.be)) {
            check_fd_queues(&l);
        } else {
            check_producer(&l);
        }
        if (c->desc->caps & NETBE_CAP_HANDOVER) {
            check_handover(c, &l);
        } else {
            pc_result(PC_SKIP, "handover", "no NETBE_CAP_HANDOVER");
        }
    }
    netbe_runtime_free(l.rt);
    pc_wire_close(&l.wire);
    pc_peer_clear(&l.peer);
    g_free(l.no_wire);
    g_free(l.text);
}
