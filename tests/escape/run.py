#!/usr/bin/env python3
"""tests/escape/run.py: the escape-attempt suite.

Each attempt of tests/escape/probe runs twice:
- confined: mpjail-run --policy policy/lsi-remote.policy (the broker's
  sandbox for mpjail-lsi) runs the probe, which locks itself down exactly
  as mpjail-lsi does (Landlock, nproc 0, seccomp from the sealed memfd at
  fd 4) and then makes the attempt. Its outcome must be the expected one
  (SIGSYS when seccomp kills it, else the exact errno).
- control: the same probe, unconfined, as the same unprivileged tenant uid
  (or as root where the attempt is about root). An attempt marked "would
  succeed" must succeed there, so no confined result is vacuous.

Through mpjail-exec (the shim for programs that cannot lock themselves
down), a few attempts check that each layer it applies reaches the exec'd
program. Then, from outside, a held probe is inspected through /proc: host uid and
gid (not 0), no capability in any set, NoNewPrivs, seccomp filter mode,
namespaces other than the host's, exactly the policy's fds, the rlimits,
not dumpable. Last, mpjail-lsi itself runs under its policy.

Needs root (mpjail-run changes to the tenant's uid as the broker would),
bwrap, setpriv. Prints one line per check; exits 1 if any failed.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(os.environ.get("MPJAIL_BUILD", os.path.join(ROOT, "build")))
RUN = os.path.join(BUILD, "bin", "mpjail-run")
LSI = os.path.join(BUILD, "bin", "mpjail-lsi")
PROBE = os.path.join(BUILD, "tests", "escape", "probe")
POLICY = os.environ.get("MPJAIL_ESCAPE_POLICY",
                        os.path.join(ROOT, "policy", "lsi-remote.policy"))
SHIM = os.path.join(BUILD, "bin", "mpjail-exec")
SHIM_POLICY = os.path.join(HERE, "shim.policy")
TENANT = 60000 + os.getpid() % 4000
ABSTRACT = "mpjail-escape-%d" % os.getpid()

# attempt: (argument, control outcome, confined outcome, control as)
# "ok" means the attempt succeeded; a control outcome of "ok" marks an
# attempt that would succeed without the sandbox. SIB is the pid of an
# unconfined process of the same tenant uid (a sibling remote).
SIGSYS = "SIGSYS"
ATTEMPTS = [
    ("open-shadow", None, "ok", SIGSYS, "root"),
    ("open-passwd", None, "ok", SIGSYS, "tenant"),
    ("open-root", None, "ok", SIGSYS, "tenant"),
    ("open-self-exe", None, "ok", SIGSYS, "tenant"),
    ("open-dev-kvm", None, "EACCES", SIGSYS, "tenant"),
    ("open-dev-kvm", None, "ok", SIGSYS, "root"),
    ("create-tmp", None, "ok", SIGSYS, "tenant"),
    ("reopen-rw", "5", "ok", SIGSYS, "tenant"),
    ("pwrite-ro", "5", "EBADF", "EBADF", "tenant"),
    ("socket-inet", None, "ok", SIGSYS, "tenant"),
    ("socket-inet6", None, "ok", SIGSYS, "tenant"),
    ("socket-unix", None, "ok", SIGSYS, "tenant"),
    ("socket-vsock", None, "ok", SIGSYS, "tenant"),
    ("socket-netlink", None, "ok", SIGSYS, "tenant"),
    ("socket-alg", None, None, SIGSYS, "tenant"),
    ("socketpair", None, "ok", SIGSYS, "tenant"),
    ("connect-abstract", ABSTRACT, "ok", SIGSYS, "tenant"),
    ("kill-sibling", "SIB", "ok", SIGSYS, "tenant"),
    ("kill-init", None, "EPERM", SIGSYS, "tenant"),
    ("kill-parent", None, "ok", SIGSYS, "tenant-sh"),
    ("ptrace-sibling", "SIB", "ok", SIGSYS, "tenant"),
    ("vm-readv-sibling", "SIB", "ok", SIGSYS, "tenant"),
    ("pidfd-getfd-sibling", "SIB", "ok", SIGSYS, "tenant"),
    ("execve", None, "ok", SIGSYS, "tenant"),
    ("fork", None, "ok", SIGSYS, "tenant"),
    ("clone", None, "ok", SIGSYS, "tenant"),
    ("unshare-user", None, "ok", SIGSYS, "tenant"),
    ("unshare-net", None, "EPERM", SIGSYS, "tenant"),
    ("io-uring-setup", None, "ok", SIGSYS, "tenant"),
    ("mmap-exec", None, "ok", SIGSYS, "tenant"),
    ("mprotect-exec", None, "ok", SIGSYS, "tenant"),
    ("int80-getpid", None, "ok", SIGSYS, "tenant"),
    ("x32-getpid", None, "ENOSYS", SIGSYS, "tenant"),
    ("memfd-create", None, "ok", SIGSYS, "tenant"),
    ("shmget", None, "ok", SIGSYS, "tenant"),
    ("personality", None, "ok", SIGSYS, "tenant"),
    ("set-dumpable", None, "ok", SIGSYS, "tenant"),
    ("setuid-0", None, "EPERM", SIGSYS, "tenant"),
    ("setuid-0", None, "ok", SIGSYS, "root"),
    ("chroot", None, "EPERM", SIGSYS, "tenant"),
    ("mount", "MNT", "EPERM", SIGSYS, "tenant"),
    ("add-key", None, "ok", SIGSYS, "tenant"),
    ("setrlimit-nofile", None, "ok", SIGSYS, "tenant"),
    ("tiocsti", None, "ENOTTY", SIGSYS, "tenant"),
]

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print(("ok     " if ok else "FAILED ") + name +
          (": " + detail if detail else ""))
    sys.stdout.flush()


def as_tenant(argv):
    return ["setpriv", "--reuid", str(TENANT), "--regid", str(TENANT),
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"] + argv


def outcome(name, proc_rc, err):
    want = "RESULT " + ("execve" if name == "exec-landed" else name) + " "
    for line in err.splitlines():
        if line.startswith(want):
            return line[len(want):].strip()
    if proc_rc == 128 + 31 or proc_rc == -31:
        return SIGSYS
    return "exit %d: %s" % (proc_rc, err.strip()[-200:])


class Env:
    """What the attempts aim at: a sibling, an abstract socket, an image."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="mpjail-escape-")
        os.chmod(self.tmp, 0o755)
        self.image = os.path.join(self.tmp, "disk.img")
        self.mnt = os.path.join(self.tmp, "mnt")   # the mount attempt's target
        os.mkdir(self.mnt)
        with open(self.image, "wb") as f:
            f.write(b"\0" * 65536)
        os.chown(self.image, TENANT, TENANT)
        os.chmod(self.image, 0o600)
        self.sibling = subprocess.Popen(as_tenant(["sleep", "600"]))
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("\0" + ABSTRACT)
        self.listener.listen(64)
        time.sleep(0.1)

    def arg(self, a):
        if a == "SIB":
            return str(self.sibling.pid)
        return self.mnt if a == "MNT" else a

    def close(self):
        self.sibling.kill()
        self.sibling.wait()
        self.listener.close()
        os.unlink(self.image)
        os.rmdir(self.mnt)
        os.rmdir(self.tmp)


