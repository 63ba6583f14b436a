#!/usr/bin/python3
"""The Python audit verifier (client/python/privd/audit.py) alone, on logs
the test makes and signs itself: an intact log verifies; every kind of
tampering is found at the first event it touches, with libprivd's
explanation; answers that break the protocol are ProtocolError, not a
verdict on the log. A privd that tampers cannot be run, so a stand-in
serves the log (FakeLog: the three calls audit.verify() makes).
"""

import ctypes
import ctypes.util
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402

pyharness.skip_unless_ready()
privd = pyharness.import_privd()
audit = privd.audit
pb = privd.pb
T0 = 1_700_000_000_000_000  # a time in 2023, in microseconds


class Signer:
    """An Ed25519 key pair from a seed (libsodium, else cryptography)."""

    def __init__(self, seed):
        seed = bytes([seed]) * 32
        path = ctypes.util.find_library("sodium")
        if path:
            lib = ctypes.CDLL(path)
            lib.sodium_init()
            pk = ctypes.create_string_buffer(32)
            sk = ctypes.create_string_buffer(64)
            lib.crypto_sign_seed_keypair(pk, sk, seed)
            self.public_key, self._sk, self._lib = pk.raw, sk.raw, lib
        else:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import \
                Ed25519PrivateKey
            from cryptography.hazmat.primitives import serialization
            self._key = Ed25519PrivateKey.from_private_bytes(seed)
            self._lib = None
            self.public_key = self._key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign(self, msg):
        if self._lib is None:
            return self._key.sign(msg)
        sig = ctypes.create_string_buffer(64)
        self._lib.crypto_sign_detached(sig, None, msg,
                                       ctypes.c_ulonglong(len(msg)), self._sk)
        return sig.raw


def event_bytes(seq, time_us=None, principal="svc", op="put"):
    ev = pb.AuditEvent(seq=seq, time_us=T0 + seq if time_us is None
                       else time_us, principal=principal, op=op,
                       register="customers", subject=bytes([seq % 256]) * 32,
                       decision=pb.ALLOWED, status=pb.OK, policy_version=1,
                       request_id=1000 + seq)
    return ev.SerializeToString()


def rotation_bytes(seq, old, new, fields=None):
    """The event of `privd audit rotate-key` (daemon/audit.h)."""
    ev = pb.AuditEvent(seq=seq, time_us=T0 + seq, principal="privd",
                       op="audit_key_rotate", decision=pb.ALLOWED,
                       status=pb.OK, policy_version=1)
    ev.fields.extend(fields if fields is not None else
                     ["from=" + old.hex(), "to=" + new.hex()])
    return ev.SerializeToString()


class FakeLog:
    """A log of n events with a checkpoint every `every` events, served as
    privd serves it: pages of at most `page` records with a cursor,
    checkpoints at most `ckpt_max` a call. Tests edit records, checkpoints
    and the reported range to tamper."""

    def __init__(self, n, every=3, signer=None, page=4, ckpt_max=10000,
                 rotations=None):
        """rotations: {seq: new Signer}: the signing key rotates at seq,
        as privd does it (the event, and a checkpoint there signed by the
        old key); self.signer is the key in force at the end."""
        self.signer = signer or Signer(1)
        self.first_signer = self.signer
        self.page = page
        self.ckpt_max = ckpt_max
        self.records = []  # [seq, raw, hash, damaged]
        self.checkpoints = []
        prev = audit.ZERO_HASH
        rotations = rotations or {}
        for seq in range(1, n + 1):
            new = rotations.get(seq)
            raw = rotation_bytes(seq, self.signer.public_key,
                                 new.public_key) if new else event_bytes(seq)
            prev = audit.chain_hash(prev, raw)
            self.records.append([seq, raw, prev, False])
            if seq % every == 0 or new:
                self.checkpoints.append(self.sign(seq, prev, T0 + seq))
            if new:
                self.signer = new
        self.first_seq = 1 if n else 0
        self.last_seq = n
        self.prune = None
        self.queries = []

    def sign(self, seq, hash_, time_us, signer=None):
        sig = (signer or self.signer).sign(
            audit.checkpoint_message(seq, hash_, time_us))
        return privd.Checkpoint(seq, hash_, time_us, sig)

    def rehash(self, start_index=0):
        """Recompute the stored hashes from start_index on (an attacker
        rewriting the chain after a change)."""
        prev = self.records[start_index - 1][2] if start_index else \
            audit.ZERO_HASH
        for r in self.records[start_index:]:
            r[2] = prev = audit.chain_hash(prev, r[1])

    def index_of(self, seq):
        return [r[0] for r in self.records].index(seq)

    # -- the calls audit.verify() makes ----------------------------------

    def audit_pubkey(self):
        return self.signer.public_key

    def audit_checkpoints(self, from_seq=0, to_seq=0):
        hi = to_seq or (1 << 64) - 1
        sel = [c for c in self.checkpoints if from_seq <= c.seq <= hi]
        return privd.Checkpoints(tuple(sel[:self.ckpt_max]), self.first_seq,
                                 self.last_seq, self.prune)

    def audit_query_page(self, cursor=b"", from_seq=0, to_seq=0, limit=100,
                         principal=""):
        self.queries.append((cursor, from_seq, to_seq, limit))
        hi = to_seq or (1 << 64) - 1
        sel = [r for r in self.records if from_seq <= r[0] <= hi and (
            not principal or (not r[3] and pb.AuditEvent.FromString(
                r[1]).principal == principal))]
        start = int(cursor.decode()) if cursor else 0
        n = min(limit, self.page)
        part = sel[start:start + n]
        nxt = str(start + n).encode() if start + n < len(sel) else b""
        return ([privd.AuditRecord(s, raw, h, dmg) for s, raw, h, dmg in part],
                nxt)


