"""Platform routes every family relies on: POST /shops/sandbox (no key; limited per client
address) and POST /uploads (multipart file or JSON {"url"})."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from generations.api.common import (
    PLATFORM,
    ApiError,
    asset_for_url,
    asset_url,
    client_ip,
    endpoint,
    error_response,
    json_body,
    storage_origin,
)
from generations.library import upload_asset
from generations.loader import ImageRejected
from studio import apikeys, ratelimit


@csrf_exempt
def sandbox(request: HttpRequest) -> HttpResponse:
    decision = ratelimit.hit(
        f"sandbox:{client_ip(request)}", settings.SANDBOX_MINTS_PER_HOUR, window=3600
    )
    if request.method != "POST":
        response = error_response(request, PLATFORM, ApiError(405, "Use POST on this route."))
        response["Allow"] = "POST"
    elif not decision.allowed:
        response = error_response(
            request,
            PLATFORM,
            ApiError(
                429,
                f"Too many sandbox shops from this address; retry in {decision.retry_after}s.",
            ),
        )
    else:
        minted = apikeys.mint_sandbox_shop(client_ip=request.META.get("REMOTE_ADDR") or None)
        shop = minted.shop
        claim_path = reverse("sandbox_claim", args=[minted.claim_token])
        response = JsonResponse(
            {
                "shop": shop.slug,
                "shop_name": shop.name,
                "api_key": minted.key.raw,
                "shop_secret": shop.url_signing_secret,
                "scopes": minted.key.api_key.scopes,
                "claim_url": request.build_absolute_uri(claim_path),
                "storage_origin": storage_origin(shop, request),
                "credits_cents": shop.balance_cents,
                "sandbox": True,
            },
            status=201,
        )
    for name, value in decision.headers().items():
        response[name] = value
    return response


@endpoint(PLATFORM, scope="uploads:write", methods=("POST",), idempotent=True)
def uploads(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    if (request.content_type or "").startswith("multipart/"):
        upload = request.FILES.get("file") or next(iter(request.FILES.values()), None)
        if upload is None:
            raise ApiError(400, "Send the image as a multipart field named file.")
        if upload.size > settings.IMAGE_MAX_BYTES:
            raise ApiError(413, f"The file is larger than {settings.IMAGE_MAX_BYTES:,} bytes.")
        try:
            asset = upload_asset(shop, upload.read(), user=None, filename=upload.name or "")
        except ImageRejected as exc:
            raise ApiError(400, str(exc)) from None
    else:
        data = json_body(request)
        url = data.get("url")
        if not isinstance(url, str) or not url:
            raise ApiError(400, 'Send a multipart file or JSON {"url": "https://..."}.')
        asset = asset_for_url(shop, url, request, field_name="url")
    return JsonResponse(
        {
            "id": str(asset.id),
            "imageUrl": asset_url(asset, request),
            "width": asset.width,
            "height": asset.height,
            "contentType": asset.content_type,
        },
        status=201,
    )
