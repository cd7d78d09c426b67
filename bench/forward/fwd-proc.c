// SPDX-License-Identifier: GPL-2.0-or-later
/* fwd-proc.c - the bench's processes and namespace: children pinned to a CPU that die with
 * us, their CPU time, the TAP counters, and cleanup that also runs when the bench fails. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fwd.h"

#define MAX_CHILDREN 8

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS};

static GPid children[MAX_CHILDREN]; /* 0: free slot */
static char netns_path[256];        /* /var/run/netns/NAME, "" once deleted */
#define MAX_TMP 4
static char tmp_paths[MAX_TMP + 1][512]; /* our files, then their directory; "" once gone */

static void track(GPid pid, bool on)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (on ? children[i] == 0 : children[i] == pid) {
            children[i] = on ? pid : 0;
            return;
        }
    }
    g_assert(!on); /* more children than slots: a bench bug */
}

static bool tracked(GPid pid)
{
    for (int i = 0; pid > 0 && i < MAX_CHILDREN; i++) {
        if (children[i] == pid) {
            return true;
        }
    }
    return false;
}

/* Kill every child and unmount our namespace's name (what `ip netns del` does); the
 * namespace and its TAPs go when its last process exits. Async-signal-safe. */
static void kill_all(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
        }
    }
    if (netns_path[0]) {
        umount2(netns_path, MNT_DETACH);
        unlink(netns_path);
        netns_path[0] = '\0';
    }
    for (int i = 0; i <= MAX_TMP; i++) {
        if (tmp_paths[i][0]) {
            i < MAX_TMP &&tmp_paths[i + 1][0] ? unlink(tmp_paths[i]) : rmdir(tmp_paths[i]);
            tmp_paths[i][0] = '\0';
        }
    }
}

static void on_fatal_signal(int sig)
{
    kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void fwd_proc_cleanup(void)
{
    kill_all();
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
}

void fwd_proc_init(const char *netns, const char *tmpdir, const char *const *tmp_files)
{
    int n = 0;

    g_snprintf(netns_path, sizeof(netns_path), "/var/run/netns/%s", netns);
    for (; tmp_files[n] && n < MAX_TMP; n++) {
        g_snprintf(tmp_paths[n], sizeof(tmp_paths[n]), "%s/%s", tmpdir, tmp_files[n]);
    }
    g_strlcpy(tmp_paths[n], tmpdir, sizeof(tmp_paths[n]));
    for (size_t i = 0; i < G_N_ELEMENTS(fatal_signals); i++) {
        signal(fatal_signals[i], on_fatal_signal);
    }
    signal(SIGPIPE, SIG_IGN);
    atexit(fwd_proc_cleanup);
}

/* In a new child: run on @cpu only, die when the bench dies. */
static void pin_and_bind(void *cpu)
{
    cpu_set_t set;

    /* a forked child must not clean up the bench's namespace or children when it dies */
    netns_path[0] = '\0';
    memset(tmp_paths, 0, sizeof(tmp_paths));
    memset(children, 0, sizeof(children));
    for (size_t i = 0; i < G_N_ELEMENTS(fatal_signals); i++) {
        signal(fatal_signals[i], SIG_DFL);
    }

    CPU_ZERO(&set);
    CPU_SET(GPOINTER_TO_INT(cpu), &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0) {
        perror("sched_setaffinity");
        _exit(126);
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GPid fwd_fork_pinned(int cpu, void (*fn)(void *arg), void *arg)
{
    GPid pid;

    fflush(NULL);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        pin_and_bind(GINT_TO_POINTER(cpu));
        fn(arg);
        _exit(1);
    }
    track(pid, true);
    return pid;
}

GPid fwd_spawn_pinned(char **argv, int cpu, const char *log, GError **err)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    GPid pid = -1;

    if (fd < 0) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", log,
                    g_strerror(errno));
        return -1;
    }
    if (g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, pin_and_bind,
                               GINT_TO_POINTER(cpu), &pid, -1, fd, fd, err)) {
        track(pid, true);
    } else {
        pid = -1;
    }
    close(fd);
    return pid;
}

bool fwd_proc_alive(GPid pid)
{
    if (waitpid(pid, NULL, WNOHANG) == 0) {
        return true;
    }
    track(pid, false);
    return false;
}

void fwd_proc_stop(GPid pid, bool kill_now)
{
    if (!tracked(pid)) {
        return; /* never started, or reaped already: its pid may be someone else's now */
    }
    kill(pid, kill_now ? SIGKILL : SIGTERM);
    for (int i = 0; !kill_now && i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) != 0) {
            track(pid, false);
            return;
        }
        g_usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    track(pid, false);
}

uint64_t fwd_proc_cpu_ns(GPid pid)
{
    struct timespec ts;
    clockid_t clock;

    if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool fwd_if_counters(const char *ifname, uint64_t *rx_frames, uint64_t *rx_bytes)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    size_t n = strlen(ifname);

    /* /proc/self/net follows our namespace; /sys/class/net would show the host's */
    if (!g_file_get_contents("/proc/self/net/dev", &text, NULL, NULL)) {
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *s = g_strchug(*l);

        if (strncmp(s, ifname, n) == 0 && s[n] == ':') {
            unsigned long long bytes, frames;

            if (sscanf(s + n + 1, "%llu %llu", &bytes, &frames) != 2) {
                return false;
            }
            *rx_frames = frames;
            *rx_bytes = bytes;
            return true;
        }
    }
    return false;
}

uint64_t fwd_cpu_busy_ns(int cpu)
{
    g_autofree char *text = NULL, *key = g_strdup_printf("cpu%d ", cpu);
    unsigned long long v[8] = {0}; /* user nice system idle iowait irq softirq steal */
    const char *line;

    if (!g_file_get_contents("/proc/stat", &text, NULL, NULL) || !(line = strstr(text, key)) ||
        sscanf(line + strlen(key), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7]) < 7) {
        return 0;
    }
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * (1000000000ull / sysconf(_SC_CLK_TCK));
}
