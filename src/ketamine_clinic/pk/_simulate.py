"""Exact simulation of linear mammillary models under boluses and constant-rate infusions.

Between events the input is constant, so each compartment amount is a sum of
exponentials in the eigenvalues of the rate matrix: the solution is exact at any time,
with no integration grid. Amounts in mg, times in minutes, concentrations in ng/mL.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from ketamine_clinic.pk._linear import (
    Input,
    LinearSystem,
    ModelError,
    Solution,
    decompose,
    piecewise,
    solve,
    uniform_step,
)
from ketamine_clinic.pk._models import PR, Model, Patient

__all__ = [
    "DOSE_WINDOW_MIN",
    "HCL_PER_BASE",
    "Bolus",
    "Infusion",
    "NasalDose",
    "OutOfRangeWarning",
    "Profile",
    "check_range",
    "mammillary_system",
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
        if not (math.isfinite(self.at_min) and math.isfinite(self.dose_mg)) or self.at_min < 0 or self.dose_mg < 0:
            raise ValueError("bolus time and dose must be non-negative")


@dataclass(frozen=True)
class Infusion:
    start_min: float
    duration_min: float
    dose_mg: float

    def __post_init__(self) -> None:
        finite = math.isfinite(self.start_min) and math.isfinite(self.duration_min) and math.isfinite(self.dose_mg)
        if not finite or self.start_min < 0 or self.duration_min <= 0 or self.dose_mg < 0:
            raise ValueError("infusion start >= 0, duration > 0 and dose >= 0 are required")

    @classmethod
    def from_rate(cls, start_min: float, duration_min: float, rate_mg_per_min: float) -> Infusion:
        return cls(start_min, duration_min, rate_mg_per_min * duration_min)

    @property
    def rate_mg_per_min(self) -> float:
        return self.dose_mg / self.duration_min


#: devices closer than this to the previous one belong to the same dose (the label spaces
#: them 5 minutes apart; a dose is 2 or 3 devices), so their nasal fraction is reduced
DOSE_WINDOW_MIN = 30.0


@dataclass(frozen=True)
class NasalDose:
    """Esketamine nasal spray: ``devices`` 28 mg devices, the first at ``at_min`` and the
    rest 5 minutes apart, per the label. ``first_device`` is the place of the first of them
    in its dose (0 = the dose's first device); left as ``None`` it is counted from the
    regimen: a device within ``DOSE_WINDOW_MIN`` of the previous one is a later device
    (Perez-Ruixo 2021: FRn x 0.62 for the 2nd and later sprays), so recording devices one
    at a time never overstates Cmax."""

    at_min: float
    devices: int
    first_device: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.at_min) and self.at_min >= 0) or not 1 <= self.devices <= 3:
            raise ValueError("a nasal dose is 1 to 3 devices at a time >= 0")
        if self.first_device is not None and not 0 <= self.first_device <= 2:
            raise ValueError("first_device must be 0, 1 or 2")

    @property
    def dose_mg(self) -> float:
        return 28.0 * self.devices


@dataclass(frozen=True, eq=False)
class Profile:
    """Concentrations at ``times_min``: plasma at once; the effect site, the metabolite,
    the amounts (time x body compartment) and the eliminated mass when first read."""

    times_min: NDArray[np.float64]
    plasma_ng_per_ml: NDArray[np.float64]
    _solution: Solution = field(repr=False)
    _system: LinearSystem = field(repr=False)

    @cached_property
    def effect_ng_per_ml(self) -> NDArray[np.float64] | None:
        system = self._system
        if system.effect is None:
            return None
        return self._solution.amount(system.effect) * (1000.0 / system.central_volume_l)

    @cached_property
    def metabolite_ng_per_ml(self) -> NDArray[np.float64] | None:
        system = self._system
        if system.metabolite is None or not system.metabolite_volume_l:
            return None
        return self._solution.amount(system.metabolite) * (1000.0 / system.metabolite_volume_l)

    @cached_property
    def amounts_mg(self) -> NDArray[np.float64]:
        return self._solution.amounts[:, list(body_of(self._system))]

    @property
    def eliminated_mg(self) -> NDArray[np.float64]:
        return self._solution.eliminated_mg


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


def check_range(model: Model, patient: Patient) -> None:
    """Warn ``OutOfRangeWarning`` when ``patient`` is outside the model's studied population."""
    lo_a, hi_a = model.validity.age_years
    lo_w, hi_w = model.validity.weight_kg
    if not (lo_a <= patient.age_years <= hi_a and lo_w <= patient.weight_kg <= hi_w):
        warnings.warn(
            f"{model.name}: patient (age {patient.age_years:g} y, {patient.weight_kg:g} kg) is outside "
            f"the model's population ({model.validity.population})",
            OutOfRangeWarning,
            stacklevel=3,
        )


def mammillary_system(model: Model, patient: Patient) -> LinearSystem:
    """The central-input system of a mammillary model for ``patient`` (with its effect site
    when the model has a ke0). Raises ``ModelError`` for constants that are not a model."""
    v1, ks = model.micro(patient)
    values = (v1, *ks)
    if len(ks) not in (3, 5) or not all(math.isfinite(x) for x in values) or v1 <= 0 or min(ks) < 0 or ks[0] <= 0:
        raise ModelError(
            f"{model.name}: V1 must be > 0, k10 > 0 and every other rate constant >= 0 "
            f"(three or five of them), got V1 {v1!r} and {tuple(ks)!r}"
        )
    a = rate_matrix(ks, model.ke0_per_min)
    n = 3 if len(ks) == 5 else 2
    names = ("central", "peripheral1", "peripheral2")[:n] + (("effect",) if model.ke0_per_min else ())
    return LinearSystem(a, names, 0, v1, effect=n if model.ke0_per_min else None)


def system_of(model: Model, patient: Patient) -> LinearSystem:
    return model.system(patient) if model.system is not None else mammillary_system(model, patient)


def body_of(system: LinearSystem) -> tuple[int, ...]:
    return tuple(i for i in range(len(system.names)) if i != system.effect)


def _inputs(model: Model, system: LinearSystem, regimen: Sequence[Bolus | Infusion | NasalDose]) -> list[Input]:
    nasal = "nasal" in system.names
    out: list[Input] = []
    devices: list[tuple[float, int | None]] = []
    c = system.central
    for item in regimen:
        kind = type(item)
        if kind is Infusion or kind is Bolus:
            if nasal:
                raise ValueError(f"{model.name} is the nasal-spray model: simulate IV doses with an IV model")
            if kind is Infusion:
                out.append(Input(c, item.start_min, item.duration_min, item.dose_mg))  # type: ignore[union-attr]
            else:
                out.append(Input(c, item.at_min, 0.0, item.dose_mg))  # type: ignore[union-attr]
        elif isinstance(item, NasalDose):
            if not nasal:
                raise ValueError(f"{model.name} has no nasal route: nasal doses need perez_ruixo2021")
            first = item.first_device
            devices += [(item.at_min + 5.0 * k, None if first is None else first + k) for k in range(item.devices)]
        else:
            raise TypeError(f"a regimen holds Bolus, Infusion or NasalDose items, not {kind.__name__}")
    out += _device_inputs(system, devices, system.nasal_fraction or PR["frn"])
    return out


def _device_inputs(system: LinearSystem, devices: list[tuple[float, int | None]], frn0: float) -> list[Input]:
    """Each 28 mg device: a nasal part (FRn, x0.62 for every device after the first of a
    dose) and a swallowed part entering the gut over Dsw. A device's place in its dose is
    given, or else counted: any device within ``DOSE_WINDOW_MIN`` of the previous one is a
    later device, so devices recorded one at a time never overstate Cmax."""
    out: list[Input] = []
    previous: float | None = None
    nasal, gut = system.names.index("nasal") if devices else 0, system.names.index("gut") if devices else 0
    for at, index in sorted(devices, key=lambda d: d[0]):
        later = index > 0 if index is not None else previous is not None and at - previous <= DOSE_WINDOW_MIN
        previous = at
        frn = min(1.0, frn0 * (PR["frn_later"] if later else 1.0))
        out.append(Input(nasal, at, 0.0, 28.0 * frn))
        out.append(Input(gut, at, PR["dsw_h"] * 60, 28.0 * (1 - frn) * PR["fgut"]))
    return out


def simulate(
    model: Model,
    patient: Patient,
    regimen: Sequence[Bolus | Infusion | NasalDose],
    times_min: Sequence[float] | NDArray[np.float64],
) -> Profile:
    """Exact amounts and concentrations at ``times_min`` (any order, >= 0).

    Raises ``ValueError`` for negative or non-finite times, a nasal dose on an IV model or
    an IV dose on the nasal model, and ``ModelError`` (a ``ValueError``) for a model whose
    constants are not a compartment system; warns ``OutOfRangeWarning`` outside the
    model's population. Mass balance: amounts plus eliminated equal the dose given.
    """
    times = np.asarray(times_min, dtype=float).reshape(-1)
    step = uniform_step(times)
    if step is not None:
        valid = times[0] >= 0  # a finite uniform grid: its first point is its least
    else:
        valid = not times.size or bool(times.min() >= 0 and math.isfinite(times.max()))
    if not valid:
        raise ValueError("times_min must be finite and >= 0")
    check_range(model, patient)
    system = system_of(model, patient)
    body = body_of(system)
    inputs = _inputs(model, system, regimen)
    solution = solve(decompose(system.a_per_min, body), piecewise(inputs, len(system.names)), times, step)
    row = np.zeros((1, len(system.names)))
    row[0, system.central] = 1000.0 / system.central_volume_l
    plasma = solution.project(row)[0]
    return Profile(times, plasma, solution, system)
