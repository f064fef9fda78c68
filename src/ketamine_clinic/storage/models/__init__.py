"""The clinic's tables, one module per noun. Only ``services`` writes clinical rows."""

from ketamine_clinic.storage.models.accounts import User
from ketamine_clinic.storage.models.audit import AuditChainHead, AuditEvent, EventType
from ketamine_clinic.storage.models.clinic import ClinicSettings
from ketamine_clinic.storage.models.patients import Patient

__all__ = ["AuditChainHead", "AuditEvent", "ClinicSettings", "EventType", "Patient", "User"]
