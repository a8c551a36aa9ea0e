"""submit_operation validates before anything exists; the job path runs end to end."""

from __future__ import annotations

import base64
import io
from unittest import mock

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from bench import bgset
from generations import actions, operations
from generations.actions import JobError
from generations.library import upload_asset
from generations.models import Asset, Job, PriceRule
from studio.models import LedgerEntry

pytestmark = pytest.mark.django_db


def png(array: np.ndarray | Image.Image, fmt: str = "PNG") -> bytes:
    image = array if isinstance(array, Image.Image) else Image.fromarray(array)
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def flat(w: int = 80, h: int = 60, colour=(40, 120, 200)) -> np.ndarray:
    return np.full((h, w, 3), colour, np.uint8)


@pytest.fixture
def asset(shop, user):
    img = flat()
    img[20:35, 30:50] = (250, 20, 20)
    return upload_asset(shop, png(img), user=user)


def square_mask(w=80, h=60, box=(30, 20, 50, 35)) -> bytes:
    m = np.zeros((h, w), np.uint8)
    m[box[1] : box[3], box[0] : box[2]] = 255
    return png(m)


def nothing_created(shop):
    assert not Job.objects.filter(shop=shop).exists()
    assert not LedgerEntry.objects.filter(shop=shop).exists()
    assert Asset.objects.filter(shop=shop).count() == 1
    assert not default_storage.exists(f"{shop.storage_prefix}masks") or not any(
        default_storage.listdir(f"{shop.storage_prefix}masks")[1]
    )


# --- validation: nothing created, nothing charged ---------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "options", "mask", "message"),
    [
        ("erase", {}, "wrong-size", "must be the same size"),
        ("erase", {}, "empty", "The mask is empty"),
        ("erase", {}, "not-an-image", "not usable"),
        # A 16-bit mask is normalised to 8 bits by the loader; this one is blank.
        ("erase", {}, "mode", "The mask is empty"),
        ("erase", {}, None, "needs a mask"),
        ("upscale", {}, "square", "does not take a mask"),
        ("frobnicate", {}, None, "Unknown operation"),
        ("upscale", {"zoom_factor": 3}, None, "zoom_factor must be one of: 2, 4"),
        ("upscale", {"sharpness": 1}, None, "Unknown option(s) for upscale: sharpness"),
        ("light-restore", {"strength": "lots"}, None, "strength must be a number"),
        ("light-restore", {"strength": 7}, None, "between 0 and 1"),
        ("outpaint", {}, None, "Choose an aspect ratio or margins"),
        ("outpaint", {"aspect_ratio": "4:3"}, None, "already has that aspect ratio"),
        ("headshot", {}, None, "No engine configured for headshot: set STUDIO_MODELS"),
        ("edit", {}, None, "needs a prompt"),
    ],
)
def test_it_rejects_bad_requests_before_creating_anything(
    shop, user, asset, operation, options, mask, message
):
    masks = {
        None: None,
        "square": square_mask(),
        "wrong-size": square_mask(40, 30, (5, 5, 10, 10)),
        "empty": png(np.zeros((60, 80), np.uint8)),
        "not-an-image": b"%PDF-1.4 definitely not a picture",
        "mode": png(Image.new("I;16", (80, 60))),
    }
    with pytest.raises(JobError, match=message.replace("(", r"\(").replace(")", r"\)")):
        operations.submit_operation(shop, asset, operation, options, user, mask_bytes=masks[mask])
    nothing_created(shop)


def test_it_rejects_an_image_over_the_limits(shop, user, asset, settings):
    settings.IMAGE_MAX_PIXELS = 4000
    with pytest.raises(JobError, match="the limits are 4,000 pixels"):
        operations.submit_operation(shop, asset, "restore", {}, user)
    settings.IMAGE_MAX_PIXELS = 80 * 60 * 8
    with pytest.raises(JobError, match="The result would have 76,800 pixels"):
        operations.submit_operation(shop, asset, "upscale", {"zoom_factor": 4}, user)
    nothing_created(shop)


def test_it_rejects_another_shops_asset(shop, user, asset, make_user):
    from studio.models import Membership

    other_shop = Membership.objects.get(user=make_user()).shop
    with pytest.raises(JobError, match="Unknown asset"):
        operations.submit_operation(other_shop, asset, "restore", {}, user)


