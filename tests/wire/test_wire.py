#!/usr/bin/python3
"""Wire test: a Python service talks to a real privd without libprivd.

Uses only python3-zmq, python3-protobuf and the module that protoc generates
from proto/privd.proto (into the test's temporary directory; never committed).

Environment (set by meson): PRIVD_BIN (the daemon), PRIVD_PROTO (path of
privd.proto), PROTOC (protoc; found on PATH if empty).

Exit code 77 (meson: skipped) only if python3-zmq or python3-protobuf is
missing.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import zmq
    import google.protobuf  # noqa: F401  (the generated module needs it)
except ImportError as e:
    print(f"SKIP: wire test needs python3-zmq and python3-protobuf ({e})",
          file=sys.stderr)
    sys.exit(77)

PRIVD_BIN = os.environ.get("PRIVD_BIN", "")
PRIVD_PROTO = os.environ.get("PRIVD_PROTO", "")
PROTOC = os.environ.get("PROTOC") or shutil.which("protoc") or ""

READY_TIMEOUT_S = 10.0
REPLY_TIMEOUT_MS = 5000
STOP_TIMEOUT_S = 10.0
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")

POLICY = {
    "controller": {"name": "Test Oy", "business_id": "1234567-8"},
    "registers": {"customers": {
        "transfer": {"allowed_regions": ["EEA"]},
        "purposes": {
            "invoicing": {"legal_basis": "contract"},
            "marketing": {"legal_basis": "legitimate_interest",
                          "objectable": True}},
        "fields": {
            "name": {"category": "identity", "type": "string",
                     "identifying": True},
            "email": {"category": "contact", "type": "email",
                      "identifying": True, "lookup": True},
            "notes": {"category": "feedback", "type": "text"},
            "blob": {"category": "other", "type": "bytes"}},
        # a relationship end deletes at once, but the email is kept a
        # year past it (a legal minimum)
        "retention": [
            {"id": "min", "categories": ["contact"],
             "from": "relationship_end", "keep_at_least": "1 year"},
            {"id": "end", "categories": ["*"], "from": "relationship_end",
             "after": "0 days", "action": "delete"}]}},
    # Every "key" is filled in with a key pair made for the test.
    "principals": {
        "svc": {
            "key": None,
            "region": "FI",
            "grants": [{"register": "customers", "purposes": ["invoicing"],
                        "fields": ["*"],
                        "ops": ["read", "write", "delete"]}]},
        "auditor": {"key": None, "roles": ["auditor"]},
        "admin": {"key": None, "roles": ["policy_admin"]},
        "dpo": {"key": None, "roles": ["subject_rights"]},
        "ops": {"key": None, "roles": ["operator"]}},
}

pb = None  # the generated privd_pb2 module, loaded by load_proto()


def load_proto(out_dir):
    """Generate privd_pb2 from privd.proto into out_dir and import it."""
    global pb
    if pb is not None:
        return
    if not PROTOC:
        raise RuntimeError("protoc not found (install protobuf-compiler)")
    if not os.path.isfile(PRIVD_PROTO):
        raise RuntimeError(f"PRIVD_PROTO is not a file: {PRIVD_PROTO!r}")
    proto_dir, proto_name = os.path.split(os.path.abspath(PRIVD_PROTO))
    subprocess.run([PROTOC, f"--proto_path={proto_dir}",
                    f"--python_out={out_dir}", proto_name],
                   check=True, timeout=60)
    sys.path.insert(0, out_dir)
    import privd_pb2
    pb = privd_pb2


class Privd:
    """One privd in a temporary directory: init, serve, stop, clean up."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="privd-wire-", dir="/tmp")
        self.data_dir = os.path.join(self.root, "data")
        self.policy = os.path.join(self.root, "policy.json")
        self.log_path = os.path.join(self.root, "privd.log")
        self.endpoint = "ipc://" + os.path.join(self.root, "s")
        self.proc = None
        self.server_key = None
        self.keys = {name: zmq.curve_keypair()
                     for name in POLICY["principals"]}
        self.pub, self.sec = self.keys["svc"]

    def init(self):
        policy = json.loads(json.dumps(POLICY))
        for name, (pub, _) in self.keys.items():
            policy["principals"][name]["key"] = pub.decode()
        with open(self.policy, "w") as f:
            json.dump(policy, f)
        r = subprocess.run([PRIVD_BIN, "init", "--data-dir", self.data_dir,
                            "--policy", self.policy],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"privd init exited {r.returncode}: "
                               f"{r.stderr.decode(errors='replace')}")
        key = r.stdout.decode().strip()
        if len(key) != 40:
            raise RuntimeError(f"privd init printed no Z85 key: {key!r}")
        self.server_key = key.encode()

    def serve(self, extra_args=()):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [PRIVD_BIN, "serve", "--data-dir", self.data_dir,
                 "--listen", self.endpoint, *extra_args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()

    def stop(self):
        """SIGTERM, wait; return the exit code (None if it had to be
        killed)."""
        if self.proc is None:
            return None
        p, self.proc = self.proc, None
        if p.poll() is not None:
            return p.returncode
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Client:
    """A bare DEALER with CURVE speaking privd.v1 frames."""

    def __init__(self, ctx, endpoint, server_key, pub, sec):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.curve_serverkey = server_key
        self.sock.curve_publickey = pub
        self.sock.curve_secretkey = sec
        self.sock.connect(endpoint)
        self.next_id = 1000

    def call(self, req, timeout_ms=REPLY_TIMEOUT_MS):
        """Send req (request_id assigned here) and return the Response with
        the same request_id, or None if none came in time."""
        self.next_id += 1
        req.request_id = self.next_id
        return self.call_raw(req.SerializeToString(), req.request_id,
                             timeout_ms)

    def call_raw(self, frame, request_id, timeout_ms=REPLY_TIMEOUT_MS):
        """Send frame (bytes built by hand) and return the Response carrying
        request_id, or None if none came in time."""
        self.sock.send(frame)
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            resp = self.recv(int((deadline - time.monotonic()) * 1000))
            if resp is None or resp.request_id == request_id:
                return resp

    def recv(self, timeout_ms):
        """The next Response, whatever its request_id, or None if none came
        within timeout_ms."""
        if timeout_ms <= 0 or not self.sock.poll(timeout_ms):
            return None
        frames = self.sock.recv_multipart()
        if len(frames) != 1:
            raise AssertionError(f"reply has {len(frames)} frames")
        resp = pb.Response()
        resp.ParseFromString(frames[0])
        return resp

    def close(self):
        self.sock.close(0)


class WireCase(unittest.TestCase):
    """A fresh privd per test, and a client as "svc". No tests of its own:
    test_wire_hostile.py builds on it too."""

    SERVE_ARGS = ()  # extra `privd serve` options of a subclass
    tmp_gen = None

    @classmethod
    def setUpClass(cls):
        if not PRIVD_BIN or not os.access(PRIVD_BIN, os.X_OK):
            raise RuntimeError(f"PRIVD_BIN is not executable: {PRIVD_BIN!r}")
        cls.tmp_gen = tempfile.mkdtemp(prefix="privd-wire-gen-")
        load_proto(cls.tmp_gen)

    @classmethod
    def tearDownClass(cls):
        if cls.tmp_gen:
            shutil.rmtree(cls.tmp_gen, ignore_errors=True)

    def setUp(self):
        self.privd = Privd()
        self.addCleanup(self.privd.cleanup)
        self.addCleanup(self._print_log)
        self.privd.init()
        self.privd.serve(self.SERVE_ARGS)
        self.addCleanup(self._check_clean_exit)
        self.ctx = zmq.Context()
        self.addCleanup(self.ctx.term)
        self.client = self.connect("svc")
        self._wait_ready()

    def connect(self, principal):
        """A new client with the key pair of principal; closed at the end
        of the test."""
        pub, sec = self.privd.keys[principal]
        c = Client(self.ctx, self.privd.endpoint, self.privd.server_key,
                   pub, sec)
        self.addCleanup(c.close)
        return c

    def _check_clean_exit(self):
        """privd, still running after the test, exits 0 on SIGTERM, and
        nothing in its log is a sanitizer's report (CI runs the tests under
        ASan+UBSan): whatever a test sent must not corrupt privd."""
        if self.privd.proc is None:
            return
        code = self.privd.stop()
        self.assertEqual(code, 0, "privd did not exit 0 on SIGTERM")
        log = self.privd.log_tail(lines=100000)
        found = [r for r in SANITIZER_REPORTS if r in log]
        self.assertEqual(found, [], "privd's log has a sanitizer report")

    def _print_log(self):
        print(f"--- privd log ---\n{self.privd.log_tail()}", file=sys.stderr)

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.privd.proc.poll() is not None:
                self.fail(f"privd exited early ({self.privd.proc.returncode})")
            req = pb.Request()
            req.ping.SetInParent()
            resp = self.client.call(req, timeout_ms=250)
            if resp is not None and resp.status == pb.OK:
                return
        self.fail("privd did not answer a ping in time")

    def put(self, subject, fields, purpose="invoicing"):
        req = pb.Request()
        req.purpose = purpose
        req.put.register = "customers"
        req.put.subject = subject
        for name, value in fields:
            f = req.put.fields.add()
            f.name = name
            f.value = value
        return req, self.client.call(req)

    def get(self, subject, names=(), purpose="invoicing"):
        req = pb.Request()
        req.purpose = purpose
        req.get.register = "customers"
        req.get.subject = subject
        req.get.fields.extend(names)
        return req, self.client.call(req)

    def audit_records(self, client, **criteria):
        """Every AuditRecord of an audit query with the given criteria
        (AuditQueryRequest fields), walking its pages, as (record, event)
        pairs; event is the parsed AuditEvent, None for a damaged record."""
        out = []
        cursor = b""
        for _ in range(10000):
            req = pb.Request()
            for k, v in criteria.items():
                if isinstance(v, (list, tuple)):
                    getattr(req.audit_query, k).extend(v)
                else:
                    setattr(req.audit_query, k, v)
            req.audit_query.cursor = cursor
            resp = client.call(req)
            self.assertIsNotNone(resp, "no reply to an audit query")
            self.assertEqual(resp.status, pb.OK, resp.message)
            for rec in resp.audit_query.records:
                ev = None
                if not rec.damaged:
                    ev = pb.AuditEvent()
                    ev.ParseFromString(rec.event)
                out.append((rec, ev))
            cursor = resp.audit_query.next_cursor
            if not cursor:
                return out
        self.fail("an audit query did not end after 10000 pages")


class WireTest(WireCase):
    def test_ping_names_the_principal(self):
        req = pb.Request()
        req.ping.SetInParent()
        resp = self.client.call(req)
        self.assertIsNotNone(resp, "no reply to ping")
        self.assertEqual(resp.status, pb.OK)
        self.assertEqual(resp.request_id, req.request_id)
        self.assertEqual(resp.WhichOneof("payload"), "ping")
        self.assertEqual(resp.ping.principal, "svc")
        self.assertEqual(resp.ping.policy_version, 1)

    def test_put_then_get_round_trips(self):
        blob = bytes([0, 1, 2, 0, 255, 0])
        req, resp = self.put("wire-1", [("name", "Wire Tester".encode()),
                                        ("notes", "ääkköset ok".encode()),
                                        ("blob", blob)])
        self.assertIsNotNone(resp, "no reply to put")
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual(resp.request_id, req.request_id)
        self.assertEqual(resp.put.written, 3)

        req, resp = self.get("wire-1")
        self.assertIsNotNone(resp, "no reply to get")
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual(resp.request_id, req.request_id)
        got = [(f.name, f.value) for f in resp.get.fields]
        # proto: "the fields found, sorted by name"
        self.assertEqual(got, [("blob", blob),
                               ("name", "Wire Tester".encode()),
                               ("notes", "ääkköset ok".encode())])

        req, resp = self.get("wire-1", ["notes"])
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual([(f.name, f.value) for f in resp.get.fields],
                         [("notes", "ääkköset ok".encode())])

    def test_deadline_passed_is_expired_and_audited(self):
        """Request.deadline_ms (ms since the epoch): a put whose deadline
        has passed is answered EXPIRED and not carried out, with an audit
        event saying so; one in the future, or 0 (none), is carried out."""
        def put_late(deadline_ms, value):
            req = pb.Request()
            req.purpose = "invoicing"
            req.deadline_ms = deadline_ms
            req.put.register = "customers"
            req.put.subject = "wire-dl"
            f = req.put.fields.add()
            f.name = "name"
            f.value = value
            resp = self.client.call(req)
            self.assertIsNotNone(resp, "no reply to put")
            return req, resp

        now_ms = int(time.time() * 1000)
        late, resp = put_late(now_ms - 1000, b"Late")
        self.assertEqual(resp.status, pb.EXPIRED, resp.message)
        self.assertEqual(resp.WhichOneof("payload"), None)
        _, resp = self.get("wire-dl")
        self.assertEqual(resp.status, pb.NOT_FOUND, resp.message)

        _, resp = put_late(now_ms + 60000, b"In time")
        self.assertEqual(resp.status, pb.OK, resp.message)
        _, resp = put_late(0, b"No deadline")
        self.assertEqual(resp.status, pb.OK, resp.message)
        _, resp = self.get("wire-dl")
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual([(f.name, f.value) for f in resp.get.fields],
                         [("name", b"No deadline")])

        recs = self.audit_records(self.connect("auditor"),
                                  request_id=late.request_id)
        self.assertEqual(len(recs), 1)
        ev = recs[0][1]
        self.assertEqual((ev.op, ev.status, ev.decision),
                         ("put", pb.EXPIRED, pb.REJECTED))

    def test_unknown_field_denied(self):
        req, resp = self.put("wire-2", [("shoe_size", b"42")])
        self.assertIsNotNone(resp, "no reply to put")
        self.assertEqual(resp.request_id, req.request_id)
        self.assertEqual(resp.status, pb.DENIED)
        self.assertEqual(resp.reason, pb.DENY_UNKNOWN_FIELD)

        req, resp = self.get("wire-2")
        self.assertEqual(resp.status, pb.NOT_FOUND)

    def test_get_named_fields_sorted_by_name(self):
        req, resp = self.put("wire-4", [("notes", b"some notes"),
                                        ("name", b"Order Tester"),
                                        ("blob", b"\x00b")])
        self.assertEqual(resp.status, pb.OK, resp.message)
        want = [("blob", b"\x00b"), ("name", b"Order Tester"),
                ("notes", b"some notes")]
        # proto: "sorted by name (byte order), whether the request named
        # them or not"; "email" is named but not stored, so it is absent.
        for names in (["notes", "name", "email", "blob"],
                      ["name", "blob", "notes"],
                      ["notes", "blob", "name"]):
            with self.subTest(names=names):
                req, resp = self.get("wire-4", names)
                self.assertIsNotNone(resp, "no reply to get")
                self.assertEqual(resp.status, pb.OK, resp.message)
                self.assertEqual(resp.request_id, req.request_id)
                self.assertEqual(
                    [(f.name, f.value) for f in resp.get.fields], want)

    def test_audit_record_seq_is_the_events_seq(self):
        """AuditRecord.seq is the seq inside its own event, in every kind
        of query (all, by subject, principal, op, time, seq range), in both
        directions and across pages."""
        for i in range(3):
            req, resp = self.put(f"wire-5-{i}", [("name", b"Audit Seq")])
            self.assertEqual(resp.status, pb.OK, resp.message)
            req, resp = self.get(f"wire-5-{i}")
            self.assertEqual(resp.status, pb.OK, resp.message)
        auditor = self.connect("auditor")
        queries = [{}, {"newest_first": True}, {"limit": 2},
                   {"newest_first": True, "limit": 2},
                   {"subject": "wire-5-1"}, {"principal": "svc"},
                   {"principal": "svc", "newest_first": True, "limit": 1},
                   {"ops": ["put"]}, {"since_us": 1},
                   {"register": "customers"},
                   {"from_seq": 2, "to_seq": 5}]
        for q in queries:
            with self.subTest(query=q):
                recs = self.audit_records(auditor, **q)
                self.assertTrue(recs, "no records")
                for rec, ev in recs:
                    self.assertFalse(rec.damaged)
                    self.assertEqual(rec.seq, ev.seq,
                                     "AuditRecord.seq is not its event's seq")
                seqs = [rec.seq for rec, _ in recs]
                order = sorted(seqs, reverse=q.get("newest_first", False))
                self.assertEqual(seqs, order)
                self.assertEqual(len(set(seqs)), len(seqs))

    def test_relationship_end_then_sweep_deletes_and_keeps(self):
        """Retention from the .proto alone: a relationship end, a preview
        and a sweep (as the admin), what is kept answering RETAINED, and
        the sweep's audit event naming its rule."""
        _, resp = self.put("wire-r1", [("name", b"Ann"),
                                       ("email", b"ann@example.fi")])
        self.assertEqual(resp.status, pb.OK, resp.message)
        req = pb.Request()
        req.relationship_end.register = "customers"
        req.relationship_end.subject = "wire-r1"
        req.relationship_end.now = True
        resp = self.client.call(req)
        self.assertEqual(resp.status, pb.OK, resp.message)
        end_us = resp.relationship_end.at_us
        self.assertGreater(end_us, 0)
        admin = self.connect("admin")
        counts = {}
        for preview in (True, False):
            req = pb.Request()
            req.retention_run.preview = preview
            resp = admin.call(req)
            self.assertEqual(resp.status, pb.OK, resp.message)
            counts[preview] = [(c.register, c.rule, c.action, c.fields,
                                c.subjects)
                               for c in resp.retention_run.counts]
        self.assertEqual(counts[True], [("customers", "end", "delete", 1, 1)])
        self.assertEqual(counts[False], counts[True])
        _, resp = self.get("wire-r1")
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual([f.name for f in resp.get.fields], ["email"])
        req = pb.Request()
        req.purpose = "invoicing"
        req.delete.register = "customers"
        req.delete.subject = "wire-r1"
        resp = self.client.call(req)
        self.assertEqual(resp.status, pb.RETAINED, resp.message)
        self.assertEqual(resp.delete.deleted, 0)
        self.assertEqual([(k.field, k.rule) for k in resp.delete.retained],
                         [("email", "min")])
        # a calendar year after the end: 365 or 366 days
        kept = resp.delete.retained[0].until_us - end_us
        self.assertIn(kept // (86400 * 10**6), (365, 366))
        auditor = self.connect("auditor")
        events = [ev for _, ev in self.audit_records(auditor,
                                                     principal="retention")]
        self.assertEqual([(e.op, e.rule, list(e.fields)) for e in events],
                         [("retention_delete", "end", ["name"])])
        self.assertEqual(len(events[0].subject), 32)

    def test_retention_requests_refuse_bad_input(self):
        admin = self.connect("admin")
        req = pb.Request()
        req.relationship_end.register = "customers"
        req.relationship_end.subject = "nobody"
        req.relationship_end.now = True
        resp = self.client.call(req)
        self.assertEqual(resp.status, pb.NOT_FOUND, resp.message)
        req.relationship_end.now = False
        req.relationship_end.at_us = 1  # 1970: a mistake, not a plan
        resp = self.client.call(req)
        self.assertEqual(resp.status, pb.INVALID, resp.message)
        self.assertNotIn("nobody", resp.message)
        req = pb.Request()
        req.hold_set.register = "nosuch"
        req.hold_set.reason = "x"
        resp = admin.call(req)
        self.assertEqual(resp.status, pb.DENIED, resp.message)
        req = pb.Request()
        req.retention_run.SetInParent()
        resp = self.client.call(req)  # svc is no policy_admin
        self.assertEqual(resp.status, pb.DENIED, resp.message)
        self.assertEqual(resp.reason, pb.DENY_ROLE_REQUIRED)

    def test_lookup_and_export(self):
        """A person found by email, whatever its case, and exported: the
        document is JSON holding the value and the write."""
        _, resp = self.put("wire-7", [("email", b"Wire.Person@Example.fi"),
                                      ("name", b"Wire Person")])
        self.assertEqual(resp.status, pb.OK, resp.message)
        dpo = self.connect("dpo")
        req = pb.Request()
        req.subject_lookup.field = "email"
        req.subject_lookup.value = b"wire.person@EXAMPLE.fi"
        resp = dpo.call(req)
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual([(m.register, m.subject)
                          for m in resp.subject_lookup.matches],
                         [("customers", "wire-7")])
        req = pb.Request()
        req.subject_export.subject = "wire-7"
        resp = dpo.call(req)
        self.assertEqual(resp.status, pb.OK, resp.message)
        doc = json.loads(resp.subject_export.json)
        self.assertEqual(doc["subject"], "wire-7")
        values = {f["name"]: f.get("value")
                  for r in doc["registers"] for f in r["fields"]}
        self.assertEqual(values["email"], "Wire.Person@Example.fi")
        self.assertIn("svc", [r["principal"] for r in doc["recipients"]])
        # the service has no role for either
        req = pb.Request()
        req.subject_lookup.field = "email"
        req.subject_lookup.value = b"x@example.fi"
        resp = self.client.call(req)
        self.assertEqual(resp.status, pb.DENIED)
        self.assertEqual(resp.reason, pb.DENY_ROLE_REQUIRED)

    def test_backup_file_checks(self):
        """An online backup read in pieces ends in the trailer
        daemon/backupfmt.h describes: magic, sizes and a BLAKE2b-256 digest
        over the domain, the image and the trailer's first 80 bytes."""
        _, resp = self.put("wire-8", [("name", b"Backed Up")])
        self.assertEqual(resp.status, pb.OK, resp.message)
        ops = self.connect("ops")
        req = pb.Request()
        req.backup_start.SetInParent()
        resp = ops.call(req)
        self.assertEqual(resp.status, pb.OK, resp.message)
        bid = resp.backup_start.id
        data = b""
        deadline = time.monotonic() + 30
        while True:
            req = pb.Request()
            req.backup_read.id = bid
            req.backup_read.offset = len(data)
            resp = ops.call(req)
            self.assertEqual(resp.status, pb.OK, resp.message)
            r = resp.backup_read
            if not r.ready:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
                continue
            if not r.data:
                break
            data += r.data
        self.assertEqual(len(data), r.size)
        req = pb.Request()
        req.backup_end.id = bid
        self.assertEqual(ops.call(req).status, pb.OK)
        tr = data[-112:]
        self.assertEqual(tr[:8], b"PRIVDBK1")
        image_bytes = int.from_bytes(tr[24:32], "big")
        self.assertEqual(image_bytes, len(data) - 112)
        self.assertEqual(int.from_bytes(tr[16:24], "big"), r.time_us)
        self.assertEqual(int.from_bytes(tr[32:40], "big"), r.journal_head)
        h = hashlib.blake2b(digest_size=32)
        h.update(b"privd-backup-v1\0")
        h.update(data[:image_bytes])
        h.update(tr[:80])
        self.assertEqual(h.digest(), tr[80:112])
        self.assertNotIn(b"Backed Up", data)

    def test_sigterm_exits_zero(self):
        req, resp = self.put("wire-3", [("name", b"Before Stop")])
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual(self.privd.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
