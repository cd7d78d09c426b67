// SPDX-License-Identifier: LGPL-2.1-or-later
/* user-config.c - parse and check the user backend's options (addresses, rules, DHCP extras). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include "user-config.h"

const NetbeOptionSpec user_option_specs[] = {
    {"net", NETBE_OPT_STRING, "10.0.2.0/24", "IPv4 network of the guest, ADDRESS/LENGTH"},
    {"host", NETBE_OPT_STRING, NULL,
     "gateway address the guest sees (default: the network's .2, 10.0.2.2)"},
    {"dhcpstart", NETBE_OPT_STRING, NULL,
     "first of the 16 DHCP leases (default: the network's .15, 10.0.2.15)"},
    {"dns", NETBE_OPT_STRING, NULL,
     "DNS server address the guest sees, forwarded to the host's resolver "
     "(default: the network's .3, 10.0.2.3)"},
    {"ipv4", NETBE_OPT_BOOL, "on", "IPv4 on the virtual network"},
    {"ipv6", NETBE_OPT_BOOL, "on", "IPv6 on the virtual network (router advertisements)"},
    {"ipv6_prefix", NETBE_OPT_STRING, "fec0::/64", "IPv6 prefix of the guest, ADDRESS/LENGTH"},
    {"ipv6_host", NETBE_OPT_STRING, NULL, "IPv6 gateway address (default: PREFIX::2)"},
    {"ipv6_dns", NETBE_OPT_STRING, NULL, "IPv6 DNS server address (default: PREFIX::3)"},
    {"hostname", NETBE_OPT_STRING, NULL, "host name DHCP gives the guest (option 12)"},
    {"domainname", NETBE_OPT_STRING, NULL, "domain name DHCP gives the guest (option 15)"},
    {"dnssearch", NETBE_OPT_STRING, NULL,
     "comma-separated search domains DHCP gives the guest (option 119)"},
    {"restrict", NETBE_OPT_BOOL, "off",
     "isolate the guest: nothing reaches the host or the world but hostfwd connections"},
    {"hostfwd", NETBE_OPT_STRING, NULL,
     "comma-separated forwarding rules [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT "
     "(empty HOSTADDR: any; empty GUESTADDR: dhcpstart)"},
    {"tftp", NETBE_OPT_STRING, NULL, "directory the built-in TFTP server serves"},
    {"bootfile", NETBE_OPT_STRING, NULL, "boot file name DHCP announces (PXE)"},
    {"dhcp", NETBE_OPT_BOOL, "on", "answer the guest's DHCP requests"},
    {"host_loopback", NETBE_OPT_BOOL, "on",
     "connections to the gateway address reach the host's 127.0.0.1"},
    {"mtu", NETBE_OPT_INT, "1500", "MTU of the virtual link", 68, 65521},
    {NULL}};

#define HOSTFWD_ALLOWED                                                                            \
    "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, IPv4 addresses or IPv6 ones in "         \
    "brackets, ports 1..65535"
#define NAME_ALLOWED "labels of letters, digits and '-', 1..63 bytes each, 253 bytes in all"

/* Printable form of an address; the buffer lives as long as the expression. */
typedef struct AddrText {
    char s[INET6_ADDRSTRLEN];
} AddrText;

static AddrText ip4_text(struct in_addr a)
{
    AddrText t;

    inet_ntop(AF_INET, &a, t.s, sizeof(t.s));
    return t;
}

static AddrText ip6_text(const struct in6_addr *a)
{
    AddrText t;

    inet_ntop(AF_INET6, a, t.s, sizeof(t.s));
    return t;
}

/* The checker: options, and the problem lines found so far. */
typedef struct Check {
    const NetbeOptions *o;
    GString *errors;
} Check;

