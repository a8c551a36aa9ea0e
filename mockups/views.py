"""Mockup URLs (public), the editor and sheet, shop templates, URL settings, listings and orders."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.http import HttpResponseClientRedirect

from generations import operations, storage_urls
from generations.actions import JobError
from generations.library import LibraryQuery, keyset_page
from generations.loader import ImageRejected
from generations.models import Asset, Job
from mockups import actions, design_check, products
from mockups import render as renderer
from mockups.errors import MockupError
from mockups.forms import (
    ListingForm,
    OrderForm,
    ShopTemplateForm,
    TemplateEditForm,
    UrlSettingsForm,
)
from mockups.models import Listing, Order, ProductTemplate
from studio import throttle
from studio.actions import InsufficientCredits
from studio.hygiene import bad_text_reason, checks_own_text
from studio.permissions import shop_required

# --- the public mockup URL ------------------------------------------------------------------------------


def _timing_header(timings: dict[str, float], total: float) -> str:
    parts = [f"{name};dur={ms:.2f}" for name, ms in timings.items()]
    parts.append(f"total;dur={total:.2f}")
    return ", ".join(parts)


def error_response(exc: MockupError) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": exc.code, "message": exc.message}}, status=exc.status
    )
    response["Cache-Control"] = "no-store"
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


@checks_own_text
@require_safe
def mockup_image(request: HttpRequest, template_slug: str) -> HttpResponse:
    """GET /m/<template>?asset=…&shop=…: the rendered mockup, or a JSON error (never cached)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH", "")
    try:
        # A URL answered from the render cache moments ago passed every check below then.
        result = actions.cached_mockup(request, template_slug, if_none_match=if_none_match)
        if result is None:
            reason = bad_text_reason(request)
            if reason is not None:
                raise MockupError(reason, 400, "invalid_parameter")
            result = actions.mockup(
                request, template_slug, list(request.GET.items()), if_none_match=if_none_match
            )
        timings = result.timings
        response = HttpResponse(result.data, content_type=result.content_type, status=result.status)
        response["ETag"] = result.etag
        response["Cache-Control"] = result.cache_control
        response["X-Mockup-Cache"] = "hit" if result.hit else "miss"
        response["X-Cost-Cents"] = str(result.cost_cents)  # seed 000: each response its cost
        if result.status == 304:
            del response["Content-Type"]
    except MockupError as exc:
        response = error_response(exc)
    response["Server-Timing"] = _timing_header(timings, (time.perf_counter() - started) * 1000)
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- editor ----------------------------------------------------------------------------------------------

DESIGNS_PAGE = 24  # library images per page of the editor's design picker
PLACEMENT_DEFAULTS = (("x", 0.5), ("y", 0.5), ("scale", 1.0), ("rotate", 0.0))


def _shop_asset_or_none(shop: Any, raw: str) -> Asset | None:
    try:
        return Asset.objects.filter(shop=shop, id=uuid.UUID(str(raw))).first()
    except ValueError:
        return None


def _designs(request: HttpRequest, selected: Asset | None = None) -> dict[str, Any]:
    """One page of the design picker: the shop's images, searchable like the library."""
    shop = request.shop  # type: ignore[attr-defined]
    q = request.GET.get("design_q", "")[:200]
    images = Asset.objects.filter(shop=shop, content_type__startswith="image/")
    items, next_cursor = keyset_page(
        images, LibraryQuery(search=q), request.GET.get("design_cursor", ""), DESIGNS_PAGE
    )
    # The chosen design is always offered, even when it is older than the first page.
    first_page = not q and not request.GET.get("design_cursor")
    if selected is not None and first_page and all(a.id != selected.id for a in items):
        items = [selected, *items]
    elif selected is not None and not q and not first_page:
        items = [a for a in items if a.id != selected.id]  # already on the first page
    return {"designs": items, "designs_next": next_cursor, "design_q": q, "asset": selected}


def _placement(get: Any) -> dict[str, Any]:
    placement: dict[str, Any] = {"fit": get.get("fit", "contain")}
    if placement["fit"] not in renderer.FITS:
        placement["fit"] = "contain"
    for name, default in PLACEMENT_DEFAULTS:
        try:
            value = float(get.get(name, default))
        except ValueError:
            value = default
        placement[name] = value if value == value else default  # NaN → default
    return placement