class VerifyIntact(unittest.TestCase):
    def test_intact_log_verifies_across_pages(self):
        log = FakeLog(20, every=3)
        r = audit.verify(log, public_key=log.signer.public_key)
        self.assertEqual((r.checked, r.checkpoints, r.first_seq, r.last_seq),
                         (20, 6, 1, 20))
        self.assertGreater(len(log.queries), 4, "pages were not walked")

    def test_without_a_pinned_key_privds_key_is_used(self):
        log = FakeLog(5)
        self.assertEqual(audit.verify(log).checked, 5)

    def test_empty_log(self):
        self.assertEqual(audit.verify(FakeLog(0)).checked, 0)

    def test_range_in_the_middle(self):
        """From 5 to 11: the stored hash of event 4 starts the chain, and
        only the checkpoints of the range count."""
        log = FakeLog(20, every=3)
        r = audit.verify(log, from_seq=5, to_seq=11,
                         public_key=log.signer.public_key)
        self.assertEqual((r.checked, r.checkpoints, r.first_seq, r.last_seq),
                         (7, 2, 5, 11))

    def test_range_after_the_newest(self):
        self.assertEqual(audit.verify(FakeLog(5), from_seq=9).checked, 0)

    def test_pruned_log_starts_from_its_signed_checkpoint(self):
        log = FakeLog(12, every=3)
        base = log.checkpoints[1]  # seq 6
        del log.records[:6]
        log.first_seq, log.prune = 7, base
        r = audit.verify(log, public_key=log.signer.public_key)
        self.assertEqual((r.checked, r.first_seq, r.last_seq), (6, 7, 12))

    def test_checkpoint_pages(self):
        """More checkpoints than privd gives in one answer: asked for
        again from after the last one."""
        log = FakeLog(30, every=1, ckpt_max=7)
        old = audit.AUDIT_CKPTS_MAX
        audit.AUDIT_CKPTS_MAX = 7
        try:
            r = audit.verify(log, public_key=log.signer.public_key)
        finally:
            audit.AUDIT_CKPTS_MAX = old
        self.assertEqual((r.checked, r.checkpoints), (30, 30))


