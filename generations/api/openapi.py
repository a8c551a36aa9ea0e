"""The OpenAPI 3.1 document, generated from the URL registry (`generations/api/urls.py`) and the
operations declared on its views (`generations/api/edge.py`): paths, parameters, bodies and every
response of every route, with the models' JSON schemas as components. Served at
/api/openapi.json, and rendered as a reference page at /api/docs. The test suite validates every
API response it sees against this document (tests/support/openapi_check.py).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from generations.api.edge import JSON, Family, Operation, Returns
from studio.apikeys import SCOPES

REF = "#/components/schemas/{model}"
INT = {"type": "integer"}
STR = {"type": "string"}
RATE_HEADERS = {
    "X-RateLimit-Limit": ("Request limit per window", INT),
    "X-RateLimit-Remaining": ("Remaining requests in current window", INT),
    "X-RateLimit-Reset": ("Unix timestamp when the window resets", INT),
    "x-ratelimit-limit-requests": ("Request limit per window", INT),
    "x-ratelimit-remaining-requests": ("Remaining requests in current window", INT),
    "x-ratelimit-reset-requests": ("Time until the window resets, e.g. 42s", STR),
}
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retries with the same key and body never create a second job: a finished "
    "request's answer is replayed for 24 h; while its job runs, a retry answers from that job. "
    "Another body under the same key is a 409.",
    "schema": {"type": "string", "maxLength": 255},
}


def api_patterns() -> list[tuple[str, URLPattern, tuple[Operation, ...]]]:
    """(OpenAPI path, URL pattern, operations) for every API route, in registry order."""
    from generations.api import urls

    found = []
    for pattern in urls.urlpatterns:
        operations = getattr(pattern.callback, "api_operations", None)
        if operations:
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
            found.append((path, pattern, operations))
    return found


def _models(operations: list[Operation]) -> list[type[BaseModel]]:
    seen: dict[type[BaseModel], None] = {}
    for op in operations:
        if op.body is not None:
            seen[op.body] = None
        for ret in _responses(op).values():
            if ret.model is not None:
                seen[ret.model] = None
    return list(seen)


def _responses(op: Operation) -> dict[int, Returns]:
    """The declared responses plus those every route of its kind can give."""
    err = op.family.error_model
    common: dict[int, Returns] = {}
    if op.body is not None or op.query is not None or op.files is not None:
        common[400] = Returns(err, "Invalid request (the message names the field)")
    if op.scope is not None:
        common[401] = Returns(err, "Missing or invalid API key")
        common[403] = Returns(
            err, "The key lacks the route's scope, or its shop is suspended (shop_suspended)"
        )
        common[429] = Returns(
            err, "Rate limit exceeded", headers={"Retry-After": "Seconds to wait"}
        )
    if op.idempotent:
        common[409] = Returns(err, "Idempotency-Key reused with another body, or still in progress")
    if op.body is not None or op.files is not None:
        common[413] = Returns(err, "The request body is too large")
    common[500] = Returns(err, "Internal server error")
    return {**common, **op.responses}


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: _strip_titles(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _strip_titles(prop)
        params.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "description": prop.pop("description", ""),
                "schema": prop,
            }
        )
    return params


def _multipart_schema(op: Operation, components: dict[str, Any], ref: dict[str, Any]) -> Any:
    """The body model's fields as form fields (objects and arrays JSON-stringified) + files."""
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    if op.body is not None:
        name = ref["$ref"].rsplit("/", 1)[-1]
        for field_name, prop in components[name].get("properties", {}).items():
            kinds = {s.get("type") for s in prop.get("anyOf", [prop])}
            if kinds & {"object", "array"}:
                prop = {
                    "type": "string",
                    "description": "JSON-stringified " + "/".join(sorted(k for k in kinds if k)),
                }
            schema["properties"][field_name] = prop
    if op.files is not None:
        for file_name in op.files.names:
            as_file = {"type": "string", "format": "binary", "description": op.files.description}
            as_text = schema["properties"].get(file_name)
            # A field the body model also declares may be sent either way: a file, or text
            # (seed 001's `input_image` is a file or the URL of an image).
            schema["properties"][file_name] = (
                {"anyOf": [as_file, as_text], "description": as_text.get("description", "")}
                if as_text
                else as_file
            )
        if op.files.pattern:
            schema["additionalProperties"] = {
                "type": "string",
                "format": "binary",
                "description": op.files.description,
            }
    return schema


