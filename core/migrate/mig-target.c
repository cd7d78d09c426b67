// SPDX-License-Identifier: LGPL-2.1-or-later
/* mig-target.c - the destination side of a handover: check, adopt, acknowledge, resume. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "mig-session.h"

typedef struct MigTarget {
    NetbeRuntime *rt;
    MigChannel ch;
    int lock_fd;         /* the serving lock the hello brought, -1 before */
    bool holds_lock;     /* we took it: we serve, no rollback any more */
    bool source_gave_up; /* an error record came: the source serves */
    int source_pidfd;    /* the source process (pidfd_open of SO_PEERCRED's pid), -1 */
    GPtrArray *expected; /* NetbeBackend* announced by the hello */
    GPtrArray *adopted;  /* NetbeBackend* whose state and fds were loaded */
    GPtrArray *devices;  /* NetbeDevice* announced by the hello */
    GPtrArray *loaded;   /* NetbeDevice* whose state was loaded (paused until resume) */
    uint64_t pause_ns;
    bool recreates; /* an adopted backend came without fds: it reopens its host
                     * resources (listeners), which the source must let go first */
    NetbeMigStats *stats;
} MigTarget;

/* Check one announced backend against our config. Return: a reason to refuse, or NULL. */
static char *target_check_backend(MigTarget *t, const char *id, const char *plugin, uint32_t queues)
{
    NetbeBackend *be = netbe_runtime_find_backend(t->rt, id);

    if (!be) {
        return g_strdup_printf("no netdev '%s' here (device ids differ)", id);
    }
    if (strcmp(netbe_backend_plugin_name(be), plugin) != 0) {
        return g_strdup_printf("netdev '%s' is %s here, %s there", id,
                               netbe_backend_plugin_name(be), plugin);
    }
    if (be->nqueues != queues) {
        return g_strdup_printf("netdev '%s' has %u queues here, %u there", id, be->nqueues, queues);
    }
    if (be->connect != NETBE_CONNECT_DEFERRED || be->connected) {
        return g_strdup_printf("netdev '%s' is used by a connect=immediate frontend here: it "
                               "cannot take incoming fds",
                               id);
    }
    if (!be->desc->load) {
        return g_strdup_printf("netdev '%s': plugin %s cannot load state", id, plugin);
    }
    if (g_ptr_array_find(t->expected, be, NULL)) {
        return g_strdup_printf("netdev '%s' announced twice", id);
    }
    g_ptr_array_add(t->expected, be);
    return NULL;
}

/* Check one announced device: ours, deferred, on the backend the source says. */
static char *target_check_device(MigTarget *t, const char *id, const char *backend_id)
{
    NetbeDevice *dev = netbe_runtime_find_device(t->rt, id);

    if (!dev) {
        return g_strdup_printf("no device '%s' here (device ids differ)", id);
    }
    if (strcmp(dev->backend->id, backend_id) != 0) {
        return g_strdup_printf("device '%s' uses netdev '%s' here, '%s' there", id,
                               dev->backend->id, backend_id);
    }
    if (!g_ptr_array_find(t->expected, dev->backend, NULL)) {
        return g_strdup_printf("device '%s': its netdev '%s' does not move with it", id,
                               backend_id);
    }
    if (dev->started || g_ptr_array_find(t->devices, dev, NULL)) {
        return g_strdup_printf("device '%s' is running here already (or announced twice)", id);
    }
    g_ptr_array_add(t->devices, dev);
    return NULL;
}

