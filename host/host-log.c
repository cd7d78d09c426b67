// SPDX-License-Identifier: GPL-2.0-or-later
/* host-log.c - netbe-host's log writer: to the journal, each message carries the fields it
 * names (NETBE_NETDEV, NETBE_PLUGIN, NETBE_DEVICE) so `journalctl NETBE_NETDEV=lan0` finds
 * them; elsewhere GLib's default writer (stderr, G_MESSAGES_DEBUG) as before. The core's and
 * the plugins' messages name their object the same way: "netdev 'ID' (PLUGIN): ...". */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "host-log.h"

/* The id quoted after @key ("netdev '") in @text, and where it ends; NULL if none. */
static char *quoted_after(const char *text, const char *key, const char **end)
{
    const char *p = strstr(text, key);
    const char *q;

    if (!p) {
        return NULL;
    }
    p += strlen(key);
    q = strchr(p, '\'');
    if (!q || q == p) {
        return NULL;
    }
    *end = q + 1;
    return g_strndup(p, q - p);
}

/* "(PLUGIN)" right at @p, a plugin's name: [a-z0-9_-]. */
static char *plugin_in_parens(const char *p)
{
    const char *q;

    if (p[0] != ' ' || p[1] != '(') {
        return NULL;
    }
    p += 2;
    for (q = p; g_ascii_isalnum(*q) || *q == '_' || *q == '-'; q++) {
    }
    return *q == ')' && q > p ? g_strndup(p, q - p) : NULL;
}

static void add_field(GLogField *out, gsize *n, const char *key, char *value, GPtrArray *strings)
{
    g_ptr_array_add(strings, value);
    out[*n].key = key;
    out[*n].value = value;
    out[*n].length = -1;
    (*n)++;
}

gsize host_log_fields(const char *message, const char *domain, GLogField *out, GPtrArray *strings)
{
    const char *end = NULL;
    char *netdev = quoted_after(message, "netdev '", &end);
    char *plugin = netdev ? plugin_in_parens(end) : NULL;
    char *device = quoted_after(message, "device '", &end);
    gsize n = 0;

    if (!plugin && domain && g_str_has_prefix(domain, "netbe-") && strcmp(domain, "netbe-host")) {
        plugin = g_strdup(domain + strlen("netbe-")); /* a plugin's own messages */
    }
    if (netdev) {
        add_field(out, &n, "NETBE_NETDEV", netdev, strings);
    }
    if (plugin) {
        add_field(out, &n, "NETBE_PLUGIN", plugin, strings);
    }
    if (device) {
        add_field(out, &n, "NETBE_DEVICE", device, strings);
    }
    return n;
}

/* To the journal with netbe's fields; anything else as GLib's default writer does. */
static GLogWriterOutput host_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                                        gpointer data)
{
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    g_autofree GLogField *all = NULL;
    const char *message = NULL, *domain = NULL;
    gsize extra;

    if (!g_log_writer_is_journald(fileno(stderr))) {
        return g_log_writer_default(level, fields, n, data);
    }
    for (gsize i = 0; i < n; i++) {
        if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0) {
            domain = fields[i].value;
        } else if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0) {
            message = fields[i].value;
        }
    }
    if (g_log_writer_default_would_drop(level, domain)) {
        return G_LOG_WRITER_HANDLED; /* debug, and G_MESSAGES_DEBUG does not ask for it */
    }
    all = g_new(GLogField, n + HOST_LOG_EXTRA_FIELDS);
    memcpy(all, fields, n * sizeof(*fields));
    extra = message ? host_log_fields(message, domain, all + n, strings) : 0;
    if (g_log_writer_journald(level, all, n + extra, data) == G_LOG_WRITER_HANDLED) {
        return G_LOG_WRITER_HANDLED;
    }
    return g_log_writer_standard_streams(level, fields, n, data);
}

void host_log_setup(void)
{
    g_log_set_writer_func(host_log_writer, NULL, NULL);
}
