from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def current_shop(request: HttpRequest) -> dict[str, Any]:
    return {
        "shop": getattr(request, "shop", None),
        "membership": getattr(request, "membership", None),
    }
