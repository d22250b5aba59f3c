# Stopover — `make run` launches the app, `make test` runs every test. Both install what is
# missing first (idempotently): Debian/Ubuntu packages, npm packages, a pinned tauri-driver.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

TAURI_DRIVER_VERSION := 2.1.0
CARGO_HOME ?= $(HOME)/.cargo
TAURI_DRIVER := $(CARGO_HOME)/bin/tauri-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Tauri's build and runtime needs, the headless end-to-end stack, the Secret Service,
# poppler-utils (pdftotext: the PDF export's text is read back as a reader's copy gives it), and
# the headless browser the Secretariat's console is tested in.
APT_PACKAGES := build-essential pkg-config curl file libwebkit2gtk-4.1-dev libxdo-dev libssl-dev \
	libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev xvfb xauth dbus dbus-x11 \
	webkit2gtk-driver gnome-keyring fonts-dejavu-core poppler-utils chromium chromium-driver

# A private session bus (without one every app launch stalls ~25 s), a throwaway unlocked
# gnome-keyring on it (the real Secret Service the app keeps its token in), and Xvfb.
HEADLESS := dbus-run-session -- tools/with-keyring.sh xvfb-run -a -s "-screen 0 1366x768x24"

.PHONY: help run test deps deps-system deps-npm deps-driver ui build lint test-rust test-ui test-e2e \
	package bench clean

help:
	@echo "make run      build and launch Stopover"
	@echo "make test     run every test (lint, Rust, UI, end-to-end under Xvfb)"
	@echo "make package  release build and .deb (target/release/bundle/deb)"
	@echo "make bench    benchmarks recorded in BENCHMARKS.md"

deps: deps-system deps-npm

deps-system:
	@command -v cargo >/dev/null || { echo "Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "Node.js 20+ with npm is required" >&2; exit 1; }
	missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done)
	if [ -n "$$missing" ]; then
		echo "Installing system packages:" $$missing
		$(SUDO) apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing
	fi

# npm ci only when the lock file changed since the last install.
node_modules/.stopover-stamp: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps-npm: node_modules/.stopover-stamp

deps-driver:
	if ! "$(TAURI_DRIVER)" --version 2>/dev/null | grep -q "$(TAURI_DRIVER_VERSION)"; then
		cargo install tauri-driver --version $(TAURI_DRIVER_VERSION) --locked
	fi

ui: deps-npm
	npm run build:ui

# The app embeds ui/dist at compile time, so the UI is built first.
build: deps ui
	cargo build --workspace

run: build
	cargo run -p stopover

# The lint gate: formatting and every clippy warning fail the build (svelte-check is in test-ui).
lint: deps ui
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

test-ui: deps-npm
	npm run check:ui
	npm run test:ui

test-rust: build
	cargo test --workspace

# Tests that need the desktop session: the real keyring, and the real app via tauri-driver.
test-e2e: build deps-driver
	$(HEADLESS) cargo test -p stopover-core keyring_store -- --ignored
	$(HEADLESS) cargo test -p stopover-tests --test e2e_reading --test e2e_damaged --test e2e_sync --test e2e_reports --test e2e_forum \
		--test e2e_report_input --test e2e_attachments --test e2e_account --test e2e_report_disk_full --test e2e_report_dates --test e2e_relay --test single_instance -- --ignored --test-threads=1
	# The Secretariat's console in headless Chromium (no display needed), bounded in time.
	timeout 900 cargo test -p stopover-tests --test e2e_console -- --ignored --test-threads=1

test: lint test-ui test-rust test-e2e
	@echo "make test: all suites passed"

package: deps ui
	npm run tauri -- build --bundles deb
	ls -l target/release/stopover target/release/bundle/deb/*.deb

bench: build
	cargo bench -p stopover-core --bench search
	cargo build --release -p stopover
	$(HEADLESS) tools/bench-startup.sh target/release/stopover
	cargo build --release -p ecommunity
	ECOMMUNITY_BIN=$(CURDIR)/target/release/ecommunity \
		cargo test -p stopover-tests --release --test sync_bench -- --ignored --nocapture
	tests/scripts/workshop-burst.sh
	cargo bench -p stopover-forms --bench evaluate
	cargo bench -p stopover-core --bench report_save
	cargo bench -p stopover-core --bench report_export
	cargo bench -p stopover-core --bench forum
	ECOMMUNITY_BIN=$(CURDIR)/target/release/ecommunity \
		cargo test -p stopover-tests --release --test forum_bench -- --ignored --nocapture
	ECOMMUNITY_BIN=$(CURDIR)/target/release/ecommunity \
		cargo test -p stopover-tests --release --test server_hardening_bench -- --ignored --nocapture

clean:
	cargo clean
	rm -rf ui/dist node_modules
