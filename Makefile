# clawback — the two commands that matter: `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
ifeq ($(CI),true)
CMAKE_FLAGS += -DCLAWBACK_WERROR=ON
endif

.PHONY: all deps configure build run test unit e2e-openclaw bench fuzz format clean

all: build

deps:
	@scripts/install-deps

$(BUILD_DIR)/build.ninja:
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	@cmake --build $(BUILD_DIR)

# Initialise a data dir if there is none, then serve it on 127.0.0.1:18800.
run: build
	@scripts/run-server $(BUILD_DIR)/clawback

# The whole suite: unit, integration (real PostgreSQL, restic, Prometheus, S3 server),
# the OpenClaw plugin's node tests and the end-to-end suites.
test: build
	@scripts/test-all $(BUILD_DIR)

# Only the fast unit tests.
unit: build
	@cd $(BUILD_DIR) && ctest -L unit -j2 --output-on-failure

e2e-openclaw: build
	@tests/e2e/openclaw/run $(BUILD_DIR)/clawback

bench: build
	@bench/run-all $(BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
