"""Sets request.shop and request.membership from the session's current shop; refuses page
requests whose text cannot be stored (HygieneMiddleware, studio/hygiene.py).

A staff member viewing the studio as a shop (studio/staff.py) gets that shop with a viewer's
rights instead, `request.view_as` set (the banner in base.html), and every unsafe request outside
the admin refused: the view is read-only whatever a page offers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django_htmx.middleware import HtmxMiddleware

from studio import staff
from studio.hygiene import bad_request_page, bad_text_reason
from studio.models import Membership, Role, Shop

SESSION_KEY = "current_shop_id"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# The API route families (generations/api/urls.py): every route under these prefixes is an API
# view authenticated by its key, csrf-exempt, answering JSON. Page middleware (sessions, CSRF,
# the logged-in user, messages, htmx, the current shop) skips them: it is a fifth of the CPU of
# a cheap read (docs/benchmarks.md, "Cheap reads"). Security headers, X-Frame-Options and the
# API edge's own NUL/surrogate checks still apply.
API_PREFIXES = ("/v0/", "/v1/", "/ai/", "/ai-generations/")


def is_api_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIXES)


class PagesOnly:
    """Mixed in before a middleware class: API paths go straight to the next layer."""

    get_response: Callable[[HttpRequest], HttpResponse]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class PagesOnlySessionMiddleware(PagesOnly, SessionMiddleware):
    pass


class PagesOnlyCsrfViewMiddleware(PagesOnly, CsrfViewMiddleware):
    """API views are csrf_exempt (generations/api/edge.py): no token cookie for them either."""

    def process_view(self, request, callback, callback_args, callback_kwargs):  # type: ignore[no-untyped-def]
        if is_api_path(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class PagesOnlyAuthenticationMiddleware(AuthenticationMiddleware):
    """API requests are anonymous to Django's auth: the key is the caller."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request):
            request.user = AnonymousUser()
            return self.get_response(request)
        return super().__call__(request)


class PagesOnlyMessageMiddleware(PagesOnly, MessageMiddleware):
    pass


class PagesOnlyHtmxMiddleware(PagesOnly, HtmxMiddleware):
    pass


class CurrentShopMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.shop = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.view_as = None  # type: ignore[attr-defined]
        if is_api_path(request):
            return self.get_response(request)  # the API edge sets request.shop from the key
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
        # All of the user's memberships in one query (a person belongs to a few shops): the
        # current one is picked here and the shop switcher (context_processors) reuses the list.
        memberships = list(Membership.objects.filter(user=user).select_related("shop"))
        request.memberships = sorted(memberships, key=lambda m: m.shop.name)  # type: ignore[attr-defined]
        wanted = request.session.get(SESSION_KEY)
        membership = next((m for m in memberships if m.shop_id == wanted), None) if wanted else None
        if membership is None and memberships:
            membership = min(memberships, key=lambda m: (m.created_at, m.pk))
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
        if is_api_path(request):
            return None  # only API views live there; they check their own text
        if getattr(view_func, "api_family", None) or getattr(view_func, "checks_own_text", False):
            return None
        reason = bad_text_reason(request)
        if reason is None:
            return None
        return bad_request_page(request, reason)
