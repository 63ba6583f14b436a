"""Retention, legal holds and the data subject rights that change data:
the methods privd.Client takes from this mixin (libprivd's retention.c and
rights.c). Lookup and export are in client.py with the other reads.

Times are microseconds since the Unix epoch, UTC, as on the wire; NOW
(or None for an end) means "now, by privd's clock".
"""

from dataclasses import dataclass
from typing import Tuple

from ._pb import pb
from .errors import InvalidError, RetainedError, printable
from .types import ErasedRegister, Hold, Retained

NOW = "now"


@dataclass(frozen=True)
class RetentionCount:
    """What one rule does (or would do) in a register."""
    register: str
    rule: str
    action: str
    fields: int
    subjects: int
    held: int
    anonymous_records: int


@dataclass(frozen=True)
class RetentionReport:
    """The answer to a retention run or preview: counts by register, then
    rule; more when a run stopped at its limit with more due."""
    as_of_us: int
    examined: int
    counts: Tuple[RetentionCount, ...]
    more: bool


def _end_time(req_part, at):
    if at == NOW or at is None:
        req_part.now = True
    elif at == 0:
        pass  # neither at_us nor now: undo
    elif isinstance(at, int) and not isinstance(at, bool) and at > 0:
        req_part.at_us = at
    else:
        raise InvalidError("an end is privd.NOW, 0 (undo) or microseconds")


def _kept(k):
    return Retained(k.field, k.rule, k.until_us, k.hold_reason)


class RightsMixin:
    """Methods of privd.Client; each is one request."""

    # -- retention ---------------------------------------------------------

    def relationship_end(self, register, subject, at=NOW):
        """The customer relationship with subject ended at `at` (NOW, or
        microseconds; 0 undoes an end, refused with ConflictError once
        something was deleted because of it). Needs a write grant on the
        register. Returns the end recorded (0: undone)."""
        req = pb.Request()
        req.relationship_end.register = register
        req.relationship_end.subject = subject
        _end_time(req.relationship_end, at)
        return self.call(req).relationship_end.at_us

    def contract_end(self, register, at=NOW):
        """The processing contract behind register ended (role
        policy_admin); 0 undoes it. Returns the end recorded."""
        req = pb.Request()
        req.contract_end.register = register
        _end_time(req.contract_end, at)
        return self.call(req).contract_end.at_us

    def retention_run(self, *, preview=False, as_of_us=0, register="",
                      limit=0):
        """Run the retention sweeper now (role policy_admin), or with
        preview say what a sweep as of as_of_us (0: now) would do. A
        RetentionReport."""
        req = pb.Request()
        r = req.retention_run
        r.preview = bool(preview)
        r.as_of_us = as_of_us
        r.register = register
        r.limit = limit
        a = self.call(req).retention_run
        return RetentionReport(a.as_of_us, a.examined, tuple(
            RetentionCount(c.register, c.rule, c.action, c.fields,
                           c.subjects, c.held, c.anonymous_records)
            for c in a.counts), a.more)

    # -- legal holds (role subject_rights or policy_admin) -----------------

    def hold_set(self, register, reason, *, subject="", until_us=0):
        """Hold subject's data in register (subject empty: the whole
        register) from every deletion until lifted (or until_us). reason
        is shown to whoever lists holds and in RETAINED answers: no
        personal data in it. Returns whether a hold was replaced."""
        req = pb.Request()
        req.hold_set.register = register
        req.hold_set.subject = subject
        req.hold_set.reason = reason
        req.hold_set.until_us = until_us
        return self.call(req).hold_set.replaced

    def hold_lift(self, register, *, subject=""):
        """Lift the hold on subject (empty: the register's own hold)."""
        req = pb.Request()
        req.hold_lift.register = register
        req.hold_lift.subject = subject
        self.call(req)

    def hold_list(self, register=""):
        """The holds in force (register empty: in every register)."""
        req = pb.Request()
        req.hold_list.register = register
        return [Hold(h.register, h.subject, h.reason, h.until_us,
                     h.set_at_us, h.set_by)
                for h in self.call(req).hold_list.holds]

    # -- data subject rights (role subject_rights) -------------------------

    def subject_restrict(self, register, subject, on=True):
        """Restrict processing of subject's data in register (on), or lift
        the restriction. Returns whether it changed."""
        req = pb.Request()
        req.subject_restrict.register = register
        req.subject_restrict.subject = subject
        req.subject_restrict.on = bool(on)
        return self.call(req).subject_restrict.changed

    def subject_object(self, register, subject, purpose, on=True):
        """The subject objects to an objectable purpose (on), or withdraws
        the objection. Returns whether it changed."""
        req = pb.Request()
        req.subject_object.register = register
        req.subject_object.subject = subject
        req.subject_object.purpose = purpose
        req.subject_object.on = bool(on)
        return self.call(req).subject_object.changed

    def subject_erase(self, subject, registers=()):
        """Erase everything of a person (registers: the ones named; none:
        every register), except what a retention minimum or a legal hold
        keeps. Returns a list of ErasedRegister; when something was kept,
        RetainedError carries that list as .erased."""
        req = pb.Request()
        req.subject_erase.subject = subject
        req.subject_erase.registers.extend(
            [registers] if isinstance(registers, str) else registers)
        resp = self.call(req, keep=pb.RETAINED)
        out = [ErasedRegister(r.register, tuple(r.deleted),
                              tuple(_kept(k) for k in r.kept),
                              r.key_destroyed)
               for r in resp.subject_erase.registers]
        if resp.status == pb.RETAINED:
            raise RetainedError(printable(resp.message), erased=out,
                                retained=[k for r in out for k in r.kept],
                                deleted=sum(len(r.deleted) for r in out))
        return out
