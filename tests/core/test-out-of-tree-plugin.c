// SPDX-License-Identifier: GPL-2.0-or-later
/* test-out-of-tree-plugin.c - a plugin author's path: install netbe, build a plugin with
 * nothing but `pkg-config --cflags --libs netbe`, load it into a runtime, and check it with
 * the installed netbe-plugin-check. */
#include <sys/stat.h>
#include "host-proc.h"
#include "netbe/netbe.h"
#include "netns.h"

/* Fails if the installed headers or netbe.pc are not enough to build a plugin, or the
 * plugin so built does not load, validate its options and connect. */
static void test_plugin_built_with_pkg_config_loads(void)
{
    g_autofree char *tmp = g_dir_make_tmp("netbe-oot-XXXXXX", NULL);
    g_autofree char *src = g_build_filename(test_env_path("NETBE_SOURCE_ROOT"), "tests", "core",
                                            "oot-plugin.c.in", NULL);
    g_autofree char *flags = NULL, *list = NULL, *pcdir = NULL, *msg_dir = NULL, *report = NULL;
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt;

    g_assert_nonnull(tmp);
    g_assert_cmpint(chmod(tmp, 0755), ==, 0);
    g_assert_cmpint(test_sh("meson install -C '%s' --destdir '%s/dest' --no-rebuild --quiet "
                            ">/dev/null",
                            test_env_path("NETBE_BUILD_ROOT"), tmp),
                    ==, 0);
    pcdir = test_sh_output("dirname \"$(find '%s/dest' -name netbe.pc | head -1)\"", tmp);
    g_assert_nonnull(pcdir);
    g_strstrip(pcdir);
    /* netbe.pc is relocatable (prefix from ${pcfiledir}): a staged install works as is */
    flags = test_sh_output("PKG_CONFIG_PATH='%s' pkg-config --cflags --libs netbe", pcdir);
    g_assert_nonnull(flags);
    g_strstrip(flags);
    g_test_message("pkg-config netbe: %s", flags);
    g_assert_null(strstr(flags, "/core")); /* nothing from the source tree */
    g_assert_cmpint(test_sh("mkdir -m 0755 '%s/plugins' && cp '%s' '%s/oot.c' && "
                            "cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -shared "
                            "-fPIC -o '%s/plugins/netbe-oot.so' '%s/oot.c' %s",
                            tmp, src, tmp, tmp, tmp, flags),
                    ==, 0);

    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    msg_dir = g_strdup_printf("%s/plugins", tmp);
    netbe_runtime_set_plugin_path(rt, msg_dir);
    list = netbe_runtime_list_plugins(rt, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(list, "oot"));
    g_assert_nonnull(strstr(list, "built out of tree"));
    g_assert_true(netbe_runtime_load_config_string(rt, "[netdev.x]\ntype = oot\ngreeting = hi\n",
                                                   "oot.ini", &err));
    g_assert_no_error(err);
    netbe_runtime_free(rt);

    /* its own validation speaks through netbe_options_error() */
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(rt, msg_dir);
    g_assert_false(
        netbe_runtime_load_config_string(rt, "[netdev.x]\ntype = oot\n", "oot.ini", &err));
    g_assert_nonnull(strstr(err->message, "oot.ini:1: [netdev.x] greeting: expected 'hi'"));
    netbe_runtime_free(rt);

    /* the SDK's contract checker is installed with it and passes the plugin */
    report = test_sh_output("tool=$(find '%s/dest' -name netbe-plugin-check -type f) && "
                            "lib=$(dirname \"$(find '%s/dest' -name libnetbe.so.0 | head -1)\") && "
                            "LD_LIBRARY_PATH=\"$lib\" \"$tool\" '%s/plugins/netbe-oot.so' "
                            "--option greeting=hi --bad-option greeting=hello; echo \"exit $?\"",
                            tmp, tmp, tmp);
    g_assert_nonnull(report);
    g_test_message("%s", report);
    g_assert_nonnull(strstr(report, "PASS option:greeting: "));
    g_assert_nonnull(strstr(report, "PASS send: "));
    g_assert_null(strstr(report, "FAIL "));
    g_assert_nonnull(strstr(report, "exit 0\n"));
    test_sh("rm -rf '%s'", tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plugin-author/builds-with-pkg-config-and-loads",
                    test_plugin_built_with_pkg_config_loads);
    return g_test_run();
}
