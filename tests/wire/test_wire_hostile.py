#!/usr/bin/python3
"""Hostile wire test: privd as a stranger's client sees it, when the stranger
sends what protobuf's own API would refuse to build, frames that do not
decode, and frames at the size limit.

Builds on test_wire.py (WireCase: a fresh privd per test in a temporary
directory, clients for the principals of its policy); same environment, same
skip rule. Every expectation comes from proto/privd.proto and issue 7, not
from privd's source:

- a reply carries its own request's request_id, or 0 when none could be read
  (a frame that cannot be decoded is answered INVALID with request_id 0);
- strings are length-delimited UTF-8: privd refuses (INVALID) a request with
  a string that holds a NUL byte or is not valid UTF-8, and such a request
  neither reads nor changes anything;
- a request frame may be as large as --max-request; a slightly larger one is
  answered TOO_LARGE.

Strings with a NUL byte or invalid UTF-8 are built by hand: a few lines of
protobuf wire encoding (enc_*), checked against the protobuf module on
valid input by test_hand_encoder_agrees_with_protobuf.
"""

import json
import time
import unittest

import test_wire as wire  # exits 77 (skipped) without python3-zmq/protobuf
import zmq
import zmq.utils.monitor as zmq_monitor

# Requests of about 1 MiB go through CURVE on a machine shared with other
# builds, perhaps under ASan: a generous deadline, never a measured time.
BIG_REPLY_TIMEOUT_MS = 10000
PIPELINE_TIMEOUT_S = 60.0

DEFAULT_MAX_REQUEST = 1048576  # README and proto: --max-request default
VALUE_MAX = 65536              # proto: Field.value "at most 64 KiB"

# Field numbers of proto/privd.proto.
OP_PUT, OP_GET, OP_DELETE = 11, 12, 13
OP_POLICY_APPLY, OP_AUDIT_QUERY = 21, 30

# The subject whose data a hostile request must neither read nor change.
VICTIM = b"victim"
VICTIM_FIELDS = [("name", b"Original Name"), ("notes", b"original notes")]


def varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def enc_u64(field, n):
    """A varint field (wire type 0)."""
    return varint(field << 3) + varint(n)


def enc_bytes(field, data):
    """A length-delimited field (wire type 2): a string, bytes or message.
    data is sent exactly as given, NUL bytes and invalid UTF-8 included."""
    return varint(field << 3 | 2) + varint(len(data)) + data


def enc_request(request_id, op_field, op, purpose=None):
    """A Request: request_id, purpose (if any), and one operation."""
    out = enc_u64(1, request_id)
    if purpose is not None:
        out += enc_bytes(2, purpose)
    return out + enc_bytes(op_field, op)


def enc_put(register, subject, fields):
    """A PutRequest; fields is a list of (name, value)."""
    out = enc_bytes(1, register) + enc_bytes(2, subject)
    for name, value in fields:
        out += enc_bytes(3, enc_bytes(1, name) + enc_bytes(2, value))
    return out


def enc_names(register, subject, names):
    """A GetRequest or a DeleteRequest (the same fields)."""
    out = enc_bytes(1, register) + enc_bytes(2, subject)
    for name in names:
        out += enc_bytes(3, name)
    return out


def enc_audit_query(subject=None, register=None, principal=None, ops=(),
                    not_ops=()):
    out = b""
    for field, value in ((1, subject), (2, register), (3, principal)):
        if value is not None:
            out += enc_bytes(field, value)
    for name in ops:
        out += enc_bytes(6, name)
    for name in not_ops:
        out += enc_bytes(13, name)
    return out


def spoiled(clean):
    """(label, string) pairs: clean with a NUL byte in it, or made invalid
    UTF-8. A daemon reading C strings takes the NUL ones as clean."""
    return [
        ("NUL inside", clean + b"\x00x"),
        ("NUL at the end", clean + b"\x00"),
        ("NUL first", b"\x00" + clean),
        ("byte 0xff", clean + b"\xff"),
        ("lone continuation byte", clean + b"\x80"),
        ("truncated sequence", clean + b"\xc3"),
        ("overlong encoding", clean + b"\xc0\xaf"),
        ("UTF-16 surrogate", clean + b"\xed\xa0\x80"),
        ("above U+10FFFF", clean + b"\xf4\x90\x80\x80"),
    ]


