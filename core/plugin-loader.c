// SPDX-License-Identifier: LGPL-2.1-or-later
/* plugin-loader.c - find, check and dlopen backend plugins from the plugin path: each folder
 * and file is opened once, without following symlinks, checked on its fd and loaded
 * through that fd, so that what was checked is what runs. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netbe-priv.h"

/* Smallest descriptor size a plugin of each ABI version may declare. */
static const size_t desc_min_size[NETBE_PLUGIN_ABI + 1] = {
    [3] =
        offsetof(NetbePluginDesc, extra_syscalls) + sizeof(((NetbePluginDesc *)0)->extra_syscalls),
    [4] = offsetof(NetbePluginDesc, control) + sizeof(((NetbePluginDesc *)0)->control),
};

/* Entry points every plugin must have. */
static const struct {
    const char *name;
    size_t offset;
} required_entries[] = {
    {"init", offsetof(NetbePluginDesc, init)},
    {"backend_connect", offsetof(NetbePluginDesc, backend_connect)},
    {"cleanup", offsetof(NetbePluginDesc, cleanup)},
};

/* The entry points that go together. Return: what is wrong, or NULL. */
static const char *check_entry_sets(const NetbePluginDesc *d)
{
    if (!d->send != !d->poll) {
        return "a producer plugin needs both send and poll (an fd plugin neither)";
    }
    if ((d->caps & NETBE_CAP_HANDOVER) && (!d->save || !d->load)) {
        return "NETBE_CAP_HANDOVER needs save and load";
    }
    if (!(d->caps & NETBE_CAP_HANDOVER) && (d->save || d->load)) {
        return "save and load without NETBE_CAP_HANDOVER in caps";
    }
    if (d->send && (d->queue_broken || d->stream_framing)) {
        return "queue_broken and stream_framing are for fd plugins (without send)";
    }
    return NULL;
}

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

/*
 * A symlink where a plugin folder or file was expected (@name in @dirfd): refused, with
 * where it points and what to do instead.
 */
static void refuse_symlink(int dirfd, const char *name, const char *path, const char *what,
                           const char *fix, GPtrArray *errors)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

    target[n > 0 ? n : 0] = '\0';
    g_ptr_array_add(errors, g_strdup_printf("%s %s is a symlink (to %s); refusing to follow "
                                            "it (fix: %s)",
                                            what, path, n > 0 ? target : "?", fix));
}

/*
 * check_trusted() - the rules for a plugin folder or file, on its open fd: of type @type,
 * owned by root or this process's effective uid, not writable by group or others.
 * @st: gets the fd's stat
 * Return: true if it may be used; else false with a message added to @errors.
 */
static bool check_trusted(int fd, const char *path, const char *what, mode_t type, struct stat *st,
                          GPtrArray *errors)
{
    uid_t euid = geteuid();

    if (fstat(fd, st) < 0) {
        g_ptr_array_add(errors, g_strdup_printf("%s %s: %s", what, path, g_strerror(errno)));
        return false;
    }
    if ((st->st_mode & S_IFMT) != type) {
        g_ptr_array_add(errors,
                        g_strdup_printf("%s %s is not a %s; refusing to load it", what, path,
                                        type == S_IFDIR ? "directory" : "regular file"));
        return false;
    }
    if (st->st_uid != 0 && st->st_uid != euid) {
        g_ptr_array_add(
            errors,
            g_strdup_printf(
                "%s %s is owned by uid %u, neither root nor this process's uid %u; refusing to "
                "load plugins from it (fix: chown root %s, or install it as root)",
                what, path, (unsigned)st->st_uid, (unsigned)euid, path));
        return false;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        g_ptr_array_add(
            errors,
            g_strdup_printf(
                "%s %s is writable by group or others (mode %04o); refusing to load plugins "
                "from it (fix: chmod go-w %s)",
                what, path, (unsigned)(st->st_mode & 07777), path));
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
                               "against ABI %u",
                               path, d->abi_version, NETBE_PLUGIN_ABI, NETBE_PLUGIN_QUERY_SYMBOL,
                               NETBE_PLUGIN_ABI);
    }
    if (d->abi_version < NETBE_PLUGIN_ABI_MIN) {
        return g_strdup_printf("plugin %s: ABI %u is older than this host supports "
                               "(ABI %u..%u, symbol %s); rebuild the plugin",
                               path, d->abi_version, NETBE_PLUGIN_ABI_MIN, NETBE_PLUGIN_ABI,
                               NETBE_PLUGIN_QUERY_SYMBOL);
    }
    if (d->struct_size < desc_min_size[d->abi_version]) {
        return g_strdup_printf("plugin %s: descriptor is %u bytes, ABI %u needs at least %zu", path,
                               d->struct_size, d->abi_version, desc_min_size[d->abi_version]);
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
    if (check_entry_sets(d)) {
        return g_strdup_printf("plugin %s ('%s'): %s", path, d->name, check_entry_sets(d));
    }
    return NULL;
}

