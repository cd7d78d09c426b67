// SPDX-License-Identifier: LGPL-2.1-or-later
/* reload.c - re-read the config of a running runtime and apply only what changed. */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include "ini-read.h"
#include "netbe-priv.h"

/* What a reload does with one netdev, hub or device of the new file or the runtime. */
typedef enum ReloadAction {
    RELOAD_KEEP = 0, /* the same: not touched */
    RELOAD_ADD,      /* only in the file */
    RELOAD_REPLACE,  /* in both, changed: the old goes, the new comes */
    RELOAD_REMOVE,   /* only in the runtime */
} ReloadAction;

/*
 * struct Reload - one reload: the file checked into a runtime of its own, and the plan.
 * @rt:       the runtime that runs
 * @next:     the file, checked (check-only: init ran, nothing connected), on @rt's plugins
 * @file:     its name, for messages
 * @netdevs:  id -> ReloadAction, for the ids of both
 * @devices:  id -> ReloadAction
 * @hubs:     id -> ReloadAction (RELOAD_KEEP: same connect mode, ports compared one by one)
 * @rates:    NetbeBackend* of @next whose running twin differs in rate limits only: the
 *            running one takes them in place (RELOAD_KEEP)
 * @errors:   what stops the reload before anything changes, or went wrong while applying
 */
typedef struct Reload {
    NetbeRuntime *rt;
    NetbeRuntime *next;
    const char *file;
    GHashTable *netdevs, *devices, *hubs;
    GPtrArray *rates;
    GPtrArray *errors;
} Reload;

static ReloadAction action_of(GHashTable *plan, const char *id)
{
    return GPOINTER_TO_INT(g_hash_table_lookup(plan, id));
}

static NetbeDevice *find_device(NetbeRuntime *rt, const char *id)
{
    for (guint i = 0; i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);

        if (strcmp(dev->id, id) == 0) {
            return dev;
        }
    }
    return NULL;
}

/* Check @text on a check-only runtime that shares @rt's context and plugins. */
static NetbeRuntime *reload_check(NetbeRuntime *rt, const char *text, size_t len, const char *file,
                                  GError **errp)
{
    NetbeRuntime *next = netbe_runtime_new(rt->ctx, NETBE_RUNTIME_CHECK_ONLY);

    g_ptr_array_unref(next->plugins);
    next->plugins = g_ptr_array_ref(rt->plugins);
    next->reload_check = true; /* no plugin is loaded anew: the sandbox may forbid it */
    if (!netbe_config_apply(next, text, len, file, errp)) {
        netbe_runtime_free(next);
        return NULL;
    }
    if (g_strcmp0(next->runtime_spec, rt->runtime_spec) != 0) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EINVAL,
                    "%s: [runtime]: changed, which needs a restart (a reload applies netdevs, "
                    "hubs and devices)",
                    file);
        netbe_runtime_free(next);
        return NULL;
    }
    return next;
}

static bool is_rate_key(const char *key)
{
    for (const NetbeOptionSpec *k = netbe_rate_limit_schema; k->name; k++) {
        if (strcmp(k->name, key) == 0) {
            return true;
        }
    }
    return false;
}

/* The spec of @o without its rate-limit keys (those change in place). */
static char *spec_without_rates(const NetbeOptions *o)
{
    NetbeOptions *rest = netbe_options_new(o->file, o->section, o->section_line);
    char *spec;

    for (guint i = 0; i < o->values->len; i++) {
        const NetbeOptionValue *v = g_ptr_array_index(o->values, i);

        if (!is_rate_key(v->key)) {
            netbe_options_add(rest, v->key, v->value, v->line);
        }
    }
    spec = netbe_config_spec(rest);
    netbe_options_free(rest);
    return spec;
}

/* Changed in rate limits only? Then @nb's limits go to the running @lb (RELOAD_KEEP). */
static ReloadAction plan_changed_netdev(Reload *r, NetbeBackend *nb, NetbeBackend *lb)
{
    g_autofree char *want = spec_without_rates(nb->opts);
    g_autofree char *have = spec_without_rates(lb->opts);

    if (strcmp(want, have) != 0) {
        return RELOAD_REPLACE;
    }
    g_ptr_array_add(r->rates, nb);
    return RELOAD_KEEP;
}

/* The running twin of @nb takes its rate limits, and its rate keys (what the next reload
 * compares). The plugin reads no rate key: their values may go. */
