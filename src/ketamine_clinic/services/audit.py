"""Writing and verifying the hash-chained, keyed audit trail.

``record`` must run inside the transaction of the change it records (every
``do_*`` service wraps both in one ``transaction.atomic``). The chain head row is
locked while a row is appended, so concurrent writers cannot fork the chain.

Each row carries ``row_hash`` (SHA-256 over its content and the previous hash) and
``mac`` (HMAC of ``row_hash`` under ``KC_AUDIT_KEY``, which is not in the database).
A row whose subject is an entry that is never edited in place (vitals, pump events,
side effects, notes, scores) also carries ``subject_digest``, the entry's field values
when audited, so ``verify_chain`` can report a clinical row edited behind the
application's back. After each commit the head is checkpointed outside the database
(``audit_checkpoints``). See docs/decisions/0009-keyed-audit-trail.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from ketamine_clinic.services import audit_checkpoints
from ketamine_clinic.services._audit_keys import row_mac
from ketamine_clinic.storage.models import (
    Assessment,
    AuditChainHead,
    AuditEvent,
    EventType,
    Patient,
    PumpEvent,
    SessionNote,
    SideEffect,
    User,
    VitalSign,
)

__all__ = [
    "GENESIS",
    "WATCHED",
    "ChainReport",
    "do_checkpoint",
    "record",
    "row_digest",
    "subject_digest",
    "verify_chain",
]

#: Clinical entries that are never edited in place (a correction is a new, linked row):
#: their values when audited are kept in the audit row and compared by ``verify_chain``.
WATCHED: dict[str, type[models.Model]] = {
    m.__name__: m for m in (VitalSign, PumpEvent, SideEffect, SessionNote, Assessment)
}

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
    if event.subject_digest:  # rows written before digests existed keep their old hash
        payload["subject_digest"] = event.subject_digest
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _canonical_field(field: models.Field[Any, Any], value: Any) -> Any:
    if value is None:
        return None
    value = field.to_python(value)
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return _canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | bool | str):
        return value
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def subject_digest(row: models.Model) -> str:
    """SHA-256 of a row's field values (primary key excluded), stable across a save and reload."""
    values = {
        f.attname: _canonical_field(f, getattr(row, f.attname)) for f in row._meta.concrete_fields if not f.primary_key
    }
    blob = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
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
        subject_digest=subject_digest(subject) if type(subject).__name__ in WATCHED else "",
    )
    event.row_hash = row_digest(event)
    event.mac = row_mac(event.row_hash)
    event.save(force_insert=True)
    head.last_hash = event.row_hash
    head.length += 1
    head.save(update_fields=["last_hash", "length"])
    length, last = head.length, event.row_hash
    transaction.on_commit(lambda: audit_checkpoints.after_commit(length, last))
    return event


@dataclass(frozen=True)
class ChainReport:
    """``ok`` only if every link, every MAC, every checkpoint and every watched clinical
    row agrees. ``broken_id``/``reason`` name the first broken row of the chain;
    ``problems`` lists everything found (checkpoints, clinical rows), ``warnings`` what
    could not be checked."""

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    problems: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    checkpoints: int = 0


def _row_problem(event: AuditEvent, prev: str) -> str:
    if event.prev_hash != prev:
        return "its previous-hash link does not match"
    if row_digest(event) != event.row_hash:
        return "its content does not match its hash"
    if not hmac.compare_digest(event.mac or "", row_mac(event.row_hash)):
        return "its MAC does not match (rewritten without the audit key)"
    return ""


def _load_checkpoints() -> tuple[dict[int, list[audit_checkpoints.Checkpoint]], list[str]]:
    by_length: dict[int, list[audit_checkpoints.Checkpoint]] = {}
    problems: list[str] = []
    for point in audit_checkpoints.read_checkpoints():
        if isinstance(point, str):
            problems.append(point)
        elif not point.valid:
            problems.append(f"{point.source}: the checkpoint's signature does not match (forged or edited)")
        else:
            by_length.setdefault(point.length, []).append(point)
    return by_length, problems


