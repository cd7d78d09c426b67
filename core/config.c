// SPDX-License-Identifier: LGPL-2.1-or-later
/* config.c - turn a checked ini file into backends, hubs and devices. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include "ini-read.h"
#include "netbe/migrate.h"
#include "netbe-priv.h"

G_DEFINE_QUARK(netbe - config - error - quark, netbe_config_error)

static const char *const connect_modes[] = {"immediate", "deferred", NULL};
static const char *const device_models[] = {"virtio-net", NULL};
static const char *const device_transports[] = {"embedded", "vhost-user", NULL};

static const char *const io_modes[] = {"auto", "io_uring", "syscalls", NULL};

static NetbeIoMode io_mode_of(const char *name)
{
    return strcmp(name, "io_uring") == 0   ? NETBE_IO_URING
           : strcmp(name, "syscalls") == 0 ? NETBE_IO_SYSCALLS
                                           : NETBE_IO_AUTO;
}

static const NetbeOptionSpec runtime_schema[] = {
    {"plugin_path", NETBE_OPT_STRING, NULL,
     "':'-separated plugin directories; relative ones start at the config file's directory"},
    {"queue_limit", NETBE_OPT_INT, "1024",
     "frames netbe holds per queue and direction for a busy peer before it drops", 1, 65536},
    {"handover_timeout", NETBE_OPT_INT, "5000",
     "ms a whole live handover attempt may take on this side", NETBE_HANDOVER_TIMEOUT_MIN_MS,
     NETBE_HANDOVER_TIMEOUT_MAX_MS},
    {"io", NETBE_OPT_ENUM, "auto",
     "queue I/O engine: io_uring batches many frames per syscall; auto: io_uring where the "
     "kernel allows it",
     .choices = io_modes},
    {"handover_allow_uid", NETBE_OPT_STRING, NULL,
     "comma-separated users or uids trusted as handover peers besides root and our own"},
    {NULL}};

static const NetbeOptionSpec netdev_schema[] = {
    {"type", NETBE_OPT_STRING, NULL, "backend plugin (see --list-plugins)",
     .flags = NETBE_OPT_REQUIRED},
    {"queue_limit", NETBE_OPT_INT, NULL, "overrides [runtime] queue_limit", 1, 65536},
    {"batch", NETBE_OPT_INT, "64",
     "frames netbe reads from a queue fd per batch, up to 256 per wakeup (fd backends: tap, "
     "socket)",
     1, 4096},
    {NULL}};

static const NetbeOptionSpec device_schema[] = {
    {"model", NETBE_OPT_ENUM, "virtio-net", "device model", .choices = device_models},
    {"netdev", NETBE_OPT_STRING, NULL, "the [netdev.ID] this device uses",
     .flags = NETBE_OPT_REQUIRED},
    {"mac", NETBE_OPT_STRING, "52:54:00:12:34:56", "MAC address, six hex bytes"},
    {"connect", NETBE_OPT_ENUM, "immediate",
     "connect the backend at load, or when the device starts", .choices = connect_modes},
    {"queues", NETBE_OPT_INT, "1", "queue pairs (virtio MQ)", 1, NETBE_MAX_QUEUES},
    {"mtu", NETBE_OPT_INT, "1500", "MTU offered to the guest", 68, 65535},
    {"rx_queue_size", NETBE_OPT_INT, "256", "RX virtqueue size (power of two)", 64, 32768},
    {"tx_queue_size", NETBE_OPT_INT, "256", "TX virtqueue size (power of two)", 64, 32768},
    {"poll_us", NETBE_OPT_INT, NULL,
     "microseconds a dry TX queue spins for the driver's next frames before it waits for a "
     "kick (while that pays; 0: never); default 32 with transport = vhost-user, else 0",
     0, 1000},
    {"transport", NETBE_OPT_ENUM, "embedded",
     "embedded (a VMM links libnetbe) or vhost-user (netbe-host serves socket)",
     .choices = device_transports},
    {"socket", NETBE_OPT_STRING, NULL,
     "vhost-user: the UNIX socket netbe-host listens on (relative: from the config's directory)"},
    {"socket_user", NETBE_OPT_STRING, NULL,
     "vhost-user: the user (name or uid) that may connect besides netbe-host's own: the "
     "socket file (0600) is given to it, e.g. the user QEMU runs as"},
    {NULL}};

static const NetbeOptionSpec hub_schema[] = {
    {"ports", NETBE_OPT_STRING, NULL, "comma-separated netdev ids", .flags = NETBE_OPT_REQUIRED},
    {"connect", NETBE_OPT_ENUM, "immediate", "connect the ports at load, or when the hub starts",
     .choices = connect_modes},
    {NULL}};

typedef struct ConfigState {
    NetbeRuntime *rt;
    const char *file;
    GPtrArray *sections;
    GPtrArray *errors;
    GHashTable *users; /* NetbeBackend* -> "[hub.x] at line N" */
    unsigned queue_limit;
} ConfigState;

