"""Validated instruments: metadata, scoring, severity bands and critical flags.

``score(code, answers)`` takes item scores in the instrument's item order and returns a
``Score`` with ``total``, ``band`` and ``flags``. Item texts ship only where the licence
allows (PHQ-9, GAD-7, PCL-5, HAM-D, BPRS, Aldrete, C-SSRS screener questions as
published in the HL7 IG); MADRS, QIDS-SR16 and CADSS ship item numbers and score
anchors only [S63].

Errors::

    InstrumentError (ValueError)   unknown code, wrong item count, a missing,
                                   non-integer or out-of-range answer; names the item
                                   and the allowed range (``.item``, ``.allowed``)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ketamine_clinic.domain.settings import ClinicRules

__all__ = ["INSTRUMENTS", "Instrument", "InstrumentError", "Item", "Score", "get", "score"]


class InstrumentError(ValueError):
    code = "instrument_answer"

    def __init__(self, message: str, *, item: int | None = None, allowed: str = "") -> None:
        super().__init__(message)
        self.item = item
        self.allowed = allowed
        self.field = f"item_{item}" if item else "answers"


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    low: int
    high: int
    anchors: tuple[str, ...] = ()
    optional_value: int | None = None  # a value that means "not assessed" (HAM-D 16: 3)


@dataclass(frozen=True)
class Score:
    code: str
    total: int
    band: str
    flags: tuple[str, ...] = ()
    details: dict[str, int | str | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    instructions: str
    items: tuple[Item, ...]
    bands: tuple[tuple[int, str], ...]  # (lowest total, band) ascending
    source: str
    loinc_total: str = ""
    self_report: bool = False
    licence: str = ""

    @property
    def max_total(self) -> int:
        return sum(i.high if i.optional_value is None else i.optional_value - 1 for i in self.items)


_FREQ = ("Not at all", "Several days", "More than half the days", "Nearly every day")
_PCL = ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")
_YES_NO = ("No", "Yes")


def _items(texts: Sequence[str], low: int, high: int, anchors: tuple[str, ...] = ()) -> tuple[Item, ...]:
    return tuple(Item(n, t, low, high, anchors) for n, t in enumerate(texts, start=1))


_PHQ9 = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety or "
    "restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
_GAD7 = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)
_PCL5 = (
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
)
_CSSRS = (
    "Have you wished you were dead or wished you could go to sleep and not wake up?",
    "Have you actually had any thoughts of killing yourself?",
    "Have you been thinking about how you might do this?",
    "Have you had these thoughts and had some intention of acting on them?",
    "Have you started to work out or worked out the details of how to kill yourself? "
    "Do you intend to carry out this plan?",
    "Have you ever done anything, started to do anything, or prepared to do anything to end your life?",
    "Was this within the past 3 months?",
)
_HAMD_NAMES = (
    "Depressed mood",
    "Feelings of guilt",
    "Suicide",
    "Insomnia: early",
    "Insomnia: middle",
    "Insomnia: late",
    "Work and activities",
    "Psychomotor retardation",
    "Agitation",
    "Anxiety: psychological",
    "Anxiety: somatic",
    "Somatic symptoms: gastrointestinal",
    "Somatic symptoms: general",
    "Genital symptoms",
    "Hypochondriasis",
    "Loss of weight (3 = not assessed)",
    "Insight",
)
_HAMD_HIGH = (4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 3, 2)
_BPRS_POS = (
    "Conceptual disorganization",
    "Suspiciousness",
    "Hallucinatory behaviour",
    "Unusual thought content",
)
#: Post-Anesthetic Discharge Scoring System, Chung 1995 [S84]: home readiness, each item
#: 0-2, 9 or more of 10 with an escort. "Surgical bleeding" reads as bleeding at the IV site.
_PADSS = (
    (
        "Vital signs (BP and pulse vs pre-procedure)",
        ("more than 40 % away", "within 20-40 %", "within 20 %"),
    ),
    (
        "Activity and mental status",
        ("neither oriented nor steady", "oriented x3 or a steady gait", "oriented x3 and a steady gait"),
    ),
    (
        "Pain, nausea and/or vomiting",
        ("severe, needing treatment", "moderate, treated", "minimal"),
    ),
    ("Bleeding (IV site)", ("severe", "moderate", "minimal")),
    ("Intake and output", ("neither", "oral fluids or voided", "oral fluids and voided")),
)

_ALDRETE = (
    ("Activity", ("moves no extremities", "moves 2 extremities", "moves 4 extremities")),
    (
        "Respiration",
        ("apnoeic", "dyspnoea or limited breathing", "breathes deeply and coughs freely"),
    ),
    (
        "Circulation (BP vs pre-procedure)",
        ("differs by 50 % or more", "within 20-49 %", "within 20 %"),
    ),
    ("Consciousness", ("not responding", "arousable on calling", "fully awake")),
    (
        "Oxygen saturation",
        ("below 90 % even with O2", "needs O2 to stay above 90 %", "above 92 % on room air"),
    ),
)


INSTRUMENTS: dict[str, Instrument] = {
    "phq9": Instrument(
        "phq9",
        "PHQ-9",
        "Over the last two weeks, how often have you been bothered by any of the following problems?",
        _items(_PHQ9, 0, 3, _FREQ),
        (
            (0, "none-minimal"),
            (5, "mild"),
            (10, "moderate"),
            (15, "moderately severe"),
            (20, "severe"),
        ),
        "[S61][S63]",
        "44261-6",
        True,
        "free to reproduce [S63]",
    ),
    "gad7": Instrument(
        "gad7",
        "GAD-7",
        "Over the last two weeks, how often have you been bothered by the following problems?",
        _items(_GAD7, 0, 3, _FREQ),
        ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
        "[S61c][S24]",
        "70274-6",
        True,
        "free to reproduce [S63]",
    ),
    "pcl5": Instrument(
        "pcl5",
        "PCL-5",
        "In the past month, how much were you bothered by:",
        _items(_PCL5, 0, 4, _PCL),
        ((0, "below threshold"), (33, "probable PTSD")),
        "[S63]",
        "",
        True,
        "public domain [S63]",
    ),
    "pain_nrs": Instrument(
        "pain_nrs",
        "Pain score (0-10)",
        "Your average pain over the past 24 hours, from 0 (no pain) to 10 (worst pain imaginable).",
        (Item(1, "Average pain over the past 24 hours", 0, 10),),
        ((0, "pain score"),),
        "[S85]",
        "",
        True,
        "an 11-point numerical rating scale [S85]",
    ),
    "cssrs_screen": Instrument(
        "cssrs_screen",
        "C-SSRS screener",
        "Past month (question 6: ever, then the past 3 months). Answer yes or no.",
        _items(_CSSRS, 0, 1, _YES_NO),
        ((0, "no risk identified"), (1, "low"), (2, "moderate"), (3, "high")),
        "[S64][S65]",
        "",
        True,
        "free clinical use; item texts as in the HL7 IG [S64]",
    ),
    "qids_sr16": Instrument(
        "qids_sr16",
        "QIDS-SR16",
        "Past seven days. Item texts are licensed; enter each item's score (0-3).",
        _items([f"Item {n}" for n in range(1, 17)], 0, 3),
        ((0, "none"), (6, "mild"), (11, "moderate"), (16, "severe"), (21, "very severe")),
        "[S66]",
        "",
        True,
        "score only [S63]",
    ),
    "madrs": Instrument(
        "madrs",
        "MADRS",
        "Clinician-rated; item texts are licensed: enter each item's rating (0-6).",
        _items([f"Item {n}" for n in range(1, 11)], 0, 6),
        ((0, "normal"), (7, "mild"), (20, "moderate"), (35, "severe")),
        "[S67]",
        "",
        False,
        "score only [S63]",
    ),
    "hamd17": Instrument(
        "hamd17",
        "HAM-D17",
        "Clinician-rated. Item 16: 3 means not assessed and is left out of the total.",
        tuple(
            Item(n, t, 0, h, optional_value=3 if n == 16 else None)
            for n, (t, h) in enumerate(zip(_HAMD_NAMES, _HAMD_HIGH, strict=True), start=1)
        ),
        ((0, "normal"), (8, "mild"), (14, "moderate"), (19, "severe"), (23, "very severe")),
        "[S63][S53]",
        "",
        False,
        "public domain [S63]",
    ),
    "cadss": Instrument(
        "cadss",
        "CADSS",
        "Clinician-administered; 23 items rated 0-4. Item texts await the author's permission.",
        _items([f"Item {n}" for n in range(1, 24)], 0, 4),
        ((0, "minimal"), (5, "dissociation present")),
        "[S69]",
        "",
        False,
        "score only until permission [S63]",
    ),
    "bprs_positive": Instrument(
        "bprs_positive",
        "BPRS positive symptoms",
        "Rate each item 1 (not present) to 7 (extremely severe).",
        _items(_BPRS_POS, 1, 7),
        ((4, "not present"), (5, "present")),
        "[S69][S63]",
        "",
        False,
        "public domain [S63]",
    ),
    "padss": Instrument(
        "padss",
        "PADSS (home readiness)",
        "Score each item 0-2; 9 or more with an escort is ready for home.",
        tuple(Item(n, t, 0, 2, a) for n, (t, a) in enumerate(_PADSS, start=1)),
        ((0, "not ready for home"), (9, "ready for home")),
        "[S84]",
        "",
        False,
        "published criteria [S84]",
    ),
    "aldrete": Instrument(
        "aldrete",
        "Modified Aldrete",
        "Score each item 0-2.",
        tuple(Item(n, t, 0, 2, a) for n, (t, a) in enumerate(_ALDRETE, start=1)),
        ((0, "not ready"), (9, "ready for discharge")),
        "[S45][S46][S47]",
        "",
        False,
        "published criteria [S46]",
    ),
}


def get(code: str) -> Instrument:
    """The instrument ``code`` (see ``INSTRUMENTS``) [S63]."""
    try:
        return INSTRUMENTS[code]
    except KeyError:
        raise InstrumentError(f"unknown instrument {code!r}; known: {', '.join(INSTRUMENTS)}") from None


def _check(inst: Instrument, answers: Sequence[int | None], skippable: set[int]) -> list[int]:
    if len(answers) != len(inst.items):
        raise InstrumentError(
            f"{inst.name} needs {len(inst.items)} answers, got {len(answers)}",
            allowed=f"{len(inst.items)} items",
        )
    clean: list[int] = []
    for item, value in zip(inst.items, answers, strict=True):
        allowed = f"{item.low} to {item.high}"
        if value is None and item.number in skippable:
            clean.append(0)
            continue
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            raise InstrumentError(
                f"{inst.name} item {item.number}: answer a whole number from {allowed}",
                item=item.number,
                allowed=allowed,
            )
        if not item.low <= value <= item.high:
            raise InstrumentError(
                f"{inst.name} item {item.number}: {value} is outside {allowed}",
                item=item.number,
                allowed=allowed,
            )
        clean.append(value)
    return clean


def _band(inst: Instrument, total: int) -> str:
    return [label for low, label in inst.bands if total >= low][-1]


def _phq9(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    core = a[0] >= 2 or a[1] >= 2
    positive = sum(1 for i, v in enumerate(a[:8]) if v >= 2) + (1 if a[8] >= 1 else 0)
    flags = ("phq9_item9",) if a[8] >= 1 else ()
    return sum(a), flags, {"major_depressive_syndrome": core and positive >= 5, "item9": a[8]}


def _pcl5(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    def endorsed(lo: int, hi: int) -> int:
        return sum(1 for v in a[lo - 1 : hi] if v >= 2)

    dsm5 = endorsed(1, 5) >= 1 and endorsed(6, 7) >= 1 and endorsed(8, 14) >= 2 and endorsed(15, 20) >= 2
    flags = ("pcl5_item16",) if a[15] >= r.pcl5_item16_review_at else ()
    return sum(a), flags, {"dsm5_cluster_rule": dsm5}


def _cssrs(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    q = dict(enumerate(a, start=1))
    if q[7] and not q[6]:
        raise InstrumentError("C-SSRS item 7 applies only when item 6 is yes", item=7, allowed="0 when item 6 is 0")
    if not q[2] and (q[3] or q[4] or q[5]):
        raise InstrumentError(
            "C-SSRS items 3-5 are skipped when item 2 is no",
            item=3,
            allowed="empty when item 2 is 0",
        )
    tier = 3 if (q[4] or q[5] or q[7]) else 2 if (q[3] or q[6]) else 1 if (q[1] or q[2]) else 0
    details: dict[str, int | str | bool] = {"risk": ("none", "low", "moderate", "high")[tier]}
    details.update({f"q{n}": int(v or 0) for n, v in q.items()})
    return tier, ("cssrs_high_risk",) if tier == 3 else (), details


def _qids(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    total = max(a[0:4]) + a[4] + max(a[5:9]) + sum(a[9:14]) + max(a[14:16])
    return total, ("qids_item12",) if a[11] >= 1 else (), {"item12": a[11]}


def _madrs(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    return sum(a), ("madrs_item10",) if a[9] >= 1 else (), {"item10": a[9]}


def _hamd(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    total = sum(v for i, v in enumerate(a, start=1) if not (i == 16 and v == 3))
    return (
        total,
        ("hamd_item3",) if a[2] >= 1 else (),
        {"item16_assessed": a[15] != 3, "item3": a[2]},
    )


def _cadss(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    total = sum(a)
    return total, ("cadss_significant",) if total > r.cadss_significant_above else (), {}


def _bprs(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    flag = any(v >= r.bprs_positive_item_review_at for v in a)
    return sum(a), ("bprs_positive_symptoms",) if flag else (), {}


def _plain(a: list[int], r: ClinicRules) -> tuple[int, tuple[str, ...], dict[str, int | str | bool]]:
    return sum(a), (), {}


_RULES: dict[
    str,
    Callable[[list[int], ClinicRules], tuple[int, tuple[str, ...], dict[str, int | str | bool]]],
] = {
    "phq9": _phq9,
    "gad7": _plain,
    "pain_nrs": _plain,
    "pcl5": _pcl5,
    "cssrs_screen": _cssrs,
    "qids_sr16": _qids,
    "madrs": _madrs,
    "hamd17": _hamd,
    "cadss": _cadss,
    "bprs_positive": _bprs,
    "aldrete": _plain,
    "padss": _plain,
}


def _skippable(code: str, answers: Sequence[int | None]) -> set[int]:
    if code != "cssrs_screen" or len(answers) != 7:
        return set()
    skip = {7} if answers[5] in (0, None) else set()
    return skip | ({3, 4, 5} if answers[1] == 0 else set())


def score(code: str, answers: Sequence[int | None], rules: ClinicRules | None = None) -> Score:
    """Score ``answers`` (item scores in item order) on instrument ``code``.

    PHQ-9 [S61][S63][S70], GAD-7 [S24], PCL-5 with the DSM-5 cluster rule [S63],
    C-SSRS screener with skip logic and risk tiers (total = tier 0-3) [S65][S65b],
    QIDS-SR16 max-of-group domains [S66], MADRS [S67], HAM-D17 item 16 "not
    assessed" [S63], CADSS [S69], BPRS positive subscale [S69], modified Aldrete [S46],
    PADSS home readiness [S84], a 0-10 pain score [S85].
    Skipped C-SSRS items are ``None``. Raises ``InstrumentError`` naming the item.
    """
    inst = get(code)
    clean = _check(inst, answers, _skippable(code, answers))
    total, flags, details = _RULES[code](clean, rules or ClinicRules())
    return Score(code, total, _band(inst, total), flags, details)
