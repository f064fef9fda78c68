"""Numba kernel for virtual populations (imported lazily by ``_population``).

Per individual, the central amount of a mammillary model is a sum of three modes,
z_j' = -lam_j z_j + c_j rate, with lam_j the roots of the characteristic cubic and c_j
the central unit-impulse coefficients. On a uniform grid, inside a segment of constant
rate starting at grid point 0 of the segment, z_j(k) = zinf_j + d_j E_j^k with
zinf_j = c_j rate / lam_j, d_j = z_j(0) - zinf_j and E_j = exp(-lam_j dt), exactly.

* The grid sum of a segment (for the trapezoid AUC) is a geometric series per mode.
* The grid peak of a segment needs no scan when every d_j has the same sign: the curve is
  then monotone (all modes rise, or all fall), so the peak is the segment's last or first
  point. Otherwise the points are scanned until an upper bound of the rest of the
  segment (sum of zinf plus the positive d_j E_j^k, which only fall) drops below the best.
* The state at the segment's end is one exponential per mode.

So an individual costs a few exponentials per event, not one step per grid point; the
full curves (``keep``) are filled by the step recurrence.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["population"]


@numba.njit(cache=True)
def _eig3(k10: float, k12: float, k13: float, k21: float, k31: float) -> tuple[float, float, float]:
    """Roots of the characteristic cubic x^3 - a2 x^2 + a1 x - a0 of the central-peripheral
    rate matrix (all real and positive for a mammillary model): the largest by Newton's
    method from a2 (the sum of the roots, above the largest, where the cubic is convex and
    increasing, so the iteration falls monotonically onto the root), the other two from the
    deflated quadratic without cancellation. No trigonometric functions: this is the
    kernel's most frequent work."""
    a0 = k10 * k21 * k31
    a1 = k10 * k31 + k21 * k31 + k21 * k13 + k10 * k21 + k31 * k12
    a2 = k10 + k12 + k13 + k21 + k31
    x = a2
    for _ in range(60):
        step = (((x - a2) * x + a1) * x - a0) / ((3.0 * x - 2.0 * a2) * x + a1)
        x -= step
        if step <= 1e-15 * x:
            break
    b, c = a2 - x, a0 / x  # sum and product of the other two roots
    r1 = 0.5 * (b + np.sqrt(max(0.0, b * b - 4.0 * c)))
    return x, r1, c / r1


@numba.njit(cache=True)
def _modes(k10: float, k12: float, k13: float, k21: float, k31: float) -> tuple[float, ...]:
    """(lam0, lam1, lam2, c0, c1, c2): decay rates and central unit-impulse coefficients;
    a two-compartment individual (k13 = k31 = 0) has a third mode with c2 = 0."""
    if k13 == 0.0 and k31 == 0.0:
        b = k10 + k12 + k21
        root = np.sqrt(b * b - 4.0 * k10 * k21)
        l0, l1 = 0.5 * (b + root), 2.0 * k10 * k21 / (b + root)
        return l0, l1, 1.0, (k21 - l0) / (l1 - l0), (k21 - l1) / (l0 - l1), 0.0
    l0, l1, l2 = _eig3(k10, k12, k13, k21, k31)
    c0 = (k21 - l0) * (k31 - l0) / ((l1 - l0) * (l2 - l0))
    c1 = (k21 - l1) * (k31 - l1) / ((l0 - l1) * (l2 - l1))
    c2 = (k21 - l2) * (k31 - l2) / ((l0 - l2) * (l1 - l2))
    return l0, l1, l2, c0, c1, c2


