"""Virtual populations: many individuals through one regimen, fast.

Each individual's three-compartment (or two-compartment) system is diagonalised
(eigenvalues and modal coefficients); on a uniform output grid the response is advanced
from point to point with one multiplication per mode, exact for piecewise-constant
input because the grid steps start at event boundaries or between them. The kernel is
compiled with numba and runs individuals in parallel.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketamine_clinic.pk._linear import Input, piecewise
from ketamine_clinic.pk._models import PR_FRN_LOGIT_SD, PR_OMEGAS_CV, Model, Patient, clearance_parameters
from ketamine_clinic.pk._simulate import Bolus, Infusion, NasalDose, check_range

__all__ = [
    "DEFAULT_CV",
    "Population",
    "default_clearance_cv",
    "draw_individuals",
    "draw_nasal_etas",
    "simulate_population",
    "variability_of",
]

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
    coefficient of variation: omega^2 = ln(1 + cv^2)).

    Models with published variability (``model.omegas_cv``, correlations in
    ``model.omega_correlations``; a name such as ``"v1+v2"`` is one eta shared by both)
    draw their clearance-level parameters with it: Herd 2007, Hijazi 2003, Flint 2017 (with
    its S-ketamine / S-norketamine clearance correlation). The others use ``cv`` on V1 and
    each rate constant, a stated assumption (``variability_of`` says what that implies for
    clearance). Raises ``ValueError`` for n < 1 or a negative cv."""
    if n < 1 or not (cv >= 0):
        raise ValueError("n must be >= 1 and cv >= 0")
    if model.route == "nasal":
        return draw_nasal_etas(n, seed)
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
    if model.metabolite_clearance_l_per_min is not None:
        typical["cl_snk"] = model.metabolite_clearance_l_per_min(patient)
    groups = [name.split("+") for name, _ in model.omegas_cv]
    sd = np.sqrt(np.log1p(np.array([c for _, c in model.omegas_cv]) ** 2))
    corr = np.eye(len(groups))
    index = {name: i for i, (name, _) in enumerate(model.omegas_cv)}
    for a, b, r in model.omega_correlations:
        corr[index[a], index[b]] = corr[index[b], index[a]] = r
    etas = rng.multivariate_normal(np.zeros(len(groups)), corr * np.outer(sd, sd), size=n, method="cholesky")
    p = {k: np.full(n, v) for k, v in typical.items()}
    for i, names in enumerate(groups):
        for name in names:
            p[name] = p[name] * np.exp(etas[:, i])
    zeros = np.zeros(n)
    drawn = {
        "v1_l": p["v1"],
        "k10_per_min": p["cl"] / p["v1"],
        "k12_per_min": p["q"] / p["v1"],
        "k13_per_min": zeros,
        "k21_per_min": p["q"] / p["v2"],
        "k31_per_min": zeros.copy(),
    }
    if "cl_snk" in p:
        drawn["cl_snk_l_per_min"] = p["cl_snk"]
    return drawn


def draw_nasal_etas(n: int, seed: int | None) -> dict[str, NDArray[np.float64]]:
    """Perez-Ruixo 2021 random effects: a log-normal factor per ``PR_OMEGAS_CV`` entry and
    the nasal fraction's logit shift ("frn")."""
    rng = np.random.default_rng(seed)
    etas = {key: np.exp(rng.normal(0.0, np.sqrt(np.log1p(cv * cv)), n)) for key, cv in PR_OMEGAS_CV}
    etas["frn"] = rng.normal(0.0, PR_FRN_LOGIT_SD, n)
    return etas


def _nasal_population(
    model: Model,
    patient: Patient,
    regimen: Sequence[Bolus | Infusion | NasalDose],
    times: NDArray[np.float64],
    n: int,
    seed: int | None,
    keep_curves: bool,
) -> Population:
    from dataclasses import replace

    from ketamine_clinic.pk._models import _perez_ruixo_system
    from ketamine_clinic.pk._simulate import simulate

    if not all(isinstance(item, NasalDose) for item in regimen):
        raise ValueError(f"{model.name} is the nasal-spray model: its regimens are nasal doses")
    etas = draw_nasal_etas(n, seed)
    curves = np.empty((n, times.size))
    for i in range(n):
        eta = {key: float(values[i]) for key, values in etas.items()}
        one = replace(model, system=functools.partial(_perez_ruixo_system, eta=eta))
        curves[i] = simulate(one, patient, regimen, times).plasma_ng_per_ml
    best = np.argmax(curves, axis=1)
    peak = curves[np.arange(n), best]
    auc = np.trapezoid(curves, times, axis=1)
    return Population(
        peak, times[best], np.asarray(auc), curves if keep_curves else None, etas, variability_of(model, 0.0)
    )


def default_clearance_cv(cv: float) -> float:
    """CV of clearance (V1 x k10) when V1 and k10 each vary log-normally with ``cv``."""
    return float(np.sqrt(np.expm1(2.0 * np.log1p(cv * cv))))