/*
 * plugin_fd_name() - the name dlopen() gets for the checked file open at @fd.
 * glibc hands back an already loaded object whose name equals the one asked for before it
 * opens anything: a plain "/proc/self/fd/N" would return whatever an earlier load found
 * at fd N, closed since and its number reused for another file. So the name also spells
 * the file's identity: after "/proc/self/fd", one step per bit of st_dev and st_ino ("/."
 * for 1, "/" for 0; the kernel skips both), then "/N". A loaded object pins its inode,
 * so an equal name always means the same file, as glibc's own dedup by dev/ino does.
 * Return: the name (g_free).
 */
static char *plugin_fd_name(int fd, const struct stat *st)
{
    const uint64_t id[2] = {st->st_dev, st->st_ino};
    GString *name = g_string_new("/proc/self/fd");

    for (int w = 0; w < 2; w++) {
        for (int bit = 63; bit >= 0; bit--) {
            g_string_append(name, (id[w] >> bit) & 1 ? "/." : "/");
        }
    }
    g_string_append_printf(name, "/%d", fd);
    return g_string_free(name, false);
}

/* dlerror() with @load_name (the fd's name) replaced by the file's @path. */
static char *plugin_dlerror(const char *load_name, const char *path)
{
    const char *e = dlerror();

    if (!e) {
        return g_strdup("unknown error");
    }
    if (g_str_has_prefix(e, load_name)) {
        const char *hint = access("/proc/self/fd", X_OK) == 0
                               ? ""
                               : " (plugins are loaded through /proc/self/fd: is /proc mounted?)";

        return g_strconcat(path, e + strlen(load_name), hint, NULL);
    }
    return g_strdup(e);
}

/*
 * plugin_load_file() - open @name in the folder @dirfd without following a symlink,
 * check the open file, and dlopen() it through its fd.
 * @path: the file's path, for messages and NetbePlugin.path
 * Return: the plugin, or NULL with a message added to @errors.
 */
static NetbePlugin *plugin_load_file(int dirfd, const char *name, const char *path,
                                     GPtrArray *errors)
{
    g_autofree char *load_name = NULL;
    NetbePluginQueryFunc query;
    NetbePlugin *p = NULL;
    struct stat st;
    char *problem;
    int fd;

    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && errno == ELOOP) {
        refuse_symlink(dirfd, name, path, "plugin file",
                       "copy the plugin file itself into the folder, or put the folder it is in "
                       "on the plugin path",
                       errors);
        goto fail;
    }
    if (fd < 0) {
        g_ptr_array_add(errors, g_strdup_printf("plugin file %s: %s", path, g_strerror(errno)));
        goto fail;
    }
    if (!check_trusted(fd, path, "plugin file", S_IFREG, &st, errors)) {
        goto fail;
    }
    load_name = plugin_fd_name(fd, &st);
    p = g_new0(NetbePlugin, 1);
    p->path = g_strdup(path);
    p->handle = dlopen(load_name, RTLD_NOW | RTLD_LOCAL);
    if (!p->handle) {
        g_autofree char *why = plugin_dlerror(load_name, path);

        g_ptr_array_add(errors,
                        g_strdup_printf("plugin %s: not a loadable shared object: %s", path, why));
        goto fail;
    }
    query = (NetbePluginQueryFunc)dlsym(p->handle, NETBE_PLUGIN_QUERY_SYMBOL);
    if (!query) {
        g_ptr_array_add(errors, g_strdup_printf("plugin %s: no entry symbol '%s' (not a netbe "
                                                "plugin?)",
                                                path, NETBE_PLUGIN_QUERY_SYMBOL));
        goto fail;
    }
    p->desc = query(NETBE_PLUGIN_ABI);
    problem = check_descriptor(path, p->desc);
    if (problem) {
        g_ptr_array_add(errors, problem);
        goto fail;
    }
    close(fd);
    return p;
