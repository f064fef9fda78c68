"""Virtual populations: many individuals through one regimen, fast.

Each individual's three-compartment (or two-compartment) system is diagonalised
(eigenvalues and modal coefficients); on a uniform output grid the response is advanced
from point to point with one multiplication per mode, exact for piecewise-constant
input because the grid steps start at event boundaries or between them. The kernel is
compiled with numba and runs individuals in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from ketamine_clinic.pk._models import Model, Patient, clearance_parameters
from ketamine_clinic.pk._simulate import Bolus, Infusion

__all__ = ["DEFAULT_CV", "Population", "draw_individuals", "simulate_population"]

DEFAULT_CV = 0.30
NAMES = ("v1_l", "k10_per_min", "k12_per_min", "k13_per_min", "k21_per_min", "k31_per_min")


@dataclass(frozen=True)
class Population:
    peak_ng_per_ml: NDArray[np.float64]
    time_of_peak_min: NDArray[np.float64]
    auc_ng_min_per_ml: NDArray[np.float64]
    plasma_ng_per_ml: NDArray[np.float64] | None
    individuals: dict[str, NDArray[np.float64]]
    variability: str

    def time_above_min(self, threshold_ng_per_ml: float, times_min: NDArray[np.float64]) -> NDArray[np.float64]:
        """Minutes above ``threshold`` per individual (needs ``keep_curves``; grid spacing)."""
        if self.plasma_ng_per_ml is None:
            raise ValueError("time above a threshold needs keep_curves=True")
        step = float(times_min[1] - times_min[0])
        return np.asarray((self.plasma_ng_per_ml > threshold_ng_per_ml).sum(axis=1) * step, dtype=np.float64)


def draw_individuals(
    model: Model, patient: Patient, n: int, seed: int | None = None, cv: float = DEFAULT_CV
) -> dict[str, NDArray[np.float64]]:
    """Log-normal draws around the model's typical values for ``patient`` (omega from the
    coefficient of variation: omega^2 = ln(1 + cv^2)). Models with published variability
    (``model.omegas_cv``: Herd 2007, Flint 2017) draw their clearance-level parameters
    with it; the others use ``cv`` on V1 and each rate constant, a stated assumption."""
    rng = np.random.default_rng(seed)
    if model.omegas_cv:
        return _draw_published(model, patient, n, rng)
    v1, ks = model.micro(patient)
    typical = (v1, ks[0], ks[1], ks[3] if len(ks) == 5 else 0.0, ks[2], ks[4] if len(ks) == 5 else 0.0)
    omega = np.sqrt(np.log1p(cv * cv))
    return {
        name: value * np.exp(rng.normal(0.0, omega, n)) if value else np.zeros(n)
        for name, value in zip(NAMES, typical, strict=True)
    }


def _draw_published(model: Model, patient: Patient, n: int, rng: np.random.Generator) -> dict[str, NDArray[np.float64]]:
    typical = clearance_parameters(model, patient)
    cvs = dict(model.omegas_cv)
    p = {
        k: v * np.exp(rng.normal(0.0, np.sqrt(np.log1p(cvs[k] ** 2)), n)) if k in cvs else np.full(n, v)
        for k, v in typical.items()
    }
    zeros = np.zeros(n)
    return {
        "v1_l": p["v1"],
        "k10_per_min": p["cl"] / p["v1"],
        "k12_per_min": p["q"] / p["v1"],
        "k13_per_min": zeros,
        "k21_per_min": p["q"] / p["v2"],
        "k31_per_min": zeros.copy(),
    }


def variability_of(model: Model, cv: float) -> str:
    if model.omegas_cv:
        return "published: " + ", ".join(f"{k} {v:.1%} CV" for k, v in model.omegas_cv) + f" ({model.citation})"
    return f"log-normal, {cv:.0%} CV on V1 and each rate constant (stated default, not published omegas)"


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
    r2 = 2.0 * np.exp(np.log(r1) / 3.0)
    return (
        -(np.cos(phi) * r2 - a2 / 3.0),
        -(np.cos(phi + 2.0 * np.pi / 3.0) * r2 - a2 / 3.0),
        -(np.cos(phi + 4.0 * np.pi / 3.0) * r2 - a2 / 3.0),
    )


BLOCK = 256


@numba.njit(cache=True, fastmath=False)
def _modes(
    k10: float, k12: float, k13: float, k21: float, k31: float
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Eigenvalues (as positive rates) and the central unit-impulse coefficients."""
    lam = _eig3(k10, k12, k13, k21, k31)
    c0 = (k21 - lam[0]) * (k31 - lam[0]) / ((lam[1] - lam[0]) * (lam[2] - lam[0]))
    c1 = (k21 - lam[1]) * (k31 - lam[1]) / ((lam[0] - lam[1]) * (lam[2] - lam[1]))
    c2 = (k21 - lam[2]) * (k31 - lam[2]) / ((lam[0] - lam[2]) * (lam[1] - lam[2]))
    return lam, (c0, c1, c2)


