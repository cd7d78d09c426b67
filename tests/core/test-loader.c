// SPDX-License-Identifier: GPL-2.0-or-later
/* test-loader.c - the plugin loader: real dlopen of built fixture .so files, and the
 * error message for every way a plugin file can be wrong. */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"
#include "netns.h"
#include "plugin-dir.h"

/* Load plugins from @dir through --list-plugins' code path. Return: text or NULL+err. */
static char *list_plugins(const char *dir, GError **errp)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    char *text;

    netbe_runtime_set_plugin_path(rt, dir);
    text = netbe_runtime_list_plugins(rt, errp);
    netbe_runtime_free(rt);
    return text;
}

/* Fails if a well-formed plugin is not found, or its name/ABI/file are not listed. */
static void test_wellformed_plugin_is_listed(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = list_plugins(dir, &err);

    g_assert_no_error(err);
    g_assert_nonnull(strstr(text, "fixture"));
    g_assert_nonnull(strstr(text, "ABI " G_STRINGIFY(NETBE_PLUGIN_ABI)));
    g_assert_nonnull(strstr(text, dir));
    test_plugin_dir_free(dir);
}

/* Load a directory that must fail; check the message names the file and the words. */
static void expect_load_error(const char *const *files, const char *const *words)
{
    char *dir = test_plugin_dir_new(files);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = list_plugins(dir, &err);

    g_assert_null(text);
    g_assert_nonnull(err);
    g_test_message("error: %s", err->message);
    for (int i = 0; words[i]; i++) {
        g_autofree char *w = g_strcmp0(words[i], "@DIR@") == 0 ? g_strdup(dir) : g_strdup(words[i]);
        if (!strstr(err->message, w)) {
            g_test_message("missing '%s' in '%s'", w, err->message);
        }
        g_assert_nonnull(strstr(err->message, w));
    }
    test_plugin_dir_free(dir);
}

/* Fails if a plugin built for a newer ABI loads, or the message omits either version. */
static void test_newer_abi_refused_naming_both_versions(void)
{
    const char *files[] = {"netbe-fixture-abi-new.so", NULL};
    g_autofree char *newer = g_strdup_printf("ABI %d is newer", NETBE_PLUGIN_ABI + 1);
    const char *words[] = {"netbe-fixture-abi-new.so", newer,
                           "host's ABI " G_STRINGIFY(NETBE_PLUGIN_ABI), "netbe_plugin_query", NULL};

    expect_load_error(files, words);
}

static void test_older_abi_refused_naming_both_versions(void)
{
    const char *files[] = {"netbe-fixture-abi-old.so", NULL};
    const char *words[] = {
        "netbe-fixture-abi-old.so", "ABI 0 is older",
        "ABI " G_STRINGIFY(NETBE_PLUGIN_ABI_MIN) ".." G_STRINGIFY(NETBE_PLUGIN_ABI), NULL};

    expect_load_error(files, words);
}

/* Fails if a plugin built for ABI 2 (before the core owned queue I/O) loads: its
 * descriptor has recv where ABI 3 has other fields; the message says to rebuild. */
static void test_abi2_plugin_refused(void)
{
    const char *files[] = {"netbe-fixture-abi2.so", NULL};
    const char *words[] = {"netbe-fixture-abi2.so", "ABI 2 is older", "rebuild the plugin", NULL};

    expect_load_error(files, words);
}

static void test_missing_entry_symbol_refused(void)
{
    const char *files[] = {"netbe-fixture-nosym.so", NULL};
    const char *words[] = {"netbe-fixture-nosym.so", "no entry symbol 'netbe_plugin_query'", NULL};

    expect_load_error(files, words);
}