def test_it_rejects_operations_on_a_video(shop, user, asset):
    Asset.objects.filter(id=asset.id).update(content_type="video/mp4")
    asset.refresh_from_db()
    with pytest.raises(JobError, match="works on images; this asset is video/mp4"):
        operations.submit_operation(shop, asset, "upscale", {}, user)


def test_it_reports_which_operations_are_unavailable_and_why():
    reasons = operations.operation_availability()
    assert reasons["erase"] == "" and reasons["video"] == ""
    for name in ("edit", "inpaint", "headshot", "hairstyle", "makeup", "try-on", "pose"):
        assert "No engine configured" in reasons[name] and "STUDIO_MODELS" in reasons[name]


# --- prices ------------------------------------------------------------------------------------------------


def test_it_prices_from_defaults_and_price_rules(shop, user, asset):
    cases = [
        ("remove-background", {}, 1),
        ("video", {"resolution": 720}, 25),
        ("video", {"resolution": 1080}, 43),
        ("upscale", {"zoom_factor": 2}, 2),
        ("upscale", {"zoom_factor": 4}, 4),
    ]
    for op, options, cents in cases:
        assert operations.submit_operation(shop, asset, op, options, user).cost_cents == cents
    PriceRule.objects.create(kind="video", resolution="1080p", cents_per_output=50)
    PriceRule.objects.create(cents_per_output=9)  # a catch-all for generations does not apply
    assert (
        operations.submit_operation(shop, asset, "video", {"resolution": 1080}, user).cost_cents
        == 50
    )
    assert (
        operations.submit_operation(shop, asset, "video", {"resolution": 720}, user).cost_cents
        == 25
    )


# --- the job path ------------------------------------------------------------------------------------------


def test_erase_runs_end_to_end_and_restores_the_background(shop, user, asset):
    job = operations.submit_operation(shop, asset, "erase", {}, user, mask_bytes=square_mask())
    assert job.kind == "erase" and job.status == Job.Status.QUEUED and job.cost_cents == 2
    assert job.params["mask_path"].startswith(shop.storage_prefix + "masks/")
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED, done.error
    out = done.outputs.get()
    assert out.kind == Asset.Kind.DERIVED and out.parent_id == asset.id
    assert out.parameters["operation"] == "erase" and (out.width, out.height) == (80, 60)
    with out.file.open("rb") as fh:
        pixels = np.asarray(Image.open(fh).convert("RGB")).astype(int)
    assert np.abs(pixels - (40, 120, 200)).max() <= 3
    shop.refresh_from_db()
    assert shop.plan_used_cents == 2


def test_erase_accepts_detected_objects_instead_of_a_mask(shop, user, asset):
    job = operations.submit_operation(
        shop, asset, "erase", {}, user, objects=[{"bbox": [28, 18, 52, 37]}]
    )
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED


def test_background_removal_returns_rgba_and_the_box(shop, user):
    shot = bgset.make_shot(0, 480)
    asset = upload_asset(shop, png(shot.image), user=user)
    job = operations.submit_operation(shop, asset, "remove-background", {}, user)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED, done.error
    out = done.outputs.get()
    assert out.content_type == "image/png" and out.parent_id == asset.id
    with out.file.open("rb") as fh:
        image = Image.open(fh)
        image.load()
    assert image.mode == "RGBA" and image.size == (480, 480)
    x1, _y1, _x2, y2 = done.result["box"]
    ys, xs = np.nonzero(shot.alpha >= 0.5)
    assert abs(x1 - xs.min()) <= 5 and abs(y2 - ys.max() - 1) <= 5
    assert out.parameters["box"] == done.result["box"]


