"""The generated OpenAPI document covers every API route and is valid OpenAPI 3.1, the reference
page renders, and schema-driven fuzzing (Schemathesis, positive and negative data) finds no 5xx
and no response the document does not describe, on any route."""

from __future__ import annotations

import contextlib
import io
import json
import re
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from PIL import Image

from generations.api import urls as api_urls
from generations.api.openapi import document
from generations.engines import registry
from generations.engines.base import EngineImage
from studio import apikeys
from studio.models import Shop

pytestmark = pytest.mark.django_db

NOT_API = {
    "api_openapi",
    "api_docs",
    "api_keys",
    "api_key_revoke",
    "webhook_list",
    "webhook_delete",
    "post_list",
    "sandbox_claim",
}


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_every_api_route_is_in_the_schema() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    routes = [p for p in api_urls.urlpatterns if p.name not in NOT_API]
    assert len(routes) >= 14
    for pattern in routes:
        path = _openapi_path(str(pattern.pattern))
        assert path in doc["paths"], path
    for required in ("/uploads", "/shops/sandbox", "/v0/usage", "/ai/generate-image", "/v1/posts"):
        assert required in doc["paths"]


def test_the_document_is_valid_openapi_3_1() -> None:
    from openapi_spec_validator import validate

    validate(document())


def test_every_operation_documents_its_errors() -> None:
    for path, methods in document()["paths"].items():
        for method, op in methods.items():
            statuses = set(op["responses"])
            assert "500" in statuses, (method, path)
            if op["security"]:
                assert {"401", "403", "429"} <= statuses, (method, path)
            if "requestBody" in op or any(p["in"] == "query" for p in op.get("parameters", [])):
                assert "400" in statuses, (method, path)
            assert "501" not in statuses, (method, path)


def test_an_undocumented_field_fails_the_check(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN response checking on (as for the whole suite) WHEN a route sends a field the
    document does not describe THEN the request raises instead of passing silently."""
    from django.http import HttpResponse

    from generations.api import conformance, v0

    original = v0.usage.handler

    def leaky(request: Any) -> HttpResponse:
        body = original(request).model_dump()
        body["data"]["secret"] = "undocumented"
        return HttpResponse(json.dumps(body), content_type="application/json")

    monkeypatch.setattr(v0.usage, "handler", leaky)
    with pytest.raises(conformance.ResponseMismatch, match="secret"):
        api.get("/v0/usage")


def test_schema_and_docs_are_served(client: Any) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "POST /v0/images/generations" in html
    assert "a serene mountain lake at sunrise" in html  # the seed's example
    assert "Invalid aspect ratio" in html


def _tiny_images(self: Any, request: Any, progress: Any) -> list[EngineImage]:
    # Fuzzing exercises the API layer; tiny images keep thousands of requests fast.
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, "PNG")
    return [EngineImage(buf.getvalue(), "image/png", 8, 8) for _ in range(request.count)]


def _schema() -> Any:
    import schemathesis

    return schemathesis.openapi.from_dict(document())


FUZZ_EXAMPLES = 12


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fuzzing_finds_no_server_errors(
    mode: str,
    shop: Shop,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    from schemathesis import GenerationMode

    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.SANDBOX_MINTS_PER_HOUR = 1_000_000
    # Through the registry (not an import of the engine module, which would register only that
    # engine and stop the registry from loading the others).
    monkeypatch.setattr(type(registry.engine("builtin")), "generate", _tiny_images)
    key = apikeys.create_api_key(shop, scopes=list(apikeys.SCOPES)).raw
    app = WSGIHandler()
    # Like Django's test client: keep the test's database connection (and its transaction)
    # open across requests instead of closing it at the end of each one.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request.addfinalizer(lambda: request_started.connect(close_old_connections))
    request.addfinalizer(lambda: request_finished.connect(close_old_connections))
    schema = _schema()
    generation_mode = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    failures: list[str] = []
    for result in schema.get_all_operations():
        _fuzz(result.ok(), generation_mode, app, key, failures)
    assert not failures, "\n".join(failures[:20])


def _fuzz(operation: Any, generation_mode: Any, app: Any, key: str, failures: list[str]) -> None:
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    # negative_data_rejection is not asked for: request models coerce as JSON clients expect
    # ("4" is the whole number 4), so some "negative" values are valid input by design.
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]

    @hsettings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=generation_mode))
    def run(case: Any) -> None:
        headers = dict(case.headers or {})
        headers.setdefault("x-api-key", key)  # the schema's generated headers still vary the rest
        response = case.call(app=app, headers=headers)
        try:
            case.validate_response(response, checks=checks)
        except AssertionError as exc:  # schemathesis' FailureGroup is an AssertionError
            failures.append(
                f"{operation.method.upper()} {operation.path}: {response.status_code} "
                f"{response.text[:200]} — {str(exc)[:400]}"
            )

    # Negative mode on a route with nothing to make invalid (e.g. GET /v0/usage) is unsatisfiable.
    with contextlib.suppress(Unsatisfiable):
        run()