static bool target_hello(MigTarget *t, GError **errp)
{
    MigRecordType type;
    NetbeMigReader *r = mig_recv_record(&t->ch, &type, errp);
    g_autofree char *problem = NULL;
    g_autoptr(GError) lock_err = NULL;
    uint32_t n = 0;

    if (!r) {
        return false;
    }
    if (type != MIG_REC_HELLO) {
        problem = g_strdup_printf("expected a hello, got a %s record", mig_record_name(type));
    } else if ((t->lock_fd = mig_lock_adopt(netbe_mig_get_fd(r), &lock_err)) < 0) {
        problem = g_strdup(lock_err->message);
    } else if (!netbe_mig_get_u32(r, &n) || n > t->rt->backends->len + 1) {
        problem = g_strdup("malformed hello record");
    }
    for (uint32_t i = 0; !problem && i < n; i++) {
        g_autofree char *id = NULL, *plugin = NULL;
        uint32_t queues;

        if (!netbe_mig_get_string(r, &id) || !netbe_mig_get_string(r, &plugin) ||
            !netbe_mig_get_u32(r, &queues)) {
            problem = g_strdup("malformed hello record");
        } else {
            problem = target_check_backend(t, id, plugin, queues);
        }
    }
    if (!problem && (!netbe_mig_get_u32(r, &n) || n > t->rt->devices->len + 1)) {
        problem = g_strdup("malformed hello record (devices)");
    }
    for (uint32_t i = 0; !problem && i < n; i++) {
        g_autofree char *id = NULL, *backend_id = NULL;

        if (!netbe_mig_get_string(r, &id) || !netbe_mig_get_string(r, &backend_id)) {
            problem = g_strdup("malformed hello record (devices)");
        } else {
            problem = target_check_device(t, id, backend_id);
        }
    }
    if (!problem && !netbe_mig_reader_at_end(r)) {
        problem = g_strdup("malformed hello record (more fields or fds than announced)");
    }
    netbe_mig_reader_free(r);
    if (problem) {
        mig_send_status(&t->ch, MIG_REC_REPLY, false, problem, 0, NULL);
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "refused the handover: %s", problem);
        return false;
    }
    return mig_send_status(&t->ch, MIG_REC_REPLY, true, NULL, 0, errp);
}

/* The source sent an error record (or a go that says no): it serves; we stop here. */
static void target_source_gave_up(MigTarget *t, const char *reason, GError **errp)
{
    g_set_error(errp, NETBE_MIG_ERROR, ECANCELED, "the source gave up: %s", reason);
    t->source_gave_up = true;
}

static bool target_backend(MigTarget *t, NetbeMigReader *r, GError **errp)
{
    g_autofree char *id = NULL, *plugin = NULL;
    NetbeBackend *be;
    uint32_t queues;

    if (!netbe_mig_get_string(r, &id) || !netbe_mig_get_string(r, &plugin) ||
        !netbe_mig_get_u32(r, &queues)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "malformed backend record");
        return false;
    }
    be = netbe_runtime_find_backend(t->rt, id);
    if (!be || !g_ptr_array_find(t->expected, be, NULL) || g_ptr_array_find(t->adopted, be, NULL)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                    "state for netdev '%s', which the hello "
                    "did not announce (or twice)",
                    id);
        return false;
    }
    if (!mig_backend_load(be, r, &t->stats->frames, errp)) {
        if (be->connected) {
            g_ptr_array_add(t->adopted, be); /* loaded, then found wanting: undo it too */
        }
        return false;
    }
    g_ptr_array_add(t->adopted, be);
    t->recreates |= mig_reader_fd_count(r) == 0;
    t->stats->backends++;
    t->stats->fds += mig_reader_fd_count(r);
    return true;
}

/* The announced device a state record is for, before its device record. */
static NetbeDevice *target_record_device(MigTarget *t, NetbeMigReader *r, GError **errp)
{
    g_autofree char *id = NULL;
    NetbeDevice *dev = NULL;

    if (!netbe_mig_get_string(r, &id) || !(dev = netbe_runtime_find_device(t->rt, id)) ||
        !g_ptr_array_find(t->devices, dev, NULL) || g_ptr_array_find(t->loaded, dev, NULL) ||
        !g_ptr_array_find(t->adopted, dev->backend, NULL)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                    "state for device '%s', which the hello did "
                    "not announce, twice, or before its netdev",
                    id ? id : "?");
        return NULL;
    }
    return dev;
}

