// One vector path of RowKernels.c, instantiated per instruction set: the includer defines
// LANES (4 or 8), TARGET (the target attribute) and SUFFIX (appended to the function names).
// Only IEEE arithmetic, fused multiply-add and bit operations; no table, so each lane's result
// does not depend on its neighbours.

#define PASTE2(a, b) a##b
#define PASTE(a, b) PASTE2(a, b)
#define VD PASTE(vd, LANES)
#define VL PASTE(vl, LANES)
#define FN(name) PASTE(name, SUFFIX)

typedef double VD __attribute__((ext_vector_type(LANES)));
typedef long VL __attribute__((ext_vector_type(LANES)));

static inline __attribute__((target(TARGET), always_inline)) VD FN(load)(const double *p) {
    VD v; __builtin_memcpy(&v, p, sizeof v); return v;
}
static inline __attribute__((target(TARGET), always_inline)) void FN(store)(double *p, VD v) {
    __builtin_memcpy(p, &v, sizeof v);
}
static inline __attribute__((target(TARGET), always_inline)) VD FN(select)(VL mask, VD a, VD b) {
    return (VD)((mask & (VL)a) | (~mask & (VL)b));
}
static inline __attribute__((target(TARGET), always_inline)) VD FN(fma)(VD a, VD b, VD c) {
    return __builtin_elementwise_fma(a, b, c);
}

/// e^x for x ≤ 0: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r¹³ (truncation
/// < 5e-18 relative), scaled by 2^k through the exponent bits; 0 below −745.2, where e^x rounds to 0.
static inline __attribute__((target(TARGET), always_inline)) VD FN(expNonPositive)(VD x) {
    const VD shifter = 0x1.8p52;
    VD kShifted = FN(fma)(x, (VD)0x1.71547652b82fep0, shifter);   // round(x/ln2) + 1.5·2^52
    VD k = kShifted - shifter;
    VD r = FN(fma)(k, (VD)-0x1.62e42fefa39efp-1, x);               // x − k·ln2 (ln2 in two parts)
    r = FN(fma)(k, (VD)-0x1.abc9e3b39803fp-56, r);
    VD p = (VD)(1.0 / 6227020800.0);                                  // 1/13!
    p = FN(fma)(p, r, (VD)(1.0 / 479001600.0));
    p = FN(fma)(p, r, (VD)(1.0 / 39916800.0));
    p = FN(fma)(p, r, (VD)(1.0 / 3628800.0));
    p = FN(fma)(p, r, (VD)(1.0 / 362880.0));
    p = FN(fma)(p, r, (VD)(1.0 / 40320.0));
    p = FN(fma)(p, r, (VD)(1.0 / 5040.0));
    p = FN(fma)(p, r, (VD)(1.0 / 720.0));
    p = FN(fma)(p, r, (VD)(1.0 / 120.0));
    p = FN(fma)(p, r, (VD)(1.0 / 24.0));
    p = FN(fma)(p, r, (VD)(1.0 / 6.0));
    p = FN(fma)(p, r, (VD)0.5);
    p = FN(fma)(p, r, (VD)1.0);
    p = FN(fma)(p, r, (VD)1.0);
    // k sits in the low bits of kShifted's mantissa. 2^k as 2^⌊k/2⌋·2^(k − ⌊k/2⌋), each a normal
    // number (bits (j + 1023) << 52), so results below 2^−1022 underflow gradually as libm's do.
    VL kBits = (VL)kShifted - (VL)shifter;
    VL half = kBits >> 1;
    VD low = (VD)((half + 1023) << 52), high = (VD)((kBits - half + 1023) << 52);
    VL underflow = x < (VD)-745.2;
    return FN(select)(underflow, (VD)0.0, p * low * high);
}

