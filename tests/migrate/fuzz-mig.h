/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-mig.h - the input format of fuzz-mig: which fds a chunk of the fake source's stream carries.
 */
#ifndef NETBE_TEST_FUZZ_MIG_H
#define NETBE_TEST_FUZZ_MIG_H

/* Bits of a chunk's fdspec byte; the fds go in this order. */
enum {
    FUZZ_FD_LOCK,      /* a serving lock (sealed memfd), held by the fake source */
    FUZZ_FD_FREE_LOCK, /* the same, not held: a destination may take it and start */
    FUZZ_FD_EVENTFD,
    FUZZ_FD_UNIX_STREAM, /* one end of a connected UNIX stream pair */
    FUZZ_FD_UNIX_DGRAM,
    FUZZ_FD_UNIX_LISTENER, /* a listening UNIX stream socket (abstract address) */
    FUZZ_FD_UDP,           /* an unbound IPv4 UDP socket */
    FUZZ_FD_PIPE,          /* the read end of a pipe */
};

#endif /* NETBE_TEST_FUZZ_MIG_H */
