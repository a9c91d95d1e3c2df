"""The speed judge's report: per-size tables of medians and ratios, coefficient agreement, the
thresholds of issue 7 and whether each is met, and the environment.  Pure formatting of the
document compare.py collected; it measures nothing."""

import statistics
from pathlib import Path

PEER_LABEL = {
    "sklearn-newton-cholesky": "sklearn newton-cholesky",
    "sklearn-lbfgs": "sklearn lbfgs",
    "glum": "glum irls-ls",
    "statsmodels": "statsmodels",
}
COEF_LIMIT_VS_STATSMODELS = 1e-8
RSS_LIMIT_MB = 600


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x):
    if x is None:
        return "n/a"
    return f"{x:.2f} s" if x >= 1 else f"{x:.3f} s"


def fmt_mb(x):
    return "n/a" if x is None else f"{x:.0f}"


def fmt_ratio(r):
    if r is None:
        return "n/a"
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, section, phase, ours, peer, theirs, key, peer_key, rss_ours=None, rss_peer=None,
            note="", exceeded=False, budget=None):
        if exceeded:
            ratio, bound = (ours / budget if ours is not None and budget else None), True
        else:
            ratio, bound = (ours / theirs if ours is not None and theirs else None), False
        self.rows.append({"section": section, "phase": phase, "key": key, "peer_key": peer_key,
                          "healthscore_seconds": ours, "peer": peer, "peer_seconds": theirs,
                          "peer_exceeded_budget": exceeded, "budget": budget, "ratio": ratio,
                          "ratio_is_upper_bound": bound, "rss_ours_mb": rss_ours, "rss_peer_mb": rss_peer,
                          "note": note})

    def find(self, section, key, peer_key):
        for r in self.rows:
            if r["section"] == section and r["key"] == key and r["peer_key"] == peer_key:
                return r
        return None

    def lines(self, section):
        head = (f"{'phase':<24} {'healthscore':>11}   {'peer':<27} {'peer time':>10}  {'ours/peer':>9}  "
                f"{'peak RSS MB ours/peer':>21}  note")
        out = [head, "-" * len(head)]
        for r in self.rows:
            if r["section"] != section:
                continue
            theirs = f">{r['budget']:.0f} s" if r["peer_exceeded_budget"] else fmt_s(r["peer_seconds"])
            ratio = ("<" if r["ratio_is_upper_bound"] else "") + fmt_ratio(r["ratio"])
            rss = "" if r["rss_ours_mb"] is None and r["rss_peer_mb"] is None else \
                f"{fmt_mb(r['rss_ours_mb'])} / {fmt_mb(r['rss_peer_mb'])}"
            out.append(f"{r['phase']:<24} {fmt_s(r['healthscore_seconds']):>11}   {r['peer']:<27} {theirs:>10}  "
                       f"{ratio:>9}  {rss:>21}  {r['note']}".rstrip())
        return out


def fit_note(doc, repeats):
    if doc.get("killed"):
        return "killed at the budget"
    info = doc.get("info") or {}
    parts = []
    if info.get("iterations", -1) >= 0:
        parts.append(f"{info['iterations']} it")
    if info and not info.get("converged", True):
        parts.append("NOT CONVERGED")
    if doc.get("budget_exceeded"):
        parts.append(f"stopped at the {doc['budget']:.0f} s budget")
    elif len(doc.get("seconds", [])) < repeats:
        parts.append(f"{len(doc['seconds'])} of {repeats} repeats (budget)")
    return ", ".join(parts)


def max_abs_diff(ours, theirs):
    if not theirs:
        return None, None, []
    missing = sorted(set(ours) ^ set(theirs))
    common = [t for t in ours if t in theirs and ours[t] is not None and theirs[t] is not None]
    if not common:
        return None, None, missing
    worst = max(common, key=lambda t: abs(ours[t] - theirs[t]))
    return abs(ours[worst] - theirs[worst]), worst, missing


