#!/usr/bin/env python3
"""tests/e2e/test_seabios_boot.py: SeaBIOS (QEMU's default firmware,
Debian's build) boots a one-sector program from the SCSI disk behind
x-pci-proxy-dev, under TCG, through the remote's LSI53C895A.

SeaBIOS finds the controller by its PCI IDs (1000:0012, mirrored by the
proxy from the remote's config space), drives it with a short polled
SCRIPTS program through the I/O BAR (no interrupts: none reach a TCG guest
through the proxy), reads sector 0 and jumps to it. The sector is the
program below; it writes a marker to COM1, which QEMU's -serial puts on
our pipe. The marker exists only on the disk, so seeing it proves the
firmware read the sector through the remote and ran it.

Variants: qemu-remote (QEMU 7.2's own remote; the control) and mpjail-lsi
(the image as its --disk-fd). MPJAIL_E2E_ONLY=<variant> runs one. SeaBIOS's own debug
output (port 0x402) is printed when a variant fails (always with
MPJAIL_E2E_CONSOLE=1).
"""
import os
import select
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_peers as P  # noqa: E402

NAME = "seabios"
MARKER = b"MPJAIL-SEABIOS-BOOT-OK"
IMAGE_SIZE = 1024 * 1024
BOOT_TIMEOUT = 30.0


def boot_sector():
    """512 bytes: a real-mode program SeaBIOS loads at 0000:7c00 and jumps
    to. It prints MARKER on COM1 (polling the UART's transmitter-empty bit
    before each byte), then halts with interrupts off."""
    msg_at = 0x29                                # offset of the string
    code = [
        (0x00, "fa", "cli"),
        (0x01, "31 c0", "xor ax, ax"),
        (0x03, "8e d8", "mov ds, ax            ; the string is at 0000:7c29"),
        (0x05, "fc", "cld                   ; lodsb counts up"),
        (0x06, "ba fb 03", "mov dx, 0x3fb         ; COM1 line control"),
        (0x09, "b0 03", "mov al, 0x03          ; 8N1, DLAB off: 0x3f8 is THR"),
        (0x0b, "ee", "out dx, al"),
        (0x0c, "be %02x 7c" % msg_at, "mov si, 0x7c29"),
        (0x0f, "ac", "next: lodsb           ; al = [si++]"),
        (0x10, "84 c0", "test al, al"),
        (0x12, "74 12", "jz halt (0x26)        ; the terminating 0"),
        (0x14, "88 c4", "mov ah, al            ; keep the byte"),
        (0x16, "ba fd 03", "mov dx, 0x3fd         ; COM1 line status"),
        (0x19, "ec", "wait: in al, dx"),
        (0x1a, "a8 20", "test al, 0x20         ; THR empty?"),
        (0x1c, "74 fb", "jz wait (0x19)"),
        (0x1e, "ba f8 03", "mov dx, 0x3f8         ; COM1 THR"),
        (0x21, "88 e0", "mov al, ah"),
        (0x23, "ee", "out dx, al"),
        (0x24, "eb e9", "jmp next (0x0f)"),
        (0x26, "f4", "halt: hlt"),
        (0x27, "eb fd", "jmp halt (0x26)       ; also after an NMI"),
    ]
    out = bytearray()
    for off, hexbytes, _ in code:
        assert len(out) == off, "listing offset %#x" % off
        out += bytes.fromhex(hexbytes)
    assert len(out) == msg_at
    out += MARKER + b"\r\n\0"
    assert len(out) <= 510
    out += bytes(510 - len(out)) + b"\x55\xaa"  # the boot signature
    return bytes(out)


def boot(results, variant):
    path, img = P.make_image(IMAGE_SIZE)
    os.pwrite(img, boot_sector(), 0)
    link = P.Link("%s-%s" % (NAME, variant))
    dbg_r, dbg_w = os.pipe()
    remote = qemu = None
    serial = debug = b""
    tag = "[%s] " % variant
    start = time.monotonic()
    try:
        remote = P.REMOTES[variant](link.remote_fd, img)
        # SeaBIOS's debug port 0x402 to a pipe, passed as an fd set: nobody
        # opens no path of ours.
        qemu = P.start_proxy_qemu(link.qemu_fd, [
            "-add-fd", "fd=4,set=2",
            "-chardev", "file,id=dbg,path=/dev/fdset/2,append=on",  # no O_TRUNC on a pipe
            "-device", "isa-debugcon,iobase=0x402,chardev=dbg"],
            mem="128", extra_fds={4: dbg_w})
        os.close(dbg_w)
        dbg_w = None
        link.passed_on()
        os.set_blocking(dbg_r, False)

        end = start + BOOT_TIMEOUT
        seen_at = None
        watch = [qemu.stdout, dbg_r]
        while time.monotonic() < end and MARKER not in serial and watch:
            r, _, _ = select.select(watch, [], [], 0.2)
            for fd in r:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    watch.remove(fd)  # QEMU is gone
                elif fd == dbg_r:
                    debug += chunk
                else:
                    serial += chunk
        if MARKER in serial:
            seen_at = time.monotonic() - start
        qrc = qemu.stop(10.0)
        rrc = remote.wait(10.0)
        if rrc is None:
            rrc = remote.stop(5.0)
            remote_note = "did not exit within 10 s of QEMU (killed, rc %s)" % rrc
        else:
            remote_note = "rc %s" % rrc
        err = remote.drain_stderr().decode(errors="replace")
        while True:
            try:
                chunk = os.read(dbg_r, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            debug += chunk

        failed_before = sum(1 for _, ok in results.items if not ok)
        results.check(tag + "SeaBIOS ran the boot sector from the disk (marker on COM1 within %d s)"
                           % BOOT_TIMEOUT, seen_at is not None,
                           "serial: %r" % serial[-300:])
        # Debian's SeaBIOS logs each drive it found with its sector count.
        sectors = b"s=%d\n" % (IMAGE_SIZE // 512)
        results.check(tag + "SeaBIOS found the disk with the image's %d sectors"
                      % (IMAGE_SIZE // 512),
                      b"drive " in debug and sectors in debug,
                      "no 'drive ... s=%d' line in SeaBIOS's debug output" % (IMAGE_SIZE // 512))
        results.check(tag + "QEMU ends on SIGTERM", qrc is not None and qrc in (0, -15), "rc %s" % qrc)
        results.check(tag + "the remote exits 0 after QEMU", rrc == 0, remote_note)
        if err:
            print("%s stderr: %s" % (variant, err.rstrip()))
        if seen_at is not None:
            print("%s: marker %.2f s after start" % (variant, seen_at))
        if (sum(1 for _, ok in results.items if not ok) > failed_before
                or os.environ.get("MPJAIL_E2E_CONSOLE") == "1"):
            lines = debug.decode(errors="replace").replace("\r", "").split("\n")
            print("--- SeaBIOS debug output (last 50 lines)\n" + "\n".join(lines[-50:]))
            print("--- %s stderr\n%s" % (variant, err))
            print("--- QEMU stderr\n%s---" % qemu.drain_stderr().decode(errors="replace"))
    except Exception as e:
        results.check(tag + "harness", False, repr(e))
    finally:
        for c in (qemu, remote):
            if c is not None:
                c.close()
        link.finish()
        for fd in (dbg_r, dbg_w):
            if fd is not None:
                os.close(fd)
        os.close(img)
        os.unlink(path)


def main():
    results = P.Results()
    why = P.prerequisites()
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