def fds_for_child(image):
    """A socketpair end at 3 and the image read-only at 5, as the broker."""
    ours, theirs = socket.socketpair()
    img = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
    return ours, theirs, img


def run_control(env, name, arg, who):
    ours, theirs, img = fds_for_child(env.image)

    def pre():
        os.dup2(theirs.fileno(), 3)
        os.dup2(img, 5)
    argv = [PROBE, name] + ([env.arg(arg)] if arg else [])
    if who == "tenant":
        argv = as_tenant(argv)
    elif who == "tenant-sh":    # the parent is a process of the tenant too
        argv = as_tenant(["sh", "-c", '"$@"; exit $?', "sh"] + argv)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       preexec_fn=pre, pass_fds=(3, 5))
    ours.close()
    theirs.close()
    os.close(img)
    return outcome(name, p.returncode, p.stderr)


def confined_argv(theirs_fd, img_path, probe_args):
    return [RUN, "--policy", POLICY, "--uid", str(TENANT), "--gid",
            str(TENANT), "--fd", "3=&%d" % theirs_fd,
            "--fd", "5=ro:" + img_path, "--", PROBE, "--lockdown",
            "--seccomp-fd", "4"] + probe_args


def run_confined(env, name, arg):
    ours, theirs, img = fds_for_child(env.image)
    os.close(img)
    argv = confined_argv(theirs.fileno(), env.image,
                         [name] + ([env.arg(arg)] if arg else []))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       pass_fds=(theirs.fileno(),))
    ours.close()
    theirs.close()
    return outcome(name, p.returncode, p.stderr)


