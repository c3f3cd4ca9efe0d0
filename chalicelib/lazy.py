"""Modules whose code runs on first use, not at import (the standard library's LazyLoader recipe).

Every API route family lives in the one Lambda function behind API Gateway, so `import app` would
otherwise execute every service of every family before the first request. Route modules bind their
services through `lazy_import`: a cold start for a device poll executes the device path only, and the
configuration or catalogue code loads with the first request that needs it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
