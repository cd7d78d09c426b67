/* SPDX-License-Identifier: GPL-2.0-or-later */
/* plugin-dir.h - test helpers: private plugin directories holding chosen fixture .so files. */
#ifndef NETBE_TEST_PLUGIN_DIR_H
#define NETBE_TEST_PLUGIN_DIR_H

#include <glib.h>

/*
 * test_plugin_dir_new() - a new directory (mode 0755) with copies of the named files of
 * NETBE_FIXTURE_DIR; an entry "SRC=DST" copies SRC under the name DST.
 * Return: its path (caller frees with test_plugin_dir_free).
 */
char *test_plugin_dir_new(const char *const *fixtures);
/* Remove the directory and everything in it, then free the path. */
void test_plugin_dir_free(char *dir);
/* Path of a file in NETBE_FIXTURE_DIR (caller frees). */
char *test_fixture_path(const char *name);
/* dlsym a control function of the fixture plugin loaded from @dir. */
void *test_fixture_symbol(const char *dir, const char *symbol);

#endif /* NETBE_TEST_PLUGIN_DIR_H */
