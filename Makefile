# tokengate: a Traefik v3.6.12 middleware plugin.
#
# `make test` is the test command: native, interpreted (yaegi) and end to end
# through a real Traefik. See scripts/test.sh for the stages.

.PHONY: test test-static test-native test-yaegi test-interp test-e2e test-demo test-compose \
	lint vendor traefik demo bench tools clean

.DEFAULT_GOAL := test

GOLANGCI_LINT ?= $(shell command -v golangci-lint 2>/dev/null || \
	ls $${TOKENGATE_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/tokengate}/bin/golangci-lint 2>/dev/null)

test:
	scripts/test.sh

test-static:
	scripts/test.sh static

test-native:
	scripts/test.sh native

test-yaegi:
	scripts/test.sh yaegi

test-interp:
	scripts/test.sh interp

test-e2e:
	scripts/test.sh e2e

test-demo:
	scripts/test.sh demo

test-compose:
	scripts/test.sh compose

# Not part of `test`. `scripts/install-tools.sh golangci-lint` installs it (~5 min cold).
lint:
	@if [ -z "$(GOLANGCI_LINT)" ]; then \
		echo "golangci-lint is not installed: run scripts/install-tools.sh golangci-lint"; exit 1; fi
	@rc=0; \
	echo "+ golangci-lint run ./..."; $(GOLANGCI_LINT) run ./... || rc=1; \
	echo "+ golangci-lint run --build-tags e2e ./e2e/..."; $(GOLANGCI_LINT) run --build-tags e2e ./e2e/... || rc=1; \
	echo "+ (cd interp && golangci-lint run ./...)"; (cd interp && $(GOLANGCI_LINT) run --config ../.golangci.yml ./...) || rc=1; \
	exit $$rc

vendor:
	go mod tidy
	go mod vendor

traefik:
	scripts/build-traefik.sh

demo:
	scripts/demo.sh

# Benchmarks natively, then the same benchmarks under the interpreter.
BENCH ?= .
bench:
	go test -run '^$$' -bench '$(BENCH)' -benchmem ./...
	scripts/yaegi-test.sh -run '^$$' -bench '$(BENCH)' -benchmem

tools:
	scripts/install-tools.sh yaegi

clean:
	go clean -testcache
	rm -rf bin/ coverage.out cover.out *.test e2e/*.test interp/*.test
