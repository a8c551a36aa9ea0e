"""studio.postgres: the per-request health check of a reused PostgreSQL connection reads the idle
socket instead of sending SELECT 1, and still notices a connection the server has closed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_base

from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def wrapper() -> Iterator[Any]:
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL=postgres://…)")
    from studio.postgres.base import DatabaseWrapper

    own = connections.create_connection("default")  # a connection of its own, outside the test's
    assert isinstance(own, DatabaseWrapper)
    own.ensure_connection()
    yield own
    own.close()


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the SELECT 1 checks of Django's own backend."""
    calls: list[int] = []
    original = django_base.DatabaseWrapper.is_usable

    def counting(self: Any) -> bool:
        calls.append(1)
        return original(self)

    monkeypatch.setattr(django_base.DatabaseWrapper, "is_usable", counting)
    return calls


def test_an_idle_good_connection_is_usable_without_a_query(wrapper: Any, round_trips: list) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 2")
    assert wrapper.is_usable() is True
    assert round_trips == []


def test_a_connection_the_server_closed_is_not(wrapper: Any, round_trips: list) -> None:
    pid = wrapper.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    # The server's notice reaches the socket soon after; until then the check may still pass.
    for _ in range(100):
        if not wrapper.is_usable():
            break
        time.sleep(0.05)
    assert wrapper.is_usable() is False
    assert round_trips == []
    # Django's per-request check closes it, and the next query opens a new connection.
    wrapper.health_check_enabled, wrapper.health_check_done = True, False
    wrapper.close_if_health_check_failed()
    assert wrapper.connection is None
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 3")
        assert cursor.fetchone() == (3,)
    assert wrapper.connection.info.backend_pid != pid


def test_inside_a_transaction_it_asks_the_server(wrapper: Any, round_trips: list) -> None:
    wrapper.set_autocommit(False)
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 4")
    assert wrapper.is_usable() is True
    assert round_trips == [1]
    wrapper.rollback()
    wrapper.set_autocommit(True)


def test_the_project_uses_it() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL=postgres://…)")
    from studio.postgres.base import DatabaseWrapper

    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
