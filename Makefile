# invitegw: `make test` runs every check CI runs; `make run` starts the demo.
GO ?= go

.PHONY: test vet fmt-check generate-check run e2e fuzz bench build image image-check graphiql-assets graphiql-check helm-tool helm-check

test: fmt-check vet generate-check graphiql-check
	$(GO) test -race -count=1 ./...
	# The gateway's whole test table again, against Frontier's Connect API.
	$(GO) test -race -count=1 ./gateway -frontier-protocol=connect
	# Benchmarks run once each, only to prove they still work (no timing thresholds).
	$(GO) test -run '^$$' -bench . -benchtime=1x ./...
	# Fuzzing by execution count, not wall time: with a duration, Go 1.26's fuzz coordinator can
	# fail a target with "context deadline exceeded" as -fuzztime expires on a busy machine
	# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
	FUZZTIME=$(CI_FUZZTIME) scripts/fuzz
	$(MAKE) e2e
	$(MAKE) image-check
	$(MAKE) helm-check

# Every fuzz target (IDs, cursors, each upstream's JSON decoding) for FUZZTIME each: a duration
# (30s) or an execution count (5000x). Durations can hit the Go 1.26 flake described above.
CI_FUZZTIME ?= 5000x
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz

# Federation and GraphQL-over-HTTP proof with real Node tools (see e2e/run.mjs).
e2e: e2e/node_modules
	$(GO) build -o e2e/.bin/invitegw .
	cd e2e && node run.mjs

# Install scripts stay off: some federation packages try to download binaries.
e2e/node_modules: e2e/package.json e2e/package-lock.json
	cd e2e && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Fails when graph/ (or a resolver stub) is not what the generator makes from schema.graphqls
# and gqlgen.yml (about 15 s). It compares the working tree before and after generating, so
# uncommitted work elsewhere in resolvers/ does not fail it; what generating changed stays in
# the tree to be looked at.
generate-check:
	@state() { git diff -- graph/ resolvers/ | git hash-object --stdin; git ls-files --others --exclude-standard -- graph/ resolvers/; }; \
	before=$$(state); \
	$(GO) run github.com/99designs/gqlgen generate || exit 1; \
	if [ "$$(state)" != "$$before" ]; then \
		echo "graph/ or resolvers/ differs from what gqlgen generates (run: go run github.com/99designs/gqlgen generate):"; \
		git status --short -- graph/ resolvers/; exit 1; \
	fi

run:
	$(GO) run . -demo

# Performance against a baseline and the issue 6 targets, at 600 to 60,000 invitations, after
# expiry and with replicas, on this machine, in one run (about 5 minutes): writes
# bench/RESULTS.md, fails on any wrong response. Not part of `make test`.
# BENCHFLAGS='-soak 2m' adds the memory-flatness run; `go run ./bench -h` lists the flags.
BENCHFLAGS ?=
bench:
	$(GO) run ./bench $(BENCHFLAGS)

# A release build: static (CGO_ENABLED=0), without local paths (-trimpath), stamped with
# VERSION, next to the CA certificates the image needs. The image and the binary are the same
# bytes (see image-check).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
build:
	mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -ldflags "-s -w -X main.stampedVersion=$(VERSION)" -o bin/invitegw .
	cp $(CA_BUNDLE) bin/ca-certificates.crt

# The container image, built offline with podman from what build left in bin/.
IMAGE ?= localhost/invitegw:$(VERSION)
image: build
	podman build --quiet --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(IMAGE) -f Containerfile bin/

# Builds the image and proves it: non-root, port 8080, labelled, and the binary copied out
# of it is static and answers a query with -demo.
image-check: image
	IMAGE=$(IMAGE) VERSION=$(VERSION) REVISION=$(REVISION) scripts/image-check

# GraphiQL's assets come from the npm packages pinned in graphiql/package.json (and its lock):
# this copies them, with their licenses, into graphiql/assets/vendor, which the binary embeds
# and which is committed (a fresh clone builds without npm). graphiql-check (in make test)
# fails when the committed files are not what the pinned packages hold.
GRAPHIQL_VENDOR = graphiql/assets/vendor
graphiql-assets: graphiql/node_modules
	cp graphiql/node_modules/react/umd/react.production.min.js \
	   graphiql/node_modules/react-dom/umd/react-dom.production.min.js \
	   graphiql/node_modules/graphiql/graphiql.min.js \
	   graphiql/node_modules/graphiql/graphiql.min.css $(GRAPHIQL_VENDOR)/
	cp graphiql/node_modules/react/LICENSE $(GRAPHIQL_VENDOR)/LICENSE.react
	cp graphiql/node_modules/graphiql/LICENSE $(GRAPHIQL_VENDOR)/LICENSE.graphiql

graphiql/node_modules: graphiql/package.json graphiql/package-lock.json
	cd graphiql && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

graphiql-check: graphiql-assets
	git diff --exit-code -- $(GRAPHIQL_VENDOR)
	@test -z "$$(git ls-files --others --exclude-standard -- $(GRAPHIQL_VENDOR))" || { echo "untracked files in $(GRAPHIQL_VENDOR)"; exit 1; }

# The Helm chart (deploy/helm/invitegw): lint it strictly, as installed by default and with every
# optional object on, then check what it renders (deploy/helm's tests, behind the helm tag so
# that ./... above never builds helm beside other tests). helm is built by the go command from
# the module proxy: the first run builds it (about 7 minutes on 2 busy cores), later ones take it
# from the build cache (about 10 s in all). deploy/helm/helm_test.go runs the same version.
HELM ?= $(GO) run helm.sh/helm/v3/cmd/helm@v3.22.0
HELM_OPTIONAL = --set autoscaling.enabled=true,podDisruptionBudget.enabled=true,serviceMonitor.enabled=true \
	--set credentials.existingSecret=invitegw-credentials,redis.url=redis://redis:6379/0
# Builds (or finds in the build cache) the pinned helm and prints its version: .ci/run calls
# it as its install step for helm, which comes from the Go module proxy, not from apt.
helm-tool:
	$(HELM) version --short

helm-check: helm-tool
	$(HELM) lint --strict deploy/helm/invitegw
	$(HELM) lint --strict deploy/helm/invitegw $(HELM_OPTIONAL)
	$(GO) vet -tags helm ./deploy/helm
	$(GO) test -tags helm -count=1 ./deploy/helm
