from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from studio.models import ROLE_PERMISSIONS, Membership


def current_shop(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    # The middleware has usually read them already (studio.middleware.CurrentShopMiddleware).
    known = getattr(request, "memberships", None)
    return {
        "shop": getattr(request, "shop", None),
        "membership": membership,
        # What the current role may do, for templates: {% if "generate" in shop_perms %}.
        "shop_perms": ROLE_PERMISSIONS.get(membership.role, frozenset()) if membership else (),
        # Every shop the user belongs to (the shop switcher); queried only if a page uses it.
        "my_memberships": known
        if known is not None
        else SimpleLazyObject(
            lambda: (
                list(
                    Membership.objects.filter(user=user)
                    .select_related("shop")
                    .order_by("shop__name")
                )
                if user is not None and user.is_authenticated
                else []
            )
        ),
    }
