"""The shape corpus: one small recording per shape of real operating-room files that the
standard corpus does not have.

    python bench/shapes.py [FOLDER]     # make what is missing, then list the files

Each file is written packet by packet here (a few dozen lines of ``struct``), from a
fixed seed, so the same bytes come out everywhere. The shapes:

| file | shape |
|---|---|
| `shape_demo.vital` | a simulator device: six 100 Hz waves, per track one record of 116,372 samples and 11 short records of 10-23 samples, some starting inside the long one (overlapping records), 72 records over 38 minutes |
| `shape_redeclared.vital` | 34 track names declared again under new ids, one of them five times; half of the new declarations change the gain |
| `shape_sparse13h.vital` | 13 hours set by two outlier tracks; the median track spans 20 minutes |
| `shape_strings.vital` | 80 tracks over 4 hours, 52 of them string tracks (an object grid) |
| `shape_tiny.vital` | under 1 KB: 11 tracks, 10 records |
| `shape_bigrec.vital` | wave records of over 1 MB each |
| `shape_cut.vital` | a stream cut inside a packet (the gzip stream ends early) |
"""
from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import numpy as np

T0 = 1_700_000_000.0
WAVE, NUM, STR = 1, 2, 5
F32, U8, I16 = 1, 4, 5


class _Writer:
    """The inflated bytes of one file; ``gzip()`` the compressed file."""

    def __init__(self, dtstart: float, dtend: float) -> None:
        header = struct.pack("<hIIdd", -540, 0, 0, dtstart, dtend)
        self.buf = bytearray(b"VITA" + struct.pack("<IH", 3, len(header)) + header)

    def _packet(self, ptype: int, body: bytes) -> None:
        self.buf += struct.pack("<BI", ptype, len(body)) + body

    @staticmethod
    def _str(s: str) -> bytes:
        b = s.encode()
        return struct.pack("<I", len(b)) + b

    def device(self, did: int, name: str) -> None:
        self._packet(9, struct.pack("<I", did) + self._str(name) + self._str(name)
                     + self._str(""))

    def track(self, tid: int, ttype: int, fmt: int, name: str, did: int, srate: float = 0,
              gain: float = 1.0, offset: float = 0.0, unit: str = "") -> None:
        body = (struct.pack("<HBB", tid, ttype, fmt) + self._str(name) + self._str(unit)
                + struct.pack("<ffIfddBI", 0, 100, 0xFFFFFFFF, srate, gain, offset, 0, did))
        self._packet(0, body)

    def _rec(self, tid: int, dt: float, payload: bytes) -> None:
        self._packet(1, struct.pack("<HdH", 10, dt, tid) + payload)

    def wave(self, tid: int, dt: float, samples: np.ndarray) -> None:
        self._rec(tid, dt, struct.pack("<I", len(samples)) + samples.tobytes())

    def number(self, tid: int, dt: float, value: float) -> None:
        self._rec(tid, dt, struct.pack("<f", value))

    def string(self, tid: int, dt: float, text: str) -> None:
        self._rec(tid, dt, struct.pack("<I", 0) + self._str(text))

    def gzip(self, cut: int | None = None) -> bytes:
        data = bytes(self.buf if cut is None else self.buf[:cut])
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        return c.compress(data) + c.flush()


