"""Web worker memory: resident set of a fresh web process after startup and after a mixed set of
requests that touch no pixels, beside a bare Django process serving a JSON view.

Target (issue 18, item 5): a web worker ≤ 120 MB. Image libraries (numpy, OpenCV, SciPy,
pymatting, numba, scikit-image) are imported only by code that touches pixels, so a web process
serving pages and API reads never loads them; the child reports which of them it ended up with.

Each figure comes from a fresh Python process (this one has every benchmark's imports loaded):
`VmRSS` after `django.setup()` and loading every URL pattern, then `VmRSS` and the peak `VmHWM`
after the requests. The studio child reads the kept benchmark database (bench.support), where this
module creates a user, a shop, an API key and a few rows once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.support import machine_load, use_bench_database

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 120
HEAVY = ("numpy", "cv2", "scipy", "pymatting", "numba", "skimage", "PIL.Image")

_PRELUDE = r"""
import json, os, sys
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

def vm():
    out = {}
    for line in open("/proc/self/status"):
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(line.split()[1]) / 1024, 1)
    return out
"""

STUDIO_CHILD = (
    _PRELUDE
    + r"""
spec = json.loads(sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
from django.conf import settings
settings.DATABASES["default"]["NAME"] = spec["db"]
import django
django.setup()
from django.urls import get_resolver
def walk(patterns):
    for p in patterns:
        walk(getattr(p, "url_patterns", []))
walk(get_resolver().url_patterns)
startup = vm()
from django.contrib.auth import get_user_model
from django.test import Client
if "testserver" not in settings.ALLOWED_HOSTS:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
page = Client()
page.force_login(get_user_model().objects.get(username=spec["email"]))
api = Client(headers={"api-key": spec["key"]})
statuses = {}
for _ in range(spec["rounds"]):
    for client, path in [
        (page, "/library/"),
        (page, "/usage/"),
        (page, "/"),
        (page, "/jobs/"),
        (page, "/presets/"),
        (page, "/chat/"),
        (page, "/members/"),
        (api, "/v0/usage"),
        (api, "/v0/images/library"),
        (api, "/v0/images/generations/" + spec["job"]),
        (api, "/ai-generations/" + spec["job"]),
        (Client(), "/accounts/login/"),
    ]:
        statuses[path] = client.get(path).status_code
after = vm()
print("RESULT " + json.dumps({
    "startup": startup, "after": after, "statuses": statuses,
    "heavy_loaded": [m for m in spec["heavy"] if m in sys.modules],
}))
"""
)

BARE_CHILD = (
    _PRELUDE
    + r"""
spec = json.loads(sys.argv[1])
from django.conf import settings
settings.configure(
    DEBUG=False, SECRET_KEY="bench-memory-" + "x" * 40, ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                    "django.contrib.sessions"],
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
import django
django.setup()
from django.http import JsonResponse
from django.urls import path
urlpatterns = [path("ping", lambda request: JsonResponse({"ok": True}))]
startup = vm()
from django.test import Client
client = Client()
statuses = {}
for _ in range(spec["rounds"] * 9):
    statuses["/ping"] = client.get("/ping").status_code
after = vm()
print("RESULT " + json.dumps({"startup": startup, "after": after, "statuses": statuses,
                              "heavy_loaded": [m for m in spec["heavy"] if m in sys.modules]}))
"""
)


def _prepare() -> dict[str, str]:
    """The user, shop, API key and a finished job the studio child reads (created once)."""
    from django.contrib.auth import get_user_model

    from generations.models import Job
    from studio import actions as studio_actions
    from studio import apikeys
    from studio.models import Membership

    email = "bench-memory@example.com"
    user = get_user_model().objects.filter(username=email).first() or studio_actions.sign_up(
        email, "bench-memory-password", "Bench memory"
    )
    shop = Membership.objects.get(user=user).shop
    shop.api_rate_limit_per_minute = 10**9
    shop.save(update_fields=["api_rate_limit_per_minute"])
    key = apikeys.create_api_key(shop, scopes=["ai:generate", "library:read"]).raw
    job = Job.objects.filter(shop=shop).first() or Job.objects.create(
        shop=shop,
        kind="generate",
        status="completed",
        model="builtin:procedural",
        params={"count": 1},
        cost_cents=1,
    )
    return {"email": email, "key": key, "job": str(job.id)}


def _child(script: str, spec: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode or line is None:
        raise RuntimeError(f"child process failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(line[len("RESULT ") :])


def run() -> dict[str, Any]:
    from django.db import connection

    use_bench_database()
    spec = {
        **_prepare(),
        "db": str(connection.settings_dict["NAME"]),
        "rounds": int(os.environ.get("BENCH_MEMORY_ROUNDS", "20")),
        "heavy": list(HEAVY),
    }
    result: dict[str, Any] = {
        "database": connection.vendor,
        "bare_django": _child(BARE_CHILD, spec),
        "studio_web": _child(STUDIO_CHILD, spec),
    }
    bare, web = result["bare_django"], result["studio_web"]
    bad = {p: s for p, s in web["statuses"].items() if s != 200}
    if bad:
        raise RuntimeError(f"benchmark request went wrong: {bad}")
    for name, r in (("bare Django", bare), ("studio web", web)):
        print(
            f"{name:12s} RSS after startup {r['startup']['VmRSS']:6.1f} MB, after "
            f"{spec['rounds']} rounds of requests {r['after']['VmRSS']:6.1f} MB "
            f"(peak {r['after']['VmHWM']:6.1f} MB); image libraries loaded: "
            f"{', '.join(r['heavy_loaded']) or 'none'}"
        )
    result["machine"] = machine_load()
    print(result["machine"])
    peak = web["after"]["VmHWM"]
    line = (
        f"{'PASS' if peak <= TARGET_MB else 'MISS'} web worker peak RSS: {peak:.1f} MB "
        f"(target ≤ {TARGET_MB} MB; bare Django {bare['after']['VmHWM']:.1f} MB, "
        f"×{peak / bare['after']['VmHWM']:.1f})"
    )
    print(line)
    result["verdicts"] = [line]
    return result
