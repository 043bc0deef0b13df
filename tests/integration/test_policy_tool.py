#!/usr/bin/env python3
"""tests/integration/test_policy_tool.py: mpjail-policy as an auditor uses
it -- check (every error, with its place), export --oci (valid JSON listing
exactly the policy's syscalls), diff, bpf, and audit of a real confined
process against an unconfined control. Standard library only."""
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('MPJAIL_BUILD', os.path.join(SRC, 'build'))
TOOL = os.path.join(BUILD, 'bin', 'mpjail-policy')
SHIPPED = ['lsi-remote', 'qemu', 'qemu-remote']


def tool(*args):
    return subprocess.run([TOOL] + list(args), capture_output=True, text=True,
                          timeout=60)


def policy(name):
    return os.path.join(SRC, 'policy', name + '.policy')


class Check(unittest.TestCase):
    def test_shipped_ok(self):
        for name in SHIPPED:
            r = tool('check', policy(name))
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(tool('--json', 'check', policy(name)).stdout)
            self.assertTrue(j['ok'])
            self.assertGreater(j['instructions'], 0)

    def test_every_error(self):
        with tempfile.NamedTemporaryFile('w', suffix='.policy') as f:
            f.write('%mpjail-policy 1\n[seccomp]\nread: 1\nnosuch: 1\n'
                    'write: arg0 == BOGUS\n[nosection]\n')
            f.flush()
            r = tool('check', f.name)
            self.assertEqual(r.returncode, 1)
            for line, col in ((4, 1), (5, 16), (6, 2)):
                self.assertIn('%s:%d:%d:' % (f.name, line, col), r.stderr)
            j = json.loads(tool('--json', 'check', f.name).stdout)
            self.assertFalse(j['ok'])
            self.assertEqual([e['line'] for e in j['errors']], [4, 5, 6])


class Export(unittest.TestCase):
    def test_oci_lists_exactly_the_syscalls(self):
        for name in SHIPPED:
            r = tool('export', '--oci', policy(name))
            self.assertEqual(r.returncode, 0, r.stderr)
            oci = json.loads(r.stdout)
            exp = json.loads(tool('--json', 'explain', policy(name)).stdout)
            want = {s['name'] for s in exp['seccomp']['syscalls']}
            got = {n for s in oci['syscalls'] for n in s['names']}
            if name == 'lsi-remote':
                self.assertLess(len(want), 30)
            self.assertEqual(got, want)
            self.assertEqual(oci['defaultAction'], 'SCMP_ACT_KILL_PROCESS')
            self.assertEqual(oci['architectures'], ['SCMP_ARCH_X86_64'])

    def test_disk_fds_expand(self):
        oci = json.loads(tool('--disks', '3', 'export', '--oci',
                              policy('lsi-remote')).stdout)
        fds = sorted(a['value'] for s in oci['syscalls']
                     if s['names'] == ['pread64'] for a in s['args'])
        self.assertEqual(fds, [5, 6, 7])

    def test_bpf(self):
        r = tool('bpf', policy('lsi-remote'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('filter for syscall "recvmsg"', r.stdout)
        self.assertNotIn('"execve"', r.stdout)
        j = json.loads(tool('--json', 'bpf', policy('lsi-remote')).stdout)
        self.assertGreater(j['instructions'], 10)


class Diff(unittest.TestCase):
    def test_diff(self):
        r = tool('diff', policy('lsi-remote'), policy('lsi-remote'))
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, '')
        with open(policy('lsi-remote')) as f:
            text = f.read()
        text = text.replace('clock_gettime:   1', 'getpid: 1')
        text = text.replace('nofile   = 64', 'nofile   = 65')
        with tempfile.NamedTemporaryFile('w', suffix='.policy') as f:
            f.write(text)
            f.flush()
            r = tool('diff', policy('lsi-remote'), f.name)
            self.assertEqual(r.returncode, 1)
            lines = set(r.stdout.splitlines())
            self.assertEqual(lines, {'- seccomp clock_gettime: allow',
                                     '+ seccomp getpid: allow',
                                     '- rlimits nofile = 64',
                                     '+ rlimits nofile = 65'})
            j = json.loads(tool('--json', 'diff', policy('lsi-remote'),
                                f.name).stdout)
            self.assertIn('seccomp getpid: allow', j['added'])


# The child confines itself, then execs sleep: new user and net namespaces,
# every capability dropped, no_new_privs, the compiled filter.
CONFINE = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for cap in range(64):
    libc.prctl(24, cap, 0, 0, 0)          # PR_CAPBSET_DROP
libc.prctl(47, 4, 0, 0, 0)                # PR_CAP_AMBIENT_CLEAR_ALL
hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
data = (ctypes.c_uint32 * 6)()
assert libc.capset(hdr, data) == 0
assert libc.prctl(38, 1, 0, 0, 0) == 0    # PR_SET_NO_NEW_PRIVS
class Fprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
code = open(sys.argv[1], 'rb').read()
buf = ctypes.create_string_buffer(code, len(code))
prog = Fprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
assert libc.syscall(317, 1, 0, ctypes.byref(prog)) == 0
os.execv('/bin/sleep', ['sleep', '30'])
'''

AUDIT_POLICY = '''%mpjail-policy 1
[process]
no_new_privs = yes
capabilities = none
[namespaces]
unshare = user net
[fds]
0 = stdin null ro
1 = stdout null wo
2 = log null wo
[seccomp]
@default allow
ptrace: errno EPERM
'''


class Audit(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.pol = os.path.join(self.dir, 'audit.policy')
        with open(self.pol, 'w') as f:
            f.write(AUDIT_POLICY)
        self.bpf = os.path.join(self.dir, 'audit.bpf')
        r = tool('bpf', '--output', self.bpf, self.pol)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.dir)

    def spawn(self, argv):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def audit(self, pid):
        for _ in range(50):
            r = tool('--json', 'audit', str(pid), self.pol)
            j = json.loads(r.stdout)
            # wait until the child has exec'd sleep (and closed its files)
            if any(c['what'] == 'Seccomp' and c['ok'] for c in j['checks']) \
                    or time.time() - self.t0 > 3:
                return r.returncode, j
            time.sleep(0.1)
        return r.returncode, j

    def test_unconfined_names_each_missing_property(self):
        self.t0 = time.time()
        p = self.spawn(['sleep', '30'])
        time.sleep(0.2)
        rc, j = self.audit(p.pid)
        self.assertEqual(rc, 1)
        self.assertFalse(j['match'])
        failed = {c['what'] for c in j['checks'] if not c['ok']}
        for what in ('Seccomp', 'Seccomp_filters', 'NoNewPrivs',
                     'ns user', 'ns net', 'uid_map'):
            self.assertIn(what, failed)
        if os.geteuid() == 0:
            self.assertIn('CapBnd', failed)

    def test_confined_matches(self):
        if not shutil.which('unshare'):
            self.fail('unshare (util-linux) is needed')
        self.t0 = time.time()
        p = self.spawn(['unshare', '--user', '--map-root-user', '--net',
                        sys.executable, '-c', CONFINE, self.bpf])
        rc, j = self.audit(p.pid)
        bad = [c for c in j['checks'] if not c['ok']]
        self.assertEqual(bad, [])
        self.assertTrue(j['match'])
        self.assertEqual(rc, 0)


if __name__ == '__main__':
    if not os.access(TOOL, os.X_OK):
        sys.exit('test_policy_tool: %s not built' % TOOL)
    unittest.main(verbosity=2)