static void test_garbage_file_refused(void)
{
    char *dir = test_plugin_dir_new(NULL);
    g_autofree char *path = g_build_filename(dir, "netbe-garbage.so", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;

    g_assert_true(g_file_set_contents(path, "this is not an ELF file\n", -1, NULL));
    text = list_plugins(dir, &err);
    g_assert_null(text);
    g_assert_nonnull(strstr(err->message, path));
    g_assert_nonnull(strstr(err->message, "not a loadable shared object"));
    test_plugin_dir_free(dir);
}

/* Fails if a world- or group-writable plugin file is loaded. */
static void test_writable_plugin_file_refused(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autofree char *path = g_build_filename(dir, "netbe-fixture.so", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;

    g_assert_cmpint(chmod(path, 0757), ==, 0);
    text = list_plugins(dir, &err);
    g_assert_null(text);
    g_assert_nonnull(strstr(err->message, path));
    g_assert_nonnull(strstr(err->message, "writable by group or others"));
    g_assert_nonnull(strstr(err->message, "chmod go-w"));
    test_plugin_dir_free(dir);
}

static void test_writable_plugin_directory_refused(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;

    g_assert_cmpint(chmod(dir, 0777), ==, 0);
    text = list_plugins(dir, &err);
    g_assert_null(text);
    g_assert_nonnull(strstr(err->message, "plugin directory"));
    g_assert_nonnull(strstr(err->message, dir));
    test_plugin_dir_free(dir);
}

/* Fails if two files claiming one plugin name both load, or one silently wins. */
static void test_two_plugins_claiming_one_name_refused(void)
{
    const char *files[] = {"netbe-fixture.so=netbe-a.so", "netbe-fixture.so=netbe-b.so", NULL};
    const char *words[] = {"plugin 'fixture' is claimed by two files", "netbe-a.so", "netbe-b.so",
                           NULL};

    expect_load_error(files, words);
}

/* Fails if a symlink to a plugin file is followed, or the refusal does not say "symlink",
 * where it points and what to do. The target is a good plugin of our own uid. */
static void test_symlinked_plugin_file_refused(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *real = test_plugin_dir_new(files);
    char *dir = test_plugin_dir_new(NULL);
    g_autofree char *target = g_build_filename(real, "netbe-fixture.so", NULL);
    g_autofree char *link = g_build_filename(dir, "netbe-fixture.so", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;

    g_assert_cmpint(symlink(target, link), ==, 0);
    text = list_plugins(dir, &err);
    g_assert_null(text);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "plugin file"));
    g_assert_nonnull(strstr(err->message, link));
    g_assert_nonnull(strstr(err->message, "is a symlink"));
    g_assert_nonnull(strstr(err->message, target));
    g_assert_nonnull(strstr(err->message, "fix: copy the plugin file itself"));
    test_plugin_dir_free(dir);
    test_plugin_dir_free(real);
}

/*
 * Fails if a plugin folder given as a symlink is followed. Decision: the folder named on
 * the plugin path is the one checked, so its last step may not be a symlink (earlier steps
 * may: /lib -> usr/lib); the message names the real folder, and that one loads.
 */
static void test_symlinked_plugin_folder_refused(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *real = test_plugin_dir_new(files);
    char *parent = test_plugin_dir_new(NULL);
    g_autofree char *link = g_build_filename(parent, "plugins", NULL);
    g_autofree char *slash = g_strconcat(link, "/", NULL);
    g_autoptr(GError) err = NULL, err2 = NULL, err3 = NULL;
    g_autofree char *text = NULL, *text2 = NULL, *text3 = NULL;

    g_assert_cmpint(symlink(real, link), ==, 0);
    text = list_plugins(link, &err);
    g_assert_null(text);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "plugin directory"));
    g_assert_nonnull(strstr(err->message, "is a symlink"));
    g_assert_nonnull(strstr(err->message, real));
    g_assert_nonnull(strstr(err->message, "real path"));
    /* a trailing '/' would make the kernel follow it: still refused */
    text2 = list_plugins(slash, &err2);
    g_assert_null(text2);
    g_assert_nonnull(strstr(err2->message, "is a symlink"));
    text3 = list_plugins(real, &err3);
    g_assert_no_error(err3);
    g_assert_nonnull(strstr(text3, "fixture"));
    test_plugin_dir_free(parent);
    test_plugin_dir_free(real);
}

