#!/usr/bin/env python3
"""Peer measurements for the healthscore speed judge (bench/run.sh).

Each subcommand runs one kind of measurement in this process and prints one
JSON document on stdout; bench/compare.py starts a fresh process per
subcommand (under /usr/bin/time -v, for its peak memory) and collects them.

    env                     versions, BLAS/OpenMP pools seen by numpy (threadpoolctl)
    ingest LIB CSV          LIB = pandas | pyarrow | polars: read_csv, REPEATS times
    fit PEER CSV            read + design once, then fit PEER REPEATS times;
                            PEER is sklearn-newton-cholesky, sklearn-lbfgs, glum
                            or statsmodels; --penalty l2 --lam X fits glmnet's
                            ridge objective (see l2_problem)
    e2e CSV                 read_csv + design + sklearn newton-cholesky, once
                            (the caller times the whole process as well)
    score CSV MODEL OUT     read_csv + design + predict_proba with MODEL's
                            coefficients + write the scores CSV
    encv CSV                LogisticRegressionCV(elastic net, saga, Cs, cv)

Every subcommand takes --threads N to cap the peers' BLAS, OpenMP, pyarrow
and polars threads (default: the libraries' own defaults, i.e. all cores),
and --budget S: past S seconds of measured calls no further repeat starts,
and a SIGALRM stops a call still running at S (the document then says
"budget_exceeded").  Only the call being measured sits between the two
time.perf_counter() reads.
"""

import argparse
import inspect
import json
import os
import signal
import sys
import time
import warnings

import numpy as np

INTERCEPT = "(Intercept)"
LBFGS_MAX_ITER = 20_000


class BudgetExceeded(Exception):
    pass


def arm_budget(seconds):
    """SIGALRM after `seconds`: a call still running then raises BudgetExceeded
    (at its next Python bytecode; compare.py also kills the process later)."""
    if seconds and seconds > 0:
        def handler(signum, frame):
            raise BudgetExceeded()
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, seconds)


def disarm_budget():
    signal.setitimer(signal.ITIMER_REAL, 0)


# --------------------------------------------------------------------------
# Design: the same one healthscore builds with its default --missing drop.
# --------------------------------------------------------------------------

