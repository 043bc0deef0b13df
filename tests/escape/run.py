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
import fcntl
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
POLICY_TOOL = os.path.join(BUILD, "bin", "mpjail-policy")
SHIM_POLICY = os.path.join(HERE, "shim.policy")
TENANT = 60000 + os.getpid() % 4000
ABSTRACT = "mpjail-escape-%d" % os.getpid()

# (label, attempt, argument, control outcome, confined outcome, control as)
# "ok" means the attempt succeeded; a control outcome of "ok" marks an
# attempt that would succeed without the sandbox. The label names the
# attempt in the report; the probe's attempt is what runs. Arguments:
# SIB is the pid of an unconfined process of the same tenant uid (a
# sibling remote); MNT an empty directory of the driver's; NSFD a network
# namespace fd at 5 (inside: the host's; the control's: its own); TTY a
# pty the driver holds, at fd 0 (a leaked terminal); SOCK the driver's
# pathname UNIX socket; OTHER_IMG and OTHER_SOCK another tenant's image
# and socket, by path.
# Control as: "tenant" (setpriv to the tenant uid, host namespaces),
# "tenant-sh" (the same under a tenant shell, for the parent), "root"
# (only read-only attempts: it changes nothing on the host), "userns"
# (the tenant uid in a throwaway user+mount+net+ipc namespace of its own,
# made with unshare(1), where it is root: for attempts that would change
# the host, mount and the like, which must never run in the host's
# namespaces as root). Only tenant, tenant-sh and userns rows run
# confined too, and only they make the escape matrix.
SIGSYS = "SIGSYS"


def A(label, arg, control, confined, who, attempt=None):
    return (label, attempt or label, arg, control, confined, who)


