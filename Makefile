# Koi: `make run` builds and starts Koi (SQLite under ./data, console on :8080); `make test` runs every suite.
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
	@cmake --build $(BUILD) -j $(JOBS) --target koi koi-wecom-sandbox

# Rebuild the console only when its sources or dependencies changed.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json web/package-lock.json \
               web/vite.config.ts web/tsconfig.json api/openapi.yaml
web/dist/index.html: $(WEB_SOURCES)
	@cd web && npm run --silent build
	@touch $@

web: bootstrap web/dist/index.html

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