fail:
    netbe_plugin_free(p);
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

NetbePlugin *netbe_plugin_load_one(const char *path, GPtrArray *errors)
{
    return plugin_load_file(AT_FDCWD, path, path, errors);
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * plugin_dir_open() - open and check a plugin folder, without following a symlink as its
 * last step. Return: its fd; -1 if it is missing (*missing set) or refused (an error).
 */
static int plugin_dir_open(const char *dir, bool *missing, GPtrArray *errors)
{
    struct stat st;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT) {
        g_debug("plugin directory %s does not exist; skipped", dir);
        *missing = true;
    } else if (fd < 0 && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
        refuse_symlink(AT_FDCWD, dir, dir, "plugin directory",
                       "give the folder's real path on the plugin path", errors);
    } else if (fd < 0) {
        g_ptr_array_add(errors, g_strdup_printf("plugin directory %s: %s", dir, g_strerror(errno)));
    } else if (!check_trusted(fd, dir, "plugin directory", S_IFDIR, &st, errors)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Names of the *.so entries of the open folder @dirfd, sorted. */
static GPtrArray *plugin_dir_list(int dirfd)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (!d && fd >= 0) {
        close(fd);
    }
    while (d && (e = readdir(d))) {
        if (g_str_has_suffix(e->d_name, ".so")) {
            g_ptr_array_add(names, g_strdup(e->d_name));
        }
    }
    if (d) {
        closedir(d);
    }
    g_ptr_array_sort(names, compare_strings);
    return names;
}

/* Load every *.so of one folder, in name order. Return: false if the folder is missing. */
static bool plugins_load_dir(GPtrArray *plugins, const char *dir, GPtrArray *errors)
{
    g_autoptr(GPtrArray) names = NULL;
    bool missing = false;
    int dirfd = plugin_dir_open(dir, &missing, errors);

    if (dirfd < 0) {
        return !missing;
    }
    names = plugin_dir_list(dirfd);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        NetbePlugin *p = plugin_load_file(dirfd, name, path, errors);
        const NetbePlugin *twin;

        if (!p) {
            continue;
        }
        twin = netbe_plugins_find(plugins, p->desc->name);
        if (twin) {
            g_ptr_array_add(errors, g_strdup_printf("plugin '%s' is claimed by two files: %s "
                                                    "and %s; remove one",
                                                    p->desc->name, twin->path, p->path));
            netbe_plugin_free(p);
            continue;
        }
        g_ptr_array_add(plugins, p);
    }
    close(dirfd);
    return true;
}

/*
 * netbe_plugins_load_path() - load the plugins of every folder in a ':'-separated path.
 * Missing folders are skipped; every bad file or folder is an error, and so is a path
 * that yields no plugin at all (the message names every folder searched).
 * Return: true if no error was added.
 */
bool netbe_plugins_load_path(GPtrArray *plugins, const char *path, GPtrArray *errors)
{
    g_auto(GStrv) dirs = g_strsplit(path ? path : "", ":", -1);
    GString *searched = g_string_new(NULL);
    guint before = errors->len;

    for (int i = 0; dirs[i]; i++) {
        size_t len = strlen(dirs[i]);

        while (len > 1 && dirs[i][len - 1] == '/') {
            dirs[i][--len] = '\0'; /* "dir/" would follow a symlink "dir" */
        }
        if (*dirs[i]) {
            bool found = plugins_load_dir(plugins, dirs[i], errors);

            g_string_append_printf(searched, "%s%s%s", searched->len ? ", " : "", dirs[i],
                                   found ? "" : " (missing)");
        }
    }
    if (!plugins->len && errors->len == before) {
        g_ptr_array_add(
            errors,
            g_strdup_printf(
                "no plugins found in %s (fix: give the folder of the netbe plugins with "
                "NETBE_PLUGIN_PATH, --plugin-path or [runtime] plugin_path; a build tree has "
                "them in BUILDDIR/plugins, and `meson devenv` sets it)",
                searched->len ? searched->str : "an empty plugin path"));
    }
    g_string_free(searched, true);
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
