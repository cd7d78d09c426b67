// SPDX-License-Identifier: LGPL-2.1-or-later
/* fd-watch.c - fd watches for plugins on the runtime's context, cheap to re-arm. */
#include "netbe-priv.h"

struct NetbeFdWatch {
    GSource source;
    gpointer tag;
    int fd;
    NetbeRuntime *rt;
    NetbeFdFunc func;
    void *opaque;
};

static gboolean fd_watch_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    NetbeFdWatch *w = (NetbeFdWatch *)source;
    GIOCondition revents = g_source_query_unix_fd(source, w->tag);

    (void)cb;
    (void)data;
    if (revents) {
        netbe_loop_fd_note_unblocked(w->rt->loop_fd);
        w->func(w->fd, revents, w->opaque);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_watch_funcs = {
    .dispatch = fd_watch_dispatch,
};

NetbeFdWatch *netbe_fd_watch_new(NetbeBackend *be, int fd, GIOCondition events, NetbeFdFunc func,
                                 void *opaque)
{
    GSource *s = g_source_new(&fd_watch_funcs, sizeof(NetbeFdWatch));
    NetbeFdWatch *w = (NetbeFdWatch *)s;
    GMainContext *ctx = netbe_backend_context(be);

    w->fd = fd;
    w->rt = be->rt;
    w->func = func;
    w->opaque = opaque;
    w->tag = g_source_add_unix_fd(s, fd, events);
    g_source_set_name(s, "netbe-fd-watch");
    /* not blocked while it runs: GLib would take the fd out of its poll set and put it back
     * around every dispatch, two writes to its wakeup fd (and one more for a foreign loop) */
    g_source_set_can_recurse(s, true);
    g_source_attach(s, ctx);
    netbe_loop_fd_note_change(w->rt->loop_fd, ctx);
    return w;
}

void netbe_fd_watch_set_events(NetbeFdWatch *w, GIOCondition events)
{
    g_source_modify_unix_fd(&w->source, w->tag, events);
    netbe_loop_fd_note_change(w->rt->loop_fd, g_source_get_context(&w->source));
}

void netbe_fd_watch_free(NetbeFdWatch *w)
{
    if (w) {
        g_source_destroy(&w->source);
        g_source_unref(&w->source);
    }
}
