#!/usr/bin/env bash
# The workshop burst (BENCHMARKS.md): 300 clients syncing at once against one ecommunity
# server built in release mode. Tune with STOPOVER_LOAD_CLIENTS, STOPOVER_LOAD_INFLIGHT,
# STOPOVER_LOAD_ACCOUNTS, STOPOVER_LOAD_ROUNDS, STOPOVER_LOAD_OPS. Prints one `LOAD ...` line.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p ecommunity
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
export ECOMMUNITY_BIN="$target_dir/release/ecommunity"
cargo test --release -p stopover-tests --test server_load -- --ignored --nocapture workshop_burst 2>&1 | grep -E '^LOAD|test result|panicked|load:'