@numba.njit(cache=True, parallel=True, fastmath=False)
def _kernel(
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
    # Individuals run in blocks; inside a block the loop over individuals is the inner
    # one, so the three modal recurrences vectorise across individuals.
    n = v1.shape[0]
    blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(blocks):
        lo = b * BLOCK
        m = min(BLOCK, n - lo)
        c = np.empty((3, m))
        e = np.empty((3, m))
        g = np.empty((3, m))
        z = np.zeros((3, m))
        scale = np.empty(m)
        best = np.zeros(m)
        best_t = np.zeros(m)
        total = np.zeros(m)
        first = np.zeros(m)
        last = np.zeros(m)
        for i in range(m):
            lam, coef = _modes(k10[lo + i], k12[lo + i], k13[lo + i], k21[lo + i], k31[lo + i])
            for j in range(3):
                c[j, i] = coef[j]
                e[j, i] = np.exp(-lam[j] * dt)
                g[j, i] = coef[j] * (1.0 - e[j, i]) / lam[j]
            scale[i] = 1000.0 / v1[lo + i]
        z0, z1, z2 = z[0], z[1], z[2]
        e0, e1, e2 = e[0], e[1], e[2]
        g0, g1, g2 = g[0], g[1], g[2]
        s = 0
        rate = 0.0
        for t in range(npts):
            while s < seg_start.shape[0] and seg_start[s] == t:
                rate = seg_rate[s]
                for i in range(m):
                    z0[i] += c[0, i] * seg_bolus[s]
                    z1[i] += c[1, i] * seg_bolus[s]
                    z2[i] += c[2, i] * seg_bolus[s]
                s += 1
            now = t * dt
            if keep:
                for i in range(m):
                    curves[lo + i, t] = (z0[i] + z1[i] + z2[i]) * scale[i]
            for i in range(m):
                conc = (z0[i] + z1[i] + z2[i]) * scale[i]
                better = conc > best[i]
                best_t[i] = now if better else best_t[i]
                best[i] = conc if better else best[i]
                total[i] += conc
                last[i] = conc
                z0[i] = z0[i] * e0[i] + g0[i] * rate
                z1[i] = z1[i] * e1[i] + g1[i] * rate
                z2[i] = z2[i] * e2[i] + g2[i] * rate
            if t == 0:
                for i in range(m):
                    first[i] = last[i]
        for i in range(m):
            peak[lo + i] = best[i]
            tpeak[lo + i] = best_t[i]
            auc[lo + i] = dt * (total[i] - 0.5 * (first[i] + last[i]))  # trapezoid rule


def _segments(
    regimen: Sequence[Bolus | Infusion], dt: float, npts: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    edges: dict[int, list[float]] = {}
    for item in regimen:
        points = [item.at_min] if isinstance(item, Bolus) else [item.start_min, item.start_min + item.duration_min]
        for p in points:
            k = p / dt
            if abs(k - round(k)) > 1e-9:
                raise ValueError("every event time must fall on the output grid for the population kernel")
            edges.setdefault(int(round(k)), [0.0, 0.0])
    for k in sorted(edges):
        t = k * dt
        edges[k][0] = sum(
            i.rate_mg_per_min
            for i in regimen
            if isinstance(i, Infusion) and i.start_min <= t < i.start_min + i.duration_min
        )
        edges[k][1] = sum(b.dose_mg for b in regimen if isinstance(b, Bolus) and abs(b.at_min - t) < 1e-12)
    keys = [k for k in sorted(edges) if k < npts]
    return (
        np.array(keys, dtype=np.int64),
        np.array([edges[k][0] for k in keys]),
        np.array([edges[k][1] for k in keys]),
    )


def simulate_population(
    model: Model,
    regimen: Sequence[Bolus | Infusion],
    times_min: Sequence[float] | NDArray[np.float64],
    n: int | None = None,
    seed: int | None = None,
    individuals: Mapping[str, Sequence[float] | NDArray[np.float64]] | None = None,
    keep_curves: bool = False,
    patient: Patient | None = None,
    cv: float = DEFAULT_CV,
) -> Population:
    """Simulate a cohort on a uniform grid starting at 0: drawn (``n``, ``seed``; log-normal
    ``cv`` on V1 and each rate constant, stated default 30 %) or explicit ``individuals``
    (v1_l, k10_per_min, k12_per_min, k13_per_min, k21_per_min, k31_per_min; two-compartment
    models use zeros for k13 and k31). AUC is by the trapezoid rule on the grid."""
    times = np.asarray(times_min, dtype=float)
    if times.size < 2 or times[0] != 0 or not np.allclose(np.diff(times), times[1] - times[0]):
        raise ValueError("times_min must be a uniform grid starting at 0")
    if individuals is None:
        if n is None or n < 1:
            raise ValueError("give n (>= 1) or individuals")
        draws = draw_individuals(model, patient or Patient(70, 40, "male"), n, seed, cv)
        variability = variability_of(model, cv)
    else:
        missing = [k for k in NAMES if k not in individuals and k not in ("k13_per_min", "k31_per_min")]
        if missing:
            raise ValueError(f"individuals lacks {', '.join(missing)}")
        size = len(individuals["v1_l"])
        draws = {k: np.asarray(individuals.get(k, np.zeros(size)), dtype=float) for k in NAMES}
        variability = "explicit individuals"
    arrays = [np.ascontiguousarray(draws[k]) for k in NAMES]
    count = arrays[0].shape[0]
    # two-compartment individuals: a vanishing third compartment keeps one kernel
    for idx in (3, 5):
        arrays[idx] = np.where(arrays[idx] > 0, arrays[idx], 1e-12)
    dt = float(times[1] - times[0])
    starts, rates, boluses = _segments(regimen, dt, times.size)
    curves = np.empty((count, times.size)) if keep_curves else np.empty((1, 1))
    peak, tpeak, auc = np.empty(count), np.empty(count), np.empty(count)
    v1, k10, k12, k13, k21, k31 = arrays
    _kernel(v1, k10, k12, k13, k21, k31, starts, rates, boluses, dt, times.size, keep_curves, curves, peak, tpeak, auc)
    return Population(peak, tpeak, auc, curves if keep_curves else None, draws, variability)
