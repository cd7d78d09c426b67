/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user-config.h - the user backend's options, parsed and checked into one struct. */
#ifndef NETBE_USER_CONFIG_H
#define NETBE_USER_CONFIG_H

#include <stdbool.h>
#include <netinet/in.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"

/* Leases libslirp hands out from dhcpstart on (its NB_BOOTP_CLIENTS). */
#define USER_DHCP_LEASES 16

/**
 * struct UserFwd - one hostfwd rule
 * @udp:        UDP rather than TCP
 * @ipv6:       both ends are IPv6 (@host_addr6, @guest_addr6), not IPv4
 * @host_addr:  host address to listen on (INADDR_ANY when the rule left it empty)
 * @host_port:  host port, 1..65535
 * @guest_addr: guest address (dhcpstart when the rule left it empty)
 * @guest_port: guest port, 1..65535
 * @host_addr6: IPv6 host address (in6addr_any when the rule left it empty or "[]")
 * @guest_addr6: IPv6 guest address (an IPv6 rule names it)
 * @text:       the rule as written, for messages
 */
typedef struct UserFwd {
    bool udp;
    bool ipv6;
    struct in_addr host_addr;
    unsigned host_port;
    struct in_addr guest_addr;
    unsigned guest_port;
    struct in6_addr host_addr6, guest_addr6;
    char *text;
} UserFwd;

/**
 * struct UserConfig - everything [netdev.ID] type = user says, checked
 * @ipv4, @ipv6:      which families the virtual network has
 * @net, @mask:       IPv4 network and netmask; @prefix_len its length
 * @host, @dns:       the gateway's and the DNS server's IPv4 addresses
 * @dhcp_start:       first DHCP lease
 * @prefix6, @prefix6_len, @host6, @dns6: the same for IPv6
 * @hostname, @domainname, @tftp, @bootfile: DHCP extras; NULL when not set
 * @dnssearch:        NULL-terminated domain list for DHCP option 119, or NULL
 * @restricted:       guest isolated from the host and the world, except hostfwd
 * @dhcp:             answer DHCP requests
 * @host_loopback:    connections to the gateway reach the host's 127.0.0.1
 * @mtu:              MTU and MRU of the virtual link
 * @fwds, @nfwds:     hostfwd rules
 */
typedef struct UserConfig {
    bool ipv4, ipv6;
    struct in_addr net, mask, host, dns, dhcp_start;
    unsigned prefix_len;
    struct in6_addr prefix6, host6, dns6;
    unsigned prefix6_len;
    char *hostname, *domainname, *tftp, *bootfile;
    char **dnssearch;
    bool restricted, dhcp, host_loopback;
    unsigned mtu;
    UserFwd *fwds;
    unsigned nfwds;
} UserConfig;

/* The option schema of the user plugin. */
extern const NetbeOptionSpec user_option_specs[];

/*
 * user_config_parse() - check every option of @o and fill @cfg.
 * @cfg: zeroed config to fill; clear it with user_config_clear() in every case
 * @o:   the section's options, already checked against user_option_specs
 * @errp: every problem found, one "FILE:LINE: [netdev.x] key: problem (allowed: ...)"
 *        line each
 * Return: true if the options describe a usable network.
 */
bool user_config_parse(UserConfig *cfg, const NetbeOptions *o, GError **errp);

/*
 * user_fwd_parse() - one hostfwd rule "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"
 * (IPv6 addresses in brackets) into @f, checked against the networks of @cfg.
 * Return: NULL, or what is wrong (g_free); @f->text is set in both cases (g_free it).
 */
char *user_fwd_parse(const UserConfig *cfg, const char *rule, UserFwd *f);
/* Whether @a and @b listen on the same host protocol, address and port. */
bool user_fwd_same_host(const UserFwd *a, const UserFwd *b);
/* "TCP port 127.0.0.1:2222" or "UDP port [::1]:53": where @f listens, for messages (g_free). */
char *user_fwd_host_text(const UserFwd *f);

/* Free what user_config_parse() allocated; @cfg may be half filled. */
void user_config_clear(UserConfig *cfg);

#endif /* NETBE_USER_CONFIG_H */
