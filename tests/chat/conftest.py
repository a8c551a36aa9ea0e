"""Chat fixtures: turns run inline (the job runner called directly, as a worker would), an API
client with a key, and the language model switched off unless a test configures the fake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from generations import actions
from generations.chat.actions import start_turn
from generations.chat.models import ChatTurn
from studio import apikeys
from studio.models import Shop
from tests.api.conftest import ApiClient, api_for, make_key  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _offline_by_default(settings: Any) -> None:
    settings.CHAT_MODEL = ""
    settings.API_RATE_LIMIT_PER_MINUTE = 1000
    settings.RATELIMIT_REDIS_URL = ""


@pytest.fixture
def run_turn() -> Callable[[ChatTurn], ChatTurn]:
    def run(turn: ChatTurn) -> ChatTurn:
        actions.execute_job(str(turn.job_id))
        return ChatTurn.objects.select_related("job", "conversation").get(id=turn.id)

    return run


@pytest.fixture
def say(shop: Shop, run_turn: Callable[[ChatTurn], ChatTurn]) -> Callable[..., ChatTurn]:
    """say(text, after=previous_turn) → the finished turn (same conversation as `after`)."""

    def send(text: str, after: ChatTurn | None = None, **kwargs: Any) -> ChatTurn:
        conversation = after.conversation if after is not None else None
        return run_turn(start_turn(shop, text, conversation=conversation, **kwargs))

    return send


@pytest.fixture
def chat_api(shop: Shop) -> ApiClient:
    return ApiClient(apikeys.create_api_key(shop, scopes=["ai:generate"], name="chat").raw)
