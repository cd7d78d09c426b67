/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capture.h - pcap capture of a backend's frames, both directions, while an operator asks. */
#ifndef NETBE_CAPTURE_H
#define NETBE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>
#include "netbe/plugin.h"

typedef struct NetbeCapture NetbeCapture;

/*
 * netbe_capture_start() - write every frame @be passes from now on to the pcap file @path
 * (created or truncated, mode 0644, opened by this process with its own rights).
 * @max_frames:  stop after this many frames (0: no limit)
 * @max_seconds: stop after this long (0: no limit)
 * Return: false with @errp set when @be captures already (EBUSY), a limit is out of range
 * (EINVAL) or the file cannot be opened (its errno, with the uid it was opened as).
 */
bool netbe_capture_start(NetbeBackend *be, const char *path, uint64_t max_frames,
                         double max_seconds, GError **errp);

/* netbe_capture_stop() - close the file; @frames gets how many frames it holds (may be
 * NULL). No-op without a capture. */
void netbe_capture_stop(NetbeBackend *be, uint64_t *frames);

/* netbe_capture_path() / netbe_capture_frames() - the file of a running capture, and the
 * frames written to it so far (status). */
const char *netbe_capture_path(const NetbeCapture *c);
uint64_t netbe_capture_frames(const NetbeCapture *c);

/* netbe_capture_frame() - one frame of @len bytes in @iov (@iovcnt entries), the backend's
 * vnet header first: written without it, stamped now. Call only while be->capture is set. */
void netbe_capture_frame(NetbeBackend *be, const struct iovec *iov, int iovcnt, size_t len);

/* netbe_capture_peeked() / netbe_capture_consumed() - a frame lent by a peek is written when
 * the frontend takes it: remember where it is, then write it. */
void netbe_capture_peeked(NetbeBackend *be, unsigned queue, const void *frame);
void netbe_capture_consumed(NetbeBackend *be, unsigned queue, size_t len);

/* Write @frame (@len bytes) if a capture runs: one branch on a pointer when none does. */
#define NETBE_CAPTURE_BUF(be, frame, len)                                                          \
    do {                                                                                           \
        if (G_UNLIKELY((be)->capture)) {                                                           \
            struct iovec capture_iov_ = {(void *)(frame), (len)};                                  \
            netbe_capture_frame((be), &capture_iov_, 1, (len));                                    \
        }                                                                                          \
    } while (0)

#endif /* NETBE_CAPTURE_H */
