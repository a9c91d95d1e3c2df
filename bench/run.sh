#!/usr/bin/env bash
# healthscore speed judge: healthscore and its peers, side by side, in one run.
# Run by hand only (never from swift test or CI).  See bench/README.md.
#
#   bench/run.sh [--quick] [--sizes 100000x20,100000x200,1000000x50]
#                [--phases ingest,fit,l2,e2e,score,evaluate,report,sql,history,encv] [--encv-size 100000x50]
#                [--repeats R] [--seed S] [--l2-lambda X] [--peer-threads N]
#                [--lbfgs-budget S] [--slow-budget S] [--encv-budget S] [--encv-repeats R]
#                [--lbfgs-max-iter N] [--skip-lbfgs] [--big] [--score-big] [--regen] [--note TEXT]
#
# Environment: HEALTHSCORE_BIN=/path/to/healthscore skips the build.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"

MODE=full
SIZES=100000x20,100000x200,1000000x50
PHASES=ingest,fit,l2,e2e,score,evaluate,report,sql,history,encv
ENCV_SIZE=100000x50
REPEATS=3
SEED=1
L2_LAMBDA=0.001
LBFGS_MAX_ITER=1000
LBFGS_BUDGET=60
SLOW_BUDGET=60
ENCV_BUDGET=300
ENCV_REPEATS=1
SKIP_LBFGS=0
PEER_THREADS=0
BIG=0
SCORE_BIG=0
REGEN=0
NOTE=""
explicit=()

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick; shift ;;
        --sizes) SIZES="$2"; explicit+=(sizes); shift 2 ;;
        --phases) PHASES="$2"; shift 2 ;;
        --encv-size) ENCV_SIZE="$2"; explicit+=(encv); shift 2 ;;
        --repeats) REPEATS="$2"; explicit+=(repeats); shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --l2-lambda) L2_LAMBDA="$2"; shift 2 ;;
        --lbfgs-max-iter) LBFGS_MAX_ITER="$2"; shift 2 ;;
        --lbfgs-budget) LBFGS_BUDGET="$2"; explicit+=(lbfgs); shift 2 ;;
        --slow-budget) SLOW_BUDGET="$2"; explicit+=(slow); shift 2 ;;
        --encv-budget) ENCV_BUDGET="$2"; explicit+=(encvb); shift 2 ;;
        --encv-repeats) ENCV_REPEATS="$2"; shift 2 ;;
        --skip-lbfgs) SKIP_LBFGS=1; shift ;;
        --peer-threads) PEER_THREADS="$2"; shift 2 ;;
        --big) BIG=1; shift ;;
        --score-big) SCORE_BIG=1; shift ;;
        --regen) REGEN=1; shift ;;
        --note) NOTE="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

# --quick: small sizes, one repeat, short budgets (a few minutes); explicit options still win.
if [ "$MODE" = quick ]; then
    given() { [[ " ${explicit[*]} " == *" $1 "* ]]; }
    given sizes || SIZES=20000x20,20000x60
    given encv || ENCV_SIZE=10000x20
    given repeats || REPEATS=1
    given lbfgs || LBFGS_BUDGET=15
    given slow || SLOW_BUDGET=15
    given encvb || ENCV_BUDGET=30
fi

say() { printf '[bench] %s\n' "$*" >&2; }

# 1. System libraries (healthscore links the system OpenBLAS and LAPACKE).
need=()
# time: peak memory of every process (/usr/bin/time -v); r-cran-glmnet: the R peer.
for pkg in libopenblas-dev liblapacke-dev time r-cran-glmnet; do
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
if ! "$PY" -c 'import numpy, pandas, pyarrow, polars, glum, sklearn, statsmodels, threadpoolctl, duckdb' 2>/dev/null; then
    say "installing the Python peers into $VENV"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet numpy pandas pyarrow polars glum scikit-learn statsmodels threadpoolctl duckdb
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
        if (cd "$ROOT" && swift build -c release --product healthscore --scratch-path .build-bench) > "$BUILD_LOG" 2>&1; then
            break
        fi
        tail -n 15 "$BUILD_LOG" >&2
        [ "$attempt" -eq 4 ] && { say "swift build failed"; exit 1; }
        sleep 10
    done
fi
[ -x "$BIN" ] || { say "no healthscore executable at $BIN"; exit 1; }

# 3-7. Generate the data (once per size and seed), measure, compare, report.
args=(--bin "$BIN" --python "$PY" --mode "$MODE" --sizes "$SIZES" --phases "$PHASES"
      --encv-size "$ENCV_SIZE" --repeats "$REPEATS" --seed "$SEED" --l2-lambda "$L2_LAMBDA"
      --lbfgs-max-iter "$LBFGS_MAX_ITER" --lbfgs-budget "$LBFGS_BUDGET" --slow-budget "$SLOW_BUDGET"
      --encv-budget "$ENCV_BUDGET" --encv-repeats "$ENCV_REPEATS" --peer-threads "$PEER_THREADS" --note "$NOTE"
      --data-dir "$BENCH/data" --work-dir "$BENCH/data/out" --results-dir "$BENCH/results")
RSCRIPT="$(command -v Rscript || true)"
[ -n "$RSCRIPT" ] && args+=(--rscript "$RSCRIPT")
[ "$SKIP_LBFGS" -eq 1 ] && args+=(--skip-lbfgs)
[ "$BIG" -eq 1 ] && args+=(--big)
[ "$SCORE_BIG" -eq 1 ] && args+=(--score-big)
[ "$REGEN" -eq 1 ] && args+=(--regen)
exec "$PY" "$BENCH/compare.py" "${args[@]}"
