#!/usr/bin/env python3
"""bench/run.py: `make bench`. Runs every figure of issue #9 in one go
(mpjail-bench's subcommands and bench/guest_dd.py), collects their BENCH
lines, prints one table and writes it, with the machine and the date, to
BENCHMARKS.md. Every number in the table comes from this run; ratios are
computed here, never typed in.

  run.py --build DIR [--only mmio,scsi,...] [--out FILE]

A run with --only writes nothing unless --out is given. Each figure has a
time limit; a figure that fails or times out is a row saying so.
Python 3 standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURES = ["seccomp", "mmio", "scsi", "spawn", "density", "dd"]
LIMIT_S = {"seccomp": 60, "mmio": 150, "scsi": 120, "spawn": 150,
           "density": 150, "dd": 240}


def run_figure(fig, build):
    env = dict(os.environ, MPJAIL_BUILD=build)
    if fig == "dd":
        argv = [sys.executable, os.path.join(TOP, "bench", "guest_dd.py")]
    else:
        argv = [os.path.join(build, "bench", "mpjail-bench"), fig]
    t0 = time.monotonic()
    recs = []
    try:
        p = subprocess.run(argv, cwd=TOP, env=env, stdout=subprocess.PIPE,
                           timeout=LIMIT_S[fig])
        out = p.stdout.decode(errors="replace")
        if p.returncode != 0:
            recs.append({"fig": fig, "row": "(figure)",
                         "skipped": "exit status %d" % p.returncode})
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        recs.append({"fig": fig, "row": "(figure)",
                     "skipped": "over its %d s limit" % LIMIT_S[fig]})
    for line in out.splitlines():
        if line.startswith("BENCH "):
            try:
                recs.append(json.loads(line[6:]))
            except ValueError:
                print("run.py: bad line: " + line, file=sys.stderr)
    print("bench: %-8s %5.1f s" % (fig, time.monotonic() - t0), file=sys.stderr)
    return recs


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        q = subprocess.run(["qemu-system-x86_64", "--version"],
                           stdout=subprocess.PIPE, timeout=10)
        qemu = q.stdout.decode().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        qemu = "not found"
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "qemu": qemu, "memory": mem,
            "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "root": os.geteuid() == 0}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---- rendering ----

def us(ns):
    return "%.1f" % (ns / 1000.0)


def ratio(a, b):
    if not a or not b:
        return "–"
    return "%.2f×" % (a / b)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def sel(recs, fig, **kv):
    return [r for r in recs if r["fig"] == fig and
            all(r.get(k) == v for k, v in kv.items())]


def one(recs, fig, **kv):
    s = sel(recs, fig, **kv)
    return s[0] if s else None


def skipped(recs, fig):
    return ["| %s | %s |" % (r["row"], r["skipped"])
            for r in recs if r["fig"] == fig and "skipped" in r]


def section(title, body, recs, fig, note=None):
    parts = ["### " + title, "", body]
    sk = skipped(recs, fig)
    if sk:
        parts += ["", "Not measured:", "", "| row | why |", "|---|---|"] + sk
    if note:
        parts += ["", note]
    return "\n".join(parts)


def render_mmio(recs):
    rows = []
    for placement in ("one CPU", "two CPUs"):
        floor = one(recs, "mmio", row="floor", placement=placement, op="read")
        qemu = one(recs, "mmio", row="qemu-remote", placement=placement,
                   op="read")
        names = []
        for r in sel(recs, "mmio", placement=placement, op="read"):
            names.append(r["row"])
        for name in names:
            rd = one(recs, "mmio", row=name, placement=placement, op="read")
            wr = one(recs, "mmio", row=name, placement=placement, op="write")
            if not rd or not wr:
                continue
            fw = one(recs, "mmio", row="floor", placement=placement,
                     op="write")
            qw = one(recs, "mmio", row="qemu-remote", placement=placement,
                     op="write")
            rows.append([
                name, "%s (client %d, remote %d; remote allowed %s)" % (
                    placement, rd["client_cpu"], rd["remote_cpu"],
                    rd["remote_cpus_allowed"]), rd.get("autogroup", "?"),
                us(rd["median_ns"]), us(rd["p99_ns"]),
                us(wr["median_ns"]), us(wr["p99_ns"]),
                ratio(rd["median_ns"], floor and floor["median_ns"]) + " / " +
                ratio(wr["median_ns"], fw and fw["median_ns"]),
                ratio(rd["median_ns"], qemu and qemu["median_ns"]) + " / " +
                ratio(wr["median_ns"], qw and qw["median_ns"]),
            ])
    n = sel(recs, "mmio", op="read")
    body = table(["peer", "placement", "sched autogroup", "read median µs",
                  "read p99 µs",
                  "write median µs", "write p99 µs", "× floor (r / w)",
                  "× QEMU's remote (r / w)"], rows)
    note = ("%s accesses of each kind per row (5 interleaved rounds). "
            "floor: bare socketpair ping-pong, 16+24 bytes out, 16+8 back, "
            "one blocking write() and read() a side. codec echo: "
            "libmpjail-proxy against a peer that only does wire_recv/"
            "wire_send (the protocol's syscalls without a device). "
            "mpjail-lsi: plainly forked (Landlock, no seccomp); seccomp: the "
            "same plus the compiled lsi-remote policy; jailed: through "
            "mpjail-run as the broker confines it (namespaces, tenant uid, "
            "Landlock, seccomp)." % (n[0]["n"] if n else "?"))
    return section("1. MMIO round trip (SCRATCHA through BAR1)", body, recs,
                   "mmio", note)


def render_scsi(recs):
    rows = []
    q = {w: one(recs, "scsi", row="qemu-remote", work=w) for w in
         ("4 KiB random read QD1", "1 MiB sequential read",
          "1 MiB sequential write")}
    names = []
    for r in sel(recs, "scsi"):
        if "work" in r and r["row"] not in names:
            names.append(r["row"])
    for name in names:
        s4 = one(recs, "scsi", row=name, work="4 KiB random read QD1")
        rd = one(recs, "scsi", row=name, work="1 MiB sequential read")
        wr = one(recs, "scsi", row=name, work="1 MiB sequential write")
        if not (s4 and rd and wr):
            continue
        qs4, qrd, qwr = (q["4 KiB random read QD1"], q["1 MiB sequential read"],
                         q["1 MiB sequential write"])
        rows.append([name, "%.0f" % s4["iops"], us(s4["median_ns"]),
                     us(s4["p99_ns"]), "%.0f" % rd["mb_s"], "%.0f" % wr["mb_s"],
                     "%s / %s / %s" % (ratio(s4["iops"], qs4 and qs4["iops"]),
                                       ratio(rd["mb_s"], qrd and qrd["mb_s"]),
                                       ratio(wr["mb_s"], qwr and qwr["mb_s"]))])
    m = one(recs, "memcpy", row="memcpy 1 MiB blocks")
    if m:
        rows.append(["(ceiling) memcpy, 1 MiB blocks", "", "", "",
                     "%.0f" % m["mb_s_median"], "%.0f" % m["mb_s_median"], ""])
    n4 = sel(recs, "scsi", work="4 KiB random read QD1")
    n1 = sel(recs, "scsi", work="1 MiB sequential read")
    body = table(["remote", "4 KiB QD1 IOPS", "4 KiB median µs",
                  "4 KiB p99 µs", "1 MiB read MB/s", "1 MiB write MB/s",
                  "× QEMU's remote (IOPS / read / write)"], rows)
    note = ("Driver model (proxy/lsi_driver.c) playing guest and KVM: READ(10)"
            "/WRITE(10) through SCRIPTS, completion on the irqfd eventfd. "
            "128 MiB image in /dev/shm, every block stamped with its LBA and "
            "checked on read. %s 4 KiB commands, %s 1 MiB commands each way, "
            "5 interleaved rounds, processes not pinned. MB = 10^6 bytes. "
            "The driver model copies each buffer into and out of its guest "
            "RAM (one memcpy per command on the client side) and the remote "
            "preads/pwrites guest RAM (one copy): two copies per MiB, so "
            "half the memcpy figure is the ceiling." % (
                n4[0]["n"] if n4 else "?", n1[0]["n"] if n1 else "?"))
    return section("2. SCSI through the driver model (no guest)", body, recs,
                   "scsi", note)


def render_dd(recs):
    ip = one(recs, "dd", row="in-process")
    rows = []
    for r in sel(recs, "dd"):
        if "write_mb_s" not in r:
            continue
        rows.append([r["row"], "%.0f" % r["write_mb_s"], "%.0f" % r["read_mb_s"],
                     ratio(r["write_mb_s"], ip and ip.get("write_mb_s")) + " / " +
                     ratio(r["read_mb_s"], ip and ip.get("read_mb_s")),
                     " ".join(str(x) for x in r["write_all"]),
                     " ".join(str(x) for x in r["read_all"])])
    body = table(["LSI53C895A", "write MB/s (median)", "read MB/s (median)",
                  "× in-process (w / r)", "each write", "each read"], rows)
    note = ("**This measures the PIT tick more than the remote.** The Linux "
            "guest (Debian 12's kernel, sym53c8xx) boots under TCG with "
            "`irqpoll nolapic noapic`: QEMU's proxy wires INTx only through "
            "a KVM irqfd, so a proxied command completes when the next PIT "
            "tick polls the handler. All three boot with the same command "
            "line. 64 MiB of 1 MiB O_DIRECT dd, write then read, three "
            "times, timed by the guest's clock; 128 MiB image in /dev/shm.")
    return section("3. Guest dd through QEMU (TCG, irqpoll)", body, recs, "dd",
                   note)


def mb(kb):
    return "%.1f" % (kb / 1024.0)


def render_rss(recs):
    q = one(recs, "rss", row="qemu-remote")
    rows = []
    for r in sel(recs, "rss"):
        if "VmHWM" not in r:
            continue
        rows.append([r["row"], mb(r["VmHWM"]), mb(r["RssAnon"]),
                     mb(r["RssFile"]), mb(r["RssShmem"]), "%d" % r["Threads"],
                     ratio(r["VmHWM"], q and q["VmHWM"])])
    body = table(["remote", "VmHWM MB", "RssAnon MB", "RssFile MB",
                  "RssShmem MB", "threads", "× QEMU's remote"], rows)
    note = ("Read from /proc/PID/status after figure 2's work (the same "
            "commands for each). RssShmem is the guest RAM the commands "
            "touched (the driver model's 64 MiB memfd, shared).")
    return section("4. Peak RSS after the same work", body, recs, "rss", note)


def render_spawn(recs):
    base = one(recs, "spawn", row="mpjail-lsi unconfined (fork+exec)")
    rows = []
    for r in sel(recs, "spawn"):
        if "median_ns" not in r:
            continue
        rows.append([r["row"], "%.2f" % (r["median_ns"] / 1e6),
                     "%.2f" % (r["p99_ns"] / 1e6), r["n"],
                     ratio(r["median_ns"], base and base["median_ns"])])
    body = table(["start", "median ms", "p99 ms", "n", "× unconfined"], rows)
    note = ("From the start of the spawn to the answer of a config read of "
            "dword 0 (checked: 0x00121000). \"as the broker\": policy "
            "compiled once, then per remote sbx_jail_from_policy, the "
            "policy's fds (stdin/stdout /dev/null, a log pipe, the socket, "
            "the sealed seccomp memfd, one disk), mpjail-lsi bound at "
            "/mpjail-lsi, sbx_spawn (bubblewrap). mpjail-run parses and "
            "compiles the policy each time.")
    return section("5. Spawn to first answer", body, recs, "spawn", note)


def render_density(recs):
    rows = []
    for r in sel(recs, "density"):
        if "count" not in r:
            continue
        c = r["count"]
        rows.append([c, r["alive_lsi"], r["processes"],
                     "%.2f" % (r["spawn_median_ns"] / 1e6),
                     "%.2f" % (r["all_answered_ns"] / 1e9),
                     "%s (%.0f kB each)" % (mb(r["pss_lsi_kb"]),
                                            r["pss_lsi_kb"] / c),
                     "%s (%.0f kB each)" % (mb(r["pss_all_kb"]),
                                            r["pss_all_kb"] / c),
                     "%s (%.0f kB each)" % (mb(r["memavail_delta_kb"]),
                                            r["memavail_delta_kb"] / c)])
    body = table(["remotes", "answering", "processes", "spawn median ms",
                  "all answered s", "PSS mpjail-lsi MB",
                  "PSS with bubblewrap MB", "MemAvailable drop MB"], rows)
    note = ("Confined as the broker does it (figure 5), one tenant uid each, "
            "all alive at once, each having answered a config read (no guest "
            "RAM mapped). Processes: per remote, bubblewrap's monitor, its "
            "pid-namespace init and mpjail-lsi. MemAvailable's drop also "
            "counts kernel memory (stacks, page tables, namespaces), and "
            "whatever else the machine did meanwhile.")
    return section("6. Density", body, recs, "density", note)


def render_seccomp(recs):
    rows = []
    for r in sel(recs, "seccomp"):
        if "plain_ns" not in r:
            continue
        rows.append([r["row"], "%.0f" % r["plain_ns"], "%.0f" % r["filtered_ns"],
                     "%+.0f" % (r["filtered_ns"] - r["plain_ns"]),
                     ratio(r["filtered_ns"], r["plain_ns"]), r["calls"]])
    body = table(["syscall", "no filter ns", "lsi-remote.policy ns",
                  "Δ ns", "ratio", "calls"], rows)
    note = ("Median of 9 loops of 100 000 calls, both children pinned to the "
            "same CPU, fds at the policy's numbers (3: socket, 5: disk).")
    return section("7. seccomp cost per syscall", body, recs, "seccomp", note)


def goals(recs):
    """Issue #9's goals, each checked against this run's figures."""
    rows = []

    def add(goal, got, ok):
        rows.append([goal, got, "met" if ok else "missed" if ok is False else "–"])

    for pl in ("one CPU", "two CPUs"):
        f = one(recs, "mmio", row="floor", placement=pl, op="read")
        j = (one(recs, "mmio", row="mpjail-lsi jailed", placement=pl, op="read")
             or one(recs, "mmio", row="mpjail-lsi", placement=pl, op="read"))
        q = one(recs, "mmio", row="qemu-remote", placement=pl, op="read")
        if f and j:
            r = j["median_ns"] / f["median_ns"]
            add("MMIO read ≤ 1.1× floor (%s, %s)" % (pl, j["row"]),
                "%.2f× (QEMU's remote %s)" % (
                    r, ratio(q["median_ns"], f["median_ns"]) if q else "–"),
                r <= 1.1)
    for w in ("1 MiB sequential read", "1 MiB sequential write"):
        j = (one(recs, "scsi", row="mpjail-lsi jailed", work=w)
             or one(recs, "scsi", row="mpjail-lsi", work=w))
        q = one(recs, "scsi", row="qemu-remote", work=w)
        if j and q:
            r = j["mb_s"] / q["mb_s"]
            add("%s ≥ 1.2× QEMU's remote" % w, "%.2f×" % r, r >= 1.2)
    j = one(recs, "rss", row="mpjail-lsi jailed") or one(recs, "rss",
                                                         row="mpjail-lsi")
    q = one(recs, "rss", row="qemu-remote")
    if j and q and "VmHWM" in j and "VmHWM" in q:
        r = j["VmHWM"] / q["VmHWM"]
        add("RSS ≤ 0.1× QEMU's remote", "%.3f×" % r, r <= 0.1)
    s = one(recs, "spawn", row="jailed, as the broker (sbx_spawn)")
    if s and "median_ns" in s:
        add("spawn ≤ 20 ms", "%.1f ms" % (s["median_ns"] / 1e6),
            s["median_ns"] <= 20e6)
    d = one(recs, "density", row="256 remotes")
    if d and "count" in d:
        worst = max(d["pss_all_kb"], d["memavail_delta_kb"])
        add("256 remotes within 1 GiB",
            "%s MB PSS, %s MB MemAvailable" % (mb(d["pss_all_kb"]),
                                               mb(d["memavail_delta_kb"])),
            worst <= 1048576)
    return table(["goal", "this run", ""], rows)


