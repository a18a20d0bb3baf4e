# Davenport developer targets. `make help` lists them.

GO                  ?= go
VERSION             ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS             := -s -w -X main.version=$(VERSION)
# Pinned; bump deliberately (go list -m honnef.co/go/tools@latest).
STATICCHECK_VERSION := v0.8.2
# How long each fuzz target runs under `make fuzz`.
FUZZTIME            ?= 30s
# Benchmarks: which ones, and how long each.
BENCH               ?= .
BENCHTIME           ?= 1s

.DEFAULT_GOAL := build
.PHONY: help build run test lint fuzz bench image up down clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build ./davenport (static, version from git describe)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o davenport ./cmd/davenport

run: ## run the server on the embedded store in ./data, listening on :8008
	$(GO) run ./cmd/davenport serve

test: ## the full suite, as CI runs it (starts its own PostgreSQL)
	./scripts/test.sh

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# go test -fuzz takes one package and one target at a time, so list the
# targets of each package first. Crashers are written to the package's
# testdata/fuzz/<Target>/ and from then on run as ordinary test cases.
fuzz: ## run every Fuzz target for FUZZTIME each (default 30s)
	@set -e; n=0; \
	pkgs=$$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); \
	for pkg in $$pkgs; do \
		targets=$$($(GO) test -list '^Fuzz' "$$pkg"); \
		for fn in $$(printf '%s\n' "$$targets" | grep '^Fuzz' || true); do \
			echo "==> $$pkg $$fn ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
			n=$$((n + 1)); \
		done; \
	done; \
	echo "fuzz: $$n targets ran for $(FUZZTIME) each"

bench: ## Go benchmarks with allocations (BENCH=regexp, BENCHTIME=1s)
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem ./...

image: ## build the container image davenport:local
	docker build --build-arg VERSION=$(VERSION) -t davenport:local .

up: ## start davenport + postgres with docker compose (see docker-compose.yml)
	DAVENPORT_VERSION=$(VERSION) docker compose up -d --build

down: ## stop them; the database volume is kept
	docker compose down

clean: ## remove build outputs (never ./data)
	rm -f davenport davbench
	rm -rf .tmp
	$(GO) clean -testcache
