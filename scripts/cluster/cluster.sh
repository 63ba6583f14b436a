#!/bin/sh
# The loopback cluster of issue 12: a 3-member etcd, 3 PostgreSQL instances
# under Patroni with synchronous replication, and 2 privd nodes on the one
# store, each in its own directory under var/cluster/.
#
#   scripts/cluster/cluster.sh start    make cluster: start what is not
#                                       running, wait for a leader and a
#                                       sync standby, print how to connect
#   scripts/cluster/cluster.sh stop     make cluster-stop: stop it all (the
#                                       data stays; rm -rf the directory to
#                                       start over)
#   scripts/cluster/cluster.sh status   make cluster-status: patronictl list,
#                                       etcd's members, the processes
#   scripts/cluster/cluster.sh uri      print the libpq URI of the privd
#                                       database (for scripts)
#   scripts/cluster/cluster.sh ready    exit 0 when there is a leader with
#                                       a streaming sync standby and every
#                                       member runs, else say what is
#                                       missing and exit 1 (for scripts)
#   scripts/cluster/cluster.sh primary  print the primary's member name
#                                       and its postmaster's pid (for
#                                       failover drills: kill -9 it)
#
# Environment:
#   CLUSTER_DIR        the cluster's directory (default: var/cluster of the
#                      source tree)
#   CLUSTER_PORT_BASE  the first port of the block (default 7710); saved in
#                      the directory on first start, so stop and status
#                      need not be told again
#   CLUSTER_WAIT       seconds start waits for etcd, then for Patroni's
#                      leader and sync standby (default 180 each)
#   PG_BINDIR          PostgreSQL's bin directory (default: the newest
#                      /usr/lib/postgresql/NN/bin)
#   PRIVD_BUILD        the build directory privd and privctl are taken from
#                      (default: build of the source tree)
#   CLUSTER_PRIVD      0: start no privd nodes, only etcd and PostgreSQL
#                      (tests/cluster/test_cluster.sh; default 1)
#
# Ports, all on 127.0.0.1, member N = 1..3, B = CLUSTER_PORT_BASE:
#   B+N      etcd client (7711-7713)     B+30+N  Patroni REST API (7741-7743)
#   B+10+N   etcd peer   (7721-7723)     B+40+N  privd nodes (7751-7752)
#   B+20+N   PostgreSQL  (7731-7733)
# so the block is B..B+49 (7710-7759): clear of privd's demo (7700) and of
# the etcd (2379/2380) and PostgreSQL (5432) that Debian's packages start
# as system services on a machine with systemd.
#
# Layout of the directory (0700; owned by the postgres user when run as
# root, because PostgreSQL refuses to run as root: etcd and Patroni then
# run as postgres too, through setpriv, which execs, so the pid files
# hold the real processes):
#   port-base          the port block's base
#   etcd-auth          there once etcd's authentication is on
#   pgpass             libpq password file for the privd role (0600)
#   secrets/           generated passwords (0600), never printed or logged:
#                      superuser, replication, privd (PostgreSQL roles),
#                      restapi (Patroni's REST API), etcd-root and
#                      etcd-patroni (etcd's users); pgpass.admin
#   etcdN/             data/, etcd.log, pid
#   pgN/               patroni.yml (0600: holds passwords), patroni.log,
#                      pid, data/ (PGDATA), log/ (PostgreSQL's logs), and
#                      PostgreSQL's unix socket
#   privd/             policy.json (the example policy) and keys/NAME.key,
#                      a key pair per principal (0600)
#   privdN/            privd node N's data directory: master.key, server.pub,
#                      store (the URI), privd.log, pid
#
# Why the settings: see patroni_yml below.
set -eu
umask 077

cmd=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=${CLUSTER_DIR:-$top/var/cluster}
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
wait_s=${CLUSTER_WAIT:-180}
py=/usr/bin/python3
members="1 2 3"

die() {
	echo "privd cluster: $*" >&2
	exit 1
}
say() {
	echo "privd cluster: $*"
}

# Port of a kind (0 etcd client, 1 etcd peer, 2 PostgreSQL, 3 Patroni REST,
# 4 privd) for member $2.
port() {
	echo $((base + 10 * $1 + $2))
}

