# Koi: `make run` starts Koi with the WeCom sandbox-free foundation and demo settings; `make test` runs every suite.
# Both install what is missing first (scripts/bootstrap). Builds use Ninja with -j2 (the machines have 2 cores).
SHELL := /bin/bash
JOBS ?= 2
BUILD ?= build
TEST_BUILD ?= build-test

.PHONY: run test build build-test web bootstrap bench clean format

bootstrap:
	@scripts/bootstrap

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOI_BUILD_TESTS=OFF >/dev/null

build: bootstrap $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS) --target koi

web: bootstrap
	@cd web && npm run --silent build

run: build web
	@scripts/run-koi

$(TEST_BUILD)/build.ninja:
	cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKOI_SANITIZE=ON -DKOI_BUILD_TESTS=ON >/dev/null

build-test: $(TEST_BUILD)/build.ninja
	@cmake --build $(TEST_BUILD) -j $(JOBS)

test:
	@scripts/bootstrap --test
	@$(MAKE) --no-print-directory build-test web
	@scripts/test-all $(TEST_BUILD)

bench: bootstrap
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOI_BUILD_TESTS=OFF -DKOI_BUILD_BENCH=ON >/dev/null
	cmake --build build-bench -j $(JOBS)

format:
	clang-format -i $$(git ls-files 'src/*.h' 'src/*.cc')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-bench web/dist