bool netbe_config_id_is_valid(const char *id)
{
    if (!*id || strlen(id) > 64) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-') {
            return false;
        }
    }
    return true;
}

/* Directories of plugin_path, relative ones resolved against the config's directory. */
static char *resolve_plugin_path(const char *path, const char *file)
{
    g_auto(GStrv) dirs = g_strsplit(path, ":", -1);
    g_autofree char *base = g_path_get_dirname(file);
    GString *out = g_string_new(NULL);

    for (int i = 0; dirs[i]; i++) {
        g_autofree char *abs =
            g_path_is_absolute(dirs[i]) ? g_strdup(dirs[i]) : g_build_filename(base, dirs[i], NULL);
        g_string_append_printf(out, "%s%s", out->len ? ":" : "", abs);
    }
    return g_string_free(out, false);
}

/* [runtime] handover_allow_uid: each entry a user name or a uid. */
static void apply_handover_uids(ConfigState *cs, NetbeIniSection *s)
{
    g_auto(GStrv) users =
        g_strsplit(netbe_options_get_string(s->opts, "handover_allow_uid"), ",", -1);

    for (int i = 0; users[i]; i++) {
        g_autoptr(GError) err = NULL;
        uid_t uid;

        if (!netbe_user_lookup(g_strstrip(users[i]), &uid, NULL, &err)) {
            g_ptr_array_add(cs->errors, netbe_options_format_error(s->opts, "handover_allow_uid",
                                                                   "%s", err->message));
            continue;
        }
        netbe_runtime_allow_handover_uid(cs->rt, uid);
    }
}

static void apply_runtime(ConfigState *cs, NetbeIniSection *s, char **plugin_path)
{
    netbe_options_add_schema(s->opts, runtime_schema);
    if (!netbe_options_validate(s->opts, cs->errors)) {
        return;
    }
    cs->queue_limit = netbe_options_get_int(s->opts, "queue_limit");
    cs->rt->queue_limit = cs->queue_limit;
    g_free(cs->rt->runtime_spec);
    cs->rt->runtime_spec = netbe_config_spec(s->opts);
    netbe_io_engine_free(cs->rt->io);
    cs->rt->io = netbe_io_engine_new(io_mode_of(netbe_options_get_string(s->opts, "io")));
    netbe_runtime_set_handover_timeout(cs->rt, netbe_options_get_int(s->opts, "handover_timeout"));
    if (netbe_options_is_set(s->opts, "handover_allow_uid")) {
        apply_handover_uids(cs, s);
    }
    if (netbe_options_is_set(s->opts, "plugin_path")) {
        g_free(*plugin_path);
        *plugin_path =
            resolve_plugin_path(netbe_options_get_string(s->opts, "plugin_path"), cs->file);
    }
}

