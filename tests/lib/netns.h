/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netns.h - test helpers: network namespaces, commands, skipping without root. */
#ifndef NETBE_TEST_NETNS_H
#define NETBE_TEST_NETNS_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/*
 * test_need_root_net() - skip the current GLib test unless we are root with
 * /dev/net/tun and the ip tool. Return: true if the test may go on.
 */
bool test_need_root_net(void);

/* Create a namespace "nbt-PREFIX-PID-N" with lo up. Caller frees the name. */
char *test_netns_create(const char *prefix);
/* Delete it (and every interface in it). */
void test_netns_delete(const char *name);

/* Run a shell command; Return: its exit status (or -1). Output goes to stderr. */
int test_sh(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Run a shell command and return its stdout (caller frees), NULL on failure. */
char *test_sh_output(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/*
 * test_netns_enter() - move the calling thread into namespace @name.
 * Return: an fd for the namespace it was in (give it to test_netns_leave), -1 on error.
 */
int test_netns_enter(const char *name);
void test_netns_leave(int saved_fd);

/*
 * test_packet_socket() - an AF_PACKET raw socket that receives only frames of @ethertype
 * (ETH_P_ALL: all) on @ifname, in namespace @ns (NULL: the calling thread's). It is made
 * with protocol 0 and given the protocol in bind(): a socket made with the protocol sees
 * that ethertype on every interface until bind() narrows it, and keeps what came then.
 * Asserts.
 */
int test_packet_socket(const char *ns, const char *ifname, uint16_t ethertype);
/* A send-only packet socket on @ifname in @ns (it receives nothing), with a 10-byte
 * virtio-net header before each frame if @vnet_hdr (for GSO frames). Asserts. */
int test_packet_sender(const char *ns, const char *ifname, bool vnet_hdr);

/* Number of open fds of process @pid (or self for 0). */
int test_count_fds(int pid);

#endif /* NETBE_TEST_NETNS_H */
