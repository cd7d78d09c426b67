/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pc-wire.h - netbe-plugin-check: the far end of an fd plugin's queue, where the check
 * writes the frames the backend must read and reads those the backend wrote. */
#ifndef NETBE_PC_WIRE_H
#define NETBE_PC_WIRE_H

#include "pc.h"

typedef enum PcWireKind {
    PC_WIRE_STREAM, /* the other end of a stream socket: frames with the plugin's prefix */
    PC_WIRE_PACKET, /* the other end of a datagram or seqpacket socket */
    PC_WIRE_ETHER,  /* an AF_PACKET socket on the TAP device's interface */
} PcWireKind;

/*
 * struct PcWire - the far end of queue 0
 * @fd:      the check's socket (-1: none)
 * @kind:    what it is
 * @framing: the plugin's stream framing (PC_WIRE_STREAM)
 * @what:    a description, for the report
 * @path:    a socket file the check bound (removed at close), or NULL
 */
typedef struct PcWire {
    int fd;
    PcWireKind kind;
    const NetbeStreamFraming *framing;
    char *what;
    char *path;
} PcWire;

/*
 * pc_wire_find() - reach the far end of @be's queue 0. A plugin that listens (a listening
 * socket among @new_fds, those opened by backend_connect) is connected to, and the queue fd
 * it then hands the core is waited for; a TAP's interface is brought up and watched.
 * Return: true with @w set; false with the reason in *why (g_free).
 */
bool pc_wire_find(NetbeRuntime *rt, NetbeBackend *be, GHashTable *before, PcWire *w, char **why);
void pc_wire_close(PcWire *w);
/* Write one frame (with the stream prefix). */
bool pc_wire_write(PcWire *w, const uint8_t *frame, size_t len);
/* Read frames for up to @ms until one starts with @frame's @len bytes (others are skipped). */
bool pc_wire_expect(PcWire *w, const uint8_t *frame, size_t len, int ms);

#endif /* NETBE_PC_WIRE_H */
