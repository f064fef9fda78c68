"""Published ketamine PK models with their provenance.

Confidence tags follow the project's PK reference: [C] confirmed from the paper's
abstract or a label, [C2] from a careful secondary transcription, [P] only seen in a peer
implementation, [U] unconfirmed. Units: volumes in L, rate constants per minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["MODELS", "Model", "Parameter", "Patient", "Validity", "model", "models"]


@dataclass(frozen=True)
class Patient:
    """A patient for covariate models. Weight 20-250 kg, age 0-110 y, sex female/male."""

    weight_kg: float
    age_years: float
    sex: str
    height_cm: float | None = None

    def __post_init__(self) -> None:
        if not 2 <= self.weight_kg <= 300:
            raise ValueError("weight_kg must be from 2 to 300 kg")
        if not 0 <= self.age_years <= 110:
            raise ValueError("age_years must be from 0 to 110")
        if self.sex not in ("female", "male"):
            raise ValueError("sex must be 'female' or 'male'")
        if self.height_cm is not None and not 40 <= self.height_cm <= 250:
            raise ValueError("height_cm must be from 40 to 250 cm")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    unit: str
    confidence: str
    citation: str


@dataclass(frozen=True)
class Validity:
    age_years: tuple[float, float]
    weight_kg: tuple[float, float]
    population: str


@dataclass(frozen=True)
class Model:
    """A linear mammillary model: central volume and micro rate constants for a patient."""

    name: str
    title: str
    citation: str
    compartments: int
    parameters: tuple[Parameter, ...]
    validity: Validity
    ke0_per_min: float | None
    ke0_note: str
    analyte: str  # "racemic ketamine" or "S-ketamine"
    sampling: str
    individualise: Callable[[Patient], tuple[float, tuple[float, ...]]] = field(repr=False)

    def micro(self, patient: Patient) -> tuple[float, tuple[float, ...]]:
        """(V1 in L, (k10, k12, k21[, k13, k31]) per min) for ``patient``."""
        return self.individualise(patient)


def _p(name: str, value: float, unit: str, conf: str, cite: str) -> Parameter:
    return Parameter(name, value, unit, conf, cite)


def _from_clearances(
    v1: float, v2: float, v3: float | None, cl: float, q2: float, q3: float | None
) -> tuple[float, tuple[float, ...]]:
    ks: tuple[float, ...] = (cl / v1, q2 / v1, q2 / v2)
    if v3 is not None and q3 is not None:
        ks = (*ks, q3 / v1, q3 / v3)
    return v1, ks


_DOMINO_CITE = "Domino as shipped by opentiva and fus_anes (PMID 7198883)"
_KAMP_CITE = "Kamp J et al. Anesthesiology 2020;133:1192-1213 (doi 10.1097/ALN.0000000000003577)"
_HERD_CITE = "Herd DW, Anderson BJ. Paediatr Anaesth 2007;17:622-9"
_FLINT_CITE = "Flint RB et al. Paediatr Anaesth 2017;27:1098-1107 (doi 10.1111/pan.13239)"

MODELS: dict[str, Model] = {
    "domino": Model(
        "domino",
        "Domino (3-compartment, racemic)",
        _DOMINO_CITE,
        3,
        (
            _p("v1", 0.063, "L/kg", "[P]", _DOMINO_CITE),
            _p("k10", 0.4381, "/min", "[P]", _DOMINO_CITE),
            _p("k12", 0.5921, "/min", "[P]", _DOMINO_CITE),
            _p("k21", 0.247, "/min", "[P]", _DOMINO_CITE),
            _p("k13", 0.590, "/min", "[P]", _DOMINO_CITE),
            _p("k31", 0.0146, "/min", "[P]", _DOMINO_CITE),
        ),
        Validity((18, 90), (40, 150), "adults; population not retrieved [U]"),
        0.084,
        "ke0 0.084/min from Olofsen 2022 (S-ketamine, perception) applied to a racemic model: ASSUMED",
        "racemic ketamine",
        "unknown [U]",
        lambda p: (0.063 * p.weight_kg, (0.4381, 0.5921, 0.247, 0.590, 0.0146)),
    ),
    "clements250": Model(
        "clements250",
        "Clements 250 (2-compartment, racemic)",
        "Clements JA, Nimmo WS. Br J Anaesth 1981;53:27",
        2,
        (
            _p("v1", 1.7522, "L/kg", "[P]", "opentiva Clements250"),
            _p("k10", 0.0109, "/min", "[P]", "opentiva"),
            _p("k12", 0.0186, "/min", "[P]", "opentiva"),
            _p("k21", 0.0137, "/min", "[P]", "opentiva"),
        ),
        Validity((18, 90), (40, 150), "adults; usable only for slow infusions (large V1)"),
        None,
        "no published ke0",
        "racemic ketamine",
        "unknown [U]",
        lambda p: (1.7522 * p.weight_kg, (0.0109, 0.0186, 0.0137)),
    ),
    "hijazi": Model(
        "hijazi",
        "Hijazi 2003 (2-compartment, ICU)",
        "Hijazi Y et al. Br J Anaesth 2003 (doi 10.1093/bja/aeg028)",
        2,
        (
            _p("v1", 1.08, "L/kg", "[P]", "opentiva Hijazi"),
            _p("k10", 0.0333, "/min", "[P]", "opentiva"),
            _p("k12", 0.0088, "/min", "[P]", "opentiva"),
            _p("k21", 0.0030, "/min", "[P]", "opentiva"),
        ),
        Validity((18, 90), (40, 150), "12 ICU patients with brain or spinal-cord injury"),
        None,
        "no published ke0",
        "racemic ketamine",
        "unknown [U]",
        lambda p: (1.08 * p.weight_kg, (0.0333, 0.0088, 0.0030)),
    ),
    "herd": Model(
        "herd",
        "Herd & Anderson 2007 (2-compartment, children)",
        _HERD_CITE,
        2,
        (
            _p("v1", 38.7, "L/70 kg", "[C]", _HERD_CITE),
            _p("v2", 102, "L/70 kg", "[C]", _HERD_CITE),
            _p("cl", 90, "L/h/70 kg", "[C]", _HERD_CITE),
            _p("q", 215, "L/h/70 kg", "[C]", _HERD_CITE),
        ),
        Validity((1, 18), (8, 70), "54 children 8.3 +/- 3.5 y; allometric exponents [P]"),
        None,
        "no published ke0",
        "racemic ketamine",
        "venous [U]",
        lambda p: _from_clearances(
            38.7 * p.weight_kg / 70,
            102 * p.weight_kg / 70,
            None,
            90 / 60 * (p.weight_kg / 70) ** 0.75,
            215 / 60 * (p.weight_kg / 70) ** 0.75,
            None,
        ),
    ),
    "kamp2020": Model(
        "kamp2020",
        "Kamp 2020 meta-analytic (3-compartment)",
        _KAMP_CITE,
        3,
        (
            _p("v1", 25, "L/70 kg", "[P]", _KAMP_CITE),
            _p("v2", 56, "L/70 kg", "[P]", _KAMP_CITE),
            _p("v3", 157, "L/70 kg", "[P]", _KAMP_CITE),
            _p("cl", 84, "L/h/70 kg", "[P]", _KAMP_CITE),
            _p("q2", 161, "L/h/70 kg", "[P]", _KAMP_CITE),
            _p("q3", 79, "L/h/70 kg", "[P]", _KAMP_CITE),
        ),
        Validity((18, 90), (40, 150), "meta-analysis of 18 adult studies; no covariate effect [C]"),
        0.084,
        "ke0 0.084/min from Olofsen 2022 (S-ketamine, perception) applied to racemic: ASSUMED",
        "racemic ketamine",
        "arterial central [C]",
        lambda p: _from_clearances(
            25 * p.weight_kg / 70,
            56 * p.weight_kg / 70,
            157 * p.weight_kg / 70,
            84 / 60 * (p.weight_kg / 70) ** 0.75,
            161 / 60 * (p.weight_kg / 70) ** 0.75,
            79 / 60 * (p.weight_kg / 70) ** 0.75,
        ),
    ),
    "flint2017": Model(
        "flint2017",
        "Flint 2017 (2-compartment, S-ketamine)",
        _FLINT_CITE,
        2,
        (
            _p("cl", 112, "L/h/70 kg", "[C]", _FLINT_CITE),
            _p("v1", 7.73, "L/70 kg", "[C]", _FLINT_CITE),
            _p("q", 196, "L/h/70 kg", "[C]", _FLINT_CITE),
            _p("v2", 545, "L/70 kg", "[C]", _FLINT_CITE),
        ),
        Validity((0, 18), (2, 80), "25 PICU children on S-ketamine infusions"),
        0.084,
        "ke0 0.084/min for S-ketamine perception, Olofsen 2022 [C] (different PK population)",
        "S-ketamine",
        "unknown [U]",
        lambda p: _from_clearances(
            7.73 * p.weight_kg / 70,
            545 * p.weight_kg / 70,
            None,
            112 / 60 * (p.weight_kg / 70) ** 0.75,
            196 / 60 * (p.weight_kg / 70) ** 0.75,
            None,
        ),
    ),
}


def model(name: str) -> Model:
    """The model ``name``; ``models()`` lists them."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; models: {', '.join(MODELS)}") from None


def models() -> list[str]:
    return list(MODELS)