@pytest.mark.parametrize(
    ("operation", "options"),
    [("remove-background", {}), ("remove-background", {"mask_only": True}), ("upscale", {})],
)
def test_a_job_decodes_its_input_once_and_its_own_output_never(
    shop, user, operation, options, monkeypatch
):
    """GIVEN an uploaded photo WHEN an operation's job runs THEN the input's bytes are decoded
    once (shared by the engine and the no-op check) and the engine's own PNG is stored from the
    pixels it was made from (it was decoded three more times: the no-op check's input and
    output, the store's validation), with the size, type and thumbnail a decode would give."""
    from generations.library import make_thumbnail
    from generations.loader import load_image

    asset = upload_asset(shop, png(bgset.make_shot(1, 240).image), user=user)
    job = operations.submit_operation(shop, asset, operation, options, user)
    opened = []
    real_open = Image.open

    def counting_open(*args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(args)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    done = actions.execute_job(str(job.id))
    monkeypatch.undo()
    assert done.status == Job.Status.COMPLETED, done.error
    assert len(opened) == 1
    out = done.outputs.get()
    with out.file.open("rb") as fh:
        data = fh.read()
    loaded = load_image(data)
    assert (out.content_type, out.width, out.height, out.bytes) == (
        loaded.content_type,
        loaded.width,
        loaded.height,
        len(data),
    )
    with out.thumbnail.open("rb") as fh:
        assert fh.read() == make_thumbnail(loaded.image)


def test_output_bytes_an_engine_did_not_make_itself_still_pass_the_loader(shop, user, asset):
    """An engine that hands on bytes without their pixels (a provider's answer) gets them
    validated as before: corrupt bytes are not stored."""
    from generations.engines.base import EngineImage
    from generations.imageops import engine

    corrupt = png(flat())[:60]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(
            engine.HANDLERS,
            "restore",
            lambda img, mask, req, progress: [EngineImage(corrupt, "image/png", 80, 60)],
        )
        job = operations.submit_operation(shop, asset, "restore", {}, user)
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED
    assert not done.outputs.exists()
    assert LedgerEntry.objects.get(job=job, kind="refund").amount_cents == job.cost_cents


def test_detection_returns_a_result_and_no_asset(shop, user):
    img = flat(120, 90, (245, 245, 245))
    img[20:60, 20:70] = (200, 30, 30)
    asset = upload_asset(shop, png(img), user=user)
    job = operations.submit_operation(shop, asset, "detect-objects", {}, user)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED and not done.outputs.exists()
    (obj,) = done.result["detected_objects"]
    assert obj["object_type"] == "object" and 0 < obj["accuracy"] <= 1
    mask = Image.open(io.BytesIO(base64.b64decode(obj["mask"])))
    x1, y1, x2, y2 = obj["bbox"]
    assert mask.size == (x2 - x1, y2 - y1)
    # No refund: detection delivered what it charged for.
    assert not LedgerEntry.objects.filter(job=job, kind="refund").exists()
    text = operations.submit_operation(shop, asset, "detect-text", {}, user)
    assert actions.execute_job(str(text.id)).result == {
        "operation": "detect-text",
        "detected": False,
        "mask": None,
        "box": None,
    }


def test_video_runs_end_to_end(shop, user, asset):
    job = operations.submit_operation(shop, asset, "video", {}, user, prompt="zoom out")
    assert job.cost_cents == 25
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED, done.error
    out = done.outputs.get()
    assert out.content_type == "video/mp4" and out.thumbnail and out.prompt == "zoom out"
    assert (out.width, out.height) == (960, 720) and done.result["frames"] == 144
    assert done.result["motion"] == "zoom out"


@pytest.mark.parametrize(
    ("operation", "options", "mode", "size"),
    [
        ("upscale", {"zoom_factor": 2}, "RGB", (160, 120)),
        ("enhance-art", {"zoom_factor": 4}, "RGB", (320, 240)),
        ("restore", {}, "RGB", (80, 60)),
        ("light-restore", {}, "RGB", (80, 60)),
        ("colorize", {"palette": "cool"}, "RGB", (80, 60)),
        ("cartoon", {"sticker": True}, "RGBA", (80, 60)),
        ("sketch", {}, "RGB", (80, 60)),
        ("stylize", {}, "RGB", (80, 60)),
        ("retouch-skin", {}, "RGB", (80, 60)),
        ("outpaint", {"aspect_ratio": "16:9"}, "RGB", (107, 60)),
        ("outpaint", {"top": 10, "left": 4}, "RGB", (84, 70)),
        ("remove-background", {"mask_only": True}, "L", (80, 60)),
    ],
)
def test_each_operation_produces_its_output(shop, user, operation, options, mode, size):
    # A photo-like input (grain, a dim corner, a scratch): a clean flat image gives restore and
    # light-restore nothing to change, and a no-op fails (see the no-op tests below).
    rng = np.random.default_rng(3)
    skin = operation == "retouch-skin"  # (it only touches skin tones)
    img = flat(colour=(224, 172, 140) if skin else (40, 120, 200)).astype(np.float32)
    img += rng.normal(0, 9, (60, 80, 3))
    img[20:35, 30:50] = (250, 20, 20)
    img[:, :30] *= 0.55
    img[40, 5:70] = 255
    asset = upload_asset(shop, png(np.clip(img, 0, 255).astype(np.uint8)), user=user)
    job = operations.submit_operation(shop, asset, operation, options, user)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED, done.error
    out = done.outputs.get()
    with out.file.open("rb") as fh:
        image = Image.open(fh)
        assert image.format == "PNG" and image.mode == mode and image.size == size
    assert (out.width, out.height) == size and out.parent_id == asset.id


def test_a_failure_while_running_fails_the_job_and_refunds(shop, user, asset):
    job = operations.submit_operation(shop, asset, "restore", {}, user)
    with asset.file.open("wb") as fh:  # the stored file got corrupted meanwhile
        fh.write(b"\x89PNG\r\n\x1a\n garbage")
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED
    assert "The input image cannot be used" in done.error
    assert LedgerEntry.objects.get(job=job, kind="refund").amount_cents == job.cost_cents
    assert not done.outputs.exists()
    shop.refresh_from_db()
    assert shop.plan_used_cents == 0


def test_auto_erase_with_nothing_found_fails_and_refunds(shop, user, asset):
    job = operations.submit_operation(shop, asset, "erase-text", {}, user)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED and "No text was found" in done.error
    assert LedgerEntry.objects.filter(job=job, kind="refund").exists()


def test_a_mask_is_removed_when_the_shop_cannot_pay(shop, user, asset):
    from studio.actions import InsufficientCredits

    with (
        mock.patch("generations.operations.submit_job", side_effect=InsufficientCredits(2, 0)),
        pytest.raises(InsufficientCredits),
    ):
        operations.submit_operation(shop, asset, "erase", {}, user, mask_bytes=square_mask())
    nothing_created(shop)


@pytest.mark.parametrize(
    ("operation", "options"), [("restore", {}), ("retouch-skin", {}), ("sketch", {})]
)
def test_it_refuses_an_operation_that_changes_nothing_and_refunds(
    shop, user, operation, options, monkeypatch
):
    """GIVEN an operation whose output is its input WHEN the job runs THEN it fails, says so,
    stores nothing and refunds the charge in full."""
    from generations.imageops import engine

    asset = upload_asset(shop, png(flat()), user=user)
    # Whatever the filter, an engine that hands the picture back unchanged is a no-op.
    monkeypatch.setitem(
        engine.HANDLERS,
        operation,
        lambda img, mask, req, progress: [engine._image(np.asarray(img.convert("RGB")))],
    )
    job = operations.submit_operation(shop, asset, operation, options, user)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED and "changed nothing visible" in done.error
    assert LedgerEntry.objects.get(job=job, kind="refund").amount_cents == job.cost_cents
    assert not done.outputs.exists()


def test_it_refuses_an_erase_that_moves_a_few_pixels(shop, user):
    """A design's display type, 'erased' by changing a speck of it: not a delivery."""
    img = flat(400, 300, (245, 240, 230))
    img[100:180, 60:340] = (20, 20, 20)  # a big slab of display type
    asset = upload_asset(shop, png(img), user=user)
    from generations.imageops import engine

    def speck(img, mask, req, progress):  # type: ignore[no-untyped-def]
        out = np.asarray(img.convert("RGB")).copy()
        out[100:106, 60:69] = (245, 240, 230)  # 54 pixels
        return [engine._image(out)]

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(engine.HANDLERS, "erase-text", speck)
        job = operations.submit_operation(shop, asset, "erase-text", {}, user)
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED and "(54 pixels)" in done.error
    assert LedgerEntry.objects.filter(job=job, kind="refund").exists()


def test_it_keeps_a_full_bleed_design_whole_and_says_so(shop, user):
    """Background removal on a poster with no backdrop: nothing is deleted, the job fails with
    the reason, and the charge is refunded."""
    poster = np.zeros((240, 320, 3), np.uint8)
    poster[:] = (60, 50, 120)
    for k, colour in enumerate([(220, 80, 90), (120, 200, 220), (240, 200, 60)]):
        poster[40 + 60 * k : 70 + 60 * k] = colour  # bands that run off both sides
    cv2.circle(poster, (160, 120), 60, (30, 90, 60), -1)
    from generations.imageops.background import remove_background

    result = remove_background(poster)
    assert result.no_backdrop and (result.alpha == 255).all()
    assert (result.rgba[..., :3] == poster).all()
    asset = upload_asset(shop, png(poster), user=user)
    job = operations.submit_operation(shop, asset, "remove-background", {}, user)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED and "No backdrop found" in done.error
    assert LedgerEntry.objects.get(job=job, kind="refund").amount_cents == job.cost_cents
