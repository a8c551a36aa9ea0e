"""The declarative edge: bounded inputs, field-named 400s in each family's shape, NUL and
surrogate refusal, and Idempotency-Key bound to the job (no second job or charge on a retry)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import timezone

from generations.actions import execute_job
from generations.api import common, idempotency
from generations.api.edge import ApiError
from generations.models import Job
from studio.models import ApiKey, IdempotencyRecord, LedgerEntry, Shop
from tests.api.conftest import REAL_WAIT

pytestmark = pytest.mark.django_db

EXAMPLE = {"prompt": "a serene mountain lake at sunrise", "resolution": "low"}


@pytest.mark.parametrize(
    "query", ["page=1000000000000000000", "page=0", "limit=101", "limit=-5", "page=abc"]
)
def test_it_rejects_absurd_numbers_with_a_400_naming_the_field(api: Any, query: str) -> None:
    response = api.get(f"/v0/images/library?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    field = query.split("=")[0]
    assert body["details"]["field"] == field and field in body["error"]


def test_it_names_the_field_in_each_family_shape(api: Any) -> None:
    body = api.post("/v0/images/generations", {**EXAMPLE, "sampleCount": "many"}).json()
    assert body == {
        "error": "sampleCount must be a whole number.",
        "code": "validation_error",
        "details": {"field": "sampleCount"},
    }
    body = api.post("/ai/generate-image", {"prompt": "a cat", "model": 7}).json()
    assert body["error"] == {
        "message": "model must be a string.",
        "code": "validation_error",
        "details": {"field": "model"},
    }
    assert set(body["meta"]) == {"request_id", "timestamp"}
    body = api.post("/v0/images/generations", {**EXAMPLE, "refImageBase64": [{"x": 1}]}).json()
    assert body["details"]["field"] == "refImageBase64[0].data"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "/v0/images/library?search=a%00b", None),
        ("post", "/v0/images/generations", '{"prompt": "a\\u0000b"}'),
        ("post", "/v0/images/generations", '{"prompt": "lone \\ud800 surrogate"}'),
        ("post", "/ai/generate-image", '{"prompt": "x", "model": "\\udfff"}'),
        ("post", "/ai-generations/generate", '{"prompt": "ok", "x\\u0000": 1}'),
    ],
)
def test_it_refuses_nul_bytes_and_lone_surrogates(
    api: Any, method: str, path: str, payload: str | None
) -> None:
    if method == "get":
        response = api.get(path)
    else:
        response = api.client.post(
            path, data=payload, content_type="application/json", headers=api._headers(None)
        )
    assert response.status_code == 400, response.content
    assert "NUL byte or invalid Unicode" in response.content.decode()
    assert Job.objects.count() == 0


def _charges(shop: Shop) -> int:
    return LedgerEntry.objects.filter(shop=shop, kind=LedgerEntry.Kind.CHARGE).count()


def test_a_retry_after_a_504_answers_from_the_same_job(
    api: Any, shop: Shop, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a sync generation that times out (504 with its job id) WHEN the client retries with
    the same Idempotency-Key, before and after the job finishes THEN no second job or charge is
    made: the retry answers 504 with the same job while it runs, then the finished result."""
    monkeypatch.setattr(common, "wait_for_job", REAL_WAIT)  # no worker: the job waits
    settings.API_SYNC_TIMEOUT_SECONDS = 0.05
    headers = {"Idempotency-Key": "retry-me"}
    first = api.post("/v0/images/generations", EXAMPLE, headers=headers)
    assert first.status_code == 504
    job_id = first.json()["jobId"]
    again = api.post("/v0/images/generations", EXAMPLE, headers=headers)
    assert again.status_code == 504 and again.json()["jobId"] == job_id
    execute_job(job_id)
    done = api.post("/v0/images/generations", EXAMPLE, headers=headers)
    assert done.status_code == 200
    assert done.json()["data"]["id"] == job_id and done.json()["data"]["status"] == "completed"
    assert Job.objects.count() == 1 and _charges(shop) == 1


