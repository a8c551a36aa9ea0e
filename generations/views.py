"""Pages and HTMX partials for generating, the library, assets, jobs and presets."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from generations import actions
from generations.engines import registry
from generations.forms import PresetForm, PromptForm, UploadForm
from generations.library import (
    LibraryQuery,
    delete_asset,
    keyset_page,
    library_models,
    set_public,
    upload_asset,
)
from generations.loader import ImageRejected
from generations.models import Asset, Job, Preset
from generations.presets import parse_variables
from generations.pricing import price_per_output
from studio.actions import InsufficientCredits
from studio.permissions import shop_required

PAGE_SIZE = 40


def _shop_asset(request: HttpRequest, asset_id: Any) -> Asset:
    return get_object_or_404(
        Asset.objects.select_related("preset", "parent", "job"), id=asset_id, shop=request.shop
    )


def _shop_job(request: HttpRequest, job_id: Any) -> Job:
    return get_object_or_404(Job, id=job_id, shop=request.shop)


# --- dashboard and generation -----------------------------------------------------------------------


@shop_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    remix = request.GET.get("remix")
    if remix:
        source = _shop_asset(request, remix)
        initial = {
            "prompt": source.prompt,
            "negative_prompt": source.negative_prompt,
            "model": source.model,
            "seed": source.seed,
            "aspect_ratio": source.parameters.get("aspect_ratio") or "1:1",
            "count": 1,
        }
    form = PromptForm(initial=initial, shop=request.shop)
    jobs = Job.objects.filter(shop=request.shop).prefetch_related("outputs")[:8]
    return render(request, "generations/dashboard.html", {"form": form, "jobs": jobs})


@shop_required("generate")
@require_POST
def generate(request: HttpRequest) -> HttpResponse:
    form = PromptForm(request.POST, shop=request.shop)
    error = ""
    job = None
    if form.is_valid():
        data = form.cleaned_data
        preset = None
        if data.get("preset"):
            preset = Preset.objects.filter(shop=request.shop, id=data["preset"]).first()
        variables = {k[4:]: v for k, v in request.POST.items() if k.startswith("var_")}
        spec = actions.GenerationSpec(
            prompt=data["prompt"],
            negative_prompt=data["negative_prompt"],
            preset=preset,
            variables=variables,
            aspect_ratio=data["aspect_ratio"]
            if not preset or "aspect_ratio" in request.POST
            else "",
            count=data["count"],
            model=data.get("model") or "",
            seed=data.get("seed"),
        )
        try:
            job = actions.submit_generation(request.shop, spec, user=request.user, source="web")
        except actions.JobError as exc:
            error = str(exc)
        except InsufficientCredits as exc:
            error = str(exc)
    else:
        error = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
    if request.htmx:
        if job is None:
            return render(
                request, "generations/partials/form_error.html", {"error": error}, status=422
            )
        return render(request, "generations/partials/job_card.html", {"job": job})
    if job is None:
        messages.error(request, error)
        jobs = Job.objects.filter(shop=request.shop).prefetch_related("outputs")[:8]
        return render(
            request,
            "generations/dashboard.html",
            {"form": form, "jobs": jobs, "error": error},
            status=422,
        )
    return redirect("job_detail", job_id=job.id)


@shop_required()
@require_GET
def preset_fields(request: HttpRequest) -> HttpResponse:
    preset = None
    if request.GET.get("preset"):
        preset = Preset.objects.filter(shop=request.shop, id=request.GET["preset"]).first()
    variables = parse_variables(preset.variables) if preset else []
    return render(
        request,
        "generations/partials/preset_fields.html",
        {"preset": preset, "variables": variables},
    )


@shop_required()
def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _shop_job(request, job_id)
    template = (
        "generations/partials/job_card.html" if request.htmx else "generations/job_detail.html"
    )
    return render(request, template, {"job": job})


@shop_required("generate")
@require_POST
def job_cancel(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _shop_job(request, job_id)
    try:
        job = actions.cancel_job(job, reason=f"canceled by {request.user}")
    except actions.CancelError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return render(request, "generations/partials/job_card.html", {"job": job})
    return redirect("job_detail", job_id=job.id)


@shop_required()
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.filter(shop=request.shop).prefetch_related("outputs")[:50]
    return render(request, "generations/job_list.html", {"jobs": jobs})


# --- library -------------------------------------------------------------------------------------------


def _uuid_or_blank(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return ""


def _library_query(request: HttpRequest) -> LibraryQuery:
    def day(name: str, end: bool = False) -> datetime | None:
        value = request.GET.get(name, "")
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return None
        moment = datetime.combine(d + timedelta(days=1) if end else d, time.min)
        return timezone.make_aware(moment)

    return LibraryQuery(
        search=request.GET.get("q", "")[:200],
        kind=request.GET.get("kind", ""),
        model=request.GET.get("model", "")[:120],
        preset=_uuid_or_blank(request.GET.get("preset", "")),
        date_from=day("from"),
        date_to=day("to", end=True),
        sort="oldest" if request.GET.get("sort") == "oldest" else "newest",
    )


def _library_context(request: HttpRequest, qs: QuerySet[Asset]) -> dict[str, Any]:
    query = _library_query(request)
    items, next_cursor = keyset_page(qs, query, request.GET.get("cursor", ""), PAGE_SIZE)
    params = request.GET.copy()
    params.pop("cursor", None)
    return {
        "assets": items,
        "next_cursor": next_cursor,
        "query": query,
        "params": params.urlencode(),
    }


@shop_required()
def library(request: HttpRequest) -> HttpResponse:
    context = _library_context(request, Asset.objects.filter(shop=request.shop))
    if request.htmx and request.GET.get("cursor"):
        return render(request, "generations/partials/asset_grid_page.html", context)
    context.update(
        {
            "upload_form": UploadForm(),
            "presets": Preset.objects.filter(shop=request.shop),
            "models": library_models(request.shop),
            "kinds": Asset.Kind.choices,
        }
    )
    if request.htmx:
        return render(request, "generations/partials/asset_grid.html", context)
    return render(request, "generations/library.html", context)


def gallery(request: HttpRequest) -> HttpResponse:
    context = _library_context(request, Asset.objects.filter(is_public=True))
    context["gallery"] = True
    if request.htmx and request.GET.get("cursor"):
        return render(request, "generations/partials/asset_grid_page.html", context)
    return render(request, "generations/gallery.html", context)


@shop_required("manage_own")
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose an image file to upload.")
        return redirect("library")
    uploaded = form.cleaned_data["file"]
    try:
        asset = upload_asset(
            request.shop, uploaded.read(), user=request.user, filename=uploaded.name
        )
    except ImageRejected as exc:
        messages.error(request, f"Upload refused: {exc}")
        if request.htmx:
            return HttpResponseClientRedirect(request.build_absolute_uri("/library/"))
        return redirect("library")
    messages.success(request, "Uploaded.")
    return redirect("asset_detail", asset_id=asset.id)


def _can_manage(request: HttpRequest, asset: Asset) -> bool:
    m = request.membership
    return m.can("manage_all") or (m.can("manage_own") and asset.created_by_id == request.user.id)


@shop_required()
def asset_detail(request: HttpRequest, asset_id: Any) -> HttpResponse:
    asset = _shop_asset(request, asset_id)
    return render(
        request,
        "generations/asset_detail.html",
        {
            "asset": asset,
            "can_manage": _can_manage(request, asset),
            "children": asset.children.all()[:24],
        },
    )


def _serve(asset: Asset, attachment: bool) -> FileResponse:
    response = FileResponse(
        asset.file.open("rb"),
        content_type=asset.content_type,
        as_attachment=attachment,
        filename=asset.download_name,
    )
    response["Content-Length"] = str(asset.bytes)
    return response


@shop_required()
def asset_download(request: HttpRequest, asset_id: Any) -> FileResponse:
    return _serve(_shop_asset(request, asset_id), attachment=True)


def public_asset_file(request: HttpRequest, asset_id: Any) -> FileResponse:
    asset = get_object_or_404(Asset, id=asset_id, is_public=True)
    return _serve(asset, attachment=False)


@shop_required("manage_own")
@require_POST
def asset_delete(request: HttpRequest, asset_id: Any) -> HttpResponse:
    asset = _shop_asset(request, asset_id)
    if not _can_manage(request, asset):
        messages.error(request, "You can only delete your own items.")
        return redirect("asset_detail", asset_id=asset.id)
    delete_asset(asset)
    messages.success(request, "Deleted.")
    if request.htmx:
        return HttpResponseClientRedirect("/library/")
    return redirect("library")


@shop_required("manage_own")
@require_POST
def asset_public(request: HttpRequest, asset_id: Any) -> HttpResponse:
    asset = _shop_asset(request, asset_id)
    if not _can_manage(request, asset):
        messages.error(request, "You can only publish your own items.")
        return redirect("asset_detail", asset_id=asset.id)
    set_public(asset, request.POST.get("is_public") == "1")
    if request.htmx:
        return render(
            request, "generations/partials/public_toggle.html", {"asset": asset, "can_manage": True}
        )
    return redirect("asset_detail", asset_id=asset.id)


# --- presets ----------------------------------------------------------------------------------------------


@shop_required()
def preset_list(request: HttpRequest) -> HttpResponse:
    presets = Preset.objects.filter(shop=request.shop)
    return render(request, "generations/preset_list.html", {"presets": presets})


@shop_required("generate")
def preset_edit(request: HttpRequest, preset_id: Any = None) -> HttpResponse:
    preset = get_object_or_404(Preset, id=preset_id, shop=request.shop) if preset_id else None
    form = PresetForm(request.POST or None, instance=preset)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.shop = request.shop
        if not obj.created_by_id:
            obj.created_by = request.user
        obj.save()
        messages.success(request, f"Preset “{obj.name}” saved.")
        return redirect("preset_list")
    return render(
        request,
        "generations/preset_form.html",
        {"form": form, "preset": preset},
        status=422 if request.method == "POST" else 200,
    )


@shop_required("generate")
@require_POST
def preset_delete(request: HttpRequest, preset_id: Any) -> HttpResponse:
    preset = get_object_or_404(Preset, id=preset_id, shop=request.shop)
    preset.delete()
    messages.success(request, "Preset deleted.")
    return redirect("preset_list")


# --- models ------------------------------------------------------------------------------------------------


@require_GET
def models_json(request: HttpRequest) -> JsonResponse:
    data = []
    for spec in registry.available_models():
        data.append(
            {
                "id": spec.name,
                "label": spec.label or spec.name,
                "engine": spec.engine,
                "description": spec.description,
                "capabilities": sorted(spec.capabilities),
                "max_count": spec.max_count,
                "price_cents_per_image": price_per_output(
                    engine=spec.engine, model=spec.name, kind="generate"
                ),
            }
        )
    return JsonResponse({"data": data})


def not_found(request: HttpRequest) -> HttpResponse:
    raise Http404
