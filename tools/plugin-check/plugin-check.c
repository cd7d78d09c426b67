// SPDX-License-Identifier: GPL-2.0-or-later
/* plugin-check.c - netbe-plugin-check FILE.so: load a backend plugin the way libnetbe does and
 * check its contract; one report line per check, exit 0 only if none failed. */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pc.h"

#define PC_DEFAULT_TIMEOUT 60

static const char usage[] =
    "NAME\n"
    "    netbe-plugin-check - check a netbe backend plugin against the plugin ABI\n"
    "\n"
    "SYNOPSIS\n"
    "    netbe-plugin-check FILE.so [--option KEY=VALUE]... [--bad-option KEY=VALUE]...\n"
    "                       [--connect] [--connect-config FILE] [--netns] [--timeout S] [-v]\n"
    "\n"
    "DESCRIPTION\n"
    "    Loads FILE.so through libnetbe's loader (trusted file, ABI, descriptor) and checks\n"
    "    its contract, printing one line per check: PASS, FAIL or SKIP, the check and why.\n"
    "    Every check that runs the plugin runs in a child process: a crash or a hang is a\n"
    "    FAIL of the check it happened in. The checks:\n"
    "\n"
    "    loader, descriptor   the loader accepts the file; the descriptor has a summary,\n"
    "                         help for every option, sane option schema entries, and a\n"
    "                         state_version with NETBE_CAP_HANDOVER\n"
    "    init                 init succeeds with the --option values (or the defaults)\n"
    "    init-side-effects    init opens no fd (no socket: nothing bound or connected) and\n"
    "                         creates no file in its working folder (an empty one)\n"
    "    cleanup-never-connected, cleanup-init-failed, cleanup-connect-failed\n"
    "                         cleanup works on a half-built instance and closes every fd:\n"
    "                         after init alone; after init failed (each --bad-option, and a\n"
    "                         bogus string in every string option); after backend_connect\n"
    "                         failed (it runs while no fd can be opened)\n"
    "    option:KEY           every schema entry gets values its type and bounds refuse\n"
    "                         (and the --bad-option values for it) through a real ini config;\n"
    "                         each error must name FILE:LINE and the key, as\n"
    "                         netbe_options_error() writes it\n"
    "    connect              backend_connect succeeds (with --connect, --option or\n"
    "                         --connect-config only)\n"
    "    queue-fds, frames    an fd plugin's queues have their fds in the core; a frame goes\n"
    "                         each way when the check can reach the queue's far end: a\n"
    "                         plugin that listens is connected to, a TAP's interface is used\n"
    "    send, poll           a producer's send answers bytes taken, 0 or -errno only; poll\n"
    "                         starts and stops it, and nothing is delivered while stopped\n"
    "    handover-*           with NETBE_CAP_HANDOVER: the paused instance's record loads in a\n"
    "                         fresh runtime with its queue fds, frames flow there, and a\n"
    "                         record claiming state_version + 1 is refused without a leak\n"
    "\n"
    "OPTIONS\n"
    "    --option KEY=VALUE     a key of the plugin's section in every config the check\n"
    "                           writes; options also ask for the connect checks\n"
    "    --bad-option KEY=VALUE a value init must refuse (its own validation); repeatable\n"
    "    --connect              run the connect checks with the defaults\n"
    "    --connect-config FILE  an ini file whose first netdev of this plugin's type is\n"
    "                           connected (other checks use --option)\n"
    "    --netns                run in a network namespace of its own, loopback up (needs\n"
    "                           root; a TAP plugin's device is made there). Without root the\n"
    "                           connect checks are skipped\n"
    "    --timeout S            seconds each group of checks may take (default 60)\n"
    "    -v, --verbose          show netbe's and the plugin's log on stderr\n"
    "    -h, --help             this text\n"
    "\n"
    "EXAMPLES\n"
    "    netbe-plugin-check ./netbe-myplugin.so --option greeting=hi --bad-option greeting=no\n"
    "    netbe-plugin-check $(pkg-config --variable=plugindir netbe)/netbe-socket.so \\\n"
    "        --option listen=127.0.0.1:0\n"
    "    sudo netbe-plugin-check netbe-tap.so --netns --option ifname=pc%d\n"
    "\n"
    "EXIT STATUS\n"
    "    0 nothing failed, 1 a check failed, 2 bad usage\n";

static bool verbose;

static void log_quiet(const gchar *domain, GLogLevelFlags level, const gchar *message,
                      gpointer data)
{
    if (verbose) {
        g_log_default_handler(domain, level, message, data);
    }
}

static bool parse_kv(const char *arg, GPtrArray *into)
{
    const char *eq = strchr(arg, '=');
    PcOption *o;

    if (!eq || eq == arg) {
        fprintf(stderr, "netbe-plugin-check: '%s' is not KEY=VALUE\n", arg);
        return false;
    }
    o = g_new0(PcOption, 1);
    o->key = g_strndup(arg, (gsize)(eq - arg));
    o->value = g_strdup(eq + 1);
    g_ptr_array_add(into, o);
    return true;
}

static void option_free(PcOption *o)
{
    g_free(o->key);
    g_free(o->value);
    g_free(o);
}

