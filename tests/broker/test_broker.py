#!/usr/bin/env python3
"""tests/broker/test_broker.py: the real mpjail-broker, run as root, with
real bubblewrap, mpjail-lsi, mpjail-exec and QEMU 7.2 (TCG).

Refusals (nothing may start): a malformed VM file (its line and reason),
a policy that does not compile, an image that is a symlink, an image
locked by someone else (an OFD lock held by this test).

Runs, with both remote kinds (mpjail-lsi, and QEMU's own x-remote under
qemu-remote.policy): SeaBIOS boots a one-sector program from the LSI disk
(marker on the console), SIGTERM stops the VM in order (exit 0); the Linux
guest of tests/e2e writes, reads back and verifies its disk (exit 0, the
image holds what it wrote); a remote killed with SIGKILL in the middle of
the guest's writes (guest mode mpjail.mode=flush) stops the VM (exit 3),
and every region the guest saw flushed (fsync: SYNCHRONIZE CACHE) before
is in the image. Also: a remote killed mid-run, a seccomp kill named by
syscall, QEMU's own -sandbox on both QEMUs, tenant ids in use refused (by
another broker, by any process), a console nobody reads never blocking
the broker.
After every run: no process of the VM's tenant uids is left (/proc), the
image locks are released (this test can take an exclusive lock), and
while it ran the remote carried its policy (mpjail-policy audit).

Environment: MPJAIL_BUILD (build dir), MPJAIL_GUEST_DIR (default
cache/guest; prepared by scripts/fetch-guest.sh).
"""
import fcntl
import hashlib
import os
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(os.environ.get("MPJAIL_BUILD", os.path.join(TOP, "build")))
BROKER = os.path.join(BUILD, "bin", "mpjail-broker")
POLICY_TOOL = os.path.join(BUILD, "bin", "mpjail-policy")
GUEST_DIR = os.environ.get("MPJAIL_GUEST_DIR", os.path.join(TOP, "cache", "guest"))
QEMU_POLICY = os.path.join(TOP, "policy", "qemu.policy")
LSI_POLICY = os.path.join(TOP, "policy", "lsi-remote.policy")
QREMOTE_POLICY = os.path.join(TOP, "policy", "qemu-remote.policy")
KINDS = ("lsi", "qemu")
POLICY_OF = {"lsi": LSI_POLICY, "qemu": QREMOTE_POLICY}
COMM_OF = {"lsi": "mpjail-lsi", "qemu": "qemu-system-x86"}
PROG_OF = {"lsi": "mpjail-lsi", "qemu": "qemu-remote"}
MARKER = b"MPJAIL-SEABIOS-BOOT-OK"
UID_BASE = 202000          # this suite's tenant range: QEMU, then remotes
F_OFD_GETLK, F_OFD_SETLK = 36, 37

sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
import test_seabios_boot  # noqa: E402  (the boot sector, reused)

results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok)))
    print(("ok     " if ok else "FAILED ") + name
          + (": " + detail if detail and not ok else ""))
    sys.stdout.flush()
    return ok


def vm_text(name, disk, boot="firmware = bios", qemu_policy=QEMU_POLICY,
            lsi_policy=None, extra_vm="shutdown_timeout = 2", kind="lsi",
            uid_base=UID_BASE):
    lsi_policy = lsi_policy or POLICY_OF[kind]
    return """%%mpjail-vm 1
[vm]
name = %s
memory = 128M
%s
[qemu]
policy = %s
[boot]
%s
[tenant]
uids = %d-%d
gids = %d-%d
[remote lsi0]
kind = %s
policy = %s
disk = %s rw
""" % (name, extra_vm, qemu_policy, boot, uid_base, uid_base + 7,
       uid_base, uid_base + 7, kind, lsi_policy, disk)


