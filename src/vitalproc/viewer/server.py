"""The local web viewer's server: one page and range queries, on 127.0.0.1 only.

Endpoints (``case`` names a dataset's case; a single file needs none):

``GET /``  (``?case=``)
    The page (``page.build``), with the overview in it.
``GET /static/js/bokeh.min.js``, ``bokeh-widgets.min.js``
    BokehJS, from the ``bokeh`` package installed beside vitalproc.
``GET /api/cases``
    JSON: the case ids (one ``null`` for a single file).
``GET /api/tracks?case=``
    JSON: the lanes (key, kind, device, unit, colour, display range) and the span.
``GET /api/view?start=&end=&px=&lanes=&case=&format=``
    Each lane's data over ``[start, end)`` (milliseconds of the x axis: local wall
    clock) ``px`` columns wide: min/max envelopes, raw samples once they fit, string
    marks. Binary by default (``encode``); ``format=json`` gives JSON.
``GET /api/events?start=&end=&case=``
    JSON: the marks of every string lane in the range.

A bad parameter is a 400 with a one-line message; a closed tab or a dropped
connection is ignored; Ctrl-C stops the server.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
import webbrowser
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from . import page
from .scene import Scene

#: Widest view a client may ask for (pixel columns).
MAX_PX = 20_000
#: Cases of a dataset kept prepared.
KEEP_CASES = 3
#: Range answers kept (each is at most a few MB).
ANSWERS_KEPT = 24
_DROPPED = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class BadRequest(ValueError):
    """A query the server refuses (400)."""


class Recording:
    """What the viewer shows: one recording file (``.vital`` or a converted case's
    ``.parquet``) or a dataset folder (any of its cases). Cases are read, prepared
    (``Scene`` with summaries) and their page built on first use, and kept."""

    def __init__(self, path: str | os.PathLike, tracks: Any = None):
        self.path = os.fspath(path)
        self.tracks = tracks
        self.dataset = None
        if os.path.isdir(self.path):
            from ..dataset.query import open_dataset

            self.dataset = open_dataset(self.path)
            if not self.dataset.cases:
                raise ValueError(f"{self.path}: the dataset holds no converted case")
        elif not os.path.exists(self.path):
            raise FileNotFoundError(self.path)
        self._scenes: OrderedDict[str | None, tuple[Scene, str]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def cases(self) -> list[str] | None:
        return self.dataset.cases if self.dataset is not None else None

    def default_case(self) -> str | None:
        return self.cases[0] if self.cases else None

    def check_case(self, case: str | None) -> str | None:
        if self.dataset is None:
            if case not in (None, ""):
                raise BadRequest("a single recording has no cases: leave out 'case'")
            return None
        if case in (None, ""):
            return self.default_case()
        if case not in self.dataset.cases:
            raise BadRequest(f"no case {case!r} in the dataset")
        return case

    def open(self, case: str | None) -> tuple[Scene, str]:
        """The prepared scene of a case and its page (read and built once)."""
        with self._lock:
            found = self._scenes.get(case)
            if found is not None:
                self._scenes.move_to_end(case)
                return found
            from ..io.reader import read

            if self.dataset is not None:
                path = self.dataset.case_path(case or self.dataset.cases[0])
            else:
                path = self.path
            vf = read(path)
            scene = Scene(vf, self.tracks)
            for lane in scene.lanes:
                if lane.kind != "string":
                    scene.data(lane.key)  # summaries now, not at the first zoom
            title = case if case is not None else os.path.basename(self.path)
            html = page.build(scene, live=True, title=title, cases=self.cases, case=case)
            self._scenes[case] = (scene, html)
            while len(self._scenes) > KEEP_CASES:
                self._scenes.popitem(last=False)
            return scene, html


# -- parameters --------------------------------------------------------------------------


def _one(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise BadRequest(f"'{name}' given {len(values)} times")
    return values[0]


def _number(query: dict[str, list[str]], name: str) -> float:
    text = _one(query, name)
    if text is None:
        raise BadRequest(f"'{name}' is missing")
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"'{name}' must be a number, not {text[:40]!r}") from None
    if not math.isfinite(value):
        raise BadRequest(f"'{name}' must be finite, not {text[:40]!r}")
    return value


def _range(query: dict[str, list[str]], scene: Scene) -> tuple[float, float]:
    """``start``/``end`` (x-axis milliseconds) as Unix seconds."""
    start, end = _number(query, "start"), _number(query, "end")
    if not end > start:
        raise BadRequest(f"'end' ({end:g}) must be after 'start' ({start:g})")
    return start / 1000.0 - scene.tz, end / 1000.0 - scene.tz


def _px(query: dict[str, list[str]]) -> int:
    text = _one(query, "px", "1200") or ""
    try:
        px = int(text)
    except ValueError:
        raise BadRequest(f"'px' must be a whole number, not {text[:40]!r}") from None
    if not 1 <= px <= MAX_PX:
        raise BadRequest(f"'px' must be from 1 to {MAX_PX}, not {px}")
    return px


def _lanes(query: dict[str, list[str]], scene: Scene) -> list[int]:
    text = _one(query, "lanes")
    if text is None:
        return list(range(len(scene.lanes)))
    if text == "":
        return []
    try:
        lanes = [int(part) for part in text.split(",")]
    except ValueError:
        raise BadRequest(
            f"'lanes' must be lane numbers separated by commas, not {text[:40]!r}"
        ) from None
    bad = [i for i in lanes if not 0 <= i < len(scene.lanes)]
    if bad:
        raise BadRequest(f"no lane {bad[0]} (the recording has {len(scene.lanes)})")
    return lanes


# -- answers -----------------------------------------------------------------------------


def view(
    scene: Scene, t0: float, t1: float, px: int, lanes: list[int]
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Each lane's data over ``[t0, t1)``: a header (per lane: mode, count; texts of
    marks) and the arrays (x in axis milliseconds, then values), for ``encode``."""
    head: dict[str, Any] = {
        "start": (t0 + scene.tz) * 1000.0,
        "end": (t1 + scene.tz) * 1000.0,
        "px": px,
        "lanes": [],
    }
    arrays: list[np.ndarray] = []
    for i in lanes:
        lane = scene.lanes[i]
        if lane.kind == "string":
            marks = scene.marks(lane, t0, t1)
            x = (marks.x + scene.tz) * 1000.0
            head["lanes"].append({"lane": i, "mode": "marks", "n": len(x), "text": marks.text})
            arrays.append(x)
            continue
        s = scene.series(lane, t0, t1, px)
        x = (s.x + scene.tz) * 1000.0
        head["lanes"].append({"lane": i, "mode": s.mode, "n": len(x)})
        arrays += [x, s.y]
    return head, arrays


