#!/bin/sh
# Install the Debian packages privd needs, only those that are missing.
#   scripts/deps.sh build   libraries and tools to build privd (no test
#                           framework: the tree builds with -Dtests=false;
#                           libpq-dev for the PostgreSQL store backend)
#   scripts/deps.sh run     also what `make run` needs (python3, which
#                           scripts/demo.sh uses to write the demo policy)
#   scripts/deps.sh test    also what the tests need (cmocka; protoc and
#                           the Python modules of the wire test; the Debian
#                           packaging tools and the package's other build
#                           dependencies for tests/packaging, whose build
#                           takes about a minute; PostgreSQL's server for
#                           the store backend's tests)
#   scripts/deps.sh fuzz    clang and its libFuzzer runtime (for .ci/run)
#   scripts/deps.sh bench   PostgreSQL (server, pgcrypto, libpq) for the
#                           benchmark's alternative (make bench)
#   scripts/deps.sh cluster etcd, Patroni and PostgreSQL's server for the
#                           loopback cluster (make cluster); test mode
#                           installs them too, for tests/cluster
# Checks with pkg-config / command -v / an import, so an already set-up
# machine is left alone and nothing needs the network.
set -eu

mode=${1:-build}
missing=""

need_pkg() { # pkg-config module, Debian package
	if ! command -v pkg-config >/dev/null 2>&1 ||
	    ! pkg-config --exists "$1" 2>/dev/null; then
		missing="$missing $2"
	fi
}
need_cmd() { # command, Debian package
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need_deb() { # Debian package (one that has no command of its own to find)
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $1"
}

need_cmd cc gcc
need_cmd pkg-config pkg-config
need_cmd meson meson
need_cmd ninja ninja-build
need_cmd protoc-c protobuf-c-compiler
need_pkg lmdb liblmdb-dev
need_pkg libsodium libsodium-dev
need_pkg libprotobuf-c libprotobuf-c-dev
need_pkg libzmq libzmq3-dev
need_pkg jansson libjansson-dev

# The loopback cluster (scripts/cluster/cluster.sh): etcd (etcd-server;
# etcdctl is in etcd-client), Patroni (Debian's patroni brings python3-etcd,
# through which it speaks etcd's v3 API, and psycopg2), PostgreSQL's server
# (whose binaries are not on PATH: look where postgresql-NN puts them).
need_cluster() {
	need_cmd etcd etcd-server
	need_cmd etcdctl etcd-client
	need_cmd patroni patroni
	need_cmd /usr/bin/python3 python3
	if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
		missing="$missing postgresql"
	fi
}

if [ "$mode" = run ]; then
	need_cmd /usr/bin/python3 python3
fi

if [ "$mode" = fuzz ]; then
	missing=""
	if ! command -v clang >/dev/null 2>&1 ||
	    ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
	    clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
		missing="clang libclang-rt-dev"
	fi
fi

if [ "$mode" = test ]; then
	need_pkg cmocka libcmocka-dev
	need_cmd protoc protobuf-compiler
	need_cmd systemd-analyze systemd # test systemd_unit verifies the unit
	# tests/packaging: dpkg-buildpackage checks build-essential and
	# debian/control's Build-Depends (libsystemd-dev is the one the
	# build mode does not install), then lintian
	need_cmd dpkg-buildpackage dpkg-dev
	need_cmd dh debhelper
	need_cmd dh_python3 dh-python
	need_cmd lintian lintian
	need_deb build-essential
	need_pkg libsystemd libsystemd-dev
	need_deb bash-completion # test cli_complete runs privctl's in bash
	if [ -x /usr/bin/python3 ]; then
		/usr/bin/python3 -c 'import zmq' 2>/dev/null ||
		    missing="$missing python3-zmq"
		/usr/bin/python3 -c 'import google.protobuf' 2>/dev/null ||
		    missing="$missing python3-protobuf"
		/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
		    missing="$missing python3-jsonschema"
	else
		missing="$missing python3 python3-zmq python3-protobuf"
		missing="$missing python3-jsonschema"
	fi
fi

# The PostgreSQL store backend (issue 12, daemon/store_pg*.c): libpq to
# build it (without libpq-dev privd builds with LMDB only), and for the
# tests a server that test_store_kv starts privately (Debian's server
# binaries are not on PATH: look for initdb where postgresql-NN puts it).
if [ "$mode" = build ] || [ "$mode" = run ] || [ "$mode" = test ]; then
	need_pkg libpq libpq-dev
fi
if [ "$mode" = test ] &&
    ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	missing="$missing postgresql"
fi

if [ "$mode" = bench ]; then
	missing=""
	need_pkg libpq libpq-dev
	# Debian's server binaries are not on PATH: look for initdb where
	# postgresql-NN puts it; pgcrypto comes with the server (contrib).
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
		missing="$missing postgresql"
	fi
	if ! ls /usr/share/postgresql/*/extension/pgcrypto.control \
	    >/dev/null 2>&1; then
		missing="$missing postgresql-contrib"
	fi
fi

# tests/cluster (suite cluster) needs the cluster's packages.
if [ "$mode" = test ]; then
	need_cluster
fi

if [ "$mode" = cluster ]; then
	missing=""
	need_cluster
fi

[ -z "$missing" ] && exit 0

echo "privd: installing Debian packages:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "privd: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