def _editor_state(request: HttpRequest) -> dict[str, Any]:
    shop = request.shop  # type: ignore[attr-defined]
    get = request.GET
    asset = _shop_asset_or_none(shop, get["asset"]) if get.get("asset") else None
    if asset is None:
        asset = (
            Asset.objects.filter(shop=shop, content_type__startswith="image/")
            .order_by("-created_at", "-id")
            .first()
        )
    templates = list(products.visible_templates(shop, get.get("q", "")))
    template = None
    if get.get("template"):
        try:
            template = products.find_template(shop, get["template"])
        except MockupError:
            template = None
    template = template or (templates[0] if templates else products.find_template(shop, "tshirt"))
    placement = _placement(get)
    variant = get.get("variant", "")
    if variant not in [v["key"] for v in template.variants or []]:
        variant = template.default_variant
    fmt = get.get("fmt", "jpg") if get.get("fmt") in renderer.FORMATS else "jpg"
    state = {
        **_designs(request, asset),
        "templates": templates,
        "template": template,
        "placement": placement,
        "variant": variant,
        "fmt": fmt,
        "q": get.get("q", ""),
        "formats": list(renderer.FORMATS),
        "fits": renderer.FITS,
        "url": "",
        "error": "",
        "warnings": [],
        "submit_token": uuid.uuid4().hex,
    }
    if asset is not None:
        params = {**actions.placement_params(placement), "fmt": fmt if fmt != "jpg" else ""}
        if variant:
            params["variant"] = variant
        try:
            query = actions.parse_query(
                {k: actions._fmt_param(v) for k, v in params.items()}, template
            )
            state["url"] = actions.mockup_url(
                request, shop, template, storage_urls.asset_url(asset, request), params
            )
            state["preview_url"] = actions.mockup_url(
                request,
                shop,
                template,
                storage_urls.asset_url(asset, request),
                {**params, "w": 640},
            )
        except MockupError as exc:
            state["error"] = exc.message
        else:
            facts = design_check.design_facts(asset)
            state["facts"] = facts
            state["warnings"] = design_check.warnings_for(template, facts, query.placement)
            state["geometry"] = design_check.geometry(template, facts, query.placement)
    state["listing_form"] = ListingForm(template=template, initial={"title": template.name})
    return state


@shop_required()
@require_GET
@never_cache  # its "remove the background first" button carries a one-time submit token
def editor(request: HttpRequest) -> HttpResponse:
    return render(request, "mockups/editor.html", _editor_state(request))


@shop_required()
@require_GET
def editor_preview(request: HttpRequest) -> HttpResponse:
    return render(request, "mockups/partials/preview.html", _editor_state(request))


@shop_required()
@require_GET
def product_picker(request: HttpRequest) -> HttpResponse:
    return render(request, "mockups/partials/products.html", _editor_state(request))


@shop_required()
@require_GET
def design_picker(request: HttpRequest) -> HttpResponse:
    """A page of the design picker (search and "More" swap these in)."""
    selected = _shop_asset_or_none(request.shop, request.GET.get("asset", ""))  # type: ignore[attr-defined]
    return render(request, "mockups/partials/designs.html", _designs(request, selected))


def _editor_query(data: Any, **changes: Any) -> str:
    """The editor's URL parameters (product, colour, placement, format), with changes."""
    keep = ("template", "variant", "fit", "x", "y", "scale", "rotate", "fmt", "q")
    params = {k: data.get(k) for k in keep if data.get(k) not in (None, "")}
    params.update({k: v for k, v in changes.items() if v not in (None, "")})
    return urlencode(params)


@shop_required("generate")
@require_POST
def remove_background_first(request: HttpRequest) -> HttpResponse:
    """One click in the editor: cut the design out (a background-removal job on the library
    image), then come back to the editor with the cut-out in place."""
    asset = _shop_asset_or_none(request.shop, request.POST.get("asset", ""))  # type: ignore[attr-defined]
    if asset is None:
        raise Http404("No such image in this shop's library.")
    try:
        job = operations.submit_operation(
            request.shop,  # type: ignore[attr-defined]
            asset,
            "remove-background",
            {},
            request.user,
            source="web",
            submit_key=request.POST.get("submit_token", ""),
        )
    except (JobError, InsufficientCredits) as exc:
        if request.htmx:
            return render(
                request, "generations/partials/form_error.html", {"error": str(exc)}, status=422
            )
        messages.error(request, str(exc))
        return redirect(f"{reverse('mockup_editor')}?{_editor_query(request.POST, asset=asset.id)}")
    if not request.htmx:
        messages.success(request, "Removing the background; the result appears here when done.")
        return redirect("job_detail", job_id=job.id)
    return _background_job(request, job, request.POST)


