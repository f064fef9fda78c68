"""Reports read from the replica when one is configured; nothing else does."""

from __future__ import annotations

import pytest
from django.test import override_settings

from ketamine_clinic import config
from ketamine_clinic.storage.models import AuditEvent, Patient
from ketamine_clinic.storage.routers import ReplicaRouter, reporting
from ketamine_clinic.web._common import databases_from

PRIMARY = "postgres://clinic@db-primary:5432/clinic"
REPLICA = "postgres://clinic_ro@db-replica:5432/clinic"
SECRETS = {"KC_SECRET_KEY": "s" * 40, "KC_AUDIT_KEY": "a" * 40}


def test_a_replica_url_adds_a_replica_database_mirrored_in_tests() -> None:
    cfg = config.load({**SECRETS, "KC_DATABASE_URL": PRIMARY, "KC_REPLICA_DATABASE_URL": REPLICA})
    found = databases_from(cfg)
    assert found["default"]["HOST"] == "db-primary"
    assert found["replica"]["HOST"] == "db-replica" and found["replica"]["USER"] == "clinic_ro"
    assert found["replica"]["TEST"] == {"MIRROR": "default"}
    assert "replica" not in databases_from(config.load({**SECRETS, "KC_DATABASE_URL": PRIMARY}))


def test_a_replica_without_a_postgresql_primary_is_refused() -> None:
    with pytest.raises(config.ConfigError, match="KC_REPLICA_DATABASE_URL needs KC_DATABASE_URL"):
        config.load({**SECRETS, "KC_REPLICA_DATABASE_URL": REPLICA})


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_only_reads_inside_reporting_go_to_the_replica(settings) -> None:
    router = ReplicaRouter()  # asked directly: no query runs against the fake alias
    with override_settings(DATABASES={**settings.DATABASES, "replica": settings.DATABASES["default"]}):
        assert router.db_for_read(Patient) is None  # a page reads the primary
        with reporting():
            assert router.db_for_read(AuditEvent) == "replica"
            assert router.db_for_write(Patient) == "default"  # writes never go to a replica
        assert router.db_for_read(Patient) is None
    with reporting():  # no replica configured: nothing changes
        assert router.db_for_read(Patient) is None
    assert router.allow_migrate("replica", "storage") is False
