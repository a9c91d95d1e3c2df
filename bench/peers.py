#!/usr/bin/env python3
"""Peer measurements for the healthscore speed judge (bench/run.sh).

Each subcommand runs one kind of measurement in this process and prints one
JSON document on stdout; bench/compare.py starts a fresh process per
subcommand and collects the documents.

    env                     versions, BLAS/OpenMP pools seen by numpy (threadpoolctl)
    ingest-pandas CSV       pandas.read_csv, REPEATS times
    ingest-pyarrow CSV      pyarrow.csv.read_csv, REPEATS times
    fit PEER CSV            read + design once, then fit PEER REPEATS times
                            (fewer if --budget seconds would be passed);
                            PEER is sklearn-newton-cholesky, sklearn-lbfgs or
                            statsmodels-newton
    e2e CSV                 read_csv + design + sklearn newton-cholesky, once
                            (the caller times the whole process as well)

Every subcommand takes --threads N to cap the peers' BLAS, OpenMP and
pyarrow threads (default: the libraries' own defaults, i.e. all cores).

Only the call being measured sits between the two time.perf_counter() reads.
"""

import argparse
import inspect
import json
import sys
import time
import warnings

import numpy as np

INTERCEPT = "(Intercept)"
LBFGS_MAX_ITER = 20_000


# --------------------------------------------------------------------------
# Design: the same one healthscore builds with its default --missing drop.
# --------------------------------------------------------------------------

def build_design(df, target, id_col, time_col):
    """Complete cases, numeric columns as they are, text columns one-hot with
    the first level in byte order as the reference.  Returns X (float64,
    no intercept column), y (float64) and the term names of X's columns in
    healthscore's spelling (`plan[pro]`)."""
    import pandas as pd

    features = [c for c in df.columns if c not in (target, id_col, time_col)]
    complete = df[features + [target]].notna().all(axis=1)
    kept = df.loc[complete]

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
    y = kept[target].to_numpy(dtype=np.float64)
    return X, y, names


def read_pandas(path):
    import pandas as pd
    return pd.read_csv(path)


# --------------------------------------------------------------------------
# Fitters: each returns (seconds, coefficients by term, extra info).
# --------------------------------------------------------------------------

def sklearn_model(solver, max_iter):
    from sklearn.linear_model import LogisticRegression
    kwargs = dict(solver=solver, tol=1e-10, max_iter=max_iter)
    # scikit-learn 1.8 deprecated penalty=None in favour of C=inf (same model).
    if inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated":
        kwargs["C"] = np.inf
        spelled = "C=inf (penalty=None is deprecated in this version)"
    else:
        kwargs["penalty"] = None
        spelled = "penalty=None"
    return LogisticRegression(**kwargs), spelled


def fit_sklearn(X, y, names, solver, max_iter):
    from sklearn.exceptions import ConvergenceWarning
    model, spelled = sklearn_model(solver, max_iter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - t0
    n_iter = int(np.max(model.n_iter_))
    not_converged = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    coefs = {INTERCEPT: float(model.intercept_[0])}
    coefs.update({n: float(b) for n, b in zip(names, model.coef_[0])})
    info = {
        "call": f"LogisticRegression({spelled}, solver={solver!r}, tol=1e-10, max_iter={max_iter})",
        "iterations": n_iter,
        "converged": (not not_converged) and n_iter < max_iter,
        "warnings": sorted({str(w.message).splitlines()[0] for w in caught}),
    }
    return seconds, coefs, None, info


def fit_statsmodels(X, y, names):
    import statsmodels.api as sm
    Xc = sm.add_constant(X, has_constant="add")
    model = sm.Logit(y, Xc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        result = model.fit(method="newton", tol=1e-12, maxiter=100, disp=0)
        seconds = time.perf_counter() - t0
    terms = [INTERCEPT] + names
    coefs = {t: float(b) for t, b in zip(terms, result.params)}
    ses = {t: float(s) for t, s in zip(terms, result.bse)}
    info = {
        "call": "Logit(y, add_constant(X)).fit(method='newton', tol=1e-12, maxiter=100, disp=0)",
        "iterations": int(result.mle_retvals.get("iterations", -1)),
        "converged": bool(result.mle_retvals.get("converged", False)),
        "warnings": sorted({str(w.message).splitlines()[0] for w in caught}),
    }
    return seconds, coefs, ses, info


def run_fit(peer, X, y, names, lbfgs_max_iter=None):
    if peer == "sklearn-newton-cholesky":
        return fit_sklearn(X, y, names, "newton-cholesky", 200)
    if peer == "sklearn-lbfgs":
        return fit_sklearn(X, y, names, "lbfgs", lbfgs_max_iter or LBFGS_MAX_ITER)
    if peer == "statsmodels-newton":
        return fit_statsmodels(X, y, names)
    raise SystemExit(f"unknown peer {peer!r}")


# --------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------

def cmd_env(args):
    import pandas, pyarrow, sklearn, statsmodels, threadpoolctl
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
            "scikit-learn": sklearn.__version__, "statsmodels": statsmodels.__version__,
            "threadpoolctl": threadpoolctl.__version__,
        },
        "threadpools": pools,
        "pyarrow_cpu_count": pyarrow.cpu_count(),
    }