def accuracy_lines(hs, peers, kind, notes):
    out = []
    for name, doc in peers.items():
        d, worst, missing = max_abs_diff(hs["coefficients"], doc.get("coefficients"))
        if d is None:
            out.append(f"  {kind:<13} max |Δcoef| vs {PEER_LABEL[name] + ':':<25} n/a (no coefficients: "
                       f"{'budget' if doc.get('budget_exceeded') else 'failed'})")
            continue
        line = f"  {kind:<13} max |Δcoef| vs {PEER_LABEL[name] + ':':<25} {d:.1e}  (worst term: {worst})"
        if name == "statsmodels" and kind == "unpenalised":
            ok = d <= COEF_LIMIT_VS_STATSMODELS
            line += f"  ≤1e-8: {'yes' if ok else 'NO'}"
            notes.setdefault("coef_vs_statsmodels", []).append(d)
        if missing:
            line += f"  UNMATCHED TERMS: {', '.join(missing)}"
        out.append(line)
        if name == "statsmodels" and doc.get("standard_errors"):
            se = {t: s for t, s in hs["standard_errors"].items() if s is not None}
            d, worst, _ = max_abs_diff(se, doc["standard_errors"])
            if d is not None:
                out.append(f"  {kind:<13} max |Δse|   vs {'statsmodels:':<25} {d:.1e}  (worst term: {worst})")
    return out


def size_section(t, s, repeats):
    sec = s["label"]
    hs = s.get("healthscore")
    lines = []
    if hs:
        hs_rss = max(hs["rss"]) if hs["rss"] else None
        for lib in ("pandas", "pyarrow", "polars"):
            doc = s.get("ingest", {}).get(lib)
            if doc:
                t.add(sec, "ingest", median(hs["ingest"]), f"{lib} read_csv", median(doc["seconds"]),
                      "ingest", lib, None, doc.get("rss_mb"))
        for name, doc in s.get("fit", {}).items():
            t.add(sec, "fit (ingest excluded)", median(hs["fit"]), PEER_LABEL[name], median(doc["seconds"]),
                  "fit", name, hs_rss, doc.get("rss_mb"), fit_note(doc, repeats),
                  doc.get("budget_exceeded") and not doc.get("seconds"), doc.get("budget"))
    hl2 = s.get("healthscore_l2")
    if hl2:
        for name, doc in s.get("l2", {}).items():
            t.add(sec, "fit L2 (ingest excl.)", median(hl2["fit"]), PEER_LABEL[name], median(doc["seconds"]),
                  "l2", name, max(hl2["rss"]) if hl2["rss"] else None, doc.get("rss_mb"), fit_note(doc, repeats),
                  doc.get("budget_exceeded") and not doc.get("seconds"), doc.get("budget"))
    if hs and s.get("e2e"):
        e2e = s["e2e"]
        t.add(sec, "read+design+fit in-proc", median([a + b + c for a, b, c in zip(hs["ingest"], hs["design"], hs["fit"])]),
              "pandas+design+sklearn n-c", median([d["in_process_seconds"] for d in e2e]), "e2e-inproc", "python",
              note="no process start, imports or output")
        t.add(sec, "end to end (process)", median(hs["wall"]), "python: same + imports",
              median([d["wall_seconds"] for d in e2e]), "e2e", "python",
              max(hs["rss"]) if hs["rss"] else None, max(d["rss_mb"] or 0 for d in e2e) or None,
              "healthscore also hashes the file, summarises, writes JSON")
    for key in ("score", "score_reasons"):
        sc = s.get(key)
        if not sc:
            continue
        reasons = sc.get("reasons", 0)
        t.add(sec, f"score --reasons {reasons}", median([d["wall_seconds"] for d in sc["healthscore"]]),
              f"pandas+numpy: same job", median([d["wall_seconds"] for d in sc["python"]]), key, "python",
              max(d["rss_mb"] or 0 for d in sc["healthscore"]) or None,
              max(d["rss_mb"] or 0 for d in sc["python"]) or None,
              f"{sc['rows']} complete rows; in-process python "
              f"{fmt_s(median([d['in_process_seconds'] for d in sc['python']]))}")
    ev = s.get("evaluate")
    if ev:
        t.add(sec, "evaluate", median([d["wall_seconds"] for d in ev["healthscore"]]),
              "pandas+sklearn metrics", median([d["wall_seconds"] for d in ev["python"]]), "evaluate", "python",
              max(d["rss_mb"] or 0 for d in ev["healthscore"]) or None,
              max(d["rss_mb"] or 0 for d in ev["python"]) or None,
              "AUC, log loss, Brier, calibration curve, band churn rates; all rows (missing ones left out by both)")
    rp = s.get("report")
    if rp:
        t.add(sec, "report", median([d["wall_seconds"] for d in rp["healthscore"]]),
              "pandas+sklearn: same numbers", median([d["wall_seconds"] for d in rp["python"]]), "report", "python",
              max(d["rss_mb"] or 0 for d in rp["healthscore"]) or None,
              max(d["rss_mb"] or 0 for d in rp["python"]) or None,
              "summaries, histograms, ROC, calibration, lift, bands, latest snapshot per customer, top 25 at risk (peer: tables, no charts)")
    hi = s.get("history")
    if hi:
        py_db = [d["score_db_seconds"] for d in hi["python"]]
        t.add(sec, "score --reasons 3 --db", median([d["wall_seconds"] for d in hi["score_db"]]),
              "pandas+numpy + to_sql", median(py_db), "score_db", "python",
              max(d["rss_mb"] or 0 for d in hi["score_db"]) or None,
              max(d["rss_mb"] or 0 for d in hi["python"]) or None,
              f"the second of two runs into one history ({hi['rows']} rows; file "
              f"{hi['db_mb']:.0f} MB); peer in-process, no imports; peer RSS covers both runs and its trend")
        t.add(sec, "trend", median([d["wall_seconds"] for d in hi["trend"]]),
              "sqlite3 self-join + pandas", median([d["trend_seconds"] for d in hi["python"]]), "trend", "python",
              max(d["rss_mb"] or 0 for d in hi["trend"]) or None, None,
              "two runs of the same customers: changes, new/gone, band moves, median threshold, 25 that fell most")
    lines += t.lines(sec)
    sq = s.get("sql")
    if sq:
        lines.append("")
        lines.append(f"SQL export vs a flat SELECT 1/(1+exp(-(b0 + Σ b·x))) of the same weights, first {sq['rows']} rows (best of 3; export once on SQLite):")
        for engine in ("sqlite", "duckdb"):
            e = sq.get(engine)
            if e:
                ratio = e["export_seconds"] / e["flat_seconds"]
                lines.append(f"  {engine} {e['version']:<8} export {fmt_s(e['export_seconds']):>8}  flat {fmt_s(e['flat_seconds']):>8}  "
                             f"export/flat {ratio:6.1f}×  (issue 17: ≤ 3×: {'MET' if ratio <= 3 else 'NOT MET'})  max |Δp| {e['max_abs_dp']:.1e}")
    notes = {}
    acc = []
    if hs and s.get("fit"):
        acc += accuracy_lines(hs, s["fit"], "unpenalised", notes)
    if hl2 and s.get("l2"):
        acc += accuracy_lines(hl2, s["l2"], "L2", notes)
    if acc:
        lines += ["", "coefficient agreement (healthscore vs peer, every term, intercept included):"] + acc
    if hs:
        fs = hs["fit_summary"]
        peer_rows = next((d.get("rows") for d in s.get("fit", {}).values() if d.get("rows")), None)
        lines.append(f"rows used: healthscore {fs.get('nObservations')} (dropped {fs.get('nDropped')}), "
                     + (f"peers {peer_rows}" if peer_rows else "no peer fits") + f"; terms {len(hs['coefficients'])}"
                     + ("" if peer_rows in (None, fs.get("nObservations")) else "   ROW COUNT MISMATCH"))
        lines.append(f"healthscore: OpenBLAS core {hs['blas']['blas_core']}, threads {hs['blas']['blas_threads']}, "
                     f"Newton iterations {hs['blas']['iterations']}")
    return lines, notes