def encode(head: dict[str, Any], arrays: list[np.ndarray], compact: bool = False) -> bytes:
    """The binary reply: u32 length ``n`` of the JSON header, the header, spaces up to
    the next multiple of 8 bytes (the arrays start at ``(4 + n + 7) // 8 * 8``), the
    arrays at the byte offsets each lane's ``xo``/``vo`` give from there: float64, or
    with ``compact`` float32, x then counted from ``head["x0"]`` (the snapshot's size;
    a millisecond's precision over days)."""
    head = dict(head, lanes=[dict(e) for e in head["lanes"]])
    at = 0
    size = 4 if compact else 8
    it = iter(arrays)
    parts = []
    x0 = head["start"]
    for e in head["lanes"]:
        x = next(it)
        parts.append(np.asarray(x - x0 if compact else x, "<f4" if compact else "<f8"))
        e["xo"] = at
        at += size * len(x)
        if e["mode"] != "marks":
            parts.append(np.asarray(next(it), "<f4" if compact else "<f8"))
            e["vo"] = at
            at += size * len(x)
    if compact:
        head["f32"], head["x0"] = True, x0
    raw = json.dumps(head, separators=(",", ":"), allow_nan=False).encode()
    start = (4 + len(raw) + 7) // 8 * 8
    body = b"".join(p.tobytes() for p in parts)
    return len(raw).to_bytes(4, "little") + raw + b" " * (start - 4 - len(raw)) + body


def as_json(head: dict[str, Any], arrays: list[np.ndarray]) -> bytes:
    """The same answer as JSON: each lane's ``x`` and ``v`` lists (null at breaks)."""
    it = iter(arrays)
    for e in head["lanes"]:
        e["x"] = _listed(next(it))
        if e["mode"] != "marks":
            e["v"] = _listed(next(it))
    return json.dumps(head, allow_nan=False).encode()


def _listed(a: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in a.tolist()]


