// SPDX-License-Identifier: GPL-2.0-or-later
/* test-plugin-trust.c - which plugin folders and files the real netbe-host loads: owned by
 * root or its own uid, not writable by others, no symlinks; and where an installed
 * netbe-host looks when nobody says (its install folder, never the build tree). */
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"
#include "plugin-dir.h"

/* Run "netbe-host --list-plugins" with @env_prefix (shell assignments, may be "") and the
 * host binary @host. Return: exit status; *out and *err get its output. */
static int list_plugins(const char *env_prefix, const char *host, char **out, char **err)
{
    g_autofree char *dir = g_dir_make_tmp("netbe-trust-out-XXXXXX", NULL);
    g_autofree char *o = g_build_filename(dir, "out", NULL);
    g_autofree char *e = g_build_filename(dir, "err", NULL);
    int rc = test_sh("%s '%s' --list-plugins >'%s' 2>'%s'", env_prefix, host, o, e);

    g_assert_true(g_file_get_contents(o, out, NULL, NULL));
    g_assert_true(g_file_get_contents(e, err, NULL, NULL));
    g_test_message("exit %d\nstdout: %s\nstderr: %s", rc, *out, *err);
    test_sh("rm -rf '%s'", dir);
    return rc;
}

/* --list-plugins of the built netbe-host on plugin folder @dir. */
static int host_list(const char *dir, char **out, char **err)
{
    g_autofree char *env = g_strdup_printf("NETBE_PLUGIN_PATH='%s'", dir);

    return list_plugins(env, test_env_path("NETBE_HOST"), out, err);
}

/* The uid that owns the hostile files; the test is skipped (a failure in CI) without root. */
static bool need_root_for_chown(uid_t *nobody)
{
    struct passwd *pw = getpwnam("nobody");

    if (geteuid() != 0) {
        g_test_skip("needs root: chown to another user");
        return false;
    }
    g_assert_nonnull(pw);
    *nobody = pw->pw_uid;
    return true;
}

/* Fails if root loads plugins from a folder an ordinary user owns (mode 0755: not
 * writable by others, which the old check was content with). */
static void test_folder_owned_by_user_refused(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *want = NULL;
    uid_t nobody;

    if (need_root_for_chown(&nobody)) {
        g_assert_cmpint(chown(dir, nobody, -1), ==, 0);
        want = g_strdup_printf("plugin directory %s is owned by uid %u, neither root nor this "
                               "process's uid 0",
                               dir, (unsigned)nobody);
        g_assert_cmpint(host_list(dir, &out, &err), ==, 1);
        g_assert_nonnull(strstr(err, want));
        g_assert_null(strstr(out, "fixture"));
    }
    test_plugin_dir_free(dir);
}

/* Fails if root loads a plugin file an ordinary user owns from a good folder. */
static void test_file_owned_by_user_refused(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autofree char *path = g_build_filename(dir, "netbe-fixture.so", NULL);
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *want = NULL;
    uid_t nobody;

    if (need_root_for_chown(&nobody)) {
        g_assert_cmpint(chown(path, nobody, -1), ==, 0);
        want = g_strdup_printf("plugin file %s is owned by uid %u", path, (unsigned)nobody);
        g_assert_cmpint(host_list(dir, &out, &err), ==, 1);
        g_assert_nonnull(strstr(err, want));
        g_assert_nonnull(strstr(err, "chown root"));
    }
    test_plugin_dir_free(dir);
}

/* Fails if root follows a symlink in its good folder to a plugin an ordinary user owns
 * (the example), or the refusal does not say "symlink". */
static void test_symlink_to_user_file_refused(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(NULL);
    char *theirs = test_plugin_dir_new(files);
    g_autofree char *target = g_build_filename(theirs, "netbe-fixture.so", NULL);
    g_autofree char *link = g_build_filename(dir, "netbe-fixture.so", NULL);
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *want = g_strdup_printf("plugin file %s is a symlink (to %s)", link, target);
    uid_t nobody;

    if (need_root_for_chown(&nobody)) {
        g_assert_cmpint(chown(theirs, nobody, -1), ==, 0);
        g_assert_cmpint(chown(target, nobody, -1), ==, 0);
        g_assert_cmpint(symlink(target, link), ==, 0);
        g_assert_cmpint(host_list(dir, &out, &err), ==, 1);
        g_assert_nonnull(strstr(err, want));
        g_assert_null(strstr(out, "fixture"));
    }
    test_plugin_dir_free(dir);
    test_plugin_dir_free(theirs);
}

/* Fails if a user's own plugin folder does not load for a netbe-host run as that user
 * (owner == euid is as good as root), e.g. a build tree run without root. */
static void test_own_folder_loads_for_its_user(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autofree char *path = g_build_filename(dir, "netbe-fixture.so", NULL);
    g_autofree char *env = NULL, *out = NULL, *err = NULL;
    uid_t nobody;

    if (need_root_for_chown(&nobody)) {
        g_assert_cmpint(chown(dir, nobody, -1), ==, 0);
        g_assert_cmpint(chown(path, nobody, -1), ==, 0);
        env = g_strdup_printf("NETBE_PLUGIN_PATH='%s' setpriv --reuid=nobody --regid=nogroup "
                              "--clear-groups",
                              dir);
        g_assert_cmpint(list_plugins(env, test_env_path("NETBE_HOST"), &out, &err), ==, 0);
        g_assert_true(g_str_has_prefix(out, "fixture "));
    }
    test_plugin_dir_free(dir);
}

