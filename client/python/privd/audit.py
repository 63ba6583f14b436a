"""Verifying privd's audit log on the auditor's side, in Python.

The chain (proto/privd.proto, AuditRecord and AuditCheckpoint)::

    hash(n) = BLAKE2b-256(hash(n - 1) || event(n)),  hash(0) = 32 zero bytes

and a checkpoint is privd's Ed25519 signature over
"privd-audit-checkpoint-v1" || seq (8 bytes, big-endian) || hash(seq) ||
time_us (8 bytes, big-endian). The verifier trusts nothing privd says
except what the chain and the checkpoint signatures prove against a signing
key the auditor holds (pinned once from audit_pubkey()).

The signing key can be rotated (`privd audit rotate-key`): the rotation is
one event of principal "privd", op "audit_key_rotate", whose two fields
are "from=HEX" and "to=HEX" (the old and the new public key, 64 hex digits
each), covered by a checkpoint at its own seq signed by the old key, which
thus vouches for the new one through the chain hash. The verifier starts
from the key in force at the start of the range and follows each rotation
it meets: checkpoints up to and including the rotation's are checked
against the old key, later ones against the new key.

This is libprivd's verifier (client/auditverify.c and client/verify.c)
written again, check for check and with the same explanations, so that
`privctl audit verify` and this package agree on every log:

- ChainVerifier is the pure part: records fed in order, checkpoints met on
  the way, the first event that does not verify raised as TamperedError.
- verify() fetches a range from anything with the client's audit_pubkey,
  audit_checkpoints and audit_query_page methods (a privd.Client, or a
  test's stand-in) and runs it through a ChainVerifier.

A ProtocolError (not TamperedError) means privd's answers themselves break
the protocol (pages that do not make progress, records past the range
asked for): the log was not judged.
"""

import hashlib
import struct

from . import _ed25519
from ._pb import pb
from .errors import ProtocolError, TamperedError
from .types import VerifyResult

HASH_BYTES = 32
SIG_BYTES = 64
PK_BYTES = 32
CHECKPOINT_DOMAIN = b"privd-audit-checkpoint-v1"
# privd's limits on one answer (client/internal.h)
AUDIT_PAGE_MAX = 1000
AUDIT_CKPTS_MAX = 10000
ZERO_HASH = bytes(HASH_BYTES)
# the rotation of the signing key, as daemon/audit.h describes it
ROTATE_PRINCIPAL = "privd"
ROTATE_OP = "audit_key_rotate"
_HEX = frozenset("0123456789abcdefABCDEF")


def checkpoint_message(seq, hash_, time_us):
    """The bytes a checkpoint's signature covers."""
    return CHECKPOINT_DOMAIN + struct.pack(">Q", seq) + bytes(hash_) + \
        struct.pack(">Q", time_us)


def checkpoint_valid(ck, public_key):
    """Is the checkpoint's signature valid under public_key (32 bytes)?"""
    if len(ck.hash) != HASH_BYTES or len(ck.signature) != SIG_BYTES:
        return False
    return _ed25519.verify(public_key, ck.signature,
                           checkpoint_message(ck.seq, ck.hash, ck.time_us))


def _key_field(f, prefix):
    """The key of a rotation field: prefix and exactly 64 hex digits."""
    if not f.startswith(prefix):
        return None
    h = f[len(prefix):]
    if len(h) != 2 * PK_BYTES or not set(h) <= _HEX:
        return None
    return bytes.fromhex(h)


def key_rotation(ev):
    """Is the parsed AuditEvent a rotation of the signing key? (from_key,
    to_key) if it is; None if it is another event. Raises ValueError for a
    rotation whose keys are not two well-formed public keys."""
    if ev.op != ROTATE_OP or ev.principal != ROTATE_PRINCIPAL:
        return None
    keys = None
    if len(ev.fields) == 2:
        keys = (_key_field(ev.fields[0], "from="),
                _key_field(ev.fields[1], "to="))
    if keys is None or None in keys:
        raise ValueError("malformed key rotation")
    return keys


