/* control.h - netbe-host's control socket: one request line, one reply, then close. */
#ifndef NETBE_HOST_CONTROL_H
#define NETBE_HOST_CONTROL_H

#include <stdbool.h>
#include <glib.h>
#include "netbe/netbe.h"

/* Replies that start with this prefix are errors; netbe-ctl exits 1 on them. */
#define CONTROL_ERROR_PREFIX "error: "
/* Longest request line. */
#define CONTROL_MAX_REQUEST 4096

typedef struct ControlServer ControlServer;

/*
 * control_server_new() - listen on a UNIX socket at @path (mode 0600) and answer
 * "status", "stats" (each with an optional "--json") and "quit" on @rt's context.
 * Return: the server, or NULL with @errp set (path in use, too long, ...).
 */
ControlServer *control_server_new(NetbeRuntime *rt, const char *path, GError **errp);
/* Stop listening, close every client, remove the socket file. NULL is ignored. */
void control_server_free(ControlServer *srv);

#endif /* NETBE_HOST_CONTROL_H */
