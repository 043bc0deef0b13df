#!/usr/bin/env python3
"""bench/guest_dd.py: figure 3, a Linux guest's O_DIRECT dd through QEMU
7.2 under TCG, three ways: the LSI53C895A in-process (plain QEMU,
-device lsi53c895a + scsi-hd, no proxy), behind QEMU's own remote, and
behind mpjail-lsi confined as the broker confines it (mpjail-run; as
non-root, unconfined and marked so). The guest is the end-to-end tests'
(scripts/fetch-guest.sh); the kernel parameter mpjail.bench=dd:N makes its
init time N MiB of 1 MiB O_DIRECT writes and reads, three times each,
and print the guest's own nanoseconds.

Every variant boots with the same command line, `irqpoll nolapic noapic`:
under TCG the proxy delivers no INTx, so each proxied command waits for the
next PIT tick. This measures the tick more than the remote.

Prints BENCH lines (bench/bench.h's format) for bench/run.py.
Test-side code: every wait is bounded; kills only what it started.
"""
import fcntl
import json
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("MPJAIL_BUILD", os.path.join(TOP, "build"))
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
GUEST = os.environ.get("MPJAIL_GUEST_DIR", os.path.join(TOP, "cache", "guest"))
MIB = 64
IMAGE = 128 << 20
BOOT_TIMEOUT = 150.0
APPEND = ("console=ttyS0 irqpoll nolapic noapic panic=-1 quiet loglevel=4 "
          "mpjail.bench=dd:%d" % MIB)


def bench(row, **kv):
    d = {"fig": "dd", "row": row}
    d.update(kv)
    print("BENCH " + json.dumps(d), flush=True)


def qemu_base(mem="512"):
    return [QEMU, "-accel", "tcg", "-m", mem, "-nodefaults", "-display",
            "none", "-no-user-config", "-no-reboot", "-serial", "stdio",
            "-kernel", os.path.join(GUEST, "vmlinuz"),
            "-initrd", os.path.join(GUEST, "initrd.gz"), "-append", APPEND]


def proxied(mem="512"):
    return qemu_base(mem) + [
        "-object", "memory-backend-memfd,id=mem,size=%sM,share=on" % mem,
        "-numa", "node,memdev=mem", "-device", "x-pci-proxy-dev,id=lsi0,fd=3"]


def spawn(argv, fds, want_stdout=False):
    """fork/exec with 0-2 and the fds named ({child fd: ours}); every
    other fd of this process is close-on-exec (cloexec_all)."""
    hi = {t: fcntl_dup_high(s) for t, s in fds.items()}
    try:
        def setup():
            for t, s in hi.items():
                os.dup2(s, t)  # the copy at t is inheritable
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE if want_stdout else subprocess.DEVNULL,
                             stderr=subprocess.PIPE, preexec_fn=setup,
                             close_fds=False)
    finally:
        for s in hi.values():
            os.close(s)
    return p


def fcntl_dup_high(fd):
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)


def cloexec_all():
    """What this process inherited (a make jobserver pipe...) stays here."""
    for name in os.listdir("/proc/self/fd"):
        if int(name) > 2:
            try:
                os.set_inheritable(int(name), False)
            except OSError:
                pass


def read_until(f, want, timeout):
    buf = b""
    end = time.monotonic() + timeout
    fd = f.fileno()
    while want not in buf:
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                return False
            buf += chunk
    return True


def stop(p, timeout=10.0):
    if p is None or p.poll() is not None:
        return
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def start_qemu_remote(sock, image):
    p = spawn([QEMU, "-machine", "x-remote", "-nodefaults", "-display", "none",
               "-device", "lsi53c895a,id=lsi0",
               "-drive", "id=d0,file=%s,format=raw,if=none" % image,
               "-device", "scsi-hd,id=drive2,drive=d0,bus=lsi0.0,scsi-id=0",
               "-object", "x-remote-object,id=robj1,devid=lsi0,fd=3",
               "-chardev", "stdio,id=qmp,signal=off",
               "-mon", "chardev=qmp,mode=control"], {3: sock}, want_stdout=True)
    # QEMU's remote may serve its socket before start-up is over
    # (tests/lib/peers.c): wait for QMP to answer query-status.
    ok = read_until(p.stdout, b'{"QMP"', 20.0)
    if ok:
        p.stdin.write(b'{"execute":"qmp_capabilities"}\n'
                      b'{"execute":"query-status"}\n')
        p.stdin.flush()
        ok = read_until(p.stdout, b'"status"', 20.0)
    if not ok:
        p.kill()
        p.wait()
        raise RuntimeError("QEMU's remote did not answer QMP")
    return p


