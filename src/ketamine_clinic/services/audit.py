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
import random
from collections.abc import Iterator
from contextlib import contextmanager
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
    ConsentSignature,
    EventType,
    Patient,
    PreProcedureRecord,
    PrnDose,
    PumpEvent,
    SessionNote,
    SideEffect,
    User,
    VitalSign,
)

__all__ = [
    "GENESIS",
    "LANES",
    "WATCHED",
    "ChainReport",
    "do_checkpoint",
    "record",
    "row_digest",
    "seal_history",
    "subject_digest",
    "values_digest",
    "verify_chain",
]

#: Clinical entries that are never edited in place (a correction is a new, linked row):
#: their values when audited are kept in the audit row and compared by ``verify_chain``.
WATCHED: dict[str, type[models.Model]] = {
    m.__name__: m
    for m in (VitalSign, PumpEvent, SideEffect, SessionNote, Assessment, PrnDose, PreProcedureRecord, ConsentSignature)
}

GENESIS = "0" * 64


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_digest(event: AuditEvent) -> str:
    """SHA-256 over the row's content and the previous row's hash."""
    return _row_digest(
        event.occurred_at,
        int(event.event_type),
        event.actor_id,
        event.actor_label,
        event.patient_id,
        event.subject_type,
        event.subject_id,
        event.old_values,
        event.new_values,
        event.prev_hash,
        event.subject_digest,
    )


def _row_digest(
    occurred_at: datetime,
    event_type: int,
    actor_id: int | None,
    actor_label: str,
    patient_id: int | None,
    subject_type: str,
    subject_id: str,
    old: Any,
    new: Any,
    prev: str,
    digest: str,
) -> str:
    payload = {
        "occurred_at": _canonical_time(occurred_at),
        "event_type": event_type,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "patient_id": patient_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "old": old,
        "new": new,
        "prev": prev,
    }
    if digest:  # rows written before digests existed keep their old hash
        payload["subject_digest"] = digest
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _canonical_field(field: models.Field[Any, Any], value: Any) -> Any:
    if value is None:
        return None
    if not _already_python(field, value):
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


def _already_python(field: models.Field[Any, Any], value: Any) -> bool:
    """Whether ``to_python`` would return ``value`` unchanged (a loaded row's values, and the
    bulk writer's): skipping it keeps digests of millions of rows fast."""
    if isinstance(field, models.JSONField):
        return True
    if isinstance(field, models.DateTimeField):
        return isinstance(value, datetime) and value.tzinfo is not None
    if isinstance(field, models.DecimalField):
        return isinstance(value, Decimal)
    if isinstance(field, models.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, models.IntegerField | models.ForeignKey):
        return type(value) is int
    if isinstance(field, models.CharField | models.TextField):
        return isinstance(value, str)
    return False


def subject_digest(row: models.Model) -> str:
    """SHA-256 of a row's field values (primary key excluded), stable across a save and reload."""
    return values_digest(type(row), {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields})


def values_digest(model: type[models.Model], values: dict[str, Any]) -> str:
    """``subject_digest`` of a row given as ``{attname: value}`` (a row written in bulk)."""
    canonical = {
        f.attname: _canonical_field(f, values.get(f.attname)) for f in model._meta.concrete_fields if not f.primary_key
    }
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


#: Parallel chains ("lanes"). A writer takes the first lane nobody else holds (PostgreSQL's
#: SKIP LOCKED), so up to LANES transactions append at once instead of queueing on one row;
#: alone, a writer always gets lane 1. Each lane is a complete chain of its own.
LANES = 16


def _lock_a_lane() -> AuditChainHead:
    if transaction.get_connection().vendor == "postgresql":
        free = _lock_a_free_lane()
        if free is not None:
            return free
        # every lane busy: queue on one at random (lane 1 when a flushed database has none)
        lane = random.randint(1, LANES) if AuditChainHead.objects.exists() else 1
    else:
        lane = 1  # SQLite serialises writers anyway
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(singleton=lane, defaults={"last_hash": GENESIS})
    return head