/* Fails if a group-writable file or an other-writable folder loads through netbe-host, or
 * a good folder does not (real dlopen of the fixture). Runs as any user. */
static void test_writable_refused_good_folder_loads(void)
{
    const char *files[] = {"netbe-fixture.so", NULL};
    char *dir = test_plugin_dir_new(files);
    g_autofree char *path = g_build_filename(dir, "netbe-fixture.so", NULL);
    g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;

    g_assert_cmpint(host_list(dir, &o1, &e1), ==, 0);
    g_assert_true(g_str_has_prefix(o1, "fixture "));
    g_assert_cmpint(chmod(path, 0775), ==, 0);
    g_assert_cmpint(host_list(dir, &o2, &e2), ==, 1);
    g_assert_nonnull(strstr(e2, "plugin file"));
    g_assert_nonnull(strstr(e2, "is writable by group or others (mode 0775)"));
    g_assert_cmpint(chmod(path, 0755), ==, 0);
    g_assert_cmpint(chmod(dir, 0757), ==, 0);
    g_assert_cmpint(host_list(dir, &o3, &e3), ==, 1);
    g_assert_nonnull(strstr(e3, "plugin directory"));
    g_assert_nonnull(strstr(e3, "is writable by group or others (mode 0757)"));
    test_plugin_dir_free(dir);
}

/*
 * Fails if an installed netbe-host (meson install --destdir into a staging folder) looks
 * in the build tree when NETBE_PLUGIN_PATH is unset: its error must name the install
 * folder only, and its library must hold no build path. With NETBE_PLUGIN_PATH set to
 * the staged plugins, they load.
 */
static void test_installed_host_ignores_build_tree(void)
{
    g_autofree char *tmp = g_dir_make_tmp("netbe-installed-XXXXXX", NULL);
    const char *build = test_env_path("NETBE_BUILD_ROOT");
    g_autofree char *host = NULL, *lib = NULL, *plugins = NULL, *installed = NULL;
    g_autofree char *env = NULL, *env2 = NULL, *want = NULL, *rodata = NULL;
    g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;

    g_assert_cmpint(chmod(tmp, 0755), ==, 0);
    g_assert_cmpint(test_sh("meson install -C '%s' --destdir '%s/dest' --no-rebuild --quiet "
                            ">/dev/null",
                            build, tmp),
                    ==, 0);
    host = test_sh_output("find '%s/dest' -name netbe-host -type f | head -1", tmp);
    lib = test_sh_output("dirname \"$(find '%s/dest' -name 'libnetbe.so.*' -type f | head -1)\"",
                         tmp);
    plugins = test_sh_output("dirname \"$(find '%s/dest' -name netbe-socket.so | head -1)\"", tmp);
    g_assert_true(host && lib && plugins);
    g_strstrip(host);
    g_strstrip(lib);
    g_strstrip(plugins);
    installed = g_strdup(plugins + strlen(tmp) + strlen("/dest"));
    env = g_strdup_printf("env -u NETBE_PLUGIN_PATH LD_LIBRARY_PATH='%s'", lib);
    g_assert_cmpint(list_plugins(env, host, &out, &err), ==, 1);
    want = g_strdup_printf("no plugins found in %s (missing)", installed);
    if (g_file_test(installed, G_FILE_TEST_EXISTS)) {
        g_test_message("%s exists here: only the build-tree check applies", installed);
    } else {
        g_assert_nonnull(strstr(err, want));
    }
    g_assert_null(strstr(err, build));
    g_assert_null(strstr(out, build));
    rodata =
        test_sh_output("readelf -p .rodata '%s'/libnetbe.so.0 | grep -c '%s' || true", lib, build);
    g_assert_cmpstr(g_strstrip(rodata), ==, "0");
    /* the staged plugins themselves are fine (installed by us, 0755) */
    env2 = g_strdup_printf("NETBE_PLUGIN_PATH='%s' LD_LIBRARY_PATH='%s'", plugins, lib);
    g_assert_cmpint(list_plugins(env2, host, &out2, &err2), ==, 0);
    g_assert_nonnull(strstr(out2, "socket "));
    test_sh("rm -rf '%s'", tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plugin-trust/folder-owned-by-user-refused",
                    test_folder_owned_by_user_refused);
    g_test_add_func("/plugin-trust/file-owned-by-user-refused", test_file_owned_by_user_refused);
    g_test_add_func("/plugin-trust/symlink-to-user-file-refused",
                    test_symlink_to_user_file_refused);
    g_test_add_func("/plugin-trust/own-folder-loads-for-its-user",
                    test_own_folder_loads_for_its_user);
    g_test_add_func("/plugin-trust/writable-refused-good-folder-loads",
                    test_writable_refused_good_folder_loads);
    g_test_add_func("/plugin-trust/installed-host-ignores-build-tree",
                    test_installed_host_ignores_build_tree);
    return g_test_run();
}
