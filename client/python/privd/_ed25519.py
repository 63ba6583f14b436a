"""Ed25519 signature checks for the audit verifier.

Python's standard library has BLAKE2b (hashlib) but no Ed25519, so the
check comes from one of:

- libsodium, through ctypes: the very code privd signs with. Debian's
  python3-zmq depends on libzmq5, which depends on libsodium23, so it is
  there wherever this package's own dependencies are;
- python3-cryptography, when libsodium cannot be loaded.

Both are strict RFC 8032 verifiers for what privd signs (a canonical
signature by a valid key); tests/python checks that they agree.
"""

import ctypes
import ctypes.util


class _Sodium:
    name = "libsodium"

    def __init__(self):
        path = ctypes.util.find_library("sodium")
        if path is None:
            raise OSError("libsodium not found")
        lib = ctypes.CDLL(path)
        if lib.sodium_init() < 0:
            raise OSError("libsodium cannot start")
        f = lib.crypto_sign_verify_detached
        f.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong,
                      ctypes.c_char_p]
        f.restype = ctypes.c_int
        self._verify = f

    def verify(self, public_key, signature, message):
        if len(public_key) != 32 or len(signature) != 64:
            return False
        return self._verify(bytes(signature), bytes(message), len(message),
                            bytes(public_key)) == 0


class _Cryptography:
    name = "cryptography"

    def __init__(self):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import \
            Ed25519PublicKey
        self._key = Ed25519PublicKey.from_public_bytes
        self._invalid = InvalidSignature

    def verify(self, public_key, signature, message):
        if len(public_key) != 32 or len(signature) != 64:
            return False
        try:
            self._key(bytes(public_key)).verify(bytes(signature),
                                                bytes(message))
        except (self._invalid, ValueError):
            return False
        return True


def available():
    """Every backend that loads here, preferred first."""
    out = []
    for cls in (_Sodium, _Cryptography):
        try:
            out.append(cls())
        except (OSError, ImportError, AttributeError):
            pass
    return out


_backend = None


def verify(public_key, signature, message):
    """Is signature a valid Ed25519 signature of message by public_key (32
    bytes)? Raises RuntimeError if no backend loads."""
    global _backend
    if _backend is None:
        found = available()
        if not found:
            raise RuntimeError(
                "verifying the audit log needs Ed25519: install libsodium23 "
                "or python3-cryptography")
        _backend = found[0]
    return _backend.verify(public_key, signature, message)
