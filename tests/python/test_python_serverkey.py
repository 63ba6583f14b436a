#!/usr/bin/python3
"""The Python client through a rotation of privd's CURVE key: `privd
server-key next` while privd serves, Clients given both keys (a pair, a
"CURRENT,NEXT" string, a two-line file, PRIVD_SERVER_KEY), `privd
server-key rotate` with privd stopped, privd started on the new key.
Threads doing puts and gets fail only while privd is away; a Client with
only the old key then raises HandshakeError, one with only the new key
works; server key files and key lists that are not right raise
KeyFileError saying why.
"""

import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402

pyharness.skip_unless_ready()
privd = pyharness.import_privd()

THREADS = 3
CALL_TIMEOUT = 3.0


def server_key(d, sub):
    """`privd server-key SUB --data-dir DIR`: (exit code, stdout, stderr)."""
    r = subprocess.run([pyharness.PRIVD_BIN, "server-key", sub,
                        "--data-dir", d.data_dir],
                       capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


class Load:
    """A thread of puts and gets through its own Client until stopped;
    failures are sorted by when they happened against the window in
    which privd was away."""

    def __init__(self, d, keys, n):
        self.c = privd.Client(d.endpoint, key_file=d.key_files["svc"],
                              purpose="invoicing", timeout=CALL_TIMEOUT,
                              **keys)
        self.n = n
        self.stop = threading.Event()
        self.ok = 0
        self.down = self.up = self.started = None
        self.first_ok_after_start = None
        self.in_window = []
        self.outside = []
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def note(self, t0, exc):
        t1 = time.monotonic()
        if exc is None:
            self.ok += 1
            if self.started is not None and t1 >= self.started and \
                    self.first_ok_after_start is None:
                self.first_ok_after_start = t1
            return
        window = self.down is not None and t1 >= self.down and \
            (self.up is None or t0 <= self.up)
        if window and isinstance(exc, (privd.UnavailableError,
                                       privd.TimeoutError)):
            self.in_window.append(type(exc).__name__)
        else:
            self.outside.append(repr(exc))

    def run(self):
        i = 0
        while not self.stop.is_set():
            subject = "py-sk%d-%d" % (self.n, i % 8)
            for call in (lambda: self.c.put("customers", subject,
                                            {"name": "v%d" % i}),
                         lambda: self.c.get("customers", subject)):
                t0 = time.monotonic()
                try:
                    call()
                    self.note(t0, None)
                except privd.PrivdError as e:
                    self.note(t0, e)
            i += 1

    def wait_ok(self, n, timeout=60):
        want = self.ok + n
        end = time.monotonic() + timeout
        while self.ok < want:
            if time.monotonic() > end:
                raise AssertionError("load %d: %d of %d requests OK; "
                                     "failures: %r" % (self.n, self.ok,
                                                       want, self.outside))
            time.sleep(0.005)

    def finish(self):
        self.stop.set()
        self.t.join()
        self.c.close()


class Rotation(unittest.TestCase):
    def setUp(self):
        self.d = pyharness.Privd()
        self.addCleanup(self.d.cleanup)
        self.d.init()
        self.d.serve()
        self.old = self.d.server_key
        self.svc = self.client(self.old)
        pyharness.wait_ready(self.svc, self.d.proc)

    def client(self, keys, **kw):
        c = privd.Client(self.d.endpoint, server_key=keys,
                         key_file=self.d.key_files["svc"],
                         purpose="invoicing", **kw)
        self.addCleanup(c.close)
        return c

    def test_rotation_with_clients_connected(self):
        rc, out, err = server_key(self.d, "next")
        self.assertEqual(rc, 0, err)
        nxt = out.strip()
        self.assertTrue(privd.is_z85_key(nxt))
        self.assertIn("when privd next starts", err)
        self.assertEqual(privd.read_server_keys(os.path.join(
            self.d.data_dir, "server.next.pub")), (nxt,))
        both = os.path.join(self.d.root, "both.pub")
        with open(both, "w") as f:
            f.write("# privd's key, then its next key\n%s\n%s\n"
                    % (self.old, nxt))
        self.assertEqual(privd.read_server_keys(both), (self.old, nxt))

        # the loads: each form of giving the two keys
        forms = [dict(server_key=(self.old, nxt)),
                 dict(server_key="%s,%s" % (self.old, nxt)),
                 dict(server_key_file=both)]
        loads = [Load(self.d, keys, n) for n, keys in enumerate(forms)]
        # and PRIVD_SERVER_KEY as privctl takes it
        os.environ["PRIVD_SERVER_KEY"] = "%s,%s" % (self.old, nxt)
        os.environ["PRIVD_ENDPOINT"] = self.d.endpoint
        os.environ["PRIVD_KEY"] = self.d.key_files["svc"]
        try:
            env_client = privd.Client.from_env(purpose="invoicing")
        finally:
            for v in ("PRIVD_SERVER_KEY", "PRIVD_ENDPOINT", "PRIVD_KEY"):
                del os.environ[v]
        self.addCleanup(env_client.close)
        env_client.ping()
        for l in loads:
            l.wait_ok(20)

        # the switch-over
        for l in loads:
            l.down = time.monotonic()
        self.assertEqual(self.d.stop(), 0)
        rc, out, err = server_key(self.d, "rotate")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), nxt)
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir,
                                                     "server.next.pub")))
        started = time.monotonic()
        for l in loads:
            l.started = started
        self.d.serve()
        new_only = self.client(nxt)
        pyharness.wait_ready(new_only, self.d.proc)
        for l in loads:
            l.up = time.monotonic()
        t0 = time.monotonic()
        env_client.ping()  # idle through the restart: one key switch
        print("an idle Client holding both keys: its first call after the "
              "rotation took %.0f ms" % ((time.monotonic() - t0) * 1000),
              file=sys.stderr)
        for l in loads:
            l.wait_ok(20)
        for l in loads:
            l.finish()
            self.assertEqual(l.outside, [], "load %d failed outside the "
                             "switch-over" % l.n)
            print("load %d: %d requests OK, %d failed while privd was away "
                  "(%s); first OK %.0f ms after the new privd was started"
                  % (l.n, l.ok, len(l.in_window), ", ".join(l.in_window),
                     (l.first_ok_after_start - started) * 1000),
                  file=sys.stderr)

        # the old key alone: HandshakeError; the new key alone works
        with self.assertRaisesRegex(privd.HandshakeError, "server key"):
            self.svc.ping()
        new_only.put("customers", "py-after", {"name": "x"})
        self.assertEqual(new_only.get("customers", "py-after")["name"], b"x")

        # the audit log has both events, and verifies
        auditor = privd.Client(self.d.endpoint, server_key=nxt,
                               key_file=self.d.key_files["auditor"])
        self.addCleanup(auditor.close)
        ops = [r.event.op for r in auditor.audit_query(principal="privd")]
        self.assertIn("server_key_next", ops)
        self.assertIn("server_key_rotate", ops)
        auditor.audit_verify()
        self.assertEqual(self.d.stop(), 0)
        # CI runs this under ASan+UBSan too
        log = self.d.log_text()
        self.assertEqual([r for r in pyharness.SANITIZER_REPORTS if r in log],
                         [], "privd's log has a sanitizer report")


