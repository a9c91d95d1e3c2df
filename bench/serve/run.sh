#!/usr/bin/env bash
# Load run for `healthscore serve`: wrk POSTs a 1-row and a 100-row batch to /v1/score at a few
# connection counts and reports requests/s and p50/p90/p99 latency.  Run by hand only.
#
#   bench/serve/run.sh [--duration SECONDS] [--connections "4 32"] [--threads N] [--rows "1 100"] [--pin]
#                      [--reload-every SECONDS] [--token]
#
# --pin: the service on CPU 0 and wrk on CPU 1 (taskset), so they do not preempt each other.
# --reload-every S: during each load line, swap the model file between two models every S seconds
#   (atomic rename) and send SIGHUP between swaps; the table counts the reloads the service logged.
# --token: start the service with --token-file and send the bearer token with every request.
# Environment: HEALTHSCORE_BIN=/path/to/healthscore skips the release build.
# Writes bench/serve/results/<UTC date-time>.txt.  See bench/serve/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

DURATION=15
CONNECTIONS="4 32"
THREADS=2
ROWS="1 100"
PIN=0
RELOAD_EVERY=""
TOKEN=0

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --rows) ROWS="$2"; shift 2 ;;
        --pin) PIN=1; shift ;;
        --reload-every) RELOAD_EVERY="$2"; shift 2 ;;
        --token) TOKEN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

say() { printf '[bench/serve] %s\n' "$*" >&2; }

# 1. wrk (Debian package) and python3 (to write the request bodies).
if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y wrk || { $SUDO apt-get update && $SUDO apt-get install -y wrk; }
fi
command -v python3 >/dev/null 2>&1 || { say "python3 is needed to write the request bodies"; exit 1; }

# 2. A release build in its own scratch path (retried: sources edited mid-build fail the build).
BIN="${HEALTHSCORE_BIN:-}"
if [ -z "$BIN" ]; then
    SCRATCH="$ROOT/.build-serve"
    BIN="$SCRATCH/release/healthscore"
    LOG="$(mktemp -t healthscore-serve-build.XXXXXX.log)"
    for attempt in 1 2 3 4; do
        say "building healthscore (release, $SCRATCH), attempt $attempt; log in $LOG"
        if (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product healthscore && swift build -c release --scratch-path "$SCRATCH" --product healthscore-serve) > "$LOG" 2>&1; then
            break
        fi
        tail -n 15 "$LOG" >&2
        [ "$attempt" -eq 4 ] && { say "swift build failed"; exit 1; }
        sleep 30
    done
fi
[ -x "$BIN" ] || { say "no healthscore executable at $BIN"; exit 1; }

# 3. A model fitted on mlc_churn, and the request bodies (the first N rows, churn left out).
WORK="$(mktemp -d -t healthscore-serve-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

say "fitting a model on datasets/mlc_churn.csv"
"$BIN" fit "$ROOT/datasets/mlc_churn.csv" --target churn --out "$WORK/model.json" > "$WORK/fit.txt" 2>&1 \
    || { cat "$WORK/fit.txt" >&2; exit 1; }
cp "$WORK/model.json" "$WORK/modelA.json"
if [ -n "$RELOAD_EVERY" ]; then
    # A second, different model with the same inputs: the same data fitted with ridge.
    "$BIN" fit "$ROOT/datasets/mlc_churn.csv" --target churn --penalty l2 --lambda 0.01 --out "$WORK/modelB.json" \
        > "$WORK/fitB.txt" 2>&1 || { cat "$WORK/fitB.txt" >&2; exit 1; }
fi
AUTH=()
if [ "$TOKEN" -eq 1 ]; then
    python3 -c 'import secrets; print(secrets.token_hex(32))' > "$WORK/token"
    AUTH=(--token-file "$WORK/token")
    export BEARER_TOKEN="$(cat "$WORK/token")"
fi
CURL_AUTH=()
[ "$TOKEN" -eq 1 ] && CURL_AUTH=(-H "Authorization: Bearer $BEARER_TOKEN")

for n in $ROWS; do
    python3 - "$ROOT/datasets/mlc_churn.csv" "$n" > "$WORK/rows$n.json" <<'PY'
import csv, json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, newline="") as f:
    reader = csv.reader(f, quoting=csv.QUOTE_NONNUMERIC)  # unquoted cells → floats, quoted → text
    header = next(reader)
    rows = []
    for cells in reader:
        row = {}
        for name, cell in zip(header, cells):
            if name == "churn":
                continue
            row[name] = int(cell) if isinstance(cell, float) and cell.is_integer() else cell
        rows.append(row)
        if len(rows) == n:
            break
json.dump({"rows": rows}, sys.stdout, separators=(",", ":"))
PY
done

# 4. The service on a free port; its first stdout line names the address.
SERVER_CPU=(); WRK_CPU=()
if [ "$PIN" -eq 1 ]; then
    [ "$(nproc)" -ge 2 ] || { say "--pin needs at least 2 cores"; exit 1; }
    SERVER_CPU=(taskset -c 0); WRK_CPU=(taskset -c 1); THREADS=1