def attempts(env):
    for name, arg, control, confined, who in ATTEMPTS:
        label = "%s (control as %s)" % (name, who)
        got_c = run_control(env, name, arg, who)
        if control is not None:
            check("control " + label, got_c == control,
                  "got %s, want %s" % (got_c, control)
                  if got_c != control else got_c)
        else:
            print("info   control %s: %s" % (label, got_c))
        if who not in ("tenant", "tenant-sh"):
            continue
        got = run_confined(env, name, arg)
        check("confined " + name, got == confined,
              "got %s, want %s" % (got, confined) if got != confined
              else got + (" (would succeed unconfined)"
                          if got_c == "ok" else ""))


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == pid:
            out.append(int(d))
    return out


def find_comm(root, comm, depth=6):
    todo = [root]
    for _ in range(depth):
        nxt = []
        for p in todo:
            for c in children(p):
                try:
                    with open("/proc/%d/comm" % c) as f:
                        if f.read().strip() == comm:
                            return c
                except OSError:
                    pass
                nxt.append(c)
        todo = nxt
    return None


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def limits(pid):
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        next(f)
        for line in f:
            name = line[:26].strip()
            out[name] = line[26:].split()[:2]
    return out


def namespaces(pid):
    return {ns: os.readlink("/proc/%d/ns/%s" % (pid, ns))
            for ns in ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")}


def inspect(pid, label, host_ns):
    st = status(pid)
    ids = str(TENANT)
    check(label + ": host uid is the tenant's, not 0",
          st["Uid"].split() == [ids] * 4, st["Uid"])
    check(label + ": host gid is the tenant's, not 0",
          st["Gid"].split() == [ids] * 4, st["Gid"])
    check(label + ": no supplementary groups", st["Groups"] == "",
          repr(st["Groups"]))
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        check(label + ": " + cap + " is empty", int(st[cap], 16) == 0,
              st[cap])
    check(label + ": NoNewPrivs", st["NoNewPrivs"] == "1", st["NoNewPrivs"])
    check(label + ": seccomp filter mode", st["Seccomp"] == "2",
          st["Seccomp"])
    check(label + ": in its own pid namespace",
          len(st["NSpid"].split()) == 2, st["NSpid"])
    ns = namespaces(pid)
    for k, v in sorted(ns.items()):
        check(label + ": namespace " + k + " is not the host's",
              v != host_ns[k], v)
    fds = sorted(int(x) for x in os.listdir("/proc/%d/fd" % pid))
    check(label + ": exactly the policy's fds (bpf closed after install)",
          fds == [0, 1, 2, 3, 5], str(fds))
    lim = limits(pid)
    for name, want in (("Max core file size", "0"),
                       ("Max open files", "64"),
                       ("Max processes", "0"),
                       ("Max locked memory", "0"),
                       ("Max msgqueue size", "0"),
                       ("Max realtime priority", "0")):
        got = lim.get(name, ["?", "?"])
        check(label + ": rlimit " + name, got == [want, want], str(got))
    owner = os.stat("/proc/%d/status" % pid).st_uid
    check(label + ": not dumpable (/proc owned by root)", owner == 0,
          "owner %d" % owner)


def held(env):
    host_ns = namespaces(os.getpid())   # the driver runs in the host's
    # the control for the outside checks: an unconfined tenant process
    sib = status(env.sibling.pid)
    check("control sibling: same namespaces as the host",
          namespaces(env.sibling.pid) == host_ns)
    check("control sibling: no seccomp, dumpable",
          sib["Seccomp"] == "0" and
          os.stat("/proc/%d/status" % env.sibling.pid).st_uid == TENANT)

    ours, theirs, img = fds_for_child(env.image)
    os.close(img)
    p = subprocess.Popen(confined_argv(theirs.fileno(), env.image, ["hold"]),
                         stderr=subprocess.PIPE, text=True,
                         pass_fds=(theirs.fileno(),))
    theirs.close()
    line = p.stderr.readline().strip()
    check("held probe is ready", line.startswith("RESULT hold ok"), line)
    pid = find_comm(p.pid, "probe")
    check("held probe found under mpjail-run", pid is not None)
    if pid is not None:
        inspect(pid, "probe", host_ns)
    ours.close()
    rc = p.wait(timeout=10)
    check("held probe exits 0 when its peer leaves", rc == 0, "rc %d" % rc)


def lsi_under_policy(env):
    ours, theirs, img = fds_for_child(env.image)
    os.close(img)
    argv = [RUN, "--policy", POLICY, "--uid", str(TENANT), "--gid",
            str(TENANT), "--fd", "3=&%d" % theirs.fileno(),
            "--fd", "5=rw:" + env.image, "--", LSI, "--socket-fd", "3",
            "--seccomp-fd", "4"]
    p = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True,
                         pass_fds=(theirs.fileno(),))
    theirs.close()
    pid = None
    for _ in range(100):
        pid = find_comm(p.pid, "mpjail-lsi")
        if pid is not None and status(pid).get("Seccomp") == "2":
            break
        time.sleep(0.05)
    check("mpjail-lsi under its policy: locked down",
          pid is not None and status(pid).get("Seccomp") == "2")
    if pid is not None:
        fds = sorted(int(x) for x in os.listdir("/proc/%d/fd" % pid))
        check("mpjail-lsi under its policy: fds", fds == [0, 1, 2, 3, 5],
              str(fds))
    ours.close()
    rc = p.wait(timeout=10)
    err = p.stderr.read()
    check("mpjail-lsi under its policy: exits 0 when QEMU leaves, silent",
          rc == 0 and err == "", "rc %d %s" % (rc, err.strip()))


