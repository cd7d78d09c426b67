#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# fuzz-seeds.py - write the seed corpus of fuzz-vq (tests/virtio/fuzz-corpus/): rings
# that are valid, and rings with each malformation the device must refuse.
import os
import struct
import sys

GPA = 0x10000
NEXT, WRITE, INDIRECT = 1, 2, 4


def image(q, descs, heads, avail_idx=None, extra=(), size=8192):
    mem = bytearray(size)
    for i, (addr, ln, fl, nx) in enumerate(descs):
        struct.pack_into('<QIHH', mem, 16 * i, addr, ln, fl, nx)
    avail = 16 * q
    struct.pack_into('<HH', mem, avail, 0, len(heads) if avail_idx is None else avail_idx)
    for i, h in enumerate(heads):
        struct.pack_into('<H', mem, avail + 4 + 2 * i, h)
    for off, blob in extra:
        mem[off:off + len(blob)] = blob
    return mem


def table(entries):
    return b''.join(struct.pack('<QIHH', *e) for e in entries)


def seed(flags, qlog, mem):
    return bytes([flags, qlog]) + bytes(mem)


D = GPA + 0x1000  # data area
seeds = {
    'tx-direct-indirect': seed(0b0111, 3, image(8, [
        (D, 12, NEXT, 1), (D + 12, 60, 0, 0), (D + 100, 100, 0, 0),
        (GPA + 0x1800, 32, INDIRECT, 0)], [0, 2, 3],
        extra=[(0x1800, table([(D, 12, NEXT, 1), (D + 200, 500, 0, 0)]))])),
    'rx-writable': seed(0b1001, 4, image(16, [
        (D, 1024, WRITE, 0), (D + 1024, 1024, WRITE, 0), (D + 2048, 12, WRITE | NEXT, 3),
        (D + 2060, 1500, WRITE, 0)], [0, 1, 2])),
    'rx-logged-split': seed(0b111001, 4, image(16, [
        (D, 1024, WRITE, 0), (GPA + 0x2ff0, 64, WRITE, 0), (D + 2048, 12, WRITE | NEXT, 3),
        (D + 2060, 1500, WRITE, 0)], [0, 1, 2], size=16384)),
    'ctrl-read-write': seed(0b1101, 2, image(4, [
        (D, 3, NEXT, 1), (D + 16, 1, WRITE, 0)], [0])),
    'loop': seed(0b0100, 3, image(8, [(D, 12, NEXT, 1), (D, 12, NEXT, 0)], [0])),
    'nested-indirect': seed(0b0110, 3, image(8, [(GPA + 0x1800, 16, INDIRECT, 0)], [0],
        extra=[(0x1800, table([(GPA + 0x1900, 16, INDIRECT, 0)]))])),
    'split-regions': seed(0b10111, 3, image(8, [(GPA + 0x100, 0x1800, 0, 0)], [0],
                                            size=16384)),
    'indirect-odd-address': seed(0b0111, 3, image(8, [(GPA + 0x1803, 32, INDIRECT, 0)], [0],
        extra=[(0x1803, table([(D, 12, NEXT, 1), (D + 12, 100, 0, 0)]))])),
    'avail-jump': seed(0b0100, 3, image(8, [(D, 12, 0, 0)], [0], avail_idx=40)),
    'outside': seed(0b0100, 3, image(8, [(0xfffffffffffffff0, 64, 0, 0),
                                         (0x100, 64, 0, 0)], [0, 1])),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'fuzz-corpus')
os.makedirs(out, exist_ok=True)
for name, blob in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(blob)
