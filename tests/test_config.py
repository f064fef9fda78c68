from __future__ import annotations

from pathlib import Path

import pytest

from ketamine_clinic import config
from ketamine_clinic.config import PLACEHOLDER_SECRET, ConfigError, load

GOOD = "x" * 40
AUDIT = "y" * 40
BASE = {"KC_SECRET_KEY": GOOD, "KC_AUDIT_KEY": AUDIT}


def test_production_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(ConfigError, match="KC_SECRET_KEY"):
        load({})


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        load({"KC_SECRET_KEY": PLACEHOLDER_SECRET})


def test_debug_may_use_the_placeholder() -> None:
    assert load({"KC_DEBUG": "1"}).secret_key == PLACEHOLDER_SECRET


def test_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(GOOD + "\n")
    assert load({"KC_SECRET_KEY_FILE": str(secret), "KC_AUDIT_KEY": AUDIT}).secret_key == GOOD


def test_an_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KC_SECRET_KEY_FILE"):
        load({"KC_SECRET_KEY_FILE": str(tmp_path / "missing"), "KC_AUDIT_KEY": AUDIT})


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "whole number from 1 to 240"), ("0", "from 1 to 240, got 0"), ("500", "got 500")],
)
def test_idle_timeout_out_of_range_names_the_range(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load({**BASE, "KC_IDLE_TIMEOUT_MINUTES": value})


def test_booleans_must_be_one_or_zero() -> None:
    with pytest.raises(ConfigError, match="KC_HTTPS must be 1 or 0"):
        load({**BASE, "KC_HTTPS": "maybe"})
    assert load({**BASE, "KC_HTTPS": "off"}).https is False


def test_hosts_are_split_on_commas() -> None:
    assert load({**BASE, "KC_ALLOWED_HOSTS": "a.org, b.org,"}).allowed_hosts == (
        "a.org",
        "b.org",
    )


def test_the_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in config.SETTINGS_DOC if f"`{name}`" not in readme]
    assert missing == []


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ConfigError, match="KC_TIME_ZONE"):
        load({**BASE, "KC_TIME_ZONE": "Mars/Olympus"})
    assert load({**BASE, "KC_TIME_ZONE": "America/New_York"}).time_zone == "America/New_York"


def test_production_refuses_to_start_without_an_audit_key() -> None:
    with pytest.raises(ConfigError, match="KC_AUDIT_KEY"):
        load({"KC_SECRET_KEY": GOOD})
    with pytest.raises(ConfigError, match="placeholder"):
        load({"KC_SECRET_KEY": GOOD, "KC_AUDIT_KEY": config.PLACEHOLDER_AUDIT_KEY})
    with pytest.raises(ConfigError, match="differ"):
        load({"KC_SECRET_KEY": GOOD, "KC_AUDIT_KEY": GOOD})


def test_the_audit_key_can_come_from_a_file(tmp_path: Path) -> None:
    key = tmp_path / "audit_key"
    key.write_text(AUDIT + "\n")
    assert load({"KC_SECRET_KEY": GOOD, "KC_AUDIT_KEY_FILE": str(key)}).audit_key == AUDIT


def test_mail_comes_from_the_clinic_not_webmaster_at_localhost() -> None:
    assert "webmaster" not in load(BASE).email_from
    named = load({**BASE, "KC_EMAIL_FROM": "Riverside Clinic <care@riverside.example>"})
    assert named.email_from == "Riverside Clinic <care@riverside.example>"
    with pytest.raises(ConfigError, match="KC_EMAIL_FROM"):
        load({**BASE, "KC_EMAIL_FROM": "the clinic"})


def test_outgoing_mail_uses_the_configured_sender(settings) -> None:
    from django.conf import settings as live

    assert "webmaster" not in live.DEFAULT_FROM_EMAIL and "@" in live.DEFAULT_FROM_EMAIL