def where_time_goes(recs):
    """Decompositions computed from this run's rows."""
    lines = []
    for pl in ("one CPU",):
        g = {n: one(recs, "mmio", row=n, placement=pl, op="read") for n in
             ("floor", "codec echo", "mpjail-lsi", "mpjail-lsi seccomp",
              "mpjail-lsi jailed", "qemu-remote")}
        if g["floor"] and g["codec echo"]:
            lines.append(
                "- MMIO, %s: the protocol itself (codec echo − floor) costs "
                "%s µs of the round trip: wire_recv reads a message with a "
                "non-blocking recvmsg that fails with EAGAIN, ppoll, then "
                "one recvmsg for the header and one for the body, on both "
                "sides — 4 receive-side syscalls where the floor makes 1." % (
                    pl, us(g["codec echo"]["median_ns"] -
                           g["floor"]["median_ns"])))
        if g["codec echo"] and g["mpjail-lsi"]:
            lines.append(
                "- MMIO, %s: mpjail-lsi's device work and its own loop "
                "(mpjail-lsi − codec echo): %s µs; seccomp (seccomp − "
                "mpjail-lsi): %s µs; the namespaces and the rest of the "
                "jail (jailed − seccomp): %s µs." % (
                    pl, us(g["mpjail-lsi"]["median_ns"] -
                           g["codec echo"]["median_ns"]),
                    us(g["mpjail-lsi seccomp"]["median_ns"] -
                       g["mpjail-lsi"]["median_ns"])
                    if g["mpjail-lsi seccomp"] else "–",
                    us(g["mpjail-lsi jailed"]["median_ns"] -
                       g["mpjail-lsi seccomp"]["median_ns"])
                    if g["mpjail-lsi jailed"] and g["mpjail-lsi seccomp"]
                    else "–"))
        j = g["mpjail-lsi jailed"]
        if j and j.get("autogroup") == "own":
            lines.append(
                "- The jailed remote runs in a new session (the policy's "
                "new_session), so with sched_autogroup it is in a scheduler "
                "group of its own, while the client, the unjailed remotes and "
                "QEMU's remote share one: every wake-up then crosses CFS "
                "groups. That, not a syscall, is the likely share of the "
                "jail's cost on one CPU (a hypothesis from the autogroup "
                "column, not a profile); QEMU's remote confined by the broker "
                "would pay it too.")
        lines.append(
            "- To reach 1.1× the floor, the codec would have to stop "
            "costing more than the device: receive header and body in one "
            "recvmsg (the body is at most 192 bytes), and block in recvmsg "
            "with a deadline instead of EAGAIN → ppoll → recvmsg. That "
            "would remove 2 to 3 syscalls a side per message; figure 7's "
            "syscall cost says how much each one is worth under seccomp.")
    sc = sel(recs, "seccomp")
    if sc and "plain_ns" in sc[0]:
        per = statistics.mean(r["filtered_ns"] - r["plain_ns"] for r in sc
                              if "plain_ns" in r)
        lines.append("- seccomp adds about %.0f ns per syscall (figure 7); "
                     "a round trip makes about 5 syscalls in the remote "
                     "(recvmsg ×3, ppoll, sendmsg), so about %s µs of it." % (
                         per, us(per * 5)))
    return "\n".join(lines)


