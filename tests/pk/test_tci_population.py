from __future__ import annotations

import numpy as np
import pytest

from ketamine_clinic import pk

ADULT = pk.Patient(70, 40, "male")
DOMINO = pk.model("domino")


def test_plasma_tci_hits_the_target_at_every_step_boundary() -> None:
    schedule = pk.tci(DOMINO, ADULT, 300, 40)
    assert schedule.rates_mg_per_h.shape == (240,) and not schedule.rate_cap_bound
    boundaries = np.arange(1, 241) * 10 / 60
    plasma = pk.simulate(DOMINO, ADULT, schedule.regimen, boundaries).plasma_ng_per_ml
    np.testing.assert_allclose(plasma[1:], 300, rtol=1e-3)
    assert schedule.total_mg == pytest.approx(sum(i.dose_mg for i in schedule.regimen))


def test_caps_are_never_exceeded_and_say_they_bound() -> None:
    capped = pk.tci(DOMINO, ADULT, 300, 40, max_rate_mg_per_h=300)
    assert capped.rates_mg_per_h.max() <= 300 + 1e-9 and capped.rate_cap_bound
    dosed = pk.tci(DOMINO, ADULT, 300, 40, max_dose_mg=20)
    assert dosed.total_mg <= 20 + 1e-9 and dosed.dose_cap_bound


def test_effect_tci_brings_the_effect_site_to_the_target_without_overshoot() -> None:
    schedule = pk.tci(DOMINO, ADULT, 150, 40, site="effect")
    effect = pk.simulate(DOMINO, ADULT, schedule.regimen, np.arange(0, 2401) / 60).effect_ng_per_ml
    assert effect is not None
    assert effect.max() <= 150 * 1.001 and effect[-1] == pytest.approx(150, rel=0.02)


def test_tci_refuses_bad_requests() -> None:
    with pytest.raises(ValueError):
        pk.tci(DOMINO, ADULT, 0, 40)
    with pytest.raises(ValueError, match="site"):
        pk.tci(DOMINO, ADULT, 100, 40, site="brain")
    with pytest.raises(ValueError, match="no ke0"):
        pk.tci(pk.model("hijazi"), ADULT, 100, 40, site="effect")


GRID = np.arange(0, 240 + 1e-9, 10 / 60)


def _individual(model: pk.Model, patient: pk.Patient) -> dict[str, list[float]]:
    v1, ks = model.micro(patient)
    k13, k31 = (ks[3], ks[4]) if len(ks) == 5 else (0.0, 0.0)
    return {
        "v1_l": [v1],
        "k10_per_min": [ks[0]],
        "k12_per_min": [ks[1]],
        "k21_per_min": [ks[2]],
        "k13_per_min": [k13],
        "k31_per_min": [k31],
    }


@pytest.mark.parametrize("name", ["domino", "kamp2020"])
def test_explicit_individuals_are_simulated_draw_for_draw(name: str) -> None:
    m = pk.model(name)
    regimen = [pk.Infusion(0, 40, 35), pk.Bolus(60, 5)]
    exact = pk.simulate(m, ADULT, regimen, GRID).plasma_ng_per_ml
    pop = pk.simulate_population(m, regimen, GRID, individuals=_individual(m, ADULT), keep_curves=True)
    assert pop.plasma_ng_per_ml is not None
    np.testing.assert_allclose(pop.plasma_ng_per_ml[0], exact, rtol=1e-9, atol=1e-9)
    assert pop.peak_ng_per_ml[0] == pytest.approx(exact.max(), rel=1e-9)


def test_a_two_compartment_individual_matches_too() -> None:
    m = pk.model("hijazi")
    exact = pk.simulate(m, ADULT, [pk.Infusion(0, 40, 35)], GRID).plasma_ng_per_ml
    pop = pk.simulate_population(m, [pk.Infusion(0, 40, 35)], GRID, individuals=_individual(m, ADULT))
    assert pop.peak_ng_per_ml[0] == pytest.approx(exact.max(), rel=1e-9)


def test_draws_are_reproducible_by_seed_and_vary_by_cv() -> None:
    a = pk.simulate_population(DOMINO, [pk.Infusion(0, 40, 35)], GRID, n=500, seed=7, keep_curves=True)
    b = pk.simulate_population(DOMINO, [pk.Infusion(0, 40, 35)], GRID, n=500, seed=7)
    np.testing.assert_array_equal(a.individuals["v1_l"], b.individuals["v1_l"])
    # keep_curves walks the grid, the peaks-only path does not: equal to round-off
    np.testing.assert_allclose(a.peak_ng_per_ml, b.peak_ng_per_ml, rtol=1e-12)
    spread = np.std(np.log(a.individuals["v1_l"]))
    assert 0.2 < spread < 0.4 and "30% CV" in a.variability
    assert a.time_above_min(100, GRID).shape == (500,)
    assert np.all(a.auc_ng_min_per_ml > 0)
    with pytest.raises(ValueError, match="keep_curves"):
        b.time_above_min(100, GRID)