/* A vhost-user device's transport: adopted, not watched before we serve. */
static bool target_vhost_user(MigTarget *t, NetbeMigReader *r, GError **errp)
{
    NetbeDevice *dev = target_record_device(t, r, errp);

    if (!dev || !netbe_vu_load(dev, r, errp)) {
        return false;
    }
    t->stats->fds += mig_reader_fd_count(r);
    return true;
}

static bool target_device(MigTarget *t, NetbeMigReader *r, GError **errp)
{
    NetbeDevice *dev = target_record_device(t, r, errp);
    const char *id = dev ? dev->id : NULL;

    if (!dev) {
        return false;
    }
    if (dev->vhost_user && !dev->vu) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                    "device '%s': its vhost-user state did not "
                    "come before it",
                    id);
        return false;
    }
    if (!netbe_device_load(dev, r, errp)) {
        g_prefix_error(errp, "device '%s': ", id);
        return false;
    }
    g_ptr_array_add(t->loaded, dev);
    t->stats->devices++;
    return true;
}

static bool target_state(MigTarget *t, GError **errp)
{
    for (;;) {
        MigRecordType type;
        NetbeMigReader *r = mig_recv_record(&t->ch, &type, errp);
        g_autofree char *reason = NULL;
        bool ok = false;
        uint64_t unused;

        if (!r) {
            return false;
        }
        switch (type) {
        case MIG_REC_BACKEND:
            ok = target_backend(t, r, errp);
            break;
        case MIG_REC_DEVICE:
            ok = target_device(t, r, errp);
            break;
        case MIG_REC_VHOST_USER:
            ok = target_vhost_user(t, r, errp);
            break;
        case MIG_REC_COMMIT:
            ok = netbe_mig_get_u64(r, &t->pause_ns);
            if (ok && (t->adopted->len != t->expected->len || t->loaded->len != t->devices->len)) {
                g_set_error(errp, NETBE_MIG_ERROR, EPROTO,
                            "commit after %u of %u backends "
                            "and %u of %u devices",
                            t->adopted->len, t->expected->len, t->loaded->len, t->devices->len);
                ok = false;
            } else if (!ok) {
                g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "malformed commit record");
            }
            netbe_mig_reader_free(r);
            return ok;
        case MIG_REC_ERROR:
            mig_read_status(r, &ok, &reason, &unused);
            target_source_gave_up(t, reason ? reason : "(no reason)", errp);
            ok = false;
            break;
        default:
            g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "unexpected %s record",
                        mig_record_name(type));
            break;
        }
        netbe_mig_reader_free(r);
        if (!ok) {
            return false;
        }
    }
}

/* Everything is loaded, nothing touched: tell the source. */
static bool target_ready(MigTarget *t, GError **errp)
{
    return mig_send_status(&t->ch, MIG_REC_READY, true, NULL, 0, errp);
}

/* Wait for the source's go: it let go of the serving lock. */
static bool target_go(MigTarget *t, GError **errp)
{
    g_autofree char *reason = NULL;
    MigRecordType type;
    NetbeMigReader *r = mig_recv_record(&t->ch, &type, errp);
    uint64_t unused;
    bool ok = false;

    if (!r) {
        return false;
    }
    if ((type != MIG_REC_GO && type != MIG_REC_ERROR) ||
        !mig_read_status(r, &ok, &reason, &unused)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "expected go, got a %s record",
                    mig_record_name(type));
        ok = false;
    } else if (type == MIG_REC_ERROR || !ok) {
        target_source_gave_up(t, type == MIG_REC_ERROR ? reason : "a go record that says no", errp);
        ok = false;
    }
    netbe_mig_reader_free(r);
    return ok;
}

/* True if every deferred backend came with the stream: nothing waits for the source. */
static bool target_all_adopted(MigTarget *t)
{
    for (guint i = 0; i < t->rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(t->rt->backends, i);

        if (be->connect == NETBE_CONNECT_DEFERRED && !be->connected) {
            return false;
        }
    }
    return true;
}

/* Take the serving lock; only then touch anything. Return: false if the source has it. */
static bool target_take_lock(MigTarget *t, GError **errp)
{
    if (!mig_lock_try(t->lock_fd)) {
        g_set_error(errp, NETBE_MIG_ERROR, EALREADY,
                    "the source holds the serving lock "
                    "(it took its backends back, or never let go): not starting");
        return false;
    }
    t->holds_lock = true;
    return true;
}

