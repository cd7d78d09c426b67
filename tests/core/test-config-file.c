// SPDX-License-Identifier: GPL-2.0-or-later
/* test-config-file.c - hostile and broken config files through the real netbe-host --check:
 * each is refused with FILE:LINE (or FILE: for the file as a whole), never a crash, a cut
 * value or a section silently merged into another. */
#include <sys/stat.h>
#include <unistd.h>
#include "host-proc.h"
#include "netns.h"

static char *tmp_dir;

/* One file and what --check must say about it. */
typedef struct BadFile {
    const char *name;
    const char *bytes; /* contents; "@LONG@" is replaced by 300 'x' */
    size_t len;        /* 0: strlen(bytes) */
    const char *line;  /* "NAME:LINE: ..." prefix expected in the output ("@F@" = path) */
    const char *word;  /* and a word of the same line */
} BadFile;

#define BYTES(s) s, sizeof(s) - 1

static const BadFile bad_files[] = {
    /* the issue's crasher: the byte the old reader took for its long-value marker */
    {"marker.ini",
     BYTES("[netdev.a]\ntype = socket\nlisten = \x01"
           "0\n"),
     "@F@:3: control character 0x01 at column 10", "allowed: printable text"},
    /* a 300-byte header was dropped and its keys merged into [netdev.a] */
    {"header.ini",
     "[netdev.a]\ntype = socket\nlisten = 127.0.0.1:0\n[netdev.@LONG@]\n"
     "listen = 127.0.0.1:1\n",
     0, "@F@:4: [netdev.xxx", "bad id"},
    /* a NUL byte cut the value silently */
    {"nul.ini",
     BYTES("[netdev.a]\ntype = socket\nlisten = 127.0.0.1:1\0"
           "99\n"),
     "@F@:3: NUL byte at column 21", "allowed: UTF-8 text"},
    {"utf8.ini", BYTES("[netdev.a]\ntype = socket\nlisten = 127.0.0.1:\xc0\xaf\n"),
     "@F@:3: invalid UTF-8 at column 20", "allowed: UTF-8 text"},
    {"empty.ini", BYTES(""), "@F@: empty", "allowed:"},
};

/* Run netbe-host --check on @path (as @user if not NULL). Return: exit status; *err. */
static int check_file(const char *path, const char *user, char **err)
{
    g_autofree char *log = g_build_filename(tmp_dir, "stderr", NULL);
    g_autofree char *as = user ? g_strdup_printf("setpriv --reuid=%s --regid=nogroup "
                                                 "--clear-groups ",
                                                 user)
                               : g_strdup("");
    int rc = test_sh("%s'%s' --check -c '%s' >/dev/null 2>'%s'", as, test_env_path("NETBE_HOST"),
                     path, log);

    g_assert_true(g_file_get_contents(log, err, NULL, NULL));
    g_test_message("exit %d: %s", rc, *err);
    return rc;
}

/* The output must have a line starting with @prefix ("@F@" = @path) that holds @word. */
static void assert_line(const char *out, const char *prefix, const char *word, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(prefix, "@F@", -1);
    g_autofree char *want = g_strjoinv(path, parts);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    bool found = false;

    for (int i = 0; lines[i]; i++) {
        found |= g_str_has_prefix(lines[i], want) && strstr(lines[i], word);
    }
    if (!found) {
        g_test_message("no line starts with '%s' and holds '%s'", want, word);
    }
    g_assert_true(found);
}

/* Fails if any file of bad_files passes --check, crashes it (exit is not 1) or is
 * reported without its file and line. */
static void test_bad_files_refused_with_line(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_files); i++) {
        const BadFile *b = &bad_files[i];
        g_autofree char *path = g_build_filename(tmp_dir, b->name, NULL);
        g_autofree char *err = NULL;
        g_autofree char *x = g_strnfill(300, 'x');
        g_auto(GStrv) parts = g_strsplit(b->bytes, "@LONG@", -1);
        g_autofree char *bytes = g_strjoinv(x, parts);

        g_assert_true(g_file_set_contents(path, b->len ? b->bytes : bytes,
                                          b->len ? (gssize)b->len : -1, NULL));
        g_assert_cmpint(check_file(path, NULL, &err), ==, 1);
        assert_line(err, b->line, b->word, path);
    }
}

/* Fails if --check reads a directory, a file over 1 MiB or an endless device without a
 * clear error (or, for /dev/zero, does not come back). */
static void test_directory_and_huge_files_refused(void)
{
    g_autofree char *huge = g_build_filename(tmp_dir, "huge.ini", NULL);
    g_autofree char *text = g_strnfill(1024 * 1024 + 1, ';');
    g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL;

    g_assert_cmpint(check_file(tmp_dir, NULL, &e1), ==, 1);
    assert_line(e1, "@F@: cannot read: it is a directory", "allowed: an ini file", tmp_dir);
    g_assert_true(g_file_set_contents(huge, text, -1, NULL));
    g_assert_cmpint(check_file(huge, NULL, &e2), ==, 1);
    assert_line(e2, "@F@: cannot read: larger than 1 MiB", "allowed: up to 1 MiB", huge);
    g_assert_cmpint(check_file("/dev/zero", NULL, &e3), ==, 1);
    assert_line(e3, "@F@: cannot read: larger than 1 MiB", "limit", "/dev/zero");
}

/* Fails if a file the user cannot read is not refused with the cause. Needs another uid
 * than the file's owner: as root, the host runs as nobody; else the file is mode 0. */
static void test_unreadable_file_refused(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "secret.ini", NULL);
    g_autofree char *err = NULL;

    g_assert_true(g_file_set_contents(path, "[runtime]\n", -1, NULL));
    g_assert_cmpint(chmod(path, 0), ==, 0);
    g_assert_cmpint(chmod(tmp_dir, 0755), ==, 0);
    g_assert_cmpint(check_file(path, geteuid() == 0 ? "nobody" : NULL, &err), ==, 1);
    assert_line(err, "@F@: cannot read: Permission denied", "", path);
}

/* Fails if a good file with a long line, CRLF ends and a BOM is not OK. */
static void test_long_line_file_passes(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "long.ini", NULL);
    g_autoptr(GString) text = g_string_new("\xef\xbb\xbf; a hub of 30 ports\r\n");
    g_autoptr(GString) ports = g_string_new(NULL);
    g_autofree char *err = NULL;

    for (int i = 0; i < 30; i++) {
        g_string_append_printf(text,
                               "[netdev.port%02d]\r\ntype = socket\r\n"
                               "listen = 127.0.0.1:%d\r\n",
                               i, 20000 + i);
        g_string_append_printf(ports, "%sport%02d", i ? ", " : "", i);
    }
    g_string_append_printf(text, "[hub.lan]\r\nports = %s\r\n", ports->str);
    g_assert_cmpuint(ports->len, >, 200);
    g_assert_true(g_file_set_contents(path, text->str, -1, NULL));
    g_assert_cmpint(check_file(path, NULL, &err), ==, 0);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("netbe-config-file-XXXXXX", NULL);
    g_test_add_func("/config-file/bad-files-refused-with-line", test_bad_files_refused_with_line);
    g_test_add_func("/config-file/directory-and-huge-refused",
                    test_directory_and_huge_files_refused);
    g_test_add_func("/config-file/unreadable-refused", test_unreadable_file_refused);
    g_test_add_func("/config-file/long-line-file-passes", test_long_line_file_passes);
    rc = g_test_run();
    test_sh("rm -rf '%s'", tmp_dir);
    g_free(tmp_dir);
    return rc;
}
