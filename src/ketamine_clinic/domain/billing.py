"""Codes a superbill lists for a visit of this clinic.

The procedure codes are the ones US clinics bill for this care (the issue that asked for
superbills names them); they are not in the project's clinical reference, so each carries
``UNCONFIRMED``: the clinic's biller confirms them against the current CPT/HCPCS books
before a superbill leaves the clinic. Diagnosis codes follow the reference's ICD-10-CM
table [S73]; treatment-resistant depression has no code of its own, so the depressive
episode is coded [S73b].

Errors: none; unknown diagnoses map to no code (the superbill then says "not coded").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BillingLine", "diagnosis_codes", "visit_lines"]

UNCONFIRMED = "UNCONFIRMED: confirm with the clinic's biller against the current CPT/HCPCS books."


@dataclass(frozen=True)
class BillingLine:
    code: str
    description: str
    units: int
    note: str = UNCONFIRMED


_MDD = ("F33.2", "Major depressive disorder, recurrent, severe without psychotic features")

#: diagnosis key recorded at intake -> ICD-10-CM codes [S73][S73b]; chronic pain is not in the
#: reference's table, so it is left for the biller to code.
_DIAGNOSES: dict[str, tuple[tuple[str, str], ...]] = {
    "trd": (_MDD,),
    "mdsi": (_MDD, ("R45.851", "Suicidal ideations")),
    "ptsd": (("F43.12", "Post-traumatic stress disorder, chronic"),),
}


def diagnosis_codes(diagnoses: list[str]) -> list[tuple[str, str]]:
    """ICD-10-CM codes for the intake's diagnosis keys, each once, in order [S73][S73b]."""
    seen: dict[str, str] = {}
    for key in diagnoses:
        for code, text in _DIAGNOSES.get(key, ()):
            seen.setdefault(code, text)
    return list(seen.items())


def visit_lines(*, route: str, infusion_min: int, dose_mg: float) -> list[BillingLine]:
    """The procedure lines of one treated visit (no source in the reference: see the module
    docstring).

    IV: 96365 for the first hour of infusion, 96366 for each further hour or part over
    30 minutes, an E/M visit, and the drug (ketamine has no code of its own: J3490,
    unclassified drug, units in mg). An additional hour counts from 91 minutes. Nasal
    esketamine: G2082 (up to 56 mg) or G2083 (more than 56 mg) covers observation and the
    E/M; the drug is S0013 per 1 mg.
    """
    if route == "nasal":
        code = "G2082" if dose_mg <= 56 else "G2083"
        text = "Esketamine nasal self-administration with at least 2 h observation, " + (
            "up to 56 mg" if code == "G2082" else "more than 56 mg"
        )
        return [
            BillingLine(code, text, 1),
            BillingLine("S0013", "Esketamine, nasal spray, 1 mg", round(dose_mg)),
        ]
    extra_hours = (infusion_min - 91) // 60 + 1 if infusion_min > 90 else 0
    lines = [
        BillingLine("96365", "IV infusion, therapy/prophylaxis/diagnosis, initial, up to 1 hour", 1),
    ]
    if extra_hours:
        lines.append(BillingLine("96366", "IV infusion, each additional hour", extra_hours))
    lines += [
        BillingLine("99213", "Office visit, established patient (E/M; level per documentation)", 1),
        BillingLine("J3490", "Unclassified drug: ketamine hydrochloride, per mg", round(dose_mg)),
    ]
    return lines
