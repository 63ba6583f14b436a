"""What the Python client's tests share: the package staged as installed,
key files made by `privctl keygen --out`, and a real privd in a temporary
directory.

Environment (set by tests/python/meson.build): PRIVD_BIN, PRIVCTL_BIN,
PRIVD_PROTO, PROTOC, PRIVD_PY_SRC (client/python), PRIVD_PB2 (the
privd_pb2.py the build generated).

A test file calls skip_unless_ready() first: exit code 77 (meson: skipped)
with the reason when python3-zmq, python3-protobuf or the generated module
is missing.
"""

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PRIVD_BIN = os.environ.get("PRIVD_BIN", "")
PRIVCTL_BIN = os.environ.get("PRIVCTL_BIN", "")
PRIVD_PROTO = os.environ.get("PRIVD_PROTO", "")
PRIVD_PY_SRC = os.environ.get("PRIVD_PY_SRC", "")
PRIVD_PB2 = os.environ.get("PRIVD_PB2", "")

# privctl, run by the tests, reads no settings of the developer's own (a
# config file, an output format): what it does is the test's alone
os.environ["PRIVCTL_CONFIG"] = ""
os.environ.pop("PRIVCTL_FORMAT", None)

READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")


def skip_unless_ready():
    """Exit 77 saying why if the package cannot be tested here."""
    try:
        for name in ("zmq", "google.protobuf"):
            importlib.import_module(name)
    except ImportError as e:
        print("SKIP: the Python client needs python3-zmq and "
              "python3-protobuf (%s)" % e, file=sys.stderr)
        sys.exit(77)
    if not PRIVD_PB2 or not os.path.isfile(PRIVD_PB2):
        print("SKIP: privd_pb2.py was not generated (protoc not found: "
              "install protobuf-compiler)", file=sys.stderr)
        sys.exit(77)
    if not PRIVD_PY_SRC or not os.path.isdir(PRIVD_PY_SRC):
        raise RuntimeError("PRIVD_PY_SRC is not a directory: %r"
                           % PRIVD_PY_SRC)


def stage_package(dest, with_pb2=True):
    """Copy the package into dest/privd as `meson install` lays it out
    (with the generated privd_pb2.py unless with_pb2 is false); return
    dest."""
    pkg = os.path.join(dest, "privd")
    os.makedirs(pkg)
    src = os.path.join(PRIVD_PY_SRC, "privd")
    for name in sorted(os.listdir(src)):
        if name.endswith(".py") and name != "privd_pb2.py":
            shutil.copy(os.path.join(src, name), pkg)
    if with_pb2:
        shutil.copy(PRIVD_PB2, pkg)
    return dest


_STAGED = None


def import_privd():
    """Import the package staged as installed (once per process)."""
    global _STAGED
    if _STAGED is None:
        _STAGED = tempfile.mkdtemp(prefix="privd-py-pkg-")
        import atexit
        atexit.register(shutil.rmtree, _STAGED, True)
        stage_package(_STAGED)
        sys.path.insert(0, _STAGED)
    import privd
    assert os.path.dirname(privd.__file__) == os.path.join(_STAGED, "privd")
    return privd


def privctl_keygen(path):
    """Write a key pair file with `privctl keygen --out`; return the
    public key it prints."""
    r = subprocess.run([PRIVCTL_BIN, "keygen", "--out", path],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("privctl keygen exited %d: %s" % (
            r.returncode, r.stderr.decode(errors="replace")))
    return r.stdout.decode().strip()


POLICY = {
    "controller": {"name": "Test Oy", "business_id": "1234567-8"},
    "registers": {"customers": {
        "purposes": {
            "invoicing": {"legal_basis": "contract"},
            "marketing": {"legal_basis": "legitimate_interest",
                          "objectable": True}},
        "fields": {
            "name": {"category": "identity", "type": "string",
                     "identifying": True},
            "email": {"category": "contact", "type": "email",
                      "identifying": True, "lookup": True},
            "notes": {"category": "feedback", "type": "text"},
            "blob": {"category": "other", "type": "bytes"}},
        "retention": [
            {"id": "min", "categories": ["contact"],
             "from": "relationship_end", "keep_at_least": "1 year"},
            {"id": "end", "categories": ["*"], "from": "relationship_end",
             "after": "0 days", "action": "delete"}]}},
    # every "key" is filled in with the key file made for the test
    "principals": {
        "svc": {
            "key": None,
            "region": "FI",
            "grants": [{"register": "customers", "purposes": ["invoicing"],
                        "fields": ["*"],
                        "ops": ["read", "write", "delete"]}]},
        "reader": {
            "key": None,
            "region": "FI",
            "grants": [{"register": "customers", "purposes": ["invoicing"],
                        "fields": ["name"], "ops": ["read"]}]},
        "auditor": {"key": None, "roles": ["auditor"]},
        "admin": {"key": None, "roles": ["policy_admin"]},
        "dpo": {"key": None, "roles": ["subject_rights"]}},
}


class Privd:
    """One privd in a temporary directory, with a key file per principal
    of POLICY (made by privctl keygen) and one that the policy does not
    name ("stranger")."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="privd-py-", dir="/tmp")
        self.data_dir = os.path.join(self.root, "data")
        self.policy_path = os.path.join(self.root, "policy.json")
        self.log_path = os.path.join(self.root, "privd.log")
        self.endpoint = "ipc://" + os.path.join(self.root, "s")
        self.server_key_file = os.path.join(self.data_dir, "server.pub")
        self.proc = None
        self.key_files = {}
        self.public_keys = {}
        for name in list(POLICY["principals"]) + ["stranger"]:
            path = os.path.join(self.root, name + ".key")
            self.public_keys[name] = privctl_keygen(path)
            self.key_files[name] = path
        self.policy = json.loads(json.dumps(POLICY))
        for name, p in self.policy["principals"].items():
            p["key"] = self.public_keys[name]

    def init(self):
        with open(self.policy_path, "w") as f:
            json.dump(self.policy, f)
        r = subprocess.run([PRIVD_BIN, "init", "--data-dir", self.data_dir,
                            "--policy", self.policy_path],
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("privd init exited %d: %s" % (
                r.returncode, r.stderr.decode(errors="replace")))
        self.server_key = r.stdout.decode().strip()

    def serve(self, *extra):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [PRIVD_BIN, "serve", "--data-dir", self.data_dir,
                 "--listen", self.endpoint, *extra],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()

    def stop(self):
        """SIGTERM and wait: the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        p, self.proc = self.proc, None
        if p.poll() is not None:
            return p.returncode
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def wait_ready(client, proc):
    """Ping with a short deadline until privd answers (it is starting)."""
    import privd
    saved = client.timeout
    client.timeout = 0.25
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("privd exited early (%d)" % proc.returncode)
            try:
                return client.ping()
            except (privd.UnavailableError, privd.TimeoutError):
                continue
        raise RuntimeError("privd did not answer a ping in time")
    finally:
        client.timeout = saved
