#!/usr/bin/env python3
"""tests/integration/test_qemu_proxy.py: real, unprivileged QEMU 7.2 with
x-pci-proxy-dev against mpjail-lsi.

QEMU and mpjail-lsi each run as an unprivileged uid (nobody) on the two
ends of one socketpair; QEMU has a memory-backend-memfd and boots its
default firmware (SeaBIOS), which assigns the BARs. Through HMP (`info pci`
on -monitor stdio) the test checks that QEMU realized the device with the
LSI's three BARs (I/O 256 B, memory 1 KiB, memory 8 KiB), then quits QEMU
and checks that both processes exit 0 and mpjail-lsi said nothing.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

BUILD = os.environ.get("MPJAIL_BUILD", "build")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
NOBODY = "65534"

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print(("ok     " if ok else "FAILED ") + name + (": " + detail if detail and not ok else ""))


def as_nobody(argv):
    # setpriv (util-linux) drops to nobody before exec; as non-root, keep
    # the caller's uid, which is unprivileged already.
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid", NOBODY, "--regid", NOBODY,
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs"] + argv


def hmp(proc, command, timeout=20.0):
    """Send one HMP command; return the text up to the next prompt."""
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    buf = b""
    end = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    while time.monotonic() < end:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            # the echo of the command comes first; the reply ends at a prompt
            if buf.count(b"(qemu)") >= 1 and buf.rstrip().endswith(b"(qemu)"):
                break
        elif chunk == b"":
            break
        else:
            time.sleep(0.05)
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", buf.decode(errors="replace"))


def main():
    lsi_bin = os.path.join(BUILD, "bin", "mpjail-lsi")
    if not os.access(lsi_bin, os.X_OK):
        print("missing " + lsi_bin + ": build first", file=sys.stderr)
        return 1
    if shutil.which(QEMU) is None:
        print("missing " + QEMU + ": run scripts/install-deps.sh", file=sys.stderr)
        return 1

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    lsi = subprocess.Popen(
        as_nobody([os.path.abspath(lsi_bin), "--socket-fd", str(ours.fileno())]),
        pass_fds=[ours.fileno()], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qemu = subprocess.Popen(
        as_nobody([QEMU, "-accel", "tcg", "-m", "256", "-nodefaults",
                   "-display", "none",
                   "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
                   "-numa", "node,memdev=mem",
                   "-device", "x-pci-proxy-dev,id=lsi0,fd=%d" % theirs.fileno(),
                   "-monitor", "stdio"]),
        pass_fds=[theirs.fileno()], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ours.close()
    theirs.close()

    try:
        hmp(qemu, "")  # the banner and first prompt
        # SeaBIOS assigns the BARs shortly after the machine starts.
        info = ""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            info = hmp(qemu, "info pci")
            block = info.split('id "lsi0"')[0].rsplit("Bus", 1)[-1] if 'id "lsi0"' in info else ""
            if re.search(r"BAR0: I/O at 0x[0-9a-f]{4} ", block):
                break
            time.sleep(0.2)
        check("the proxy device is on the bus", 'id "lsi0"' in info, info[-2000:])
        m0 = re.search(r"BAR0: I/O at 0x([0-9a-f]+) \[0x([0-9a-f]+)\]", block)
        m1 = re.search(r"BAR1: 32 bit memory at 0x([0-9a-f]+) \[0x([0-9a-f]+)\]", block)
        m2 = re.search(r"BAR2: 32 bit memory at 0x([0-9a-f]+) \[0x([0-9a-f]+)\]", block)

        def size(m):
            return int(m.group(2), 16) - int(m.group(1), 16) + 1 if m else None
        check("BAR0 is I/O, 256 bytes", size(m0) == 256, block)
        check("BAR1 is memory, 1 KiB", size(m1) == 1024, block)
        check("BAR2 is memory, 8 KiB", size(m2) == 8192, block)
        check("no fourth BAR", "BAR3" not in block, block)

        qemu.stdin.write("quit\n")
        qemu.stdin.flush()
        qrc = qemu.wait(timeout=30)
        lrc = lsi.wait(timeout=30)
        err = lsi.stderr.read().decode(errors="replace")
        check("QEMU quits cleanly", qrc == 0, "rc %d" % qrc)
        check("mpjail-lsi exits 0 when QEMU closes the socket", lrc == 0,
              "rc %d stderr %r" % (lrc, err))
        check("mpjail-lsi logged nothing", err == "", repr(err))
    finally:
        for p in (qemu, lsi):
            if p.poll() is None:
                p.kill()
                p.wait()

    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