def _sine(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / rate
    return (np.sin(2 * np.pi * 1.2 * t) * 50 + rng.normal(0, 1, n)).astype(np.float32)


def demo() -> bytes:
    """Six 100 Hz float waves: a long record each, and short ones around and inside it."""
    rng = np.random.default_rng(1)
    w = _Writer(T0, T0 + 38 * 60)
    w.device(1, "Demo")
    names = ["ECG", "ART", "PLETH", "CVP", "EEG", "CO2"]
    for i, name in enumerate(names):
        w.track(i + 1, WAVE, F32, name, 1, srate=100)
    for i in range(len(names)):
        w.wave(i + 1, T0 + 60.0, _sine(116_372, 100, rng))
    for k in range(11):  # before, inside (overlapping the long record) and after it
        dt = T0 + [1.0, 20.0, 40.0, 200.5, 400.25, 700.0, 1000.0, 1290.0, 1500.0,
                   1800.0, 2200.0][k]
        for i in range(len(names)):
            w.wave(i + 1, dt + i * 0.013, _sine(int(rng.integers(10, 24)), 100, rng))
    return w.gzip()


def redeclared() -> bytes:
    """34 names declared again under new ids (one five times), half with a new gain."""
    rng = np.random.default_rng(2)
    w = _Writer(T0, T0 + 3600)
    w.device(1, "SNUADC")
    w.device(2, "Solar8000")
    tid = 0
    for n in range(34):
        name, did = (f"W{n:02d}", 1) if n < 10 else (f"N{n:02d}", 2)
        declarations = 5 if n == 0 else 2
        for d in range(declarations):
            tid += 1
            gain = 0.01 * (1 + (d if n % 2 == 0 else 0))
            if did == 1:
                w.track(tid, WAVE, I16, name, did, srate=100, gain=gain)
            else:
                w.track(tid, NUM, F32, name, did)
            t = T0 + d * (3600 / declarations)
            for r in range(20):
                dt = t + r * (3600 / declarations / 20)
                if did == 1:
                    w.wave(tid, dt, rng.integers(-500, 500, 200).astype("<i2"))
                else:
                    w.number(tid, dt, float(rng.normal(80, 5)))
    return w.gzip()


def sparse13h() -> bytes:
    """Two tracks set a 13-hour span; the other 20 span about 20 minutes each."""
    rng = np.random.default_rng(3)
    w = _Writer(T0, T0 + 13 * 3600)
    w.device(1, "Solar8000")
    w.device(2, "SNUADC")
    w.track(1, NUM, F32, "EARLY", 1)
    w.track(2, NUM, F32, "LATE", 1)
    w.number(1, T0, 1.0)
    w.number(2, T0 + 13 * 3600 - 1, 2.0)
    for i in range(20):
        tid = 3 + i
        start = T0 + 5 * 3600 + i * 60
        if i < 4:
            w.track(tid, WAVE, I16, f"WAVE{i}", 2, srate=100, gain=0.1)
            for r in range(20):
                w.wave(tid, start + r * 60, rng.integers(-900, 900, 6000).astype("<i2"))
        else:
            w.track(tid, NUM, F32, f"NUM{i}", 1)
            for r in range(600):
                w.number(tid, start + r * 2, float(rng.normal(70, 3)))
    return w.gzip()


def strings() -> bytes:
    """80 tracks over 4 hours: 52 string tracks (a record a minute), 28 numerics (2 s)."""
    rng = np.random.default_rng(4)
    hours = 4 * 3600
    w = _Writer(T0, T0 + hours)
    w.device(1, "Primus")
    words = ["ON", "OFF", "STANDBY", "AUTO", "MANUAL", "VCV", "PCV", "ALARM", ""]
    for i in range(80):
        w.track(i + 1, STR if i < 52 else NUM, F32, f"T{i:02d}", 1)
    for t in range(0, hours, 2):
        for i in range(52, 80):
            w.number(i + 1, T0 + t, float(rng.normal(50, 10)))
        if t % 60 == 0:
            for i in range(52):
                w.string(i + 1, T0 + t + 0.5, words[int(rng.integers(len(words)))])
    return w.gzip()


def tiny() -> bytes:
    """11 tracks, 10 records, under 1 KB."""
    w = _Writer(T0, T0 + 10)
    w.device(1, "Monitor")
    for i in range(11):
        w.track(i + 1, NUM, F32, f"N{i}", 1)
    for r in range(10):
        w.number(r + 1, T0 + r, 60.0 + r)
    return w.gzip()


def bigrec() -> bytes:
    """Four 500 Hz float waves over 30 minutes, in records of 5 minutes (1.2 MB each)."""
    rng = np.random.default_rng(5)
    w = _Writer(T0, T0 + 1800)
    w.device(1, "SNUADC")
    for i in range(4):
        w.track(i + 1, WAVE, F32, f"W{i}", 1, srate=500)
    for r in range(6):
        for i in range(4):
            w.wave(i + 1, T0 + r * 300, _sine(150_000, 500, rng))
    return w.gzip()


def cut() -> bytes:
    """The sample-like shape (numerics and waves) cut in the middle of a wave packet."""
    rng = np.random.default_rng(6)
    w = _Writer(T0, T0 + 600)
    w.device(1, "Monitor")
    w.track(1, WAVE, I16, "ECG", 1, srate=250, gain=0.01)
    w.track(2, NUM, F32, "HR", 1)
    for s in range(600):
        w.wave(1, T0 + s, rng.integers(-300, 300, 250).astype("<i2"))
        w.number(2, T0 + s, float(rng.normal(70, 2)))
    return w.gzip(cut=len(w.buf) - 300)  # inside the last wave record


SHAPES = {
    "shape_demo.vital": demo,
    "shape_redeclared.vital": redeclared,
    "shape_sparse13h.vital": sparse13h,
    "shape_strings.vital": strings,
    "shape_tiny.vital": tiny,
    "shape_bigrec.vital": bigrec,
    "shape_cut.vital": cut,
}


def make(folder: Path) -> list[Path]:
    """Write every shape file missing from ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in SHAPES.items():
        path = folder / name
        if not path.exists():
            part = path.with_name(name + ".part")
            part.write_bytes(build())
            part.replace(path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from corpus import cache_dir

    for p in make(Path(sys.argv[1]) if len(sys.argv) > 1 else cache_dir()):
        print(f"{p}\t{p.stat().st_size}")