/// log(1 + t) for t in [0, 1]: u = fl(1 + t) and log1p(t) = log(u) + (t − (u − 1))/u, where
/// 1/u is the caller's `inverseU` (μ's own 1/(1 + e)). log(u) = k·ln2 + log(m), m = u or u/2 in
/// [√½, √2]; with f = m − 1 (exact) and s = f/(2 + f), log(m) = f − (f²/2 − s·(f²/2 + R)),
/// R = Σ_{j=1..10} 2s^{2j}/(2j + 1) (truncation < 1e-18 relative for |s| ≤ 0.1716).
static inline __attribute__((target(TARGET), always_inline)) VD FN(log1pUnit)(VD t, VD u, VD inverseU) {
    VL big = u > (VD)0x1.6a09e667f3bcdp0;   // √2
    VD m = FN(select)(big, u * 0.5, u);
    VD k = FN(select)(big, (VD)1.0, (VD)0.0);
    VD f = m - 1.0;
    VD s = f / (2.0 + f);
    VD z = s * s;
    VD R = (VD)(2.0 / 21.0);
    R = FN(fma)(R, z, (VD)(2.0 / 19.0));
    R = FN(fma)(R, z, (VD)(2.0 / 17.0));
    R = FN(fma)(R, z, (VD)(2.0 / 15.0));
    R = FN(fma)(R, z, (VD)(2.0 / 13.0));
    R = FN(fma)(R, z, (VD)(2.0 / 11.0));
    R = FN(fma)(R, z, (VD)(2.0 / 9.0));
    R = FN(fma)(R, z, (VD)(2.0 / 7.0));
    R = FN(fma)(R, z, (VD)(2.0 / 5.0));
    R = FN(fma)(R, z, (VD)(2.0 / 3.0));
    R = R * z;
    VD halfSquare = 0.5 * f * f;
    VD logM = f - (halfSquare - s * (halfSquare + R));
    VD correction = (t - (u - 1.0)) * inverseU;
    return FN(fma)(k, (VD)0x1.62e42fefa39efp-1, logM + FN(fma)(k, (VD)0x1.abc9e3b39803fp-56, correction));
}

/// μ, q = 1 − μ and softplus for a vector of η (the expressions of the scalar path).
static inline __attribute__((target(TARGET), always_inline))
void FN(lane)(VD eta, VD *mu, VD *q, VD *softplus) {
    VD a = __builtin_elementwise_abs(eta);
    VD e = FN(expNonPositive)(-a);
    VD u = 1.0 + e;
    VD s = 1.0 / u;
    VL positive = eta >= (VD)0.0;
    VD es = e * s;
    *mu = FN(select)(positive, s, es);
    *q = FN(select)(positive, es, s);
    *softplus = __builtin_elementwise_max(eta, (VD)0.0) + FN(log1pUnit)(e, u, s);
}

static inline __attribute__((target(TARGET), always_inline)) double FN(sum)(VD v) {
    double out = 0;
    for (int i = 0; i < LANES; i++) out += v[i];
    return out;
}

/// The rows of `healthscore_logistic_rows` (residual and sqrtWeight NULL: the half deviance alone);
/// `*done` rows are taken, a multiple of LANES.
static __attribute__((target(TARGET)))
double FN(rows)(const double *eta, const double *y, const double *weights, long n, double *residual,
                double *sqrtWeight, long *done) {
    VD total = 0.0;
    long i = 0;
    for (; i + LANES <= n; i += LANES) {
        VD e = FN(load)(eta + i), yi = FN(load)(y + i);
        VD mu, q, sp;
        FN(lane)(e, &mu, &q, &sp);
        VD v = weights ? FN(load)(weights + i) : (VD)1.0;
        total = FN(fma)(v, sp - yi * e, total);
        if (residual) {
            FN(store)(residual + i, v * (yi * q - (1.0 - yi) * mu));
            FN(store)(sqrtWeight + i, __builtin_elementwise_sqrt(v * mu * q));
        }
    }
    *done = i;
    return FN(sum)(total);
}

/// Σ wᵢ·f(xᵢ) with f(x) = x, or (x − centre)² when `squared`; four vector accumulators.
static __attribute__((target(TARGET)))
double FN(columnSum)(const double *x, const double *w, long n, int squared, double centre, long *done) {
    VD a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    long i = 0;
    for (; i + 4 * LANES <= n; i += 4 * LANES) {
        VD t0 = FN(load)(x + i), t1 = FN(load)(x + i + LANES), t2 = FN(load)(x + i + 2 * LANES), t3 = FN(load)(x + i + 3 * LANES);
        if (squared) { t0 -= centre; t1 -= centre; t2 -= centre; t3 -= centre; t0 *= t0; t1 *= t1; t2 *= t2; t3 *= t3; }
        if (w) {
            a0 = FN(fma)(FN(load)(w + i), t0, a0); a1 = FN(fma)(FN(load)(w + i + LANES), t1, a1);
            a2 = FN(fma)(FN(load)(w + i + 2 * LANES), t2, a2); a3 = FN(fma)(FN(load)(w + i + 3 * LANES), t3, a3);
        } else {
            a0 += t0; a1 += t1; a2 += t2; a3 += t3;
        }
    }
    *done = i;
    return FN(sum)((a0 + a1) + (a2 + a3));
}

static __attribute__((target(TARGET)))
long FN(standardise)(const double *x, double *out, long n, double mean, double inverseScale) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) FN(store)(out + i, (FN(load)(x + i) - mean) * inverseScale);
    return i;
}

#undef VD
#undef VL
#undef FN
