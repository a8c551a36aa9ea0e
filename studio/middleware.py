"""Sets request.shop and request.membership from the session's current shop.

A staff member viewing the studio as a shop (studio/staff.py) gets that shop with a viewer's
rights instead, `request.view_as` set (the banner in base.html), and every unsafe request outside
the admin refused: the view is read-only whatever a page offers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from studio import staff
from studio.models import Membership, Role, Shop

SESSION_KEY = "current_shop_id"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class CurrentShopMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.shop = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.view_as = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            viewing = (
                staff.current_view_as(request.session, user)
                if staff.VIEW_AS_KEY in request.session
                else None
            )
            if viewing is not None:
                refused = self._view_as(request, *viewing)
                if refused is not None:
                    return refused
            else:
                self._member(request, user)
        return self.get_response(request)

    def _member(self, request: HttpRequest, user: object) -> None:
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

    def _view_as(self, request: HttpRequest, shop: Shop, state: dict) -> HttpResponse | None:
        if request.path.startswith(reverse("admin:index")):
            return None  # the admin is the staff member's own; it never uses request.shop
        request.shop = shop  # type: ignore[attr-defined]
        request.membership = Membership(shop=shop, user=request.user, role=Role.VIEWER)  # type: ignore[attr-defined,misc]
        request.view_as = shop  # type: ignore[attr-defined]
        if request.method not in SAFE_METHODS and request.path != reverse("logout"):
            return render(request, "studio/view_as_refused.html", status=403)
        if not request.path.startswith(settings.MEDIA_URL):  # thumbnails are not pages
            staff.note_page(
                request.session, state, request.get_full_path()[:250], request.method or ""
            )
        return None
