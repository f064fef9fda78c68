"""The role matrix, checked over every role x action against an independent table."""

from __future__ import annotations

import pytest

from ketamine_clinic.domain import policy
from ketamine_clinic.domain.policy import ACTIONS, ROLES, can

# Spelled out here, apart from the code, so a change to the matrix must change this too.
EXPECTED: dict[str, set[str]] = {
    "admin": {"manage_users", "manage_settings", "view_audit", "manage_on_call", "merge_patients"},
    "prescriber": {
        "view_chart",
        "view_demographics",
        "view_dashboard",
        "edit_intake",
        "decide_eligibility",
        "plan_course",
        "sign_order",
        "verify_order",
        "titrate_dose",
        "record_assessment",
        "record_side_effects",
        "sign_note",
        "acknowledge_alert",
        "decide_induction",
        "close_suicide_alert",
        "manage_on_call",
        "view_ledger",
        "receive_stock",
        "witness_waste",
        "count_stock",
        "resolve_discrepancy",
        "give_prn",
        "record_pre_procedure",
    },
    "crna": {
        "view_chart",
        "view_demographics",
        "view_dashboard",
        "record_vitals",
        "record_side_effects",
        "record_assessment",
        "verify_order",
        "sign_note",
        "acknowledge_alert",
        "titrate_dose",
        "start_stop_infusion",
        "discharge",
        "view_ledger",
        "draw_stock",
        "waste_stock",
        "witness_waste",
        "count_stock",
        "give_prn",
        "record_pre_procedure",
    },
    "rn": {
        "view_chart",
        "view_demographics",
        "view_dashboard",
        "record_vitals",
        "record_side_effects",
        "record_assessment",
        "verify_order",
        "sign_note",
        "acknowledge_alert",
        "edit_intake",
        "start_stop_infusion",
        "discharge",
        "view_ledger",
        "draw_stock",
        "waste_stock",
        "witness_waste",
        "count_stock",
        "give_prn",
        "record_pre_procedure",
    },
    "front_desk": {"view_demographics", "manage_schedule", "view_dashboard", "merge_patients"},
    "patient": {"complete_own_questionnaire", "view_own_results"},
    "auditor": {"view_audit", "view_audit_values"},
}


@pytest.mark.parametrize("role", [r.value for r in ROLES])
@pytest.mark.parametrize("action", [a.value for a in ACTIONS])
def test_every_role_and_action_follows_the_table(role: str, action: str) -> None:
    assert can(role, action) is (action in EXPECTED[role])


def test_the_table_names_every_role_and_only_known_actions() -> None:
    assert set(EXPECTED) == {r.value for r in ROLES}
    assert set().union(*EXPECTED.values()) <= {a.value for a in ACTIONS}


def test_only_prescribers_sign_orders_and_only_clinicians_may_ever_verify() -> None:
    """The matrix is the scope-of-practice ceiling; the clinic's ``verifier_roles`` setting
    narrows it and the service refuses the signer (tests/services/test_front_desk.py)."""
    assert [r for r in ROLES if can(r, "sign_order")] == ["prescriber"]
    assert {r.value for r in ROLES if can(r, "verify_order")} == {"prescriber", "crna", "rn"}


def test_front_desk_and_patients_cannot_see_a_chart() -> None:
    assert not can("front_desk", "view_chart")
    assert not can("patient", "view_chart")


def test_actions_for_lists_the_roles_actions() -> None:
    assert {a.value for a in policy.actions_for("patient")} == EXPECTED["patient"]


def test_an_unknown_role_is_an_error_not_a_denial() -> None:
    with pytest.raises(policy.UnknownRoleError, match="unknown role 'nurse'"):
        can("nurse", "view_chart")


def test_an_unknown_action_is_an_error_not_a_denial() -> None:
    with pytest.raises(policy.UnknownActionError, match="unknown action 'fly'"):
        can("rn", "fly")


def test_only_the_auditor_reads_clinical_values_in_the_audit_trail() -> None:
    assert [r for r in ROLES if can(r, "view_audit_values")] == ["auditor"]
    assert can("admin", "view_audit") and not can("admin", "view_audit_values")


def test_only_prescribers_receive_stock_and_resolve_discrepancies() -> None:
    assert [r for r in ROLES if can(r, "receive_stock")] == ["prescriber"]
    assert [r for r in ROLES if can(r, "resolve_discrepancy")] == ["prescriber"]


def test_no_one_outside_the_licensed_clinicians_touches_controlled_stock() -> None:
    ledger = {"view_ledger", "receive_stock", "draw_stock", "waste_stock", "witness_waste", "count_stock"}
    for role in ("admin", "front_desk", "patient"):
        assert not any(can(role, a) for a in ledger), role


def test_only_the_front_desk_and_admins_merge_duplicate_patient_records() -> None:
    assert {r.value for r in ROLES if can(r, "merge_patients")} == {"front_desk", "admin"}