# Through the shim (mpjail-run --shim mpjail-exec, tests/escape/shim.policy):
# the probe does not lock itself down; what stops it is what mpjail-exec
# applied before exec. (attempt, control as, confined outcome, layer)
SHIM_ATTEMPTS = [
    ("open-root", "tenant", "EACCES", "Landlock"),
    ("socket-inet", "tenant", SIGSYS, "seccomp"),
    ("io-uring-setup", "tenant", SIGSYS, "seccomp"),
    ("fork", "tenant", "EAGAIN", "nproc 0"),
    ("kill-parent", "tenant-sh", "EPERM", "Landlock signal scope"),
]


def shim(env):
    for name, who, want, layer in SHIM_ATTEMPTS:
        got_c = run_control(env, name, None, who)
        check("control %s (as %s)" % (name, who), got_c == "ok", got_c)
        ours, theirs = socket.socketpair()
        argv = [RUN, "--policy", SHIM_POLICY, "--uid", str(TENANT),
                "--gid", str(TENANT), "--fd", "3=&%d" % theirs.fileno(),
                "--shim", SHIM, "--", PROBE, name]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                           pass_fds=(theirs.fileno(),))
        ours.close()
        theirs.close()
        got = outcome(name, p.returncode, p.stderr)
        check("shim %s stopped by %s" % (name, layer), got == want,
              "got %s, want %s" % (got, want) if got != want else got)


def main():
    if os.geteuid() != 0:
        print("escape: needs root (mpjail-run becomes the tenant uid as "
              "the broker does)", file=sys.stderr)
        return 1
    for f in (RUN, PROBE, LSI, POLICY, SHIM, SHIM_POLICY):
        if not os.path.exists(f):
            print("escape: missing " + f, file=sys.stderr)
            return 1
    env = Env()
    try:
        attempts(env)
        held(env)
        lsi_under_policy(env)
        shim(env)
    finally:
        env.close()
    bad = [n for n, ok in results if not ok]
    print("escape: %d passed, %d failed" % (len(results) - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
