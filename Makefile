# crunch — `make` or `make help` lists the targets.
#
# Variables (override on the command line, e.g. `make test ARGS='-run TestX ./internal/...'`):
#   PKGS      packages for lint, bench and fuzz            (./...)
#   ARGS      go test arguments after -race -count=1;
#             name the packages too                        (./...)
#   BENCH     benchmarks to run, a -bench regexp           (.)
#   BENCHTIME go test -benchtime                           (1s)
#   COUNT     go test -count for benchmarks                (1)
#   FUZZTIME  time per fuzz target                         (10s)
#   SOAK      how long make soak runs                      (5m)
#   IMAGE     image name prefix; TAG the image tag         (crunch, dev)
#   VULNDB    offline Go vulnerability database, used by
#             make vuln when vuln.go.dev is unreachable      (../shared/vulndb)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

GO        ?= go
PKGS      ?= ./...
ARGS      ?= $(PKGS)
BENCH     ?= .
BENCHTIME ?= 1s
COUNT     ?= 1
FUZZTIME  ?= 10s
SOAK      ?= 5m
IMAGE     ?= crunch
TAG       ?= dev
BENCH_STAMP := $(shell date -u +%Y%m%dT%H%M%SZ)
BENCH_OUT ?= bench/$(BENCH_STAMP).txt

.PHONY: help
help: ## List the targets (the default)
	@echo 'Usage: make <target> [VAR=value ...]   (variables: see the top of the Makefile)'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run API and worker in one process, with an in-memory Redis unless REDIS_URL is set
	$(GO) run ./cmd/crunch dev

.PHONY: test
test: ## Run all tests with -race against a private redis-server (installs it if missing)
	scripts/test.sh -race -count=1 $(ARGS)

.PHONY: bench
bench: ## Measure the job path beside its anchors (own Redis, api, workers); rewrites BENCHMARKS.md's section and docs/img plots
	scripts/test.sh -run '^$$' ./internal/config/ >/dev/null # installs redis-server if missing
	$(GO) run ./cmd/crunchbench

.PHONY: bench-smoke
bench-smoke: ## A few seconds of make bench, to prove it runs (CI); its figures mean nothing
	scripts/test.sh -run '^$$' ./internal/config/ >/dev/null
	$(GO) run ./cmd/crunchbench -short

.PHONY: bench-go
bench-go: ## Run the Go benchmarks against a private redis-server; output to bench/<UTC time>.txt
	@mkdir -p bench
	scripts/test.sh -run '^$$' -bench '$(BENCH)' -benchmem -benchtime '$(BENCHTIME)' -count '$(COUNT)' $(PKGS) | tee '$(BENCH_OUT)'
	@echo "benchmarks written to $(BENCH_OUT)"

.PHONY: soak
soak: ## Run the soak test for SOAK (5m) against a private redis-server; profiles to bench/soak/
	@mkdir -p bench/soak
	CRUNCH_SOAK='$(SOAK)' CRUNCH_SOAK_PROFILE="$$PWD/bench/soak" scripts/test.sh -count=1 -v -run '^TestSoak$$' -timeout 30m ./internal/e2e/

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (10s) each
	FUZZTIME='$(FUZZTIME)' scripts/fuzz.sh $(PKGS)

.PHONY: build
build: ## Build static binaries of api, worker and crunch into bin/
	CGO_ENABLED=0 $(GO) build -o bin/ ./api ./worker ./cmd/crunch

.PHONY: lint
lint: ## Fail on unformatted files (gofmt -l), then go vet
	@dirs=$$($(GO) list -e -f '{{.Dir}}' $(PKGS)); \
	unformatted=$$(gofmt -l $$dirs | sort -u); \
	if [[ -n $$unformatted ]]; then \
		echo 'gofmt -w needed on:'; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet $(PKGS)

.PHONY: tidy
tidy: ## go mod tidy
	$(GO) mod tidy

.PHONY: docker
docker: ## Build the api and worker images from deploy/Dockerfile (pulls golang and distroless)
	docker build -f deploy/Dockerfile --target api -t $(IMAGE)-api:$(TAG) .
	docker build -f deploy/Dockerfile --target worker -t $(IMAGE)-worker:$(TAG) .

.PHONY: docker-scratch
docker-scratch: build ## Build local test images FROM scratch (api, worker, redis) with the binaries of bin/ (pulls nothing)
	CGO_ENABLED=0 $(GO) build -o bin/ ./deploy/healthcheck
	deploy/stage-redis.sh bin
	docker build -f deploy/Dockerfile.scratch --target api -t $(IMAGE)-api:scratch bin
	docker build -f deploy/Dockerfile.scratch --target worker -t $(IMAGE)-worker:scratch bin
	docker build -f deploy/Dockerfile.scratch --target redis -t $(IMAGE)-redis:scratch bin

.PHONY: clean
clean: ## Remove bin/ and test binaries and profiles left in the tree
	rm -rf bin
	find . -path ./.git -prune -o -type f \( -name '*.test' -o -name '*.prof' -o -name 'coverage.out' \) -print -exec rm -f {} +

# govulncheck reads the online Go vulnerability database when it answers, else
# the offline copy VULNDB (a directory in govulncheck's file layout).
GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB      ?= ../shared/vulndb

.PHONY: vuln
vuln: ## Fail if the code calls a known vulnerability (govulncheck; offline copy VULNDB when the online database is unreachable)
	@db=; \
	if ! command -v curl >/dev/null || curl -fsS -m 5 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then \
		echo 'vuln: using the online database https://vuln.go.dev'; \
	elif [[ -f '$(VULNDB)/index/db.json' ]]; then \
		db="file://$$(cd '$(VULNDB)' && pwd)"; \
		echo "vuln: vuln.go.dev is unreachable; using the offline copy $$db"; \
	else \
		echo 'vuln: vuln.go.dev is unreachable and there is no offline copy at VULNDB=$(VULNDB)'; exit 1; \
	fi; \
	status=0; $(GO) run $(GOVULNCHECK) $${db:+-db "$$db"} $(PKGS) || status=$$?; \
	if (( status == 3 )); then echo 'vuln: the code calls a known vulnerability (see above)'; fi; \
	exit $$status

.PHONY: compose-test
compose-test: ## Run docker-compose.yml on the local Docker engine (images FROM scratch) and drill it: scale, kill, Redis restart, partition
	scripts/compose-test.sh