def encv_section(t, e):
    sec = "encv"
    hs = e["healthscore"]
    rss = max(hs["rss"]) if hs["rss"] else None
    lines = []
    g = e.get("glmnet") or []
    if g:
        t.add(sec, "EN-CV (ingest excl.)", median(hs["fit"]), "R cv.glmnet call", median([d["seconds"][0] for d in g]),
              "encv", "glmnet", note=f"{g[0]['lambdas']} λ fitted by glmnet (it stops early)")
        t.add(sec, "EN-CV end to end (proc)", median(hs["wall"]), "Rscript: read.csv+design+cv",
              median([d["wall_seconds"] for d in g]), "encv-e2e", "glmnet", rss, max(d["rss_mb"] or 0 for d in g) or None)
    sk = e["sklearn"]
    exceeded = bool(sk.get("budget_exceeded"))
    t.add(sec, "EN-CV (ingest excl.)", median(hs["fit"]), "sklearn LogisticRegressionCV", median(sk.get("seconds", [])),
          "encv", "sklearn", rss, sk.get("rss_mb"), "saga, 100 Cs" + (", stopped at the budget" if exceeded else ""),
          exceeded, sk.get("budget"))
    lines += t.lines(sec)
    fs = hs["fit_summary"]
    lines.append(f"healthscore: {fs.get('penalty')}, non-zero terms "
                 f"{sum(1 for v in hs['coefficients'].values() if v != 0) - 1}")
    if g:
        lines.append(f"glmnet: λmin {g[0]['lambda_min']:.6g} ({g[0]['nonzero_min']} non-zero), "
                     f"λ1se {g[0]['lambda_1se']:.6g} ({g[0]['nonzero_1se']} non-zero); "
                     "folds are drawn differently, so λ differs slightly")
    if e.get("note"):
        lines.append(e["note"])
    return lines


