"""privd.Client: a service's handle on privd.

    import privd

    with privd.Client("ipc:///run/privd/privd.sock",
                      server_key_file="/var/lib/privd/server.pub",
                      key_file="/etc/billing/privd.key",
                      purpose="invoicing") as c:
        c.put("customers", "c-1042", {"name": "Maija", "email": "m@x.fi"})
        print(c.get("customers", "c-1042")["email"].decode())

Each method is one request (audit_query and audit_verify: as many as the
pages need); a status other than OK raises its exception (privd.errors).
A call waits at most `timeout` seconds; on privd.TimeoutError the request
may or may not have been carried out, and the next call reconnects.

Threads: calls on one Client are serialised by a lock, so a Client may be
shared between threads (one at a time talks to privd); use one Client per
thread for calls in parallel. Processes: a Client must not cross fork()
(ZeroMQ contexts do not); in the child, make a new one. A Client used in
the child of the process that made it raises PrivdError.
"""

import json
import os
import threading

from . import audit as _audit
from ._conn import Connection
from ._pb import pb
from ._rights import RightsMixin
from .errors import (InvalidError, KeyFileError, PrivdError, ProtocolError,
                     RetainedError, printable)
from .keys import (KeyPair, is_z85_key, load_keypair, public_of,
                   server_keys)
from .types import (ApplyResult, AuditRecord, Checkpoint, Checkpoints,
                    Policy, PolicyVersion, Pong, Retained, SubjectMatch)

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_REQUEST = 1024 * 1024  # privd's default --max-request
MAX_FIELDS = 256
MAX_SUBJECT = 256
MAX_VALUE = 64 * 1024
# from_env(): each variable, and the arguments that stand in for it
_ENV_ARG = {"PRIVD_ENDPOINT": ("endpoint",),
            "PRIVD_SERVER_KEY": ("server_key", "server_key_file"),
            "PRIVD_KEY": ("key_file", "keypair")}


def _text(x, what):
    if not isinstance(x, str):
        raise TypeError("%s must be str, not %s" % (what, type(x).__name__))
    return x


def _name(x, what):
    if not _text(x, what):
        raise InvalidError("%s is empty" % what)
    return x


def _subject(x):
    n = len(_text(x, "subject").encode("utf-8"))
    if n < 1 or n > MAX_SUBJECT:
        raise InvalidError("a subject id is 1..%d bytes" % MAX_SUBJECT)
    return x


def _value(v, name):
    if isinstance(v, str):
        v = v.encode("utf-8")
    elif isinstance(v, (bytearray, memoryview)):
        v = bytes(v)
    elif not isinstance(v, bytes):
        raise TypeError("the value of field %s must be bytes or str, not %s"
                        % (name, type(v).__name__))
    if len(v) > MAX_VALUE:
        raise InvalidError("the value of field %s is larger than 64 KiB"
                           % name)
    return v


def _names(fields):
    if fields is None:
        return []
    if isinstance(fields, str):
        fields = [fields]
    out = [_name(f, "a field name") for f in fields]
    if len(out) > MAX_FIELDS:
        raise InvalidError("more than %d field names" % MAX_FIELDS)
    return out


def _retained(r):
    return Retained(r.field, r.rule, r.until_us, r.hold_reason)


def _version(v):
    return PolicyVersion(v.version, v.applied_by, v.applied_at_us)


def _checkpoint(c):
    if len(c.hash) != _audit.HASH_BYTES or \
            len(c.signature) != _audit.SIG_BYTES:
        raise ProtocolError("privd's answer has a malformed audit checkpoint")
    return Checkpoint(c.seq, bytes(c.hash), c.time_us, bytes(c.signature))


def _record(r):
    if r.damaged and r.seq == 0:
        raise ProtocolError("privd's answer has a damaged audit record "
                            "without its seq")
    if not r.damaged and len(r.hash) != _audit.HASH_BYTES:
        raise ProtocolError("privd's answer has an audit record without its "
                            "hash")
    ev = None
    if not r.damaged:
        try:
            ev = pb.AuditEvent.FromString(r.event)
        except Exception:  # left for the verifier to judge
            ev = None
    return AuditRecord(r.seq, bytes(r.event), bytes(r.hash), r.damaged, ev)


