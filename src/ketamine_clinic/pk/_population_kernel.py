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
    # characteristic polynomial of the central-peripheral rate matrix, roots by the
    # trigonometric method (all real and negative for a mammillary model)
    a0 = k10 * k21 * k31
    a1 = k10 * k31 + k21 * k31 + k21 * k13 + k10 * k21 + k31 * k12
    a2 = k10 + k12 + k13 + k21 + k31
    p = a1 - a2 * a2 / 3.0
    q = 2.0 * a2 * a2 * a2 / 27.0 - a1 * a2 / 3.0 + a0
    r1 = np.sqrt(-(p * p * p) / 27.0)
    phi = np.arccos(max(-1.0, min(1.0, -q / (2.0 * r1)))) / 3.0
    r2 = 2.0 * np.cbrt(r1)
    # cos(phi + 2 pi/3) and cos(phi + 4 pi/3) from cos(phi) and sin(phi)
    cos_phi, sin_phi = np.cos(phi), np.sin(phi)
    half, root3 = -0.5 * cos_phi, 0.8660254037844386 * sin_phi
    return (
        -(cos_phi * r2 - a2 / 3.0),
        -((half - root3) * r2 - a2 / 3.0),
        -((half + root3) * r2 - a2 / 3.0),
    )


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
    curve: NDArray[np.float64],
) -> tuple[float, float, float]:
    l0, l1, l2, c0, c1, c2 = _modes(k10, k12, k13, k21, k31)
    e0, e1, e2 = np.exp(-l0 * dt), np.exp(-l1 * dt), np.exp(-l2 * dt)
    z0 = z1 = z2 = 0.0
    nseg = seg_start.shape[0]
    lead = min(seg_start[0], npts) if nseg else npts
    best, best_k, grid_sum, first, last = -1.0, 0, 0.0, 0.0, 0.0
    if lead > 0:
        best = 0.0  # nothing given before the first event
        if keep:
            curve[:lead] = 0.0
    for s in range(nseg):
        lo = seg_start[s]
        n = (seg_start[s + 1] if s + 1 < nseg else npts) - lo
        rate, dose = seg_rate[s], seg_bolus[s]
        z0, z1, z2 = z0 + c0 * dose, z1 + c1 * dose, z2 + c2 * dose
        f0, f1, f2 = c0 * rate / l0, c1 * rate / l1, c2 * rate / l2
        d0, d1, d2 = z0 - f0, z1 - f1, z2 - f2
        if n <= 0:
            continue
        flat = f0 + f1 + f2
        at0 = (flat + d0 + d1 + d2) * scale
        if s == 0 and lead == 0:
            first = at0
        n0, n1, n2 = np.exp(-l0 * (n * dt)), np.exp(-l1 * (n * dt)), np.exp(-l2 * (n * dt))
        # grid sum of the segment: sum_{k<n} E^k = (1 - E^n) / (1 - E) per mode
        grid_sum += (flat * n + d0 * (1 - n0) / (1 - e0) + d1 * (1 - n1) / (1 - e1) + d2 * (1 - n2) / (1 - e2)) * scale
        end = (flat + d0 * n0 / e0 + d1 * n1 / e1 + d2 * n2 / e2) * scale
        if keep:
            w0, w1, w2 = d0, d1, d2
            for k in range(n):
                curve[lo + k] = (flat + w0 + w1 + w2) * scale
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
) -> None:
    n = v1.shape[0]
    for i in numba.prange(n):
        row = curves[i] if keep else curves[0]
        peak[i], tpeak[i], auc[i] = _one(
            k10[i], k12[i], k13[i], k21[i], k31[i], 1000.0 / v1[i], seg_start, seg_rate, seg_bolus, dt, npts, keep, row
        )
