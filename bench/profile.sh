#!/usr/bin/env bash
# `make profile`: counts the instructions mock-apns (or apns-baseline) spends per push under
# callgrind, on the release build, with the same requests as `make bench` (16 connections x
# 100 streams, one reused provider token, 1 KiB VoIP payload). Instruction counts do not move
# with the machine's load, so they compare a change before and after on a busy machine.
#
# The server starts under valgrind with a small --max-records so the in-memory record fills up
# during the warm-up and every measured push also evicts one; counters are zeroed after the
# warm-up (callgrind_control -z), so start-up and first-touch costs are left out.
#
# Knobs (environment): SERVER (mock|baseline), REQUESTS, WARMUP, MAX_RECORDS.
# Output: bench/out/profile/callgrind.out.<server> and the top inclusive costs
# (callgrind_annotate) in bench/out/profile/<server>.txt, plus Ir per push on stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/out/profile
STATE=$ROOT/bench/out/state
BIN=$ROOT/target/release
SERVER=${SERVER:-mock}
REQUESTS=${REQUESTS:-20000}
WARMUP=${WARMUP:-12000}
MAX_RECORDS=${MAX_RECORDS:-5000}
READY_TIMEOUT=120
DEVICE=a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90
TOPIC=com.example.app.voip
PAYLOAD=$OUT/payload.json

NAME=profile
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

ensure valgrind valgrind
ensure h2load nghttp2-client
mkdir -p "$OUT"
rm -f "$OUT/callgrind.out.$SERVER"* "$OUT/$SERVER.stderr"
(cd "$ROOT" && "${CARGO:-cargo}" build --locked --release -q -p mock-apns -p apns-baseline)
write_payload "$PAYLOAD" 1024

callgrind=(valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$SERVER")
case $SERVER in
    mock)
        start_mock_apns "${callgrind[@]}" -- --state-dir "$STATE" --log warn \
            --max-records "$MAX_RECORDS"
        PID=$MOCK_PID
        port=$MOCK_PORT
        ;;
    baseline)
        start_server baseline '^127\.0\.0\.1:([0-9]+)$' \
            "${callgrind[@]}" "$BIN/apns-baseline" --listen 127.0.0.1:0 --state-dir "$STATE"
        PID=$STARTED_PID
        port=${BASH_REMATCH[1]}
        ;;
    *) die "SERVER is mock or baseline" ;;
esac

token=$("$BIN/bench-token" "$STATE")
run() {
    h2load --threads 1 --clients 16 --max-concurrent-streams 100 --requests "$1" \
        --data "$PAYLOAD" --header "authorization: bearer $token" \
        --header "apns-push-type: voip" --header "apns-topic: $TOPIC" \
        --header "apns-priority: 10" --header "apns-expiration: 0" \
        "https://localhost:$port/3/device/$DEVICE" |
        grep -E '^(requests|status codes):'
}
run "$WARMUP" >/dev/null
callgrind_control -z "$PID" >/dev/null
summary=$(run "$REQUESTS")
printf '%s\n' "$summary"
ok=$(awk '/^status codes:/ {print $3}' <<<"$summary")
callgrind_control -d "$PID" >/dev/null
kill "$PID"
wait "$PID" 2>/dev/null || true
forget "$PID"
# The dump requested after the run (part 1) holds only the measured run; the file written at
# exit holds the shutdown.
dump=$OUT/callgrind.out.$SERVER.1
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
{
    printf '%s: %s Ir over %s answered pushes: %s Ir per push\n' "$SERVER" "$total" "$ok" \
        "$((total / ok))"
    callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | sed -n 1,80p
} >"$OUT/$SERVER.txt"
head -n1 "$OUT/$SERVER.txt"
