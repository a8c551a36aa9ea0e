"""The Product photos page: pick or upload a product, choose a preset or describe the scene, and
watch the variants arrive (the job card polls with HTMX). Every form works without JavaScript."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from generations.actions import JobError
from generations.library import upload_asset
from generations.loader import ImageRejected
from generations.models import Asset, Job
from generations.scenes import actions
from generations.scenes.forms import ScenePhotoForm, ScenePresetForm
from generations.scenes.models import ScenePreset
from studio.actions import InsufficientCredits
from studio.permissions import shop_required

RECENT = 6
FORM_FIELDS = {
    "asset", "upload", "preset", "prompt", "surface", "light", "model", "num_images", "aspect_ratio"
}  # fmt: skip


def _jobs(request: HttpRequest) -> list[Job]:
    return list(
        Job.objects.filter(shop=request.shop, kind=actions.KIND)  # type: ignore[attr-defined]
        .select_related("input_asset")
        .prefetch_related("outputs")[:RECENT]
    )


def _page(request: HttpRequest, form: ScenePhotoForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "jobs": _jobs(request),
        "preset_form": ScenePresetForm(initial={"aspect_ratio": "1:1"}),
        "shop_presets": ScenePreset.objects.filter(shop=request.shop),  # type: ignore[attr-defined]
        "balance_cents": request.shop.balance_cents,  # type: ignore[attr-defined]
    }
    if request.htmx and form.is_bound:
        # A failed HTMX submit re-renders the form in place with its errors.
        response = render(
            request, "generations/product_photos.html#scene-form", context, status=status
        )
        return reswap(retarget(response, "#scene-form"), "outerHTML")
    return render(request, "generations/product_photos.html", context, status=status)


@shop_required()
@require_http_methods(["GET", "POST"])
def product_photos(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    if request.method == "GET":
        initial: dict[str, Any] = {"num_images": 2, "model": "builtin:scene"}
        for name in ("asset", "preset", "prompt"):
            if request.GET.get(name):
                initial[name] = request.GET[name]
        return _page(request, ScenePhotoForm(initial=initial, shop=shop))
    if not request.membership.can("generate"):  # type: ignore[attr-defined]
        messages.error(request, "Your role can browse but not generate.")
        return redirect("product_photos")
    form = ScenePhotoForm(request.POST, request.FILES, shop=shop)
    if not form.is_valid():
        return _page(request, form, status=422)
    data = form.cleaned_data
    job = None
    try:
        if data.get("upload"):
            upload = data["upload"]
            upload.seek(0)
            asset = upload_asset(shop, upload.read(), user=request.user, filename=upload.name)
        else:
            asset = Asset.objects.get(shop=shop, id=data["asset"])
        req = actions.SceneRequest(
            asset=asset,
            model=data["model"],
            prompt=data.get("prompt") or "",
            preset=form.preset_choice(),
            count=data["num_images"],
            aspect_ratio=data.get("aspect_ratio") or "",
            overrides={k: data.get(k) or "" for k in ("surface", "light")},
        )
        job = actions.submit_scene(shop, req, user=request.user, source="web")
    except ImageRejected as exc:
        form.add_error("upload", str(exc))
    except Asset.DoesNotExist:
        form.add_error("asset", "Pick a product from this shop's library.")
    except JobError as exc:
        form.add_error(exc.field if exc.field in FORM_FIELDS else None, str(exc))
    except InsufficientCredits as exc:
        form.add_error(None, str(exc))
    if job is None:
        return _page(request, form, status=422)
    if request.htmx:
        return render(request, "generations/product_photos_job.html", {"job": job})
    messages.success(request, "Photographing your product: the variants appear below.")
    return redirect("product_photos")


@shop_required()
@require_GET
def scene_job(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = get_object_or_404(
        Job.objects.prefetch_related("outputs"),
        id=job_id,
        shop=request.shop,  # type: ignore[attr-defined]
        kind=actions.KIND,
    )
    if request.htmx:
        return render(request, "generations/product_photos_job.html", {"job": job})
    return redirect("job_detail", job_id=job.id)


@shop_required("generate")
@require_POST
def preset_save(request: HttpRequest) -> HttpResponse:
    form = ScenePresetForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.save_preset(
                request.shop,  # type: ignore[attr-defined]
                name=data["name"],
                prompt=data["prompt"],
                surface=data.get("surface") or "",
                light=data.get("light") or "",
                aspect_ratio=data["aspect_ratio"],
                user=request.user,
            )
        except actions.PresetError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Preset “{data['name']}” saved.")
    else:
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("product_photos")


@shop_required("generate")
@require_POST
def preset_delete(request: HttpRequest, preset_id: Any) -> HttpResponse:
    preset = ScenePreset.objects.filter(shop=request.shop, id=preset_id).first()  # type: ignore[attr-defined]
    if preset is None:
        raise Http404("No such preset in this shop.")
    actions.delete_preset(request.shop, preset)  # type: ignore[attr-defined]
    messages.success(request, f"Preset “{preset.name}” deleted.")
    return redirect("product_photos")