NetbeBackend *netbe_config_new_backend(NetbeRuntime *rt, NetbeOptions *opts, const char *id,
                                       unsigned queue_limit, GPtrArray *errors)
{
    const NetbeOptionValue *type = netbe_options_find(opts, "type");
    const NetbePlugin *plugin = type ? netbe_plugins_find(rt->plugins, type->value) : NULL;
    NetbeBackend *be = NULL;
    GError *err = NULL;
    unsigned limit, batch;

    netbe_options_add_schema(opts, netdev_schema);
    netbe_options_add_schema(opts, netbe_rate_limit_schema); /* core keys too */
    if (!type) {
        /* without a plugin the other keys cannot be judged: report the missing type only */
        g_ptr_array_add(
            errors, netbe_options_format_error(
                        opts, "type",
                        "required key is missing (allowed: a plugin name, see --list-plugins)"));
        goto out;
    }
    if (!plugin) {
        GString *names = g_string_new(NULL);

        for (guint i = 0; i < rt->plugins->len; i++) {
            const NetbePlugin *p = g_ptr_array_index(rt->plugins, i);
            g_string_append_printf(names, "%s%s", names->len ? ", " : "", p->desc->name);
        }
        /* a running runtime (netdev-add, reload) has the plugins it loaded at start */
        g_ptr_array_add(errors,
                        netbe_options_format_error(
                            opts, "type", "no plugin '%s' in the plugin path (allowed: %s)%s",
                            type->value, names->len ? names->str : "none loaded",
                            rt->configured || rt->reload_check
                                ? "; plugins are loaded at start: a new one needs a restart"
                                : ""));
        g_string_free(names, true);
        goto out;
    }
    netbe_options_add_schema(opts, plugin->desc->options);
    if (!netbe_options_validate(opts, errors)) {
        goto out;
    }
    limit = netbe_options_is_set(opts, "queue_limit")
                ? (unsigned)netbe_options_get_int(opts, "queue_limit")
                : queue_limit;
    batch = (unsigned)netbe_options_get_int(opts, "batch");
    be = netbe_backend_new(rt, id, plugin, g_steal_pointer(&opts), limit, batch);
    netbe_rate_limit_configure(be, be->opts, errors);
    if (!netbe_backend_init(be, &err)) {
        /* plugins may format their own FILE:LINE message with netbe_options_error() */
        if (g_str_has_prefix(err->message, be->opts->file)) {
            g_ptr_array_add(errors, g_strdup(err->message));
        } else {
            g_ptr_array_add(errors, netbe_options_format_error(be->opts, NULL, "%s", err->message));
        }
        g_error_free(err);
    }
out:
    netbe_options_free(opts);
    return be;
}

static void apply_netdev(ConfigState *cs, NetbeIniSection *s, const char *id)
{
    NetbeBackend *be = netbe_config_new_backend(cs->rt, s->opts, id, cs->queue_limit, cs->errors);

    s->opts = netbe_options_new(cs->file, s->name, s->line); /* the old went to the backend */
    if (be) {
        g_ptr_array_add(cs->rt->backends, be);
    }
}

/* The backend named by key's value, claimed for @user; NULL with an error if unusable. */
static NetbeBackend *claim_netdev(ConfigState *cs, const NetbeOptions *o, const char *key,
                                  const char *id, const char *user, NetbeConnectMode mode)
{
    NetbeBackend *be = netbe_runtime_find_backend(cs->rt, id);
    const char *owner;

    if (!be) {
        GString *ids = g_string_new(NULL);

        for (guint i = 0; i < cs->rt->backends->len; i++) {
            NetbeBackend *b = g_ptr_array_index(cs->rt->backends, i);
            g_string_append_printf(ids, "%s%s", ids->len ? ", " : "", b->id);
        }
        g_ptr_array_add(cs->errors,
                        netbe_options_format_error(
                            o, key, "no [netdev.%s] with a working backend (allowed: %s)", id,
                            ids->len ? ids->str : "none"));
        g_string_free(ids, true);
        return NULL;
    }
    owner = g_hash_table_lookup(cs->users, be);
    if (owner) {
        g_ptr_array_add(cs->errors,
                        netbe_options_format_error(
                            o, key, "netdev '%s' is already used by %s (a netdev has one frontend)",
                            id, owner));
        return NULL;
    }
    g_hash_table_insert(cs->users, be, g_strdup(user));
    be->connect = mode;
    return be;
}

