#!/usr/bin/env bash
# Reproduces the published API benchmarks on loopback:
#   1. generates a demo database (default 1,000,000 deals) with `salesflow demo`,
#   2. starts `salesflow serve` on it,
#   3. runs `salesflow-load moves` (stage moves/s) and `salesflow-load list` (p99 of filtered,
#      keyset-paginated deal lists under 100 concurrent clients),
#   4. reports the server's peak RSS.
# Usage: scripts/bench.sh [DEALS] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."

DEALS=${1:-1000000}
WORK=${2:-target/bench}
PORT=${BENCH_PORT:-18080}
DURATION=${BENCH_DURATION:-60s}
mkdir -p "$WORK"
DB="$WORK/bench-$DEALS.db"
export DATABASE_URL="sqlite://$DB"

cargo build --release -p salesflow -p salesflow-loadgen
BIN=target/release/salesflow
LOAD=target/release/salesflow-load

if [ ! -f "$DB" ]; then
    echo "--- generating $DEALS deals into $DB"
    /usr/bin/time -v "$BIN" demo --deals "$DEALS" --seed 7 2> "$WORK/demo.time" | tee "$WORK/demo.out"
    grep -E "Elapsed|Maximum resident" "$WORK/demo.time" || true
fi
TOKEN=$("$BIN" token create --email admin@salesflow.example.com --label bench | sed -n 's/.*(shown once): //p')

"$BIN" serve --addr "127.0.0.1:$PORT" --demo-if-empty false > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done

LOAD_ARGS=(--base-url "http://127.0.0.1:$PORT" --token "$TOKEN" --server-pid "$SERVER" --quiet)

echo "--- list: filtered keyset pages, 100 concurrent clients back to back, $DURATION"
{ "$LOAD" "${LOAD_ARGS[@]}" list --clients 100 --duration "$DURATION" || echo "(salesflow-load exited $?)"; } | tee "$WORK/list.out"

echo "--- list: 100 concurrent clients, 50 ms between a client's requests, $DURATION"
{ "$LOAD" "${LOAD_ARGS[@]}" list --clients 100 --think 50ms --duration "$DURATION" || echo "(salesflow-load exited $?)"; } | tee "$WORK/list-think.out"

echo "--- moves: gate check + event append through the API, 16 workers, $DURATION"
{ "$LOAD" "${LOAD_ARGS[@]}" moves --concurrency 16 --fill-gates false --duration "$DURATION" || echo "(salesflow-load exited $?)"; } | tee "$WORK/moves.out"

echo "--- moves: forward only (steps ticked and fields filled untimed before each move), $DURATION"
{ "$LOAD" "${LOAD_ARGS[@]}" moves --concurrency 8 --duration "$DURATION" || echo "(salesflow-load exited $?)"; } | tee "$WORK/moves-fill.out"

echo "--- server peak RSS"
grep -E "VmHWM|VmRSS" "/proc/$SERVER/status"