def _walk(
    batch: int, wanted: dict[int, list[audit_checkpoints.Checkpoint]]
) -> tuple[int, str, int | None, str, list[str], dict[tuple[str, str], tuple[int, str]]]:  # noqa: E501
    prev, checked = GENESIS, 0
    problems: list[str] = []
    digests: dict[tuple[str, str], tuple[int, str]] = {}
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch):
        reason = _row_problem(event, prev)
        if reason:
            return checked, prev, event.id, reason, problems, digests
        prev = event.row_hash
        checked += 1
        for point in wanted.get(checked, ()):
            if point.head_hash != event.row_hash:
                problems.append(
                    f"event #{event.id} differs from the checkpoint of {point.at} ({point.source}): "
                    "the chain was rewritten"
                )
        if event.subject_type in WATCHED:
            digests[(event.subject_type, event.subject_id)] = (event.id, event.subject_digest)
    return checked, prev, None, "", problems, digests


def _clinical_problems(digests: dict[tuple[str, str], tuple[int, str]], batch: int) -> list[str]:
    """Watched rows whose current values differ from their last audited values."""
    problems: list[str] = []
    for name, model in WATCHED.items():
        for row in model.objects.order_by("pk").iterator(chunk_size=batch):  # type: ignore[attr-defined]
            audited = digests.get((name, str(row.pk)))
            if audited is None:
                problems.append(f"{name} #{row.pk} has no audit record (inserted outside the application)")
            elif audited[1] and audited[1] != subject_digest(row):
                problems.append(
                    f"{name} #{row.pk} differs from its audited values (event #{audited[0]}): "
                    "edited outside the application"
                )
    return problems


def verify_chain(batch: int = 2000) -> ChainReport:
    """Walk the trail in order; check links, MACs, the checkpoints outside the database and
    the watched clinical rows. Reports the first broken row and every other problem."""
    wanted, problems = _load_checkpoints()
    checked, prev, broken_id, reason, found, digests = _walk(batch, wanted)
    problems += found
    warnings: list[str] = []
    if broken_id is not None:
        return ChainReport(False, checked, broken_id, reason, tuple(problems))
    head = AuditChainHead.objects.filter(singleton=1).first()
    expected = head.last_hash if head else GENESIS
    if prev != expected or (head is not None and head.length != checked):
        return ChainReport(False, checked, None, "rows are missing from the end of the trail", tuple(problems))
    longest = max(wanted, default=0)
    if longest > checked:
        point = wanted[longest][0]
        problems.append(
            f"the trail has {checked} events but the checkpoint of {point.at} ({point.source}) recorded {longest}: "
            "rows were cut from the end"
        )
    if not wanted and checked:
        warnings.append("no checkpoint outside the database: a cut from the end cannot be ruled out")
    problems += _clinical_problems(digests, batch)
    reason = "" if not problems else problems[0]
    return ChainReport(not problems, checked, None, reason, tuple(problems), tuple(warnings), len(wanted))


def do_checkpoint(*, mail: bool = False) -> tuple[audit_checkpoints.Checkpoint, str | None]:
    """Checkpoint the committed head now (logged), and mail the line if asked.

    Raises ``ValueError`` when mail is asked for and ``KC_AUDIT_CHECKPOINT_EMAIL`` is unset."""
    from django.conf import settings
    from django.core.mail import send_mail

    address = settings.KC_AUDIT_CHECKPOINT_EMAIL
    if mail and not address:
        raise ValueError("--mail needs KC_AUDIT_CHECKPOINT_EMAIL")
    head = AuditChainHead.objects.filter(singleton=1).first()
    point = audit_checkpoints.write_checkpoint(head.length if head else 0, head.last_hash if head else GENESIS)
    if mail and address:
        send_mail("Audit trail checkpoint", point.line() + "\n", None, [address])
    return point, address if mail else None
