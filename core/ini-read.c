/* ini-read.c - read an ini text into sections of key/value/line, with inih. */
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include "ini-read.h"

typedef struct IniStream {
    const char *pos, *end;
    const char *file;
    int line;                 /* line number of what the reader returned last */
    GPtrArray *sections;
    GPtrArray *errors;
    GPtrArray *long_values;   /* values of lines longer than inih's buffer */
} IniStream;

/* Marks a value kept in long_values: inih gets "key = \x01INDEX" instead. */
#define LONG_VALUE_MARK '\x01'

/*
 * Debian's inih reads lines of at most INI_MAX_LINE (200) bytes; a hub with many ports
 * or a long plugin_path needs more. Such a line reaches inih as "key = MARK INDEX" and
 * the value, with an inline "; comment" removed, waits in long_values.
 * Return: false if the line has no '=' or the key alone is too long.
 */
static bool stash_long_value(IniStream *st, const char *line, size_t len, char *out, int num)
{
    const char *eq = memchr(line, '=', len);
    g_autofree char *key = NULL;
    char *value, *comment;

    if (!eq || eq - line > num / 2) {
        return false;
    }
    key = g_strstrip(g_strndup(line, eq - line));
    value = g_strndup(eq + 1, len - (eq + 1 - line));
    for (comment = value; (comment = strchr(comment, ';')); comment++) {
        if (comment > value && g_ascii_isspace(comment[-1])) {
            *comment = '\0';
            break;
        }
    }
    g_ptr_array_add(st->long_values, g_strstrip(value));
    g_snprintf(out, num, "%s = %c%u", key, LONG_VALUE_MARK, st->long_values->len - 1);
    return true;
}

static void ini_section_free(gpointer p)
{
    NetbeIniSection *s = p;

    g_free(s->name);
    netbe_options_free(s->opts);
    g_free(s);
}

static NetbeIniSection *find_section(GPtrArray *sections, const char *name)
{
    for (guint i = 0; i < sections->len; i++) {
        NetbeIniSection *s = g_ptr_array_index(sections, i);

        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

/* A "[name]" line: open a section; return false if the line is malformed. */
static bool open_section(IniStream *st, const char *line)
{
    const char *close = strchr(line, ']');
    g_autofree char *name = NULL;
    NetbeIniSection *s, *twin;

    if (!close) {
        return false;
    }
    for (const char *p = close + 1; *p; p++) {
        if (*p == ';' || *p == '#') {
            break;
        }
        if (!g_ascii_isspace(*p)) {
            return false;
        }
    }
    name = g_strstrip(g_strndup(line + 1, close - line - 1));
    if (!*name) {
        return false;
    }
    twin = find_section(st->sections, name);
    if (twin) {
        g_ptr_array_add(st->errors, g_strdup_printf("%s:%d: [%s]: section given twice (first "
                                                    "at line %d)", st->file, st->line, name,
                                                    twin->line));
    }
    s = g_new0(NetbeIniSection, 1);
    s->name = g_steal_pointer(&name);
    s->line = st->line;
    s->duplicate = twin != NULL;
    s->opts = netbe_options_new(st->file, s->name, s->line);
    g_ptr_array_add(st->sections, s);
    return true;
}

/*
 * inih's reader: hands inih one line at a time so that we know its number. Syntax
 * is checked here (all errors, not only the first); bad lines reach inih blank.
 * Leading blanks are stripped so that inih never joins continuation lines.
 */
static char *ini_stream_reader(char *str, int num, void *stream)
{
    IniStream *st = stream;
    const char *eol, *p;
    size_t len;

    if (st->pos >= st->end) {
        return NULL;
    }
    st->line++;
    eol = memchr(st->pos, '\n', st->end - st->pos);
    if (!eol) {
        eol = st->end;
    }
    p = st->pos;
    st->pos = eol < st->end ? eol + 1 : st->end;
    while (p < eol && (*p == ' ' || *p == '\t')) {
        p++;
    }
    len = eol - p;
    if (len && p[len - 1] == '\r') {
        len--;
    }
    str[0] = '\0';
    if (len >= (size_t)num - 1) {
        if (p[0] != ';' && p[0] != '#' && p[0] != '[' && !stash_long_value(st, p, len, str, num)) {
            g_ptr_array_add(st->errors, g_strdup_printf("%s:%d: expected 'key = value' "
                                                        "(a long line needs a short key)",
                                                        st->file, st->line));
            str[0] = '\0';
        }
        return str;
    }
    memcpy(str, p, len);
    str[len] = '\0';
    if (len == 0 || str[0] == ';' || str[0] == '#') {
        return str;
    }
    if (str[0] == '[') {
        if (!open_section(st, str)) {
            g_ptr_array_add(st->errors, g_strdup_printf("%s:%d: malformed section header "
                                                        "(expected [name])", st->file, st->line));
        }
        str[0] = '\0'; /* sections are tracked here, not by inih */
        return str;
    }
    if (!strchr(str, '=') || str[0] == '=') {
        g_ptr_array_add(st->errors, g_strdup_printf("%s:%d: expected 'key = value', "
                                                    "'[section]' or a comment", st->file,
                                                    st->line));
        str[0] = '\0';
    }
    /* inih would take ':' as a separator too; we want '=' only */
    if (strchr(str, ':') && strchr(str, ':') < strchr(str, '=')) {
        g_ptr_array_add(st->errors, g_strdup_printf("%s:%d: expected 'key = value' (keys have "
                                                    "no ':')", st->file, st->line));
        str[0] = '\0';
    }
    return str;
}

static int ini_stream_handler(void *user, const char *section, const char *name,
                              const char *value)
{
    IniStream *st = user;
    NetbeIniSection *s = st->sections->len ? g_ptr_array_index(st->sections, st->sections->len - 1)
                                          : NULL;

    (void)section;
    if (value[0] == LONG_VALUE_MARK) {
        value = g_ptr_array_index(st->long_values, strtoul(value + 1, NULL, 10));
    }
    if (!s) {
        g_ptr_array_add(st->errors, g_strdup_printf("%s:%d: %s: key outside any section",
                                                    st->file, st->line, name));
        return 1;
    }
    netbe_options_add(s->opts, name, value, st->line);
    return 1;
}

GPtrArray *netbe_ini_read(const char *text, const char *file, GPtrArray *errors)
{
    IniStream st = {
        .pos = text,
        .end = text + strlen(text),
        .file = file,
        .sections = g_ptr_array_new_with_free_func(ini_section_free),
        .errors = errors,
        .long_values = g_ptr_array_new_with_free_func(g_free),
    };
    int rc = ini_parse_stream(ini_stream_reader, &st, ini_stream_handler, &st);

    if (rc != 0 && errors->len == 0) {
        g_ptr_array_add(errors, g_strdup_printf("%s:%d: cannot parse this line", file, rc));
    }
    g_ptr_array_unref(st.long_values);
    return st.sections;
}