@numba.njit(cache=True)
def _one(
    k10: float,
    k12: float,
    k13: float,
    k21: float,
    k31: float,
    scale: float,
    seg_start: NDArray[np.int64],
    seg_rate: NDArray[np.float64],
    seg_bolus: NDArray[np.float64],
    dt: float,
    npts: int,
    keep: bool,
    curves: NDArray[np.float64],
    row: int,
) -> tuple[float, float, float]:
    l0, l1, l2, c0, c1, c2 = _modes(k10, k12, k13, k21, k31)
    e0, e1, e2 = np.exp(-l0 * dt), np.exp(-l1 * dt), np.exp(-l2 * dt)
    # divisions once per individual; the segments only multiply
    i0, i1, i2 = 1.0 / l0, 1.0 / l1, 1.0 / l2
    g0, g1, g2 = 1.0 / (1.0 - e0), 1.0 / (1.0 - e1), 1.0 / (1.0 - e2)
    b0, b1, b2 = 1.0 / e0, 1.0 / e1, 1.0 / e2
    z0 = z1 = z2 = 0.0
    nseg = seg_start.shape[0]
    lead = min(seg_start[0], npts) if nseg else npts
    best, best_k, grid_sum, first, last = -1.0, 0, 0.0, 0.0, 0.0
    if lead > 0:
        best = 0.0  # nothing given before the first event
        if keep:
            curves[row, :lead] = 0.0
    for s in range(nseg):
        lo = seg_start[s]
        n = (seg_start[s + 1] if s + 1 < nseg else npts) - lo
        rate, dose = seg_rate[s], seg_bolus[s]
        z0, z1, z2 = z0 + c0 * dose, z1 + c1 * dose, z2 + c2 * dose
        f0, f1, f2 = c0 * rate * i0, c1 * rate * i1, c2 * rate * i2
        d0, d1, d2 = z0 - f0, z1 - f1, z2 - f2
        if n <= 0:
            continue
        flat = f0 + f1 + f2
        at0 = (flat + d0 + d1 + d2) * scale
        if s == 0 and lead == 0:
            first = at0
        h = n * dt
        n0, n1, n2 = np.exp(-l0 * h), np.exp(-l1 * h), np.exp(-l2 * h)
        # grid sum of the segment: sum_{k<n} E^k = (1 - E^n) / (1 - E) per mode
        grid_sum += (flat * n + d0 * (1 - n0) * g0 + d1 * (1 - n1) * g1 + d2 * (1 - n2) * g2) * scale
        end = (flat + d0 * n0 * b0 + d1 * n1 * b1 + d2 * n2 * b2) * scale
        if keep:
            w0, w1, w2 = d0, d1, d2
            for k in range(n):
                curves[row, lo + k] = (flat + w0 + w1 + w2) * scale
                w0, w1, w2 = w0 * e0, w1 * e1, w2 * e2
        if d0 >= 0.0 and d1 >= 0.0 and d2 >= 0.0:  # every mode falls: the first point is the peak
            if at0 > best:
                best, best_k = at0, lo
        elif d0 <= 0.0 and d1 <= 0.0 and d2 <= 0.0:  # every mode rises: the last point is
            if end > best:
                best, best_k = end, lo + n - 1
        else:
            w0, w1, w2 = d0, d1, d2
            for k in range(n):
                conc = (flat + w0 + w1 + w2) * scale
                if conc > best:
                    best, best_k = conc, lo + k
                if (flat + max(w0, 0.0) + max(w1, 0.0) + max(w2, 0.0)) * scale <= best:
                    break  # no later point of the segment can beat the best
                w0, w1, w2 = w0 * e0, w1 * e1, w2 * e2
        last = end
        z0, z1, z2 = f0 + d0 * n0, f1 + d1 * n1, f2 + d2 * n2
    auc = dt * (grid_sum - 0.5 * (first + last))
    return best, best_k * dt, auc


