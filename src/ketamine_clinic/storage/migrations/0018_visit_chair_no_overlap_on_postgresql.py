"""No two bookings of one chair overlap, as a database constraint on PostgreSQL (an
exclusion constraint over the visit's time range; cancelled visits free the chair). SQLite
has no exclusion constraints: there the services' locked check is the guard."""

from django.db import migrations

CONSTRAINT = (
    "ALTER TABLE kc_visit ADD CONSTRAINT kc_visit_no_chair_overlap "
    "EXCLUDE USING gist (chair_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
    "WHERE (status <> 'cancelled')"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(CONSTRAINT)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE kc_visit DROP CONSTRAINT IF EXISTS kc_visit_no_chair_overlap")


class Migration(migrations.Migration):
    dependencies = [("storage", "0017_course_ended_event")]
    operations = [migrations.RunPython(forwards, backwards)]
