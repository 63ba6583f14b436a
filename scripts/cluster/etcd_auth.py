#!/usr/bin/python3
"""Turns on authentication in the loopback cluster's etcd.

  etcd_auth.py URL SECRETS_DIR PREFIX

URL is one etcd member's client URL (http://127.0.0.1:PORT), SECRETS_DIR
holds the generated passwords etcd-root and etcd-patroni, PREFIX is
Patroni's namespace (/privd-cluster/). Makes the users root (role root)
and patroni (a role that may read and write PREFIX and nothing else), then
enables authentication: from then on a local user without a password can
neither read nor change what Patroni keeps in etcd (who leads, the
synchronous standby, the dynamic configuration - synchronous_mode
included).

Through etcd's gRPC gateway (JSON over HTTP), so that no password is ever
on a command line (etcdctl takes them as arguments, which ps shows).
Run once, on the first start, before Patroni; exits 0 when
authentication is already enabled.
"""
import base64
import json
import sys
import urllib.error
import urllib.request


def b64(s):
    return base64.b64encode(s.encode()).decode()


def prefix_end(p):
    # etcd's range end for "every key starting with p": p with its last
    # byte plus one
    b = bytearray(p.encode())
    b[-1] += 1
    return base64.b64encode(bytes(b)).decode()


def call(url, path, body, exists_ok=False):
    req = urllib.request.Request(url + "/v3" + path,
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        # the gateway's error body names the etcd error (never a password:
        # none is echoed back)
        try:
            msg = json.load(e).get("error", str(e))
        except ValueError:
            msg = str(e)
        if exists_ok and "already exists" in msg:
            return {}  # a first start that stopped half-way
        raise RuntimeError("%s: %s" % (path, msg)) from None


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    url, secrets, prefix = argv[1:]
    pw = {}
    for name in ("etcd-root", "etcd-patroni"):
        with open("%s/%s" % (secrets, name)) as f:
            pw[name] = f.read().strip()
    try:
        # with authentication on, an anonymous user list is refused
        call(url, "/auth/user/list", {})
    except RuntimeError as e:
        if "user name is empty" in str(e) or "permission denied" in str(e):
            return 0
        raise
    try:
        call(url, "/auth/role/add", {"name": "root"}, True)
        call(url, "/auth/user/add", {"name": "root",
                                     "password": pw["etcd-root"]}, True)
        call(url, "/auth/user/grant", {"user": "root", "role": "root"})
        call(url, "/auth/role/add", {"name": "patroni"}, True)
        call(url, "/auth/role/grant", {
            "name": "patroni",
            "perm": {"permType": "READWRITE", "key": b64(prefix),
                     "range_end": prefix_end(prefix)}})
        call(url, "/auth/user/add", {"name": "patroni",
                                     "password": pw["etcd-patroni"]}, True)
        call(url, "/auth/user/grant", {"user": "patroni", "role": "patroni"})
        call(url, "/auth/enable", {})
    except (RuntimeError, OSError) as e:
        print("etcd authentication: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
