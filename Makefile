# globex: make build | test | demo | bench
GO      ?= go
BIN     ?= bin/globex
SHARED  ?= ../shared

.PHONY: build test demo bench windows fuzz clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/globex

windows:
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -o bin/globex.exe ./cmd/globex

# The whole suite, with the race detector. Needs xmllint (libxml2-utils) and
# sshd (openssh-server): .ci/run installs them.
test:
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m ./...
	CGO_ENABLED=0 GOOS=windows $(GO) build -o /dev/null ./...
	CGO_ENABLED=0 GOOS=windows $(GO) vet ./...

demo: build
	$(BIN) demo globex-demo

bench: build
	./scripts/bench.sh

fuzz:
	./scripts/fuzz.sh 20s

clean:
	rm -rf bin globex-demo
