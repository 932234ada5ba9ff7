"""HTTP for the open dataset: timeouts, retries with backoff, Range requests (stdlib only).

Every request has a timeout (a stalled connection or read raises instead of hanging);
timeouts, dropped connections, short bodies and 5xx replies are retried with exponential
backoff. ``Response`` streams a body and says how much of it arrived, so that a caller can
resume a download from there with a Range request.
"""

from __future__ import annotations

import http.client
import random
import socket
import time
import urllib.error
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .._version import __version__
from . import settings

T = TypeVar("T")

USER_AGENT = f"vitalproc/{__version__} (opendata)"
CHUNK = 1 << 18


class FetchError(OSError):
    """A file of the open dataset could not be fetched: ``url``, HTTP ``status`` (None when
    no reply came) and ``reason``, the last cause after every retry."""

    def __init__(self, url: str, reason: str, status: int | None = None, attempts: int = 1):
        super().__init__(
            f"{url}: {reason}" + (f" (after {attempts} attempts)" if attempts > 1 else "")
        )
        self.url, self.reason, self.status, self.attempts = url, reason, status, attempts


class NotCachedError(FetchError):
    """Offline mode, and the file is not in the cache."""


class Retryable(Exception):
    """A failure worth another attempt (timeout, dropped connection, 5xx, short body)."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason, self.status = reason, status


def describe(exc: BaseException) -> tuple[str, bool, int | None]:
    """``(reason, retryable, status)`` of an exception raised by urllib or a socket."""
    if isinstance(exc, Retryable):
        return exc.reason, True, exc.status
    if isinstance(exc, urllib.error.HTTPError):
        retry = exc.code >= 500 or exc.code in (408, 429)
        return f"HTTP {exc.code} {exc.reason}", retry, exc.code
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            reason, retry, status = describe(inner)
            return reason, retry, status
        return f"cannot connect: {inner}", True, None
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out", True, None
    if isinstance(exc, http.client.IncompleteRead):
        return "connection closed mid-body", True, None
    if isinstance(exc, (ConnectionError, http.client.HTTPException, OSError)):
        return f"connection failed: {exc.__class__.__name__}: {exc}".rstrip(": "), True, None
    return f"{exc.__class__.__name__}: {exc}", False, None


def backoff(attempt: int, cap: float = 10.0) -> float:
    """Seconds to wait after failure ``attempt`` (1, 2...): exponential, with jitter."""
    delay = min(cap, settings.backoff * 2 ** (attempt - 1))
    return delay * (0.5 + random.random() / 2)


def with_retries(
    url: str,
    attempt: Callable[[], T],
    retries: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``attempt()`` until it returns, retrying what ``describe`` calls retryable.

    Raises
    ------
    FetchError
        A failure that is not retryable, or the last one after ``retries`` retries.
    """
    retries = settings.retries if retries is None else retries
    for n in range(1, retries + 2):
        try:
            return attempt()
        except (OSError, Retryable, http.client.HTTPException) as exc:
            if isinstance(exc, FetchError):
                raise
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()  # its socket
            reason, retry, status = describe(exc)
            if not retry or n > retries:
                raise FetchError(url, reason, status, n) from exc
            sleep(backoff(n))
    raise AssertionError("unreachable")


class Response:
    """One HTTP reply: status, the byte range it holds and the file's full size."""

    def __init__(self, raw: Any, url: str, start: int):
        self.raw = raw
        self.url = url
        self.status: int = raw.status
        headers = raw.headers
        length = headers.get("Content-Length")
        self.length = int(length) if length and length.strip().isdigit() else None
        self.etag = headers.get("ETag")
        self.last_modified = headers.get("Last-Modified")
        self.start = 0
        self.total = self.length
        if self.status == 206:
            first, total = _content_range(headers.get("Content-Range", ""))
            if first != start:
                raise Retryable(f"the server sent bytes from {first}, not {start}")
            self.start, self.total = first, total
        self.received = 0

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The body, chunk by chunk; raises ``Retryable`` if it ends before its length."""
        read = self.raw.read
        while True:
            try:
                chunk = read(size)
            except http.client.IncompleteRead as exc:
                if exc.partial:
                    self.received += len(exc.partial)
                    yield exc.partial
                raise Retryable("connection closed mid-body") from exc
            if not chunk:
                break
            self.received += len(chunk)
            yield chunk
        if self.length is not None and self.received < self.length:
            raise Retryable(f"connection closed mid-body ({self.received} of {self.length} bytes)")

    def read_all(self) -> bytes:
        return b"".join(self.chunks())

    def close(self) -> None:
        try:
            self.raw.close()
        except OSError:
            pass


def _content_range(value: str) -> tuple[int, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); an unknown total (``*``) is None."""
    try:
        _unit, _, rest = value.strip().partition(" ")
        span, _, total = rest.partition("/")
        first = int(span.split("-")[0])
        return first, (None if total.strip() == "*" else int(total))
    except ValueError:
        raise Retryable(f"a malformed Content-Range {value!r}") from None


def open_url(
    url: str,
    start: int = 0,
    end: int | None = None,
    if_range: str | None = None,
    timeout: float | None = None,
) -> Response:
    """One GET of ``url``, bytes ``start`` to ``end`` (inclusive; None: to the end).

    Raises ``urllib.error.HTTPError`` for error replies (a 416 included) and the socket's
    errors; the caller retries (``with_retries``).
    """
    import urllib.request  # 10 ms: only when something is fetched

    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if start or end is not None:
        headers["Range"] = f"bytes={start}-{'' if end is None else end}"
        if if_range:
            headers["If-Range"] = if_range
    request = urllib.request.Request(url, headers=headers)
    raw = urllib.request.urlopen(request, timeout=settings.timeout if timeout is None else timeout)
    try:
        return Response(raw, url, start if raw.status == 206 else 0)
    except BaseException:
        raw.close()
        raise


def get_bytes(url: str, on_bytes: Callable[[int], None] | None = None) -> bytes:
    """The whole body of ``url``, with retries; a short body is retried."""

    def attempt() -> bytes:
        response = open_url(url)
        try:
            data = response.read_all()
        finally:
            response.close()
        if on_bytes:
            on_bytes(len(data))
        return data

    return with_retries(url, attempt)
