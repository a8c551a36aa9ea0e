"""Input hygiene at the edge: text no part of the studio can store or compare safely.

NUL characters cannot be stored by PostgreSQL and unpaired UTF-16 surrogates (which JSON's
`\\ud800` escapes produce) cannot be encoded as UTF-8; both used to surface as 500s deep inside
views. `bad_text_reason(request)` finds them in the path, the query string, form fields and a
JSON body, and says why in words for a 400. Pages get it from
`studio.middleware.HygieneMiddleware`; API route families call it inside their edge so the
error comes in the family's own envelope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.utils.html import format_html

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
MAX_DEPTH = 64  # deeper JSON is not walked further (the parser itself has a recursion limit)


def text_problem(value: str) -> str:
    """ "" when `value` is clean; otherwise what is wrong with it."""
    found = BAD_TEXT.search(value)
    if found is None:
        return ""
    if found.group() == "\x00":
        return "contains a NUL character"
    return "contains an unpaired UTF-16 surrogate (invalid Unicode)"


def _first_in(items: Iterable[tuple[str, str]], where: str) -> str | None:
    for name, value in items:
        if text_problem(name):
            return f"A {where} name {text_problem(name)}."
        if text_problem(value):
            return f"The {where} {name!r} {text_problem(value)}."
    return None


def _walk_json(value: Any, path: str, depth: int = 0) -> str | None:
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, str):
        problem = text_problem(value)
        return f"The JSON value at {path or 'the top level'} {problem}." if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            if text_problem(key):
                return f"A JSON key {text_problem(key)}."
            found = _walk_json(item, f"{path}.{key}" if path else key, depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk_json(item, f"{path}[{index}]", depth + 1)
            if found:
                return found
    return None


def _is_json(request: HttpRequest) -> bool:
    ctype = (request.content_type or "").lower()
    return ctype == "application/json" or ctype.endswith("+json")


def bad_text_reason(request: HttpRequest) -> str | None:
    """Why this request's text cannot be accepted (a sentence for a 400), or None if it is fine.

    Covers the path, query string parameters, form fields (urlencoded and multipart, not file
    contents) and the strings (keys and values) of a JSON body. A body that is not valid JSON is
    left to the view. Reading the form or body may raise Django's usual parse errors
    (RequestDataTooBig, MultiPartParserError, ...), which callers turn into 400/413 as before.
    """
    problem = text_problem(request.path)
    if problem:
        return f"The URL path {problem}."
    found = _first_in(request.GET.items(), "query parameter")
    if found:
        return found
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if _is_json(request):
            try:
                data = json.loads(request.body)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return None  # not JSON at all: the view says so in its own words
            return _walk_json(data, "")
        ctype = (request.content_type or "").lower()
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            found = _first_in(request.POST.items(), "form field")
            if found:
                return found
            for name, upload in request.FILES.items():
                if text_problem(name) or text_problem(upload.name or ""):
                    return "An uploaded file's name contains invalid characters."
    return None


def bad_request_page(request: HttpRequest, reason: str) -> HttpResponse:
    """A 400 page that says why: the site's 400.html (given `reason`) when there is one."""
    try:
        return render(request, "400.html", {"reason": reason}, status=400)
    except TemplateDoesNotExist:
        return HttpResponseBadRequest(
            format_html(
                "<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{}</p>", reason
            )
        )


def checks_own_text(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view that calls bad_text_reason itself (for its own error format)."""
    view.checks_own_text = True  # type: ignore[attr-defined]
    return view