class HostileStrings(wire.WireCase):
    """Every string from the wire is length-delimited: NUL bytes and invalid
    UTF-8 are refused, never read as a prefix or stored."""

    def setUp(self):
        super().setUp()
        self.next_id = 1 << 40

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def put_victim(self):
        _, resp = self.put(VICTIM.decode(), VICTIM_FIELDS)
        self.assertIsNotNone(resp, "no reply to put")
        self.assertEqual(resp.status, wire.pb.OK, resp.message)

    def victim_fields(self):
        _, resp = self.get(VICTIM.decode())
        self.assertIsNotNone(resp, "no reply to get")
        if resp.status != wire.pb.OK:
            return f"status {wire.pb.Status.Name(resp.status)}"
        return [(f.name, f.value) for f in resp.get.fields]

    def assert_invalid(self, client, frame, request_id):
        """Send a hand-built frame; its reply must be INVALID, carry its
        request_id and nothing else."""
        resp = client.call_raw(frame, request_id)
        self.assertIsNotNone(resp, "no reply")
        self.assertEqual(resp.request_id, request_id)
        self.assertEqual(len(resp.get.fields), 0, "the get read data")
        self.assertEqual(len(resp.audit_query.records), 0,
                         "the audit query returned records")
        self.assertEqual(wire.pb.Status.Name(resp.status), "INVALID",
                         resp.message)

    def test_hand_encoder_agrees_with_protobuf(self):
        pb = wire.pb
        req = pb.Request(request_id=(1 << 63) + 5, purpose="invoicing")
        req.put.register = "customers"
        req.put.subject = "äiti"
        req.put.fields.add(name="name", value=b"x")
        req.put.fields.add(name="blob", value=b"\x00\xff")
        raw = enc_request((1 << 63) + 5, OP_PUT,
                          enc_put(b"customers", "äiti".encode(),
                                  [(b"name", b"x"), (b"blob", b"\x00\xff")]),
                          b"invoicing")
        self.assertEqual(pb.Request.FromString(raw), req)

        for op_field, attr in ((OP_GET, "get"), (OP_DELETE, "delete")):
            req = pb.Request(request_id=7, purpose="invoicing")
            getattr(req, attr).register = "customers"
            getattr(req, attr).subject = "s"
            getattr(req, attr).fields.extend(["name", "notes"])
            raw = enc_request(7, op_field,
                              enc_names(b"customers", b"s",
                                        [b"name", b"notes"]),
                              b"invoicing")
            self.assertEqual(pb.Request.FromString(raw), req)

        req = pb.Request(request_id=300)
        req.audit_query.subject = "s"
        req.audit_query.register = "customers"
        req.audit_query.principal = "svc"
        req.audit_query.ops.extend(["put", "get"])
        req.audit_query.not_ops.append("ping")
        raw = enc_request(300, OP_AUDIT_QUERY,
                          enc_audit_query(b"s", b"customers", b"svc",
                                          [b"put", b"get"], [b"ping"]))
        self.assertEqual(pb.Request.FromString(raw), req)

        req = pb.Request(request_id=9)
        req.policy_apply.replaces_version = 3
        req.policy_apply.policy_json = "{}"
        raw = enc_request(9, OP_POLICY_APPLY,
                          enc_u64(1, 3) + enc_bytes(2, b"{}"))
        self.assertEqual(pb.Request.FromString(raw), req)

    def test_valid_utf8_subject_accepted(self):
        # The control for the refusals below: multi-byte UTF-8 (2, 3 and 4
        # byte sequences) is a valid subject and round-trips.
        subject = "äiti-€-\U0001d11e"
        req, resp = self.put(subject, [("name", b"Utf Eight")])
        self.assertEqual(resp.status, wire.pb.OK, resp.message)
        req, resp = self.get(subject)
        self.assertEqual(resp.status, wire.pb.OK, resp.message)
        self.assertEqual([(f.name, f.value) for f in resp.get.fields],
                         [("name", b"Utf Eight")])

    def test_spoiled_data_strings_invalid_and_harmless(self):
        """NUL or invalid UTF-8 in the subject, register, purpose or a field
        name of a put, get or delete: INVALID; the victim's data is neither
        returned, nor overwritten, nor deleted."""
        self.put_victim()
        original = self.victim_fields()
        clean = {"subject": VICTIM, "register": b"customers",
                 "purpose": b"invoicing", "field": b"name"}
        for where in clean:
            for label, bad in spoiled(clean[where]):
                s = dict(clean)
                s[where] = bad
                for op in ("put", "get", "delete"):
                    # Without a spoiled field name, get reads and delete
                    # deletes the whole subject: the worst a prefix can do.
                    names = [s["field"]] if where == "field" else []
                    if op == "put":
                        body = enc_put(s["register"], s["subject"],
                                       [(s["field"], b"Overwritten")])
                        op_field = OP_PUT
                    else:
                        body = enc_names(s["register"], s["subject"], names)
                        op_field = OP_GET if op == "get" else OP_DELETE
                    rid = self.new_id()
                    frame = enc_request(rid, op_field, body, s["purpose"])
                    with self.subTest(op=op, string=where, spoiled=label):
                        self.assert_invalid(self.client, frame, rid)
                    with self.subTest(op=op, string=where, spoiled=label,
                                      check="victim unchanged"):
                        now = self.victim_fields()
                        if now != original:
                            self.put_victim()  # for the cases that follow
                        self.assertEqual(now, original)

    def test_spoiled_audit_query_strings_invalid(self):
        """NUL or invalid UTF-8 in the subject, register, principal, ops or
        not_ops of an audit query: INVALID, no records (and no pseudonym of
        "victim" computed from "victim\\0x")."""
        self.put_victim()
        auditor = self.connect("auditor")
        clean = {"subject": VICTIM, "register": b"customers",
                 "principal": b"svc", "ops": b"put", "not_ops": b"ping"}

        def query(s):
            return enc_audit_query(s["subject"], s["register"],
                                   s["principal"], [s["ops"]],
                                   [s["not_ops"]])

        # The control: the clean query is valid and finds the victim's put.
        rid = self.new_id()
        resp = auditor.call_raw(enc_request(rid, OP_AUDIT_QUERY,
                                            query(clean)), rid)
        self.assertIsNotNone(resp, "no reply to the clean audit query")
        self.assertEqual(resp.status, wire.pb.OK, resp.message)
        self.assertTrue(resp.audit_query.records, "the control found nothing")

        for where in clean:
            for label, bad in spoiled(clean[where]):
                s = dict(clean)
                s[where] = bad
                rid = self.new_id()
                frame = enc_request(rid, OP_AUDIT_QUERY, query(s))
                with self.subTest(string=where, spoiled=label):
                    self.assert_invalid(auditor, frame, rid)
                # The same string as the query's only criterion.
                alone = {k: None for k in clean}
                alone[where] = bad
                body = enc_audit_query(
                    alone["subject"], alone["register"], alone["principal"],
                    [bad] if where == "ops" else [],
                    [bad] if where == "not_ops" else [])
                rid = self.new_id()
                frame = enc_request(rid, OP_AUDIT_QUERY, body)
                with self.subTest(string=where, spoiled=label, alone=True):
                    self.assert_invalid(auditor, frame, rid)

    def test_policy_json_with_nul_or_bad_utf8_invalid(self):
        """policy_json is a string too: a valid document followed by a NUL
        and junk is not the document; nothing is applied."""
        pb = wire.pb
        admin = self.connect("admin")
        req = pb.Request()
        req.policy_get.SetInParent()
        resp = admin.call(req)
        self.assertIsNotNone(resp, "no reply to policy_get")
        self.assertEqual(resp.status, pb.OK, resp.message)
        version = resp.policy_get.version.version
        doc = json.loads(resp.policy_get.policy_json)
        doc["registers"]["customers"]["description"] = "changed by a test"
        good = json.dumps(doc).encode()

        for label, text in (
                ("NUL and junk after the document", good + b"\x00junk"),
                ("NUL at the end", good + b"\x00"),
                ("NUL inside a string", good.replace(b"changed by",
                                                     b"changed\x00by")),
                ("invalid UTF-8 inside a string",
                 good.replace(b"changed by", b"changed \xff by"))):
            rid = self.new_id()
            frame = enc_request(rid, OP_POLICY_APPLY,
                                enc_u64(1, version) + enc_bytes(2, text))
            with self.subTest(spoiled=label):
                resp = admin.call_raw(frame, rid)
                self.assertIsNotNone(resp, "no reply to policy_apply")
                self.assertEqual(resp.request_id, rid)
                self.assertEqual(pb.Status.Name(resp.status), "INVALID",
                                 resp.message)

        req = pb.Request()
        req.policy_history.SetInParent()
        resp = admin.call(req)
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual([v.version for v in resp.policy_history.versions],
                         [version], "a spoiled document was applied")

        # The control: the document itself, unspoiled, applies.
        req = pb.Request()
        req.policy_apply.replaces_version = version
        req.policy_apply.policy_json = good.decode()
        resp = admin.call(req)
        self.assertEqual(resp.status, pb.OK, resp.message)
        self.assertEqual(resp.policy_apply.version, version + 1)


