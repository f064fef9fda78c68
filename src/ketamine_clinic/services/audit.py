"""Writing and verifying the hash-chained audit trail.

``record`` must run inside the transaction of the change it records (every
``do_*`` service wraps both in one ``transaction.atomic``). The chain head row is
locked while a row is appended, so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.storage.models import AuditChainHead, AuditEvent, EventType, Patient, User

__all__ = ["GENESIS", "ChainReport", "record", "row_digest", "verify_chain"]

GENESIS = "0" * 64


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_digest(event: AuditEvent) -> str:
    """SHA-256 over the row's content and the previous row's hash."""
    payload = {
        "occurred_at": _canonical_time(event.occurred_at),
        "event_type": int(event.event_type),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "patient_id": event.patient_id,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "old": event.old_values,
        "new": event.new_values,
        "prev": event.prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _label(actor: User | None) -> str:
    return f"{actor.username} ({actor.role})" if actor is not None else "system"


def record(
    event_type: EventType,
    *,
    actor: User | None,
    patient: Patient | None = None,
    subject: Any = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event; must be called inside ``transaction.atomic``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction it records")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(singleton=1, defaults={"last_hash": GENESIS})
    event = AuditEvent(
        occurred_at=at or timezone.now(),
        event_type=event_type,
        actor=actor,
        actor_label=_label(actor),
        patient=patient,
        subject_type=type(subject).__name__ if subject is not None else "",
        subject_id=str(getattr(subject, "pk", "")) if subject is not None else "",
        old_values=json.loads(json.dumps(old or {}, default=str)),
        new_values=json.loads(json.dumps(new or {}, default=str)),
        prev_hash=head.last_hash,
    )
    event.row_hash = row_digest(event)
    event.save(force_insert=True)
    head.last_hash = event.row_hash
    head.length += 1
    head.save(update_fields=["last_hash", "length"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify_chain(batch: int = 2000) -> ChainReport:
    """Walk the trail in order; report the first row whose link or content is wrong."""
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch):
        if event.prev_hash != prev:
            return ChainReport(False, checked, event.id, "its previous-hash link does not match")
        if row_digest(event) != event.row_hash:
            return ChainReport(False, checked, event.id, "its content does not match its hash")
        prev = event.row_hash
        checked += 1
    head = AuditChainHead.objects.filter(singleton=1).first()
    expected = head.last_hash if head else GENESIS
    if prev != expected or (head is not None and head.length != checked):
        return ChainReport(False, checked, None, "rows are missing from the end of the trail")
    return ChainReport(True, checked)
