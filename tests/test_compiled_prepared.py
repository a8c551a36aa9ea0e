"""Compiled queries as prepared statements on PostgreSQL (studio/compiled.py): prepared once
per connection, the same rows as the plain SQL, and a query the server will not prepare runs
plainly without harming the caller's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext

from generations.api.common import JOB_POLL
from generations.library import store_asset
from generations.models import Asset, Job
from studio import compiled
from studio.compiled import CompiledQuery, Param
from studio.models import Shop
from tests.conftest import png_bytes, skip_or_fail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("prepared statements are PostgreSQL's (set DATABASE_URL)")


def _statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def _job(shop: Shop) -> Job:
    job = Job.objects.create(shop=shop, kind="generate", status="completed", params={})
    for i in range(2):
        store_asset(shop, png_bytes(8 + i, 8), kind=Asset.Kind.GENERATED, job=job, prompt="p")
    return job


def test_it_prepares_once_per_connection_and_reads_the_same_rows(
    transactional_db: Any, shop: Shop, settings: Any
) -> None:
    job = _job(shop)
    settings.PREPARED_QUERIES = False
    plain = JOB_POLL.rows(shop=shop.pk, job=job.id)
    settings.PREPARED_QUERIES = True
    with CaptureQueriesContext(connection) as first:
        prepared = JOB_POLL.rows(shop=shop.pk, job=job.id)
    name = JOB_POLL._get(connection).name
    assert name in _statements()
    with CaptureQueriesContext(connection) as second:
        again = JOB_POLL.rows(shop=shop.pk, job=job.id)
    assert prepared == again == plain and len(plain) == 2
    assert [q["sql"].split(" (")[0] for q in first] == [f"EXECUTE {name}"]
    assert len(second) == 1
    # A new session has no statements: the next use prepares it there.
    connection.close()
    assert JOB_POLL.rows(shop=shop.pk, job=job.id) == plain
    assert name in _statements()


def test_a_query_the_server_will_not_prepare_runs_plainly_inside_a_transaction(
    shop: Shop,
) -> None:
    # `$1 + $2`: PostgreSQL cannot tell which operator is meant, so PREPARE is refused.
    untyped = CompiledQuery(
        lambda: (
            Shop.objects.filter(pk=Param("shop", models.BigIntegerField()))
            .annotate(echo=Param("a", models.IntegerField()) + Param("b", models.IntegerField()))
            .values_list("echo")
        )
    )
    with transaction.atomic():
        assert untyped.rows(shop=shop.pk, a=2, b=3) == [(5,)]
        assert untyped._get(connection).name in compiled._unpreparable
        assert Shop.objects.filter(pk=shop.pk).exists()  # the transaction still works


def test_forgetting_the_statements_prepares_them_again(shop: Shop) -> None:
    job = _job(shop)
    expected = JOB_POLL.rows(shop=shop.pk, job=job.id)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    compiled.forget_prepared()
    assert JOB_POLL.rows(shop=shop.pk, job=job.id) == expected
