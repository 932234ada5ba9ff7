"""A local stand-in for the VitalDB web API, for the open-dataset tests and benchmark.

``make_case`` builds a packed recording with vitalproc's own writer; ``DatasetServer``
serves case files at ``/{version}/{caseid}.vital``, the ``trks``, ``cases`` and ``labs``
tables and per-track CSVs at ``/{tid}`` from a thread on 127.0.0.1 (an ephemeral port),
honours ``Range`` and ``If-Range``, counts the bytes it sends, and injects faults on
request: ``"500"``, ``"stall"`` (no reply before the client's timeout), ``"stall_body"``
(half the body, then silence), ``"close"`` (half the body, then the connection is
closed), ``"long_length"``/``"short_length"`` (a Content-Length that lies), ``"corrupt"``
(one byte of the body flipped), each for the next request of a path.
"""

from __future__ import annotations

import collections
import hashlib
import http.server
import io
import threading
import time

import numpy as np

import vitalproc

VERSION = "1.0.1"
T0 = 1_600_000_000.0
NUMERICS = ("Solar8000/HR", "Solar8000/ART_MBP", "Solar8000/PLETH_SPO2", "BIS/BIS")


def make_case(
    caseid: int,
    seconds: float = 120,
    wave_rate: float = 100,
    waves: tuple[str, ...] = ("SNUADC/ART", "SNUADC/ECG_II"),
    noise: float = 1.0,
) -> bytes:
    """A packed .vital recording (numerics every 2 s, waves at ``wave_rate``, one
    string track); ``caseid`` seeds the values."""
    rng = np.random.default_rng(caseid)
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend, vf.dgmt = T0, T0 + seconds, -540
    n = int(seconds // 2)
    for i, name in enumerate(NUMERICS):
        vf.add_track(
            name,
            dt=T0 + 2.0 * np.arange(n),
            values=(60 + 10 * i + rng.normal(0, 3, n)).astype(np.float32),
            unit="/min",
        )
    per = int(wave_rate)  # one record per second
    nrec = int(seconds)
    for j, name in enumerate(waves):
        t = np.arange(nrec * per) / wave_rate
        sig = np.sin(2 * np.pi * (1.1 + j) * t) * 40 + 80 + rng.normal(0, noise, t.size)
        vf.add_track(
            name,
            dt=T0 + np.arange(nrec, dtype=np.float64),
            samples=sig.astype(np.float32).reshape(nrec, per),
            srate=wave_rate,
            unit="mmHg",
        )
    vf.add_track(
        "EVENT",
        dt=np.array([T0 + 5.0, T0 + 50.0]),
        values=np.array(["start", f"case {caseid}"], dtype=object),
    )
    buf = io.BytesIO()
    vf.to_vital(buf, packed=True)
    return buf.getvalue()


def track_names_of(data: bytes) -> list[str]:
    return vitalproc.read(data, header_only=True).get_track_names()


def tables_for(cases: dict[int, bytes]) -> dict[str, bytes]:
    """The ``trks``, ``cases`` (74 columns) and ``labs`` CSVs of some cases, and the
    per-track CSVs (``tid`` -> CSV ``Time,DEV/TRK``)."""
    trks = ["caseid,tname,tid"]
    files: dict[str, bytes] = {}
    for caseid, data in sorted(cases.items()):
        vf = vitalproc.read(data)
        for name, trk in vf.trks.items():
            tid = hashlib.sha1(f"{caseid}/{name}".encode()).hexdigest()
            trks.append(f"{caseid},{name},{tid}")
            files[tid] = _track_csv(vf, name, trk)
    extra = [f"param{i:02d}" for i in range(74 - 8)]
    head = [
        "caseid",
        "subjectid",
        "casestart",
        "caseend",
        "age",
        "sex",
        "department",
        "optype",
    ] + extra
    rows = [",".join(head)]
    for caseid in sorted(cases):
        vals = [
            str(caseid),
            str(5000 + caseid),
            "0",
            str(3600 + caseid),
            str(40 + caseid),
            "M" if caseid % 2 else "F",
            "General surgery",
            "Colorectal",
        ]
        vals += [f"{(caseid * 7 + i) % 13 / 2}" if i % 5 else "" for i in range(len(extra))]
        rows.append(",".join(vals))
    labs = ["caseid,dt,name,result"]
    for caseid in sorted(cases):
        for k, name in enumerate(("hb", "na", "k", "cr")):
            labs.append(f"{caseid},{-3600 * (k + 1)},{name},{10 + caseid % 5 + k / 10}")
    files["trks"] = ("\n".join(trks) + "\n").encode()
    files["cases"] = ("\n".join(rows) + "\n").encode()
    files["labs"] = ("\n".join(labs) + "\n").encode()
    return files


def _track_csv(vf, name: str, trk) -> bytes:
    """vitaldb's per-track CSV: numerics one row per value; a wave one row per sample,
    with a time on the first sample of each record only."""
    lines = [f"Time,{name}"]
    if trk.type == 1:
        dt, samples, offsets = trk.dt - vf.dtstart, trk.samples, trk.offsets
        for i in range(len(dt)):
            chunk = samples[offsets[i] : offsets[i + 1]]
            lines.append(f"{dt[i]:.3f},{chunk[0]:.4f}")
            lines += [f",{v:.4f}" for v in chunk[1:]]
    elif trk.type == 2:
        for t, v in zip(trk.dt - vf.dtstart, trk.values):
            lines.append(f"{t:.3f},{v:.4f}")
    else:
        return b"Time,EVENT\n"
    return ("\n".join(lines) + "\n").encode()


class DatasetServer:
    """The API on 127.0.0.1: ``url``, ``faults`` (path -> list of fault names, taken in
    order), ``latency`` (seconds before each reply), ``sent`` (path -> bytes of body
    sent), ``requests`` (``(path, Range header)`` in order)."""

    def __init__(
        self,
        cases: dict[int, bytes],
        tables: dict[str, bytes] | None = None,
        stall: float = 2.0,
        latency: float = 0.0,
    ):
        self.files = {f"/{VERSION}/{c}.vital": d for c, d in cases.items()}
        for name, data in (tables or {}).items():
            self.files[f"/{name}"] = data
        self.faults: dict[str, list[str]] = collections.defaultdict(list)
        self.stall = stall
        self.latency = latency
        self.sent: collections.Counter = collections.Counter()
        self.requests: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> DatasetServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def fault(self, path: str, *names: str) -> None:
        with self._lock:
            self.faults[path].extend(names)

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self.faults.get(path)
            return queue.pop(0) if queue else None

    def case_path(self, caseid: int) -> str:
        return f"/{VERSION}/{caseid}.vital"


def _handler(srv: DatasetServer):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, data: bytes) -> None:
            self.wfile.write(data)
            with srv._lock:
                srv.sent[self.path] += len(data)

        def do_GET(self) -> None:
            path = self.path
            rng = self.headers.get("Range")
            with srv._lock:
                srv.requests.append((path, rng))
            if srv.latency:
                time.sleep(srv.latency)
            fault = srv._next_fault(path)
            data = srv.files.get(path)
            if data is None:
                self.send_error(404, "Not Found")
                return
            if fault == "500":
                self.send_error(500, "Internal Server Error")
                return
            if fault == "stall":
                srv._stop.wait(srv.stall)
                self.close_connection = True
                return
            etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
            start, end, status = 0, len(data) - 1, 200
            if rng and (self.headers.get("If-Range") in (None, etag)):
                spec = rng.split("=", 1)[1]
                a, _, b = spec.partition("-")
                start = int(a)
                end = min(int(b), len(data) - 1) if b else len(data) - 1
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            body = data[start : end + 1]
            if fault == "corrupt":
                body = bytearray(body)
                body[len(body) // 2] ^= 0xFF
                body = bytes(body)
            length = len(body)
            if fault == "long_length":
                length += 1000
            elif fault == "short_length":
                length = max(0, length - 1000)
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.end_headers()
            self.close_connection = True
            try:
                if fault in ("close", "stall_body"):
                    self._send(body[: len(body) // 2])
                    self.wfile.flush()
                    if fault == "stall_body":
                        srv._stop.wait(srv.stall)
                    return
                self._send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler
