// SPDX-License-Identifier: LGPL-2.1-or-later
/* capture.c - pcap capture of a backend's frames, both directions, while an operator asks. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include "capture.h"
#include "netbe-priv.h"

/* Bytes of a frame written at most: pcap's classic snap length; longer frames are cut, their
 * length is kept. */
#define CAPTURE_SNAPLEN 65535
/* The file is flushed this often while a capture runs (tcpdump -r sees recent frames). */
#define CAPTURE_FLUSH_MS 1000
/* Longest --seconds: eleven days. */
#define CAPTURE_MAX_SECONDS 1e6

struct NetbeCapture {
    NetbeBackend *be;
    char *path;
    pcap_t *pcap; /* a dead handle: the link type and snap length of the file */
    pcap_dumper_t *dump;
    uint64_t frames, max_frames;
    GSource *deadline; /* max_seconds */
    GSource *flush;
    GSource *done;       /* max_frames reached: stop from the loop, not from the data path */
    const void **peeked; /* per queue: the frame a peek lent */
    unsigned npeeked;    /* entries of @peeked (the queues when it started) */
    uint8_t buf[CAPTURE_SNAPLEN]; /* a frame in pieces, gathered */
};

static GSource *capture_timer(NetbeCapture *c, GSource *s, GSourceFunc fn)
{
    g_source_set_callback(s, fn, c, NULL);
    g_source_attach(s, c->be->rt->ctx);
    return s;
}

static void capture_drop_source(GSource **s)
{
    if (*s) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

static gboolean capture_done(gpointer data)
{
    NetbeCapture *c = data;

    g_debug("netdev '%s': capture to %s stopped after %" G_GUINT64_FORMAT " frames", c->be->id,
            c->path, c->frames);
    netbe_capture_stop(c->be, NULL);
    return G_SOURCE_REMOVE;
}

static gboolean capture_flush_due(gpointer data)
{
    NetbeCapture *c = data;

    if (pcap_dump_flush(c->dump) < 0) {
        g_warning("netdev '%s': capture to %s: write failed (%s); the capture stops", c->be->id,
                  c->path, g_strerror(errno));
        netbe_capture_stop(c->be, NULL);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* Open @path for writing as this process. Return: the stream, or NULL with @errp set. */
static FILE *capture_open(NetbeBackend *be, const char *path, GError **errp)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
    FILE *f;

    if (fd < 0) {
        int err = errno;

        g_set_error(errp, NETBE_BACKEND_ERROR, err,
                    "netdev '%s': capture: cannot open '%s' for writing: %s (this process runs "
                    "as uid %u: the file, or its directory, must be writable by it)",
                    be->id, path, g_strerror(err), (unsigned)geteuid());
        return NULL;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "netdev '%s': capture: %s: %s", be->id, path,
                    g_strerror(errno));
        close(fd);
    }
    return f;
}

bool netbe_capture_start(NetbeBackend *be, const char *path, uint64_t max_frames,
                         double max_seconds, GError **errp)
{
    NetbeCapture *c;
    FILE *f;

    if (be->capture) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBUSY,
                    "netdev '%s': a capture to %s runs already (stop it first)", be->id,
                    be->capture->path);
        return false;
    }
    if (!(max_seconds >= 0 && max_seconds <= CAPTURE_MAX_SECONDS)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "netdev '%s': capture: %g seconds (allowed: 0 for no limit, up to %.0f)",
                    be->id, max_seconds, CAPTURE_MAX_SECONDS);
        return false;
    }
    f = capture_open(be, path, errp);
    if (!f) {
        return false;
    }
    c = g_new0(NetbeCapture, 1);
    c->be = be;
    c->path = g_strdup(path);
    c->max_frames = max_frames;
    c->npeeked = be->nqueues;
    c->peeked = g_new0(const void *, be->nqueues);
    c->pcap = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
    c->dump = c->pcap ? pcap_dump_fopen(c->pcap, f) : NULL;
    if (!c->dump || pcap_dump_flush(c->dump) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EIO, "netdev '%s': capture: cannot write %s: %s",
                    be->id, path, c->pcap ? pcap_geterr(c->pcap) : "no pcap handle");
        if (!c->dump) {
            fclose(f);
        }
        be->capture = c;
        netbe_capture_stop(be, NULL);
        return false;
    }
    if (max_seconds > 0) {
        c->deadline =
            capture_timer(c, g_timeout_source_new((guint)ceil(max_seconds * 1000)), capture_done);
    }
    c->flush = capture_timer(c, g_timeout_source_new(CAPTURE_FLUSH_MS), capture_flush_due);
    be->capture = c;
    g_debug("netdev '%s': capturing to %s", be->id, path);
    return true;
}

void netbe_capture_stop(NetbeBackend *be, uint64_t *frames)
{
    NetbeCapture *c = be->capture;

    if (!c) {
        return;
    }
    be->capture = NULL;
    capture_drop_source(&c->deadline);
    capture_drop_source(&c->flush);
    capture_drop_source(&c->done);
    if (c->dump) {
        pcap_dump_close(c->dump); /* flushes and closes the file */
    }
    if (c->pcap) {
        pcap_close(c->pcap);
    }
    if (frames) {
        *frames = c->frames;
    }
    g_free(c->peeked);
    g_free(c->path);
    g_free(c);
}

void netbe_capture_frame(NetbeBackend *be, const struct iovec *iov, int iovcnt, size_t len)
{
    NetbeCapture *c = be->capture;
    size_t skip = be->vnet_hdr_len, copied = 0;
    struct pcap_pkthdr h;
    const u_char *data = NULL;

    if (len <= skip || (c->max_frames && c->frames >= c->max_frames)) {
        return;
    }
    gettimeofday(&h.ts, NULL);
    h.len = (bpf_u_int32)(len - skip);
    h.caplen = MIN(h.len, CAPTURE_SNAPLEN);
    for (int i = 0; i < iovcnt && copied < h.caplen; i++) {
        const uint8_t *p = iov[i].iov_base;
        size_t n = iov[i].iov_len;

        if (skip >= n) {
            skip -= n;
            continue;
        }
        p += skip;
        n -= skip;
        skip = 0;
        if (copied == 0 && n >= h.caplen) {
            data = p; /* all of it in one piece: written from where it is */
            break;
        }
        n = MIN(n, h.caplen - copied);
        memcpy(c->buf + copied, p, n);
        copied += n;
    }
    if (!data) {
        if (copied < h.caplen) {
            return; /* shorter than its length says: nothing sensible to write */
        }
        data = c->buf;
    }
    pcap_dump((u_char *)c->dump, &h, data);
    if (++c->frames == c->max_frames && !c->done) {
        c->done = capture_timer(c, g_idle_source_new(), capture_done);
    }
}

const char *netbe_capture_path(const NetbeCapture *c)
{
    return c->path;
}

uint64_t netbe_capture_frames(const NetbeCapture *c)
{
    return c->frames;
}

void netbe_capture_peeked(NetbeBackend *be, unsigned queue, const void *frame)
{
    if (queue < be->capture->npeeked) {
        be->capture->peeked[queue] = frame;
    }
}

void netbe_capture_consumed(NetbeBackend *be, unsigned queue, size_t len)
{
    const void *frame = queue < be->capture->npeeked ? be->capture->peeked[queue] : NULL;

    if (frame) {
        be->capture->peeked[queue] = NULL;
        struct iovec iov = {(void *)frame, len};

        netbe_capture_frame(be, &iov, 1, len);
    }
}

/* The backend an id names: a netdev (also a hub's port), or the netdev of a device. */
static NetbeBackend *capture_target(NetbeRuntime *rt, const char *id, GError **errp)
{
    NetbeBackend *be = netbe_runtime_find_backend(rt, id);

    for (guint i = 0; !be && i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);

        if (strcmp(dev->id, id) == 0) {
            be = dev->backend;
        }
    }
    if (!be) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOENT,
                    "capture: no netdev or device '%s' (allowed: a [netdev.ID] or [device.ID] id)",
                    id);
    }
    return be;
}

bool netbe_runtime_capture_start(NetbeRuntime *rt, const char *id, const char *path,
                                 uint64_t max_frames, double max_seconds, GError **errp)
{
    NetbeBackend *be = capture_target(rt, id, errp);

    return be && netbe_capture_start(be, path, max_frames, max_seconds, errp);
}

bool netbe_runtime_capture_stop(NetbeRuntime *rt, const char *id, uint64_t *frames, GError **errp)
{
    NetbeBackend *be = capture_target(rt, id, errp);

    if (be && !be->capture) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOENT, "netdev '%s': no capture runs", be->id);
        return false;
    }
    if (be) {
        netbe_capture_stop(be, frames);
    }
    return be != NULL;
}

bool netbe_runtime_capture_running(NetbeRuntime *rt, const char *id, uint64_t *frames)
{
    NetbeBackend *be = capture_target(rt, id, NULL);

    if (be && be->capture && frames) {
        *frames = be->capture->frames;
    }
    return be && be->capture;
}
