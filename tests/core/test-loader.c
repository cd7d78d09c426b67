/* test-loader.c - the plugin loader: real dlopen of built fixture .so files, and the
 * error message for every way a plugin file can be wrong. */
#include <stdio.h>
#include <sys/stat.h>
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
    const char *files[] = { "netbe-fixture.so", NULL };
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
    const char *files[] = { "netbe-fixture-abi-new.so", NULL };
    g_autofree char *newer = g_strdup_printf("ABI %d is newer", NETBE_PLUGIN_ABI + 1);
    const char *words[] = { "netbe-fixture-abi-new.so", newer,
                            "host's ABI " G_STRINGIFY(NETBE_PLUGIN_ABI), "netbe_plugin_query",
                            NULL };

    expect_load_error(files, words);
}

static void test_older_abi_refused_naming_both_versions(void)
{
    const char *files[] = { "netbe-fixture-abi-old.so", NULL };
    const char *words[] = { "netbe-fixture-abi-old.so", "ABI 0 is older",
                            "ABI " G_STRINGIFY(NETBE_PLUGIN_ABI_MIN) ".." G_STRINGIFY(NETBE_PLUGIN_ABI),
                            NULL };

    expect_load_error(files, words);
}

static void test_missing_entry_symbol_refused(void)
{
    const char *files[] = { "netbe-fixture-nosym.so", NULL };
    const char *words[] = { "netbe-fixture-nosym.so", "no entry symbol 'netbe_plugin_query'",
                            NULL };

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
    const char *files[] = { "netbe-fixture.so", NULL };
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
    const char *files[] = { "netbe-fixture.so", NULL };
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
    const char *files[] = { "netbe-fixture.so=netbe-a.so", "netbe-fixture.so=netbe-b.so", NULL };
    const char *words[] = { "plugin 'fixture' is claimed by two files", "netbe-a.so", "netbe-b.so",
                            NULL };

    expect_load_error(files, words);
}

/* Fails if --help-plugin's text does not come from the schema. */
static void test_plugin_help_comes_from_schema(void)
{
    const char *files[] = { "netbe-fixture.so", NULL };
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
    g_test_add_func("/loader/missing-entry-symbol-refused", test_missing_entry_symbol_refused);
    g_test_add_func("/loader/garbage-file-refused", test_garbage_file_refused);
    g_test_add_func("/loader/writable-file-refused", test_writable_plugin_file_refused);
    g_test_add_func("/loader/writable-directory-refused", test_writable_plugin_directory_refused);
    g_test_add_func("/loader/duplicate-name-refused", test_two_plugins_claiming_one_name_refused);
    g_test_add_func("/loader/help-from-schema", test_plugin_help_comes_from_schema);
    return g_test_run();
}
