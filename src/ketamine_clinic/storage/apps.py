from typing import Any

from django.apps import AppConfig

#: Prepared statements a PostgreSQL connection keeps (psycopg's default is 100). The pages
#: of a working day run a few hundred distinct statements; with 100 the least recently used
#: were dropped and prepared again all day (decision 0048).
PREPARED_MAX = 500


def keep_prepared_statements(sender: Any, connection: Any, **_: Any) -> None:
    """``connection_created``: let a PostgreSQL connection keep ``PREPARED_MAX`` statements."""
    if connection.vendor == "postgresql" and hasattr(connection.connection, "prepared_max"):
        connection.connection.prepared_max = PREPARED_MAX


class StorageConfig(AppConfig):
    name = "ketamine_clinic.storage"
    label = "storage"
    verbose_name = "Ketamine Clinic records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(keep_prepared_statements, dispatch_uid="kc_prepared_max")