def chain_hash(prev, event):
    """hash(n) from hash(n - 1) and the bytes of event n."""
    h = hashlib.blake2b(digest_size=HASH_BYTES)
    h.update(prev)
    h.update(event)
    return h.digest()


class ChainVerifier:
    """Feed records in order with record() (or damaged()), then call
    finish(). The first event that does not verify raises TamperedError
    (seq, why); the verifier is then spent.

    from_seq (>= 1) is the first event expected; prev its previous hash (32
    zero bytes for event 1; a verified checkpoint's hash after pruning;
    else the stored hash of event from_seq - 1); public_key the signing key
    in force at from_seq. checkpoints with seq < from_seq are skipped;
    each other one must be met, at its seq, with a valid signature by the
    key in force and the chain's hash there. A rotation of the signing key
    must start from the key in force and be covered by a checkpoint at its
    own seq, or it fails there; public_key is then the new key."""

    def __init__(self, public_key, from_seq, prev, checkpoints):
        self.public_key = bytes(public_key)
        self.prev = bytes(prev)
        self.next_seq = from_seq
        self.last_time = 0
        self.ckpts = sorted(checkpoints, key=lambda c: c.seq)
        self.ci = 0
        while self.ci < len(self.ckpts) and self.ckpts[self.ci].seq < from_seq:
            self.ci += 1
        self.checked = 0
        self.ckpts_ok = 0
        self.rotations = 0
        self.first_checked = 0
        self.bad_seq = 0
        self.why = ""

    def _fail(self, seq, why):
        if self.bad_seq == 0:
            self.bad_seq, self.why = seq, why
        raise TamperedError(self.bad_seq, self.why)

    def _spent(self):
        if self.bad_seq:
            raise TamperedError(self.bad_seq, self.why)

    def record(self, event, hash_):
        """Verify the next record: the event's bytes and its stored hash.
        Returns the event's seq."""
        self._spent()
        n = self.next_seq
        try:
            ev = pb.AuditEvent.FromString(bytes(event))
        except Exception:  # DecodeError, and whatever a backend raises
            self._fail(n, "event %d does not decode" % n)
        seq, t = ev.seq, ev.time_us
        try:
            rot = key_rotation(ev)
        except ValueError:
            rot = False
        if seq > n:
            self._fail(n, "event %d is missing" % n)
        if seq < n:
            self._fail(n, "event %d is out of place (found event %d there)"
                       % (n, seq))
        if t < self.last_time:
            self._fail(seq, "event %d goes back in time" % seq)
        h = chain_hash(self.prev, event)
        if len(hash_) != HASH_BYTES or h != bytes(hash_):
            self._fail(seq, "event %d does not match its chain hash "
                       "(changed, or an event before it was)" % seq)
        if rot is False:
            self._fail(seq, "event %d rotates the signing key, but its keys "
                       "are not well-formed" % seq)
        if rot and rot[0] != self.public_key:
            self._fail(seq, "the key rotation at event %d starts from "
                       "another key than the one in force (pin the key in "
                       "force at the start of the range)" % seq)
        signed_here = 0
        while self.ci < len(self.ckpts) and self.ckpts[self.ci].seq == seq:
            c = self.ckpts[self.ci]
            self.ci += 1
            if not checkpoint_valid(c, self.public_key):
                self._fail(seq, "checkpoint at event %d has an invalid "
                           "signature" % seq)
            if c.hash != h:
                self._fail(seq, "the chain at event %d differs from its "
                           "signed checkpoint" % seq)
            self.ckpts_ok += 1
            signed_here += 1
        if rot:
            # the old key vouches for the new one, or nobody does
            if not signed_here:
                self._fail(seq, "the key rotation at event %d has no "
                           "checkpoint signed by the key it replaces" % seq)
            self.public_key = rot[1]
            self.rotations += 1
        if self.ci < len(self.ckpts) and self.ckpts[self.ci].seq < seq:
            s = self.ckpts[self.ci].seq
            self._fail(s, "checkpoint at event %d names an event that is "
                       "not there" % s)
        self.prev = h
        self.last_time = t
        self.next_seq = seq + 1
        if not self.checked:
            self.first_checked = seq
        self.checked += 1
        return seq

    def damaged(self, seq):
        """The next record is one privd marked damaged, stored under seq.
        Verification cannot go past it: always raises TamperedError."""
        self._spent()
        n = self.next_seq
        if seq > n:
            self._fail(n, "event %d is missing" % n)
        if seq < n:
            self._fail(n, "event %d is out of place (found event %d there)"
                       % (n, seq))
        self._fail(seq, "event %d is damaged (it cannot be decoded)" % seq)

    def finish(self, last_seq):
        """End of the range: the records must have reached last_seq, and
        every checkpoint given must have been met (one beyond the last
        record proves that events are missing)."""
        self._spent()
        if self.next_seq <= last_seq:
            self._fail(self.next_seq, "event %d is missing" % self.next_seq)
        if self.ci < len(self.ckpts):
            s = self.ckpts[self.ci].seq
            self._fail(s, "checkpoint at event %d names an event that is "
                       "not there" % s)