fi
"${SERVER_CPU[@]}" "$BIN" serve --model "$WORK/model.json" --host 127.0.0.1 --port 0 "${AUTH[@]}" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 300); do
    grep -q '^listening on ' "$WORK/serve.out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; say "serve exited"; exit 1; }
    sleep 0.1
done
URL="$(sed -n 's/^listening on //p' "$WORK/serve.out" | head -n 1)"
[ -n "$URL" ] || { cat "$WORK/serve.err" >&2; say "serve never printed its address"; exit 1; }
say "serving at $URL (pid $SERVER_PID)"
CHECKSUM="$(curl -fsS "$URL/healthz" | sed 's/^ok //')"
for n in $ROWS; do
    code="$(curl -s -o "$WORK/check$n.json" -w '%{http_code}' "${CURL_AUTH[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/rows$n.json" "$URL/v1/score")"
    [ "$code" = 200 ] || { cat "$WORK/check$n.json" >&2; say "the $n-row body was refused ($code)"; exit 1; }
done

# 5. wrk: a short warm-up, then DURATION seconds per (rows, connections).
mkdir -p "$HERE/results"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$HERE/results/$STAMP.txt"
TMP="$OUT.tmp"
{
    echo "# healthscore serve load run, $STAMP"
    echo "# commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "# machine: $(nproc) cores, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# binary: $BIN"
    echo "# model: $CHECKSUM (mlc_churn, 19 metrics, fitted by this run)"
    if [ "$PIN" -eq 1 ]; then
        echo "# wrk: $THREADS thread, ${DURATION}s per line, keep-alive; pinned: service on CPU 0, wrk on CPU 1"
    else
        echo "# wrk: $THREADS threads, ${DURATION}s per line, keep-alive; service and wrk share all cores (not pinned)"
    fi
    echo "# body bytes: $(for n in $ROWS; do printf '%s rows = %s  ' "$n" "$(wc -c < "$WORK/rows$n.json")"; done)"
    echo
    [ -n "$RELOAD_EVERY" ] && echo "# reloads: the model file swapped between two models every ${RELOAD_EVERY}s (atomic rename), SIGHUP between swaps"
    [ "$TOKEN" -eq 1 ] && echo "# bearer token required and sent (--token-file)"
    printf '%-6s %-6s %10s %10s %10s %10s %10s %8s %8s %8s\n' rows conns "req/s" "rows/s" "p50 ms" "p90 ms" "p99 ms" non200 errors reloads
} > "$TMP"

# Swaps the served file between the two models (and pokes SIGHUP halfway) until killed.
reloader() {
    local next=B
    while true; do
        sleep "$RELOAD_EVERY"
        cp "$WORK/model$next.json" "$WORK/.model.next" && mv -f "$WORK/.model.next" "$WORK/model.json"
        [ "$next" = B ] && next=A || next=B
        sleep "$RELOAD_EVERY"
        kill -HUP "$SERVER_PID" 2>/dev/null || true
    done
}
reloads() { grep -c 'now serving' "$WORK/serve.err" 2>/dev/null || true; }

for n in $ROWS; do
    BODY_FILE="$WORK/rows$n.json" "${WRK_CPU[@]}" wrk -t "$THREADS" -c 4 -d 2s -s "$HERE/post.lua" "$URL" > /dev/null 2>&1 || true
    for c in $CONNECTIONS; do
        t=$(( THREADS < c ? THREADS : c ))
        say "rows=$n connections=$c for ${DURATION}s"
        before="$(reloads)"
        RELOADER_PID=""
        if [ -n "$RELOAD_EVERY" ]; then reloader & RELOADER_PID=$!; fi
        raw="$(BODY_FILE="$WORK/rows$n.json" "${WRK_CPU[@]}" wrk -t "$t" -c "$c" -d "${DURATION}s" --latency -s "$HERE/post.lua" "$URL" 2>&1)"
        if [ -n "$RELOADER_PID" ]; then kill "$RELOADER_PID" 2>/dev/null || true; wait "$RELOADER_PID" 2>/dev/null || true; fi
        sleep 0.2
        swapped=$(( $(reloads) - before ))
        echo "$raw" >> "$WORK/wrk.txt"
        line="$(echo "$raw" | grep '^RESULT ' | tail -n 1)"
        [ -n "$line" ] || { echo "$raw" >&2; say "wrk printed no RESULT line"; exit 1; }
        get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        rps="$(get rps)"
        printf '%-6s %-6s %10s %10.0f %10s %10s %10s %8s %8s %8s\n' "$n" "$c" "$rps" "$(awk -v a="$rps" -v b="$n" 'BEGIN { print a * b }')" \
            "$(get p50_ms)" "$(get p90_ms)" "$(get p99_ms)" "$(get non200)" "$(get socket_errors)" "$swapped" >> "$TMP"
    done
done

{
    echo
    echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# server stderr:"
    sed 's/^/#   /' "$WORK/serve.err"
    echo
    echo "# raw wrk output"
    sed 's/^/#   /' "$WORK/wrk.txt"
} >> "$TMP"
mv "$TMP" "$OUT"
cat "$OUT" | sed -n '1,/^# load average at end/p'
say "results in ${OUT#$ROOT/}"
