"""Run benchmarks: `python -m bench [name ...]` (`python -m bench soak [--seconds N]` for the soak,
which runs only when named).

Each bench/bench_<name>.py module defines `run() -> dict` and prints its own figures; the
results of all modules are written to bench/results/latest.json. Targets are checked by the
modules themselves and reported as PASS/MISS lines; a miss does not stop the other benchmarks.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path

# One core means one BLAS thread too: numpy is imported by django.setup(), after which
# OpenBLAS's thread count can no longer be set from the environment.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Benchmarks run against their own databases, never a deployment's data: with DATABASE_URL set
# to PostgreSQL (not a "local" run) the settings insist on a SECRET_KEY, which a benchmark run
# from a shell need not have.
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret-" + "x" * 40)

import django  # noqa: E402


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    django.setup()
    here = Path(__file__).parent
    names = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )
    # Options: --seconds N sets the soak's duration (BENCH_SOAK_SECONDS).
    args = list(argv)
    if "--seconds" in args:
        i = args.index("--seconds")
        os.environ["BENCH_SOAK_SECONDS"] = args[i + 1]
        del args[i : i + 2]
    # Long-running benchmarks run only when named.
    explicit = {"soak"}
    wanted = args or [n for n in names if n not in explicit]
    results: dict[str, object] = {}
    for name in wanted:
        if name not in names:
            print(f"unknown benchmark {name!r}; have: {', '.join(names)}")
            return 2
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.bench_{name}")
        try:
            results[name] = module.run()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"ERROR {name}: {exc}")
        print(f"({name} took {time.perf_counter() - started:.1f} s)")
    out = here / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwrote {out / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