THRESHOLDS = [
    # (text, size role, key, peer key, largest ratio allowed)
    ("fit {large} unpenalised ≥2.5× sklearn newton-cholesky", "large", "fit", "sklearn-newton-cholesky", 1 / 2.5),
    ("fit {large} unpenalised ≥4× glum", "large", "fit", "glum", 1 / 4),
    ("fit {large} unpenalised ≥8× statsmodels", "large", "fit", "statsmodels", 1 / 8),
    ("fit {large} L2 ≥2.5× sklearn newton-cholesky", "large", "l2", "sklearn-newton-cholesky", 1 / 2.5),
    ("fit {large} L2 ≥4× glum", "large", "l2", "glum", 1 / 4),
    ("fit {large} L2 ≥8× statsmodels", "large", "l2", "statsmodels", 1 / 8),
    ("fit {wide} ≥2× sklearn newton-cholesky", "wide", "fit", "sklearn-newton-cholesky", 1 / 2),
    ("ingest {large} ≥2× pyarrow", "large", "ingest", "pyarrow", 1 / 2),
    ("end to end {large} ≥3× pandas read_csv + newton-cholesky", "large", "e2e", "python", 1 / 3),
    ("EN-CV {encv} no slower than R glmnet", "encv", "encv", "glmnet", 1.0),
    ("EN-CV {encv} ≥10× sklearn LogisticRegressionCV", "encv", "encv", "sklearn", 1 / 10),
    ("score {large} with 3 reasons ≥5× pandas+numpy", "large", "score_reasons", "python", 1 / 5),
    ("score {large} without reasons ≥8× pandas+numpy", "large", "score", "python", 1 / 8),
    ("evaluate {large} ≥5× pandas+sklearn metrics", "large", "evaluate", "python", 1 / 5),
]
SCORE_RSS_LIMIT_MB = 250
EVALUATE_RSS_LIMIT_MB = 400


def threshold_lines(t, doc):
    sizes = doc["sizes"]
    roles = {}
    if sizes:
        roles["large"] = max(sizes, key=lambda s: (s["rows"], -abs(s["terms"] - 50)))["label"]
        roles["wide"] = max(sizes, key=lambda s: (s["terms"], s["rows"]))["label"]
    if doc.get("encv"):
        roles["encv"] = doc["encv"]["label"]
    out, verdicts = [], []
    for text, role, key, peer_key, limit in THRESHOLDS:
        section = "encv" if role == "encv" else roles.get(role)
        label = text.format(**{r: roles.get(r, "?") for r in ("large", "wide", "encv")})
        r = t.find(section, key, peer_key) if section else None
        if r is None or r["ratio"] is None:
            status, got = "not measured", ""
        else:
            speedup = 1 / r["ratio"] if r["ratio"] > 0 else float("inf")
            got = (f"{'>' if r['ratio_is_upper_bound'] else ''}{speedup:.2f}× faster (needs ≥ {1 / limit:g}×; "
                   f"ratio {fmt_ratio(r['ratio'])})")
            if r["ratio"] <= limit:
                status = "MET" + (" (peer stopped at its budget)" if r["ratio_is_upper_bound"] else "")
            else:
                status = "undetermined (peer stopped at its budget)" if r["ratio_is_upper_bound"] else "NOT MET"
        verdicts.append({"threshold": label, "status": status, "detail": got})
        out.append(f"  {label:<58} {status:<8} {got}")
    large = next((s for s in sizes if s["label"] == roles.get("large")), None)
    rss = max(large["healthscore"]["rss"]) if large and large.get("healthscore") and large["healthscore"]["rss"] else None
    label = f"peak RSS of healthscore fit {roles.get('large', '?')} ≤ {RSS_LIMIT_MB} MB"
    status = "not measured" if rss is None else ("MET" if rss <= RSS_LIMIT_MB else "NOT MET")
    out.append(f"  {label:<58} {status:<8} {'' if rss is None else f'{rss:.0f} MB'}")
    verdicts.append({"threshold": label, "status": status, "detail": rss})
    for key in ("score", "score_reasons", "evaluate", "report"):
        runs = (large or {}).get(key)
        rss = max((d["rss_mb"] or 0 for d in runs["healthscore"]), default=0) if runs else None
        limit = EVALUATE_RSS_LIMIT_MB if key in ("evaluate", "report") else SCORE_RSS_LIMIT_MB
        label = f"peak RSS of healthscore {key.replace('_', ' --')} {roles.get('large', '?')} ≤ {limit} MB"
        status = "not measured" if not rss else ("MET" if rss <= limit else "NOT MET")
        out.append(f"  {label:<58} {status:<8} {'' if not rss else f'{rss:.0f} MB'}")
        verdicts.append({"threshold": label, "status": status, "detail": rss})
    return out, verdicts


