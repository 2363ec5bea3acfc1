# One-line wrappers; the README documents each target.
CARGO ?= cargo
## The property tests' seed: the same cases on every run (set another to explore).
PROPTEST_RNG_SEED ?= 20261130

.PHONY: run test unit e2e-deps lint fmt-check bench profile soak doc clients scenarios

## run: the mock on its defaults (APNs 127.0.0.1:2197, admin 127.0.0.1:2198, state in ./.mock-apns)
run:
	$(CARGO) run --locked --release -p mock-apns --bin mock-apns

## test: everything CI checks: formatting, clippy, unit and end-to-end tests
test: fmt-check lint unit

## unit: the end-to-end tests (tests/) run the `mock-apns` binary, curl and the client
## libraries, so build the binaries first and make sure those are there; then the bench's
## smoke run (h2load, a few seconds, every request a 2xx, no timing checked)
unit: clients e2e-deps
	$(CARGO) build --locked --workspace --bins
	CALL_PROVIDER_BIN=$(CURDIR)/target/debug/call-provider PROPTEST_RNG_SEED=$(PROPTEST_RNG_SEED) \
		$(CARGO) test --locked --workspace --all-targets
	bash bench/run.sh --smoke

## e2e-deps: curl with HTTP/2, `script` (a terminal for the harness's colour test), OpenSSL's
## headers for the a2 client the tests build, and the headless Chromium + chromedriver the web
## UI's tests drive (Debian's packages when missing; the tests never download a browser)
e2e-deps:
	@curl --version 2>/dev/null | grep -q HTTP2 || \
		(apt-get update && apt-get install -y --no-install-recommends curl ca-certificates)
	@command -v script >/dev/null || \
		(apt-get update && apt-get install -y --no-install-recommends bsdutils)
	@pkg-config --exists openssl 2>/dev/null || \
		(apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev)
	@test -x /usr/bin/chromedriver || \
		(apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver)

## clients: the real APNs client libraries the e2e tests drive, at pinned versions, in
## project-local folders (npm ci, a Python venv); does nothing when they are up to date
NODE_CLIENTS := tests/clients/node
PYTHON_CLIENTS := tests/clients/python
clients: $(NODE_CLIENTS)/node_modules/.installed $(PYTHON_CLIENTS)/.venv/.installed

$(NODE_CLIENTS)/node_modules/.installed: $(NODE_CLIENTS)/package.json $(NODE_CLIENTS)/package-lock.json
	cd $(NODE_CLIENTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(PYTHON_CLIENTS)/.venv/.installed: $(PYTHON_CLIENTS)/requirements.txt
	python3 -m venv $(PYTHON_CLIENTS)/.venv
	$(PYTHON_CLIENTS)/.venv/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	touch $@

lint:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

fmt-check:
	$(CARGO) fmt --all -- --check

doc:
	$(CARGO) doc --locked --workspace --no-deps

## bench: h2load against mock-apns and a bare HTTP/2 baseline (installs nghttp2-client if needed)
bench:
	bash bench/run.sh

## profile: instructions per push under callgrind (SERVER=mock|baseline), steady whatever the load
profile:
	bash bench/profile.sh

## soak: a million pushes with recording on, the mock killed (SIGKILL) and restarted between
## rounds; fails if an acknowledged push is missing from the record file or memory grows
soak:
	bash bench/soak.sh

## scenarios: replay fixtures/scenarios against the reference provider with the CLI (ACCEPT=1 updates the
## snapshots; DENY_LINT=1 also fails on lint findings, which the deliberate-bug scenarios have)
scenarios:
	$(CARGO) build --locked -p harness -p call-provider
	target/debug/apns-harness run fixtures/scenarios --provider-cmd target/debug/call-provider $(if $(ACCEPT),--accept) $(if $(DENY_LINT),--deny-lint)
