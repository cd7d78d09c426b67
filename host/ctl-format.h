/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl-format.h - netbe-ctl's readable text for control replies and events. */
#ifndef NETBE_HOST_CTL_FORMAT_H
#define NETBE_HOST_CTL_FORMAT_H

#include <json-glib/json-glib.h>

/*
 * ctl_format_return() - what @command returned, as text for a person: status and stats as
 * tables, metrics as it is, an empty object as nothing, other values as indented JSON.
 * Return: the text, each line ending with a newline (caller frees).
 */
char *ctl_format_return(const char *command, JsonNode *ret);

/* ctl_format_event() - an event line's object as "DATE TIME.US NAME key=value...\n". */
char *ctl_format_event(JsonObject *ev);

#endif /* NETBE_HOST_CTL_FORMAT_H */
