/* SPDX-License-Identifier: GPL-2.0-or-later */
/* user-net.h - test harness: a user netdev joined by a hub to a fixture port that plays
 * the guest, so a test injects the guest's frames and reads what slirp sends back. */
#ifndef NETBE_TEST_USER_NET_H
#define NETBE_TEST_USER_NET_H

#include <stdbool.h>
#include <glib.h>
#include "fixture-plugin.h"
#include "guest-frames.h"
#include "netbe/netbe.h"

/**
 * struct UserNet - one runtime: [netdev.wire] (fixture) + [netdev.net0] (user) in a hub
 * @dir:      private plugin directory (fixture and user plugins)
 * @rt:       the runtime
 * @inject:   fixture control: a frame from the guest
 * @take:     fixture control: the oldest frame the guest got
 * @set_busy: fixture control: the guest's port refuses frames (they queue, then drop)
 * @mac, @ip: the guest's addresses; ARP requests for @ip are answered by the harness
 * @backlog:  GBytes* frames the guest got that no wait has claimed yet
 */
typedef struct UserNet {
    char *dir;
    NetbeRuntime *rt;
    FixtureInjectFunc inject;
    FixtureTakeSentFunc take;
    FixtureSetBusyFunc set_busy;
    uint8_t mac[6];
    struct in_addr ip;
    GPtrArray *backlog;
} UserNet;

/*
 * user_net_use_runtime_fd() - drive the runtimes made from now on as a foreign event loop
 * would: poll netbe_runtime_get_fd() and call netbe_runtime_dispatch() (true), or iterate
 * their GMainContext (false, the default).
 */
void user_net_use_runtime_fd(bool on);

/* The guest's MAC address in every test. */
extern const uint8_t user_net_guest_mac[6];

/* A plugin directory with the fixture and user plugins (caller frees with
 * test_plugin_dir_free). */
char *user_net_plugin_dir(void);

/*
 * user_net_new() - load and start the hub config with @options ("key = value" lines)
 * in [netdev.net0]; the guest is at @guest_ip. Asserts it loads.
 */
UserNet *user_net_new(const char *options, const char *guest_ip);
/* The same with @wire_options in [netdev.wire] (e.g. "queue_limit = 8"). */
UserNet *user_net_new_full(const char *wire_options, const char *options, const char *guest_ip);
void user_net_free(UserNet *n);

/* A frame from the guest (consumed). */
void user_net_send(UserNet *n, GByteArray *frame);

typedef bool (*UserNetMatch)(const GfFrame *f, void *data);

/*
 * user_net_wait() - run the runtime until the guest gets a frame @match accepts
 * (frames before it stay in the backlog for later waits).
 * Return: the frame, or NULL after @timeout_ms.
 */
GBytes *user_net_wait(UserNet *n, UserNetMatch match, void *data, int timeout_ms);

/*
 * user_net_wait_fd() - run the runtime until @fd polls ready for @cond.
 * Return: false after @timeout_ms.
 */
bool user_net_wait_fd(UserNet *n, int fd, GIOCondition cond, int timeout_ms);

/* Run the runtime for @ms milliseconds. */
void user_net_run_for(UserNet *n, int ms);

/* Counters of netdev @id. */
NetbeQueueStats user_net_stats(UserNet *n, const char *id);

/* A TCP or UDP socket bound to 127.0.0.1 on a free port (listening for TCP); port in *port. */
int user_net_loopback_socket(int type, uint16_t *port);

#endif /* NETBE_TEST_USER_NET_H */
