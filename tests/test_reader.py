"""The public reading API: sources, arguments, the model's arrays, errors."""

from __future__ import annotations

import gzip
import http.server
import io
import threading
import warnings

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, reference

from fixtures_catalog import FIXTURES
from parity import differences
from vitalbytes import F32, I16, NUM, STR, WAVE, VitalBuilder, gzip_bytes

T0 = 1_700_000_000.0


def small_file() -> bytes:
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 10)
    b.device(1, "Solar8000M", "Solar8000")
    b.track(1, WAVE, I16, "ART", unit="mmHg", srate=100.0, gain=0.01, offset=-10.0, did=1)
    b.track(2, NUM, F32, "HR", unit="/min", did=1)
    b.track(3, STR, F32, "EVENT")
    b.wave(1, T0, [1, 2, 3])
    b.number(2, T0 + 0.5, 72.5)
    b.wave(1, T0 + 1, [4, 5])
    b.string(3, T0 + 2, "intubation")
    b.number(2, T0 + 2.5, 73.0)
    return gzip_bytes(b.bytes())


def test_arrays_are_columns():
    vf = vitalproc.read(small_file())
    art, hr, ev = vf.trks["Solar8000/ART"], vf.trks["Solar8000/HR"], vf.trks["EVENT"]
    assert art.dt.tolist() == [T0, T0 + 1]
    assert art.samples.dtype == np.dtype("<i2") and art.samples.tolist() == [1, 2, 3, 4, 5]
    assert art.offsets.tolist() == [0, 3, 5]
    assert hr.values.dtype == np.dtype("<f4") and hr.values.tolist() == [72.5, 73.0]
    assert hr.offsets is None
    assert ev.texts() == ["intubation"] and list(ev.values) == ["intubation"]
    assert len(art) == 2 and len(hr) == 2 and len(ev) == 1
    assert vf.dtend == T0 + 10  # the header's end, later than any record's
    assert art.recs[1]["val"].tolist() == [4, 5] and hr.recs[-1] == {"dt": T0 + 2.5, "val": 73.0}
    assert [r["dt"] for r in art.recs[::-1]] == [T0 + 1, T0]
    with pytest.raises(IndexError):
        hr.recs[2]


def test_arrays_are_writable_and_independent():
    a, b = vitalproc.read(small_file()), vitalproc.read(small_file())
    a.trks["Solar8000/ART"].samples[0] = 99
    assert b.trks["Solar8000/ART"].samples[0] == 1


@pytest.mark.parametrize(
    "kind", ["path", "str", "bytes", "bytearray", "memoryview", "file", "unseekable"]
)
def test_sources(tmp_path, kind):
    gz = small_file()
    path = tmp_path / "x.vital"
    path.write_bytes(gz)
    source = {
        "path": path,
        "str": str(path),
        "bytes": gz,
        "bytearray": bytearray(gz),
        "memoryview": memoryview(gz),
        "file": io.BytesIO(gz),
        "unseekable": _Unseekable(gz),
    }[kind]
    vf = vitalproc.read(source)
    assert differences(reference(gz), vf) == []


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        chunk = self._data.read(min(len(b), 7))  # dribbles: every packet straddles reads
        b[: len(chunk)] = chunk
        return len(chunk)


def test_vitalfile_constructor_takes_vitaldb_arguments(tmp_path):
    path = tmp_path / "x.vital"
    path.write_bytes(small_file())
    vf = vitalproc.VitalFile(str(path), ["HR"], skip_records=True)
    assert list(vf.trks) == ["Solar8000/HR"] and len(vf.trks["Solar8000/HR"]) == 0
    assert vf.dtstart == T0 and vf.ipath == str(path)
    assert vitalproc.VitalFile(str(path), exclude="HR").get_track_names() == [
        "Solar8000/ART",
        "EVENT",
    ]


def test_empty_vitalfile_starts_now():
    vf = vitalproc.VitalFile()
    assert vf.trks == {} and vf.dtstart > 1.7e9


def test_compat_argument_is_checked():
    with pytest.raises(ValueError, match="compat"):
        vitalproc.read(small_file(), compat="vitaldb2")


def test_source_type_is_checked():
    with pytest.raises(TypeError, match="int"):
        vitalproc.read(42)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_streaming_and_whole_paths_agree(path, monkeypatch):
    """The libdeflate whole-file path and the ISA-L streaming path give the same model."""
    fast = vitalproc.read(path)
    monkeypatch.setattr(vitalproc.io.reader, "WHOLE_FILE_LIMIT", -1)
    monkeypatch.setattr(vitalproc.io._source, "CHUNK", 97)  # packets straddle every chunk
    slow = vitalproc.read(path)
    assert differences(fast, slow) == []