class VerifyTampered(unittest.TestCase):
    """Each tampering found at the first event it touches, saying what."""

    def check(self, log, seq, why, **kw):
        kw.setdefault("public_key", log.signer.public_key)
        with self.assertRaises(privd.TamperedError) as cm:
            audit.verify(log, **kw)
        self.assertEqual(cm.exception.seq, seq, str(cm.exception))
        self.assertIn(why, cm.exception.why)
        self.assertIn("does not verify at event %d" % seq,
                      str(cm.exception))
        return cm.exception

    def test_changed_event(self):
        log = FakeLog(10)
        log.records[4][1] = event_bytes(5, principal="mallory")
        self.check(log, 5, "event 5 does not match its chain hash")

    def test_changed_event_and_chain_rewritten(self):
        """The hashes after the change recomputed: the next signed
        checkpoint (6) gives it away."""
        log = FakeLog(10, every=3)
        log.records[3][1] = event_bytes(4, op="get")
        log.rehash(3)
        self.check(log, 6, "the chain at event 6 differs from its signed "
                   "checkpoint")

    def test_rewritten_and_resigned_with_another_key(self):
        log = FakeLog(10, every=3)
        mallory = Signer(2)
        log.records[3][1] = event_bytes(4, op="get")
        log.rehash(3)
        log.checkpoints = [log.sign(c.seq, log.records[c.seq - 1][2],
                                    c.time_us, mallory)
                           for c in log.checkpoints]
        pinned = log.signer.public_key
        log.signer = mallory  # what privd reports now
        self.check(log, 3, "checkpoint at event 3 has an invalid signature",
                   public_key=pinned)
        # without the pinned key, the log is only consistent with itself
        self.assertEqual(audit.verify(log).checked, 10)

    def test_bad_signature(self):
        log = FakeLog(10, every=3)
        c = log.checkpoints[1]
        log.checkpoints[1] = privd.Checkpoint(
            c.seq, c.hash, c.time_us, bytes([c.signature[0] ^ 1]) +
            c.signature[1:])
        self.check(log, 6, "checkpoint at event 6 has an invalid signature")

    def test_checkpoint_time_changed(self):
        log = FakeLog(10, every=3)
        c = log.checkpoints[0]
        log.checkpoints[0] = privd.Checkpoint(c.seq, c.hash, c.time_us + 1,
                                              c.signature)
        self.check(log, 3, "checkpoint at event 3 has an invalid signature")

    def test_event_removed(self):
        log = FakeLog(10, every=100)
        del log.records[6]
        self.check(log, 7, "event 7 is missing")

    def test_events_swapped(self):
        log = FakeLog(10, every=100)
        r = log.records
        r[4], r[5] = r[5], r[4]
        self.check(log, 5, "event 5 is missing")

    def test_event_repeated(self):
        """An older event (and its hash) where event 5 belongs."""
        log = FakeLog(10, every=100)
        log.records[4] = list(log.records[2])
        self.check(log, 5, "event 5 is out of place (found event 3 there)")

    def test_end_cut_off_before_a_checkpoint(self):
        """The newest events removed and last_seq lowered to match: the
        signed checkpoint beyond them proves them."""
        log = FakeLog(10, every=4)
        del log.records[8:]
        log.last_seq = 8
        log.checkpoints.append(log.sign(10, b"\x11" * 32, T0 + 10))
        self.check(log, 9, "event 9 is missing")

    def test_end_cut_off_below_last_seq(self):
        log = FakeLog(10, every=100)
        del log.records[8:]
        self.check(log, 9, "event 9 is missing")

    def test_checkpoint_past_the_records(self):
        """ChainVerifier alone: a checkpoint given for the range that no
        record reaches proves events missing."""
        log = FakeLog(5, every=100)
        extra = log.sign(7, b"\x44" * 32, T0 + 7)
        v = privd.ChainVerifier(log.signer.public_key, 1, audit.ZERO_HASH,
                                [extra])
        for seq, raw, h, _ in log.records:
            v.record(raw, h)
        with self.assertRaises(privd.TamperedError) as cm:
            v.finish(5)
        self.assertEqual(cm.exception.seq, 7)
        self.assertIn("checkpoint at event 7 names an event that is not "
                      "there", cm.exception.why)
        # spent: every later call says the same
        with self.assertRaises(privd.TamperedError) as cm:
            v.record(*log.records[0][1:3])
        self.assertEqual(cm.exception.seq, 7)

    def test_time_goes_back(self):
        log = FakeLog(10, every=100)
        log.records[5][1] = event_bytes(6, time_us=T0)
        log.rehash(5)
        self.check(log, 6, "event 6 goes back in time")

    def test_damaged_record(self):
        log = FakeLog(10)
        log.records[2] = [3, b"\xff", b"", True]
        self.check(log, 3, "event 3 is damaged (it cannot be decoded)")

    def test_event_that_does_not_decode(self):
        log = FakeLog(10, every=100)
        log.records[2][1] = b"\xff\xff\xff"
        log.rehash(2)
        self.check(log, 3, "event 3 does not decode")

    def test_pruned_without_a_checkpoint(self):
        log = FakeLog(12, every=100)
        del log.records[:6]
        log.first_seq = 7
        self.check(log, 1, "events 1 to 6 are missing, and no signed "
                   "checkpoint ends them")

    def test_pruned_with_a_forged_checkpoint(self):
        log = FakeLog(12, every=3)
        del log.records[:6]
        log.first_seq = 7
        log.prune = log.sign(6, log.records[0][2], T0 + 6, Signer(3))
        self.check(log, 6, "the checkpoint at event 6, where the kept events "
                   "start, has an invalid signature")

    def test_pruned_with_a_checkpoint_not_matching(self):
        log = FakeLog(12, every=3)
        del log.records[:6]
        log.first_seq = 7
        log.prune = log.sign(6, b"\x22" * 32, T0 + 6)
        self.check(log, 7, "event 7 does not match its chain hash")

    def test_event_before_the_range_missing_or_damaged(self):
        log = FakeLog(10, every=100)
        del log.records[3]
        self.check(log, 4, "event 4, before the range, is missing",
                   from_seq=5)
        log = FakeLog(10, every=100)
        log.records[3] = [4, b"", b"", True]
        self.check(log, 4, "event 4, before the range, is damaged",
                   from_seq=5)


