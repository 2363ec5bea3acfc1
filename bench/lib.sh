# Shared by the scripts in bench/ (sourced, not run): messages, the processes a script starts
# (killed on exit), readiness read from a server's own output, the bench's payload, and the
# Debian tools they install. Set NAME (the messages' prefix), OUT, READY_TIMEOUT and BIN (the
# folder of the built binaries) first.

PIDS=() # every process the script started, killed by id on exit

die() {
    echo "$NAME: $*" >&2
    exit 1
}

log() {
    echo "$NAME: $*" >&2
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

# forget PID: a process that has ended. Cleanup must never signal a process that later reuses
# its id.
forget() {
    local pid kept=()
    for pid in "${PIDS[@]}"; do
        [[ $pid == "$1" ]] || kept+=("$pid")
    done
    PIDS=("${kept[@]}")
}

# ensure COMMAND PACKAGE: installs the Debian PACKAGE with apt-get when COMMAND is missing
# (CI and fresh machines run as root).
ensure() {
    command -v "$1" >/dev/null && return
    [[ $(id -u) -eq 0 ]] || die "$1 is missing: install $2 (needs root)"
    log "installing $2 ($1)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

rss_kib() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# write_payload FILE SIZE: a JSON VoIP payload as a careful provider sends it (a call id, an
# empty aps: lint finds nothing in it), padded to exactly SIZE bytes.
write_payload() {
    local file=$1 size=$2
    local head='{"aps":{},"call_id":"c0ffee00-1234-4567-89ab-0123456789ab","caller":"Alice Example","pad":"'
    local tail='"}'
    local pad=$((size - ${#head} - ${#tail}))
    { printf '%s' "$head"; head -c "$pad" /dev/zero | tr '\0' x; printf '%s' "$tail"; } >"$file"
    [[ $(wc -c <"$file") -eq $size ]] || die "payload is not $size bytes"
}

# start_server NAME PATTERN CMD...: runs CMD in the background with its stdout on a FIFO, and
# reads that FIFO line by line until a line matches PATTERN (BASH_REMATCH then holds its
# groups). Reading blocks on the server's own output, so readiness is an event, not a guess.
# Sets STARTED_PID; the stdout is kept in $OUT/NAME.stdout (later lines are drained there too,
# so a full pipe never blocks the server), and stderr is added to $OUT/NAME.stderr.
start_server() {
    local name=$1 pattern=$2
    shift 2
    local fifo=$OUT/$name.fifo stdout=$OUT/$name.stdout line fd
    rm -f "$fifo"
    mkfifo "$fifo"
    "$@" >"$fifo" 2>>"$OUT/$name.stderr" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    exec {fd}<"$fifo"
    rm -f "$fifo"
    : >"$stdout"
    while IFS= read -r -t "$READY_TIMEOUT" -u "$fd" line; do
        printf '%s\n' "$line" >>"$stdout"
        if [[ $line =~ $pattern ]]; then
            cat <&"$fd" >>"$stdout" &
            exec {fd}<&-
            return 0
        fi
    done
    die "$name printed no line matching /$pattern/ within ${READY_TIMEOUT}s; see $OUT/$name.stderr"
}

# start_mock_apns [PREFIX...] -- ARGS...: runs $BIN/mock-apns ARGS on free loopback ports (its
# --listen and --admin-listen are given here), under PREFIX if any (e.g. valgrind and its
# options), with start_server (name "mock"). Ready once the banner's last line is printed: the
# mock prints its banner after both listeners are bound and its state folder (CA, dev key) is
# written, so connections made from then on wait in the listen queue until it serves them.
# Sets MOCK_PID, MOCK_PORT (the APNs endpoint's), MOCK_URL (https://localhost:MOCK_PORT, the
# name its certificate holds) and MOCK_ADMIN (http://127.0.0.1:PORT, without /api/v1).
# shellcheck disable=SC2034 # the MOCK_ variables are read by the scripts that source this
start_mock_apns() {
    local prefix=()
    while (($#)) && [[ $1 != -- ]]; do
        prefix+=("$1")
        shift
    done
    (($#)) || die "start_mock_apns: no -- before the mock's arguments"
    shift
    start_server mock '^Then see it: curl -s (http://[^ ]+)/api/v1/pushes$' \
        "${prefix[@]}" "$BIN/mock-apns" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 "$@"
    MOCK_PID=$STARTED_PID
    MOCK_ADMIN=${BASH_REMATCH[1]}
    # The banner's earlier lines are in the stdout file by now (start_server writes each line
    # there before it matches the pattern).
    MOCK_PORT=$(sed -nE 's|^ +APNs endpoint +https://localhost:([0-9]+) .*|\1|p' "$OUT/mock.stdout")
    [[ $MOCK_PORT =~ ^[0-9]+$ ]] || die "no APNs endpoint in the mock's banner ($OUT/mock.stdout)"
    MOCK_URL=https://localhost:$MOCK_PORT
}
