"""The patient: slowly varying trajectories, heart beats and breaths, in seconds from file start.

Everything the waves and numerics show comes from one ``Physiology``: the beat times (R
peaks) with each beat's rhythm class, the per-beat arterial pressures, the breaths, and
trajectories sampled once a second (heart rate, mean arterial pressure, pulse pressure,
SpO2, temperature, end-tidal CO2, anaesthetic depth). Hypotension episodes shape the MAP
trajectory here, so the arterial wave drawn from it and every pressure numeric computed
from that wave follow them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Rhythm classes of the beats (``Physiology.beat_class``) and the annotation names.
NORMAL, AF, PVC = 0, 1, 2
RHYTHMS = ("N", "AF", "PVC", "BRADY")
PULSE_TRANSIT = 0.16  # s from R peak to the arterial upstroke
PLETH_TRANSIT = 0.26  # s from R peak to the plethysmograph upstroke
MARGIN = 3.0  # s of beats and breaths before the start and after the end
MAP_FLOOR = 72.0  # mmHg: the lowest baseline MAP (episodes go below it)


@dataclass(frozen=True)
class Hypotension:
    """MAP below ``level`` (mmHg) on the open interval (start, start + duration) seconds
    from file start; it bottoms out at ``level - depth`` and ramps back over ``recovery`` s."""

    start: float
    duration: float
    level: float
    depth: float = 10.0
    recovery: float = 60.0

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class RhythmSpan:
    """The ECG shows rhythm ``kind`` ('AF', 'PVC' or 'BRADY') from ``start`` to ``end`` s."""

    kind: str
    start: float
    end: float


def slow_wander(
    rng: np.random.Generator, n: int, periods: tuple[float, float], count: int = 4
) -> np.ndarray:
    """A smooth zero-mean wander of unit-ish amplitude on a 1 s grid: a few sinusoids with
    random periods (seconds) and phases."""
    t = np.arange(n, dtype=np.float64)
    out = np.zeros(n)
    for period, phase, weight in zip(
        rng.uniform(*periods, count), rng.uniform(0, 2 * np.pi, count), rng.uniform(0.5, 1.0, count)
    ):
        out += weight * np.sin(2 * np.pi * t / period + phase)
    return out / np.sqrt(count / 2)


class Physiology:
    """Trajectories (1 s grid from ``-MARGIN``), beats and breaths of one recording.

    Parameters
    ----------
    duration
        Seconds of recording.
    rng
        The recording's random generator (consumed in a fixed order).
    kind
        'or' (anaesthetised, ventilated: induction, maintenance, emergence) or 'icu'
        (spontaneous breathing, steadier).
    hypotension, rhythm
        Episodes to build in.
    """

    def __init__(
        self,
        duration: float,
        rng: np.random.Generator,
        kind: str = "or",
        hypotension: tuple[Hypotension, ...] = (),
        rhythm: tuple[RhythmSpan, ...] = (),
    ):
        self.duration = float(duration)
        self.kind = kind
        self.hypotension = tuple(hypotension)
        self.rhythm = tuple(rhythm)
        n = int(np.ceil(self.duration + 2 * MARGIN)) + 2
        self.grid = np.arange(n, dtype=np.float64) - MARGIN  # trajectory times
        icu = kind == "icu"
        self.depth = self._depth(n) if not icu else np.zeros(n)
        self.hr = (
            (88.0 if icu else 74.0) + 6.0 * slow_wander(rng, n, (600, 3600)) - 8.0 * self.depth
        )
        # outside the hypotension episodes MAP stays clear above every episode's level,
        # so that "MAP below the level" happens exactly where the truth says
        floor = max([MAP_FLOOR] + [ep.level + 7.0 for ep in hypotension])
        self.map_base = np.maximum(
            (88.0 if icu else 86.0) + 7.0 * slow_wander(rng, n, (900, 5400)) - 10.0 * self.depth,
            floor,
        )
        self.pp = 42.0 + 5.0 * slow_wander(rng, n, (1200, 7200))
        self.spo2 = np.minimum(
            (96.0 if icu else 98.6) + 0.8 * slow_wander(rng, n, (300, 1800)), 100.0
        )
        self.bt = 36.4 + 0.3 * slow_wander(rng, n, (1800, 10800)) - 0.4 * self.depth
        self.etco2 = 35.0 + 2.5 * slow_wander(rng, n, (600, 3600))
        self.cvp = 8.0 + 1.5 * slow_wander(rng, n, (900, 3600))
        self.resp_rate = (
            12.0 * np.ones(n) if not icu else 16.0 + 2.5 * slow_wander(rng, n, (300, 1800))
        )
        self.map = self._with_hypotension(self.map_base.copy())
        self._beats(rng)
        self._breaths(rng)
        self.eeg_seed = int(rng.integers(2**63))

    # -- trajectories --------------------------------------------------------------------

    def at(self, trajectory: np.ndarray, t: np.ndarray | float) -> np.ndarray:
        """A trajectory at times ``t`` (seconds from file start), linearly interpolated."""
        return np.interp(t, self.grid, trajectory)

    def _depth(self, n: int) -> np.ndarray:
        """Anaesthetic depth 0..1: induction over the first minutes, emergence at the end."""
        t = self.grid
        d = self.duration
        induction = min(300.0, 0.08 * d)
        emergence = min(600.0, 0.1 * d)
        up = np.clip((t - 0.5 * induction) / (0.5 * induction), 0, 1)
        down = np.clip((d - t) / emergence, 0, 1)
        return np.minimum(up, down) * 0.9

    def _with_hypotension(self, mean_pressure: np.ndarray) -> np.ndarray:
        """The MAP trajectory crosses ``level`` at an episode's start and end, stays below
        it in between (bottoming out ``depth`` below after 20 s), and ramps from and back
        to the baseline over ``recovery`` s outside."""
        t = self.grid
        for ep in self.hypotension:
            base = np.maximum(mean_pressure, ep.level + 5.0)
            before = (t > ep.start - ep.recovery) & (t <= ep.start)
            after = (t >= ep.end) & (t < ep.end + ep.recovery)
            inside = (t > ep.start) & (t < ep.end)
            ramp_in = (ep.start - t[before]) / ep.recovery
            mean_pressure[before] = ep.level + (base[before] - ep.level) * ramp_in
            ramp_out = (t[after] - ep.end) / ep.recovery
            mean_pressure[after] = ep.level + (base[after] - ep.level) * ramp_out
            edge = np.minimum(t[inside] - ep.start, ep.end - t[inside])
            mean_pressure[inside] = ep.level - ep.depth * np.minimum(1.0, edge / 20.0)
        return mean_pressure

    def rhythm_at(self, t: np.ndarray) -> np.ndarray:
        """The rhythm span index + 1 at each time (0: normal sinus rhythm)."""
        out = np.zeros(len(t), np.int8)
        for i, span in enumerate(self.rhythm, start=1):
            out[(t >= span.start) & (t < span.end)] = i
        return out

    # -- beats --------------------------------------------------------------------------

    def _beats(self, rng: np.random.Generator) -> None:
        """R-peak times with heart rate variability: a respiratory modulation plus a
        little noise; atrial fibrillation makes the R-R intervals irregular; a PVC comes
        early and is followed by a compensatory pause; bradycardia slows the rate."""
        end = self.duration + MARGIN
        est = int((end + MARGIN) * 200 / 60) + 16  # at most 200/min
        noise = rng.standard_normal(est).tolist()
        jitter = rng.uniform(-1.0, 1.0, est).tolist()
        pvc_draw = rng.uniform(0.0, 1.0, est).tolist()
        spans = [(s.start, s.end, s.kind) for s in self.rhythm]
        times, classes = [], []
        t, k, pending_pause = -MARGIN, 0, False
        hr_grid = self.hr.tolist()
        while t < end and k < est:
            idx = min(max(int(t + MARGIN), 0), len(hr_grid) - 1)
            rr = 60.0 / hr_grid[idx]
            rr *= 1.0 + 0.035 * math.sin(2 * math.pi * t / 5.0) + 0.012 * noise[k]
            kind = next((kd for a, b, kd in spans if a <= t < b), "N") if spans else "N"
            cls = NORMAL
            if kind == "BRADY":
                rr = 60.0 / 44.0 * (1.0 + 0.02 * noise[k])
            elif kind == "AF":
                rr *= 0.85 * (1.0 + 0.28 * jitter[k])
                cls = AF
            elif kind == "PVC":
                if pending_pause:
                    rr *= 1.45
                    pending_pause = False
                elif pvc_draw[k] < 0.18:
                    cls = PVC
                    pending_pause = True
            times.append(t)
            classes.append(cls)
            # a PVC arrives early: shorten the interval that ends with it
            if cls == PVC and len(times) > 1:
                times[-1] = times[-2] + 0.6 * (times[-1] - times[-2])
            t = times[-1] + rr
            k += 1
        self.r_peaks = np.asarray(times, np.float64)
        self.beat_class = np.asarray(classes, np.int8)
        onset = self.r_peaks + PULSE_TRANSIT
        map_k = self.at(self.map, onset)
        pp_k = self.at(self.pp, onset) * (1.0 + 0.06 * np.sin(2 * np.pi * onset / 5.0))
        pp_k[self.beat_class == PVC] *= 0.55
        self.beat_map = map_k
        self.beat_pp = pp_k

    # -- breaths ------------------------------------------------------------------------

    def _breaths(self, rng: np.random.Generator) -> None:
        """Breath start times (inspiration begins) and each breath's end-tidal CO2."""
        end = self.duration + MARGIN
        starts = [-MARGIN]
        draws = rng.standard_normal(int((end + MARGIN) * 40 / 60) + 16)
        k = 0
        while starts[-1] < end:
            rate = self.at(self.resp_rate, starts[-1])
            wobble = 0.005 if self.kind != "icu" else 0.08
            starts.append(starts[-1] + 60.0 / rate * (1.0 + wobble * draws[k % len(draws)]))
            k += 1
        self.breaths = np.asarray(starts, np.float64)
        self.breath_etco2 = self.at(self.etco2, self.breaths)
