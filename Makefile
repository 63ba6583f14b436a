# privd - the two commands:
#   make run    set up everything, build, and start privd on a demo store
#   make test   set up everything, build, and run the whole test suite
# and the benchmark (issue 8; never part of make test):
#   make bench                       run privd-bench with its defaults (several
#                                    minutes), figures in build/bench-DATE.json;
#                                    BENCH_ARGS="--quick" etc. passes options
#   make bench-compare A.json B.json two runs side by side (or A=... B=...)
#   make bench-stores                audited GETs and PUTs on LMDB, on the
#                                    PostgreSQL backend and on the pgcrypto
#                                    alternative, in one run (--compare-stores)
#   make bench-lockcost              one privd node and two on PostgreSQL behind
#                                    a proxy adding 0, 0.5, 1, 2 ms round trips:
#                                    what the writers' lock costs across hosts
# and the loopback cluster of issue 12 (tests/cluster runs its own):
#   make cluster          start etcd x3 + Patroni/PostgreSQL x3 + 2 privd nodes
#                         under var/cluster
#                         on 127.0.0.1:7710-7759 (CLUSTER_PORT_BASE=N moves the
#                         block, CLUSTER_DIR=DIR the directory) and print how to
#                         connect; scripts/cluster/cluster.sh says more
#   make cluster-stop     stop it all, privd first (the data stays: rm -rf var/cluster after
#                         it to start over)
#   make cluster-status   patronictl list, etcd's members, the processes
BUILD ?= build
MESON_OPTS ?= -Dwerror=true

.PHONY: all deps run-deps test-deps bench-deps build run test bench \
	bench-compare bench-stores bench-lockcost clean cluster-deps cluster cluster-stop cluster-status

all: build

deps:
	@sh scripts/deps.sh build

run-deps:
	@sh scripts/deps.sh run

test-deps:
	@sh scripts/deps.sh test

bench-deps:
	@sh scripts/deps.sh bench

# The tests need cmocka, which only `make test` installs: a tree set up
# without it (by `make build` or `make run` on a fresh machine) is set up
# with -Dtests=false, and `make test` turns them on (a no-op when on).
$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS) \
	    -Dtests=$$(pkg-config --exists cmocka && echo true || echo false)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Only the two programs the demo runs, not the tests.
run: deps run-deps $(BUILD)/build.ninja
	ninja -C $(BUILD) daemon/privd client/privctl
	@sh scripts/demo.sh $(BUILD)

test: deps test-deps $(BUILD)/build.ninja
	@meson configure $(BUILD) -Dtests=true >/dev/null
	ninja -C $(BUILD)
	meson test -C $(BUILD) --print-errorlogs

BENCH_JSON = $(BUILD)/bench-$(shell date +%Y%m%d-%H%M%S).json

# bench-deps comes before the build so that meson finds libpq and builds
# the PostgreSQL alternative (bench/pg*.c). The benchmark uses the
# integration tests' harness, so it needs the tests (and cmocka) too.
bench: deps test-deps bench-deps $(BUILD)/build.ninja
	@meson configure $(BUILD) -Dtests=true >/dev/null
	ninja -C $(BUILD)
	$(BUILD)/bench/privd-bench --json $(BENCH_JSON) $(BENCH_ARGS)

# The three stores side by side (issue 12): LMDB, privd's PostgreSQL
# backend and the pgcrypto alternative, each on a private store of its own,
# one after another; 20,000 subjects unless BENCH_ARGS says otherwise.
bench-stores: deps test-deps bench-deps $(BUILD)/build.ninja
	@meson configure $(BUILD) -Dtests=true >/dev/null
	ninja -C $(BUILD)
	$(BUILD)/bench/privd-bench --compare-stores --subjects 20000 \
	    --json $(BENCH_JSON) $(BENCH_ARGS)

# The writers' lock across hosts (issue 12): privd's PostgreSQL backend
# reached through bench/delayproxy.c at several round-trip times, one node
# against two; 20,000 subjects unless BENCH_ARGS says otherwise.
bench-lockcost: deps test-deps bench-deps $(BUILD)/build.ninja
	@meson configure $(BUILD) -Dtests=true >/dev/null
	ninja -C $(BUILD)
	$(BUILD)/bench/privd-bench --phases lockcost --subjects 20000 \
	    --json $(BENCH_JSON) $(BENCH_ARGS)

# `make bench-compare A.json B.json`: the two file names are goals of their
# own, made into no-ops here so that make does not try to build them.
ifeq (bench-compare,$(firstword $(MAKECMDGOALS)))
BENCH_FILES := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
A ?= $(word 1,$(BENCH_FILES))
B ?= $(word 2,$(BENCH_FILES))
ifneq ($(BENCH_FILES),)
.PHONY: $(BENCH_FILES)
$(eval $(BENCH_FILES):;@:)
endif
endif

bench-compare:
	@[ -n "$(A)" ] && [ -n "$(B)" ] || \
	    { echo "usage: make bench-compare A.json B.json" >&2; exit 2; }
	@/usr/bin/python3 scripts/bench_compare.py $(A) $(B)

cluster-deps:
	@sh scripts/deps.sh cluster

# privd (with libpq, which cluster-deps installs, found by meson) first:
# the cluster runs two privd nodes from $(BUILD).
cluster: deps cluster-deps $(BUILD)/build.ninja
	ninja -C $(BUILD) daemon/privd client/privctl
	@PRIVD_BUILD=$(BUILD) sh scripts/cluster/cluster.sh start

cluster-stop:
	@PRIVD_BUILD=$(BUILD) sh scripts/cluster/cluster.sh stop

cluster-status:
	@PRIVD_BUILD=$(BUILD) sh scripts/cluster/cluster.sh status

clean:
	rm -rf $(BUILD) build-asan
