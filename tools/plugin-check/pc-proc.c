// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-proc.c - netbe-plugin-check: what this process holds (fds) and what is in a folder. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include "pc.h"

GHashTable *pc_fds_snapshot(void)
{
    GHashTable *fds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    g_assert(d);
    while ((e = readdir(d))) {
        char path[PATH_MAX], target[PATH_MAX];
        int fd = atoi(e->d_name);
        ssize_t n;

        if (e->d_name[0] == '.' || fd == dirfd(d)) {
            continue;
        }
        g_snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        g_hash_table_insert(fds, GINT_TO_POINTER(fd), g_strdup(target));
    }
    closedir(d);
    return fds;
}

static gint compare_ints(gconstpointer a, gconstpointer b)
{
    return GPOINTER_TO_INT(a) - GPOINTER_TO_INT(b);
}

char *pc_fds_new(GHashTable *before, GHashTable *after)
{
    GList *keys = g_list_sort(g_hash_table_get_keys(after), compare_ints);
    GString *out = g_string_new(NULL);

    for (GList *l = keys; l; l = l->next) {
        const char *now = g_hash_table_lookup(after, l->data);
        const char *then = g_hash_table_lookup(before, l->data);

        if (g_strcmp0(now, then) != 0) {
            g_string_append_printf(out, "%sfd %d (%s)", out->len ? ", " : "",
                                   GPOINTER_TO_INT(l->data), now);
        }
    }
    g_list_free(keys);
    if (!out->len) {
        g_string_free(out, true);
        return NULL;
    }
    return g_string_free(out, false);
}

char *pc_dir_entries(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    GString *out = g_string_new(NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_string_append_printf(out, "%s%s", out->len ? ", " : "", name);
    }
    if (d) {
        g_dir_close(d);
    }
    if (!out->len) {
        g_string_free(out, true);
        return NULL;
    }
    return g_string_free(out, false);
}

int pc_lowest_free_fd(void)
{
    int fd = 0;

    while (fcntl(fd, F_GETFD) >= 0) {
        fd++;
    }
    return fd;
}
