#!/usr/bin/python3
"""An auditor verifying privd's audit log in Python and listing who read a
person's data.

    python3 audit_verify.py pin PUBKEY_FILE     write privd's signing key
    python3 audit_verify.py verify PUBKEY_FILE  verify against the pinned key
    python3 audit_verify.py reads -             who read the data of the
                                                subject id read from stdin

PRIVD_ENDPOINT, PRIVD_SERVER_KEY and PRIVD_KEY as for privctl; the key
must be a principal with the role auditor. Pin the signing key once, when
the log is known good, and keep the file where privd cannot change it: a
verification against the key privd reports at the time only proves the log
consistent with itself. The pinned file holds 64 hex digits, as `privctl
audit pubkey --out` writes it, so both tools read each other's. A subject
id is personal data: it is read from stdin, never from the command line
(where `ps` shows it).
"""

import datetime
import sys

import privd


def main(argv):
    if len(argv) != 3 or argv[1] not in ("pin", "verify", "reads") or \
            (argv[1] == "reads") != (argv[2] == "-"):
        print("\n".join(__doc__.strip().splitlines()[2:6]), file=sys.stderr)
        return 2
    cmd, arg = argv[1], argv[2]
    with privd.Client.from_env(timeout=30.0) as c:
        if cmd == "pin":
            privd.save_audit_pubkey(arg, c.audit_pubkey())
            print("pinned the audit signing key in %s" % arg)
            return 0
        if cmd == "verify":
            try:
                r = c.audit_verify(public_key=privd.load_audit_pubkey(arg))
            except privd.TamperedError as e:
                print("audit log does NOT verify at event %d: %s"
                      % (e.seq, e.why))
                return 3
            print("audit log verifies: %d events (%d..%d), %d signed "
                  "checkpoints" % (r.checked, r.first_seq, r.last_seq,
                                   r.checkpoints))
            return 0
        # reads: every get of the subject, as (when, who, purpose, fields)
        subject = sys.stdin.readline().rstrip("\n")
        for rec in c.audit_query(subject=subject, ops=["get"],
                                 decision="ALLOWED"):
            ev = rec.event
            if ev is None:  # privd cannot read this stored event
                print("event %d is damaged" % rec.seq)
                continue
            when = datetime.datetime.fromtimestamp(
                ev.time_us / 1e6, datetime.timezone.utc)
            print("%s %s for %s: %s" % (when.isoformat(timespec="seconds"),
                                        ev.principal, ev.purpose,
                                        ", ".join(ev.fields)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
