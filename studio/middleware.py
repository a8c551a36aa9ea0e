"""Sets request.shop and request.membership from the session's current shop; refuses page
requests whose text cannot be stored (studio/hygiene.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from studio.hygiene import bad_request_page, bad_text_reason
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


class HygieneMiddleware:
    """Answers 400 to page requests carrying NUL or unpaired surrogates (see bad_text_reason).

    API route views (they carry `api_family`, set by `generations.api.common.endpoint`) are
    skipped: the API edge calls bad_text_reason itself and answers in the family's envelope.
    A view may also set `checks_own_text = True` to do the same in its own error format."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if getattr(view_func, "api_family", None) or getattr(view_func, "checks_own_text", False):
            return None
        reason = bad_text_reason(request)
        if reason is None:
            return None
        return bad_request_page(request, reason)
