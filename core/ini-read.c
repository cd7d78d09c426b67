// SPDX-License-Identifier: LGPL-2.1-or-later
/* ini-read.c - read an ini file or text into sections of key/value/line. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ini-read.h"
#include "netbe-priv.h"

/*
 * Why not inih (which netbe used up to here): the inih of Debian 12 reads lines of at most
 * 200 bytes into a stack buffer; longer ones are cut and their rest parsed as lines of
 * their own, and section names are cut at 50 bytes. Its run-time knobs (ini_max_line,
 * ini_allow_realloc, ini_use_stack) are a Debian addition, not inih's API, and they are
 * process-wide globals that every other inih user in a VMM shares and that two runtimes
 * loading configs on two threads would race on. Working around the limit from a reader
 * needs a side channel for long values, and this reader had to parse every line anyway
 * (NUL bytes, UTF-8, sections, '=' versus ':', all errors with their line). What inih
 * added on top, splitting at '=' and cutting an inline "; comment", is a few lines here.
 */

G_STATIC_ASSERT(NETBE_INI_MAX_SIZE == 1024 * 1024); /* as the messages say */

typedef struct IniReader {
    const char *file;
    int line;            /* number of the line being read */
    GPtrArray *sections; /* NetbeIniSection* */
    GPtrArray *errors;
    unsigned problems; /* errors found by the reader (not the schemas) */
} IniReader;

static void ini_section_free(gpointer p)
{
    NetbeIniSection *s = p;

    g_free(s->name);
    netbe_options_free(s->opts);
    g_free(s);
}

static void G_GNUC_PRINTF(2, 3) reader_error(IniReader *r, const char *fmt, ...)
{
    g_autofree char *problem = NULL;
    va_list ap;

    va_start(ap, fmt);
    problem = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(r->errors, g_strdup_printf("%s:%d: %s", r->file, r->line, problem));
    r->problems++;
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

/* Refuse a line that is not text: NUL bytes, invalid UTF-8, control characters. */
static bool line_is_text(IniReader *r, const char *p, size_t len)
{
    const char *nul = memchr(p, '\0', len);
    const gchar *bad;

    if (nul) {
        reader_error(r, "NUL byte at column %zu (allowed: UTF-8 text)", (size_t)(nul - p) + 1);
        return false;
    }
    if (!g_utf8_validate_len(p, len, &bad)) {
        reader_error(r, "invalid UTF-8 at column %zu (allowed: UTF-8 text)", (size_t)(bad - p) + 1);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            reader_error(r,
                         "control character 0x%02x at column %zu (allowed: printable "
                         "text and tabs)",
                         c, i + 1);
            return false;
        }
    }
    return true;
}

/* A "[name]" line, optionally followed by a comment: open a section. */
static void read_section(IniReader *r, const char *p, size_t len)
{
    const char *close = memchr(p, ']', len);
    g_autofree char *name = NULL;
    NetbeIniSection *s, *twin;

    for (const char *q = close ? close + 1 : p + len; q < p + len && *q != ';' && *q != '#'; q++) {
        if (!g_ascii_isspace(*q)) {
            close = NULL;
            break;
        }
    }
    name = close ? g_strstrip(g_strndup(p + 1, close - p - 1)) : NULL;
    if (!name || !*name) {
        reader_error(r, "malformed section header (expected [name])");
        return;
    }
    twin = find_section(r->sections, name);
    if (twin) {
        reader_error(r, "[%s]: section given twice (first at line %d)", name, twin->line);
    }
    s = g_new0(NetbeIniSection, 1);
    s->name = g_steal_pointer(&name);
    s->line = r->line;
    s->duplicate = twin != NULL;
    s->opts = netbe_options_new(r->file, s->name, s->line);
    g_ptr_array_add(r->sections, s);
}

