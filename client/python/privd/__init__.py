"""privd: the Python client of privd, the privacy-enforcing storage daemon.

Speaks privd's wire protocol (proto/privd.proto: protobuf frames over a
ZeroMQ DEALER socket with CURVE) with Debian's python3-zmq and
python3-protobuf; verifies the audit chain in Python (hashlib's BLAKE2b,
Ed25519 from libsodium or python3-cryptography).

    import privd

    c = privd.Client("tcp://127.0.0.1:7700",
                     server_key_file="data/server.pub",
                     key_file="crm.key", purpose="invoicing")
    c.put("customers", "c-1", {"name": "Maija Meikäläinen"})
    c.get("customers", "c-1")         # {'name': b'Maija Meik\\xc3\\xa4...'}

Errors: every status of privd's answer has its exception (InvalidError,
DeniedError with .reason and .reason_name, NotFoundError, ConflictError,
RetainedError, TooLargeError, UnavailableError, InternalError,
ExpiredError), and the
client's own failures theirs (TimeoutError and its InDoubtError for a
change sent to a node that did not answer, HandshakeError, ProtocolError,
KeyFileError, TamperedError); all derive from PrivdError.

pb is the generated protobuf module (privd_pb2), for Client.call() with
requests this package has no method for.
"""

from ._pb import pb
from ._rights import NOW, RetentionCount, RetentionReport
from .audit import ChainVerifier, checkpoint_message
from .client import Client
from .errors import (ConflictError, DeniedError, ExpiredError,
                     HandshakeError, InDoubtError, InternalError, InvalidError, KeyFileError,
                     NotFoundError, PrivdError, ProtocolError, RetainedError,
                     TamperedError, TimeoutError, TooLargeError,
                     UnavailableError, error_class, reason_name)
from .keys import (KeyPair, is_z85_key, keygen, load_audit_pubkey,
                   load_keypair, public_of, read_server_key,
                   read_server_keys, save_audit_pubkey)
from .types import (ApplyResult, AuditRecord, Checkpoint, Checkpoints,
                    ErasedRegister, Hold, Policy, PolicyVersion, Pong,
                    Retained, SubjectMatch, VerifyResult)

__version__ = "0.1.0"

__all__ = [
    "pb", "Client", "NOW", "RetentionCount", "RetentionReport",
    "ChainVerifier", "checkpoint_message",
    "PrivdError", "InvalidError", "DeniedError", "NotFoundError",
    "ConflictError", "RetainedError", "TooLargeError", "UnavailableError",
    "TimeoutError", "InDoubtError", "InternalError", "ProtocolError",
    "HandshakeError", "ExpiredError",
    "KeyFileError", "TamperedError", "error_class", "reason_name",
    "KeyPair", "is_z85_key", "keygen", "load_audit_pubkey", "load_keypair",
    "public_of", "read_server_key", "read_server_keys", "save_audit_pubkey",
    "ApplyResult", "AuditRecord", "Checkpoint", "Checkpoints",
    "ErasedRegister", "Hold", "Policy", "PolicyVersion", "Pong", "Retained",
    "SubjectMatch", "VerifyResult",
]
