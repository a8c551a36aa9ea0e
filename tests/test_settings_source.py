"""One configuration source: the environment is read in studio/settings.py and nowhere else in
the studio's own code, except the bootstrap and library hand-offs documented there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each exception is explained in studio/settings.py's docstring.
ALLOWED = {
    "studio/settings.py",
    "studio/celery.py",  # DJANGO_SETTINGS_MODULE, before settings exist
    "studio/wsgi.py",  # the same
    "studio/gunicorn.conf.py",  # read by the gunicorn arbiter, which does not load Django
    "generations/engines/local.py",  # U2NET_HOME handed to rembg
}
ENVIRON = re.compile(r"\bos\.(environ|getenv)\b")


def test_no_app_module_reads_the_environment_outside_settings():
    offenders = []
    for package in ("studio", "generations", "mockups"):
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED or "/migrations/" in rel:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if ENVIRON.search(line):
                    offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == [], "read it in studio/settings.py instead:\n" + "\n".join(offenders)


def test_engine_settings_keep_their_environment_names_and_defaults():
    """GIVEN engine variables in a fresh process's environment THEN settings carries them under
    the same names (unset ones keep their defaults, a malformed number falls back to it). Only
    the settings module is loaded, so the made-up extra engine paths are never imported."""
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'studio.settings'; "
        "from django.conf import settings as s; "
        "print(repr((s.FAL_KEY, s.COMFYUI_URL, s.ENGINE_POLL_INTERVAL, s.ENGINE_READ_TIMEOUT, "
        "s.A1111_UPSCALER, s.STUDIO_EXTRA_ENGINES, s.MOCKUP_CACHE_MB)))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "FAL_KEY": " id:secret ",
        "ENGINE_POLL_INTERVAL": "0.25",
        "ENGINE_READ_TIMEOUT": "soon",
        "STUDIO_EXTRA_ENGINES": "a.b, c.d",
        "STUDIO_DATA_DIR": str(ROOT / ".data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(
        ("id:secret", "", 0.25, 120.0, "R-ESRGAN 4x+", ["a.b", "c.d"], 256.0)
    )
