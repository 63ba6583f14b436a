#!/bin/sh
# ipc_path: an ipc:// endpoint whose path does not fit a unix socket
# address (at most 107 bytes on Linux) is refused at start with a message
# that names the limit and the fix, whether it is the default endpoint
# (DIR/privd.sock under a deep data directory) or given with --listen; a
# path of exactly 107 bytes is served.
#
# Environment (from tests/packaging/meson.build): PRIVD_BIN, POLICY_EXAMPLE.
set -u

privd=${PRIVD_BIN:?}
fail() {
	echo "ipc_path: FAIL: $*" >&2
	exit 1
}

tmp=$(mktemp -d /tmp/privd-ipc.XXXXXX) || fail "mktemp"
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# pad N: a path under $tmp of exactly N bytes
pad() {
	p="$tmp/"
	while [ ${#p} -lt "$1" ]; do
		p="${p}x"
	done
	printf '%s' "$p"
}

# A data directory deep enough that DIR/privd.sock is 120 bytes.
deep=$(pad $((120 - 11)))
mkdir -p "$deep" || fail "mkdir"
"$privd" init --data-dir "$deep" --policy "${POLICY_EXAMPLE:?}" >/dev/null ||
    fail "privd init"

# refused ARGS...: privd serve ARGS exits non-zero, and says why and what to
# do (the limit, the path's length, --listen, the data directory).
refused() {
	len=$1
	shift
	"$privd" serve --data-dir "$deep" "$@" 2>"$tmp/err" &
	pid=$!
	deadline=$(($(date +%s) + 60))
	while kill -0 "$pid" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] ||
		    fail "privd serve $* is still running: $(cat "$tmp/err")"
		sleep 0.1
	done
	wait "$pid"
	rc=$?
	pid=""
	[ "$rc" -ne 0 ] || fail "privd serve $* exited 0"
	grep -q "its path is $len bytes, and a unix socket's path holds at most 107" \
	    "$tmp/err" || fail "no clear message for a $len-byte path: $(cat "$tmp/err")"
	grep -q -- "give --listen a shorter ipc:// path" "$tmp/err" ||
	    fail "the message does not say to use --listen: $(cat "$tmp/err")"
	grep -q "move the data directory to a shorter path" "$tmp/err" ||
	    fail "the message does not mention the data directory: $(cat "$tmp/err")"
	if grep -q "File name too long" "$tmp/err"; then
		fail "libzmq's bare ENAMETOOLONG still shows: $(cat "$tmp/err")"
	fi
	if grep -q "listening on" "$tmp/err"; then
		fail "privd listened on an endpoint before refusing another"
	fi
}

# The default endpoint, DIR/privd.sock: 120 bytes.
refused 120
# One byte over, given with --listen, after an endpoint that fits: nothing
# is bound before the refusal.
refused 108 --listen "ipc://$tmp/s" --listen "ipc://$(pad 108)"

# Exactly 107 bytes: served (privd says it listens; then SIGTERM).
ok=$(pad 107)
"$privd" serve --data-dir "$deep" --listen "ipc://$ok" --workers 1 \
    2>"$tmp/err" &
pid=$!
deadline=$(($(date +%s) + 60))
until grep -q "listening on ipc://$ok" "$tmp/err"; do
	kill -0 "$pid" 2>/dev/null || fail "privd refused a 107-byte path: $(cat "$tmp/err")"
	[ "$(date +%s)" -lt "$deadline" ] || fail "privd never listened"
	sleep 0.1
done
[ -S "$ok" ] || fail "no socket at the 107-byte path"
kill "$pid"
wait "$pid" || fail "privd did not stop cleanly: $(cat "$tmp/err")"
pid=""
echo "ipc_path: OK"