class BadKeys(unittest.TestCase):
    def setUp(self):
        self.dir = pyharness.tempfile.mkdtemp(prefix="privd-py-sk-")
        self.addCleanup(pyharness.shutil.rmtree, self.dir, True)

    def write(self, text):
        p = os.path.join(self.dir, "k.pub")
        with open(p, "w") as f:
            f.write(text)
        return p

    def test_files(self):
        a, b, c = (privd.keygen().public for _ in range(3))
        for text, why in (
                ("%s\nnot a key\n" % a, "line 2 is not a 40-character"),
                ("%s\n%s\n%s\n" % (a, b, c), "line 3: a third key"),
                ("# nothing\n", "no key in the file"),
                ("%s\npublic-key = %s\n" % (a, b), "line 2 is not")):
            with self.subTest(text=text):
                with self.assertRaisesRegex(privd.KeyFileError, why) as cm:
                    privd.read_server_keys(self.write(text))
                self.assertNotIn(a, str(cm.exception))
        self.assertEqual(privd.read_server_keys(self.write(
            "public-key = %s\nsecret-key = x\n" % a)), (a,))
        self.assertEqual(privd.read_server_keys(self.write(
            "\n# current\n%s\n\n# next\n%s\n" % (a, b))), (a, b))

    def test_client_arguments(self):
        kf = os.path.join(self.dir, "c.key")
        privd.keygen(kf)
        a, b, c = (privd.keygen().public for _ in range(3))
        ep = "ipc://" + os.path.join(self.dir, "s")
        for keys, why in (((a, b, c), "one or two server keys"),
                          ((), "one or two server keys"),
                          ("%s,%s,%s" % (a, b, c), "one or two"),
                          ("%s,garbage" % a, "server key 2 of 2"),
                          ("%s," % a, "server key 2 of 2")):
            with self.subTest(keys=keys):
                with self.assertRaisesRegex(privd.KeyFileError, why):
                    privd.Client(ep, server_key=keys, key_file=kf)
        with privd.Client(ep, server_key=[a, b], key_file=kf) as cl:
            self.assertEqual(cl._conn.server_key, a)


if __name__ == "__main__":
    unittest.main(verbosity=2)
