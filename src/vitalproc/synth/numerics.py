"""Numerics computed from the waves (as a monitor computes them) or, for what no wave
carries, from the patient's trajectories.

A rule is ``f(ctx, t) -> float64[len(t)]`` for numeric times ``t`` (seconds from file
start, each the end of the interval the value describes); NaN means the monitor shows
nothing then (its source wave is disconnected) and no record is written. What each rule
computes:

- ``hr``: 60 / mean R-R interval of the R peaks of the last 8 s (the peaks the ECG is
  drawn around); ``pleth_hr`` the same over 12 s of pulses (absent while the pleth is);
- ``art_sbp``/``art_dbp``/``art_mbp``: mean of the per-beat maximum, minimum and mean of
  the arterial wave's samples, over the beats that end in the last 4 s;
- ``etco2``/``inco2``: the capnogram's maximum/minimum over the last complete breath;
  ``rr`` 60 / mean breath interval of the last 30 s; ``pip``/``peep`` from the airway
  pressure wave the same way as end-tidal CO2;
- ``cvp_mean``: mean of the CVP wave over the interval;
- ``sef``/``totpow``: 95 % spectral edge and total power (dB) of the last 2 s of EEG;
- ``bis``: 95 - 55 x anaesthetic depth (plus a slow wander), ``sqi``, ``mac``;
- ``spo2``, ``bt``, ``st``: trajectories; ``nibp_*``: the beats' pressures around the
  measurement plus a cuff error; ``ppf_*``/``rftn_*``: an infusion schedule and its
  effect-site concentration (first-order lag).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .physiology import PULSE_TRANSIT, Physiology, slow_wander


@dataclass
class Context:
    """What the rules see: the patient, the physical waves by source (float32, NaN where
    no record exists) with their rates, and a generator for measurement noise."""

    phys: Physiology
    waves: dict[str, tuple[np.ndarray, float]]
    rng: np.random.Generator
    cache: dict = field(default_factory=dict)

    def absent(self, source: str, t: np.ndarray, window: float) -> np.ndarray:
        """True where wave ``source`` has no sample at all in ``(t - window, t]``."""
        if source not in self.waves:
            return np.zeros(len(t), bool)
        x, srate = self.waves[source]
        nan = np.isnan(x)
        if not nan.any():
            return np.zeros(len(t), bool)
        present = np.concatenate([[0], np.cumsum(~nan)])
        hi = np.clip(np.floor(t * srate).astype(np.int64) + 1, 0, len(x))
        lo = np.clip(np.floor((t - window) * srate).astype(np.int64) + 1, 0, len(x))
        return present[hi] - present[lo] == 0

    def spans(self, source: str, marks: np.ndarray, name: str) -> tuple[np.ndarray, ...] | None:
        """Per span between ``marks`` (seconds; ``name`` says which, for the cache): end
        time, max, min and mean of the wave ``source`` (NaN for spans without samples)."""
        key = (source, name)
        if key in self.cache:
            return self.cache[key]
        if source not in self.waves:
            return None
        x, srate = self.waves[source]
        starts = np.clip(np.ceil(marks * srate).astype(np.int64), 0, len(x))
        keep = np.flatnonzero(np.diff(starts) > 0)
        a = starts[keep]
        with np.errstate(invalid="ignore"):
            hi = np.maximum.reduceat(x, a).astype(np.float64)
            lo = np.minimum.reduceat(x, a).astype(np.float64)
            mean = np.add.reduceat(x.astype(np.float64), a) / np.diff(starts)[keep]
        ends = marks[keep + 1]
        self.cache[key] = out = (ends, hi, lo, mean)
        return out


def _window_mean(ends: np.ndarray, values: np.ndarray, t: np.ndarray, window: float) -> np.ndarray:
    """Mean of the finite ``values`` whose span ends in ``(t - window, t]``; NaN if none."""
    ok = np.isfinite(values)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, values, 0.0))])
    cnt = np.concatenate([[0], np.cumsum(ok)])
    hi = np.searchsorted(ends, t, "right")
    lo = np.searchsorted(ends, t - window, "right")
    n = cnt[hi] - cnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (csum[hi] - csum[lo]) / np.maximum(n, 1), np.nan)


def _last(ends: np.ndarray, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The value of the last span ending at or before ``t``."""
    i = np.searchsorted(ends, t, "right") - 1
    return np.where(i >= 0, values[np.maximum(i, 0)], np.nan)