static NetbeConnectMode connect_mode(const NetbeOptions *o)
{
    return g_strcmp0(netbe_options_get_string(o, "connect"), "deferred") == 0
               ? NETBE_CONNECT_DEFERRED
               : NETBE_CONNECT_IMMEDIATE;
}

static void apply_hub(ConfigState *cs, NetbeIniSection *s, const char *id)
{
    g_auto(GStrv) ports = NULL;
    g_autofree char *user = g_strdup_printf("[%s] at line %d", s->name, s->line);
    NetbeHub *hub;

    netbe_options_add_schema(s->opts, hub_schema);
    if (!netbe_options_validate(s->opts, cs->errors) && !netbe_options_is_set(s->opts, "ports")) {
        return;
    }
    hub = netbe_hub_new(cs->rt, id, connect_mode(s->opts));
    g_ptr_array_add(cs->rt->hubs, hub);
    ports = g_strsplit(netbe_options_get_string(s->opts, "ports"), ",", -1);
    for (int i = 0; ports[i]; i++) {
        NetbeBackend *be;

        g_strstrip(ports[i]);
        if (!*ports[i]) {
            g_ptr_array_add(cs->errors, netbe_options_format_error(
                                            s->opts, "ports",
                                            "empty entry (allowed: comma-separated netdev ids)"));
            continue;
        }
        be = claim_netdev(cs, s->opts, "ports", ports[i], user, connect_mode(s->opts));
        if (be) {
            netbe_hub_add_port(hub, be);
        }
    }
}

static bool parse_mac(const char *text, uint8_t mac[6])
{
    unsigned v[6];
    char end;

    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) !=
            6 ||
        strlen(text) != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = v[i];
    }
    return true;
}

