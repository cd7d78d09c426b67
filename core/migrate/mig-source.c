/* mig-source.c - the source side of a handover: hello, pause, state, commit, or resume. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "mig-session.h"

typedef struct MigSource {
    NetbeRuntime *rt;
    int fd;
    GPtrArray *moving;        /* NetbeBackend* handed over */
    GPtrArray *devices;       /* NetbeDevice* whose backend moves: their state goes too */
    GPtrArray *was_started;   /* NetbeHub* / NetbeDevice* running before the pause */
    bool paused;
    uint64_t pause_ns;
    NetbeMigStats *stats;
} MigSource;

static int connect_unix(const char *path, GError **errp)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(errp, NETBE_MIG_ERROR, ENAMETOOLONG, "%s: path too long", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        g_set_error(errp, NETBE_MIG_ERROR, errno, "cannot reach the destination at %s: %s",
                    path, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/*
 * source_ask() - send @w (freed here) as a @type record and read the destination's
 * status answer, which must be an @answer record (named @what in errors) saying ok.
 * @time_ns: gets the time the answer carries (may be NULL)
 */
static bool source_ask(MigSource *s, MigRecordType type, NetbeMigWriter *w,
                       MigRecordType answer, const char *what, uint64_t *time_ns,
                       GError **errp)
{
    g_autofree char *reason = NULL;
    NetbeMigReader *r;
    MigRecordType got;
    uint64_t t = 0;
    bool ok = false, sent = mig_send_record(s->fd, type, w, errp);

    netbe_mig_writer_free(w);
    if (!sent || !(r = mig_recv_record(s->fd, MIG_STEP_TIMEOUT_MS, &got, errp))) {
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

static bool source_hello(MigSource *s, GError **errp)
{
    NetbeMigWriter *w = netbe_mig_writer_new();

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
    netbe_mig_put_u32(w, s->moving->len);
    for (guint i = 0; i < s->moving->len; i++) {
        NetbeBackend *be = g_ptr_array_index(s->moving, i);

        netbe_mig_put_string(w, be->id);
        netbe_mig_put_string(w, be->desc->name);
        netbe_mig_put_u32(w, be->nqueues);
    }
    netbe_mig_put_u32(w, s->devices->len);
    for (guint i = 0; i < s->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(s->devices, i);

        netbe_mig_put_string(w, dev->id);
        netbe_mig_put_string(w, dev->backend->id);
    }
    return source_ask(s, MIG_REC_HELLO, w, MIG_REC_REPLY, "a reply to hello", NULL, errp);
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
        w = netbe_mig_writer_new();
        netbe_mig_put_string(w, dev->id);
        ok = netbe_device_save(dev, w, errp) && mig_send_record(s->fd, MIG_REC_DEVICE, w, errp);
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
        bool ok = mig_backend_save(be, w, &s->stats->frames, errp) &&
                  mig_send_record(s->fd, MIG_REC_BACKEND, w, errp);

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

static bool source_commit(MigSource *s, GError **errp)
{
    NetbeMigWriter *w = netbe_mig_writer_new();
    uint64_t resume_ns = 0;

    netbe_mig_put_u64(w, s->pause_ns);
    if (!source_ask(s, MIG_REC_COMMIT, w, MIG_REC_ACK, "an ack", &resume_ns, errp)) {
        return false;
    }
    s->stats->downtime_ns = resume_ns > s->pause_ns ? resume_ns - s->pause_ns : 0;
    return true;
}

typedef bool (*MigSourceStep)(MigSource *s, GError **errp);

/* The steps in stream order; a failure at any of them resumes the source. */
static const struct {
    const char *name;
    MigSourceStep run;
} source_steps[] = {
    { "hello", source_hello },
    { "pause", source_pause },
    { "state", source_state },
    { "commit", source_commit },
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

bool netbe_runtime_migrate_to(NetbeRuntime *rt, const char *path, NetbeMigStats *stats,
                              GError **errp)
{
    NetbeMigStats local = { 0 };
    MigSource s = { .rt = rt, .stats = stats ? stats : &local };
    bool ok = true;

    memset(s.stats, 0, sizeof(*s.stats));
    s.fd = connect_unix(path, errp);
    if (s.fd < 0) {
        return false;
    }
    s.moving = g_ptr_array_new();
    s.devices = g_ptr_array_new();
    s.was_started = g_ptr_array_new();
    ok = mig_send_header(s.fd, errp) && mig_recv_header(s.fd, MIG_STEP_TIMEOUT_MS, errp);
    for (size_t i = 0; ok && i < G_N_ELEMENTS(source_steps); i++) {
        ok = source_steps[i].run(&s, errp);
        if (!ok) {
            g_prefix_error(errp, "handover failed at %s: ", source_steps[i].name);
        }
    }
    if (ok) {
        /* committed: the destination runs the backends; close our copies */
        netbe_runtime_release(rt);
    } else {
        g_autoptr(GError) ignored = NULL;

        mig_send_status(s.fd, MIG_REC_ERROR, false, errp && *errp ? (*errp)->message : "",
                        0, &ignored);
        if (s.paused) {
            source_resume(&s);
        }
    }
    close(s.fd);
    g_ptr_array_unref(s.moving);
    g_ptr_array_unref(s.devices);
    g_ptr_array_unref(s.was_started);
    return ok;
}
