"""The values the privd client returns: small frozen dataclasses, one per
answer, named after the messages of proto/privd.proto. Times are
microseconds since the Unix epoch, UTC, as on the wire."""

import json
from dataclasses import dataclass, field
from typing import Optional, Tuple


@dataclass(frozen=True)
class Pong:
    """What ping answers: privd's version, the policy's name for the
    caller's key, and the version of the policy in force."""
    server_version: str
    principal: str
    policy_version: int


@dataclass(frozen=True)
class Retained:
    """A field kept despite a request to delete it: by the retention rule
    `rule` (whose keep_at_least minimum lasts until until_us), or, when
    rule is empty, by a legal hold with hold_reason (until_us 0: until the
    hold is lifted)."""
    field: str
    rule: str
    until_us: int
    hold_reason: str


@dataclass(frozen=True)
class PolicyVersion:
    """One version of the policy: when it was applied and by whom
    ("privd init" for the first)."""
    version: int
    applied_by: str
    applied_at_us: int


@dataclass(frozen=True)
class Policy:
    """A policy version and its document, exactly as applied (text)."""
    version: PolicyVersion
    text: str

    @property
    def document(self):
        """The document parsed from JSON."""
        return json.loads(self.text)


@dataclass(frozen=True)
class ApplyResult:
    """The answer to a policy apply: the version now in force; unchanged
    when the document equals the one in force (no new version); the
    subjects whose retention privd re-plans in the background."""
    version: int
    unchanged: bool
    replan_subjects: int


@dataclass(frozen=True)
class AuditRecord:
    """One audit event as privd stores it.

    raw is the serialised AuditEvent, exactly the bytes the hash chain
    covers; event is it parsed (a privd_pb2.AuditEvent), None when privd
    marked the record damaged (it could not decode the stored event; raw
    and hash are then what is stored, possibly empty) or when it does not
    decode here. seq is the event's sequence number as privd stores it."""
    seq: int
    raw: bytes
    hash: bytes
    damaged: bool
    event: Optional[object] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Checkpoint:
    """privd's signed statement that the chain's hash after event seq is
    hash: signature is Ed25519 over "privd-audit-checkpoint-v1" || seq
    (8 bytes, big-endian) || hash || time_us (8 bytes, big-endian)."""
    seq: int
    hash: bytes
    time_us: int
    signature: bytes


@dataclass(frozen=True)
class Checkpoints:
    """The answer to audit_checkpoints: checkpoints oldest first; the
    oldest event still kept (0: none) and the newest; prune_checkpoint,
    when old events were pruned, the signed checkpoint at first_seq - 1."""
    checkpoints: Tuple[Checkpoint, ...]
    first_seq: int
    last_seq: int
    prune_checkpoint: Optional[Checkpoint]


@dataclass(frozen=True)
class VerifyResult:
    """A range of the audit log that verified: the events checked against
    the chain (first and last of them; 0 when none), the signed
    checkpoints met on the way, and the rotations of the signing key
    followed."""
    checked: int
    checkpoints: int
    first_seq: int
    last_seq: int
    rotations: int = 0


@dataclass(frozen=True)
class SubjectMatch:
    """A person found by a lookup: the register and the subject id the
    service stored them under."""
    register: str
    subject: str


@dataclass(frozen=True)
class ErasedRegister:
    """What an erasure did in one register where the subject was stored."""
    register: str
    deleted: Tuple[str, ...]
    kept: Tuple[Retained, ...]
    key_destroyed: bool


@dataclass(frozen=True)
class Hold:
    """A legal hold in force (subject empty: the whole register)."""
    register: str
    subject: str
    reason: str
    until_us: int
    set_at_us: int
    set_by: str
