"""Wave models: each draws one signal from the ``Physiology`` on a whole recording's sample grid.

A model is ``f(phys, n, srate, rng) -> float32[n]``: sample ``j`` is the physical value
(mV, mmHg, ...) at ``j / srate`` seconds from file start. Beats and breaths are drawn by
looking up a template with integer sample arithmetic (every sample finds its beat with
one ``np.repeat``), never with a Python loop over samples:

- ECG: P, Q, R, S and T waves around each R peak, per lead and per beat class (atrial
  fibrillation has no P wave and a fibrillatory baseline; a PVC is wide with an inverted T);
- arterial pressure: a pulse (systolic upstroke, dicrotic notch, diastolic run-off) on
  each beat's normalised phase, scaled to the beat's pulse pressure, between diastolic
  levels that carry the beat's mean pressure; so a beat's mean is its MAP;
- plethysmograph: a smoother pulse, later after the R peak (pulse transit);
- CVP, capnogram and airway pressure from the breath phase; ICU impedance respiration;
- EEG: 1/f background plus delta, alpha and beta bands whose weights follow anaesthetic depth.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _tile as _kernels
from .physiology import AF, PLETH_TRANSIT, PULSE_TRANSIT, PVC, Physiology

TEMPLATE_POINTS = 1024

WaveModel = Callable[[Physiology, int, float, np.random.Generator], np.ndarray]


# ---- tiling templates over beats and breaths ------------------------------------------

ZERO = np.zeros(TEMPLATE_POINTS)


def _starts(marks: np.ndarray, srate: float) -> np.ndarray:
    """First sample of each span that starts at ``marks`` (seconds); may lie outside
    the recording (the marks reach a few seconds beyond it)."""
    return np.ceil(marks * srate).astype(np.int64)


def _tile(
    n: int,
    starts: np.ndarray,
    level0: np.ndarray,
    level1: np.ndarray,
    scale: np.ndarray,
    template: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Span k (samples ``starts[k]`` to ``starts[k+1]``): a level moving linearly from
    ``level0[k]`` to ``level1[k]``, plus ``scale[k]`` times the template on the span's
    phase; added to ``out`` when given."""
    add = out is not None
    if out is None:
        out = np.empty(n, np.float32)
    f64 = np.ascontiguousarray
    _kernels.tile(
        out,
        f64(starts, np.int64),
        f64(level0, np.float64),
        f64(level1, np.float64),
        f64(scale, np.float64),
        f64(template, np.float64),
        add,
    )
    return out


NOISE_BLOCK = 1 << 16


def _add_noise(out: np.ndarray, rng: np.random.Generator, sd: float) -> None:
    """Gaussian noise added to ``out``: a block of 2**16 draws laid end to end from random
    offsets (noise needs no more variety than that, and drawing every sample costs more
    than the wave)."""
    n = len(out)
    bank = rng.standard_normal(NOISE_BLOCK, dtype=np.float32) * np.float32(sd)
    shifts = rng.integers(0, NOISE_BLOCK, n // NOISE_BLOCK + 1)
    _kernels.add_tiled(out, np.concatenate([bank, bank]), shifts.astype(np.int64))


def _bump(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - centre) / width) ** 2)


# ---- ECG --------------------------------------------------------------------------------

#: Per lead: amplitude (mV) of P, Q, R, S, T.
LEADS = {
    "ii": (0.15, -0.10, 1.20, -0.25, 0.30),
    "v5": (0.10, -0.06, 1.60, -0.40, 0.40),
    "iii": (0.08, -0.08, 0.70, -0.15, 0.15),
}
ECG_BEFORE, ECG_AFTER = 0.30, 0.55  # s of template before and after the R peak


def _ecg_tables(lead: str, srate: float) -> np.ndarray:
    """Templates per beat class on the sample grid around the R peak."""
    p, q, r, s, t = LEADS[lead]
    x = np.arange(-round(ECG_BEFORE * srate), round(ECG_AFTER * srate) + 1) / srate
    qrs = q * _bump(x, -0.035, 0.010) + r * _bump(x, 0.0, 0.011) + s * _bump(x, 0.035, 0.011)
    normal = p * _bump(x, -0.17, 0.025) + qrs + t * _bump(x, 0.28, 0.05)
    fib = qrs + t * _bump(x, 0.28, 0.05)
    pvc = 1.3 * r * _bump(x, 0.0, 0.035) + s * _bump(x, 0.07, 0.03) - 1.3 * t * _bump(x, 0.32, 0.07)
    tables = np.zeros((3, len(x)))
    tables[0], tables[AF], tables[PVC] = normal, fib, pvc
    return tables


