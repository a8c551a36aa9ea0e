"""View decorators for shop membership and role permissions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def shop_required(permission: str = "browse") -> Callable[..., Any]:
    """Require a signed-in member of a current shop whose role grants `permission`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None:
                return redirect("shop_create")
            if membership.shop.suspended_at is not None and not getattr(request, "view_as", None):
                # A suspended shop's pages refuse with the reason (studio/suspension.py); staff
                # viewing it read-only still see it.
                return render(request, "studio/shop_suspended.html", status=403)
            if not membership.can(permission):
                raise PermissionDenied(f"Your role ({membership.role}) cannot do this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
