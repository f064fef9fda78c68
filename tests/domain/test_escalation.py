"""Suicide-risk severities: each instrument's suicide item, from its own anchors."""

from __future__ import annotations

import pytest

from ketamine_clinic.domain.escalation import SUICIDE_RISK_RULES, evaluate_escalation, worst_severity
from ketamine_clinic.domain.instruments import score
from ketamine_clinic.domain.sources import SOURCES, cited_keys


def _sev(code: str, answers: list[int | None]) -> list[str]:
    return [e.severity for e in evaluate_escalation(score(code, answers))]


@pytest.mark.parametrize(("item9", "expected"), [(0, []), (1, ["urgent"]), (2, ["urgent"]), (3, ["urgent"])])
def test_phq9_item9_of_one_or_more_is_urgent(item9: int, expected: list[str]) -> None:
    assert _sev("phq9", [0] * 8 + [item9]) == expected


@pytest.mark.parametrize(
    ("answers", "expected", "code"),
    [
        ([0, 0, None, None, None, 0, None], [], None),
        ([1, 0, None, None, None, 0, None], ["notify"], "cssrs_q1"),
        ([0, 1, 0, 0, 0, 0, None], ["notify"], "cssrs_q2"),
        ([1, 1, 1, 0, 0, 0, None], ["notify"], "cssrs_q3"),
        ([1, 1, 1, 1, 0, 0, None], ["urgent"], "cssrs_q4"),
        ([1, 1, 1, 0, 1, 0, None], ["urgent"], "cssrs_q5"),
        ([0, 0, None, None, None, 1, 1], ["urgent"], "cssrs_behaviour"),
        ([0, 0, None, None, None, 1, 0], ["notify"], "cssrs_lifetime"),
    ],
)
def test_cssrs_intent_plan_or_recent_behaviour_is_urgent_active_ideation_notifies(
    answers: list[int | None], expected: list[str], code: str | None
) -> None:
    found = evaluate_escalation(score("cssrs_screen", answers))
    assert [e.severity for e in found] == expected
    assert [e.code for e in found][:1] == ([code] if code else [])


def test_cssrs_q4_and_q5_together_give_both_reasons() -> None:
    found = evaluate_escalation(score("cssrs_screen", [1, 1, 1, 1, 1, 1, 1]))
    assert [e.code for e in found] == ["cssrs_q4", "cssrs_q5", "cssrs_behaviour"]
    assert "intention" in found[0].message and "past 3 months" in found[2].message


@pytest.mark.parametrize(
    ("value", "expected"), [(0, []), (1, ["notify"]), (4, ["notify"]), (5, ["urgent"]), (6, ["urgent"])]
)
def test_madrs_item10_explicit_plans_are_urgent(value: int, expected: list[str]) -> None:
    assert _sev("madrs", [0] * 9 + [value]) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(0, []), (1, ["notify"]), (2, ["notify"]), (3, ["urgent"]), (4, ["urgent"])]
)
def test_hamd_item3_gesture_or_attempt_is_urgent(value: int, expected: list[str]) -> None:
    answers = [0] * 17
    answers[2] = value
    assert _sev("hamd17", answers) == expected


@pytest.mark.parametrize(("value", "expected"), [(0, []), (1, ["notify"]), (2, ["notify"]), (3, ["urgent"])])
def test_qids_item12_specific_plans_are_urgent(value: int, expected: list[str]) -> None:
    answers = [0] * 16
    answers[11] = value
    assert _sev("qids_sr16", answers) == expected


def test_pcl5_risk_taking_notifies_and_other_scales_are_silent() -> None:
    assert _sev("pcl5", [0] * 15 + [3] + [0] * 4) == ["notify"]
    assert _sev("gad7", [3] * 7) == []
    assert _sev("cadss", [3] * 23) == []


def test_each_alert_message_states_its_real_reason() -> None:
    (madrs,) = evaluate_escalation(score("madrs", [0] * 9 + [6]))
    assert "MADRS item 10" in madrs.message and "= 6" in madrs.message and "plans" in madrs.message
    (phq,) = evaluate_escalation(score("phq9", [0] * 8 + [2]))
    assert phq.message.startswith("PHQ-9 item 9 = 2")


def test_every_rule_cites_a_known_source() -> None:
    for _, _, severity, source in SUICIDE_RISK_RULES:
        assert severity in {"urgent", "notify"}
        assert cited_keys(source) and cited_keys(source) <= set(SOURCES)


def test_worst_severity_ranks_urgent_above_vital_sign_levels() -> None:
    assert worst_severity(["notify", "urgent", "pause"]) == "urgent"
    assert worst_severity(["notify", "stop"]) == "stop"


def test_item_9_alone_is_urgent_when_the_rest_is_missing() -> None:
    from ketamine_clinic.domain.escalation import escalate_phq9_item9

    assert escalate_phq9_item9(None) == [] and escalate_phq9_item9(0) == []
    (found,) = escalate_phq9_item9(1)
    assert found.severity == "urgent" and "not complete" in found.message
