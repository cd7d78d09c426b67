/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host-proc.h - test helpers: run netbe-host on a config and talk to its control socket. */
#ifndef NETBE_TEST_HOST_PROC_H
#define NETBE_TEST_HOST_PROC_H

#include <stdbool.h>
#include <glib.h>

typedef struct TestHost {
    GPid pid;
    char *dir;     /* private temp dir: config, control socket, logs */
    char *config;  /* path of the config file */
    char *control; /* path of the control socket */
    char *log;     /* netbe-host's stderr */
} TestHost;

/*
 * test_host_start() - write @config_text to a file and run "netbe-host -c FILE
 * --control SOCK" (in namespace @netns if not NULL), waiting until it serves.
 * @extra_args: more arguments, NULL-terminated (may be NULL)
 * Return: the host, or NULL (with the log printed) if it did not come up in 10 s.
 */
TestHost *test_host_start(const char *config_text, const char *netns,
                          const char *const *extra_args);
/* The same, run as an unprivileged @user (via setpriv) when we are root. */
TestHost *test_host_start_as(const char *config_text, const char *netns,
                             const char *const *extra_args, const char *user);
/* Start netbe-host without waiting (for --incoming, which serves after a handover). */
TestHost *test_host_spawn(const char *config_text, const char *netns, const char *const *extra_args,
                          const char *user);
/* Wait up to @ms until it answers on its control socket. Return: false if it exited. */
bool test_host_wait_serving(TestHost *h, int ms);
/* Send a netbe-ctl command ("status", "stats --json", ...); Return: its stdout. */
char *test_host_ctl(TestHost *h, const char *command);
/* The same, for a command that may fail: Return: netbe-ctl's exit status (-1 if it did not
 * exit), its stderr in *err (caller frees; may be NULL). */
int test_host_ctl_status(TestHost *h, const char *command, char **err);
/* Wait up to @ms for it to exit by itself; Return: exit status, -1 if still running or
 * killed by a signal. */
int test_host_wait(TestHost *h, int ms);
/* SIGTERM, wait (5 s, then SIGKILL); Return: exit status, -1 if it had to be killed. */
int test_host_stop(TestHost *h);
void test_host_free(TestHost *h);

/*
 * test_pid_track() - remember @pid in @slot (0 .. TEST_TRACK_SLOTS-1; pid 0 forgets it) so
 * that a failed assertion, which aborts the test, SIGKILLs it first: a host that dropped to
 * another user no longer dies with its parent. The first call installs the SIGABRT handler.
 */
#define TEST_TRACK_SLOTS 4
void test_pid_track(unsigned slot, GPid pid);

/* A netbe build path from the environment the test suite sets (NETBE_HOST, ...). */
const char *test_env_path(const char *var);

#endif /* NETBE_TEST_HOST_PROC_H */