@numba.njit(cache=True, parallel=True)
def population_scalar(
    v1: NDArray[np.float64],
    k10: NDArray[np.float64],
    k12: NDArray[np.float64],
    k13: NDArray[np.float64],
    k21: NDArray[np.float64],
    k31: NDArray[np.float64],
    seg_start: NDArray[np.int64],
    seg_rate: NDArray[np.float64],
    seg_bolus: NDArray[np.float64],
    dt: float,
    npts: int,
    keep: bool,
    curves: NDArray[np.float64],
    peak: NDArray[np.float64],
    tpeak: NDArray[np.float64],
    auc: NDArray[np.float64],
) -> int:
    """Fill peak, time of peak and AUC (and curves when ``keep``) for every individual;
    returns how many individuals are not a model (V1 or k10 not positive, a negative or
    non-finite constant, k13 and k31 not both zero or both positive): their results are
    NaN and the caller refuses them."""
    n = v1.shape[0]
    bad = 0
    for i in numba.prange(n):
        a, b, c, d, e, v = k10[i], k12[i], k13[i], k21[i], k31[i], v1[i]
        ok = v > 0.0 and a > 0.0 and b >= 0.0 and c >= 0.0 and d >= 0.0 and e >= 0.0
        ok = ok and (c > 0.0) == (e > 0.0) and v < np.inf and a + b + c + d + e < np.inf
        if not ok:
            peak[i] = tpeak[i] = auc[i] = np.nan
            bad += 1
            continue
        peak[i], tpeak[i], auc[i] = _one(
            a, b, c, d, e, 1000.0 / v, seg_start, seg_rate, seg_bolus, dt, npts, keep, curves, i
        )
    return bad


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_BLOCK = 512
_NEWTON = 8


@numba.njit(cache=True)
def _exp_negative(x: NDArray[np.float64], out: NDArray[np.float64], bits: NDArray[np.int64]) -> None:
    """exp(x) for x <= 0, 1 ulp, written so the compiler vectorises it (libm's exp is a
    scalar call): x = k ln2 + r with |r| <= ln2/2, exp(r) by its Taylor series to r^14,
    2^k from the exponent bits. Below -708 the result is 0 (instead of a subnormal)."""
    n = x.size
    for i in range(n):
        xi = max(x[i], -708.0)
        k = np.floor(xi * _INV_LN2 + 0.5)
        r = (xi - k * _LN2_HI) - k * _LN2_LO
        p = 1.0 / 87178291200.0
        p = p * r + 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        out[i] = p * r + 1.0
        bits[i] = (np.int64(k) + 1023) << 52
    scale = bits.view(np.float64)
    for i in range(n):
        out[i] = out[i] * scale[i] if x[i] >= -708.0 else 0.0


