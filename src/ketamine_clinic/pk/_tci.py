"""Target-controlled infusion on the exact step response (numpy only).

The pump rate is constant over each step of ``step_s`` seconds, so in the eigenbasis of
the model the state advances exactly as z[k+1] = exp(lam h) z[k] + g r[k].

Plasma mode picks r[k] so that the plasma concentration at the end of the step equals
the target. Effect mode picks the largest r[k] such that, with the pump off afterwards,

* the effect-site concentration stays at or below the target at every point of a
  look-ahead that is a *time* (``lookahead_min``, 30 minutes by default, sampled every
  ``min(step, 10 s)``), whatever the step size, and
* the plasma concentration stays at or below the plasma ceiling during the step and over
  the same look-ahead.

This is a peak-limited one-step rule in the spirit of Shafer and Gregg's effect-site
method (J Pharmacokinet Biopharm 1992;20:147-69) with a Cp limit; the default ceiling,
1.2 x the target, is the default Cp limit of the opentiva 1.1.2 peer ([P], a clinic
setting, not a published safety bound). Rates are clipped to [0, max_rate]; a session
dose cap stops the pump when reached; the schedule says which bound.

Errors: ``ValueError`` for a non-positive or non-finite target, duration, step, ceiling
or look-ahead, an unknown site, or effect mode on a model without ke0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ketamine_clinic.pk._linear import decompose
from ketamine_clinic.pk._models import Model, Patient
from ketamine_clinic.pk._simulate import Infusion, body_of, check_range, mammillary_system

__all__ = ["DEFAULT_LOOKAHEAD_MIN", "DEFAULT_PLASMA_CEILING_FACTOR", "TciSchedule", "tci"]

#: the effect-site look-ahead, a time (so it does not shrink with the step size)
DEFAULT_LOOKAHEAD_MIN = 30.0
#: plasma ceiling in effect mode, as a multiple of the target: opentiva 1.1.2's default
#: Cp limit ([P]); a clinic setting, not a published bound
DEFAULT_PLASMA_CEILING_FACTOR = 1.2


@dataclass(frozen=True)
class TciSchedule:
    step_s: float
    rates_mg_per_h: NDArray[np.float64]
    total_mg: float
    rate_cap_bound: bool
    dose_cap_bound: bool
    site: str
    target_ng_per_ml: float
    plasma_ceiling_ng_per_ml: float | None = None
    plasma_ceiling_bound: bool = False

    @property
    def regimen(self) -> list[Infusion]:
        """The schedule as infusions (one per step with a positive rate), for ``simulate``."""
        h = self.step_s / 60.0
        return [Infusion(k * h, h, r / 60.0 * h) for k, r in enumerate(self.rates_mg_per_h.tolist()) if r > 0]


def _positive(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number")


def tci(
    model: Model,
    patient: Patient,
    target_ng_per_ml: float,
    duration_min: float,
    site: str = "plasma",
    step_s: float = 10,
    max_rate_mg_per_h: float | None = None,
    max_dose_mg: float | None = None,
    max_plasma_ng_per_ml: float | None = None,
    lookahead_min: float = DEFAULT_LOOKAHEAD_MIN,
) -> TciSchedule:
    """A TCI schedule (see the module docstring). ``max_plasma_ng_per_ml`` is the plasma
    ceiling: in effect mode it defaults to ``DEFAULT_PLASMA_CEILING_FACTOR`` x the target."""
    for name, value in (
        ("target_ng_per_ml", target_ng_per_ml),
        ("duration_min", duration_min),
        ("step_s", step_s),
        ("max_rate_mg_per_h", max_rate_mg_per_h),
        ("max_dose_mg", max_dose_mg),
        ("max_plasma_ng_per_ml", max_plasma_ng_per_ml),
        ("lookahead_min", lookahead_min),
    ):
        _positive(name, value)
    if site not in ("plasma", "effect"):
        raise ValueError("site must be 'plasma' or 'effect'")
    if site == "effect" and not model.ke0_per_min:
        raise ValueError(f"{model.name} has no ke0: effect-site targeting is not possible")
    if model.route != "iv":
        raise ValueError(f"{model.name} is a {model.route} model: TCI needs an intravenous model")
    check_range(model, patient)
    ceiling = max_plasma_ng_per_ml
    if ceiling is None and site == "effect":
        ceiling = DEFAULT_PLASMA_CEILING_FACTOR * target_ng_per_ml
    h = step_s / 60.0
    steps = max(1, int(round(duration_min / h)))
    cap = max_rate_mg_per_h / 60.0 if max_rate_mg_per_h is not None else math.inf
    dose_cap = max_dose_mg if max_dose_mg is not None else math.inf
    if site == "plasma" and ceiling is None:
        rates, total, bounds = _plasma(model, patient, target_ng_per_ml, steps, h, cap, dose_cap)
    else:
        rates, total, bounds = _peak_limited(
            model, patient, site, target_ng_per_ml, ceiling or math.inf, steps, h, cap, dose_cap, lookahead_min
        )
    return TciSchedule(step_s, rates * 60.0, total, bounds[0], bounds[1], site, target_ng_per_ml, ceiling, bounds[2])


def _plasma(
    model: Model, patient: Patient, target: float, steps: int, h: float, cap: float, dose_cap: float
) -> tuple[NDArray[np.float64], float, tuple[bool, bool, bool]]:
    """End-of-step plasma targeting: a scalar recurrence over the modes (pure Python
    floats: a few hundred steps cost less than the numpy calls would)."""
    system = mammillary_system(model, patient)
    body = body_of(system)
    a = system.a_per_min[np.ix_(body, body)]
    modes = decompose(a, range(len(body)))
    lam, vec, inv = modes.lam.real, modes.vec.real, modes.inv.real
    pad = 3 - lam.size  # two-compartment models: a third mode that never fills
    d0, d1, d2 = np.exp(lam * h).tolist() + [0.0] * pad
    g0, g1, g2 = (np.expm1(lam * h) / lam * inv[:, 0]).tolist() + [0.0] * pad
    v0, v1, v2 = vec[0].tolist() + [0.0] * pad
    per_rate = v0 * g0 + v1 * g1 + v2 * g2
    goal = target * system.central_volume_l / 1000.0
    z0 = z1 = z2 = 0.0
    rates = [0.0] * steps
    total, rate_bound, dose_bound = 0.0, False, False
    for k in range(steps):
        z0, z1, z2 = d0 * z0, d1 * z1, d2 * z2
        r = (goal - (v0 * z0 + v1 * z1 + v2 * z2)) / per_rate
        r = r if r > 0.0 else 0.0
        if r > cap:
            r, rate_bound = cap, True
        if total + r * h > dose_cap:
            r, dose_bound = max((dose_cap - total) / h, 0.0), True
        rates[k] = r
        total += r * h
        z0, z1, z2 = z0 + g0 * r, z1 + g1 * r, z2 + g2 * r
    return np.array(rates), total, (rate_bound, dose_bound, False)


def _peak_limited(
    model: Model,
    patient: Patient,
    site: str,
    target: float,
    ceiling: float,
    steps: int,
    h: float,
    cap: float,
    dose_cap: float,
    lookahead_min: float,
) -> tuple[NDArray[np.float64], float, tuple[bool, bool, bool]]:
    system = mammillary_system(model, patient)
    modes = decompose(system.a_per_min, body_of(system))
    lam, vec, inv = modes.lam.real, modes.vec.real, modes.inv.real
    scale = 1000.0 / system.central_volume_l
    # sample points, minutes after the step starts: inside the step, then the look-ahead
    fine = min(h, 1.0 / 60.0)
    inside = np.arange(1, int(round(h / fine)) + 1) * (h / int(round(h / fine)))
    spacing = min(h, 10.0 / 60.0)
    after = h + np.arange(1, int(math.ceil(lookahead_min / spacing)) + 1) * spacing
    s = np.concatenate((inside, after))
    during = s <= h + 1e-12
    free = np.exp(np.multiply.outer(s, lam))  # pump off: z(s) = exp(lam s) z
    phi_in = np.expm1(np.multiply.outer(np.minimum(s, h), lam)) / lam
    unit = np.where(during[:, None], phi_in, np.exp(np.multiply.outer(s - h, lam)) * (np.expm1(lam * h) / lam))
    unit = unit * inv[:, 0]
    rows: list[NDArray[np.float64]] = []
    limits: list[float] = []
    units: list[NDArray[np.float64]] = []
    kinds: list[NDArray[np.bool_]] = []
    outputs = [(vec[0] * scale, ceiling, True)]
    if site == "effect":
        assert system.effect is not None
        outputs.append((vec[system.effect] * scale, target, False))
    else:
        outputs.append((vec[0] * scale, target, False))
        s_mask = np.isclose(s, h)
    for weights, limit, is_ceiling in outputs:
        if not math.isfinite(limit):
            continue
        pick = np.ones(s.size, dtype=bool) if (site == "effect" or is_ceiling) else s_mask
        rows.append((free * weights)[pick])
        units.append((unit @ weights)[pick])
        limits.extend([limit] * int(pick.sum()))
        kinds.append(np.full(int(pick.sum()), is_ceiling))
    m_free = np.vstack(rows)
    u = np.concatenate(units)
    lim = np.array(limits)
    is_ceiling_row = np.concatenate(kinds)
    usable = u > 1e-12 * float(np.max(np.abs(u)))
    m_free, u, lim, is_ceiling_row = m_free[usable], u[usable], lim[usable], is_ceiling_row[usable]
    decay = np.exp(lam * h)
    gain = np.expm1(lam * h) / lam * inv[:, 0]
    z = np.zeros(lam.size)
    rates = np.zeros(steps)
    total, rate_bound, dose_bound, ceiling_bound = 0.0, False, False, False
    for k in range(steps):
        room = (lim - m_free @ z) / u
        i = int(np.argmin(room))
        r = max(float(room[i]), 0.0)
        if r > cap:
            r, rate_bound = cap, True
        elif is_ceiling_row[i]:
            ceiling_bound = True
        if total + r * h > dose_cap:
            r, dose_bound = max((dose_cap - total) / h, 0.0), True
        rates[k] = r
        total += r * h
        z = decay * z + gain * r
    return rates, total, (rate_bound, dose_bound, ceiling_bound)