/* A "key = value" line; a ';' after a blank starts a comment in the value. */
static void read_key_value(IniReader *r, const char *p, size_t len)
{
    NetbeIniSection *s =
        r->sections->len ? g_ptr_array_index(r->sections, r->sections->len - 1) : NULL;
    const char *eq = memchr(p, '=', len);
    const char *value, *end = p + len;
    g_autofree char *key = NULL, *val = NULL;

    if (!eq || eq == p) {
        reader_error(r, "expected 'key = value', '[section]' or a comment");
        return;
    }
    if (memchr(p, ':', eq - p)) {
        reader_error(r, "expected 'key = value' (keys have no ':')");
        return;
    }
    key = g_strstrip(g_strndup(p, eq - p));
    value = eq + 1;
    for (const char *q = value + 1; q < end; q++) {
        if (*q == ';' && (q[-1] == ' ' || q[-1] == '\t')) {
            end = q;
            break;
        }
    }
    val = g_strstrip(g_strndup(value, end - value));
    if (!s) {
        reader_error(r, "%s: key outside any section", key);
        return;
    }
    netbe_options_add(s->opts, key, val, r->line);
}

/* One line, without its "\n" (and "\r"). Blank lines and comments are skipped. */
static void read_line(IniReader *r, const char *p, size_t len)
{
    if (len && p[len - 1] == '\r') {
        len--;
    }
    if (!line_is_text(r, p, len)) {
        return;
    }
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    if (!len || *p == ';' || *p == '#') {
        return;
    }
    if (*p == '[') {
        read_section(r, p, len);
    } else {
        read_key_value(r, p, len);
    }
}

GPtrArray *netbe_ini_read(const char *text, size_t len, const char *file, GPtrArray *errors)
{
    IniReader r = {.file = file, .errors = errors};
    const char *pos = text, *end = text + len;

    if (len == 0) {
        g_ptr_array_add(errors, g_strdup_printf("%s: empty (allowed: [section] and "
                                                "'key = value' lines)",
                                                file));
        return NULL;
    }
    if (len > NETBE_INI_MAX_SIZE) {
        g_ptr_array_add(errors, g_strdup_printf("%s: %zu bytes, larger than 1 MiB, the limit "
                                                "for a config (allowed: up to 1 MiB)",
                                                file, len));
        return NULL;
    }
    r.sections = g_ptr_array_new_with_free_func(ini_section_free);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        pos += 3; /* a UTF-8 byte order mark */
    }
    while (pos < end && r.problems < NETBE_INI_MAX_ERRORS) {
        const char *eol = memchr(pos, '\n', end - pos);

        eol = eol ? eol : end;
        r.line++;
        read_line(&r, pos, eol - pos);
        pos = eol < end ? eol + 1 : end;
    }
    if (r.problems >= NETBE_INI_MAX_ERRORS) {
        g_ptr_array_add(errors, g_strdup_printf("%s:%d: %u errors; reading stops here (is "
                                                "this an ini file?)",
                                                file, r.line, r.problems));
        g_clear_pointer(&r.sections, g_ptr_array_unref);
    }
    return r.sections;
}

char *netbe_ini_read_file(const char *path, size_t *len, GError **errp)
{
    g_autofree char *buf = NULL;
    const char *problem = NULL;
    size_t got = 0;
    struct stat st;
    int fd, err = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0) {
        err = errno;
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        err = EISDIR;
        problem = "it is a directory (allowed: an ini file)";
        goto fail;
    }
    /* read one byte more than allowed, to tell a full-size file from a larger one */
    buf = g_malloc(NETBE_INI_MAX_SIZE + 2);
    while (got <= NETBE_INI_MAX_SIZE) {
        ssize_t n = read(fd, buf + got, NETBE_INI_MAX_SIZE + 1 - got);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            err = errno;
            goto fail;
        }
        if (n == 0) {
            break;
        }
        got += n;
    }
    if (got > NETBE_INI_MAX_SIZE) {
        err = EFBIG;
        problem = "larger than 1 MiB, the limit for a config (allowed: up to 1 MiB)";
        goto fail;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return g_realloc(g_steal_pointer(&buf), got + 1);
fail:
    g_set_error(errp, NETBE_CONFIG_ERROR, err, "%s: cannot read: %s", path,
                problem ? problem : g_strerror(err));
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}
