"""Keyed audit rows (MAC + clinical digest), new event types and roles, and the
append-only trigger (docs/decisions/0009-keyed-audit-trail.md).

Existing rows are sealed with KC_AUDIT_KEY when this migration runs: they are only as
trustworthy as the database was at that moment. The key derivation is repeated here on
purpose (migrations never import app code).
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models

PG_TRIGGER = """
CREATE OR REPLACE FUNCTION kc_audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'kc_audit_event is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS kc_audit_event_append_only ON kc_audit_event;
CREATE TRIGGER kc_audit_event_append_only BEFORE UPDATE OR DELETE ON kc_audit_event
  FOR EACH ROW EXECUTE FUNCTION kc_audit_event_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS kc_audit_event_append_only ON kc_audit_event;
DROP FUNCTION IF EXISTS kc_audit_event_append_only();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS kc_audit_event_no_update BEFORE UPDATE ON kc_audit_event
BEGIN SELECT RAISE(ABORT, 'kc_audit_event is append-only: UPDATE refused'); END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS kc_audit_event_no_update;"


def seal_existing_rows(apps, schema_editor):
    AuditEvent = apps.get_model("storage", "AuditEvent")
    if not AuditEvent.objects.exists():
        return
    master = str(getattr(settings, "KC_AUDIT_KEY", "")).encode("utf-8")
    if not master:
        raise RuntimeError("KC_AUDIT_KEY must be set to seal the existing audit trail")
    key = hmac.new(master, b"kc-audit-row-v1", hashlib.sha256).digest()
    for event in AuditEvent.objects.filter(mac="").iterator():
        event.mac = hmac.new(key, event.row_hash.encode("ascii"), hashlib.sha256).hexdigest()
        event.save(update_fields=["mac"])


def create_lanes(apps, schema_editor):
    """Sixteen parallel chains (services.audit.LANES); lane 1 is the existing chain."""
    AuditChainHead = apps.get_model("storage", "AuditChainHead")
    for lane in range(1, 17):
        AuditChainHead.objects.get_or_create(singleton=lane, defaults={"last_hash": "0" * 64, "length": 0})


def install_trigger(apps, schema_editor):
    sql = {"postgresql": PG_TRIGGER, "sqlite": SQLITE_TRIGGER}.get(schema_editor.connection.vendor)
    if sql:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def remove_trigger(apps, schema_editor):
    sql = {"postgresql": PG_DROP, "sqlite": SQLITE_DROP}.get(schema_editor.connection.vendor)
    if sql:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("storage", "0005_nasal_spray_orders")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(blank=True, help_text="HMAC of row_hash under KC_AUDIT_KEY", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="subject_digest",
            field=models.CharField(
                blank=True, help_text="SHA-256 of a watched clinical row's values when audited", max_length=64
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="event_type",
            field=models.PositiveSmallIntegerField(choices=[(101, "user created"), (102, "user role changed"), (103, "user deactivated"), (104, "user reactivated"), (105, "user password set"), (106, "own password changed"), (107, "password reset link sent"), (108, "password reset by link"), (109, "login refused: too many failures from one address"), (110, "login"), (111, "logout"), (112, "login failed"), (113, "logged out after idle timeout"), (114, "two-factor device confirmed"), (115, "two-factor code refused"), (116, "two-factor device removed"), (117, "care team changed"), (201, "patient created"), (202, "patient updated"), (210, "chart viewed"), (301, "intake recorded"), (302, "eligibility decided"), (401, "course planned"), (402, "visit rescheduled"), (403, "visit cancelled"), (404, "end-of-induction decision"), (405, "visit booked"), (406, "chair changed"), (501, "order signed"), (502, "order verified"), (503, "order cancelled"), (601, "session opened"), (602, "checklist completed"), (603, "pump event"), (604, "vitals recorded"), (605, "side effect recorded"), (606, "entry amended"), (607, "note signed"), (608, "discharged"), (701, "assessment recorded"), (702, "alert raised"), (703, "alert acknowledged"), (901, "clinic settings changed"), (950, "page with patient data viewed")], db_index=True),
        ),
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(choices=[("admin", "admin"), ("prescriber", "prescriber"), ("crna", "crna"), ("rn", "rn"), ("front_desk", "front_desk"), ("patient", "patient"), ("auditor", "auditor")], max_length=20),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="lane",
            field=models.PositiveSmallIntegerField(
                default=1, help_text="which parallel chain (AuditChainHead) it extends"
            ),
        ),
        migrations.RunPython(seal_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(create_lanes, migrations.RunPython.noop),
        migrations.RunPython(install_trigger, remove_trigger),
    ]