def cmd_ingest_pandas(args):
    import pandas as pd
    times, shape = [], None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        df = pd.read_csv(args.csv)
        times.append(time.perf_counter() - t0)
        shape = list(df.shape)
        del df
    return {"seconds": times, "shape": shape, "call": "pandas.read_csv(path)"}


def cmd_ingest_pyarrow(args):
    import pyarrow.csv
    times, shape = [], None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        table = pyarrow.csv.read_csv(args.csv)
        times.append(time.perf_counter() - t0)
        shape = [table.num_rows, table.num_columns]
        del table
    return {"seconds": times, "shape": shape, "call": "pyarrow.csv.read_csv(path)"}


def import_everything():
    """Imports outside the timed regions (their cost shows only in the
    whole-process wall clock that compare.py takes)."""
    import pandas  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import statsmodels.api  # noqa: F401


def cmd_fit(args):
    import_everything()
    t0 = time.perf_counter()
    df = read_pandas(args.csv)
    read_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    X, y, names = build_design(df, args.target, args.id, args.time)
    design_seconds = time.perf_counter() - t0
    del df
    times = []
    for _ in range(args.repeats):
        seconds, coefs, ses, info = run_fit(args.peer, X, y, names, args.lbfgs_max_iter)
        times.append(seconds)
        # A slow peer (lbfgs) gets fewer repeats rather than an endless run.
        if args.budget and sum(times) + seconds > args.budget:
            break
    return {
        "peer": args.peer, "seconds": times, "coefficients": coefs, "standard_errors": ses,
        "info": info, "rows": int(X.shape[0]), "repeats_asked": args.repeats, "terms": len(names) + 1,
        "read_seconds": read_seconds, "design_seconds": design_seconds,
    }


def cmd_e2e(args):
    import pandas  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    t0 = time.perf_counter()
    df = read_pandas(args.csv)
    t1 = time.perf_counter()
    X, y, names = build_design(df, args.target, args.id, args.time)
    t2 = time.perf_counter()
    fit_seconds, coefs, _, info = run_fit("sklearn-newton-cholesky", X, y, names)
    t3 = time.perf_counter()
    return {
        "read_seconds": t1 - t0, "design_seconds": t2 - t1, "fit_seconds": fit_seconds,
        "in_process_seconds": t3 - t0, "rows": int(X.shape[0]), "info": info,
    }


def limit_threads(n):
    """--threads N: cap numpy/scipy BLAS, scikit-learn's OpenMP and pyarrow at
    N threads (threadpoolctl acts on the libraries loaded so far, so load
    them all first)."""
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
                        help="cap BLAS/OpenMP/pyarrow threads at N (0: leave the libraries' defaults)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", parents=[common])
    for name in ("ingest-pandas", "ingest-pyarrow", "fit", "e2e"):
        p = sub.add_parser(name, parents=[common])
        if name == "fit":
            p.add_argument("peer", choices=["sklearn-newton-cholesky", "sklearn-lbfgs", "statsmodels-newton"])
            p.add_argument("--budget", type=float, default=0,
                           help="stop repeating once the fits would pass this many seconds (0: no limit)")
            p.add_argument("--lbfgs-max-iter", type=int, default=LBFGS_MAX_ITER)
        p.add_argument("csv")
        p.add_argument("--repeats", type=int, default=3)
        p.add_argument("--target", default="churned_next_month")
        p.add_argument("--id", default="customer_id")
        p.add_argument("--time", default="snapshot_date")
    args = parser.parse_args()
    if args.threads > 0:
        limit_threads(args.threads)
    handler = {
        "env": cmd_env, "ingest-pandas": cmd_ingest_pandas, "ingest-pyarrow": cmd_ingest_pyarrow,
        "fit": cmd_fit, "e2e": cmd_e2e,
    }[args.command]
    json.dump(handler(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