def env_lines(doc):
    sysinfo, env, load = doc["system"], doc["peer_env"], doc["load"]
    busy = load["others_cpu_share"] > 0.1
    lines = [
        f"CPU: {sysinfo['cpu_model']}, {sysinfo['nproc']} logical CPUs; other processes used "
        f"{load['others_cpu_share']:.0%} of the CPUs during the run (load average {load['start']:.2f} at start, "
        f"{load['end']:.2f} at end; run took {load['run_seconds'] / 60:.1f} min)"
        + ("   BUSY MACHINE: timings are noisy, a baseline under load" if busy else ""),
        "peer threads: " + (f"capped at {doc['peer_threads']} (--peer-threads)" if doc["peer_threads"]
                            else "library defaults (not capped)")
        + f"; pyarrow {env.get('pyarrow_cpu_count')} threads, polars {env.get('polars_threads')} threads",
    ]
    for p in env["threadpools"]:
        lines.append(f"python {p['user_api']}: internal_api {p['internal_api']}, num_threads {p['num_threads']}, "
                     f"architecture {p['architecture']}, version {p['version']}, "
                     f"{Path(p['filepath']).name if p['filepath'] else ''}")
    ob = sysinfo["openblas_env"]
    lines.append("environment: " + (", ".join(f"{k}={v}" for k, v in ob.items()) if ob
                                     else "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE / *_NUM_THREADS not set"))
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    g = (doc.get("encv") or {}).get("glmnet") or []
    if g:
        versions += f", R {g[0]['r']}, glmnet {g[0]['glmnet']}"
    lines.append(f"versions: {versions}, python {env['python']}; healthscore {sysinfo.get('healthscore_version')} "
                 f"git {sysinfo['git']}")
    return lines


def call_lines(doc):
    calls = {}
    for s in doc["sizes"]:
        for kind in ("fit", "l2"):
            for name, d in s.get(kind, {}).items():
                if d.get("info") and d["info"].get("call"):
                    calls[f"{kind} {name}"] = d["info"]["call"]
        for lib, d in s.get("ingest", {}).items():
            calls[f"ingest {lib}"] = d.get("call")
    e = doc.get("encv")
    if e:
        if e.get("glmnet"):
            calls["encv glmnet"] = e["glmnet"][0]["call"]
        calls["encv sklearn"] = e["sklearn"].get("call", "LogisticRegressionCV (killed before it reported)")
    lines = [f"{k}: {v}" for k, v in calls.items() if v]
    warned = set()
    for s in doc["sizes"]:
        for kind in ("fit", "l2"):
            for name, d in s.get(kind, {}).items():
                for w in (d.get("info") or {}).get("warnings", []):
                    if (name, w) not in warned:
                        warned.add((name, w))
                        lines.append(f"warning from {name} ({s['label']}, {kind}): {w}")
    return lines


