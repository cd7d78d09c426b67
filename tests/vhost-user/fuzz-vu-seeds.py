#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""fuzz-vu-seeds.py - write the seed corpus of fuzz-vu: a VMM's real start-up sequence
(features, memory table, rings, dirty log, RARP, stop) and bent versions of it.
Usage: fuzz-vu-seeds.py DIR"""
import os
import struct
import sys

MEM, MEM2, SMALL, EVT, EVT2, PIPE, SOCK, LOG = (1 << b for b in range(8))
UVA = 0x7F0000000000
MIB = 1 << 20
FEATURES = (1 << 32) | (1 << 30) | (1 << 29) | (1 << 28) | (1 << 15)


def msg(req, payload=b"", flags=1):
    return struct.pack("<III", req, flags, len(payload)) + payload


def chunk(data, fds=0):
    return struct.pack("<BH", fds, len(data)) + data


def u64(v):
    return struct.pack("<Q", v)


def state(i, n):
    return struct.pack("<II", i, n)


def mem_table(regions):
    out = struct.pack("<II", len(regions), 0)
    for gpa, size, uva, off in regions:
        out += struct.pack("<QQQQ", gpa, size, uva, off)
    return out


def ring(i):
    base = UVA + 0x10000 * (i + 1)
    return [chunk(msg(8, state(i, 64))), chunk(msg(10, state(i, 0))),
            chunk(msg(9, struct.pack("<IIQQQQ", i, 0, base, base + 0x2000, base + 0x1000, 0))),
            chunk(msg(12, u64(i)), EVT), chunk(msg(13, u64(i)), EVT2),
            chunk(msg(18, state(i, 1)))]


def startup():
    seq = [chunk(msg(1)), chunk(msg(2, u64(FEATURES))), chunk(msg(15)),
           chunk(msg(16, u64(0x20F))), chunk(msg(3)), chunk(msg(17)),
           chunk(msg(5, mem_table([(0, MIB, UVA, 0)]), flags=9), MEM)]
    for i in range(2):
        seq += ring(i)
    return seq


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    good = startup()
    seeds = {
        "startup": good,
        "startup-log-rarp-stop": good + [
            chunk(msg(24, struct.pack("<III", 0, 12, 0) + bytes(12))),
            chunk(msg(6, struct.pack("<QQ", 64, 0)), LOG),
            chunk(msg(2, u64(FEATURES | 1 << 26))),
            chunk(msg(19, bytes([0x52, 0x54, 0, 1, 2, 3, 0, 0]))),
            chunk(msg(11, state(0, 0))), chunk(msg(11, state(1, 0))),
            chunk(msg(34))],
        "mem-small-fd": good[:6] + [chunk(msg(5, mem_table([(0, MIB, UVA, 0)])), SMALL)],
        "mem-pipe-fd": good[:6] + [chunk(msg(5, mem_table([(0, MIB, UVA, 0)])), PIPE)],
        "mem-overlap": good[:6] + [chunk(msg(5, mem_table([(0, MIB, UVA, 0),
                                                            (4096, MIB, UVA + MIB, 0)])),
                                         MEM | MEM2)],
        "mem-two-regions": good[:6] + [chunk(msg(5, mem_table([(0, MIB // 2, UVA, 0),
                                                                (MIB, MIB // 2, UVA + MIB,
                                                                 MIB // 2)])), MEM | MEM2)]
                           + ring(0),
        "ring-outside": good[:7] + [chunk(msg(8, state(0, 64))),
                                    chunk(msg(9, struct.pack("<IIQQQQ", 0, 0, 1, 2, 3, 0)))],
        "ring-index-big": good[:7] + [chunk(msg(8, state(200, 64)))],
        "kick-nofd": good[:7] + [chunk(msg(12, u64(0x100)))],
        "too-many-fds": [chunk(msg(1), 0xFF)],
        "header-only": [chunk(struct.pack("<II", 5, 1))],
        "huge-size": [chunk(struct.pack("<III", 5, 1, 0xFFFFFFFF))],
        "unknown": [chunk(msg(99)), chunk(msg(1, flags=4))],
        "config-bad": good[:3] + [chunk(msg(24, struct.pack("<III", 250, 12, 0) + bytes(12)))],
    }
    for name, chunks in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"".join(chunks))


if __name__ == "__main__":
    main()