def _background_job(request: HttpRequest, job: Job, data: Any) -> HttpResponse:
    if job.status == Job.Status.COMPLETED:
        cutout = job.outputs.order_by("created_at").first()
        if cutout is not None:
            url = f"{reverse('mockup_editor')}?{_editor_query(data, asset=cutout.id)}"
            return HttpResponseClientRedirect(url)
    return render(
        request,
        "mockups/partials/background_job.html",
        {"job": job, "query": _editor_query(data)},
    )


@shop_required()
@require_GET
def background_job(request: HttpRequest, job_id: Any) -> HttpResponse:
    """The editor polls its background-removal job here; done, it reloads with the cut-out."""
    job = get_object_or_404(Job, id=job_id, shop=request.shop, kind="remove-background")  # type: ignore[attr-defined]
    return _background_job(request, job, request.GET)


@shop_required()
@require_GET
def sheet(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    asset = _shop_asset_or_none(shop, request.GET.get("asset", ""))
    if asset is None:
        raise Http404("No such image in this shop's library.")
    asset_url = storage_urls.asset_url(asset, request)
    tiles = []
    for template in products.visible_templates(shop, request.GET.get("q", "")):
        variants = template.variants or [{"key": "", "name": ""}]
        for variant in variants[:2]:
            params: dict[str, Any] = {"w": 400}
            if variant["key"]:
                params["variant"] = variant["key"]
            tiles.append(
                {
                    "template": template,
                    "variant": variant,
                    "src": actions.mockup_url(request, shop, template, asset_url, params),
                    "url": actions.mockup_url(
                        request,
                        shop,
                        template,
                        asset_url,
                        {k: v for k, v in params.items() if k != "w"},
                    ),
                }
            )
    return render(request, "mockups/sheet.html", {"asset": asset, "tiles": tiles})


# --- shop templates -------------------------------------------------------------------------------------


def _shop_template(request: HttpRequest, template_id: Any) -> ProductTemplate:
    return get_object_or_404(ProductTemplate, id=template_id, shop=request.shop)  # type: ignore[attr-defined]


@shop_required()
@require_http_methods(["GET", "POST"])
def template_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    form = ShopTemplateForm()
    if request.method == "POST":
        if not request.membership.can("edit"):  # type: ignore[attr-defined]
            raise PermissionDenied("Your role cannot change templates or listings.")
        form = ShopTemplateForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                template = products.create_shop_template(
                    shop,
                    name=form.cleaned_data["name"],
                    tags=form.cleaned_data["tags"],
                    photo=form.cleaned_data["photo"].read(),
                    blend=form.cleaned_data["blend"],
                )
            except ImageRejected as exc:
                form.add_error("photo", str(exc))
            else:
                messages.success(
                    request, "Template created: drag the corners to set the print area."
                )
                return redirect("mockup_template_edit", template_id=template.id)
    q = request.GET.get("q", "")
    return render(
        request,
        "mockups/template_list.html",
        {"templates": products.visible_templates(shop, q), "form": form, "q": q},
        # A refused upload (a bad image, a missing name) is a client error, not a page view.
        status=422 if request.method == "POST" else 200,
    )


@shop_required("edit")
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: Any) -> HttpResponse:
    template = _shop_template(request, template_id)
    points = template.print_area.get("points") or products.default_quad(
        template.width, template.height
    )
    form = TemplateEditForm(
        initial={
            "name": template.name,
            "tags": template.tags,
            "points": json.dumps(points),
            "blend": template.blend,
        }
    )
    if request.method == "POST":
        form = TemplateEditForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                products.update_shop_template(
                    template,
                    name=data["name"],
                    tags=data["tags"],
                    points=data["points"],
                    blend=data["blend"],
                    mask=data["mask"].read() if data.get("mask") else None,
                    clear_mask=data.get("clear_mask", False),
                )
            except (MockupError, ImageRejected) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved (version {template.version}).")
                return redirect("mockup_template_edit", template_id=template.id)
    return render(
        request,
        "mockups/template_edit.html",
        {"template": template, "form": form, "points_json": json.dumps(points)},
        status=422 if request.method == "POST" else 200,
    )


