// SPDX-License-Identifier: GPL-2.0-or-later
/* plugin-dir.c - test helpers: private plugin directories holding chosen fixture .so files. */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "host-proc.h"
#include "netns.h"
#include "plugin-dir.h"

char *test_fixture_path(const char *name)
{
    return g_build_filename(test_env_path("NETBE_FIXTURE_DIR"), name, NULL);
}

char *test_plugin_dir_new(const char *const *fixtures)
{
    g_autoptr(GError) err = NULL;
    char *dir = g_dir_make_tmp("netbe-plugins-XXXXXX", &err);

    g_assert_no_error(err);
    g_assert_cmpint(chmod(dir, 0755), ==, 0);
    for (int i = 0; fixtures && fixtures[i]; i++) {
        g_auto(GStrv) parts = g_strsplit(fixtures[i], "=", 2);
        g_autofree char *src = test_fixture_path(parts[0]);
        g_autofree char *dst = g_build_filename(dir, parts[1] ? parts[1] : parts[0], NULL);

        g_assert_cmpint(test_sh("cp '%s' '%s' && chmod 0755 '%s'", src, dst, dst), ==, 0);
    }
    return dir;
}

void test_plugin_dir_free(char *dir)
{
    if (dir) {
        test_sh("chmod -R u+w,go-w '%s'; rm -rf '%s'", dir, dir);
        g_free(dir);
    }
}

void *test_fixture_symbol(const char *dir, const char *symbol)
{
    g_autofree char *path = g_build_filename(dir, "netbe-fixture.so", NULL);
    void *handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    void *sym;

    g_assert_nonnull(handle);
    sym = dlsym(handle, symbol);
    g_assert_nonnull(sym);
    dlclose(handle); /* drop the reference RTLD_NOLOAD took; the runtime keeps its own */
    return sym;
}
