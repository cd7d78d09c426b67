// SPDX-License-Identifier: LGPL-2.1-or-later
/* mig-buf.c - tagged fields and fds of one migration record: the writer and the reader. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "mig-priv.h"

enum {
    MIG_TAG_U8 = 1,
    MIG_TAG_U32,
    MIG_TAG_U64,
    MIG_TAG_BYTES,
    MIG_TAG_STRING,
    MIG_TAG_FD,
};

struct NetbeMigWriter {
    GByteArray *buf;
    GArray *fds; /* int, borrowed */
};

struct NetbeMigReader {
    uint8_t *buf;
    size_t len, pos;
    int *fds; /* owned until taken; taken ones are set to -1 */
    unsigned nfds, next_fd;
};

NetbeMigWriter *netbe_mig_writer_new(void)
{
    NetbeMigWriter *w = g_new0(NetbeMigWriter, 1);

    w->buf = g_byte_array_new();
    w->fds = g_array_new(false, false, sizeof(int));
    return w;
}

void netbe_mig_writer_free(NetbeMigWriter *w)
{
    if (w) {
        g_byte_array_unref(w->buf);
        g_array_unref(w->fds);
        g_free(w);
    }
}

/* Append a tag and @len raw bytes (little-endian integers). */
static void put_raw(NetbeMigWriter *w, uint8_t tag, const void *data, size_t len)
{
    g_byte_array_append(w->buf, &tag, 1);
    g_byte_array_append(w->buf, data, len);
}

void netbe_mig_put_u8(NetbeMigWriter *w, uint8_t v)
{
    put_raw(w, MIG_TAG_U8, &v, 1);
}

void netbe_mig_put_u32(NetbeMigWriter *w, uint32_t v)
{
    uint32_t le = GUINT32_TO_LE(v);

    put_raw(w, MIG_TAG_U32, &le, 4);
}

void netbe_mig_put_u64(NetbeMigWriter *w, uint64_t v)
{
    uint64_t le = GUINT64_TO_LE(v);

    put_raw(w, MIG_TAG_U64, &le, 8);
}

static void put_counted(NetbeMigWriter *w, uint8_t tag, const void *data, uint32_t len)
{
    uint32_t le = GUINT32_TO_LE(len);

    put_raw(w, tag, &le, 4);
    g_byte_array_append(w->buf, data, len);
}

void netbe_mig_put_bytes(NetbeMigWriter *w, const void *data, uint32_t len)
{
    put_counted(w, MIG_TAG_BYTES, data, len);
}

void netbe_mig_put_string(NetbeMigWriter *w, const char *s)
{
    put_counted(w, MIG_TAG_STRING, s, strlen(s));
}

bool netbe_mig_put_fd(NetbeMigWriter *w, int fd)
{
    if (w->fds->len >= NETBE_MIG_MAX_FDS || fd < 0) {
        return false;
    }
    put_raw(w, MIG_TAG_FD, NULL, 0);
    g_array_append_val(w->fds, fd);
    return true;
}

const uint8_t *netbe_mig_writer_data(const NetbeMigWriter *w, size_t *len)
{
    *len = w->buf->len;
    return w->buf->data;
}

const int *netbe_mig_writer_fds(const NetbeMigWriter *w, unsigned *count)
{
    *count = w->fds->len;
    return (const int *)w->fds->data;
}

NetbeMigReader *netbe_mig_reader_new(const void *data, size_t len, const int *fds, unsigned nfds)
{
    NetbeMigReader *r = g_new0(NetbeMigReader, 1);

    r->buf = g_memdup2(data, len);
    r->len = len;
    r->fds = g_memdup2(fds, nfds * sizeof(int));
    r->nfds = nfds;
    return r;
}

void netbe_mig_reader_free(NetbeMigReader *r)
{
    if (!r) {
        return;
    }
    for (unsigned i = 0; i < r->nfds; i++) {
        if (r->fds[i] >= 0) {
            close(r->fds[i]);
        }
    }
    g_free(r->fds);
    g_free(r->buf);
    g_free(r);
}

/* Take a tag and @len bytes. Return: pointer to them, or NULL if absent or mistagged. */
static const uint8_t *get_raw(NetbeMigReader *r, uint8_t tag, size_t len)
{
    const uint8_t *p;

    if (r->pos >= r->len || r->buf[r->pos] != tag || r->len - r->pos - 1 < len) {
        return NULL;
    }
    p = r->buf + r->pos + 1;
    r->pos += 1 + len;
    return p;
}

bool netbe_mig_get_u8(NetbeMigReader *r, uint8_t *v)
{
    const uint8_t *p = get_raw(r, MIG_TAG_U8, 1);

    if (p) {
        *v = *p;
    }
    return p != NULL;
}

bool netbe_mig_get_u32(NetbeMigReader *r, uint32_t *v)
{
    const uint8_t *p = get_raw(r, MIG_TAG_U32, 4);
    uint32_t le;

    if (!p) {
        return false;
    }
    memcpy(&le, p, 4);
    *v = GUINT32_FROM_LE(le);
    return true;
}

bool netbe_mig_get_u64(NetbeMigReader *r, uint64_t *v)
{
    const uint8_t *p = get_raw(r, MIG_TAG_U64, 8);
    uint64_t le;

    if (!p) {
        return false;
    }
    memcpy(&le, p, 8);
    *v = GUINT64_FROM_LE(le);
    return true;
}

static bool get_counted(NetbeMigReader *r, uint8_t tag, const void **data, uint32_t *len)
{
    size_t start = r->pos;
    const uint8_t *p = get_raw(r, tag, 4);
    uint32_t n;

    if (!p) {
        return false;
    }
    memcpy(&n, p, 4);
    n = GUINT32_FROM_LE(n);
    if (r->len - r->pos < n) {
        r->pos = start; /* truncated: leave the reader where it was */
        return false;
    }
    *data = r->buf + r->pos;
    *len = n;
    r->pos += n;
    return true;
}

bool netbe_mig_get_bytes(NetbeMigReader *r, const void **data, uint32_t *len)
{
    return get_counted(r, MIG_TAG_BYTES, data, len);
}

bool netbe_mig_get_string(NetbeMigReader *r, char **s)
{
    const void *data;
    uint32_t len;

    if (!get_counted(r, MIG_TAG_STRING, &data, &len) || memchr(data, '\0', len)) {
        return false;
    }
    *s = g_strndup(data, len);
    return true;
}

int netbe_mig_get_fd(NetbeMigReader *r)
{
    int fd;

    if (r->next_fd >= r->nfds || !get_raw(r, MIG_TAG_FD, 0)) {
        return -1;
    }
    fd = r->fds[r->next_fd];
    r->fds[r->next_fd++] = -1;
    return fd;
}

unsigned mig_reader_fd_count(const NetbeMigReader *r)
{
    return r->nfds;
}

bool netbe_mig_reader_at_end(const NetbeMigReader *r)
{
    return r->pos == r->len && r->next_fd == r->nfds;
}