ATTEMPTS = [
    # the filesystem, by path
    A("open-shadow", None, "ok", SIGSYS, "root"),
    A("open-passwd", None, "ok", SIGSYS, "tenant"),
    A("open-root", None, "ok", SIGSYS, "tenant"),
    A("open-self-exe", None, "ok", SIGSYS, "tenant"),
    A("open-dev-kvm", None, "EACCES", SIGSYS, "tenant"),
    A("open-dev-kvm", None, "ok", SIGSYS, "root"),
    A("create-tmp", None, "ok", SIGSYS, "tenant"),
    A("proc-self-mem", None, "ok", SIGSYS, "tenant"),
    A("other-tenant-image", "OTHER_IMG", "EACCES", SIGSYS, "tenant",
      "open-path-rw"),
    A("other-tenant-image", "OTHER_IMG", "ok", SIGSYS, "root",
      "open-path-rw"),
    # the read-only image fd made writable
    A("reopen-rw", "5", "ok", SIGSYS, "tenant"),
    A("open-by-handle", None, "EPERM", SIGSYS, "tenant"),
    A("open-by-handle", None, "ok", SIGSYS, "root"),
    A("pwrite-ro", "5", "EBADF", "EBADF", "tenant"),
    A("fallocate-ro", "5", "EBADF", "EBADF", "tenant"),
    A("ftruncate-ro", "5", "EINVAL", SIGSYS, "tenant"),
    # sockets of every family, and connects
    A("socket-inet", None, "ok", SIGSYS, "tenant"),
    A("socket-inet6", None, "ok", SIGSYS, "tenant"),
    A("socket-unix", None, "ok", SIGSYS, "tenant"),
    A("socket-unix-dgram", "1/2", "ok", SIGSYS, "tenant", "socket-family"),
    A("socket-vsock", None, "ok", SIGSYS, "tenant"),
    A("socket-netlink", None, "ok", SIGSYS, "tenant"),
    A("socket-alg", None, "EAFNOSUPPORT", SIGSYS, "tenant"),
    A("socket-packet", "17/3", "ok", SIGSYS, "userns", "socket-family"),
    A("socket-packet", "17/3", "EPERM", SIGSYS, "tenant", "socket-family"),
    A("socket-inet-raw", "2/3/1", "ok", SIGSYS, "userns", "socket-family"),
    A("socket-inet-ping", "2/2/1", "EACCES", SIGSYS, "tenant", "socket-family"),
    A("socket-key", "15/3/2", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-can", "29/3/1", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-tipc", "30/5", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-xdp", "44/3", "ok", SIGSYS, "userns", "socket-family"),
    A("socket-rds", "21/5", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-bluetooth", "31/3", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-llc", "26/2", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-smc", "43/1", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-mctp", "45/2", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-kcm", "41/5", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socket-qipcrtr", "42/2", "EAFNOSUPPORT", SIGSYS, "userns", "socket-family"),
    A("socketpair", None, "ok", SIGSYS, "tenant"),
    A("connect-abstract", ABSTRACT, "ok", SIGSYS, "tenant"),
    A("connect-path", "SOCK", "ok", SIGSYS, "tenant"),
    A("other-tenant-socket", "OTHER_SOCK", "EACCES", SIGSYS, "tenant",
      "connect-path"),
    A("other-tenant-socket", "OTHER_SOCK", "ok", SIGSYS, "root",
      "connect-path"),
    # other processes: a sibling remote, init, the broker (our parent)
    A("kill-sibling", "SIB", "ok", SIGSYS, "tenant"),
    A("kill-init", None, "EPERM", SIGSYS, "tenant"),
    A("kill-parent", None, "ok", SIGSYS, "tenant-sh"),
    A("ptrace-sibling", "SIB", "ok", SIGSYS, "tenant"),
    A("vm-readv-sibling", "SIB", "ok", SIGSYS, "tenant"),
    A("pidfd-getfd-sibling", "SIB", "ok", SIGSYS, "tenant"),
    # new programs
    A("execve", None, "ok", SIGSYS, "tenant"),
    A("execveat", None, "ok", SIGSYS, "tenant"),
    A("memfd-exec", None, "ok", SIGSYS, "tenant"),
    # processes, threads, namespaces, mounts
    A("fork", None, "ok", SIGSYS, "tenant"),
    A("clone", None, "ok", SIGSYS, "tenant"),
    A("clone3", None, "ok", SIGSYS, "tenant"),
    A("pthread-create", None, "ok", SIGSYS, "tenant"),
    A("clone-thread", None, "ok", SIGSYS, "tenant"),
    A("clone-newuser", None, "ok", SIGSYS, "tenant"),
    A("clone-newpid", None, "ok", SIGSYS, "userns"),
    A("unshare-user", None, "ok", SIGSYS, "tenant"),
    A("unshare-net", None, "ok", SIGSYS, "userns"),
    A("unshare-net", None, "EPERM", SIGSYS, "tenant"),
    A("unshare-mount", None, "ok", SIGSYS, "userns"),
    A("setns-net", "NSFD", "ok", SIGSYS, "userns"),
    A("setns-net", "NSFD", "EPERM", SIGSYS, "tenant"),
    A("mount", "MNT", "ok", SIGSYS, "userns"),
    A("mount", "MNT", "EPERM", SIGSYS, "tenant"),
    A("fsopen-fsmount", "MNT", "ok", SIGSYS, "userns"),
    A("fsopen-fsmount", "MNT", "EPERM", SIGSYS, "tenant"),
    A("open-tree", "MNT", "ok", SIGSYS, "userns"),
    A("pivot-root", "MNT", "ok", SIGSYS, "userns"),
    A("pivot-root", "MNT", "EPERM", SIGSYS, "tenant"),
    A("chroot", None, "ok", SIGSYS, "userns"),
    A("chroot", None, "EPERM", SIGSYS, "tenant"),
    # io_uring: operations seccomp would never see
    A("io-uring-setup", None, "ok", SIGSYS, "tenant"),
    # executable memory, other syscall tables
    A("mmap-exec", None, "ok", SIGSYS, "tenant"),
    A("mprotect-exec", None, "ok", SIGSYS, "tenant"),
    A("modify-ldt", None, "ok", SIGSYS, "tenant"),
    A("int80-getpid", None, "ok", SIGSYS, "tenant"),
    A("x32-getpid", None, "ENOSYS", SIGSYS, "tenant"),
    # kernel interfaces a remote never needs
    A("memfd-create", None, "ok", SIGSYS, "tenant"),
    A("userfaultfd", None, "ok", SIGSYS, "tenant"),
    A("bpf-map-create", None, "EPERM", SIGSYS, "tenant"),
    A("perf-event-open", None, "ok", SIGSYS, "tenant"),
    A("add-key", None, "ok", SIGSYS, "tenant"),
    A("keyctl-join", None, "ok", SIGSYS, "tenant"),
    A("vmsplice", None, "ok", SIGSYS, "tenant"),
    A("shmget", None, "ok", SIGSYS, "tenant"),
    A("msgget", None, "ok", SIGSYS, "tenant"),
    A("semget", None, "ok", SIGSYS, "tenant"),
    # identity and limits
    A("personality", None, "ok", SIGSYS, "tenant"),
    A("set-dumpable", None, "ok", SIGSYS, "tenant"),
    A("setuid-0", None, "EPERM", SIGSYS, "tenant"),
    A("setuid-0", None, "ok", SIGSYS, "root"),
    A("capset", None, "EPERM", SIGSYS, "tenant"),
    A("capset", None, "ok", SIGSYS, "root"),
    A("setrlimit-nofile", None, "ok", SIGSYS, "tenant"),
    # (root here lacks CAP_SYS_RESOURCE, so no control shows it succeed)
    A("setrlimit-raise", None, "EPERM", SIGSYS, "tenant"),
    # terminals: the log pipe, and a leaked pty (with bit 32 of the
    # request set, which the kernel drops: a filter must see all 64 bits)
    A("tiocsti", None, "ENOTTY", SIGSYS, "tenant"),
    A("tiocsti-tty", "TTY", "ok", SIGSYS, "tenant"),
    A("tiocsti-high", "TTY", "ok", SIGSYS, "tenant"),
    # (TIOCLINUX is a VT's: on a pty the kernel answers ENOTTY)
    A("tioclinux", "TTY", "ENOTTY", SIGSYS, "tenant"),
    A("tioclinux-high", "TTY", "ENOTTY", SIGSYS, "tenant"),
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


def in_userns(argv, redirect=""):
    """The tenant, root only in a user namespace of its own (unshare(1)),
    with its own mount, net and ipc namespaces: what it mounts or joins
    dies with it, and it has no capability over anything of the host's."""
    return as_tenant(["unshare", "--user", "--map-root-user", "--mount",
                      "--net", "--ipc", "--", "sh", "-c",
                      'exec "$@"' + redirect, "sh"] + argv)


def outcome(name, proc_rc, err):
    want = "RESULT " + name + " "
    for line in err.splitlines():
        if line.startswith(want):
            return line[len(want):].strip()
    if proc_rc == 128 + 31 or proc_rc == -31:
        return SIGSYS
    return "exit %d: %s" % (proc_rc, err.strip()[-200:])


class Env:
    """What the attempts aim at: a sibling, sockets, images, a pty."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="mpjail-escape-")
        os.chmod(self.tmp, 0o755)
        self.image = os.path.join(self.tmp, "disk.img")
        self.mnt = os.path.join(self.tmp, "mnt")   # the mount attempts' target
        os.mkdir(self.mnt)
        with open(self.image, "wb") as f:
            f.write(b"\0" * 65536)
        os.chown(self.image, TENANT, TENANT)
        os.chmod(self.image, 0o600)
        # another tenant's image and socket, where a path would find them
        self.other_img = os.path.join(self.tmp, "other.img")
        with open(self.other_img, "wb") as f:
            f.write(b"\0" * 4096)
        os.chown(self.other_img, TENANT + 1, TENANT + 1)
        os.chmod(self.other_img, 0o600)
        self.other_sock_path = os.path.join(self.tmp, "other.sock")
        self.other_sock = self.listen_path(self.other_sock_path, TENANT + 1)
        self.sock_path = os.path.join(self.tmp, "mine.sock")
        self.sock = self.listen_path(self.sock_path, TENANT)
        self.sibling = subprocess.Popen(as_tenant(["sleep", "600"]))
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("\0" + ABSTRACT)
        self.listener.listen(64)
        self.pty_master, self.pty_slave = os.openpty()
        self.host_netns = os.open("/proc/self/ns/net", os.O_RDONLY |
                                  os.O_CLOEXEC)
        self.bpf = seccomp_memfd()
        time.sleep(0.1)

    @staticmethod
    def listen_path(path, owner):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(64)
        os.chown(path, owner, owner)
        os.chmod(path, 0o600)
        return s

    def arg(self, a):
        return {"SIB": str(self.sibling.pid), "MNT": self.mnt, "NSFD": "5",
                "TTY": "0", "SOCK": self.sock_path,
                "OTHER_IMG": self.other_img,
                "OTHER_SOCK": self.other_sock_path}.get(a, a)

    def close(self):
        self.sibling.kill()
        self.sibling.wait()
        self.listener.close()
        for s in (self.sock, self.other_sock):
            s.close()
        for fd in (self.pty_master, self.pty_slave, self.host_netns,
                   self.bpf):
            os.close(fd)
        for f in (self.image, self.other_img, self.sock_path,
                  self.other_sock_path):
            os.unlink(f)
        os.rmdir(self.mnt)
        os.rmdir(self.tmp)


def seccomp_memfd():
    """The policy's compiled program (one disk), in a sealed memfd, as the
    broker hands it over: for the seccomp-alone runs of the matrix."""
    with tempfile.TemporaryDirectory(prefix="mpjail-escape-bpf-") as d:
        out = os.path.join(d, "prog")   # --output creates it, exclusively
        subprocess.run([POLICY_TOOL, "--disks", "1", "bpf", "--output",
                        out, POLICY], check=True, stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            prog = f.read()
    fd = os.memfd_create("seccomp", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, prog)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL |
                fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    return fd


def fds_for_child(image):
    """A socketpair end at 3 and the image read-only at 5, as the broker."""
    ours, theirs = socket.socketpair()
    img = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
    return ours, theirs, img


# The self side's layers the probe applies (--layers), per run kind.
# "control": none; "seccomp", "landlock": that one alone, on the control's
# identity; "ns": mpjail-run's namespaces, uid, capabilities and rlimits
# (nproc too: the self side sets it only because bubblewrap must fork);
# "all": the confined run, everything.
def run_control(env, name, arg, who, layers="control", attempt=None):
    attempt = attempt or name
    ours, theirs, img = fds_for_child(env.image)
    bpf = env.bpf

    def pre():
        os.dup2(theirs.fileno(), 3)
        os.dup2(img, 5)
        if layers == "seccomp":
            os.dup2(bpf, 4)
        if arg == "TTY":
            os.dup2(env.pty_slave, 0)
        if arg == "NSFD" and who != "userns":
            os.dup2(env.host_netns, 5)  # userns: its own, by sh
    argv = [PROBE]
    if layers == "seccomp":
        argv += ["--layers", "seccomp", "--seccomp-fd", "4"]
    elif layers == "landlock":
        argv += ["--layers", "landlock"]
    argv += [attempt] + ([env.arg(arg)] if arg else [])
    if who == "tenant":
        argv = as_tenant(argv)
    elif who == "tenant-sh":    # the parent is a process of the tenant too
        argv = as_tenant(["sh", "-c", '"$@"; exit $?', "sh"] + argv)
    elif who == "userns":
        argv = in_userns(argv, " 5</proc/self/ns/net" if arg == "NSFD"
                         else "")
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       preexec_fn=pre, pass_fds=(3, 4, 5) if
                       layers == "seccomp" else (3, 5))
    ours.close()
    theirs.close()
    os.close(img)
    return outcome(attempt, p.returncode,
                   p.stderr)


def confined_argv(theirs_fd, img_path, probe_args, fd5=None, fd0=None,
                  layers="all"):
    argv = [RUN, "--policy", POLICY, "--uid", str(TENANT), "--gid",
            str(TENANT), "--fd", "3=&%d" % theirs_fd,
            "--fd", ("5=&%d" % fd5) if fd5 is not None else
            "5=ro:" + img_path]
    if fd0 is not None:
        argv += ["--fd", "0=&%d" % fd0]
    argv += ["--", PROBE]
    if layers == "all":
        argv += ["--lockdown", "--seccomp-fd", "4"]
    else:
        argv += ["--layers", "nproc"]
    return argv + probe_args


def run_confined(env, name, arg, layers="all", attempt=None):
    attempt = attempt or name
    ours, theirs, img = fds_for_child(env.image)
    os.close(img)
    fd5 = env.host_netns if arg == "NSFD" else None
    fd0 = env.pty_slave if arg == "TTY" else None
    argv = confined_argv(theirs.fileno(), env.image,
                         [attempt] + ([env.arg(arg)] if arg else []),
                         fd5=fd5, fd0=fd0, layers=layers)
    passed = [theirs.fileno()] + [f for f in (fd5, fd0) if f is not None]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       pass_fds=passed)
    ours.close()
    theirs.close()
    return outcome(attempt, p.returncode, p.stderr)


CONFINED_AS = ("tenant", "tenant-sh", "userns")


def attempts(env):
    labels = set()
    for label, attempt, arg, control, confined, who in ATTEMPTS:
        labels.add(label)
        tag = "%s (control as %s)" % (label, who)
        got_c = run_control(env, label, arg, who, attempt=attempt)
        if control is not None:
            check("control " + tag, got_c == control,
                  "got %s, want %s" % (got_c, control)
                  if got_c != control else got_c)
        else:
            print("info   control %s: %s" % (tag, got_c))
        if who not in CONFINED_AS:
            continue
        got = run_confined(env, label, arg, attempt=attempt)
        check("confined " + label, got == confined,
              "got %s, want %s" % (got, confined) if got != confined
              else got + (" (would succeed unconfined)"
                          if got_c == "ok" else ""))
    print("info   %d distinct attempts" % len(labels))


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


# ---- make escape-matrix: which layer stops each attempt ----

LAYERS = ("seccomp", "landlock", "ns")
LAYER_NAMES = {"seccomp": "seccomp", "landlock": "Landlock",
               "ns": "ns+uid+rlimits"}


def matrix_rows():
    """One row per distinct attempt: its 'would succeed' control if it has
    one that can also run confined, else its first such control."""
    rows = {}
    for row in ATTEMPTS:
        label, _, _, control, _, who = row
        if who not in CONFINED_AS:
            continue
        if label not in rows or (control == "ok" and rows[label][3] != "ok"):
            rows[label] = row
    return [rows[k] for k in dict.fromkeys(r[0] for r in ATTEMPTS)
            if k in rows]


def matrix(env):
    """Each attempt under each layer alone, on the control's identity for
    seccomp and Landlock (the self side applied by the probe), through
    mpjail-run for namespaces, uid, capabilities and rlimits."""
    lines, table = [], []
    multi, single, kernel, none = [], {}, [], []
    for label, attempt, arg, control, confined, who in matrix_rows():
        got = {"control": run_control(env, label, arg, who,
                                      attempt=attempt)}
        for layer in ("seccomp", "landlock"):
            got[layer] = run_control(env, label, arg, who, layers=layer,
                                     attempt=attempt)
        got["ns"] = run_confined(env, label, arg, layers="ns",
                                 attempt=attempt)
        got["all"] = run_confined(env, label, arg, attempt=attempt)
        check("matrix %s: all layers give %s" % (label, confined),
              got["all"] == confined, got["all"])
        for k, v in got.items():
            if v.startswith("exit "):
                check("matrix %s: %s run ends normally" % (label, k), False,
                      v)
        stoppers = [x for x in LAYERS if got[x] != "ok"]
        if got["control"] != "ok":
            kernel.append(label)
            verdict = "unconfined too (%s)" % got["control"]
        elif len(stoppers) >= 2:
            multi.append(label)
            verdict = "%d layers" % len(stoppers)
        elif len(stoppers) == 1:
            single[label] = LAYER_NAMES[stoppers[0]]
            verdict = "ONLY " + LAYER_NAMES[stoppers[0]]
        else:
            none.append(label)
            verdict = "only all together"
        table.append((label, who, got["control"], got["seccomp"],
                      got["landlock"], got["ns"], got["all"], verdict))
    head = ("attempt", "control as", "control", "seccomp", "Landlock",
            "ns+uid+rlim", "all", "stopped by")
    widths = [max(len(str(r[i])) for r in table + [head])
              for i in range(len(head))]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    lines.append(fmt % head)
    lines.append(fmt % tuple("-" * w for w in widths))
    lines += [fmt % r for r in table]
    would = len(multi) + len(single) + len(none)
    lines.append("")
    lines.append("%d distinct attempts; %d would succeed unconfined, of "
                 "which %d are stopped by two or more layers alone, %d by "
                 "one layer alone, %d only by the layers together; %d fail "
                 "unconfined too." % (len(table), would, len(multi),
                                      len(single), len(none), len(kernel)))
    for layer in LAYER_NAMES.values():
        only = sorted(k for k, v in single.items() if v == layer)
        if only:
            lines.append("stopped only by %s: %s" % (layer, " ".join(only)))
    if none:
        lines.append("stopped only by all together: " + " ".join(none))
    if kernel:
        lines.append("failing unconfined too (no layer needed): " +
                     " ".join(kernel))
    text = "\n".join(lines) + "\n"
    print(text)
    out = os.path.join(BUILD, "escape-matrix.txt")
    with open(out, "w") as f:
        f.write(text)
    print("escape-matrix: written to " + out)
    check("matrix: most attempts that would succeed are stopped by at "
          "least two layers alone", 2 * len(multi) > would,
          "%d of %d" % (len(multi), would))
    check("matrix: every attempt that would succeed is stopped by some "
          "layer alone", not none, " ".join(none))



def main():
    if os.geteuid() != 0:
        print("escape: needs root (mpjail-run becomes the tenant uid as "
              "the broker does)", file=sys.stderr)
        return 1
    for f in (RUN, PROBE, LSI, POLICY, SHIM, SHIM_POLICY, POLICY_TOOL):
        if not os.path.exists(f):
            print("escape: missing " + f, file=sys.stderr)
            return 1
    env = Env()
    try:
        if "--matrix" in sys.argv[1:]:
            matrix(env)
            return finish()
        attempts(env)
        held(env)
        lsi_under_policy(env)
        shim(env)
    finally:
        env.close()
    return finish()


def finish():
    bad = [n for n, ok in results if not ok]
    print("escape: %d passed, %d failed" % (len(results) - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
