"""Pages for accounts, shops, members, invitations and usage."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from studio import actions
from studio.forms import InviteForm, ShopForm, SignUpForm
from studio.middleware import SESSION_KEY
from studio.models import Invitation, LedgerEntry, Membership
from studio.permissions import shop_required


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = actions.sign_up(
            form.cleaned_data["email"],
            form.cleaned_data["password"],
            form.cleaned_data.get("shop_name", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        next_url = request.GET.get("next", "")
        if next_url.startswith("/") and not next_url.startswith("//"):
            return redirect(next_url)
        return redirect("dashboard")
    return render(
        request,
        "registration/signup.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def shop_create(request: HttpRequest) -> HttpResponse:
    form = ShopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        shop = actions.create_shop(form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_KEY] = shop.id
        return redirect("dashboard")
    return render(request, "studio/shop_create.html", {"form": form})


@login_required
@require_POST
def shop_switch(request: HttpRequest) -> HttpResponse:
    membership = get_object_or_404(Membership, user=request.user, shop_id=request.POST.get("shop"))
    request.session[SESSION_KEY] = membership.shop_id
    messages.success(request, f"Switched to {membership.shop.name}.")
    return redirect("dashboard")


@shop_required()
def members(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    form = InviteForm()
    return render(
        request,
        "studio/members.html",
        {
            "members": Membership.objects.filter(shop=shop)
            .select_related("user")
            .order_by("created_at"),
            "invitations": Invitation.objects.filter(shop=shop, accepted_at=None).order_by(
                "-created_at"
            ),
            "form": form,
            "my_shops": Membership.objects.filter(user=request.user).select_related("shop"),
        },
    )


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
        )
        messages.success(request, f"Invitation sent to {sent.invitation.email}.")
    else:
        messages.error(request, "Enter a valid email and role.")
    return redirect("members")


@shop_required("admin")
@require_POST
def member_update(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, id=membership_id, shop=request.shop)
    try:
        if request.POST.get("action") == "remove":
            actions.remove_member(membership)
            messages.success(request, f"Removed {membership.user}.")
        else:
            actions.change_role(membership, request.POST.get("role", ""))
            messages.success(request, f"{membership.user} is now {membership.role}.")
    except actions.InvitationError as exc:
        messages.error(request, str(exc))
    return redirect("members")


def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    if not request.user.is_authenticated:
        messages.info(request, "Log in or sign up to accept the invitation.")
        return render(request, "studio/invite_login.html", {"next": request.path})
    if request.method == "POST":
        try:
            membership = actions.accept_invitation(token, request.user)
        except actions.InvitationError as exc:
            messages.error(request, str(exc))
            return redirect("dashboard")
        request.session[SESSION_KEY] = membership.shop_id
        messages.success(request, f"You joined {membership.shop.name} as {membership.role}.")
        return redirect("dashboard")
    return render(request, "studio/invite_accept.html", {"token": token})


@shop_required()
def usage(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    shop.refresh_from_db()
    entries: Any = LedgerEntry.objects.filter(shop=shop).select_related("job")[:100]
    return render(request, "studio/usage.html", {"entries": entries, "shop": shop})
