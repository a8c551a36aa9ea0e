"""Staff fixtures: a moderator, a support agent and a superuser, each with a logged-in client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from studio.staff import MODERATORS, SUPPORT


@pytest.fixture
def make_staff(db: Any, django_user_model: Any) -> Callable[..., Any]:
    def make(email: str, group: str | None = None, *, superuser: bool = False) -> Any:
        if superuser:
            return django_user_model.objects.create_superuser(email, email, "x" * 12)
        user = django_user_model.objects.create_user(email, email, "x" * 12, is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture
def moderator(make_staff: Callable[..., Any]) -> Any:
    return make_staff("mod@example.com", MODERATORS)


@pytest.fixture
def support(make_staff: Callable[..., Any]) -> Any:
    return make_staff("support@example.com", SUPPORT)


@pytest.fixture
def root(make_staff: Callable[..., Any]) -> Any:
    return make_staff("root@example.com", superuser=True)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def mod_client(moderator: Any) -> Client:
    return logged_in(moderator)


@pytest.fixture
def support_client(support: Any) -> Client:
    return logged_in(support)


@pytest.fixture
def root_client(root: Any) -> Client:
    return logged_in(root)
