/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ini-read.h - read an ini file or text into sections of key/value/line. */
#ifndef NETBE_INI_READ_H
#define NETBE_INI_READ_H

#include "options-priv.h"

/* Largest config netbe reads, in bytes (a config this big is a mistake, not a config). */
#define NETBE_INI_MAX_SIZE (1024 * 1024)
/* Problems of the text itself after which reading stops: the file is not an ini file. */
#define NETBE_INI_MAX_ERRORS 50

/* One [section]; its keys, in file order, are in opts. */
typedef struct NetbeIniSection {
    char *name;
    int line;
    bool duplicate; /* same name as an earlier section: reported, not applied */
    NetbeOptions *opts;
} NetbeIniSection;

/*
 * netbe_ini_read() - split @len bytes of @text into sections.
 * @file: name used in messages
 * @errors: gets "FILE:LINE: problem" for syntax errors, NUL bytes, invalid UTF-8, control
 *          characters, keys outside a section and sections given twice; reading goes on
 * Return: NetbeIniSection*, in file order (free with g_ptr_array_unref); NULL (with a
 * message in @errors) if the text as a whole is unusable: empty, larger than
 * NETBE_INI_MAX_SIZE, or with NETBE_INI_MAX_ERRORS problems of its own.
 */
GPtrArray *netbe_ini_read(const char *text, size_t len, const char *file, GPtrArray *errors);

/*
 * netbe_ini_read_file() - the bytes of a config file, at most NETBE_INI_MAX_SIZE.
 * @path: a file (or pipe); a directory is refused
 * @len: gets the number of bytes read
 * Return: the bytes (NUL-terminated, may hold NULs; g_free), or NULL with @errp set to
 * "PATH: cannot read: cause".
 */
char *netbe_ini_read_file(const char *path, size_t *len, GError **errp);

#endif /* NETBE_INI_READ_H */
