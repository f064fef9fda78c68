"""Write reference curves from independent peers into tests/pk/reference/ (run by hand:
``PYTHONPATH=src benchmarks/.venv-peers/bin/python benchmarks/pk/make_reference.py``).

opentiva 1.1.2: its own ketamine model classes and closed-form engine (integer seconds).
PyTCI 1.2.0: its generic ``Three`` class with the exact (matrix exponential) integrator,
fed each model's V1 and rate constants for the same patient. Regimen: the patient's
0.5 mg/kg over 40 minutes; plasma every minute for 4 hours, in ng/mL.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ketamine_clinic import pk

OUT = Path(__file__).parents[2] / "tests" / "pk" / "reference"
CASES = {  # our model -> (opentiva class or None, weight kg, age y, sex)
    "domino": ("Domino", 70.0, 40, "male"),
    "kamp2020": ("Klamp", 70.0, 40, "male"),
    "clements250": ("Clements250", 70.0, 40, "male"),
    "hijazi": ("Hijazi", 70.0, 40, "male"),
    "herd": ("Herd", 30.0, 8, "female"),
    "flint2017": (None, 30.0, 8, "female"),
}
MINUTES = np.arange(0, 241)


def opentiva_curve(cls_name: str, weight: float, age: float, sex: str) -> np.ndarray:
    import warnings

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

    v1, ks = pk.model(name).micro(pk.Patient(weight, age, sex))
    m = Three()
    m.v1, m.k10, m.k12, m.k21, m.keo = v1, ks[0], ks[1], ks[2], 0.0
    m.k13, m.k31 = (ks[3], ks[4]) if len(ks) == 5 else (0.0, 0.0)
    m.setup()
    m.set_integrator("exact")
    out = [0.0]
    for minute in MINUTES[1:]:
        out.append(m.giveoverseconds(0.5 * weight / 2400 if minute <= 40 else 0.0, 60) * 1000.0)
    return np.array(out)


def main() -> None:
    import opentiva
    import PyTCI

    OUT.mkdir(parents=True, exist_ok=True)
    for name, (cls_name, weight, age, sex) in CASES.items():
        columns = {"pytci_exact": pytci_curve(name, weight, age, sex)}
        if cls_name:
            columns["opentiva"] = opentiva_curve(cls_name, weight, age, sex)
        path = OUT / f"{name}.csv"
        with path.open("w", newline="") as handle:
            handle.write(f"# model {name}; patient {weight:g} kg, {age} y, {sex}; 0.5 mg/kg over 40 min\n")
            handle.write(
                f"# opentiva {getattr(opentiva, '__version__', '1.1.2')} class {cls_name or '-'}; "
                f"PyTCI {getattr(PyTCI, '__version__', '1.2.0')} Three exact\n"
            )
            handle.write(
                "# made by: PYTHONPATH=src benchmarks/.venv-peers/bin/python benchmarks/pk/make_reference.py\n"
            )
            writer = csv.writer(handle)
            writer.writerow(["minute", *columns])
            for i, minute in enumerate(MINUTES):
                writer.writerow([minute, *[f"{col[i]:.12e}" for col in columns.values()]])
        print("wrote", path)


if __name__ == "__main__":
    main()