@numba.njit(cache=True)
def _block(
    lo: int,
    hi: int,
    v1: NDArray[np.float64],
    k10: NDArray[np.float64],
    k12: NDArray[np.float64],
    k13: NDArray[np.float64],
    k21: NDArray[np.float64],
    k31: NDArray[np.float64],
    seg_start: NDArray[np.int64],
    seg_rate: NDArray[np.float64],
    seg_bolus: NDArray[np.float64],
    dt: float,
    npts: int,
    peak: NDArray[np.float64],
    tpeak: NDArray[np.float64],
    auc: NDArray[np.float64],
    redo: NDArray[np.bool_],
) -> None:
    """Individuals lo..hi-1 with every loop over individuals, so the compiler vectorises
    them: roots by a fixed number of Newton steps, exponentials by ``_exp_negative``, the
    segments branch-free. An individual whose Newton steps did not converge or one of
    whose segments is not monotone is marked in ``redo`` for the scalar path."""
    m = hi - lo
    nseg = seg_start.shape[0]
    lam = np.empty((3, m))
    coef = np.empty((3, m))
    scale = np.empty(m)
    x = np.empty(m)
    a0 = np.empty(m)
    a1 = np.empty(m)
    a2 = np.empty(m)
    ok = np.ones(m, dtype=np.bool_)
    for i in range(m):
        j = lo + i
        a, b, c, d, e = k10[j], k12[j], k13[j], k21[j], k31[j]
        a0[i] = a * d * e
        a1[i] = a * e + d * e + d * c + a * d + e * b
        a2[i] = a + b + c + d + e
        x[i] = a2[i]
        scale[i] = 1000.0 / v1[j]
    for _ in range(_NEWTON):  # an array expression: one fused loop, which vectorises
        x = x - (((x - a2) * x + a1) * x - a0) / ((3.0 * x - 2.0 * a2) * x + a1)
    for i in range(m):
        y = x[i]
        step = (((y - a2[i]) * y + a1[i]) * y - a0[i]) / ((3.0 * y - 2.0 * a2[i]) * y + a1[i])
        ok[i] = abs(step) <= 1e-14 * y
        b, c = a2[i] - y, a0[i] / y
        r1 = 0.5 * (b + np.sqrt(max(0.0, b * b - 4.0 * c)))
        r2 = c / r1
        d, e = k21[lo + i], k31[lo + i]
        lam[0, i], lam[1, i] = y, r1
        coef[0, i] = (d - y) * (e - y) / ((r1 - y) * (r2 - y))
        coef[1, i] = (d - r1) * (e - r1) / ((y - r1) * (r2 - r1))
        coef[2, i] = (d - r2) * (e - r2) / ((y - r2) * (r1 - r2)) if r2 > 0.0 else 0.0
        lam[2, i] = r2 if r2 > 0.0 else 1.0  # a two-compartment individual: the third mode is empty
    # exponentials: E = exp(-lam dt) and E^n for each segment's length
    lengths = np.empty(nseg, dtype=np.int64)
    for s in range(nseg):
        lengths[s] = (seg_start[s + 1] if s + 1 < nseg else npts) - seg_start[s]
    arg = np.empty((1 + nseg) * 3 * m)
    for q in range(3):
        for i in range(m):
            arg[q * m + i] = -lam[q, i] * dt
        for s in range(nseg):
            base = ((1 + s) * 3 + q) * m
            for i in range(m):
                arg[base + i] = -lam[q, i] * (lengths[s] * dt)
    ex = np.empty_like(arg)
    _exp_negative(arg, ex, np.empty(arg.size, dtype=np.int64))
    # reciprocals once per individual: the segments only multiply
    inv_lam = np.empty((3, m))
    inv_e = np.empty((3, m))
    inv_one_minus = np.empty((3, m))
    for q in range(3):
        for i in range(m):
            inv_lam[q, i] = 1.0 / lam[q, i]
            inv_e[q, i] = 1.0 / ex[q * m + i]
            inv_one_minus[q, i] = 1.0 / (1.0 - ex[q * m + i])
    z = np.zeros((3, m))
    best = np.full(m, -1.0)
    best_k = np.zeros(m)
    total = np.zeros(m)
    first = np.zeros(m)
    last = np.zeros(m)
    lead = min(seg_start[0], npts) if nseg else npts
    if lead > 0:
        best[:] = 0.0
    for s in range(nseg):
        n = lengths[s]
        if n <= 0:
            for q in range(3):
                for i in range(m):
                    z[q, i] += coef[q, i] * seg_bolus[s]
            continue
        rate, dose, start = seg_rate[s], seg_bolus[s], seg_start[s]
        base = (1 + s) * 3 * m
        opening = 1.0 if s == 0 and lead == 0 else 0.0
        for i in range(m):
            # three modes written out, comparisons as 0/1 arithmetic: no branches, so the
            # loop over individuals vectorises
            z0 = z[0, i] + coef[0, i] * dose
            z1 = z[1, i] + coef[1, i] * dose
            z2 = z[2, i] + coef[2, i] * dose
            f0 = coef[0, i] * rate * inv_lam[0, i]
            f1 = coef[1, i] * rate * inv_lam[1, i]
            f2 = coef[2, i] * rate * inv_lam[2, i]
            d0, d1, d2 = z0 - f0, z1 - f1, z2 - f2
            n0, n1, n2 = ex[base + i], ex[base + m + i], ex[base + 2 * m + i]
            flat = f0 + f1 + f2
            sums = d0 * (1.0 - n0) * inv_one_minus[0, i] + d1 * (1.0 - n1) * inv_one_minus[1, i]
            sums += d2 * (1.0 - n2) * inv_one_minus[2, i]
            ends = d0 * n0 * inv_e[0, i] + d1 * n1 * inv_e[1, i] + d2 * n2 * inv_e[2, i]
            z[0, i], z[1, i], z[2, i] = f0 + d0 * n0, f1 + d1 * n1, f2 + d2 * n2
            at0 = (flat + d0 + d1 + d2) * scale[i]
            end = (flat + ends) * scale[i]
            total[i] += (flat * n + sums) * scale[i]
            first[i] += opening * at0
            last[i] = end
            falling = min(d0, d1, d2) >= 0.0
            rising = max(d0, d1, d2) <= 0.0
            cand = at0 if falling else end
            where = start if falling else start + n - 1
            better = cand > best[i]
            best[i] = cand if better else best[i]
            best_k[i] = where if better else best_k[i]
            ok[i] = ok[i] & (rising | falling)
    for i in range(m):
        j = lo + i
        peak[j] = best[i]
        tpeak[j] = best_k[i] * dt
        auc[j] = dt * (total[i] - 0.5 * (first[i] + last[i]))
        redo[j] = not ok[i]


