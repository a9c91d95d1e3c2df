#!/usr/bin/env python3
"""Runs healthscore and its peers on one CSV, in one run, and reports.

Called by bench/run.sh (which installs, builds and generates the data first):

    compare.py --bin BIN --csv FILE.csv --repeats 3 --results-dir bench/results

healthscore's ingest/design/fit come from its own `--timings` lines; its end
to end time is the wall clock of the whole `healthscore fit` process.  Every
peer runs in a fresh Python process (bench/peers.py); its times are
time.perf_counter() around the measured call only, except "end to end
(process)", which is the wall clock of the whole Python process.  Every
number printed comes from this run; nothing is carried over from earlier runs.
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers.py"
INTERCEPT = "(Intercept)"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x):
    if x != x:  # NaN
        return "n/a"
    return f"{x:.2f} s" if x >= 1 else f"{x:.3f} s"


def fmt_ratio(a, b):
    if not b or a != a or b != b:
        return "n/a"
    r = a / b
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


# --------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------

PEER_THREADS = []  # ["--threads", "N"] when --peer-threads is given


def run_peer(python, args, label):
    """One fresh peer process; returns (its JSON document, process wall seconds)."""
    log(f"{label} …")
    args = [*args, *PEER_THREADS]
    t0 = time.perf_counter()
    proc = subprocess.run([python, str(PEERS), *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"peer {label} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


TIMING = re.compile(r"^timing (.*)$")


def run_healthscore(binary, csv, roles, out_json):
    cmd = [binary, "fit", csv, "--target", roles.target, "--id", roles.id, "--time", roles.time,
           "--out", out_json, "--timings"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"healthscore fit failed (exit {proc.returncode}): {' '.join(cmd)}")
    fields = {}
    for line in proc.stderr.splitlines():
        m = TIMING.match(line.strip())
        if not m:
            continue
        for pair in m.group(1).split():
            key, _, value = pair.partition("=")
            fields[key] = value
    for needed in ("ingest_seconds", "design_seconds", "fit_seconds"):
        if needed not in fields:
            raise SystemExit(f"healthscore printed no 'timing {needed}=…' line; stderr was:\n{proc.stderr}")
    return fields, wall


def system_info(repo):
    info = {"platform": platform.platform(), "nproc": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
        info["cpu_model"] = m.group(1).strip() if m else "unknown"
    except OSError:
        info["cpu_model"] = "unknown (no lscpu)"
    info["openblas_env"] = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                       "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                            if k in os.environ}
    try:
        rev = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True).stdout.strip()
        info["git"] = rev + (" + uncommitted changes in Sources/" if dirty else "")
    except OSError:
        info["git"] = "unknown"
    return info


def cpu_seconds_busy():
    """All CPUs' busy time so far (/proc/stat), in seconds."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def own_cpu_seconds():
    """CPU time of this process and of the children it has waited for."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def loadavg():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


# --------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------

def max_abs_diff(ours, theirs):
    """max |ours[t] − theirs[t]| over healthscore's terms; also the worst term
    and the terms that one side lacks."""
    missing = sorted(set(ours) ^ set(theirs))
    common = [t for t in ours if t in theirs]
    if not common:
        return float("nan"), None, missing
    worst = max(common, key=lambda t: abs(ours[t] - theirs[t]))
    return abs(ours[worst] - theirs[worst]), worst, missing


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="healthscore executable")
    ap.add_argument("--csv", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--results-dir", default=str(HERE / "results"))
    ap.add_argument("--work-dir", default=str(HERE / "data" / "out"), help="where model files go")
    ap.add_argument("--python", default=sys.executable, help="interpreter with the peers installed")
    ap.add_argument("--lbfgs-max-iter", type=int, default=1000)
    ap.add_argument("--lbfgs-budget", type=float, default=300,
                    help="seconds of lbfgs fitting after which no further lbfgs repeat starts")
    ap.add_argument("--target", default="churned_next_month")
    ap.add_argument("--id", default="customer_id")
    ap.add_argument("--time", default="snapshot_date")
    ap.add_argument("--skip-lbfgs", action="store_true")
    ap.add_argument("--peer-threads", type=int, default=0,
                    help="cap the peers' BLAS/OpenMP/pyarrow threads (0: their defaults)")
    args = ap.parse_args()

    if args.peer_threads > 0:
        PEER_THREADS.extend(["--threads", str(args.peer_threads)])
    csv = str(Path(args.csv).resolve())
    repeats = max(1, args.repeats)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    load_start = loadavg()
    busy_start, own_start, wall_start = cpu_seconds_busy(), own_cpu_seconds(), time.perf_counter()

    sysinfo = system_info(HERE.parent)
    env, _ = run_peer(args.python, ["env"], "peer environment")
    with open(csv, "rb") as f:  # warm the page cache once, for everyone alike
        data_rows = -1
        while chunk := f.read(1 << 24):
            data_rows += chunk.count(b"\n")
    data_bytes = os.path.getsize(csv)

    # ---- healthscore
    hs_runs = []
    model_path = str(work / "healthscore-model.json")
    for i in range(repeats):
        log(f"healthscore fit, repeat {i + 1}/{repeats} …")
        fields, wall = run_healthscore(args.bin, csv, args, model_path)
        hs_runs.append({**fields, "wall_seconds": wall})
    model = json.loads(Path(model_path).read_text())
    hs_coef = {c["term"]: c["estimate"] for c in model["coefficients"]}
    hs_se = {c["term"]: c.get("standardError") for c in model["coefficients"]}
    hs_fit = model.get("fit", {})
    n_terms = len(hs_coef)
    hs = {
        "ingest": [float(r["ingest_seconds"]) for r in hs_runs],
        "design": [float(r["design_seconds"]) for r in hs_runs],
        "sha256": [float(r["sha256_seconds"]) for r in hs_runs if "sha256_seconds" in r],
        "fit": [float(r["fit_seconds"]) for r in hs_runs],
        "wall": [r["wall_seconds"] for r in hs_runs],
    }
    hs["core"] = [a + b + c for a, b, c in zip(hs["ingest"], hs["design"], hs["fit"])]
    blas = {k: hs_runs[-1].get(k) for k in ("blas_core", "blas_threads", "iterations")}

    # ---- peers
    common = ["--target", args.target, "--id", args.id, "--time", args.time]
    pandas_ingest, _ = run_peer(args.python, ["ingest-pandas", csv, "--repeats", str(repeats)], "pandas read_csv")
    arrow_ingest, _ = run_peer(args.python, ["ingest-pyarrow", csv, "--repeats", str(repeats)], "pyarrow read_csv")
    fits = {}
    peer_list = ["sklearn-newton-cholesky", "statsmodels-newton"] + ([] if args.skip_lbfgs else ["sklearn-lbfgs"])
    for peer in peer_list:
        extra = ["--budget", str(args.lbfgs_budget), "--lbfgs-max-iter", str(args.lbfgs_max_iter)] \
            if peer == "sklearn-lbfgs" else []
        fits[peer], _ = run_peer(args.python, ["fit", peer, csv, "--repeats", str(repeats), *common, *extra],
                                 f"{peer} fit")
    e2e = []
    for i in range(repeats):
        doc, wall = run_peer(args.python, ["e2e", csv, *common], f"peer end to end, repeat {i + 1}/{repeats}")
        e2e.append({**doc, "wall_seconds": wall})
    load_end = loadavg()
    # CPU taken by processes other than this benchmark, as a share of all CPUs.
    wall_run = time.perf_counter() - wall_start
    others = (cpu_seconds_busy() - busy_start) - (own_cpu_seconds() - own_start)
    others_share = max(0.0, others) / (wall_run * (os.cpu_count() or 1))

    # ---- accuracy
    accuracy = {}
    for peer, doc in fits.items():
        diff, worst, missing = max_abs_diff(hs_coef, doc["coefficients"])
        accuracy[peer] = {"max_abs_coef_diff": diff, "worst_term": worst, "unmatched_terms": missing}
    sm = fits["statsmodels-newton"]
    se_ours = {t: s for t, s in hs_se.items() if s is not None}
    se_diff, se_worst, _ = max_abs_diff(se_ours, sm["standard_errors"] or {})
    accuracy["statsmodels-newton"]["max_abs_se_diff"] = se_diff
    accuracy["statsmodels-newton"]["se_worst_term"] = se_worst

    # ---- table
    size = f"{data_rows / 1e6:g}M" if data_rows >= 1_000_000 else f"{data_rows / 1e3:g}k"
    shape = f"{size}×{n_terms}"
    rows = []

    def row(phase, ours, peer, theirs, note=""):
        rows.append({"phase": phase, "healthscore_seconds": ours, "peer": peer,
                     "peer_seconds": theirs, "ratio": ours / theirs if theirs else None, "note": note})

    row(f"ingest {shape} CSV", median(hs["ingest"]), "pandas read_csv", median(pandas_ingest["seconds"]))
    row(f"ingest {shape} CSV", median(hs["ingest"]), "pyarrow read_csv", median(arrow_ingest["seconds"]),
        f"pyarrow uses {env['pyarrow_cpu_count']} thread(s)")
    e2e_design = [d["design_seconds"] for d in e2e]
    row("design (drop NA, dummies)", median(hs["design"]), "pandas + numpy", median(e2e_design))
    nc = fits["sklearn-newton-cholesky"]
    row("fit (ingest excluded)", median(hs["fit"]), "sklearn newton-cholesky", median(nc["seconds"]),
        f"{nc['info']['iterations']} iterations")
    row("fit (ingest excluded)", median(hs["fit"]), "statsmodels newton", median(sm["seconds"]),
        f"{sm['info']['iterations']} iterations" + ("" if sm["info"]["converged"] else ", NOT converged"))
    if "sklearn-lbfgs" in fits:
        lb = fits["sklearn-lbfgs"]
        note = f"{lb['info']['iterations']} iterations"
        if not lb["info"]["converged"]:
            note += f", STOPPED WITHOUT CONVERGING (max_iter={args.lbfgs_max_iter})"
        if len(lb["seconds"]) < repeats:
            note += f", {len(lb['seconds'])} of {repeats} repeats (time budget)"
        row("fit (ingest excluded)", median(hs["fit"]), "sklearn lbfgs", median(lb["seconds"]), note)
    row("ingest+design+fit in-process", median(hs["core"]), "pandas+design+sklearn n-c",
        median([d["in_process_seconds"] for d in e2e]), "no process start, imports or output")
    row("end to end (whole process)", median(hs["wall"]), "python: same + imports",
        median([d["wall_seconds"] for d in e2e]), "healthscore also hashes, summarises, writes JSON")

    lines = []
    header = f"{'phase':<30} {'healthscore':>11}   {'peer':<27} {'peer time':>9}   {'ratio (ours/peer)':>17}"
    lines.append(header)
    lines.append("-" * len(header))
    for r in rows:
        lines.append(f"{r['phase']:<30} {fmt_s(r['healthscore_seconds']):>11}   {r['peer']:<27} "
                     f"{fmt_s(r['peer_seconds']):>9}   {fmt_ratio(r['healthscore_seconds'], r['peer_seconds']):>17}"
                     + (f"   {r['note']}" if r["note"] else ""))
    lines.append("")
    for peer, label in (("statsmodels-newton", "statsmodels"), ("sklearn-newton-cholesky", "sklearn newton-cholesky"),
                        ("sklearn-lbfgs", "sklearn lbfgs")):
        if peer not in accuracy:
            continue
        a = accuracy[peer]
        extra = f"  (worst term: {a['worst_term']})"
        if a["unmatched_terms"]:
            extra += f"  UNMATCHED TERMS: {', '.join(a['unmatched_terms'])}"
        lines.append(f"max |Δcoef| vs {label + ':':<25} {a['max_abs_coef_diff']:.1e}{extra}")
    a = accuracy["statsmodels-newton"]
    lines.append(f"max |Δse|   vs {'statsmodels:':<25} {a['max_abs_se_diff']:.1e}  (worst term: {a['se_worst_term']})")
    lines.append("")
    lines.append(f"rows used: healthscore {hs_fit.get('nObservations')} (dropped {hs_fit.get('nDropped')}), "
                 f"peers {nc['rows']}; terms: healthscore {n_terms}, peers {nc['terms']}"
                 + ("" if hs_fit.get("nObservations") == nc["rows"] and n_terms == nc["terms"] else "   MISMATCH"))
    lines.append(f"healthscore: sha256 of the input {fmt_s(median(hs['sha256']))} (inside end to end), "
                 f"Newton iterations {blas['iterations']}, converged {hs_fit.get('converged')}")
    lines.append(f"medians of {repeats} repeat(s); ratio < 1 means healthscore is faster")

    env_lines = [
        f"CPU: {sysinfo['cpu_model']}, {sysinfo['nproc']} logical CPUs; other processes used {others_share:.0%} "
        f"of the CPUs during the run (load average {load_start:.2f} at start, {load_end:.2f} at end)"
        + ("   BUSY MACHINE: timings are noisy" if others_share > 0.1 else ""),
        f"healthscore OpenBLAS: core {blas['blas_core']}, threads {blas['blas_threads']}",
        "peer threads: " + (f"capped at {args.peer_threads} (--peer-threads)" if args.peer_threads > 0
                            else "library defaults (not capped)"),
    ]
    for p in env["threadpools"]:
        env_lines.append(f"python {p['user_api']}: internal_api {p['internal_api']}, num_threads {p['num_threads']}, "
                         f"architecture {p['architecture']}, version {p['version']}, "
                         f"{Path(p['filepath']).name if p['filepath'] else ''}")
    ob = sysinfo["openblas_env"]
    env_lines.append("environment: " + (", ".join(f"{k}={v}" for k, v in ob.items()) if ob
                                         else "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE not set"))
    env_lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
                     + f", python {env['python']}; healthscore git {sysinfo['git']}")
    env_lines.append(f"data: {csv} ({data_rows} rows, {data_bytes / 1e6:.0f} MB)")
    env_lines.append(f"sklearn: {nc['info']['call']}")
    if "sklearn-lbfgs" in fits:
        env_lines.append(f"sklearn: {fits['sklearn-lbfgs']['info']['call']}")
    env_lines.append(f"statsmodels: {sm['info']['call']}")
    for peer, doc in fits.items():
        for w in doc["info"]["warnings"]:
            env_lines.append(f"warning from {peer}: {w}")

    report = "\n".join(lines + [""] + env_lines)
    print()
    print(report)

    # ---- results files
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    md = (f"# healthscore speed judge — {started.strftime('%Y-%m-%d %H:%M:%S UTC')}\n\n"
          f"All numbers below were measured in this one run.\n\n```\n{report}\n```\n\n"
          "## Raw times (seconds, every repeat)\n\n```\n"
          + "\n".join(f"{k:<28} {', '.join(f'{x:.4f}' for x in v)}" for k, v in [
              ("healthscore ingest", hs["ingest"]), ("healthscore design", hs["design"]),
              ("healthscore sha256", hs["sha256"]), ("healthscore fit", hs["fit"]),
              ("healthscore process wall", hs["wall"]),
              ("pandas read_csv", pandas_ingest["seconds"]), ("pyarrow read_csv", arrow_ingest["seconds"]),
              *[(f"{p} fit", d["seconds"]) for p, d in fits.items()],
              ("peer e2e in-process", [d["in_process_seconds"] for d in e2e]),
              ("peer e2e process wall", [d["wall_seconds"] for d in e2e]),
          ]) + "\n```\n")
    doc = {
        "started_utc": started.isoformat(), "repeats": repeats, "csv": csv, "data_rows": data_rows,
        "data_bytes": data_bytes, "terms": n_terms, "system": sysinfo,
        "load_average": {"start": load_start, "end": load_end},
        "other_processes_cpu_share": others_share, "peer_env": env,
        "peer_threads": args.peer_threads or None,
        "healthscore": {"runs": hs_runs, "blas": blas, "fit_summary": {k: v for k, v in hs_fit.items() if k != "history"},
                        "coefficients": hs_coef, "standard_errors": hs_se},
        "peers": {"pandas_read_csv": pandas_ingest, "pyarrow_read_csv": arrow_ingest, "fits": fits, "e2e": e2e},
        "table": rows, "accuracy": accuracy,
    }
    for suffix, text in ((".md", md), (".json", json.dumps(doc, indent=2, default=str) + "\n")):
        final = results / f"{stamp}{suffix}"
        tmp = results / f"{stamp}{suffix}.tmp"
        tmp.write_text(text)
        os.replace(tmp, final)
    print(f"\nresults: {results / (stamp + '.md')} and .json")


if __name__ == "__main__":
    main()
