"""Source keys cited by the clinical rules, as listed in the project's clinical reference
(``shared/reference/clinical.md`` section 7). Every public rule's docstring names at
least one of these keys in square brackets."""

from __future__ import annotations

import re

__all__ = ["SOURCES", "cited_keys"]

SOURCES: dict[str, str] = {
    "S1": "Sanacora G et al. Consensus statement on ketamine in mood disorders. JAMA Psychiatry 2017;74(4):399-405.",
    "S2": "Clinic summary of the APA consensus (secondary).",
    "S6": "Riva-Posse P et al. Blood pressure safety of subanesthetic ketamine, 684 infusions. J Affect Disord 2018.",
    "S7": "Blood pressure changes during ketamine infusion for depression. Gen Hosp Psychiatry 2024.",
    "S11": "Fava M et al. Dose-ranging trial of IV ketamine in TRD. Mol Psychiatry 2020;25:1592-1603.",
    "S11b": "Dutch ketamine trial eligibility table: HDRS17 item 3 > 2 as active suicidal intent.",
    "S12": "Cusin C et al. Two-step IV dose escalation of ketamine for TRD. Aust N Z J Psychiatry 2017.",
    "S13": "Andrade C. Ketamine for depression, 4. J Clin Psychiatry 2017;78(7):e852-e857.",
    "S14": "An update on community ketamine practices. Am J Psychiatry 2022.",
    "S16": "Focus (APA) 2019: maintenance guidance excerpt.",
    "S17": "Canadian Rapid Treatment Center of Excellence FAQ.",
    "S20": "AANA: Ketamine therapy for psychiatric disorders and chronic pain, practice considerations (2024).",
    "S21": "APNA/AANA joint position: ketamine infusion therapy.",
    "S23": "Side effects of ketamine: common effects list.",
    "S24": "cliot R package: gad7_anxiety_screen, citing Spitzer 2006.",
    "S30": "SPRAVATO US Prescribing Information: boxed warning, 5.1, 5.2, 5.6, 5.9, 17.",
    "S32": "spravatohcp.com dosing and administration (TRD and MDSI).",
    "S33": "Spravato monograph (MPR).",
    "S35": "FDA REMS@FDA: SPRAVATO REMS (setting certification, patient enrolment, prescriber and pulse oximeter on "
    "site).",
    "S36": "spravatorems.com: outpatient and inpatient healthcare settings (certification, enrolment).",
    "S37": "SPRAVATO REMS Patient Monitoring Form and its instructions: after every outpatient session, submitted "
    "within 7 days; blood pressure before, about 40 minutes after and before completion; sedation, dissociation, "
    "respiratory depression; lot number; concomitant sedating or blood-pressure-raising medicines.",
    "S38": "SPRAVATO Important Safety Information.",
    "S38b": "spravato.com: food 2 h, liquids 30 min, nasal steroid/decongestant 1 h before.",
    "S39": "FDA approval of SPRAVATO monotherapy for treatment-resistant depression, 21 January 2025.",
    "S40": "openFDA NDC record 50458-028 (Spravato): 28 mg esketamine per device; DEA Schedule III.",
    "S41": "Feder A et al. RCT of repeated ketamine for chronic PTSD. Am J Psychiatry 2021.",
    "S44": "Cohen SP et al. Consensus guidelines on IV ketamine infusions for chronic pain (ASRA/AAPM/ASA 2018).",
    "S45": "StatPearls: Aldrete scoring system.",
    "S46": "Aldrete's scoring system: 1970 original, 1995 modification, >= 9 to leave PACU.",
    "S47": "Modified Aldrete criteria (item anchors).",
    "S49": "RCEM Learning: procedural sedation, recovery and discharge.",
    "S50": "Ketamine discharge instructions (clinic handout).",
    "S53": "Frank E et al. 1991 MacArthur consensus definitions (HAM-D17 remission <= 7).",
    "S54": "Review excerpt: MADRS remission <= 10 (<= 12 also used).",
    "S55": "CMS159 Depression Remission at Twelve Months: PHQ-9 < 5.",
    "S57": "Royal Prince Alfred Hospital ketamine clinic review: TRD definition.",
    "S58": "Cotter S et al. Repeated or continuous medically supervised ketamine and hepatobiliary adverse events. "
    "Drug Saf 2021.",
    "S60": "Chang M, Juruena MF, Young AH. Ketamine cystitis following ketamine therapy for TRD. BMC Psychiatry 2024.",
    "S61": "Medizininformatik-Initiative PRO module: PHQ-9 items and LOINC codes.",
    "S61c": "Medizininformatik-Initiative PRO module: GAD-7 items and LOINC codes.",
    "S62": "HL7 US Core PHQ-9 panel example (44249-1).",
    "S63": "CamCOPS task documentation (scoring, bands, licences).",
    "S64": "HL7 US Behavioral Health Profiles IG: C-SSRS screener item codes.",
    "S65": "Columbia clinical triage guidelines using the C-SSRS.",
    "S65b": "C-SSRS screener skip logic after question 2; risk tiers.",
    "S66": "IDS/QIDS interpretation and administration (QIDS-SR16 scoring).",
    "S67": "MADRS: Snaith 1986 cut-points; item list.",
    "S69": "CADSS: Bremner JD et al. J Trauma Stress 1998; BPRS positive subscale in ketamine studies.",
    "S70": "PHQ-9 item 9: any answer other than 'not at all' needs a suicide-risk assessment. Crit Care Nurse 2020.",
    "S70b": "Talati SK, Sharma M. 2019: MADRS response >= 50 %.",
    "S72": "FHIR R4 vital-signs profile and result value set: LOINC codes with UCUM units (clinical reference 3.4).",
    "S73": "ICD-10-CM code pages (F32.x, F33.x, F43.1x) as listed in the clinical reference, section 3.3.",
    "S73b": "No specific ICD-10-CM code for treatment-resistant depression; code the MDD episode (secondary).",
    "S73c": "ICD-10-CM R45.851 Suicidal ideations.",
    "S75": "openFDA NDC records for ketamine injection (0409-2051, 25021-684, 42023-113 ...): DEA Schedule III.",
    "S84": "Chung F, Chan VW, Ong D. A post-anesthetic discharge scoring system for home readiness after "
    "ambulatory surgery. J Clin Anesth 1995;7:500-6 (PADSS).",
    "S85": "Farrar JT, Young JP Jr, LaMoreaux L, Werth JL, Poole RM. Clinical importance of changes in chronic pain "
    "intensity measured on an 11-point numerical pain rating scale. Pain 2001;94(2):149-158.",
    "S86": "Dworkin RH, Turk DC, Wyrwich KW et al. Interpreting the clinical importance of treatment outcomes in "
    "chronic pain clinical trials: IMMPACT recommendations. J Pain 2008;9(2):105-121.",
    "S87": "Whelton PK, Carey RM, Aronow WS et al. 2017 ACC/AHA guideline for the prevention, detection, evaluation "
    "and management of high blood pressure in adults. Hypertension 2018;71(6):e13-e115 (hypertensive crisis: "
    "above 180 systolic and/or 120 diastolic).",
    "S88": "Study inclusion and exclusion criteria (Table 1) of an IV ketamine trial in suicidal inpatients: current "
    "psychosis or mania, pregnancy or lactation, uncontrolled hypertension, unstable cerebrovascular disease. "
    "J Affect Disord Rep 2023;15:100690, doi 10.1016/j.jadr.2023.100690 (PMC10812090).",
    "S89": "Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650-655 (ideal body weight: 50 kg men, "
    "45.5 kg women, + 2.3 kg per inch over 5 feet).",
    "S90": "Bauer LA. Applied Clinical Pharmacokinetics. New York: McGraw-Hill; 2001:93-179 (adjusted body weight = "
    "ideal + 0.4 x (actual - ideal)), as cited by the GlobalRPh adjusted body weight calculator.",
    "S91": "World Health Organization. Obesity: preventing and managing the global epidemic. WHO Technical Report "
    "Series 894, 2000 (BMI classes; obesity at 30 kg/m² or more).",
    "S92": "NIST Special Publication 811, Guide for the Use of the International System of Units (SI), 2008: "
    "1 lb (avoirdupois) = 0.45359237 kg exactly.",
    "S80": "21 CFR 1304.11 Inventory requirements (initial and biennial inventory; opening or close of business).",
    "S81": "21 CFR 1304.21 and 1304.22(c): continuing records of every receipt and disposal, dispensers' records.",
    "S82": "21 CFR 1301.76(b) and DEA Form 106: report of theft or significant loss of controlled substances.",
    "S83": "ASHP Guidelines on Preventing Diversion of Controlled Substances (2017): witnessed waste, counts.",
}

_KEY = re.compile(r"\[(S\d+[a-z]?)\]")


def cited_keys(text: str) -> set[str]:
    """Source keys cited as ``[S<n>]`` in ``text`` [S63]."""
    return set(_KEY.findall(text or ""))
