// SPDX-License-Identifier: LGPL-2.1-or-later
/* user-handover.c - the user backend's handover record: slirp's state and the options digest. */
#include <errno.h>
#include <string.h>
#include "user-handover.h"

/* Oldest slirp state version we accept: libslirp has written 4 since it split from QEMU. */
#define USER_STATE_VERSION_MIN 4

static void digest_addr(GString *s, const char *name, int family, const void *addr)
{
    char text[INET6_ADDRSTRLEN];

    inet_ntop(family, addr, text, sizeof(text));
    g_string_append_printf(s, "%s=%s\n", name, text);
}

char *user_config_digest(const UserConfig *c)
{
    GString *s = g_string_new(NULL);
    char *hex;

    /* one canonical line per option, so equal networks written differently agree */
    g_string_append_printf(s,
                           "ipv4=%d\nipv6=%d\nrestrict=%d\ndhcp=%d\nhost_loopback=%d\n"
                           "mtu=%u\nprefix_len=%u\nprefix6_len=%u\n",
                           c->ipv4, c->ipv6, c->restricted, c->dhcp, c->host_loopback, c->mtu,
                           c->prefix_len, c->prefix6_len);
    digest_addr(s, "net", AF_INET, &c->net);
    digest_addr(s, "mask", AF_INET, &c->mask);
    digest_addr(s, "host", AF_INET, &c->host);
    digest_addr(s, "dns", AF_INET, &c->dns);
    digest_addr(s, "dhcpstart", AF_INET, &c->dhcp_start);
    digest_addr(s, "ipv6-prefix", AF_INET6, &c->prefix6);
    digest_addr(s, "ipv6-host", AF_INET6, &c->host6);
    digest_addr(s, "ipv6-dns", AF_INET6, &c->dns6);
    for (unsigned i = 0; i < c->nfwds; i++) {
        const UserFwd *f = &c->fwds[i];

        g_string_append_printf(s, "hostfwd=%s:%u", f->udp ? "udp" : "tcp", f->host_port);
        digest_addr(s, "", AF_INET, &f->host_addr);
        g_string_append_printf(s, "to=%u", f->guest_port);
        digest_addr(s, "", AF_INET, &f->guest_addr);
    }
    hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, s->str, s->len);
    g_string_free(s, true);
    return hex;
}

static ssize_t state_write(const void *buf, size_t len, void *opaque)
{
    g_byte_array_append(opaque, buf, (guint)len);
    return (ssize_t)len;
}

void user_handover_write(NetbeMigWriter *w, const UserConfig *c, Slirp *slirp)
{
    GByteArray *state = g_byte_array_new();
    g_autofree char *digest = user_config_digest(c);

    slirp_state_save(slirp, state_write, state);
    netbe_mig_put_string(w, digest);
    netbe_mig_put_u32(w, (uint32_t)slirp_state_version());
    netbe_mig_put_bytes(w, state->data, state->len);
    g_byte_array_unref(state);
}

bool user_handover_read(NetbeMigReader *r, uint32_t format, const UserConfig *c, UserHandover *h,
                        GError **errp)
{
    g_autofree char *theirs = NULL, *ours = user_config_digest(c);
    uint32_t version;
    const void *state;

    if (format == USER_HANDOVER_FORMAT &&
        (!netbe_mig_get_string(r, &theirs) || !netbe_mig_get_u32(r, &version) ||
         !netbe_mig_get_bytes(r, &state, &h->len))) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "malformed user record (expected "
                    "options digest, slirp state version and state)");
        return false;
    }
    if (format != USER_HANDOVER_FORMAT) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "user record format %u, this plugin "
                    "reads %d",
                    format, USER_HANDOVER_FORMAT);
        return false;
    }
    if (strcmp(theirs, ours) != 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "the source's network options differ "
                    "from this netdev's (net, host, dns, dhcpstart, ipv6 prefix, hostfwd, "
                    "restrict, dhcp, mtu...): options digest %.12s there, %.12s here",
                    theirs, ours);
        return false;
    }
    if (version < USER_STATE_VERSION_MIN || version > (uint32_t)slirp_state_version()) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "slirp state version %u, libslirp %s "
                    "loads %d..%d",
                    version, slirp_version_string(), USER_STATE_VERSION_MIN, slirp_state_version());
        return false;
    }
    if (h->len == 0 || h->len > USER_STATE_MAX) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "slirp state of %u bytes (allowed: "
                    "1..%d)",
                    h->len, USER_STATE_MAX);
        return false;
    }
    /* a non-zero first byte starts a guestfwd connection: slirp would size buffers from
     * the stream, and it refuses them anyway without a guestfwd rule (we offer none) */
    if (((const uint8_t *)state)[0] != 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "the slirp state carries guestfwd "
                    "connections; this netdev has no guestfwd");
        return false;
    }
    h->version = (int)version;
    h->state = state;
    return true;
}

/* slirp_state_load()'s reader over the record's bytes; it notes a read past the end. */
typedef struct StateCursor {
    const uint8_t *data;
    size_t len, off;
    bool short_read;
} StateCursor;

static ssize_t state_read(void *buf, size_t len, void *opaque)
{
    StateCursor *c = opaque;
    size_t n = MIN(len, c->len - c->off);

    if (n < len) {
        c->short_read = true; /* libslirp reads zeros then and would carry on */
    }
    memcpy(buf, c->data + c->off, n);
    c->off += n;
    return (ssize_t)n;
}

bool user_handover_apply(Slirp *slirp, const UserHandover *h, GError **errp)
{
    StateCursor cur = {.data = h->state, .len = h->len};
    int ret = slirp_state_load(slirp, h->version, state_read, &cur);

    if (ret < 0 || cur.short_read || cur.off != cur.len) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ret < 0 ? -ret : EPROTO,
                    "libslirp %s refused "
                    "the slirp state (%u bytes, version %d): %s",
                    slirp_version_string(), h->len, h->version,
                    ret < 0          ? g_strerror(-ret)
                    : cur.short_read ? "it is truncated"
                                     : "bytes left over");
        return false;
    }
    return true;
}
