"""Exceptions of the privd client: one class per outcome.

Every privd answer that is not OK raises the exception of its status
(proto/privd.proto, enum Status); failures on the client's side (privd not
reachable, no answer in time, a key file that is not right, an audit log
that does not verify) have classes of their own. All of them derive from
PrivdError, so ``except privd.PrivdError`` catches everything this package
raises on purpose.

A message never holds a value, a subject id or a key: privd's messages do
not (the protocol promises it), and the client's own name at most a
register, field, purpose, file or endpoint.
"""

import builtins

from ._pb import pb

# DenyReason values and their short names, as libprivd's
# privd_reason_name() spells them.
REASON_NAMES = {
    pb.DENY_NONE: "none",
    pb.DENY_OTHER: "other",
    pb.DENY_UNKNOWN_PRINCIPAL: "unknown_principal",
    pb.DENY_UNKNOWN_REGISTER: "unknown_register",
    pb.DENY_UNKNOWN_FIELD: "unknown_field",
    pb.DENY_UNKNOWN_PURPOSE: "unknown_purpose",
    pb.DENY_NO_GRANT: "no_grant",
    pb.DENY_FIELD_NOT_GRANTED: "field_not_granted",
    pb.DENY_REGION: "region",
    pb.DENY_RESTRICTED: "restricted",
    pb.DENY_OBJECTED: "objected",
    pb.DENY_ROLE_REQUIRED: "role_required",
}


def reason_name(reason):
    """The short name of a DenyReason value; "other" for one this client
    does not know (the protocol says to treat it as DENY_OTHER)."""
    return REASON_NAMES.get(reason, "other")


class PrivdError(Exception):
    """Base of every error of the privd client.

    status: the wire Status of privd's answer (pb.INVALID, ...), or None
    for a failure on the client's side. message: privd's explanation, or
    the client's.
    """

    status = None

    def __init__(self, message="", status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self):
        return self.message or self.__class__.__doc__.strip().splitlines()[0]


class InvalidError(PrivdError, ValueError):
    """privd refused a malformed request or a value that fails validation
    (INVALID)."""

    status = pb.INVALID


class DeniedError(PrivdError, PermissionError):
    """The policy denies the request (DENIED); see reason and reason_name."""

    status = pb.DENIED

    def __init__(self, message="", status=None, reason=pb.DENY_OTHER):
        super().__init__(message, status)
        self.reason = reason
        self.reason_name = reason_name(reason)

    def __str__(self):
        base = super().__str__()
        return "%s (%s)" % (base, self.reason_name)


class NotFoundError(PrivdError, LookupError):
    """No such subject or field (NOT_FOUND)."""

    status = pb.NOT_FOUND


class ConflictError(PrivdError):
    """A version or state precondition did not hold (CONFLICT)."""

    status = pb.CONFLICT


class RetainedError(PrivdError):
    """Data was kept by a retention minimum or a legal hold (RETAINED).

    For a delete, everything else asked for was deleted: deleted is the
    number of fields removed, retained the fields kept (a list of
    privd.Retained). For an erasure, erased is the full answer (a list of
    privd.ErasedRegister).
    """

    status = pb.RETAINED

    def __init__(self, message="", status=None, deleted=0, retained=(),
                 erased=()):
        super().__init__(message, status)
        self.deleted = deleted
        self.retained = list(retained)
        self.erased = list(erased)


class TooLargeError(PrivdError):
    """The request exceeds a size limit (TOO_LARGE), or the client's own
    max_request, in which case it was not sent."""

    status = pb.TOO_LARGE


class UnavailableError(PrivdError, ConnectionError):
    """privd could not be reached, or answered UNAVAILABLE (stopping,
    overloaded, disk full: the request had no effect; or, on a PostgreSQL
    store, a change whose commit the database did not confirm: it may
    have landed, read back before repeating it). Retry later."""

    status = pb.UNAVAILABLE


class TimeoutError(PrivdError, builtins.TimeoutError):
    """privd was reached but did not answer before the deadline. The
    request may or may not have been carried out."""


class InDoubtError(TimeoutError):
    """failed-unknown: with several endpoints, a node took a request that
    changes something and gave no answer in time (or dropped the
    connection); the request may or may not have been applied: read back
    before repeating it. Later calls go to the next node. A TimeoutError,
    which says the same of a call to one endpoint."""


class ExpiredError(PrivdError):
    """privd got the request after its deadline (the request carries one:
    the attempt's end by the client's clock) and did not carry it out: it
    had no effect (EXPIRED). Seen at once, it says privd's clock is ahead of
    the client's by about the timeout or more: check NTP."""

    status = pb.EXPIRED


class InternalError(PrivdError):
    """privd failed; the request had no effect (INTERNAL)."""

    status = pb.INTERNAL


class ProtocolError(PrivdError):
    """privd's answer could not be understood (it does not decode, has an
    unknown status, or breaks the protocol's limits)."""


class HandshakeError(PrivdError, ConnectionError):
    """Connected, but the CURVE handshake keeps failing: the server key is
    probably wrong."""


class KeyFileError(PrivdError, ValueError):
    """A key or key file is malformed, unreadable or too widely readable."""


class TamperedError(PrivdError):
    """The audit log does not verify. seq: the first event that does not;
    why: what is wrong there."""

    def __init__(self, seq, why):
        super().__init__("the audit log does not verify at event %d: %s"
                         % (seq, why))
        self.seq = seq
        self.why = why


_BY_STATUS = {
    pb.INVALID: InvalidError,
    pb.DENIED: DeniedError,
    pb.NOT_FOUND: NotFoundError,
    pb.CONFLICT: ConflictError,
    pb.RETAINED: RetainedError,
    pb.TOO_LARGE: TooLargeError,
    pb.UNAVAILABLE: UnavailableError,
    pb.INTERNAL: InternalError,
    pb.EXPIRED: ExpiredError,
}


def error_class(status):
    """The exception class for a wire Status that is not OK; ProtocolError
    for STATUS_UNSPECIFIED and values this client does not know."""
    return _BY_STATUS.get(status, ProtocolError)


def from_response(resp):
    """The exception for a Response whose status is not OK."""
    cls = error_class(resp.status)
    msg = printable(resp.message)
    if cls is DeniedError:
        return DeniedError(msg, reason=resp.reason)
    if cls is ProtocolError:
        return ProtocolError("privd's answer has an unknown status (%d)"
                             % resp.status)
    return cls(msg)


def printable(text):
    """privd's message made safe to print: control characters become '?'.
    (The protocol decodes strings as UTF-8 already.)"""
    return "".join(c if c.isprintable() else "?" for c in text)
