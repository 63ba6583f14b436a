"""Keys in files: the CURVE key pair files `privctl keygen --out` writes,
privd's server key (and its next key, while it is rotated), making a new
pair, and the audit signing key pinned as `privctl audit pubkey --out`
pins it.

A key pair file (client/keyfile.c reads the same format, with the same
checks and the same explanations)::

    # privd client key pair (privctl keygen). Keep it secret.
    public-key = <40 characters of Z85>
    secret-key = <40 characters of Z85>

Blank lines and lines starting with '#' are ignored; each key appears
exactly once; the public key must belong to the secret key (which catches a
file pasted together from two pairs); the file must be a regular file of at
most 4096 bytes that neither group nor others may access (chmod 600).
"""

import errno
import os
import stat

import zmq
from zmq.utils import z85

from .errors import KeyFileError

Z85_ALPHABET = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
KEYFILE_MAX = 4096
# privd's key and its next key (`privd server-key next`)
SERVER_KEYS_MAX = 2
_BLANKS = " \t\r"


class KeyPair:
    """A CURVE key pair as Z85 text (str). Its repr never shows the secret
    key, so that a key pair in a log line or a traceback stays secret."""

    __slots__ = ("public", "secret")

    def __init__(self, public, secret):
        self.public = public
        self.secret = secret

    def __repr__(self):
        return "KeyPair(public=%r, secret=<hidden>)" % self.public

    def __eq__(self, other):
        return (isinstance(other, KeyPair) and self.public == other.public
                and self.secret == other.secret)

    __hash__ = None


def is_z85_key(text):
    """Is text (str or bytes) a CURVE key in Z85: 40 characters of the Z85
    alphabet that decode to 32 bytes?"""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(text, str) or len(text) != 40:
        return False
    if not set(text) <= Z85_ALPHABET:
        return False
    try:
        return len(z85.decode(text)) == 32
    except Exception:  # a 5-character group over 2**32: not a key
        return False


def z85_key(text, what="key"):
    """text (str or bytes) as a Z85 key str, or KeyFileError naming what."""
    if not is_z85_key(text):
        raise KeyFileError("%s is not a 40-character Z85 key" % what)
    return text.decode("ascii") if isinstance(text, (bytes, bytearray)) \
        else text


def public_of(secret):
    """The Z85 public key of a Z85 secret key."""
    return zmq.curve_public(z85_key(secret, "secret key").encode()).decode()


def _read_private(path):
    """The bytes of a key pair file, after the checks on the file itself."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as e:
        raise KeyFileError("%s: %s" % (path, e.strerror)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError("%s: not a regular file" % path)
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError("%s: file is accessible by group or other "
                               "(chmod 600)" % path)
        data = b""
        while len(data) <= KEYFILE_MAX:
            chunk = os.read(fd, KEYFILE_MAX + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) > KEYFILE_MAX:
        raise KeyFileError("%s: file is too large" % path)
    if b"\0" in data:
        raise KeyFileError("%s: file contains a NUL byte" % path)
    return data


def parse_keypair(data, where="key file"):
    """Parse the text (bytes or str) of a key pair file into a KeyPair.
    where names the file in errors."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    found = {}
    for raw in data.split(b"\n"):
        line = raw.strip(_BLANKS.encode())
        if not line or line.startswith(b"#"):
            continue
        if b"=" not in line:
            raise KeyFileError("%s: line without '='" % where)
        name, _, val = line.partition(b"=")
        name = name.strip(_BLANKS.encode())
        val = val.strip(_BLANKS.encode())
        if name not in (b"public-key", b"secret-key"):
            raise KeyFileError("%s: unknown setting" % where)
        what = name.decode()
        if what in found:
            raise KeyFileError("%s: %s appears twice" % (where, what))
        if not is_z85_key(val):
            raise KeyFileError("%s: %s is not a 40-character Z85 key"
                               % (where, what))
        found[what] = val.decode("ascii")
    for what in ("public-key", "secret-key"):
        if what not in found:
            raise KeyFileError("%s: no %s line" % (where, what))
    pair = KeyPair(found["public-key"], found["secret-key"])
    if public_of(pair.secret) != pair.public:
        raise KeyFileError("%s: public-key does not belong to secret-key"
                           % where)
    return pair


def load_keypair(path):
    """Read a key pair file as `privctl keygen --out` writes it (see the
    module's documentation). Raises KeyFileError saying what is wrong;
    the message names the file, never a key."""
    path = os.fspath(path)
    return parse_keypair(_read_private(path), path)


