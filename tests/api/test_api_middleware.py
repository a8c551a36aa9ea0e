"""Page middleware skips the API routes' paths (studio.middleware.API_PREFIXES); pages keep it."""

from __future__ import annotations

from typing import Any

from django.test import Client

from studio.middleware import API_PREFIXES


def test_an_api_read_runs_no_session_csrf_or_user_middleware(api: Any, shop: Any) -> None:
    response = api.get("/v0/usage")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "htmx")
    assert not request.user.is_authenticated
    assert request.shop == shop  # set by the API edge from the key
    assert not response.cookies  # no session or CSRF cookie
    assert "Cookie" not in response.get("Vary", "")
    # The security headers stay.
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_logged_in_session_does_not_authenticate_an_api_route(client: Any, user: Any) -> None:
    client.force_login(user)
    response = client.get("/v0/usage")
    assert response.status_code == 401
    assert "API key is required" in response.content.decode()


def test_pages_keep_sessions_and_csrf() -> None:
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert hasattr(response.wsgi_request, "session")


def test_every_route_under_the_api_prefixes_is_an_api_view() -> None:
    from django.urls import get_resolver

    def walk(patterns: Any, prefix: str = "") -> Any:
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield "/" + prefix + str(p.pattern), p.callback

    seen = 0
    for route, view in walk(get_resolver().url_patterns):
        if route.startswith(API_PREFIXES):
            seen += 1
            assert getattr(view, "api_family", None) is not None, route
    assert seen > 20


def test_an_unknown_path_under_an_api_prefix_is_a_404_not_a_500(client: Any) -> None:
    for path in ("/v0/nothing-here", "/v1/nothing/here", "/ai/nothing", "/ai-generations/x/y/z"):
        assert client.get(path).status_code == 404, path
        assert client.post(path, data={"a": "b"}).status_code == 404, path
