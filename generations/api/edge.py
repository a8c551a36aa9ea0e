"""The declarative API edge: every route declares its inputs (query, JSON or multipart body) and
its responses (one pydantic model per status) with `operation(...)`; `route(...)` turns one or
more operations into the Django view for a path.

The view does what every family shares, in a fixed order: read the key (x-api-key, api-key,
Authorization: Bearer) → 401; count the request against the key's rate limit → 429; method → 405;
scope → 403; refuse NUL bytes and unpaired surrogates → 400; honour Idempotency-Key
(`generations.api.idempotency`); validate the inputs → 400 naming the field; call the handler;
serialise its model; render any `ApiError` in the family's envelope; add the rate-limit headers.
`generations.api.openapi` builds the OpenAPI document from the same declarations, and the test
suite checks every response it sees against that document (tests/support/openapi_check.py).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from studio import apikeys, ratelimit

log = logging.getLogger(__name__)

JSON = "application/json"


class ApiError(Exception):
    """A client-facing error; rendered in the route family's envelope.

    `extra` holds documented top-level fields some errors carry (seed 002's 504 `jobId`, seed
    000's `requiredCents`): they must be declared on the route's error model for that status.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # None: the status's usual code; "": no code (a seed that documents a body without one).
        self.code = DEFAULT_CODES.get(status, "error") if code is None else code
        self.details = details
        self.extra = extra or {}
        self.headers = headers or {}


DEFAULT_CODES = {
    400: "validation_error",
    401: "unauthorized",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    502: "generation_failed",
    504: "timeout",
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- models ---------------------------------------------------------------------------------------


class In(BaseModel):
    """A request model: unknown fields are ignored (clients add their own), values are coerced the
    way JSON clients expect ("4" and 4.0 are the whole number 4)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _drop_null(schema: dict[str, Any]) -> None:
    """JSON schema of an omittable field: its value type without the `null` pydantic adds for
    the None default (None means "not sent", never a JSON null)."""
    options = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options
    schema.pop("default", None)


def _is_none(value: Any) -> bool:
    return value is None


def omitted(description: str = "", **kwargs: Any) -> Any:
    """A response field that is left out of the body when it has no value (not sent as null)."""
    if description:
        kwargs["description"] = description
    return Field(default=None, exclude_if=_is_none, json_schema_extra=_drop_null, **kwargs)


class Out(BaseModel):
    """A response model: exactly the documented fields (additionalProperties: false); fields made
    with `omitted()` are left out when None."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def studio_error(message: str) -> PydanticCustomError:
    """A validation error whose message is shown to the client as written (seed wording)."""
    return PydanticCustomError("studio", message)


# --- families ---------------------------------------------------------------------------------------


class SimpleError(Out):
    """Seeds 000, 002 and the platform routes: {"error": "<message>", "code"?, "details"?}."""

    error: str = Field(description="What went wrong, for people.")
    code: str | None = omitted("A stable machine-readable code.")
    details: dict[str, Any] | None = omitted("Structured details (e.g. the invalid field).")


class ErrorBody(Out):
    message: str
    code: str
    details: dict[str, Any] | None = omitted()


class Meta(Out):
    request_id: str
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class EnvelopeError(Out):
    """Seed 003: {"data": null, "error": {"message", "code", "details"?}, "meta": {...}}."""

    data: None
    error: ErrorBody
    meta: Meta


def request_id(request: HttpRequest) -> str:
    rid = getattr(request, "api_request_id", None)
    if rid is None:
        rid = secrets.token_hex(4)
        request.api_request_id = rid  # type: ignore[attr-defined]
    return rid


def meta(request: HttpRequest) -> dict[str, str]:
    return {"request_id": request_id(request), "timestamp": now_iso()}


def simple_error(request: HttpRequest, err: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": err.message}
    if err.code and err.code != "error":
        body["code"] = err.code
    if err.details:
        body["details"] = err.details
    body.update(err.extra)
    return body


def enveloped_error(request: HttpRequest, err: ApiError) -> dict[str, Any]:
    error: dict[str, Any] = {"message": err.message, "code": err.code}
    if err.details:
        error["details"] = err.details
    return {"data": None, "error": error, "meta": meta(request)}


@dataclass(frozen=True)
class Family:
    """A seed route family: its error envelope (a renderer and the model that documents it), the
    Job.source of work it submits, and its section of the reference."""

    name: str
    tag: str
    render_error: Callable[[HttpRequest, ApiError], dict[str, Any]]
    error_model: type[Out]
    source: str


SEED_000 = Family(
    "000", "AI generations (/ai-generations)", simple_error, SimpleError, "api:ai-generations"
)
SEED_002 = Family("002", "Images (/v0)", simple_error, SimpleError, "api:v0")
SEED_003 = Family(
    "003", "Media and posts (/ai, /v1/posts)", enveloped_error, EnvelopeError, "api:ai"
)
PLATFORM = Family("platform", "Platform", simple_error, SimpleError, "api")


def error_response(request: HttpRequest, family: Family, err: ApiError) -> HttpResponse:
    response = HttpResponse(
        json.dumps(family.render_error(request, err), ensure_ascii=False),
        status=err.status,
        content_type=JSON,
    )
    for name, value in err.headers.items():
        response[name] = value
    return response


# --- declarations -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Returns:
    """One documented response: a model (JSON), or a media type for bytes and streams."""

    model: type[BaseModel] | None = None
    description: str = ""
    example: Any = None
    media_type: str = JSON
    headers: Mapping[str, str] = field(
        default_factory=dict
    )  # extra response headers: name → description


@dataclass(frozen=True)
class Files:
    """Multipart file fields a route reads: fixed names, and/or a name pattern (seed 002's
    `<key>` and `<key>_N` file requirements)."""

    names: tuple[str, ...] = ()
    pattern: str = ""
    description: str = ""


@dataclass
class Operation:
    family: Family
    method: str
    handler: Callable[..., Any]
    summary: str
    scope: tuple[str, ...] | None  # None: no key needed
    responses: dict[int, Returns]
    description: str = ""
    body: type[In] | None = None
    body_media: tuple[str, ...] = (JSON,)
    body_required: bool = True
    body_example: Any = None
    query: type[In] | None = None
    files: Files | None = None
    idempotent: bool = False
    resume: Callable[..., Any] | None = None
    operation_id: str = ""

    @cached_property
    def status_of(self) -> dict[type[BaseModel], int]:
        """Response model → status, for models documented under exactly one status."""
        seen: dict[type[BaseModel], list[int]] = {}
        for status, ret in self.responses.items():
            if ret.model is not None and status < 400:
                seen.setdefault(ret.model, []).append(status)
        return {model: statuses[0] for model, statuses in seen.items() if len(statuses) == 1}

    def resumes(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: how to answer a retried request whose job already exists (idempotency)."""
        self.resume = fn
        return fn


@dataclass
class Reply:
    """A handler's answer when the model alone does not say the status (or headers are added)."""

    body: BaseModel
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def operation(
    family: Family,
    method: Literal["GET", "POST", "DELETE", "PUT", "PATCH"],
    *,
    summary: str,
    scope: str | tuple[str, ...] | None,
    responses: Mapping[int, type[BaseModel] | Returns],
    description: str = "",
    body: type[In] | None = None,
    body_media: tuple[str, ...] = (JSON,),
    body_required: bool = True,
    body_example: Any = None,
    query: type[In] | None = None,
    files: Files | None = None,
    idempotent: bool = False,
    operation_id: str = "",
) -> Callable[[Callable[..., Any]], Operation]:
    """Declare one operation. The handler is called as `handler(request, *path_args,
    body=..., query=..., files=...)` (only the declared inputs) and returns an `Out` model whose
    class is documented under one status, a `Reply`, or an `HttpResponse` (bytes, streams)."""

    def declare(handler: Callable[..., Any]) -> Operation:
        return Operation(
            family=family,
            method=method,
            handler=handler,
            summary=summary,
            description=description,
            scope=(scope,) if isinstance(scope, str) else scope,
            responses={
                status: r if isinstance(r, Returns) else Returns(r)
                for status, r in responses.items()
            },
            body=body,
            body_media=body_media,
            body_required=body_required,
            body_example=body_example,
            query=query,
            files=files,
            idempotent=idempotent,
            operation_id=operation_id or handler.__name__,
        )

    return declare


# --- input checks ---------------------------------------------------------------------------------


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def validation_error(exc: ValidationError, *, prefix: tuple[Any, ...] = ()) -> ApiError:
    """pydantic's first error as the family's 400, naming the field."""
    first = exc.errors(include_url=False)[0]
    loc = prefix + tuple(p for p in first["loc"] if not str(p).startswith("function-"))
    name = _where(loc)
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == "studio":
        # The seeds' own wording (e.g. seed 003's aspect-ratio message), exactly as documented.
        return ApiError(400, first["msg"], code="validation_error")
    elif kind == "missing":
        message = f"{name} is required."
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = f"{name} must be a whole number."
    elif kind in ("float_parsing", "float_type"):
        message = f"{name} must be a number."
    elif kind in ("string_type", "string_unicode"):
        message = f"{name} must be a string."
    elif kind in ("bool_parsing", "bool_type"):
        message = f"{name} must be true or false."
    elif kind in ("list_type", "tuple_type"):
        message = f"{name} must be an array."
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"{name} must be an object."
    elif kind == "too_long":
        message = f"{name} accepts at most {ctx.get('max_length')} items."
    elif kind == "string_too_long":
        message = f"{name} must be at most {ctx.get('max_length')} characters."
    elif kind == "string_too_short":
        message = f"{name} must not be empty."
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        message = f"{name} is out of range: {first['msg'].lower()}."
    elif kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "")
        message = f"{name} must be one of: {expected}."
    elif kind == "value_error":
        message = f"{name}: {ctx.get('error', first['msg'])}"
    elif kind == "uuid_parsing":
        message = f"{name} is not a valid id."
    else:
        message = f"{name}: {first['msg']}."
    return ApiError(400, message, code="validation_error", details={"field": name})


def bad_text(value: Any, where: str = "") -> str | None:
    """The location of the first string holding a NUL or an unpaired surrogate, else None."""
    if isinstance(value, str):
        if "\x00" in value:
            return where or "body"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where or "body"
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            name = f"{where}.{k}" if where else str(k)
            found = bad_text(k, name) or bad_text(v, name)
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = bad_text(v, f"{where}[{i}]")
            if found:
                return found
    return None


def _text_error(where: str) -> ApiError:
    return ApiError(
        400,
        f"{where} contains a NUL byte or invalid Unicode text.",
        code="validation_error",
        details={"field": where},
    )


def _parse_json(request: HttpRequest, required: bool) -> dict[str, Any]:
    if not request.body:
        if required:
            raise ApiError(400, "The request body must be a JSON object.")
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def _multipart_fields(request: HttpRequest, model: type[In]) -> dict[str, Any]:
    """Form fields as the body model's input: list fields take every value, JSON-typed fields
    (objects, arrays) may be sent JSON-stringified, as multipart clients do."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        values = request.POST.getlist(key)
        if not values:
            continue
        kind = _json_kind(info.annotation)
        if kind in ("object", "array") and len(values) == 1:
            try:
                parsed = json.loads(values[0])
            except ValueError:
                parsed = values if kind == "array" else values[0]
            data[key] = parsed
        elif kind == "array":
            data[key] = values
        else:
            data[key] = values[-1]
    return data


def _json_kind(annotation: Any) -> str:
    text = str(annotation)
    if text.startswith(("dict", "typing.Dict")) or "dict[" in text:
        return "object"
    if text.startswith(("list", "typing.List")) or "list[" in text:
        return "array"
    return "scalar"


def _query_input(request: HttpRequest, model: type[In]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        values = request.GET.getlist(key)
        if values:
            data[key] = values if _json_kind(info.annotation) == "array" else values[-1]
    return data


def _read_inputs(request: HttpRequest, op: Operation) -> dict[str, Any]:
    """Validated inputs for the handler, or ApiError (400/413) naming what is wrong."""
    kwargs: dict[str, Any] = {}
    where = bad_text(dict(request.GET.lists()), "")
    if where:
        raise _text_error(where)
    if op.query is not None:
        try:
            kwargs["query"] = op.query.model_validate(_query_input(request, op.query))
        except ValidationError as exc:
            raise validation_error(exc) from None
    if op.body is None and op.files is None:
        return kwargs
    multipart = (request.content_type or "").startswith("multipart/")
    if multipart and "multipart/form-data" not in op.body_media:
        raise ApiError(400, "Send the body as JSON (Content-Type: application/json).")
    if multipart:
        where = bad_text(dict(request.POST.lists()))
        if where:
            raise _text_error(where)
        raw = _multipart_fields(request, op.body) if op.body is not None else {}
        if op.files is not None:  # a handler that declares no files takes no `files`
            kwargs["files"] = request.FILES
    elif JSON in op.body_media:
        raw = _parse_json(request, op.body_required and op.body is not None)
        where = bad_text(raw)
        if where:
            raise _text_error(where)
        if op.files is not None:
            kwargs["files"] = None
    else:
        raise ApiError(400, "Send the body as multipart/form-data.")
    if op.body is not None:
        try:
            kwargs["body"] = op.body.model_validate(raw)
        except ValidationError as exc:
            raise validation_error(exc) from None
    return kwargs


# --- responses ------------------------------------------------------------------------------------


def render(op: Operation, result: Any) -> HttpResponse:
    """The handler's result as an HttpResponse (JSON through its model: only documented fields)."""
    if isinstance(result, HttpResponseBase):
        return result  # type: ignore[return-value]
    headers: dict[str, str] = {}
    if isinstance(result, Reply):
        status, body, headers = result.status, result.body, result.headers
    else:
        body = result
        status = op.status_of.get(type(body), 0)
        if not status:
            raise TypeError(
                f"{op.operation_id}: {type(body).__name__} is not a documented response"
            )
    response = HttpResponse(body.model_dump_json(by_alias=True), status=status, content_type=JSON)
    for name, value in headers.items():
        response[name] = value
    return response


def _apply(response: HttpResponse, headers: dict[str, str]) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


# --- authentication -------------------------------------------------------------------------------


def raw_key(request: HttpRequest) -> str:
    meta_ = request.META
    key = meta_.get("HTTP_X_API_KEY") or meta_.get("HTTP_API_KEY") or ""
    if not key:
        auth = meta_.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
    return key.strip()


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# --- the view -----------------------------------------------------------------------------------------


def route(*operations: Operation) -> Callable[..., HttpResponse]:
    """The Django view for one path: dispatches on the method to its declared operation."""
    by_method = {op.method: op for op in operations}
    families = {op.family for op in operations}
    if len(families) != 1 or len(by_method) != len(operations):
        raise ValueError("a path's operations share one family and differ in method")
    family = operations[0].family
    secured = {op.scope is not None for op in operations}
    if len(secured) != 1:
        raise ValueError("a path's operations are either all keyed or all open")
    allowed = ", ".join(by_method)

    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        op = by_method.get(request.method or "")
        response = dispatch(request, op, args, kwargs)
        if settings.API_CHECK_RESPONSES:
            from generations.api import conformance

            conformance.check(op, family.error_model, response)
        return response

    def dispatch(
        request: HttpRequest, op: Operation | None, args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse:
        headers: dict[str, str] = {}
        if operations[0].scope is not None:
            raw = raw_key(request)
            checked = apikeys.check(raw) if raw else None
            key = checked.key if checked is not None else None
            if key is None:
                decision = ratelimit.hit(f"ip:{client_ip(request)}", ratelimit.key_limit(0))
                if checked is not None:  # an unknown or revoked key, or a suspended shop's
                    err = ApiError(checked.status, checked.message, code=checked.code)
                else:
                    err = ApiError(
                        401,
                        "An API key is required: send it as x-api-key or Authorization: Bearer.",
                        code="unauthorized",
                    )
                return _apply(error_response(request, family, err), decision.headers())
            decision = ratelimit.hit(
                f"key:{key.pk}", ratelimit.key_limit(key.shop.api_rate_limit_per_minute)
            )
            headers = decision.headers()
            if not decision.allowed:
                err = ApiError(
                    429,
                    f"Rate limit exceeded: {decision.limit} requests per minute. "
                    f"Retry after {decision.retry_after}s.",
                    code="rate_limited",
                )
                return _apply(error_response(request, family, err), headers)
            apikeys.touch(key)
            request.api_key = key  # type: ignore[attr-defined]
            request.shop = key.shop  # type: ignore[attr-defined]
            if op is not None and op.scope and not any(s in key.scopes for s in op.scope):
                err = ApiError(
                    403, f"This API key lacks the {' or '.join(op.scope)} scope.", code="forbidden"
                )
                return _apply(error_response(request, family, err), headers)
        if op is None:
            err = ApiError(405, f"Use {' or '.join(by_method)} on this route.")
            response = error_response(request, family, err)
            response["Allow"] = allowed
            return _apply(response, headers)
        return _apply(_run(request, op, args, kwargs), headers)

    view.api_operations = operations  # type: ignore[attr-defined]
    view.api_family = family  # type: ignore[attr-defined]
    return view


def _run(request: HttpRequest, op: Operation, args: Any, kwargs: dict[str, Any]) -> HttpResponse:
    from generations.api import idempotency

    claim = None
    try:
        inputs = _read_inputs(request, op)
        if op.idempotent and request.method == "POST":
            outcome = idempotency.begin(request, op)
            if isinstance(outcome, HttpResponse):
                return outcome  # a replay
            if isinstance(outcome, idempotency.Resume):
                return render(op, op.resume(request, outcome.job, *args, **kwargs, **inputs))  # type: ignore[misc]
            claim = outcome
        response = render(op, op.handler(request, *args, **kwargs, **inputs))
    except ApiError as exc:
        response = error_response(request, op.family, exc)
    except RequestDataTooBig:
        err = ApiError(413, "The request body is too large.", code="payload_too_large")
        response = error_response(request, op.family, err)
    except (SuspiciousOperation, BadRequest, MultiPartParserError, UnreadablePostError):
        response = error_response(
            request, op.family, ApiError(400, "The request could not be read.")
        )
    except Exception:
        # A bug, not a client error: logged with its traceback, answered in the envelope.
        log.exception("API %s %s failed", request.method, request.path)
        if claim is not None:
            idempotency.abandon(claim)
        err = ApiError(500, "Internal server error.", code="internal_error")
        return error_response(request, op.family, err)
    if claim is not None:
        idempotency.finish(claim, response)
    return response
