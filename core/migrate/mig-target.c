/* mig-target.c - the destination side of a handover: check, adopt, acknowledge, resume. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "mig-session.h"

typedef struct MigTarget {
    NetbeRuntime *rt;
    int fd;
    GPtrArray *expected;      /* NetbeBackend* announced by the hello */
    GPtrArray *adopted;       /* NetbeBackend* whose state and fds were loaded */
    GPtrArray *devices;       /* NetbeDevice* announced by the hello */
    GPtrArray *loaded;        /* NetbeDevice* whose state was loaded (paused until resume) */
    uint64_t pause_ns;
    bool committed;           /* the ack went out: no rollback any more */
    bool recreates;           /* an adopted backend came without fds: it reopens its host
                               * resources (listeners), which the source must let go first */
    NetbeMigStats *stats;
} MigTarget;

/* Check one announced backend against our config. Return: a reason to refuse, or NULL. */
static char *target_check_backend(MigTarget *t, const char *id, const char *plugin,
                                  uint32_t queues)
{
    NetbeBackend *be = netbe_runtime_find_backend(t->rt, id);

    if (!be) {
        return g_strdup_printf("no netdev '%s' here (device ids differ)", id);
    }
    if (strcmp(be->desc->name, plugin) != 0) {
        return g_strdup_printf("netdev '%s' is %s here, %s there", id, be->desc->name, plugin);
    }
    if (be->nqueues != queues) {
        return g_strdup_printf("netdev '%s' has %u queues here, %u there", id, be->nqueues,
                               queues);
    }
    if (be->connect != NETBE_CONNECT_DEFERRED || be->connected) {
        return g_strdup_printf("netdev '%s' is used by a connect=immediate frontend here: it "
                               "cannot take incoming fds", id);
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
    NetbeMigReader *r = mig_recv_record(t->fd, MIG_STEP_TIMEOUT_MS, &type, errp);
    g_autofree char *problem = NULL;
    uint32_t n = 0;

    if (!r) {
        return false;
    }
    if (type != MIG_REC_HELLO || !netbe_mig_get_u32(r, &n) || n > t->rt->backends->len + 1) {
        problem = g_strdup_printf("expected a hello, got a malformed %s record",
                                  mig_record_name(type));
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
    netbe_mig_reader_free(r);
    if (problem) {
        mig_send_status(t->fd, MIG_REC_REPLY, false, problem, 0, NULL);
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "refused the handover: %s", problem);
        return false;
    }
    return mig_send_status(t->fd, MIG_REC_REPLY, true, NULL, 0, errp);
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
    if (!be || !g_ptr_array_find(t->expected, be, NULL) ||
        g_ptr_array_find(t->adopted, be, NULL)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "state for netdev '%s', which the hello "
                    "did not announce (or twice)", id);
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

static bool target_device(MigTarget *t, NetbeMigReader *r, GError **errp)
{
    g_autofree char *id = NULL;
    NetbeDevice *dev = NULL;

    if (!netbe_mig_get_string(r, &id) || !(dev = netbe_runtime_find_device(t->rt, id)) ||
        !g_ptr_array_find(t->devices, dev, NULL) || g_ptr_array_find(t->loaded, dev, NULL) ||
        !g_ptr_array_find(t->adopted, dev->backend, NULL)) {
        g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "state for device '%s', which the hello did "
                    "not announce, twice, or before its netdev", id ? id : "?");
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
        NetbeMigReader *r = mig_recv_record(t->fd, MIG_STEP_TIMEOUT_MS, &type, errp);
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
        case MIG_REC_COMMIT:
            ok = netbe_mig_get_u64(r, &t->pause_ns);
            if (ok && (t->adopted->len != t->expected->len ||
                       t->loaded->len != t->devices->len)) {
                g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "commit after %u of %u backends "
                            "and %u of %u devices", t->adopted->len, t->expected->len,
                            t->loaded->len, t->devices->len);
                ok = false;
            } else if (!ok) {
                g_set_error(errp, NETBE_MIG_ERROR, EPROTO, "malformed commit record");
            }
            netbe_mig_reader_free(r);
            return ok;
        case MIG_REC_ERROR:
            mig_read_status(r, &ok, &reason, &unused);
            g_set_error(errp, NETBE_MIG_ERROR, ECANCELED, "the source gave up: %s",
                        reason ? reason : "(no reason)");
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

/* Acknowledge, then resume: from here on the backends are ours. */
static bool target_commit(MigTarget *t, GError **errp)
{
    uint64_t resume_ns = mig_now_ns();

    if (!mig_send_status(t->fd, MIG_REC_ACK, true, NULL, resume_ns, errp)) {
        return false;
    }
    if (!target_all_adopted(t) || t->recreates) {
        /* backends that did not move, or moved without fds, need what the source still
         * holds (a device, a port) until it closes its copies */
        struct pollfd p = { .fd = t->fd, .events = POLLIN };
        char c;

        if (poll(&p, 1, MIG_STEP_TIMEOUT_MS) <= 0 || recv(t->fd, &c, 1, 0) != 0) {
            g_warning("the source did not release its other backends in time; opening ours");
        }
    }
    t->committed = true;
    for (guint i = 0; i < t->loaded->len; i++) {
        netbe_device_resume(g_ptr_array_index(t->loaded, i));
    }
    if (!netbe_runtime_start(t->rt, errp)) {
        return false; /* past the commit: the adopted backends stay ours, and running */
    }
    t->stats->downtime_ns = mig_now_ns() - t->pause_ns;
    return true;
}

typedef bool (*MigTargetStep)(MigTarget *t, GError **errp);

static const struct {
    const char *name;
    MigTargetStep run;
} target_steps[] = {
    { "hello", target_hello },
    { "state", target_state },
    { "commit", target_commit },
};

static int accept_timeout(int listen_fd, int timeout_ms, GError **errp)
{
    struct pollfd p = { .fd = listen_fd, .events = POLLIN };
    int fd;

    if (poll(&p, 1, timeout_ms) <= 0) {
        g_set_error(errp, NETBE_MIG_ERROR, ETIMEDOUT, "no source connected within %d ms",
                    timeout_ms);
        return -1;
    }
    fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        g_set_error(errp, NETBE_MIG_ERROR, errno, "accept: %s", g_strerror(errno));
    }
    return fd;
}

bool netbe_runtime_migrate_from(NetbeRuntime *rt, int listen_fd, int timeout_ms,
                                NetbeMigStats *stats, GError **errp)
{
    NetbeMigStats local = { 0 };
    MigTarget t = { .rt = rt, .stats = stats ? stats : &local };
    bool ok;

    memset(t.stats, 0, sizeof(*t.stats));
    t.fd = accept_timeout(listen_fd, timeout_ms, errp);
    if (t.fd < 0) {
        return false;
    }
    t.expected = g_ptr_array_new();
    t.adopted = g_ptr_array_new();
    t.devices = g_ptr_array_new();
    t.loaded = g_ptr_array_new();
    ok = mig_recv_header(t.fd, MIG_STEP_TIMEOUT_MS, errp) && mig_send_header(t.fd, errp);
    for (size_t i = 0; ok && i < G_N_ELEMENTS(target_steps); i++) {
        ok = target_steps[i].run(&t, errp);
        if (!ok) {
            g_prefix_error(errp, "incoming handover failed at %s: ", target_steps[i].name);
        }
    }
    if (!ok && !t.committed) {
        g_autoptr(GError) ignored = NULL;

        mig_send_status(t.fd, MIG_REC_ERROR, false, errp && *errp ? (*errp)->message : "", 0,
                        &ignored);
        /* close every adopted fd: the source still has its own and resumes */
        for (guint i = 0; i < t.adopted->len; i++) {
            netbe_backend_release(g_ptr_array_index(t.adopted, i));
        }
    }
    close(t.fd);
    g_ptr_array_unref(t.expected);
    g_ptr_array_unref(t.adopted);
    g_ptr_array_unref(t.devices);
    g_ptr_array_unref(t.loaded);
    return ok;
}
