"""Exact simulation of linear mammillary models under boluses and constant-rate infusions.

Between events the input is constant, so each compartment amount is a sum of
exponentials in the eigenvalues of the rate matrix: the solution is exact at any time,
with no integration grid. Amounts in mg, times in minutes, concentrations in ng/mL.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ketamine_clinic.pk._linear import Input, LinearSystem, solve
from ketamine_clinic.pk._models import PR, Model, Patient

__all__ = [
    "HCL_PER_BASE",
    "Bolus",
    "Infusion",
    "NasalDose",
    "OutOfRangeWarning",
    "Profile",
    "rate_matrix",
    "salt_to_base_mg",
    "simulate",
]


#: Ketalar: 10 mg ketamine base = 11.53 mg ketamine hydrochloride per mL; Spravato: each
#: device 32.3 mg esketamine hydrochloride = 28 mg esketamine (label texts, [C]).
HCL_PER_BASE = 1.153


def salt_to_base_mg(mg_hydrochloride: float) -> float:
    """mg of free base in ``mg_hydrochloride`` of the hydrochloride salt (every dose the
    engine takes is free base)."""
    if mg_hydrochloride < 0:
        raise ValueError("a dose must be >= 0 mg")
    return mg_hydrochloride / HCL_PER_BASE


class OutOfRangeWarning(UserWarning):
    """The patient lies outside the population the model was built on."""


@dataclass(frozen=True)
class Bolus:
    at_min: float
    dose_mg: float

    def __post_init__(self) -> None:
        if self.at_min < 0 or self.dose_mg < 0:
            raise ValueError("bolus time and dose must be non-negative")


@dataclass(frozen=True)
class Infusion:
    start_min: float
    duration_min: float
    dose_mg: float

    def __post_init__(self) -> None:
        if self.start_min < 0 or self.duration_min <= 0 or self.dose_mg < 0:
            raise ValueError("infusion start >= 0, duration > 0 and dose >= 0 are required")

    @classmethod
    def from_rate(cls, start_min: float, duration_min: float, rate_mg_per_min: float) -> Infusion:
        return cls(start_min, duration_min, rate_mg_per_min * duration_min)

    @property
    def rate_mg_per_min(self) -> float:
        return self.dose_mg / self.duration_min


@dataclass(frozen=True)
class NasalDose:
    """Esketamine nasal spray: ``devices`` 28 mg devices, the first at ``at_min`` and the
    rest 5 minutes apart, per the label. ``first_device`` > 0 marks devices that continue a
    dose already started (recorded one at a time), so the later-device reduction applies."""

    at_min: float
    devices: int
    first_device: int = 0

    def __post_init__(self) -> None:
        if self.at_min < 0 or not 1 <= self.devices <= 3 or not 0 <= self.first_device <= 2:
            raise ValueError("a nasal dose is 1 to 3 devices at a time >= 0")

    @property
    def dose_mg(self) -> float:
        return 28.0 * self.devices


@dataclass(frozen=True)
class Profile:
    times_min: NDArray[np.float64]
    plasma_ng_per_ml: NDArray[np.float64]
    effect_ng_per_ml: NDArray[np.float64] | None
    amounts_mg: NDArray[np.float64]  # time x compartment
    eliminated_mg: NDArray[np.float64]
    metabolite_ng_per_ml: NDArray[np.float64] | None = None


def rate_matrix(ks: Sequence[float], ke0: float | None = None) -> NDArray[np.float64]:
    """dx/dt = A x for amounts (central first); an effect compartment is appended when ke0 is given
    (its 'amount' is the effect-site concentration times V1)."""
    k10, k12, k21 = ks[0], ks[1], ks[2]
    k13, k31 = (ks[3], ks[4]) if len(ks) == 5 else (0.0, 0.0)
    n = 3 if len(ks) == 5 else 2
    size = n + (1 if ke0 else 0)
    a = np.zeros((size, size))
    a[0, 0] = -(k10 + k12 + k13)
    a[0, 1], a[1, 0], a[1, 1] = k21, k12, -k21
    if n == 3:
        a[0, 2], a[2, 0], a[2, 2] = k31, k13, -k31
    if ke0:
        a[n, 0], a[n, n] = ke0, -ke0
    return a


def _check_range(model: Model, patient: Patient) -> None:
    lo_a, hi_a = model.validity.age_years
    lo_w, hi_w = model.validity.weight_kg
    if not (lo_a <= patient.age_years <= hi_a and lo_w <= patient.weight_kg <= hi_w):
        warnings.warn(
            f"{model.name}: patient (age {patient.age_years:g} y, {patient.weight_kg:g} kg) is outside "
            f"the model's population ({model.validity.population})",
            OutOfRangeWarning,
            stacklevel=3,
        )


def _events(regimen: Sequence[Bolus | Infusion]) -> tuple[NDArray[np.float64], list[float], list[float]]:
    """Event times, the infusion rate after each event, and the bolus given at each."""
    times = {0.0}
    for item in regimen:
        if isinstance(item, Bolus):
            times.add(item.at_min)
        else:
            times.update((item.start_min, item.start_min + item.duration_min))
    grid = np.array(sorted(times))
    rates = [
        sum(
            i.rate_mg_per_min
            for i in regimen
            if isinstance(i, Infusion) and i.start_min <= t < i.start_min + i.duration_min
        )
        for t in grid
    ]
    boluses = [sum(b.dose_mg for b in regimen if isinstance(b, Bolus) and b.at_min == t) for t in grid]
    return grid, rates, boluses


def _inputs(model: Model, system: LinearSystem, regimen: Sequence[Bolus | Infusion | NasalDose]) -> list[Input]:
    out: list[Input] = []
    for item in regimen:
        if isinstance(item, Bolus):
            out.append(Input(system.central, item.at_min, 0.0, item.dose_mg))
        elif isinstance(item, Infusion):
            out.append(Input(system.central, item.start_min, item.duration_min, item.dose_mg))
        else:
            if "nasal" not in system.names:
                raise ValueError(f"{model.name} has no nasal route; use perez_ruixo2021")
            for k in range(item.devices):
                frn = PR["frn"] * (PR["frn_later"] if k + item.first_device else 1.0)
                at = item.at_min + 5.0 * k
                out.append(Input(system.names.index("nasal"), at, 0.0, 28.0 * frn))
                out.append(Input(system.names.index("gut"), at, PR["dsw_h"] * 60, 28.0 * (1 - frn) * PR["fgut"]))
    return out


def _simulate_system(
    model: Model, patient: Patient, regimen: Sequence[Bolus | Infusion | NasalDose], times: NDArray[np.float64]
) -> Profile:
    assert model.system is not None
    system = model.system(patient)
    inputs = _inputs(model, system, regimen)
    amounts = solve(system, inputs, times)
    scale = 1000.0 / system.central_volume_l
    body = np.delete(amounts, [i for i in (system.effect,) if i is not None], axis=1)
    given = np.zeros(times.size)
    for i in inputs:
        given += i.amount_mg if i.duration_min == 0 else 0.0
        if i.duration_min == 0:
            given -= np.where(times < i.start_min, i.amount_mg, 0.0)
        else:
            given += np.clip(times - i.start_min, 0, i.duration_min) * i.amount_mg / i.duration_min
    metabolite = (
        amounts[:, system.metabolite] * 1000.0 / system.metabolite_volume_l
        if system.metabolite is not None and system.metabolite_volume_l
        else None
    )
    effect = amounts[:, system.effect] * scale if system.effect is not None else None
    return Profile(times, amounts[:, system.central] * scale, effect, body, given - body.sum(axis=1), metabolite)


def simulate(
    model: Model,
    patient: Patient,
    regimen: Sequence[Bolus | Infusion | NasalDose],
    times_min: Sequence[float] | NDArray[np.float64],
) -> Profile:
    """Exact amounts and concentrations at ``times_min`` (any order, >= 0).

    Raises ``ValueError`` for negative times; warns ``OutOfRangeWarning`` outside the
    model's population. Mass balance: amounts plus eliminated equal the dose given.
    """
    times = np.asarray(times_min, dtype=float)
    if times.size and times.min() < 0:
        raise ValueError("times_min must be >= 0")
    _check_range(model, patient)
    if model.system is not None:
        return _simulate_system(model, patient, regimen, times)
    if any(isinstance(item, NasalDose) for item in regimen):
        raise ValueError(f"{model.name} has no nasal route; use perez_ruixo2021")
    v1, ks = model.micro(patient)
    ke0 = model.ke0_per_min
    a = rate_matrix(ks, ke0)
    lam, vec = np.linalg.eig(a)
    lam, vec = lam.real, vec.real
    inv = np.linalg.inv(vec)
    grid, rates, boluses = _events([r for r in regimen if not isinstance(r, NasalDose)])
    n = a.shape[0]
    k10 = ks[0]
    # state at each event time, just after that event's bolus; the last column is the
    # amount eliminated so far, integrated exactly as k10 times the central amount
    states = np.zeros((len(grid), n + 1))
    x, gone = np.zeros(n), 0.0
    for i, t in enumerate(grid):
        if i:
            step, area = _advance_many(x, np.array([t - grid[i - 1]]), rates[i - 1], lam, vec, inv)
            x, gone = step[0].copy(), gone + k10 * float(area[0])
        x[0] += boluses[i]
        states[i, :n], states[i, n] = x, gone
    order = None if times.size < 2 or bool(np.all(times[1:] >= times[:-1])) else np.argsort(times, kind="stable")
    sorted_times = times if order is None else times[order]
    cuts = np.searchsorted(sorted_times, grid, side="left")
    amounts = np.empty((times.size, n))
    eliminated = np.empty(times.size)
    for i in range(len(grid)):
        lo, hi = cuts[i], (cuts[i + 1] if i + 1 < len(grid) else times.size)
        if hi > lo:
            amounts[lo:hi], area = _advance_many(states[i, :n], sorted_times[lo:hi] - grid[i], rates[i], lam, vec, inv)
            eliminated[lo:hi] = states[i, n] + k10 * area
    if order is not None:
        amounts[order], eliminated[order] = amounts.copy(), eliminated.copy()
    body = amounts[:, : (3 if len(ks) == 5 else 2)]
    plasma = amounts[:, 0] * (1000.0 / v1)
    effect = amounts[:, -1] * (1000.0 / v1) if ke0 else None
    return Profile(times, plasma, effect, body, eliminated)


def _advance_many(
    x: NDArray[np.float64],
    h: NDArray[np.float64],
    rate: float,
    lam: NDArray[np.float64],
    vec: NDArray[np.float64],
    inv: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Amounts after ``h`` with a constant ``rate`` into the central compartment, and the
    exact integral of the central amount over [0, h] (for elimination).

    In modal coordinates z(h) = z0 + (z0 + w/lam) * expm1(lam h); its integral is
    (z0 + w/lam) * expm1(lam h) / lam - h w/lam. Both fold into small matrix products."""
    z0 = inv @ x
    wl = inv[:, 0] * (rate / lam)
    em1 = np.expm1(np.multiply.outer(h, lam))
    shifted = z0 + wl
    amounts = em1 @ (shifted[:, None] * vec.T) + (z0 @ vec.T)
    area = em1 @ (shifted / lam * vec[0]) - h * float(wl @ vec[0])
    return np.asarray(amounts), np.asarray(area)
