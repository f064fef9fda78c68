"""Who may do what: the role matrix, by scope of practice.

The matrix is pure data. ``can(role, action)`` answers from it and nothing else, so a
test can enumerate every role against every action.

Scope-of-practice reasoning (see ``docs/decisions/0003-role-matrix.md``):

* Prescribers (psychiatrists and psychiatric APRNs) decide eligibility, plan courses,
  sign orders and confirm the end-of-induction decision [S1][S21]. Only a prescriber
  closes an urgent suicide-risk alert, with a structured assessment [S65].
* A signed order is verified by a second clinician before the infusion starts. Within
  scope of practice a prescriber (physician, APRN), a CRNA or an RN may verify; the clinic
  narrows this (setting ``verifier_roles``, default CRNA and RN, so a physician-run clinic
  can let its physicians verify), and never the clinician who signed it (both enforced in
  ``services.orders``, not here) [S20][S21].
* CRNAs run the infusion and may titrate within the order; RNs monitor, record vitals
  and side effects, and discharge. Both may acknowledge a notify-level alert with a note,
  as may a prescriber; front desk and patients may not. Urgent suicide-risk alerts are
  closed only by a prescriber's assessment (``close_suicide_alert``) [S65].
* Standing PRN medicines are given by the infusion team and the prescriber, each drug
  narrowed further by its order (a benzodiazepine by the CRNA or the prescriber only,
  ``domain.prn``) [S20][S21]; the pre-procedure record (allergies, medications, ASA class,
  airway, fasting, escort, on-screen consent) is kept by the same clinicians.
* Front desk manages the schedule and sees demographics, not the clinical chart.
* Patients complete their own questionnaires and see their own results.
* Admins manage users, settings, the on-call rota and the audit trail; they do not treat
  patients, and on the audit page see event types, actors and record ids, never clinical
  values. Prescribers may keep the on-call rota too.
* Auditors (privacy or compliance officers) read the whole audit trail, values included,
  and nothing else (docs/decisions/0011-least-privilege.md).
* Controlled substances ([S81][S83]): the prescribers (the DEA registrants) receive stock,
  count it, witness waste and resolve count discrepancies; the infusion team (CRNA, RN) draws, wastes,
  witnesses another clinician's waste and counts; every licensed clinician sees the ledger.
  The clinic may narrow these per action (``domain.ledger.check_ledger_roles``).

Errors: ``UnknownRoleError`` and ``UnknownActionError`` (both ``ValueError``) for names
outside the matrix, so a typo never silently means "denied".
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIONS",
    "ROLES",
    "Action",
    "Role",
    "UnknownActionError",
    "UnknownRoleError",
    "actions_for",
    "can",
]


class Role(StrEnum):
    ADMIN = "admin"
    PRESCRIBER = "prescriber"
    CRNA = "crna"
    RN = "rn"
    FRONT_DESK = "front_desk"
    PATIENT = "patient"
    AUDITOR = "auditor"


class Action(StrEnum):
    VIEW_CHART = "view_chart"
    VIEW_DEMOGRAPHICS = "view_demographics"
    EDIT_INTAKE = "edit_intake"
    DECIDE_ELIGIBILITY = "decide_eligibility"
    PLAN_COURSE = "plan_course"
    SIGN_ORDER = "sign_order"
    VERIFY_ORDER = "verify_order"
    TITRATE_DOSE = "titrate_dose"
    RECORD_VITALS = "record_vitals"
    RECORD_SIDE_EFFECTS = "record_side_effects"
    RECORD_ASSESSMENT = "record_assessment"
    START_STOP_INFUSION = "start_stop_infusion"
    DISCHARGE = "discharge"
    SIGN_NOTE = "sign_note"
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    DECIDE_INDUCTION = "decide_induction"
    MANAGE_SCHEDULE = "manage_schedule"
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"
    VIEW_AUDIT = "view_audit"
    VIEW_AUDIT_VALUES = "view_audit_values"
    COMPLETE_OWN_QUESTIONNAIRE = "complete_own_questionnaire"
    VIEW_OWN_RESULTS = "view_own_results"
    CLOSE_SUICIDE_ALERT = "close_suicide_alert"
    MANAGE_ON_CALL = "manage_on_call"
    VIEW_LEDGER = "view_ledger"
    RECEIVE_STOCK = "receive_stock"
    DRAW_STOCK = "draw_stock"
    WASTE_STOCK = "waste_stock"
    WITNESS_WASTE = "witness_waste"
    COUNT_STOCK = "count_stock"
    RESOLVE_DISCREPANCY = "resolve_discrepancy"
    GIVE_PRN = "give_prn"
    RECORD_PRE_PROCEDURE = "record_pre_procedure"
    MERGE_PATIENTS = "merge_patients"


ROLES: tuple[Role, ...] = tuple(Role)
ACTIONS: tuple[Action, ...] = tuple(Action)

_CLINICAL_READ = frozenset({Action.VIEW_CHART, Action.VIEW_DEMOGRAPHICS, Action.VIEW_DASHBOARD})
_BEDSIDE = frozenset(
    {
        Action.VIEW_LEDGER,
        Action.DRAW_STOCK,
        Action.WASTE_STOCK,
        Action.WITNESS_WASTE,
        Action.COUNT_STOCK,
        Action.RECORD_VITALS,
        Action.RECORD_SIDE_EFFECTS,
        Action.RECORD_ASSESSMENT,
        Action.VERIFY_ORDER,
        Action.SIGN_NOTE,
        Action.ACKNOWLEDGE_ALERT,
        Action.GIVE_PRN,
        Action.RECORD_PRE_PROCEDURE,
    }
)

_MATRIX: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(
        {Action.MANAGE_USERS, Action.MANAGE_SETTINGS, Action.VIEW_AUDIT, Action.MANAGE_ON_CALL, Action.MERGE_PATIENTS}
    ),
    Role.PRESCRIBER: _CLINICAL_READ
    | {
        Action.VIEW_LEDGER,
        Action.RECEIVE_STOCK,
        Action.WITNESS_WASTE,
        Action.COUNT_STOCK,
        Action.RESOLVE_DISCREPANCY,
        Action.EDIT_INTAKE,
        Action.DECIDE_ELIGIBILITY,
        Action.PLAN_COURSE,
        Action.SIGN_ORDER,
        Action.VERIFY_ORDER,
        Action.TITRATE_DOSE,
        Action.RECORD_ASSESSMENT,
        Action.RECORD_SIDE_EFFECTS,
        Action.SIGN_NOTE,
        Action.ACKNOWLEDGE_ALERT,
        Action.DECIDE_INDUCTION,
        Action.CLOSE_SUICIDE_ALERT,
        Action.MANAGE_ON_CALL,
        Action.GIVE_PRN,
        Action.RECORD_PRE_PROCEDURE,
    },
    Role.CRNA: _CLINICAL_READ | _BEDSIDE | {Action.TITRATE_DOSE, Action.START_STOP_INFUSION, Action.DISCHARGE},
    Role.RN: _CLINICAL_READ | _BEDSIDE | {Action.EDIT_INTAKE, Action.START_STOP_INFUSION, Action.DISCHARGE},
    Role.FRONT_DESK: frozenset(
        {Action.VIEW_DEMOGRAPHICS, Action.MANAGE_SCHEDULE, Action.VIEW_DASHBOARD, Action.MERGE_PATIENTS}
    ),
    Role.PATIENT: frozenset({Action.COMPLETE_OWN_QUESTIONNAIRE, Action.VIEW_OWN_RESULTS}),
    Role.AUDITOR: frozenset({Action.VIEW_AUDIT, Action.VIEW_AUDIT_VALUES}),
}


class UnknownRoleError(ValueError):
    """A role name that is not in the matrix."""


class UnknownActionError(ValueError):
    """An action name that is not in the matrix."""


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UnknownRoleError(f"unknown role {role!r}; roles: {', '.join(ROLES)}") from None


def _action(action: str) -> Action:
    try:
        return Action(action)
    except ValueError:
        raise UnknownActionError(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}") from None


def can(role: str, action: str) -> bool:
    """Whether ``role`` may perform ``action`` (scope of practice, [S20][S21]).

    Raises ``UnknownRoleError`` / ``UnknownActionError`` for names outside the matrix.
    """
    return _action(action) in _MATRIX[_role(role)]


def actions_for(role: str) -> frozenset[Action]:
    """Every action ``role`` may perform ([S20][S21] for the clinical split)."""
    return _MATRIX[_role(role)]
