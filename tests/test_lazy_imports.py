"""Image libraries stay out of processes that never touch pixels (issue 18: web workers ≤ 120 MB).

bench/bench_memory.py measures the memory; this keeps the cause from coming back: a module-level
`import cv2`, or a module constant computed with numpy, in anything a web process imports.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from studio.lazymodules import lazy_module

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ["numpy", "cv2", "scipy", "pymatting", "numba", "skimage"]

WEB_PROCESS = """
import json, sys
import django
django.setup()
from django.urls import get_resolver
def walk(patterns):
    for p in patterns:
        walk(getattr(p, "url_patterns", []))
walk(get_resolver().url_patterns)
import studio.wsgi
print(json.dumps(sorted(m for m in %r if m in sys.modules)))
"""


def test_it_loads_no_image_library_for_urls_models_and_the_api_edge():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "studio.settings", "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS % (HEAVY,)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], (
        f"importing the URLs loaded {loaded}: import it inside the function that touches pixels "
        "or bind it with studio.lazymodules.lazy_module (and build module constants on first use)"
    )


def test_it_imports_the_library_on_first_attribute_read():
    np = lazy_module("numpy")
    assert "not loaded yet" in repr(np)
    assert np.zeros((2, 3)).shape == (2, 3)
    assert "(loaded)" in repr(np)
    assert np.float32 is sys.modules["numpy"].float32


def test_it_imports_named_submodules():
    scipy = lazy_module("scipy", "sparse", "sparse.linalg")
    matrix = scipy.sparse.csr_matrix([[2.0, 0.0], [0.0, 4.0]])
    solution, info = scipy.sparse.linalg.cg(matrix, [2.0, 4.0])
    assert info == 0
    assert list(solution.round(6)) == [1.0, 1.0]