def test_many_threads_read_the_same(tmp_path):
    """The walk releases the GIL: concurrent reads must not share state."""
    files = [p.read_bytes() for p in REAL_FILES]
    expected = [vitalproc.read(g) for g in files]
    results: dict[int, list] = {}

    def work(i):
        results[i] = [vitalproc.read(g) for g in files for _ in range(3)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results.values():
        for k, vf in enumerate(got):
            assert differences(expected[k // 3], vf) == []


# -- URLs -----------------------------------------------------------------------------


class _Server:
    """A local HTTP server that counts the bytes it actually sent."""

    def __init__(self, files: dict[str, bytes]):
        sent = self.sent = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                data = files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                sent[self.path] = 0
                try:
                    for i in range(0, len(data), 4096):
                        self.wfile.write(data[i : i + 4096])
                        sent[self.path] += len(data[i : i + 4096])
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_url(tmp_path):
    gz = REAL_FILES[0].read_bytes()
    server = _Server({"/a.vital": gz})
    try:
        vf = vitalproc.read(server.url + "/a.vital")
        assert differences(reference(gz), vf) == []
        with pytest.raises(OSError):
            vitalproc.read(server.url + "/missing.vital")
    finally:
        server.close()


def _packed_big(vitaldb, tmp_path) -> bytes:
    """A packed file (vitaldb's own writer) with numeric tracks first and a big wave."""
    vf = vitaldb.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 600
    rng = np.random.default_rng(1)
    vf.add_track("DEV/HR", [{"dt": T0 + i, "val": 70.0 + i % 5} for i in range(600)])
    vf.add_track("DEV/SPO2", [{"dt": T0 + i, "val": 97.0} for i in range(600)])
    vf.add_track(
        "DEV/ECG",
        [{"dt": T0 + i, "val": rng.normal(size=500).astype(np.float32)} for i in range(600)],
        srate=500,
    )
    path = tmp_path / "packed.vital"
    vf.to_vital(str(path), compresslevel=1, packed=True)
    return path.read_bytes()


def count_chunks(monkeypatch, cls, method: str) -> list[int]:
    """Wrap a generator method so the sizes of the chunks it yields are recorded."""
    sizes: list[int] = []
    real = getattr(cls, method)

    def counting(self):
        for chunk in real(self):
            sizes.append(len(chunk))
            yield chunk

    monkeypatch.setattr(cls, method, counting)
    return sizes


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_url_stops_downloading_after_wanted_tracks(vitaldb, tmp_path, monkeypatch):
    gz = _packed_big(vitaldb, tmp_path)
    assert len(gz) > 600_000
    monkeypatch.setattr(vitalproc.io._source, "CHUNK", 16384)
    received = count_chunks(monkeypatch, vitalproc.io._source.StreamSource, "chunks")
    server = _Server({"/p.vital": gz})
    try:
        vf = vitalproc.read(server.url + "/p.vital", tracks=["HR"])
        assert list(vf.trks) == ["DEV/HR"] and len(vf.trks["DEV/HR"]) == 600
        assert differences(reference(gz, track_names=["HR"]), vf) == []
    finally:
        server.close()
    assert 0 < sum(received) < len(gz) // 4  # the response was closed after the HR block


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_packed_selection_stops_early(vitaldb, tmp_path, monkeypatch):
    gz = _packed_big(vitaldb, tmp_path)
    seen = count_chunks(monkeypatch, vitalproc.io._inflate.Inflater, "__iter__")
    monkeypatch.setattr(vitalproc.io.reader, "WHOLE_FILE_LIMIT", -1)
    monkeypatch.setattr(vitalproc.io._source, "CHUNK", 16384)
    vf = vitalproc.read(gz, tracks=["SPO2"])
    assert len(vf.trks["DEV/SPO2"]) == 600 and vf.order == []  # as vitaldb: stops before it
    full = len(gzip.decompress(gz))
    assert sum(seen) < full // 4


def test_warnings_are_structured():
    gz = FIXTURES["record_over_1mb"]()
    with pytest.warns(vitalproc.VitalWarning, match="1,000,000 bytes"):
        vf = vitalproc.read(gz)
    (issue,) = vf.warnings
    assert issue.code == "big_packet" and issue.count == 1 and issue.offset > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [w.code for w in vitalproc.read(gz, compat="vitaldb").warnings] == ["big_packet"]


def test_a_missing_optional_library_names_its_extra():
    """Every optional import goes through one helper, whose error says what to install."""
    from vitalproc import _deps

    assert _deps.available("json", "os") and not _deps.available("json", "no_such_module_x")
    with pytest.raises(
        ImportError,
        match=r"to_pandas needs no_such_module_x: "
        r"pip install 'vitalproc\[frames\]'",
    ):
        _deps.require("no_such_module_x", "frames", "to_pandas")
    assert _deps.require("json", "formats") is __import__("json")
