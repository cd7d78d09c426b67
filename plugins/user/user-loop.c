// SPDX-License-Identifier: LGPL-2.1-or-later
/* user-loop.c - libslirp's host sockets and timers driven by a GMainContext. */
#include "user-loop.h"

/**
 * struct UserPollFd - one socket slirp asked us to watch
 * @fd:     the socket
 * @tag:    from g_source_add_unix_fd()
 * @events: GIOCondition we watch now
 * @round:  the last fill round that asked for it
 */
typedef struct UserPollFd {
    int fd;
    gpointer tag;
    gushort events;
    guint round;
} UserPollFd;

/**
 * struct UserPoller - the GSource for slirp's sockets
 * @source:   the GSource itself (first member)
 * @slirp:    the instance whose sockets these are
 * @enabled:  watch host sockets at all
 * @fds:      fd -> UserPollFd*, what the source watches
 * @polled:   slirp's poll index -> fd, from the last fill
 * @revents:  slirp's poll index -> SLIRP_POLL_* at dispatch
 * @round:    fill counter, to find watches slirp no longer wants
 * @nseen:    distinct fds slirp asked for this round
 * @deadline: when slirp wants slirp_pollfds_poll() (monotonic us), -1 for never;
 *            reset by dispatch
 */
struct UserPoller {
    GSource source;
    Slirp *slirp;
    bool enabled;
    GHashTable *fds;
    GArray *polled;
    GArray *revents;
    guint round;
    guint nseen;
    gint64 deadline;
};

/* SLIRP_POLL_* <-> GIOCondition, one row per flag. */
static const struct {
    int slirp;
    gushort gio;
} poll_flags[] = {
    {SLIRP_POLL_IN, G_IO_IN},   {SLIRP_POLL_OUT, G_IO_OUT}, {SLIRP_POLL_PRI, G_IO_PRI},
    {SLIRP_POLL_ERR, G_IO_ERR}, {SLIRP_POLL_HUP, G_IO_HUP}, {SLIRP_POLL_ERR, G_IO_NVAL},
};

static gushort slirp_to_gio(int events)
{
    gushort gio = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(poll_flags); i++) {
        if ((events & poll_flags[i].slirp) && poll_flags[i].gio != G_IO_NVAL) {
            gio |= poll_flags[i].gio;
        }
    }
    return gio;
}

static int gio_to_slirp(gushort gio)
{
    int events = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(poll_flags); i++) {
        if (gio & poll_flags[i].gio) {
            events |= poll_flags[i].slirp;
        }
    }
    return events;
}

int64_t user_clock_ns(void)
{
    return g_get_monotonic_time() * 1000;
}

static void poller_unwatch(UserPoller *p, UserPollFd *w)
{
    g_source_remove_unix_fd(&p->source, w->tag);
    g_hash_table_remove(p->fds, GINT_TO_POINTER(w->fd));
}

/* SlirpAddPollCb: watch @fd for @events this round. Return: slirp's index for it. */
static int poller_add_fd(int fd, int events, void *opaque)
{
    UserPoller *p = opaque;
    UserPollFd *w;
    gushort want = slirp_to_gio(events);

    if (!p->enabled) {
        return -1; /* not polled: slirp reads revents 0 for it */
    }
    w = g_hash_table_lookup(p->fds, GINT_TO_POINTER(fd));
    if (!w) {
        w = g_new0(UserPollFd, 1);
        w->fd = fd;
        w->tag = g_source_add_unix_fd(&p->source, fd, want);
        w->events = want;
        g_hash_table_insert(p->fds, GINT_TO_POINTER(fd), w);
    } else if (w->round == p->round) {
        want |= w->events; /* the same fd twice in one round */
    }
    if (w->round != p->round) {
        p->nseen++;
    }
    if (w->events != want) {
        g_source_modify_unix_fd(&p->source, w->tag, want);
        w->events = want;
    }
    w->round = p->round;
    g_array_append_val(p->polled, fd);
    return (int)p->polled->len - 1;
}

static gboolean poller_prepare(GSource *source, gint *timeout)
{
    UserPoller *p = (UserPoller *)source;
    uint32_t wait_ms = UINT32_MAX;
    gint64 now;

    p->round++;
    p->nseen = 0;
    g_array_set_size(p->polled, 0);
    slirp_pollfds_fill(p->slirp, &wait_ms, poller_add_fd, p);
    if (g_hash_table_size(p->fds) > p->nseen) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, p->fds);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            UserPollFd *w = value;

            if (w->round != p->round) {
                g_source_remove_unix_fd(source, w->tag);
                g_hash_table_iter_remove(&it);
            }
        }
    }
    /* keep the earliest deadline: prepare runs again whenever the context wakes for
     * anything else, and must not push slirp's timers further away each time */
    now = g_source_get_time(source);
    if (wait_ms != UINT32_MAX && (p->deadline < 0 || now + (gint64)wait_ms * 1000 < p->deadline)) {
        p->deadline = now + (gint64)wait_ms * 1000;
    }
    if (p->deadline < 0) {
        *timeout = -1;
        return FALSE;
    }
    if (p->deadline <= now) {
        *timeout = 0;
        return TRUE;
    }
    *timeout = (gint)MIN((p->deadline - now + 999) / 1000, G_MAXINT);
    return FALSE;
}

