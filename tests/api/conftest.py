"""API personas: each with a bearer token, made through the service as the CLI does."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ketamine_clinic.services.api_tokens import do_create_token


class ApiClient:
    """Django's test client with a bearer token on every request."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **self.auth, **kw)

    def post(self, url: str, data: Any = None, **kw: Any) -> Any:
        return self.client.post(url, data, content_type="application/json", **self.auth, **kw)


def token_for(user: Any) -> str:
    return do_create_token(user, days=30, acting_user=None)[1]


@pytest.fixture
def as_user():  # type: ignore[no-untyped-def]
    return lambda user: ApiClient(token_for(user))
