"""Pages and HTMX partials for generating, the library, assets, jobs and presets.

Views parse and validate, call the actions, and choose a page or a partial (`request.htmx`).
Every form also works as a plain POST/GET without JavaScript.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from generations import actions, moderation
from generations.engines import registry
from generations.forms import (
    PresetForm,
    PromptForm,
    UploadForm,
    VariableFormSet,
)
from generations.library import (
    BULK_ACTIONS,
    BULK_LIMIT,
    AssetInUse,
    LibraryQuery,
    bulk_change,
    delete_asset,
    keyset_page,
    library_models,
    set_public,
    upload_asset,
)
from generations.loader import ImageRejected
from generations.models import Asset, AssetReport, Job, Preset
from generations.presets import (
    PresetError,
    PresetFields,
    Variable,
    create_preset,
    delete_preset,
    parse_variables,
    preset_variables,
    update_preset,
)
from generations.pricing import price_per_output
from generations.templatetags.imageops import HISTORY, detections
from generations.tiles import tiles
from studio.actions import InsufficientCredits
from studio.permissions import shop_required

PAGE_SIZE = 40
JOBS_PAGE = 30
RECENT_JOBS = 8
FILE_CHOICES = 60  # library images offered for a preset's image variable
# Prompts offered on the Create page to a new user (one click fills the prompt).
IDEAS = (
    'retro sunset poster with mountains, "GO OUTSIDE"',
    "a teal cat under a moon, sticker",
    'minimal coffee cup badge, warm brown, "BREW"',
    "pink flowers and leaves, seamless pattern",
)


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _shop_asset(request: HttpRequest, asset_id: Any) -> Asset:
    if _as_uuid(asset_id) is None:
        raise Http404
    return get_object_or_404(
        Asset.objects.select_related("preset", "parent", "job", "created_by"),
        id=asset_id,
        shop=request.shop,
    )


def _shop_job(request: HttpRequest, job_id: Any) -> Job:
    return get_object_or_404(Job.objects.select_related("preset"), id=job_id, shop=request.shop)


def _can_manage(request: HttpRequest, asset: Asset) -> bool:
    """Owners manage every item; designers only the items they made."""
    m = request.membership
    return m.can("manage_all") or (m.can("manage_own") and asset.created_by_id == request.user.id)


# --- dashboard and generation -----------------------------------------------------------------------


def _preset_fields_context(
    request: HttpRequest, preset: Preset | None, values: dict[str, str]
) -> dict[str, Any]:
    """The preset's variables with the values typed so far (or their defaults)."""
    if preset is None:
        return {"preset": None, "preset_vars": []}
    try:
        declared = parse_variables(preset.variables)
    except PresetError:
        declared = []
    known = {v.key for v in declared}
    # Placeholders nobody declared are asked for too (the preset form adds them; old rows may not).
    for extra in preset_variables(preset.template, [{"key": k} for k in known]):
        if extra["key"] not in known:
            declared.append(Variable(extra["key"], extra["label"], required=True))
    rows = [{"var": v, "value": values.get(v.key, v.default)} for v in declared]
    context: dict[str, Any] = {"preset": preset, "preset_vars": rows}
    if any(v.type == "file" for v in declared):
        context["file_choices"] = (
            Asset.objects.filter(shop=request.shop)
            .exclude(content_type__startswith="video/")
            .only("id", "prompt", "kind", "created_at")[:FILE_CHOICES]
        )
    return context


def new_submit_token() -> str:
    """A one-time token for a form that creates a job: sent twice, it makes one job."""
    return uuid.uuid4().hex


def _variables_from(data: Any) -> dict[str, str]:
    return {k[4:]: v.strip() for k, v in data.items() if k.startswith("var_") and len(k) > 4}


def _dashboard(
    request: HttpRequest, form: PromptForm, values: dict[str, str], status: int = 200
) -> HttpResponse:
    preset = None
    if form.is_bound and form.is_valid():
        preset = form.cleaned_data.get("preset")
    elif form.is_bound or form.initial.get("preset"):
        raw = form.data.get("preset") if form.is_bound else form.initial.get("preset")
        if _as_uuid(raw):
            preset = Preset.objects.filter(shop=request.shop, id=raw).first()
    context = {
        "form": form,
        "balance_cents": request.shop.balance_cents,
        "jobs": Job.objects.filter(shop=request.shop).prefetch_related("outputs")[:RECENT_JOBS],
        "submit_token": new_submit_token(),
        "ideas": IDEAS,
        **_preset_fields_context(request, preset, values),
    }
    if request.htmx and form.is_bound:
        # A failed HTMX submit re-renders the form in place, with its errors.
        response = render(request, "generations/dashboard.html#prompt-form", context, status=status)
        return reswap(retarget(response, "#prompt-form"), "outerHTML")
    return render(request, "generations/dashboard.html", context, status=status)


