"""The local cache of case files: complete and verified, or nothing.

Layout: ``<cache root>/<api>/<version>/``, holding ``{caseid}.vital`` (complete, its
gzip trailers checked, its size the server's), ``{caseid}.vital.ok`` (size and mtime at
verification: a file changed since is checked again), ``{caseid}.vital.part`` (what a
download has so far: resumed with an HTTP Range request, with ``If-Range`` when the
server gave a validator) and ``{caseid}.lock`` (one download of a case at a time, across
threads and processes).

A download writes to the ``.part`` file, checks the gzip stream as it arrives and is
renamed only once the whole stream verified and its size matched the server's; a
download killed at any point leaves at worst a ``.part`` to resume.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import urllib.error
from collections.abc import Callable, Iterator
from typing import Any

from .._files import atomic_file
from . import settings
from .packed import CorruptStream, Inflater, PrefixWalk
from .transport import (
    FetchError,
    NotCachedError,
    Response,
    Retryable,
    backoff,
    describe,
    open_url,
)

try:
    import fcntl
except ImportError:  # Windows: one process at a time per cache folder
    fcntl = None  # type: ignore[assignment]

#: Compressed bytes asked for by the first ranged request of a selective read.
FIRST_RANGE = 1 << 14


class CaseStore:
    """The cached case files of one API (``api_url``, ``DATASET_VERSION``).

    Parameters
    ----------
    on_bytes
        Called with the size of every chunk received (progress, statistics).
    sleep
        What waits between retries (tests pass a no-op).
    """

    def __init__(
        self,
        on_bytes: Callable[[int], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        import time

        self.api_url = settings.api_url.rstrip("/")
        self.version = settings.DATASET_VERSION
        self.folder = os.path.join(
            settings.cache_root(), settings.source_key(self.api_url), str(self.version)
        )
        self.on_bytes = on_bytes
        self.sleep = sleep or time.sleep

    # -- names --------------------------------------------------------------------------

    def path(self, caseid: Any) -> str:
        return os.path.join(self.folder, f"{caseid}.vital")

    def url(self, caseid: Any) -> str:
        return f"{self.api_url}/{self.version}/{caseid}.vital"

    # -- what is cached -------------------------------------------------------------------

    def cached(self, caseid: Any) -> str | None:
        """The complete cached file, or None. A file whose size or mtime changed since it
        was verified is verified again (and dropped if it no longer is)."""
        path = self.path(caseid)
        try:
            st = os.stat(path)
        except OSError:
            return None
        try:
            with open(path + ".ok") as f:
                size, mtime_ns = (int(x) for x in f.read().split())
            if (size, mtime_ns) == (st.st_size, st.st_mtime_ns):
                return path
        except (OSError, ValueError):
            pass
        if verify_file(path):
            _stamp(path)
            return path
        self.invalidate(caseid)
        return None

    def invalidate(self, caseid: Any) -> None:
        """Forget a cached case (a corrupt file found by a read)."""
        path = self.path(caseid)
        for name in (path, path + ".ok"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    def part_bytes(self, caseid: Any) -> bytes:
        try:
            with open(self.path(caseid) + ".part", "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    @contextlib.contextmanager
    def lock(self, caseid: Any) -> Iterator[None]:
        os.makedirs(self.folder, exist_ok=True)
        with open(os.path.join(self.folder, f"{caseid}.lock"), "a+b") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    # -- fetching ---------------------------------------------------------------------------

    def ensure(self, caseid: Any) -> str:
        """The complete cached file of a case, downloaded (or resumed) if missing.

        Raises
        ------
        NotCachedError
            Offline, and the case is not cached.
        FetchError
            The download failed after every retry (its ``reason`` says why).
        """
        path = self.cached(caseid)
        if path is not None:
            return path
        with self.lock(caseid):
            path = self.cached(caseid)  # another process may have finished it
            if path is not None:
                return path
            self._offline_check(caseid)
            _Download(self, caseid, None).run()
            return self.path(caseid)

    def prefix(self, caseid: Any, track_names: Any, exclude: Any = None) -> bytes | None:
        """A small complete .vital file with the tracks vitaldb's selective read of the
        case returns, fetching only the bytes up to the last wanted block; None when
        that read needs the whole file (which is then cached: ``path(caseid)``)."""
        if self.cached(caseid) is not None:
            return None
        with self.lock(caseid):
            if self.cached(caseid) is not None:
                return None
            walk = PrefixWalk(track_names, exclude)
            have = self.part_bytes(caseid)
            if have:
                try:
                    walk.feed(Inflater().feed(have))
                except CorruptStream:
                    walk = PrefixWalk(track_names, exclude)
                    _drop_part(self.path(caseid))
            if walk.done:
                return walk.subset()
            self._offline_check(caseid)
            _Download(self, caseid, walk).run()
            return walk.subset() if walk.done else None

    def _offline_check(self, caseid: Any) -> None:
        if settings.offline:
            raise NotCachedError(
                self.url(caseid), f"offline, and the case is not cached in {self.folder}"
            )


class _Download:
    """One case's download into ``.part``: resumed, retried, verified, renamed.

    With a ``walk``, it stops once the walk has seen vitaldb's stop (ranged requests
    sized from what the stream compresses to), else it fetches the whole file.
    """

    def __init__(self, store: CaseStore, caseid: Any, walk: PrefixWalk | None):
        self.store, self.caseid, self.walk = store, caseid, walk
        self.url = store.url(caseid)
        self.final = store.path(caseid)
        self.part = self.final + ".part"
        self.meta_path = self.part + ".json"
        self.meta = _read_json(self.meta_path)
        self.inflater = Inflater(keep_output=walk is not None)
        self.have = 0
        self.total: int | None = self.meta.get("total")

    def run(self) -> None:
        os.makedirs(self.store.folder, exist_ok=True)
        self._load_part()
        failures = 0
        while True:
            got = self.have
            try:
                if self._attempt():
                    return
                continue
            except CorruptStream as exc:
                self._restart()
                reason, retry, status = f"corrupt download: {exc}", True, None
            except (OSError, Retryable, ValueError, http.client.HTTPException) as exc:
                if isinstance(exc, FetchError):
                    raise
                reason, retry, status = describe(exc)
            failures = 0 if self.have > got else failures + 1
            if not retry or failures > settings.retries:
                raise FetchError(self.url, reason, status, max(failures, 1))
            self.store.sleep(backoff(failures or 1))

    def _load_part(self) -> None:
        data = self.store.part_bytes(self.caseid)
        if not data:
            self._restart()
            return
        try:
            out = self.inflater.feed(data)
        except CorruptStream:
            self._restart()
            return
        self.have = len(data)
        if self.walk is not None:
            self.walk.feed(out)

    def _restart(self) -> None:
        _drop_part(self.final)
        self.meta = {}
        self.have = 0
        self.total = None
        self.inflater = Inflater(keep_output=self.walk is not None)

    def _range_end(self) -> int | None:
        """The last byte to ask for: all of it, or (selective read) an estimate of the
        compressed bytes the rest of the wanted blocks take."""
        walk = self.walk
        if walk is None or walk.settled:
            return None
        if walk.first_rec is not None and walk.stop_offset and self.inflater.inflated:
            # The rest of the wanted blocks, at the compression ratio seen so far.
            ratio = self.have / self.inflater.inflated
            remaining = max(0, walk.first_rec + walk.stop_offset - self.inflater.inflated)
            step = int(remaining * ratio * 1.1) + FIRST_RANGE
        else:
            step = max(FIRST_RANGE, self.have)
        return self.have + step - 1

    def _attempt(self) -> bool:
        """One request; True when the download is over (file complete or walk done)."""
        end = self._range_end()
        if self.total is not None and self.have >= self.total:
            return self._complete()
        if end is not None and self.total is not None:
            end = min(end, self.total - 1)
        etag = self.meta.get("etag")
        try:
            response = open_url(self.url, self.have, end, etag)
        except urllib.error.HTTPError as exc:
            exc.close()  # its socket
            if exc.code == 416 and self.have:  # nothing past what we have
                if self.inflater.complete:
                    self.total = self.have
                    return self._complete()
                self._restart()
                raise Retryable("the server has fewer bytes than the partial download") from exc
            raise
        try:
            return self._receive(response)
        finally:
            response.close()

    def _receive(self, response: Response) -> bool:
        if response.status != 206 and self.have:  # the range was ignored: start over
            self._restart()
        if response.total is not None:
            if self.total is not None and response.total != self.total:
                self._restart()  # the file changed on the server
            self.total = response.total
        # If-Range takes a strong ETag or a date: a file changed on the server is then
        # sent whole (200) instead of a range of its new bytes after our old ones.
        etag = response.etag if response.etag and response.etag.startswith('"') else None
        self.meta = {"etag": etag or response.last_modified, "total": self.total}
        _write_json(self.meta_path, self.meta)
        walk = self.walk
        with open(self.part, "ab") as f:
            for chunk in response.chunks():
                f.write(chunk)
                self.have += len(chunk)
                if self.store.on_bytes:
                    self.store.on_bytes(len(chunk))
                out = self.inflater.feed(chunk)
                if walk is not None and not walk.settled:
                    walk.feed(out)
                    if walk.done:
                        return True
            f.flush()
        if self.total is None:  # no length given: the body's end is the file's end
            self.total = self.have
        if self.have >= self.total:
            return self._complete()
        if response.status == 206 and response.length is not None:
            return False  # a range of the file: ask for the next one
        raise Retryable(f"connection closed mid-body ({self.have} of {self.total} bytes)")

    def _complete(self) -> bool:
        if self.have != self.total or not self.inflater.complete:
            raise CorruptStream(
                f"{self.have} bytes of {self.total}"
                if self.have != self.total
                else "the gzip stream ends inside a member"
            )
        if self.walk is not None:
            self.walk.finish()
        with open(self.part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(self.part, self.final)
        _stamp(self.final)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.meta_path)
        return True


def verify_file(path: str) -> bool:
    """True when the file is a complete gzip stream, every member's CRC and size right."""
    inflater = Inflater(keep_output=False)
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                inflater.feed(chunk)
    except (OSError, CorruptStream):
        return False
    return inflater.complete


def _stamp(path: str) -> None:
    st = os.stat(path)
    with atomic_file(path + ".ok") as f:
        f.write(f"{st.st_size} {st.st_mtime_ns}\n".encode())


def _drop_part(final: str) -> None:
    for name in (final + ".part", final + ".part.json"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: str, value: dict[str, Any]) -> None:
    with atomic_file(path) as f:
        f.write(json.dumps(value).encode())
