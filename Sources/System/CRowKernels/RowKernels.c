#include "RowKernels.h"
#include <math.h>
#include <stddef.h>

#if defined(__x86_64__) && defined(__clang__)
#define HAVE_LANES 1
#define LANES 8
#define TARGET "avx512f"
#define SUFFIX _avx512
#include "lanes.h"
#undef LANES
#undef TARGET
#undef SUFFIX
#define LANES 4
#define TARGET "avx2,fma"
#define SUFFIX _avx2
#include "lanes.h"
#endif

static int chosenLanes = 0;

static int detectLanes(void) {
#if HAVE_LANES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 8;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 4;
#endif
    return 1;
}

int healthscore_logistic_lanes(void) {
    int lanes = __atomic_load_n(&chosenLanes, __ATOMIC_RELAXED);
    if (lanes == 0) {
        lanes = detectLanes();
        __atomic_store_n(&chosenLanes, lanes, __ATOMIC_RELAXED);
    }
    return lanes;
}


/// The scalar path (and every vector path's tail): libm's exp and log1p.
static void scalarLane(double eta, double *mu, double *q, double *softplus) {
    double e = exp(-fabs(eta));
    double s = 1 / (1 + e);
    *mu = eta >= 0 ? s : e * s;
    *q = eta >= 0 ? e * s : s;
    *softplus = (eta > 0 ? eta : 0) + log1p(e);
}

double healthscore_logistic_rowsWithLanes(int lanes, const double *eta, const double *y, const double *weights,
                                          long rows, double *residual, double *sqrtWeight) {
    double total = 0;
    long i = 0;
#if HAVE_LANES
    switch (lanes <= healthscore_logistic_lanes() ? lanes : 1) {
    case 8: total = rows_avx512(eta, y, weights, rows, residual, sqrtWeight, &i); break;
    case 4: total = rows_avx2(eta, y, weights, rows, residual, sqrtWeight, &i); break;
    default: break;
    }
#endif
    for (; i < rows; i++) {
        double mu, q, sp, v = weights ? weights[i] : 1;
        scalarLane(eta[i], &mu, &q, &sp);
        total += v * (sp - y[i] * eta[i]);
        if (residual) {
            residual[i] = v * (y[i] * q - (1 - y[i]) * mu);
            sqrtWeight[i] = sqrt(v * mu * q);
        }
    }
    return total;
}

double healthscore_logistic_rows(const double *eta, const double *y, const double *weights, long rows,
                                 double *residual, double *sqrtWeight) {
    return healthscore_logistic_rowsWithLanes(healthscore_logistic_lanes(), eta, y, weights, rows, residual, sqrtWeight);
}

double healthscore_logistic_halfDeviance(const double *eta, const double *y, const double *weights, long rows) {
    return healthscore_logistic_rowsWithLanes(healthscore_logistic_lanes(), eta, y, weights, rows, NULL, NULL);
}

double healthscore_column_sum(const double *x, const double *weights, long rows, int squared, double centre) {
    double total = 0;
    long i = 0;
#if HAVE_LANES
    switch (healthscore_logistic_lanes()) {
    case 8: total = columnSum_avx512(x, weights, rows, squared, centre, &i); break;
    case 4: total = columnSum_avx2(x, weights, rows, squared, centre, &i); break;
    default: break;
    }
#endif
    for (; i < rows; i++) {
        double t = squared ? (x[i] - centre) * (x[i] - centre) : x[i];
        total += weights ? weights[i] * t : t;
    }
    return total;
}

void healthscore_column_standardise(const double *x, double *out, long rows, double mean, double inverseScale) {
    long i = 0;
#if HAVE_LANES
    switch (healthscore_logistic_lanes()) {
    case 8: i = standardise_avx512(x, out, rows, mean, inverseScale); break;
    case 4: i = standardise_avx2(x, out, rows, mean, inverseScale); break;
    default: break;
    }
#endif
    for (; i < rows; i++) out[i] = (x[i] - mean) * inverseScale;
}