def test_a_retry_of_seed_000_after_a_504_resumes_too(
    api: Any, shop: Shop, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "wait_for_job", REAL_WAIT)
    settings.API_SYNC_TIMEOUT_SECONDS = 0.05
    headers = {"Idempotency-Key": "gen-1"}
    body = {"prompt": "a fox", "numberResults": 1}
    first = api.post("/ai-generations/generate", body, headers=headers)
    assert first.status_code == 504
    generation_id = first.json()["generationId"]
    execute_job(generation_id)
    done = api.post("/ai-generations/generate", body, headers=headers)
    assert done.status_code == 200 and done.json()["generationId"] == generation_id
    assert Job.objects.count() == 1 and _charges(shop) == 1


def test_a_dead_requests_key_is_taken_over_after_its_lease(api: Any, shop: Shop) -> None:
    """GIVEN a record whose request died before creating a job (lease passed) WHEN the client
    retries THEN the retry takes the key over and does the work once."""
    key = ApiKey.objects.get(shop=shop)
    request = RequestFactory().post(
        "/v1/posts", data=b'{"text": "hello"}', content_type="application/json"
    )
    IdempotencyRecord.objects.create(
        api_key=key,
        key="k-dead",
        request_hash=idempotency.request_fingerprint(request),
        claim_token="died",
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    response = api.post("/v1/posts", {"text": "hello"}, headers={"Idempotency-Key": "k-dead"})
    assert response.status_code == 201
    record = IdempotencyRecord.objects.get(key="k-dead")
    assert record.completed and record.claim_token != "died"
    replay = api.post("/v1/posts", {"text": "hello"}, headers={"Idempotency-Key": "k-dead"})
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["data"]["id"] == response.json()["data"]["id"]


def test_a_request_that_lost_its_key_rolls_its_job_and_charge_back(shop: Shop) -> None:
    """GIVEN a slow first request whose lease passed and a retry that took the key over WHEN the
    first request then creates its job THEN its bind fails, and its job and charge roll back."""
    from generations.actions import submit_job

    key = ApiKey.objects.create(shop=shop, name="k", prefix="x", key_hash="h" * 64, scopes=[])
    record = IdempotencyRecord.objects.create(
        api_key=key, key="slow", request_hash="f", claim_token="mine"
    )
    request: Any = RequestFactory().post("/")
    request.idempotency_claim = idempotency.Claim(record.pk, "mine")

    def create() -> Job:
        job = submit_job(shop, kind="generate", params={"count": 1}, cost_cents=3)
        IdempotencyRecord.objects.filter(pk=record.pk).update(claim_token="retry")  # taken over
        return job

    with pytest.raises(ApiError) as err:
        idempotency.submit_bound(request, create)
    assert err.value.status == 409
    assert Job.objects.count() == 0 and _charges(shop) == 0


def test_prompt_words_the_engine_could_not_draw_are_reported(api: Any) -> None:
    body = api.post(
        "/ai-generations/generate", {"prompt": "a teal fox beside a zorblaxian", "numberResults": 1}
    ).json()
    assert "zorblaxian" in body["unrecognizedWords"]
    job = Job.objects.get(id=body["generationId"])
    assert "zorblaxian" in job.result["unrecognized_words"]
    data = api.post("/v0/images/generations", {**EXAMPLE, "prompt": "a zorblaxian fox"}).json()
    assert "zorblaxian" in data["data"]["unrecognizedWords"]
    media = api.post("/ai/generate-image", {"prompt": "a zorblaxian fox"}).json()["data"]
    assert "zorblaxian" in media["ai"]["unrecognized_words"]
    # A prompt the engine fully understood reports nothing.
    body = api.post("/ai-generations/generate", {"prompt": "a fox", "numberResults": 1}).json()
    assert "unrecognizedWords" not in body
