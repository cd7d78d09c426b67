// SPDX-License-Identifier: GPL-2.0-or-later
/* test-host-log.c - the journal fields netbe-host's log writer adds to a message. */
#include <stdbool.h>
#include <string.h>
#include "host-log.h"

/* The fields of @message in @domain as "KEY=VALUE;..." (caller frees). */
static char *fields_of(const char *message, const char *domain)
{
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    GLogField f[HOST_LOG_EXTRA_FIELDS];
    gsize n = host_log_fields(message, domain, f, strings);
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < n; i++) {
        g_string_append_printf(out, "%s=%s;", f[i].key, (const char *)f[i].value);
    }
    return g_string_free(out, false);
}

/* Fails if a message of the core, of a plugin or of the vhost-user server does not get the
 * fields of the objects it names, or one that names none gets any. */
static void test_fields_from_messages(void)
{
    static const struct {
        const char *message, *domain, *fields;
    } cases[] = {
        {"netdev 'lan0' (socket): queue 0: end of stream; the queue stops", "netbe",
         "NETBE_NETDEV=lan0;NETBE_PLUGIN=socket;"},
        {"netdev 'guest2': peer 127.0.0.1:40012 went away (closed the connection)", "netbe-socket",
         "NETBE_NETDEV=guest2;NETBE_PLUGIN=socket;"},
        {"vhost-user device 'nic0': VMM pid 42 (uid 0) connected on /run/x.sock", "netbe",
         "NETBE_DEVICE=nic0;"},
        {"netdev 'a b' (tap) in device 'nic1'", "netbe",
         "NETBE_NETDEV=a b;NETBE_PLUGIN=tap;NETBE_DEVICE=nic1;"},
        {"serving /etc/netbe/netbe.ini in 2.00 ms", "netbe-host", ""},
        {"netdev '' (tap): empty id", "netbe", ""},
        {"netdev 'x (unterminated", "netbe-tap", "NETBE_PLUGIN=tap;"},
        {"control socket: refused", NULL, ""},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = fields_of(cases[i].message, cases[i].domain);

        g_assert_cmpstr(got, ==, cases[i].fields);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host-log/fields-from-messages", test_fields_from_messages);
    return g_test_run();
}