@shop_required()
@require_GET
@never_cache  # Back must fetch a fresh form (and submit token), not replay the last one
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
            "aspect_ratio": source.parameters.get("aspect_ratio") or "",
            "count": 1,
        }
        messages.info(request, "Remixing: the prompt, model and seed are filled in.")
    else:
        # "Show fields" (no JavaScript) comes back here as a GET with what was typed so far.
        for name in (
            "prompt",
            "negative_prompt",
            "preset",
            "aspect_ratio",
            "count",
            "model",
            "seed",
        ):
            if request.GET.get(name):
                initial[name] = request.GET[name]
    form = PromptForm(initial=initial, shop=request.shop)
    return _dashboard(request, form, _variables_from(request.GET))


@shop_required("generate")
@require_POST
def generate(request: HttpRequest) -> HttpResponse:
    form = PromptForm(request.POST, shop=request.shop)
    variables = _variables_from(request.POST)
    job = None
    if form.is_valid():
        data = form.cleaned_data
        preset: Preset | None = data.get("preset")
        references = []
        if preset is not None:
            try:
                declared = parse_variables(preset.variables)
            except PresetError:
                declared = []
            for var in declared:
                if var.type == "file" and variables.get(var.key):
                    if _as_uuid(variables[var.key]) is None:
                        form.add_error(None, f"{var.label}: choose an image from the library.")
                    references.append(variables[var.key])
        spec = actions.GenerationSpec(
            prompt=data["prompt"],
            negative_prompt=data["negative_prompt"],
            preset=preset,
            variables=variables if preset else {},
            aspect_ratio=data["aspect_ratio"],
            count=data["count"],
            model=data["model"],
            seed=data["seed"],
            reference_asset_ids=references,
        )
        if not form.errors:
            try:
                job = actions.submit_generation(
                    request.shop,
                    spec,
                    user=request.user,
                    source="web",
                    submit_key=request.POST.get("submit_token", ""),
                )
            except actions.JobError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, str(exc))
            except InsufficientCredits as exc:
                form.add_error(None, str(exc))
    if job is None:
        return _dashboard(request, form, variables, status=422)
    replayed = getattr(job, "replayed", False)
    if request.htmx:
        # The new job card goes on top of the list; the form is re-rendered (out of band)
        # with what was submitted, so earlier errors disappear and the prompt can be tweaked.
        request.shop.refresh_from_db(fields=["plan_used_cents", "plan_period", "wallet_cents"])
        fresh = PromptForm(initial=form.cleaned_data, shop=request.shop)
        context = {
            "job": job,
            "new": True,
            "form": fresh,
            "balance_cents": request.shop.balance_cents,
            "submit_token": new_submit_token(),
            **_preset_fields_context(request, form.cleaned_data["preset"], variables),
        }
        response = render(request, "generations/partials/job_created.html", context)
        count = job.params.get("count", 1)
        message = (
            "Already on it: that request was sent twice, so it runs once."
            if replayed
            else f"Generating {count} image{'s' if count != 1 else ''} · {job.cost_cents}¢"
        )
        return trigger_client_event(response, "toast", {"message": message})
    if replayed:
        messages.info(request, "That request was sent twice; it runs once, here.")
    else:
        messages.success(request, "Job queued. This page refreshes until it is done.")
    return redirect("job_detail", job_id=job.id)


