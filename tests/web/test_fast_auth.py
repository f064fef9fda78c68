"""The session row and the signed-in user are read as Django reads them (web/fast_auth.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from ketamine_clinic.storage.models import User
from ketamine_clinic.web.fast_auth import PreparedModelBackend, SessionStore


def test_the_clinic_uses_them() -> None:
    assert settings.SESSION_ENGINE == "ketamine_clinic.web.fast_auth"
    assert settings.AUTHENTICATION_BACKENDS[-1] == "ketamine_clinic.web.fast_auth.PreparedModelBackend"


def test_a_live_session_loads_an_expired_or_unknown_one_is_empty(db) -> None:
    store = SessionStore()
    store["kc_test"] = "kept"
    store.save()
    assert SessionStore(store.session_key).load() == {"kc_test": "kept"}
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None
    assert SessionStore(None).load() == {}


def test_a_signed_in_user_is_read_and_an_inactive_one_is_signed_out(client, nurse) -> None:
    client.force_login(nurse, backend="ketamine_clinic.web.fast_auth.PreparedModelBackend")
    assert client.get("/clinic/").status_code == 200
    backend = PreparedModelBackend()
    assert backend.get_user(nurse.pk) == nurse and backend.get_user(str(nurse.pk)) == nurse
    assert backend.get_user("nobody") is None and backend.get_user(nurse.pk + 1000) is None
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    assert backend.get_user(nurse.pk) is None
    response = client.get("/clinic/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
