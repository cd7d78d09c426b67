/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user-handover.h - the user backend's handover record: slirp's state and the options digest. */
#ifndef NETBE_USER_HANDOVER_H
#define NETBE_USER_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <libslirp.h>
#include "netbe/migrate.h"
#include "user-config.h"

/* Layout of the plugin's part of the record; a reader of another layout refuses. */
#define USER_HANDOVER_FORMAT 1
/* Largest slirp state accepted. Without guestfwd it is one byte plus the DHCP leases and
 * the IP id (about 130 bytes); the cap keeps an untrusted length from mattering. */
#define USER_STATE_MAX 4096

/*
 * user_config_digest() - SHA-256, in hex, of the options that shape the virtual network
 * (families, net, host, dns, dhcpstart, IPv6 prefix/host/dns, restrict, dhcp,
 * host_loopback, mtu, hostfwd rules). Source and destination must agree on it.
 * Return: a new string.
 */
char *user_config_digest(const UserConfig *c);

/*
 * user_handover_write() - the plugin's fields: format, digest, slirp_state_version() and
 * the bytes slirp_state_save() writes for @slirp.
 */
void user_handover_write(NetbeMigWriter *w, const UserConfig *c, Slirp *slirp);

/**
 * struct UserHandover - the plugin's fields of a received record, checked
 * @version: the slirp state version the source saved with
 * @state, @len: slirp's bytes (they point into the reader)
 */
typedef struct UserHandover {
    int version;
    const uint8_t *state;
    uint32_t len;
} UserHandover;

/*
 * user_handover_read() - read and check the fields against this netdev's options @c:
 * the record's @format (the writer's state_version: USER_HANDOVER_FORMAT), digest, slirp
 * state version (one this libslirp loads), length, and a state that carries no guestfwd
 * connection (this plugin configures none).
 * Return: false with the reason in @errp.
 */
bool user_handover_read(NetbeMigReader *r, uint32_t format, const UserConfig *c, UserHandover *h,
                        GError **errp);

/*
 * user_handover_apply() - feed @h's state to slirp_state_load() on a fresh @slirp.
 * Return: false (with the reason) if slirp refused it, or read less or more than it holds;
 * @slirp is then in an unknown state and must be freed.
 */
bool user_handover_apply(Slirp *slirp, const UserHandover *h, GError **errp);

#endif /* NETBE_USER_HANDOVER_H */
