"""Devices and tracks of each profile, named as VitalDB and Vital Recorder name them.

A profile is a list of devices and a list of ``TrackSpec``: the track's metadata as the
file declares it, how long its records are, and which signal (``source``) fills it. The
signal models live in ``waves.py`` (waves) and ``numerics.py`` (numerics); this module
only says what exists and how it is stored.

Storage follows real files: Vital Recorder's ADC waves (SNUADC, SNUADCM) are unsigned
16-bit integers with a gain and offset, bedside-monitor waves signed 16-bit, the Primus
and the simulator ("Demo") device float32; numerics are float32 every 2 s (NIBP only when
a measurement is taken), strings are sparse.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .._constants import TrackType

F32, U16, I16 = 1, 6, 5  # sample formats used here (FMT_DTYPE keys)


@dataclass(frozen=True)
class TrackSpec:
    """One track as declared in the file, and what fills it.

    ``source`` names the signal: a wave model (``waves.WAVES``), a numeric rule
    (``numerics.NUMERICS``), or ``"event"``/``"text"`` for string tracks.
    ``record_seconds`` is a wave record's length (samples per record =
    ``record_seconds * srate``, a whole number); ``interval`` a numeric's period.
    """

    device: str
    name: str
    type: int
    source: str
    fmt: int = F32
    srate: float = 0.0
    unit: str = ""
    gain: float = 1.0
    offset: float = 0.0
    mindisp: float = 0.0
    maxdisp: float = 100.0
    record_seconds: float = 1.0
    interval: float = 2.0
    col: int = 0xFFFFFF

    @property
    def key(self) -> str:
        """The track's full name, ``'Device/Track'`` (``'Track'`` without a device)."""
        return f"{self.device}/{self.name}" if self.device else self.name

    @property
    def per_record(self) -> int:
        return round(self.record_seconds * self.srate)


@dataclass(frozen=True)
class Profile:
    """A recording's devices (name -> type name) and tracks, in declaration order."""

    name: str
    devices: dict[str, str]
    tracks: tuple[TrackSpec, ...]
    ventilated: bool = True  # capnogram and airway pressure from a ventilator
    extra: dict = field(default_factory=dict)

    def track(self, key: str) -> TrackSpec:
        """The track named ``key`` (full ``'Device/Track'`` name, or a unique track name)."""
        hits = [t for t in self.tracks if t.key == key] or [t for t in self.tracks if t.name == key]
        if len(hits) != 1:
            known = ", ".join(t.key for t in self.tracks)
            raise ValueError(
                f"profile {self.name!r} has no track {key!r} "
                f"({'ambiguous' if hits else 'known: ' + known})"
            )
        return hits[0]

    def select(self, keys: list[str]) -> Profile:
        """The profile restricted to ``keys`` (and the devices they use)."""
        picked = [self.track(k) for k in keys]
        order = [t for t in self.tracks if t in picked]
        devices = {d: tn for d, tn in self.devices.items() if any(t.device == d for t in order)}
        return replace(self, devices=devices, tracks=tuple(order))


W, N, S = TrackType.WAVE, TrackType.NUMERIC, TrackType.STRING


def _wave(device, name, source, srate, unit, fmt, gain, offset, lo, hi, seconds):
    return TrackSpec(device, name, W, source, fmt, srate, unit, gain, offset, lo, hi, seconds)


def _num(device, name, source, unit, lo, hi, interval=2.0):
    return TrackSpec(device, name, N, source, F32, 0.0, unit, 1.0, 0.0, lo, hi, interval=interval)