static void apply_rates(Reload *r, NetbeBackend *nb)
{
    NetbeBackend *lb = netbe_runtime_find_backend(r->rt, nb->id);
    NetbeOptions *o = lb->opts;

    netbe_rate_limit_configure(lb, nb->opts, r->errors); /* checked already: it works */
    for (guint i = o->values->len; i-- > 0;) {
        if (is_rate_key(((NetbeOptionValue *)g_ptr_array_index(o->values, i))->key)) {
            g_ptr_array_remove_index(o->values, i);
        }
    }
    for (guint i = 0; i < nb->opts->values->len; i++) {
        const NetbeOptionValue *v = g_ptr_array_index(nb->opts->values, i);

        if (is_rate_key(v->key)) {
            netbe_options_add(o, v->key, v->value, v->line);
        }
    }
}

static void plan_netdevs(Reload *r)
{
    for (guint i = 0; i < r->next->backends->len; i++) {
        NetbeBackend *nb = g_ptr_array_index(r->next->backends, i);
        NetbeBackend *lb = netbe_runtime_find_backend(r->rt, nb->id);
        g_autofree char *want = netbe_config_spec(nb->opts);
        g_autofree char *have = lb ? netbe_config_spec(lb->opts) : NULL;

        g_hash_table_insert(r->netdevs, g_strdup(nb->id),
                            GINT_TO_POINTER(!lb ? RELOAD_ADD
                                            : strcmp(want, have) != 0
                                                ? plan_changed_netdev(r, nb, lb)
                                                : RELOAD_KEEP));
    }
    for (guint i = 0; i < r->rt->backends->len; i++) {
        NetbeBackend *lb = g_ptr_array_index(r->rt->backends, i);

        if (!netbe_runtime_find_backend(r->next, lb->id)) {
            g_hash_table_insert(r->netdevs, g_strdup(lb->id), GINT_TO_POINTER(RELOAD_REMOVE));
        }
    }
}

/* An embedded device a VMM found may be in its hands: only it may let it go. */
static void refuse_vmm_device(Reload *r, NetbeDevice *dev)
{
    if (!dev->vhost_user && dev->vnet) {
        g_ptr_array_add(r->errors, g_strdup_printf("%s: [device.%s]: an embedded device its VMM "
                                                   "uses cannot be removed or changed by a reload",
                                                   r->file, dev->id));
    }
}

static void plan_devices(Reload *r)
{
    for (guint i = 0; i < r->next->devices->len; i++) {
        NetbeDevice *nd = g_ptr_array_index(r->next->devices, i);
        NetbeDevice *ld = find_device(r->rt, nd->id);
        ReloadAction a = !ld ? RELOAD_ADD
                         : strcmp(nd->spec, ld->spec) != 0 || ld->backend->retired ||
                                 action_of(r->netdevs, nd->backend->id) != RELOAD_KEEP
                             ? RELOAD_REPLACE
                             : RELOAD_KEEP;

        if (a == RELOAD_REPLACE) {
            refuse_vmm_device(r, ld);
        }
        g_hash_table_insert(r->devices, g_strdup(nd->id), GINT_TO_POINTER(a));
    }
    for (guint i = 0; i < r->rt->devices->len; i++) {
        NetbeDevice *ld = g_ptr_array_index(r->rt->devices, i);

        if (!find_device(r->next, ld->id)) {
            refuse_vmm_device(r, ld);
            g_hash_table_insert(r->devices, g_strdup(ld->id), GINT_TO_POINTER(RELOAD_REMOVE));
        }
    }
}

static void plan_hubs(Reload *r)
{
    for (guint i = 0; i < r->next->hubs->len; i++) {
        NetbeHub *nh = g_ptr_array_index(r->next->hubs, i);
        NetbeHub *lh = netbe_runtime_find_hub(r->rt, netbe_hub_id(nh));
        ReloadAction a = !lh                                                        ? RELOAD_ADD
                         : netbe_hub_connect_mode(lh) != netbe_hub_connect_mode(nh) ? RELOAD_REPLACE
                                                                                    : RELOAD_KEEP;

        g_hash_table_insert(r->hubs, g_strdup(netbe_hub_id(nh)), GINT_TO_POINTER(a));
    }
    for (guint i = 0; i < r->rt->hubs->len; i++) {
        NetbeHub *lh = g_ptr_array_index(r->rt->hubs, i);

        if (!netbe_runtime_find_hub(r->next, netbe_hub_id(lh))) {
            g_hash_table_insert(r->hubs, g_strdup(netbe_hub_id(lh)),
                                GINT_TO_POINTER(RELOAD_REMOVE));
        }
    }
}

