// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-lifecycle.c - netbe-plugin-check: init has no side effects, and cleanup works on every
 * half-built instance (never connected, init failed, backend_connect failed) without
 * leaking an fd. */
#include <sys/resource.h>
#include "pc.h"

/* Free @rt and report under @check whether every fd opened since @before is closed again. */
static bool free_and_count_leaks(NetbeRuntime *rt, GHashTable *before, const char *check,
                                 const char *what)
{
    g_autoptr(GHashTable) after = NULL;
    g_autofree char *leaked = NULL;

    netbe_runtime_free(rt);
    after = pc_fds_snapshot();
    leaked = pc_fds_new(before, after);
    if (leaked) {
        pc_result(PC_FAIL, check, "%s: still open after cleanup: %s", what, leaked);
        return false;
    }
    return true;
}

/* init with the --option values, measured: no fd, no socket, no file. */
static bool check_init(PcCtx *c)
{
    g_autofree char *text = pc_config_text(c, NULL, NULL, NULL);
    g_autoptr(GHashTable) before = NULL, made = NULL, after = NULL;
    g_autofree char *opened = NULL, *files = NULL;
    g_autoptr(GError) err = NULL;
    NetbeRuntime *warm, *rt;
    NetbeBackend *be;

    pc_step("init");
    /* a first instance, unmeasured: the plugin's and the core's one-time set-up */
    warm = pc_instance_new(c, text, &be, &err);
    if (!warm) {
        pc_result(PC_FAIL, "init",
                  "init fails with the given options (give working ones with --option "
                  "KEY=VALUE): %s",
                  err->message);
        return false;
    }
    pc_result(PC_PASS, "init", "succeeds with %s",
              c->options->len ? "the given options" : "the defaults");
    pc_step("init-side-effects");
    before = pc_fds_snapshot();
    rt = pc_runtime_new(c, NETBE_RUNTIME_CHECK_ONLY);
    made = pc_fds_snapshot();
    g_assert(netbe_runtime_load_config_string(rt, text, PC_CONFIG_NAME, NULL));
    after = pc_fds_snapshot();
    opened = pc_fds_new(made, after);
    files = pc_dir_entries(c->workdir);
    if (opened || files) {
        pc_result(PC_FAIL, "init-side-effects", "init must open, bind and create nothing%s%s%s%s",
                  opened ? "; it opened " : "", opened ? opened : "",
                  files ? "; it created in its cwd: " : "", files ? files : "");
    } else {
        pc_result(PC_PASS, "init-side-effects", "no fd, socket or file made");
    }
    pc_step("cleanup-never-connected");
    if (free_and_count_leaks(rt, before, "cleanup-never-connected",
                             "an instance never connected")) {
        pc_result(PC_PASS, "cleanup-never-connected", "cleanup after init alone closes everything");
    }
    netbe_runtime_free(warm);
    return true;
}

/* Configs whose init fails: each --bad-option, and the probe string in every STRING option. */
static void check_cleanup_init_failed(PcCtx *c)
{
    g_autoptr(GPtrArray) probes = g_ptr_array_new_with_free_func(g_free);
    unsigned failed = 0, leaky = 0;

    for (guint i = 0; i < c->bad_options->len; i++) {
        const PcOption *o = g_ptr_array_index(c->bad_options, i);

        g_ptr_array_add(probes, pc_config_text(c, o->key, o->value, NULL));
    }
    for (const NetbeOptionSpec *s = c->desc->options; s && s->name; s++) {
        g_auto(GStrv) values = s->type == NETBE_OPT_STRING ? pc_bad_values(s) : NULL;

        for (int i = 0; values && values[i]; i++) {
            g_ptr_array_add(probes, pc_config_text(c, s->name, values[i], NULL));
        }
    }
    pc_step("cleanup-init-failed");
    for (guint i = 0; i < probes->len; i++) {
        g_autoptr(GHashTable) before = pc_fds_snapshot();
        NetbeRuntime *rt = pc_runtime_new(c, NETBE_RUNTIME_CHECK_ONLY);

        if (netbe_runtime_load_config_string(rt, g_ptr_array_index(probes, i), PC_CONFIG_NAME,
                                             NULL)) {
            netbe_runtime_free(rt);
            continue;
        }
        failed++;
        leaky += !free_and_count_leaks(rt, before, "cleanup-init-failed", "init failed");
    }
    if (!failed) {
        pc_result(PC_SKIP, "cleanup-init-failed",
                  "no value made init fail (give one with --bad-option KEY=VALUE)");
    } else if (!leaky) {
        pc_result(PC_PASS, "cleanup-init-failed",
                  "%u configs whose init failed: cleanup ran, nothing left open", failed);
    }
}

/* backend_connect made to fail: no fd can be opened while it runs. */
static void check_cleanup_connect_failed(PcCtx *c)
{
    g_autofree char *text = pc_config_text(c, NULL, NULL, NULL);
    g_autoptr(GHashTable) before = pc_fds_snapshot();
    g_autoptr(GError) err = NULL;
    struct rlimit saved, none;
    NetbeRuntime *rt;
    NetbeBackend *be;
    bool connected;

    pc_step("cleanup-connect-failed");
    rt = pc_instance_new(c, text, &be, NULL);
    if (!rt) {
        pc_result(PC_SKIP, "cleanup-connect-failed", "init fails (see 'init')");
        return;
    }
    g_assert(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    none = saved;
    none.rlim_cur = (rlim_t)pc_lowest_free_fd();
    g_assert(setrlimit(RLIMIT_NOFILE, &none) == 0);
    connected = netbe_backend_connect(be, &err);
    g_assert(setrlimit(RLIMIT_NOFILE, &saved) == 0);
    if (connected) {
        netbe_runtime_free(rt);
        pc_result(PC_SKIP, "cleanup-connect-failed",
                  "backend_connect succeeds without opening an fd, so it could not be made to "
                  "fail");
        return;
    }
    if (free_and_count_leaks(rt, before, "cleanup-connect-failed",
                             "backend_connect failed (no fd could be opened)")) {
        pc_result(PC_PASS, "cleanup-connect-failed",
                  "backend_connect failed (no fd could be opened: %s); cleanup closed everything",
                  err->message);
    }
}

void pc_check_lifecycle(PcCtx *c)
{
    if (check_init(c)) {
        check_cleanup_connect_failed(c);
    } else {
        pc_result(PC_SKIP, "init-side-effects", "init fails");
        pc_result(PC_SKIP, "cleanup-never-connected", "init fails");
        pc_result(PC_SKIP, "cleanup-connect-failed", "init fails");
    }
    check_cleanup_init_failed(c);
}
