"""Target-controlled infusion at every step size, for every model: the effect site never
overshoots, the plasma ceiling is never crossed, plasma targeting is exact."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ketamine_clinic import pk

STEPS_S = [1, 5, 10, 60]
IV_MODELS = ["domino", "clements250", "hijazi", "herd", "kamp2020", "flint2017"]
EFFECT_MODELS = [name for name in IV_MODELS if pk.model(name).ke0_per_min]
FINE = np.arange(0, 90 * 60 + 1) / 60.0  # every second for 90 minutes


def _patient(name: str) -> pk.Patient:
    return pk.Patient(30, 8, "female") if name in ("herd", "flint2017") else pk.Patient(70, 45, "male")


def _run(name: str, target: float, step_s: float, **options: float) -> tuple[pk.TciSchedule, pk.Profile]:
    model, patient = pk.model(name), _patient(name)
    schedule = pk.tci(model, patient, target, 40, step_s=step_s, **options)  # type: ignore[arg-type]
    return schedule, pk.simulate(model, patient, schedule.regimen, FINE)


def test_every_intravenous_model_has_an_effect_site_or_refuses_effect_targeting() -> None:
    assert EFFECT_MODELS == ["domino", "kamp2020", "flint2017"]
    for name in set(IV_MODELS) - set(EFFECT_MODELS):
        with pytest.raises(ValueError, match="no ke0"):
            pk.tci(pk.model(name), _patient(name), 100, 40, site="effect")


@pytest.mark.parametrize("step_s", STEPS_S)
@pytest.mark.parametrize("name", EFFECT_MODELS)
def test_effect_site_reaches_the_target_without_overshoot_and_plasma_stays_under_the_ceiling(
    name: str, step_s: float
) -> None:
    schedule, profile = _run(name, 300, step_s, site="effect")  # type: ignore[arg-type]
    assert schedule.plasma_ceiling_ng_per_ml == pytest.approx(1.2 * 300)
    assert profile.effect_ng_per_ml is not None
    assert profile.effect_ng_per_ml.max() <= 300 * 1.01
    assert profile.plasma_ng_per_ml.max() <= 360 * (1 + 1e-9)
    assert profile.effect_ng_per_ml[40 * 60] >= 300 * 0.97


@pytest.mark.parametrize("step_s", STEPS_S)
@pytest.mark.parametrize("name", EFFECT_MODELS)
def test_without_a_ceiling_the_thirty_minute_look_ahead_alone_prevents_overshoot(name: str, step_s: float) -> None:
    # at 1 s steps a look-ahead of 180 steps is 3 minutes: Kamp 2020 then overshot by 39 %
    _, profile = _run(name, 300, step_s, site="effect", max_plasma_ng_per_ml=1e9)  # type: ignore[arg-type]
    assert profile.effect_ng_per_ml is not None
    assert profile.effect_ng_per_ml.max() <= 300 * 1.01


def test_a_look_ahead_counted_in_steps_would_overshoot_which_is_why_it_is_a_time() -> None:
    _, short = _run("kamp2020", 300, 1, site="effect", max_plasma_ng_per_ml=1e9, lookahead_min=3.0)  # type: ignore[arg-type]
    assert short.effect_ng_per_ml is not None and short.effect_ng_per_ml.max() > 300 * 1.05


def test_domino_effect_target_no_longer_drives_plasma_to_thousands() -> None:
    _, profile = _run("domino", 300, 10, site="effect")  # type: ignore[arg-type]
    assert profile.plasma_ng_per_ml.max() <= 360 * (1 + 1e-9)  # it was 5,382 ng/mL
    _, absolute = _run("domino", 300, 10, site="effect", max_plasma_ng_per_ml=500)  # type: ignore[arg-type]
    assert absolute.plasma_ng_per_ml.max() <= 500 * (1 + 1e-9)


@pytest.mark.parametrize("step_s", STEPS_S)
@pytest.mark.parametrize("name", IV_MODELS)
def test_plasma_tci_is_exact_at_every_step_boundary(name: str, step_s: float) -> None:
    model, patient = pk.model(name), _patient(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pk.OutOfRangeWarning)
        schedule = pk.tci(model, patient, 150, 20, step_s=step_s)
        boundaries = np.arange(1, schedule.rates_mg_per_h.size + 1) * step_s / 60
        plasma = pk.simulate(model, patient, schedule.regimen, boundaries).plasma_ng_per_ml
    np.testing.assert_allclose(plasma, 150, rtol=1e-9)
    assert np.all(schedule.rates_mg_per_h >= 0)


def test_a_plasma_ceiling_also_bounds_plasma_mode() -> None:
    schedule, profile = _run("domino", 300, 10, max_plasma_ng_per_ml=200)  # type: ignore[arg-type]
    assert profile.plasma_ng_per_ml.max() <= 200 * (1 + 1e-9) and schedule.plasma_ceiling_bound


@pytest.mark.parametrize(
    "options",
    [
        {"max_plasma_ng_per_ml": -1.0},
        {"lookahead_min": 0.0},
        {"step_s": float("nan")},
        {"max_rate_mg_per_h": 0.0},
    ],
)
def test_tci_refuses_nonsense_settings(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be a positive number"):
        pk.tci(pk.model("domino"), pk.Patient(70, 45, "male"), 100, 40, **options)  # type: ignore[arg-type]


def test_tci_refuses_the_nasal_model() -> None:
    with pytest.raises(ValueError, match="intravenous"):
        pk.tci(pk.model("perez_ruixo2021"), pk.Patient(70, 45, "male"), 100, 40)
