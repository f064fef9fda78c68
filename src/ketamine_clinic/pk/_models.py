"""Published ketamine PK models with their provenance.

Confidence tags follow the project's PK reference: [C] confirmed from the paper's
abstract or a label, [C2] from a careful secondary transcription, [P] only seen in a peer
implementation, [U] unconfirmed. Units: volumes in L, rate constants per minute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ketamine_clinic.pk._linear import LinearSystem

__all__ = ["PR_FRN_LOGIT_SD", "PR_OMEGAS_CV", "MODELS", "Model", "Parameter", "Patient", "Validity", "model", "models"]


ANCESTRIES = ("unspecified", "not_asian", "asian", "japanese")


@dataclass(frozen=True)
class Patient:
    """A patient for covariate models. Weight 2-300 kg, age 0-110 y, sex female/male;
    ``ancestry`` (one of ``ANCESTRIES``) matters only where a model has a published
    covariate for it (Perez-Ruixo 2021: Asian, Japanese); "unspecified" takes the
    model's reference population."""

    weight_kg: float
    age_years: float
    sex: str
    height_cm: float | None = None
    ancestry: str = "unspecified"

    def __post_init__(self) -> None:
        for name in ("weight_kg", "age_years"):
            try:
                value = float(getattr(self, name))
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number") from None
            if value != value:
                raise ValueError(f"{name} must be a number")
            object.__setattr__(self, name, value)
        if self.ancestry not in ANCESTRIES:
            raise ValueError(f"ancestry must be one of {', '.join(ANCESTRIES)}")
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
    system: Callable[[Patient], LinearSystem] | None = field(default=None, repr=False)
    metabolite: str = ""
    #: published between-subject variability as CV on clearance-level parameters
    #: (v1, v2, cl, q), for two-compartment clearance models; empty when none is published
    omegas_cv: tuple[tuple[str, float], ...] = ()
    #: correlations between the etas of ``omegas_cv`` entries, where published
    omega_correlations: tuple[tuple[str, str, float], ...] = ()
    variability_source: str = ""
    #: a parent-metabolite model's metabolite clearance (L/min) for ``patient``, for draws
    metabolite_clearance_l_per_min: Callable[[Patient], float] | None = field(default=None, repr=False)
    #: "iv" (boluses and infusions) or "nasal" (esketamine devices)
    route: str = "iv"

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
        Validity(
            (18, 90),
            (40, 150),
            "meta-analysis of 18 studies (11 in healthy adults, 3 in adult patients, 5 in children) and a "
            "population model from 14 raw data sets [C, abstract]; which table the six values come from [U]; "
            "volumes x (WT/70), clearances x (WT/70)^0.75 (AnaSim; opentiva scales all linearly) [P]",
        ),
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
        Validity((0, 13), (3, 35), "25 PICU children, 0.02-12.5 y, 3.4-35 kg, on S-ketamine infusions [C2]"),
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


def _flint_system(p: Patient) -> LinearSystem:
    """S-ketamine (2 compartments) with apparent S-norketamine formed from its elimination
    (CL/Fm 53.2 L/h/70 kg, V/Fm fixed at 1 L per 70 kg, scaled x (WT/70) like every Flint
    volume, clearances x (WT/70)^0.75: Flint 2017 Methods 2.4 and Table 3 [C2]); the
    0.87 %/h rise of S-norketamine clearance over time is left out (a time-varying rate),
    which this engine states."""
    s = (p.weight_kg / 70) ** 0.75
    v1, v2, vm = 7.73 * p.weight_kg / 70, 545 * p.weight_kg / 70, 1.0 * p.weight_kg / 70
    cl, q, clm = 112 / 60 * s, 196 / 60 * s, 53.2 / 60 * s
    ke0 = 0.084
    a = np.zeros((4, 4))
    a[0, 0], a[0, 1], a[1, 0], a[1, 1] = -(cl + q) / v1, q / v2, q / v1, -q / v2
    a[2, 0], a[2, 2] = cl / v1, -clm / vm
    a[3, 0], a[3, 3] = ke0, -ke0
    return LinearSystem(a, ("central", "peripheral", "s_norketamine", "effect"), 0, v1, 2, vm, 3)