@shop_required("edit")
@require_GET
def template_preview(request: HttpRequest, template_id: Any) -> HttpResponse:
    """A live preview of an unsaved print area (owner only, never cached)."""
    template = _shop_template(request, template_id)
    try:
        points = products.validate_quad(
            json.loads(request.GET.get("points", "[]")), template.width, template.height
        )
    except (MockupError, ValueError) as exc:
        return error_response(exc if isinstance(exc, MockupError) else MockupError("Bad corners."))
    blend = request.GET.get("blend", template.blend)
    if blend not in ProductTemplate.Blend.values:
        blend = template.blend
    started = time.perf_counter()
    rendered = actions.preview_print_area(template, points, blend)
    response = HttpResponse(rendered.data, content_type=rendered.content_type)
    response["Cache-Control"] = "no-store"
    response["Server-Timing"] = f"render;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


@shop_required("edit")
@require_POST
def template_delete(request: HttpRequest, template_id: Any) -> HttpResponse:
    template = _shop_template(request, template_id)
    try:
        products.delete_shop_template(template)
    except ProtectedError:
        messages.error(request, "Listings use this template; close or delete them first.")
        return redirect("mockup_template_edit", template_id=template.id)
    messages.success(request, "Template deleted.")
    return redirect("mockup_templates")


@shop_required()
@require_GET
def template_photo(request: HttpRequest, template_id: Any) -> HttpResponse:
    template = _shop_template(request, template_id)
    with template.base_photo.open("rb") as fh:
        data = fh.read()
    ctype = "image/png" if template.base_photo.name.endswith(".png") else "image/jpeg"
    return HttpResponse(data, content_type=ctype)


# --- URL settings ----------------------------------------------------------------------------------------


