#!/usr/bin/env python3
"""fuzz/seeds.py: (re)write the committed seed corpora in fuzz/corpus/.

    python3 fuzz/seeds.py [TRACE]

TRACE is the recorded Linux-guest session (default
/work/shared/spec/traces/linux-guest-qemu-remote.txt); its proxy->remote
messages without fds become wire seeds. The rest are built here: SCRIPTS
as SeaBIOS and Linux write them, common CDBs, the shipped policies.
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
TRACE = sys.argv[1] if len(sys.argv) > 1 else \
    "/work/shared/spec/traces/linux-guest-qemu-remote.txt"


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- the wire ------------------------------------------------------------

def hdr(cmd, size):
    return struct.pack("<IIQ", cmd, 0, size)


def cfg(cmd, addr, val, ln):
    return hdr(cmd, 12) + struct.pack("<IIi", addr, val, ln)


def bar(cmd, addr, val, size, mem):
    return hdr(cmd, 24) + struct.pack("<QQIB3x", addr, val, size, mem)


def reset():
    return hdr(7, 0)


def trace_messages(path):
    msgs = []
    num = r"(0x[0-9a-f]+|-?\d+)"
    for line in open(path):
        if not line.startswith("proxy->remote"):
            continue
        m = re.search(r"cmd=(\d+) size=\d+ fds=(\d+)", line)
        cmd = int(m.group(1))
        kv = dict((k, int(v, 0)) for k, v in
                  re.findall(r"(\w+)=" + num, line.split("fds=")[1]))
        if cmd in (2, 3):
            msgs.append(cfg(cmd, kv["addr"], kv["val"] & 0xffffffff, kv["len"]))
        elif cmd in (4, 5):
            # "size=" appears twice (message, access): the access is last
            size = int(re.findall(r"size=(\d+)", line)[-1])
            msgs.append(bar(cmd, kv["addr"], kv["val"], size, kv["memory"]))
        elif cmd == 7:
            msgs.append(reset())
    return msgs


# SCRIPTS encodings (first dword), as proxy/lsi_driver.c writes them.
PH_DO, PH_DI, PH_CMD, PH_ST, PH_MO, PH_MI = 0, 1, 2, 3, 6, 7


def MOVE(ph, n): return 0x08000000 | ph << 24 | n
def MOVE_TI(ph): return 0x18000000 | ph << 24


SELECT_ATN = lambda t: 0x41000000 | t << 16
SELECT_ATN_TI = 0x43000000
WAIT_DISC = 0x48000000
WAIT_RESEL = 0x50000000
CLEAR_ACK = 0x60000040
JUMP = 0x80080000
def JUMP_IF(ph): return 0x800a0000 | ph << 24
RETURN = 0x90080000
INT = 0x98080000
INTFLY = 0x98180000
def MEMMOVE(n): return 0xc0000000 | n
def LOAD(reg, n): return 0xe1000000 | reg << 16 | n
def STORE(reg, n): return 0xe0000000 | reg << 16 | n
def LOAD_DSA(reg, n): return 0xf1000000 | reg << 16 | n
def RMW_ADD(reg, v): return 0x7e000000 | reg << 16 | v << 8


def words(ws):
    return b"".join(struct.pack("<I", w & 0xffffffff) for w in ws)


def seabios_script(base, buf, data, cdb_len, dlen, din=True):
    """SeaBIOS's polled script, with its buffers at buf: msgout at +0,
    CDB at +0x10, status at +0x20, msgin at +0x24."""
    return words([
        SELECT_ATN(0), base + 8 * 11,
        MOVE(PH_MO, 1), buf,
        MOVE(PH_CMD, cdb_len), buf + 0x10,
        JUMP_IF(PH_ST), base + 8 * 5,
        MOVE(PH_DI if din else PH_DO, dlen), data,
        MOVE(PH_ST, 1), buf + 0x20,
        MOVE(PH_MI, 1), buf + 0x24,
        CLEAR_ACK, 0,
        WAIT_DISC, 0,
        INT, 1,
        INT, 2,
        INT, 3,
    ])


def wire_seeds():
    msgs = trace_messages(TRACE)
    # windows of the real session: start-up, SeaBIOS commands, Linux
    # loading its SCRIPTS into BAR2, Linux commands, the reset
    starts = [0, 150, 300, 600, 1000, 1400, 2000, 3000, 4500]
    for i, s in enumerate(starts):
        data = b"".join(msgs[s:s + 110])
        out("wire", "trace-%02d" % i, data)
    bars = [cfg(3, 0, 0, 4), cfg(2, 0x10, 0xc000, 4),
            cfg(2, 0x14, 0xfebfe000, 4), cfg(2, 0x18, 0xfebfc000, 4),
            cfg(2, 0x04, 0x0007, 2)]
    # a whole INQUIRY, its script and buffers in SCRIPTS RAM (as Linux)
    sram = 0xfebfc000
    script = seabios_script(sram, sram + 0x200, 0x1000, 6, 36)
    bufs = bytes([0x80]) + bytes(15) + bytes([0x12, 0, 0, 0, 36, 0])
    m = list(bars)
    for off in range(0, len(script), 4):
        m.append(bar(4, sram + off, struct.unpack_from("<I", script, off)[0],
                     4, 1))
    bufs += bytes(-len(bufs) % 4)
    for off in range(0, len(bufs), 4):
        m.append(bar(4, sram + 0x200 + off,
                     struct.unpack_from("<I", bufs, off)[0], 4, 1))
    m += [bar(4, 0xfebfe004, 7, 1, 1), bar(4, 0xfebfe039, 0x3d, 1, 1),
          bar(4, 0xfebfe02c, sram, 4, 1), bar(5, 0xfebfe014, 0, 1, 1),
          bar(5, 0xfebfe00c, 0, 1, 1), bar(5, 0xfebfe030, 0, 4, 1),
          reset(), bar(5, 0xfebfe014, 0, 1, 1)]
    out("wire", "inquiry-from-sram", b"".join(m))
    # an infinite loop in SCRIPTS RAM, then register reads and a reset
    m = list(bars) + [bar(4, sram, JUMP, 4, 1), bar(4, sram + 4, sram, 4, 1),
                      bar(4, 0xfebfe02c, sram, 4, 1)]
    m += [bar(5, 0xfebfe014, 0, 1, 1)] * 20 + [reset()]
    out("wire", "loop-in-sram", b"".join(m))
    # DSP at zeroed guest RAM: empty opcodes (CVE-2019-12068)
    m = list(bars) + [bar(4, 0xc02c, 0x100, 4, 0)] + \
        [bar(5, 0xc014, 0, 1, 0)] * 10
    out("wire", "empty-opcodes", b"".join(m))
    out("wire", "header-short", hdr(3, 12)[:7])
    out("wire", "size-huge", hdr(5, 2**64 - 1))
    out("wire", "unknown-cmd", hdr(8, 0) + hdr(0xffffffff, 0))
    out("wire", "ret-from-peer", hdr(1, 8) + bytes(8))
    out("wire", "sysmem-no-fds", hdr(0, 192) + bytes(192))
    out("wire", "bad-sizes", b"".join(bars + [
        bar(5, 0xfebfe034, 0, 3, 1), bar(4, 0xc034, 0, 16, 0),
        cfg(3, 253, 0, 4), cfg(2, 0x40, 0, -1)]))


def reply_seeds():
    """[split] + what a remote sends back."""
    ret = lambda v: hdr(1, 8) + struct.pack("<Q", v)
    out("reply", "ret", b"\0" + ret(0x00121000))
    out("reply", "ret-split-3", b"\x03" + ret(0xffffffffffffffff))
    out("reply", "ret-split-17", b"\x11" + ret(7) + ret(8))
    out("reply", "reset-ret", b"\0" + hdr(1, 0))
    out("reply", "trailing", b"\0" + ret(1) + b"\x01")
    out("reply", "too-big", b"\0" + hdr(1, 2**32))
    out("reply", "truncated", b"\x05" + ret(1)[:20])
    out("reply", "not-ret", b"\0" + cfg(3, 0, 0, 4))


# ---- SCRIPTS ---------------------------------------------------------------

REGION = 64 << 10


def segments(where, data):
    """Non-zero runs of data as the target's memory segments."""
    out_b = b""
    for m in re.finditer(rb"(?s)[^\0].{0,4000}?(?=\0{16}|$)", data):
        at = m.start() & ~3
        chunk = data[at:m.end()]
        out_b += struct.pack("<BHH", where, at // 4, len(chunk)) + chunk
    return out_b


def scripts_seed(name, flags, dsp, regs, ram, sram=b"", high=b""):
    """high: the 64 KiB below 4 GiB (where 2)."""
    h = bytes([flags, 0, 0, 0]) + struct.pack("<I", dsp)
    pairs = b"".join(bytes([r, v]) for r, v in regs)
    pairs += bytes([0x00, 0xc0]) * ((56 - len(pairs)) // 2)  # SCNTL0 reset
    assert len(pairs) == 56
    body = segments(0, ram) + segments(1, sram) + segments(2, high)
    out("scripts", name, h + pairs + body)


def place(ram, at, data):
    ram = ram.ljust(at, b"\0")
    return ram[:at] + data + ram[at + len(data):]


def scripts_seeds():
    enable = [(0x04, 7), (0x39, 0x3d), (0x40, 0x8f), (0x41, 0x04)]
    buf, data = 0x800, 0x1000
    cdbs = {
        "inquiry": (bytes([0x12, 0, 0, 0, 36, 0]), 36, True),
        "read10": (bytes([0x28, 0, 0, 0, 0, 8, 0, 0, 4, 0]), 2048, True),
        "write10": (bytes([0x2a, 0, 0, 0, 0, 9, 0, 0, 2, 0]), 1024, False),
        "tur": (bytes(6), 0, True),
        "readcap": (bytes([0x25] + [0] * 9), 8, True),
    }
    for n, (cdb, dlen, din) in cdbs.items():
        ram = seabios_script(0, buf, data, len(cdb), dlen or 1, din)
        ram = place(ram, buf, bytes([0x80]))
        ram = place(ram, buf + 0x10, cdb)
        scripts_seed("seabios-" + n, 0, 0, enable, ram)
    # Linux-like: table-indirect select and moves from a DSA table
    dsa = 0x2000
    s = words([
        SELECT_ATN_TI | 0x00, 8 * 12,
        MOVE_TI(PH_MO), 0x08,
        MOVE_TI(PH_CMD), 0x10,
        JUMP_IF(PH_ST), 8 * 8,
        LOAD_DSA(0x1c, 4), 0x38,        # TEMP <- data entry
        RETURN, 0,
        MOVE_TI(PH_DI), 0x40,
        JUMP, 8 * 8,
        MOVE_TI(PH_ST), 0x18,
        MOVE_TI(PH_MI), 0x20,
        CLEAR_ACK, 0,
        WAIT_DISC, 0,
        INT, 1,
        INTFLY, 0,
    ])
    t = struct.pack("<II", 0 << 16, 0) + struct.pack("<II", 1, buf) + \
        struct.pack("<II", 10, buf + 0x10) + struct.pack("<II", 1, buf + 0x20) + \
        struct.pack("<II", 1, buf + 0x24) + bytes(0x18 - 8 * 5 + 0x38 - 0x18) + \
        struct.pack("<I", 8 * 6) + bytes(4) + struct.pack("<II", 4096, data)
    ram = place(s, buf, bytes([0xc0, 0x20, 5]))
    ram = place(ram, buf + 0x10, bytes([0x28, 0, 0, 0, 0, 1, 0, 0, 8, 0]))
    ram = place(ram, dsa, t)
    scripts_seed("linux-table-read", 0, 0,
                 enable + [(0x10, dsa & 0xff), (0x11, dsa >> 8)], ram)
    # the same table, 64-bit table-indirect moves (CCNTL1 EN64TIBMV)
    scripts_seed("linux-table-read-64", 0, 0,
                 enable + [(0x10, dsa & 0xff), (0x11, dsa >> 8),
                           (0x57, 0x02)], ram)
    scripts_seed("linux-table-read-40", 0, 0,
                 enable + [(0x10, dsa & 0xff), (0x11, dsa >> 8),
                           (0x57, 0x06)], ram)
    scripts_seed("jump-self", 2, 0, enable, words([JUMP, 0]))
    scripts_seed("empty-opcodes", 0, 0x100, enable, b"")
    scripts_seed("int-loop", 2, 0, enable, words([INT, 0x55, JUMP, 0]))
    scripts_seed("memmove-self", 0, 0, enable, words([
        MEMMOVE(8), 0x40, 0x0c, INT, 1]) + bytes(0x40 - 20) +
        words([INT, 0x77]))
    scripts_seed("memmove-overlap", 0, 0, enable, words([
        MEMMOVE(0x1000), 0x1000, 0x1004, MEMMOVE(0x1000), 0x2004, 0x2000,
        INT, 1]))
    scripts_seed("memmove-max", 0, 0, enable, words([
        MEMMOVE(0xffffff), 0x1000, 0x8000, INT, 1]))
    scripts_seed("load-store", 0, 0, enable + [(0x10, 0, )], words([
        LOAD(0x34, 4), 0x100, RMW_ADD(0x34, 1), 0, STORE(0x34, 4), 0x104,
        LOAD(0xfe, 4), 0x100, STORE(0xfc, 7), 0x108,
        LOAD_DSA(0x5c, 4), 0xfffffc, INT, 1]))
    scripts_seed("wait-resel-sigp", 4, 0, enable, words([
        WAIT_RESEL, 0x10, INT, 1, INT, 2]))
    scripts_seed("select-self", 0, 0, enable, words([
        SELECT_ATN(7), 0x10, INT, 1, INT, 2]))
    scripts_seed("dma-to-bars", 0, 0, enable, words([
        MEMMOVE(4), 0xfebfe014, 0x100, MEMMOVE(4), 0x100, 0xfebfe02c,
        MEMMOVE(4), 0x100, 0xfebfc000, INT, 1]))
    scripts_seed("wrap-32", 3, 0xfffffff8, enable, b"", b"",
                 bytes(REGION - 8) + words([JUMP, 0x10]))
    s = seabios_script(0xfebfc000, 0xfebfc200, 0x1000, 6, 36)
    sram = place(s, 0x200, bytes([0x80]))
    sram = place(sram, 0x210, bytes([0x12, 0, 0, 0, 36, 0]))
    scripts_seed("sram-inquiry", 1, 0xfebfc000, enable, b"", sram)
    scripts_seed("abort-msgs", 2, 0, enable, words([
        SELECT_ATN(0), 0x40, MOVE(PH_MO, 8), 0x100, INT, 1]) +
        bytes(0x100 - 24) + bytes([0x80, 0x06, 0x0d, 0x0e, 0x0c, 0x06, 0, 0]))
    scripts_seed("ext-msg", 0, 0, enable, words([
        SELECT_ATN(0), 0x40, MOVE(PH_MO, 0xffffff), 0x100, INT, 1]) +
        bytes(0x100 - 24) + bytes([0x80, 0x01, 0xff, 0x05]) + bytes(300))


# ---- CDBs ------------------------------------------------------------------

MARK = b"\xffCDB"


def rec(cdb, out_data=b"", flags=0):
    return bytes([flags, len(cdb)]) + bytes(cdb) + out_data + MARK


def cdb_seeds():
    tur = rec([0, 0, 0, 0, 0, 0])
    seeds = {
        "inquiry": [rec([0x12, 0, 0, 0, 36, 0])],
        "inquiry-vpd": [rec([0x12, 1, p, 0, 255, 0]) for p in
                        (0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2)],
        "sense-after-ua": [tur, rec([0x03, 0, 0, 0, 18, 0])],
        "readcap": [tur, rec([0x25] + [0] * 9),
                    rec([0x9e, 0x10] + [0] * 8 + [0, 0, 0, 32, 0, 0])],
        "read": [tur, rec([0x08, 0, 0, 1, 4, 0]),
                 rec([0x28, 0, 0, 0, 0, 8, 0, 0, 16, 0], flags=0x40),
                 rec([0xa8, 0, 0, 0, 0, 9] + [0, 0, 0, 2, 0, 0]),
                 rec([0x88, 0] + [0] * 7 + [10] + [0, 0, 0, 1, 0, 0])],
        "write-read": [tur, rec([0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0],
                                b"\xab" * 512),
                       rec([0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0])],
        "write-fua-cut": [tur, rec([0x2a, 0x08, 0, 0, 0, 3, 0, 0, 8, 0],
                                   b"x" * 100, flags=0x90)],
        "mode-sense": [tur, rec([0x1a, 0, 0x3f, 0, 255, 0]),
                       rec([0x5a, 0, 0x3f, 0, 0, 0, 0, 1, 0, 0]),
                       rec([0x1a, 8, 0x08, 0, 255, 0])],
        "mode-select": [tur, rec([0x15, 0x10, 0, 0, 24, 0],
                                 bytes([0, 0, 0, 0, 0x08, 18, 0x04]) +
                                 bytes(17))],
        "sync-startstop": [tur, rec([0x35] + [0] * 9),
                           rec([0x1b, 0, 0, 0, 1, 0]),
                           rec([0x1e, 0, 0, 0, 1, 0])],
        "report-luns": [rec([0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])],
        "unmap": [tur, rec([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0],
                           bytes([0, 22, 0, 16]) + bytes(4) +
                           bytes(7) + bytes([5]) + bytes([0, 0, 0, 8]) +
                           bytes(4))],
        "write-same": [tur, rec([0x41, 0x08, 0, 0, 0, 4, 0, 0, 4, 0],
                                bytes(512)),
                       rec([0x93, 0] + [0] * 7 + [4, 0, 0, 0, 2, 0, 0],
                           b"\x11" * 512)],
        "verify": [tur, rec([0x2f, 0, 0, 0, 0, 0, 0, 0, 8, 0])],
        "bad-lengths": [tur, rec([0x28, 0, 0, 0]), rec([0x12, 0, 0, 0, 0, 0]),
                        rec([0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff,
                             0]),
                        rec([0x08, 0, 0, 0, 0, 0]), rec([0xff] * 16),
                        rec([])],
        "lun-3": [rec([0x12, 0, 0, 0, 36, 0], flags=3),
                  rec([0x00] * 6, flags=3)],
        "read-only-write": [rec([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0],
                                bytes(512), flags=8)],
    }
    for n, recs in seeds.items():
        out("cdb", n, b"".join(recs))


def policy_seeds():
    for p in ("policy/lsi-remote.policy", "policy/qemu-base.policy",
              "policy/qemu-remote.policy", "policy/qemu.policy",
              "tests/escape/shim.policy"):
        with open(os.path.join(TOP, p), "rb") as f:
            out("policy", os.path.basename(p), f.read())
    out("policy", "include", b"%mpjail-policy 1\n@include qemu-base.policy\n"
        b"[seccomp]\nread: arg0 == 3 || arg2 in PROT_READ|PROT_WRITE\n")


if __name__ == "__main__":
    wire_seeds()
    reply_seeds()
    scripts_seeds()
    cdb_seeds()
    policy_seeds()
