// SPDX-License-Identifier: LGPL-2.1-or-later
/* mig-source.c - the source side of a handover: hello, pause, state, commit, or resume. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "mig-session.h"

typedef struct MigSource {
    NetbeRuntime *rt;
    MigChannel ch;
    int lock_fd;            /* the serving lock (mig-lock.c), held until GO */
    bool sent_go;           /* GO went out: from then on only the lock says who serves */
    bool talking;           /* the peer is trusted and our header went out */
    GPtrArray *moving;      /* NetbeBackend* handed over */
    GPtrArray *devices;     /* NetbeDevice* whose backend moves: their state goes too */
    GPtrArray *was_started; /* NetbeHub* / NetbeDevice* running before the pause */
    bool paused;
    uint64_t pause_ns;
    NetbeMigStats *stats;
} MigSource;

static int connect_unix(const char *path, GError **errp)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(errp, NETBE_MIG_ERROR, ENAMETOOLONG, "%s: path too long", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        g_set_error(errp, NETBE_MIG_ERROR, errno, "cannot reach the destination at %s: %s", path,
                    g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/*
 * source_await() - read the destination's status answer, which must be an @answer record
 * (named @what in errors) saying ok.
 * @time_ns: gets the time the answer carries (may be NULL)
 */
static bool source_await(MigSource *s, MigRecordType answer, const char *what, uint64_t *time_ns,
                         GError **errp)
{
    g_autofree char *reason = NULL;
    MigRecordType got = 0;
    NetbeMigReader *r = mig_recv_record(&s->ch, &got, errp);
    uint64_t t = 0;
    bool ok = false;

    if (!r) {
        return false;
    }
    if ((got != answer && got != MIG_REC_ERROR) || !mig_read_status(r, &ok, &reason, &t)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "expected %s, got a %s record", what,
                    mig_record_name(got));
        ok = false;
    } else if (!ok) {
        g_set_error(errp, NETBE_MIG_ERROR, answer == MIG_REC_REPLY ? EPERM : EIO,
                    "the destination %s: %s", answer == MIG_REC_REPLY ? "refused" : "failed",
                    reason);
    }
    netbe_mig_reader_free(r);
    if (ok && got == answer && time_ns) {
        *time_ns = t;
    }
    return ok && got == answer;
}

/* Send @w (freed here) as a @type record, then source_await() the @answer. */
static bool source_ask(MigSource *s, MigRecordType type, NetbeMigWriter *w, MigRecordType answer,
                       const char *what, GError **errp)
{
    bool sent = mig_send_record(&s->ch, type, w, errp);

    netbe_mig_writer_free(w);
    return sent && source_await(s, answer, what, NULL, errp);
}

static bool source_hello(MigSource *s, GError **errp)
{
    NetbeMigWriter *w;

    for (guint i = 0; i < s->rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(s->rt->backends, i);

        if (mig_backend_can_move(be)) {
            g_ptr_array_add(s->moving, be);
        }
    }
    for (guint i = 0; i < s->rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(s->rt->devices, i);

        if (g_ptr_array_find(s->moving, dev->backend, NULL)) {
            g_ptr_array_add(s->devices, dev);
        }
    }
    s->lock_fd = mig_lock_create(errp);
    if (s->lock_fd < 0) {
        return false;
    }
    w = netbe_mig_writer_new();
    netbe_mig_put_fd(w, s->lock_fd);
    netbe_mig_put_u32(w, s->moving->len);
    for (guint i = 0; i < s->moving->len; i++) {
        NetbeBackend *be = g_ptr_array_index(s->moving, i);

        netbe_mig_put_string(w, be->id);
        netbe_mig_put_string(w, netbe_backend_plugin_name(be));
        netbe_mig_put_u32(w, be->nqueues);
    }
    netbe_mig_put_u32(w, s->devices->len);
    for (guint i = 0; i < s->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(s->devices, i);

        netbe_mig_put_string(w, dev->id);
        netbe_mig_put_string(w, dev->backend->id);
    }
    return source_ask(s, MIG_REC_HELLO, w, MIG_REC_REPLY, "a reply to hello", errp);
}

/* Stop every running frontend: nothing reads the fds now; frames wait in the kernel. */
static bool source_pause(MigSource *s, GError **errp)
{
    s->pause_ns = mig_now_ns();
    for (guint i = 0; i < s->devices->len; i++) {
        netbe_device_pause(g_ptr_array_index(s->devices, i));
    }
    for (guint i = 0; i < s->rt->hubs->len; i++) {
        NetbeHub *hub = g_ptr_array_index(s->rt->hubs, i);

        if (netbe_hub_is_started(hub)) {
            g_ptr_array_add(s->was_started, hub);
            netbe_hub_stop(hub);
        }
    }
    for (guint i = 0; i < s->moving->len; i++) {
        netbe_backend_stop(g_ptr_array_index(s->moving, i));
    }
    s->paused = true;
    return true;
}

/* The records of the devices that use @be: after the backend's, so the target adopts the
 * backend first. */
static bool source_devices_of(MigSource *s, NetbeBackend *be, GError **errp)
{
    for (guint i = 0; i < s->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(s->devices, i);
        NetbeMigWriter *w;
        bool ok;

        if (dev->backend != be) {
            continue;
        }
        if (dev->vhost_user) {
            unsigned nfds;

            w = netbe_mig_writer_new();
            netbe_mig_put_string(w, dev->id);
            ok =
                netbe_vu_save(dev, w, errp) && mig_send_record(&s->ch, MIG_REC_VHOST_USER, w, errp);
            netbe_mig_writer_fds(w, &nfds);
            s->stats->fds += nfds;
            netbe_mig_writer_free(w);
            if (!ok) {
                return false;
            }
        }
        w = netbe_mig_writer_new();
        netbe_mig_put_string(w, dev->id);
        ok = netbe_device_save(dev, w, errp) && mig_send_record(&s->ch, MIG_REC_DEVICE, w, errp);
        netbe_mig_writer_free(w);
        if (!ok) {
            return false;
        }
        s->stats->devices++;
    }
    return true;
}

static bool source_state(MigSource *s, GError **errp)
{
    for (guint i = 0; i < s->moving->len; i++) {
        NetbeBackend *be = g_ptr_array_index(s->moving, i);
        NetbeMigWriter *w = netbe_mig_writer_new();
        unsigned nfds;
        bool ok = mig_backend_save(be, w, &s->stats->frames, errp);

        if (ok && s->ch.peer_version >= NETBE_MIG_VERSION_COUNTERS) {
            mig_backend_save_counters(be, w);
        }
        if (ok && s->ch.peer_version >= NETBE_MIG_VERSION_RATE_LIMITS) {
            netbe_rate_limit_save(be, w);
        }
        ok = ok && mig_send_record(&s->ch, MIG_REC_BACKEND, w, errp);

        netbe_mig_writer_fds(w, &nfds);
        s->stats->fds += nfds;
        netbe_mig_writer_free(w);
        if (!ok || !source_devices_of(s, be, errp)) {
            return false;
        }
        s->stats->backends++;
    }
    return true;
}

/* No more state: the destination loads it all and says it is ready (touching nothing). */
static bool source_commit(MigSource *s, GError **errp)
{
    NetbeMigWriter *w = netbe_mig_writer_new();

    netbe_mig_put_u64(w, s->pause_ns);
    return source_ask(s, MIG_REC_COMMIT, w, MIG_REC_READY, "ready", errp);
}

/* Let go of the serving lock, then tell the destination to take it. */
static bool source_go(MigSource *s, GError **errp)
{
    if (mig_now_ns() >= s->ch.deadline_ns) {
        g_set_error(errp, NETBE_MIG_ERROR, ETIMEDOUT, "the handover deadline (%u ms) passed",
                    s->ch.timeout_ms);
        return false;
    }
    mig_lock_release(s->lock_fd);
    s->sent_go = true;
    return mig_send_status(&s->ch, MIG_REC_GO, true, NULL, 0, errp);
}

/* Wait for the destination's "started" until the deadline (downtime from its time). */
static bool source_started(MigSource *s, GError **errp)
{
    uint64_t resume_ns = 0;

    if (!source_await(s, MIG_REC_STARTED, "started", &resume_ns, errp)) {
        return false;
    }
    s->stats->downtime_ns = resume_ns > s->pause_ns ? resume_ns - s->pause_ns : 0;
    return true;
}

/*
 * source_settle() - after go, whatever happened, the lock decides: the source takes it back
 * if the destination did not take it (and then never will), else the destination serves.
 * @err: what went wrong after go, if anything (consumed)
 * Return: true if the destination serves; false with @errp set if the source does.
 */
static bool source_settle(MigSource *s, GError *err, GError **errp)
{
    if (mig_lock_try(s->lock_fd)) {
        g_set_error(errp, NETBE_MIG_ERROR, err ? err->code : EPROTO,
                    "the destination did not "
                    "take over (%s); the backends are back here",
                    err ? err->message : "it said started without holding the lock");
        g_clear_error(&err);
        return false;
    }
    if (err) {
        g_warning("the destination took over but did not confirm it: %s", err->message);
        g_error_free(err);
    }
    return true;
}

typedef bool (*MigSourceStep)(MigSource *s, GError **errp);

/* The steps in stream order; a failure at any of them resumes the source. */
static const struct {
    const char *name;
    MigSourceStep run;
} source_steps[] = {
    {"hello", source_hello},   {"pause", source_pause}, {"state", source_state},
    {"commit", source_commit}, {"go", source_go},       {"started", source_started},
};

/* Undo the pause: restart what ran; the fds never left, so nothing was lost. */
static void source_resume(MigSource *s)
{
    for (guint i = 0; i < s->devices->len; i++) {
        netbe_device_resume(g_ptr_array_index(s->devices, i));
    }
    for (guint i = 0; i < s->was_started->len; i++) {
        g_autoptr(GError) err = NULL;

        if (!netbe_hub_start(g_ptr_array_index(s->was_started, i), &err)) {
            g_warning("resuming after a failed handover: %s", err->message);
        }
    }
}

/*
 * A send to the destination failed because it closed the stream: it may have said why just
 * before (a refusal of the state it was reading). If that record is there, it replaces
 * *@err, which then names the destination's reason instead of the broken pipe.
 */
static void source_take_refusal(MigSource *s, GError **err)
{
    g_autoptr(GError) none = NULL;
    g_autofree char *reason = NULL;
    MigRecordType got = 0;
    NetbeMigReader *r;
    uint64_t t = 0;
    bool ok = true;

    if (!g_error_matches(*err, NETBE_MIG_ERROR, EPIPE)) {
        return;
    }
    r = mig_recv_record(&s->ch, &got, &none);
    if (r && got == MIG_REC_ERROR && mig_read_status(r, &ok, &reason, &t) && !ok) {
        g_clear_error(err);
        g_set_error(err, NETBE_MIG_ERROR, EIO, "the destination failed: %s", reason);
    }
    netbe_mig_reader_free(r);
}

/* Run the steps. Return: true if the destination serves now. */
static bool source_run(MigSource *s, GError **errp)
{
    GError *err = NULL;

    if (!mig_check_peer(s->rt, s->ch.fd, "destination", NULL, errp)) {
        return false;
    }
    mig_fault_point(&s->ch, "connect");
    s->talking = true;
    if (!mig_send_header(&s->ch, errp) || !mig_recv_header(&s->ch, errp)) {
        return false;
    }
    for (size_t i = 0; !err && i < G_N_ELEMENTS(source_steps); i++) {
        mig_fault_point(&s->ch, source_steps[i].name);
        if (!source_steps[i].run(s, &err)) {
            if (!err) {
                g_set_error(&err, NETBE_MIG_ERROR, EPROTO, "no reason given (a bug)");
            }
            source_take_refusal(s, &err);
            g_prefix_error(&err, "handover failed at %s: ", source_steps[i].name);
        }
    }
    if (s->sent_go) {
        return source_settle(s, err, errp);
    }
    if (err) {
        g_propagate_error(errp, err);
        return false;
    }
    return true;
}

bool netbe_runtime_migrate_to(NetbeRuntime *rt, const char *path, NetbeMigStats *stats,
                              GError **errp)
{
    NetbeMigStats local = {0};
    MigSource s = {.rt = rt, .lock_fd = -1, .stats = stats ? stats : &local};
    g_autoptr(GError) err = NULL;
    int fd;
    bool ok;

    memset(s.stats, 0, sizeof(*s.stats));
    fd = connect_unix(path, errp);
    if (fd < 0) {
        return false;
    }
    mig_channel_init(&s.ch, fd, mig_timeout_ms(rt), "source");
    s.moving = g_ptr_array_new();
    s.devices = g_ptr_array_new();
    s.was_started = g_ptr_array_new();
    netbe_handover_started_event(rt, "source", path);
    ok = source_run(&s, &err);
    netbe_handover_finished_event(rt, "source", s.stats, ok ? NULL : err);
    if (ok) {
        /* the destination holds the lock and serves; close our copies */
        netbe_runtime_release(rt);
        close(s.lock_fd);
    } else {
        if (s.talking) {
            mig_send_status(&s.ch, MIG_REC_ERROR, false, err->message, 0, NULL);
        }
        if (s.paused) {
            source_resume(&s);
        }
        if (s.lock_fd >= 0 && s.sent_go) {
            /* a late destination may still try it: hold it for good, so it never starts */
            mig_lock_keep(rt, s.lock_fd);
        } else if (s.lock_fd >= 0) {
            /* before go a destination takes over only from a source that exited */
            close(s.lock_fd);
        }
        g_propagate_error(errp, g_steal_pointer(&err));
    }
    close(fd);
    g_ptr_array_unref(s.moving);
    g_ptr_array_unref(s.devices);
    g_ptr_array_unref(s.was_started);
    return ok;
}
