// SPDX-License-Identifier: GPL-2.0-or-later
/* test-user-options.c - the user backend's option checks: every bad value is refused at
 * load with "FILE:LINE: [netdev.net0] key: problem (allowed: ...)", check mode opens
 * nothing, and a hostfwd port in use fails the connect with a clear error. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netns.h"
#include "plugin-dir.h"
#include "user-net.h"

/* Load @options (lines 3..) into [netdev.net0] type = user. Return: the error text, or
 * NULL if the config loaded. */
static char *load_error(const char *options, NetbeRuntimeFlags flags)
{
    g_autofree char *dir = user_net_plugin_dir();
    g_autofree char *config = g_strdup_printf("[netdev.net0]\ntype = user\n%s\n", options);
    NetbeRuntime *rt = netbe_runtime_new(NULL, flags);
    GError *err = NULL;
    char *msg = NULL;

    netbe_runtime_set_plugin_path(rt, dir);
    if (!netbe_runtime_load_config_string(rt, config, "opts.ini", &err)) {
        msg = g_strdup(err->message);
        g_error_free(err);
    }
    netbe_runtime_free(rt);
    test_plugin_dir_free(g_steal_pointer(&dir));
    return msg;
}

typedef struct BadOption {
    const char *options;
    const char *message; /* a whole line of the error text */
} BadOption;

