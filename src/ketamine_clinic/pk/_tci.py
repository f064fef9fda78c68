"""Target-controlled infusion on exact step responses.

The pump rate is constant over each step of ``step_s`` seconds. With the discrete-time
system x[k+1] = Phi x[k] + Gamma r[k] (exact for piecewise-constant input), plasma mode
picks r[k] so the plasma concentration at the end of the step equals the target;
effect mode picks the largest r[k] whose effect-site concentration, followed with the
pump off, never rises above the target over the next 30 minutes (a peak-limited
one-step rule in the spirit of Shafer and Gregg's effect-site method). Rates are
clipped to [0, max_rate]; a session dose cap stops the pump when reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm

from ketamine_clinic.pk._models import Model, Patient
from ketamine_clinic.pk._simulate import Infusion, rate_matrix

__all__ = ["TciSchedule", "tci"]


@dataclass(frozen=True)
class TciSchedule:
    step_s: float
    rates_mg_per_h: NDArray[np.float64]
    total_mg: float
    rate_cap_bound: bool
    dose_cap_bound: bool
    site: str
    target_ng_per_ml: float

    @property
    def regimen(self) -> list[Infusion]:
        """The schedule as infusions (one per step with a positive rate), for ``simulate``."""
        h = self.step_s / 60.0
        return [Infusion(k * h, h, r / 60.0 * h) for k, r in enumerate(self.rates_mg_per_h) if r > 0]


def _discrete(a: NDArray[np.float64], h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = a.shape[0]
    big = np.zeros((n + 1, n + 1))
    big[:n, :n] = a * h
    big[0, n] = h  # unit input (mg/min) into the central compartment
    e = expm(big)
    return e[:n, :n], e[:n, n]


def tci(
    model: Model,
    patient: Patient,
    target_ng_per_ml: float,
    duration_min: float,
    site: str = "plasma",
    step_s: float = 10,
    max_rate_mg_per_h: float | None = None,
    max_dose_mg: float | None = None,
) -> TciSchedule:
    """A TCI schedule. Raises ``ValueError`` for a non-positive target, duration or step,
    an unknown site, or effect mode on a model without ke0."""
    if target_ng_per_ml <= 0 or duration_min <= 0 or step_s <= 0:
        raise ValueError("target, duration and step must be positive")
    if site not in ("plasma", "effect"):
        raise ValueError("site must be 'plasma' or 'effect'")
    if site == "effect" and not model.ke0_per_min:
        raise ValueError(f"{model.name} has no ke0: effect-site targeting is not possible")
    v1, ks = model.micro(patient)
    a = rate_matrix(ks, model.ke0_per_min)
    h = step_s / 60.0
    phi, gamma = _discrete(a, h)
    steps = int(round(duration_min / h))
    cap = (max_rate_mg_per_h / 60.0) if max_rate_mg_per_h is not None else np.inf
    target_mg = target_ng_per_ml * v1 / 1000.0
    look = _lookahead(phi, gamma, 180) if site == "effect" else None
    if look is None:
        rates, total, rate_bound, dose_bound = _plasma_loop(
            phi, gamma, steps, target_mg, cap, np.inf if max_dose_mg is None else max_dose_mg, h
        )
        return TciSchedule(step_s, rates * 60.0, float(total), rate_bound, dose_bound, site, target_ng_per_ml)
    x = np.zeros(a.shape[0])
    rates = np.zeros(steps)
    total, rate_bound, dose_bound = 0.0, False, False
    for k in range(steps):
        free = phi @ x
        r = (target_mg - free[0]) / gamma[0] if look is None else _effect_rate(x, look, target_mg)
        r = max(r, 0.0)
        if r > cap:
            r, rate_bound = cap, True
        if max_dose_mg is not None and total + r * h > max_dose_mg:
            r, dose_bound = max((max_dose_mg - total) / h, 0.0), True
        rates[k] = r
        total += r * h
        x = free + gamma * r
    return TciSchedule(step_s, rates * 60.0, float(total), rate_bound, dose_bound, site, target_ng_per_ml)


@numba.njit(cache=True)
def _plasma_loop(
    phi: NDArray[np.float64],
    gamma: NDArray[np.float64],
    steps: int,
    target_mg: float,
    cap: float,
    max_dose: float,
    h: float,
) -> tuple[NDArray[np.float64], float, bool, bool]:
    n = phi.shape[0]
    x = np.zeros(n)
    free = np.zeros(n)
    rates = np.zeros(steps)
    total, rate_bound, dose_bound = 0.0, False, False
    for k in range(steps):
        for i in range(n):
            acc = 0.0
            for j in range(n):
                acc += phi[i, j] * x[j]
            free[i] = acc
        r = max((target_mg - free[0]) / gamma[0], 0.0)
        if r > cap:
            r, rate_bound = cap, True
        if total + r * h > max_dose:
            r, dose_bound = max((max_dose - total) / h, 0.0), True
        rates[k] = r
        total += r * h
        for i in range(n):
            x[i] = free[i] + gamma[i] * r
    return rates, total, rate_bound, dose_bound


@dataclass(frozen=True)
class _Look:
    free: NDArray[np.float64]  # powers of Phi, effect row: (horizon, n)
    unit: NDArray[np.float64]  # effect response to one step of unit rate, then pump off: (horizon,)


def _lookahead(phi: NDArray[np.float64], gamma: NDArray[np.float64], horizon: int) -> _Look:
    n = phi.shape[0]
    rows = np.zeros((horizon, n))
    unit = np.zeros(horizon)
    p = np.eye(n)
    g = gamma.copy()
    for i in range(horizon):
        p = phi @ p
        rows[i] = p[-1]
        unit[i] = g[-1]
        g = phi @ g
    return _Look(rows, unit)


def _effect_rate(x: NDArray[np.float64], look: _Look, target_mg: float) -> float:
    free = look.free @ x
    ok = look.unit > 1e-15
    return float(np.min((target_mg - free[ok]) / look.unit[ok]))
