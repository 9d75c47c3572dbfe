# Chorus: the two commands a newcomer needs are `make run` and `make test`.

GO          ?= go
BIN         := bin/chorus
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Every test, the end-to-end ones included, must end well inside this.
TEST_TIMEOUT ?= 14m
# The @mattermost/client compatibility script and its Node.js packages.
MMCLIENT    := e2e/mmclient

.PHONY: all build run test lint bench clean chromium

all: build

build:
	$(GO) build -o $(BIN) ./cmd/chorus

# A local 3-node cluster on the embedded SQLite default, behind the front
# door on http://127.0.0.1:8080. Ctrl-C stops everything.
run: build
	./$(BIN) demo --nodes 3 --http 127.0.0.1:8080 --data ./data

# gofmt, go vet, staticcheck, then every test (unit, database, end-to-end,
# the fuzz targets' seed corpora, and the @mattermost/client script).
test: lint $(MMCLIENT)/node_modules/.package-lock.json
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# The Node.js packages of the @mattermost/client compatibility test
# (e2e/mmclient), installed from the committed lock file by npm ci, again
# only when the lock file changes. Without npm the test skips (fails under
# CI=true).
$(MMCLIENT)/node_modules/.package-lock.json: $(MMCLIENT)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd $(MMCLIENT) && npm ci --no-audit --no-fund; \
	else echo "npm not found: the @mattermost/client compatibility test will skip"; fi

# Debian's Chromium, for the High Availability page's screenshot test
# (e2e/cluster_page_test.go); without it that test skips, except under
# CI=true, where .ci/run installs it first.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y --no-install-recommends chromium)

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Go benchmarks of every package (allocations per op), then the side-by-side
# table of NGINX, stock Caddy and the Chorus front door (bench/README.md).
# go test's -timeout does not cover benchmarks, so `timeout` bounds them; the
# table is printed even when a Go benchmark fails, and make fails afterwards.
# Flags for bench/run go in BENCH_FLAGS, e.g. make bench BENCH_FLAGS='-rounds 1'.
BENCH_GO_TIMEOUT ?= 5m
bench:
	@rc=0; \
	echo "$(GO) test -run '^$$' -bench . -benchmem ./..."; \
	timeout -k 10s $(BENCH_GO_TIMEOUT) $(GO) test -run '^$$' -bench . -benchmem ./... || rc=$$?; \
	GO=$(GO) bench/run $(BENCH_FLAGS) || rc=$$?; \
	exit $$rc

clean:
	rm -rf bin data