static const BadOption bad_options[] = {
    {"net = 10.0.2.0",
     "opts.ini:3: [netdev.net0] net: '10.0.2.0' is not valid (allowed: an "
     "IPv4 network ADDRESS/LENGTH with LENGTH 8..30, or ADDRESS/NETMASK, like 10.0.2.0/24)"},
    {"net = 10.0.2.0/31", "opts.ini:3: [netdev.net0] net: '10.0.2.0/31' is not valid "
                          "(allowed: an IPv4 network ADDRESS/LENGTH with LENGTH 8..30, or "
                          "ADDRESS/NETMASK, like 10.0.2.0/24)"},
    {"net = 10.0.2.1/24", "opts.ini:3: [netdev.net0] net: '10.0.2.1/24' has host bits set "
                          "(allowed: the network address, 10.0.2.0/24)"},
    {"host = 10.0.3.2", "opts.ini:3: [netdev.net0] host: 10.0.3.2 is outside net 10.0.2.0/24 "
                        "(allowed: an address of 10.0.2.0/24 from 10.0.2.1 to 10.0.2.254)"},
    {"host = gateway", "opts.ini:3: [netdev.net0] host: 'gateway' is not an IPv4 address "
                       "(allowed: an address of 10.0.2.0/24)"},
    {"dns = 10.0.2.255",
     "opts.ini:3: [netdev.net0] dns: 10.0.2.255 is the broadcast address "
     "of net 10.0.2.0/24 (allowed: an address of 10.0.2.0/24 from 10.0.2.1 to 10.0.2.254)"},
    {"dhcpstart = 10.0.2.0",
     "opts.ini:3: [netdev.net0] dhcpstart: 10.0.2.0 is the network "
     "address of net 10.0.2.0/24 (allowed: an address of 10.0.2.0/24 from 10.0.2.1 to "
     "10.0.2.254)"},
    {"net = 10.0.2.0/29",
     "opts.ini:1: [netdev.net0] dhcpstart: 10.0.2.15 (the default) is "
     "outside net 10.0.2.0/29 (allowed: an address of 10.0.2.0/29 from 10.0.2.1 to "
     "10.0.2.6)"},
    {"dns = 10.0.2.2", "opts.ini:3: [netdev.net0] dns: 10.0.2.2 is both the gateway and the "
                       "DNS address (allowed: two different addresses)"},
    {"dhcpstart = 10.0.2.245",
     "opts.ini:3: [netdev.net0] dhcpstart: 10.0.2.245 leaves room "
     "for 10 of the 16 DHCP leases before the broadcast address 10.0.2.255 (allowed: "
     "10.0.2.239 at the latest)"},
    {"dhcpstart = 10.0.2.1",
     "opts.ini:3: [netdev.net0] dhcpstart: the DHCP leases "
     "10.0.2.1..10.0.2.16 include the gateway address 10.0.2.2 (allowed: a range of 16 "
     "addresses that leaves out host and dns)"},
    {"ipv4 = off\nipv6 = off", "opts.ini:3: [netdev.net0] ipv4: ipv4 and ipv6 are both off "
                               "(allowed: at least one on)"},
    {"ipv6_prefix = fec0::",
     "opts.ini:3: [netdev.net0] ipv6_prefix: 'fec0::' is not valid "
     "(allowed: an IPv6 prefix ADDRESS/LENGTH with LENGTH 1..126, like fec0::/64)"},
    {"ipv6_prefix = fec0::1/64", "opts.ini:3: [netdev.net0] ipv6_prefix: 'fec0::1/64' has "
                                 "host bits set (allowed: the prefix itself, fec0::/64)"},
    {"ipv6_host = fd00::2", "opts.ini:3: [netdev.net0] ipv6_host: fd00::2 is outside "
                            "ipv6_prefix fec0::/64 (allowed: an address in that prefix)"},
    {"ipv6_dns = 10.0.2.3", "opts.ini:3: [netdev.net0] ipv6_dns: '10.0.2.3' is not an IPv6 "
                            "address (allowed: an address in fec0::/64)"},
    {"hostname = my_guest!",
     "opts.ini:3: [netdev.net0] hostname: 'my_guest!' is not a valid "
     "name (allowed: labels of letters, digits and '-', 1..63 bytes each, 253 bytes in all)"},
    {"dnssearch = good.test, -bad.test",
     "opts.ini:3: [netdev.net0] dnssearch: '-bad.test' is "
     "not a valid domain (allowed: comma-separated domains, labels of letters, digits and "
     "'-', 1..63 bytes each, 253 bytes in all)"},
    {"hostfwd = tcp:127.0.0.1:2222",
     "opts.ini:3: [netdev.net0] hostfwd: rule "
     "'tcp:127.0.0.1:2222' is not valid (allowed: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:"
     "GUESTPORT, IPv4 addresses or IPv6 ones in brackets, ports 1..65535)"},
    {"hostfwd = sctp::2222-:22", "opts.ini:3: [netdev.net0] hostfwd: rule 'sctp::2222-:22': "
                                 "protocol 'sctp' is not valid (allowed: tcp, udp)"},
    {"hostfwd = tcp::70000-:22",
     "opts.ini:3: [netdev.net0] hostfwd: rule 'tcp::70000-:22' is "
     "not valid (allowed: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, IPv4 "
     "addresses or IPv6 ones in brackets, ports 1..65535)"},
    {"hostfwd = tcp::2222-:0",
     "opts.ini:3: [netdev.net0] hostfwd: rule 'tcp::2222-:0' is not "
     "valid (allowed: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, IPv4 addresses or "
     "IPv6 ones in brackets, ports 1..65535)"},
    {"hostfwd = tcp:localhost:2222-:22",
     "opts.ini:3: [netdev.net0] hostfwd: rule "
     "'tcp:localhost:2222-:22' is not valid (allowed: [tcp|udp]:[HOSTADDR]:HOSTPORT-"
     "[GUESTADDR]:GUESTPORT, IPv4 addresses or IPv6 ones in brackets, ports 1..65535)"},
    {"hostfwd = tcp::2222-10.0.3.5:22",
     "opts.ini:3: [netdev.net0] hostfwd: rule "
     "'tcp::2222-10.0.3.5:22': guest address 10.0.3.5 is outside net 10.0.2.0/24 (allowed: a "
     "guest address of that network)"},
    {"hostfwd = tcp::2222-10.0.2.2:22",
     "opts.ini:3: [netdev.net0] hostfwd: rule "
     "'tcp::2222-10.0.2.2:22': guest address 10.0.2.2 is slirp's own address in net "
     "10.0.2.0/24 (allowed: a guest address of that network)"},
    {"hostfwd = tcp::2222-:22, udp::2222-:22, tcp::2222-:23",
     "opts.ini:3: [netdev.net0] "
     "hostfwd: rules 'tcp::2222-:22' and 'tcp::2222-:23' listen on the same TCP port "
     "0.0.0.0:2222 (allowed: one rule per host address and port)"},
    {"hostfwd = tcp::2222-:22,,",
     "opts.ini:3: [netdev.net0] hostfwd: empty rule (allowed: "
     "comma-separated rules [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, IPv4 "
     "addresses or IPv6 ones in brackets, ports 1..65535)"},
    {"ipv4 = off\nhostfwd = tcp::2222-:22", "opts.ini:4: [netdev.net0] hostfwd: needs IPv4, "
                                            "but ipv4 = off (allowed: hostfwd with ipv4 = on)"},
    {"hostfwd = tcp:[::1]:2222-10.0.2.15:22",
     "opts.ini:3: [netdev.net0] hostfwd: rule 'tcp:[::1]:2222-10.0.2.15:22' mixes IPv4 and IPv6 "
     "(allowed: both ends of one family)"},
    {"hostfwd = tcp:[::1]:2222-[fd00::15]:22",
     "opts.ini:3: [netdev.net0] hostfwd: rule 'tcp:[::1]:2222-[fd00::15]:22': guest address "
     "fd00::15 is outside ipv6_prefix fec0::/64 (allowed: a guest address of that prefix)"},
    {"hostfwd = tcp:[::1]:2222-[fec0::15]:22, tcp:[::1]:2222-[fec0::16]:22",
     "opts.ini:3: [netdev.net0] hostfwd: rules 'tcp:[::1]:2222-[fec0::15]:22' and "
     "'tcp:[::1]:2222-[fec0::16]:22' listen on the same TCP port [::1]:2222 (allowed: one rule "
     "per host address and port)"},
    {"ipv6 = off\nhostfwd = tcp:[::1]:2222-[fec0::15]:22",
     "opts.ini:4: [netdev.net0] hostfwd: rule 'tcp:[::1]:2222-[fec0::15]:22' is IPv6, but "
     "ipv6 = off (allowed: IPv4 rules)"},
    {"tftp = /nonexistent/netbe-tftp",
     "opts.ini:3: [netdev.net0] tftp: "
     "'/nonexistent/netbe-tftp' is not a directory (allowed: an existing directory)"},
    {"mtu = 50", "opts.ini:3: [netdev.net0] mtu: '50' is not valid (allowed: an integer "
                 "68..65521)"},
    {"restrict = maybe", "opts.ini:3: [netdev.net0] restrict: 'maybe' is not valid (allowed: "
                         "on, off)"},
};

