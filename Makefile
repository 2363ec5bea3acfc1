# One-line wrappers; the README documents each target.
CARGO ?= cargo

.PHONY: run test unit lint fmt-check bench doc

## run: the mock on its defaults (APNs 127.0.0.1:2197, admin 127.0.0.1:2198, state in ./.mock-apns)
run:
	$(CARGO) run --locked --release -p mock-apns --bin mock-apns

## test: everything CI checks: formatting, clippy, unit and end-to-end tests
test: fmt-check lint unit

unit:
	$(CARGO) test --locked --workspace --all-targets

lint:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

fmt-check:
	$(CARGO) fmt --all -- --check

doc:
	$(CARGO) doc --locked --workspace --no-deps

## bench: h2load against mock-apns and a bare HTTP/2 baseline (installs nghttp2-client if needed)
bench:
	bash bench/run.sh
