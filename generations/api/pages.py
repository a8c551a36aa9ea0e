"""Owner pages for the API: keys (shown once), webhooks and their deliveries, posts, and the
sandbox claim link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from generations import webhooks
from generations.models import Post, WebhookDelivery, WebhookEndpoint
from studio import apikeys
from studio.middleware import SESSION_KEY
from studio.models import ApiKey
from studio.permissions import shop_required


@shop_required("admin")
def api_keys(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    new_key = ""
    error = ""
    if request.method == "POST":
        scopes = request.POST.getlist("scopes")
        try:
            minted = apikeys.create_api_key(
                shop, scopes=scopes, name=request.POST.get("name", ""), user=request.user
            )
            new_key = minted.raw
        except apikeys.ApiKeyError as exc:
            error = str(exc)
    context: dict[str, Any] = {
        "keys": ApiKey.objects.filter(shop=shop),
        "scopes": apikeys.SCOPES,
        "new_key": new_key,
        "error": error,
    }
    # The raw key is rendered once, in this response only; it is never stored.
    response = render(request, "studio/api_keys.html", context, status=422 if error else 200)
    response["Cache-Control"] = "no-store"
    return response


@shop_required("admin")
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, shop=request.shop, id=key_id)  # type: ignore[attr-defined]
    apikeys.revoke_api_key(key)
    messages.success(request, f"Key {key.prefix}… revoked.")
    return redirect("api_keys")


@shop_required("admin")
def webhook_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    error = ""
    if request.method == "POST":
        try:
            webhooks.add_endpoint(shop, request.POST.get("url", ""))
            messages.success(request, "Endpoint added.")
            return redirect("webhook_list")
        except webhooks.WebhookError as exc:
            error = str(exc)
    context = {
        "endpoints": WebhookEndpoint.objects.filter(shop=shop),
        # Endpoint deliveries and deliveries to a request's own webhook_url (seed 004).
        "deliveries": WebhookDelivery.objects.filter(Q(endpoint__shop=shop) | Q(shop=shop))
        .select_related("endpoint")
        .order_by("-created_at")[:50],
        "request_secret": webhooks.request_signing_secret(shop),
        "error": error,
        "signature_header": webhooks.SIGNATURE_HEADER,
    }
    return render(request, "studio/api_webhooks.html", context, status=422 if error else 200)


@shop_required("admin")
@require_POST
def webhook_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, shop=request.shop, id=endpoint_id)  # type: ignore[attr-defined]
    webhooks.remove_endpoint(endpoint)
    messages.success(request, "Endpoint removed.")
    return redirect("webhook_list")


@shop_required("browse")
def post_list(request: HttpRequest) -> HttpResponse:
    posts = Post.objects.filter(shop=request.shop).prefetch_related("media")[:100]  # type: ignore[attr-defined]
    return render(request, "generations/posts.html", {"posts": posts})


@login_required
def sandbox_claim(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            shop = apikeys.claim_sandbox_shop(token, request.user)
        except apikeys.ClaimError as exc:
            return render(request, "studio/api_claim.html", {"error": str(exc)}, status=404)
        request.session[SESSION_KEY] = shop.id
        messages.success(
            request,
            f"You now own {shop.name}. Its sandbox key was revoked: create a new key here.",
        )
        return redirect("api_keys")
    return render(request, "studio/api_claim.html", {"token": token})
