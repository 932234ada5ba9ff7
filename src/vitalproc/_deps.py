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


def require(module: str, extra: str, what: str = "this format") -> Any:
    """Import an optional library, or raise ImportError naming the extra to install.

    Parameters
    ----------
    module
        The module to import (``"pyarrow.parquet"``, ``"distributed"``...).
    extra
        The extra of vitalproc that installs it (``formats``, ``frames``, ``dataset``).
    what
        What needs it, for the message: ``"<what> needs <module>: pip install
        'vitalproc[<extra>]'"``.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{what} needs {module}: pip install 'vitalproc[{extra}]'") from exc
