#!/usr/bin/env bash
# Cold start and idle memory of the real Stopover app, as BENCHMARKS.md reports them.
#
#   dbus-run-session -- xvfb-run -a -s "-screen 0 1366x768x24" tools/bench-startup.sh [BINARY]
#
# (`make bench` does exactly that.) For each run: a new process, timed from just before exec
# to the moment the UI reports the home view rendered (the `ui_ready` command writes a unix
# timestamp to $STOPOVER_READY_FILE). "first" runs use an empty data folder (database created,
# content pack imported); "warm" runs reuse it. Memory: proportional set size (PSS) of the app
# and all its WebKit child processes, summed, after 5 s idle on the home view.
set -euo pipefail
BIN=${1:-target/release/stopover}
[ -x "$BIN" ] || BIN=target/debug/stopover
RUNS=${RUNS:-10}

now_ms() { date +%s%3N; }

descendants() { # pid and all its descendants
  local p=$1; echo "$p"
  for c in $(ps -o pid= --ppid "$p"); do descendants "$c"; done
}

pss_kib() {
  local total=0
  for p in $(descendants "$1"); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

run_once() { # data_dir → prints "startup_ms pss_kib"
  local data=$1 ready=$1/ready measure_mem=$2
  rm -f "$ready"
  local t0; t0=$(now_ms)
  STOPOVER_DATA_DIR="$data" STOPOVER_READY_FILE="$ready" RUST_LOG=warn "$BIN" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 300); do [ -s "$ready" ] && break; sleep 0.05; done
  [ -s "$ready" ] || { echo "app did not report ready" >&2; kill "$pid"; exit 1; }
  local t1; t1=$(awk '{print $2}' "$ready")
  local mem=0
  if [ "$measure_mem" = 1 ]; then sleep 5; mem=$(pss_kib "$pid"); fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$((t1 - t0)) $mem"
}

stats() { sort -n | awk '{a[NR]=$1} END {printf "p50 %d ms, min %d ms, max %d ms (n=%d)\n", a[int((NR+1)/2)], a[1], a[NR], NR}'; }

echo "binary: $BIN ($(du -h "$BIN" | cut -f1))"
first=(); warm=(); mem=()
for i in $(seq "$RUNS"); do
  d=$(mktemp -d)
  read -r ms _ < <(run_once "$d" 0); first+=("$ms")
  read -r ms kib < <(run_once "$d" $([ "$i" -le 3 ] && echo 1 || echo 0)); warm+=("$ms")
  [ "$kib" != 0 ] && mem+=("$kib")
  rm -rf "$d"
done
echo "cold start, first launch (new database + pack import): $(printf '%s\n' "${first[@]}" | stats)"
echo "cold start, later launches:                            $(printf '%s\n' "${warm[@]}" | stats)"
echo "idle memory (PSS, app + WebKit processes): $(printf '%s\n' "${mem[@]}" | awk '{s+=$1; if ($1>m) m=$1} END {printf "mean %.0f MiB, max %.0f MiB (n=%d)", s/NR/1024, m/1024, NR}')"
