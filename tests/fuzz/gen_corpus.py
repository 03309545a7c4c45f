#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpora tests/fuzz/corpus/<harness>/ (committed).

Each seed is a valid input in the harness's format (see the comment at the
top of tests/fuzz/fuzz_*.c): well-formed messages of every type, whole
honest migrations for the engines, QMP sessions, netlink replies of every
command. Run it again after changing a harness's input format:

    tests/fuzz/gen_corpus.py [DIR]      # default: tests/fuzz/corpus
"""
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")


def put(harness, name, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def be32(*v):
    return struct.pack(">" + "I" * len(v), *v)


def be64(v):
    return struct.pack(">Q", v)


def msg(mtype, data, repeat=1):
    return be32(len(data), mtype, repeat, 0) + data


# ---- fuzz_wire: every message type, private data, a reject -----------------
ERROR, READY, QEMU_FILE, BLK_REQ, BLK_RES, COMPRESS, REG_REQ, REG_RES, \
    REG_FIN, UNREG_REQ, UNREG_FIN, AUTH = range(2, 14)
W = "fuzz_wire"
put(W, "error", msg(ERROR, be32(1) + b"protocol error"))
put(W, "ready", msg(READY, be32(8)))
put(W, "qemu-file", msg(QEMU_FILE, b"\x5e" * 100))
put(W, "ram-blocks-req", msg(BLK_REQ, be64(1 << 20) + be32(0, 0) + be64(4 << 20) + be32(0, 0), 2))
put(W, "ram-blocks-res", msg(BLK_RES, be64(0x7f0000000000) + be32(0x1234, 0), 1))
put(W, "compress", msg(COMPRESS, be32(0, 0) + be64(4096) + be64(8192), 1))
put(W, "reg-req", msg(REG_REQ, be32(0, 0) + be32(0, 3) + be32(1, 1), 3))
put(W, "reg-res", msg(REG_RES, be32(0, 1, 0x55, 0) + be64(0x7f0000100000), 1))
put(W, "reg-finished", msg(REG_FIN, be32(3, 1) + be64(4096) + be64(0x5eed5eed5eed5eed)))
put(W, "unreg-req", msg(UNREG_REQ, be32(0, 2), 1))
put(W, "unreg-finished", msg(UNREG_FIN, be32(0, 2), 1))
put(W, "auth", msg(AUTH, b"\xa5" * 32))
put(W, "pd", be32(3, 3, 1 << 20, 32) + be64(0))
put(W, "pd-auth", be32(3, 7, 1 << 20, 32) + be64(64 << 20) + b"\x42" * 32)
put(W, "reject", be32(0x72646d67, 3, 2, 1 << 20) + b"chunk size mismatch")

# ---- fuzz_dest: setup, then records (generated source messages) ------------
D = "fuzz_dest"


def dhdr(nb=1, pages=(8, 4, 2), shift=0, budget=0, caps=2, flags=4, credits=30,
         present=0x55, threads=0, fill=0x77):
    # threads: byte 10 bit 0, the destination's --pin-threads (0 or 1)
    return bytes([nb - 1, pages[0], pages[1], pages[2], shift, budget, caps, flags,
                  credits, present, threads, fill])


def gen(t, *fields):
    return bytes([2, t]) + bytes(fields)


def gen16(t, v):
    return bytes([2, t]) + struct.pack(">H", v)


READY_ALL = b"\x06"
honest = (gen(0) + gen(1, 3, 0, 1, 2, 3) + READY_ALL + gen(3, 0, 0, 0, 8) +
          gen(2, 1, 0, 1) + gen16(4, 700) + READY_ALL + gen(5, 3))
put(D, "migration", dhdr() + honest)
put(D, "migration-3-blocks", dhdr(nb=3, shift=1) + gen(0) +
    gen(1, 7, 0, 1, 2, 3, 4, 5, 6, 7) + READY_ALL + gen(2, 3, 0, 1, 2, 3) +
    gen(1, 0, 5) + gen(3, 2, 0, 0, 1, 1, 0, 1, 2, 0, 0) + READY_ALL + gen16(4, 4000) +
    gen16(4, 9) + gen(5, 9))
put(D, "migration-pin-thread", dhdr(threads=1) + honest)
put(D, "migration-3-blocks-pin-thread", dhdr(nb=3, shift=1, threads=1) + gen(0) +
    gen(1, 7, 0, 1, 2, 3, 4, 5, 6, 7) + READY_ALL + gen(2, 3, 0, 1, 2, 3) +
    gen(1, 0, 5) + gen(3, 2, 0, 0, 1, 1, 0, 1, 2, 0, 0) + READY_ALL + gen16(4, 4000) +
    gen16(4, 9) + gen(5, 9))
put(D, "over-budget-pin-thread", dhdr(budget=1, threads=1) + gen(0) + gen(1, 1, 0, 1))
put(D, "pin-all", dhdr(caps=3, flags=4) + gen(0) + gen16(4, 20) + READY_ALL + gen(5, 1))
put(D, "auth", dhdr(caps=6, flags=5) + gen(6, 0) + honest)
put(D, "auth-wrong-then-second", dhdr(caps=6, flags=13) + gen(6, 1) + b"\x06" + gen(6, 0) + honest)
put(D, "raw-bad-then-error", dhdr() + gen(0) + b"\x01" + struct.pack(">H", 20) +
    msg(READY, be32(0))[:16] + b"\x00" * 4 + gen(7, 1, 5) + b"abcde")
put(D, "unregister-unknown", dhdr() + gen(0) + gen(2, 0, 3))
put(D, "over-budget", dhdr(budget=1) + gen(0) + gen(1, 1, 0, 1))

# ---- fuzz_source: setup, page bytes, records (honest destination) ----------
S = "fuzz_source"


def shdr(nb=1, pages=(8, 4, 2), shift=0, params=0x90, caps=0x07, dbudget=0, sbudget=0,
         credits=30, state=3, seed=1):
    return bytes([nb - 1, pages[0], pages[1], pages[2], shift, params, caps, dbudget,
                  sbudget, credits, state, seed])


def page_bytes(n, pattern=(0x05, 0x00, 0x41, 0x03, 0x07, 0x00, 0x91, 0x11)):
    return bytes(pattern[i % len(pattern)] for i in range(n))


drive = (b"\x06\x03" * 60)
put(S, "migration", shdr() + page_bytes(8) + drive)
put(S, "migration-3-blocks-budget", shdr(nb=3, pages=(9, 5, 3), shift=1, dbudget=2, sbudget=1) +
    page_bytes(17) + drive + b"\x06\x03" * 40)
put(S, "pin-all", shdr(params=0x91, caps=0x03) + page_bytes(8) + drive)
put(S, "auth", shdr(params=0x98, caps=0x06) + page_bytes(8) + drive)
put(S, "zero-scan-no-zero-range", shdr(params=0x92, caps=0x80) + page_bytes(8) + drive)
# A guest that writes while the migration runs; the VMM pauses by itself.
live = b""
for i in range(12):
    live += b"\x06\x03\x04" + struct.pack(">H", i * 5) + bytes([i * 17 & 0xff])
put(S, "live-writes", shdr(params=0x30) + page_bytes(8) + live + b"\x05" + drive)
put(S, "early-ack", shdr() + page_bytes(8) + b"\x06\x06\x01\x00\x20" +
    msg(REG_FIN, be32(0, 2) + be64(0)) + drive)
put(S, "mutated-answer", shdr() + page_bytes(8) + b"\x06\x0a\x00\x13\x01" + drive)

# ---- fuzz_qmp: a pace byte, then the VMM's bytes ---------------------------
Q = "fuzz_qmp"
session = (b'{"execute":"qmp_capabilities"}\n'
           b'{"execute":"migrate-set-parameters","arguments":{"downtime-limit":300,'
           b'"max-bandwidth":1250000000,"max-iterations":30,"chunk-size":2097152,'
           b'"pin-budget":67108864,"pin-all":false,"on-max-iterations":"fail",'
           b'"auth-secret":"0123456789abcdef","pause-timeout":30000},"id":7}\n'
           b'{"execute":"query-migrate-parameters","id":{"a":[1,2.5,null]}}\n'
           b'{"execute":"migrate","arguments":{"uri":"rdma:198.18.0.2:4000"}}\n'
           b'{"execute":"migrate-continue","arguments":{"paused_at_us":12345}}')
put(Q, "session", b"\x00" + session)
put(Q, "session-split", b"\x87" + session)
put(Q, "errors", b"\x05" + b'{"execute":1}\n[1]\n{"a":1}{"b":2}\n{"execute":"x","foo":1}\n'
    b'{"execute":"migrate-set-parameters","arguments":{"chunk-size":3}}\n'
    b'{"execute":"migrate-set-parameters","arguments":{"pin-budget":4096,"chunk-size":8192}}\n'
    b'  \n{"execute":"x"  \x00 }\nnull\n{"exec')
# 20 times 3500 bytes without a newline: one line over the 65536-byte limit.
put(Q, "overlong", b"\x40" + b'{"execute":"' + b"a" * 3500)
put(Q, "overlong-then-command", b"\x40" + b"a" * 3500 + b'\n{"execute":"qmp_capabilities"}\n' + b"b" * 3400)

# ---- fuzz_nl: calls, each with the datagrams of its reply ------------------
N = "fuzz_nl"
FAMILY = 0x1F
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI = 2


def nla(t, payload):
    n = 4 + len(payload)
    return struct.pack("<HH", n, t) + payload + b"\x00" * ((4 - n % 4) % 4)


def u32(t, v):
    return nla(t, struct.pack("<I", v))


def u64(t, v):
    return nla(t, struct.pack("<Q", v))


def nlstr(t, s):
    return nla(t, s + b"\x00")


def genl(cmd, attrs, flags=0, mtype=FAMILY):
    body = bytes([cmd, 1, 0, 0]) + attrs
    return struct.pack("<IHHII", 16 + len(body), mtype, flags, 0, 0) + body


def ack(err=0, flags=0):
    body = struct.pack("<i", err) + struct.pack("<IHHII", 16, FAMILY, 5, 0, 0)
    return struct.pack("<IHHII", 16 + len(body), NLMSG_ERROR, flags | 0x100, 0, 0) + body


def done(err=0):
    return struct.pack("<IHHII", 20, NLMSG_DONE, NLM_F_MULTI, 0, 0) + struct.pack("<i", err)


def dgram(data, patch=1):
    return struct.pack(">H", len(data)) + bytes([patch]) + data


def region_attrs(i):
    return (u32(3, i) + nlstr(4, b"vm%d" % i) + u64(5, 1 << 30) + u32(6, 100) +
            nla(7, b"\x01") + u64(8, 0) + u32(9, 42) + u64(10, 5) + u64(11, 4) +
            u64(12, 3) + u64(13, 0))


version = bytes([0]) + dgram(genl(1, u32(1, 3) + nlstr(2, b"0.1.0")) + ack())
region = bytes([1]) + dgram(genl(2, region_attrs(1)) + ack())
dump = (bytes([2]) + dgram(genl(2, region_attrs(1), NLM_F_MULTI) +
                           genl(2, region_attrs(2), NLM_F_MULTI)) + dgram(done()))
rset = bytes([3]) + dgram(ack())
bm = struct.pack("<Q", 0x8000000000000005)
dirty = (bytes([4, 0, 63]) + dgram(genl(4, u64(14, 0) + u64(15, 64) + u64(12, 3) +
                                         nla(17, bm)) + ack()))
dirty_dump = (bytes([4 | 8, 1, 0]) + dgram(genl(4, u64(14, 0) + u64(15, 24832) +
                                                u64(12, 1) + nla(17, b"\x01" + b"\x00" * (388 * 8 - 1)),
                                                NLM_F_MULTI)) +
              dgram(genl(4, u64(14, 24832) + u64(15, 1) + u64(12, 0) + nla(17, b"\x00" * 8),
                         NLM_F_MULTI)) + dgram(done()))
zero = bytes([5, 9]) + dgram(genl(5, u64(18, 7) + u64(19, 2)) + ack())
stats = bytes([6]) + dgram(genl(6, nla(20 | 0x8000, b"".join(u64(i, i * 10) for i in range(1, 11)))) + ack())
event = bytes([7]) + dgram(genl(7, u32(3, 4) + nlstr(4, b"vm4") + u64(5, 1 << 21)), 0)
event_wm = bytes([7]) + dgram(genl(9, u32(3, 4) + u64(12, 4096)), 0)
ext_body = struct.pack("<i", -22) + struct.pack("<IHHII", 16, FAMILY, 5, 0, 0) + nlstr(1, b"bad id")
err_extack = bytes([1]) + dgram(struct.pack("<IHHII", 16 + len(ext_body), NLMSG_ERROR, 0x200, 0, 0) +
                                ext_body)
put(N, "version", version)
put(N, "region", region)
put(N, "dump", dump)
put(N, "set", rset)
put(N, "dirty", dirty)
put(N, "dirty-dump", dirty_dump)
put(N, "zero-scan", zero)
put(N, "stats", stats)
put(N, "events", event + event_wm)
put(N, "error-extack", err_extack)
put(N, "all", version + region + dump + rset + dirty + zero + stats + event + err_extack)