def render(doc):
    t = Table()
    out = [f"healthscore speed judge — mode {doc['mode']}" + (f" — {doc['note']}" if doc["note"] else ""),
           f"medians of {doc['repeats']} repeat(s); ours/peer < 1 means healthscore is faster; '>N s' = the peer "
           "passed its time budget (the ratio is then an upper bound);",
           "peak RSS = Maximum resident set size of the whole process (/usr/bin/time -v); a fit row's peer process "
           "also holds its DataFrame and design.",
           f"L2: λ = {doc['l2_lambda']:g} on glmnet's scale (mean deviance/2 + λ/2·Σ(sd_j·β_j)²), the same objective "
           "for every peer (see peers.py)", ""]
    for s in doc["sizes"]:
        out.append(f"== {s['label']}: {s['rows']} rows, {s['bytes'] / 1e6:.1f} MB CSV ({Path(s['csv']).name})")
        lines, _ = size_section(t, s, doc["repeats"])
        out += lines + [""]
    if doc.get("encv"):
        e = doc["encv"]
        out.append(f"== elastic-net path, α = 0.5, 100 λ, 10-fold CV, {e['label']} ({Path(e['csv']).name}); "
                   f"medians of {e.get('repeats', doc['repeats'])} repeat(s)")
        out += encv_section(t, e) + [""]
    if doc.get("big") is not None:
        b = doc["big"]
        out.append("== --big: fit --streaming under a memory cap")
        out.append("  skipped: " + b["skipped"] if "skipped" in b else
                   f"  {b['rows']} rows, {b['bytes'] / 1e9:.1f} GB, cap '{b['cap']}': exit {b['returncode']}, "
                   f"{fmt_s(b['wall_seconds'])}, peak RSS {fmt_mb(b['rss_mb'])} MB; same 1M file streamed vs in "
                   f"memory: max |Δcoef| {b['small_max_abs_coef_diff']:.1e}")
        out.append("")
    if doc.get("score_big") is not None:
        b = doc["score_big"]
        out.append("== --score-big: score --reasons 3 under a memory cap, 1M rows vs 10M rows")
        if "skipped" in b:
            out.append("  skipped: " + b["skipped"])
        else:
            for key in ("small", "big"):
                r = b[key]
                size = "1M" if key == "small" else f"{b['rows'] // 1_000_000}M"
                out.append(f"  {size:>3} rows: exit {r['returncode']}, "
                           f"{fmt_s(r['wall_seconds'])}, peak RSS {fmt_mb(r['rss_mb'])} MB (cap '{b['cap']}')")
            small, big = b["small"]["rss_mb"], b["big"]["rss_mb"]
            if small and big:
                grew = big / small - 1
                out.append(f"  peak RSS 10M vs 1M: {grew:+.1%} (issue 17: within 10%: {'MET' if abs(grew) <= 0.10 and b['big']['returncode'] == 0 else 'NOT MET'})")
        out.append("")
    out.append("== thresholds of issues 7 and 17 (ratio = healthscore time / peer time)")
    lines, verdicts = threshold_lines(t, doc)
    out += lines + [""]
    out.append("== environment")
    out += env_lines(doc) + [""] + call_lines(doc)
    return "\n".join(out), {"rows": t.rows, "thresholds": verdicts}


def raw_times(doc):
    lines = []

    def add(name, xs):
        xs = [x for x in xs if x is not None]
        if xs:
            lines.append(f"{name:<48} {', '.join(f'{x:.4f}' for x in xs)}")

    for s in doc["sizes"]:
        sec = s["label"]
        for key in ("healthscore", "healthscore_l2"):
            hs = s.get(key)
            if hs:
                for part in ("ingest", "design", "fit", "wall", "rss"):
                    add(f"{sec} {key} {part}{' MB' if part == 'rss' else ''}", hs[part])
        for lib, d in s.get("ingest", {}).items():
            add(f"{sec} {lib} read_csv", d["seconds"])
        for kind in ("fit", "l2"):
            for name, d in s.get(kind, {}).items():
                add(f"{sec} {kind} {name}", d.get("seconds", []))
        if s.get("e2e"):
            add(f"{sec} python e2e in-process", [d["in_process_seconds"] for d in s["e2e"]])
            add(f"{sec} python e2e process wall", [d["wall_seconds"] for d in s["e2e"]])
        for key in ("score", "score_reasons"):
            if s.get(key):
                add(f"{sec} healthscore {key} wall", [d["wall_seconds"] for d in s[key]["healthscore"]])
                add(f"{sec} python {key} wall", [d["wall_seconds"] for d in s[key]["python"]])
    e = doc.get("encv")
    if e:
        add("encv healthscore cv+fit", e["healthscore"]["fit"])
        add("encv healthscore process wall", e["healthscore"]["wall"])
        add("encv glmnet cv.glmnet call", [d["seconds"][0] for d in e.get("glmnet", [])])
        add("encv glmnet Rscript wall", [d["wall_seconds"] for d in e.get("glmnet", [])])
        add("encv sklearn LogisticRegressionCV", e["sklearn"].get("seconds", []))
    return "\n".join(lines)
