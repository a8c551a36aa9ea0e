"""`make smoke-engines` skips cleanly without credentials and times one image per engine."""

from __future__ import annotations

import pytest

from bench import smoke_engines

from .conftest import b64png
from .fakeserver import Reply, serve

pytestmark = pytest.mark.django_db


def test_it_skips_with_a_clear_message_without_credentials(capsys):
    assert smoke_engines.main() == 0
    assert "SKIP smoke-engines: no engine credentials" in capsys.readouterr().out


def test_it_makes_one_image_per_configured_engine(capsys, monkeypatch, settings, tmp_path):
    settings.DATA_DIR = tmp_path

    def openai(request, base):
        return Reply(200, {"data": [{"b64_json": b64png(32, 32)}]})

    with serve(openai) as (base, seen):
        settings.OPENAI_API_KEY = "sk-smoke"
        settings.OPENAI_BASE_URL = base
        assert smoke_engines.main() == 0
    out = capsys.readouterr().out
    assert "openai" in out and "OK " in out and "1 of 1 engines produced an image." in out
    assert len(seen) == 1 and list((tmp_path / "smoke").iterdir())
