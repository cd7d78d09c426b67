/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sock-util.h - test helpers: listeners on loopback and UNIX paths, bounded accepts, and
 * integers read out of the JSON a host replies with. */
#ifndef NETBE_TEST_SOCK_UTIL_H
#define NETBE_TEST_SOCK_UTIL_H

#include <stdint.h>

/* A blocking TCP listener on 127.0.0.1:*@port (0: any; gets the port). Asserts. */
int test_tcp_listener(unsigned *port);
/* A UNIX stream listener at @path (what a netbe-host or a handover peer would be). Asserts. */
int test_unix_listener(const char *path, int backlog);
/* Accept on @lfd once a connection is there; asserts one comes within @ms. Return: the fd. */
int test_accept_within(int lfd, int ms);
/*
 * test_json_int_in() - the integer @key of the first object in @json whose text starts
 * with @object_start (the object's own members only, up to its first '}').
 * Return: the value, -1 if @json is NULL or the object or key is absent.
 */
int64_t test_json_int_in(const char *json, const char *object_start, const char *key);

#endif /* NETBE_TEST_SOCK_UTIL_H */
