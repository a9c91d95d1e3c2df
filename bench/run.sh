#!/usr/bin/env bash
# healthscore speed judge: healthscore and its peers, side by side, in one run.
# Run by hand only (never from swift test or CI).  See bench/README.md.
#
#   bench/run.sh [--rows N] [--extra K] [--repeats R] [--seed S]
#                [--lbfgs-max-iter N] [--lbfgs-budget SECONDS] [--skip-lbfgs]
#                [--peer-threads N] [--regen]
#
# Environment: HEALTHSCORE_BIN=/path/to/healthscore skips the build.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"

ROWS=1000000
EXTRA=36
REPEATS=3
SEED=1
LBFGS_MAX_ITER=1000
LBFGS_BUDGET=300
SKIP_LBFGS=0
PEER_THREADS=0
REGEN=0

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --extra) EXTRA="$2"; shift 2 ;;
        --repeats) REPEATS="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --lbfgs-max-iter) LBFGS_MAX_ITER="$2"; shift 2 ;;
        --lbfgs-budget) LBFGS_BUDGET="$2"; shift 2 ;;
        --skip-lbfgs) SKIP_LBFGS=1; shift ;;
        --peer-threads) PEER_THREADS="$2"; shift 2 ;;
        --regen) REGEN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

say() { printf '[bench] %s\n' "$*" >&2; }

# 1. System libraries (healthscore links the system OpenBLAS and LAPACKE).
need=()
for pkg in libopenblas-dev liblapacke-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y "${need[@]}" || { $SUDO apt-get update && $SUDO apt-get install -y "${need[@]}"; }
fi

# 1b. Python peers in bench/.venv (reused when it already has everything).
VENV="$BENCH/.venv"
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
fi
if ! "$PY" -c 'import numpy, pandas, pyarrow, sklearn, statsmodels, threadpoolctl' 2>/dev/null; then
    say "installing the Python peers into $VENV"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet numpy pandas pyarrow scikit-learn statsmodels threadpoolctl
fi

# 2. healthscore, release build in its own scratch path (other builds keep .build).
if [ -n "${HEALTHSCORE_BIN:-}" ]; then
    BIN="$HEALTHSCORE_BIN"
    say "using HEALTHSCORE_BIN=$BIN"
else
    BIN="$ROOT/.build-bench/release/healthscore"
    # Sources edited during a build make swift build fail ("modified during the
    # build"): try again a few times before giving up.
    mkdir -p "$BENCH/data"
    BUILD_LOG="$BENCH/data/build.log"
    for attempt in 1 2 3 4; do
        say "building healthscore (release, .build-bench), attempt $attempt; log in $BUILD_LOG"
        if (cd "$ROOT" && swift build -c release --scratch-path .build-bench) > "$BUILD_LOG" 2>&1; then
            break
        fi
        tail -n 15 "$BUILD_LOG" >&2
        [ "$attempt" -eq 4 ] && { say "swift build failed"; exit 1; }
        sleep 10
    done
fi
[ -x "$BIN" ] || { say "no healthscore executable at $BIN"; exit 1; }

# 3. Data, generated once per size and seed.
DATA="$BENCH/data"
mkdir -p "$DATA"
CSV="$DATA/churn_rows${ROWS}_extra${EXTRA}_seed${SEED}.csv"
DONE="$CSV.done"
if [ "$REGEN" -eq 1 ] || [ ! -f "$DONE" ] || [ ! -f "$CSV" ]; then
    say "generating $CSV"
    rm -f "$DONE"
    "$BIN" simulate --customers "$ROWS" --months 1 --extra-metrics "$EXTRA" --seed "$SEED" --out "$CSV" >&2
    "$BIN" --version > "$DONE" 2>/dev/null || date -u > "$DONE"
else
    say "reusing $CSV (--regen to write it again)"
fi

# 4-7. Measure, compare, report.
args=(--bin "$BIN" --csv "$CSV" --repeats "$REPEATS" --results-dir "$BENCH/results"
      --work-dir "$DATA/out" --python "$PY"
      --lbfgs-max-iter "$LBFGS_MAX_ITER" --lbfgs-budget "$LBFGS_BUDGET" --peer-threads "$PEER_THREADS")
[ "$SKIP_LBFGS" -eq 1 ] && args+=(--skip-lbfgs)
exec "$PY" "$BENCH/compare.py" "${args[@]}"