def build_design(df, target, id_col, time_col, levels_by_column=None):
    """Complete cases, numeric columns as they are, text columns one-hot with
    the first level in byte order as the reference.  Returns X (float64,
    no intercept column), y (float64 or None) and the term names of X's
    columns in healthscore's spelling (`plan[pro]`)."""
    import pandas as pd

    features = [c for c in df.columns if c not in (target, id_col, time_col)]
    needed = features + ([target] if target in df.columns else [])
    complete = df[needed].notna().all(axis=1)
    kept = df.loc[complete] if not complete.all() else df

    columns, names = [], []
    for c in features:
        s = kept[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            columns.append(s.to_numpy(dtype=np.float64))
            names.append(c)
        else:
            levels = sorted(s.unique(), key=lambda v: str(v).encode("utf-8"))
            values = s.to_numpy()
            for level in levels[1:]:
                columns.append((values == level).astype(np.float64))
                names.append(f"{c}[{level}]")

    X = np.empty((len(kept), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        X[:, j] = col
    y = kept[target].to_numpy(dtype=np.float64) if target in kept.columns else None
    return X, y, names, kept


def read_pandas(path):
    import pandas as pd
    return pd.read_csv(path)


def column_sd(X):
    """Standard deviations with divisor n (glmnet's and healthscore's standardisation)."""
    return X.std(axis=0, ddof=0)


# --------------------------------------------------------------------------
# Fitters: each returns (seconds, coefficients by term, standard errors, info).
#
# L2 ("--penalty l2 --lam λ") is glmnet's ridge objective, healthscore's:
#   (1/n)·Σ[softplus(η) − yη] + λ/2·Σⱼ (sⱼβⱼ)²,   sⱼ = sd of column j (divisor n).
# Each peer gets the same objective:
#   glum         alpha=λ, l1_ratio=0, P2=s² (its loss is also the mean);
#   scikit-learn fits w on X/s with C = 1/(λn): C·Σloss + ½‖w‖² = Cn·objective;
#                then β = w/s;
#   statsmodels  GLM(binomial).fit_regularized(elastic_net, L1_wt=0,
#                alpha = λ·s² per slope, 0 for the intercept).
# --------------------------------------------------------------------------

def sklearn_model(solver, max_iter, C=None):
    from sklearn.linear_model import LogisticRegression
    kwargs = dict(solver=solver, tol=1e-10, max_iter=max_iter)
    penalty_deprecated = inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated"
    if C is not None:
        kwargs["C"] = C
        spelled = f"C={C:.6g}" + ("" if penalty_deprecated else ", penalty='l2'")
        if not penalty_deprecated:
            kwargs["penalty"] = "l2"
    elif penalty_deprecated:
        # scikit-learn 1.8 deprecated penalty=None in favour of C=inf (same model).
        kwargs["C"] = np.inf
        spelled = "C=inf (penalty=None is deprecated in this version)"
    else:
        kwargs["penalty"] = None
        spelled = "penalty=None"
    return LogisticRegression(**kwargs), spelled


def fit_sklearn(X, y, names, solver, max_iter, lam=None):
    from sklearn.exceptions import ConvergenceWarning
    if lam is None:
        model, spelled = sklearn_model(solver, max_iter)
        Xfit, scale = X, np.ones(X.shape[1])
    else:
        scale = column_sd(X)
        scale[scale == 0] = 1.0
        Xfit = X / scale
        model, spelled = sklearn_model(solver, max_iter, C=1.0 / (lam * X.shape[0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model.fit(Xfit, y)
        seconds = time.perf_counter() - t0
    n_iter = int(np.max(model.n_iter_))
    not_converged = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    coefs = {INTERCEPT: float(model.intercept_[0])}
    coefs.update({n: float(b) for n, b in zip(names, model.coef_[0] / scale)})
    info = {
        "call": f"LogisticRegression({spelled}, solver={solver!r}, tol=1e-10, max_iter={max_iter})"
                + ("" if lam is None else " on X/sd, β = w/sd"),
        "iterations": n_iter,
        "converged": (not not_converged) and n_iter < max_iter,
        "warnings": sorted({str(w.message).splitlines()[0] for w in caught}),
    }
    return seconds, coefs, None, info


def fit_glum(X, y, names, lam=None):
    from glum import GeneralizedLinearRegressor
    Xf = np.asfortranarray(X)  # glum's IRLS wants Fortran order; copied outside the timing
    if lam is None:
        kwargs = dict(alpha=0)
        spelled = "alpha=0"
    else:
        kwargs = dict(alpha=lam, l1_ratio=0, P2=column_sd(X) ** 2)
        spelled = f"alpha={lam:g}, l1_ratio=0, P2=sd²"
    # irls-ls is glum's own choice for unpenalised and pure-L2 problems; the
    # tolerance is tightened from its 1e-4 default so that its coefficients
    # are comparable to the others'.
    model = GeneralizedLinearRegressor(family="binomial", solver="irls-ls", gradient_tol=1e-10,
                                       max_iter=100, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model.fit(Xf, y)
        seconds = time.perf_counter() - t0
    coefs = {INTERCEPT: float(model.intercept_)}
    coefs.update({n: float(b) for n, b in zip(names, model.coef_)})
    n_iter = int(getattr(model, "n_iter_", -1))
    info = {
        "call": f"GeneralizedLinearRegressor(family='binomial', {spelled}, solver='irls-ls', "
                f"gradient_tol=1e-10, max_iter=100)",
        "iterations": n_iter,
        "converged": n_iter < 100,
        "warnings": sorted({str(w.message).splitlines()[0] for w in caught}),
    }
    return seconds, coefs, None, info


def fit_statsmodels(X, y, names, lam=None):
    import statsmodels.api as sm
    Xc = sm.add_constant(X, has_constant="add")
    terms = [INTERCEPT] + names
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if lam is None:
            model = sm.Logit(y, Xc)
            t0 = time.perf_counter()
            result = model.fit(method="newton", tol=1e-12, maxiter=100, disp=0)
            seconds = time.perf_counter() - t0
            params, ses = result.params, result.bse
            call = "Logit(y, add_constant(X)).fit(method='newton', tol=1e-12, maxiter=100, disp=0)"
            iterations = int(result.mle_retvals.get("iterations", -1))
            converged = bool(result.mle_retvals.get("converged", False))
        else:
            alpha = np.concatenate([[0.0], lam * column_sd(X) ** 2])
            model = sm.GLM(y, Xc, family=sm.families.Binomial())
            t0 = time.perf_counter()
            result = model.fit_regularized(method="elastic_net", alpha=alpha, L1_wt=0.0,
                                           maxiter=200, cnvrg_tol=1e-10)
            seconds = time.perf_counter() - t0
            params, ses = result.params, None
            call = ("GLM(y, add_constant(X), Binomial()).fit_regularized(method='elastic_net', "
                    "alpha=[0, λ·sd²], L1_wt=0, maxiter=200, cnvrg_tol=1e-10)")
            iterations, converged = -1, True
    coefs = {t: float(b) for t, b in zip(terms, params)}
    ses = {t: float(s) for t, s in zip(terms, ses)} if ses is not None else None
    info = {"call": call, "iterations": iterations, "converged": converged,
            "warnings": sorted({str(w.message).splitlines()[0] for w in caught})}
    return seconds, coefs, ses, info


def run_fit(peer, X, y, names, lam=None, lbfgs_max_iter=None):
    if peer == "sklearn-newton-cholesky":
        return fit_sklearn(X, y, names, "newton-cholesky", 200, lam)
    if peer == "sklearn-lbfgs":
        return fit_sklearn(X, y, names, "lbfgs", lbfgs_max_iter or LBFGS_MAX_ITER, lam)
    if peer == "glum":
        return fit_glum(X, y, names, lam)
    if peer == "statsmodels":
        return fit_statsmodels(X, y, names, lam)
    raise SystemExit(f"unknown peer {peer!r}")


# --------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------

def cmd_env(args):
    import pandas, pyarrow, sklearn, statsmodels, threadpoolctl, polars, glum
    from threadpoolctl import threadpool_info
    import sklearn.linear_model  # noqa: F401  (loads its OpenMP runtime too)
    pools = [
        {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "architecture",
                               "threading_layer", "version", "filepath")}
        for p in threadpool_info()
    ]
    return {
        "python": sys.version.split()[0],
        "versions": {
            "numpy": np.__version__, "pandas": pandas.__version__, "pyarrow": pyarrow.__version__,
            "polars": polars.__version__, "scikit-learn": sklearn.__version__,
            "statsmodels": statsmodels.__version__, "glum": glum.__version__,
            "threadpoolctl": threadpoolctl.__version__,
        },
        "threadpools": pools,
        "pyarrow_cpu_count": pyarrow.cpu_count(),
        "polars_threads": polars.thread_pool_size(),
    }


def cmd_ingest(args):
    if args.lib == "pandas":
        import pandas as pd
        read, call = pd.read_csv, "pandas.read_csv(path)"
    elif args.lib == "pyarrow":
        import pyarrow.csv
        read, call = pyarrow.csv.read_csv, "pyarrow.csv.read_csv(path)"
    else:
        import polars as pl
        read, call = pl.read_csv, "polars.read_csv(path)"
    times, shape = [], None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        frame = read(args.csv)
        times.append(time.perf_counter() - t0)
        shape = [frame.shape[0], frame.shape[1]]
        del frame
    return {"seconds": times, "shape": shape, "call": call}


def import_everything():
    """Imports outside the timed regions (their cost shows only in the
    whole-process wall clock that compare.py takes)."""
    import pandas  # noqa: F401
    import sklearn.linear_model  # noqa: F401


def cmd_fit(args):
    import_everything()
    if args.peer == "glum":
        import glum  # noqa: F401
    if args.peer == "statsmodels":
        import statsmodels.api  # noqa: F401
    t0 = time.perf_counter()
    df = read_pandas(args.csv)
    read_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    X, y, names, _ = build_design(df, args.target, args.id, args.time)
    design_seconds = time.perf_counter() - t0
    del df
    lam = args.lam if args.penalty == "l2" else None
    times, coefs, ses, info, exceeded = [], None, None, None, False
    arm_budget(args.budget)
    try:
        for _ in range(args.repeats):
            seconds, coefs, ses, info = run_fit(args.peer, X, y, names, lam, args.lbfgs_max_iter)
            times.append(seconds)
            # A slow peer gets fewer repeats rather than an endless run.
            if args.budget and sum(times) + seconds > args.budget:
                break
    except BudgetExceeded:
        exceeded = True
    disarm_budget()
    return {
        "peer": args.peer, "penalty": args.penalty, "lambda": lam, "seconds": times,
        "coefficients": coefs, "standard_errors": ses, "info": info, "budget_exceeded": exceeded,
        "budget": args.budget, "rows": int(X.shape[0]), "repeats_asked": args.repeats,
        "terms": len(names) + 1, "read_seconds": read_seconds, "design_seconds": design_seconds,
    }


def cmd_e2e(args):
    import_everything()
    t0 = time.perf_counter()
    df = read_pandas(args.csv)
    t1 = time.perf_counter()
    X, y, names, _ = build_design(df, args.target, args.id, args.time)
    t2 = time.perf_counter()
    fit_seconds, coefs, _, info = run_fit("sklearn-newton-cholesky", X, y, names)
    t3 = time.perf_counter()
    return {
        "read_seconds": t1 - t0, "design_seconds": t2 - t1, "fit_seconds": fit_seconds,
        "in_process_seconds": t3 - t0, "rows": int(X.shape[0]), "info": info,
    }


def score_table(args):
    """What a user would write with pandas + numpy to do `healthscore score`'s job with the
    model's weights (read from its JSON outside the timing): read the CSV, build the design, η, p,
    the 0–100 score and the frozen band; with --reasons K, every metric's points against the
    average customer (the probability-scale difference healthscore reports) and the K worst by
    argpartition; write id, time, probability, score, band and per reason its metric and points
    (two plain columns, cheaper than healthscore's one formatted text per reason)."""
    import_everything()
    import pandas as pd
    model_doc = json.load(open(args.model))
    coef = {c["term"]: c["estimate"] for c in model_doc["coefficients"]}
    features = model_doc["schema"]["features"]
    bands = (model_doc.get("scoring") or {}).get("bands") or []
    t0 = time.perf_counter()
    df = read_pandas(args.csv)
    t1 = time.perf_counter()
    X, _, names, kept = build_design(df, args.target, args.id, args.time)
    beta = np.array([coef.get(n, 0.0) for n in names])
    # Design columns of each metric and each metric's term for the average training customer.
    owner = {n: (n.split("[", 1)[0] if "[" in n else n) for n in names}
    metrics = [f["column"] for f in features]
    columns_of = [[j for j, n in enumerate(names) if owner[n] == m] for m in metrics]
    average = []
    for f in features:
        if f["kind"] == "categorical":
            average.append(sum(coef.get(f"{f['column']}[{lv}]", 0.0) * sh
                               for lv, sh in zip(f["levels"], f.get("levelShares") or [])))
        else:
            average.append(coef.get(f["column"], 0.0) * (f.get("mean") or 0.0))
    t2 = time.perf_counter()
    eta = coef[INTERCEPT] + X @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    score = 100.0 * (1.0 - p)
    cuts = [b["minScore"] for b in bands if b.get("minScore") is not None]
    labels = [b["label"] for b in bands]
    band = np.select([score >= c for c in cuts], labels[:len(cuts)], default=labels[-1]) if labels else None
    out = {args.id: kept[args.id].to_numpy(), args.time: kept[args.time].to_numpy(),
           "churn_probability": p, "health_score": np.round(score, 2)}
    if band is not None:
        out["band"] = band
    if args.reasons > 0:
        terms = np.zeros((X.shape[0], len(metrics)))
        single = [k for k, cols in enumerate(columns_of) if len(cols) == 1 and names[cols[0]] == metrics[k]]
        single_cols = [columns_of[k][0] for k in single]
        terms[:, single] = X[:, single_cols] * beta[single_cols]
        for k, cols in enumerate(columns_of):
            if cols and k not in single:
                terms[:, k] = X[:, cols] @ beta[cols]
        delta = terms - np.array(average)
        points = score[:, None] - 100.0 / (1.0 + np.exp(eta[:, None] - delta))
        k = min(args.reasons, len(metrics))
        worst = np.argpartition(points, k - 1, axis=1)[:, :k]
        worst_points = np.take_along_axis(points, worst, axis=1)
        order = np.argsort(worst_points, axis=1)
        worst = np.take_along_axis(worst, order, axis=1)
        worst_points = np.take_along_axis(worst_points, order, axis=1)
        metric_names = np.array(metrics, dtype=object)
        for r in range(k):
            negative = worst_points[:, r] < 0
            out[f"reason_{r + 1}"] = np.where(negative, metric_names[worst[:, r]], "")
            out[f"reason_{r + 1}_points"] = np.where(negative, np.round(worst_points[:, r], 1), np.nan)
    t3 = time.perf_counter()
    return pd.DataFrame(out), {"read_seconds": t1 - t0, "design_seconds": t2 - t1, "predict_seconds": t3 - t2}


def cmd_score(args):
    """`score_table`, written to CSV."""
    t0 = time.perf_counter()
    table, timings = score_table(args)
    t1 = time.perf_counter()
    table.to_csv(args.out, index=False)
    t2 = time.perf_counter()
    return {**timings, "write_seconds": t2 - t1, "in_process_seconds": t2 - t0, "rows": int(len(table))}


def cmd_history(args):
    """What a user would write for `healthscore score --db` and `trend` with pandas + sqlite3: each
    run scored as `score_table` does (3 reasons), appended to a scores table keyed by (as_of,
    customer) with `to_sql`; then the trend as SQL over the two runs: each customer's change (a
    self-join), customers new and gone, the band moves, the median absolute change as the threshold
    and the 25 that fell most. Both runs score the same file."""
    import sqlite3
    import pandas as pd
    if os.path.exists(args.db):
        os.remove(args.db)
    con = sqlite3.connect(args.db)
    con.execute("CREATE TABLE scores (as_of TEXT, customer_id TEXT, snapshot TEXT, churn_probability REAL, health_score REAL, "
                "band TEXT, reason_1 TEXT, reason_1_points REAL, reason_2 TEXT, reason_2_points REAL, reason_3 TEXT, "
                "reason_3_points REAL, PRIMARY KEY (as_of, customer_id))")
    runs = []
    for as_of in ("2026-11-01", "2026-12-01"):
        t0 = time.perf_counter()
        table, _ = score_table(args)
        table.columns = ["customer_id", "snapshot"] + list(table.columns[2:])
        table.insert(0, "as_of", as_of)
        table.to_sql("scores", con, if_exists="append", index=False)
        con.commit()
        runs.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    pair = pd.read_sql_query(
        "SELECT n.customer_id, o.health_score AS before, n.health_score AS after, o.band AS band_before, n.band AS band_after "
        "FROM scores n JOIN scores o ON o.customer_id = n.customer_id AND o.as_of = ? WHERE n.as_of = ?",
        con, params=("2026-11-01", "2026-12-01"))
    new = con.execute("SELECT count(*) FROM scores n WHERE n.as_of = ? AND NOT EXISTS "
                      "(SELECT 1 FROM scores o WHERE o.as_of = ? AND o.customer_id = n.customer_id)",
                      ("2026-12-01", "2026-11-01")).fetchone()[0]
    gone = con.execute("SELECT count(*) FROM scores o WHERE o.as_of = ? AND NOT EXISTS "
                       "(SELECT 1 FROM scores n WHERE n.as_of = ? AND n.customer_id = o.customer_id)",
                       ("2026-11-01", "2026-12-01")).fetchone()[0]
    change = pair["after"] - pair["before"]
    threshold = float(change.abs().median())
    worsened = pair[change < -threshold].assign(change=change).nsmallest(25, "change")
    moves = pd.crosstab(pair["band_before"], pair["band_after"])
    t1 = time.perf_counter()
    con.close()
    return {"run_seconds": runs, "score_db_seconds": runs[-1], "trend_seconds": t1 - t0, "rows": int(len(pair)),
            "new": int(new), "gone": int(gone), "worsened_listed": int(len(worsened)), "band_moves": int(moves.size)}


def band_churn_rates(score, y, bands):
    """The churn rate per frozen band, best band first: a row belongs to the first band whose cut it reaches."""
    rates, assigned = {}, np.zeros(len(score), dtype=bool)
    for b in bands:
        inside = ~assigned & (score >= b["minScore"] if b.get("minScore") is not None else True)
        rates[b["label"]] = float(y[inside].mean()) if inside.any() else None
        assigned |= inside
    return rates


def cmd_evaluate(args):
    """What a user would write for `healthscore evaluate` with pandas + scikit-learn: read the
    labelled CSV, score it with the model's weights (set outside the timing), and compute AUC, log
    loss, Brier score and the decile calibration curve, plus the churn rate per frozen band."""
    import_everything()
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
    model_doc = json.load(open(args.model))
    coef = {c["term"]: c["estimate"] for c in model_doc["coefficients"]}
    bands = (model_doc.get("scoring") or {}).get("bands") or []
    t0 = time.perf_counter()
    df = read_pandas(args.csv)
    X, y, names, kept = build_design(df, args.target, args.id, args.time)
    beta = np.array([coef.get(n, 0.0) for n in names])
    p = 1.0 / (1.0 + np.exp(-(coef[INTERCEPT] + X @ beta)))
    t1 = time.perf_counter()
    auc = roc_auc_score(y, p)
    ll = log_loss(y, p)
    brier = brier_score_loss(y, p)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    rates = band_churn_rates(100.0 * (1.0 - p), y, bands)
    t2 = time.perf_counter()
    return {"score_seconds": t1 - t0, "metrics_seconds": t2 - t1, "in_process_seconds": t2 - t0, "rows": int(len(p)),
            "auc": auc, "log_loss": ll, "brier": brier, "calibration_bins": len(observed)}


def cmd_report(args):
    """What a user would write for `healthscore report` with pandas + scikit-learn: the report's
    numbers (per-metric summary and churned/retained histograms, ROC and AUC, decile calibration and
    lift, band churn rates, each customer's latest snapshot and the 25 current customers most at
    risk) written as HTML tables; no charts. Rows with a missing metric are left out of the
    judged set, as the model's drop policy does."""
    import_everything()
    import pandas as pd
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score, roc_curve
    model_doc = json.load(open(args.model))
    coef = {c["term"]: c["estimate"] for c in model_doc["coefficients"]}
    bands = (model_doc.get("scoring") or {}).get("bands") or []
    t0 = time.perf_counter()
    df = read_pandas(args.csv)
    metrics = [c for c in df.columns if c not in (args.target, args.id, args.time)]
    summary = df[metrics].describe(include="all").T
    summary["missing"] = df[metrics].isna().mean()
    X, y, names, kept = build_design(df, args.target, args.id, args.time)
    beta = np.array([coef.get(n, 0.0) for n in names])
    p = 1.0 / (1.0 + np.exp(-(coef[INTERCEPT] + X @ beta)))
    judged = kept.assign(p=p, score=100.0 * (1.0 - p))
    hist = {}
    for m in metrics:
        if pd.api.types.is_numeric_dtype(judged[m]):
            edges = np.histogram_bin_edges(judged[m].dropna(), bins=20)
            hist[m] = [np.histogram(judged.loc[judged[args.target] == v, m].dropna(), bins=edges)[0] for v in (0, 1)]
    auc = roc_auc_score(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    decile = pd.qcut(judged["p"].rank(method="first", ascending=False), 10, labels=False)
    lift = judged.groupby(decile)[args.target].mean() / judged[args.target].mean()
    rates = band_churn_rates(judged["score"].to_numpy(), y, bands)
    latest = df.sort_values(args.time).groupby(args.id, sort=False).tail(1)
    current = latest[latest[args.target] == 0].index.intersection(judged.index)
    at_risk = judged.loc[current].nlargest(25, "p")[[args.id, args.time, "score", "p"]]
    with open(args.out, "w") as f:
        f.write("<html><body>" + summary.to_html() + pd.DataFrame({"auc": [auc], "roc_points": [len(fpr)]}).to_html()
                + pd.DataFrame({"observed": observed, "predicted": predicted}).to_html() + lift.to_frame("lift").to_html()
                + pd.Series(rates, dtype=float).to_frame("churn rate").to_html() + at_risk.to_html() + "</body></html>")
    t1 = time.perf_counter()
    return {"in_process_seconds": t1 - t0, "rows": int(len(judged)), "customers": int(len(latest)), "auc": auc,
            "histograms": len(hist)}


def max_abs_dp(flat_rows, export_rows):
    """Largest |Δp| between the flat query and the export, rows matched by their id (engines may
    return rows in any order)."""
    flat = {r[0]: r[1] for r in flat_rows}
    return max(abs(flat[r[0]] - r[-3]) for r in export_rows if r[-3] is not None)


def cmd_sql(args):
    """The model's SQL export against a flat SELECT of the same weights
    (1/(1+exp(-(b0 + Σ b·x)))), on the first --rows rows of the CSV, in SQLite (Python's sqlite3)
    and DuckDB (over a Parquet copy). Returns each engine's seconds and the largest |Δp| between
    the export and the flat query (equal up to the flat query's summation order)."""
    import sqlite3
    import pandas as pd
    model_doc = json.load(open(args.model))
    sql = open(args.sql).read().rstrip().rstrip(";")
    df = pd.read_csv(args.csv, nrows=args.rows)
    columns = ", ".join('"%s"' % c for c in df.columns)
    terms = []
    for c in model_doc["coefficients"]:
        if c["term"] == INTERCEPT:
            continue
        if c.get("level") is not None:
            terms.append("%r * (CASE WHEN \"%s\" = '%s' THEN 1.0 ELSE 0.0 END)" % (c["estimate"], c["column"], c["level"]))
        else:
            terms.append("%r * \"%s\"" % (c["estimate"], c["column"]))
    b0 = next(c["estimate"] for c in model_doc["coefficients"] if c["term"] == INTERCEPT)
    flat = 'SELECT "%s", 1.0 / (1.0 + exp(-(%r + %s))) AS p FROM customers' % (args.id, b0, " + ".join(terms))
    out = {"rows": len(df)}

    def timed(run, query, repeats=3):
        best, result = None, None
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = run(query)
            s = time.perf_counter() - t0
            best = s if best is None else min(best, s)
        return best, result

    con = sqlite3.connect(":memory:")
    df.to_sql("customers", con, index=False)
    t_flat, r_flat = timed(lambda q: con.execute(q).fetchall(), flat)
    t_export, r_export = timed(lambda q: con.execute(q).fetchall(), sql, repeats=1)
    out["sqlite"] = {"version": sqlite3.sqlite_version, "flat_seconds": t_flat, "export_seconds": t_export,
                     "max_abs_dp": max_abs_dp(r_flat, r_export)}
    try:
        import duckdb
    except ImportError:
        return out
    import tempfile, os
    parquet = os.path.join(tempfile.mkdtemp(), "customers.parquet")
    duck = duckdb.connect()
    duck.register("frame", df)
    duck.execute("COPY (SELECT * FROM frame) TO '%s' (FORMAT parquet)" % parquet)
    duck.execute("CREATE VIEW customers AS SELECT * FROM read_parquet('%s')" % parquet)
    t_flat, r_flat = timed(lambda q: duck.execute(q).fetchall(), flat)
    t_export, r_export = timed(lambda q: duck.execute(q).fetchall(), sql)
    out["duckdb"] = {"version": duckdb.__version__, "flat_seconds": t_flat, "export_seconds": t_export,
                     "max_abs_dp": max_abs_dp(r_flat, r_export)}
    return out


def cmd_encv(args):
    """LogisticRegressionCV over Cs values of C, elastic net at l1_ratio 0.5,
    saga, on the standardised design (saga needs it; done outside the timing)."""
    import_everything()
    from sklearn.linear_model import LogisticRegressionCV
    df = read_pandas(args.csv)
    X, y, names, _ = build_design(df, args.target, args.id, args.time)
    del df
    X = (X - X.mean(axis=0)) / np.where(column_sd(X) > 0, column_sd(X), 1.0)
    kwargs = dict(Cs=args.cs, cv=args.folds, solver="saga", l1_ratios=[0.5], max_iter=args.max_iter, tol=1e-4)
    params = inspect.signature(LogisticRegressionCV).parameters
    if "penalty" in params and params["penalty"].default != "deprecated":
        kwargs["penalty"] = "elasticnet"
    call = "LogisticRegressionCV(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ") on standardised X"
    exceeded, seconds, info = False, None, {}
    arm_budget(args.budget)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = LogisticRegressionCV(**kwargs).fit(X, y)
        seconds = time.perf_counter() - t0
        info = {"C": float(np.ravel(model.C_)[0]), "nonzero": int(np.count_nonzero(model.coef_)),
                "warnings": sorted({str(w.message).splitlines()[0] for w in caught})}
    except BudgetExceeded:
        exceeded = True
    disarm_budget()
    return {"seconds": [seconds] if seconds is not None else [], "budget_exceeded": exceeded,
            "budget": args.budget, "call": call, "rows": int(X.shape[0]), "terms": len(names) + 1,
            "info": info}


def limit_threads(n):
    """--threads N: cap numpy/scipy BLAS, scikit-learn's OpenMP, pyarrow and
    polars at N threads (threadpoolctl acts on the libraries loaded so far,
    so load them all first; polars reads its variable at import)."""
    os.environ["POLARS_MAX_THREADS"] = str(n)
    import pyarrow
    import scipy.linalg  # noqa: F401
    import_everything()
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=n)
    pyarrow.set_cpu_count(n)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--threads", type=int, default=0,
                        help="cap BLAS/OpenMP/pyarrow/polars threads at N (0: the libraries' defaults)")
    common.add_argument("--budget", type=float, default=0,
                        help="seconds of measured calls after which the peer stops (0: no limit)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", parents=[common])
    for name in ("ingest", "fit", "e2e", "score", "evaluate", "report", "sql", "encv", "history"):
        p = sub.add_parser(name, parents=[common])
        if name == "ingest":
            p.add_argument("lib", choices=["pandas", "pyarrow", "polars"])
        if name == "fit":
            p.add_argument("peer", choices=["sklearn-newton-cholesky", "sklearn-lbfgs", "glum", "statsmodels"])
            p.add_argument("--penalty", choices=["none", "l2"], default="none")
            p.add_argument("--lam", type=float, default=0.0, help="λ on glmnet's scale (with --penalty l2)")
            p.add_argument("--lbfgs-max-iter", type=int, default=LBFGS_MAX_ITER)
        p.add_argument("csv")
        if name == "evaluate":
            p.add_argument("model")
        if name == "report":
            p.add_argument("model")
            p.add_argument("out")
        if name == "sql":
            p.add_argument("model")
            p.add_argument("sql")
            p.add_argument("--rows", type=int, default=100_000)
        if name == "score":
            p.add_argument("model")
            p.add_argument("out")
            p.add_argument("--reasons", type=int, default=0)
        if name == "history":
            p.add_argument("model")
            p.add_argument("db")
            p.set_defaults(reasons=3)
        if name == "encv":
            p.add_argument("--cs", type=int, default=100)
            p.add_argument("--folds", type=int, default=10)
            p.add_argument("--max-iter", type=int, default=1000)
        p.add_argument("--repeats", type=int, default=3)
        p.add_argument("--target", default="churned_next_month")
        p.add_argument("--id", default="customer_id")
        p.add_argument("--time", default="snapshot_date")
    args = parser.parse_args()
    if args.threads > 0:
        limit_threads(args.threads)
    handler = {"env": cmd_env, "ingest": cmd_ingest, "fit": cmd_fit, "e2e": cmd_e2e,
               "score": cmd_score, "evaluate": cmd_evaluate, "report": cmd_report, "sql": cmd_sql, "encv": cmd_encv,
               "history": cmd_history}[args.command]
    json.dump(handler(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