def variability_of(model: Model, cv: float) -> str:
    if model.omegas_cv:
        text = ", ".join(f"{k} {v:.1%} CV" for k, v in model.omegas_cv)
        if model.route == "nasal":
            text += f", FRn logit SD {PR_FRN_LOGIT_SD:g}"
        text += "".join(f", r({a}, {b}) = {r:g}" for a, b, r in model.omega_correlations)
        return f"published: {text} ({model.variability_source or model.citation})"
    return (
        f"log-normal, {cv:.0%} CV on V1 and each rate constant (stated default, not published omegas): "
        f"clearance CV {default_clearance_cv(cv):.1%}"
    )


def _kernels() -> Any:
    """The numba kernels, compiled on first use (numba is imported only here, so importing
    ``ketamine_clinic.pk`` does not load it into processes that never simulate cohorts)."""
    global _KERNELS
    if _KERNELS is None:
        from ketamine_clinic.pk import _population_kernel

        _KERNELS = _population_kernel
    return _KERNELS


_KERNELS: Any = None


def _segments(
    regimen: Sequence[Bolus | Infusion | NasalDose], dt: float, npts: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Grid index, rate after it (mg/min) and bolus at it (mg) of every event, in
    O(events log events); every event must fall on the grid."""
    inputs = [
        Input(0, item.at_min, 0.0, item.dose_mg)
        if isinstance(item, Bolus)
        else Input(0, item.start_min, item.duration_min, item.dose_mg)
        for item in regimen
        if isinstance(item, Bolus | Infusion)
    ]
    if len(inputs) != len(regimen):
        raise ValueError("an intravenous model's regimen holds boluses and infusions, not nasal doses")
    events = piecewise(inputs, 1)
    k = events.times_min / dt
    if np.any(np.abs(k - np.round(k)) > 1e-9):
        raise ValueError("every event time must fall on the output grid for the population kernel")
    index = np.round(k).astype(np.int64)
    keep = index < npts
    return index[keep], events.rates[keep, 0].copy(), events.boluses[keep, 0].copy()


def simulate_population(
    model: Model,
    regimen: Sequence[Bolus | Infusion | NasalDose],
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
    models use zeros for k13 and k31). AUC is by the trapezoid rule on the grid.

    The nasal model (``perez_ruixo2021``) takes ``NasalDose`` regimens and draws its
    published variability (``PR_OMEGAS_CV``, FRn on the logit scale); its individuals are
    simulated one by one through the exact solver (a nine-compartment system), so cohorts of
    thousands take seconds, not milliseconds; ``Population.individuals`` then holds each
    individual's random effects (factors, and FRn's logit shift); explicit individuals are
    for IV models.
    Warns ``OutOfRangeWarning`` when ``patient`` is outside the model's population."""
    times = np.asarray(times_min, dtype=float)
    if times.size < 2 or times[0] != 0 or not np.allclose(np.diff(times), times[1] - times[0]):
        raise ValueError("times_min must be a uniform grid starting at 0")
    if model.route == "nasal":
        if individuals is not None or n is None or n < 1:
            raise ValueError("the nasal model draws its own individuals: give n (>= 1), not individuals")
        who = patient or Patient(70, 40, "male")
        check_range(model, who)
        return _nasal_population(model, who, regimen, times, n, seed, keep_curves)
    if individuals is None:
        if n is None or n < 1:
            raise ValueError("give n (>= 1) or individuals")
        who = patient or Patient(70, 40, "male")
        check_range(model, who)
        draws = draw_individuals(model, who, n, seed, cv)
        variability = variability_of(model, cv)
    else:
        missing = [k for k in NAMES if k not in individuals and k not in ("k13_per_min", "k31_per_min")]
        if missing:
            raise ValueError(f"individuals lacks {', '.join(missing)}")
        size = len(individuals["v1_l"])
        draws = {k: np.asarray(individuals.get(k, np.zeros(size)), dtype=float).reshape(-1) for k in NAMES}
        variability = "explicit individuals"
        size = draws["v1_l"].size
        if size < 1 or any(v.size != size for v in draws.values()):
            raise ValueError("every individual parameter needs one value per individual")
    arrays = [np.ascontiguousarray(draws[k]) for k in NAMES]
    count = arrays[0].shape[0]
    dt = float(times[1] - times[0])
    starts, rates, boluses = _segments(regimen, dt, times.size)
    curves = np.empty((count, times.size)) if keep_curves else np.empty((1, 1))
    peak, tpeak, auc = np.empty(count), np.empty(count), np.empty(count)
    v1, k10, k12, k13, k21, k31 = arrays
    bad = _kernels().population(
        v1, k10, k12, k13, k21, k31, starts, rates, boluses, dt, times.size, keep_curves, curves, peak, tpeak, auc
    )
    if bad:
        raise ValueError(
            f"{bad} individual(s) are not a model: each needs V1 > 0, k10 > 0, every other rate constant "
            ">= 0 and finite, and k13, k31 both positive (three compartments) or both zero (two)"
        )
    return Population(peak, tpeak, auc, curves if keep_curves else None, draws, variability)
