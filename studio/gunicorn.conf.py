"""Gunicorn configuration for the web process:

    gunicorn -c studio/gunicorn.conf.py studio.wsgi:application

Threaded workers (gthread). A synchronous API route holds its thread while it waits for its job
(up to API_SYNC_TIMEOUT_SECONDS, 180 by default) and then answers the family's 504 with the job id.
A gthread worker keeps heart-beating from its main loop while request threads wait, so the
arbiter never kills it mid-wait; with plain sync workers the whole worker is blocked, and a
`--timeout` shorter than the wait would kill it and the client would get an HTML 500 instead.
So this file refuses to start a configuration where a sync-style worker's timeout is not above the
wait, and keeps the graceful timeout above it too, so a deploy lets waiting requests finish.

Environment (all optional): GUNICORN_BIND (0.0.0.0:8000), WEB_CONCURRENCY (workers, 2),
GUNICORN_THREADS (8 per worker), GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT (both default to
the sync wait + 30 s). Command-line flags override this file, and are checked the same way.
"""

from __future__ import annotations

import os
from typing import Any

# The sync wait, read the way studio/settings.py reads it (the arbiter does not load Django).
SYNC_WAIT = float(os.environ.get("API_SYNC_TIMEOUT_SECONDS", "180"))
MARGIN = 10  # seconds a sync route needs after its wait to render and send the 504

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", str(int(SYNC_WAIT) + 30)))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", str(int(SYNC_WAIT) + 30)))
keepalive = 5
# Recycle workers now and then so a slow leak in a library cannot grow without bound.
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = "-"
errorlog = "-"

# Worker classes whose timeout counts a single blocked request (the worker cannot heart-beat).
BLOCKING = {"sync", "gunicorn.workers.sync.SyncWorker"}


def problems(cfg: Any) -> list[str]:
    """What makes this configuration cut synchronous API routes short."""
    found = []
    worker = str(cfg.worker_class_str)
    if worker in BLOCKING and cfg.timeout <= SYNC_WAIT + MARGIN:
        found.append(
            f"worker class {worker!r} with --timeout {cfg.timeout}s: a synchronous API route "
            f"waits up to API_SYNC_TIMEOUT_SECONDS={SYNC_WAIT:g}s for its job, so the worker "
            f"would be killed mid-request (the client gets an HTML 500, not the documented 504). "
            f"Use the gthread worker of studio/gunicorn.conf.py, or a timeout above "
            f"{SYNC_WAIT + MARGIN:g}s, or lower API_SYNC_TIMEOUT_SECONDS."
        )
    if cfg.graceful_timeout <= SYNC_WAIT:
        found.append(
            f"--graceful-timeout {cfg.graceful_timeout}s is not above API_SYNC_TIMEOUT_SECONDS="
            f"{SYNC_WAIT:g}s: a restart would cut waiting API requests short."
        )
    return found


def on_starting(server: Any) -> None:
    found = problems(server.cfg)
    if found:
        raise SystemExit("Refusing to start gunicorn: " + " ".join(found))
