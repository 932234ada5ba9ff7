"""Where the open dataset comes from and where its files are kept.

Module attributes, read at every call (so a test server, a mirror or another cache can
stand in at any time, as with vitaldb's ``vitaldb.dataset.api_url``):

``api_url``
    The web API, ``https://api.vitaldb.net`` unless ``VITALPROC_API_URL`` says otherwise.
``DATASET_VERSION``
    The versioned prefix of the case files: ``{api_url}/{DATASET_VERSION}/{caseid}.vital``.
``cache_dir``
    The cache folder (``VITALPROC_CACHE_DIR``; default: the platform's cache folder,
    e.g. ``~/.cache/vitalproc`` on Linux). None: the default.
``offline``
    True (``VITALPROC_OFFLINE=1``): never touch the network; what is not cached raises
    ``NotCachedError``.
``mirror``
    A local copy of the public file release (``VITALPROC_MIRROR``): ``vital_files/NNNN.vital``,
    ``clinical_data.csv``, ``lab_data.csv``, ``track_names.csv``. When set, cases and
    tables are read from it and ``api_url`` is not used.
``timeout``, ``retries``, ``backoff``
    Seconds a connection or read may stall; attempts after the first failure; the first
    wait between attempts (doubled after each, up to 10 s, with jitter).
"""

from __future__ import annotations

import os
import re
import sys

api_url: str = os.environ.get("VITALPROC_API_URL") or "https://api.vitaldb.net"
DATASET_VERSION: str = "1.0.1"
cache_dir: str | None = os.environ.get("VITALPROC_CACHE_DIR") or None
offline: bool = os.environ.get("VITALPROC_OFFLINE", "").strip().lower() in ("1", "true", "yes")
mirror: str | None = os.environ.get("VITALPROC_MIRROR") or None
timeout: float = 30.0
retries: int = 4
backoff: float = 0.5

#: Names a caller may set through ``vitalproc.opendata`` or ``vitalproc.compat``.
NAMES = (
    "api_url",
    "DATASET_VERSION",
    "cache_dir",
    "offline",
    "mirror",
    "timeout",
    "retries",
    "backoff",
)


def default_cache_dir() -> str:
    """The platform's per-user cache folder for vitalproc (as platformdirs picks it)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
        return os.path.join(base, "vitalproc", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/vitalproc")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "vitalproc")


def cache_root() -> str:
    """The cache folder in use (``cache_dir`` or the platform default)."""
    return os.fspath(cache_dir) if cache_dir else default_cache_dir()


def source_key(url: str) -> str:
    """A folder name for one API: two servers (or ports) never share cached files."""
    stripped = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.rstrip("/"))
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stripped) or "api"


def case_url(caseid: object) -> str:
    """vitaldb's URL of a case file."""
    return f"{api_url}/{DATASET_VERSION}/{caseid}.vital"