@shop_required()
@require_GET
def preset_fields(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("preset", "")
    preset = Preset.objects.filter(shop=request.shop, id=raw).first() if _as_uuid(raw) else None
    context = _preset_fields_context(request, preset, _variables_from(request.GET))
    return render(request, "generations/partials/preset_fields.html", context)


@shop_required()
@require_GET
def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _shop_job(request, job_id)
    if request.htmx:
        return render(request, "generations/partials/job_card.html", {"job": job})
    return render(request, "generations/job_detail.html", {"job": job})


@shop_required("generate")
@require_POST
def job_cancel(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _shop_job(request, job_id)
    try:
        job = actions.cancel_job(job, reason=f"Canceled by {request.user}")
    except actions.CancelError as exc:
        if not request.htmx:
            messages.error(request, str(exc))
    else:
        if not request.htmx:
            messages.success(request, "Job canceled; its charge was refunded.")
    if request.htmx:
        return render(request, "generations/partials/job_card.html", {"job": job})
    return redirect("job_detail", job_id=job.id)


@shop_required()
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    shop_jobs = Job.objects.filter(shop=request.shop)
    kinds = sorted(shop_jobs.order_by().values_list("kind", flat=True).distinct())
    status = request.GET.get("status", "")
    status = status if status in Job.Status.values else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in kinds else ""
    jobs = shop_jobs.order_by("-created_at", "-id")
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    page = Paginator(jobs.prefetch_related("outputs"), JOBS_PAGE).get_page(request.GET.get("page"))
    filters = {k: v for k, v in (("status", status), ("kind", kind)) if v}
    return render(
        request,
        "generations/job_list.html",
        {
            "jobs": page.object_list,
            "page": page,
            "statuses": Job.Status.choices,
            "kinds": kinds,
            "status": status,
            "kind": kind,
            "filter_query": urlencode(filters),
        },
    )


# --- library -------------------------------------------------------------------------------------------


def _library_query(request: HttpRequest) -> LibraryQuery:
    def day(name: str, end: bool = False) -> datetime | None:
        try:
            d = date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None
        moment = datetime.combine(d + timedelta(days=1) if end else d, time.min)
        return timezone.make_aware(moment)

    kind = request.GET.get("kind", "")
    preset = _as_uuid(request.GET.get("preset", ""))
    return LibraryQuery(
        search=request.GET.get("q", "")[:200],
        kind=kind if kind in Asset.Kind.values else "",
        model=request.GET.get("model", "")[:120],
        preset=str(preset) if preset else "",
        date_from=day("from"),
        date_to=day("to", end=True),
        sort="oldest" if request.GET.get("sort") == "oldest" else "newest",
    )


def _library_context(
    request: HttpRequest, qs: QuerySet[Asset], *, gallery: bool = False
) -> dict[str, Any]:
    query = _library_query(request)
    cursor = request.GET.get("cursor", "")
    items, next_cursor = keyset_page(qs, query, cursor, PAGE_SIZE)
    params = request.GET.copy()
    params.pop("cursor", None)
    return {
        "assets": items,
        "tiles": tiles(items, gallery=gallery),
        "gallery": gallery,
        "next_cursor": next_cursor,
        "query": query,
        "params": params.urlencode(),
        "is_later_page": bool(cursor),
        "filtered": any(
            [query.search, query.kind, query.model, query.preset, query.date_from, query.date_to]
        ),
    }


def _library_page(
    request: HttpRequest, upload_form: UploadForm | None = None, status: int = 200
) -> HttpResponse:
    context = _library_context(request, Asset.objects.filter(shop=request.shop))
    if request.htmx and request.GET.get("cursor"):
        return render(request, "generations/partials/asset_grid_page.html", context)
    if request.htmx and request.method == "GET":
        return render(request, "generations/partials/asset_grid.html", context)
    context.update(
        {
            "upload_form": upload_form or UploadForm(),
            "presets": Preset.objects.filter(shop=request.shop).only("id", "name"),
            "models": library_models(request.shop),
            "kinds": Asset.Kind.choices,
            "date_from": request.GET.get("from", ""),
            "date_to": request.GET.get("to", ""),
        }
    )
    return render(request, "generations/library.html", context, status=status)


@shop_required()
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    return _library_page(request)


@shop_required("manage_own")
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            asset = upload_asset(
                request.shop, uploaded.read(), user=request.user, filename=uploaded.name
            )
        except ImageRejected as exc:
            form.add_error("file", f"Upload refused: {exc}")
        else:
            messages.success(request, "Uploaded to the library.")
            return redirect("asset_detail", asset_id=asset.id)
    return _library_page(request, upload_form=form, status=422)


@shop_required()
@require_GET
@never_cache  # its edit forms carry one-time submit tokens
def asset_detail(request: HttpRequest, asset_id: Any) -> HttpResponse:
    asset = _shop_asset(request, asset_id)
    jobs = list(asset.operations.order_by("-created_at").prefetch_related("outputs")[:HISTORY])
    return render(
        request,
        "generations/asset_detail.html",
        {
            "asset": asset,
            "can_manage": _can_manage(request, asset),
            "children": asset.children.all()[:24],
            "parent": asset.parent if asset.parent_id and not asset.is_video else None,
            "operation_jobs": jobs,
            "found": detections(asset, jobs),
        },
    )


def _download_name(asset: Asset) -> str:
    stem = slugify(asset.prompt)[:48].strip("-") or asset.kind
    return f"{stem}-{asset.id.hex[:8]}.{asset.extension}"


def _serve(asset: Asset, *, attachment: bool, thumbnail: bool = False) -> FileResponse:
    field = asset.thumbnail if thumbnail and asset.thumbnail else asset.file
    content_type = "image/webp" if field is asset.thumbnail else asset.content_type
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=attachment,
        filename=_download_name(asset),
    )
    if field is asset.file:
        response["Content-Length"] = str(asset.bytes)
    # Assets never change once stored: browsers and CDNs may keep them.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@shop_required()
@require_GET
def asset_download(request: HttpRequest, asset_id: Any) -> FileResponse:
    return _serve(_shop_asset(request, asset_id), attachment=True)


def _public_asset(asset_id: Any) -> Asset:
    return get_object_or_404(moderation.gallery_assets().select_related("shop"), id=asset_id)


@require_GET
def public_asset_file(request: HttpRequest, asset_id: Any) -> FileResponse:
    response = _serve(_public_asset(asset_id), attachment=False)
    response["Cache-Control"] = "public, max-age=300"  # short: the owner may unpublish it
    return response


@require_GET
def public_asset_thumb(request: HttpRequest, asset_id: Any) -> FileResponse:
    response = _serve(_public_asset(asset_id), attachment=False, thumbnail=True)
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def gallery_detail(request: HttpRequest, asset_id: Any) -> HttpResponse:
    asset = _public_asset(asset_id)
    # "Use this prompt" prefills the Create page by GET (the asset may be another shop's).
    prompt_query = urlencode(
        {
            "prompt": asset.prompt,
            "negative_prompt": asset.negative_prompt,
            "model": asset.model,
            "seed": "" if asset.seed is None else asset.seed,
            "aspect_ratio": asset.parameters.get("aspect_ratio", ""),
        }
    )
    return render(
        request,
        "generations/gallery_detail.html",
        {
            "asset": asset,
            "prompt_query": prompt_query,
            "report_reasons": AssetReport.Reason.choices,
        },
    )


@login_required
@require_POST
def gallery_report(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """Report a public image to staff (reason + note); rate limited per user."""
    try:
        moderation.report_asset(
            asset_id,
            reporter=request.user,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except moderation.ReportRefused as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        messages.error(request, exc.message)
        return redirect("gallery_detail", asset_id=asset_id)
    messages.success(request, "Thank you: staff will review this image.")
    return redirect("gallery_detail", asset_id=asset_id)


@shop_required("manage_own")
@require_POST
def asset_delete(request: HttpRequest, asset_id: Any) -> HttpResponse:
    asset = _shop_asset(request, asset_id)
    if not _can_manage(request, asset):
        raise PermissionDenied("Designers can delete only the items they made.")
    try:
        delete_asset(asset)
    except AssetInUse as exc:
        messages.error(request, str(exc))
        if request.htmx:
            return HttpResponseClientRedirect(reverse("asset_detail", args=[asset.id]))
        return redirect("asset_detail", asset_id=asset.id)
    messages.success(request, "Deleted from the library.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("library"))
    return redirect("library")


@shop_required("manage_own")
@require_POST
def library_bulk(request: HttpRequest) -> HttpResponse:
    """Delete, publish or unpublish the ticked library items. Owners act on any item, designers
    only on the items they made; the others are left alone and counted in the message."""
    back = request.POST.get("next", "")
    back = back if back.startswith("/library/") and "//" not in back else reverse("library")
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose what to do with the selected items.")
        return redirect(back)
    ids = [i for i in (_as_uuid(v) for v in request.POST.getlist("ids")) if i]
    if not ids:
        messages.error(request, "Select at least one item first.")
        return redirect(back)
    if len(ids) > BULK_LIMIT:
        messages.error(request, f"Select at most {BULK_LIMIT} items at a time.")
        return redirect(back)
    try:
        outcome = bulk_change(
            request.shop,
            ids,
            action,
            by=request.user,
            manage_all=request.membership.can("manage_all"),
        )
    except AssetInUse as exc:
        messages.error(request, f"Nothing was deleted. {exc}")
        return redirect(back)
    skipped = outcome.skipped
    note = (
        f" {skipped} made by others {'was' if skipped == 1 else 'were'} left alone."
        if skipped
        else ""
    )
    if not outcome.changed:
        messages.error(request, "None of the selected items can be changed by you." + note)
    elif outcome.publication is None:
        n = len(outcome.changed)
        messages.success(request, f"Deleted {n} item{'s' if n != 1 else ''}.{note}")
    else:
        level = messages.WARNING if outcome.publication.refused else messages.SUCCESS
        messages.add_message(request, level, outcome.publication.summary() + note)
    return redirect(back)


@shop_required("manage_own")
@require_POST
def asset_public(request: HttpRequest, asset_id: Any) -> HttpResponse:
    asset = _shop_asset(request, asset_id)
    if not _can_manage(request, asset):
        raise PermissionDenied("Designers can publish only the items they made.")
    refused = ""
    try:
        set_public(asset, request.POST.get("is_public") == "1")
    except moderation.PublishRefused as exc:
        refused = str(exc)
    if request.htmx:
        return render(
            request,
            "generations/partials/public_toggle.html",
            {"asset": asset, "can_manage": True, "refused": refused},
        )
    if refused:
        messages.error(request, refused)
    elif asset.is_public:
        messages.success(request, "Published in the public gallery.")
    elif asset.moderation == Asset.Moderation.PENDING:
        messages.success(request, "Sent to staff for review; the gallery shows it once approved.")
    else:
        messages.success(request, "Now private to this shop.")
    return redirect("asset_detail", asset_id=asset.id)


@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    context = _library_context(request, moderation.gallery_assets(), gallery=True)
    if request.htmx and request.GET.get("cursor"):
        return render(request, "generations/partials/asset_grid_page.html", context)
    if request.htmx:
        return render(request, "generations/partials/asset_grid.html", context)
    return render(request, "generations/gallery.html", context)


# --- presets ----------------------------------------------------------------------------------------------


@shop_required()
@require_GET
def preset_list(request: HttpRequest) -> HttpResponse:
    presets = Preset.objects.filter(shop=request.shop)
    return render(request, "generations/preset_list.html", {"presets": presets})


@shop_required("edit")
@require_http_methods(["GET", "POST"])
def preset_edit(request: HttpRequest, preset_id: Any = None) -> HttpResponse:
    preset = get_object_or_404(Preset, id=preset_id, shop=request.shop) if preset_id else None
    if request.method == "POST":
        form = PresetForm(request.POST, instance=preset)
        formset = VariableFormSet(request.POST, prefix="var")
        if "add_variable" in request.POST:
            # No-JS "add a row": re-render with one more blank row, nothing saved.
            data = request.POST.copy()
            total = data.get("var-TOTAL_FORMS", "0")
            rows = int(total) if total.isdigit() else 0
            data["var-TOTAL_FORMS"] = str(min(rows + 1, VariableFormSet.max_num))
            formset = VariableFormSet(data, prefix="var")
            form.is_valid()
            formset.is_valid()
            return render(
                request,
                "generations/preset_form.html",
                {"form": form, "formset": formset, "preset": preset},
            )
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            fields = PresetFields(
                name=data["name"],
                template=data["template"],
                variables=formset.variables(),
                negative_prompt=data["negative_prompt"],
                aspect_ratio=data["aspect_ratio"],
                model=data["model"],
            )
            try:
                if preset is None:
                    saved = create_preset(request.shop, fields, by=request.user)
                else:
                    saved = update_preset(preset, fields)
            except PresetError as exc:
                form.add_error("template", str(exc))
            else:
                messages.success(request, f"Preset “{saved.name}” saved.")
                return redirect("preset_list")
        status = 422
    else:
        form = PresetForm(instance=preset)
        formset = VariableFormSet(
            initial=[
                {
                    "key": v.get("key", ""),
                    "label": v.get("label", ""),
                    "type": v.get("type", "text"),
                    "required": bool(v.get("required")),
                    "default": v.get("default", ""),
                }
                for v in (preset.variables if preset and isinstance(preset.variables, list) else [])
                if isinstance(v, dict)
            ],
            prefix="var",
        )
        status = 200
    return render(
        request,
        "generations/preset_form.html",
        {"form": form, "formset": formset, "preset": preset},
        status=status,
    )


@shop_required("edit")
@require_POST
def preset_delete(request: HttpRequest, preset_id: Any) -> HttpResponse:
    preset = get_object_or_404(Preset, id=preset_id, shop=request.shop)
    name = preset.name
    delete_preset(preset)
    messages.success(request, f"Preset “{name}” deleted. Images made with it stay in the library.")
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
