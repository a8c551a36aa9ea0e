"""Checks an API response against the generated OpenAPI document: the status is documented for
the operation, the media type is one it documents, and a JSON body validates against the schema
(undocumented fields fail: response models are additionalProperties: false).

On when `API_CHECK_RESPONSES` is set (the test suite sets it for every test, as Zulip validates its
test client's responses against its document); a mismatch raises `ResponseMismatch`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema_rs
from django.http import HttpResponse


class ResponseMismatch(AssertionError):
    """A response the OpenAPI document does not describe."""


@cache  # derived from the static OpenAPI document
def _index() -> dict[int, tuple[str, str]]:
    """id(operation) → (OpenAPI path, method)."""
    from generations.api.openapi import api_patterns

    return {
        id(op): (path, op.method.lower()) for path, _pattern, ops in api_patterns() for op in ops
    }


def _schema_pointer(path: str, method: str, status: int, media: str) -> str:
    return (
        "#/paths/" + path.replace("~", "~0").replace("/", "~1") + f"/{method}/responses/{status}"
        f"/content/{media.replace('/', '~1')}/schema"
    )


def check(operation: Any, family_error_model: Any, response: HttpResponse) -> None:
    """Raise ResponseMismatch unless the document describes this response of `operation` (None:
    a method the path does not serve, answered 405 in the family's error shape)."""
    from generations.api.openapi import document

    status = response.status_code
    media = response.get("Content-Type", "").split(";", 1)[0].strip()
    if operation is None:
        if status != 405:
            raise ResponseMismatch(f"an undeclared method answered {status}")
        family_error_model.model_validate_json(response.content)
        return
    path, method = _index()[id(operation)]
    described = document()["paths"][path][method]["responses"].get(str(status))
    where = f"{method.upper()} {path} → {status}"
    if described is None:
        raise ResponseMismatch(f"{where}: status not documented")
    content = described.get("content", {})
    if not content:
        if response.streaming or response.content:
            raise ResponseMismatch(f"{where}: a body where none is documented")
        return
    if media not in content:
        raise ResponseMismatch(f"{where}: {media!r} is not one of {sorted(content)}")
    if media != "application/json":
        return
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise ResponseMismatch(f"{where}: not JSON ({exc})") from None
    pointer = _schema_pointer(path, method, status, media)
    validator = _validator_for(pointer)
    errors = [f"{e.instance_path or '/'}: {e.message}" for e in validator.iter_errors(body)]
    if errors:
        raise ResponseMismatch(
            f"{where}: the body does not match the document: " + "; ".join(errors[:5])
        )


def _validator_for(pointer: str) -> Any:
    # The schema at `pointer` inside the document, with the components beside it for $refs.
    from generations.api.openapi import document

    node: Any = document()
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return _compiled(json.dumps(node, sort_keys=True))


@cache  # compiled validators of the (static) OpenAPI document
def _compiled(schema_json: str) -> Any:
    from generations.api.openapi import document

    schema = json.loads(schema_json)
    return jsonschema_rs.Draft202012Validator({**schema, "components": document()["components"]})
