#!/usr/bin/env python3
"""Runs healthscore and its peers on the same generated CSVs, in one run, and reports.

Called by bench/run.sh (which installs and builds first):

    compare.py --bin BIN --python PY --sizes 100000x20,100000x200,1000000x50 --repeats 3

For every size it generates the data once (`healthscore simulate`), then runs the phases asked
for; each healthscore run and each peer is a fresh process under /usr/bin/time -v.
healthscore's phase times come from its own `--timings` lines; the peers' from
time.perf_counter() around the measured call; "process" rows are the wall clock of the whole
process.  Every number printed comes from this run; nothing is carried over.
"""

import argparse
import datetime as dt
import json
import os
import statistics
from pathlib import Path

import report
from runner import LoadMeter, log, run, system_info

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers.py"
GLMNET = HERE / "glmnet.R"
BASE_TERMS = 16  # terms of the simulator without --extra-metrics (intercept included)
FIT_PEERS = ["sklearn-newton-cholesky", "sklearn-lbfgs", "glum", "statsmodels"]
ALL_PHASES = ["ingest", "fit", "l2", "e2e", "score", "evaluate", "report", "sql", "history", "encv"]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def size_label(rows, terms):
    r = f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows / 1e3:g}k"
    return f"{r}×{terms}"


def parse_size(text):
    rows, _, terms = text.lower().partition("x")
    rows, terms = int(rows), int(terms)
    if terms < BASE_TERMS:
        raise SystemExit(f"size {text}: the simulator writes at least {BASE_TERMS} terms")
    return rows, terms


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def ensure_data(args, rows, terms):
    """The simulated CSV for this size, written once per size and seed (a .done marker says it is complete)."""
    extra = terms - BASE_TERMS
    csv = Path(args.data_dir) / f"churn_rows{rows}_extra{extra}_seed{args.seed}.csv"
    done = Path(f"{csv}.done")
    if args.regen or not done.exists() or not csv.exists():
        log(f"generating {csv.name}")
        done.unlink(missing_ok=True)
        r = run([args.bin, "simulate", "--customers", str(rows), "--months", "1", "--extra-metrics", str(extra),
                 "--seed", str(args.seed), "--out", str(csv)])
        if r.returncode != 0:
            raise SystemExit(f"healthscore simulate failed:\n{r.stderr}")
        done.write_text(r.stdout)
    return csv


def complete_cases(csv):
    """A copy with the rows that have no empty field: `healthscore score` of a model fitted with
    --missing drop refuses rows with missing metrics, and both scorers should see the same rows."""
    out = csv.with_name(csv.stem + ".complete.csv")
    done = Path(f"{out}.done")
    if not done.exists() or done.stat().st_mtime < csv.stat().st_mtime:
        with open(csv) as src, open(out, "w") as dst:
            dst.write(src.readline())
            for line in src:
                body = line.rstrip("\n")
                if ",," not in body and not body.endswith(",") and not body.startswith(","):
                    dst.write(line)
        done.write_text("complete\n")
    return out


def warm(path):
    """Reads the file once so that the page cache is warm for everyone alike; returns its data rows."""
    rows = -1
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            rows += chunk.count(b"\n")
    return rows


# --------------------------------------------------------------------------
# healthscore and the peers
# --------------------------------------------------------------------------

def timing_fields(stderr):
    fields = {}
    for line in stderr.splitlines():
        line = line.strip()
        if line.startswith("timing "):
            for pair in line[len("timing "):].split():
                key, _, value = pair.partition("=")
                fields[key] = value
    return fields