/* transport and socket of a device: vhost-user needs a socket path that fits sun_path. */
static void apply_device_transport(ConfigState *cs, NetbeOptions *o, NetbeDevice *dev)
{
    const char *socket = netbe_options_get_string(o, "socket");
    const char *socket_user = netbe_options_get_string(o, "socket_user");
    g_autofree char *dir = g_path_get_dirname(cs->file);

    dev->vhost_user = g_strcmp0(netbe_options_get_string(o, "transport"), "vhost-user") == 0;
    if (!dev->vhost_user) {
        if (socket || socket_user) {
            g_ptr_array_add(
                cs->errors,
                netbe_options_format_error(
                    o, socket ? "socket" : "socket_user",
                    "only a vhost-user device has a socket (set transport = vhost-user)"));
        }
        return;
    }
    if (!socket || !*socket) {
        g_ptr_array_add(cs->errors,
                        netbe_options_format_error(
                            o, "transport",
                            "vhost-user needs 'socket = PATH', the UNIX socket a VMM connects to"));
        return;
    }
    if (socket_user) {
        g_autoptr(GError) err = NULL;

        dev->socket_owner_set =
            netbe_user_lookup(socket_user, &dev->socket_uid, &dev->socket_gid, &err);
        if (!dev->socket_owner_set) {
            g_ptr_array_add(cs->errors,
                            netbe_options_format_error(o, "socket_user", "%s", err->message));
        }
    }
    dev->socket_path =
        g_path_is_absolute(socket) ? g_strdup(socket) : g_build_filename(dir, socket, NULL);
    if (strlen(dev->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        g_ptr_array_add(cs->errors,
                        netbe_options_format_error(
                            o, "socket",
                            "path '%s' is longer than a UNIX socket address allows (%zu bytes)",
                            dev->socket_path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1));
    }
}

static void apply_device(ConfigState *cs, NetbeIniSection *s, const char *id)
{
    g_autofree char *user = g_strdup_printf("[%s] at line %d", s->name, s->line);
    NetbeOptions *o = s->opts;
    const NetbeOptionValue *netdev = netbe_options_find(o, "netdev");
    NetbeBackend *be;
    NetbeDevice *dev;
    bool ok;

    netbe_options_add_schema(o, device_schema);
    ok = netbe_options_validate(o, cs->errors);
    /* the reference is checked even when other keys are wrong: all errors in one run */
    be = netdev ? claim_netdev(cs, o, "netdev", netdev->value, user, connect_mode(o)) : NULL;
    if (!ok || !be) {
        return;
    }
    dev = netbe_device_new(cs->rt, id);
    dev->spec = netbe_config_spec(o);
    g_ptr_array_add(cs->rt->devices, dev);
    dev->backend = be;
    dev->model = g_strdup(netbe_options_get_string(o, "model"));
    dev->connect = connect_mode(o);
    dev->queues = netbe_options_get_int(o, "queues");
    dev->mtu = netbe_options_get_int(o, "mtu");
    dev->rx_queue_size = netbe_options_get_int(o, "rx_queue_size");
    dev->tx_queue_size = netbe_options_get_int(o, "tx_queue_size");
    if (!parse_mac(netbe_options_get_string(o, "mac"), dev->mac) || (dev->mac[0] & 1)) {
        g_ptr_array_add(
            cs->errors,
            netbe_options_format_error(
                o, "mac",
                "'%s' is not a unicast MAC address (allowed: six hex bytes like 52:54:00:12:34:56)",
                netbe_options_get_string(o, "mac")));
    }
    for (const char *const *k = (const char *const[]){"rx_queue_size", "tx_queue_size", NULL}; *k;
         k++) {
        int64_t v = netbe_options_get_int(o, *k);

        if (v & (v - 1)) {
            g_ptr_array_add(cs->errors, netbe_options_format_error(
                                            o, *k,
                                            "%" G_GINT64_FORMAT
                                            " is not a power of two (allowed: 64, 128, ... 32768)",
                                            v));
        }
    }
    apply_device_transport(cs, o, dev);
    /* netbe-host's own thread may spin; an embedder's loop only if it asks */
    dev->poll_us = netbe_options_is_set(o, "poll_us")
                       ? (unsigned)netbe_options_get_int(o, "poll_us")
                   : dev->vhost_user ? NETBE_VHOST_USER_POLL_US
                                     : 0;
    if (dev->queues > be->nqueues) {
        g_ptr_array_add(cs->errors,
                        netbe_options_format_error(
                            o, "queues",
                            "%u queue pairs, but netdev '%s' has %u queues (allowed: 1..%u)",
                            dev->queues, be->id, be->nqueues, be->nqueues));
    }
}

typedef void (*SectionApplyFunc)(ConfigState *cs, NetbeIniSection *s, const char *id);

/* Section kinds in the order they are applied: netdevs before their users. */
static const struct {
    const char *prefix;
    SectionApplyFunc apply;
} section_kinds[] = {
    {"netdev.", apply_netdev},
    {"hub.", apply_hub},
    {"device.", apply_device},
};

static void check_section_names(ConfigState *cs)
{
    for (guint i = 0; i < cs->sections->len; i++) {
        NetbeIniSection *s = g_ptr_array_index(cs->sections, i);
        bool known = strcmp(s->name, "runtime") == 0;

        for (size_t k = 0; !known && k < G_N_ELEMENTS(section_kinds); k++) {
            const char *prefix = section_kinds[k].prefix;

            if (g_str_has_prefix(s->name, prefix)) {
                known = true;
                if (!netbe_config_id_is_valid(s->name + strlen(prefix))) {
                    g_ptr_array_add(
                        cs->errors,
                        g_strdup_printf(
                            "%s:%d: [%s]: bad id '%s' (allowed: 1-64 of A-Z a-z 0-9 _ -)", cs->file,
                            s->line, s->name, s->name + strlen(prefix)));
                }
            }
        }
        if (!known) {
            g_ptr_array_add(cs->errors, g_strdup_printf("%s:%d: [%s]: unknown section (allowed: "
                                                        "runtime, netdev.ID, device.ID, hub.ID)",
                                                        cs->file, s->line, s->name));
        }
    }
}

/* Connect what does not wait for a start: immediate hubs and devices, unused netdevs. */
static bool connect_immediate(ConfigState *cs, GError **errp)
{
    /* a hub's ports learn their header before they open anything: a TAP whose peers use
     * none opens without one (the kernel's header costs a third of a TAP's rate at 64 B) */
    for (guint i = 0; i < cs->rt->hubs->len; i++) {
        netbe_hub_negotiate(g_ptr_array_index(cs->rt->hubs, i));
    }
    for (guint i = 0; i < cs->rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(cs->rt->backends, i);
        const char *user = g_hash_table_lookup(cs->users, be);

        if (!user) {
            g_message("netdev '%s' is not used by any device or hub; connecting it anyway", be->id);
        }
        if (be->connect == NETBE_CONNECT_IMMEDIATE && !netbe_backend_connect(be, errp)) {
            g_prefix_error(errp, "%s:%d: [netdev.%s]%s%s: ", cs->file, be->opts->section_line,
                           be->id, user ? " of " : "", user ? user : "");
            return false;
        }
    }
    return true;
}

static gint spec_line_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *netbe_config_spec(const NetbeOptions *o)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < o->values->len; i++) {
        const NetbeOptionValue *v = g_ptr_array_index(o->values, i);

        g_ptr_array_add(lines, g_strdup_printf("%s=%s\n", v->key, v->value));
    }
    g_ptr_array_sort(lines, spec_line_cmp);
    for (guint i = 0; i < lines->len; i++) {
        g_string_append(out, g_ptr_array_index(lines, i));
    }
    return g_string_free(out, false);
}