def _lock_a_free_lane() -> AuditChainHead | None:
    """The first lane no other transaction holds, locked (PostgreSQL). Every write of the
    clinic, page views included, passes here, so it is one fixed statement on the cursor
    rather than a query built by the ORM each time (decision 0048)."""
    table = AuditChainHead._meta.db_table
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            f'SELECT "singleton", "last_hash", "length" FROM "{table}" WHERE "singleton" <= %s '  # noqa: S608
            'ORDER BY "singleton" LIMIT 1 FOR UPDATE SKIP LOCKED',
            [LANES],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return AuditChainHead(singleton=row[0], last_hash=row[1], length=row[2])


def _move_head(head: AuditChainHead) -> None:
    """Write the locked lane's new last hash and length."""
    table = AuditChainHead._meta.db_table
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "last_hash" = %s, "length" = %s WHERE "singleton" = %s',  # noqa: S608
            [head.last_hash, head.length, head.singleton],
        )
        if cursor.rowcount != 1:
            raise RuntimeError(f"audit lane {head.singleton} vanished while it was locked")


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
    """Append one event; must be called inside ``transaction.atomic``. The event's time is
    the server's clock; a clinical time ``at`` that differs from it (a late entry, a
    correction, back-dated set-up) is kept as ``clinical_at`` among the new values."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction it records")
    now = timezone.now()
    if at is not None and abs((now - at).total_seconds()) > 60:
        new = {**(new or {}), "clinical_at": at.isoformat()}
    head = _lock_a_lane()
    event = AuditEvent(
        lane=head.singleton,
        occurred_at=now,
        event_type=event_type,
        actor=actor,
        actor_label=_label(actor),
        patient=patient,
        subject_type=type(subject).__name__ if subject is not None else "",
        subject_id=str(getattr(subject, "pk", "")) if subject is not None else "",
        old_values=json.loads(json.dumps(old or {}, default=str)),
        new_values=json.loads(json.dumps(new or {}, default=str)),
        prev_hash=head.last_hash,
        subject_digest=subject_digest(subject) if isinstance(subject, tuple(WATCHED.values())) else "",
    )
    event.row_hash = row_digest(event)
    event.mac = row_mac(event.row_hash)
    event.save(force_insert=True)
    head.last_hash = event.row_hash
    head.length += 1
    _move_head(head)
    lane, length, last = head.singleton, head.length, event.row_hash
    transaction.on_commit(lambda: audit_checkpoints.after_commit(lane, length, last))
    return event


def seal_history(events: list[dict[str, Any]]) -> int:
    """Chain events for rows written in bulk (the scale network of
    ``ketamine_clinic.demo.network``), given as ``{attname: value}`` with JSON-ready
    ``old_values``/``new_values``: in list order each gets lane 1, its previous link, hash
    and MAC exactly as ``record`` gives them; ``occurred_at`` stays the time the caller set
    (the history's clinical time). The lane's head is locked and moved past them; the caller
    inserts the events in the same transaction (``transaction.atomic`` is required).
    Returns how many were sealed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.seal_history must run inside the transaction that inserts the events")
    if not events:
        return 0
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(singleton=1, defaults={"last_hash": GENESIS})
    prev = head.last_hash
    for e in events:
        e["lane"], e["prev_hash"] = 1, prev
        e["row_hash"] = prev = _row_digest(
            e["occurred_at"],
            int(e["event_type"]),
            e["actor_id"],
            e["actor_label"],
            e["patient_id"],
            e["subject_type"],
            e["subject_id"],
            e["old_values"],
            e["new_values"],
            prev,
            e["subject_digest"],
        )
        e["mac"] = row_mac(prev)
    head.last_hash = prev
    head.length += len(events)
    head.save(update_fields=["last_hash", "length"])
    length = head.length
    transaction.on_commit(lambda: audit_checkpoints.after_commit(1, length, prev))
    return len(events)


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


Lanes = dict[tuple[int, int], list[audit_checkpoints.Checkpoint]]


def _load_checkpoints() -> tuple[Lanes, list[str]]:
    by_position: Lanes = {}
    problems: list[str] = []
    for point in audit_checkpoints.read_checkpoints():
        if isinstance(point, str):
            problems.append(point)
        elif not point.valid:
            problems.append(f"{point.source}: the checkpoint's signature does not match (forged or edited)")
        else:
            by_position.setdefault((point.lane, point.length), []).append(point)
    return by_position, problems


@dataclass
class _Walk:
    prev: dict[int, str] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    checked: int = 0
    broken_id: int | None = None
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    digests: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)


