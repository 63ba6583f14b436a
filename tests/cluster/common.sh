# shellcheck shell=sh
# common.sh - what the cluster tests (test_cluster.sh, test_cluster_privd.sh)
# share, sourced by each after it sets $name (its test's name) and $src
# (the source root): messages, the tools they need, a block of free
# ports, their temporary directory, and stopping the cluster however the
# test ends.
#
# Sets cluster (scripts/cluster/cluster.sh) and py; cluster_ports sets
# base, cluster_tmp sets tmp, and cluster_guard stops the cluster and
# removes $tmp at exit: a trap, and a reaper for when meson kills the
# test.

# shellcheck disable=SC2154 # src and name: the sourcing test's
cluster="$src/scripts/cluster/cluster.sh"
py=/usr/bin/python3

# shellcheck disable=SC2154
fail() {
	echo "$name: FAIL: $*" >&2
	exit 1
}
skip() {
	echo "$name: SKIP: $*"
	exit 77
}
note() {
	echo "$name: $*"
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
secs() { # milliseconds -> seconds with one decimal
	echo "$(($1 / 1000)).$(($1 % 1000 / 100))"
}

# Skips (77) saying why when etcd, Patroni, PostgreSQL's server or psql
# is not installed (scripts/deps.sh test installs them), or when running
# as root without a postgres user to run PostgreSQL as.
cluster_tools() {
	for tool in etcd:etcd-server etcdctl:etcd-client patroni:patroni \
	    patronictl:patroni psql:postgresql-client setpriv:util-linux \
	    timeout:coreutils; do
		command -v "${tool%%:*}" >/dev/null 2>&1 ||
		    skip "${tool%%:*} is not installed (Debian package" \
		        "${tool#*:}; scripts/deps.sh test installs it)"
	done
	[ -x "$py" ] || skip "$py is not installed (Debian package python3)"
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
	    skip "PostgreSQL's server is not installed (Debian package" \
	        "postgresql; scripts/deps.sh test installs it)"
	if [ "$(id -u)" -eq 0 ] && ! getent passwd postgres >/dev/null; then
		skip "running as root and there is no 'postgres' user to run" \
		    "PostgreSQL as"
	fi
}

# The first of the bases given whose block of 50 ports is free.
free_block() {
	"$py" - "$@" <<'PY'
import socket, sys
for base in map(int, sys.argv[1:]):
    ok = True
    for p in range(base, base + 50):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        print(base)
        sys.exit(0)
sys.exit(1)
PY
}

# Sets base: PRIVD_CLUSTER_TEST_PORT_BASE, or the first free block of the
# bases given (each test its own, so that two never meet).
cluster_ports() {
	# shellcheck disable=SC2034 # base: the sourcing test's
	if [ -n "${PRIVD_CLUSTER_TEST_PORT_BASE:-}" ]; then
		base=$PRIVD_CLUSTER_TEST_PORT_BASE
	else
		base=$(free_block "$@") ||
		    fail "no free block of 50 ports at $(echo "$@" |
		        sed 's/ /, /g')"
	fi
}

# Sets tmp. /tmp, not $TMPDIR: as root the cluster runs as postgres,
# which may not reach $TMPDIR; the socket paths stay short too.
cluster_tmp() {
	tmp=$(mktemp -d /tmp/privd-cluster.XXXXXX) || fail "mktemp"
	chmod 711 "$tmp"
}

cluster_cleanup() {
	t=$(now_ms)
	sh "$cluster" stop >"$tmp/stop.out" 2>&1 ||
	    { echo "$name: cluster.sh stop failed:"; cat "$tmp/stop.out"; }
	note "stopped the cluster in $(secs $(($(now_ms) - t))) s"
	rm -rf "$tmp"
}

# Stop the cluster and remove $tmp however this shell ends. meson ends a
# test that overruns its timeout (or is interrupted) with SIGKILL half a
# second after SIGTERM: too soon for the trap to stop the cluster, whose
# processes run in sessions of their own. So a reaper, in a session of
# its own too, stops it when this shell is gone without.
cluster_guard() {
	trap cluster_cleanup EXIT
	trap 'exit 1' INT TERM
	# shellcheck disable=SC2016 # the reaper's own arguments
	setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
		[ -d "$3" ] || exit 0
		sh "$2" stop
		rm -rf "$3"' reaper "$$" "$cluster" "$tmp" \
	    </dev/null >/dev/null 2>&1 &
}
