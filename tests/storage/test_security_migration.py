"""Upgrading a clinic that already has an audit trail: migration 0006_security_audit_mac
seals the existing rows with the audit key, and the trail verifies afterwards."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ketamine_clinic.services import audit
from ketamine_clinic.storage.models import AuditEvent

BEFORE = [("storage", "0005_nasal_spray_orders")]


def test_an_existing_trail_is_sealed_by_the_upgrade_and_verifies(transactional_db) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Event, Head = old.get_model("storage", "AuditEvent"), old.get_model("storage", "AuditChainHead")
    Head.objects.all().delete()  # lanes a newer schema left behind
    prev = audit.GENESIS
    for number in range(3):
        row = SimpleNamespace(
            occurred_at=datetime(2026, 1, 1, 9, number, tzinfo=UTC),
            event_type=110,
            actor_id=None,
            actor_label="system",
            patient_id=None,
            subject_type="",
            subject_id="",
            old_values={},
            new_values={"n": number},
            prev_hash=prev,
            subject_digest="",
        )
        row_hash = audit.row_digest(row)  # type: ignore[arg-type]
        fields = {k: v for k, v in vars(row).items() if k != "subject_digest"}
        Event.objects.create(**fields, row_hash=row_hash)
        prev = row_hash
    Head.objects.create(singleton=1, last_hash=prev, length=3)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert all(len(e.mac) == 64 and e.lane == 1 for e in AuditEvent.objects.all())
    report = audit.verify_chain()
    assert report.ok and report.checked == 3, report.problems
