"""Image libraries imported on first use, so a web process that never touches pixels never loads
them (issue 18: numpy, OpenCV and SciPy are ~75 MB of a web worker's resident memory).

A module that works on pixels binds its library names like this, which keeps type checkers and
editors seeing the real modules:

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = lazy_module("numpy")

The first attribute read (`np.zeros`) imports the library and copies its namespace onto the
stand-in, so later reads are plain attribute lookups with no per-call cost. Module-level code
(constants, default arguments) must not read from a stand-in, or importing the module loads the
library again; tests/test_lazy_imports.py checks that importing every URL pattern loads none.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class LazyModule(types.ModuleType):
    """Stands in for `name` (and its `submodules`, for `import scipy.sparse` style use)."""

    def __init__(self, name: str, submodules: tuple[str, ...] = ()) -> None:
        super().__init__(name)
        self.__dict__["_lazy_submodules"] = submodules
        self.__dict__["_lazy_loaded"] = False

    def __getattr__(self, attr: str) -> Any:
        # Only called when normal lookup fails: before loading, and afterwards for attributes
        # the library adds to itself later (numpy's on-demand submodules).
        module = importlib.import_module(self.__name__)
        if not self.__dict__["_lazy_loaded"]:
            for sub in self._lazy_submodules:
                importlib.import_module(f"{self.__name__}.{sub}")
            self.__dict__.update(module.__dict__)
            self.__dict__["_lazy_loaded"] = True
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self.__dict__["_lazy_loaded"] else "not loaded yet"
        return f"<lazy module {self.__name__!r} ({state})>"


def lazy_module(name: str, *submodules: str) -> Any:
    return LazyModule(name, submodules)