def _walk(batch: int, wanted: Lanes) -> _Walk:
    walk = _Walk()
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch):
        reason = _row_problem(event, walk.prev.get(event.lane, GENESIS))
        if reason:
            walk.broken_id, walk.reason = event.id, reason
            return walk
        walk.prev[event.lane] = event.row_hash
        walk.counts[event.lane] = position = walk.counts.get(event.lane, 0) + 1
        walk.checked += 1
        for point in wanted.get((event.lane, position), ()):
            if point.head_hash != event.row_hash:
                walk.problems.append(
                    f"event #{event.id} differs from the checkpoint of {point.at} ({point.source}): "
                    "the chain was rewritten"
                )
        if event.subject_type in WATCHED:
            walk.digests[(event.subject_type, event.subject_id)] = (event.id, event.subject_digest)
    return walk


def _head_problems(walk: _Walk, wanted: Lanes) -> list[str]:
    problems = []
    heads = {h.singleton: h for h in AuditChainHead.objects.all()}
    for lane in sorted(set(heads) | set(walk.counts)):
        head, count = heads.get(lane), walk.counts.get(lane, 0)
        if head is None or head.last_hash != walk.prev.get(lane, GENESIS) or head.length != count:
            problems.append(f"rows are missing from the end of the trail (lane {lane})")
    for (lane, length), points in sorted(wanted.items()):
        if length > walk.counts.get(lane, 0):
            problems.append(
                f"lane {lane} has {walk.counts.get(lane, 0)} events but the checkpoint of {points[0].at} "
                f"({points[0].source}) recorded {length}: rows were cut from the end"
            )
    return problems


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


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the database for the whole check, so rows committed while
    it runs (the clinic stays open) never look like a cut tail or an unaudited row.
    PostgreSQL: a read-only REPEATABLE READ transaction; SQLite (WAL): a deferred read
    transaction, which takes no write lock."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:  # the caller's transaction is the snapshot
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                cursor.execute("COMMIT")


def verify_chain(batch: int = 2000) -> ChainReport:
    """Walk the trail in order; check links, MACs, the checkpoints outside the database and
    the watched clinical rows. Reports the first broken row and every other problem.
    The checkpoints are read before the database snapshot is taken, so each of them
    describes rows the snapshot can see."""
    wanted, problems = _load_checkpoints()
    with _snapshot():
        return _verify(batch, wanted, problems)


def _verify(batch: int, wanted: Lanes, problems: list[str]) -> ChainReport:
    walk = _walk(batch, wanted)
    problems += walk.problems
    if walk.broken_id is not None:
        return ChainReport(False, walk.checked, walk.broken_id, walk.reason, tuple(problems))
    problems += _head_problems(walk, wanted)
    warnings = []
    if not wanted and walk.checked:
        warnings.append("no checkpoint outside the database: a cut from the end cannot be ruled out")
    problems += _clinical_problems(walk.digests, batch)
    return ChainReport(
        not problems, walk.checked, None, problems[0] if problems else "", tuple(problems), tuple(warnings), len(wanted)
    )


def do_checkpoint(*, mail: bool = False) -> tuple[list[audit_checkpoints.Checkpoint], str | None]:
    """Checkpoint every lane's committed head now (logged), and mail the lines if asked.

    Raises ``ValueError`` when mail is asked for and ``KC_AUDIT_CHECKPOINT_EMAIL`` is unset."""
    from django.conf import settings
    from django.core.mail import send_mail

    address = settings.KC_AUDIT_CHECKPOINT_EMAIL
    if mail and not address:
        raise ValueError("--mail needs KC_AUDIT_CHECKPOINT_EMAIL")
    points = [
        audit_checkpoints.write_checkpoint(head.singleton, head.length, head.last_hash)
        for head in AuditChainHead.objects.order_by("singleton")
    ] or [audit_checkpoints.write_checkpoint(1, 0, GENESIS)]
    if mail and address:
        send_mail("Audit trail checkpoint", "".join(p.line() + "\n" for p in points), None, [address])
    return points, address if mail else None
