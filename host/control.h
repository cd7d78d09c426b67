/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control.h - netbe-host's control socket: one request line, one reply, then close. */
#ifndef NETBE_HOST_CONTROL_H
#define NETBE_HOST_CONTROL_H

#include <stdbool.h>
#include <glib.h>
#include "netbe/migrate.h"
#include "netbe/netbe.h"

/* Replies that start with this prefix are errors; netbe-ctl exits 1 on them. */
#define CONTROL_ERROR_PREFIX "error: "
/* Longest request line, newline excluded; a longer one gets an error reply. */
#define CONTROL_MAX_REQUEST 4096
/* Default time a client has to send its request, and then to read its reply. */
#define CONTROL_TIMEOUT_MS 5000
/* Default number of clients served at once; more are refused with an error line. */
#define CONTROL_MAX_CLIENTS 64

/* How "migrate PATH" hands the backends over: netbe_runtime_migrate_to() or a fake. */
typedef bool (*ControlMigrateFn)(NetbeRuntime *rt, const char *path, NetbeMigStats *stats,
                                 GError **errp);

/*
 * ControlOptions - limits of a control server; zero fields take the defaults.
 * @timeout_ms:  deadline for a client's request, and then for reading the whole reply
 * @max_clients: clients served at once; one more is refused with an error line
 * @migrate:     what "migrate" calls (NULL: netbe_runtime_migrate_to; fuzzers pass a fake)
 */
typedef struct ControlOptions {
    unsigned timeout_ms;
    unsigned max_clients;
    ControlMigrateFn migrate;
} ControlOptions;

typedef struct ControlServer ControlServer;

/*
 * control_server_new() - listen on a UNIX socket at @path (mode 0600) and answer
 * "status", "stats" (each with an optional "--json"), "migrate PATH" and "quit" on @rt's
 * context. Only root and this process's uid may talk to it (SO_PEERCRED). A socket file
 * left at @path by a dead process is replaced; a live listener or a file that is not a
 * socket is not touched.
 * @rt:   the runtime to report on and control
 * @path: where to listen, or NULL for no listener (clients come by control_server_add_client())
 * @opts: limits, or NULL for the defaults
 * Return: the server, or NULL with @errp set (path in use, not a socket, too long, ...).
 */
ControlServer *control_server_new(NetbeRuntime *rt, const char *path, const ControlOptions *opts,
                                  GError **errp);

/*
 * control_server_add_client() - serve one connected stream socket as if it had been
 * accepted on the listener (peer check and limits included).
 * @fd: the connected socket; the server owns it from now on, even on refusal
 */
void control_server_add_client(ControlServer *srv, int fd);

/* control_server_clients() - Return: the number of clients being served now. */
unsigned control_server_clients(const ControlServer *srv);

/*
 * control_server_free() - stop listening, give pending replies a short last chance to
 * go out (quit, migrate), close every client, remove the socket file if it is still
 * ours. NULL is ignored.
 */
void control_server_free(ControlServer *srv);

/*
 * control_answer() - answer one request line (without its newline).
 * @rt:      the runtime the commands act on
 * @line:    the request: a command, its argument, "--json" anywhere
 * @migrate: what "migrate PATH" calls
 * Return: the reply, ending with a newline, starting with CONTROL_ERROR_PREFIX on errors
 * (caller frees).
 */
char *control_answer(NetbeRuntime *rt, const char *line, ControlMigrateFn migrate);

#endif /* NETBE_HOST_CONTROL_H */
