#!/bin/sh
# cluster_privd: issue 12's "Failover under load" - 4 clients writing
# through the 2 privd nodes of `make cluster` while the primary's
# PostgreSQL is killed (5 times), then one privd node; every acknowledged
# write readable with its audit event, `audit verify` passes.
# test_cluster_privd.c is the test; this brings the cluster up for it:
#
# In a temporary directory, on a free block of 50 ports of its own (the
# first free of 37710, 38710, ...; PRIVD_CLUSTER_TEST_PORT_BASE forces
# one; not cluster_failover's blocks, so the two never meet), it starts
# the whole cluster with scripts/cluster/cluster.sh (3 etcd, 3 Patroni +
# PostgreSQL, 2 privd nodes from this build), runs the program, and stops
# the cluster and removes the directory, also on failure or timeout (a
# trap, and a reaper for when meson kills the test).
#
# Skips (77) saying why when etcd, Patroni, PostgreSQL's server or psql is
# not installed (scripts/deps.sh test installs them), or privd was built
# without libpq (no PostgreSQL backend).
#
# Environment: PRIVD_SOURCE_ROOT, PRIVD_BUILD_ROOT, PRIVD_HAVE_PG and
# PRIVD_CLUSTER_PRIVD_TEST (the program) from tests/cluster/meson.build;
# PRIVD_CLUSTER_TEST_ROUNDS (default 5), PRIVD_CLUSTER_TEST_PORT_BASE.
set -u

src=${PRIVD_SOURCE_ROOT:?}
bld=${PRIVD_BUILD_ROOT:?}
prog=${PRIVD_CLUSTER_PRIVD_TEST:?}
cluster="$src/scripts/cluster/cluster.sh"
py=/usr/bin/python3
name=cluster_privd

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

[ "${PRIVD_HAVE_PG:-0}" = 1 ] ||
    skip "privd was built without libpq (no PostgreSQL backend: install" \
        "libpq-dev and set the build up again)"
for tool in etcd:etcd-server etcdctl:etcd-client patroni:patroni \
    patronictl:patroni psql:postgresql-client setpriv:util-linux \
    timeout:coreutils; do
	command -v "${tool%%:*}" >/dev/null 2>&1 ||
	    skip "${tool%%:*} is not installed (Debian package ${tool#*:};" \
	        "scripts/deps.sh test installs it)"
done
[ -x "$py" ] || skip "$py is not installed (Debian package python3)"
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
    skip "PostgreSQL's server is not installed (Debian package" \
        "postgresql; scripts/deps.sh test installs it)"
if [ "$(id -u)" -eq 0 ] && ! getent passwd postgres >/dev/null; then
	skip "running as root and there is no 'postgres' user to run" \
	    "PostgreSQL as"
fi
if [ ! -x "$bld/daemon/privd" ] || [ ! -x "$bld/client/privctl" ]; then
	fail "no privd or privctl in $bld"
fi

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
if [ -n "${PRIVD_CLUSTER_TEST_PORT_BASE:-}" ]; then
	base=$PRIVD_CLUSTER_TEST_PORT_BASE
else
	base=$(free_block 37710 38710 39710 40710 41710) ||
	    fail "no free block of 50 ports at 37710, 38710, ... 41710"
fi

# /tmp, not $TMPDIR: as root the cluster runs as postgres, which may not
# reach $TMPDIR; the socket paths stay short too.
tmp=$(mktemp -d /tmp/privd-cluster.XXXXXX) || fail "mktemp"
chmod 711 "$tmp"
export CLUSTER_DIR="$tmp/c" CLUSTER_PORT_BASE="$base" CLUSTER_WAIT=120
export PRIVD_BUILD="$bld" PRIVD_CLUSTER_SH="$cluster"
cleanup() {
	sh "$cluster" stop >"$tmp/stop.out" 2>&1 ||
	    { echo "$name: cluster.sh stop failed:"; cat "$tmp/stop.out"; }
	rm -rf "$tmp"
}
show_logs() {
	for f in pg1/patroni.log pg2/patroni.log pg3/patroni.log \
	    privd1/privd.log privd2/privd.log; do
		echo "--- $f (end)"
		tail -n 15 "$CLUSTER_DIR/$f" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# meson ends a test that overruns its timeout with SIGKILL half a second
# after SIGTERM: too soon for the trap to stop the cluster, whose
# processes run in sessions of their own. So a reaper, in a session of its
# own too, stops it when this shell is gone without.
# shellcheck disable=SC2016 # the reaper's own arguments
setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
	[ -d "$3" ] || exit 0
	sh "$2" stop
	rm -rf "$3"' reaper "$$" "$cluster" "$tmp" </dev/null >/dev/null 2>&1 &

t=$(date +%s)
if ! sh "$cluster" start >"$tmp/start.out" 2>&1; then
	cat "$tmp/start.out"
	show_logs
	fail "cluster.sh start failed"
fi
note "cluster with 2 privd nodes up in $(($(date +%s) - t)) s" \
    "(ports $base-$((base + 49)))"
# the program's own deadlines end it well before meson's timeout; this
# one only bounds a hang of the program itself
rounds=${PRIVD_CLUSTER_TEST_ROUNDS:-5}
if ! timeout $((240 + 150 * rounds)) "$prog"; then
	show_logs
	fail "see above"
fi