/*
 * target_serve() - we hold the serving lock (or the source is gone): keep it for as long
 * as the runtime lives, resume the devices that came and start the rest (deferred backends
 * that did not come connect their own).
 */
static bool target_serve(MigTarget *t, GError **errp)
{
    if (t->lock_fd >= 0) {
        mig_lock_keep(t->rt, t->lock_fd);
        t->lock_fd = -1;
    }
    for (guint i = 0; i < t->loaded->len; i++) {
        netbe_device_resume(g_ptr_array_index(t->loaded, i));
    }
    return netbe_runtime_start(t->rt, errp);
}

/* Holding the lock: confirm, then resume what came and start the rest. */
static bool target_start(MigTarget *t, GError **errp)
{
    g_autoptr(GError) unconfirmed = NULL;
    uint64_t resume_ns = mig_now_ns();

    if (!mig_send_status(&t->ch, MIG_REC_STARTED, true, NULL, resume_ns, &unconfirmed)) {
        /* the source will find the lock taken: it lets go all the same */
        g_message("could not confirm the start to the source: %s", unconfirmed->message);
    }
    if (!target_all_adopted(t) || t->recreates) {
        /* backends that did not move, or moved without fds, need what the source still
         * holds (a device, a port) until it closes its copies and its end */
        if (!mig_channel_wait_close(&t->ch, t->ch.timeout_ms)) {
            g_warning("the source did not release its other backends in time; opening ours");
        }
    }
    if (!target_serve(t, errp)) {
        return false; /* we hold the lock: the adopted backends stay ours, and running */
    }
    t->stats->downtime_ns = t->pause_ns ? mig_now_ns() - t->pause_ns : 0;
    return true;
}

typedef bool (*MigTargetStep)(MigTarget *t, GError **errp);

static const struct {
    const char *name;
    MigTargetStep run;
} target_steps[] = {
    {"hello", target_hello}, {"state", target_state},    {"ready", target_ready},
    {"go", target_go},       {"lock", target_take_lock}, {"start", target_start},
};

/* Accept a trusted source before @timeout_ms (its pid in *pid); untrusted ones are refused
 * and logged. */
static int accept_source(NetbeRuntime *rt, int listen_fd, int timeout_ms, pid_t *pid, GError **errp)
{
    uint64_t deadline = mig_deadline_after(timeout_ms);

    for (;;) {
        struct pollfd p = {.fd = listen_fd, .events = POLLIN};
        g_autoptr(GError) refused = NULL;
        int fd;

        if (poll(&p, 1, mig_ms_until(deadline)) == 0) {
            g_set_error(errp, NETBE_MIG_ERROR, ETIMEDOUT, "no source connected within %d ms",
                        timeout_ms);
            return -1;
        }
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)) {
            continue;
        }
        if (fd < 0) {
            g_set_error(errp, NETBE_MIG_ERROR, errno, "accept: %s", g_strerror(errno));
            return -1;
        }
        if (mig_check_peer(rt, fd, "source", pid, &refused)) {
            return fd;
        }
        g_warning("%s", refused->message);
        close(fd);
    }
}

/* True if the source process has exited, waiting up to @ms for it (its end of the stream
 * closes a moment before its pid does). */
static bool source_exited(MigTarget *t, int ms)
{
    struct pollfd p = {.fd = t->source_pidfd, .events = POLLIN};

    return t->source_pidfd >= 0 && poll(&p, 1, ms) == 1;
}

/* Close the adopted vhost-user transports (only of devices whose state did not load, if
 * @unloaded_only); the source keeps, or the next server makes, its own. */
static void target_drop_vhost_user(MigTarget *t, bool unloaded_only)
{
    for (guint i = 0; i < t->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(t->devices, i);

        if (!unloaded_only || !g_ptr_array_find(t->loaded, dev, NULL)) {
            netbe_vu_server_free(dev->vu, true);
        }
    }
}