def test_population_input_errors() -> None:
    with pytest.raises(ValueError, match="uniform grid"):
        pk.simulate_population(DOMINO, [], [0.0, 1.0, 3.0], n=2)
    with pytest.raises(ValueError, match="give n"):
        pk.simulate_population(DOMINO, [], GRID)
    with pytest.raises(ValueError, match="lacks"):
        pk.simulate_population(DOMINO, [], GRID, individuals={"v1_l": [1.0]})
    with pytest.raises(ValueError, match="output grid"):
        pk.simulate_population(DOMINO, [pk.Infusion(0.05, 40, 35)], GRID, n=2)


def test_auc_is_the_trapezoid_of_the_curve() -> None:
    pop = pk.simulate_population(DOMINO, [pk.Infusion(0, 40, 35)], GRID, n=3, seed=2, keep_curves=True)
    assert pop.plasma_ng_per_ml is not None
    np.testing.assert_allclose(pop.auc_ng_min_per_ml, np.trapezoid(pop.plasma_ng_per_ml, GRID, axis=1), rtol=1e-9)
    np.testing.assert_allclose(pop.time_of_peak_min, GRID[np.argmax(pop.plasma_ng_per_ml, axis=1)])


def test_published_variability_is_used_where_it_exists() -> None:
    child = pk.Patient(30, 8, "female")
    herd = pk.simulate_population(pk.model("herd"), [pk.Infusion(0, 40, 15)], GRID, n=4000, seed=3, patient=child)
    assert herd.variability.startswith("published: v1 64.0% CV")
    v1 = herd.individuals["v1_l"]
    assert np.std(np.log(v1)) == pytest.approx(np.sqrt(np.log1p(0.64**2)), rel=0.05)
    flint = pk.draw_individuals(pk.model("flint2017"), child, 4000, seed=3)
    assert np.std(np.log(flint["v1_l"])) == 0  # only clearance varies in Flint 2017
    assert np.all(flint["k13_per_min"] == 0)


def test_populations_warn_outside_the_studied_range_and_keep_routes_apart() -> None:
    with pytest.warns(pk.OutOfRangeWarning, match="outside the model's population"):
        pk.simulate_population(pk.model("herd"), [pk.Infusion(0, 40, 35)], GRID, n=10, seed=1)
    with pytest.warns(pk.OutOfRangeWarning):
        pk.simulate_population(DOMINO, [pk.Infusion(0, 40, 35)], GRID, n=10, patient=pk.Patient(70, 100, "female"))
    with pytest.warns(pk.OutOfRangeWarning):
        nasal = pk.model("perez_ruixo2021")
        pk.simulate_population(nasal, [pk.NasalDose(0, 2)], GRID, n=2, patient=pk.Patient(70, 100, "female"))
    with pytest.raises(ValueError, match="nasal doses"):
        pk.simulate_population(pk.model("perez_ruixo2021"), [pk.Infusion(0, 40, 35)], GRID, n=10)
    with pytest.raises(ValueError, match="not nasal doses"):
        pk.simulate_population(DOMINO, [pk.NasalDose(0, 2)], GRID, n=10)
    with pytest.raises(ValueError, match="draws its own individuals"):
        pk.simulate_population(pk.model("perez_ruixo2021"), [pk.NasalDose(0, 2)], GRID, individuals={"v1_l": [1.0]})


def test_esketamine_cohorts_draw_perez_ruixo_variability() -> None:
    times = np.arange(0.0, 241.0)
    pop = pk.simulate_population(pk.model("perez_ruixo2021"), [pk.NasalDose(0, 2)], times, n=400, seed=3)
    typical = pk.simulate(pk.model("perez_ruixo2021"), ADULT, [pk.NasalDose(0, 2)], times).plasma_ng_per_ml.max()
    assert np.median(pop.peak_ng_per_ml) == pytest.approx(typical, rel=0.1)
    assert np.std(np.log(pop.individuals["vc"])) == pytest.approx(np.sqrt(np.log1p(0.275**2)), rel=0.1)
    assert np.std(pop.individuals["frn"]) == pytest.approx(0.708, rel=0.1)
    assert pop.variability.startswith("published: vc 27.5% CV") and "FRn logit SD 0.708" in pop.variability
    assert np.all((pop.time_of_peak_min > 5) & (pop.time_of_peak_min < 240))


