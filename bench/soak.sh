#!/usr/bin/env bash
# make soak: a million pushes with recording on, in rounds; at the end of each round the mock
# is killed with SIGKILL while pushes are in flight, then started again on the same record file
# and state directory. Checks that no acknowledged push (answered 200) is missing from the
# record file, and that the mock's memory stays flat within a round once --max-records is
# reached. Prints its figures and keeps them in bench/out/soak/results.txt.
#
# Loads go to the mock on loopback only and are bounded: the client stops after 2x a round's
# pushes whatever happens, and every wait has a timeout. Knobs: PUSHES, ROUNDS, MAX_RECORDS,
# CONNECTIONS, STREAMS (environment).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/out/soak
STATE=$OUT/state
RECORD=$OUT/pushes.jsonl
MEMORY=$OUT/memory.tsv
RESULTS=$OUT/results.txt
CARGO=${CARGO:-cargo}
BIN=$ROOT/target/release

PUSHES=${PUSHES:-1000000}
ROUNDS=${ROUNDS:-10}
MAX_RECORDS=${MAX_RECORDS:-20000}
CONNECTIONS=${CONNECTIONS:-4}
STREAMS=${STREAMS:-50}
PER_ROUND=$((PUSHES / ROUNDS))
# Bound failures (a server that never prints its banner, a client that stops reporting); they
# never synchronise anything.
READY_TIMEOUT=60
LINE_TIMEOUT=120
# Memory is flat when RSS at a round's end is within this of RSS once 3 x MAX_RECORDS pushes
# were acknowledged (the record is full by then): 10% or 8 MiB, whichever is larger.
FLAT_PERCENT=10
FLAT_KIB=8192

MOCK_PID= MOCK_PORT= CLIENT_PID=

NAME=soak
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

build() {
    log "building release binaries"
    (cd "$ROOT" && "$CARGO" build --locked --release -q -p mock-apns -p apns-baseline -p apns-soak)
}

# One round: start the mock, push until PER_ROUND pushes are acknowledged (sampling the mock's
# RSS every 10 000), kill the mock with SIGKILL with pushes in flight, let the client finish.
round() {
    local round=$1 fifo=$OUT/client.fifo line fd acked killed=0
    MOCK_STATUS=0
    # On free loopback ports, with the record file; sets MOCK_PID and MOCK_PORT (lib.sh).
    start_mock_apns -- --state-dir "$STATE" --record "$RECORD" --max-records "$MAX_RECORDS" \
        --log warn
    local token_file=$OUT/token
    [[ -s $token_file ]] || "$BIN/bench-token" "$STATE" >"$token_file"
    rm -f "$fifo"
    mkfifo "$fifo"
    "$BIN/apns-soak" push --addr "127.0.0.1:$MOCK_PORT" --ca "$STATE/ca.pem" \
        --token-file "$token_file" --acked "$OUT/acked-$round.txt" --id-prefix "$round" \
        --connections "$CONNECTIONS" --streams "$STREAMS" --max $((2 * PER_ROUND)) \
        >"$fifo" 2>>"$OUT/client.stderr" &
    CLIENT_PID=$!
    PIDS+=("$CLIENT_PID")
    exec {fd}<"$fifo"
    rm -f "$fifo"
    while IFS= read -r -t "$LINE_TIMEOUT" -u "$fd" line; do
        case $line in
            "acked "*)
                acked=${line#acked }
                if ((!killed)); then
                    printf '%s\t%s\t%s\n' "$round" "$acked" "$(rss_kib "$MOCK_PID")" >>"$MEMORY"
                    if ((acked >= PER_ROUND)); then
                        kill -KILL "$MOCK_PID"
                        killed=1
                        # Reaped at once, inside braces, so bash's "Killed" notice stays out of
                        # the output: the kill was ours.
                        { wait "$MOCK_PID"; } 2>/dev/null || MOCK_STATUS=$?
                    fi
                fi
                ;;
            "done "*)
                ((killed)) || die "round $round: the client stopped before the kill: $line"
                ROUND_ACKED=$(awk '{print $2}' <<<"$line")
                log "round $round: $line"
                break
                ;;
        esac
    done
    exec {fd}<&-
    [[ -n ${ROUND_ACKED:-} ]] || die "round $round: the client did not finish within ${LINE_TIMEOUT}s"
    wait "$CLIENT_PID" || die "round $round: the client failed; see $OUT/client.stderr"
    forget "$CLIENT_PID"
    ((MOCK_STATUS == 137)) || die "round $round: the mock exited with $MOCK_STATUS, not by SIGKILL"
    forget "$MOCK_PID"
}

# Per round: RSS once 3 x MAX_RECORDS pushes were acknowledged, and at the last sample.
memory_report() {
    local settled=$((3 * MAX_RECORDS))
    awk -F'\t' -v settled="$settled" -v pct="$FLAT_PERCENT" -v slack="$FLAT_KIB" '
        $2 >= settled && !($1 in base) { base[$1] = $3; at[$1] = $2 }
        { last[$1] = $3; lastat[$1] = $2; if ($3 > peak) peak = $3 }
        END {
            flat = 1; worst = 0
            for (r in base) {
                growth = last[r] - base[r]
                allowed = base[r] * pct / 100; if (allowed < slack) allowed = slack
                if (growth > allowed) flat = 0
                if (growth > worst) worst = growth
                n++
            }
            printf "memory: RSS settles once the record holds --max-records; growth from %d acknowledged pushes to the round end, worst of %d rounds: %+d KiB (allowed: %d%% or %d KiB); peak RSS %d MiB: %s\n",
                settled, n, worst, pct, slack, peak / 1024, (n > 0 && flat) ? "flat" : "NOT FLAT"
            exit !(n > 0 && flat)
        }' "$MEMORY"
}

main() {
    ((PER_ROUND >= 4 * MAX_RECORDS)) || die "PUSHES / ROUNDS must be at least 4 x MAX_RECORDS to see memory settle"
    build
    rm -rf "$OUT"
    mkdir -p "$OUT"
    : >"$MEMORY"
    local start total=0 round
    start=$(date +%s)
    for ((round = 1; round <= ROUNDS; round++)); do
        ROUND_ACKED=
        round "$round"
        total=$((total + ROUND_ACKED))
    done
    local elapsed=$(($(date +%s) - start))
    local check status=0
    check=$("$BIN/apns-soak" check --record "$RECORD" --acked "$OUT"/acked-*.txt) || status=$?
    local memory flat=0
    memory=$(memory_report) || flat=$?
    {
        printf 'mock-apns soak (%s, %s cores)\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)"
        printf '%d rounds, each ended by SIGKILL with pushes in flight; %d pushes acknowledged in %d s (%d/s, restarts included)\n' \
            "$ROUNDS" "$total" "$elapsed" $((total / (elapsed > 0 ? elapsed : 1)))
        printf 'client: %d connections x %d streams; mock: --record, --max-records %d\n' \
            "$CONNECTIONS" "$STREAMS" "$MAX_RECORDS"
        printf '%s\n' "$check"
        printf '%s\n' "$memory"
    } | tee "$RESULTS"
    ((status == 0)) || die "acknowledged pushes are missing from the record file"
    ((flat == 0)) || die "memory grew within a round"
}

main "$@"