/* Parse "LENGTH" (decimal, no sign) within lo..hi. */
static bool parse_length(const char *text, unsigned lo, unsigned hi, unsigned *out)
{
    unsigned v = 0;

    if (!*text || strlen(text) > 3) {
        return false;
    }
    for (const char *p = text; *p; p++) {
        if (!g_ascii_isdigit(*p)) {
            return false;
        }
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

/* Parse a dotted netmask of 8..30 leading ones into its length. */
static bool parse_netmask(const char *text, unsigned *out)
{
    struct in_addr m;
    uint32_t v;
    unsigned len;

    if (inet_pton(AF_INET, text, &m) != 1) {
        return false;
    }
    v = ntohl(m.s_addr);
    len = (unsigned)__builtin_popcount(v);
    if (len < 8 || len > 30 || v != 0xffffffffu << (32 - len)) {
        return false;
    }
    *out = len;
    return true;
}

/* Parse a port 1..65535 written in decimal. */
static bool parse_port(const char *text, unsigned *out)
{
    unsigned v = 0;

    if (!*text || strlen(text) > 5) {
        return false;
    }
    for (const char *p = text; *p; p++) {
        if (!g_ascii_isdigit(*p)) {
            return false;
        }
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v < 1 || v > 65535) {
        return false;
    }
    *out = v;
    return true;
}

static struct in_addr ip4_from_host(uint32_t v)
{
    return (struct in_addr){.s_addr = htonl(v)};
}

/* Split "ADDR/LEN" into its parts; false if there is no '/'. */
static bool split_prefix(const char *text, char **addr, const char **len)
{
    const char *slash = strchr(text, '/');

    if (!slash) {
        return false;
    }
    *addr = g_strndup(text, slash - text);
    *len = slash + 1;
    return true;
}

static void parse_net(Check *c, UserConfig *cfg, bool *ok)
{
    const char *text = netbe_options_get_string(c->o, "net");
    g_autofree char *addr = NULL;
    const char *len;
    uint32_t mask;

    *ok = false;
    if (!split_prefix(text, &addr, &len) || inet_pton(AF_INET, addr, &cfg->net) != 1 ||
        !(parse_length(len, 8, 30, &cfg->prefix_len) || parse_netmask(len, &cfg->prefix_len))) {
        netbe_options_add_error(c->o, c->errors, "net",
                                "'%s' is not valid (allowed: an IPv4 network ADDRESS/LENGTH with "
                                "LENGTH 8..30, or ADDRESS/NETMASK, like 10.0.2.0/24)",
                                text);
        return;
    }
    mask = 0xffffffffu << (32 - cfg->prefix_len);
    cfg->mask = ip4_from_host(mask);
    if (ntohl(cfg->net.s_addr) & ~mask) {
        netbe_options_add_error(
            c->o, c->errors, "net", "'%s' has host bits set (allowed: the network address, %s/%u)",
            text, ip4_text(ip4_from_host(ntohl(cfg->net.s_addr) & mask)).s, cfg->prefix_len);
        return;
    }
    *ok = true;
}

/* Why @a cannot be a station of the network, or NULL if it can. */
static const char *ip4_station_problem(const UserConfig *cfg, struct in_addr a)
{
    uint32_t v = ntohl(a.s_addr), net = ntohl(cfg->net.s_addr), mask = ntohl(cfg->mask.s_addr);

    if ((v & mask) != net) {
        return "is outside";
    }
    if (v == net) {
        return "is the network address of";
    }
    if (v == (net | ~mask)) {
        return "is the broadcast address of";
    }
    return NULL;
}

/*
 * An IPv4 address option: parsed, defaulted to net + @offset, checked to be a
 * station of the network. Return: false (with a problem reported) if unusable.
 */
static bool parse_station(Check *c, const UserConfig *cfg, const char *key, uint32_t offset,
                          struct in_addr *out)
{
    const char *text = netbe_options_get_string(c->o, key);
    uint32_t net = ntohl(cfg->net.s_addr), mask = ntohl(cfg->mask.s_addr);
    const char *problem;

    if (!text) {
        *out = ip4_from_host(net | offset);
    } else if (inet_pton(AF_INET, text, out) != 1) {
        netbe_options_add_error(c->o, c->errors, key,
                                "'%s' is not an IPv4 address (allowed: an address of %s/%u)", text,
                                ip4_text(cfg->net).s, cfg->prefix_len);
        return false;
    }
    problem = ip4_station_problem(cfg, *out);
    if (problem) {
        netbe_options_add_error(
            c->o, c->errors, key, "%s%s %s net %s/%u (allowed: an address of %s/%u from %s to %s)",
            ip4_text(*out).s, text ? "" : " (the default)", problem, ip4_text(cfg->net).s,
            cfg->prefix_len, ip4_text(cfg->net).s, cfg->prefix_len,
            ip4_text(ip4_from_host(net + 1)).s, ip4_text(ip4_from_host((net | ~mask) - 1)).s);
        return false;
    }
    return true;
}

static void parse_ipv4_stations(Check *c, UserConfig *cfg)
{
    bool host_ok = parse_station(c, cfg, "host", 2, &cfg->host);
    bool dns_ok = parse_station(c, cfg, "dns", 3, &cfg->dns);
    bool dhcp_ok = parse_station(c, cfg, "dhcpstart", 15, &cfg->dhcp_start);
    uint32_t first = ntohl(cfg->dhcp_start.s_addr), last = first + USER_DHCP_LEASES - 1;
    uint32_t bcast = ntohl(cfg->net.s_addr) | ~ntohl(cfg->mask.s_addr);

    if (host_ok && dns_ok && cfg->host.s_addr == cfg->dns.s_addr) {
        netbe_options_add_error(
            c->o, c->errors, netbe_options_is_set(c->o, "dns") ? "dns" : "host",
            "%s is both the gateway and the DNS address (allowed: two different "
            "addresses)",
            ip4_text(cfg->host).s);
    }
    if (!dhcp_ok || !cfg->dhcp) {
        return;
    }
    if (last >= bcast) {
        netbe_options_add_error(c->o, c->errors, "dhcpstart",
                                "%s leaves room for %u of the %u DHCP leases before the "
                                "broadcast address %s (allowed: %s at the latest)",
                                ip4_text(cfg->dhcp_start).s, bcast - first, USER_DHCP_LEASES,
                                ip4_text(ip4_from_host(bcast)).s,
                                ip4_text(ip4_from_host(bcast - USER_DHCP_LEASES)).s);
        return;
    }
    for (int i = 0; i < 2; i++) {
        struct in_addr a = i == 0 ? cfg->host : cfg->dns;
        uint32_t v = ntohl(a.s_addr);

        if ((i == 0 ? host_ok : dns_ok) && v >= first && v <= last) {
            netbe_options_add_error(
                c->o, c->errors, "dhcpstart",
                "the DHCP leases %s..%s include the %s address %s "
                "(allowed: a range of %u addresses that leaves out host and dns)",
                ip4_text(cfg->dhcp_start).s, ip4_text(ip4_from_host(last)).s,
                i == 0 ? "gateway" : "DNS", ip4_text(a).s, USER_DHCP_LEASES);
        }
    }
}

static bool ip6_in_prefix(const struct in6_addr *a, const struct in6_addr *prefix, unsigned len)
{
    for (unsigned bit = 0; bit < len; bit++) {
        unsigned byte = bit / 8, m = 0x80u >> (bit % 8);

        if ((a->s6_addr[byte] & m) != (prefix->s6_addr[byte] & m)) {
            return false;
        }
    }
    return true;
}

static void parse_ipv6(Check *c, UserConfig *cfg)
{
    static const struct {
        const char *key;
        uint8_t last_byte;
    } stations[] = {{"ipv6_host", 2}, {"ipv6_dns", 3}};
    const char *text = netbe_options_get_string(c->o, "ipv6_prefix");
    g_autofree char *addr = NULL;
    const char *len;
    struct in6_addr masked;

    if (!split_prefix(text, &addr, &len) || inet_pton(AF_INET6, addr, &cfg->prefix6) != 1 ||
        !parse_length(len, 1, 126, &cfg->prefix6_len)) {
        netbe_options_add_error(c->o, c->errors, "ipv6_prefix",
                                "'%s' is not valid (allowed: an IPv6 prefix ADDRESS/LENGTH "
                                "with LENGTH 1..126, like fec0::/64)",
                                text);
        return;
    }
    memset(&masked, 0, sizeof(masked));
    for (unsigned bit = 0; bit < cfg->prefix6_len; bit++) {
        masked.s6_addr[bit / 8] |= cfg->prefix6.s6_addr[bit / 8] & (0x80u >> (bit % 8));
    }
    if (memcmp(&masked, &cfg->prefix6, sizeof(masked)) != 0) {
        netbe_options_add_error(c->o, c->errors, "ipv6_prefix",
                                "'%s' has host bits set (allowed: the prefix itself, %s/%u)", text,
                                ip6_text(&masked).s, cfg->prefix6_len);
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(stations); i++) {
        struct in6_addr *out = i == 0 ? &cfg->host6 : &cfg->dns6;
        const char *t = netbe_options_get_string(c->o, stations[i].key);

        if (!t) {
            *out = cfg->prefix6;
            out->s6_addr[15] = stations[i].last_byte;
        } else if (inet_pton(AF_INET6, t, out) != 1) {
            netbe_options_add_error(c->o, c->errors, stations[i].key,
                                    "'%s' is not an IPv6 address (allowed: an address "
                                    "in %s/%u)",
                                    t, ip6_text(&cfg->prefix6).s, cfg->prefix6_len);
            continue;
        }
        if (!ip6_in_prefix(out, &cfg->prefix6, cfg->prefix6_len)) {
            netbe_options_add_error(c->o, c->errors, stations[i].key,
                                    "%s%s is outside ipv6_prefix %s/%u (allowed: an "
                                    "address in that prefix)",
                                    ip6_text(out).s, t ? "" : " (the default)",
                                    ip6_text(&cfg->prefix6).s, cfg->prefix6_len);
        }
    }
}

/* A DNS name: dot-separated labels of letters, digits and '-'. */
static bool dns_name_is_valid(const char *name)
{
    g_auto(GStrv) labels = NULL;

    if (!*name || strlen(name) > 253) {
        return false;
    }
    labels = g_strsplit(name, ".", -1);
    for (int i = 0; labels[i]; i++) {
        size_t n = strlen(labels[i]);

        if (n == 0 || n > 63 || labels[i][0] == '-' || labels[i][n - 1] == '-') {
            return false;
        }
        for (size_t k = 0; k < n; k++) {
            if (!g_ascii_isalnum(labels[i][k]) && labels[i][k] != '-') {
                return false;
            }
        }
    }
    return true;
}

static void parse_names(Check *c, UserConfig *cfg)
{
    static const char *const keys[] = {"hostname", "domainname"};
    const char *search = netbe_options_get_string(c->o, "dnssearch");
    const char *tftp = netbe_options_get_string(c->o, "tftp");
    const char *bootfile = netbe_options_get_string(c->o, "bootfile");

    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *t = netbe_options_get_string(c->o, keys[i]);

        if (t && !dns_name_is_valid(t)) {
            netbe_options_add_error(c->o, c->errors, keys[i],
                                    "'%s' is not a valid name (allowed: %s)", t, NAME_ALLOWED);
        }
    }
    cfg->hostname = g_strdup(netbe_options_get_string(c->o, "hostname"));
    cfg->domainname = g_strdup(netbe_options_get_string(c->o, "domainname"));
    if (search) {
        cfg->dnssearch = g_strsplit(search, ",", -1);
        for (int i = 0; cfg->dnssearch[i]; i++) {
            g_strstrip(cfg->dnssearch[i]);
            if (!dns_name_is_valid(cfg->dnssearch[i])) {
                netbe_options_add_error(c->o, c->errors, "dnssearch",
                                        "'%s' is not a valid domain (allowed: comma-separated "
                                        "domains, %s)",
                                        cfg->dnssearch[i], NAME_ALLOWED);
            }
        }
    }
    if (tftp && !g_file_test(tftp, G_FILE_TEST_IS_DIR)) {
        netbe_options_add_error(c->o, c->errors, "tftp",
                                "'%s' is not a directory (allowed: an existing directory)", tftp);
    }
    cfg->tftp = g_strdup(tftp);
    /* BOOTP's file field holds 128 bytes with the terminating zero */
    if (bootfile && (!*bootfile || strlen(bootfile) > 127)) {
        netbe_options_add_error(c->o, c->errors, "bootfile",
                                "'%s' does not fit BOOTP's file field (allowed: 1..127 bytes)",
                                bootfile);
    }
    cfg->bootfile = g_strdup(bootfile);
}

/*
 * Split "ADDR:PORT" of a rule: ADDR is empty, IPv4, or IPv6 in brackets ("[]" for any).
 * Return: false on bad syntax; *addr (g_free) without brackets, *v6 if they were there.
 */
static bool split_fwd_end(const char *text, char **addr, unsigned *port, bool *v6)
{
    const char *colon = strrchr(text, ':');

    *addr = NULL;
    *v6 = text[0] == '[';
    if (!colon || !parse_port(colon + 1, port) || (*v6 && (colon == text || colon[-1] != ']'))) {
        return false;
    }
    *addr = *v6 ? g_strndup(text + 1, colon - text - 2) : g_strndup(text, colon - text);
    return *v6 || !strchr(*addr, ':');
}

/* The guest side of an IPv6 rule: an address of the prefix, not slirp's own. */
static const char *fwd_guest6_problem(const UserConfig *cfg, const struct in6_addr *a)
{
    if (!ip6_in_prefix(a, &cfg->prefix6, cfg->prefix6_len)) {
        return "is outside";
    }
    if (!memcmp(a, &cfg->host6, sizeof(*a)) || !memcmp(a, &cfg->dns6, sizeof(*a))) {
        return "is slirp's own address in";
    }
    return NULL;
}

/* Both ends of an IPv6 rule into @f. Return: the problem, or NULL. */
static char *parse_fwd6(const UserConfig *cfg, const char *rule, const char *host,
                        const char *guest, UserFwd *f)
{
    const char *problem;

    f->ipv6 = true;
    if (!cfg->ipv6) {
        return g_strdup_printf("rule '%s' is IPv6, but ipv6 = off (allowed: IPv4 rules)", rule);
    }
    if ((*host && inet_pton(AF_INET6, host, &f->host_addr6) != 1) ||
        inet_pton(AF_INET6, guest, &f->guest_addr6) != 1) {
        return g_strdup_printf("rule '%s' is not valid (allowed: %s; an IPv6 rule names its "
                               "GUESTADDR)",
                               rule, HOSTFWD_ALLOWED);
    }
    if (!*host) {
        f->host_addr6 = in6addr_any;
    }
    problem = fwd_guest6_problem(cfg, &f->guest_addr6);
    if (problem) {
        return g_strdup_printf("rule '%s': guest address %s %s ipv6_prefix %s/%u (allowed: a "
                               "guest address of that prefix)",
                               rule, ip6_text(&f->guest_addr6).s, problem,
                               ip6_text(&cfg->prefix6).s, cfg->prefix6_len);
    }
    return NULL;
}

/* Both ends of an IPv4 rule into @f. Return: the problem, or NULL. */
static char *parse_fwd4(const UserConfig *cfg, const char *rule, const char *host,
                        const char *guest, UserFwd *f)
{
    const char *problem;

    if (!cfg->ipv4) {
        return g_strdup("needs IPv4, but ipv4 = off (allowed: hostfwd with ipv4 = on)");
    }
    f->host_addr.s_addr = htonl(INADDR_ANY);
    f->guest_addr = cfg->dhcp_start;
    if ((*host && inet_pton(AF_INET, host, &f->host_addr) != 1) ||
        (*guest && inet_pton(AF_INET, guest, &f->guest_addr) != 1)) {
        return g_strdup_printf("rule '%s' is not valid (allowed: %s)", rule, HOSTFWD_ALLOWED);
    }
    problem = ip4_station_problem(cfg, f->guest_addr);
    if (!problem &&
        (f->guest_addr.s_addr == cfg->host.s_addr || f->guest_addr.s_addr == cfg->dns.s_addr)) {
        problem = "is slirp's own address in";
    }
    if (problem) {
        return g_strdup_printf("rule '%s': guest address %s %s net %s/%u (allowed: a guest "
                               "address of that network)",
                               rule, ip4_text(f->guest_addr).s, problem, ip4_text(cfg->net).s,
                               cfg->prefix_len);
    }
    return NULL;
}

char *user_fwd_parse(const UserConfig *cfg, const char *rule, UserFwd *f)
{
    const char *colon = strchr(rule, ':');
    const char *dash = strchr(rule, '-');
    g_autofree char *proto = NULL, *host = NULL, *guest = NULL, *host_end = NULL;
    bool host6 = false, guest6 = false;

    memset(f, 0, sizeof(*f));
    f->text = g_strdup(rule);
    if (!colon || !dash || colon > dash || strchr(dash + 1, '-')) {
        return g_strdup_printf("rule '%s' is not valid (allowed: %s)", rule, HOSTFWD_ALLOWED);
    }
    proto = g_strndup(rule, colon - rule);
    if (strcmp(proto, "udp") != 0 && strcmp(proto, "tcp") != 0 && *proto) {
        return g_strdup_printf("rule '%s': protocol '%s' is not valid (allowed: tcp, udp)", rule,
                               proto);
    }
    f->udp = strcmp(proto, "udp") == 0;
    host_end = g_strndup(colon + 1, dash - colon - 1);
    if (!split_fwd_end(host_end, &host, &f->host_port, &host6) ||
        !split_fwd_end(dash + 1, &guest, &f->guest_port, &guest6)) {
        return g_strdup_printf("rule '%s' is not valid (allowed: %s)", rule, HOSTFWD_ALLOWED);
    }
    if (host6 != guest6 && (host6 || *host)) {
        return g_strdup_printf("rule '%s' mixes IPv4 and IPv6 (allowed: both ends of one "
                               "family)",
                               rule);
    }
    return guest6 ? parse_fwd6(cfg, rule, host, guest, f) : parse_fwd4(cfg, rule, host, guest, f);
}

bool user_fwd_same_host(const UserFwd *a, const UserFwd *b)
{
    return a->udp == b->udp && a->ipv6 == b->ipv6 && a->host_port == b->host_port &&
           (a->ipv6 ? !memcmp(&a->host_addr6, &b->host_addr6, sizeof(a->host_addr6))
                    : a->host_addr.s_addr == b->host_addr.s_addr);
}

char *user_fwd_host_text(const UserFwd *f)
{
    AddrText t = f->ipv6 ? ip6_text(&f->host_addr6) : ip4_text(f->host_addr);

    return g_strdup_printf(f->ipv6 ? "%s port [%s]:%u" : "%s port %s:%u", f->udp ? "UDP" : "TCP",
                           t.s, f->host_port);
}

static void parse_hostfwd(Check *c, UserConfig *cfg)
{
    const char *text = netbe_options_get_string(c->o, "hostfwd");
    g_auto(GStrv) rules = NULL;

    if (!text) {
        return;
    }
    rules = g_strsplit(text, ",", -1);
    cfg->fwds = g_new0(UserFwd, g_strv_length(rules));
    for (int i = 0; rules[i]; i++) {
        UserFwd *f = &cfg->fwds[cfg->nfwds];
        g_autofree char *problem = NULL;

        g_strstrip(rules[i]);
        if (!*rules[i]) {
            netbe_options_add_error(c->o, c->errors, "hostfwd",
                                    "empty rule (allowed: comma-separated rules %s)",
                                    HOSTFWD_ALLOWED);
            continue;
        }
        cfg->nfwds++;
        problem = user_fwd_parse(cfg, rules[i], f);
        if (problem) {
            netbe_options_add_error(c->o, c->errors, "hostfwd", "%s", problem);
            continue;
        }
        for (unsigned k = 0; k + 1 < cfg->nfwds; k++) {
            const UserFwd *g = &cfg->fwds[k];

            if (user_fwd_same_host(g, f)) {
                g_autofree char *where = user_fwd_host_text(f);

                netbe_options_add_error(c->o, c->errors, "hostfwd",
                                        "rules '%s' and '%s' listen on the same %s "
                                        "(allowed: one rule per host address and port)",
                                        g->text, f->text, where);
            }
        }
    }
}

bool user_config_parse(UserConfig *cfg, const NetbeOptions *o, GError **errp)
{
    Check c = {.o = o, .errors = g_string_new(NULL)};
    bool net_ok, ok;

    cfg->ipv4 = netbe_options_get_bool(o, "ipv4");
    cfg->ipv6 = netbe_options_get_bool(o, "ipv6");
    cfg->restricted = netbe_options_get_bool(o, "restrict");
    cfg->dhcp = netbe_options_get_bool(o, "dhcp");
    cfg->host_loopback = netbe_options_get_bool(o, "host_loopback");
    cfg->mtu = netbe_options_get_int(o, "mtu");
    if (!cfg->ipv4 && !cfg->ipv6) {
        netbe_options_add_error(c.o, c.errors, "ipv4",
                                "ipv4 and ipv6 are both off (allowed: at least one on)");
    }
    parse_net(&c, cfg, &net_ok);
    if (net_ok) {
        parse_ipv4_stations(&c, cfg);
    }
    parse_ipv6(&c, cfg);
    if (net_ok) {
        parse_hostfwd(&c, cfg); /* its rules are checked against both networks */
    }
    parse_names(&c, cfg);
    ok = c.errors->len == 0;
    if (!ok) {
        g_set_error_literal(errp, NETBE_CONFIG_ERROR, EINVAL, c.errors->str);
    }
    g_string_free(c.errors, true);
    return ok;
}

void user_config_clear(UserConfig *cfg)
{
    for (unsigned i = 0; i < cfg->nfwds; i++) {
        g_free(cfg->fwds[i].text);
    }
    g_free(cfg->fwds);
    g_strfreev(cfg->dnssearch);
    g_free(cfg->hostname);
    g_free(cfg->domainname);
    g_free(cfg->tftp);
    g_free(cfg->bootfile);
    memset(cfg, 0, sizeof(*cfg));
}
