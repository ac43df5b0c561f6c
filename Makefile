# tokengate: a Traefik v3.6.12 middleware plugin.
#
# `make test` is the test command: native, interpreted (yaegi) and end to end
# through a real Traefik. See scripts/test.sh for the stages.

.PHONY: test test-static test-native test-yaegi test-interp test-e2e test-demo test-compose \
	lint vendor traefik demo bench tools clean

.DEFAULT_GOAL := test

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

lint:
	scripts/test.sh lint

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