/* Ready by time; GLib itself checks the watched fds. */
static gboolean poller_check(GSource *source)
{
    UserPoller *p = (UserPoller *)source;

    return p->deadline >= 0 && g_source_get_time(source) >= p->deadline;
}

/* SlirpGetREventsCb: what the socket of index @idx got. */
static int poller_get_revents(int idx, void *opaque)
{
    UserPoller *p = opaque;

    if (idx < 0 || (guint)idx >= p->revents->len) {
        return 0;
    }
    return g_array_index(p->revents, int, idx);
}

static gboolean poller_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    UserPoller *p = (UserPoller *)source;

    /* snapshot first: slirp may close sockets (and we forget them) while it polls */
    g_array_set_size(p->revents, p->polled->len);
    for (guint i = 0; i < p->polled->len; i++) {
        int fd = g_array_index(p->polled, int, i);
        UserPollFd *w = g_hash_table_lookup(p->fds, GINT_TO_POINTER(fd));

        g_array_index(p->revents, int, i) =
            w ? gio_to_slirp(g_source_query_unix_fd(source, w->tag)) : 0;
    }
    p->deadline = -1;
    slirp_pollfds_poll(p->slirp, 0, poller_get_revents, p);
    return G_SOURCE_CONTINUE;
}

static void poller_finalize(GSource *source)
{
    UserPoller *p = (UserPoller *)source;

    g_hash_table_unref(p->fds);
    g_array_unref(p->polled);
    g_array_unref(p->revents);
}

static GSourceFuncs poller_funcs = {
    .prepare = poller_prepare,
    .check = poller_check,
    .dispatch = poller_dispatch,
    .finalize = poller_finalize,
};

UserPoller *user_poller_new(GMainContext *ctx, Slirp *slirp)
{
    GSource *s = g_source_new(&poller_funcs, sizeof(UserPoller));
    UserPoller *p = (UserPoller *)s;

    p->slirp = slirp;
    p->fds = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    p->polled = g_array_new(false, false, sizeof(int));
    p->revents = g_array_new(false, true, sizeof(int));
    p->deadline = -1;
    g_source_set_name(s, "netbe-user-slirp");
    g_source_attach(s, ctx);
    return p;
}

void user_poller_set_enabled(UserPoller *p, bool enabled)
{
    if (p && p->enabled != enabled) {
        p->enabled = enabled;
        /* the next prepare adds or drops the watches */
        g_main_context_wakeup(g_source_get_context(&p->source));
    }
}

void user_poller_kick(UserPoller *p)
{
    if (!p || p->deadline == 0) {
        return;
    }
    p->deadline = 0; /* due at once */
    if (!g_main_current_source()) {
        /* outside any dispatch the loop may be asleep (or a foreign loop on the runtime
         * fd): wake it; inside one, the next prepare sees the deadline anyway */
        g_main_context_wakeup(g_source_get_context(&p->source));
    }
}

void user_poller_forget_fd(UserPoller *p, int fd)
{
    UserPollFd *w = p ? g_hash_table_lookup(p->fds, GINT_TO_POINTER(fd)) : NULL;

    if (w) {
        poller_unwatch(p, w);
    }
}

void user_poller_free(UserPoller *p)
{
    if (p) {
        g_source_destroy(&p->source);
        g_source_unref(&p->source);
    }
}

/* ---- timers ---- */

/**
 * struct UserTimer - one of slirp's timers, a GSource with a ready time
 * @source:    the GSource itself (first member)
 * @slirpp:    where the Slirp instance is
 * @id:        which timer, for slirp_handle_timer()
 * @cb_opaque: slirp's data for it
 */
struct UserTimer {
    GSource source;
    Slirp *const *slirpp;
    SlirpTimerId id;
    void *cb_opaque;
};

static gboolean timer_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    UserTimer *t = (UserTimer *)source;

    g_source_set_ready_time(source, -1);
    if (*t->slirpp) {
        slirp_handle_timer(*t->slirpp, t->id, t->cb_opaque);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {
    .dispatch = timer_dispatch,
};

UserTimer *user_timer_new(GMainContext *ctx, Slirp *const *slirpp, SlirpTimerId id, void *cb_opaque)
{
    GSource *s = g_source_new(&timer_funcs, sizeof(UserTimer));
    UserTimer *t = (UserTimer *)s;

    t->slirpp = slirpp;
    t->id = id;
    t->cb_opaque = cb_opaque;
    g_source_set_name(s, "netbe-user-timer");
    g_source_attach(s, ctx);
    return t;
}

void user_timer_mod(UserTimer *t, int64_t expire_ms)
{
    g_source_set_ready_time(&t->source, MAX(expire_ms, 0) * 1000);
}

void user_timer_free(UserTimer *t)
{
    if (t) {
        g_source_destroy(&t->source);
        g_source_unref(&t->source);
    }
}