void netbe_errors_to_gerror(GPtrArray *errors, GQuark domain, GError **errp)
{
    GString *msg = g_string_new(NULL);

    for (guint i = 0; i < errors->len; i++) {
        g_string_append_printf(msg, "%s%s", i ? "\n" : "", (char *)g_ptr_array_index(errors, i));
    }
    g_set_error_literal(errp, domain, EINVAL, msg->str);
    g_string_free(msg, true);
}

/*
 * netbe_config_apply() - read, check and apply a config to an empty runtime.
 * @text, @len: the config's bytes (NUL bytes in them are errors)
 * @name: the file name for messages
 * Return: false with all errors in @errp; the runtime is left empty then.
 */
bool netbe_config_apply(NetbeRuntime *rt, const char *text, size_t len, const char *name,
                        GError **errp)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *plugin_path = g_strdup(NETBE_DEFAULT_PLUGIN_PATH);
    ConfigState cs = {.rt = rt, .file = name, .errors = errors, .queue_limit = 1024};
    bool ok = false;

    cs.users = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    cs.sections = netbe_ini_read(text, len, name, errors);
    if (!cs.sections) {
        netbe_errors_to_gerror(errors, NETBE_CONFIG_ERROR, errp);
        goto out;
    }
    check_section_names(&cs);
    for (guint i = 0; i < cs.sections->len; i++) {
        NetbeIniSection *s = g_ptr_array_index(cs.sections, i);
        if (!s->duplicate && strcmp(s->name, "runtime") == 0) {
            apply_runtime(&cs, s, &plugin_path);
        }
    }
    if (rt->plugin_path_override) {
        g_free(plugin_path);
        plugin_path = g_strdup(rt->plugin_path_override);
    }
    if (!rt->reload_check) {
        netbe_plugins_load_path(rt->plugins, plugin_path, errors);
    }
    for (size_t k = 0; k < G_N_ELEMENTS(section_kinds); k++) {
        for (guint i = 0; i < cs.sections->len; i++) {
            NetbeIniSection *s = g_ptr_array_index(cs.sections, i);
            const char *prefix = section_kinds[k].prefix;

            if (!s->duplicate && g_str_has_prefix(s->name, prefix) &&
                netbe_config_id_is_valid(s->name + strlen(prefix))) {
                section_kinds[k].apply(&cs, s, s->name + strlen(prefix));
            }
        }
    }
    if (errors->len) {
        netbe_errors_to_gerror(errors, NETBE_CONFIG_ERROR, errp);
        goto out;
    }
    if (!(rt->flags & NETBE_RUNTIME_CHECK_ONLY) && !connect_immediate(&cs, errp)) {
        goto out;
    }
    ok = true;
out:
    g_hash_table_unref(cs.users);
    g_clear_pointer(&cs.sections, g_ptr_array_unref);
    return ok;
}