/* Move backend @nb of the checked runtime into the running one (not connected yet). */
static NetbeBackend *adopt_backend(Reload *r, NetbeBackend *nb)
{
    g_ptr_array_remove(r->next->backends, nb);
    netbe_backend_detach(nb); /* from the checked hub it was a port of */
    nb->rt = r->rt;
    return nb;
}

/* Added netdevs connect first: if one fails, they go again and nothing else changed. */
static bool add_netdevs(Reload *r, GError **errp)
{
    g_autoptr(GPtrArray) added = g_ptr_array_new();

    for (guint i = 0; i < r->next->backends->len; i++) {
        NetbeBackend *nb = g_ptr_array_index(r->next->backends, i);

        if (action_of(r->netdevs, nb->id) == RELOAD_ADD) {
            g_ptr_array_add(added, nb);
        }
    }
    for (guint i = 0; i < added->len; i++) {
        NetbeBackend *be = adopt_backend(r, g_ptr_array_index(added, i));

        if (!netbe_live_connect_backend(r->rt, be, errp)) {
            g_prefix_error(errp, "%s:%d: [netdev.%s]: ", r->file, be->opts->section_line, be->id);
            netbe_backend_free(be);
            for (guint k = 0; k < i; k++) {
                netbe_live_remove_backend(r->rt, g_ptr_array_index(added, k));
            }
            return false;
        }
    }
    return true;
}

/* Devices, hub ports and hubs that go, then the netdevs that go. */
static void remove_old(Reload *r)
{
    for (guint i = r->rt->devices->len; i-- > 0;) {
        NetbeDevice *ld = g_ptr_array_index(r->rt->devices, i);

        if (action_of(r->devices, ld->id) != RELOAD_KEEP) {
            netbe_live_remove_device(r->rt, ld);
        }
    }
    for (guint i = r->rt->hubs->len; i-- > 0;) {
        NetbeHub *lh = g_ptr_array_index(r->rt->hubs, i);
        NetbeHub *nh = netbe_runtime_find_hub(r->next, netbe_hub_id(lh));
        bool whole = action_of(r->hubs, netbe_hub_id(lh)) != RELOAD_KEEP;

        for (unsigned p = netbe_hub_port_count(lh); p-- > 0;) {
            NetbeBackend *be = netbe_hub_port(lh, p);
            NetbeBackend *want = nh ? netbe_runtime_find_backend(r->next, be->id) : NULL;
            bool stays = want && netbe_live_hub_of(r->next, want) == nh &&
                         action_of(r->netdevs, be->id) == RELOAD_KEEP;

            if (whole || !stays) {
                netbe_hub_remove_port(lh, be);
            }
        }
        if (whole) {
            g_ptr_array_remove(r->rt->hubs, lh);
            netbe_hub_free(lh);
        }
    }
    for (guint i = r->rt->backends->len; i-- > 0;) {
        NetbeBackend *lb = g_ptr_array_index(r->rt->backends, i);
        ReloadAction a = action_of(r->netdevs, lb->id);

        if (a == RELOAD_REMOVE || a == RELOAD_REPLACE) {
            netbe_live_remove_backend(r->rt, lb);
        }
    }
}

/* Replaced netdevs come now that their old instance closed what they may need again. */
static void replace_netdevs(Reload *r)
{
    for (guint i = r->next->backends->len; i-- > 0;) {
        NetbeBackend *nb = g_ptr_array_index(r->next->backends, i);
        g_autoptr(GError) err = NULL;

        if (action_of(r->netdevs, nb->id) != RELOAD_REPLACE) {
            continue;
        }
        adopt_backend(r, nb);
        if (!netbe_live_connect_backend(r->rt, nb, &err)) {
            g_ptr_array_add(r->errors,
                            g_strdup_printf("%s:%d: [netdev.%s]: changed, and the new one cannot "
                                            "connect (it stays unconnected): %s",
                                            r->file, nb->opts->section_line, nb->id, err->message));
            g_ptr_array_add(r->rt->backends, nb);
        }
    }
}

