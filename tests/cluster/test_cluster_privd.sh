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
# the cluster and removes the directory, also on failure or timeout
# (common.sh, shared with cluster_failover: a trap, and a reaper for when
# meson kills the test).
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
name=cluster_privd
# shellcheck source=tests/cluster/common.sh
. "$src/tests/cluster/common.sh"

[ "${PRIVD_HAVE_PG:-0}" = 1 ] ||
    skip "privd was built without libpq (no PostgreSQL backend: install" \
        "libpq-dev and set the build up again)"
cluster_tools
if [ ! -x "$bld/daemon/privd" ] || [ ! -x "$bld/client/privctl" ]; then
	fail "no privd or privctl in $bld"
fi
cluster_ports 37710 38710 39710 40710 41710
cluster_tmp
export CLUSTER_DIR="$tmp/c" CLUSTER_PORT_BASE="$base" CLUSTER_WAIT=120
export PRIVD_BUILD="$bld" PRIVD_CLUSTER_SH="$cluster"

show_logs() {
	for f in pg1/patroni.log pg2/patroni.log pg3/patroni.log \
	    privd1/privd.log privd2/privd.log; do
		echo "--- $f (end)"
		tail -n 15 "$CLUSTER_DIR/$f" 2>/dev/null
	done
}
cluster_guard

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
