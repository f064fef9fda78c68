from __future__ import annotations

from pathlib import Path

import pytest

from ketamine_clinic.cli.main import main


def test_models_lists_every_model_with_its_citation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "models"]) == 0
    out = capsys.readouterr().out
    assert "domino" in out and "kamp2020" in out and "Anesthesiology 2020" in out


def test_simulate_prints_a_table_and_overlays_models_in_a_plot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plot = tmp_path / "c.svg"
    assert main(["pk", "simulate", "--model", "domino,kamp2020", "--step", "40", "--plot", str(plot)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "35.0 mg over 40 min, 70 kg" and "kamp2020" in lines[1]
    assert plot.read_text().startswith("<?xml")


def test_simulate_csv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "simulate", "--csv", "--until", "20"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "time_min,domino_ng_per_ml" and len(rows) == 4


def test_tci_reports_caps(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["pk", "tci", "--target", "300", "--max-rate", "200", "--plot", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    assert "caps bound: rate" in out
    assert main(["pk", "tci", "--target", "150", "--site", "effect", "--csv"]) == 0
    assert capsys.readouterr().out.startswith("end_min,rate_mg_per_h")


def test_population_summary_and_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["pk", "population", "--n", "200", "--plot", str(tmp_path / "h.png")]) == 0
    assert "peak ng/mL" in capsys.readouterr().out
    assert main(["pk", "population", "--n", "5", "--csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_simulate_an_esketamine_nasal_dose(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "simulate", "--model", "perez_ruixo2021", "--nasal-devices", "2", "--step", "60"]) == 0
    assert capsys.readouterr().out.startswith("56.0 mg 2 nasal devices, 70 kg")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pk", "simulate", "--model", "perez_ruixo2021"], "nasal-spray model: give --nasal-devices"),
        (["pk", "simulate", "--nasal-devices", "2"], "--nasal-devices needs the nasal model"),
        (["pk", "simulate", "--model", "propofol"], "unknown model 'propofol'"),
        (["pk", "simulate", "--weight", "1000"], "weight_kg must be from 2 to 300 kg"),
        (["pk", "simulate", "--step", "0"], "--step must be a positive number"),
        (["pk", "tci", "--target", "-5"], "--target must be a positive number"),
        (["pk", "tci", "--target", "100", "--site", "effect", "--model", "hijazi"], "no ke0"),
        (["pk", "tci", "--target", "100", "--model", "perez_ruixo2021"], "intravenous"),
        (["pk", "population", "--n", "0"], "--n must be a positive number"),
        (["pk", "population", "--model", "perez_ruixo2021"], "--nasal-devices goes with the nasal model"),
        (["pk", "population", "--nasal-devices", "2"], "--nasal-devices goes with the nasal model"),
    ],
)
def test_bad_input_ends_with_one_clear_line_and_no_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("kclinic pk: error: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_warnings_are_notes_not_python_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "simulate", "--model", "herd", "--step", "120"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: herd: patient") and "OutOfRangeWarning" not in err


def test_effect_tci_prints_its_plasma_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "tci", "--target", "300", "--site", "effect", "--step-s", "60", "--every", "10"]) == 0
    out = capsys.readouterr().out
    assert "plasma ceiling 360 ng/mL" in out and "caps bound: plasma ceiling" in out
    assert main(["pk", "tci", "--target", "300", "--site", "effect", "--max-plasma", "900", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert max(float(r.split(",")[2]) for r in rows) <= 900 * (1 + 1e-9)


def test_an_esketamine_cohort(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["pk", "population", "--model", "perez_ruixo2021", "--nasal-devices", "2", "--n", "20", "--until", "120"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "20 individuals, perez_ruixo2021, 2 nasal devices; published: vc 27.5% CV" in out
