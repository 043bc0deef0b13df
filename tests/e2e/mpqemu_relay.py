"""tests/e2e/mpqemu_relay.py: a logging relay for the mpqemu protocol, put
between QEMU's x-pci-proxy-dev and a remote to record every message (the
format of ../shared/spec/traces/: direction, command, size, fds, decoded
body). A debugging aid for the end-to-end tests: set MPJAIL_E2E_TRACE=DIR
and each boot writes DIR/<test>-<variant>.trace; comparing the trace of
QEMU's own remote with mpjail-lsi's shows where they part.

Test code. It forwards bytes and fds unchanged (fds are closed here once
sent on) and trusts neither side: a short read or a bad header ends the
relay, and the other side sees its socket close.

Usable on its own, too:
  python3 mpqemu_relay.py LOG PROXY_FD REMOTE_FD
"""
import os
import socket
import struct
import threading

HDR = struct.Struct("<iIQ")      # cmd, pad, size
MAX_BODY = 192                   # QEMU's message union
MAX_FDS = 8
NAMES = {0: "SYNC_SYSMEM", 1: "RET", 2: "PCI_CFGWRITE", 3: "PCI_CFGREAD",
         4: "BAR_WRITE", 5: "BAR_READ", 6: "SET_IRQFD", 7: "DEVICE_RESET"}


def decode(cmd, body, fds):
    """The body in words, as in ../shared/spec/traces/."""
    if cmd == 0 and len(body) == 192:
        gpa = struct.unpack_from("<8Q", body, 0)
        size = struct.unpack_from("<8Q", body, 64)
        off = struct.unpack_from("<8q", body, 128)
        return " ".join("[gpa=%#x size=%#x off=%#x]" % (gpa[i], size[i], off[i])
                        for i in range(min(len(fds), 8)))
    if cmd == 1 and len(body) == 8:
        return "val=%#x" % struct.unpack("<Q", body)[0]
    if cmd in (2, 3) and len(body) == 12:
        return "addr=%#x val=%#x len=%d" % struct.unpack("<IIi", body)
    if cmd in (4, 5) and len(body) == 24:
        addr, val, size, mem = struct.unpack_from("<QQIB", body)
        return "addr=%#x val=%#x size=%d %s" % (addr, val, size, "mmio" if mem else "io")
    return body.hex()


def _recv_exact(sock, n, want_fds):
    """n bytes; with want_fds, the fds that arrived with them."""
    buf = b""
    fds = []
    while len(buf) < n:
        if want_fds:
            data, got, _, _ = socket.recv_fds(sock, n - len(buf), MAX_FDS)
            fds += got
        else:
            data = sock.recv(n - len(buf))
        if not data:
            for fd in fds:
                os.close(fd)
            return None, []
        buf += data
    return buf, fds


class Relay:
    """Two socketpairs and two pumping threads. Give proxy_end() to QEMU's
    x-pci-proxy-dev and remote_end() to the remote; close both ends here
    once they are passed on; then wait() after the peers are gone."""

    def __init__(self, log_path):
        self._q_ours, self._q_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._r_ours, self._r_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._log = open(log_path, "w")
        self._lock = threading.Lock()
        self.count = 0
        self._threads = [
            threading.Thread(target=self._pump, args=(self._q_ours, self._r_ours,
                                                      "proxy->remote"), daemon=True),
            threading.Thread(target=self._pump, args=(self._r_ours, self._q_ours,
                                                      "remote->proxy"), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def proxy_end(self):
        return self._q_theirs.fileno()

    def remote_end(self):
        return self._r_theirs.fileno()

    def close_peer_ends(self):
        self._q_theirs.close()
        self._r_theirs.close()

    def _pump(self, src, dst, direction):
        try:
            while True:
                hdr, fds = _recv_exact(src, HDR.size, True)
                if hdr is None:
                    break
                cmd, _, size = HDR.unpack(hdr)
                if size > MAX_BODY:
                    self._write("%s cmd=%d size=%d: larger than any message; relay ends\n"
                                % (direction, cmd, size))
                    break
                body, more = _recv_exact(src, size, True) if size else (b"", [])
                if body is None:
                    break
                fds += more
                self._write("%s cmd=%d size=%d fds=%d %s\n"
                            % (direction, cmd, size, len(fds), decode(cmd, body, fds)))
                try:
                    socket.send_fds(dst, [hdr + body], fds)
                finally:
                    for fd in fds:
                        os.close(fd)
        except OSError as e:
            self._write("%s: %s; relay ends\n" % (direction, e))
        finally:
            # let the other side see the end of this direction
            for s in (dst, src):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _write(self, line):
        with self._lock:
            self.count += 1
            self._log.write(line)

    def wait(self, timeout=10.0):
        for t in self._threads:
            t.join(timeout)
        self._q_ours.close()
        self._r_ours.close()
        with self._lock:
            self._log.close()