def start_mpjail_lsi(sock, image):
    lsi = os.path.join(BUILD, "bin", "mpjail-lsi")
    if os.geteuid() != 0:
        return spawn([lsi, "--socket-fd", "3", "--disk-fd", "4"],
                     {3: sock, 4: os.open(image, os.O_RDWR | os.O_CLOEXEC)})
    tenant = str(61000 + os.getpid() % 4000)
    return spawn([os.path.join(BUILD, "bin", "mpjail-run"),
                  "--policy", os.path.join(TOP, "policy", "lsi-remote.policy"),
                  "--uid", tenant, "--gid", tenant,
                  "--fd", "3=&3", "--fd", "5=rw:" + image, "--",
                  lsi, "--socket-fd", "3", "--seccomp-fd", "4",
                  "--disk-fd", "5"], {3: sock})


def boot(row, variant):
    fd, image = tempfile.mkstemp(prefix="mpjail-bench-dd-", suffix=".img",
                                 dir="/dev/shm")
    os.ftruncate(fd, IMAGE)
    os.close(fd)
    remote = qemu = None
    console = b""
    try:
        if variant == "in-process":
            qemu = spawn(qemu_base() + [
                "-device", "lsi53c895a,id=lsi0",
                "-drive", "id=d0,file=%s,format=raw,if=none" % image,
                "-device", "scsi-hd,id=drive2,drive=d0,bus=lsi0.0,scsi-id=0"],
                {}, want_stdout=True)
        else:
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                if variant == "qemu-remote":
                    remote = start_qemu_remote(a.fileno(), image)
                else:
                    remote = start_mpjail_lsi(a.fileno(), image)
                qemu = spawn(proxied(), {3: b.fileno()}, want_stdout=True)
            finally:
                a.close()
                b.close()
        end = time.monotonic() + BOOT_TIMEOUT
        out = qemu.stdout.fileno()
        while time.monotonic() < end:
            r, _, _ = select.select([out], [], [], 0.5)
            if r:
                chunk = os.read(out, 65536)
                if not chunk:
                    break
                console += chunk
            elif qemu.poll() is not None:
                break
        stop(qemu, 5.0)
        stop(remote, 10.0)
        text = console.decode(errors="replace")
        got = {"write": [], "read": []}
        for op, n, ns in re.findall(
                r"MPJAIL-E2E: BENCH dd op=(\w+) bytes=(\d+) ns=(\d+)", text):
            if int(ns) > 0:
                got[op].append(int(n) * 1000.0 / int(ns))  # MB/s (10^6)
        if not got["write"] or not got["read"]:
            tail = "\n".join(text.replace("\r", "").split("\n")[-15:])
            print("guest_dd: %s: no result; console tail:\n%s" % (row, tail),
                  file=sys.stderr)
            err = (qemu.stderr.read() if qemu.stderr else b"")[-500:]
            print(err.decode(errors="replace"), file=sys.stderr)
            bench(row, skipped="the guest printed no result")
            return
        bench(row, mib=MIB, reps=len(got["write"]),
              write_mb_s=statistics.median(got["write"]),
              read_mb_s=statistics.median(got["read"]),
              write_all=[round(x, 1) for x in got["write"]],
              read_all=[round(x, 1) for x in got["read"]])
    finally:
        for p in (qemu, remote):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        os.unlink(image)


def main():
    cloexec_all()
    for f in ("vmlinuz", "initrd.gz"):
        if not os.path.exists(os.path.join(GUEST, f)):
            for row in ("in-process", "qemu-remote", "mpjail-lsi jailed"):
                bench(row, skipped="no guest: scripts/fetch-guest.sh")
            return 0
    if shutil.which(QEMU) is None:
        bench("in-process", skipped="no " + QEMU)
        return 0
    boot("in-process", "in-process")
    boot("qemu-remote", "qemu-remote")
    boot("mpjail-lsi jailed" if os.geteuid() == 0 else
         "mpjail-lsi unconfined (needs root to confine)", "mpjail-lsi")
    return 0


if __name__ == "__main__":
    sys.exit(main())