def _in_order(part, lo, hi):
    """Do checkpoints privd sent for [lo, hi] keep to it, in strictly
    increasing seq? A list that does not could make paging ask for the
    same ones forever."""
    prev = None
    for c in part:
        if c.seq < lo or c.seq > hi or (prev is not None and c.seq <= prev):
            return False
        prev = c.seq
    return True


def _checkpoints_all(source, from_seq, to_seq):
    """Every checkpoint in [from_seq, to_seq], in as many calls as privd's
    per-call limit needs, and the first call's first_seq, last_seq and
    prune checkpoint. Later calls end at that last_seq, so that checkpoints
    signed meanwhile do not look like missing events."""
    out = []
    lo, end = from_seq, to_seq
    first = None
    while True:
        ans = source.audit_checkpoints(lo, end)
        part = list(ans.checkpoints)
        hi = end if end != 0 else (1 << 64) - 1
        if not _in_order(part, lo, hi) or \
                (part and len(out) + len(part) - 1 > hi - from_seq):
            raise ProtocolError("privd's answer does not make progress")
        if first is None:
            first = ans
            if end == 0:
                end = ans.last_seq if ans.last_seq > 0 else 1
        out.extend(part)
        if len(part) < AUDIT_CKPTS_MAX or part[-1].seq >= end:
            break
        lo = part[-1].seq + 1
    out.sort(key=lambda c: c.seq)
    return out, first.first_seq, first.last_seq, first.prune_checkpoint


def _start(source, from_seq, first_seq, ckpts, base, public_key):
    """Where verification starts and the chain hash before it."""
    from_seq = max(from_seq, 1)
    if first_seq > 1 and from_seq <= first_seq:
        # pruned: the kept chain starts from a signed checkpoint
        if base is None or base.seq != first_seq - 1:
            lost = from_seq
            for c in ckpts:
                if first_seq > c.seq >= lost:
                    lost = c.seq + 1
            raise TamperedError(lost, "events %d to %d are missing, and no "
                                "signed checkpoint ends them"
                                % (lost, first_seq - 1))
        if not checkpoint_valid(base, public_key):
            raise TamperedError(base.seq, "the checkpoint at event %d, where "
                                "the kept events start, has an invalid "
                                "signature (or the signing key was rotated "
                                "in the pruned events: pin the key in force "
                                "after them)" % base.seq)
        return first_seq, base.hash
    if from_seq == 1:
        return 1, ZERO_HASH
    # mid-log: the stored hash of the event before the range
    recs, _ = source.audit_query_page(from_seq=from_seq - 1,
                                      to_seq=from_seq - 1, limit=1)
    if len(recs) != 1 or recs[0].seq != from_seq - 1:
        raise TamperedError(from_seq - 1, "event %d, before the range, is "
                            "missing" % (from_seq - 1))
    if recs[0].damaged:
        raise TamperedError(from_seq - 1, "event %d, before the range, is "
                            "damaged (it cannot be decoded)" % (from_seq - 1))
    return from_seq, recs[0].hash


