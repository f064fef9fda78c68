"""The engine against curves computed by independent peers (see reference/README.md)."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

from ketamine_clinic import pk

REFERENCE = Path(__file__).parent / "reference"


def _load(name: str) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    lines = (REFERENCE / f"{name}.csv").read_text().splitlines()
    header = lines[0][2:].split("; ")
    rows = list(csv.reader(line for line in lines if not line.startswith("#")))
    columns = {key: np.array([float(r[i]) for r in rows[1:]]) for i, key in enumerate(rows[0])}
    patient = header[1].replace("patient ", "").split(", ")
    return {"weight": patient[0].split()[0], "age": patient[1].split()[0], "sex": patient[2]}, columns


@pytest.mark.parametrize("name", ["domino", "kamp2020", "clements250", "hijazi", "herd", "flint2017"])
def test_the_engine_agrees_with_the_peers(name: str) -> None:
    who, columns = _load(name)
    patient = pk.Patient(float(who["weight"]), float(who["age"]), who["sex"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pk.OutOfRangeWarning)
        ours = pk.simulate(
            pk.model(name), patient, [pk.Infusion(0, 40, 0.5 * patient.weight_kg)], columns["minute"]
        ).plasma_ng_per_ml
    for peer in ("pytci_exact", "opentiva"):
        if peer in columns:
            np.testing.assert_allclose(ours, columns[peer], rtol=1e-6, atol=1e-9 * ours.max(), err_msg=peer)
