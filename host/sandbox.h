/* sandbox.h - netbe-host's seccomp filter: only the syscalls netbe uses, on every thread. */
#ifndef NETBE_HOST_SANDBOX_H
#define NETBE_HOST_SANDBOX_H

#include <stdbool.h>
#include <glib.h>

/*
 * sandbox_install() - confine the whole process (every thread, SECCOMP_FILTER_FLAG_TSYNC)
 * to the syscalls that the runtime and the shipped plugins make once started, plus
 * @extra (names, NULL-terminated; may be NULL) that plugins ask for. Any other syscall
 * fails with EPERM and is logged on stderr, once per syscall, by name. Sets no_new_privs.
 * Return: false with @errp set if a name is unknown or the kernel refused the filter.
 */
bool sandbox_install(const char *const *extra, GError **errp);

#endif /* NETBE_HOST_SANDBOX_H */
