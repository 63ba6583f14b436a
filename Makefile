# privd - the two commands:
#   make run    set up everything, build, and start privd on a demo store
#   make test   set up everything, build, and run the whole test suite
# and the benchmark (issue 8; never part of make test):
#   make bench                       run privd-bench with its defaults (several
#                                    minutes), figures in build/bench-DATE.json;
#                                    BENCH_ARGS="--quick" etc. passes options
#   make bench-compare A.json B.json two runs side by side (or A=... B=...)
BUILD ?= build
MESON_OPTS ?= -Dwerror=true

.PHONY: all deps test-deps bench-deps build run test bench bench-compare clean

all: build

deps:
	@sh scripts/deps.sh build

test-deps:
	@sh scripts/deps.sh test

bench-deps:
	@sh scripts/deps.sh bench

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@sh scripts/demo.sh $(BUILD)

test: deps test-deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	meson test -C $(BUILD) --print-errorlogs

BENCH_JSON = $(BUILD)/bench-$(shell date +%Y%m%d-%H%M%S).json

# bench-deps comes before the build so that meson finds libpq and builds
# the PostgreSQL alternative (bench/pg*.c).
bench: deps bench-deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	$(BUILD)/bench/privd-bench --json $(BENCH_JSON) $(BENCH_ARGS)

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

clean:
	rm -rf $(BUILD) build-asan
