from __future__ import annotations

from ketamine_clinic.cli.main import main
from ketamine_clinic.services.api_tokens import authenticate
from ketamine_clinic.storage.models import ApiToken


def test_token_create_prints_the_token_once_and_it_authenticates(db, nurse, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["token", "create", "nurse1", "--days", "7", "--name", "registry"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("kc_") and "shown only now" in out.err
    found = authenticate(token)
    assert found is not None and found.user == nurse
    assert ApiToken.objects.get().name == "registry"


def test_token_list_never_shows_the_token_and_revoke_stops_it(db, nurse, capsys) -> None:  # type: ignore[no-untyped-def]
    main(["token", "create", "nurse1"])
    token = capsys.readouterr().out.strip()
    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert token[:11] in listing and token not in listing and "active" in listing
    assert main(["token", "revoke", token[:11]]) == 0
    assert authenticate(token) is None
    assert main(["token", "revoke", token[:11]]) == 2
    assert "already revoked" in capsys.readouterr().err


def test_token_create_refuses_an_unknown_user_or_too_many_days(db, nurse, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["token", "create", "nobody"]) == 2
    assert "username" in capsys.readouterr().err
    assert main(["token", "create", "nurse1", "--days", "400"]) == 2
    assert "days: days must be from 1 to 365" in capsys.readouterr().err
    assert not ApiToken.objects.exists()