def _or() -> Profile:
    waves = [
        _wave("SNUADC", "ECG_II", "ecg_ii", 500.0, "mV", U16, 0.009765625, -5.0, -1.0, 2.0, 0.2),
        _wave("SNUADC", "ART", "art", 500.0, "mmHg", U16, 0.0625, -50.0, 0.0, 200.0, 0.2),
        _wave("SNUADC", "PLETH", "pleth", 500.0, "", U16, 0.0390625, -20.0, 0.0, 100.0, 0.2),
        _wave("SNUADC", "CVP", "cvp", 500.0, "mmHg", U16, 0.0625, -50.0, 0.0, 30.0, 0.2),
        _wave("SNUADCM", "ECG_V5", "ecg_v5", 500.0, "mV", U16, 0.009765625, -5.0, -1.0, 2.0, 0.2),
        _wave("Primus", "CO2", "co2", 62.5, "mmHg", F32, 1.0, 0.0, 0.0, 60.0, 0.8),
        _wave("Primus", "AWP", "awp", 62.5, "hPa", F32, 1.0, 0.0, -10.0, 40.0, 0.8),
        _wave("BIS", "EEG1_WAV", "eeg1", 128.0, "uV", U16, 0.05, -1638.4, -100.0, 100.0, 1.0),
    ]
    nums = [
        _num("Solar8000", "HR", "hr", "/min", 0, 200),
        _num("Solar8000", "ART_SBP", "art_sbp", "mmHg", 0, 200),
        _num("Solar8000", "ART_DBP", "art_dbp", "mmHg", 0, 200),
        _num("Solar8000", "ART_MBP", "art_mbp", "mmHg", 0, 200),
        _num("Solar8000", "CVP", "cvp_mean", "mmHg", 0, 30),
        _num("Solar8000", "PLETH_SPO2", "spo2", "%", 50, 100),
        _num("Solar8000", "PLETH_HR", "pleth_hr", "/min", 0, 200),
        _num("Solar8000", "ETCO2", "etco2", "mmHg", 0, 60),
        _num("Solar8000", "RR_CO2", "rr", "/min", 0, 40),
        _num("Solar8000", "BT", "bt", "C", 30, 40),
        _num("Solar8000", "NIBP_SBP", "nibp_sbp", "mmHg", 0, 200, 300.0),
        _num("Solar8000", "NIBP_DBP", "nibp_dbp", "mmHg", 0, 200, 300.0),
        _num("Solar8000", "NIBP_MBP", "nibp_mbp", "mmHg", 0, 200, 300.0),
        _num("Primus", "ETCO2", "etco2", "mmHg", 0, 60),
        _num("Primus", "INCO2", "inco2", "mmHg", 0, 10),
        _num("Primus", "RR_CO2", "rr", "/min", 0, 40),
        _num("Primus", "MAC", "mac", "", 0, 2),
        _num("Primus", "PIP_MBAR", "pip", "mbar", 0, 40),
        _num("Primus", "PEEP_MBAR", "peep", "mbar", 0, 20),
        _num("BIS", "BIS", "bis", "", 0, 100),
        _num("BIS", "SQI", "sqi", "%", 0, 100),
        _num("BIS", "SEF", "sef", "Hz", 0, 30),
        _num("BIS", "TOTPOW", "totpow", "dB", 40, 100),
        _num("Orchestra", "PPF20_RATE", "ppf_rate", "mL/h", 0, 200),
        _num("Orchestra", "PPF20_CE", "ppf_ce", "ug/mL", 0, 10),
        _num("Orchestra", "RFTN20_RATE", "rftn_rate", "mL/h", 0, 50),
        _num("Orchestra", "RFTN20_CE", "rftn_ce", "ng/mL", 0, 10),
    ]
    devices = {
        "SNUADC": "SNUADC",
        "SNUADCM": "SNUADC",
        "Solar8000": "Solar8000M",
        "Primus": "Primus",
        "BIS": "Vista",
        "Orchestra": "Orchestra",
    }
    event = TrackSpec("", "EVENT", S, "event", F32, maxdisp=0.0)
    return Profile("or", devices, tuple(waves + nums + [event]))