def tenant_pids():
    """Processes running as one of this suite's tenant uids."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        uid = int(line.split()[1])
                        if UID_BASE <= uid < UID_BASE + 8:
                            pids.append((int(d), uid))
                        break
        except OSError:
            pass
    return pids


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def lock_free(path):
    """Can we take an exclusive OFD lock on path right now?"""
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fl = struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0)
        try:
            fcntl.fcntl(fd, F_OFD_SETLK, fl)
            return True
        except OSError:
            return False
    finally:
        os.close(fd)


def run_broker(vmfile, timeout=30):
    p = subprocess.run([BROKER, vmfile], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def nothing_started(err):
    return "started:" not in err and not tenant_pids()


class Tmp:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mpjail-broker-test-")
        os.chmod(self.dir, 0o755)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=0o644):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def image(self, name, size=1024 * 1024, boot=True):
        p = self.path(name)
        with open(p, "wb") as f:
            f.truncate(size)
            if boot:
                f.write(test_seabios_boot.boot_sector())
        return p

    def cleanup(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)


# ---- refusals ----

def test_malformed(t):
    img = t.image("m.img")
    text = vm_text("bad", img).replace("memory = 128M", "memory = 128Q")
    text = text.replace("[tenant]", "[tenant]\ncolour = blue")
    vm = t.write("bad.vm", text)
    rc, _, err = run_broker(vm)
    check("malformed VM file: exit 1", rc == 1, "rc %d: %s" % (rc, err))
    check("malformed VM file: the bad unit, with line and column",
          re.search(r"bad\.vm:4:\d+: memory: the unit is M or G", err), err)
    check("malformed VM file: the unknown key, with its line",
          re.search(r"bad\.vm:11:1: unknown key 'colour'", err), err)
    check("malformed VM file: nothing started", nothing_started(err), err)


def test_bad_policy(t):
    img = t.image("p.img")
    pol = t.write("broken.policy", open(LSI_POLICY).read()
                  + "no_such_syscall: 1\n")
    vm = t.write("badpol.vm", vm_text("badpol", img, lsi_policy=pol))
    rc, _, err = run_broker(vm)
    check("policy that does not compile: exit 1", rc == 1, "rc %d: %s" % (rc, err))
    check("policy that does not compile: says which and why",
          "broken.policy" in err and "no_such_syscall" in err, err)
    check("policy that does not compile: nothing started", nothing_started(err), err)
    check("policy that does not compile: image not left locked", lock_free(img))


def test_symlink(t):
    img = t.image("real.img")
    link = t.path("link.img")
    os.symlink(img, link)
    vm = t.write("link.vm", vm_text("link", link))
    rc, _, err = run_broker(vm)
    check("symlink image: exit 1", rc == 1, "rc %d: %s" % (rc, err))
    check("symlink image: refused, saying so", "is a symbolic link" in err, err)
    check("symlink image: nothing started", nothing_started(err), err)
    os.unlink(link)


def test_locked(t):
    img = t.image("locked.img")
    vm = t.write("locked.vm", vm_text("locked", img))
    fd = os.open(img, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.fcntl(fd, F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))
        rc, _, err = run_broker(vm)
    finally:
        os.close(fd)
    check("locked image: exit 1", rc == 1, "rc %d: %s" % (rc, err))
    check("locked image: refused, saying it is locked and by whom",
          "image is locked" in err and ("by pid %d" % os.getpid()) in err, err)
    check("locked image: nothing started", nothing_started(err), err)
    # and a broker holding it keeps a second one out (--check opens, locks)
    rc, _, err = subprocess.run([BROKER, "--check", vm], capture_output=True,
                                text=True).returncode, None, None
    check("unlocked image: --check passes", rc == 0)


# ---- runs ----

class Broker:
    """The broker with its console (stdout) and log (stderr) collected;
    stdout=fd: the console goes there instead (not collected)."""

    def __init__(self, vmfile, stdout=None):
        self.p = subprocess.Popen([BROKER, vmfile], stdout=stdout or subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""
        self.streams = [(self.p.stderr, "err")]
        if stdout is None:
            self.streams.append((self.p.stdout, "out"))
        for f, _ in self.streams:
            os.set_blocking(f.fileno(), False)

    def pump(self):
        for f, attr in self.streams:
            try:
                chunk = os.read(f.fileno(), 65536)
            except BlockingIOError:
                continue
            if chunk:
                setattr(self, attr, getattr(self, attr) + chunk)

    def wait_for(self, what, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump()
            if what(self):
                return True
            if self.p.poll() is not None:
                self.pump()
                return what(self)
            time.sleep(0.05)
        return False

    def wait(self, timeout):
        end = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < end:
            self.pump()
            time.sleep(0.05)
        self.pump()
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
            return None
        return self.p.returncode


def descendants(pid):
    """Every descendant of pid (through /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def remote_pid(kind="lsi", broker=None):
    """The remote process (its comm, the remote's tenant uid), among the
    broker's descendants when given."""
    pool = descendants(broker.p.pid) if broker else [p for p, _ in tenant_pids()]
    for pid in pool:
        if comm(pid) != COMM_OF[kind]:
            continue
        try:
            with open("/proc/%d/status" % pid) as f:
                uid = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue
        if uid == UID_BASE + 1:
            return pid
    return None


def holders(path):
    """Processes holding an fd on path."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for f in os.listdir("/proc/%s/fd" % d):
                if os.readlink("/proc/%s/fd/%s" % (d, f)) == path:
                    found.append(int(d))
                    break
        except OSError:
            pass
    return found


def after_run(tag, img):
    time.sleep(0.2)
    left = tenant_pids()
    check(tag + ": no process of the VM left", not left,
          ", ".join("%d (%s)" % (p, comm(p)) for p, _ in left))
    check(tag + ": image lock released", lock_free(img))
    held = holders(img)
    check(tag + ": no process holds an fd of the image", not held, str(held))


def proc_status(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return f.read()
    except OSError:
        return ""


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def fd_links(pid):
    links = {}
    for f in os.listdir("/proc/%d/fd" % pid):
        try:
            links[int(f)] = os.readlink("/proc/%d/fd/%s" % (pid, f))
        except OSError:
            pass
    return links


SANDBOX_ARG = b"on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"


def check_sandboxed_qemu(tag, pid):
    """QEMU's own -sandbox on top of ours: two filters, and the option."""
    st = proc_status(pid)
    m = re.search(r"^Seccomp_filters:\s+(\d+)", st, re.M)
    args = cmdline(pid)
    check(tag + ": runs with -sandbox (its own filter stacked on the policy's: "
          "Seccomp_filters 2)", m and int(m.group(1)) == 2 and b"-sandbox" in args
          and SANDBOX_ARG in args, "filters %s, args %s" % (m and m.group(1), args))


def check_lsi_remote(pid, img):
    a = subprocess.run([POLICY_TOOL, "--disks", "1", "audit", str(pid), LSI_POLICY],
                       capture_output=True, text=True)
    # The audit compares with the fds at exec; guest RAM memfds and
    # irqfd/resample eventfds arrive later over the socket from QEMU.
    fails = [l for l in a.stdout.splitlines() if l.startswith("FAIL")
             and not re.match(r"FAIL fd \d+ +held but not in \[fds\] "
                              r"\((anon_inode:\[eventfd\]|/memfd:)", l)
             and not l.startswith("FAIL fds ")]
    check("[lsi] the running remote carries lsi-remote.policy (mpjail-policy audit; "
          "received memfds/eventfds aside)", a.returncode in (0, 1) and not fails
          and "Seccomp          mode 2" in a.stdout, a.stdout + a.stderr)
    links = fd_links(pid)
    extra = {n: l for n, l in links.items() if n not in (0, 1, 2, 3, 5)}
    check("[lsi] the remote holds fds 0-3 and its disk at 5; the seccomp memfd is closed; "
          "nothing else but what QEMU sent (guest RAM memfds, eventfds)",
          all(n in links for n in (0, 1, 2, 3, 5))
          and links[0] == "/dev/null" and links[1] == "/dev/null"
          and links[2].startswith("pipe:") and links[3].startswith("socket:")
          and links[5] == img
          and all(l.startswith("/memfd:") and "mpjail-seccomp" not in l
                  or l == "anon_inode:[eventfd]" for l in extra.values()),
          str(links))


def check_qemu_remote(pid, img):
    a = subprocess.run([POLICY_TOOL, "--disks", "2", "audit", str(pid), QREMOTE_POLICY],
                       capture_output=True, text=True)
    # What QEMU's remote makes or receives at run time (its event loop,
    # guest RAM, irqfds, its fdset dups of the disks) is declared in the
    # policy's received lines: the audit must match as it stands.
    fails = [l for l in a.stdout.splitlines() if l.startswith("FAIL")]
    check("[qemu] the running x-remote carries qemu-remote.policy (mpjail-policy "
          "audit)",
          a.returncode == 0 and not fails and "Seccomp          mode 2" in a.stdout,
          a.stdout + a.stderr)
    links = fd_links(pid)
    bad = {n: l for n, l in links.items()
           if not (n in (0, 1) and l == "/dev/null" or n == 2 and l.startswith("pipe:")
                   or n in (3, 5) and l.startswith("socket:") or l == img
                   or l.startswith("anon_inode:[") or
                   l.startswith("/memfd:memory-backend-memfd"))}
    check("[qemu] the x-remote holds its socket (3), its QMP (5), the image (only "
          "as fds it was given) and its own event fds; no other file, no socket",
          not bad and links.get(3, "").startswith("socket:")
          and links.get(5, "").startswith("socket:")
          and sum(1 for l in links.values() if l.startswith("socket:")) == 2, str(bad or links))


def test_seabios(t, kind):
    img = t.image("bios-%s.img" % kind)
    vm = t.write("bios-%s.vm" % kind, vm_text("bios", img, kind=kind))
    tag = "[%s] " % kind
    start = time.monotonic()
    b = Broker(vm)
    seen = b.wait_for(lambda s: MARKER in s.out, 30)
    check(tag + "SeaBIOS boots from the remote's disk through the broker (marker on the console)",
          seen, (b.out[-300:] + b.err[-1500:]).decode(errors="replace"))
    if seen:
        print("seabios %s: marker %.2f s after start" % (kind, time.monotonic() - start))
    pid = remote_pid(kind, b)
    check(tag + "the remote runs as its tenant uid, a descendant of the broker", pid is not None)
    if pid and kind == "lsi":
        check_lsi_remote(pid, img)
    elif pid:
        check_qemu_remote(pid, img)
        check_sandboxed_qemu("[qemu] the x-remote", pid)
        check(tag + "the broker waited for the x-remote's QMP answer before QEMU",
              re.search(r"remote=lsi0: ready: QMP answered.*\n(.*\n)*.*qemu: started",
                        b.err.decode(errors="replace")), b.err.decode(errors="replace"))
    qemu = [p for p in descendants(b.p.pid) if comm(p) == "qemu-system-x86"
            and re.search(r"^Uid:\s+%d\s" % UID_BASE, proc_status(p), re.M)]
    if kind == "lsi":
        check("the unprivileged QEMU found", len(qemu) == 1, str(qemu))
        if qemu:
            check_sandboxed_qemu("the unprivileged QEMU", qemu[0])
    lock_held = not lock_free(img)
    check(tag + "while the VM runs its image is locked", lock_held)
    b.p.send_signal(signal.SIGTERM)
    rc = b.wait(30)
    err = b.err.decode(errors="replace")
    check(tag + "SIGTERM: the broker exits 0 (powerdown, quit, everything ended)", rc == 0,
          "rc %s: %s" % (rc, err))
    check(tag + "SIGTERM: system_powerdown then quit were sent",
          "qmp system_powerdown sent" in err and "qmp quit sent" in err, err)
    check(tag + "SIGTERM: the remote exited 0 on EOF",
          "remote=lsi0: ended: %s exited 0" % PROG_OF[kind] in err, err)
    after_run(tag + "SIGTERM", img)


def test_remote_killed(t):
    img = t.image("kill.img")
    vm = t.write("kill.vm", vm_text("kill", img))
    b = Broker(vm)
    ok = b.wait_for(lambda s: MARKER in s.out, 30)
    pid = remote_pid()
    check("remote kill: VM up, remote found", ok and pid is not None)
    if pid:
        os.kill(pid, signal.SIGKILL)
    rc = b.wait(30)
    err = b.err.decode(errors="replace")
    check("remote kill: the broker exits 3", rc == 3, "rc %s: %s" % (rc, err))
    check("remote kill: the log names the remote and the signal",
          re.search(r"vm=kill remote=lsi0: died: mpjail-lsi killed by signal 9", err), err)
    check("remote kill: QEMU was stopped", "qemu: ended" in err, err)
    after_run("remote kill", img)


def test_seccomp_kill(t):
    """A remote whose policy lacks ppoll is killed by seccomp at its first
    wait: the broker names the signal and, from the audit record, the
    syscall."""
    img = t.image("sys.img")
    text = "".join(l for l in open(LSI_POLICY).read().splitlines(True)
                   if not l.startswith("ppoll:"))
    pol = t.write("noppoll.policy", text)
    vm = t.write("sys.vm", vm_text("sys", img, lsi_policy=pol))
    b = Broker(vm)
    rc = b.wait(30)
    err = b.err.decode(errors="replace")
    check("seccomp kill: the broker exits 3", rc == 3, "rc %s: %s" % (rc, err))
    check("seccomp kill: the log says so and names the syscall",
          re.search(r"remote=lsi0: died: mpjail-lsi killed by signal 31 "
                    r"\(SIGSYS: seccomp kill\); syscall ppoll", err), err)
    after_run("seccomp kill", img)


def linux_boot(extra=""):
    kernel = os.path.join(GUEST_DIR, "vmlinuz")
    initrd = os.path.join(GUEST_DIR, "initrd.gz")
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        check("Linux guest: %s prepared (scripts/fetch-guest.sh)" % GUEST_DIR, False)
        return None
    return ("kernel = %s\ninitrd = %s\nappend = console=ttyS0 irqpoll nolapic "
            "noapic panic=-1 quiet loglevel=4%s" % (kernel, initrd, extra))


def test_linux(t, kind):
    boot = linux_boot()
    if not boot:
        return
    tag = "[%s] Linux guest" % kind
    img = t.image("linux-%s.img" % kind, size=64 * 1024 * 1024, boot=False)
    vm = t.write("linux-%s.vm" % kind, vm_text("linux", img, boot=boot, kind=kind)
                 .replace("memory = 128M", "memory = 512M"))
    start = time.monotonic()
    b = Broker(vm)
    rc = b.wait(180)
    out = b.out.decode(errors="replace")
    err = b.err.decode(errors="replace")
    check(tag + ": PASS on the console", "MPJAIL-E2E: PASS" in out,
          out[-1500:] + err[-1500:])
    check(tag + ": the guest powers off and the broker exits 0", rc == 0,
          "rc %s: %s" % (rc, err))
    blocks = re.findall(r"MPJAIL-E2E: BLOCK off=(\d+) len=(\d+) sha256=([0-9a-f]+)", out)
    bad = []
    with open(img, "rb") as f:
        for off, ln, sha in blocks:
            f.seek(int(off))
            if hashlib.sha256(f.read(int(ln))).hexdigest() != sha:
                bad.append(off)
    check(tag + ": the image holds what the guest wrote (%d regions)" % len(blocks),
          blocks and not bad, "differs at %s" % bad)
    print("linux %s: %.1f s from start to exit" % (kind, time.monotonic() - start))
    after_run(tag, img)


FLUSHED_RE = re.compile(r"^MPJAIL-FLUSH: FLUSHED seq=(\d+) off=(\d+) len=(\d+) "
                        r"sha256=([0-9a-f]{64})$", re.M)


def test_flush_kill(t, kind):
    """The guest writes 64 KiB regions in order, each followed by an fsync
    (SYNCHRONIZE CACHE), and reports each fsync that succeeded; the remote
    is SIGKILLed while it writes. Every reported region must be in the
    image afterwards."""
    boot = linux_boot(" mpjail.mode=flush")
    if not boot:
        return
    tag = "[%s] remote killed mid-writes" % kind
    img = t.image("flush-%s.img" % kind, size=64 * 1024 * 1024, boot=False)
    vm = t.write("flush-%s.vm" % kind, vm_text("flush", img, boot=boot, kind=kind)
                 .replace("memory = 128M", "memory = 512M"))
    b = Broker(vm)
    want = 30
    going = b.wait_for(lambda s: len(FLUSHED_RE.findall(s.out.decode(errors="replace")))
                       >= want, 120)
    pid = remote_pid(kind, b)
    check(tag + ": the guest is writing and flushing (%d flushes seen), remote found"
          % want, going and pid is not None,
          (b.out[-1500:] + b.err[-1500:]).decode(errors="replace"))
    if pid:
        time.sleep(random.uniform(0.0, 0.3))  # anywhere in a write or a flush
        os.kill(pid, signal.SIGKILL)
    rc = b.wait(30)
    out = b.out.decode(errors="replace")
    err = b.err.decode(errors="replace")
    check(tag + ": the broker exits 3", rc == 3, "rc %s: %s" % (rc, err))
    check(tag + ": the log names the remote and the signal",
          re.search(r"vm=flush remote=lsi0: died: %s killed by signal 9" % PROG_OF[kind],
                    err), err)
    check(tag + ": QEMU was stopped", "qemu: ended" in err, err)
    cache = re.search(r"MPJAIL-E2E: CACHE (.*)", out)
    check(tag + ": the guest's disk is write back (its fsync sends SYNCHRONIZE CACHE)",
          cache and cache.group(1).strip() == "write back",
          cache.group(0) if cache else "no CACHE line")
    flushed = FLUSHED_RE.findall(out)
    bad = []
    with open(img, "rb") as f:
        for seq, off, ln, sha in flushed:
            f.seek(int(off))
            if hashlib.sha256(f.read(int(ln))).hexdigest() != sha:
                bad.append(seq)
    last = flushed[-1][0] if flushed else "none"
    check(tag + ": every region flushed before the kill is in the image (%d, the last "
          "seq=%s)" % (len(flushed), last), flushed and not bad, "missing seq %s" % bad)
    after_run(tag, img)


def test_tenant_in_use(t):
    """Tenant ids: a broker whose range overlaps a running broker's, or
    any process's, is refused before it starts anything."""
    img = t.image("ten-a.img")
    vm_a = t.write("ten-a.vm", vm_text("tena", img))
    a = Broker(vm_a)
    up = a.wait_for(lambda s: MARKER in s.out, 30)
    check("tenant: VM A is up", up, a.err.decode(errors="replace"))
    img_b = t.image("ten-b.img")
    # B's QEMU would run as A's remote's uid.
    vm_b = t.write("ten-b.vm", vm_text("tenb", img_b, uid_base=UID_BASE + 1))
    rc, _, err = run_broker(vm_b)
    check("tenant: a range overlapping a running broker's is refused (exit 1), "
          "saying so", rc == 1 and "uid %d is in use by another mpjail-broker"
          % (UID_BASE + 1) in err and "started:" not in err, "rc %d: %s" % (rc, err))
    a.p.send_signal(signal.SIGTERM)
    rc = a.wait(30)
    check("tenant: VM A stops, exit 0", rc == 0, "rc %s" % rc)
    after_run("tenant", img)
    # A process (not a broker) with a uid of the range.
    other = UID_BASE + 40
    sleeper = subprocess.Popen(["setpriv", "--reuid", str(other), "--regid", str(other),
                                "--clear-groups", "sleep", "60"])
    try:
        time.sleep(0.2)
        vm_c = t.write("ten-c.vm", vm_text("tenc", img_b, uid_base=other))
        rc, _, err = run_broker(vm_c)
        check("tenant: a range a running process uses is refused (exit 1), naming it",
              rc == 1 and ("pid %d (sleep) runs with a uid" % sleeper.pid) in err
              and "started:" not in err, "rc %d: %s" % (rc, err))
    finally:
        sleeper.kill()
        sleeper.wait()
    rc, _, err = run_broker_check(vm_c)
    check("tenant: the control: with that process gone, the same VM file passes --check",
          rc == 0, err)


def run_broker_check(vmfile):
    p = subprocess.run([BROKER, "--check", vmfile], capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def spew_sector():
    """The SeaBIOS boot sector, looping over its message for ever."""
    sec = bytearray(test_seabios_boot.boot_sector())
    assert sec[0x12:0x14] == b"\x74\x12"   # jz halt
    sec[0x13] = 0xf8                         # jz 0x0c: mov si, message
    return bytes(sec)


def test_console_unread(t):
    """The console to a stdout nobody reads: the broker keeps relaying
    (dropping, counted) and stays responsive: SIGTERM still stops it."""
    img = t.image("spew.img", boot=False)
    with open(img, "r+b") as f:
        f.write(spew_sector())
    vm = t.write("spew.vm", vm_text("spew", img))
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: fill it sooner
    try:
        b = Broker(vm, stdout=w)
        os.close(w)
        w = -1
        dropping = b.wait_for(lambda s: b"dropping console output" in s.err, 30)
        check("unread console: the broker says it drops console output", dropping,
              b.err.decode(errors="replace"))
        b.p.send_signal(signal.SIGTERM)
        rc = b.wait(30)
        err = b.err.decode(errors="replace")
        check("unread console: SIGTERM still stops the VM in order (exit 0)", rc == 0,
              "rc %s: %s" % (rc, err))
        check("unread console: the dropped bytes are counted",
              re.search(r"console: \d+ bytes dropped", err), err)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    after_run("unread console", img)


def main():
    if os.geteuid() != 0:
        print("broker tests: need root (the broker gives each process a tenant uid)",
              file=sys.stderr)
        return 1
    for need in (BROKER, POLICY_TOOL):
        if not os.access(need, os.X_OK):
            print("missing %s: build first" % need, file=sys.stderr)
            return 1
    if tenant_pids():
        print("broker tests: processes of uids %d.. already run" % UID_BASE,
              file=sys.stderr)
        return 1
    t = Tmp()
    try:
        tests = [(test_malformed,), (test_bad_policy,), (test_symlink,), (test_locked,)]
        for kind in KINDS:
            tests += [(test_seabios, kind), (test_linux, kind)]
        tests += [(test_remote_killed,), (test_seccomp_kill,), (test_tenant_in_use,),
                  (test_console_unread,)]
        for kind in KINDS:
            tests.append((test_flush_kill, kind))
        only = os.environ.get("MPJAIL_BROKER_ONLY", "")
        for test, *args in tests:
            name = "_".join([test.__name__] + list(args))
            if only and only not in name:
                continue
            start = time.monotonic()
            try:
                test(t, *args)
            except Exception as e:  # a harness failure is a failure
                check(name + ": harness", False, repr(e))
            print("  (%s: %.1f s)" % (name, time.monotonic() - start))
    finally:
        t.cleanup()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
