"""Shared by the benchmarks: service checks, a private benchmark database, percentiles.

Benchmarks never touch the configured database itself: they create (and keep, for fast re-runs)
a sibling database named `bench_<name>` (PostgreSQL) or `.data/bench_studio.sqlite3`.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection


class Skip(Exception):
    """A service the benchmark needs is missing; the message says which and how to provide it."""


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        raise Skip(
            "needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/name "
            f"(the configured database is {connection.vendor})"
        )
    try:
        connection.ensure_connection()
    except Exception as exc:
        raise Skip(f"PostgreSQL is not reachable: {exc}") from exc


def require_redis_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        raise Skip(f"needs a Redis broker: set CELERY_BROKER_URL=redis://host:6379/N (have {url})")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise Skip(f"Redis at {url} is not reachable: {exc}") from exc


_bench_database = ""


def use_bench_database() -> str:
    """Switch the default connection to the benchmark database (created/migrated if needed)."""
    global _bench_database
    if _bench_database:  # already switched by an earlier benchmark in this run
        return _bench_database
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        conf["TEST"]["NAME"] = str(settings.DATA_DIR / "bench_studio.sqlite3")
    else:
        conf["TEST"]["NAME"] = f"bench_{conf['NAME']}"
    # serialize=False: the test runner's copy of every row (minutes with a 1M-asset shop kept).
    _bench_database = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=True, serialize=False
    )
    return _bench_database


def test_client(**kwargs: Any) -> Any:
    """A Django test client whose `testserver` host is allowed whatever ALLOWED_HOSTS is set to
    (a deployment's `.env` usually leaves it out), so a benchmark never fails on DisallowedHost."""
    from django.test import Client

    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    return Client(**kwargs)


def machine_load() -> str:
    """The 1-minute load average over the core count: figures are only comparable at low load."""
    import os

    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def percentile(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def summary(values_ms: list[float]) -> dict[str, Any]:
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 50), 1),
        "p95_ms": round(percentile(values_ms, 95), 1),
        "max_ms": round(max(values_ms), 1),
    }


def verdict(name: str, value: float, target: float) -> str:
    line = (
        f"{'PASS' if value <= target else 'MISS'} {name}: {value:.1f} ms (target ≤ {target:g} ms)"
    )
    print(line)
    return line


def _cpu_ticks(stat: str) -> tuple[str, int, int]:
    """(command name, own CPU ticks, reaped children's CPU ticks) of a /proc/<pid>/stat line."""
    head, _, rest = stat.rpartition(")")
    fields = rest.split()
    return (
        head.partition("(")[2],
        int(fields[11]) + int(fields[12]),
        int(fields[13]) + int(fields[14]),
    )


def workers_cpu_s(master: int) -> float:
    """User + system CPU seconds of a gunicorn master's worker processes so far, the exited
    ones included (workers are recycled after max_requests; the master has reaped them)."""
    try:
        pids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        _, _, total = _cpu_ticks(Path(f"/proc/{master}/stat").read_text())
    except OSError:
        return 0.0
    for pid in pids:
        try:
            total += _cpu_ticks(Path(f"/proc/{pid}/stat").read_text())[1]
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def services_cpu_s(names: tuple[str, ...] = ("postgres", "redis-server")) -> float:
    """CPU seconds used so far by this machine's database and Redis processes (all of them,
    whoever they serve; read it around a measurement to get what it cost them)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, own, reaped = _cpu_ticks((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        if name in names:
            total += own + reaped
    return total / os.sysconf("SC_CLK_TCK")


def migrate_and_seed(env: dict[str, str], script: str) -> dict[str, Any]:
    """Migrate the database `env` points at and run a seed script there, each in a subprocess
    of the repository root; returns the JSON the script printed on its `SEED ` line."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=root, env=env, check=True)
    seeded = subprocess.run(
        [python, "-c", script], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    line = next(line for line in seeded.stdout.splitlines() if line.startswith("SEED "))
    return json.loads(line[5:])
