"""Sets request.shop and request.membership from the session's current shop."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from studio.models import Membership

SESSION_KEY = "current_shop_id"


class CurrentShopMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.shop = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = Membership.objects.filter(user=user).select_related("shop")
            wanted = request.session.get(SESSION_KEY)
            membership = None
            if wanted:
                membership = memberships.filter(shop_id=wanted).first()
            if membership is None:
                membership = memberships.order_by("created_at", "id").first()
                if membership is not None:
                    request.session[SESSION_KEY] = membership.shop_id
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.shop = membership.shop  # type: ignore[attr-defined]
        return self.get_response(request)
