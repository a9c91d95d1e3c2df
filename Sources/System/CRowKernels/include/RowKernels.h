#ifndef HEALTHSCORE_ROWKERNELS_H
#define HEALTHSCORE_ROWKERNELS_H

/// The per-row arithmetic of a logistic Newton pass and of standardising its columns, vectorised: exp and log1p cost ~30% of a pass
/// when called one value at a time, and a scalar libm call does not vectorise. The lanes evaluate
/// their own exp and log1p polynomials (error within ~1 ulp of the correctly rounded value), chosen
/// at run time for AVX-512 or AVX2+FMA; other machines run the libm loop.
///
/// For each row i: e = exp(−|ηᵢ|), μ and q = 1 − μ each without cancellation, softplus(ηᵢ) =
/// max(ηᵢ, 0) + log1p(e); residual[i] = vᵢ·(yᵢ·q − (1 − yᵢ)·μ), sqrtWeight[i] = √(vᵢ·μ·q).
/// Returns Σ vᵢ·(softplus(ηᵢ) − yᵢηᵢ) (half the deviance). `weights` may be NULL (all 1).
double healthscore_logistic_rows(const double *eta, const double *y, const double *weights, long rows,
                                 double *residual, double *sqrtWeight);

/// Σ vᵢ·(softplus(ηᵢ) − yᵢηᵢ) alone (half the deviance), for passes that need only the objective.
double healthscore_logistic_halfDeviance(const double *eta, const double *y, const double *weights, long rows);

/// Σ wᵢ·xᵢ, or Σ wᵢ·(xᵢ − centre)² when `squared` (the two passes of a column's mean and variance);
/// `weights` may be NULL (all 1).
double healthscore_column_sum(const double *x, const double *weights, long rows, int squared, double centre);

/// out[i] = (x[i] − mean)·inverseScale; `out` may be `x`.
void healthscore_column_standardise(const double *x, double *out, long rows, double mean, double inverseScale);

/// Lanes of the path this machine runs: 8 (AVX-512), 4 (AVX2+FMA) or 1 (libm).
int healthscore_logistic_lanes(void);

/// `healthscore_logistic_rows` on the path of the given lanes (at most this machine's; 1 is libm),
/// so tests can hold each path against libm's.
double healthscore_logistic_rowsWithLanes(int lanes, const double *eta, const double *y, const double *weights,
                                          long rows, double *residual, double *sqrtWeight);

#endif