def _rate(marks: np.ndarray, t: np.ndarray, window: float) -> np.ndarray:
    """60 / mean interval between the marks within ``(t - window, t]``."""
    hi = np.searchsorted(marks, t, "right") - 1
    lo = np.searchsorted(marks, t - window, "right")
    count = hi - lo
    span = marks[np.maximum(hi, 0)] - marks[np.clip(lo, 0, len(marks) - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, 60.0 * count / span, np.nan)


def _masked(value: np.ndarray, gone: np.ndarray) -> np.ndarray:
    value = np.asarray(value, np.float64)
    value[gone] = np.nan
    return value


def hr(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _masked(np.round(_rate(ctx.phys.r_peaks, t, 8.0)), ctx.absent("ecg_ii", t, 2.0))


def pleth_hr(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _masked(np.round(_rate(ctx.phys.r_peaks, t - 0.3, 12.0)), ctx.absent("pleth", t, 2.0))


def _beats(ctx: Context) -> tuple[np.ndarray, ...]:
    phys = ctx.phys
    onset = phys.r_peaks + PULSE_TRANSIT
    stats = ctx.spans("art", onset, "beats")
    if stats is None:  # no arterial wave: the beats' own pressures
        dbp = phys.beat_map - 0.35 * phys.beat_pp
        return onset[1:], dbp[:-1] + phys.beat_pp[:-1], dbp[:-1], phys.beat_map[:-1]
    return stats


def art_sbp(ctx: Context, t: np.ndarray) -> np.ndarray:
    ends, hi, _, _ = _beats(ctx)
    return np.round(_window_mean(ends, hi, t, 4.0))


def art_dbp(ctx: Context, t: np.ndarray) -> np.ndarray:
    ends, _, lo, _ = _beats(ctx)
    return np.round(_window_mean(ends, lo, t, 4.0))


def art_mbp(ctx: Context, t: np.ndarray) -> np.ndarray:
    ends, _, _, mean = _beats(ctx)
    return np.round(_window_mean(ends, mean, t, 4.0))


def cvp_mean(ctx: Context, t: np.ndarray) -> np.ndarray:
    if "cvp" not in ctx.waves:
        return np.round(ctx.phys.at(ctx.phys.cvp, t))
    x, srate = ctx.waves["cvp"]
    csum = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    hi = np.clip(np.floor(t * srate).astype(np.int64) + 1, 1, len(x))
    lo = np.clip(hi - int(2 * srate), 0, len(x) - 1)
    with np.errstate(invalid="ignore"):
        return np.round((csum[hi] - csum[lo]) / (hi - lo))


def _breath_stat(
    ctx: Context,
    source: str,
    t: np.ndarray,
    which: int,
    fallback: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    stats = ctx.spans(source, ctx.phys.breaths, "breaths")
    if stats is None:
        return fallback(t)
    return _last(stats[0], stats[which], t)


def etco2(ctx: Context, t: np.ndarray) -> np.ndarray:
    phys = ctx.phys
    return np.round(_breath_stat(ctx, "co2", t, 1, lambda t: phys.at(phys.etco2, t)))


def inco2(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(np.maximum(_breath_stat(ctx, "co2", t, 2, np.zeros_like), 0.0))


def pip(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(_breath_stat(ctx, "awp", t, 1, lambda t: np.full(len(t), 18.0)))


def peep(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(_breath_stat(ctx, "awp", t, 2, lambda t: np.full(len(t), 5.0)))


def rr(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(_rate(ctx.phys.breaths, t, 30.0))


def spo2(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _masked(np.round(ctx.phys.at(ctx.phys.spo2, t)), ctx.absent("pleth", t, 2.0))


def bt(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(ctx.phys.at(ctx.phys.bt, t), 1)


def st(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(0.1 + 0.05 * np.sin(2 * np.pi * t / 1800.0), 2)


def _nibp(ctx: Context, t: np.ndarray) -> tuple[np.ndarray, ...]:
    if "nibp" not in ctx.cache:
        phys = ctx.phys
        m = np.interp(t, phys.r_peaks, phys.beat_map)
        pp = np.interp(t, phys.r_peaks, phys.beat_pp)
        err = ctx.rng.normal(0.0, 3.0, (3, len(t)))
        mbp = m + err[0]
        ctx.cache["nibp"] = (
            np.round(mbp + 0.6 * pp + err[1]),
            np.round(mbp - 0.35 * pp + err[2]),
            np.round(mbp),
        )
    return ctx.cache["nibp"]


def nibp_sbp(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _nibp(ctx, t)[0]


def nibp_dbp(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _nibp(ctx, t)[1]


def nibp_mbp(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _nibp(ctx, t)[2]


def _bis(ctx: Context) -> np.ndarray:
    if "bis" not in ctx.cache:
        phys = ctx.phys
        wander = slow_wander(ctx.rng, len(phys.grid), (120, 900))
        ctx.cache["bis"] = np.clip(95.0 - 55.0 * phys.depth + 3.0 * wander, 0, 100)
    return ctx.cache["bis"]


def bis(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(ctx.phys.at(_bis(ctx), t))


def sqi(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(97.0 + 2.0 * np.sin(2 * np.pi * t / 700.0))


def mac(ctx: Context, t: np.ndarray) -> np.ndarray:
    return np.round(ctx.phys.at(ctx.phys.depth, t) * 0.9, 2)


def _eeg_windows(ctx: Context, t: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if "eeg1" not in ctx.waves:
        return None
    if ("eeg", len(t)) not in ctx.cache:
        x, srate = ctx.waves["eeg1"]
        size = int(2 * srate)
        end = np.clip(np.floor(t * srate).astype(np.int64) + 1, size, len(x))
        rows = x[(end - size)[:, None] + np.arange(size)].astype(np.float64)
        power = np.abs(np.fft.rfft(rows - rows.mean(axis=1, keepdims=True), axis=1)) ** 2
        ctx.cache[("eeg", len(t))] = (power, np.fft.rfftfreq(size, 1.0 / srate))
    return ctx.cache[("eeg", len(t))]


def sef(ctx: Context, t: np.ndarray) -> np.ndarray:
    spectra = _eeg_windows(ctx, t)
    if spectra is None:
        return np.round(25.0 - 12.0 * ctx.phys.at(ctx.phys.depth, t), 1)
    power, f = spectra
    cum = np.cumsum(power, axis=1)
    edge = (cum < 0.95 * cum[:, -1:]).sum(axis=1)
    return np.round(f[np.minimum(edge, len(f) - 1)], 1)


def totpow(ctx: Context, t: np.ndarray) -> np.ndarray:
    spectra = _eeg_windows(ctx, t)
    if spectra is None:
        return np.full(len(t), 70.0)
    power, _ = spectra
    with np.errstate(divide="ignore"):
        return np.round(10 * np.log10(np.maximum(power.sum(axis=1), 1e-12)), 1)


def _infusion(ctx: Context, t: np.ndarray, drug: str) -> tuple[np.ndarray, np.ndarray]:
    """An infusion rate (mL/h): off, a bolus-like minute at induction, a maintenance rate
    changed every 10-40 minutes, off for emergence; and its effect-site concentration."""
    key = ("infusion", drug, len(t))
    if key not in ctx.cache:
        phys = ctx.phys
        d = phys.duration
        base = {"ppf": (25.0, 10.0, 150.0, 0.0025), "rftn": (8.0, 4.0, 20.0, 0.04)}[drug]
        mean, spread, bolus, gain = base
        rate = np.zeros(len(t))
        start, stop = min(120.0, 0.03 * d), d - min(900.0, 0.12 * d)
        rate[(t >= start) & (t < start + 60)] = bolus
        edge = start + 60
        while edge < stop:
            nxt = min(stop, edge + ctx.rng.uniform(600, 2400))
            rate[(t >= edge) & (t < nxt)] = round(max(1.0, ctx.rng.normal(mean, spread)), 1)
            edge = nxt
        dt = np.diff(t, prepend=t[0] - (t[1] - t[0] if len(t) > 1 else 1.0))
        alpha = 1.0 - np.exp(-dt / 240.0)
        target = rate * gain * 40.0
        ce = np.empty(len(t))
        level = 0.0
        for i, (a, x) in enumerate(zip(alpha.tolist(), target.tolist())):
            level += a * (x - level)
            ce[i] = level
        ctx.cache[key] = (rate, np.round(ce, 2))
    return ctx.cache[key]


def ppf_rate(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _infusion(ctx, t, "ppf")[0]


def ppf_ce(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _infusion(ctx, t, "ppf")[1]


def rftn_rate(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _infusion(ctx, t, "rftn")[0]


def rftn_ce(ctx: Context, t: np.ndarray) -> np.ndarray:
    return _infusion(ctx, t, "rftn")[1]


Rule = Callable[[Context, np.ndarray], np.ndarray]

#: Numeric rules by the catalogue's ``source`` names.
NUMERICS: dict[str, Rule] = {
    "hr": hr,
    "pleth_hr": pleth_hr,
    "art_sbp": art_sbp,
    "art_dbp": art_dbp,
    "art_mbp": art_mbp,
    "cvp_mean": cvp_mean,
    "etco2": etco2,
    "inco2": inco2,
    "rr": rr,
    "pip": pip,
    "peep": peep,
    "spo2": spo2,
    "bt": bt,
    "st": st,
    "nibp_sbp": nibp_sbp,
    "nibp_dbp": nibp_dbp,
    "nibp_mbp": nibp_mbp,
    "bis": bis,
    "sqi": sqi,
    "mac": mac,
    "sef": sef,
    "totpow": totpow,
    "ppf_rate": ppf_rate,
    "ppf_ce": ppf_ce,
    "rftn_rate": rftn_rate,
    "rftn_ce": rftn_ce,
}
