// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-framing.c - QEMU's stream framing (a 4-byte big-endian length per frame) for the core. */
#include <arpa/inet.h>
#include <string.h>
#include "sock-priv.h"

/* The length a peer announces; the core breaks the stream if it exceeds max_frame. */
static ssize_t sock_frame_len(const uint8_t *prefix)
{
    uint32_t be_len;

    memcpy(&be_len, prefix, SOCK_LEN_SIZE);
    return (ssize_t)ntohl(be_len);
}

static void sock_write_prefix(uint8_t *prefix, size_t len)
{
    uint32_t be_len = htonl((uint32_t)len);

    memcpy(prefix, &be_len, SOCK_LEN_SIZE);
}

/* As QEMU's -netdev stream / socket: a longer length means the framing is lost, and QEMU
 * drops the connection too. */
const NetbeStreamFraming sock_stream_framing = {
    .prefix_len = SOCK_LEN_SIZE,
    .max_frame = SOCK_FRAME_MAX,
    .frame_len = sock_frame_len,
    .write_prefix = sock_write_prefix,
};