/*
 * target_after_failure() - the attempt failed before we held the lock. If the source's end
 * closed without a word and the source process has exited (and its serving lock, if the
 * hello brought it, is free), take over with what came: deferred backends that did not
 * come connect their own. Otherwise close what came; the source serves.
 * Return: true if we took over.
 */
static bool target_after_failure(MigTarget *t, GError *err)
{
    bool source_gone = !t->source_gave_up && g_error_matches(err, NETBE_MIG_ERROR, EPIPE) &&
                       source_exited(t, 1000) && (t->lock_fd < 0 || mig_lock_try(t->lock_fd));

    if (source_gone) {
        g_autoptr(GError) start_err = NULL;

        g_warning("%s; the source is gone: taking over with the %u backends that came",
                  err->message, t->adopted->len);
        target_drop_vhost_user(t, true); /* those without device state listen afresh */
        if (!target_serve(t, &start_err)) {
            g_warning("taking over: %s", start_err->message);
        }
        return true;
    }
    mig_send_status(&t->ch, MIG_REC_ERROR, false, err->message, 0, NULL);
    /* close every adopted fd: the source still has its own and serves */
    target_drop_vhost_user(t, false);
    for (guint i = 0; i < t->adopted->len; i++) {
        netbe_backend_release(g_ptr_array_index(t->adopted, i));
    }
    return false;
}

bool netbe_runtime_migrate_from(NetbeRuntime *rt, int listen_fd, int timeout_ms,
                                NetbeMigStats *stats, GError **errp)
{
    NetbeMigStats local = {0};
    MigTarget t = {.rt = rt, .lock_fd = -1, .source_pidfd = -1, .stats = stats ? stats : &local};
    GError *err = NULL;
    g_autofree char *peer = NULL;
    pid_t pid = 0;

    netbe_io_engine_name(rt->io); /* set up before the devices come: no time lost after */
    int fd;
    bool ok;

    memset(t.stats, 0, sizeof(*t.stats));
    fd = accept_source(rt, listen_fd, timeout_ms, &pid, errp);
    if (fd < 0) {
        return false;
    }
    /* -1 on old kernels (no takeover before the hello), and for a source in this very
     * process (a VMM, a test), which cannot have exited */
    t.source_pidfd = pid == getpid() ? -1 : pidfd_open(pid, 0);
    peer = g_strdup_printf("pid %d", (int)pid);
    netbe_handover_started_event(rt, "destination", peer);
    mig_channel_init(&t.ch, fd, mig_timeout_ms(rt), "destination");
    t.expected = g_ptr_array_new();
    t.adopted = g_ptr_array_new();
    t.devices = g_ptr_array_new();
    t.loaded = g_ptr_array_new();
    mig_fault_point(&t.ch, "accept");
    ok = mig_recv_header(&t.ch, &err) && mig_send_header(&t.ch, &err);
    for (size_t i = 0; ok && i < G_N_ELEMENTS(target_steps); i++) {
        mig_fault_point(&t.ch, target_steps[i].name);
        ok = target_steps[i].run(&t, &err);
        if (!ok && !err) {
            g_set_error(&err, NETBE_MIG_ERROR, EPROTO, "no reason given (a bug)");
        }
        if (!ok) {
            g_prefix_error(&err, "incoming handover failed at %s: ", target_steps[i].name);
        }
    }
    if (!ok && !t.holds_lock && target_after_failure(&t, err)) {
        ok = true;
        g_clear_error(&err);
    }
    netbe_handover_finished_event(rt, "destination", t.stats, err);
    if (err) {
        g_propagate_error(errp, err);
    }
    if (t.lock_fd >= 0) {
        close(t.lock_fd);
    }
    if (t.source_pidfd >= 0) {
        close(t.source_pidfd);
    }
    close(fd);
    g_ptr_array_unref(t.expected);
    g_ptr_array_unref(t.adopted);
    g_ptr_array_unref(t.devices);
    g_ptr_array_unref(t.loaded);
    return ok;
}
