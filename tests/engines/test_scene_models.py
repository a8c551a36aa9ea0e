"""Seed 004's models as scene engines: each runs a `scene` job through the real runner and the
real remote engine against a local fake server that speaks the provider's protocol, and the
outgoing request is checked (endpoint, credentials, the product photo, the scene prompt, count,
size). Unconfigured models name the setting that enables them."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from PIL import Image

from generations.actions import JobError, execute_job
from generations.engines.catalog import SEED_004_CREDITS
from generations.library import upload_asset
from generations.models import Asset, Job
from generations.scenes.actions import SceneRequest, scene_models, submit_scene
from studio.models import LedgerEntry, Shop
from tests.api.test_seed_004 import fal_queue, product_photo
from tests.engines.fakeserver import Reply, Seen, serve

pytestmark = pytest.mark.django_db

SCENE = "on a white marble table with soft natural lighting"


def png(width: int = 64, height: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def product(shop: Shop) -> Asset:
    return upload_asset(shop, product_photo(), user=None, filename="bottle.png")


def run_scene_job(
    shop: Shop, product: Asset, model: str, count: int = 2, aspect: str = "1:1"
) -> Job:
    job = submit_scene(
        shop,
        SceneRequest(asset=product, model=model, prompt=SCENE, count=count, aspect_ratio=aspect),
    )
    execute_job(str(job.id))
    job.refresh_from_db()
    return job


def product_bytes(product: Asset) -> bytes:
    with product.file.open("rb") as fh:
        return fh.read()


def decoded(uri: str) -> bytes:
    return base64.b64decode(uri.partition(",")[2])


@pytest.mark.parametrize(
    ("model", "path", "image_field", "size"),
    [
        ("nanobanana2", "/fal-ai/nano-banana-2/edit", "image_urls", "aspect_ratio"),
        ("nanobananapro", "/fal-ai/nano-banana-pro/edit", "image_urls", "aspect_ratio"),
        ("nanobanana", "/fal-ai/nano-banana/edit", "image_urls", "aspect_ratio"),
        ("kontext-pro", "/fal-ai/flux-pro/kontext", "image_url", "aspect_ratio"),
        ("kontext-max", "/fal-ai/flux-pro/kontext/max", "image_url", "aspect_ratio"),
        ("seedream", "/fal-ai/bytedance/seedream/v4/edit", "image_urls", "image_size"),
    ],
)
def test_it_runs_the_fal_models_as_image_edits(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    shop: Shop,
    product: Asset,
    model: str,
    path: str,
    image_field: str,
    size: str,
) -> None:
    with serve(fal_queue(outputs=2)) as (base, seen):
        settings.FAL_KEY = "fal-id:fal-secret"
        settings.FAL_QUEUE_URL = base
        settings.ENGINE_POLL_INTERVAL = 0.01
        job = run_scene_job(shop, product, model, count=2, aspect="16:9")
    assert job.status == Job.Status.COMPLETED, job.error
    posts = [s for s in seen if s.method == "POST"]
    assert [p.path for p in posts] == [path]
    sent = posts[0].json()
    assert posts[0].headers["authorization"] == "Key fal-id:fal-secret"
    assert sent["prompt"].startswith(f"Place the product {SCENE}")
    assert sent["num_images"] == 2
    images = sent[image_field] if image_field.endswith("s") else [sent[image_field]]
    assert [decoded(u) for u in images] == [product_bytes(product)]
    if size == "aspect_ratio":
        assert sent["aspect_ratio"] == "16:9"
    else:
        assert sent["image_size"] == {"width": 1024, "height": 576}
    outputs = Asset.objects.filter(job=job)
    assert outputs.count() == 2 and {a.parent_id for a in outputs} == {product.id}
    charge = LedgerEntry.objects.get(job=job, kind="charge")
    assert -charge.amount_cents == 2 * SEED_004_CREDITS[model]


def test_it_falls_back_to_replicate_when_only_its_token_is_set(
    settings: Any, monkeypatch: pytest.MonkeyPatch, shop: Shop, product: Asset
) -> None:
    """nanobanana2 is served by fal or Replicate: with REPLICATE_API_TOKEN alone the job runs as
    a Replicate prediction of google/nano-banana-2 with the photo in image_input."""
    out = png()

    def handler(req: Seen, base: str) -> Reply:
        if req.method == "POST":
            return Reply(
                201,
                {
                    "id": "p1",
                    "status": "succeeded",
                    "output": [f"{base}/files/out.png"],
                    "urls": {"get": f"{base}/v1/predictions/p1"},
                },
            )
        return Reply(200, out, {"Content-Type": "image/png"})

    settings.FAL_KEY = ""
    with serve(handler) as (base, seen):
        settings.REPLICATE_API_TOKEN = "r8_test"
        settings.REPLICATE_BASE_URL = base
        job = run_scene_job(shop, product, "nanobanana2", count=1, aspect="3:4")
    assert job.status == Job.Status.COMPLETED, job.error
    post = next(s for s in seen if s.method == "POST")
    assert post.path == "/v1/models/google/nano-banana-2/predictions"
    assert post.headers["authorization"] == "Bearer r8_test"
    assert post.headers["prefer"].startswith("wait=")
    inputs = post.json()["input"]
    assert [decoded(u) for u in inputs["image_input"]] == [product_bytes(product)]
    assert inputs["aspect_ratio"] == "3:4" and inputs["prompt"].startswith("Place the product")


def test_it_runs_gpt_high_as_an_openai_image_edit(
    settings: Any, monkeypatch: pytest.MonkeyPatch, shop: Shop, product: Asset
) -> None:
    out = base64.b64encode(png(1024, 1024)).decode()

    def handler(req: Seen, base: str) -> Reply:
        return Reply(200, {"created": 1, "data": [{"b64_json": out}, {"b64_json": out}]})

    with serve(handler) as (base, seen):
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_BASE_URL = base + "/v1"
        job = run_scene_job(shop, product, "gpt-high", count=2)
    assert job.status == Job.Status.COMPLETED, job.error
    (post,) = seen
    assert post.method == "POST" and post.path == "/v1/images/edits"
    assert post.headers["authorization"] == "Bearer sk-test"
    assert post.headers["content-type"].startswith("multipart/form-data")
    fields = dict(re.findall(rb'name="(\w+)"\r\n\r\n([^\r]*)\r\n', post.body))
    assert fields[b"model"] == b"gpt-image-1" and fields[b"quality"] == b"high"
    assert fields[b"n"] == b"2" and fields[b"size"] == b"1024x1024"
    assert fields[b"prompt"].startswith(b"Place the product")
    assert b'name="image"; filename="image-0.png"' in post.body
    assert Asset.objects.filter(job=job).count() == 2
    assert -LedgerEntry.objects.get(job=job, kind="charge").amount_cents == 16


@pytest.mark.parametrize("model", sorted(SEED_004_CREDITS))
def test_it_rejects_an_unconfigured_seed_model_naming_its_setting(
    settings: Any, monkeypatch: pytest.MonkeyPatch, shop: Shop, product: Asset, model: str
) -> None:
    for name in ("FAL_KEY", "REPLICATE_API_TOKEN", "OPENAI_API_KEY"):
        setattr(settings, name, "")
    with pytest.raises(JobError) as caught:
        submit_scene(shop, SceneRequest(asset=product, model=model, prompt=SCENE))
    setting = "OPENAI_API_KEY" if model == "gpt-high" else "FAL_KEY or REPLICATE_API_TOKEN"
    assert f"set {setting} to enable it" in str(caught.value)
    assert not Job.objects.exists() and not LedgerEntry.objects.filter(kind="charge").exists()


def test_every_seed_model_is_a_scene_model_with_the_seeds_price() -> None:
    names = {s.name for s in scene_models()}
    assert set(SEED_004_CREDITS) | {"builtin:scene"} <= names
    assert SEED_004_CREDITS == {
        "nanobanana2": 5,
        "nanobananapro": 8,
        "nanobanana": 3,
        "kontext-pro": 3,
        "kontext-max": 3,
        "seedream": 3,
        "gpt-high": 8,
    }


def test_a_price_rule_for_the_model_overrides_the_seeds_price(
    settings: Any, monkeypatch: pytest.MonkeyPatch, shop: Shop, product: Asset
) -> None:
    from generations.models import PriceRule
    from generations.scenes.actions import prepare_scene

    settings.FAL_KEY = "k"
    req = SceneRequest(asset=product, model="nanobanana2", prompt=SCENE, count=3)
    assert prepare_scene(shop, req).total_cents == 15
    PriceRule.objects.create(model="nanobanana2", cents_per_output=4)
    assert prepare_scene(shop, req).total_cents == 12