/* Hubs: new ones made and started with their ports, kept ones given their new ports. */
static void apply_hubs(Reload *r)
{
    for (guint i = 0; i < r->next->hubs->len; i++) {
        NetbeHub *nh = g_ptr_array_index(r->next->hubs, i);
        NetbeHub *lh = netbe_runtime_find_hub(r->rt, netbe_hub_id(nh));
        bool made = !lh;
        g_autoptr(GError) err = NULL;

        if (made) {
            lh = netbe_hub_new(r->rt, netbe_hub_id(nh), netbe_hub_connect_mode(nh));
            g_ptr_array_add(r->rt->hubs, lh);
        }
        for (unsigned p = 0; p < netbe_hub_port_count(nh); p++) {
            NetbeBackend *be = netbe_runtime_find_backend(r->rt, netbe_hub_port(nh, p)->id);

            if (netbe_live_hub_of(r->rt, be) == lh) {
                continue;
            }
            if (made) {
                be->connect = netbe_hub_connect_mode(lh);
                netbe_hub_add_port(lh, be);
            } else if (!netbe_hub_add_port_live(lh, be, &err)) {
                g_ptr_array_add(r->errors, g_strdup_printf("%s: [hub.%s]: port '%s': %s", r->file,
                                                           netbe_hub_id(lh), be->id, err->message));
                g_clear_error(&err);
            }
        }
        if (made && r->rt->running && !netbe_hub_start(lh, &err)) {
            g_ptr_array_add(r->errors, g_strdup_printf("%s: [hub.%s]: cannot start: %s", r->file,
                                                       netbe_hub_id(lh), err->message));
        }
    }
}

/* New and replaced devices: moved over, bound to the running runtime's netdevs. */
static void apply_devices(Reload *r)
{
    for (guint i = 0; i < r->next->devices->len;) {
        NetbeDevice *nd = g_ptr_array_index(r->next->devices, i);
        g_autoptr(GError) err = NULL;

        if (action_of(r->devices, nd->id) == RELOAD_KEEP) {
            i++;
            continue;
        }
        g_ptr_array_remove_index(r->next->devices, i);
        nd->rt = r->rt;
        nd->backend = netbe_runtime_find_backend(r->rt, nd->backend->id);
        nd->backend->connect = nd->connect; /* a netdev it takes over from a hub */
        g_ptr_array_add(r->rt->devices, nd);
        if (nd->vhost_user && r->rt->running && !netbe_vu_server_start(nd, &err)) {
            g_ptr_array_add(r->errors, g_strdup_printf("%s: [device.%s]: cannot serve: %s", r->file,
                                                       nd->id, err->message));
        }
    }
}

bool netbe_runtime_reload(NetbeRuntime *rt, const char *path, GError **errp)
{
    Reload r = {.rt = rt};
    g_autofree char *text = NULL;
    g_autofree char *file = g_strdup(path ? path : rt->config_path);
    size_t len = 0;
    bool ok = false;
    GStatBuf st;

    if (!netbe_live_check_runtime(rt, "reload", errp)) {
        return false;
    }
    if (!file) {
        g_set_error(errp, NETBE_CONFIG_ERROR, ENOENT,
                    "reload: the config came from a string, not a file: name one");
        return false;
    }
    /* a running daemon must not block: no FIFO (its open() waits for a writer), no device */
    if (g_stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EINVAL,
                    "%s: not a regular file (allowed: an ini file; a reload reads no pipe or "
                    "device)",
                    file);
        return false;
    }
    text = netbe_ini_read_file(file, &len, errp);
    if (!text || !(r.next = reload_check(rt, text, len, file, errp))) {
        return false;
    }
    r.file = file;
    r.errors = g_ptr_array_new_with_free_func(g_free);
    r.rates = g_ptr_array_new();
    /* keys copied: objects go while the plan is read */
    r.netdevs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    r.devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    r.hubs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    plan_netdevs(&r);
    plan_devices(&r);
    plan_hubs(&r);
    if (r.errors->len) {
        netbe_errors_to_gerror(r.errors, NETBE_CONFIG_ERROR, errp);
        goto out;
    }
    if (!add_netdevs(&r, errp)) {
        goto out;
    }
    remove_old(&r);
    replace_netdevs(&r);
    apply_hubs(&r);
    apply_devices(&r);
    for (guint i = 0; i < r.rates->len; i++) {
        apply_rates(&r, g_ptr_array_index(r.rates, i));
    }
    g_free(rt->config_path);
    rt->config_path = g_strdup(file);
    netbe_loop_fd_note_change(rt->loop_fd, rt->ctx);
    ok = r.errors->len == 0;
    if (!ok) {
        netbe_errors_to_gerror(r.errors, NETBE_CONFIG_ERROR, errp);
        g_prefix_error(errp, "reload: applied, but:\n");
    }
out:
    for (guint i = 0; i < r.next->hubs->len; i++) {
        netbe_hub_forget_ports(g_ptr_array_index(r.next->hubs, i)); /* some run here now */
    }
    g_hash_table_unref(r.netdevs);
    g_hash_table_unref(r.devices);
    g_hash_table_unref(r.hubs);
    g_ptr_array_unref(r.errors);
    g_ptr_array_unref(r.rates);
    netbe_runtime_free(r.next);
    return ok;
}
