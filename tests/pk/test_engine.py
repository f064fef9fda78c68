"""The PK engine against closed forms, the matrix exponential and its own invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from ketamine_clinic import pk
from ketamine_clinic.pk._simulate import rate_matrix

ADULT = pk.Patient(70, 40, "male")
GRID = np.arange(0.0, 240.0 + 1e-9, 1.0)


def test_every_model_has_provenance_and_a_validity_range() -> None:
    assert set(pk.models()) >= {"domino", "clements250", "hijazi", "herd", "kamp2020", "flint2017"}
    for name in pk.models():
        m = pk.model(name)
        assert m.citation and m.parameters and all(p.confidence in {"[C]", "[C2]", "[P]", "[U]"} for p in m.parameters)
        assert m.validity.population and m.ke0_note
    with pytest.raises(ValueError, match="unknown model"):
        pk.model("propofol")


def test_a_tiny_peripheral_exchange_reduces_to_the_one_compartment_closed_form() -> None:
    # a two-compartment model with k12 -> 0 behaves as one compartment: C = D/V e^{-k t}
    herd = pk.model("herd")
    v1, (k10, _k12, _k21) = herd.micro(pk.Patient(30, 8, "female"))
    oracle = pk.Model(
        "oracle",
        "one compartment",
        "closed form",
        2,
        herd.parameters,
        herd.validity,
        None,
        "none",
        "racemic",
        "n/a",
        lambda p: (v1, (k10, 1e-14, 1.0)),
    )
    profile = pk.simulate(oracle, pk.Patient(30, 8, "female"), [pk.Bolus(0, 10)], GRID)
    expected = 10 / v1 * np.exp(-k10 * GRID) * 1000
    np.testing.assert_allclose(profile.plasma_ng_per_ml, expected, rtol=1e-9)


@pytest.mark.parametrize("name", ["domino", "kamp2020", "clements250", "hijazi"])
def test_simulation_matches_the_matrix_exponential(name: str) -> None:
    m = pk.model(name)
    v1, ks = m.micro(ADULT)
    a = rate_matrix(ks)
    profile = pk.simulate(m, ADULT, [pk.Bolus(0, 20)], GRID)
    expected = np.array([(expm(a * t) @ np.eye(a.shape[0])[:, 0])[0] for t in GRID]) * 20 / v1 * 1000
    np.testing.assert_allclose(profile.plasma_ng_per_ml, expected, rtol=1e-9, atol=1e-12)


def test_an_infusion_rises_then_falls_and_peaks_at_its_end() -> None:
    profile = pk.simulate(pk.model("domino"), ADULT, [pk.Infusion(0, 40, 35)], GRID)
    assert int(np.argmax(profile.plasma_ng_per_ml)) == 40
    assert 150 < profile.plasma_ng_per_ml.max() < 350  # published peaks after 0.5 mg/kg/40 min: ~185 ng/mL


def test_from_rate_and_the_effect_site_lag() -> None:
    infusion = pk.Infusion.from_rate(0, 40, 35 / 40)
    assert infusion.dose_mg == pytest.approx(35)
    profile = pk.simulate(pk.model("domino"), ADULT, [infusion], GRID)
    assert profile.effect_ng_per_ml is not None
    # after the pump stops the effect site lags: it stays above the falling plasma level
    assert profile.effect_ng_per_ml[45] > profile.plasma_ng_per_ml[45]
    assert profile.effect_ng_per_ml[10] < profile.plasma_ng_per_ml[10]


def test_outside_the_model_population_a_warning_is_given() -> None:
    with pytest.warns(pk.OutOfRangeWarning, match="outside the model's population"):
        pk.simulate(pk.model("herd"), ADULT, [pk.Bolus(0, 10)], GRID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pk.simulate(pk.model("herd"), pk.Patient(30, 8, "female"), [pk.Bolus(0, 10)], GRID)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: pk.Patient(1, 40, "male"),
        lambda: pk.Patient(70, 200, "male"),
        lambda: pk.Patient(70, 40, "x"),
        lambda: pk.Patient(70, 40, "male", 10),
        lambda: pk.Patient(float("nan"), 40, "male"),
        lambda: pk.Patient("heavy", 40, "male"),  # type: ignore[arg-type]
        lambda: pk.Bolus(-1, 5),
        lambda: pk.Infusion(0, 0, 5),
        lambda: pk.simulate(pk.model("domino"), ADULT, [], [-1.0]),
    ],
)
def test_invalid_inputs_are_refused(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        bad()


regimens = st.lists(
    st.one_of(
        st.builds(pk.Bolus, st.floats(0, 200), st.floats(0, 50)),
        st.builds(pk.Infusion, st.floats(0, 200), st.floats(0.5, 120), st.floats(0, 80)),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(regimen=regimens, name=st.sampled_from(["domino", "kamp2020", "hijazi"]))
def test_mass_balance_holds(regimen: list[pk.Bolus | pk.Infusion], name: str) -> None:
    profile = pk.simulate(pk.model(name), ADULT, regimen, GRID)
    given_mg = profile.amounts_mg.sum(axis=1) + profile.eliminated_mg
    dosed = np.array(
        [
            sum(b.dose_mg for b in regimen if isinstance(b, pk.Bolus) and b.at_min <= t)
            + sum(
                np.clip(t - i.start_min, 0, i.duration_min) * i.rate_mg_per_min
                for i in regimen
                if isinstance(i, pk.Infusion)
            )
            for t in GRID
        ]
    )
    np.testing.assert_allclose(given_mg, dosed, rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(a=regimens, b=regimens)
def test_superposition(a: list[pk.Bolus | pk.Infusion], b: list[pk.Bolus | pk.Infusion]) -> None:
    m = pk.model("domino")
    both = pk.simulate(m, ADULT, a + b, GRID).plasma_ng_per_ml
    apart = pk.simulate(m, ADULT, a, GRID).plasma_ng_per_ml + pk.simulate(m, ADULT, b, GRID).plasma_ng_per_ml
    np.testing.assert_allclose(both, apart, rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(shift=st.floats(1, 60), dose=st.floats(1, 50))
def test_time_invariance(shift: float, dose: float) -> None:
    m = pk.model("kamp2020")
    base = pk.simulate(m, ADULT, [pk.Infusion(0, 40, dose)], GRID).plasma_ng_per_ml
    later = pk.simulate(m, ADULT, [pk.Infusion(shift, 40, dose)], GRID + shift).plasma_ng_per_ml
    np.testing.assert_allclose(later, base, rtol=1e-9, atol=1e-9)


def test_unsorted_times_are_answered_in_their_order() -> None:
    m = pk.model("domino")
    times = np.array([60.0, 10.0, 40.0])
    profile = pk.simulate(m, ADULT, [pk.Infusion(0, 40, 35)], times)
    sorted_profile = pk.simulate(m, ADULT, [pk.Infusion(0, 40, 35)], np.sort(times))
    assert profile.plasma_ng_per_ml[1] == pytest.approx(sorted_profile.plasma_ng_per_ml[0])


def test_pharmacodynamics_only_where_a_model_is_published() -> None:
    assert pk.perception_relative_to_c50(np.array([121.0, 60.5])).tolist() == [1.0, 0.5]
    with pytest.raises(pk.NoPublishedModel, match="slope was not retrieved"):
        pk.dissociation_probability(np.array([100.0]))
    with pytest.raises(pk.NoPublishedModel, match="blood pressure"):
        pk.blood_pressure_change(np.array([100.0]))


def test_esketamine_nasal_spray_peaks_20_to_40_minutes_after_the_last_device() -> None:
    m = pk.model("perez_ruixo2021")
    times = np.arange(0.0, 24 * 60 + 1)
    two = pk.simulate(m, ADULT, [pk.NasalDose(0, 2)], times)
    three = pk.simulate(m, ADULT, [pk.NasalDose(0, 3)], times)
    t_max = times[np.argmax(two.plasma_ng_per_ml)]
    assert 5 + 20 <= t_max <= 5 + 40  # label: Tmax 20-40 min after the last spray
    assert two.metabolite_ng_per_ml is not None and two.metabolite_ng_per_ml.max() > 0
    # the second and third devices absorb less through the mucosa (FRn x 0.62)
    assert three.plasma_ng_per_ml.max() < 1.5 * two.plasma_ng_per_ml.max()
    with pytest.raises(ValueError, match="no nasal route"):
        pk.simulate(pk.model("domino"), ADULT, [pk.NasalDose(0, 2)], times)
    with pytest.raises(ValueError, match="not a central-input"):
        m.micro(ADULT)
    with pytest.raises(ValueError):
        pk.NasalDose(0, 4)


def test_nasal_model_matches_the_matrix_exponential() -> None:
    m = pk.model("perez_ruixo2021")
    system = m.system(ADULT)  # type: ignore[misc]
    nasal = system.names.index("nasal")
    profile = pk.simulate(m, ADULT, [pk.NasalDose(0, 1)], np.array([30.0, 90.0]))
    x0 = np.zeros(len(system.names))
    x0[nasal] = 28 * 0.54
    # the swallowed part enters over 31.8 min: compare only the nasal part by removing it
    only_nasal = np.array([(expm(system.a_per_min * t) @ x0)[system.central] for t in (30.0, 90.0)])
    swallowed = profile.amounts_mg[:, list(system.names).index("central")] - only_nasal
    assert np.all(swallowed > 0)  # the swallowed fraction adds to the nasal one, never removes


def test_flint_s_ketamine_forms_s_norketamine() -> None:
    child = pk.Patient(30, 8, "female")
    profile = pk.simulate(pk.model("flint2017"), child, [pk.Infusion(0, 60, 30)], np.arange(0.0, 241))
    assert profile.metabolite_ng_per_ml is not None
    ratio = profile.metabolite_ng_per_ml / np.maximum(profile.plasma_ng_per_ml, 1e-12)
    assert ratio[240] > ratio[60] > 0  # the metabolite outlasts its parent after the infusion
    both = pk.simulate(pk.model("flint2017"), child, [pk.Bolus(0, 5), pk.Infusion(10, 30, 20)], np.array([5.0, 60]))
    assert both.plasma_ng_per_ml[0] > 0


def test_salt_conversion_is_explicit() -> None:
    assert pk.salt_to_base_mg(11.53) == pytest.approx(10.0)
    assert pk.salt_to_base_mg(32.3) == pytest.approx(28.0, rel=1e-3)
    with pytest.raises(ValueError):
        pk.salt_to_base_mg(-1)


def test_devices_recorded_one_at_a_time_match_a_whole_dose() -> None:
    m = pk.model("perez_ruixo2021")
    times = np.arange(0.0, 180)
    whole = pk.simulate(m, ADULT, [pk.NasalDose(0, 2)], times).plasma_ng_per_ml
    apart = pk.simulate(m, ADULT, [pk.NasalDose(0, 1), pk.NasalDose(5, 1, first_device=1)], times).plasma_ng_per_ml
    np.testing.assert_allclose(apart, whole, rtol=1e-9, atol=1e-12)


def _expm_reference(model: pk.Model, patient: pk.Patient, regimen: list[pk.Infusion], times: np.ndarray) -> np.ndarray:
    """Step through every event and output time with the augmented matrix exponential."""
    v1, ks = model.micro(patient)
    a = rate_matrix(ks)
    n = a.shape[0]
    edges = sorted(
        {0.0, *times.tolist(), *[i.start_min for i in regimen], *[i.start_min + i.duration_min for i in regimen]}
    )
    x, out, now = np.zeros(n), {}, 0.0
    for t in edges:
        if t > now:
            rate = sum(i.rate_mg_per_min for i in regimen if i.start_min <= now < i.start_min + i.duration_min)
            big = np.zeros((n + 1, n + 1))
            big[:n, :n], big[0, n] = a * (t - now), t - now
            e = expm(big)
            x, now = e[:n, :n] @ x + e[:n, n] * rate, t
        out[t] = x[0] / v1 * 1000
    return np.array([out[t] for t in times.tolist()])


def test_hundreds_of_pump_events_on_any_grid_match_the_matrix_exponential() -> None:
    rng = np.random.default_rng(4)
    starts = np.sort(rng.uniform(0, 600, 300))
    regimen = [
        pk.Infusion(float(s), float(d), float(m))
        for s, d, m in zip(starts, rng.uniform(0.5, 5, 300), rng.uniform(0, 3, 300), strict=True)
    ]
    m = pk.model("domino")  # fastest mode 1.7/min: 12 h span the event scan in several blocks
    for times in (np.arange(0, 720.0 + 1e-9, 0.5), np.sort(rng.uniform(0, 720, 400)), rng.uniform(0, 720, 50)):
        ours = pk.simulate(m, ADULT, regimen, times).plasma_ng_per_ml
        np.testing.assert_allclose(ours, _expm_reference(m, ADULT, regimen, times), rtol=1e-9, atol=1e-9 * ours.max())


def test_the_nasal_model_refuses_iv_doses_and_iv_models_refuse_nasal_doses() -> None:
    with pytest.raises(ValueError, match="nasal-spray model"):
        pk.simulate(pk.model("perez_ruixo2021"), ADULT, [pk.Infusion(0, 40, 35)], GRID)
    with pytest.raises(ValueError, match="nasal-spray model"):
        pk.simulate(pk.model("perez_ruixo2021"), ADULT, [pk.Bolus(0, 10)], GRID)
    for name in ("domino", "kamp2020", "flint2017"):
        with pytest.raises(ValueError, match="no nasal route"), warnings.catch_warnings():
            warnings.simplefilter("ignore", pk.OutOfRangeWarning)
            pk.simulate(pk.model(name), ADULT, [pk.NasalDose(0, 2)], GRID)


def test_devices_recorded_one_by_one_with_the_defaults_never_overstate_cmax() -> None:
    # each device recorded as its own NasalDose: the later ones are counted as later devices
    m = pk.model("perez_ruixo2021")
    times = np.arange(0.0, 240)
    whole = pk.simulate(m, ADULT, [pk.NasalDose(0, 3)], times).plasma_ng_per_ml
    apart = pk.simulate(m, ADULT, [pk.NasalDose(0, 1), pk.NasalDose(5, 1), pk.NasalDose(10, 1)], times)
    np.testing.assert_allclose(apart.plasma_ng_per_ml, whole, rtol=1e-9, atol=1e-12)
    # a device on another day starts a new dose
    days = pk.simulate(m, ADULT, [pk.NasalDose(0, 1), pk.NasalDose(3 * 24 * 60, 1)], [60.0, 3 * 24 * 60 + 60.0])
    assert days.plasma_ng_per_ml[1] == pytest.approx(days.plasma_ng_per_ml[0], rel=0.02)


@pytest.mark.parametrize(("ancestry", "published_cmax"), [("unspecified", 72.6), ("japanese", 94.5)])
def test_esketamine_56_mg_cmax_matches_perez_ruixo_table_4(ancestry: str, published_cmax: float) -> None:
    patient = pk.Patient(70, 45, "female", ancestry=ancestry)
    profile = pk.simulate(pk.model("perez_ruixo2021"), patient, [pk.NasalDose(0, 2)], np.arange(0.0, 600))
    assert profile.plasma_ng_per_ml.max() == pytest.approx(published_cmax, rel=0.01)


def test_asian_patients_clear_noresketamine_more_slowly() -> None:
    m, times = pk.model("perez_ruixo2021"), np.arange(0.0, 24 * 60)
    base = pk.simulate(m, ADULT, [pk.NasalDose(0, 2)], times).metabolite_ng_per_ml
    asian = pk.simulate(m, pk.Patient(70, 40, "male", ancestry="asian"), [pk.NasalDose(0, 2)], times)
    assert base is not None and asian.metabolite_ng_per_ml is not None
    assert np.trapezoid(asian.metabolite_ng_per_ml, times) > np.trapezoid(base, times)
    with pytest.raises(ValueError, match="ancestry"):
        pk.Patient(70, 40, "male", ancestry="martian")


def test_flint_s_norketamine_volume_scales_with_weight() -> None:
    system = pk.model("flint2017").system
    assert system is not None
    for weight in (7.0, 35.0, 70.0):
        assert system(pk.Patient(weight, 5, "female")).metabolite_volume_l == pytest.approx(weight / 70)


def _custom(ks: tuple[float, ...], v1: float = 10.0) -> pk.Model:
    base = pk.model("domino")
    return pk.Model(
        "custom",
        "custom",
        "test",
        3,
        base.parameters,
        base.validity,
        None,
        "none",
        "racemic",
        "n/a",
        lambda p: (v1, ks),
    )


@pytest.mark.parametrize(
    ("ks", "v1"),
    [
        ((0.4, 0.5, 0.2, -0.1, 0.01), 10.0),  # a negative rate constant
        ((float("nan"), 0.5, 0.2, 0.5, 0.01), 10.0),  # not a number
        ((0.0, 0.5, 0.2, 0.5, 0.01), 10.0),  # nothing is ever eliminated
        ((0.4, 0.5, 0.2, 0.5, 0.01), 0.0),  # no central volume
        ((0.4, 0.5), 10.0),  # a wrong number of constants
    ],
)
def test_a_defective_custom_model_is_refused_not_silently_wrong(ks: tuple[float, ...], v1: float) -> None:
    with pytest.raises(ValueError, match="custom: V1 must be > 0"):
        pk.simulate(_custom(ks, v1), ADULT, [pk.Bolus(0, 10)], GRID)


def test_a_rate_matrix_that_does_not_decay_is_refused() -> None:
    from ketamine_clinic.pk._linear import ModelError, decompose

    with pytest.raises(ModelError, match="never empties"):
        decompose(np.array([[-0.1, 0.0], [0.1, 0.0]]), [0, 1])
    with pytest.raises(ModelError, match="not finite"):
        decompose(np.array([[np.inf, 0.0], [0.1, -1.0]]), [0, 1])


def test_importing_the_engine_loads_neither_numba_nor_scipy() -> None:
    import subprocess
    import sys

    code = "import sys, ketamine_clinic.pk; print('numba' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_numpy_numbers_make_a_patient() -> None:
    patient = pk.Patient(np.int64(70), np.float32(40), "male")  # type: ignore[arg-type]
    assert patient.weight_kg == 70.0 and isinstance(patient.weight_kg, float)
