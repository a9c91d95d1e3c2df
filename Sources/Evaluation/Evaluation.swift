// Backtests, cross-validation and model comparison.
