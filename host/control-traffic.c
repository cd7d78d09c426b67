// SPDX-License-Identifier: GPL-2.0-or-later
/* control-traffic.c - control commands on a netdev's traffic: capture, capture-stop,
 * rate-limit. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "control-traffic.h"
#include "control.h"

static char *reply_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static char *reply_error(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return g_strdup_printf(CONTROL_ERROR_PREFIX "%s\n", msg);
}

/* @text as a whole positive number. */
static bool parse_count(const char *text, uint64_t *out)
{
    char *end = NULL;

    errno = 0;
    *out = g_ascii_strtoull(text, &end, 10);
    return text[0] >= '0' && text[0] <= '9' && end != text && !*end && !errno && *out > 0;
}

/* @text as a positive, finite number of seconds. */
static bool parse_seconds(const char *text, double *out)
{
    char *end = NULL;

    errno = 0;
    *out = g_ascii_strtod(text, &end);
    return end != text && !*end && !errno && isfinite(*out) && *out > 0;
}

char *control_capture(NetbeRuntime *rt, const char *const *args, bool json)
{
    g_autoptr(GError) err = NULL;
    const char *id = args[0], *path = id ? args[1] : NULL;
    uint64_t count = 0;
    double seconds = 0;

    if (!id || !path) {
        return reply_error("capture needs ID FILE [--count N] [--seconds S]");
    }
    if (!g_path_is_absolute(path)) {
        return reply_error("capture: '%s' is not an absolute path (netbe-host writes the file "
                           "itself, from its own working directory)",
                           path);
    }
    for (int i = 2; args[i]; i += 2) {
        bool is_count = strcmp(args[i], "--count") == 0;

        if ((!is_count && strcmp(args[i], "--seconds") != 0) || !args[i + 1]) {
            return reply_error("capture: '%s' (allowed: --count N, --seconds S)", args[i]);
        }
        if (is_count ? !parse_count(args[i + 1], &count) : !parse_seconds(args[i + 1], &seconds)) {
            return reply_error("capture: %s '%s' (allowed: a number above 0)", args[i],
                               args[i + 1]);
        }
    }
    if (!netbe_runtime_capture_start(rt, id, path, count, seconds, &err)) {
        return reply_error("%s", err->message);
    }
    if (json) {
        return g_strdup_printf("{\"capturing\":true,\"count\":%" PRIu64 ",\"seconds\":%g}\n", count,
                               seconds);
    }
    return g_strdup_printf("capturing %s to %s\n", id, path);
}

char *control_capture_stop(NetbeRuntime *rt, const char *const *args, bool json)
{
    g_autoptr(GError) err = NULL;
    uint64_t frames = 0;

    if (!args[0] || args[1]) {
        return reply_error("capture-stop needs ID (and nothing else)");
    }
    if (!netbe_runtime_capture_stop(rt, args[0], &frames, &err)) {
        return reply_error("%s", err->message);
    }
    return json ? g_strdup_printf("{\"stopped\":true,\"frames\":%" PRIu64 "}\n", frames)
                : g_strdup_printf("capture of %s stopped: %" PRIu64 " frames\n", args[0], frames);
}

char *control_rate_limit(NetbeRuntime *rt, const char *const *args, bool json)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) now = NULL;
    GString *out;

    if (!args[0]) {
        return reply_error("rate-limit needs ID [key=value...]");
    }
    if (!netbe_runtime_set_rate_limit(rt, args[0], args + 1, &err) ||
        !(now = netbe_runtime_get_rate_limit(rt, args[0], &err))) {
        return reply_error("%s", err->message);
    }
    out = g_string_new(json ? "{\"limits\":{" : "");
    if (!json) {
        g_string_append_printf(out, "rate limit of %s:", args[0]);
    }
    for (int i = 0; now[i]; i++) {
        char *eq = strchr(now[i], '=');

        *eq = '\0';
        g_string_append_printf(out, json ? "%s\"%s\":%s" : "%s%s=%s", json && i ? "," : " ", now[i],
                               eq + 1);
    }
    g_string_append(out, json ? "}}\n" : now[0] ? "\n" : " none\n");
    return g_string_free(out, false);
}