/* Each bad option is refused with its exact message line. Fails if a bad value is
 * accepted, or the message misses the file, line, section, key or what is allowed. */
static void test_bad_option_is_refused_with_its_line(gconstpointer data)
{
    const BadOption *b = data;
    g_autofree char *msg = load_error(b->options, NETBE_RUNTIME_CHECK_ONLY);
    g_auto(GStrv) lines = NULL;

    g_assert_nonnull(msg);
    lines = g_strsplit(msg, "\n", -1);
    if (!g_strv_contains((const char *const *)lines, b->message)) {
        g_test_message("got: %s", msg);
        g_test_message("want line: %s", b->message);
        g_test_fail();
    }
}

/* Every problem of a section is reported in one run. Fails if checking stops at the
 * first. */
static void test_all_problems_are_reported_at_once(void)
{
    g_autofree char *msg = load_error("host = 10.9.9.9\nhostfwd = tcp:1.2.3.4:99999-:22\n"
                                      "hostname = -x",
                                      NETBE_RUNTIME_CHECK_ONLY);

    g_assert_nonnull(msg);
    g_assert_nonnull(strstr(msg, "opts.ini:3: [netdev.net0] host:"));
    g_assert_nonnull(strstr(msg, "opts.ini:4: [netdev.net0] hostfwd:"));
    g_assert_nonnull(strstr(msg, "opts.ini:5: [netdev.net0] hostname:"));
}