# Messages that are not a Request: each is answered INVALID, request_id 0.
UNDECODABLE = [
    [b"\xff"],
    [b"\x08"],              # the tag of request_id without its varint
    [b"\x12\x05ab"],        # purpose: 5 bytes announced, 2 sent
    [b"\x5a\x03\x0a"],      # put: 3 bytes announced, 1 sent
    [b"\x0f\x01"],          # wire type 7 does not exist
    [b"\x08", b"\x08"],     # a multi-part message
    [b"\xff", b"", b"\xff"],
]


def ping_frame(request_id):
    req = wire.pb.Request(request_id=request_id)
    req.ping.SetInParent()
    return req.SerializeToString()


def get_frame(request_id, subject):
    req = wire.pb.Request(request_id=request_id, purpose="invoicing")
    req.get.register = "customers"
    req.get.subject = subject
    return req.SerializeToString()


class HostileRequestIds(wire.WireCase):
    """A reply's request_id is its own request's, or 0 when none could be
    read: never that of a request another client sent before."""

    ROUNDS = 30
    PER_ROUND = 8  # requests of each client per round

    def test_undecodable_frames_answered_with_request_id_0(self):
        """svc pipelines valid requests with large ids; at the same time a
        stranger (another principal) pipelines messages that do not decode,
        and one ping of its own per round. Every reply to the stranger is
        INVALID with request_id 0, except its pings' own replies."""
        pb = wire.pb
        svc = self.client
        stranger = self.connect("auditor")
        base = 0xFEDCBA9876540000
        svc_ids = set()
        expect_svc, expect_pings = set(), set()
        sent_bad = got_bad = 0
        wrong = []  # (request_id, status) of wrong replies to the stranger

        poller = zmq.Poller()
        poller.register(svc.sock, zmq.POLLIN)
        poller.register(stranger.sock, zmq.POLLIN)
        for r in range(self.ROUNDS):
            # Interleaved, so that jobs are recycled between the two.
            for i in range(self.PER_ROUND):
                rid = (1 << 64) - 1 if r == i == 0 else \
                    base + r * self.PER_ROUND + i
                svc.sock.send(ping_frame(rid) if i % 2 else
                              get_frame(rid, "nobody"))
                svc_ids.add(rid)
                expect_svc.add(rid)
                if i == self.PER_ROUND - 1:
                    stranger.sock.send(ping_frame(77000 + r))
                    expect_pings.add(77000 + r)
                else:
                    msg = UNDECODABLE[(r + i) % len(UNDECODABLE)]
                    stranger.sock.send_multipart(msg)
                    sent_bad += 1
            deadline = time.monotonic() + PIPELINE_TIMEOUT_S
            while (expect_svc or expect_pings or got_bad < sent_bad) and \
                    time.monotonic() < deadline:
                ready = dict(poller.poll(250))
                if svc.sock in ready:
                    resp = svc.recv(1)
                    self.assertIn(resp.request_id, expect_svc,
                                  "svc got a reply it did not ask for")
                    self.assertIn(resp.status, (pb.OK, pb.NOT_FOUND),
                                  resp.message)
                    expect_svc.discard(resp.request_id)
                if stranger.sock in ready:
                    resp = stranger.recv(1)
                    if resp.request_id in expect_pings and \
                            resp.WhichOneof("payload") == "ping":
                        self.assertEqual(resp.status, pb.OK, resp.message)
                        expect_pings.discard(resp.request_id)
                        continue
                    got_bad += 1
                    if resp.status != pb.INVALID or resp.request_id != 0:
                        wrong.append((resp.request_id,
                                      pb.Status.Name(resp.status)))
            self.assertFalse(expect_svc, f"round {r}: svc's requests "
                             f"{sorted(expect_svc)} got no reply")
            self.assertFalse(expect_pings, f"round {r}: the stranger's "
                             f"pings {sorted(expect_pings)} got no reply")
            self.assertEqual(got_bad, sent_bad,
                             f"round {r}: messages that do not decode got "
                             f"{got_bad} replies, not {sent_bad}")

        leaked = [rid for rid, _ in wrong if rid in svc_ids]
        self.assertEqual(len(leaked), 0,
                         f"{len(leaked)} of {sent_bad} replies to the "
                         f"stranger carried svc's request ids, such as "
                         f"{leaked[:3]}")
        self.assertEqual(wrong, [], "replies to messages that do not "
                         "decode: (request_id, status) not (0, INVALID)")

        # One reply per message, not per frame: after a ping's reply, no
        # more replies are left over for the stranger.
        resp = stranger.call_raw(ping_frame(1), 1)
        self.assertIsNotNone(resp, "no reply to a ping after it all")
        self.assertIsNone(stranger.recv(1), "more replies than messages")

        # The audit log tells the same: each undecodable message is one
        # event "invalid" of the stranger, with request_id 0.
        events = [ev for _, ev in self.audit_records(stranger,
                                                     ops=["invalid"])]
        self.assertGreaterEqual(len(events), sent_bad)
        self.assertEqual({(ev.principal, ev.request_id) for ev in events},
                         {("auditor", 0)})

    def test_multipart_message_answered_once_invalid(self):
        """A multi-part message is not a request, even if a frame of it is
        one: a single reply, INVALID, with that request's id or 0."""
        pb = wire.pb
        for label, frames, rid in (
                ("a ping and junk", [ping_frame(501), b"junk"], 501),
                ("two pings", [ping_frame(502), ping_frame(503)], 502),
                ("junk and a ping", [b"\xff", ping_frame(504)], 504)):
            with self.subTest(message=label):
                self.client.sock.send_multipart(frames)
                resp = self.client.recv(wire.REPLY_TIMEOUT_MS)
                self.assertIsNotNone(resp, "no reply")
                self.assertIn(resp.request_id, (0, rid))
                self.assertEqual(pb.Status.Name(resp.status), "INVALID",
                                 resp.message)
                # One reply only: the next one is the next ping's.
                resp = self.client.call_raw(ping_frame(600), 600)
                self.assertIsNotNone(resp, "no reply to a ping after it")
                self.assertIsNone(self.client.recv(1),
                                  "more than one reply to one message")


