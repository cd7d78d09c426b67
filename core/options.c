// SPDX-License-Identifier: LGPL-2.1-or-later
/* options.c - option values of one ini section, checked against schemas. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "netbe-priv.h"

static void option_value_free(gpointer p)
{
    NetbeOptionValue *v = p;

    g_free(v->key);
    g_free(v->value);
    g_free(v);
}

NetbeOptions *netbe_options_new(const char *file, const char *section, int line)
{
    NetbeOptions *o = g_new0(NetbeOptions, 1);

    o->file = g_strdup(file);
    o->section = g_strdup(section);
    o->section_line = line;
    o->schemas = g_ptr_array_new();
    o->values = g_ptr_array_new_with_free_func(option_value_free);
    return o;
}

void netbe_options_free(NetbeOptions *o)
{
    if (!o) {
        return;
    }
    g_free(o->file);
    g_free(o->section);
    g_ptr_array_unref(o->schemas);
    g_ptr_array_unref(o->values);
    g_free(o);
}

void netbe_options_add(NetbeOptions *o, const char *key, const char *value, int line)
{
    NetbeOptionValue *v = g_new0(NetbeOptionValue, 1);

    v->key = g_strdup(key);
    v->value = g_strdup(value);
    v->line = line;
    g_ptr_array_add(o->values, v);
}

void netbe_options_add_words(NetbeOptions *o, const char *const *words, GPtrArray *errors)
{
    for (int i = 0; words && words[i]; i++) {
        const char *eq = strchr(words[i], '=');
        g_autofree char *key = eq ? g_strstrip(g_strndup(words[i], eq - words[i])) : NULL;

        if (!key || !*key) {
            g_ptr_array_add(errors, g_strdup_printf("%s:%d: [%s]: '%s' is not key=value", o->file,
                                                    i + 1, o->section, words[i]));
            continue;
        }
        netbe_options_add(o, key, eq + 1, i + 1);
    }
}

void netbe_options_add_schema(NetbeOptions *o, const NetbeOptionSpec *schema)
{
    if (schema) {
        g_ptr_array_add(o->schemas, (gpointer)schema);
    }
}

const NetbeOptionValue *netbe_options_find(const NetbeOptions *o, const char *key)
{
    for (guint i = 0; i < o->values->len; i++) {
        const NetbeOptionValue *v = g_ptr_array_index(o->values, i);

        if (strcmp(v->key, key) == 0) {
            return v;
        }
    }
    return NULL;
}

const NetbeOptionSpec *netbe_options_spec(const NetbeOptions *o, const char *key)
{
    for (guint i = 0; i < o->schemas->len; i++) {
        for (const NetbeOptionSpec *s = g_ptr_array_index(o->schemas, i); s->name; s++) {
            if (strcmp(s->name, key) == 0) {
                return s;
            }
        }
    }
    return NULL;
}

static char *vformat_error(const NetbeOptions *o, const char *key, const char *fmt, va_list ap)
    G_GNUC_PRINTF(3, 0);
static char *vformat_error(const NetbeOptions *o, const char *key, const char *fmt, va_list ap)
{
    const NetbeOptionValue *v = key ? netbe_options_find(o, key) : NULL;
    int line = v ? v->line : o->section_line;
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    if (key) {
        return g_strdup_printf("%s:%d: [%s] %s: %s", o->file, line, o->section, key, msg);
    }
    return g_strdup_printf("%s:%d: [%s]: %s", o->file, line, o->section, msg);
}

char *netbe_options_format_error(const NetbeOptions *o, const char *key, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat_error(o, key, fmt, ap);
    va_end(ap);
    return s;
}

void netbe_options_error(const NetbeOptions *o, GError **errp, const char *key, const char *fmt,
                         ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat_error(o, key, fmt, ap);
    va_end(ap);
    g_set_error_literal(errp, NETBE_CONFIG_ERROR, EINVAL, s);
    g_free(s);
}

void netbe_options_add_error(const NetbeOptions *o, GString *errors, const char *key,
                             const char *fmt, ...)
{
    va_list ap;
    char *line;

    va_start(ap, fmt);
    line = vformat_error(o, key, fmt, ap);
    va_end(ap);
    g_string_append_printf(errors, "%s%s", errors->len ? "\n" : "", line);
    g_free(line);
}

bool netbe_option_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true", "1", NULL};
    static const char *const no[] = {"off", "no", "false", "0", NULL};

    for (int i = 0; yes[i]; i++) {
        if (g_ascii_strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (g_ascii_strcasecmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* "allowed: ..." text for a spec, or NULL for free strings. */
static char *spec_allowed(const NetbeOptionSpec *s)
{
    bool bounded = s->min != 0 || s->max != 0;

    switch (s->type) {
    case NETBE_OPT_INT:
        return bounded ? g_strdup_printf("an integer %" PRId64 "..%" PRId64, s->min, s->max)
                       : g_strdup("an integer");
    case NETBE_OPT_SIZE:
        return bounded ? g_strdup_printf("bytes %" PRId64 "..%" PRId64 ", suffix k, m or g allowed",
                                         s->min, s->max)
                       : g_strdup("bytes, suffix k, m or g allowed");
    case NETBE_OPT_BOOL:
        return g_strdup("on, off");
    case NETBE_OPT_ENUM:
        return g_strjoinv(", ", (char **)s->choices);
    case NETBE_OPT_STRING:
    default:
        return NULL;
    }
}