def render(recs, m, wall, load0, load1, noise):
    head = [
        "# BENCHMARKS",
        "",
        "Written by `make bench` (bench/run.py); every figure below comes "
        "from one run of the code in bench/, none is typed in. Issue #9 "
        "says what is measured and why.",
        "",
        "| machine | |",
        "|---|---|",
        "| date | %s |" % m["date"],
        "| CPU | %s, %s cores |" % (m["cpu"], m["cores"]),
        "| memory | %s |" % m["memory"],
        "| kernel | %s |" % m["kernel"],
        "| QEMU | %s |" % m["qemu"],
        "| run as | %s |" % ("root" if m["root"] else
                            "not root: the confined rows say \"needs root\""),
        "| wall time | %.0f s |" % wall,
        "| load average | %s at the start, %s at the end |" % (load0, load1),
        "",
        "## How noisy a run is",
        "",
        noise,
        "",
        "## Goals (issue #9)",
        "",
        goals(recs),
        "",
        "## Where the time goes",
        "",
        where_time_goes(recs),
        "",
        "## Figures",
        "",
        "",
    ]
    body = [render_mmio(recs), render_scsi(recs), render_dd(recs),
            render_rss(recs), render_spawn(recs), render_density(recs),
            render_seccomp(recs)]
    return "\n".join(head) + "\n\n".join(body) + "\n"


