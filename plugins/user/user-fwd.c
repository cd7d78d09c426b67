// SPDX-License-Identifier: LGPL-2.1-or-later
/* user-fwd.c - the user backend's hostfwd listeners, and the hostfwd-add/del commands. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "user-fwd.h"

/* The host and guest ends of @f as socket addresses; Return: their length. */
static socklen_t fwd_sockaddrs(const UserFwd *f, struct sockaddr_storage *host,
                               struct sockaddr_storage *guest)
{
    memset(host, 0, sizeof(*host));
    memset(guest, 0, sizeof(*guest));
    if (f->ipv6) {
        *(struct sockaddr_in6 *)host = (struct sockaddr_in6){
            .sin6_family = AF_INET6, .sin6_port = htons(f->host_port), .sin6_addr = f->host_addr6};
        *(struct sockaddr_in6 *)guest = (struct sockaddr_in6){.sin6_family = AF_INET6,
                                                              .sin6_port = htons(f->guest_port),
                                                              .sin6_addr = f->guest_addr6};
        return sizeof(struct sockaddr_in6);
    }
    *(struct sockaddr_in *)host = (struct sockaddr_in){
        .sin_family = AF_INET, .sin_port = htons(f->host_port), .sin_addr = f->host_addr};
    *(struct sockaddr_in *)guest = (struct sockaddr_in){
        .sin_family = AF_INET, .sin_port = htons(f->guest_port), .sin_addr = f->guest_addr};
    return sizeof(struct sockaddr_in);
}

/* libslirp's flags for @f: UDP, and an IPv6 listener that takes IPv6 only. */
static int fwd_flags(const UserFwd *f)
{
    return (f->udp ? SLIRP_HOSTFWD_UDP : 0) | (f->ipv6 ? SLIRP_HOSTFWD_V6ONLY : 0);
}

bool user_fwd_open(Slirp *slirp, const UserFwd *f, GError **errp)
{
    struct sockaddr_storage host, guest;
    socklen_t len = fwd_sockaddrs(f, &host, &guest);

    errno = 0;
    if (slirp_add_hostxfwd(slirp, (struct sockaddr *)&host, len, (struct sockaddr *)&guest, len,
                           fwd_flags(f)) < 0) {
        int err = errno ? errno : EINVAL;
        char addr[INET6_ADDRSTRLEN];

        inet_ntop(f->ipv6 ? AF_INET6 : AF_INET,
                  f->ipv6 ? (const void *)&f->host_addr6 : (const void *)&f->host_addr, addr,
                  sizeof(addr));
        g_set_error(errp, NETBE_BACKEND_ERROR, err,
                    "hostfwd '%s': cannot listen on %s %s%s%s:%u: %s", f->text,
                    f->udp ? "UDP" : "TCP", f->ipv6 ? "[" : "", addr, f->ipv6 ? "]" : "",
                    f->host_port, g_strerror(err));
        return false;
    }
    return true;
}

static void fwd_close(Slirp *slirp, const UserFwd *f)
{
    struct sockaddr_storage host, guest;
    socklen_t len = fwd_sockaddrs(f, &host, &guest);

    slirp_remove_hostxfwd(slirp, (struct sockaddr *)&host, len, fwd_flags(f));
}

/* The rule of @cfg listening where @f does, or -1. */
static int fwd_find(const UserConfig *cfg, const UserFwd *f)
{
    for (unsigned i = 0; i < cfg->nfwds; i++) {
        if (user_fwd_same_host(&cfg->fwds[i], f)) {
            return (int)i;
        }
    }
    return -1;
}

static bool fwd_add(UserConfig *cfg, Slirp *slirp, UserFwd *f, GError **errp)
{
    int other = fwd_find(cfg, f);

    if (other >= 0) {
        g_autofree char *where = user_fwd_host_text(f);

        g_set_error(errp, NETBE_BACKEND_ERROR, EADDRINUSE,
                    "rule '%s' listens on the same %s as rule '%s' (hostfwd-del it first)", f->text,
                    where, cfg->fwds[other].text);
        return false;
    }
    if (slirp && !user_fwd_open(slirp, f, errp)) {
        return false;
    }
    cfg->fwds = g_renew(UserFwd, cfg->fwds, cfg->nfwds + 1);
    cfg->fwds[cfg->nfwds++] = *f;
    f->text = NULL; /* the list has it now */
    return true;
}

static bool fwd_del(UserConfig *cfg, Slirp *slirp, const UserFwd *f, GError **errp)
{
    int i = fwd_find(cfg, f);

    if (i < 0) {
        g_autofree char *where = user_fwd_host_text(f);

        g_set_error(errp, NETBE_BACKEND_ERROR, ENOENT, "no rule listens on %s", where);
        return false;
    }
    if (slirp) {
        fwd_close(slirp, &cfg->fwds[i]);
    }
    g_free(cfg->fwds[i].text);
    memmove(&cfg->fwds[i], &cfg->fwds[i + 1], (cfg->nfwds - i - 1) * sizeof(UserFwd));
    cfg->nfwds--;
    return true;
}

bool user_fwd_command(UserConfig *cfg, Slirp *slirp, const char *cmd, const char *arg,
                      GError **errp)
{
    bool add = strcmp(cmd, "hostfwd-add") == 0;
    /* hostfwd-del takes the host side alone, as QEMU's hostfwd_remove */
    g_autofree char *rule = !add && arg && !strchr(arg, '-')
                                ? g_strdup_printf("%s-%s:1", arg, strchr(arg, '[') ? "[::]" : "")
                                : g_strdup(arg ? arg : "");
    g_autofree char *problem = NULL;
    UserFwd f;
    bool ok;

    if (!add && strcmp(cmd, "hostfwd-del") != 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP, "no command '%s'", cmd);
        return false;
    }
    problem = user_fwd_parse(cfg, rule, &f);
    if (problem && (add || !strstr(problem, "guest address"))) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "%s", problem);
        g_free(f.text);
        return false;
    }
    ok = add ? fwd_add(cfg, slirp, &f, errp) : fwd_del(cfg, slirp, &f, errp);
    g_free(f.text);
    return ok;
}
