/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pc.h - netbe-plugin-check: what its parts share (the plugin under test, the report). */
#ifndef NETBE_PC_H
#define NETBE_PC_H

#include <stdbool.h>
#include <glib.h>
#include "netbe-priv.h"

/* The netdev id every generated config uses. */
#define PC_NETDEV "pc"

/* A "KEY=VALUE" from the command line. */
typedef struct PcOption {
    char *key;
    char *value;
} PcOption;

/*
 * struct PcCtx - the plugin under test and what the command line asked for
 * @file:           the .so as given
 * @desc:           its descriptor (the loader's copy stays loaded)
 * @plugin_dir:     a private plugin folder with a copy of @file, for the runtimes
 * @workdir:        an empty folder, the cwd of every check (files a plugin makes show)
 * @options:        PcOption: --option, in every generated config
 * @bad_options:    PcOption: --bad-option, each must make init fail
 * @connect_config: --connect-config FILE, or NULL
 * @connect:        backend_connect is tried (--connect, --option, --connect-config)
 * @netns:          --netns: the checks run in a network namespace of their own
 * @no_connect_why: when set, why the connect checks are skipped
 * @verbose:        show netbe's and the plugin's log
 */
typedef struct PcCtx {
    char *file;
    const NetbePluginDesc *desc;
    char *plugin_dir;
    char *workdir;
    GPtrArray *options;
    GPtrArray *bad_options;
    char *connect_config;
    bool connect;
    bool netns;
    const char *no_connect_why;
    bool verbose;
} PcCtx;

/* ---- pc-report.c: the report ---- */

typedef enum PcVerdict {
    PC_PASS,
    PC_FAIL,
    PC_SKIP,
} PcVerdict;

/* Print one report line "VERDICT CHECK: reason" (and count a FAIL). */
void pc_result(PcVerdict v, const char *check, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* The check running now: named in the report if the process dies in it. */
void pc_step(const char *check);
/*
 * pc_run_group() - run @fn in a child process with an alarm of @timeout_s seconds, so that
 * a crash or a hang in the plugin is a FAIL of the check that was running.
 * Return: the FAILs reported (by the child, plus one if it died).
 */
unsigned pc_run_group(PcCtx *c, void (*fn)(PcCtx *c), unsigned timeout_s);
/* FAILs reported in this process so far. */
unsigned pc_failures(void);

/* ---- pc-proc.c: what a process holds ---- */

/* The open fds of this process: fd number -> what /proc/self/fd says it is. */
GHashTable *pc_fds_snapshot(void);
/* The fds in @after that are not in @before (or are another file now), as "fd N (WHAT)",
 * comma-separated; NULL when none. */
char *pc_fds_new(GHashTable *before, GHashTable *after);
/* The entries of folder @dir, comma-separated; NULL when it is empty. */
char *pc_dir_entries(const char *dir);
/* The lowest fd number not open. */
int pc_lowest_free_fd(void);

/* ---- pc-config.c: configs and runtimes ---- */

/*
 * pc_config_text() - "[netdev.pc]" of the plugin with the --option values, and
 * @key = @value last (replacing a --option of that key) when @key is set.
 * @key_line: gets the line of @key (may be NULL)
 */
char *pc_config_text(const PcCtx *c, const char *key, const char *value, int *key_line);
/* The name configs are loaded under (the FILE of FILE:LINE). */
#define PC_CONFIG_NAME "plugin-check.ini"
/* A runtime that loads plugins from the private folder only. */
NetbeRuntime *pc_runtime_new(const PcCtx *c, NetbeRuntimeFlags flags);
/*
 * pc_instance_new() - a runtime in check-only mode with the plugin's instance made and
 * initialised from @text (nothing connected).
 * Return: the runtime (*be set), or NULL with the config error in @errp.
 */
NetbeRuntime *pc_instance_new(const PcCtx *c, const char *text, NetbeBackend **be, GError **errp);
/* The first instance of the plugin in @rt (the config may have others), or NULL. */
NetbeBackend *pc_find_backend(const PcCtx *c, NetbeRuntime *rt);
/* Values that the schema entry @spec must refuse, NULL-terminated (g_strfreev). */
char **pc_bad_values(const NetbeOptionSpec *spec);

/* ---- the checks, one file each ---- */

/* pc-static.c: the descriptor beyond the loader's checks (in this process). */
void pc_check_descriptor(PcCtx *c);
/* pc-lifecycle.c: init has no side effects; cleanup of half-built instances. */
void pc_check_lifecycle(PcCtx *c);
/* pc-options.c: bad values are refused with FILE:LINE and the key. */
void pc_check_options(PcCtx *c);
/* pc-connected.c: connect, the data path and the handover of a connected instance. */
void pc_check_connected(PcCtx *c);

#endif /* NETBE_PC_H */
