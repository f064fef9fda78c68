"""Code systems and codes the FHIR mapping uses, each with its source.

Only codes the clinical reference verifies are emitted as standard codes; the rest carry the
clinic's own code system (``LOCAL``) with a display, so nothing is invented. SNOMED CT is not
emitted: the reference warns it may not be redistributed without a licence [S63] (3.2), so
side effects and routes carry local codes and text (docs/decisions/0026-fhir-r4-mapping.md).
"""

from __future__ import annotations

__all__ = [
    "ICD10CM",
    "LOCAL",
    "LOINC",
    "NDC",
    "RXNORM",
    "UCUM",
    "VITALS",
    "coding",
    "concept",
    "local",
    "medication",
]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
#: The clinic's own codes (instruments without a verified LOINC, side effects, alerts, MRNs).
LOCAL = "urn:ketamine-clinic"

#: Vital signs: (field, LOINC, display, UCUM unit) per the FHIR vital-signs profile [S72][S64];
#: the pulse-oximetry SpO2 code 59408-5 goes beside the profile's 2708-6 as a second coding.
VITALS: dict[str, tuple[str, str, str]] = {
    "blood_pressure": ("85354-9", "Blood pressure panel with all children optional", ""),
    "systolic_mmhg": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic_mmhg": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "heart_rate_bpm": ("8867-4", "Heart rate", "/min"),
    "spo2_percent": ("2708-6", "Oxygen saturation in Arterial blood", "%"),
    "spo2_pulse_oximetry": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "weight_kg": ("29463-7", "Body weight", "kg"),
    "height_cm": ("8302-2", "Body height", "cm"),
}

#: Ketamine: RxNorm ingredient 6130 is UNCONFIRMED in the reference (3.1: "recalled, not found
#: in sources"); it is sent with that note until the clinic's pharmacist confirms it. The
#: esketamine RxCUIs are UNCONFIRMED and not sent: the verified NDCs of the 56 mg and 84 mg
#: kits are [S40].
KETAMINE_RXNORM = ("6130", "ketamine")
ESKETAMINE_NDC = {56: ("50458-028-02", "Spravato 56 mg kit"), 84: ("50458-028-03", "Spravato 84 mg kit")}


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str = "", text: str = "") -> dict[str, object]:
    out: dict[str, object] = {"coding": [coding(system, code, display)]}
    if text or display:
        out["text"] = text or display
    return out


def local(kind: str, code: str, display: str) -> dict[str, object]:
    """A concept in the clinic's own code system ``urn:ketamine-clinic:<kind>``."""
    return concept(f"{LOCAL}:{kind}", code, display)


def medication(route: str, dose_mg: float | None = None) -> dict[str, object]:
    """The drug of an order: racemic ketamine IV, or esketamine nasal spray by its kit NDC."""
    if route == "nasal":
        codings = []
        kit = ESKETAMINE_NDC.get(int(dose_mg or 0))
        if kit:
            codings.append(coding(NDC, *kit))
        return {"coding": codings, "text": "esketamine nasal spray"} if codings else {"text": "esketamine nasal spray"}
    return {
        "coding": [coding(RXNORM, *KETAMINE_RXNORM)],
        "text": "ketamine hydrochloride injection, IV infusion",
    }