/* Fails if a non-regular *.so (a folder, a FIFO that would block the open) is not refused. */
static void test_non_regular_plugin_refused(void)
{
    char *dir = test_plugin_dir_new(NULL);
    g_autofree char *sub = g_build_filename(dir, "netbe-dir.so", NULL);
    g_autofree char *fifo = g_build_filename(dir, "netbe-fifo.so", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;

    g_assert_cmpint(mkdir(sub, 0755), ==, 0);
    g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
    text = list_plugins(dir, &err);
    g_assert_null(text);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "plugin file"));
    g_assert_nonnull(strstr(err->message, "netbe-dir.so is not a regular file"));
    g_assert_nonnull(strstr(err->message, "netbe-fifo.so is not a regular file"));
    test_plugin_dir_free(dir);
}

/* Fails if a path with no plugin in it "succeeds" with an empty list, or the message does
 * not name every folder searched. */
static void test_empty_plugin_path_names_folders(void)
{
    char *dir = test_plugin_dir_new(NULL);
    g_autofree char *missing = g_build_filename(dir, "nosuch", NULL);
    g_autofree char *path = g_strdup_printf("%s:%s", dir, missing);
    g_autofree char *want = g_strdup_printf("no plugins found in %s, %s (missing)", dir, missing);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = list_plugins(path, &err);

    g_assert_null(text);
    g_assert_nonnull(strstr(err->message, want));
    g_assert_nonnull(strstr(err->message, "NETBE_PLUGIN_PATH"));
    test_plugin_dir_free(dir);
}

/* The mapping of this process that holds @addr: its device and inode, from /proc/self/maps. */
static void mapping_of(const void *addr, unsigned *maj, unsigned *min, unsigned long *ino)
{
    g_autofree char *maps = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
    lines = g_strsplit(maps, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        unsigned long lo, hi;

        if (sscanf(lines[i], "%lx-%lx %*s %*s %x:%x %lu", &lo, &hi, maj, min, ino) == 5 &&
            lo <= (uintptr_t)addr && (uintptr_t)addr < hi) {
            return;
        }
    }
    g_assert_not_reached();
}

/*
 * Fails if the code that runs is not the file that was checked: the plugin's code must be
 * mapped from the inode of the file in the folder, and loaded through an fd (its dlopen
 * name is /proc/self/fd/...), not by path (which a swap after the check would redirect).
 */
static void test_loaded_code_is_the_checked_file(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autofree char *path = g_build_filename(dir, "netbe-fixture.so", NULL);
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    unsigned maj, min;
    unsigned long ino;
    struct stat st;
    Dl_info info;
    void *query;

    netbe_runtime_set_plugin_path(rt, dir);
    text = netbe_runtime_list_plugins(rt, &err);
    g_assert_no_error(err);
    query = test_fixture_symbol(dir, "netbe_plugin_query");
    g_assert_true(dladdr(query, &info));
    g_test_message("loaded as %s", info.dli_fname);
    g_assert_true(g_str_has_prefix(info.dli_fname, "/proc/self/fd/"));
    g_assert_cmpint(stat(path, &st), ==, 0);
    mapping_of(query, &maj, &min, &ino);
    g_assert_cmpuint(ino, ==, st.st_ino);
    g_assert_cmpuint(maj, ==, major(st.st_dev));
    g_assert_cmpuint(min, ==, minor(st.st_dev));
    netbe_runtime_free(rt);
    test_plugin_dir_free(dir);
}

/*
 * Fails if glibc's dedup by name hands out the wrong library: the loader opens one file
 * after the other, so the second gets the fd number of the first, closed since. Under a
 * bare "/proc/self/fd/N" name, glibc would return the first library again ("fixture is
 * claimed by two files"). Loading the same file while it is loaded must still work.
 */
