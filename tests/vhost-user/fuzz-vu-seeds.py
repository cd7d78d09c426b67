#!/usr/bin/env python3
# fuzz-vu-seeds.py - write the seed corpus of fuzz-vu (tests/vhost-user/fuzz-vu-corpus):
# well-formed vhost-user sessions in fuzz-vu's record format, and a few broken ones.
import os
import struct
import sys

GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE, SET_LOG_BASE = 1, 2, 3, 4, 5, 6
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
SEND_RARP, GET_CONFIG = 19, 24
UVA = 0x7f0000000000
MEM = 4 << 20
FEATURES = (1 << 32) | (1 << 30) | (1 << 15) | (1 << 29) | (1 << 5) | (1 << 16)


def rec(request, payload=b"", fds=0, events=False, flags=1, last=False):
    """One record: ctl, le16 length, then the vhost-user message."""
    msg = struct.pack("<III", request, flags, len(payload)) + payload
    ctl = fds | (4 if events else 0) | (8 if last else 0)
    return struct.pack("<BH", ctl, len(msg)) + msg


def u64(v):
    return struct.pack("<Q", v)


def state(i, n):
    return struct.pack("<II", i, n)


def table(regions):
    return struct.pack("<II", len(regions), 0) + b"".join(
        struct.pack("<QQQQ", gpa, size, gpa + UVA, off) for gpa, size, off in regions)


def ring(i, base=0x10000):
    desc, avail, used = base + i * 0x4000, base + i * 0x4000 + 0x1000, base + i * 0x4000 + 0x2000
    return [rec(SET_VRING_NUM, state(i, 64)), rec(SET_VRING_BASE, state(i, 0)),
            rec(SET_VRING_ADDR, struct.pack("<IIQQQQ", i, 0, desc + UVA, used + UVA,
                                           avail + UVA, used)),
            rec(SET_VRING_CALL, u64(i), fds=1, events=True),
            rec(SET_VRING_KICK, u64(i), fds=1, events=True),
            rec(SET_VRING_ENABLE, state(i, 1))]


def negotiate(ack=False, regions=((0, MEM, 0),)):
    flags = 1 | (8 if ack else 0)
    out = [rec(GET_FEATURES), rec(GET_PROTOCOL_FEATURES),
           rec(SET_PROTOCOL_FEATURES, u64(0x20f if ack else 0x207)), rec(GET_QUEUE_NUM),
           rec(SET_OWNER, flags=flags), rec(SET_FEATURES, u64(FEATURES), flags=flags),
           rec(SET_MEM_TABLE, table(regions), fds=len(regions), flags=flags)]
    return out + ring(0) + ring(1)


seeds = {
    "session": negotiate() + [rec(GET_VRING_BASE, state(0, 0)), rec(GET_VRING_BASE, state(1, 0))],
    "session-reply-ack": negotiate(ack=True) + [rec(GET_CONFIG, struct.pack("<III", 0, 8, 0) + bytes(8))],
    "two-regions": negotiate(regions=((0, MEM // 2, 0), (0x100000000, MEM // 2, MEM // 2))),
    "log": negotiate() + [rec(SET_LOG_BASE, struct.pack("<QQ", 4096, 0), fds=1),
                          rec(SET_FEATURES, u64(FEATURES | 1 << 26))] + ring(0),
    "rarp-reset": negotiate() + [rec(SEND_RARP, bytes([0x52, 0x54, 0, 1, 2, 3, 0, 0])),
                                 rec(RESET_OWNER)] + negotiate(),
    "truncated": [rec(GET_FEATURES)[:9]],
    "bad-size": [rec(SET_FEATURES, b"\0" * 4)],
    "unknown": [rec(999)],
    "fds-nowhere": [rec(SET_FEATURES, u64(FEATURES), fds=3)],
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fuzz-vu-corpus")
os.makedirs(out, exist_ok=True)
for name, records in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"".join(records))