def _decision(d):
    if isinstance(d, str):
        try:
            return pb.Decision.Value(d.upper())
        except ValueError:
            raise InvalidError("unknown decision %r" % d) from None
    return int(d)


class Client(RightsMixin):
    """A connection to privd as one principal (see the module's notes).

    endpoint: "ipc:///path" or "tcp://host:port". privd's public key:
    server_key (Z85 text) or server_key_file (DATA_DIR/server.pub, or a
    file whose first line is "public-key = KEY"). While privd's key is
    rotated, give its next key too: server_key "CURRENT,NEXT" or a pair
    (current, next), or a server_key_file holding the two keys on two
    lines (`cat server.pub server.next.pub`); the Client then uses
    whichever privd serves. The caller's key pair:
    key_file (as `privctl keygen --out` writes it), or keypair (a
    privd.KeyPair). purpose: the default purpose of data operations.
    timeout: seconds each call waits at most. max_request: the largest
    request sent (match privd's --max-request); a larger one raises
    TooLargeError without being sent.

    Connecting is lazy: the Client is made while privd is down, and the
    first call waits for it until its deadline. Raises KeyFileError for a
    key or key file that is not right, InvalidError for a bad endpoint.
    """

    def __init__(self, endpoint, *, server_key=None, server_key_file=None,
                 key_file=None, keypair=None, purpose=None,
                 timeout=DEFAULT_TIMEOUT, max_request=DEFAULT_MAX_REQUEST):
        if not isinstance(endpoint, str) or \
                not endpoint.startswith(("ipc://", "tcp://")) or \
                len(endpoint) == 6:
            raise InvalidError("endpoint is ipc://PATH or tcp://HOST:PORT")
        if (server_key is None) == (server_key_file is None):
            raise InvalidError("give one of server_key and server_key_file")
        # privd's key, and its next key while it is rotated (keys.py)
        server_key = server_keys(server_key, server_key_file)
        if (key_file is None) == (keypair is None):
            raise InvalidError("give one of key_file and keypair")
        if key_file is not None:
            keypair = load_keypair(key_file)
        elif not isinstance(keypair, KeyPair):
            raise TypeError("keypair must be a privd.KeyPair")
        else:
            # checked as a key file is: a pair that does not match would
            # only show as "refused"
            if not is_z85_key(keypair.public) or \
                    public_of(keypair.secret) != keypair.public:
                raise KeyFileError("keypair: public key does not belong to "
                                   "the secret key")
        if purpose is not None:
            _name(purpose, "purpose")
        self.purpose = purpose
        self.endpoint = endpoint
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._conn = None
        self._conn = Connection(endpoint, server_key, keypair.public,
                                keypair.secret, _timeout_ms(timeout),
                                _max_request(max_request))
        self.public_key = keypair.public

    @classmethod
    def from_env(cls, **kw):
        """A Client configured as privctl is, from the environment:
        PRIVD_ENDPOINT, PRIVD_SERVER_KEY (a file such as DATA_DIR/server.pub
        if one exists at that path, else the key itself) and PRIVD_KEY (the
        key pair file). Keyword arguments are passed on (purpose, timeout,
        ...) and override the environment."""
        missing = [v for v in ("PRIVD_ENDPOINT", "PRIVD_SERVER_KEY",
                               "PRIVD_KEY")
                   if not os.environ.get(v) and
                   not any(a in kw for a in _ENV_ARG[v])]
        if missing:
            raise InvalidError("set %s (as for privctl)" % ", ".join(missing))
        if "server_key" not in kw and "server_key_file" not in kw:
            sk = os.environ["PRIVD_SERVER_KEY"]
            kw["server_key_file" if os.path.exists(sk) else "server_key"] = sk
        if "key_file" not in kw and "keypair" not in kw:
            kw["key_file"] = os.environ["PRIVD_KEY"]
        endpoint = kw.pop("endpoint", None) or os.environ["PRIVD_ENDPOINT"]
        return cls(endpoint, **kw)

    # -- the handle --------------------------------------------------------

    def close(self):
        """Close the connection; later calls raise PrivdError. Idempotent."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        conn = getattr(self, "_conn", None)
        if conn is not None and getattr(self, "_pid", None) == os.getpid():
            try:
                conn.close()
            except Exception:
                pass

    def __repr__(self):
        return "<privd.Client %s key %s>" % (self.endpoint, self.public_key)

    def _open_conn(self):
        if self._conn is None:
            raise PrivdError("the client is closed")
        return self._conn

    @property
    def timeout(self):
        """Seconds each call waits at most (> 0)."""
        return self._open_conn().timeout_ms / 1000.0

    @timeout.setter
    def timeout(self, seconds):
        self._open_conn().timeout_ms = _timeout_ms(seconds)

    @property
    def max_request(self):
        """The largest request sent, in bytes (match privd's
        --max-request); a larger one raises TooLargeError unsent."""
        return self._open_conn().max_request

    @max_request.setter
    def max_request(self, n):
        self._open_conn().max_request = _max_request(n)

    @property
    def last_request_id(self):
        """The request id of the last request sent (0: none yet): the one
        privd's audit event of it carries."""
        return self._conn.last_id if self._conn is not None else 0

    def call(self, req, payload=None, keep=None):
        """Send any privd_pb2.Request (request_id set here) and return the
        Response. payload: the Response payload an OK answer carries (by
        default the name of the request's operation). A status other than
        OK raises its exception, unless it is keep and the answer carries
        the payload. For operations this class has no method for."""
        if payload is None:
            payload = req.WhichOneof("op")
            if payload is None:
                raise InvalidError("the request has no operation")
        with self._lock:
            conn = self._open_conn()
            if self._pid != os.getpid():
                raise PrivdError("a privd.Client cannot be used after fork(); "
                                 "make a new one in the child")
            return conn.call(req, payload, keep)

    def _purpose(self, purpose):
        p = purpose if purpose is not None else self.purpose
        if p is None:
            raise InvalidError("no purpose: pass purpose= or give the "
                               "Client one")
        return _name(p, "purpose")

    # -- data --------------------------------------------------------------

    def ping(self):
        """Check that privd answers and knows the caller: a Pong."""
        req = pb.Request()
        req.ping.SetInParent()
        p = self.call(req).ping
        return Pong(p.server_version, p.principal, p.policy_version)

    def put(self, register, subject, fields, *, purpose=None):
        """Store fields of a subject, all or none: fields is a mapping (or
        pairs) of field name to value (bytes, or str stored as UTF-8).
        Returns the number of fields written."""
        req = pb.Request()
        req.purpose = self._purpose(purpose)
        req.put.register = _name(register, "register")
        req.put.subject = _subject(subject)
        items = fields.items() if hasattr(fields, "items") else fields
        for name, value in items:
            f = req.put.fields.add()
            f.name = _name(name, "a field name")
            f.value = _value(value, name)
        if not 1 <= len(req.put.fields) <= MAX_FIELDS:
            raise InvalidError("a put stores 1..%d fields" % MAX_FIELDS)
        return self.call(req).put.written

    def get(self, register, subject, fields=None, *, purpose=None):
        """Read fields of a subject (fields: names; None: every stored
        field the caller may read). Returns a dict of name to bytes, in
        name order; a field named but not stored is absent. NotFoundError
        if the subject is not stored."""
        req = pb.Request()
        req.purpose = self._purpose(purpose)
        req.get.register = _name(register, "register")
        req.get.subject = _subject(subject)
        req.get.fields.extend(_names(fields))
        got = self.call(req).get.fields
        if len(got) > MAX_FIELDS:
            raise ProtocolError("privd's answer has more than %d fields"
                                % MAX_FIELDS)
        out = {}
        for f in got:
            if not f.name or f.name in out:
                raise ProtocolError("privd's answer has a field without a "
                                    "name, or a field twice")
            out[f.name] = f.value
        return out

    def delete(self, register, subject, fields=None, *, purpose=None):
        """Delete named fields of a subject, or (fields None) the whole
        subject and its data key. Returns the number of stored fields
        removed. When a retention minimum or a legal hold keeps a field,
        everything else asked for is deleted and RetainedError says what
        was kept (.retained) and how many went (.deleted)."""
        req = pb.Request()
        req.purpose = self._purpose(purpose)
        req.delete.register = _name(register, "register")
        req.delete.subject = _subject(subject)
        req.delete.fields.extend(_names(fields))
        resp = self.call(req, keep=pb.RETAINED)
        d = resp.delete
        if resp.status == pb.RETAINED:
            raise RetainedError(printable(resp.message), deleted=d.deleted,
                                retained=[_retained(r) for r in d.retained])
        return d.deleted

    # -- policy (role policy_admin) ------------------------------------------

    def policy_get(self, version=0):
        """A policy version and its document (version 0: the one in
        force), as a privd.Policy."""
        req = pb.Request()
        req.policy_get.version = _count(version, "version")
        r = self.call(req).policy_get
        return Policy(_version(r.version), r.policy_json)

    def policy_apply(self, policy, *, replaces_version, force=False):
        """Replace the policy in force with policy (a JSON document as str
        or bytes, or a dict to be serialised). replaces_version: the
        version it replaces (ConflictError if another admin changed the
        policy meanwhile). force: apply even if it takes the role
        policy_admin from the caller. InvalidError says "JSON path:
        reason" for a document that does not validate."""
        if isinstance(policy, (bytes, bytearray)):
            policy = bytes(policy).decode("utf-8")
        elif not isinstance(policy, str):
            policy = json.dumps(policy)
        if _count(replaces_version, "replaces_version") == 0:
            raise InvalidError("replaces_version is the version in force "
                               "(>= 1)")
        req = pb.Request()
        req.policy_apply.replaces_version = replaces_version
        req.policy_apply.policy_json = policy
        req.policy_apply.force = bool(force)
        r = self.call(req).policy_apply
        return ApplyResult(r.version, r.unchanged, r.replan_subjects)

    def policy_history(self):
        """Every policy version ever applied, oldest first."""
        req = pb.Request()
        req.policy_history.SetInParent()
        return [_version(v) for v in self.call(req).policy_history.versions]

    # -- audit (role auditor) ----------------------------------------------

    def audit_query_page(self, cursor=b"", **criteria):
        """One page of an audit query: (records, next_cursor); next_cursor
        is empty when nothing more can match. criteria are the fields of
        AuditQueryRequest (subject, register, principal, since_us,
        until_us, ops, not_ops, decision (a Decision value or name),
        newest_first, limit 1..1000, from_seq, to_seq, request_id; follow
        for a poll of `privctl audit tail -f`)."""
        req = pb.Request()
        q = req.audit_query
        for k, v in criteria.items():
            if k in ("ops", "not_ops"):
                getattr(q, k).extend([v] if isinstance(v, str) else v)
            elif k == "decision":
                q.decision = _decision(v)
            elif k == "cursor" or k not in q.DESCRIPTOR.fields_by_name:
                raise TypeError("unknown audit query criterion %r" % k)
            else:
                setattr(q, k, v)
        if q.limit > _audit.AUDIT_PAGE_MAX:
            raise InvalidError("at most %d events per page"
                               % _audit.AUDIT_PAGE_MAX)
        q.cursor = cursor
        r = self.call(req).audit_query
        if len(r.records) > _audit.AUDIT_PAGE_MAX:
            raise ProtocolError("privd's answer has more than %d audit "
                                "records" % _audit.AUDIT_PAGE_MAX)
        return [_record(x) for x in r.records], bytes(r.next_cursor)

    def audit_query(self, **criteria):
        """Every event matching criteria (see audit_query_page), walking
        the pages: an iterator of privd.AuditRecord, oldest first unless
        newest_first."""
        cursor = b""
        while True:
            recs, nxt = self.audit_query_page(cursor, **criteria)
            yield from recs
            if not nxt:
                return
            if nxt == cursor:
                raise ProtocolError("privd's answer does not make progress")
            cursor = nxt

    def audit_pubkey(self):
        """The Ed25519 key privd signs checkpoints with (32 bytes). Pin it
        once (write it down) and pass it to audit_verify()."""
        req = pb.Request()
        req.audit_pubkey.SetInParent()
        pk = bytes(self.call(req).audit_pubkey.public_key)
        if len(pk) != _audit.PK_BYTES:
            raise ProtocolError("privd's audit signing key is not %d bytes"
                                % _audit.PK_BYTES)
        return pk

    def audit_checkpoints(self, from_seq=0, to_seq=0):
        """Signed checkpoints with from_seq <= seq <= to_seq (0: no bound;
        at most 10000 a call), and the range of events kept: a
        privd.Checkpoints."""
        req = pb.Request()
        req.audit_checkpoints.from_seq = _count(from_seq, "from_seq")
        req.audit_checkpoints.to_seq = _count(to_seq, "to_seq")
        r = self.call(req).audit_checkpoints
        if len(r.checkpoints) > _audit.AUDIT_CKPTS_MAX:
            raise ProtocolError("privd's answer has more than %d checkpoints"
                                % _audit.AUDIT_CKPTS_MAX)
        base = _checkpoint(r.prune_checkpoint) \
            if r.HasField("prune_checkpoint") else None
        return Checkpoints(tuple(_checkpoint(c) for c in r.checkpoints),
                           r.first_seq, r.last_seq, base)

    def audit_verify(self, from_seq=0, to_seq=0, public_key=None):
        """Verify the audit log's events from_seq..to_seq (0: from the
        oldest kept, to the newest) here, in Python: the hash chain and
        every signed checkpoint, against public_key (32 bytes, or 64 hex
        digits), the signing key in force at from_seq as pinned from
        audit_pubkey(), following each rotation of the signing key in the
        range. Without one, the key privd reports now is used (or the
        first rotation's old key, and the rotations must lead to privd's
        key), which only proves the log consistent with itself. Returns
        a privd.VerifyResult; raises TamperedError naming the first event
        that does not verify."""
        if isinstance(public_key, str):
            try:
                public_key = bytes.fromhex(public_key.strip())
            except ValueError:
                raise InvalidError("public_key is not 64 hex digits") \
                    from None
        if public_key is not None and len(public_key) != _audit.PK_BYTES:
            raise InvalidError("public_key is 32 bytes (64 hex digits)")
        return _audit.verify(self, _count(from_seq, "from_seq"),
                             _count(to_seq, "to_seq"), public_key)

    # -- data subject rights (role subject_rights) ------------------------

    def subject_lookup(self, field, value):
        """Find a person by a field the policy marks lookup (an email
        compared case-folded, a phone number in E.164 form): a list of
        privd.SubjectMatch by register, then subject (empty: nobody)."""
        req = pb.Request()
        req.subject_lookup.field = _name(field, "field")
        req.subject_lookup.value = _value(value, field)
        ms = self.call(req).subject_lookup.matches
        if any(not m.register or not m.subject for m in ms):
            raise ProtocolError("privd's answer has a match without a "
                                "register or subject")
        return [SubjectMatch(m.register, m.subject) for m in ms]

    def subject_export(self, subject, register=""):
        """Everything privd holds about a person and who used it, as the
        JSON document of docs/subject-export.schema.json, parsed (register
        empty: every register where the subject is stored). Give the
        client a longer timeout for a person with a long history."""
        return json.loads(self.subject_export_json(subject, register))

    def subject_export_json(self, subject, register=""):
        """subject_export() as the document's bytes (UTF-8 JSON)."""
        req = pb.Request()
        req.subject_export.subject = _subject(subject)
        req.subject_export.register = _text(register, "register")
        doc = bytes(self.call(req).subject_export.json)
        if not doc or b"\0" in doc:
            raise ProtocolError("privd's export is empty or holds a NUL "
                                "byte")
        return doc


def _count(n, what):
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n >> 64:
        raise InvalidError("%s is an integer 0..2**64-1" % what)
    return n


def _timeout_ms(seconds):
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not seconds > 0 or seconds > 86400 * 24:
        raise InvalidError("timeout is a number of seconds > 0")
    return max(1, int(seconds * 1000))


def _max_request(n):
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise InvalidError("max_request is a number of bytes > 0")
    return n
