// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-plugins.c - keep the plugins of NETBE_PLUGIN_PATH mapped for the whole fuzzing run. */
#include <dlfcn.h>
#include <stdbool.h>
#include <glib.h>
#include "fuzz-plugins.h"

void fuzz_keep_plugins_loaded(void)
{
    static bool done;
    const char *path = g_getenv("NETBE_PLUGIN_PATH");
    g_auto(GStrv) dirs = g_strsplit(path ? path : "", ":", -1);

    for (int i = 0; !done && dirs[i]; i++) {
        GDir *d = g_dir_open(dirs[i], 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *file = g_build_filename(dirs[i], name, NULL);

            if (g_str_has_suffix(name, ".so")) {
                dlopen(file, RTLD_NOW | RTLD_NODELETE); /* a reference never dropped */
            }
        }
        if (d) {
            g_dir_close(d);
        }
    }
    done = true;
}