def ecg(lead: str) -> WaveModel:
    """The ECG lead ``lead`` (a key of ``LEADS``)."""

    def draw(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
        tables = _ecg_tables(lead, srate)
        before = round(ECG_BEFORE * srate)
        r_pos = np.rint(phys.r_peaks * srate).astype(np.int64)
        breath = np.searchsorted(phys.breaths, phys.r_peaks, "right") - 1
        breath_phase = (phys.r_peaks - phys.breaths[breath]) / np.diff(phys.breaths)[
            np.minimum(breath, len(phys.breaths) - 2)
        ]
        wander = 0.05 * np.sin(2 * np.pi * breath_phase)  # baseline wander
        amp = 1.0 + 0.06 * np.sin(2 * np.pi * breath_phase)  # axis swing
        out = _tile(n, r_pos, wander[:-1], wander[1:], np.zeros(len(r_pos)), ZERO)
        _kernels.overlap_add(
            out,
            r_pos,
            np.ascontiguousarray(tables, np.float64),
            phys.beat_class,
            np.asarray(amp),
            before,
        )
        for k in np.flatnonzero(phys.beat_class[:-1] == AF).tolist():
            lo, hi = max(int(r_pos[k]), 0), min(int(r_pos[k + 1]), n)
            if hi > lo:  # fibrillatory waves up to the next beat
                ts = np.arange(lo, hi) / srate
                out[lo:hi] += 0.04 * np.sin(2 * np.pi * 6.3 * ts + np.sin(2 * np.pi * 0.7 * ts))
        _add_noise(out, rng, 0.012)
        return out

    return draw


# ---- pulses ------------------------------------------------------------------------------


def _arterial_template() -> np.ndarray:
    """Pulse shape on the beat's phase, 0 (diastolic) .. 1 (systolic): a fast upstroke,
    the systolic peak, a dicrotic notch and a decaying run-off back to 0."""
    x = np.linspace(0.0, 1.0, TEMPLATE_POINTS)
    up = np.sin(np.clip(x / 0.13, 0, 1) * np.pi / 2) ** 2
    runoff = np.exp(-np.clip(x - 0.13, 0, None) / 0.30)
    wave = up * runoff
    wave -= 0.10 * _bump(x, 0.36, 0.02)  # dicrotic notch
    wave += 0.08 * _bump(x, 0.42, 0.035)  # dicrotic wave
    wave -= x * wave[-1]  # back to exactly 0 at the next upstroke
    return wave / wave.max()


def _pleth_template() -> np.ndarray:
    x = np.linspace(0.0, 1.0, TEMPLATE_POINTS)
    wave = _bump(x, 0.22, 0.09) + 0.35 * _bump(x, 0.50, 0.10)
    wave -= wave[0] + x * (wave[-1] - wave[0])
    return wave / wave.max()


ARTERIAL = _arterial_template()
ARTERIAL_MEAN = float(ARTERIAL.mean())
PLETH = _pleth_template()


def arterial(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
    """Each beat: ``DBP(t) + PP_k * pulse(phase)``, the diastolic level moving linearly
    from this beat's to the next one's, so that the beat's mean is its MAP."""
    starts = _starts(phys.r_peaks + PULSE_TRANSIT, srate)
    dbp = phys.beat_map - ARTERIAL_MEAN * phys.beat_pp
    out = _tile(n, starts, dbp[:-1], dbp[1:], phys.beat_pp[:-1], ARTERIAL)
    _add_noise(out, rng, 0.25)
    return out


def pleth(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
    onset = phys.r_peaks + PLETH_TRANSIT
    beat_amp = 55.0 * (1.0 + 0.08 * np.sin(2 * np.pi * onset / 5.0 + 1.0))
    beat_amp[phys.beat_class == PVC] *= 0.5
    base = np.full(len(onset), 20.0)
    out = _tile(n, _starts(onset, srate), base, base, beat_amp, PLETH)
    _add_noise(out, rng, 0.15)
    return out


def _cvp_template() -> np.ndarray:
    x = np.linspace(0.0, 1.0, TEMPLATE_POINTS)
    return _bump(x, 0.05, 0.05) - 0.6 * _bump(x, 0.30, 0.06) + 0.7 * _bump(x, 0.62, 0.08)


CVP = _cvp_template()
SWING = np.sin(np.pi * np.minimum(np.linspace(0, 3, TEMPLATE_POINTS), 1.0))


def cvp(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
    """Atrial (a), x descent and ventricular (v) waves on each beat, over the CVP level;
    positive-pressure inspiration lifts it."""
    level = phys.at(phys.cvp, phys.r_peaks)
    out = _tile(
        n, _starts(phys.r_peaks, srate), level[:-1], level[1:], np.full(len(level), 2.0), CVP
    )
    zero = np.zeros(len(phys.breaths))
    _tile(n, _starts(phys.breaths, srate), zero, zero, zero + 2.0, SWING, out)
    _add_noise(out, rng, 0.2)
    return out


# ---- breaths ----------------------------------------------------------------------------

INSPIRATION = 1.0 / 3.0  # I:E = 1:2


def _capnogram_template() -> np.ndarray:
    """CO2 over the breath (0 .. 1 of the end-tidal value): falls to zero as inspiration
    starts, rises steeply with expiration (phase II), then the alveolar plateau (III)."""
    x = np.linspace(0.0, 1.0, TEMPLATE_POINTS)
    insp = np.clip(1.0 - x / 0.03, 0, 1) * 0.97
    e = np.clip(x - INSPIRATION, 0, None)
    exp_part = (1.0 - np.exp(-e / 0.035)) * (0.93 + 0.07 * e / (1 - INSPIRATION))
    return np.where(x < INSPIRATION, insp, exp_part)


def _airway_template() -> np.ndarray:
    x = np.linspace(0.0, 1.0, TEMPLATE_POINTS)
    rise = np.clip(x / 0.06, 0, 1) * (0.85 + 0.15 * np.clip(x / INSPIRATION, 0, 1))
    fall = np.exp(-np.clip(x - INSPIRATION, 0, None) / 0.04)
    return np.where(x < INSPIRATION, rise, fall * rise[int(INSPIRATION * (TEMPLATE_POINTS - 1))])


CAPNOGRAM = _capnogram_template()
AIRWAY = _airway_template()
BREATHING = -np.cos(2 * np.pi * np.linspace(0, 1, TEMPLATE_POINTS))
PIP, PEEP = 18.0, 5.0


def capnogram(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
    zero = np.zeros(len(phys.breaths))
    out = _tile(n, _starts(phys.breaths, srate), zero, zero, phys.breath_etco2, CAPNOGRAM)
    _add_noise(out, rng, 0.15)
    return np.maximum(out, 0.0, out=out)


def airway(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
    peep = np.full(len(phys.breaths), PEEP)
    out = _tile(n, _starts(phys.breaths, srate), peep, peep, peep * 0 + (PIP - PEEP), AIRWAY)
    _add_noise(out, rng, 0.1)
    return out


def impedance(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
    zero = np.zeros(len(phys.breaths))
    out = _tile(n, _starts(phys.breaths, srate), zero, zero, zero + 0.6, BREATHING)
    _add_noise(out, rng, 0.03)
    return out


# ---- EEG --------------------------------------------------------------------------------

EEG_BLOCK = 1 << 14  # samples per synthesis block (128 s at 128 Hz); blocks overlap by half


def eeg(phys: Physiology, n: int, srate: float, rng: np.random.Generator) -> np.ndarray:
    """1/f background plus delta (1-4 Hz), alpha (8-12 Hz) and beta (15-30 Hz) bands.

    Made block by block in the frequency domain (random phases, band-shaped amplitudes
    weighted by the anaesthetic depth at the block's middle: depth moves power from beta
    to delta and alpha), blocks overlap-added with sine windows so the power is steady
    across block edges."""
    size, hop = EEG_BLOCK, EEG_BLOCK // 2
    f = np.fft.rfftfreq(size, 1.0 / srate)
    pink = 1.0 / np.sqrt(np.maximum(f, 0.5))
    pink /= np.sqrt((pink**2).sum())
    delta, alpha, beta = (_bump(f, 2.0, 0.9), _bump(f, 10.0, 1.3), _bump(f, 21.0, 4.0))
    delta, alpha, beta = (x / np.sqrt((x**2).sum()) for x in (delta, alpha, beta))
    window = np.sin(np.pi * (np.arange(size) + 0.5) / size)
    nblocks = n // hop + 2
    middles = (np.arange(nblocks) * hop - hop + size / 2) / srate
    depth = phys.at(phys.depth, middles)
    out = np.zeros((nblocks + 1) * hop, np.float64)
    for i in range(nblocks):
        d = depth[i]
        amp = (
            8.0 * pink + (4.0 + 18.0 * d) * delta + (5.0 + 9.0 * d) * alpha + (7.0 - 6.0 * d) * beta
        )
        spectrum = amp * (rng.standard_normal(len(f)) + 1j * rng.standard_normal(len(f)))
        block = np.fft.irfft(spectrum, size) * (size / 2.0)  # unit variance per band
        out[i * hop : i * hop + size] += window * block
    return out[hop : hop + n].astype(np.float32)


#: Wave models by the catalogue's ``source`` names.
WAVES: dict[str, WaveModel] = {
    "ecg_ii": ecg("ii"),
    "ecg_v5": ecg("v5"),
    "ecg_iii": ecg("iii"),
    "art": arterial,
    "pleth": pleth,
    "cvp": cvp,
    "co2": capnogram,
    "awp": airway,
    "resp": impedance,
    "eeg1": eeg,
}
