/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control.h - netbe-host's control socket, protocol 2: JSON requests, replies and events,
 * one per line, many per connection; and the table of its commands. */
#ifndef NETBE_HOST_CONTROL_H
#define NETBE_HOST_CONTROL_H

#include <stdbool.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include "netbe/migrate.h"
#include "netbe/netbe.h"

/* The protocol version hello states. */
#define CONTROL_PROTOCOL 2
/* Longest request line, newline excluded; a longer one gets an error and the connection
 * closes. */
#define CONTROL_MAX_REQUEST 4096
/* Default time a client has to complete a request (and an idle client, one that has not
 * subscribed, to send the next), and to make progress reading what it was sent. */
#define CONTROL_TIMEOUT_MS 5000
/* Default number of clients served at once; more are refused with an error line. */
#define CONTROL_MAX_CLIENTS 64
/* Default number of lines (replies, events) waiting for a client to read them: a
 * subscriber that falls this far behind is dropped. */
#define CONTROL_MAX_QUEUED 1024
/* Arguments a command may declare. */
#define CONTROL_MAX_ARGS 8

/* How "migrate" hands the backends over: netbe_runtime_migrate_to() or a fake. */
typedef bool (*ControlMigrateFn)(NetbeRuntime *rt, const char *path, NetbeMigStats *stats,
                                 GError **errp);

/*
 * ControlOptions - limits of a control server; zero fields take the defaults.
 * @timeout_ms:  deadline for a request, an idle client, and progress in reading
 * @max_clients: clients served at once; one more is refused with an error line
 * @max_queued:  lines queued for a client before it is dropped (CONTROL_MAX_QUEUED)
 * @migrate:     what "migrate" calls (NULL: netbe_runtime_migrate_to; fuzzers pass a fake)
 * @refuse:      commands refused here (class Denied), NULL-terminated, or NULL: a fuzzer
 *               keeps "capture" from writing files and "reload" from reading them
 */
typedef struct ControlOptions {
    unsigned timeout_ms;
    unsigned max_clients;
    unsigned max_queued;
    ControlMigrateFn migrate;
    const char *const *refuse;
} ControlOptions;

typedef struct ControlServer ControlServer;
typedef struct ControlClient ControlClient;

/* ---- Errors: each reply's "error" has a class, from the GError's code ---- */

#define CONTROL_ERROR (control_error_quark())
GQuark control_error_quark(void);

/* The classes of errors; an error of another GError domain is "Failed". */
typedef enum ControlErrorClass {
    CONTROL_ERROR_FAILED,           /* "Failed": the command could not do it */
    CONTROL_ERROR_INVALID_REQUEST,  /* "InvalidRequest": no JSON object, no command... */
    CONTROL_ERROR_UNKNOWN_COMMAND,  /* "UnknownCommand" */
    CONTROL_ERROR_INVALID_ARGUMENT, /* "InvalidArgument": missing, unknown, wrong type/value */
    CONTROL_ERROR_NOT_FOUND,        /* "NotFound": no such netdev, device, ... */
    CONTROL_ERROR_BUSY,             /* "Busy": too many clients, or it is doing that already */
    CONTROL_ERROR_DENIED,           /* "Denied": this peer may not use the socket */
} ControlErrorClass;

/* control_error_class_name() - Return: the class of @err as the protocol names it. */
const char *control_error_class_name(const GError *err);

/* ---- Commands: one handler and one line in control-cmd.c's table each ---- */

/* Types of arguments; "argv" words (netbe-ctl's command line) are converted to them. */
typedef enum ControlArgType {
    CONTROL_ARG_STRING,
    CONTROL_ARG_INT,    /* a JSON integer; a word: decimal */
    CONTROL_ARG_NUMBER, /* a JSON number, integer or not; a word: decimal, with a fraction */
    CONTROL_ARG_BOOL,   /* true/false; a word: on/off, true/false, yes/no, 1/0; --NAME: true */
    CONTROL_ARG_OBJECT, /* a JSON object; as the last argument, it takes the words KEY=VALUE
                         * that name no other argument, as strings */
    CONTROL_ARG_ARRAY,  /* a JSON array; as the last argument, it takes the words left over */
} ControlArgType;

/*
 * ControlArg - an argument a command takes.
 * @name:     its key in "arguments"
 * @type:     what its value must be
 * @required: the command is refused without it
 * @help:     what it is, for hello's "commands" and netbe-ctl's usage
 */
typedef struct ControlArg {
    const char *name;
    ControlArgType type;
    bool required;
    const char *help;
} ControlArg;

