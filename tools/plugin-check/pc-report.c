// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-report.c - netbe-plugin-check's report lines, and checks run in a child process. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pc.h"

#define PC_STEP_MAX 128

static unsigned failures;
/* Shared with the children: the check running now, for the report of a crash. */
static char *step;

void pc_result(PcVerdict v, const char *check, const char *fmt, ...)
{
    static const char *const names[] = {"PASS", "FAIL", "SKIP"};
    g_autofree char *reason = NULL;
    va_list ap;

    va_start(ap, fmt);
    reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("%s %s: %s\n", names[v], check, reason);
    fflush(stdout);
    if (v == PC_FAIL) {
        failures++;
    }
}

unsigned pc_failures(void)
{
    return failures;
}

void pc_step(const char *check)
{
    if (step) {
        g_strlcpy(step, check, PC_STEP_MAX);
    }
}

unsigned pc_run_group(PcCtx *c, void (*fn)(PcCtx *c), unsigned timeout_s)
{
    int status;
    pid_t pid;

    if (!step) {
        step = mmap(NULL, PC_STEP_MAX, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        g_assert(step != MAP_FAILED);
    }
    step[0] = '\0';
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        pc_result(PC_FAIL, "internal", "fork: %s", g_strerror(errno));
        return 1;
    }
    if (pid == 0) {
        failures = 0;
        alarm(timeout_s);
        fn(c);
        fflush(stdout);
        _exit(failures > 250 ? 250 : (int)failures);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        failures += (unsigned)WEXITSTATUS(status);
        return (unsigned)WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        pc_result(PC_FAIL, step[0] ? step : "checks",
                  "no answer within %u s (the plugin hangs?); the checks after it did not run",
                  timeout_s);
    } else {
        pc_result(PC_FAIL, step[0] ? step : "checks",
                  "the process died of signal %d (%s) here; the checks after it did not run",
                  WTERMSIG(status), strsignal(WTERMSIG(status)));
    }
    return 1;
}