# -- the HTTP side -----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"vitalproc view: {format % args}\n")

    def do_GET(self) -> None:
        try:
            self._route()
        except _DROPPED:
            pass  # the tab was closed or the request cancelled
        except BadRequest as exc:
            self._send(HTTPStatus.BAD_REQUEST, _error(str(exc)), "application/json")
        except Exception as exc:
            self.server.failures.append(repr(exc))
            sys.stderr.write(f"vitalproc view: error answering {self.path}: {exc!r}\n")
            try:
                self._send(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    _error(f"internal error: {exc}"),
                    "application/json",
                )
            except _DROPPED:
                pass

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        rec = self.server.recording
        if url.path == "/":
            _, html = rec.open(rec.check_case(_one(query, "case")))
            self._send(HTTPStatus.OK, html.encode(), "text/html; charset=utf-8")
        elif url.path.startswith("/static/js/"):
            self._static(url.path[len("/static/js/") :])
        elif url.path == "/api/cases":
            self._json({"cases": rec.cases if rec.cases is not None else [None]})
        elif url.path == "/api/tracks":
            scene, _ = rec.open(rec.check_case(_one(query, "case")))
            lanes = [page.lane_config(scene, lane, i) for i, lane in enumerate(scene.lanes)]
            self._json(
                {
                    "lanes": lanes,
                    "start": (scene.t0 + scene.tz) * 1000.0,
                    "end": (scene.t1 + scene.tz) * 1000.0,
                    "dtstart": scene.t0,
                    "dtend": scene.t1,
                    "dgmt": scene.vf.dgmt,
                }
            )
        elif url.path == "/api/view":
            scene, _ = rec.open(rec.check_case(_one(query, "case")))
            fmt = _one(query, "format", "binary") or ""
            if fmt not in ("binary", "json"):
                raise BadRequest(f"'format' must be binary or json, not {fmt[:40]!r}")
            t0, t1 = _range(query, scene)
            px, lanes = _px(query), _lanes(query, scene)
            wall, cpu = time.perf_counter(), time.thread_time()
            key = (id(scene), t0, t1, px, tuple(lanes), fmt)
            body = self.server.answers.get(key)
            if body is None:
                head, arrays = view(scene, t0, t1, px, lanes)
                body = as_json(head, arrays) if fmt == "json" else encode(head, arrays)
                self.server.answers.put(key, body)
            # How long the answer took to compute, wall and this thread's CPU: a browser's
            # developer tools show it, the benchmark reads it.
            timing = (
                f"view;dur={1000 * (time.perf_counter() - wall):.2f}, "
                f"cpu;dur={1000 * (time.thread_time() - cpu):.2f}"
            )
            self._send(
                HTTPStatus.OK,
                body,
                "application/json" if fmt == "json" else "application/octet-stream",
                timing=timing,
            )
        elif url.path == "/api/events":
            scene, _ = rec.open(rec.check_case(_one(query, "case")))
            t0, t1 = _range(query, scene)
            out = []
            for i, lane in enumerate(scene.lanes):
                if lane.kind == "string":
                    marks = scene.marks(lane, t0, t1)
                    out.append(
                        {
                            "lane": i,
                            "key": lane.key,
                            "x": ((marks.x + scene.tz) * 1000.0).tolist(),
                            "text": marks.text,
                        }
                    )
            self._json({"lanes": out})
        elif url.path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            self._send(
                HTTPStatus.NOT_FOUND, _error(f"no such page: {url.path}"), "application/json"
            )

    def _static(self, name: str) -> None:
        if name not in {f"{b}.min.js" for b in page.BOKEH_BUNDLES}:
            self._send(HTTPStatus.NOT_FOUND, _error(f"no such file: {name}"), "application/json")
            return
        body = self.server.static.get(name)
        if body is None:
            with open(os.path.join(page.bokeh_js_dir(), name), "rb") as f:
                body = self.server.static[name] = f.read()
        self._send(HTTPStatus.OK, body, "text/javascript; charset=utf-8", cache="max-age=86400")

    def _json(self, obj: Any) -> None:
        self._send(HTTPStatus.OK, json.dumps(obj, allow_nan=False).encode(), "application/json")

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str,
        cache: str = "no-store",
        timing: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if timing:
            self.send_header("Server-Timing", timing)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.end_headers()
        self.wfile.write(body)


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class _Answers:
    """The last range answers, by query: going back to a view (zooming out to the whole
    case, undoing a pan) is answered without computing it again."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A client that vanished mid-request is normal for a browser: not an error.

    def __init__(self, address: tuple[str, int], recording: Recording, verbose: bool):
        super().__init__(address, _Handler)
        self.recording = recording
        self.verbose = verbose
        self.static: dict[str, bytes] = {}
        self.failures: list[str] = []
        self.answers = _Answers(ANSWERS_KEPT)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], _DROPPED):
            return
        super().handle_error(request, client_address)


class Viewer:
    """A running viewer: its ``url``; ``stop()`` shuts it down.

    Parameters
    ----------
    path
        A ``.vital`` file, a converted case's ``.parquet`` or a dataset folder.
    port
        0: any free port.
    tracks
        Only these tracks (names as ``vitalproc.read`` takes them).
    verbose
        Log every request on stderr.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        port: int = 0,
        tracks: Any = None,
        verbose: bool = False,
        host: str = "127.0.0.1",
    ):
        self.recording = Recording(path, tracks)
        started = time.perf_counter()
        self.recording.open(self.recording.default_case())  # read and prepare now
        self.prepare_seconds = time.perf_counter() - started
        self.server = _Server((host, port), self.recording, verbose)
        self.url = f"http://{host}:{self.server.server_address[1]}/"
        self._thread: threading.Thread | None = None

    def start(self) -> Viewer:
        """Serve on a background thread."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="vitalproc-viewer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Viewer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    path: str | os.PathLike,
    port: int = 0,
    open_browser: bool = True,
    tracks: Any = None,
    verbose: bool = False,
) -> None:
    """Run the viewer until Ctrl-C: print its URL, open it in the browser."""
    viewer = Viewer(path, port, tracks, verbose)
    print(f"vitalproc view: {viewer.url}  (Ctrl-C stops)", flush=True)
    if open_browser:
        webbrowser.open(viewer.url)
    viewer.start()
    try:
        while viewer._thread is not None and viewer._thread.is_alive():
            viewer._thread.join(0.5)
    except KeyboardInterrupt:
        print("vitalproc view: stopped", file=sys.stderr)
    finally:
        viewer.stop()