class VerifyKeyRotation(unittest.TestCase):
    """The chain of signing keys (`privd audit rotate-key`), as libprivd's
    verifier follows it."""

    def setUp(self):
        self.k1, self.k2, self.k3 = Signer(11), Signer(12), Signer(13)

    def rotated(self, n=20, **kw):
        return FakeLog(n, every=4, signer=self.k1,
                       rotations={7: self.k2, 15: self.k3}, **kw)

    def test_followed_from_the_pinned_first_key(self):
        log = self.rotated()
        r = audit.verify(log, public_key=self.k1.public_key)
        self.assertEqual((r.checked, r.rotations, r.checkpoints),
                         (20, 2, 7))

    def test_without_a_pin_from_the_first_rotation(self):
        """privd reports its current key; the first rotation's old key is
        where the chain starts, and it must lead to the current one."""
        log = self.rotated()
        self.assertEqual(audit.verify(log).rotations, 2)
        r = audit.verify(log, from_seq=9)
        self.assertEqual((r.first_seq, r.rotations), (9, 1))
        self.assertEqual(audit.verify(log, from_seq=16).rotations, 0)

    def test_pinned_key_in_force_at_the_start_of_a_range(self):
        log = self.rotated()
        r = audit.verify(log, from_seq=9, public_key=self.k2.public_key)
        self.assertEqual(r.rotations, 1)
        with self.assertRaises(privd.TamperedError) as cm:
            audit.verify(log, from_seq=9, public_key=self.k1.public_key)
        self.assertEqual(cm.exception.seq, 12)
        self.assertIn("invalid signature", cm.exception.why)

    def check(self, log, seq, why, **kw):
        with self.assertRaises(privd.TamperedError) as cm:
            audit.verify(log, **kw)
        self.assertEqual(cm.exception.seq, seq, str(cm.exception))
        self.assertIn(why, cm.exception.why)

    def test_rotation_without_its_checkpoint(self):
        log = self.rotated()
        log.checkpoints = [c for c in log.checkpoints if c.seq != 7]
        self.check(log, 7, "the key rotation at event 7 has no checkpoint "
                   "signed by the key it replaces",
                   public_key=self.k1.public_key)

    def test_rotation_from_another_key(self):
        """A rotation inserted by someone else: its "from" is not the key
        in force."""
        log = FakeLog(10, every=4, signer=self.k1)
        mallory = Signer(14)
        log.records[5][1] = rotation_bytes(6, mallory.public_key,
                                           self.k2.public_key)
        log.rehash(5)
        self.check(log, 6, "the key rotation at event 6 starts from another "
                   "key than the one in force",
                   public_key=self.k1.public_key)

    def test_rotation_with_malformed_keys(self):
        for fields in (["from=" + "ab" * 32], ["from=xyz", "to=" + "ab" * 32],
                       ["from=" + "ab" * 31 + " a", "to=" + "ab" * 32],
                       ["to=" + "ab" * 32, "from=" + "ab" * 32]):
            with self.subTest(fields=fields):
                log = FakeLog(10, every=4, signer=self.k1)
                log.records[5][1] = rotation_bytes(6, b"", b"", fields)
                log.rehash(5)
                self.check(log, 6, "event 6 rotates the signing key, but its "
                           "keys are not well-formed",
                           public_key=self.k1.public_key)

    def test_old_key_signing_after_the_rotation(self):
        log = self.rotated()
        c = log.checkpoints[-1]  # seq 20, by k3
        log.checkpoints[-1] = log.sign(c.seq, c.hash, c.time_us, self.k2)
        self.check(log, 20, "checkpoint at event 20 has an invalid signature",
                   public_key=self.k1.public_key)

    def test_rotations_not_leading_to_privds_key(self):
        log = self.rotated()
        log.signer = Signer(15)  # privd now reports a key nobody rotated to
        self.check(log, 20, "the log's key rotations do not lead to the key "
                   "privd signs with now")