@pytest.mark.parametrize(
    "bad",
    [
        {"v1_l": [0.0]},
        {"k10_per_min": [float("nan")]},
        {"k12_per_min": [-0.1]},
        {"k13_per_min": [0.5], "k31_per_min": [0.0]},
        {"k21_per_min": [0.1, 0.2]},
    ],
)
def test_individuals_that_are_not_a_model_are_refused(bad: dict[str, list[float]]) -> None:
    individual = {**_individual(DOMINO, ADULT), **bad}
    with pytest.raises(ValueError):
        pk.simulate_population(DOMINO, [pk.Infusion(0, 40, 35)], GRID, individuals=individual)


def test_flint_draws_its_published_correlated_clearances() -> None:
    draws = pk.draw_individuals(pk.model("flint2017"), pk.Patient(20, 5, "female"), 20000, seed=5)
    cl, cl_snk = np.log(draws["k10_per_min"]), np.log(draws["cl_snk_l_per_min"])
    assert np.corrcoef(cl, cl_snk)[0, 1] == pytest.approx(0.506, abs=0.03)
    assert np.std(cl_snk) == pytest.approx(np.sqrt(np.log1p(1.04**2)), rel=0.03)


def test_hijazi_variability_comes_from_its_abstract_and_the_default_states_its_clearance_cv() -> None:
    child = pk.Patient(70, 40, "male")
    hijazi = pk.simulate_population(pk.model("hijazi"), [pk.Infusion(0, 40, 35)], GRID, n=20000, seed=2, patient=child)
    clearance = hijazi.individuals["k10_per_min"] * hijazi.individuals["v1_l"]
    assert np.std(np.log(clearance)) == pytest.approx(np.sqrt(np.log1p((13.3 / 36) ** 2)), rel=0.03)
    assert "Hijazi 2003 abstract" in hijazi.variability
    default = pk.simulate_population(DOMINO, [pk.Infusion(0, 40, 35)], GRID, n=20000, seed=2)
    assert "clearance CV 43.4%" in default.variability
    clearance = default.individuals["k10_per_min"] * default.individuals["v1_l"]
    assert np.std(clearance) / np.mean(clearance) == pytest.approx(0.434, abs=0.02)


def test_peaks_times_and_auc_match_simulate_for_boluses_and_late_starts() -> None:
    # segments that rise and fall at once (a bolus during an infusion), and nothing before the first event
    regimen = [pk.Infusion(10, 30, 20), pk.Bolus(20, 8), pk.Infusion(60, 20, 10)]
    pop = pk.simulate_population(DOMINO, regimen, GRID, individuals=_individual(DOMINO, ADULT), keep_curves=True)
    exact = pk.simulate(DOMINO, ADULT, regimen, GRID).plasma_ng_per_ml
    assert pop.plasma_ng_per_ml is not None
    np.testing.assert_allclose(pop.plasma_ng_per_ml[0], exact, rtol=1e-9, atol=1e-9)
    assert pop.peak_ng_per_ml[0] == pytest.approx(exact.max(), rel=1e-9)
    assert pop.time_of_peak_min[0] == pytest.approx(GRID[np.argmax(exact)])
    assert pop.auc_ng_min_per_ml[0] == pytest.approx(np.trapezoid(exact, GRID), rel=1e-9)


@pytest.mark.parametrize("name", ["domino", "hijazi", "kamp2020"])
def test_the_peaks_only_path_matches_simulate_for_mixed_segments_and_late_starts(name: str) -> None:
    m = pk.model(name)
    regimen = [pk.Infusion(10, 30, 20), pk.Bolus(20, 8), pk.Infusion(60, 20, 10), pk.Bolus(200, 3)]
    draws = pk.draw_individuals(m, ADULT, 40, seed=9)
    pop = pk.simulate_population(m, regimen, GRID, individuals=draws)
    for i in range(0, 40, 7):
        one = pk.Model(
            "one",
            "one",
            "test",
            3,
            m.parameters,
            m.validity,
            None,
            "",
            "",
            "",
            lambda p, i=i: (
                draws["v1_l"][i],
                tuple(draws[k][i] for k in ("k10_per_min", "k12_per_min", "k21_per_min", "k13_per_min", "k31_per_min"))
                if draws["k13_per_min"][i] > 0
                else tuple(draws[k][i] for k in ("k10_per_min", "k12_per_min", "k21_per_min")),
            ),
        )
        exact = pk.simulate(one, ADULT, regimen, GRID).plasma_ng_per_ml
        assert pop.peak_ng_per_ml[i] == pytest.approx(exact.max(), rel=1e-9)
        assert pop.time_of_peak_min[i] == pytest.approx(GRID[np.argmax(exact)])
        assert pop.auc_ng_min_per_ml[i] == pytest.approx(np.trapezoid(exact, GRID), rel=1e-9)