def healthscore_fit(args, csv, out_json, extra=(), label="fit"):
    cmd = [args.bin, "fit", str(csv), "--target", args.target, "--id", args.id, "--time", args.time,
           "--out", str(out_json), "--timings", *extra]
    r = run(cmd)
    if r.returncode != 0:
        raise SystemExit(f"healthscore {label} failed (exit {r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    fields = timing_fields(r.stderr)
    for needed in ("ingest_seconds", "design_seconds", "fit_seconds"):
        if needed not in fields:
            raise SystemExit(f"healthscore printed no 'timing {needed}=…' line; stderr was:\n{r.stderr[-3000:]}")
    return {**fields, "wall_seconds": r.wall, "rss_mb": r.rss_mb}


def healthscore_runs(args, csv, out_json, extra=(), label="fit"):
    runs = []
    for i in range(args.repeats):
        log(f"healthscore {label}, repeat {i + 1}/{args.repeats} …")
        runs.append(healthscore_fit(args, csv, out_json, extra, label))
    model = json.loads(Path(out_json).read_text())
    return {
        "runs": runs,
        "ingest": [float(r["ingest_seconds"]) for r in runs],
        "design": [float(r["design_seconds"]) for r in runs],
        "fit": [float(r["fit_seconds"]) + float(r.get("cross_validation_seconds") or 0) for r in runs],
        "wall": [r["wall_seconds"] for r in runs],
        "rss": [r["rss_mb"] for r in runs if r["rss_mb"] is not None],
        "blas": {k: runs[-1].get(k) for k in ("blas_core", "blas_threads", "iterations")},
        "coefficients": {c["term"]: c["estimate"] for c in model["coefficients"]},
        "standard_errors": {c["term"]: c.get("standardError") for c in model["coefficients"]},
        "fit_summary": {k: v for k, v in model.get("fit", {}).items() if k != "history"},
    }


def peer(args, argv, label, budget=0.0, grace=300.0):
    """One fresh peer process; its JSON document plus wall, peak RSS and whether the budget stopped it."""
    log(f"{label} …")
    cmd = [args.python, str(PEERS), *argv, *args.peer_thread_args]
    if budget:
        cmd += ["--budget", str(budget)]
    # The peer stops itself at the budget; the kill is for a call that never returns to Python.
    r = run(cmd, timeout=(budget * 1.2 + grace) if budget else None)
    doc = r.last_json()
    if doc is None:
        if r.timed_out:
            return {"seconds": [], "budget_exceeded": True, "budget": budget, "killed": True,
                    "wall_seconds": r.wall, "rss_mb": r.rss_mb}
        raise SystemExit(f"peer {label} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    return {**doc, "wall_seconds": r.wall, "rss_mb": r.rss_mb}


def roles_args(args):
    return ["--target", args.target, "--id", args.id, "--time", args.time]


def fit_peers(args, csv, penalty):
    docs = {}
    for name in FIT_PEERS:
        if name == "sklearn-lbfgs" and args.skip_lbfgs:
            continue
        budget = 0.0
        if name == "sklearn-lbfgs":
            budget = args.lbfgs_budget
        elif name == "statsmodels" and penalty == "l2":
            budget = args.slow_budget
        argv = ["fit", name, str(csv), "--repeats", str(args.repeats), *roles_args(args),
                "--penalty", penalty, "--lam", str(args.l2_lambda), "--lbfgs-max-iter", str(args.lbfgs_max_iter)]
        docs[name] = peer(args, argv, f"{name} fit ({penalty})", budget)
    return docs


def measure_size(args, rows, terms):
    label = size_label(rows, terms)
    csv = ensure_data(args, rows, terms)
    data_rows = warm(csv)
    phases = set(args.phases)
    out = {"label": label, "csv": str(csv), "rows": data_rows, "bytes": os.path.getsize(csv), "terms": terms}
    work = Path(args.work_dir)
    model = work / f"healthscore-{rows}x{terms}.json"
    if phases & {"ingest", "fit", "e2e", "score", "evaluate", "report", "sql", "history"}:
        out["healthscore"] = healthscore_runs(args, csv, model, label=f"fit {label}")
    if "ingest" in phases:
        out["ingest"] = {lib: peer(args, ["ingest", lib, str(csv), "--repeats", str(args.repeats)],
                                   f"{lib} read_csv {label}") for lib in ("pandas", "pyarrow", "polars")}
    if "fit" in phases:
        out["fit"] = fit_peers(args, csv, "none")
    if "l2" in phases:
        out["healthscore_l2"] = healthscore_runs(args, csv, work / f"healthscore-l2-{rows}x{terms}.json",
                                                 ["--penalty", "l2", "--lambda", str(args.l2_lambda)],
                                                 label=f"fit --penalty l2 {label}")
        out["l2"] = fit_peers(args, csv, "l2")
    if "e2e" in phases:
        out["e2e"] = [peer(args, ["e2e", str(csv), *roles_args(args)], f"python end to end {label}, repeat {i + 1}")
                      for i in range(args.repeats)]
    if "score" in phases:
        complete = complete_cases(csv)
        warm(complete)
        # Scores alone (like predict_proba), then with the three reasons a row a CS team reads.
        for key, reasons in (("score", 0), ("score_reasons", 3)):
            hs, py = [], []
            flags = ["--reasons", str(reasons)] if args.score_flags else []
            for i in range(args.repeats):
                log(f"healthscore score --reasons {reasons} {label}, repeat {i + 1} …")
                r = run([args.bin, "score", str(model), str(complete), *flags,
                         "--out", str(work / "healthscore-scores.csv")])
                if r.returncode != 0:
                    raise SystemExit(f"healthscore score failed:\n{r.stderr[-3000:]}")
                hs.append({"wall_seconds": r.wall, "rss_mb": r.rss_mb})
                py.append(peer(args, ["score", str(complete), str(model), str(work / "python-scores.csv"),
                                      "--reasons", str(reasons), *roles_args(args)],
                               f"python score --reasons {reasons} {label}, repeat {i + 1}"))
            out[key] = {"healthscore": hs, "python": py, "rows": warm(complete), "flags": flags, "reasons": reasons}
    if "evaluate" in phases:
        hs, py = [], []
        for i in range(args.repeats):
            log(f"healthscore evaluate {label}, repeat {i + 1} …")
            r = run([args.bin, "evaluate", str(model), str(csv), "--json"])
            if r.returncode != 0:
                raise SystemExit(f"healthscore evaluate failed:\n{r.stderr[-3000:]}")
            hs.append({"wall_seconds": r.wall, "rss_mb": r.rss_mb})
            py.append(peer(args, ["evaluate", str(csv), str(model), *roles_args(args)],
                           f"python evaluate {label}, repeat {i + 1}"))
        out["evaluate"] = {"healthscore": hs, "python": py}
    if "report" in phases:
        hs, py = [], []
        for i in range(args.repeats):
            log(f"healthscore report {label}, repeat {i + 1} …")
            r = run([args.bin, "report", str(model), str(csv), "--out", str(work / "healthscore-report.html")])
            if r.returncode != 0:
                raise SystemExit(f"healthscore report failed:\n{r.stderr[-3000:]}")
            hs.append({"wall_seconds": r.wall, "rss_mb": r.rss_mb})
            py.append(peer(args, ["report", str(csv), str(model), str(work / "python-report.html"), *roles_args(args)],
                           f"python report {label}, repeat {i + 1}"))
        out["report"] = {"healthscore": hs, "python": py}
    if "sql" in phases:
        sql = work / f"healthscore-{rows}x{terms}.sql"
        r = run([args.bin, "export", str(model), "--format", "sql", "--table", "customers", "--out", str(sql)])
        if r.returncode != 0:
            raise SystemExit(f"healthscore export --format sql failed:\n{r.stderr[-3000:]}")
        complete = complete_cases(csv)
        out["sql"] = peer(args, ["sql", str(complete), str(model), str(sql), "--rows", "100000", "--id", args.id],
                          f"SQL export vs flat SELECT {label}")
    if "history" in phases:
        # score --db twice (two as-of dates, the same complete rows), then trend between them.
        complete = complete_cases(csv)
        db = work / "healthscore-history.db"
        score_db, trend = [], []
        py = []
        for i in range(args.repeats):
            for f in (db, Path(str(db) + "-journal")):
                if f.exists():
                    f.unlink()
            for as_of in ("2026-11-01", "2026-12-01"):
                log(f"healthscore score --reasons 3 --db (as of {as_of}) {label}, repeat {i + 1} …")
                r = run([args.bin, "score", str(model), str(complete), "--reasons", "3", "--out", str(work / "healthscore-scores.csv"),
                         "--db", str(db), "--as-of", as_of])
                if r.returncode != 0:
                    raise SystemExit(f"healthscore score --db failed:\n{r.stderr[-3000:]}")
            score_db.append({"wall_seconds": r.wall, "rss_mb": r.rss_mb})
            log(f"healthscore trend {label}, repeat {i + 1} …")
            r = run([args.bin, "trend", "--db", str(db)])
            if r.returncode != 0:
                raise SystemExit(f"healthscore trend failed:\n{r.stderr[-3000:]}")
            trend.append({"wall_seconds": r.wall, "rss_mb": r.rss_mb})
            py.append(peer(args, ["history", str(complete), str(model), str(work / "python-history.db"), *roles_args(args)],
                           f"python score + to_sql twice, trend by SQL {label}, repeat {i + 1}"))
        out["history"] = {"score_db": score_db, "trend": trend, "python": py, "rows": warm(complete),
                          "db_mb": db.stat().st_size / 1e6 if db.exists() else None}
    return out


def measure_encv(args, rows, terms):
    label = size_label(rows, terms)
    csv = ensure_data(args, rows, terms)
    warm(csv)
    out = {"label": label, "csv": str(csv), "terms": terms, "rows": rows, "repeats": args.encv_repeats}
    args = argparse.Namespace(**{**vars(args), "repeats": args.encv_repeats})
    out["healthscore"] = healthscore_runs(
        args, csv, Path(args.work_dir) / "healthscore-encv.json",
        ["--penalty", "elasticnet", "--alpha", "0.5", "--lambda", "auto", "--folds", str(args.folds)],
        label=f"fit --penalty elasticnet --lambda auto {label}")
    if out["healthscore"]["runs"] and "cross_validation_seconds" not in out["healthscore"]["runs"][0]:
        out["note"] = "healthscore printed no cross_validation_seconds: its fit_seconds is the whole CV"
    r_runs = []
    if args.rscript:
        for i in range(args.repeats):
            log(f"R cv.glmnet {label}, repeat {i + 1}/{args.repeats} …")
            r = run([args.rscript, str(GLMNET), str(csv), args.target, args.id, args.time,
                     str(args.folds), "0.5", "100"])
            doc = r.last_json()
            if doc is None:
                raise SystemExit(f"R glmnet failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
            r_runs.append({**doc, "wall_seconds": r.wall, "rss_mb": r.rss_mb})
    out["glmnet"] = r_runs
    out["sklearn"] = peer(args, ["encv", str(csv), "--folds", str(args.folds), "--cs", "100", *roles_args(args)],
                          f"sklearn LogisticRegressionCV {label}", args.encv_budget, grace=30.0)
    return out


def measure_big(args):
    """--big: healthscore fit --streaming of a ~5 GB file under a memory cap. Skipped, with a note,
    while fit has no --streaming flag."""
    help_text = run([args.bin, "fit", "--help"]).stdout
    if "--streaming" not in help_text:
        return {"skipped": "healthscore fit has no --streaming option in this build"}
    rows = int(args.big_gb * 1e9 / 360)  # the 1M×52 file is ~352 bytes a row
    csv = ensure_data(args, rows, 52)
    small = ensure_data(args, 1_000_000, 52)
    work = Path(args.work_dir)
    cap = memory_cap_prefix(args.big_memory)
    stream = run([*cap, args.bin, "fit", str(csv), "--streaming", "--target", args.target, "--id", args.id,
                  "--time", args.time, "--out", str(work / "healthscore-big.json"), "--timings"])
    doc = {"rows": rows, "bytes": os.path.getsize(csv), "cap": " ".join(cap), "wall_seconds": stream.wall,
           "rss_mb": stream.rss_mb, "returncode": stream.returncode, "stderr_tail": stream.stderr[-2000:]}
    # Exactness of the streaming solver: the same small file, streamed and in memory.
    a = healthscore_fit(args, small, work / "healthscore-small-stream.json", ["--streaming"], "fit --streaming")
    b = healthscore_fit(args, small, work / "healthscore-small-memory.json", (), "fit")
    ca = {c["term"]: c["estimate"] for c in json.loads((work / "healthscore-small-stream.json").read_text())["coefficients"]}
    cb = {c["term"]: c["estimate"] for c in json.loads((work / "healthscore-small-memory.json").read_text())["coefficients"]}
    doc["small_max_abs_coef_diff"] = max(abs(ca[t] - cb[t]) for t in cb if t in ca)
    doc["small_stream_wall"], doc["small_memory_wall"] = a["wall_seconds"], b["wall_seconds"]
    doc["small_stream_rss_mb"], doc["small_memory_rss_mb"] = a["rss_mb"], b["rss_mb"]
    return doc


def measure_score_big(args, model):
    """--score-big: `score --reasons 3` of a 10M-row file under a memory cap, beside the same
    command on the 1M file: peak memory must not grow with the file."""
    rows = args.score_big_rows
    csv = ensure_data(args, rows, 50)
    small = ensure_data(args, 1_000_000, 50)
    work = Path(args.work_dir)
    cap = memory_cap_prefix(args.big_memory)
    doc = {"rows": rows, "bytes": os.path.getsize(csv), "cap": " ".join(cap)}
    for key, path in (("small", small), ("big", csv)):
        warm(path) if key == "small" else None
        log(f"healthscore score --reasons 3 of {path.name} under the cap …")
        r = run([*cap, args.bin, "score", str(model), str(path), "--reasons", "3", "--out", str(work / f"healthscore-{key}-scores.csv")])
        doc[key] = {"wall_seconds": r.wall, "rss_mb": r.rss_mb, "returncode": r.returncode, "stderr_tail": r.stderr[-600:]}
        (work / f"healthscore-{key}-scores.csv").unlink(missing_ok=True)
    return doc


def memory_cap_prefix(megabytes):
    """systemd-run --scope -p MemoryMax when a systemd manager answers here, else prlimit --as."""
    probe = run(["systemd-run", "--scope", "--quiet", "-p", f"MemoryMax={megabytes}M", "true"]) \
        if os.path.exists("/run/systemd/system") else None
    if probe is not None and probe.returncode == 0:
        return ["systemd-run", "--scope", "--quiet", "-p", f"MemoryMax={megabytes}M"]
    return ["prlimit", f"--as={megabytes * 1024 * 1024}"]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="healthscore executable")
    ap.add_argument("--python", required=True, help="interpreter with the peers installed")
    ap.add_argument("--rscript", default=None, help="Rscript with glmnet (none: the glmnet rows are left out)")
    ap.add_argument("--sizes", default="100000x20,100000x200,1000000x50", help="ROWSxTERMS,… (terms ≥ 16)")
    ap.add_argument("--phases", default=",".join(ALL_PHASES), help=f"comma-separated subset of {ALL_PHASES}")
    ap.add_argument("--encv-size", default="100000x50")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--encv-repeats", type=int, default=1, help="repeats of the EN-CV runs (healthscore, R)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--regen", action="store_true")
    ap.add_argument("--l2-lambda", type=float, default=1e-3, help="λ of the L2 fits, glmnet's scale")
    ap.add_argument("--lbfgs-max-iter", type=int, default=1000)
    ap.add_argument("--lbfgs-budget", type=float, default=60)
    ap.add_argument("--slow-budget", type=float, default=60, help="statsmodels L2 (fit_regularized) budget")
    ap.add_argument("--encv-budget", type=float, default=300, help="scikit-learn LogisticRegressionCV budget")
    ap.add_argument("--skip-lbfgs", action="store_true")
    ap.add_argument("--peer-threads", type=int, default=0)
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--big-gb", type=float, default=5.0)
    ap.add_argument("--big-memory", type=int, default=1024, help="memory cap of the --big and --score-big runs, MB")
    ap.add_argument("--score-big", action="store_true", help="score a 10M-row file under the memory cap")
    ap.add_argument("--score-big-rows", type=int, default=10_000_000)
    ap.add_argument("--note", default="", help="a line printed at the top of the report (e.g. 'baseline under load')")
    ap.add_argument("--mode", default="full")
    ap.add_argument("--data-dir", default=str(HERE / "data"))
    ap.add_argument("--work-dir", default=str(HERE / "data" / "out"))
    ap.add_argument("--results-dir", default=str(HERE / "results"))
    ap.add_argument("--target", default="churned_next_month")
    ap.add_argument("--id", default="customer_id")
    ap.add_argument("--time", default="snapshot_date")
    args = ap.parse_args()

    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - set(ALL_PHASES)
    if unknown:
        raise SystemExit(f"unknown phase(s) {sorted(unknown)}; choose from {ALL_PHASES}")
    args.repeats = max(1, args.repeats)
    args.peer_thread_args = ["--threads", str(args.peer_threads)] if args.peer_threads > 0 else []
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    # Scores alone, like predict_proba: no per-customer reasons (older builds have no --reasons).
    args.score_flags = ["--reasons", "0"] if "--reasons" in run([args.bin, "score", "--help"]).stdout else []
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)

    started = dt.datetime.now(dt.timezone.utc)
    meter = LoadMeter().start()
    sysinfo = system_info(HERE.parent, args.bin)
    env = peer(args, ["env"], "peer environment")

    sizes = [measure_size(args, *parse_size(s)) for s in args.sizes.split(",") if s.strip()] \
        if set(args.phases) - {"encv"} else []
    encv = measure_encv(args, *parse_size(args.encv_size)) if "encv" in args.phases else None
    big = measure_big(args) if args.big else None
    score_big = None
    if args.score_big:
        model = Path(args.work_dir) / "healthscore-1000000x50.json"
        score_big = measure_score_big(args, model) if model.exists() else {"skipped": "no 1M×50 model: run the 1000000x50 size too"}
    meter.stop()

    doc = {"started_utc": started.isoformat(), "mode": args.mode, "note": args.note, "repeats": args.repeats,
           "phases": args.phases, "l2_lambda": args.l2_lambda,
           "budgets": {"lbfgs": args.lbfgs_budget, "statsmodels_l2": args.slow_budget, "encv_sklearn": args.encv_budget},
           "system": sysinfo, "peer_env": env, "peer_threads": args.peer_threads or None,
           "load": {"start": meter.load_start, "end": meter.load_end, "others_cpu_share": meter.others_share,
                    "run_seconds": meter.seconds},
           "sizes": sizes, "encv": encv, "big": big, "score_big": score_big}
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    # The measurements first: a formatting error must not cost an hour of measuring.
    (results / f"{stamp}.raw.json.tmp").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    text, tables = report.render(doc)
    doc["table"] = tables
    print()
    print(text)
    md = (f"# healthscore speed judge — {started.strftime('%Y-%m-%d %H:%M:%S UTC')}\n\n"
          f"All numbers below were measured in this one run.\n\n```\n{text}\n```\n\n"
          f"## Raw times (seconds, every repeat)\n\n```\n{report.raw_times(doc)}\n```\n")
    for suffix, content in ((".md", md), (".json", json.dumps(doc, indent=2, default=str) + "\n")):
        tmp = results / f"{stamp}{suffix}.tmp"
        tmp.write_text(content)
        os.replace(tmp, results / f"{stamp}{suffix}")
    os.unlink(results / f"{stamp}.raw.json.tmp")
    print(f"\nresults: {results / (stamp + '.md')} and .json")


if __name__ == "__main__":
    main()
