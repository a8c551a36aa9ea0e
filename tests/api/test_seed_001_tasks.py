"""Seed 001's async routes and tasks: edit-flux through the OpenAI engine against a local fake
server, try-on through a test engine with the try-on capability, GET / DELETE /v1/tasks/{id},
a task stuck in CREATED sent again, and another shop's task unreachable."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from generations import actions
from generations.engines import registry
from generations.engines.base import Capability, Engine, EngineImage, OperationRequest
from generations.models import Asset, Job
from studio.actions import create_shop
from studio.models import LedgerEntry, Shop
from tests.api.test_seed_001 import balance, image_file, post, scene
from tests.engines.conftest import multipart
from tests.engines.fakeserver import Reply, serve

pytestmark = pytest.mark.django_db

EDITED = Image.new("RGB", (160, 120), (250, 120, 30))


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def fake_openai(request: Any, base: str) -> Reply:
    if request.method == "POST" and request.path == "/v1/images/edits":
        parts = multipart(request.headers["content-type"], request.body)
        if parts["prompt"][0][1] == b"fail please":
            return Reply(
                400, {"error": {"message": "Your request was rejected by the safety system."}}
            )
        return Reply(
            200, {"created": 1, "data": [{"b64_json": base64.b64encode(_png(EDITED)).decode()}]}
        )
    return Reply(404, {"error": {"message": "no such route"}})


@pytest.fixture
def openai_fake(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    settings.V1_IMAGES_MODELS = {"edit-flux": "gpt-image-1"}
    settings.OPENAI_API_KEY = "sk-fake"
    with serve(fake_openai) as (base, seen):
        settings.OPENAI_BASE_URL = f"{base}/v1"
        yield seen


EDIT_FLUX = {
    "prompt": "Make the sky stormy",
    "mode": "editing",
    "strength": "1",
    "guidance_scale": "3.5",
    "inference_steps": "8",
    "run_fast": "true",
}


def test_edit_flux_answers_a_task_that_completes(api: Any, shop: Shop, openai_fake: Any) -> None:
    before = balance(shop)
    for path in ("/v1/images/edit-flux", "/api/image-editing/v1/tasks"):
        response = post(api, path, {"input_image": image_file(), **EDIT_FLUX})
        assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"task_id", "status", "created_at", "model"}
    assert body["status"] == "CREATED" and body["model"] == "gpt-image-1"
    assert before - balance(shop) == 2 * 18
    task = body["task_id"]

    polled = api.get(f"/v1/tasks/{task}").json()
    assert polled["status"] == "CREATED" and polled["progress"] == 0
    assert "output_image_url" not in polled

    job = Job.objects.get(id=task.removeprefix("task_"))
    assert job.params["api"]["guidance_scale"] == 3.5 and job.params["api"]["run_fast"] is True
    actions.execute_job(str(job.id))
    sent = multipart(openai_fake[-1].headers["content-type"], openai_fake[-1].body)
    assert sent["prompt"][0][1] == b"Make the sky stormy"
    assert sent["model"][0][1] == b"gpt-image-1"

    done = api.get(f"/v1/tasks/{task}").json()
    assert done["status"] == "COMPLETED" and done["progress"] == 100
    assert done["model"] == "gpt-image-1"
    assert done["completed_at"] >= done["started_at"] >= done["created_at"]
    url = done["output_image_url"]
    assert url.startswith(f"http://testserver/media/shops/{shop.slug}/assets/")
    result = Asset.objects.get(job=job)
    assert result.parent_id == job.input_asset_id and result.kind == Asset.Kind.DERIVED

    # A finished task cannot be cancelled.
    response = api.client.delete(f"/v1/tasks/{task}", headers={"api-key": api.raw})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "task_finished"


def test_a_failed_task_reports_its_error_and_is_refunded(
    api: Any, shop: Shop, openai_fake: Any
) -> None:
    before = balance(shop)
    body = post(
        api, "/v1/images/edit-flux", {"input_image": image_file(), "prompt": "fail please"}
    ).json()
    actions.execute_job(body["task_id"].removeprefix("task_"))
    polled = api.get(f"/v1/tasks/{body['task_id']}").json()
    assert polled["status"] == "FAILED"
    assert "safety system" in polled["error_msg"]
    assert balance(shop) == before


def test_delete_cancels_a_task_and_refunds_it(api: Any, shop: Shop, openai_fake: Any) -> None:
    before = balance(shop)
    task = post(api, "/v1/images/edit-flux", {"input_image": image_file(), **EDIT_FLUX}).json()[
        "task_id"
    ]
    response = api.client.delete(
        f"/v1/tasks/{task}", headers={"Authorization": f"Bearer {api.raw}"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"message": f"task {task.removeprefix('task_')} cancelled"}
    assert balance(shop) == before
    polled = api.get(f"/v1/tasks/{task}").json()
    assert polled["status"] == "CANCELLED" and polled["error_msg"]
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_edit_flux_needs_a_prompt(api: Any, openai_fake: Any) -> None:
    response = post(api, "/v1/images/edit-flux", {"input_image": image_file()})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"


def test_a_task_stuck_in_created_is_sent_again_once(
    api: Any,
    shop: Shop,
    openai_fake: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from generations.tasks import run_job

    sent: list[str] = []
    monkeypatch.setattr(run_job, "delay", lambda job_id: sent.append(job_id))
    task = post(api, "/v1/images/edit-flux", {"input_image": image_file(), **EDIT_FLUX}).json()[
        "task_id"
    ]
    job_id = task.removeprefix("task_")
    with django_capture_on_commit_callbacks(execute=True):
        api.get(f"/v1/tasks/{task}")
    assert sent == []  # fresh: left alone
    Job.objects.filter(id=job_id).update(enqueued_at=timezone.now() - timedelta(seconds=121))
    # The message is sent once the re-send is committed.
    with django_capture_on_commit_callbacks(execute=True):
        assert api.get(f"/v1/tasks/{task}").json()["status"] == "CREATED"
        assert api.get(f"/v1/tasks/{task}").json()["status"] == "CREATED"
    assert [uuid.UUID(s) for s in sent] == [uuid.UUID(job_id)]  # once, not once per poll
    assert Job.objects.get(id=job_id).enqueued_at > timezone.now() - timedelta(seconds=5)


def test_unknown_and_other_shops_tasks_are_404(api: Any, api_for: Any, openai_fake: Any) -> None:
    other = api_for(create_shop("Other"))
    theirs = post(other, "/v1/images/edit-flux", {"input_image": image_file(), **EDIT_FLUX}).json()
    for task in (theirs["task_id"], theirs["task_id"].removeprefix("task_"), "task_nope", "x" * 40):
        response = api.get(f"/v1/tasks/{task}")
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"
        assert (
            api.client.delete(f"/v1/tasks/{task}", headers={"api-key": api.raw}).status_code == 404
        )
    assert Job.objects.get(id=theirs["task_id"][5:]).status == Job.Status.QUEUED


# --- try-on on an engine with the capability ------------------------------------------------------


class TryOnEngine(Engine):
    """Pastes each garment onto the person, left to right: enough to see what it was given."""

    name = "test-tryon"
    capabilities = frozenset({Capability.TRY_ON})
    seen: list[OperationRequest] = []

    def run_operation(self, request: OperationRequest, progress: Any) -> list[EngineImage]:
        type(self).seen.append(request)
        person = Image.open(io.BytesIO(request.image)).convert("RGB")
        for i, garment in enumerate(request.extra_images):
            piece = Image.open(io.BytesIO(garment)).convert("RGB").resize((40, 40))
            person.paste(piece, (10 + 50 * i, 10))
        data = _png(person)
        return [EngineImage(data, "image/png", person.width, person.height)]


@pytest.fixture
def tryon_engine(monkeypatch: pytest.MonkeyPatch, settings: Any) -> type[TryOnEngine]:
    monkeypatch.setitem(registry._ENGINES, TryOnEngine.name, TryOnEngine)
    settings.STUDIO_MODELS = {"test-tryon": {"engine": "test-tryon", "capabilities": ["try-on"]}}
    settings.V1_IMAGES_MODELS = {"try-on": "test-tryon"}
    TryOnEngine.seen = []
    return TryOnEngine


def _solid(colour: tuple[int, int, int]) -> bytes:
    return _png(Image.new("RGB", (60, 80), colour))


def test_try_on_with_two_garments_sends_both_upper_first(
    api: Any, shop: Shop, tryon_engine: type[TryOnEngine]
) -> None:
    before = balance(shop)
    response = post(
        api,
        "/api/tryon/v2/tasks",
        {
            "model_image": image_file(),
            "cloth_image": image_file(_solid((255, 0, 0))),
            "lower_cloth_image": image_file(_solid((0, 0, 255))),
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == "test-tryon" and before - balance(shop) == 17
    actions.execute_job(body["task_id"][5:])
    request = tryon_engine.seen[-1]
    assert request.params["cloth_type"] == "full"  # two garments mean full
    assert [Image.open(io.BytesIO(g)).getpixel((0, 0)) for g in request.extra_images] == [
        (255, 0, 0),
        (0, 0, 255),
    ]
    done = api.get(f"/v1/tasks/{body['task_id']}").json()
    assert done["status"] == "COMPLETED" and done["output_image_url"]


def test_try_on_reuses_earlier_images_by_id(
    api: Any, shop: Shop, tryon_engine: type[TryOnEngine]
) -> None:
    first = post(
        api,
        "/v1/images/try-on",
        {
            "model_image": image_file(),
            "cloth_image": image_file(_solid((0, 200, 0))),
            "cloth_type": "upper",
        },
    ).json()
    job = Job.objects.get(id=first["task_id"][5:])
    uploads = Asset.objects.filter(kind=Asset.Kind.UPLOAD).count()
    again = post(
        api,
        "/v1/images/try-on",
        {
            "model_image_id": f"sess_{job.input_asset_id.hex}",
            "cloth_image_id": job.params["options"]["cloth_asset"],
        },
    )
    assert again.status_code == 200, again.content
    assert Asset.objects.filter(kind=Asset.Kind.UPLOAD).count() == uploads


def test_try_on_rules(api: Any, tryon_engine: type[TryOnEngine]) -> None:
    both = {
        "model_image": image_file(),
        "cloth_image": image_file(),
        "lower_cloth_image": image_file(),
        "cloth_type": "upper",
    }
    response = post(api, "/v1/images/try-on", both)
    assert response.status_code == 400 and response.json()["error"]["param"] == "cloth_type"
    response = post(api, "/v1/images/try-on", {"model_image": image_file()})
    assert response.status_code == 400 and response.json()["error"]["param"] == "cloth_image"
    response = post(api, "/v1/images/try-on", {"cloth_image": image_file()})
    assert response.status_code == 400 and response.json()["error"]["param"] == "model_image"
    assert not Job.objects.exists() and not Asset.objects.exists()


def test_a_task_id_from_a_sync_route_can_be_polled(api: Any, shop: Shop) -> None:
    body = post(api, "/v1/images/restore", {"input_image": image_file(scene())}).json()
    job = Asset.objects.get(id=body["image_id"][4:]).job
    polled = api.get(f"/v1/tasks/task_{job.id.hex}").json()
    assert polled["status"] == "COMPLETED"
    assert polled["output_image_url"] == body["output_image_url"]
