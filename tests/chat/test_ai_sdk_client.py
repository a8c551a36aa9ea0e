"""The AI SDK's own client (npm `ai`: DefaultChatTransport + readUIMessageStream, in Node) against
the chat stream of a live server with a real worker: tests/node/chat.test.mjs.

`npm ci` installs tests/node's locked packages once (kept in tests/node/node_modules, git-ignored,
reinstalled when package-lock.json changes). Without Node.js 20+ and npm the test is skipped with
the reason; STUDIO_REQUIRE_SERVICES=1 (CI) turns that into a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generations.chat.models import ChatTurn
from generations.models import Job
from studio import apikeys
from studio.models import Shop
from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
MIN_NODE = 20


def _node_version(node: str) -> int:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().lstrip("v").split(".")[0])


@pytest.fixture(scope="session")
def node_client() -> str:
    """The node executable, with tests/node's packages installed (npm ci, once per lock)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail("Node.js and npm are needed for the AI SDK client test (install nodejs 20+)")
    assert node is not None and npm is not None
    if _node_version(node) < MIN_NODE:
        skip_or_fail(f"Node.js {MIN_NODE}+ is needed for the AI SDK client test")
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    stamp = NODE_DIR / "node_modules" / ".studio-lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            skip_or_fail(f"npm ci failed in tests/node: {result.stderr.strip()[-800:]}")
        stamp.write_text(digest)
    return node


def test_it_serves_the_ai_sdk_client(
    node_client: str, live_server: Any, start_worker: Any, shop: Shop, settings: Any
) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 10_000
    settings.RATELIMIT_REDIS_URL = ""
    start_worker()
    key = apikeys.create_api_key(shop, scopes=["ai:generate"], name="node").raw
    env = {**os.environ, "STUDIO_URL": live_server.url, "STUDIO_API_KEY": key}
    result = subprocess.run(
        [node_client, "--test", "--test-reporter=spec", "chat.test.mjs"],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    summary = json.loads(
        next(line for line in output.splitlines() if "SUMMARY " in line).split("SUMMARY ", 1)[1]
    )
    assert summary["tools"] == [
        "tool-generate_image",
        "tool-remove_background",
        "tool-build_mockup",
    ]
    turns = ChatTurn.objects.filter(conversation_id=summary["conversationId"]).order_by("position")
    assert [t.request for t in turns] == [
        "make a cozy cabin sticker and put it on a mug",
        "now on a hoodie",
    ]
    assert turns[0].conversation.client_id == "node-chat-1"
    assert Job.objects.filter(shop=shop, kind="generate").count() == 1
