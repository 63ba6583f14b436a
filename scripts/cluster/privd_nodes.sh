# Sourced by scripts/cluster/cluster.sh (not run on its own): the cluster's
# two privd nodes - their layout, start, stop. It uses cluster.sh's
# variables (dir, top, py, wait_s) and functions (port, uri, alive, die,
# say, check_ports, stop_all).
#
# shellcheck shell=sh disable=SC2154 # dir, py, wait_s: cluster.sh's

# privd nodes: privd1 and privd2, on tcp://127.0.0.1:B+41 and B+42, each
# with its own data directory $dir/privdN/ (master.key, server.pub, the
# file `store` naming the database, privd.log, pid) and both serving the
# one store in the privd database through the multi-host URI, so that
# each finds the new primary after a failover. The password is not in
# the URI: libpq takes it from $dir/pgpass (PGPASSFILE), so it is in no
# command line and in no file of privd's.
#   - node 1: `privd init --store URI` makes the store's keys and schema,
#     with the example policy (policy/examples/aktiivitieto.json) whose
#     principals' placeholder keys are replaced by keys generated into
#     $dir/privd/keys/NAME.key (0600), as `make run` does for its demo;
#   - node 2: no init (the store is there): a copy of node 1's master.key
#     (and server.pub, for clients), and the spec in privd2/store - what
#     privd(8) says a further node needs;
# both share the server's CURVE key, which is in the store.
# privd runs as the user running this script (privd has no reason to
# refuse root, unlike PostgreSQL). Its programs come from the build
# directory PRIVD_BUILD (default: build/ of the source tree; make cluster
# builds them first).
bld=${PRIVD_BUILD:-$top/build}
case $bld in /*) ;; *) bld=$top/$bld ;; esac
nodes="1 2"

# The URI the privd nodes use: a host that hangs is given up after 3 s
# (connect_timeout) so a node reaches the new primary quickly.
privd_spec() {
	echo "$(uri privd privd)&connect_timeout=3"
}

privd_endpoints() {
	echo "tcp://127.0.0.1:$(port 4 1),tcp://127.0.0.1:$(port 4 2)"
}

privd_tools() {
	privd=$bld/daemon/privd
	privctl=$bld/client/privctl
	if [ ! -x "$privd" ] || [ ! -x "$privctl" ]; then
		die "no privd in $bld (make cluster builds it; or set" \
		    "PRIVD_BUILD to a build directory)"
	fi
}

# The example policy with a fresh key pair per principal (demo.sh's way).
privd_policy() {
	k=$dir/privd/keys
	[ -f "$dir/privd/policy.json" ] && return 0
	mkdir -p "$k"
	example=$top/policy/examples/aktiivitieto.json
	names=$("$py" -c 'import json,sys
print(" ".join(json.load(open(sys.argv[1]))["principals"]))' "$example") ||
	    die "cannot read $example"
	for p in $names; do
		[ -f "$k/$p.key" ] ||
		    "$privctl" keygen --out "$k/$p.key" >/dev/null ||
		    die "privctl keygen failed"
	done
	"$py" - "$example" "$k" "$dir/privd/policy.json.new" <<'EOP' ||
import json, sys
src, keydir, out = sys.argv[1:4]
pol = json.load(open(src))
for name, p in pol["principals"].items():
    for line in open(f"{keydir}/{name}.key"):
        k, _, v = line.partition("=")
        if k.strip() == "public-key":
            p["key"] = v.strip()
json.dump(pol, open(out, "w"), indent=2)
EOP
	    die "cannot write the policy"
	mv "$dir/privd/policy.json.new" "$dir/privd/policy.json"
}

# First start of the nodes: node 1 initialises the store, node 2 gets a
# copy of its master key.
privd_layout() {
	if [ ! -f "$dir/privd1/master.key" ]; then
		privd_policy
		rm -rf "$dir/privd1"
		mkdir -p "$dir/privd1"
		PGPASSFILE=$dir/pgpass "$privd" init --data-dir "$dir/privd1" \
		    --store "$(privd_spec)" --policy "$dir/privd/policy.json" \
		    >/dev/null 2>"$dir/privd/init.err" || {
			cat "$dir/privd/init.err" >&2
			rm -rf "$dir/privd1"
			die "privd init on the cluster's database failed" \
			    "(if privd says it has no PostgreSQL backend:" \
			    "install libpq-dev and set the build up again)"
		}
		say "privd1 initialised the store in the privd database"
	fi
	if [ ! -f "$dir/privd2/master.key" ]; then
		rm -rf "$dir/privd2"
		mkdir -p "$dir/privd2"
		cp "$dir/privd1/master.key" "$dir/privd1/server.pub" \
		    "$dir/privd2/"
		cp "$dir/privd1/store" "$dir/privd2/store"
		chmod 600 "$dir/privd2/master.key" "$dir/privd2/store"
	fi
}

start_privd() {
	i=$1
	n=$dir/privd$i
	setsid env PGPASSFILE="$dir/pgpass" "$privd" serve --data-dir "$n" \
	    --listen "tcp://127.0.0.1:$(port 4 "$i")" \
	    --listen "ipc://$n/privd.sock" \
	    </dev/null >>"$n/privd.log" 2>&1 &
	echo $! >"$n/pid"
}

# privctl ping as the CRM service, through node $1 only.
privd_ping() {
	PRIVD_ENDPOINT=tcp://127.0.0.1:$(port 4 "$1") \
	    PRIVD_SERVER_KEY=$dir/privd1/server.pub \
	    PRIVD_KEY=$dir/privd/keys/crm.key "$privctl" ping
}

privd_check() {
	for j in $nodes; do
		alive "$dir/privd$j/pid" privd >/dev/null ||
		    die "privd$j exited; the end of $dir/privd$j/privd.log:
$(tail -n 5 "$dir/privd$j/privd.log")"
	done
}

start_privd_nodes() {
	if [ "${CLUSTER_PRIVD:-1}" = 0 ]; then
		say "privd nodes: not started (CLUSTER_PRIVD=0)"
		return 0
	fi
	privd_tools
	privd_layout
	topids=""
	for i in $nodes; do
		alive "$dir/privd$i/pid" privd >/dev/null ||
		    topids="$topids $(port 4 "$i")"
	done
	# shellcheck disable=SC2086
	[ -z "$topids" ] || check_ports $topids
	for i in $nodes; do
		alive "$dir/privd$i/pid" privd >/dev/null || start_privd "$i"
	done
	for i in $nodes; do
		deadline=$(($(date +%s) + wait_s))
		while ! privd_ping "$i" >"$dir/.wait" 2>&1; do
			privd_check
			if [ "$(date +%s)" -ge "$deadline" ]; then
				die "privd$i does not answer within $wait_s s:" \
				    "$(tail -n 3 "$dir/.wait")"
			fi
			sleep 0.5
		done
	done
	rm -f "$dir/.wait"
	say "privd nodes are up: $(privd_endpoints)"
}

stop_privd_nodes() {
	# privd finishes the requests in flight on SIGTERM
	stop_all privd TERM "$dir/privd1/pid" "$dir/privd2/pid"
}
