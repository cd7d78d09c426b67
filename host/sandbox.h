/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.h - netbe-host's seccomp filter: only the syscalls netbe uses, on every thread. */
#ifndef NETBE_HOST_SANDBOX_H
#define NETBE_HOST_SANDBOX_H

#include <stdbool.h>
#include <glib.h>

/* A compiled seccomp filter, ready to load. */
typedef struct SandboxFilter SandboxFilter;

/*
 * sandbox_prepare() - compile the filter that confines the process to the syscalls that the
 * runtime and the shipped plugins make once started, plus @extra (names, NULL-terminated;
 * may be NULL) that plugins ask for, and catch SIGSYS: any other syscall then fails with
 * EPERM and is logged on stderr, once per syscall, by name. Compiling takes most of a
 * millisecond, so a handover destination does it before it takes the devices over.
 * Return: the filter, or NULL with @errp set if a name is unknown.
 */
SandboxFilter *sandbox_prepare(const char *const *extra, GError **errp);

/*
 * sandbox_enter() - load @f on every thread (SECCOMP_FILTER_FLAG_TSYNC); sets no_new_privs.
 * Return: false with @errp set if the kernel refused the filter.
 */
bool sandbox_enter(const SandboxFilter *f, GError **errp);

/* sandbox_filter_free() - free @f (NULL is ignored); a loaded filter stays loaded. */
void sandbox_filter_free(SandboxFilter *f);

#endif /* NETBE_HOST_SANDBOX_H */
