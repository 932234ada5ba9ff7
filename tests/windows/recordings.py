"""Recordings for the window builder's tests, made with the package's own writer: an
arterial pressure wave (500 Hz, 1 s records) with hypotensive dips, gaps, spikes and a flat
stretch at known times, a mean-pressure numeric every 2 s, ECG and pleth waves, and a
rhythm annotation file beside it."""

from __future__ import annotations

import numpy as np

import vitalproc

START = 1_700_000_000.0


def art_wave(
    seconds: float, dips: list[tuple[float, float]], rate: float = 500.0, seed: int = 0
) -> np.ndarray:
    """Arterial pressure (mmHg): 80 mmHg mean, beats at 75/min; 50 mmHg mean during each
    ``(start, end)`` dip; noise, a NaN gap, a 250 mmHg spike and a flat stretch."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    mean = np.full(len(t), 85.0)
    for a, b in dips:
        mean[(t >= a) & (t < b)] = 52.0
    wave = mean + 22 * np.sin(2 * np.pi * 1.25 * t) + rng.normal(0, 1.5, len(t))
    if seconds > 400:
        wave[(t >= 300) & (t < 303)] = np.nan  # a gap (3 s)
        wave[(t >= 350) & (t < 350.02)] = 250.0  # a spike
        wave[(t >= 380) & (t < 386)] = 20.0  # a flat, low stretch
    return wave.astype(np.float32)


def make_case(
    path,
    seconds: float = 900.0,
    dips=((400.0, 520.0),),
    seed: int = 0,
    ecg: bool = False,
    with_map: bool = True,
    start: float = START,
    rhythm: list[tuple[float, str]] | None = None,
) -> str:
    """Write ``path`` (a .vital file) and, with ``rhythm``, ``<stem>.rhythm.csv``."""
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend, vf.dgmt = start, start + seconds, 0
    art = art_wave(seconds, list(dips), seed=seed)
    nrec = int(seconds)
    vf.add_track(
        "SNUADC/ART",
        srate=500,
        unit="mmHg",
        dt=start + np.arange(nrec, dtype=float),
        samples=art[: nrec * 500].reshape(nrec, 500),
    )
    if with_map:
        t2 = np.arange(0, seconds, 2.0)
        mbp = []
        for a in t2:  # each value: the mean of the 2 s it follows (80 over a gap)
            seg = art[int(a * 500) : int(a * 500) + 1000]
            seg = seg[~np.isnan(seg)]
            mbp.append(float(seg.mean()) if len(seg) else 80.0)
        vf.add_track("Solar8000/ART_MBP", unit="mmHg", dt=start + t2 + 0.3, values=np.array(mbp))
    if ecg:
        rng = np.random.default_rng(seed + 1)
        t = np.arange(nrec * 500) / 500
        e = (np.sin(2 * np.pi * 1.2 * t) ** 31 + rng.normal(0, 0.02, len(t))).astype(np.float32)
        p = (50 + 30 * np.sin(2 * np.pi * 1.2 * t)).astype(np.float32)
        recs = start + np.arange(nrec, dtype=float)
        vf.add_track("SNUADC/ECG_II", srate=500, unit="mV", dt=recs, samples=e.reshape(nrec, 500))
        vf.add_track("SNUADC/PLETH", srate=500, dt=recs, samples=p.reshape(nrec, 500))
    vf.to_vital(str(path))
    if rhythm is not None:
        stem = str(path)[: -len(".vital")]
        with open(stem + ".rhythm.csv", "w") as f:
            f.write("time,class\n")
            f.writelines(f"{t0},{c}\n" for t0, c in rhythm)
    return str(path)