@numba.njit(cache=True, parallel=True)
def population(
    v1: NDArray[np.float64],
    k10: NDArray[np.float64],
    k12: NDArray[np.float64],
    k13: NDArray[np.float64],
    k21: NDArray[np.float64],
    k31: NDArray[np.float64],
    seg_start: NDArray[np.int64],
    seg_rate: NDArray[np.float64],
    seg_bolus: NDArray[np.float64],
    dt: float,
    npts: int,
    keep: bool,
    curves: NDArray[np.float64],
    peak: NDArray[np.float64],
    tpeak: NDArray[np.float64],
    auc: NDArray[np.float64],
) -> int:
    """Fill peak, time of peak and AUC (and curves when ``keep``) for every individual;
    returns how many individuals are not a model (V1 or k10 not positive, a negative or
    non-finite constant, k13 and k31 not both zero or both positive): their results are
    NaN and the caller refuses them. Blocks of individuals go through ``_block``;
    individuals it cannot settle (and every individual when curves are kept) go through
    the scalar path."""
    n = v1.shape[0]
    blocks = (n + _BLOCK - 1) // _BLOCK
    bad = np.zeros(blocks, dtype=np.int64)
    redo = np.ones(n, dtype=np.bool_)
    # one parallel region over blocks: validation, the vectorised block, the scalar redo
    for blk in numba.prange(blocks):
        lo = blk * _BLOCK
        hi = min(n, lo + _BLOCK)
        for i in range(lo, hi):
            a, b, c, d, e, v = k10[i], k12[i], k13[i], k21[i], k31[i], v1[i]
            good = v > 0.0 and a > 0.0 and b >= 0.0 and c >= 0.0 and d >= 0.0 and e >= 0.0
            good = good and (c > 0.0) == (e > 0.0) and v < np.inf and a + b + c + d + e < np.inf
            if not good:
                bad[blk] += 1
        if bad[blk]:
            continue
        if not keep:
            _block(
                lo, hi, v1, k10, k12, k13, k21, k31, seg_start, seg_rate, seg_bolus, dt, npts, peak, tpeak, auc, redo
            )
        for i in range(lo, hi):
            if redo[i]:
                peak[i], tpeak[i], auc[i] = _one(
                    k10[i],
                    k12[i],
                    k13[i],
                    k21[i],
                    k31[i],
                    1000.0 / v1[i],
                    seg_start,
                    seg_rate,
                    seg_bolus,
                    dt,
                    npts,
                    keep,
                    curves,
                    i,
                )
    total = int(bad.sum())
    if total:
        peak[:] = np.nan
    return total
