/* ini-read.h - read an ini text into sections of key/value/line, with inih. */
#ifndef NETBE_INI_READ_H
#define NETBE_INI_READ_H

#include "options-priv.h"

/* One [section]; its keys, in file order, are in opts. */
typedef struct NetbeIniSection {
    char *name;
    int line;
    bool duplicate;       /* same name as an earlier section: reported, not applied */
    NetbeOptions *opts;
} NetbeIniSection;

/*
 * netbe_ini_read() - split @text into sections.
 * @file: name used in messages
 * @errors: gets "FILE:LINE: problem" for syntax errors, keys outside a section,
 *          sections given twice and lines that are too long; reading goes on
 * Return: NetbeIniSection*, in file order (free with g_ptr_array_unref).
 */
GPtrArray *netbe_ini_read(const char *text, const char *file, GPtrArray *errors);

#endif /* NETBE_INI_READ_H */
