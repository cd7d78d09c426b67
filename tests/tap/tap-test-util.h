/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap-test-util.h - helpers for the tap tests: names, namespaces, counters, host with fds. */
#ifndef NETBE_TAP_TEST_UTIL_H
#define NETBE_TAP_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "host-proc.h"

/* A TAP name unique to this process: "nbt" + pid + @tag (<= 15 bytes). Caller frees. */
char *tap_test_ifname(const char *tag);

/* Open a TAP fd ourselves (libvirt style). Return: the fd, or -1. */
int tap_test_open_tap(const char *ifname, bool vnet_hdr, bool multi_queue);

/*
 * tap_test_move() - move TAP @ifname into namespace @ns (IPv6 off there, so only our
 * traffic flows), set @mac if not NULL, add @cidr if not NULL, bring it up.
 */
void tap_test_move(const char *ifname, const char *ns, const char *mac, const char *cidr);

/* A kernel counter of @ifname in @ns (e.g. "rx_packets"); -1 if unreadable. */
int64_t tap_test_kernel_counter(const char *ns, const char *ifname, const char *counter);

/*
 * tap_test_stats() - from netbe-ctl "stats --json": @key of @netdev's queue @queue, or
 * the sum over its queues when @queue is -1. Return: -1 if there is no such queue.
 */
int64_t tap_test_stats(const char *json, const char *netdev, int queue, const char *key);
/* Number of queues @netdev has in the stats. */
unsigned tap_test_stats_queues(const char *json, const char *netdev);

/*
 * tap_test_host_start_fds() - like test_host_start(), but @fds[i] is inherited by
 * netbe-host as fd @targets[i] (the parent keeps its copies), and netbe-host runs under
 * @wrapper (a NULL-terminated argv prefix such as setpriv ...; NULL for none).
 */
TestHost *tap_test_host_start_fds(const char *config_text, const char *const *wrapper,
                                  const int *fds, const int *targets, int nfds);

/*
 * tap_test_host_incoming() - start "netbe-host -c CONFIG --control SOCK --incoming @path"
 * and wait until it listens on @path (it serves its control socket only afterwards).
 */
TestHost *tap_test_host_incoming(const char *config_text, const char *path);

/*
 * tap_test_host_run() - run "@wrapper netbe-host -c @config_path" to its end (10 s at
 * most). Return: its exit status; its stderr in *@err_out (caller frees).
 */
int tap_test_host_run(const char *config_path, const char *const *wrapper, char **err_out);

#endif /* NETBE_TAP_TEST_UTIL_H */
