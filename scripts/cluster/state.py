#!/usr/bin/python3
"""The state of the loopback cluster, as Patroni's REST API reports it.

scripts/cluster/cluster.sh and tests/cluster/test_cluster.sh ask through
this, so that the shell does not parse JSON:

  state.py members URL...  one line per member: NAME ROLE STATE TIMELINE
                           (ROLE as Patroni says it: leader, sync_standby,
                           replica; TIMELINE - when unknown)
  state.py ready URL...    exit 0 when there is one running leader, a sync
                           standby and as many members running as URLs
                           given; else print what is missing and exit 1

Each URL is a member's REST API (http://127.0.0.1:PORT). GET /cluster is
asked of one member after the other until one answers: any member knows
the whole cluster (from etcd), and a member whose PostgreSQL was just
killed still answers. Exits 2 when none answers.
"""
import json
import sys
import urllib.request

RUNNING = ("running", "streaming")


def cluster(urls):
    for url in urls:
        try:
            with urllib.request.urlopen(url + "/cluster", timeout=2) as r:
                return json.load(r)
        except (OSError, ValueError):
            continue
    print("no Patroni REST API answers", file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("members", "ready"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    urls = argv[2:]
    members = cluster(urls).get("members", [])
    if argv[1] == "members":
        for m in members:
            print(m.get("name", "?"), m.get("role", "?"),
                  m.get("state", "?").replace(" ", "_"),
                  m.get("timeline", "-"))
        return 0
    up = [m for m in members if m.get("state") in RUNNING]
    leaders = [m for m in up if m.get("role") == "leader"]
    syncs = [m for m in up if m.get("role") == "sync_standby"]
    missing = []
    if len(leaders) != 1:
        missing.append("a running leader")
    if not syncs:
        missing.append("a sync standby")
    if len(up) < len(urls):
        missing.append("%d of %d members running" % (len(up), len(urls)))
    if missing:
        print("waiting for: " + ", ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
