"""Write reference curves from independent peers into tests/pk/reference/ (run by hand:
``PYTHONPATH=src benchmarks/.venv-peers/bin/python benchmarks/pk/make_reference.py``).

opentiva 1.1.2: its own ketamine model classes and closed-form engine (integer seconds),
only where its model is the same as ours for that patient (its Kamp model scales every
parameter linearly with weight, ours scales clearances to the 0.75 power, so its Kamp
curve is kept at 70 kg only; its range checks are off).
PyTCI 1.2.0: its generic ``Three`` class with the exact (matrix exponential) integrator,
fed each model's V1 and rate constants for the same patient.

Patients: 50, 70 and 120 kg x 20, 45 and 80 years x female and male (and an 8-year-old,
30 kg girl for the paediatric models). Regimen: 0.5 mg/kg over 40 minutes; plasma every
minute for the first hour, then every 5 minutes to 4 hours, in ng/mL.
"""

from __future__ import annotations

import csv
import itertools
import warnings
from pathlib import Path

import numpy as np

from ketamine_clinic import pk

OUT = Path(__file__).parents[2] / "tests" / "pk" / "reference"
OPENTIVA = {"domino": "Domino", "kamp2020": "Klamp", "clements250": "Clements250", "hijazi": "Hijazi", "herd": "Herd"}
ADULTS = [(w, a, s) for w, a, s in itertools.product((50.0, 70.0, 120.0), (20, 45, 80), ("female", "male"))]
CHILD = (30.0, 8, "female")
PATIENTS = {
    "domino": ADULTS,
    "kamp2020": ADULTS,
    "clements250": ADULTS,
    "hijazi": ADULTS,
    "herd": [*ADULTS, CHILD],
    "flint2017": [*ADULTS, CHILD],
}
MINUTES = np.concatenate((np.arange(0, 60), np.arange(60, 241, 5))).astype(float)


def opentiva_curve(cls_name: str, weight: float, age: float, sex: str) -> np.ndarray:
    from opentiva import ketamine
    from opentiva.pkpd import PkPdModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(ketamine, cls_name)(1 if sex == "male" else 0, age, weight, 170 if age > 18 else 130)
    engine = PkPdModel(model)
    dose = 0.5 * weight
    infusions = np.array([[0.0, dose / 2400, 2400.0, 2400.0]])
    return np.array([engine.calculate_cp(infusions, int(60 * m)) for m in MINUTES]) * 1000.0


def pytci_curve(name: str, weight: float, age: float, sex: str) -> np.ndarray:
    from PyTCI.models.base import Three

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pk.OutOfRangeWarning)
        v1, ks = pk.model(name).micro(pk.Patient(weight, age, sex))
    m = Three()
    m.v1, m.k10, m.k12, m.k21, m.keo = v1, ks[0], ks[1], ks[2], 0.0
    m.k13, m.k31 = (ks[3], ks[4]) if len(ks) == 5 else (0.0, 0.0)
    m.setup()
    m.set_integrator("exact")
    out = [0.0]
    for before, minute in zip(MINUTES[:-1], MINUTES[1:], strict=True):
        # the pump runs until minute 40, which is a grid point: each interval is one rate
        rate = 0.5 * weight / 2400 if minute <= 40 else 0.0
        out.append(m.giveoverseconds(rate, int(round(60 * (minute - before)))) * 1000.0)
    return np.array(out)


def main() -> None:
    import opentiva
    import PyTCI

    OUT.mkdir(parents=True, exist_ok=True)
    for name, patients in PATIENTS.items():
        path = OUT / f"{name}.csv"
        with path.open("w", newline="") as handle:
            handle.write(f"# model {name}; 0.5 mg/kg over 40 min; plasma ng/mL\n")
            handle.write(
                f"# opentiva {getattr(opentiva, '__version__', '1.1.2')} class {OPENTIVA.get(name, '-')}; "
                f"PyTCI {getattr(PyTCI, '__version__', '1.2.0')} Three exact\n"
            )
            handle.write(
                "# made by: PYTHONPATH=src benchmarks/.venv-peers/bin/python benchmarks/pk/make_reference.py\n"
            )
            writer = csv.writer(handle)
            writer.writerow(["weight_kg", "age_years", "sex", "minute", "pytci_exact", "opentiva"])
            for weight, age, sex in patients:
                exact = pytci_curve(name, weight, age, sex)
                cls = OPENTIVA.get(name)
                same = cls is not None and (name != "kamp2020" or weight == 70.0)
                other = opentiva_curve(cls, weight, age, sex) if same and cls else None
                for i, minute in enumerate(MINUTES):
                    writer.writerow(
                        [
                            f"{weight:g}",
                            age,
                            sex,
                            f"{minute:g}",
                            f"{exact[i]:.13e}",
                            "" if other is None else f"{other[i]:.13e}",
                        ]
                    )
        print("wrote", path)


if __name__ == "__main__":
    main()
