"""tests/e2e/e2e_peers.py: starting the real peers of the end-to-end tests
(QEMU 7.2 with x-pci-proxy-dev, QEMU's own remote, mpjail-lsi) as the
unprivileged uid nobody, with exactly the fds they are told about.

Test code: trusts its children to be buggy, never to be gentle; every wait
is bounded. Imported by tests/e2e/test_*.py (not a test itself).

Fds reach a child through os.posix_spawn's dup2 file actions. Every source
fd is first moved to 10 or above, so no dup2 onto 3 or 4 can overwrite a
source that a later dup2 still needs (the trap tests/lib/peers.c documents).
Every other fd of this process is made close-on-exec before each spawn —
Python's own are already (PEP 446), but this process may have inherited
open fds from whoever started it — so the child holds only the fds named
here.
"""
import fcntl
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time

BUILD = os.environ.get("MPJAIL_BUILD", "build")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
NOBODY = "65534"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def as_nobody(argv):
    """setpriv (util-linux) drops to nobody before exec; as non-root, the
    caller's uid is unprivileged already."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid", NOBODY, "--regid", NOBODY,
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs"] + argv


class Child:
    """A spawned process: pid, the parent's ends of its pipes, bounded waits."""

    def __init__(self, name, pid, stdin=None, stdout=None, stderr=None):
        self.name = name
        self.pid = pid
        self.stdin = stdin      # fd we write, or None
        self.stdout = stdout    # fd we read, or None
        self.stderr = stderr    # fd we read, or None
        self.status = None
        self.err_text = b""

    def poll(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def wait(self, timeout):
        """Exit code (negative: signal), or None on timeout."""
        end = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < end:
            self.drain_stderr()
            time.sleep(0.01)
        return self.status

    def kill(self):
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            _, st = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(st)

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit code."""
        if self.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            if self.wait(timeout) is None:
                self.kill()
        return self.status

    def drain_stderr(self):
        if self.stderr is None:
            return self.err_text
        while True:
            try:
                chunk = os.read(self.stderr, 65536)
            except BlockingIOError:
                break
            if not chunk:
                os.close(self.stderr)
                self.stderr = None
                break
            self.err_text += chunk
        return self.err_text

    def close(self):
        self.kill()
        self.drain_stderr()
        for fd in (self.stdin, self.stdout, self.stderr):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.stdin = self.stdout = self.stderr = None


def high(fd):
    """A close-on-exec duplicate of fd numbered 10 or above."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


def _cloexec_all():
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass  # the directory's own fd, closed by now


def spawn(name, argv, fds, want_stdin=False, want_stdout=False):
    """Run argv with fds {child fd: parent fd} (3 and up) plus stdin,
    stdout and stderr: pipes where asked, else /dev/null; stderr is always
    a pipe (non-blocking)."""
    srcs = {}
    opened = []
    try:
        null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        opened.append(null)
        in_r = in_w = out_r = out_w = None
        if want_stdin:
            in_r, in_w = os.pipe()
            opened.append(in_r)
        if want_stdout:
            out_r, out_w = os.pipe()
            opened.append(out_w)
        err_r, err_w = os.pipe()
        opened.append(err_w)
        srcs[0] = in_r if want_stdin else null
        srcs[1] = out_w if want_stdout else null
        srcs[2] = err_w
        srcs.update(fds)
        moved = {}
        for target, src in srcs.items():
            moved[target] = high(src)
            opened.append(moved[target])
        actions = [(os.POSIX_SPAWN_DUP2, src, target)
                   for target, src in sorted(moved.items())]
        _cloexec_all()
        path = shutil.which(argv[0]) or argv[0]
        pid = os.posix_spawn(path, argv, os.environ, file_actions=actions)
    finally:
        for fd in opened:
            os.close(fd)
    os.set_blocking(err_r, False)
    return Child(name, pid, stdin=in_w, stdout=out_r, stderr=err_r)


def _read_until(fd, wanted, timeout):
    buf = b""
    end = time.monotonic() + timeout
    while wanted not in buf:
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buf += chunk
    return buf


def start_qemu_remote(sock_fd, disk_fd):
    """QEMU 7.2's own remote (-machine x-remote) with one LSI53C895A and a
    scsi-hd on disk_fd (passed with -add-fd: nobody cannot open the image
    by path; QEMU dups from the fd set one whose access mode matches what
    it asks for, and it asks for read-only first, so the set holds a
    read-only and a read-write fd of the same image). Returns once QMP answers query-status: QEMU's remote may serve
    its socket before its start-up is over (see tests/lib/peers.c)."""
    argv = as_nobody([
        QEMU, "-machine", "x-remote", "-nodefaults", "-display", "none",
        "-add-fd", "fd=4,set=1", "-add-fd", "fd=5,set=1",
        "-device", "lsi53c895a,id=lsi0",
        "-drive", "id=d0,file=/dev/fdset/1,format=raw,if=none",
        "-device", "scsi-hd,id=drive2,drive=d0,bus=lsi0.0,scsi-id=0",
        "-object", "x-remote-object,id=robj1,devid=lsi0,fd=3",
        "-chardev", "stdio,id=qmp,signal=off",
        "-mon", "chardev=qmp,mode=control"])
    ro = os.open("/proc/self/fd/%d" % disk_fd, os.O_RDONLY | os.O_CLOEXEC)
    try:
        child = spawn("qemu-remote", argv, {3: sock_fd, 4: ro, 5: disk_fd},
                      want_stdin=True, want_stdout=True)
    finally:
        os.close(ro)
    ok = _read_until(child.stdout, b'{"QMP"', 20.0) is not None
    if ok:
        os.write(child.stdin, b'{"execute":"qmp_capabilities"}\n'
                              b'{"execute":"query-status"}\n')
        ok = _read_until(child.stdout, b'"status"', 20.0) is not None
    if not ok:
        child.close()
        raise RuntimeError("QEMU's remote did not answer QMP: "
                           + child.drain_stderr().decode(errors="replace"))
    return child


def start_mpjail_lsi(sock_fd, disk_fd):
    """mpjail-lsi --socket-fd 3 --disk-fd 4, the image opened by us."""
    lsi_bin = os.path.abspath(os.path.join(BUILD, "bin", "mpjail-lsi"))
    argv = as_nobody([lsi_bin, "--socket-fd", "3", "--disk-fd", "4"])
    return spawn("mpjail-lsi", argv, {3: sock_fd, 4: disk_fd})


REMOTES = {
    "qemu-remote": start_qemu_remote,
    "mpjail-lsi": start_mpjail_lsi,
}


def start_proxy_qemu(sock_fd, extra_args, mem="512", extra_fds=None):
    """The unprivileged QEMU: TCG, a shared memfd as guest RAM, the proxy
    device on sock_fd (its fd 3), serial console on stdout. stdin is a pipe
    we never write (the stdio chardev then never sees EOF). extra_fds:
    {child fd (4 and up): parent fd} for extra_args to name."""
    argv = as_nobody([
        QEMU, "-accel", "tcg", "-m", mem, "-nodefaults", "-display", "none",
        "-no-user-config", "-no-reboot", "-serial", "stdio",
        "-object", "memory-backend-memfd,id=mem,size=%sM,share=on" % mem,
        "-numa", "node,memdev=mem",
        "-device", "x-pci-proxy-dev,id=lsi0,fd=3"] + extra_args)
    fds = {3: sock_fd}
    fds.update(extra_fds or {})
    child = spawn("qemu", argv, fds, want_stdin=True, want_stdout=True)
    os.set_blocking(child.stdout, False)
    return child


class Link:
    """The socket between QEMU's proxy and the remote: one socketpair, or,
    with MPJAIL_E2E_TRACE=DIR, two joined by a logging relay that writes
    DIR/<name>.trace (tests/e2e/mpqemu_relay.py)."""

    def __init__(self, name):
        self.relay = None
        self.trace = None
        trace_dir = os.environ.get("MPJAIL_E2E_TRACE", "")
        if trace_dir:
            import mpqemu_relay
            os.makedirs(trace_dir, exist_ok=True)
            self.trace = os.path.join(trace_dir, name + ".trace")
            self.relay = mpqemu_relay.Relay(self.trace)
            self.remote_fd = self.relay.remote_end()
            self.qemu_fd = self.relay.proxy_end()
        else:
            self._a, self._b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            self.remote_fd = self._a.fileno()
            self.qemu_fd = self._b.fileno()

    def passed_on(self):
        """Both ends are in the children now: drop ours (idempotent)."""
        if self.relay:
            self.relay.close_peer_ends()
        else:
            self._a.close()
            self._b.close()

    def finish(self):
        """After both peers are gone: stop the relay, name the trace."""
        self.passed_on()
        if self.relay:
            self.relay.wait(10.0)
            print("trace: %s (%d messages)" % (self.trace, self.relay.count))


def make_image(size):
    """A sparse raw image of size bytes in /tmp; (path, fd opened O_RDWR).
    The fd is what the remote gets: nobody never opens the path."""
    fd, path = tempfile.mkstemp(prefix="mpjail-e2e-", suffix=".img")
    os.ftruncate(fd, size)
    os.set_inheritable(fd, False)
    return path, fd


def prerequisites(need_lsi=True):
    """A one-line reason the suite cannot run, or None."""
    if shutil.which(QEMU) is None:
        return "missing %s: run scripts/install-deps.sh" % QEMU
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "missing setpriv (util-linux)"
    lsi_bin = os.path.join(BUILD, "bin", "mpjail-lsi")
    if need_lsi and not os.access(lsi_bin, os.X_OK):
        return "missing %s: build first" % lsi_bin
    return None


class Results:
    def __init__(self):
        self.items = []

    def check(self, name, ok, detail=""):
        self.items.append((name, bool(ok)))
        print(("ok     " if ok else "FAILED ") + name
              + (": " + detail if detail and not ok else ""))
        sys.stdout.flush()
        return ok

    def summary(self):
        passed = sum(1 for _, ok in self.items if ok)
        failed = len(self.items) - passed
        print("%d passed, %d failed" % (passed, failed))
        return 0 if failed == 0 and passed > 0 else 1