/*
 * ControlCall - what a command runs on.
 * @rt:     the runtime
 * @srv:    the server (control_server_*)
 * @client: the client that asked (control_client_*)
 */
typedef struct ControlCall {
    NetbeRuntime *rt;
    ControlServer *srv;
    ControlClient *client;
} ControlCall;

/*
 * ControlHandler - run a command. @args holds only declared arguments, each of its
 * declared type, the required ones present (the dispatcher checked).
 * Return: the reply's "return" (taken; NULL: an empty object), or NULL with @errp set,
 * its code a ControlErrorClass when the domain is CONTROL_ERROR.
 */
typedef JsonNode *(*ControlHandler)(ControlCall *call, JsonObject *args, GError **errp);

/*
 * ControlCommand - a line of the command table.
 * @name:    what requests say in "command"
 * @handler: what runs it
 * @args:    what it takes, in the order netbe-ctl's words fill them; ends at a NULL name
 * @help:    one line on what it does
 */
typedef struct ControlCommand {
    const char *name;
    ControlHandler handler;
    ControlArg args[CONTROL_MAX_ARGS];
    const char *help;
} ControlCommand;

/* The table (control-cmd.c): add a line there for a new command. */
extern const ControlCommand control_commands[];
extern const unsigned control_command_count;

/* control_commands_find() - Return: the command called @name, or NULL. */
const ControlCommand *control_commands_find(const char *name);
/* control_commands_describe() - Return: [{"name","help","arguments":[{name,type,required,
 * help}]}] for every command (caller frees), as hello lists them. */
JsonNode *control_commands_describe(void);

/* Argument getters for handlers: the value, or @dflt when the request left it out. */
const char *control_arg_string(JsonObject *args, const char *name, const char *dflt);
gint64 control_arg_int(JsonObject *args, const char *name, gint64 dflt);
bool control_arg_bool(JsonObject *args, const char *name, bool dflt);
double control_arg_number(JsonObject *args, const char *name, double dflt);
/* control_arg_words() - the string array @name as a NULL-terminated array of borrowed
 * strings (caller frees the array; empty when left out). Return: NULL with @errp set if an
 * element is no string (@command names the request in the message). */
const char **control_arg_words(JsonObject *args, const char *name, const char *command,
                               GError **errp);

/* control_return_variant() - Return: @v as a reply's JSON; @v's reference (floating or
 * full, as netbe_runtime_status_variant() returns it) is taken. */
JsonNode *control_return_variant(GVariant *v);

/* ---- The server ---- */

/*
 * control_server_new() - listen on a UNIX socket at @path (mode 0600) and serve the
 * command table on @rt's context. Only root and this process's uid may talk to it
 * (SO_PEERCRED). A socket file left at @path by a dead process is replaced; a live
 * listener or a file that is not a socket is not touched.
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

/* control_server_options() - Return: the server's limits, defaults filled in. */
const ControlOptions *control_server_options(const ControlServer *srv);

/*
 * control_server_free() - stop listening, give pending replies a short last chance to
 * go out (quit, migrate), close every client, remove the socket file if it is still
 * ours. NULL is ignored.
 */
void control_server_free(ControlServer *srv);

/*
 * control_client_subscribe() - from now on, queue every event of the runtime for @c as a
 * line {"event":NAME,"data":{...},"timestamp":{"seconds":S,"microseconds":US}}.
 * Return: false if it had subscribed already.
 */
bool control_client_subscribe(ControlClient *c);

/* ---- Requests (control-proto.c) ---- */

/*
 * control_request_run() - answer one request line (without its newline).
 * @call: what the command runs on
 * @line: the request, @len bytes (not NUL-terminated)
 * Return: the reply line, with its newline (caller frees).
 */
char *control_request_run(ControlCall *call, const char *line, size_t len);

/*
 * control_error_line() - a reply line for an error that has no request to answer (or an
 * unparsable one): {"id":@id,"error":{"class":..,"message":..}}.
 * @id: the request's id (borrowed), or NULL for none (no "id" member)
 */
char *control_error_line(JsonNode *id, ControlErrorClass class, const char *message);

/* control_event_line() - an event as the line subscribers get (caller frees). */
char *control_event_line(const char *name, GVariant *data, gint64 time_us);

/* control_metrics_text() - the counters of @stats (netbe_runtime_stats_variant()) in
 * Prometheus' text exposition format (caller frees). */
char *control_metrics_text(GVariant *stats);

#endif /* NETBE_HOST_CONTROL_H */
