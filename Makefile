# privd - the two commands:
#   make run    set up everything, build, and start privd on a demo store
#   make test   set up everything, build, and run the whole test suite
BUILD ?= build
MESON_OPTS ?= -Dwerror=true

.PHONY: all deps test-deps build run test clean

all: build

deps:
	@sh scripts/deps.sh build

test-deps:
	@sh scripts/deps.sh test

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@sh scripts/demo.sh $(BUILD)

test: deps test-deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	meson test -C $(BUILD) --print-errorlogs

clean:
	rm -rf $(BUILD) build-asan
