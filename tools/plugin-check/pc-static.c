// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-static.c - netbe-plugin-check: the descriptor beyond what the loader refuses. */
#include <string.h>
#include "pc.h"

/* Problems of one schema entry, appended to @out. */
static void check_option(const NetbeOptionSpec *o, const NetbeOptionSpec *all, GString *out)
{
    if (!o->help || !*o->help) {
        g_string_append_printf(out, "; option '%s' has no help", o->name);
    }
    for (const NetbeOptionSpec *p = all; p < o; p++) {
        if (strcmp(p->name, o->name) == 0) {
            g_string_append_printf(out, "; option '%s' is in the schema twice", o->name);
        }
    }
    if (o->type > NETBE_OPT_SIZE) {
        g_string_append_printf(out, "; option '%s' has an unknown type %d", o->name, o->type);
    }
    if (o->type == NETBE_OPT_ENUM && (!o->choices || !o->choices[0])) {
        g_string_append_printf(out, "; enum option '%s' has no choices", o->name);
    } else if (o->type == NETBE_OPT_ENUM && o->default_value &&
               !g_strv_contains((const char *const *)o->choices, o->default_value)) {
        g_string_append_printf(out, "; option '%s' defaults to '%s', not one of its choices",
                               o->name, o->default_value);
    }
    if ((o->type == NETBE_OPT_INT || o->type == NETBE_OPT_SIZE) && o->min > o->max) {
        g_string_append_printf(out, "; option '%s' has min > max", o->name);
    }
}

void pc_check_descriptor(PcCtx *c)
{
    const NetbePluginDesc *d = c->desc;
    GString *bad = g_string_new(NULL);
    unsigned n = 0;

    if (!d->summary || !*d->summary) {
        g_string_append(bad, "; no summary");
    }
    for (const NetbeOptionSpec *o = d->options; o && o->name; o++, n++) {
        check_option(o, d->options, bad);
    }
    if ((d->caps & NETBE_CAP_HANDOVER) && d->state_version == 0) {
        g_string_append(bad, "; NETBE_CAP_HANDOVER without a state_version");
    }
    if (d->caps & ~(uint32_t)(NETBE_CAP_MULTIQUEUE | NETBE_CAP_HANDOVER)) {
        g_string_append_printf(bad, "; caps has unknown bits 0x%x",
                               d->caps & ~(uint32_t)(NETBE_CAP_MULTIQUEUE | NETBE_CAP_HANDOVER));
    }
    if (d->stream_framing && (d->stream_framing->prefix_len < 1 ||
                              d->stream_framing->prefix_len > NETBE_STREAM_PREFIX_MAX ||
                              !d->stream_framing->frame_len || !d->stream_framing->write_prefix)) {
        g_string_append(bad, "; stream_framing is incomplete (prefix_len 1..16, both hooks)");
    }
    if (bad->len) {
        pc_result(PC_FAIL, "descriptor", "%s", bad->str + 2);
    } else {
        pc_result(PC_PASS, "descriptor",
                  "'%s': summary, %u options with help, caps%s%s%s, %s plugin", d->name, n,
                  d->caps & NETBE_CAP_MULTIQUEUE ? " MULTIQUEUE" : "",
                  d->caps & NETBE_CAP_HANDOVER ? " HANDOVER" : "", d->caps ? "" : " none",
                  d->send ? "producer" : "fd");
    }
    g_string_free(bad, true);
}
