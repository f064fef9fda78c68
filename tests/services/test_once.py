"""services.once: a form token is claimed once; a replay is refused."""

from __future__ import annotations

import secrets

from ketamine_clinic.services import once


def test_a_token_is_claimed_once(nurse) -> None:
    token = secrets.token_hex(16)
    assert once.is_token(token)
    assert once.claim_form_token(token, nurse) is True
    assert once.claim_form_token(token, nurse) is False


def test_only_32_hex_characters_are_a_token() -> None:
    assert not once.is_token("") and not once.is_token("x" * 32) and not once.is_token("ab" * 17)
