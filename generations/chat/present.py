"""Turning a turn's ids into what clients see: image URLs on the shop's storage origin, mockup
URLs (signed when the shop requires it) and buy links, built for the request being answered
(its host), and the poll route's `response` body.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from generations.chat.models import ChatTurn
from generations.models import Asset
from generations.storage_urls import asset_url
from mockups.actions import mockup_url
from mockups.errors import MockupError
from mockups.products import find_template
from mockups.render import FORMATS
from studio.models import Shop


class Presenter:
    """URLs for one request; assets and templates are looked up once each."""

    def __init__(self, request: HttpRequest, shop: Shop) -> None:
        self.request = request
        self.shop = shop
        self._assets: dict[str, Asset | None] = {}

    def asset(self, asset_id: str) -> Asset | None:
        key = str(asset_id)
        if key not in self._assets:
            found = Asset.objects.filter(shop=self.shop, id=key).first()
            if found is not None:
                found.shop = self.shop
            self._assets[key] = found
        return self._assets[key]

    def image(self, asset_id: str) -> dict[str, Any] | None:
        asset = self.asset(asset_id)
        if asset is None:
            return None  # deleted from the library since
        return {
            "id": str(asset.id),
            "imageUrl": asset_url(asset, self.request),
            "width": asset.width,
            "height": asset.height,
            "contentType": asset.content_type,
        }

    def mockup(self, data: dict[str, Any]) -> dict[str, Any] | None:
        asset = self.asset(str(data.get("imageId", "")))
        if asset is None:
            return None
        try:
            template = find_template(self.shop, str(data.get("product", "")))
        except MockupError:
            return None
        params = dict(data.get("params") or {})
        url = mockup_url(
            self.request,
            self.shop,
            template,
            asset_url(asset, self.request),
            params,
            sign=self.shop.require_signed_urls,
        )
        return {
            "url": url,
            "product": template.slug,
            "productName": template.name,
            "variant": data.get("variant", ""),
            "imageId": str(asset.id),
            "imageUrl": asset_url(asset, self.request),
            "mediaType": FORMATS[str(params.get("fmt", "jpg"))],
            "signed": "sig=" in url,
        }

    def listing(self, data: dict[str, Any]) -> dict[str, Any]:
        path = reverse("listing_page", args=[data.get("token", "")])
        return {
            "listingId": data.get("listingId"),
            "title": data.get("title", ""),
            "priceCents": data.get("priceCents"),
            "buyUrl": self.request.build_absolute_uri(path),
        }

    def tool_output(self, name: str, output: dict[str, Any]) -> dict[str, Any]:
        """A tool's output with URLs where it has ids (what a client shows for the tool)."""
        out = dict(output)
        if name == "generate_image":
            out["images"] = [
                self.image(i["id"]) or i for i in output.get("images", []) if isinstance(i, dict)
            ]
        elif name == "remove_background" and isinstance(output.get("image"), dict):
            out["image"] = self.image(output["image"]["id"]) or output["image"]
        elif name == "build_mockup":
            shown = self.mockup(output)
            if shown is not None:
                out["url"] = shown["url"]
                out["imageUrl"] = shown["imageUrl"]
        elif name == "create_listing":
            out["buyUrl"] = self.listing(output)["buyUrl"]
        return out

    def response(self, turn: ChatTurn) -> dict[str, Any]:
        """The poll route's `response`: {text, images, mockup, costCents, …}."""
        produced = (turn.state or {}).get("produced") or {}
        ids = [*produced.get("images", []), *produced.get("cutouts", [])]
        images = [img for i in ids if (img := self.image(i)) is not None]
        mockup = self.mockup(produced["mockup"]) if produced.get("mockup") else None
        body: dict[str, Any] = {
            "text": turn.reply,
            "images": images,
            "mockup": mockup,
            "costCents": turn.cost_cents,
            "conversationId": str(turn.conversation_id),
            "messageId": str(turn.id),
        }
        if produced.get("listing"):
            body["listing"] = self.listing(produced["listing"])
        if produced.get("products"):
            body["products"] = produced["products"]
        return body