set_base() {
	saved=$(cat "$dir/port-base" 2>/dev/null || true)
	if [ -n "$saved" ] && [ -n "${CLUSTER_PORT_BASE:-}" ] &&
	    [ "$saved" != "$CLUSTER_PORT_BASE" ]; then
		die "$dir was made with CLUSTER_PORT_BASE=$saved;" \
		    "stop it and remove the directory to change the ports"
	fi
	base=${saved:-${CLUSTER_PORT_BASE:-7710}}
	case $base in
	'' | *[!0-9]*) die "CLUSTER_PORT_BASE must be a number" ;;
	esac
	if [ "$base" -lt 1024 ] || [ "$base" -gt 65485 ]; then
		die "CLUSTER_PORT_BASE must be in 1024..65485 (the block is" \
		    "50 ports)"
	fi
}

# The processes run as postgres when we are root (PostgreSQL refuses root).
asuser=""
if [ "$(id -u)" -eq 0 ]; then
	if ! getent passwd postgres >/dev/null; then
		die "running as root and there is no 'postgres' user" \
		    "(PostgreSQL refuses to run as root; the postgresql" \
		    "package creates the user)"
	fi
	asuser="setpriv --reuid=postgres --regid=postgres --init-groups --"
fi

# Whether process $1 runs: exists and is not a zombie (an exited member
# stays one until init reaps it, which some inits do late).
running() {
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${st%% *}" != Z ]
}

# Prints the pid in pidfile $1 if that process is alive and its command
# line holds $2 (so a recycled pid is not taken for ours).
alive() {
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && running "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" ||
	    return 1
	echo "$pid"
}

# Prints the pid of member $1's postmaster if it runs (from postmaster.pid).
postmaster() {
	pm=$(head -n 1 "$dir/pg$1/data/postmaster.pid" 2>/dev/null) ||
	    return 1
	[ -n "$pm" ] && running "$pm" || return 1
	tr '\0' ' ' <"/proc/$pm/cmdline" 2>/dev/null | grep -q postgres ||
	    return 1
	echo "$pm"
}

uri() { # user, database
	hosts=127.0.0.1:$(port 2 1),127.0.0.1:$(port 2 2),127.0.0.1:$(port 2 3)
	echo "postgresql://$1@$hosts/$2?target_session_attrs=read-write"
}

rest_urls() {
	for i in $members; do
		printf 'http://127.0.0.1:%s ' "$(port 3 "$i")"
	done
}

etcd_endpoints() {
	eps=""
	for i in $members; do
		eps="$eps${eps:+,}http://127.0.0.1:$(port 0 "$i")"
	done
	echo "$eps"
}

