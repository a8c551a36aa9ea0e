"""`make run` serves the studio as its users see it: DEBUG off unless asked for, static files
served by the app, a favicon, and the studio's own error pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

ROOT = Path(__file__).resolve().parent.parent


def settings_in_a_fresh_process(**env: str) -> str:
    """What studio/settings.py decides with this environment (and no DEBUG unless given)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL")}
    clean.update(env, DJANGO_SETTINGS_MODULE="studio.settings")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.WHITENOISE_USE_FINDERS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_it_handles_no_debug_setting_as_debug_off():
    assert settings_in_a_fresh_process() == "False True"
    assert settings_in_a_fresh_process(DEBUG="true") == "True True"


def test_it_handles_static_files_and_the_favicon_with_debug_off(settings, db):
    settings.DEBUG = False
    client = Client()
    css = client.get("/static/css/studio.css")
    assert css.status_code == 200 and b"--c-accent" in b"".join(css.streaming_content)
    icon = client.get("/favicon.ico", follow=True)
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/")
    assert client.get("/static/favicon.svg").status_code == 200


def test_it_handles_an_unknown_url_with_the_studios_page(settings, db):
    settings.DEBUG = False
    response = Client().get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in html and "Go to the studio" in html and "favicon.svg" in html
    assert "URLconf" not in html and "urlpatterns" not in html


@pytest.mark.django_db
def test_it_handles_a_server_error_with_the_studios_page():
    response = server_error(RequestFactory().get("/boom/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and "studio.css" in html and "favicon.svg" in html
