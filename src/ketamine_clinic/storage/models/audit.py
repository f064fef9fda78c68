"""The append-only audit trail, each row chained to the one before by a SHA-256 hash and
keyed by an HMAC (docs/decisions/0009-keyed-audit-trail.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EventType(models.IntegerChoices):
    """Typed event codes in numbered bands (100 accounts, 200 charts, 300 intake,
    400 courses, 500 orders, 600 sessions, 700 scores/alerts, 800 controlled-substance ledger,
    900 settings, 950 reads)."""

    USER_CREATED = 101, "user created"
    USER_ROLE_CHANGED = 102, "user role changed"
    USER_DEACTIVATED = 103, "user deactivated"
    USER_REACTIVATED = 104, "user reactivated"
    USER_PASSWORD_SET = 105, "user password set"
    PASSWORD_CHANGED = 106, "own password changed"
    PASSWORD_RESET_REQUESTED = 107, "password reset link sent"
    PASSWORD_RESET = 108, "password reset by link"
    LOGIN_THROTTLED = 109, "login refused: too many failures from one address"
    LOGIN = 110, "login"
    LOGOUT = 111, "logout"
    LOGIN_FAILED = 112, "login failed"
    IDLE_LOGOUT = 113, "logged out after idle timeout"
    TWO_FACTOR_ENABLED = 114, "two-factor device confirmed"
    TWO_FACTOR_FAILED = 115, "two-factor code refused"
    TWO_FACTOR_REMOVED = 116, "two-factor device removed"
    CARE_TEAM_CHANGED = 117, "care team changed"
    API_TOKEN_CREATED = 131, "API token created"
    API_TOKEN_REVOKED = 132, "API token revoked"
    ACCOUNT_UNLOCKED = 121, "locked account unlocked by an administrator"
    PATIENT_CREATED = 201, "patient created"
    PATIENT_UPDATED = 202, "patient updated"
    PATIENT_MERGED = 203, "duplicate patient record merged"
    CHART_VIEWED = 210, "chart viewed"
    DOCUMENT_GENERATED = 211, "document generated (PDF or CSV)"
    PORTAL_INVITED = 222, "portal invitation sent"
    PATIENTS_IMPORTED = 231, "patients and prior scores imported"
    INTAKE_RECORDED = 301, "intake recorded"
    ELIGIBILITY_DECIDED = 302, "eligibility decided"
    REMS_PATIENT_ENROLLED = 310, "esketamine REMS enrolment recorded"
    PRE_PROCEDURE_RECORDED = 320, "pre-procedure record saved"
    CONSENT_SIGNED = 321, "consent signed on screen"
    COURSE_PLANNED = 401, "course planned"
    VISIT_RESCHEDULED = 402, "visit rescheduled"
    VISIT_CANCELLED = 403, "visit cancelled"
    INDUCTION_DECIDED = 404, "end-of-induction decision"
    VISIT_BOOKED = 405, "visit booked"
    CHAIR_CHANGED = 406, "chair changed"
    VISIT_MOVED_TO_TODAY = 407, "visit moved to today by a prescriber"
    COURSE_ENDED = 408, "course completed or cancelled"
    VISIT_CHANGE_REQUESTED = 409, "patient asked to cancel or move a visit"
    VISIT_ARRIVED = 421, "patient checked in"
    VISIT_NO_SHOW = 422, "visit marked no-show"
    WAITLIST_CHANGED = 423, "waiting list changed"
    ORDER_SIGNED = 501, "order signed"
    ORDER_VERIFIED = 502, "order verified"
    ORDER_CANCELLED = 503, "order cancelled"
    SESSION_OPENED = 601, "session opened"
    CHECKLIST_COMPLETED = 602, "checklist completed"
    PUMP_EVENT = 603, "pump event"
    VITALS_RECORDED = 604, "vitals recorded"
    SIDE_EFFECT_RECORDED = 605, "side effect recorded"
    ENTRY_AMENDED = 606, "entry amended"
    NOTE_SIGNED = 607, "note signed"
    DISCHARGED = 608, "discharged"
    SESSION_CLOSED = 609, "session closed without discharge"
    REMS_SESSION_RECORDED = 620, "esketamine REMS: prescriber on site, pulse oximetry or lot recorded"
    REMS_FORM_SAVED = 621, "esketamine REMS monitoring form answers saved"
    REMS_FORM_SUBMITTED = 622, "esketamine REMS monitoring form marked submitted"
    PRN_GIVEN = 630, "PRN medicine given"
    ASSESSMENT_RECORDED = 701, "assessment recorded"
    ALERT_RAISED = 702, "alert raised"
    ALERT_ACKNOWLEDGED = 703, "alert acknowledged"
    ALERT_FINDING_ADDED = 704, "alert joined by a new answer"
    ALERT_CLAIMED = 705, "alert taken by a prescriber"
    ALERT_ESCALATED = 706, "alert escalated past its deadline"
    SUICIDE_RISK_ASSESSED = 707, "suicide-risk assessment recorded"
    NOTIFICATION_SENT = 708, "notification sent"
    ON_CALL_CHANGED = 709, "on-call rota changed"
    OUTREACH_SENT = 710, "reminder or questionnaire link sent to a patient"
    PATIENT_LINK_USED = 711, "questionnaire link used"
    CHECK_IN_RECORDED = 712, "next-day check-in recorded"
    STOCK_RECEIVED = 801, "controlled substance received"
    STOCK_DRAWN = 802, "controlled substance drawn"
    STOCK_WASTED = 803, "controlled substance wasted"
    STOCK_COUNTED = 804, "controlled substance counted"
    STOCK_DISCREPANCY_RAISED = 805, "stock count discrepancy raised"
    STOCK_DISCREPANCY_RESOLVED = 806, "stock count discrepancy resolved"
    LEDGER_ENTRY_CORRECTED = 807, "ledger entry corrected"
    STOCK_LOCATION_ADDED = 808, "storage location added"
    LEDGER_SETTINGS_CHANGED = 809, "ledger settings changed"
    LEDGER_REPORT_VIEWED = 810, "controlled-substance report viewed"
    WITNESS_PASSWORD_FAILED = 811, "waste witness's password wrong"
    SETTINGS_CHANGED = 901, "clinic settings changed"
    SETTINGS_PROPOSED = 902, "clinical thresholds proposed"
    SETTINGS_PROPOSAL_DECIDED = 903, "clinical threshold proposal decided"
    SETTINGS_CONFIRMED = 904, "clinical thresholds confirmed by the medical director"
    PRACTICE_SETTINGS_CHANGED = 905, "practice identifiers or reminder times changed"
    REMS_SITE_CERTIFIED = 910, "esketamine REMS certification recorded"
    CLINIC_HOURS_CHANGED = 921, "clinic hours, days or closures changed"
    PAGE_VIEWED = 950, "page with patient data viewed"
    BULK_EXPORT_REQUESTED = 961, "bulk FHIR export requested"
    BULK_EXPORT_COMPLETED = 962, "bulk FHIR export written"
    BULK_EXPORT_DOWNLOADED = 963, "bulk FHIR export file downloaded"
    RESEARCH_EXPORT = 964, "de-identified research export downloaded"


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(db_index=True)
    event_type = models.PositiveSmallIntegerField(choices=EventType.choices, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150)
    patient = models.ForeignKey("storage.Patient", null=True, on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.CharField(max_length=40, blank=True)
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    lane = models.PositiveSmallIntegerField(default=1, help_text="which parallel chain (AuditChainHead) it extends")
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)
    mac = models.CharField(max_length=64, blank=True, help_text="HMAC of row_hash under KC_AUDIT_KEY")
    subject_digest = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of a watched clinical row's values when audited"
    )

    class Meta:
        db_table = "kc_audit_event"
        ordering = ["id"]
        # the audit trail pages newest first by id, filtered by patient, user or event type
        indexes = [
            models.Index(fields=["patient", "-id"], name="kc_audit_patient_id"),
            models.Index(fields=["actor", "-id"], name="kc_audit_actor_id"),
            models.Index(fields=["event_type", "-id"], name="kc_audit_type_id"),
        ]


class AuditChainHead(models.Model):
    """The head of one lane of the chain (``singleton`` is the lane number, 1..LANES): locking
    it serialises appends to that lane only."""

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_hash = models.CharField(max_length=64)
    length = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "kc_audit_chain_head"