NOISE = (
    "This machine has 2 cores and is shared: other test suites may run "
    "during a bench run (the load average above says how busy it was). The "
    "method is built to survive that — warm-up before timing, many timed "
    "operations, medians and p99 rather than means, the peers measured in "
    "interleaved rounds so a burst of load spreads over all of them, and "
    "for MMIO every thread of each process tree pinned (the remote's "
    "Cpus_allowed_list is printed). Medians of the one-CPU MMIO rows moved "
    "by a few per cent between runs on a busy machine; cross-CPU rows, p99s, "
    "IOPS and the guest dd moved by up to 2× (the cross-CPU round trip is "
    "dominated by waking the other CPU, which depends on what else it is "
    "doing). Compare rows within one run, as ratios; not runs with each "
    "other.")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    figs = [f for f in a.only.split(",") if f] or FIGURES
    for f in figs:
        if f not in FIGURES:
            ap.error("unknown figure %s (%s)" % (f, ", ".join(FIGURES)))
    out = a.out or (None if a.only else os.path.join(TOP, "BENCHMARKS.md"))
    if os.geteuid() != 0:
        print("bench: not root: the confined rows (jailed mpjail-lsi, "
              "spawn, density) will say \"needs root\"", file=sys.stderr)
    m = machine()
    load0 = loadavg()
    t0 = time.monotonic()
    recs = []
    for f in figs:
        recs += run_figure(f, a.build)
    wall = time.monotonic() - t0
    text = render(recs, m, wall, load0, loadavg(), NOISE)
    print(text)
    if out:
        with open(out + ".new", "w") as f:
            f.write(text)
        os.replace(out + ".new", out)
        print("bench: wrote %s (%.0f s)" % (out, wall), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