def _icu() -> Profile:
    waves = [
        _wave("Bx50", "ECG1", "ecg_ii", 300.0, "mV", I16, 0.001, 0.0, -1.0, 2.0, 0.5),
        _wave("Bx50", "ECG2", "ecg_v5", 300.0, "mV", I16, 0.001, 0.0, -1.0, 2.0, 0.5),
        _wave("Bx50", "ECG3", "ecg_iii", 300.0, "mV", I16, 0.001, 0.0, -1.0, 2.0, 0.5),
        _wave("Bx50", "ART1", "art", 100.0, "mmHg", I16, 0.01, 0.0, 0.0, 200.0, 1.0),
        _wave("Bx50", "PLETH", "pleth", 100.0, "", I16, 0.01, 0.0, 0.0, 100.0, 1.0),
        _wave("Bx50", "RESP", "resp", 25.0, "ohm", I16, 0.01, 0.0, -2.0, 2.0, 1.0),
    ]
    nums = [
        _num("Bx50", "HR", "hr", "/min", 0, 200),
        _num("Bx50", "ST1", "st", "mm", -2, 2),
        _num("Bx50", "ART1_SBP", "art_sbp", "mmHg", 0, 200),
        _num("Bx50", "ART1_DBP", "art_dbp", "mmHg", 0, 200),
        _num("Bx50", "ART1_MBP", "art_mbp", "mmHg", 0, 200),
        _num("Bx50", "SPO2", "spo2", "%", 50, 100),
        _num("Bx50", "PR", "pleth_hr", "/min", 0, 200),
        _num("Bx50", "RR", "rr", "/min", 0, 40),
        _num("Bx50", "TEMP", "bt", "C", 30, 40),
        _num("Bx50", "NIBP_SBP", "nibp_sbp", "mmHg", 0, 200, 900.0),
        _num("Bx50", "NIBP_DBP", "nibp_dbp", "mmHg", 0, 200, 900.0),
        _num("Bx50", "NIBP_MBP", "nibp_mbp", "mmHg", 0, 200, 900.0),
    ]
    event = TrackSpec("", "EVENT", S, "event", F32, maxdisp=0.0)
    return Profile("icu", {"Bx50": "Bx50"}, tuple(waves + nums + [event]), ventilated=False)


#: Samples in one long record of Vital Recorder's simulator device (19.4 min at 100 Hz).
DEMO_LONG_RECORD = 116_372


def _demo() -> Profile:
    waves = [
        _wave("Demo", name, source, 100.0, unit, F32, 1.0, 0.0, lo, hi, 1.0)
        for name, source, unit, lo, hi in (
            ("ECG", "ecg_ii", "mV", -1.0, 2.0),
            ("ART", "art", "mmHg", 0.0, 200.0),
            ("PLETH", "pleth", "", 0.0, 100.0),
            ("CVP", "cvp", "mmHg", 0.0, 30.0),
            ("CO2", "co2", "mmHg", 0.0, 60.0),
            ("EEG", "eeg1", "uV", -100.0, 100.0),
        )
    ]
    return Profile("demo", {"Demo": "Demo"}, tuple(waves))


PROFILES = {"or": _or, "icu": _icu, "demo": _demo}


def profile(name: str) -> Profile:
    """The profile called ``name`` ('or', 'icu' or 'demo')."""
    try:
        return PROFILES[name]()
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None


def with_strings(prof: Profile, count: int) -> Profile:
    """``prof`` plus ``count`` string tracks (monitor messages), spread over its devices,
    declared before the EVENT track."""
    devices = list(prof.devices) or [""]
    extra = [
        TrackSpec(devices[i % len(devices)], f"MSG{i:02d}", S, "text", F32, maxdisp=0.0)
        for i in range(count)
    ]
    keep = [t for t in prof.tracks if t.source != "event"]
    event = [t for t in prof.tracks if t.source == "event"]
    return replace(prof, tracks=tuple(keep + extra + event))