bool netbe_option_parse_int(const NetbeOptionSpec *spec, const char *text, int64_t *out,
                            char **problem)
{
    char *end = NULL;
    int64_t v;
    int shift = 0;

    errno = 0;
    v = g_ascii_strtoll(text, &end, 0);
    if (end == text || errno) {
        goto bad;
    }
    if (spec->type == NETBE_OPT_SIZE && *end) {
        shift = *end == 'k' || *end == 'K'   ? 10
                : *end == 'm' || *end == 'M' ? 20
                : *end == 'g' || *end == 'G' ? 30
                                             : -1;
        if (shift < 0 || end[1] || v < 0 || v > (INT64_MAX >> shift)) {
            goto bad;
        }
        v <<= shift;
        end++;
    }
    if (*end) {
        goto bad;
    }
    if ((spec->min || spec->max) && (v < spec->min || v > spec->max)) {
        goto bad;
    }
    *out = v;
    return true;
bad : {
    g_autofree char *allowed = spec_allowed(spec);

    *problem = g_strdup_printf("'%s' is not valid (allowed: %s)", text, allowed);
    return false;
}
}

static bool check_value(const NetbeOptionSpec *s, const char *text, char **problem)
{
    int64_t i;
    bool b;

    switch (s->type) {
    case NETBE_OPT_INT:
    case NETBE_OPT_SIZE:
        return netbe_option_parse_int(s, text, &i, problem);
    case NETBE_OPT_BOOL:
        if (netbe_option_parse_bool(text, &b)) {
            return true;
        }
        break;
    case NETBE_OPT_ENUM:
        if (g_strv_contains((const char *const *)s->choices, text)) {
            return true;
        }
        break;
    case NETBE_OPT_STRING:
    default:
        return true;
    }
    g_autofree char *allowed = spec_allowed(s);
    *problem = g_strdup_printf("'%s' is not valid (allowed: %s)", text, allowed);
    return false;
}

/* "a, b, c": every key of every schema. */
static char *all_keys(const NetbeOptions *o)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < o->schemas->len; i++) {
        for (const NetbeOptionSpec *sp = g_ptr_array_index(o->schemas, i); sp->name; sp++) {
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", sp->name);
        }
    }
    return g_string_free(s, false);
}

bool netbe_options_validate(const NetbeOptions *o, GPtrArray *errors)
{
    guint before = errors->len;

    for (guint i = 0; i < o->values->len; i++) {
        const NetbeOptionValue *v = g_ptr_array_index(o->values, i);
        const NetbeOptionSpec *s = netbe_options_spec(o, v->key);
        char *problem = NULL;

        if (netbe_options_find(o, v->key) != v) {
            const NetbeOptionValue *first = netbe_options_find(o, v->key);

            g_ptr_array_add(errors,
                            g_strdup_printf("%s:%d: [%s] %s: given twice (first at line %d)",
                                            o->file, v->line, o->section, v->key, first->line));
            continue;
        }
        if (!s) {
            g_autofree char *keys = all_keys(o);

            g_ptr_array_add(errors, g_strdup_printf("%s:%d: [%s] %s: unknown key (allowed: %s)",
                                                    o->file, v->line, o->section, v->key, keys));
            continue;
        }
        if (!check_value(s, v->value, &problem)) {
            g_ptr_array_add(errors, g_strdup_printf("%s:%d: [%s] %s: %s", o->file, v->line,
                                                    o->section, v->key, problem));
            g_free(problem);
        }
    }
    for (guint i = 0; i < o->schemas->len; i++) {
        for (const NetbeOptionSpec *s = g_ptr_array_index(o->schemas, i); s->name; s++) {
            if ((s->flags & NETBE_OPT_REQUIRED) && !netbe_options_find(o, s->name)) {
                g_ptr_array_add(errors,
                                g_strdup_printf("%s:%d: [%s] %s: required key is missing", o->file,
                                                o->section_line, o->section, s->name));
            }
        }
    }
    return errors->len == before;
}

bool netbe_options_is_set(const NetbeOptions *o, const char *key)
{
    return netbe_options_find(o, key) != NULL;
}

const char *netbe_options_get_string(const NetbeOptions *o, const char *key)
{
    const NetbeOptionValue *v = netbe_options_find(o, key);
    const NetbeOptionSpec *s;

    if (v) {
        return v->value;
    }
    s = netbe_options_spec(o, key);
    return s ? s->default_value : NULL;
}

int64_t netbe_options_get_int(const NetbeOptions *o, const char *key)
{
    const NetbeOptionSpec *s = netbe_options_spec(o, key);
    const char *text = netbe_options_get_string(o, key);
    char *problem = NULL;
    int64_t v = 0;

    if (!s || !text || !netbe_option_parse_int(s, text, &v, &problem)) {
        g_free(problem);
        return 0;
    }
    return v;
}

bool netbe_options_get_bool(const NetbeOptions *o, const char *key)
{
    const char *text = netbe_options_get_string(o, key);
    bool b = false;

    return text && netbe_option_parse_bool(text, &b) && b;
}

void netbe_schema_describe(const NetbeOptionSpec *schema, GString *out)
{
    for (const NetbeOptionSpec *s = schema; s && s->name; s++) {
        g_autofree char *allowed = spec_allowed(s);

        g_string_append_printf(out, "  %-12s %s\n", s->name, s->help ? s->help : "");
        if (allowed) {
            g_string_append_printf(out, "  %-12s allowed: %s\n", "", allowed);
        }
        if (s->flags & NETBE_OPT_REQUIRED) {
            g_string_append_printf(out, "  %-12s required\n", "");
        } else if (s->default_value) {
            g_string_append_printf(out, "  %-12s default: %s\n", "", s->default_value);
        }
    }
}