class VerifyProtocol(unittest.TestCase):
    """Answers that break the protocol say so; they judge no log."""

    def test_page_without_progress(self):
        log = FakeLog(10)
        orig = log.audit_query_page

        def stuck(cursor=b"", **kw):
            recs, nxt = orig(cursor, **kw)
            return ([], b"7") if cursor else (recs, b"7")
        log.audit_query_page = stuck
        with self.assertRaisesRegex(privd.ProtocolError, "progress"):
            audit.verify(log)

    def test_records_past_the_range(self):
        log = FakeLog(10)
        orig = log.audit_query_page

        def generous(cursor=b"", from_seq=0, to_seq=0, limit=100, **kw):
            return orig(cursor, from_seq, 0, limit, **kw)
        log.audit_query_page = generous
        with self.assertRaisesRegex(privd.ProtocolError, "past the range"):
            audit.verify(log, to_seq=5)

    def test_checkpoints_out_of_order(self):
        log = FakeLog(10)
        log.checkpoints.reverse()
        with self.assertRaisesRegex(privd.ProtocolError, "progress"):
            audit.verify(log)

    def test_bad_arguments(self):
        log = FakeLog(3)
        with self.assertRaises(ValueError):
            audit.verify(log, from_seq=5, to_seq=2)
        with self.assertRaises(ValueError):
            audit.verify(log, public_key=b"short")


class Ed25519Backends(unittest.TestCase):
    def test_backends_agree(self):
        """Every backend that loads here takes a good signature and
        refuses a bad one, a wrong key and a wrong message."""
        from privd import _ed25519
        backends = _ed25519.available()
        self.assertTrue(backends, "no Ed25519 backend loads")
        if len(backends) < 2:
            print("note: only %s loads here; agreement not checked"
                  % backends[0].name, file=sys.stderr)
        s, other = Signer(4), Signer(5)
        msg = audit.checkpoint_message(7, b"\x33" * 32, T0)
        sig = s.sign(msg)
        bad = bytes([sig[0] ^ 0x80]) + sig[1:]
        for b in backends:
            with self.subTest(backend=b.name):
                self.assertTrue(b.verify(s.public_key, sig, msg))
                self.assertFalse(b.verify(s.public_key, bad, msg))
                self.assertFalse(b.verify(other.public_key, sig, msg))
                self.assertFalse(b.verify(s.public_key, sig, msg + b"x"))
                self.assertFalse(b.verify(s.public_key, sig[:63], msg))

    def test_checkpoint_message_layout(self):
        """The proto's layout: domain, seq and time big-endian."""
        m = audit.checkpoint_message(0x0102, b"\xaa" * 32, 0x0304)
        self.assertEqual(m, b"privd-audit-checkpoint-v1" +
                         struct.pack(">Q", 0x0102) + b"\xaa" * 32 +
                         struct.pack(">Q", 0x0304))


if __name__ == "__main__":
    unittest.main(verbosity=2)
