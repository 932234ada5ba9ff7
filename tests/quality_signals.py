"""Test recordings for the quality metrics: physiological-looking waves and numerics built
with the package's own model, with faults put where a test knows them to be."""

from __future__ import annotations

import numpy as np

import vitalproc
from vitalproc import Track

T0 = 1_700_000_000.0
SRATE = 100.0


def pulse(t, rate_hz=1.2):
    """A pulse wave, upright: a fast rise (a fifth of the beat), a slow fall."""
    phase = (t * rate_hz) % 1.0
    rise = np.sin(np.pi / 2 * np.clip(phase / 0.2, 0, 1)) ** 2
    fall = np.exp(-(phase - 0.2) / 0.25)
    return np.where(phase < 0.2, rise, fall)


def wave_track(
    name,
    dname,
    seconds,
    values,
    fmt=1,
    gain=1.0,
    offset=0.0,
    srate=SRATE,
    record_s=1.0,
    drop=(),
    unit="",
):
    """A wave of ``values`` (physical), cut into records of ``record_s``; records whose
    start lies in a ``drop`` span ``(a, b)`` (seconds from T0) are left out."""
    per = round(record_s * srate)
    n = int(seconds * srate) // per
    starts = np.arange(n) * record_s
    keep = np.ones(n, bool)
    for a, b in drop:
        keep &= ~((starts >= a) & (starts < b))
    chunks = values[: n * per].reshape(n, per)[keep]
    if fmt in (1, 2):
        raw = chunks.astype("<f4" if fmt == 1 else "<f8")
    else:
        dtype = {5: "<i2", 6: "<u2"}[fmt]
        raw = np.round((chunks - offset) / gain).astype(dtype)
    offsets = np.arange(len(chunks) + 1, dtype=np.int64) * per
    return Track(
        name,
        1,
        dname=dname,
        unit=unit,
        fmt=fmt,
        srate=srate,
        gain=gain,
        offset=offset,
        dt=T0 + starts[keep],
        data=raw.reshape(-1),
        offsets=offsets,
    )


def numeric_track(name, dname, times, values, fmt=1, unit=""):
    return Track(
        name,
        2,
        dname=dname,
        unit=unit,
        fmt=fmt,
        dt=np.asarray(times, np.float64) + T0,
        data=np.asarray(values, "<f4" if fmt == 1 else "<f8"),
    )


#: Where the faults of ``faulty_recording`` are (seconds from T0), by kind and track.
FAULTS = {
    ("flatline", "SNUADC/ART"): (100.0, 120.0),
    ("spike", "SNUADC/ART"): [(200.0, 200.01), (300.5, 300.51)],
    ("gap", "SNUADC/ART"): (400.0, 430.0),
    ("clipping", "SNUADC/ART"): (450.0, 480.0),
    ("gap", "Solar8000/HR"): (250.0, 300.0),
}
SECONDS = 600


def art_values(seconds=SECONDS, srate=SRATE, seed=0):
    t = np.arange(int(seconds * srate)) / srate
    rng = np.random.default_rng(seed)
    art = 70 + 50 * pulse(t) + rng.normal(0, 0.5, len(t))

    def i(s):
        return round(s * srate)

    a, b = FAULTS[("flatline", "SNUADC/ART")]
    art[i(a) : i(b)] = art[i(a) - 1]  # a transducer left open
    for a, _ in FAULTS[("spike", "SNUADC/ART")]:
        art[i(a)] += 90  # a flush, one sample
    a, b = FAULTS[("clipping", "SNUADC/ART")]
    art[i(a) : i(b)] = np.minimum(art[i(a) : i(b)] * 2, 200.0)  # over the amplifier's range
    return art


def faulty_recording(inverted_pleth=False, seed=0):
    """ART (uint16 as SNUADC stores it) with a flatline, two spikes, a gap and clipping;
    PLETH (float32, upright or inverted); ECG; HR every 2 s with a gap, a duplicate
    record, one out of order and a NaN."""
    vf = vitalproc.VitalFile.blank()
    vf.dtstart, vf.dtend = T0, T0 + SECONDS
    for d in ("SNUADC", "Solar8000"):
        vf.devs[d] = vitalproc.Device(d)
    t = np.arange(int(SECONDS * SRATE)) / SRATE
    rng = np.random.default_rng(seed + 1)
    art = wave_track(
        "ART",
        "SNUADC",
        SECONDS,
        art_values(seed=seed),
        fmt=6,
        gain=0.0625,
        offset=-50.0,
        drop=[FAULTS[("gap", "SNUADC/ART")]],
        unit="mmHg",
    )
    pleth = pulse(t + 0.3) * 100 + rng.normal(0, 0.2, len(t))
    if inverted_pleth:
        pleth = -pleth
    pl = wave_track("PLETH", "SNUADC", SECONDS, pleth, fmt=1)
    ecg = wave_track(
        "ECG_II",
        "SNUADC",
        SECONDS,
        0.1 * np.sin(2 * np.pi * 1.2 * t) + rng.normal(0, 0.02, len(t)),
        fmt=5,
        gain=0.01,
        offset=0.0,
        unit="mV",
    )
    times = np.arange(0, SECONDS, 2.0)
    a, b = FAULTS[("gap", "Solar8000/HR")]
    times = times[(times < a) | (times >= b)]
    hr = 72 + np.round(rng.normal(0, 2, len(times)))
    times = np.concatenate([times[:10], [times[9]], times[10:]])  # a duplicate
    hr = np.concatenate([hr[:10], [hr[9]], hr[10:]])
    times[20], times[21] = times[21], times[20]  # out of order
    hr[30] = np.nan
    for trk in (art, pl, ecg, numeric_track("HR", "Solar8000", times, hr, unit="/min")):
        vf.trks[trk.dtname] = trk
    return vf
