"""The two reads every signed-in request makes, without rebuilding their SQL each time.

Each request loads the session row and then the user. Django builds both statements with
the ORM on every request (about a millisecond of Python each on a clinic server); here the
session row is read with one fixed statement and the user through ``storage.prepared``.
Behaviour is Django's own: an expired or unknown session is empty, an inactive user is
signed out (``ModelBackend.user_can_authenticate``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketamine_clinic.storage.models import User
from ketamine_clinic.storage.prepared import Prepared

__all__ = ["PreparedModelBackend", "SessionStore"]

#: The user, and whether they have a confirmed authenticator (the sign-in check of every
#: request asks it: ``two_factor.has_confirmed_device``), in one statement.
_USER = Prepared(
    User,
    lambda pk: User.objects.filter(pk=pk).annotate(
        kc_has_confirmed_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    ),
    "pk",
)


class PreparedModelBackend(ModelBackend):
    """Django's ``ModelBackend`` (passwords, permissions, active users only); the user of a
    signed-in request is read with a statement built once per process."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = _USER.first(pk=pk)
        return user if user is not None and self.user_can_authenticate(user) else None


@functools.cache
def _session_sql(alias: str, table: str) -> str:
    q = connections[alias].ops.quote_name
    return f"SELECT {q('session_data')} FROM {q(table)} WHERE {q('session_key')} = %s AND {q('expire_date')} > %s"


class SessionStore(db.SessionStore):
    """``SESSION_ENGINE``: Django's database sessions, the row read with a fixed statement."""

    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if key:
            alias = router.db_for_read(self.model) or DEFAULT_DB_ALIAS
            connection = connections[alias]
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            with connection.cursor() as cursor:
                cursor.execute(_session_sql(alias, self.model._meta.db_table), [key, now])
                row = cursor.fetchone()
            if row is not None:
                return self.model(session_key=key, session_data=row[0])
        self._session_key = None
        return None
