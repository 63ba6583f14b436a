#!/usr/bin/env python3
"""Compare two runs of privd-bench side by side.

    scripts/bench_compare.py A.json B.json

Prints every row (matched by its id) and every ratio of the two JSON files
written by `privd-bench --json`, with B's change against A in percent.
Rows or ratios only one run has are shown with a dash for the other. For
requests/s and ratios where more is better a rise is good; for latencies,
CPU per request and store bytes per request a fall is good: the change
column says "better" or "worse" when it exceeds the noise threshold
(--noise, 5% by default), so a glance finds what moved. The machines are
noisy: compare runs made on the same machine, and prefer several runs.

Exit status: 0, or 2 when a file cannot be read.
"""

import argparse
import json
import signal
import sys

# (key, heading, format, more is better)
ROW_COLS = [
    ("rps", "req/s", "{:.0f}", True),
    ("p50_us", "p50 us", "{:.0f}", False),
    ("p99_us", "p99 us", "{:.0f}", False),
    ("p999_us", "p99.9 us", "{:.0f}", False),
    ("cpu_us_per_req", "cpu/req", "{:.1f}", False),
    ("rss_anon_kb", "anon kB", "{:.0f}", False),
    ("store_bytes_per_req", "B/req", "{:.0f}", False),
    ("vs", "vs floor", "{:.2f}", True),
]


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"bench_compare: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)
    if not isinstance(doc, dict) or doc.get("version") != 1:
        print(f"bench_compare: {path} is not a privd-bench JSON file "
              "(version 1)", file=sys.stderr)
        sys.exit(2)
    return doc


def fmt(v, spec):
    return "-" if v is None else spec.format(v)


def change(a, b, more_is_better, noise):
    """B against A in percent, and a word when it is beyond the noise."""
    if a is None or b is None or a == 0:
        return "", ""
    pct = (b - a) / abs(a) * 100.0
    word = ""
    if abs(pct) >= noise:
        word = "better" if (pct > 0) == more_is_better else "worse"
    return f"{pct:+.1f}%", word


def lower_is_better(target):
    return target.strip().startswith("<")


def describe(doc):
    m = doc.get("machine", {})
    return (f"{m.get('date', '?')}  privd {doc.get('privd', {}).get('version', '?')}"
            f"  {doc.get('subjects', '?')} subjects, {doc.get('transport', '?')}"
            f"  nproc {m.get('nproc', '?')}  {m.get('cpu', '?')}"
            f"  [{doc.get('options', '')}]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="the earlier run (privd-bench --json)")
    ap.add_argument("b", help="the later run")
    ap.add_argument("--noise", type=float, default=5.0,
                    help="changes below this many percent are not "
                    "called better or worse (default 5)")
    ap.add_argument("--all", action="store_true",
                    help="every column of every row (default: req/s and "
                    "p50/p99, and the rest in a second table)")
    args = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # | head is fine

    a, b = load(args.a), load(args.b)
    print(f"A: {args.a}\n   {describe(a)}")
    print(f"B: {args.b}\n   {describe(b)}")

    for key in ("transport", "subjects", "get_request_bytes"):
        if a.get(key) != b.get(key):
            print(f"note: the runs differ in {key} ({a.get(key)} and "
                  f"{b.get(key)}): not like for like")
    if a.get("machine", {}).get("cpu") != b.get("machine", {}).get("cpu"):
        print("note: the runs were made on different CPUs")

    rows_a = {r["id"]: r for r in a.get("rows", [])}
    rows_b = {r["id"]: r for r in b.get("rows", [])}
    ids = [r["id"] for r in a.get("rows", [])]
    ids += [i for i in (r["id"] for r in b.get("rows", [])) if i not in rows_a]

    cols = ROW_COLS if args.all else ROW_COLS[:3]
    tables = [cols] if args.all else [cols, ROW_COLS[3:]]
    for cols in tables:
        print()
        head = f"{'row':<22}"
        for _, h, _, _ in cols:
            head += f" {h + ' A':>10} {h + ' B':>10} {'change':>13}"
        print(head)
        for i in ids:
            ra, rb = rows_a.get(i, {}), rows_b.get(i, {})
            line = f"{i:<22}"
            for key, _, spec, more in cols:
                va, vb = ra.get(key), rb.get(key)
                pct, word = change(va, vb, more, args.noise)
                line += (f" {fmt(va, spec):>10} {fmt(vb, spec):>10}"
                         f" {(pct + ' ' + word).strip():>13}")
            print(line)

    rat_a = {r["id"]: r for r in a.get("ratios", [])}
    rat_b = {r["id"]: r for r in b.get("ratios", [])}
    rids = [r["id"] for r in a.get("ratios", [])]
    rids += [i for i in (r["id"] for r in b.get("ratios", [])) if i not in rat_a]
    if rids:
        print()
        print(f"{'ratio':<62} {'A':>8} {'B':>8} {'change':>15}  target")
        for i in rids:
            ra, rb = rat_a.get(i, {}), rat_b.get(i, {})
            what = (ra or rb).get("what", i)
            target = (rb or ra).get("target", "")
            va, vb = ra.get("value"), rb.get("value")
            pct, word = change(va, vb, not lower_is_better(target),
                               args.noise)
            print(f"{what:<62} {fmt(va, '{:.2f}'):>8} {fmt(vb, '{:.2f}'):>8}"
                  f" {(pct + ' ' + word).strip():>15}  {target}")

    for name, doc in (("A", a), ("B", b)):
        st = doc.get("store", {})
        if st.get("used_bytes") is not None:
            print(f"\n{name}: fresh store {st['used_bytes'] / 1048576:.1f} MiB "
                  f"in use, {st.get('audit_events', 0)} audit events", end="")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
