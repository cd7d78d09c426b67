/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options-priv.h - option values of one ini section, checked against schemas. */
#ifndef NETBE_OPTIONS_PRIV_H
#define NETBE_OPTIONS_PRIV_H

#include "netbe/plugin.h"

/* One "key = value" as written, with its line. */
typedef struct NetbeOptionValue {
    char *key;
    char *value;
    int line;
} NetbeOptionValue;

struct NetbeOptions {
    char *file;    /* config name, for messages */
    char *section; /* "netdev.net0" */
    int section_line;
    GPtrArray *schemas; /* const NetbeOptionSpec* tables, searched in order */
    GPtrArray *values;  /* NetbeOptionValue*, in file order */
};

/* A new, empty set of values for [section] at @line of @file. */
NetbeOptions *netbe_options_new(const char *file, const char *section, int line);
void netbe_options_free(NetbeOptions *o);
/* Record key = value at line; a key given twice is the caller's to report. */
void netbe_options_add(NetbeOptions *o, const char *key, const char *value, int line);
/*
 * netbe_options_add_words() - add the "KEY=VALUE" words of a live command to @o, each at
 * the line of its position (1 for the first), so that messages name the word.
 * @errors: gets "FILE:N: [section]: 'WORD' is not key=value" for a word without a key
 */
void netbe_options_add_words(NetbeOptions *o, const char *const *words, GPtrArray *errors);
/* Add a schema table that keys are checked against. */
void netbe_options_add_schema(NetbeOptions *o, const NetbeOptionSpec *schema);
/* The value written for key, or NULL. */
const NetbeOptionValue *netbe_options_find(const NetbeOptions *o, const char *key);
/* The schema entry for key, or NULL. */
const NetbeOptionSpec *netbe_options_spec(const NetbeOptions *o, const char *key);

/*
 * netbe_options_validate() - check every key against the schemas: known, given
 * once, value of the right type and range; required keys present.
 * @errors: gets one "FILE:LINE: [section] key: problem (allowed: ...)" per problem
 * Return: true if nothing was wrong.
 */
bool netbe_options_validate(const NetbeOptions *o, GPtrArray *errors);

/* Format an error for key (NULL: the section) into a newly allocated string. */
char *netbe_options_format_error(const NetbeOptions *o, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Parse a value of @spec's type. Return: false with a reason in *problem. */
bool netbe_option_parse_int(const NetbeOptionSpec *spec, const char *text, int64_t *out,
                            char **problem);
bool netbe_option_parse_bool(const char *text, bool *out);

/* Help for a schema: one block per option. Appends to @out. */
void netbe_schema_describe(const NetbeOptionSpec *schema, GString *out);

#endif /* NETBE_OPTIONS_PRIV_H */
