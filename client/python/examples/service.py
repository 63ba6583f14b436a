#!/usr/bin/python3
"""A service storing and reading a customer in privd, as the README's
quick start does with privctl.

Configured as privctl is:
    PRIVD_ENDPOINT    e.g. tcp://127.0.0.1:7700
    PRIVD_SERVER_KEY  privd's public key, or a file holding it
                      (DATA_DIR/server.pub)
    PRIVD_KEY         this service's key pair file (privctl keygen --out)

    python3 service.py [REGISTER] [PURPOSE]   (default: customers invoicing)

The policy must grant the key read, write and delete on REGISTER for
PURPOSE, and declare the fields name and email.
"""

import sys

import privd


def fields(n):
    return "%d field%s" % (n, "" if n == 1 else "s")


def main():
    register = sys.argv[1] if len(sys.argv) > 1 else "customers"
    purpose = sys.argv[2] if len(sys.argv) > 2 else "invoicing"
    try:
        c = privd.Client.from_env(purpose=purpose, timeout=5.0)
    except privd.PrivdError as e:
        print("service: %s" % e, file=sys.stderr)
        return 2
    with c:
        try:
            pong = c.ping()
            print("connected as %s (policy version %d)"
                  % (pong.principal, pong.policy_version))

            written = c.put(register, "example-1042", {
                "name": "Maija Meikäläinen",       # str: stored as UTF-8
                "email": b"maija@example.fi",      # or bytes, as they are
            })
            print("stored %s" % fields(written))

            record = c.get(register, "example-1042")
            for name, value in record.items():  # values are bytes
                print("  %s = %s" % (name, value.decode()))

            # A field the policy does not declare: denied, and privd says
            # why (the reason is one of the DenyReason values).
            try:
                c.put(register, "example-1042", {"shoe_size": "38"})
            except privd.DeniedError as e:
                print("denied as expected: %s" % e.reason_name)

            # Delete the customer. A retention minimum (say, a year past
            # the end of the relationship) or a legal hold may keep some
            # fields: then everything else is deleted, and RetainedError
            # says what was kept and why.
            try:
                deleted = c.delete(register, "example-1042")
                print("deleted %s" % fields(deleted))
            except privd.RetainedError as e:
                kept = ["%s (%s)" % (r.field, "rule " + r.rule if r.rule
                                     else "hold: " + r.hold_reason)
                        for r in e.retained]
                print("deleted %s, kept %s" % (fields(e.deleted),
                                               ", ".join(kept)))
            try:
                left = c.get(register, "example-1042")
                print("left: %s" % ", ".join(left))
            except privd.NotFoundError:
                print("gone")
        except privd.PrivdError as e:
            print("service: %s" % e, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