PR_CITE = "Perez-Ruixo C et al. Clin Pharmacokinet 2021;60:501-516 (via nlmixr2lib PerezRuixo_2020_esketamine.R)"

#: Perez-Ruixo 2021 typical values, hours [C2]
PR = {
    "frn": 0.54,
    "frn_later": 0.62,
    "ka_n": 2.93,
    "dsw_h": 0.53,
    "ka_sw": 1.45,
    "fgut": 0.64,
    "frn_japanese": 1.34,
    "kel_asian": 0.36,
    "cln_asian": 0.81,
    "vc": 192.0,
    "q1": 84.3,
    "vp1": 143.0,
    "q2": 37.6,
    "vp2": 417.0,
    "qh": 151.0,
    "qh_age": 2.19,
    "vh": 101.0,
    "kel": 1.11,
    "kmet": 2.77,
    "vcn": 70.0,
    "cln": 38.0,
    "vpn": 115.0,
    "q3": 26.1,
}


_PR_UNITS = {
    "frn": "fraction",
    "frn_later": "factor",
    "frn_japanese": "factor",
    "kel_asian": "factor",
    "cln_asian": "factor",
    "fgut": "fraction",
    "dsw_h": "h",
    "qh_age": "L/h per year above 60",
    **dict.fromkeys(("vc", "vp1", "vp2", "vh", "vcn", "vpn"), "L"),
    **dict.fromkeys(("q1", "q2", "qh", "cln", "q3"), "L/h"),
}


#: Perez-Ruixo 2021 between-subject variability, CV of log-normal parameters (Table 3 via
#: nlmixr2lib [C2]); FRn's is the SD of an additive eta on the logit scale; kmet's was
#: estimated but its value is missing from the paper, so it is not drawn
PR_OMEGAS_CV = (
    ("vc", 0.275),
    ("vp1", 0.493),
    ("qh", 0.232),
    ("vh", 0.346),
    ("kel", 1.20),
    ("ka_n", 0.615),
    ("ka_sw", 1.32),
    ("vcn", 0.316),
    ("cln", 0.254),
)
PR_FRN_LOGIT_SD = 0.708


def _perez_ruixo_system(p: Patient, eta: Mapping[str, float] | None = None) -> LinearSystem:
    """Esketamine nasal spray: nasal depot to central, swallowed part through the gut and a
    well-stirred hepato-portal liver to central, three esketamine compartments and two
    apparent noresketamine compartments formed in the liver [C2]. ``eta`` holds one
    individual's random effects: a factor per parameter of ``PR_OMEGAS_CV`` and
    ``"frn"``, the shift of the nasal fraction on the logit scale."""
    k = dict(PR)
    qh = k["qh"] - k["qh_age"] * max(0.0, p.age_years - 60)
    asian = p.ancestry in ("asian", "japanese")
    if asian:  # Perez-Ruixo 2021 Table 3 covariates [C2]
        k["kel"] *= k["kel_asian"]
        k["cln"] *= k["cln_asian"]
    eta = eta or {}
    qh *= eta.get("qh", 1.0)
    for key, _ in PR_OMEGAS_CV:
        if key != "qh":
            k[key] *= eta.get(key, 1.0)
    names = (
        "nasal",
        "gut",
        "central",
        "liver",
        "peripheral1",
        "peripheral2",
        "noresketamine",
        "noresk_peripheral",
        "effect",
    )
    a = np.zeros((9, 9))
    a[0, 0] = -k["ka_n"]
    a[1, 1] = -k["ka_sw"]
    a[2, 0], a[2, 2], a[2, 3] = k["ka_n"], -(qh + k["q1"] + k["q2"]) / k["vc"], qh / k["vh"]
    a[2, 4], a[2, 5] = k["q1"] / k["vp1"], k["q2"] / k["vp2"]
    a[3, 1], a[3, 2], a[3, 3] = k["ka_sw"], qh / k["vc"], -(qh / k["vh"] + k["kel"] + k["kmet"])
    a[4, 2], a[4, 4] = k["q1"] / k["vc"], -k["q1"] / k["vp1"]
    a[5, 2], a[5, 5] = k["q2"] / k["vc"], -k["q2"] / k["vp2"]
    a[6, 3], a[6, 6], a[6, 7] = k["kmet"], -(k["cln"] + k["q3"]) / k["vcn"], k["q3"] / k["vpn"]
    a[7, 6], a[7, 7] = k["q3"] / k["vcn"], -k["q3"] / k["vpn"]
    ke0 = 0.084 * 60
    a[8, 2], a[8, 8] = ke0, -ke0
    frn = min(k["frn"] * (k["frn_japanese"] if p.ancestry == "japanese" else 1.0), 1.0 - 1e-12)
    if "frn" in eta:
        frn = 1.0 / (1.0 + np.exp(-(np.log(frn / (1.0 - frn)) + eta["frn"])))
    return LinearSystem(a / 60.0, names, 2, k["vc"], 6, k["vcn"], 8, nasal_fraction=float(frn))


