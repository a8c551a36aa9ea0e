"""API routes are called by servers with keys, not by browsers with cookies: no CSRF token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from studio import apikeys
from studio.models import Shop

pytestmark = pytest.mark.django_db


def test_api_posts_need_no_csrf_token(shop: Shop) -> None:
    key = apikeys.create_api_key(shop, scopes=["ai"]).raw
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/v1/posts", {"text": "hi"}, content_type="application/json", headers={"x-api-key": key}
    )
    assert response.status_code == 201
    assert client.post("/shops/sandbox").status_code == 201


def test_owner_pages_still_need_csrf(user: Any, shop: Shop) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/api-keys/", {"scopes": ["ai"]}).status_code == 403
