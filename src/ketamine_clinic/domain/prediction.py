"""Predicted plasma concentration of a session from its recorded pump events.

The pump events (start, rate change, pause, resume, stop; never edited, amendments
replace the entry they correct) become piecewise-constant infusions in mg of free base,
which the PK engine simulates exactly. The model is the clinic's chosen racemic model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from ketamine_clinic import pk

__all__ = [
    "DEFAULT_MODEL",
    "NASAL_MODEL",
    "PumpSegment",
    "Prediction",
    "predict",
    "predict_nasal",
    "segments_from_events",
]

DEFAULT_MODEL = "domino"
NASAL_MODEL = "perez_ruixo2021"


@dataclass(frozen=True)
class PumpSegment:
    start_min: float
    end_min: float
    rate_mg_per_min: float

    @property
    def dose_mg(self) -> float:
        return (self.end_min - self.start_min) * self.rate_mg_per_min


@dataclass(frozen=True)
class Prediction:
    times_min: list[float]
    plasma_ng_per_ml: list[float]
    segments: list[PumpSegment]
    administered_mg: float
    model: str
    notes: list[str] = field(default_factory=list)


def segments_from_events(
    events: Sequence[tuple[datetime, str, float]],
    concentration_mg_per_ml: float,
    *,
    now: datetime,
) -> tuple[datetime | None, list[PumpSegment]]:
    """(start time, segments) from (at, kind, rate mL/h) events in time order.

    A segment runs from one event to the next; after a pause the rate is zero until
    resume; the last segment of a running pump ends at ``now``.
    """
    origin = next((at for at, kind, _ in events if kind == "start"), None)
    if origin is None:
        return None, []
    segments: list[PumpSegment] = []
    rate_ml_per_h, last_at, running = 0.0, origin, False
    for at, kind, rate in events:
        if at < origin:
            continue
        if running and rate_ml_per_h > 0 and at > last_at:
            segments.append(_segment(origin, last_at, at, rate_ml_per_h, concentration_mg_per_ml))
        if kind in {"start", "resume", "rate"}:
            running, rate_ml_per_h = True, float(rate)
        elif kind in {"pause", "stop"}:
            running = False
        last_at = at
    if running and rate_ml_per_h > 0 and now > last_at:
        segments.append(_segment(origin, last_at, now, rate_ml_per_h, concentration_mg_per_ml))
    return origin, segments


def _segment(origin: datetime, a: datetime, b: datetime, ml_per_h: float, mg_per_ml: float) -> PumpSegment:
    return PumpSegment(
        (a - origin).total_seconds() / 60,
        (b - origin).total_seconds() / 60,
        ml_per_h * mg_per_ml / 60,
    )


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def predict(
    segments: Sequence[PumpSegment],
    *,
    weight_kg: float,
    birth_date: date,
    sex: str,
    on: date,
    horizon_min: float = 180.0,
    step_min: float = 1.0,
    model_name: str = DEFAULT_MODEL,
) -> Prediction:
    """Simulate ``segments`` exactly; model-range warnings become notes, not errors."""
    regimen = [
        pk.Infusion(start_min=s.start_min, duration_min=s.end_min - s.start_min, dose_mg=s.dose_mg)
        for s in segments
        if s.end_min > s.start_min
    ]
    end = max([horizon_min] + [s.end_min + 60 for s in segments])
    times = np.arange(0.0, end + step_min / 2, step_min)
    if not regimen:
        return Prediction([float(t) for t in times], [0.0] * len(times), [], 0.0, model_name)
    patient = pk.Patient(
        weight_kg=weight_kg,
        age_years=_age(birth_date, on),
        sex="female" if sex == "female" else "male",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        profile = pk.simulate(pk.model(model_name), patient, regimen, times)
    return Prediction(
        times_min=[float(t) for t in times],
        plasma_ng_per_ml=[float(c) for c in profile.plasma_ng_per_ml],
        segments=list(segments),
        administered_mg=round(sum(s.dose_mg for s in segments), 1),
        model=model_name,
        notes=sorted({str(w.message) for w in caught}),
    )


def predict_nasal(
    device_minutes: Sequence[float],
    *,
    weight_kg: float,
    birth_date: date,
    sex: str,
    on: date,
    horizon_min: float = 240.0,
    step_min: float = 1.0,
) -> Prediction:
    """Esketamine plasma concentration from the recorded device times (minutes after the first)."""
    regimen = [pk.NasalDose(t, 1, first_device=min(i, 2)) for i, t in enumerate(device_minutes)]
    times = np.arange(0.0, horizon_min + step_min / 2, step_min)
    if not regimen:
        return Prediction([float(t) for t in times], [0.0] * len(times), [], 0.0, NASAL_MODEL)
    patient = pk.Patient(
        weight_kg=weight_kg, age_years=_age(birth_date, on), sex="female" if sex == "female" else "male"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        profile = pk.simulate(pk.model(NASAL_MODEL), patient, regimen, times)
    return Prediction(
        [float(t) for t in times],
        [float(c) for c in profile.plasma_ng_per_ml],
        [],
        28.0 * len(regimen),
        NASAL_MODEL,
        sorted({str(w.message) for w in caught}),
    )
