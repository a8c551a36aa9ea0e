"""Seed 001 (/v1/images/*): every curl example of the seed replayed at the route's path and at
its legacy path, and each documented error: a missing image (400), rate limit and insufficient
credits (429, in the seed's shapes), no engine for a generative route (a 400 naming the setting,
no charge), and nothing of another shop reachable."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from generations.api import v1_images
from generations.models import Asset, Job
from studio.actions import create_shop
from studio.models import LedgerEntry, Shop
from tests.engines.fakeserver import Reply, serve

pytestmark = pytest.mark.django_db

LEGACY = {path: legacy for path, legacy, _ in v1_images.ROUTES}
OBJECT_BOX = (60, 40, 100, 90)  # where scene() draws its object


def scene(width: int = 160, height: int = 120) -> bytes:
    """A pale backdrop with one dark object, a word of text and a wire."""
    im = Image.new("RGB", (width, height), (235, 232, 228))
    draw = ImageDraw.Draw(im)
    draw.rectangle(OBJECT_BOX, fill=(30, 60, 160))
    draw.text((6, 92), "SALE 50%", fill=(10, 10, 10), font=ImageFont.load_default(size=20))
    draw.line([(0, 12), (width, 20)], fill=(20, 20, 20), width=1)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def skin(width: int = 160, height: int = 120) -> bytes:
    """Blotchy skin tones, something for the skin retouch to smooth."""
    rng = np.random.default_rng(1)
    base = np.array([214, 160, 130], float)
    noise = rng.normal(0, 14, (height, width, 1)) * np.array([1.0, 0.8, 0.7])
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def mask_png(
    box: tuple[int, int, int, int] = OBJECT_BOX, size: tuple[int, int] = (160, 120)
) -> bytes:
    im = Image.new("L", size, 0)
    ImageDraw.Draw(im).rectangle(box, fill=255)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def image_file(data: bytes | None = None, name: str = "image.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or scene(), content_type="image/png")


def mask_file(data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile("image.png", data or mask_png(), content_type="image/png")


def post(api: Any, path: str, fields: dict[str, Any], **kw: Any) -> Any:
    return api.post(path, fields, multipart=True, **kw)


def both_paths(route: str) -> list[str]:
    return [f"/{route}", f"/{LEGACY[route]}"]


def assert_single_image(body: dict[str, Any], shop: Shop, model: str) -> Asset:
    assert set(body) - {"unrecognized_words"} == {
        "created",
        "data",
        "session_id",
        "image_id",
        "output_image_url",
        "model",
    }
    assert isinstance(body["created"], int)
    assert body["model"] == model
    assert body["session_id"].startswith("sess_") and body["image_id"].startswith("img_")
    url = body["data"][0]["url"]
    assert url == body["output_image_url"]
    assert url.startswith(f"http://testserver/media/shops/{shop.slug}/assets/")
    result = Asset.objects.get(id=body["image_id"].removeprefix("img_"))
    assert result.shop_id == shop.id
    return result


def balance(shop: Shop) -> int:
    shop.refresh_from_db()
    return shop.balance_cents


# --- the curl examples, at both paths ----------------------------------------------------------


@pytest.mark.parametrize("header", ["api-key", "bearer"])
def test_the_quick_start_remove_background_takes_either_key_header(
    shop: Shop, api_for: Any, header: str
) -> None:
    api = api_for(shop, header=header)
    response = post(api, "/v1/images/remove-background", {"input_image": image_file()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["output_image_url"].endswith(".png")
    x1, y1, x2, y2 = body["box"]  # the foreground: the object (and the lettering)
    assert x1 <= 60 and y1 <= 40 and x2 >= 101 and y2 >= 91
    assert response["x-ratelimit-remaining-requests"].isdigit()


@pytest.mark.parametrize("path", both_paths("v1/images/detect-objects"))
def test_detect_objects_example(api: Any, shop: Shop, path: str) -> None:
    response = post(api, path, {"input_image": image_file()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["session_id"].startswith("sess_")
    first = body["detected_objects"][0]
    assert set(first) == {"bbox", "mask", "accuracy", "object_type", "object_description"}
    x1, y1, x2, y2 = first["bbox"]
    assert abs(x1 - 60) <= 2 and abs(y1 - 40) <= 2 and abs(x2 - 101) <= 2 and abs(y2 - 91) <= 2
    assert 0 <= first["accuracy"] <= 1
    # The seed's RGBG mask: a PNG the size of the bbox whose R, G and B carry the same grey.
    mask = Image.open(io.BytesIO(base64.b64decode(first["mask"])))
    assert mask.mode == "RGB" and mask.size == (x2 - x1, y2 - y1)
    pixels = np.asarray(mask)
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
    assert pixels.max() == 255
    # The session is the uploaded image, in the shop's library.
    upload = Asset.objects.get(id=body["session_id"].removeprefix("sess_"))
    assert upload.shop_id == shop.id and upload.kind == Asset.Kind.UPLOAD


def test_detect_objects_names_objects_in_the_requested_language(api: Any) -> None:
    response = post(api, "/v1/images/detect-objects", {"input_image": image_file(), "lang": "vi"})
    assert response.json()["detected_objects"][0]["object_type"] == "vật thể"


@pytest.mark.parametrize(
    ("route", "credits"),
    [("v1/images/detect-text", 4), ("v1/images/detect-wires", 4)],
)
def test_simple_detection_examples(api: Any, shop: Shop, route: str, credits: int) -> None:
    for path in both_paths(route):
        before = balance(shop)
        response = post(api, path, {"input_image": image_file()})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["detected"] is True
        mask = Image.open(io.BytesIO(base64.b64decode(body["mask"])))
        assert mask.mode == "RGB" and mask.size == (160, 120)
        assert before - balance(shop) == credits


def test_detect_text_on_a_blank_image_answers_null_mask(api: Any) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 200, 200)).save(blank, "PNG")
    body = post(api, "/v1/images/detect-text", {"input_image": image_file(blank.getvalue())}).json()
    assert body["detected"] is False and body["mask"] is None


@pytest.mark.parametrize("path", both_paths("v1/images/remove-objects"))
def test_remove_objects_example(api: Any, shop: Shop, path: str) -> None:
    before = balance(shop)
    response = post(
        api,
        path,
        {"input_image": image_file(), "input_mask": mask_file(), "erase_mode": "normal"},
    )
    assert response.status_code == 200, response.content
    result = assert_single_image(response.json(), shop, "builtin:erase")
    # A library asset with lineage: derived from the uploaded input.
    assert result.kind == Asset.Kind.DERIVED
    assert result.parent.kind == Asset.Kind.UPLOAD
    assert response.json()["session_id"] == f"sess_{result.parent_id.hex}"
    with result.file.open("rb") as fh:
        out = np.asarray(Image.open(fh).convert("RGB")).astype(int)
    # The blue object is gone: its area now looks like the backdrop.
    region = out[50:80, 70:90]
    assert np.abs(region - [235, 232, 228]).mean() < 20
    assert before - balance(shop) == 3


def test_detect_then_erase_the_detected_object_without_uploading_again(
    api: Any, shop: Shop
) -> None:
    detected = post(api, "/v1/images/detect-objects", {"input_image": image_file()}).json()
    uploads = Asset.objects.filter(shop=shop, kind=Asset.Kind.UPLOAD).count()
    response = post(
        api,
        "/v1/images/remove-objects",
        {
            "original_session_id": detected["session_id"],
            "mask_objects": json.dumps(detected["detected_objects"][:1]),
            "erase_mode": "super",
        },
    )
    assert response.status_code == 200, response.content
    assert Asset.objects.filter(shop=shop, kind=Asset.Kind.UPLOAD).count() == uploads
    assert response.json()["session_id"] == detected["session_id"]
    job = Job.objects.get(id=Asset.objects.get(id=response.json()["image_id"][4:]).job_id)
    assert job.params["options"]["method"] == "multiscale"
    assert job.params["api"]["erase_mode"] == "super"
    assert job.cost_cents == 4


@pytest.mark.parametrize(
    ("route", "fields", "credits"),
    [
        ("v1/images/remove-text", {"erase_mode": "normal"}, 4),
        ("v1/images/remove-watermark", {"predict_mode": "2.0"}, 5),
        ("v1/images/remove-wires", {}, 4),
    ],
)
def test_erase_examples(api: Any, shop: Shop, route: str, fields: dict, credits: int) -> None:
    for path in both_paths(route):
        before = balance(shop)
        response = post(
            api, path, {"input_image": image_file(), "input_mask": mask_file(), **fields}
        )
        assert response.status_code == 200, response.content
        assert_single_image(response.json(), shop, "builtin:erase")
        assert before - balance(shop) == credits


def test_remove_text_takes_the_detect_text_mask_as_it_was_answered(api: Any, shop: Shop) -> None:
    detected = post(api, "/v1/images/detect-text", {"input_image": image_file()}).json()
    response = post(
        api,
        "/v1/images/remove-text",
        {"image_id": detected["session_id"], "input_mask": detected["mask"]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["session_id"] == detected["session_id"]


@pytest.mark.parametrize("path", both_paths("v1/images/remove-background"))
def test_remove_background_example(api: Any, shop: Shop, path: str) -> None:
    response = post(api, path, {"input_image": image_file()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"output_image_url", "box", "session_id", "image_id", "model"}
    assert body["model"] == "builtin:remove-bg"
    cutout = Asset.objects.get(id=body["image_id"][4:])
    with cutout.file.open("rb") as fh:
        assert Image.open(fh).mode == "RGBA"
    assert body["output_image_url"].startswith(f"http://testserver/media/shops/{shop.slug}/")


@pytest.mark.parametrize(
    ("route", "fields", "model", "credits", "scale"),
    [
        (
            "v1/images/enhance",
            {"zoom_factor": "2", "enhance_faces": "true", "face_model_ids": "0,1,2"},
            "builtin:upscale",
            6,
            2,
        ),
        ("v1/images/enhance-art", {"zoom_factor": "2"}, "builtin:enhance", 2, 2),
        ("v1/images/restore", {}, "builtin:enhance", 1, 1),
        ("v1/images/colorize", {}, "builtin:enhance", 1, 1),
        ("v1/images/retouch-skin", {}, "builtin:restyle", 2, 1),
    ],
)
def test_enhance_and_restore_examples(
    api: Any, shop: Shop, route: str, fields: dict, model: str, credits: int, scale: int
) -> None:
    picture = skin() if route.endswith("retouch-skin") else scene()
    for path in both_paths(route):
        before = balance(shop)
        response = post(api, path, {"input_image": image_file(picture), **fields})
        assert response.status_code == 200, response.content
        result = assert_single_image(response.json(), shop, model)
        assert (result.width, result.height) == (160 * scale, 120 * scale)
        assert before - balance(shop) == credits


def test_enhance_4x_costs_the_seeds_4x_price(api: Any, shop: Shop) -> None:
    before = balance(shop)
    response = post(api, "/v1/images/enhance", {"input_image": image_file(), "zoom_factor": "4"})
    assert response.status_code == 200, response.content
    assert before - balance(shop) == 11


@pytest.mark.parametrize("path", both_paths("v1/images/outpaint"))
def test_outpaint_example(api: Any, shop: Shop, path: str) -> None:
    # The seed's convention: the original on a larger white canvas, the mask white where new.
    canvas = Image.new("RGB", (200, 120), (255, 255, 255))
    canvas.paste(Image.open(io.BytesIO(scene())), (20, 0))
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    mask = Image.new("L", (200, 120), 255)
    mask.paste(0, (20, 0, 180, 120))
    mbuf = io.BytesIO()
    mask.save(mbuf, "PNG")
    before = balance(shop)
    response = post(
        api,
        path,
        {"input_image": image_file(buf.getvalue()), "input_mask": mask_file(mbuf.getvalue())},
    )
    assert response.status_code == 200, response.content
    result = assert_single_image(response.json(), shop, "builtin:outpaint")
    with result.file.open("rb") as fh:
        out = np.asarray(Image.open(fh).convert("RGB")).astype(int)
    assert out[:, :10].mean() < 250  # the white margin was filled from the picture
    assert before - balance(shop) == 15


@pytest.mark.parametrize("path", both_paths("v1/images/generations"))
def test_generations_example(api: Any, shop: Shop, path: str) -> None:
    before = balance(shop)
    response = post(
        api,
        path,
        {"prompt": "A professional headshot of a woman in a studio", "aspect_ratio": "3:4"},
    )
    assert response.status_code == 200, response.content
    result = assert_single_image(response.json(), shop, "builtin:procedural")
    # aspect_ratio is height:width as the seed documents it: 3:4 is wider than tall.
    assert result.width > result.height
    assert result.kind == Asset.Kind.GENERATED
    assert before - balance(shop) == 9


def test_generations_report_prompt_words_the_engine_could_not_draw(api: Any) -> None:
    body = post(api, "/v1/images/generations", {"prompt": "a teal fox beside a zorblaxian"}).json()
    assert "zorblaxian" in body["unrecognized_words"]
    body = post(api, "/v1/images/generations", {"prompt": "a fox"}).json()
    assert "unrecognized_words" not in body


def test_generations_example_with_its_empty_prompt_asks_for_a_prompt(api: Any) -> None:
    response = post(api, "/v1/images/generations", {"prompt": "", "aspect_ratio": "1:1"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"
    assert not Job.objects.exists()


@pytest.mark.parametrize("path", both_paths("v1/images/generate-art"))
def test_generate_art_offline_style(api: Any, shop: Shop, path: str) -> None:
    response = post(api, path, {"input_image": image_file(), "style": "builtin_sketch"})
    assert response.status_code == 200, response.content
    assert_single_image(response.json(), shop, "builtin:restyle")


# Routes whose capability needs a generative model: without an engine, a 400 in the family's
# shape naming the setting, and nothing stored, charged or queued.
GENERATIVE_EXAMPLES = [
    (
        "v1/images/generate-art",
        {"input_image": "file", "style": "special_effect_fire"},
        "generate-art",
    ),
    (
        "v1/images/generations-qwen",
        {"prompt": "a lighthouse", "aspect_ratio": "1:1"},
        "generations-qwen",
    ),
    (
        "v1/images/edits",
        {"input_image": "file", "prompt": "Transform to anime style", "mode": "editing"},
        "edits:editing",
    ),
    (
        "v1/images/edits",
        {"input_image": "file", "prompt": "[FACE CROP] headshot", "mode": "headshot"},
        "edits:headshot",
    ),
    (
        "v1/images/edits/multi",
        {
            "input_image_0": "file",
            "input_image_1": "file",
            "input_image_2": "file",
            "prompt": "Put the man and the dog in a stadium",
            "mode": "editing",
            "strength": "1",
            "guidance_scale": "1",
            "inference_steps": "4",
        },
        "edits-multi",
    ),
    (
        "v1/images/edit-flux",
        {
            "input_image": "file",
            "prompt": "value",
            "mode": "editing",
            "strength": "1",
            "guidance_scale": "3.5",
            "inference_steps": "8",
            "run_fast": "true",
        },
        "edit-flux",
    ),
    ("v1/images/transfer-makeup", {"input_image": "file", "style": "camdao"}, "transfer-makeup"),
    ("v1/images/hairstyle", {"input_image": "file"}, "hairstyle"),
    (
        "v1/images/try-on",
        {"model_image": "file", "cloth_image": "file", "lower_cloth_image": "file"},
        "try-on",
    ),
    (
        "v1/images/pose-suggest",
        {"input_image": "file", "num_models": "1", "gender": "female"},
        "pose-suggest",
    ),
]


@pytest.mark.parametrize(("route", "fields", "key"), GENERATIVE_EXAMPLES)
def test_generative_examples_without_an_engine_name_the_setting(
    api: Any, shop: Shop, route: str, fields: dict, key: str
) -> None:
    for path in both_paths(route):
        before = balance(shop)
        sent = {k: image_file() if v == "file" else v for k, v in fields.items()}
        response = post(api, path, sent)
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "model_not_configured"
        assert error["setting"] == f'V1_IMAGES_MODELS["{key}"]'
        assert "set " in error["message"] and error["setting"] in error["message"]
        assert balance(shop) == before
    assert not Job.objects.exists()
    assert not Asset.objects.exists()
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_the_edits_example_without_a_prompt_asks_for_one(api: Any) -> None:
    response = post(
        api,
        "/v1/images/edits",
        {
            "input_image": image_file(),
            "mode": "editing",
            "strength": "1",
            "guidance_scale": "1",
            "inference_steps": "4",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"


@pytest.mark.parametrize("mode", ["restore", "colorize", "light_restore"])
def test_edit_modes_with_an_offline_model_run_offline(api: Any, shop: Shop, mode: str) -> None:
    before = balance(shop)
    response = post(
        api, "/v1/images/edits", {"input_image": image_file(), "mode": mode, "prompt": ""}
    )
    assert response.status_code == 200, response.content
    assert_single_image(response.json(), shop, "builtin:enhance")
    assert before - balance(shop) == (21 if mode == "light_restore" else 13)


def test_health_example(api: Any) -> None:
    response = api.get("/v1/health", headers={"api-key": api.raw})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"] == {"worker": "ok", "upstream": "ok", "backend": "ok", "kv": "ok"}
    assert body["timestamp"].endswith("Z")


def test_health_reports_a_stalled_queue(api: Any, shop: Shop) -> None:
    from datetime import timedelta

    from django.utils import timezone

    Job.objects.create(shop=shop, kind="erase", enqueued_at=timezone.now() - timedelta(hours=1))
    response = api.get("/v1/health")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "stalled"


# --- inputs: URL, ids, settings ------------------------------------------------------------------


def test_input_image_and_mask_as_urls_are_fetched(api: Any, shop: Shop, settings: Any) -> None:
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    files = {"/photo.png": scene(), "/mask.png": mask_png()}

    def handler(request: Any, base: str) -> Reply:
        if request.path in files:
            return Reply(200, files[request.path], {"Content-Type": "image/png"})
        return Reply(404, b"gone")

    with serve(handler) as (base, seen):
        response = post(
            api,
            "/v1/images/remove-objects",
            {"input_image": f"{base}/photo.png", "input_mask": f"{base}/gone.png"},
        )
        # The mask URL failed: refused, and the input fetched for it is not kept.
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "input_mask"
        assert not Asset.objects.filter(shop=shop).exists()

        response = post(
            api,
            "/v1/images/remove-objects",
            {"input_image": f"{base}/photo.png", "input_mask": f"{base}/mask.png"},
        )
    assert response.status_code == 200, response.content
    assert [r.path for r in seen][-2:] == ["/photo.png", "/mask.png"]
    upload = Asset.objects.get(id=response.json()["session_id"][5:])
    assert upload.kind == Asset.Kind.UPLOAD and upload.shop_id == shop.id


def test_an_image_url_on_the_shops_origin_is_reused_without_a_fetch(api: Any, shop: Shop) -> None:
    first = post(api, "/v1/images/restore", {"input_image": image_file()}).json()
    uploads = Asset.objects.filter(kind=Asset.Kind.UPLOAD).count()
    response = post(api, "/v1/images/enhance", {"input_image": first["output_image_url"]})
    assert response.status_code == 200, response.content
    assert Asset.objects.filter(kind=Asset.Kind.UPLOAD).count() == uploads
    assert response.json()["session_id"] == "sess_" + first["image_id"][4:]


def test_urls_are_on_the_shops_storage_origin(api: Any, shop: Shop, settings: Any) -> None:
    settings.STORAGE_PUBLIC_ORIGIN = "https://{shop}.storage.example.com"
    body = post(api, "/v1/images/restore", {"input_image": image_file()}).json()
    assert body["output_image_url"].startswith(f"https://{shop.slug}.storage.example.com/shops/")


def test_the_route_model_is_a_setting_and_the_answer_names_it(
    api: Any, shop: Shop, settings: Any
) -> None:
    settings.V1_IMAGES_MODELS = {"remove-objects:normal": "no-such-model"}
    response = post(
        api, "/v1/images/remove-objects", {"input_image": image_file(), "input_mask": mask_file()}
    )
    assert response.status_code == 400
    assert response.json()["error"]["setting"] == 'V1_IMAGES_MODELS["remove-objects:normal"]'
    settings.V1_IMAGES_MODELS = {"generations": "builtin:procedural"}
    body = post(api, "/v1/images/generations", {"prompt": "a kite"}).json()
    assert body["model"] == "builtin:procedural"


def test_idempotency_key_replays_without_a_second_job(api: Any, shop: Shop) -> None:
    fields = {"input_image": image_file(scene())}
    first = post(api, "/v1/images/restore", fields, headers={"Idempotency-Key": "k1"})
    again = post(
        api,
        "/v1/images/restore",
        {"input_image": image_file(scene())},
        headers={"Idempotency-Key": "k1"},
    )
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["image_id"] == first.json()["image_id"]
    assert Job.objects.count() == 1


# --- errors ------------------------------------------------------------------------------------------

IMAGE_ROUTES = [
    path
    for path, _legacy, op in v1_images.ROUTES
    if path not in ("v1/images/generations", "v1/images/generations-qwen")
]


@pytest.mark.parametrize("route", IMAGE_ROUTES)
def test_it_rejects_a_request_without_an_image(api: Any, route: str) -> None:
    fields = {"prompt": "a prompt", "input_mask": mask_file()}
    for path in both_paths(route):
        response = post(api, path, fields)
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "missing_image", error
        assert "Missing required image input" in error["message"]
        response = api.post(path, b"", content_type="application/json")  # no body at all
        assert response.status_code == 400
    assert not Job.objects.exists()


def test_it_rejects_a_missing_key_in_the_family_shape(client: Any) -> None:
    response = client.post("/v1/images/detect-objects")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_it_rejects_a_key_without_the_scope(shop: Shop, api_for: Any) -> None:
    api = api_for(shop, ["ai:generate"])
    response = post(api, "/v1/images/detect-objects", {"input_image": image_file()})
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"


def test_it_rejects_requests_over_60_a_minute_with_retry_after(
    api: Any, shop: Shop, settings: Any
) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 60  # the seed's limit (the fixtures raise it)
    statuses = []
    for _ in range(61):
        response = api.get("/v1/health")
        statuses.append(response.status_code)
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    assert response["x-ratelimit-limit-requests"] == "60"
    assert response["x-ratelimit-remaining-requests"] == "0"
    assert int(response["retry-after"]) >= 1
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "rate_limited"


def test_it_rejects_insufficient_credits_with_a_429_and_stores_nothing(
    api: Any, shop: Shop
) -> None:
    Shop.objects.filter(id=shop.id).update(plan_budget_cents=2, wallet_cents=0)
    response = post(api, "/v1/images/detect-text", {"input_image": image_file()})
    assert response.status_code == 429
    assert response["x-should-retry"] == "false"
    error = response.json()["error"]
    assert error["type"] == "insufficient_quota" and error["code"] == "insufficient_credits"
    assert (error["required"], error["available"]) == (4, 2)
    assert not Asset.objects.exists() and not Job.objects.exists()
    # One credit is enough for detect-objects.
    assert post(api, "/v1/images/detect-objects", {"input_image": image_file()}).status_code == 200


def test_a_price_rule_naming_the_operation_overrides_the_seeds_credits(
    api: Any, shop: Shop
) -> None:
    from generations.models import PriceRule

    PriceRule.objects.create(kind="detect-text", cents_per_output=2)
    before = balance(shop)
    post(api, "/v1/images/detect-text", {"input_image": image_file()})
    assert before - balance(shop) == 2


def test_it_rejects_invalid_parameters_naming_the_field(api: Any) -> None:
    response = post(api, "/v1/images/enhance", {"input_image": image_file(), "zoom_factor": "3"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "zoom_factor"
    response = post(
        api, "/v1/images/remove-objects", {"input_image": image_file(), "erase_mode": "max"}
    )
    assert response.json()["error"]["param"] == "erase_mode"
    response = post(api, "/v1/images/remove-objects", {"input_image": image_file()})
    assert response.status_code == 400 and response.json()["error"]["param"] == "input_mask"
    response = post(api, "/v1/images/outpaint", {"input_image": image_file()})
    assert response.status_code == 400 and response.json()["error"]["param"] == "input_mask"
    response = post(
        api,
        "/v1/images/remove-objects",
        {"input_image": image_file(), "input_mask": mask_file(mask_png(size=(10, 10)))},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "input_mask"
    assert not Asset.objects.exists()  # the upload of a refused request is not kept


def test_it_rejects_an_image_that_is_not_an_image(api: Any) -> None:
    response = post(api, "/v1/images/restore", {"input_image": image_file(b"not a picture")})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input_image"


def test_nothing_of_another_shop_is_reachable(api: Any, api_for: Any, shop: Shop) -> None:
    other = create_shop("Other shop")
    theirs = api_for(other)
    body = post(theirs, "/v1/images/restore", {"input_image": image_file()}).json()
    for field in ("image_id", "session_id"):
        response = post(api, "/v1/images/enhance", {"image_id": body[field]})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "image_not_found"
    response = post(
        api,
        "/v1/images/remove-objects",
        {"original_session_id": body["session_id"], "input_mask": mask_file()},
    )
    assert response.json()["error"]["code"] == "image_not_found"
    # Their file URL is not on this shop's prefix: it would be fetched (the test host is refused).
    response = post(api, "/v1/images/enhance", {"input_image": body["output_image_url"]})
    assert response.status_code == 400
    assert not Job.objects.filter(shop=shop).exists()


def test_an_operation_that_fails_answers_502_with_its_task_and_refunds(
    api: Any, shop: Shop
) -> None:
    before = balance(shop)
    # No skin in the scene: the retouch changes nothing, so the job fails (and is refunded).
    response = post(api, "/v1/images/retouch-skin", {"input_image": image_file()})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "operation_failed" and "refunded" in error["message"]
    polled = api.get(f"/v1/tasks/{error['task_id']}").json()
    assert polled["status"] == "FAILED" and polled["error_msg"]
    assert balance(shop) == before
