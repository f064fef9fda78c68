"""The clinic's tables, one module per noun. Only ``services`` writes clinical rows."""

from ketamine_clinic.storage import lookups as _lookups  # noqa: F401 - registers ``id__any_of``
from ketamine_clinic.storage.models.accounts import User
from ketamine_clinic.storage.models.api import ApiToken, ExportFile, ExportJob
from ketamine_clinic.storage.models.audit import AuditChainHead, AuditEvent, EventType
from ketamine_clinic.storage.models.clinic import ClinicSettings, FormToken
from ketamine_clinic.storage.models.courses import Chair, Course, CourseDecision, Visit, WaitlistEntry
from ketamine_clinic.storage.models.intake import EligibilityDecision, Intake
from ketamine_clinic.storage.models.ledger import (
    LedgerEntry,
    LedgerSettings,
    StockDiscrepancy,
    StockLot,
    StorageLocation,
)
from ketamine_clinic.storage.models.measures import (
    Alert,
    Assessment,
    Notification,
    OnCallShift,
    SuicideRiskAssessment,
)
from ketamine_clinic.storage.models.medications import PrnDose
from ketamine_clinic.storage.models.orders import Order
from ketamine_clinic.storage.models.outreach import (
    CheckIn,
    OutreachMessage,
    PatientLink,
    PracticeSettings,
    SmsOutbox,
    VisitRequest,
)
from ketamine_clinic.storage.models.patients import CareTeamMember, Patient
from ketamine_clinic.storage.models.preprocedure import ConsentSignature, PreProcedureRecord
from ketamine_clinic.storage.models.read_models import ReadModel
from ketamine_clinic.storage.models.rems import RemsCertification, RemsDeviceLot, RemsEnrolment, RemsSessionRecord
from ketamine_clinic.storage.models.sessions import (
    InfusionSession,
    PumpEvent,
    SessionNote,
    SideEffect,
    VitalSign,
)

__all__ = [
    "Alert",
    "ApiToken",
    "Assessment",
    "AuditChainHead",
    "AuditEvent",
    "CareTeamMember",
    "CheckIn",
    "Chair",
    "ConsentSignature",
    "ClinicSettings",
    "Course",
    "CourseDecision",
    "EligibilityDecision",
    "EventType",
    "ExportFile",
    "ExportJob",
    "FormToken",
    "InfusionSession",
    "Notification",
    "OnCallShift",
    "OutreachMessage",
    "PatientLink",
    "PracticeSettings",
    "SmsOutbox",
    "Intake",
    "LedgerEntry",
    "LedgerSettings",
    "Order",
    "Patient",
    "PreProcedureRecord",
    "PrnDose",
    "PumpEvent",
    "ReadModel",
    "RemsCertification",
    "RemsDeviceLot",
    "RemsEnrolment",
    "RemsSessionRecord",
    "SessionNote",
    "SideEffect",
    "SuicideRiskAssessment",
    "StockDiscrepancy",
    "StockLot",
    "StorageLocation",
    "User",
    "Visit",
    "VisitRequest",
    "VitalSign",
    "WaitlistEntry",
]