def put_of_size(size, request_id, subject, fixed=(), pad="blob"):
    """A serialised Request: a put of exactly size bytes, whose field pad
    takes whatever the fixed fields (name, value) leave."""
    pb = wire.pb

    def build(n):
        req = pb.Request(request_id=request_id, purpose="invoicing")
        req.put.register = "customers"
        req.put.subject = subject
        for name, value in fixed:
            req.put.fields.add(name=name, value=value)
        req.put.fields.add(name=pad, value=b"a" * n)
        return req.SerializeToString()

    n = 0
    for _ in range(8):
        frame = build(n)
        if len(frame) == size:
            return frame
        n += size - len(frame)
        if n < 0:
            break
    raise AssertionError(f"no put of exactly {size} bytes")


class FrameSizeDefault(wire.WireCase):
    """The default --max-request: 1 MiB is the largest request frame."""

    LIMIT = DEFAULT_MAX_REQUEST

    def ping_ok(self, client):
        req = wire.pb.Request()
        req.ping.SetInParent()
        resp = client.call(req)
        self.assertIsNotNone(resp, "the connection is not usable after it")
        self.assertEqual(resp.status, wire.pb.OK, resp.message)

    def answer(self, client, frame):
        """Send frame on client, which has nothing else in flight, and
        return the next reply (None if none came in time)."""
        client.sock.send(frame)
        return client.recv(BIG_REPLY_TIMEOUT_MS)

    def test_frames_up_to_the_limit_answered(self):
        # A value over 64 KiB is TOO_LARGE, but answered: the frame itself
        # is within the limit. From 32 bytes under the limit up, frames got
        # no answer once; 33 under is the control.
        sizes = [self.LIMIT - 33, self.LIMIT - 32, self.LIMIT - 31,
                 self.LIMIT - 24,
                 self.LIMIT - 16, self.LIMIT - 8, self.LIMIT - 1, self.LIMIT]
        for i, size in enumerate(sizes):
            rid = (1 << 60) + i
            frame = put_of_size(size, rid, f"big-{i}")
            self.assertEqual(len(frame), size)
            client = self.connect("svc")
            with self.subTest(frame_bytes=size):
                resp = self.answer(client, frame)
                self.assertIsNotNone(resp, "no answer")
                self.assertEqual(resp.request_id, rid)
                self.assertEqual(wire.pb.Status.Name(resp.status),
                                 "TOO_LARGE", resp.message)
                self.ping_ok(client)

    def test_slightly_larger_frames_answered_too_large(self):
        # proto: "a slightly larger one is answered TOO_LARGE, a much larger
        # one (over the limit plus 64 KiB) drops the connection": up to the
        # limit plus 64 KiB, answered.
        over = self.LIMIT + VALUE_MAX
        for i, size in enumerate([self.LIMIT + 1, self.LIMIT + 64,
                                  over - 33, over - 32, over - 1, over]):
            rid = (1 << 60) + i
            frame = put_of_size(size, rid, f"over-{i}")
            self.assertEqual(len(frame), size)
            client = self.connect("svc")
            with self.subTest(frame_bytes=size):
                resp = self.answer(client, frame)
                self.assertIsNotNone(resp, "no answer")
                # privd need not decode a frame over the limit: its own id
                # or 0, never another.
                self.assertIn(resp.request_id, (0, rid))
                self.assertEqual(wire.pb.Status.Name(resp.status),
                                 "TOO_LARGE", resp.message)
                self.ping_ok(client)

    def test_much_larger_frames_drop_the_connection(self):
        # The other side of the same sentence: over the limit plus 64 KiB,
        # privd drops the connection (seen by the client as a disconnect)
        # and goes on serving everyone else.
        for size in (self.LIMIT + VALUE_MAX + 1, 4 * self.LIMIT):
            frame = put_of_size(size, 1 << 60, "much-over")
            self.assertEqual(len(frame), size)
            client = self.connect("svc")
            monitor = client.sock.get_monitor_socket(
                zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
            self.addCleanup(client.sock.disable_monitor)
            self.addCleanup(monitor.close, 0)
            with self.subTest(frame_bytes=size):
                self.ping_ok(client)  # connected, handshake done
                client.sock.send(frame)
                deadline = time.monotonic() + BIG_REPLY_TIMEOUT_MS / 1000
                dropped = False
                while not dropped and time.monotonic() < deadline:
                    if monitor.poll(250):
                        ev = zmq_monitor.recv_monitor_message(monitor)
                        dropped = ev["event"] == zmq.EVENT_DISCONNECTED
                self.assertTrue(dropped, "the connection was not dropped")
                self.ping_ok(self.connect("svc"))


class FrameSizeSet(FrameSizeDefault):
    """A limit the user sets is the limit on the request: a valid put of
    exactly --max-request bytes is carried out."""

    LIMIT = 100000
    SERVE_ARGS = ("--max-request", str(LIMIT))

    def test_frames_up_to_the_limit_answered(self):
        blob = bytes(range(256)) * (VALUE_MAX // 256)  # 64 KiB exactly
        for i, size in enumerate([self.LIMIT - 33, self.LIMIT - 32,
                                  self.LIMIT - 1, self.LIMIT]):
            rid = (1 << 60) + i
            subject = f"at-limit-{i}"
            # notes (text, up to 64 KiB) takes what blob leaves.
            frame = put_of_size(size, rid, subject, [("blob", blob)],
                                pad="notes")
            self.assertEqual(len(frame), size)
            client = self.connect("svc")
            with self.subTest(frame_bytes=size):
                resp = self.answer(client, frame)
                self.assertIsNotNone(resp, "no answer")
                self.assertEqual(resp.request_id, rid)
                self.assertEqual(resp.status, wire.pb.OK, resp.message)
                self.assertEqual(resp.put.written, 2)
                req, resp = self.get(subject, ["blob"])
                self.assertEqual(resp.status, wire.pb.OK, resp.message)
                self.assertEqual(resp.get.fields[0].value, blob)


if __name__ == "__main__":
    unittest.main(verbosity=2)