/* Good configurations load: another network with derived defaults, and a full one.
 * Fails if a valid value is refused. */
static void test_good_options_load(void)
{
    static const char *const good[] = {
        "",
        "net = 192.168.100.0/24",
        "net = 172.16.0.0/12\nhost = 172.16.0.1\ndns = 172.16.0.53\ndhcpstart = 172.16.1.0",
        "net = 10.0.2.0/255.255.255.0",
        "ipv6 = off\nhostfwd = tcp:127.0.0.1:2222-:22, udp::5353-10.0.2.20:53, ::8080-:80\n"
        "restrict = on\nhostname = vm-1.example\ndomainname = example\n"
        "dnssearch = example, corp.example\ntftp = /tmp\nbootfile = pxelinux.0\nmtu = 9000",
        "ipv4 = off\nipv6_prefix = fd00:1::/48\nipv6_host = fd00:1::1\nipv6_dns = fd00:1::53",
        "dhcp = off\ndhcpstart = 10.0.2.250",
        "hostfwd = tcp:[::1]:2222-[fec0::15]:22, udp:[]:5353-[fec0::16]:53, tcp::2223-:22",
        "ipv4 = off\nhostfwd = tcp:[::]:2222-[fec0::15]:22",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *msg = load_error(good[i], NETBE_RUNTIME_CHECK_ONLY);

        if (msg) {
            g_test_message("config %zu refused: %s", i, msg);
            g_test_fail();
        }
    }
}

/* Check mode runs init only: the hostfwd port stays free. Fails if init binds. */
static void test_check_mode_binds_nothing(void)
{
    uint16_t port;
    int fd = user_net_loopback_socket(SOCK_STREAM, &port);
    g_autofree char *opts = NULL, *msg = NULL;

    close(fd);
    opts = g_strdup_printf("hostfwd = tcp:127.0.0.1:%u-:22", port);
    msg = load_error(opts, NETBE_RUNTIME_CHECK_ONLY);
    g_assert_null(msg);
    /* the same port once more, to prove it was and is free */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(
        bind(fd,
             (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET,
                                                      .sin_port = htons(port),
                                                      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)},
             sizeof(struct sockaddr_in)),
        ==, 0);
    close(fd);
}

/* A hostfwd port in use fails the connect with the rule, the address and the errno, and
 * leaves no fd behind. Fails on a vague message or a leaked socket. */
static void test_hostfwd_port_in_use_fails_connect(void)
{
    uint16_t port;
    int busy = user_net_loopback_socket(SOCK_STREAM, &port);
    int before = test_count_fds(0);
    g_autofree char *opts = g_strdup_printf("hostfwd = tcp:127.0.0.1:%u-:22", port);
    g_autofree char *msg = load_error(opts, NETBE_RUNTIME_DEFAULT);
    g_autofree char *want = g_strdup_printf(
        "opts.ini:1: [netdev.net0]: netdev 'net0' (user): hostfwd 'tcp:127.0.0.1:%u-:22': "
        "cannot listen on TCP 127.0.0.1:%u: Address already in use",
        port, port);

    g_assert_nonnull(msg);
    if (!strstr(msg, want)) {
        g_test_message("got: %s", msg);
        g_test_message("want: %s", want);
        g_test_fail();
    }
    g_assert_cmpint(test_count_fds(0), ==, before);
    close(busy);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_options); i++) {
        g_autofree char *path = g_strdup_printf("/user-options/bad/%zu", i);

        g_test_add_data_func(path, &bad_options[i], test_bad_option_is_refused_with_its_line);
    }
    g_test_add_func("/user-options/all_problems_are_reported_at_once",
                    test_all_problems_are_reported_at_once);
    g_test_add_func("/user-options/good_options_load", test_good_options_load);
    g_test_add_func("/user-options/check_mode_binds_nothing", test_check_mode_binds_nothing);
    g_test_add_func("/user-options/hostfwd_port_in_use_fails_connect",
                    test_hostfwd_port_in_use_fails_connect);
    return g_test_run();
}
