"""Optional dependencies: import one on first use, or say which extra installs it.

``import vitalproc`` loads no optional library; each feature imports its own through
``require`` when it runs, and reports whether it can run through ``available``.
"""
from __future__ import annotations

from typing import Any


def available(*modules: str) -> bool:
    """Whether every optional library named can be imported (a writer's ``is_available``)."""
    import importlib

    try:
        for module in modules:
            importlib.import_module(module)
    except ImportError:
        return False
    return True


def require(module: str, extra: str) -> Any:
    """Import an optional library, or raise ImportError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{module} is needed for this format: "
                          f"pip install 'vitalproc[{extra}]'") from exc