def _no_micro(p: Patient) -> tuple[float, tuple[float, ...]]:
    raise ValueError("perez_ruixo2021 is not a central-input mammillary model: simulate it with simulate()")


MODELS["flint2017"] = replace(
    MODELS["flint2017"],
    system=_flint_system,
    metabolite="S-norketamine",
    omegas_cv=(("cl", 0.402), ("cl_snk", 1.04)),
    omega_correlations=(("cl", "cl_snk", 0.506),),
    variability_source="Flint 2017 Table 3 via nlmixr2lib Flint_2017_s_ketamine.R [C2]",
    metabolite_clearance_l_per_min=lambda p: 53.2 / 60 * (p.weight_kg / 70) ** 0.75,
)
MODELS["herd"] = replace(
    MODELS["herd"],
    omegas_cv=(("v1", 0.64), ("v2", 0.517), ("cl", 0.381), ("q", 0.19)),
    variability_source="Herd & Anderson 2007 abstract, BSV [C]; correlations not published",
)
MODELS["hijazi"] = replace(
    MODELS["hijazi"],
    omegas_cv=(("cl", 13.3 / 36.0), ("v1+v2", 8.6 / 16.0)),
    variability_source=(
        "Hijazi 2003 abstract [C]: between-patient SD of CL 13.3 of 36.0 mL/min/kg and of Vbeta 8.6 of "
        "16.0 L/kg, taken as CVs on CL and on both volumes together"
    ),
)


def clearance_parameters(model: Model, patient: Patient) -> dict[str, float]:
    """V1, V2 (L) and CL, Q (L/min) of a two-compartment model for ``patient``."""
    v1, (k10, k12, k21) = model.micro(patient)[0], model.micro(patient)[1][:3]
    return {"v1": v1, "v2": k12 * v1 / k21, "cl": k10 * v1, "q": k12 * v1}


MODELS["perez_ruixo2021"] = Model(
    "perez_ruixo2021",
    "Perez-Ruixo 2021 esketamine nasal spray (with noresketamine)",
    PR_CITE,
    3,
    tuple(_p(key, value, _PR_UNITS.get(key, "/h"), "[C2]", PR_CITE) for key, value in PR.items()),
    Validity((18, 90), (40, 150), "820 subjects (256 healthy, 564 with TRD); weight and sex not retained [C2]"),
    0.084,
    "ke0 0.084/min for S-ketamine perception, Olofsen 2022 [C]: a different study, ASSUMED to apply",
    "esketamine (S-ketamine)",
    "venous [U]",
    _no_micro,
    _perez_ruixo_system,
    "noresketamine",
    omegas_cv=PR_OMEGAS_CV,
    variability_source=(
        "Perez-Ruixo 2021 Table 3 via nlmixr2lib [C2]; kmet's IIV is missing from the paper and not drawn; "
        "correlations not transcribed"
    ),
    route="nasal",
)


def model(name: str) -> Model:
    """The model ``name``; ``models()`` lists them."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; models: {', '.join(MODELS)}") from None


def models() -> list[str]:
    return list(MODELS)
