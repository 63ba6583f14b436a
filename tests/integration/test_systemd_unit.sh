#!/bin/sh
# test_systemd_unit.sh - contrib/systemd/privd.service as systemd reads it:
#   - `systemd-analyze verify` finds nothing to say (no unknown or
#     misspelt directive, no bad value; the man page is not looked up, as
#     the built one is not installed), with ExecStart pointed at the built
#     privd, since verify checks that the program exists;
#   - the unit has the settings the issue asks for (Type=notify, the
#     user, the directories, the sandboxing, LimitCORE=0), each a line of
#     its own, so that removing one fails here;
#   - `systemd-analyze security --offline` rates its exposure at most 2.0
#     (of 10): a sandboxing option dropped later shows here too;
#   - the unit `meson install` installs differs from the source only in
#     the program's and the configuration's paths, and those name this
#     build's bindir and sysconfdir.
# Usage (meson passes these): test_systemd_unit.sh UNIT BUILT_UNIT PRIVD_BIN
#   BINDIR SYSCONFDIR
# Exit 77 (meson: skipped) without systemd-analyze.
set -eu

unit=$1 built=$2 privd=$3 bindir=$4 sysconfdir=$5

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed (Debian package systemd;" \
	    "scripts/deps.sh test installs it)"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

# 1. systemd-analyze verify, silent
sed "s|^ExecStart=/usr/bin/privd |ExecStart=$privd |" "$unit" \
    >"$tmp/privd.service"
grep -qx "ExecStart=$privd serve --config /etc/privd/privd.conf" \
    "$tmp/privd.service" || fail "ExecStart is not /usr/bin/privd serve --config /etc/privd/privd.conf"
if ! systemd-analyze verify --man=no "$tmp/privd.service" \
    >"$tmp/verify.out" 2>&1; then
	cat "$tmp/verify.out"
	fail "systemd-analyze verify failed"
fi
if [ -s "$tmp/verify.out" ]; then
	cat "$tmp/verify.out"
	fail "systemd-analyze verify has something to say about the unit"
fi
echo "ok: systemd-analyze verify"

# 2. the settings the issue lists
while IFS= read -r want; do
	grep -qx "$want" "$unit" || fail "the unit has no line '$want'"
done <<'EOF'
Type=notify
WatchdogSec=30s
User=privd
StateDirectory=privd
StateDirectoryMode=0700
RuntimeDirectory=privd
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
NoNewPrivileges=yes
MemoryDenyWriteExecute=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallFilter=@system-service
LockPersonality=yes
CapabilityBoundingSet=
LimitCORE=0
EOF
echo "ok: the unit's settings"

# 3. exposure (systemd-analyze's threshold is in tenths)
if ! systemd-analyze security --offline=true --threshold=20 \
    "$tmp/privd.service" >"$tmp/security.out" 2>&1; then
	cat "$tmp/security.out"
	fail "exposure above 2.0"
fi
grep 'Overall exposure level' "$tmp/security.out"

# 4. the installed unit
grep -qx "ExecStart=$bindir/privd serve --config $sysconfdir/privd/privd.conf" \
    "$built" || fail "the built unit's ExecStart does not name $bindir and $sysconfdir"
grep -v '^ExecStart=' "$unit" >"$tmp/a"
grep -v '^ExecStart=' "$built" >"$tmp/b"
diff "$tmp/a" "$tmp/b" || fail "the built unit differs from the source"
echo "ok: the installed unit"