/* Parse the command line into @c. Return: 0 to go on, else the exit status. */
static int parse_args(int argc, char **argv, PcCtx *c, unsigned *timeout)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = !strcmp(a, "--option") || !strcmp(a, "--bad-option") ||
                     !strcmp(a, "--connect-config") || !strcmp(a, "--timeout");

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (takes && !next) {
            fprintf(stderr, "netbe-plugin-check: %s needs a value (see --help)\n", a);
            return 2;
        }
        if (!strcmp(a, "--option")) {
            if (!parse_kv(argv[++i], c->options)) {
                return 2;
            }
            c->connect = true;
        } else if (!strcmp(a, "--bad-option")) {
            if (!parse_kv(argv[++i], c->bad_options)) {
                return 2;
            }
        } else if (!strcmp(a, "--connect-config")) {
            c->connect_config = g_canonicalize_filename(argv[++i], NULL);
            c->connect = true;
        } else if (!strcmp(a, "--timeout")) {
            *timeout = (unsigned)g_ascii_strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--connect")) {
            c->connect = true;
        } else if (!strcmp(a, "--netns")) {
            c->netns = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = true;
        } else if (a[0] == '-' || c->file) {
            fprintf(stderr, "netbe-plugin-check: unexpected '%s' (see --help)\n", a);
            return 2;
        } else {
            c->file = g_canonicalize_filename(a, NULL);
        }
    }
    if (!c->file || !*timeout) {
        fprintf(stderr, "netbe-plugin-check: %s (see --help)\n",
                c->file ? "--timeout needs a number of seconds" : "give the plugin FILE.so");
        return 2;
    }
    return 0;
}

/* A network namespace of our own with the loopback up. Return: NULL, or why not. */
static const char *enter_netns(void)
{
    struct ifreq ifr = {.ifr_name = "lo"};
    int fd;

    if (geteuid() != 0) {
        return "--netns needs root (the check makes a network namespace of its own)";
    }
    if (unshare(CLONE_NEWNET) < 0) {
        return "unshare(CLONE_NEWNET) failed: no network namespace of our own";
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
        return "cannot bring the loopback up in the new network namespace";
    }
    close(fd);
    return NULL;
}

/* A private plugin folder with a copy of the plugin, for the runtimes' plugin path. */
static bool make_plugin_dir(PcCtx *c)
{
    g_autofree char *data = NULL, *base = g_path_get_basename(c->file), *copy = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;

    c->plugin_dir = g_dir_make_tmp("netbe-plugin-check-XXXXXX", &err);
    c->workdir = c->plugin_dir ? g_build_filename(c->plugin_dir, "cwd", NULL) : NULL;
    copy = c->plugin_dir ? g_build_filename(c->plugin_dir, base, NULL) : NULL;
    if (!c->plugin_dir || chmod(c->plugin_dir, 0755) < 0 || mkdir(c->workdir, 0700) < 0 ||
        !g_file_get_contents(c->file, &data, &len, &err) ||
        !g_file_set_contents_full(copy, data, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0755, &err)) {
        pc_result(PC_FAIL, "internal", "a private plugin folder: %s",
                  err ? err->message : g_strerror(errno));
        return false;
    }
    return true;
}

static void remove_plugin_dir(PcCtx *c)
{
    g_autofree char *base = g_path_get_basename(c->file);
    g_autofree char *copy = g_build_filename(c->plugin_dir, base, NULL);
    const char *name;
    GDir *d = g_dir_open(c->workdir, 0, NULL);

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(c->workdir, name, NULL);
        remove(path);
    }
    if (d) {
        g_dir_close(d);
    }
    remove(c->workdir);
    remove(copy);
    remove(c->plugin_dir);
    g_clear_pointer(&c->workdir, g_free);
    g_clear_pointer(&c->plugin_dir, g_free);
}

/* Load the plugin and run every group of checks. Return: the exit status. */
static int run_checks(PcCtx *c, unsigned timeout)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    NetbePlugin *plugin;
    int status = 1;

    g_log_set_default_handler(log_quiet, NULL);
    if (c->netns) {
        c->no_connect_why = enter_netns();
    }
    plugin = netbe_plugin_load_one(c->file, errors);
    if (!plugin) {
        pc_result(PC_FAIL, "loader", "%s", (char *)g_ptr_array_index(errors, 0));
        return 1;
    }
    c->desc = plugin->desc;
    pc_result(PC_PASS, "loader", "'%s' (%s): trusted file, ABI %u, descriptor accepted",
              c->desc->name, c->file, c->desc->abi_version);
    pc_check_descriptor(c);
    if (make_plugin_dir(c) && chdir(c->workdir) == 0) {
        pc_run_group(c, pc_check_lifecycle, timeout);
        pc_run_group(c, pc_check_options, timeout);
        pc_run_group(c, pc_check_connected, timeout);
        printf("netbe-plugin-check: %s: %u check%s failed\n", c->desc->name, pc_failures(),
               pc_failures() == 1 ? "" : "s");
        status = pc_failures() ? 1 : 0;
    }
    if (c->plugin_dir) {
        remove_plugin_dir(c);
    }
    netbe_plugin_free(plugin);
    return status;
}

int main(int argc, char **argv)
{
    PcCtx c = {.options = g_ptr_array_new_with_free_func((GDestroyNotify)option_free),
               .bad_options = g_ptr_array_new_with_free_func((GDestroyNotify)option_free)};
    unsigned timeout = PC_DEFAULT_TIMEOUT;
    int status = parse_args(argc, argv, &c, &timeout);

    if (!status) {
        status = run_checks(&c, timeout);
    }
    g_ptr_array_unref(c.options);
    g_ptr_array_unref(c.bad_options);
    g_free(c.connect_config);
    return status;
}
