/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host-log.h - netbe-host's log writer: to the journal with netbe's fields, else stderr. */
#ifndef NETBE_HOST_LOG_H
#define NETBE_HOST_LOG_H

#include <glib.h>

/* The most fields host_log_fields() adds. */
#define HOST_LOG_EXTRA_FIELDS 3

/*
 * host_log_fields() - the journal fields a netbe message names: NETBE_NETDEV from
 * "netdev 'ID'", NETBE_PLUGIN from "netdev 'ID' (PLUGIN)" or a plugin's log domain
 * ("netbe-tap"), NETBE_DEVICE from "device 'ID'".
 * @message: the message text
 * @domain:  its log domain, or NULL
 * @out:     gets the fields; their values are allocated in @strings (free them with it)
 * Return: how many fields were put in @out (0..HOST_LOG_EXTRA_FIELDS).
 */
gsize host_log_fields(const char *message, const char *domain, GLogField *out, GPtrArray *strings);

/* host_log_setup() - log through host_log_writer from now on (once, at start). */
void host_log_setup(void);

#endif /* NETBE_HOST_LOG_H */
