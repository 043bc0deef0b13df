#!/usr/bin/env python3
"""tests/e2e/test_linux_guest.py: a real Linux guest (Debian 12's kernel,
sym53c8xx, busybox; built by scripts/fetch-guest.sh) boots under real,
unprivileged QEMU 7.2 with x-pci-proxy-dev and does O_DIRECT I/O on the
disk behind the remote.

Variants, each on a fresh 64 MiB image:
- qemu-remote: QEMU 7.2's own remote. The control: proves the guest, the
  harness and the checks work.
- mpjail-lsi: the project's remote, given the image as --disk-fd.

Under TCG the proxy delivers no INTx (it only wires KVM irqfds), so the
guest boots with `irqpoll nolapic noapic`: the PIT tick polls the
sym53c8xx handler. Checks per variant: sym53c8xx bound to the device, the
capacity the guest sees equals the image size, the guest's own
write/read-back/compare passed, the image holds what the guest says it
wrote (sha256 at each offset, read by the host after QEMU exits), QEMU
powered off by itself within the time limit, the remote exited.

Environment: MPJAIL_BUILD (build dir), QEMU, MPJAIL_GUEST_DIR (default
cache/guest), MPJAIL_E2E_VERBOSE=1 (full kernel log on
the console), MPJAIL_E2E_CONSOLE=1 (print the console of passing
boots too), MPJAIL_E2E_ONLY=<variant>.
"""
import hashlib
import os
import re
import select
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_peers as P  # noqa: E402

NAME = "linux"
IMAGE_SIZE = 64 * 1024 * 1024
BOOT_TIMEOUT = 120.0
GUEST_DIR = os.environ.get("MPJAIL_GUEST_DIR",
                           os.path.join(P.TOP, "cache", "guest"))


def boot(results, variant):
    """One boot against one remote; checks recorded in results."""
    kernel = os.path.join(GUEST_DIR, "vmlinuz")
    initrd = os.path.join(GUEST_DIR, "initrd.gz")
    append = "console=ttyS0 irqpoll nolapic noapic panic=-1"
    if os.environ.get("MPJAIL_E2E_VERBOSE") != "1":
        append += " quiet loglevel=4"
    path, img = P.make_image(IMAGE_SIZE)
    link = P.Link("%s-%s" % (NAME, variant))
    remote = qemu = None
    console = b""
    start = time.monotonic()
    try:
        remote = P.REMOTES[variant](link.remote_fd, img)
        qemu = P.start_proxy_qemu(link.qemu_fd, [
            "-kernel", kernel, "-initrd", initrd, "-append", append])
        link.passed_on()

        # Read the serial console until QEMU exits or the time is up.
        end = start + BOOT_TIMEOUT
        timed_out = False
        while True:
            left = end - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            r, _, _ = select.select([qemu.stdout], [], [], min(left, 0.5))
            if r:
                try:
                    chunk = os.read(qemu.stdout, 65536)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    break
                if chunk:
                    console += chunk
            remote.drain_stderr()
            if qemu.poll() is not None and not r:
                break
        if timed_out:
            qemu.kill()
        qrc = qemu.wait(10.0)
        elapsed = time.monotonic() - start
        rrc = remote.wait(10.0)
        if rrc is None:
            rrc = remote.stop(5.0)
            remote_note = "did not exit within 10 s of QEMU (killed, rc %s)" % rrc
        else:
            remote_note = "rc %s" % rrc
        err = remote.drain_stderr().decode(errors="replace")

        text = console.decode(errors="replace").replace("\r", "")
        lines = text.split("\n")

        def tail():
            return ("\n--- last 50 lines of the serial console (%s)\n" % variant
                    + "\n".join(lines[-50:])
                    + "\n--- %s stderr\n%s" % (variant, err)
                    + "--- QEMU stderr\n%s---"
                    % qemu.drain_stderr().decode(errors="replace"))

        tag = "[%s] " % variant
        failed_before = sum(1 for _, ok in results.items if not ok)
        m_drv = re.search(r"^MPJAIL-E2E: DRIVER (\S+)", text, re.M)
        results.check(tag + "sym53c8xx attached to the proxied LSI53C895A",
                      m_drv is not None, "no DRIVER line")
        m_cap = re.search(r"^MPJAIL-E2E: CAPACITY bytes=(\d+)", text, re.M)
        results.check(tag + "the guest sees the image's capacity (%d bytes)" % IMAGE_SIZE,
                      m_cap is not None and int(m_cap.group(1)) == IMAGE_SIZE,
                      "capacity line: %s" % (m_cap.group(0) if m_cap else "none"))
        m_res = re.search(r"^MPJAIL-E2E: (PASS|FAIL)(.*)$", text, re.M)
        results.check(tag + "the guest's O_DIRECT write, read-back and compare pass",
                      m_res is not None and m_res.group(1) == "PASS",
                      m_res.group(0) if m_res else "no result line")

        blocks = re.findall(r"^MPJAIL-E2E: BLOCK off=(\d+) len=(\d+) sha256=([0-9a-f]{64})$",
                            text, re.M)
        bad = []
        with open(path, "rb") as f:
            for off, ln, want in blocks:
                f.seek(int(off))
                got = hashlib.sha256(f.read(int(ln))).hexdigest()
                if got != want:
                    bad.append("off=%s len=%s" % (off, ln))
        results.check(tag + "the image holds what the guest wrote (%d regions)" % len(blocks),
                      len(blocks) == 8 and not bad,
                      "%d regions reported, mismatched: %s" % (len(blocks), bad or "none"))
        results.check(tag + "the guest powered off within %d s" % BOOT_TIMEOUT,
                      not timed_out and qrc == 0,
                      "timed out" if timed_out else "QEMU rc %s" % qrc)
        results.check(tag + "the remote exits 0 after QEMU", rrc == 0, remote_note)
        if err:
            print("%s stderr: %s" % (variant, err.rstrip()))
        print("%s: %.1f s from start to QEMU's exit" % (variant, elapsed))
        if sum(1 for _, ok in results.items if not ok) > failed_before:
            print(tail())
        elif os.environ.get("MPJAIL_E2E_CONSOLE") == "1":
            print(text)
    except Exception as e:  # a harness error is a failed check, not a crash
        results.check("[%s] harness" % variant, False, repr(e))
        print("\n".join(console.decode(errors="replace").split("\n")[-50:]))
    finally:
        for c in (qemu, remote):
            if c is not None:
                c.close()
        link.finish()
        os.close(img)
        os.unlink(path)


def main():
    results = P.Results()
    why = P.prerequisites()
    if why is None:
        for f in ("vmlinuz", "initrd.gz"):
            if not os.path.exists(os.path.join(GUEST_DIR, f)):
                why = "missing %s/%s: run scripts/fetch-guest.sh" % (GUEST_DIR, f)
    if why:
        print(why, file=sys.stderr)
        return 1
    only = os.environ.get("MPJAIL_E2E_ONLY", "")
    for variant in ("qemu-remote", "mpjail-lsi"):
        if only and only != variant:
            continue
        boot(results, variant)
    return results.summary()


if __name__ == "__main__":
    sys.exit(main())
