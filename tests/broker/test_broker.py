#!/usr/bin/env python3
"""tests/broker/test_broker.py: the real mpjail-broker, run as root, with
real bubblewrap, mpjail-lsi, mpjail-exec and QEMU 7.2 (TCG).

Refusals (nothing may start): a malformed VM file (its line and reason),
a policy that does not compile, an image that is a symlink, an image
locked by someone else (an OFD lock held by this test).

Runs: SeaBIOS boots a one-sector program from the LSI disk (marker on the
console), SIGTERM stops the VM in order (exit 0); a remote killed with
SIGKILL mid-run stops the VM (exit 3); the Linux guest of tests/e2e writes,
reads back and verifies its disk (exit 0, the image holds what it wrote).
After every run: no process of the VM's tenant uids is left (/proc), the
image locks are released (this test can take an exclusive lock), and
while it ran the remote carried its policy (mpjail-policy audit).

Environment: MPJAIL_BUILD (build dir), MPJAIL_GUEST_DIR (default
cache/guest; prepared by scripts/fetch-guest.sh).
"""
import fcntl
import hashlib
import os
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
            lsi_policy=LSI_POLICY, extra_vm="shutdown_timeout = 2"):
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
policy = %s
disk = %s rw
""" % (name, extra_vm, qemu_policy, boot, UID_BASE, UID_BASE + 7,
       UID_BASE, UID_BASE + 7, lsi_policy, disk)


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
    """The broker with its console (stdout) and log (stderr) collected."""

    def __init__(self, vmfile):
        self.p = subprocess.Popen([BROKER, vmfile], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""
        for f in (self.p.stdout, self.p.stderr):
            os.set_blocking(f.fileno(), False)

    def pump(self):
        for f, attr in ((self.p.stdout, "out"), (self.p.stderr, "err")):
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


def remote_pid():
    for pid, uid in tenant_pids():
        if uid == UID_BASE + 1 and comm(pid) == "mpjail-lsi":
            return pid
    return None


def after_run(tag, img):
    time.sleep(0.2)
    left = tenant_pids()
    check(tag + ": no process of the VM left", not left,
          ", ".join("%d (%s)" % (p, comm(p)) for p, _ in left))
    check(tag + ": image lock released", lock_free(img))


def test_seabios(t):
    img = t.image("bios.img")
    vm = t.write("bios.vm", vm_text("bios", img))
    start = time.monotonic()
    b = Broker(vm)
    seen = b.wait_for(lambda s: MARKER in s.out, 30)
    check("SeaBIOS boots from the LSI disk through the broker (marker on the console)",
          seen, (b.out[-300:] + b.err[-1500:]).decode(errors="replace"))
    if seen:
        print("seabios: marker %.2f s after start" % (time.monotonic() - start))
    pid = remote_pid()
    check("the remote runs as its tenant uid", pid is not None)
    if pid:
        a = subprocess.run([POLICY_TOOL, "--disks", "1", "audit", str(pid), LSI_POLICY],
                           capture_output=True, text=True)
        # The audit compares with the fds at exec; guest RAM memfds and
        # irqfd/resample eventfds arrive later over the socket from QEMU.
        fails = [l for l in a.stdout.splitlines() if l.startswith("FAIL")
                 and not re.match(r"FAIL fd \d+ +held but not in \[fds\] "
                                  r"\((anon_inode:\[eventfd\]|/memfd:)", l)
                 and not l.startswith("FAIL fds ")]
        check("the running remote carries lsi-remote.policy (mpjail-policy audit; "
              "received memfds/eventfds aside)", a.returncode in (0, 1) and not fails
              and "Seccomp          mode 2" in a.stdout, a.stdout + a.stderr)
        links = {}
        for f in os.listdir("/proc/%d/fd" % pid):
            try:
                links[int(f)] = os.readlink("/proc/%d/fd/%s" % (pid, f))
            except OSError:
                pass
        extra = {n: l for n, l in links.items() if n not in (0, 1, 2, 3, 5)}
        check("the remote holds fds 0-3 and its disk at 5; the seccomp memfd is closed; "
              "nothing else but what QEMU sent (guest RAM memfds, eventfds)",
              all(n in links for n in (0, 1, 2, 3, 5))
              and links[0] == "/dev/null" and links[1] == "/dev/null"
              and links[2].startswith("pipe:") and links[3].startswith("socket:")
              and links[5] == img
              and all(l.startswith("/memfd:") and "mpjail-seccomp" not in l
                      or l == "anon_inode:[eventfd]" for l in extra.values()),
              str(links))
    lock_held = not lock_free(img)
    check("while the VM runs its image is locked", lock_held)
    b.p.send_signal(signal.SIGTERM)
    rc = b.wait(30)
    err = b.err.decode(errors="replace")
    check("SIGTERM: the broker exits 0 (powerdown, quit, everything ended)", rc == 0,
          "rc %s: %s" % (rc, err))
    check("SIGTERM: system_powerdown then quit were sent",
          "qmp system_powerdown sent" in err and "qmp quit sent" in err, err)
    check("SIGTERM: the remote exited 0 on EOF",
          "remote=lsi0: ended: mpjail-lsi exited 0" in err, err)
    after_run("SIGTERM", img)


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


def test_linux(t):
    kernel = os.path.join(GUEST_DIR, "vmlinuz")
    initrd = os.path.join(GUEST_DIR, "initrd.gz")
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        check("Linux guest: %s prepared (scripts/fetch-guest.sh)" % GUEST_DIR, False)
        return
    img = t.image("linux.img", size=64 * 1024 * 1024, boot=False)
    boot = ("kernel = %s\ninitrd = %s\nappend = console=ttyS0 irqpoll nolapic "
            "noapic panic=-1 quiet loglevel=4" % (kernel, initrd))
    vm = t.write("linux.vm", vm_text("linux", img, boot=boot).replace("memory = 128M", "memory = 512M"))
    start = time.monotonic()
    b = Broker(vm)
    rc = b.wait(180)
    out = b.out.decode(errors="replace")
    err = b.err.decode(errors="replace")
    check("Linux guest: PASS on the console", "MPJAIL-E2E: PASS" in out,
          out[-1500:] + err[-1500:])
    check("Linux guest: the guest powers off and the broker exits 0", rc == 0,
          "rc %s: %s" % (rc, err))
    blocks = re.findall(r"MPJAIL-E2E: BLOCK off=(\d+) len=(\d+) sha256=([0-9a-f]+)", out)
    bad = []
    with open(img, "rb") as f:
        for off, ln, sha in blocks:
            f.seek(int(off))
            if hashlib.sha256(f.read(int(ln))).hexdigest() != sha:
                bad.append(off)
    check("Linux guest: the image holds what the guest wrote (%d regions)" % len(blocks),
          blocks and not bad, "differs at %s" % bad)
    print("linux: %.1f s from start to exit" % (time.monotonic() - start))
    after_run("Linux guest", img)


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
        for test in (test_malformed, test_bad_policy, test_symlink, test_locked,
                     test_seabios, test_remote_killed, test_seccomp_kill,
                     test_linux):
            try:
                test(t)
            except Exception as e:  # a harness failure is a failure
                check(test.__name__ + ": harness", False, repr(e))
    finally:
        t.cleanup()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
