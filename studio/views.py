"""Pages for accounts, shops, members, invitations and usage."""

from __future__ import annotations

import logging
import smtplib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.static import serve

from studio import actions, throttle
from studio.forms import (
    ChoosePasswordForm,
    InviteForm,
    LoginForm,
    ShopForm,
    ShopSettingsForm,
    SignUpForm,
    ThrottledPasswordResetForm,
)
from studio.middleware import SESSION_KEY
from studio.models import Invitation, LedgerEntry, Membership, Role
from studio.permissions import shop_required

LEDGER_PAGE = 50
# What a mail server that is down or refusing raises from send_mail.
MAIL_ERRORS = (smtplib.SMTPException, OSError)
MAIL_DOWN = "We could not send the email just now. Please try again in a few minutes."
log = logging.getLogger(__name__)


@require_GET
def media_file(request: HttpRequest, path: str) -> HttpResponse:
    """Local storage's files. Keys are capability URLs (shop slug + a random asset id), so
    anyone holding a link can load the file, like an unlisted link on S3 or a CDN.

    MEDIA_ROOT is read per request (tests and `STUDIO_DATA_DIR` may move it).
    """
    # An image staff hid is served only to its shop's members and staff (docs/admin.md).
    from generations.moderation import media_access

    access = media_access(path, getattr(request, "user", None))
    if access == "refuse":
        raise Http404("This file was removed from public view.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if access == "private":
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _safe_next(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _too_many(
    request: HttpRequest, template: str, context: dict[str, Any], verdict: Any
) -> HttpResponse:
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _invitation_in(next_url: str) -> tuple[Invitation, str] | None:
    """The open invitation a `next` link points at (/invite/<token>/), with its token."""
    try:
        match = resolve(urlsplit(next_url).path)
    except (Resolver404, ValueError):
        return None
    if match.url_name != "accept_invite":
        return None
    token = match.kwargs.get("token", "")
    try:
        return actions.open_invitation(token), token
    except actions.InvitationError:
        return None


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Sign up: an email (and a shop name) first; the account is made from the emailed link.
    Coming from an invitation, the invited address only chooses a password and joins that shop.
    """
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "dashboard")
    next_url = _safe_next(request)
    invited = _invitation_in(next_url) if next_url else None
    if invited is not None:
        return _signup_invited(request, *invited)
    form = SignUpForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "next": next_url}
    if request.method == "POST" and form.is_valid():
        verdict = throttle.hit(throttle.rule("signup-address"), throttle.client_address(request))
        if not verdict.allowed:
            form.add_error(
                None,
                f"Too many sign-ups from your network. Try again in {verdict.wait_words}.",
            )
            return _too_many(request, "registration/signup.html", context, verdict)
        email = form.cleaned_data["email"]
        # A few mails an hour per address at most; the page says the same either way.
        if throttle.hit(throttle.rule("signup-email"), email).allowed:
            try:
                actions.request_sign_up(
                    email, form.cleaned_data.get("shop_name", ""), origin=_origin(request)
                )
            except MAIL_ERRORS:
                log.exception("sign-up mail to %s could not be sent", email)
                form.add_error(None, MAIL_DOWN)
                return render(request, "registration/signup.html", context, status=503)
        return render(request, "registration/signup.html", {"sent": email})
    return render(
        request,
        "registration/signup.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


def _signup_invited(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    form = ChoosePasswordForm(request.POST or None, email=invitation.email)
    context = {
        "form": form,
        "next": _safe_next(request),
        "invitation": invitation,
        "heading": f"Join {invitation.shop.name}",
        "intro": f"Choose a password for {invitation.email} to join as "
        f"{invitation.get_role_display().lower()}.",
        "button": "Create account and join",
    }
    if request.method == "POST" and form.is_valid():
        verdict = throttle.hit(throttle.rule("signup-address"), throttle.client_address(request))
        if not verdict.allowed:
            form.add_error(
                None,
                f"Too many sign-ups from your network. Try again in {verdict.wait_words}.",
            )
            return _too_many(request, "registration/signup.html", context, verdict)
        try:
            membership = actions.sign_up_invited(token, form.cleaned_data["password"])
        except actions.InvitationError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = membership.shop_id
            messages.success(
                request,
                f"Welcome! You joined {membership.shop.name} as "
                f"{membership.get_role_display().lower()}.",
            )
            return redirect("dashboard")
    return render(
        request,
        "registration/signup.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: choose a password; the account and its shop (with credits) are made."""
    try:
        pending = actions.read_sign_up_token(token)
    except actions.SignUpError as exc:
        return render(request, "registration/signup.html", {"problem": str(exc)}, status=410)
    form = ChoosePasswordForm(request.POST or None, email=pending.email)
    context = {
        "form": form,
        "heading": "Choose your password",
        "intro": f"Your email {pending.email} is confirmed. One last step.",
        "button": "Create my studio",
    }
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.confirm_sign_up(token, form.cleaned_data["password"])
        except actions.SignUpError as exc:
            return render(request, "registration/signup.html", {"problem": str(exc)}, status=410)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your shop is ready; describe an image to start.")
        return redirect("dashboard")
    return render(
        request,
        "registration/signup.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


class LoginView(auth_views.LoginView):
    """Django's log-in page, throttled (LoginForm): a lockout answers 429 with Retry-After."""

    authentication_form = LoginForm

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.throttled is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.retry_after)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, throttled per client address (429) and per email (silently)."""

    form_class = ThrottledPasswordResetForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        verdict = throttle.hit(
            throttle.rule("password-reset-address"), throttle.client_address(request)
        )
        if not verdict.allowed:
            form = self.get_form()
            form.is_valid()
            form.add_error(
                None,
                f"Too many reset requests from your network. Try again in {verdict.wait_words}.",
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(verdict.retry_after)
            return response
        # Django's reset form logs a mail that cannot be sent and answers as usual, so the page
        # never tells whether an address has an account, with or without a mail server.
        return super().post(request, *args, **kwargs)


@login_required
@require_http_methods(["GET", "POST"])
def shop_create(request: HttpRequest) -> HttpResponse:
    form = ShopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        shop = actions.create_shop(form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_KEY] = shop.id
        messages.success(request, f"Created {shop.name}; you are its owner.")
        return redirect("dashboard")
    return render(
        request,
        "studio/shop_create.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def shop_switch(request: HttpRequest) -> HttpResponse:
    shop_id = request.POST.get("shop", "")
    if not shop_id.isdigit():
        return redirect("members")
    membership = get_object_or_404(
        Membership.objects.select_related("shop"), user=request.user, shop_id=shop_id
    )
    request.session[SESSION_KEY] = membership.shop_id
    messages.success(request, f"Switched to {membership.shop.name}.")
    return redirect("dashboard")


def _settings_form(shop: Any, data: Any = None) -> ShopSettingsForm:
    return ShopSettingsForm(
        data,
        initial={
            "name": shop.name,
            "default_model": shop.default_model,
            "api_rate_limit_per_minute": shop.api_rate_limit_per_minute,
        },
        server_default_model=settings.DEFAULT_MODEL,
        current_model=shop.default_model,
    )


@shop_required()
@require_GET
def members(request: HttpRequest) -> HttpResponse:
    return _members_page(request)


def _members_page(
    request: HttpRequest, settings_form: ShopSettingsForm | None = None, status: int = 200
) -> HttpResponse:
    shop = request.shop
    return render(
        request,
        "studio/members.html",
        {
            # Only owners see the settings form (its model list prices every model).
            "settings_form": settings_form
            or (_settings_form(shop) if request.membership.can("admin") else None),
            "members": Membership.objects.filter(shop=shop)
            .select_related("user")
            .order_by("created_at", "id"),
            "invitations": Invitation.objects.filter(shop=shop, accepted_at=None).order_by(
                "-created_at"
            ),
            "form": InviteForm(),
            "roles": Role.choices,
            "now": timezone.now(),
        },
        status=status,
    )


@shop_required("admin")
@require_POST
def shop_settings(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    form = _settings_form(shop, request.POST)
    if not form.is_valid():
        messages.error(request, "The shop settings were not saved: see the errors below.")
        return _members_page(request, settings_form=form, status=422)
    actions.update_shop_settings(
        shop,
        name=form.cleaned_data["name"],
        default_model=form.cleaned_data["default_model"],
        api_rate_limit_per_minute=form.cleaned_data["api_rate_limit_per_minute"],
    )
    messages.success(request, "Saved the shop settings.")
    return redirect("members")


@shop_required("admin")
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        sent = actions.invite_member(
            request.shop,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
            origin=_origin(request),
        )
        messages.success(
            request,
            f"Invitation sent to {sent.invitation.email}. The one-time link (valid 7 days) is "
            f"{sent.url}",
        )
        return redirect("members")
    messages.error(request, "Enter a valid email address and role.")
    return redirect("members")


@shop_required("admin")
@require_POST
def member_update(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user"), id=membership_id, shop=request.shop
    )
    who = membership.user.email or membership.user.get_username()
    try:
        if request.POST.get("action") == "remove":
            actions.remove_member(membership)
            messages.success(request, f"Removed {who} from the shop.")
        else:
            actions.change_role(membership, request.POST.get("role", ""))
            messages.success(request, f"{who} is now {membership.get_role_display().lower()}.")
    except actions.InvitationError as exc:
        messages.error(request, str(exc))
    if membership.user_id == request.user.id and request.POST.get("action") == "remove":
        request.session.pop(SESSION_KEY, None)
        return redirect("dashboard")
    return redirect("members")


@shop_required("admin")
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation, id=invitation_id, shop=request.shop, accepted_at=None
    )
    actions.revoke_invitation(invitation)
    messages.success(request, f"Invitation to {invitation.email} revoked.")
    return redirect("members")


@require_http_methods(["GET", "POST"])
def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    address = throttle.client_address(request)
    verdict = throttle.check(throttle.rule("invite-address"), address)
    if not verdict.allowed:
        problem = (
            f"Too many invitation links tried from your network. Try again in {verdict.wait_words}."
        )
        return _too_many(request, "studio/invite_accept.html", {"problem": problem}, verdict)
    invitation = actions.lookup_invitation(token)
    if invitation is None:  # a made-up link: counted, so links cannot be guessed at speed
        throttle.hit(throttle.rule("invite-address"), address)
    problem = ""
    if invitation is None or invitation.accepted_at is not None:
        problem = "This invitation link is not valid or was already used."
    elif invitation.expires_at < timezone.now():
        problem = "This invitation link has expired; ask the owner for a new one."
    if problem:
        return render(request, "studio/invite_accept.html", {"problem": problem}, status=410)
    if not request.user.is_authenticated:
        return render(
            request, "studio/invite_login.html", {"next": request.path, "invitation": invitation}
        )
    if request.method == "POST":
        try:
            membership = actions.accept_invitation(token, request.user)
        except actions.InvitationError as exc:
            return render(request, "studio/invite_accept.html", {"problem": str(exc)}, status=410)
        request.session[SESSION_KEY] = membership.shop_id
        messages.success(
            request,
            f"You joined {membership.shop.name} as {membership.get_role_display().lower()}.",
        )
        return redirect("dashboard")
    return render(request, "studio/invite_accept.html", {"invitation": invitation})


@shop_required()
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    shop.refresh_from_db()
    entries = LedgerEntry.objects.filter(shop=shop).select_related("job")
    page = Paginator(entries, LEDGER_PAGE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "shop": shop,
        "page": page,
        "plan_remaining": shop.plan_remaining_cents(),
        "plan_used": shop.plan_used_in(),
        "period": timezone.now().strftime("%B %Y"),
    }
    return render(request, "studio/usage.html", context)
