"""Write a generated recording for the viewer's documentation pictures.

    python tools/demo_recording.py demo.vital [--minutes 30]

Thirty minutes of an anaesthetic: ECG, arterial pressure, plethysmograph and capnogram
waves, the numerics a monitor derives from them, BIS, and events; a two-minute pause of
the arterial line (a flush, then nothing) and a disconnected ECG lead. Made with
vitalproc's own ``VitalFile.add_track`` and ``to_vital``; deterministic.
"""

from __future__ import annotations

import argparse

import numpy as np

import vitalproc

START = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC (07:13:20 in Seoul)


def beats(t: np.ndarray, hr: np.ndarray) -> np.ndarray:
    """The cardiac phase (0..1 within each beat) at times t for a heart rate in /min."""
    phase = np.cumsum(hr / 60.0 * np.gradient(t))
    return phase % 1.0


def ecg(phase: np.ndarray) -> np.ndarray:
    p = 0.12 * np.exp(-(((phase - 0.12) / 0.03) ** 2))
    qrs = 1.2 * np.exp(-(((phase - 0.3) / 0.008) ** 2)) - 0.2 * np.exp(
        -(((phase - 0.32) / 0.01) ** 2)
    )
    tw = 0.3 * np.exp(-(((phase - 0.55) / 0.06) ** 2))
    return p + qrs + tw


def abp(phase: np.ndarray, sbp: np.ndarray, dbp: np.ndarray) -> np.ndarray:
    up = np.clip(phase / 0.12, 0, 1)
    down = np.exp(-np.clip(phase - 0.12, 0, None) / 0.35)
    notch = 0.06 * np.exp(-(((phase - 0.42) / 0.03) ** 2))
    shape = np.where(phase < 0.12, np.sin(up * np.pi / 2), down + notch)
    return dbp + (sbp - dbp) * shape


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--minutes", type=float, default=30)
    args = ap.parse_args()
    rng = np.random.default_rng(3)
    seconds = int(args.minutes * 60)
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend, vf.dgmt = START, START + seconds, -540
    minute = np.arange(0, seconds, 1.0)
    hr_curve = (
        72 + 10 * np.tanh((minute - 600) / 120) - 14 * np.exp(-(((minute - 1300) / 150) ** 2))
    )
    sbp_curve = 118 - 25 * np.exp(-(((minute - 700) / 200) ** 2)) + 3 * np.sin(minute / 90)
    dbp_curve = sbp_curve * 0.55

    def wave(name, srate, fn, unit, lo, hi, col, gaps=()):
        n = int(srate)
        t = START + np.arange(seconds * n) / srate
        hr = np.interp(t - START, minute, hr_curve)
        samples = fn(t, beats(t, hr)).astype(np.float32)
        keep = np.ones(seconds, bool)
        for a, b in gaps:
            keep[a:b] = False
        recs = np.flatnonzero(keep)
        samples = samples.reshape(seconds, n)[recs].ravel()
        offsets = np.arange(len(recs) + 1, dtype=np.int64) * n
        vf.add_track(
            name,
            srate=srate,
            unit=unit,
            mindisp=lo,
            maxdisp=hi,
            col=col,
            dt=START + recs.astype(float),
            samples=samples,
            offsets=offsets,
        )

    def art(t, ph):
        x = t - START
        v = abp(ph, np.interp(x, minute, sbp_curve), np.interp(x, minute, dbp_curve))
        flush = (x >= 900) & (x < 906)
        v[flush] = 300.0  # the flush before the line is closed
        return v + rng.normal(0, 0.6, len(t))

    wave(
        "SNUADC/ECG_II",
        500,
        lambda t, ph: ecg(ph) + rng.normal(0, 0.02, len(t)),
        "mV",
        -1,
        2,
        0xFF00FF00,
        gaps=[(1500, 1530)],
    )
    wave("SNUADC/ART", 125, art, "mmHg", 0, 200, 0xFFFF0000, gaps=[(906, 1020)])
    wave(
        "SNUADC/PLETH",
        125,
        lambda t, ph: 50 + 30 * np.sin(2 * np.pi * (ph - 0.2)) ** 3 + rng.normal(0, 0.5, len(t)),
        "",
        0,
        100,
        0xFF87CEFA,
    )
    wave(
        "Primus/CO2",
        62.5,
        lambda t, ph: 38 * (np.sin(2 * np.pi * (t - START) / 5) > 0.2) + rng.normal(0, 0.4, len(t)),
        "mmHg",
        0,
        50,
        0xFFFFFF00,
    )
    every2 = np.arange(0, seconds, 2.0)
    for name, curve, unit, lo, hi, col in (
        ("Solar8000/HR", np.interp(every2, minute, hr_curve), "/min", 30, 150, 0xFF00FF00),
        ("Solar8000/ART_SBP", np.interp(every2, minute, sbp_curve), "mmHg", 0, 200, 0xFFFF0000),
        ("Solar8000/ART_DBP", np.interp(every2, minute, dbp_curve), "mmHg", 0, 200, 0xFFFF0000),
        ("Solar8000/PLETH_SPO2", 98 + 0.8 * np.sin(every2 / 200), "%", 80, 100, 0xFF87CEFA),
        ("Primus/ETCO2", 36 + 2 * np.sin(every2 / 300), "mmHg", 0, 50, 0xFFFFFF00),
        (
            "BIS/BIS",
            np.clip(
                95
                - 55 * np.tanh(np.clip(every2 - 300, 0, None) / 200)
                + 30 * np.tanh(np.clip(every2 - 1550, 0, None) / 100),
                0,
                100,
            ),
            "",
            0,
            100,
            0xFFFFFFFF,
        ),
    ):
        values = curve + rng.normal(0, 0.6, len(every2))
        keep = ~((every2 >= 906) & (every2 < 1020)) if "ART" in name else slice(None)
        vf.add_track(
            name,
            unit=unit,
            mindisp=lo,
            maxdisp=hi,
            col=col,
            dt=START + every2[keep],
            values=values[keep],
        )
    events = [
        (60, "Induction"),
        (300, "Intubation"),
        (600, "Incision"),
        (900, "A-line flush"),
        (1500, "ECG lead off"),
        (1700, "Closure"),
    ]
    vf.add_track(
        "EVENT",
        dt=START + np.array([e[0] for e in events], float),
        values=[e[1] for e in events],
        col=0xFFFFFFFF,
    )
    vf.to_vital(args.out)


if __name__ == "__main__":
    main()
