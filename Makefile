# The two commands of the README: `make run` and `make test`.
# Everything else here is a step those two take, or a tool for developers.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
CMAKE_GEN  := -G Ninja
SOURCES     = $(wildcard $(shell git ls-files --cached --others --exclude-standard -- '*.c' '*.h' 2>/dev/null))

.PHONY: all deps build run test unit-test asan-test tsan-test format format-check bench jepsen clean

all: build

deps:
	@tools/deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) >/dev/null
	@cmake --build $(BUILD)

# `make run` builds and starts a local 3-node cluster in the background
# (tools/cluster; stores in .cluster/) and prints a psql command per node.
run: build
	@TARDIGRADE_BIN=$(BUILD)/tardigrade tools/cluster start --nodes 3
	@echo "make run: 'tools/cluster status' shows the nodes, 'tools/cluster stop' stops them"

test: format-check unit-test asan-test

unit-test: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

# The suites labelled "sanitize" again, built with ASan+UBSan.
asan-test: deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DSANITIZE=address -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j2 -L sanitize

# The multi-threaded stress programs under ThreadSanitizer (Criterion
# cannot run under TSan; see tests/CMakeLists.txt). Not part of `make test`
# because it is a third full build; run it before resolving anything that
# touches threads.
tsan-test: deps
	@cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) -DSANITIZE=thread -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(TSAN_BUILD)
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir $(TSAN_BUILD) --output-on-failure -j2 -L tsan

format:
	@clang-format -i $(SOURCES)

format-check: deps
	@clang-format --dry-run --Werror $(SOURCES) && echo "format-check: $(words $(SOURCES)) files clean"

bench: build
	@tests/bench/run.sh $(BUILD)

# The full Jepsen matrix against a 5-node cluster in network namespaces
# (root): every workload under every nemesis, 300 s each, about 2.5 hours.
# JEPSEN_ARGS passes options to jepsen/matrix (--resume DIR, --time S, ...);
# the table of verdicts lands in jepsen/results/matrix-*/table.md.
jepsen: build
	@TARDIGRADE_BIN=$(BUILD)/tardigrade jepsen/matrix $(JEPSEN_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
