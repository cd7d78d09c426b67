/* plugin-loader.c - find, check and dlopen backend plugins from the plugin path. */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "netbe-priv.h"

/* Smallest descriptor size a plugin of each ABI version may declare. */
static const size_t desc_min_size[NETBE_PLUGIN_ABI + 1] = {
    [1] = offsetof(NetbePluginDesc, load) + sizeof(((NetbePluginDesc *)0)->load),
    [2] = offsetof(NetbePluginDesc, extra_syscalls) +
          sizeof(((NetbePluginDesc *)0)->extra_syscalls),
};

/* Entry points every plugin must have. */
static const struct {
    const char *name;
    size_t offset;
} required_entries[] = {
    { "init", offsetof(NetbePluginDesc, init) },
    { "backend_connect", offsetof(NetbePluginDesc, backend_connect) },
    { "cleanup", offsetof(NetbePluginDesc, cleanup) },
    { "send", offsetof(NetbePluginDesc, send) },
    { "poll", offsetof(NetbePluginDesc, poll) },
};

void netbe_plugin_free(NetbePlugin *p)
{
    if (!p) {
        return;
    }
    if (p->handle) {
        dlclose(p->handle);
    }
    g_free(p->path);
    g_free(p);
}

/* Refuse files and directories others than the owner may write. */
static bool check_not_writable_by_others(const char *path, const char *what, GPtrArray *errors)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        g_ptr_array_add(errors, g_strdup_printf("%s %s: %s", what, path, g_strerror(errno)));
        return false;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        g_ptr_array_add(errors, g_strdup_printf(
            "%s %s is writable by group or others (mode %04o); refusing to load plugins "
            "from it (fix: chmod go-w %s)", what, path, (unsigned)(st.st_mode & 07777), path));
        return false;
    }
    return true;
}

static char *check_descriptor(const char *path, const NetbePluginDesc *d)
{
    if (!d) {
        return g_strdup_printf("plugin %s: %s(%u) returned no descriptor", path,
                               NETBE_PLUGIN_QUERY_SYMBOL, NETBE_PLUGIN_ABI);
    }
    if (d->abi_version > NETBE_PLUGIN_ABI) {
        return g_strdup_printf("plugin %s: ABI %u is newer than this host's ABI %u "
                               "(symbol %s); use a newer libnetbe or rebuild the plugin "
                               "against ABI %u", path, d->abi_version, NETBE_PLUGIN_ABI,
                               NETBE_PLUGIN_QUERY_SYMBOL, NETBE_PLUGIN_ABI);
    }
    if (d->abi_version < NETBE_PLUGIN_ABI_MIN) {
        return g_strdup_printf("plugin %s: ABI %u is older than this host supports "
                               "(ABI %u..%u, symbol %s); rebuild the plugin", path,
                               d->abi_version, NETBE_PLUGIN_ABI_MIN, NETBE_PLUGIN_ABI,
                               NETBE_PLUGIN_QUERY_SYMBOL);
    }
    if (d->struct_size < desc_min_size[d->abi_version]) {
        return g_strdup_printf("plugin %s: descriptor is %u bytes, ABI %u needs at least %zu",
                               path, d->struct_size, d->abi_version,
                               desc_min_size[d->abi_version]);
    }
    if (!d->name || !*d->name) {
        return g_strdup_printf("plugin %s: descriptor has no name", path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(required_entries); i++) {
        if (!G_STRUCT_MEMBER(void *, d, required_entries[i].offset)) {
            return g_strdup_printf("plugin %s ('%s'): entry point %s is missing", path, d->name,
                                   required_entries[i].name);
        }
    }
    return NULL;
}

/* Load one file. Return: the plugin, or NULL with a message added to errors. */
static NetbePlugin *plugin_load_file(const char *path, GPtrArray *errors)
{
    NetbePluginQueryFunc query;
    NetbePlugin *p;
    char *problem;

    if (!check_not_writable_by_others(path, "plugin file", errors)) {
        return NULL;
    }
    p = g_new0(NetbePlugin, 1);
    p->path = g_strdup(path);
    p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!p->handle) {
        g_ptr_array_add(errors, g_strdup_printf("plugin %s: not a loadable shared object: %s",
                                                path, dlerror()));
        goto fail;
    }
    query = (NetbePluginQueryFunc)dlsym(p->handle, NETBE_PLUGIN_QUERY_SYMBOL);
    if (!query) {
        g_ptr_array_add(errors, g_strdup_printf("plugin %s: no entry symbol '%s' (not a netbe "
                                                "plugin?)", path, NETBE_PLUGIN_QUERY_SYMBOL));
        goto fail;
    }
    p->desc = query(NETBE_PLUGIN_ABI);
    problem = check_descriptor(path, p->desc);
    if (problem) {
        g_ptr_array_add(errors, problem);
        goto fail;
    }
    return p;
fail:
    netbe_plugin_free(p);
    return NULL;
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load every *.so of one directory, in name order. */
static void plugins_load_dir(GPtrArray *plugins, const char *dir, GPtrArray *errors)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    const char *name;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_debug("plugin directory %s does not exist; skipped", dir);
        return;
    }
    if (!check_not_writable_by_others(dir, "plugin directory", errors)) {
        return;
    }
    d = g_dir_open(dir, 0, NULL);
    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".so")) {
            g_ptr_array_add(names, g_build_filename(dir, name, NULL));
        }
    }
    g_ptr_array_sort(names, compare_strings);
    for (guint i = 0; i < names->len; i++) {
        NetbePlugin *p = plugin_load_file(g_ptr_array_index(names, i), errors);
        const NetbePlugin *twin;

        if (!p) {
            continue;
        }
        twin = netbe_plugins_find(plugins, p->desc->name);
        if (twin) {
            g_ptr_array_add(errors, g_strdup_printf("plugin '%s' is claimed by two files: %s "
                                                    "and %s; remove one", p->desc->name,
                                                    twin->path, p->path));
            netbe_plugin_free(p);
            continue;
        }
        g_ptr_array_add(plugins, p);
    }
}

/*
 * netbe_plugins_load_path() - load the plugins of every directory in a ':'-separated
 * path. Missing directories are skipped; every bad file is an error.
 * Return: true if no error was added.
 */
bool netbe_plugins_load_path(GPtrArray *plugins, const char *path, GPtrArray *errors)
{
    g_auto(GStrv) dirs = g_strsplit(path ? path : "", ":", -1);
    guint before = errors->len;

    for (int i = 0; dirs[i]; i++) {
        if (*dirs[i]) {
            plugins_load_dir(plugins, dirs[i], errors);
        }
    }
    return errors->len == before;
}

const NetbePlugin *netbe_plugins_find(GPtrArray *plugins, const char *name)
{
    for (guint i = 0; i < plugins->len; i++) {
        const NetbePlugin *p = g_ptr_array_index(plugins, i);

        if (strcmp(p->desc->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}