def _key_at_start(source, from_seq):
    """The key in force at from_seq when the caller pinned none: the old
    key of the first rotation at or after from_seq, if there is one (the
    rotations are events of principal "privd": a few, the offline
    commands'). None if there is none: privd's current key is in force."""
    cursor = b""
    while True:
        recs, nxt = source.audit_query_page(
            cursor=cursor, principal=ROTATE_PRINCIPAL, from_seq=from_seq,
            limit=AUDIT_PAGE_MAX)
        for r in recs:
            if r.damaged:
                continue
            try:
                rot = key_rotation(pb.AuditEvent.FromString(r.raw))
            except Exception:  # the chain check will say what is wrong
                continue
            if rot:
                return rot[0]
        if not nxt or nxt == cursor:
            return None
        cursor = nxt


def verify(source, from_seq=0, to_seq=0, public_key=None):
    """Verify events from_seq..to_seq (0: from the first kept, to the
    newest) of the log source serves. public_key: the pinned signing key
    (32 bytes); None takes the key privd reports now, which proves only
    that the log is consistent with itself. Returns a VerifyResult; raises
    TamperedError at the first event that does not verify."""
    if from_seq < 0 or to_seq < 0:
        raise ValueError("from_seq and to_seq are not negative")
    if to_seq != 0 and from_seq > to_seq:
        raise ValueError("from_seq is after to_seq")
    current = None
    if public_key is None:
        key = current = bytes(source.audit_pubkey())
    else:
        key = bytes(public_key)
    if len(key) != PK_BYTES:
        raise ValueError("the audit signing key is %d bytes" % PK_BYTES)
    ckpts, first_seq, last_seq, base = _checkpoints_all(source, from_seq,
                                                        to_seq)
    if last_seq == 0:
        return VerifyResult(0, 0, 0, 0)  # nothing kept (yet)
    # The range ends at the newest event as of the checkpoint listing
    # (later ones include this call's own queries), or at a checkpoint
    # beyond it: a signed checkpoint names events that must be there.
    end = to_seq if to_seq != 0 and to_seq < last_seq else last_seq
    fin = max([end] + [c.seq for c in ckpts])
    if max(from_seq, 1) > fin:
        return VerifyResult(0, 0, 0, 0)  # the range starts after the newest
    rotated = False
    if public_key is None:
        first_old = _key_at_start(source, from_seq)
        if first_old is not None:
            key, rotated = first_old, True
    start, prev = _start(source, from_seq, first_seq, ckpts, base, key)
    if start > fin:
        return VerifyResult(0, 0, 0, 0)
    v = ChainVerifier(key, start, prev, ckpts)
    cursor = b""
    while True:
        recs, nxt = source.audit_query_page(cursor=cursor, from_seq=start,
                                            to_seq=fin, limit=AUDIT_PAGE_MAX)
        # Each record verified is the next seq, so pages with records
        # advance; a page without any must at least move the cursor.
        if cursor and nxt == cursor:
            raise ProtocolError("privd's answer does not make progress")
        for rec in recs:
            if rec.damaged and rec.seq == v.next_seq and rec.seq > fin:
                raise ProtocolError("privd's answer goes past the range "
                                    "asked for")
            if rec.damaged:
                v.damaged(rec.seq)  # raises
            if v.record(rec.raw, rec.hash) > fin:
                raise ProtocolError("privd's answer goes past the range "
                                    "asked for")
        cursor = nxt
        if not cursor:
            break
    v.finish(fin)
    if rotated and to_seq == 0 and v.public_key != current:
        # the keys were taken from the log: they must lead to the key
        # privd signs with
        raise TamperedError(fin, "the log's key rotations do not lead to "
                            "the key privd signs with now")
    return VerifyResult(v.checked, v.ckpts_ok, v.first_checked,
                        v.next_seq - 1 if v.checked else 0, v.rotations)