@shop_required("admin")
@require_http_methods(["GET", "POST"])
def url_settings(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    form = UrlSettingsForm(
        initial={
            "trusted_origins": "\n".join(shop.trusted_origins or []),
            "require_signed_urls": shop.require_signed_urls,
        }
    )
    if request.method == "POST":
        if request.POST.get("action") == "rotate":
            actions.rotate_signing_secret(shop)
            messages.success(
                request, "New signing secret; the previous one stays valid until the next rotation."
            )
            return redirect("mockup_settings")
        form = UrlSettingsForm(request.POST)
        if form.is_valid():
            try:
                actions.update_shop_url_settings(
                    shop,
                    trusted_origins=form.cleaned_data["trusted_origins"].splitlines(),
                    require_signed_urls=form.cleaned_data["require_signed_urls"],
                )
            except MockupError as exc:
                form.add_error("trusted_origins", exc.message)
            else:
                messages.success(request, "Mockup URL settings saved.")
                return redirect("mockup_settings")
    return render(
        request,
        "mockups/settings.html",
        {"form": form, "storage_origin": storage_urls.files_base(shop, request), "shop": shop},
    )


# --- listings and orders ----------------------------------------------------------------------------------


@shop_required()
@require_http_methods(["GET", "POST"])
def listing_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    if request.method == "POST":
        if not request.membership.can("edit"):  # type: ignore[attr-defined]
            raise PermissionDenied("Your role cannot change templates or listings.")
        try:
            template = products.find_template(shop, request.POST.get("template", ""))
        except MockupError as exc:
            raise Http404(exc.message) from exc
        asset = _shop_asset_or_none(shop, request.POST.get("asset", ""))
        if asset is None:
            raise Http404("No such image in this shop's library.")
        form = ListingForm(request.POST, template=template)
        if form.is_valid():
            data = form.cleaned_data
            placement = {
                "fit": request.POST.get("fit", "contain"),
                **{
                    k: _float(request.POST.get(k), d)
                    for k, d in (("x", 0.5), ("y", 0.5), ("scale", 1.0), ("rotate", 0.0))
                },
            }
            try:
                actions.create_listing(
                    shop,
                    template=template,
                    asset=asset,
                    variant=request.POST.get("variant", ""),
                    placement=placement,
                    title=data["title"],
                    price_cents=data["price_cents"],
                    description=data["description"],
                    sizes=data["sizes"],
                )
            except MockupError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Listing created. Share its buy link.")
                return redirect("mockup_listings")
        else:
            messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    listings = Listing.objects.filter(shop=shop).select_related("template", "asset")
    return render(request, "mockups/listing_list.html", {"listings": listings})


def _float(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw not in (None, "") else default
    except ValueError:
        return default


@shop_required("edit")
@require_POST
def listing_toggle(request: HttpRequest, listing_id: Any) -> HttpResponse:
    listing = get_object_or_404(Listing, id=listing_id, shop=request.shop)  # type: ignore[attr-defined]
    actions.set_listing_active(listing, not listing.is_active)
    return redirect("mockup_listings")


@shop_required("edit")
@require_POST
def listing_delete(request: HttpRequest, listing_id: Any) -> HttpResponse:
    listing = get_object_or_404(Listing, id=listing_id, shop=request.shop)  # type: ignore[attr-defined]
    try:
        actions.delete_listing(listing)
    except actions.ListingHasOrders as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted the listing “{listing.title}”; its buy link is gone.")
    return redirect("mockup_listings")


@shop_required()
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    orders = Order.objects.filter(shop=request.shop).select_related("listing")  # type: ignore[attr-defined]
    return render(
        request, "mockups/order_list.html", {"orders": orders, "statuses": Order.Status.choices}
    )


@shop_required("manage_all")
@require_POST
def order_status(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(Order, id=order_id, shop=request.shop)  # type: ignore[attr-defined]
    try:
        actions.set_order_status(order, request.POST.get("status", ""))
    except MockupError as exc:
        messages.error(request, exc.message)
    return redirect("mockup_orders")


@require_http_methods(["GET", "POST"])
def listing_page(request: HttpRequest, token: str) -> HttpResponse:
    """The public buy link: mockups of the product and an order form. No payment here."""
    listing = get_object_or_404(
        Listing.objects.select_related("shop", "template", "asset"), token=token, is_active=True
    )
    refusal = actions.listing_unavailable(listing)
    if refusal is not None:
        # The page names no image, shop details or mockup URLs of a hidden or suspended listing.
        return render(
            request,
            "mockups/listing_unavailable.html",
            {"message": refusal.message},
            status=refusal.status,
        )
    template = listing.template
    asset_url = storage_urls.asset_url(listing.asset, request)
    variants = template.variants or []
    shown = [v for v in variants if v["key"] == listing.variant] + [
        v for v in variants if v["key"] != listing.variant
    ]
    images = []
    for v in shown[:4] or [{"key": "", "name": ""}]:
        params = {**listing.placement, "w": 800}
        if v["key"]:
            params["variant"] = v["key"]
        images.append(
            {
                "variant": v,
                "src": actions.mockup_url(request, listing.shop, template, asset_url, params),
            }
        )
    form = OrderForm(listing=listing, initial={"variant": listing.variant, "quantity": 1})
    placed = None
    status = 200
    refused: throttle.Verdict | None = None
    if request.method == "POST":
        form = OrderForm(request.POST, listing=listing)
        refused = _order_throttled(request, listing)
        if refused is not None:
            form.is_valid()
            form.add_error(None, f"Too many orders just now. Try again in {refused.wait_words}.")
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                placed = actions.place_order(
                    listing,
                    name=data["name"],
                    email=data["email"],
                    variant=data.get("variant", ""),
                    size=data.get("size", ""),
                    quantity=data["quantity"],
                    note=data.get("note", ""),
                )
            except MockupError as exc:
                form.add_error(None, exc.message)
    response = render(
        request,
        "mockups/listing_page.html",
        {"listing": listing, "images": images, "form": form, "placed": placed},
        status=201 if placed else status,
    )
    if refused is not None:
        response["Retry-After"] = str(refused.retry_after)
    return response


def _order_throttled(request: HttpRequest, listing: Listing) -> throttle.Verdict | None:
    """Public orders are counted per client address and per shop; the refusal, or None."""
    for rule, key in (
        (throttle.rule("order-address"), throttle.client_address(request)),
        (throttle.rule("order-shop"), str(listing.shop_id)),
    ):
        verdict = throttle.hit(rule, key)
        if not verdict.allowed:
            return verdict
    return None
