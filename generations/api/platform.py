"""Platform routes every family relies on: POST /shops/sandbox (no key; limited per client
address) and POST /uploads (multipart file or JSON {"url"})."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from pydantic import Field

from generations.api.common import asset_for_url
from generations.api.edge import (
    PLATFORM,
    ApiError,
    Files,
    In,
    Out,
    Reply,
    Returns,
    SimpleError,
    client_ip,
    operation,
    route,
)
from generations.library import upload_asset
from generations.loader import ImageRejected
from generations.storage_urls import asset_url, files_base, normalise_origin
from studio import apikeys, ratelimit


class Sandbox(Out):
    shop: str = Field(description="The shop's id (slug), for mockup URLs.")
    shop_name: str
    api_key: str = Field(description="A key with the sandbox scopes; shown once.")
    shop_secret: str = Field(description="The shop's scsec_… URL-signing secret.")
    scopes: list[str]
    claim_url: str = Field(description="One-time link for a person to claim the shop.")
    storage_origin: str
    credits_cents: int
    sandbox: bool


@operation(
    PLATFORM,
    "POST",
    summary="Mint a sandbox shop",
    description="No key needed; SANDBOX_MINTS_PER_HOUR per client address. Returns an API key "
    "with ai:generate, ai:bg-remove, uploads:write and mockups.",
    scope=None,
    responses={
        201: Returns(Sandbox, "The sandbox shop and its key"),
        429: Returns(SimpleError, "Too many sandbox shops from this address"),
    },
)
def sandbox(request: HttpRequest) -> Reply:
    decision = ratelimit.hit(
        f"sandbox:{client_ip(request)}", settings.SANDBOX_MINTS_PER_HOUR, window=3600
    )
    if not decision.allowed:
        raise ApiError(
            429,
            f"Too many sandbox shops from this address; retry in {decision.retry_after}s.",
            headers=decision.headers(),
        )
    minted = apikeys.mint_sandbox_shop(client_ip=request.META.get("REMOTE_ADDR") or None)
    shop = minted.shop
    claim_path = reverse("sandbox_claim", args=[minted.claim_token])
    body = Sandbox(
        shop=shop.slug,
        shop_name=shop.name,
        api_key=minted.key.raw,
        shop_secret=shop.url_signing_secret,
        scopes=minted.key.api_key.scopes,
        claim_url=request.build_absolute_uri(claim_path),
        storage_origin=normalise_origin(files_base(shop, request)),
        credits_cents=shop.balance_cents,
        sandbox=True,
    )
    return Reply(body, 201, headers=decision.headers())


class UploadUrlIn(In):
    url: str | None = Field(None, max_length=4000, description="An http(s) image URL to fetch.")


class Upload(Out):
    id: str
    imageUrl: str
    width: int | None
    height: int | None
    contentType: str


@operation(
    PLATFORM,
    "POST",
    summary="Upload an image",
    description='Multipart `file`, or JSON {"url": "https://..."} fetched by the server.',
    scope="uploads:write",
    body=UploadUrlIn,
    body_media=("application/json", "multipart/form-data"),
    body_example={"url": "https://example.com/logo.png"},
    files=Files(names=("file",), description="The image (PNG, JPEG or WebP)."),
    idempotent=True,
    responses={
        201: Returns(Upload, "The stored image"),
        413: Returns(SimpleError, "The file is too large"),
    },
)
def uploads(request: HttpRequest, body: UploadUrlIn, files: MultiValueDict | None) -> Reply:
    shop = request.shop  # type: ignore[attr-defined]
    if files is not None:
        upload = files.get("file") or next(iter(files.values()), None)
        if upload is None:
            raise ApiError(400, "Send the image as a multipart field named file.")
        if upload.size > settings.IMAGE_MAX_BYTES:
            raise ApiError(413, f"The file is larger than {settings.IMAGE_MAX_BYTES:,} bytes.")
        try:
            asset = upload_asset(shop, upload.read(), user=None, filename=upload.name or "")
        except ImageRejected as exc:
            raise ApiError(400, str(exc)) from None
    else:
        if not body.url:
            raise ApiError(400, 'Send a multipart file or JSON {"url": "https://..."}.')
        asset = asset_for_url(shop, body.url, request, field_name="url")
    out: Any = Upload(
        id=str(asset.id),
        imageUrl=asset_url(asset, request),
        width=asset.width,
        height=asset.height,
        contentType=asset.content_type,
    )
    return Reply(out, 201)


sandbox_view = route(sandbox)
uploads_view = route(uploads)
