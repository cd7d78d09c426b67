// SPDX-License-Identifier: GPL-2.0-or-later
/* host-notify.c - netbe-host tells its service manager how it is, with libsystemd's
 * sd_notify (a datagram to $NOTIFY_SOCKET: nothing without one); and reloads. */
#include <time.h>
#include <systemd/sd-daemon.h>
#include "host-notify.h"

/* Send @text (lines KEY=VALUE); a failure is only logged: serving matters more. */
static void notify(const char *text)
{
    int rc = sd_notify(0, text);

    if (rc < 0) {
        g_debug("sd_notify: %s", g_strerror(-rc));
    }
}

void host_notify_ready(const char *status)
{
    g_autofree char *text = g_strdup_printf("READY=1\nSTATUS=%s", status);

    notify(text);
}

void host_notify_stopping(void)
{
    notify("STOPPING=1\nSTATUS=shutting down");
}

void host_notify_status(const char *status)
{
    g_autofree char *text = g_strdup_printf("STATUS=%s", status);

    notify(text);
}

/* RELOADING=1 with the CLOCK_MONOTONIC time in us, as systemd 253 and later want it. */
static void notify_reloading(void)
{
    struct timespec ts;
    g_autofree char *text = NULL;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    text = g_strdup_printf("RELOADING=1\nMONOTONIC_USEC=%" G_GUINT64_FORMAT "\nSTATUS=reloading",
                           (guint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000);
    notify(text);
}

bool host_reload(NetbeRuntime *rt, const char *path, const char *why, GError **errp)
{
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *status = NULL;
    bool ok;

    notify_reloading();
    ok = netbe_runtime_reload(rt, path, errp);
    if (ok) {
        g_message("reloaded (%s) in %.2f ms", why, (g_get_monotonic_time() - t0) / 1000.0);
        status = g_strdup("serving; reloaded");
    } else {
        g_warning("reload (%s) refused, nothing changed: %s", why, (*errp)->message);
        status = g_strdup("serving; the last reload was refused (see the log)");
    }
    host_notify_ready(status);
    return ok;
}