# etcdctl on the cluster's etcd, as etcd's root once etcd_auth.py has
# turned authentication on (from then on etcd 3.4's `endpoint health`
# fails without a user). The password goes through the environment, which
# only its owner and root can read, not the command line.
ctl() {
	set -- --endpoints="$(etcd_endpoints)" --command-timeout=3s "$@"
	if [ -f "$dir/etcd-auth" ]; then
		ETCDCTL_USER="root:$(cat "$dir/secrets/etcd-root")" etcdctl "$@"
	else
		etcdctl "$@"
	fi
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		bindir=$PG_BINDIR
	else
		# the highest major version (a glob would sort 9 after 15)
		bindir=""
		best=0
		for d in /usr/lib/postgresql/*/bin; do
			v=${d#/usr/lib/postgresql/}
			v=${v%/bin}
			case $v in '' | *[!0-9]*) continue ;; esac
			if [ -x "$d/postgres" ] && [ "$v" -gt "$best" ]; then
				bindir=$d
				best=$v
			fi
		done
	fi
	if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
		die "PostgreSQL's server is not installed (make cluster" \
		    "installs it: scripts/deps.sh cluster; or set PG_BINDIR)"
	fi
}

need_tools() {
	for t in etcd:etcd-server etcdctl:etcd-client patroni:patroni \
	    patronictl:patroni psql:postgresql-client setpriv:util-linux; do
		command -v "${t%%:*}" >/dev/null 2>&1 ||
		    die "${t%%:*} is not installed (Debian package ${t#*:};" \
		        "make cluster installs it: scripts/deps.sh cluster)"
	done
	[ -x "$py" ] || die "$py is not installed (Debian package python3)"
	find_bindir
}

secret() {
	od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

# Patroni's configuration of member $1. Why these settings:
# - DCS etcd3: Patroni 3.0.2 speaks etcd's v3 API through etcd's own
#   gRPC gateway (JSON over HTTP; etcd 3.4 serves it by default), using
#   python3-etcd (which Debian's patroni depends on) only for its client
#   base classes: python3-etcd3 is not needed, and the v2 API (off by
#   default in etcd 3.4) is not used.
# - synchronous_mode with synchronous_node_count 1 and synchronous_commit
#   on: a commit is acknowledged only once it is flushed on the primary
#   and on the sync standby, and Patroni promotes only the sync standby,
#   so a failover loses nothing acknowledged. synchronous_mode_strict: with
#   both standbys gone the primary stops acknowledging commits instead of
#   going on alone (without it, Patroni would turn synchronous replication
#   off and a commit would be on one server only: privd promises that an
#   acknowledged request and its audit event survive a failover). The
#   cost: writes need 2 of the 3 members up.
# - primary_start_timeout 0: a primary whose PostgreSQL crashed hands over
#   to the sync standby at once, rather than Patroni restarting it in
#   place for up to 5 minutes (the default) while writes wait.
# - ttl 20 / loop_wait 2 / retry_timeout 6 (Patroni needs loop_wait +
#   2 * retry_timeout <= ttl): Patroni notices a dead PostgreSQL within 2 s;
#   a whole member (Patroni too) gone is noticed when its leader key
#   expires, within 20 s - long enough that a busy 2-core machine does not
#   cause false failovers.
# - use_pg_rewind (with wal_log_hints and data checksums), and the data
#   directory removed and copied again when a rewind fails: the old primary
#   comes back as a standby by itself. basebackup with a fast checkpoint:
#   a new standby does not wait for a spread one.
# - Sized for 2 cores / 24 GiB shared by 3 instances: shared_buffers
#   256MB each, at most 1 parallel worker per query, 200 connections: a
#   privd node holds one for its writer, one per worker (as many as
#   cores) and keeps up to 32 idle ones for other reads (store_pg's
#   POOL_MAX), so two nodes take about 70 here, with room for more cores
#   and for psql.
# - pg_hba: loopback only, scram-sha-256 for everything (replication too).
#   While Patroni bootstraps the first member, before it has set the
#   passwords, initdb's pg_hba trusts only the unix socket, which is in
#   the member's directory (0700): Patroni connects through it
#   (use_unix_socket), and no other local user can reach it.
# - The REST API's write endpoints (failover, restart, ...) take a
#   password, and so does etcd (etcd_auth.py turns its authentication on
#   before Patroni first starts): without them any local user could
#   trigger a failover or turn synchronous_mode off.
patroni_yml() {
	i=$1
	m=$dir/pg$i
	cat <<EOF
# Written by scripts/cluster/cluster.sh (the comment above patroni_yml
# there says why these settings). Holds passwords: keep it 0600.
scope: privd
namespace: /privd-cluster/
name: pg$i

log:
  level: INFO

restapi:
  listen: 127.0.0.1:$(port 3 "$i")
  connect_address: 127.0.0.1:$(port 3 "$i")
  authentication:
    username: patroni
    password: '$(cat "$dir/secrets/restapi")'

etcd3:
  hosts: 127.0.0.1:$(port 0 1),127.0.0.1:$(port 0 2),127.0.0.1:$(port 0 3)
  protocol: http
  username: patroni
  password: '$(cat "$dir/secrets/etcd-patroni")'

watchdog:
  mode: 'off'

bootstrap:
  dcs:
    ttl: 20
    loop_wait: 2
    retry_timeout: 6
    primary_start_timeout: 0
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: true
    synchronous_node_count: 1
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        synchronous_commit: 'on'
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        max_connections: 200
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        max_wal_size: 1GB
        shared_buffers: 256MB
        effective_cache_size: 4GB
        max_worker_processes: 8
        max_parallel_workers: 2
        max_parallel_workers_per_gather: 1
        password_encryption: scram-sha-256
        logging_collector: 'on'
        log_line_prefix: '%m [%p] %q%u@%d '
        log_statement: none
  initdb:
  - encoding: UTF8
  - locale: C.UTF-8
  - data-checksums
  - auth-host: scram-sha-256
  - auth-local: trust
  users:
    privd:
      password: '$(cat "$dir/secrets/privd")'
      options:
      - login

postgresql:
  listen: 127.0.0.1:$(port 2 "$i")
  connect_address: 127.0.0.1:$(port 2 "$i")
  data_dir: '$m/data'
  bin_dir: '$bindir'
  pgpass: '$m/pgpass'
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
      password: '$(cat "$dir/secrets/superuser")'
    replication:
      username: replicator
      password: '$(cat "$dir/secrets/replication")'
  parameters:
    unix_socket_directories: '$m'
    log_directory: '$m/log'
  pg_hba:
  - local all all scram-sha-256
  - host replication replicator 127.0.0.1/32 scram-sha-256
  - host all all 127.0.0.1/32 scram-sha-256
  basebackup:
    checkpoint: fast
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
EOF
}

# First start: the directories, the passwords, the configuration files.
make_layout() {
	[ -f "$dir/port-base" ] && return 0
	# PostgreSQL's socket is in the member's directory: a unix socket's
	# path holds at most 107 bytes
	sock="$dir/pg1/.s.PGSQL.$(port 2 1)"
	if [ "${#sock}" -gt 107 ]; then
		die "$dir is too long a path for PostgreSQL's unix socket" \
		    "(${#sock} bytes, at most 107): set CLUSTER_DIR to a" \
		    "shorter one"
	fi
	say "creating $dir (ports $base-$((base + 49)) on 127.0.0.1)"
	# the parents as a mkdir -p without our umask would make them (the
	# postgres user must pass through them), the cluster's own 0700
	(umask 022 && mkdir -p "$(dirname "$dir")")
	mkdir -p "$dir/secrets"
	chmod 700 "$dir"
	for s in superuser replication privd restapi etcd-root etcd-patroni; do
		secret >"$dir/secrets/$s"
	done
	printf '127.0.0.1:*:*:postgres:%s\n' "$(cat "$dir/secrets/superuser")" \
	    >"$dir/secrets/pgpass.admin"
	printf '127.0.0.1:*:*:privd:%s\n' "$(cat "$dir/secrets/privd")" \
	    >"$dir/pgpass"
	for i in $members; do
		mkdir -p "$dir/etcd$i" "$dir/pg$i/log"
		patroni_yml "$i" >"$dir/pg$i/patroni.yml"
	done
	if [ -n "$asuser" ]; then
		chown -R postgres:postgres "$dir"
		# the pgpass files stay root's: root is who runs psql here
		chown root:root "$dir/pgpass" "$dir/secrets/pgpass.admin"
		if ! $asuser test -w "$dir/pg1"; then
			die "the postgres user cannot reach $dir (a parent" \
			    "directory is closed to it): set CLUSTER_DIR to" \
			    "a directory it can reach, e.g. /tmp/privd-cluster"
		fi
	fi
	echo "$base" >"$dir/port-base"
}

# Refuses to start when a port a member is about to use is taken.
check_ports() {
	busy=$("$py" - "$@" <<'PY'
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        print(p, end=" ")
    finally:
        s.close()
PY
)
	[ -z "$busy" ] ||
	    die "ports in use on 127.0.0.1: $busy(another cluster? set" \
	        "CLUSTER_PORT_BASE, or make cluster-stop)"
}

start_etcd() {
	i=$1
	e=$dir/etcd$i
	cluster=""
	for j in $members; do
		cluster="$cluster${cluster:+,}etcd$j=http://127.0.0.1:"
		cluster="$cluster$(port 1 "$j")"
	done
	# shellcheck disable=SC2086 # $asuser is a command prefix or nothing
	setsid $asuser etcd --name "etcd$i" --data-dir "$e/data" \
	    --listen-client-urls "http://127.0.0.1:$(port 0 "$i")" \
	    --advertise-client-urls "http://127.0.0.1:$(port 0 "$i")" \
	    --listen-peer-urls "http://127.0.0.1:$(port 1 "$i")" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$(port 1 "$i")" \
	    --initial-cluster "$cluster" --initial-cluster-state new \
	    --initial-cluster-token "privd-cluster-$base" \
	    --heartbeat-interval 200 --election-timeout 2000 \
	    --quota-backend-bytes 268435456 --auto-compaction-retention 1 \
	    --logger zap --log-outputs stderr \
	    </dev/null >>"$e/etcd.log" 2>&1 &
	echo $! >"$e/pid"
}

start_patroni() {
	i=$1
	m=$dir/pg$i
	# shellcheck disable=SC2086 # $asuser is a command prefix or nothing
	setsid $asuser env HOME="$m" patroni "$m/patroni.yml" \
	    </dev/null >>"$m/patroni.log" 2>&1 &
	echo $! >"$m/pid"
}

# Dies, showing the end of its log, if a member started here has died.
check_alive() {
	for i in $members; do
		if ! alive "$dir/etcd$i/pid" etcd >/dev/null; then
			die "etcd$i exited (make cluster-stop stops the" \
			    "rest); the end of $dir/etcd$i/etcd.log:
$(tail -n 5 "$dir/etcd$i/etcd.log")"
		fi
		if [ -f "$dir/pg$i/pid" ] &&
		    ! alive "$dir/pg$i/pid" patroni >/dev/null; then
			die "Patroni pg$i exited (make cluster-stop stops the" \
			    "rest); the end of $dir/pg$i/patroni.log:
$(tail -n 5 "$dir/pg$i/patroni.log")"
		fi
	done
}

# wait_until WHAT COMMAND...: polls COMMAND (every 0.5 s) until it
# succeeds, for at most CLUSTER_WAIT seconds.
wait_until() {
	what=$1
	shift
	deadline=$(($(date +%s) + wait_s))
	while ! "$@" >"$dir/.wait" 2>&1; do
		check_alive
		if [ "$(date +%s)" -ge "$deadline" ]; then
			die "no $what within $wait_s s (make cluster-stop" \
			    "stops what started): $(tail -n 3 "$dir/.wait")"
		fi
		sleep 0.5
	done
	rm -f "$dir/.wait"
}

admin_psql() { # SQL on the primary, as the superuser
	PGPASSFILE=$dir/secrets/pgpass.admin PGCONNECT_TIMEOUT=5 \
	    psql "$(uri postgres postgres)" -X -A -t -q -v ON_ERROR_STOP=1 "$@"
}

sync_streaming() {
	n=$(admin_psql -c "SELECT count(*) FROM pg_stat_replication
	    WHERE sync_state = 'sync' AND state = 'streaming'") || return 1
	[ "$n" -ge 1 ] || { echo "no sync standby streaming yet"; return 1; }
}

# The database privd's nodes use, owned by the privd role (which Patroni
# made at bootstrap, from bootstrap.users).
make_database() {
	have=$(admin_psql -c \
	    "SELECT 1 FROM pg_database WHERE datname = 'privd'")
	if [ "$have" != 1 ]; then
		admin_psql -c 'CREATE DATABASE privd OWNER privd' ||
		    die "cannot create the privd database"
	fi
}

# Whether every member has the privd database. A standby has it once it
# has replayed the CREATE DATABASE, which synchronous replication does not
# wait for (it waits for the flush). Until then libpq, trying the hosts of
# the URI in turn, may reach a standby that answers "database does not
# exist" - an error of the connection's start, after which libpq tries no
# other host: privd's first connection would fail.
db_everywhere() {
	for i in $members; do
		n=$(PGPASSFILE=$dir/secrets/pgpass.admin PGCONNECT_TIMEOUT=5 \
		    psql "postgresql://postgres@127.0.0.1:$(port 2 "$i")/postgres" \
		    -X -A -t -q -c \
		    "SELECT count(*) FROM pg_database WHERE datname = 'privd'") ||
		    return 1
		[ "$n" = 1 ] || { echo "pg$i has no privd database yet"; return 1; }
	done
}

# The privd nodes (start_privd_nodes, stop_privd_nodes, privd_endpoints,
# $bld): scripts/cluster/privd_nodes.sh.
# shellcheck source=scripts/cluster/privd_nodes.sh
. "$here/privd_nodes.sh"

print_how() {
	if [ -f "$dir/privd1/server.pub" ] && [ "${CLUSTER_PRIVD:-1}" != 0 ]; then
		k=$dir/privd/keys
		cat <<EOF

privd, 2 nodes on the one store (the example policy, its principals' keys
in $k/NAME.key):
  export PRIVD_ENDPOINT=$(privd_endpoints)
  export PRIVD_SERVER_KEY=$dir/privd1/server.pub
  export PRIVD_KEY=$k/crm.key
  $bld/client/privctl ping
  $bld/client/privctl put customers c-1001 --purpose orders name='Maija Meikäläinen'
  $bld/client/privctl get customers c-1001 --purpose orders
  PRIVD_KEY=$k/auditor.key $bld/client/privctl audit verify
  logs:     $dir/privd1/privd.log, $dir/privd2/privd.log
EOF
	fi
	cat <<EOF

PostgreSQL (Patroni scope "privd", synchronous replication, strict):
  URI:      $(uri privd privd)
  password: PGPASSFILE=$dir/pgpass (libpq reads it)
  try:      PGPASSFILE=$dir/pgpass psql '$(uri privd privd)'
  status:   make cluster-status        stop: make cluster-stop
EOF
}

do_start() {
	need_tools
	set_base
	make_layout
	# pid files of members that died since: check_alive is about the
	# members this run starts
	for i in $members; do
		alive "$dir/etcd$i/pid" etcd >/dev/null ||
		    rm -f "$dir/etcd$i/pid"
		alive "$dir/pg$i/pid" patroni >/dev/null ||
		    rm -f "$dir/pg$i/pid"
	done
	topids=""
	for i in $members; do
		alive "$dir/etcd$i/pid" etcd >/dev/null ||
		    topids="$topids $(port 0 "$i") $(port 1 "$i")"
	done
	for i in $members; do
		alive "$dir/pg$i/pid" patroni >/dev/null ||
		    topids="$topids $(port 3 "$i")"
		# a PostgreSQL that outlived its Patroni: Patroni takes it over
		postmaster "$i" >/dev/null || topids="$topids $(port 2 "$i")"
	done
	# shellcheck disable=SC2086
	[ -z "$topids" ] || check_ports $topids
	for i in $members; do
		alive "$dir/etcd$i/pid" etcd >/dev/null || start_etcd "$i"
	done
	wait_until "healthy etcd" ctl endpoint health
	if [ ! -f "$dir/etcd-auth" ]; then
		"$py" "$here/etcd_auth.py" "http://127.0.0.1:$(port 0 1)" \
		    "$dir/secrets" /privd-cluster/ ||
		    die "cannot turn on etcd's authentication"
		: >"$dir/etcd-auth"
	fi
	say "etcd is up ($(etcd_endpoints), authentication on)"
	for i in $members; do
		alive "$dir/pg$i/pid" patroni >/dev/null || start_patroni "$i"
	done
	# shellcheck disable=SC2046
	wait_until "Patroni leader and sync standby" \
	    "$py" "$here/state.py" ready $(rest_urls)
	# Patroni's view comes from etcd, where a member that was not stopped
	# cleanly is still listed as it was until its key expires: ask the
	# primary itself (the read-write URI) for its streaming sync standby.
	wait_until "primary with a streaming sync standby" sync_streaming
	make_database
	wait_until "privd database on every member" db_everywhere
	say "PostgreSQL is up:"
	# shellcheck disable=SC2046
	"$py" "$here/state.py" members $(rest_urls) | sed 's/^/  /'
	start_privd_nodes
	print_how
}

# stop_all NAME SIGNAL PIDFILE...: sends SIGNAL to each process (named
# NAME in its command line) whose pid file is given, then waits for them
# all to exit; SIGKILL for those still there after 60 s. Together, so
# that their shutdowns overlap.
stop_all() {
	name=$1
	sig=$2
	shift 2
	pids=""
	for f in "$@"; do
		if pid=$(alive "$f" "$name"); then
			kill "-$sig" "$pid" 2>/dev/null || true
			pids="$pids $pid"
		fi
		rm -f "$f"
	done
	deadline=$(($(date +%s) + 60))
	for pid in $pids; do
		while running "$pid"; do
			if [ "$(date +%s)" -ge "$deadline" ]; then
				say "$name (pid $pid) did not stop in 60 s:" \
				    "killing it"
				kill -KILL "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.2
		done
	done
}

do_stop() {
	[ -d "$dir" ] || { say "no cluster in $dir"; return 0; }
	set_base
	stop_privd_nodes
	# Standbys first, then the leader: stopping the leader first would
	# make a standby take over only to be stopped in turn. etcd last:
	# Patroni needs it to shut down.
	# shellcheck disable=SC2046
	leader=$("$py" "$here/state.py" members $(rest_urls) 2>/dev/null |
	    awk '$2 == "leader" { print $1 }') || true
	standbys=""
	for i in $members; do
		[ "pg$i" = "$leader" ] || standbys="$standbys $dir/pg$i/pid"
	done
	# shellcheck disable=SC2086
	stop_all patroni TERM $standbys
	stop_all patroni TERM "$dir/pg1/pid" "$dir/pg2/pid" "$dir/pg3/pid"
	# A PostgreSQL left behind by a Patroni that was killed: fast shutdown
	# (SIGINT).
	for i in $members; do
		if postmaster "$i" >/dev/null; then
			say "stopping pg$i's PostgreSQL, left without" \
			    "its Patroni"
			postmaster "$i" >"$dir/pg$i/.pm"
			stop_all postgres INT "$dir/pg$i/.pm"
		fi
	done
	stop_all etcd TERM "$dir/etcd1/pid" "$dir/etcd2/pid" "$dir/etcd3/pid"
	say "stopped (the data stays in $dir)"
}

do_status() {
	if [ ! -f "$dir/port-base" ]; then
		say "no cluster in $dir (make cluster starts one)"
		return 0
	fi
	set_base
	etcds=0
	for i in $members; do
		e=stopped
		p=stopped
		if pid=$(alive "$dir/etcd$i/pid" etcd); then
			e="running (pid $pid)"
			etcds=$((etcds + 1))
		fi
		pid=$(alive "$dir/pg$i/pid" patroni) && p="running (pid $pid)"
		echo "etcd$i: $e    patroni pg$i: $p"
	done
	for i in 1 2; do
		d=stopped
		pid=$(alive "$dir/privd$i/pid" privd) && d="running (pid $pid)"
		echo "privd$i: $d on tcp://127.0.0.1:$(port 4 "$i")"
	done
	if [ "$etcds" -lt 2 ]; then
		# patronictl waits for etcd for ever
		echo "etcd has no quorum (2 of 3 members): make cluster starts it"
		return 0
	fi
	echo
	ctl endpoint status -w table 2>&1 || true # --command-timeout bounds it
	# bounded too: should etcd lose its quorum meanwhile, patronictl
	# would wait for ever
	timeout 20 patronictl -c "$dir/pg1/patroni.yml" list 2>&1 || true
	print_how
}

# The cluster is whole: a leader with a streaming sync standby, all
# members running.
do_ready() {
	set_base
	# shellcheck disable=SC2046
	"$py" "$here/state.py" ready $(rest_urls) || return 1
	sync_streaming
}

do_primary() {
	set_base
	# shellcheck disable=SC2046
	leader=$("$py" "$here/state.py" members $(rest_urls) |
	    awk '$2 == "leader" { print $1 }')
	[ -n "$leader" ] || die "no leader"
	pm=$(postmaster "${leader#pg}") ||
	    die "$leader's postmaster is not running"
	echo "$leader $pm"
}

case $cmd in
start) do_start ;;
ready) do_ready ;;
primary) do_primary ;;
stop) do_stop ;;
status) do_status ;;
uri)
	set_base
	uri privd privd
	;;
*)
	echo "usage: $0 start|stop|status|uri|ready|primary" >&2
	exit 2
	;;
esac