def _operation(
    op: Operation,
    path_params: list[str],
    refs: dict[type[BaseModel], dict[str, Any]],
    components: dict[str, Any],
) -> dict[str, Any]:
    family: Family = op.family
    out: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{family.name}_{op.operation_id}",
        "tags": [family.tag],
    }
    if op.description:
        out["description"] = op.description
    if op.scope is not None:
        out["security"] = [{"ApiKey": []}, {"ApiKeyAlt": []}, {"Bearer": []}]
        out["x-scopes"] = list(op.scope)
    else:
        out["security"] = []
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path_params
    ]
    parameters += _query_parameters(op)
    if op.idempotent:
        parameters.append(IDEMPOTENCY)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None or op.files is not None:
        content: dict[str, Any] = {}
        for media in op.body_media:
            if media == JSON and op.body is not None:
                entry: dict[str, Any] = {"schema": refs[op.body]}
                if op.body_example is not None:
                    entry["example"] = op.body_example
                content[JSON] = entry
            elif media == "multipart/form-data":
                content[media] = {
                    "schema": _multipart_schema(op, components, refs.get(op.body, {"$ref": "/-"}))
                }
        out["requestBody"] = {"required": op.body_required, "content": content}
    responses: dict[str, Any] = {}
    for status, ret in sorted(_responses(op).items()):
        response: dict[str, Any] = {"description": ret.description or _DEFAULT_TEXT.get(status, "")}
        headers = {}
        if op.scope is not None:
            headers = {
                name: {"description": text, "schema": schema}
                for name, (text, schema) in RATE_HEADERS.items()
            }
        for name, text in ret.headers.items():
            headers[name] = {"description": text, "schema": STR}
        if headers:
            response["headers"] = headers
        if ret.model is not None:
            entry = {"schema": refs[ret.model]}
            if ret.example is not None:
                entry["example"] = ret.example
            response["content"] = {ret.media_type: entry}
        elif ret.media_type:
            response["content"] = {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ret.media_type.split(" | ")
            }
        responses[str(status)] = response
    out["responses"] = responses
    return out


_DEFAULT_TEXT = {200: "OK", 201: "Created", 404: "Not found"}


@cache  # built from the code's routes, which cannot change while the process runs
def document() -> dict[str, Any]:
    routes = api_patterns()
    operations = [op for _, _, ops in routes for op in ops]
    models = _models(operations)
    keys, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    components = _strip_titles(defs.get("$defs", {}))
    refs = {m: keys[(m, "validation")] for m in models}
    paths: dict[str, Any] = {}
    for path, pattern, ops in routes:
        params = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
        paths[path] = {op.method.lower(): _operation(op, params, refs, components) for op in ops}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Studio HTTP API",
            "version": "1",
            "description": "The route families of the seed documents: AI generations "
            "(/ai-generations), image operations (/v1/images, /v1/tasks, /v1/health, and "
            "their legacy /api/... paths), images (/v0), media and posts (/ai, /v1/posts), "
            "plus sandbox "
            "shops and uploads. Every route needs a shop-scoped API key (x-api-key, api-key or "
            "Authorization: Bearer) except POST /shops/sandbox. Scopes: "
            + "; ".join(f"{k}: {v}" for k, v in SCOPES.items()),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "ApiKeyAlt": {"type": "apiKey", "in": "header", "name": "api-key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": components,
        },
    }


def schema_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})


def _resolved(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A schema with its $refs inlined (for reading on the reference page)."""
    if depth > 6:
        return schema
    if isinstance(schema, dict):
        if "$ref" in schema:
            target = components[schema["$ref"].rsplit("/", 1)[-1]]
            return _resolved(copy.deepcopy(target), components, depth + 1)
        return {k: _resolved(v, components, depth) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolved(v, components, depth) for v in schema]
    return schema


def docs_view(request: HttpRequest) -> HttpResponse:
    doc = document()
    components = doc["components"]["schemas"]
    sections: dict[str, list[dict[str, Any]]] = {}
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {})
            examples = {
                ctype: json.dumps(c["example"], indent=2, ensure_ascii=False)
                for ctype, c in body.items()
                if "example" in c
            }
            responses = []
            for status, response in operation["responses"].items():
                content = next(iter(response.get("content", {}).values()), {})
                responses.append(
                    {
                        "status": status,
                        "description": response["description"],
                        "example": json.dumps(content["example"], indent=2, ensure_ascii=False)
                        if "example" in content
                        else "",
                    }
                )
            sections.setdefault(operation["tags"][0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                    "summary": operation["summary"],
                    "operation_id": operation["operationId"],
                    "aliases": [],
                    "description": operation.get("description", ""),
                    "scopes": operation.get("x-scopes", []),
                    "secured": bool(operation.get("security")),
                    "parameters": operation.get("parameters", []),
                    "body_types": list(body),
                    "body_schema": json.dumps(
                        _resolved(next(iter(body.values()))["schema"], components),
                        indent=2,
                        ensure_ascii=False,
                    )
                    if body
                    else "",
                    "examples": examples,
                    "responses": responses,
                }
            )
    # A route served at a second, legacy path (seed 001) is listed once, with that path as an alias.
    for ops in sections.values():
        primary = {o["operation_id"]: o for o in ops if "_legacy_" not in o["operation_id"]}
        for o in ops:
            family, _, rest = o["operation_id"].partition("_legacy_")
            target = primary.get(f"{family}_{rest}") if rest else None
            if target is not None:
                target["aliases"].append(o["path"])
                o["alias_of"] = target
        ops[:] = [o for o in ops if "alias_of" not in o]
    return render(
        request,
        "studio/api_docs.html",
        {"info": doc["info"], "sections": sections, "scopes": SCOPES},
    )