static void test_reused_fd_number_loads_the_right_file(void)
{
    const char *files[] = {"netbe-fixture.so", "netbe-fixture-static.so", NULL};
    const char *one[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    char *dir1 = test_plugin_dir_new(one);
    NetbeRuntime *rt1 = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;
    g_autofree char *text1 = NULL, *both = NULL;

    netbe_runtime_set_plugin_path(rt1, dir1);
    text1 = netbe_runtime_list_plugins(rt1, &err); /* keeps fixture loaded */
    g_assert_no_error(err);
    both = list_plugins(dir, &err);
    g_assert_no_error(err);
    g_test_message("%s", both);
    g_assert_true(g_str_has_prefix(both, "fixture-static ")); /* name order of the files */
    g_assert_nonnull(strstr(both, "\nfixture "));
    netbe_runtime_free(rt1);
    test_plugin_dir_free(dir);
    test_plugin_dir_free(dir1);
}

/* Fails if the plugins built with netbe (on NETBE_PLUGIN_PATH) do not load as they are. */
static void test_built_plugins_load(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = list_plugins(g_getenv("NETBE_PLUGIN_PATH"), &err);

    g_assert_no_error(err);
    g_assert_nonnull(strstr(text, "socket "));
    g_assert_nonnull(strstr(text, "tap "));
}

/* Fails if --help-plugin's text does not come from the schema. */
static void test_plugin_help_comes_from_schema(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;
    g_autofree char *help = NULL;
    g_autofree char *missing = NULL;

    netbe_runtime_set_plugin_path(rt, dir);
    help = netbe_runtime_plugin_help(rt, "fixture", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(help, "fail_connect"));
    g_assert_nonnull(strstr(help, "allowed: an integer 1..4"));
    g_assert_nonnull(strstr(help, "default: off"));
    missing = netbe_runtime_plugin_help(rt, "nosuch", &err);
    g_assert_null(missing);
    g_assert_nonnull(strstr(err->message, "no plugin 'nosuch'"));
    netbe_runtime_free(rt);
    test_plugin_dir_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/loader/wellformed-plugin-is-listed", test_wellformed_plugin_is_listed);
    g_test_add_func("/loader/newer-abi-refused", test_newer_abi_refused_naming_both_versions);
    g_test_add_func("/loader/older-abi-refused", test_older_abi_refused_naming_both_versions);
    g_test_add_func("/loader/abi2-plugin-refused", test_abi2_plugin_refused);
    g_test_add_func("/loader/missing-entry-symbol-refused", test_missing_entry_symbol_refused);
    g_test_add_func("/loader/garbage-file-refused", test_garbage_file_refused);
    g_test_add_func("/loader/writable-file-refused", test_writable_plugin_file_refused);
    g_test_add_func("/loader/writable-directory-refused", test_writable_plugin_directory_refused);
    g_test_add_func("/loader/duplicate-name-refused", test_two_plugins_claiming_one_name_refused);
    g_test_add_func("/loader/help-from-schema", test_plugin_help_comes_from_schema);
    g_test_add_func("/loader/symlinked-file-refused", test_symlinked_plugin_file_refused);
    g_test_add_func("/loader/symlinked-folder-refused", test_symlinked_plugin_folder_refused);
    g_test_add_func("/loader/non-regular-file-refused", test_non_regular_plugin_refused);
    g_test_add_func("/loader/empty-path-names-folders", test_empty_plugin_path_names_folders);
    g_test_add_func("/loader/loaded-code-is-checked-file", test_loaded_code_is_the_checked_file);
    g_test_add_func("/loader/reused-fd-number-right-file",
                    test_reused_fd_number_loads_the_right_file);
    g_test_add_func("/loader/built-plugins-load", test_built_plugins_load);
    return g_test_run();
}