def _server_key_lines(path):
    """The non-blank, non-comment lines of a server key file (bytes),
    with their line numbers."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read(KEYFILE_MAX + 1)
    except OSError as e:
        raise KeyFileError("%s: %s" % (path, e.strerror)) from None
    if len(data) > KEYFILE_MAX:
        raise KeyFileError("%s: file is too large" % path)
    for n, raw in enumerate(data.split(b"\n"), 1):
        line = raw.strip(_BLANKS.encode())
        if line and not line.startswith(b"#"):
            yield n, line


def read_server_key(path):
    """privd's public key from a file: its first line that is neither blank
    nor a comment, either the bare key (as DATA_DIR/server.pub holds it) or
    "public-key = KEY" (privctl reads --server-key files the same way); the
    rest of the file is not read. Public material: the file's mode is not
    checked."""
    path = os.fspath(path)
    for _, line in _server_key_lines(path):
        if line.startswith(b"public-key") and b"=" in line:
            line = line.partition(b"=")[2].strip(b" \t\r")
        line = line.split()[0] if line.split() else b""
        if is_z85_key(line):
            return line.decode("ascii")
        break
    raise KeyFileError("%s: first line is not a Z85 server key" % path)


def read_server_keys(path):
    """privd's key and, while it is rotated, its next key from a file, as
    libprivd's privd_server_keys_load() reads it: the first key line is
    privd's key (bare, or "public-key = KEY", after which nothing more is
    read), a second bare key line its next key (DATA_DIR/server.next.pub:
    `cat server.pub server.next.pub`). Anything else on a later line, or a
    third key, raises KeyFileError naming the line (never quoting it).
    Returns a tuple of one or two Z85 keys (str)."""
    path = os.fspath(path)
    keys = []
    for n, line in _server_key_lines(path):
        if is_z85_key(line):
            if len(keys) == SERVER_KEYS_MAX:
                raise KeyFileError(
                    "%s: line %d: a third key (the file holds privd's key "
                    "and at most its next key)" % (path, n))
            keys.append(line.decode("ascii"))
            continue
        if keys:
            raise KeyFileError("%s: line %d is not a 40-character Z85 key"
                               % (path, n))
        name, eq, val = line.partition(b"=")
        if not eq:
            raise KeyFileError("%s: first line is not a 40-character Z85 "
                               "key" % path)
        if name.strip(_BLANKS.encode()) != b"public-key":
            raise KeyFileError("%s: first line is neither a key nor "
                               "public-key = KEY" % path)
        val = val.strip(_BLANKS.encode())
        if not is_z85_key(val):
            raise KeyFileError("%s: public-key is not a 40-character Z85 "
                               "key" % path)
        return (val.decode("ascii"),)
    if not keys:
        raise KeyFileError("%s: no key in the file" % path)
    return tuple(keys)


def server_keys(server_key=None, server_key_file=None):
    """The server keys a Client takes, as a tuple of one or two Z85 keys:
    server_key is a key, "CURRENT,NEXT" (as PRIVD_SERVER_KEY gives them),
    or a sequence of one or two keys; server_key_file a file read with
    read_server_keys(). Exactly one of them."""
    if (server_key is None) == (server_key_file is None):
        raise KeyFileError("give one of server_key and server_key_file")
    if server_key_file is not None:
        return read_server_keys(server_key_file)
    if isinstance(server_key, (bytes, bytearray)):
        try:
            server_key = bytes(server_key).decode("ascii")
        except UnicodeDecodeError:
            raise KeyFileError("server_key is not a 40-character Z85 key") \
                from None
    if isinstance(server_key, str):
        keys = server_key.split(",")
    else:
        keys = list(server_key)
    if not 1 <= len(keys) <= SERVER_KEYS_MAX:
        raise KeyFileError("give one or two server keys (privd's key, then "
                           "its next key), not %d" % len(keys))
    for i, k in enumerate(keys):
        if not is_z85_key(k) and len(keys) == 1:
            raise KeyFileError("server_key is not a 40-character Z85 key")
        if not is_z85_key(k):
            raise KeyFileError("server key %d of %d is not a 40-character "
                               "Z85 key" % (i + 1, len(keys)))
    return tuple(k.decode("ascii") if isinstance(k, (bytes, bytearray))
                 else k for k in keys)


def keygen(path=None):
    """Make a new CURVE key pair. With path, write it as a key pair file
    (mode 0600, created anew: an existing file is never overwritten, as
    `privctl keygen --out`) and return the KeyPair."""
    pub, sec = zmq.curve_keypair()
    pair = KeyPair(pub.decode("ascii"), sec.decode("ascii"))
    if path is None:
        return pair
    text = ("# privd client key pair (privctl keygen). Keep it secret.\n"
            "public-key = %s\nsecret-key = %s\n" % (pair.public, pair.secret))
    _write_new(os.fspath(path), text.encode("ascii"), 0o600)
    return pair


def load_audit_pubkey(path):
    """privd's audit signing key (32 bytes) pinned in a file: its first
    line that is neither blank nor a comment holds 64 hex digits, as
    `privctl audit pubkey --out FILE` writes it. Public material: the
    file's mode is not checked (keep it where privd cannot change it)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read(KEYFILE_MAX + 1)
    except OSError as e:
        raise KeyFileError("%s: %s" % (path, e.strerror)) from None
    for raw in data.split(b"\n"):
        line = raw.strip(b" \t\r")
        if not line or line.startswith(b"#"):
            continue
        word = line.split()[0]
        if len(word) == 64:
            try:
                return bytes.fromhex(word.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                pass
        break
    raise KeyFileError("%s: first line is not a 64-hex-digit key" % path)


def save_audit_pubkey(path, public_key):
    """Pin the audit signing key (32 bytes) in a new file as `privctl
    audit pubkey --out` does: 64 hex digits and a newline, mode 0644,
    never over an existing file (a pinned key must not be replaced behind
    the auditor's back)."""
    public_key = bytes(public_key)
    if len(public_key) != 32:
        raise KeyFileError("an audit signing key is 32 bytes")
    _write_new(os.fspath(path), (public_key.hex() + "\n").encode("ascii"),
               0o644)


def _write_new(path, data, mode):
    """Write data to a new file of mode at path (never over an existing
    one, nor through a symbolic link), synced; on failure nothing is left
    there. Raises KeyFileError."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as e:
        why = " (refusing to overwrite)" if e.errno == errno.EEXIST else ""
        raise KeyFileError("%s: %s%s" % (path, e.strerror, why)) from None
    try:
        os.fchmod(fd, mode)  # whatever the umask
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    except OSError as e:
        os.close(fd)
        os.unlink(path)
        raise KeyFileError("%s: %s" % (path, e.strerror)) from None
    os.close(fd)
