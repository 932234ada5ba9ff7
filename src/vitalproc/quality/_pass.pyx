# cython: language_level=3
"""Every quality metric of one track in one pass over its records and samples.

``docs/quality.md`` defines each metric; ``metrics.py`` prepares the arguments (the
record order, the cadence, the limits of the signal's kind) and turns the counts this
returns into the table's columns. The pass visits records in time order and, inside each,
samples in order; "consecutive" below means consecutive in that order with no break
between (a break: a hole in the records longer than the tolerance, or a missing sample).
The walk runs without the GIL, so several tracks can be measured at once on threads.
"""
cimport cython
from libc.math cimport fabs, floor, isfinite, isnan
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t

import numpy as np

from vitalproc._samples cimport sample_t

# The rolling median of the spike test spans SPIKE_HALF samples on each side.
DEF SPIKE_HALF = 3
DEF SPIKE_WIDTH = 7          # 2 * SPIKE_HALF + 1
DEF SPIKE_STEPS = 6          # steps between the samples of one window

# Polarity is also judged per block of this many seconds, to say where a plethysmograph
# is upside down; a block needs this many rises and falls to be judged.
DEF POLARITY_BLOCK = 10.0
DEF POLARITY_MIN_STEPS = 10

cdef double NAN = float("nan")


cdef struct Params:
    bint wave, scaled, has_sentinel, spikes_on, polarity, keep
    double h, hh, gain, offset, sentinel, lo, hi, flat_s, clip_s, short_s
    double spike_thr, step_thr, gap_s, base


cdef struct State:
    # time structure
    double prev_t, T0, span_end      # records: the span
    double E, run_start, longest, max_hole, covered  # valid samples: coverage, runs
    int64_t gaps, breaks, dups, nsamples, nvalid, nin
    # the run of identical values in progress, and what closed runs added up to
    double run_value, run_t0, run_t1
    int64_t run_n, flat, clip_lo, clip_hi
    double vmin, vmax
    # spikes: the current segment's last SPIKE_WIDTH samples and big steps
    double ring[SPIKE_WIDTH]
    double tring[SPIKE_WIDTH]
    int steps[SPIKE_STEPS]
    int64_t seg_n, last_flag, big, spikes
    int slot, step_slot             # seg_n % SPIKE_WIDTH, seg_n % SPIKE_STEPS
    double spike_t0, spike_t1, prev_x
    # polarity: rises and falls between consecutive samples, in all and per block of
    # POLARITY_BLOCK seconds (the block in progress, and the run of inverted blocks)
    int64_t rises, falls, blk, blk_rises, blk_falls
    double inv_start, inv_end


cdef class _Events:
    """Where the faults are (only when asked for)."""
    cdef list found, lo, hi, flat

    def __cinit__(self):
        self.found, self.lo, self.hi, self.flat = [], [], [], []


cdef void _note(void* where, int what, double a, double b) noexcept with gil:
    cdef _Events ev = <_Events>where
    # what: 0 gap, 1 flatline, 2 spike, 3 run at the minimum, 4 at the maximum,
    # 5/6 a new minimum/maximum (the runs at the old one no longer count), 7 inverted
    if what == 0:
        ev.found.append(("gap", a, b))
    elif what == 1:
        ev.flat.append(("flatline", a, b))
    elif what == 2:
        ev.found.append(("spike", a, b))
    elif what == 3:
        ev.lo.append(("clipping", a, b))
    elif what == 4:
        ev.hi.append(("clipping", a, b))
    elif what == 7:
        ev.found.append(("inverted", a, b))
    elif what == 5:
        ev.lo = []
    else:
        ev.hi = []


cdef inline void _close_run(State* s, Params* p, void* ev) noexcept nogil:
    """Count the run in progress as flat and/or clipped, and end it."""
    cdef double dur
    if s.run_n == 0:
        return
    dur = s.run_t1 - s.run_t0 + p.hh
    if s.run_n > 1 and dur >= p.short_s:  # (one value alone is no run: a peak)
        if dur >= p.flat_s:
            s.flat += s.run_n
            if p.keep:
                _note(ev, 1, s.run_t0, s.run_t1 + p.hh)
        if dur >= p.clip_s:
            if s.run_value == s.vmin:
                s.clip_lo += s.run_n
                if p.keep:
                    _note(ev, 3, s.run_t0, s.run_t1 + p.hh)
            if s.run_value == s.vmax:
                s.clip_hi += s.run_n
                if p.keep:
                    _note(ev, 4, s.run_t0, s.run_t1 + p.hh)
    s.run_n = 0


cdef void _polarity_block(State* s, Params* p, void* ev) noexcept nogil:
    """Judge the block ending: an inverted block extends the run of inverted blocks (an
    ``inverted`` event when it ends); blocks with too few steps neither extend nor end it."""
    cdef double start = s.blk * POLARITY_BLOCK
    if s.blk_rises + s.blk_falls >= POLARITY_MIN_STEPS:
        if s.blk_rises > s.blk_falls:
            if isnan(s.inv_start):
                s.inv_start = start
            s.inv_end = start + POLARITY_BLOCK
        elif not isnan(s.inv_start):
            if p.keep:
                _note(ev, 7, s.inv_start, s.inv_end)
            s.inv_start = NAN
    s.blk_rises = s.blk_falls = 0


cdef inline void _end_segment(State* s, Params* p, void* ev) noexcept nogil:
    """A break or a missing sample: runs, spike windows and differences start again."""
    cdef int c
    _close_run(s, p, ev)
    if p.keep and p.spikes_on and s.last_flag >= 0:
        _note(ev, 2, s.spike_t0, s.spike_t1)
    s.seg_n = 0
    s.slot = 0
    s.step_slot = 1  # the step ending at sample 1 of the segment
    s.last_flag = -2
    s.big = 0
    for c in range(SPIKE_STEPS):
        s.steps[c] = 0


cdef inline bint _spike_at_center(State* s, Params* p) noexcept nogil:
    """Whether the window's centre is further than the threshold from the window's
    median. The median is above ``x + T`` exactly when at least SPIKE_HALF + 1 values
    are (below ``x - T`` alike), so values are counted first and the window sorted only
    for the few that pass, where the test is made as the definition says."""
    cdef double xc = s.ring[(s.seg_n - SPIKE_HALF) % SPIKE_WIDTH]
    cdef double margin = p.spike_thr * (1.0 - 1e-9)
    cdef double up = xc + margin, down = xc - margin
    cdef int above = 0, below = 0, i, j
    cdef double v[SPIKE_WIDTH]
    cdef double y
    for i in range(SPIKE_WIDTH):
        above += s.ring[i] > up
        below += s.ring[i] < down
    if above <= SPIKE_HALF and below <= SPIKE_HALF:
        return False
    for i in range(SPIKE_WIDTH):
        y = s.ring[i]
        j = i - 1
        while j >= 0 and v[j] > y:
            v[j + 1] = v[j]
            j -= 1
        v[j + 1] = y
    return fabs(xc - v[SPIKE_HALF]) > p.spike_thr


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _walk(const double[::1] dt, const sample_t[::1] data, const int64_t[::1] offsets,
                const int64_t[::1] order, Py_ssize_t nvisit, Params* p, State* s,
                const double[:, ::1] windows, double* wcov, double* wend,
                void* ev) noexcept nogil:
    cdef Py_ssize_t r, i, k, a, b, w, n
    cdef double t, d, hole, raw, x, tau, end, lo_s, hi_e
    cdef int flag, slot
    cdef int64_t nv
    cdef Py_ssize_t nwin = windows.shape[0]
    # The hot state and parameters in locals: through the pointers, every store to the
    # state would make the compiler load the parameters again (they might alias).
    cdef double L_E = s.E, L_covered = s.covered, L_max_hole = s.max_hole
    cdef double L_run_start = s.run_start, L_longest = s.longest
    cdef int64_t L_nin = s.nin
    cdef double P_h = p.h, P_hh = p.hh, P_gain = p.gain, P_offset = p.offset
    cdef double P_lo = p.lo, P_hi = p.hi, P_sentinel = p.sentinel
    cdef bint P_scaled = p.scaled, P_has_sentinel = p.has_sentinel, P_wave = p.wave
    for r in range(nvisit):
        i = r if order is None else order[r]
        t = dt[i] - p.base  # exact (Sterbenz) near the base, and small: sums keep digits
        if P_wave:
            a = offsets[i]
            b = offsets[i + 1]
            d = (b - a) * P_h
        else:
            a = i
            b = i + 1
            d = P_hh
        # -- the record: the track's span, duplicate times
        if r == 0:
            s.T0 = t
            s.span_end = t
        elif t == s.prev_t:
            s.dups += 1
        s.prev_t = t
        if t + d > s.span_end:
            s.span_end = t + d
        # -- its samples
        nv = 0
        n = b - a
        for k in range(n):
            raw = <double>data[a + k]
            if isnan(raw) or (P_has_sentinel and raw == P_sentinel):
                _end_segment(s, p, ev)
                continue
            x = raw * P_gain + P_offset if P_scaled else raw
            tau = t + k * P_h if P_wave else t
            nv += 1
            # -- the sample in the time structure: holes, breaks, covered time
            if isnan(L_E):
                L_E = tau
                L_run_start = tau
            else:
                hole = tau - L_E
                if not hole <= L_max_hole:
                    L_max_hole = hole
                if hole > P_hh:
                    s.breaks += 1
                    if L_E - L_run_start > L_longest:
                        L_longest = L_E - L_run_start
                    L_run_start = tau
                    if hole > p.gap_s:
                        s.gaps += 1
                        if p.keep:
                            _note(ev, 0, L_E, tau)
                    _end_segment(s, p, ev)
            end = tau + P_hh
            lo_s = tau if tau > L_E else L_E
            if end > lo_s:
                L_covered += end - lo_s
            if end > L_E:
                L_E = end
            for w in range(nwin):
                lo_s = tau if tau > windows[w, 0] else windows[w, 0]
                hi_e = end if end < windows[w, 1] else windows[w, 1]
                if not hi_e > lo_s:
                    continue
                if wend[w] > lo_s:
                    lo_s = wend[w]
                if hi_e > lo_s:
                    wcov[w] += hi_e - lo_s
                if hi_e > wend[w]:
                    wend[w] = hi_e
            if P_lo <= x <= P_hi:
                L_nin += 1
            # runs of identical values: flatline and clipping
            if s.run_n > 0 and x == s.run_value:
                s.run_n += 1
                s.run_t1 = tau
            else:
                _close_run(s, p, ev)
                s.run_value = x
                s.run_n = 1
                s.run_t0 = tau
                s.run_t1 = tau
                if not x >= s.vmin:
                    s.vmin = x
                    s.clip_lo = 0
                    if p.keep:
                        _note(ev, 5, 0, 0)
                if not x <= s.vmax:
                    s.vmax = x
                    s.clip_hi = 0
                    if p.keep:
                        _note(ev, 6, 0, 0)
            # polarity: an upright pulse rises in a short stroke and falls slowly, so
            # most steps fall; upside down, most rise. (Counts, not sizes: a jump where
            # the signal was flipped or reconnected weighs one step.)
            if p.polarity and s.seg_n > 0:
                if <int64_t>floor(tau / POLARITY_BLOCK) != s.blk:
                    _polarity_block(s, p, ev)
                    s.blk = <int64_t>floor(tau / POLARITY_BLOCK)
                if x > s.prev_x:
                    s.rises += 1
                    s.blk_rises += 1
                elif x < s.prev_x:
                    s.falls += 1
                    s.blk_falls += 1
            # spikes: the sample SPIKE_HALF back against the median of its window
            if p.spikes_on:
                s.ring[s.slot] = x
                s.tring[s.slot] = tau
                if s.seg_n > 0:
                    flag = fabs(x - s.prev_x) > p.step_thr
                    s.big += flag - s.steps[s.step_slot]
                    s.steps[s.step_slot] = flag
                    s.step_slot = 0 if s.step_slot == SPIKE_STEPS - 1 else s.step_slot + 1
                s.slot = 0 if s.slot == SPIKE_WIDTH - 1 else s.slot + 1
                if s.seg_n >= SPIKE_WIDTH - 1 and s.big > 0 and _spike_at_center(s, p):
                    if s.last_flag != s.seg_n - SPIKE_HALF - 1:
                        s.spikes += 1
                        if p.keep and s.last_flag >= 0:
                            _note(ev, 2, s.spike_t0, s.spike_t1)
                        s.spike_t0 = s.tring[(s.seg_n - SPIKE_HALF) % SPIKE_WIDTH]
                    s.spike_t1 = s.tring[(s.seg_n - SPIKE_HALF) % SPIKE_WIDTH] + P_hh
                    s.last_flag = s.seg_n - SPIKE_HALF
            s.seg_n += 1
            s.prev_x = x
        s.nsamples += n
        s.nvalid += nv
    _end_segment(s, p, ev)
    if not isnan(L_E) and L_E - L_run_start > L_longest:
        L_longest = L_E - L_run_start
    s.E, s.covered, s.max_hole, s.run_start, s.longest = (L_E, L_covered, L_max_hole,
                                                          L_run_start, L_longest)
    s.nin = L_nin


def track_pass(const double[::1] dt, const sample_t[::1] data, const int64_t[::1] offsets,
               const int64_t[::1] order, double base, bint wave, double h, bint scaled, double gain,
               double offset, bint has_sentinel, double sentinel, double lo, double hi,
               double flat_s, double clip_s, double spike_thr, bint polarity,
               double gap_s, const double[:, ::1] windows, list events):
    """One pass over a track: counts and extremes that ``metrics.py`` turns into metrics.

    Parameters
    ----------
    dt, data, offsets
        The track's columns: record times, raw samples (on-disk dtype), record
        boundaries (None for a numeric track: one value per record).
    order
        Record indices in time order, finite times only; None when ``dt`` is finite and
        already in order.
    base
        The first record's time: times are taken relative to it (``start``, ``end``,
        the windows and the events are relative too).
    wave, h
        A wave (record ``i`` lasts ``count * h``, ``h = 1/srate``), or a numeric track
        (a record lasts ``h``, the cadence; NaN when unknown: 0).
    scaled, gain, offset, has_sentinel, sentinel
        Physical value ``raw * gain + offset`` when ``scaled``; a raw value equal to
        ``sentinel`` (``has_sentinel``) is missing, as NaN is.
    lo, hi
        The physiological range (-inf/inf: no bound).
    flat_s, clip_s, spike_thr, polarity, gap_s
        Thresholds: flat run duration, clipped run duration, deviation from the rolling
        median (NaN: no spike test), whether to measure polarity, a counted gap.
    windows
        (m, 2) spans ``[start, end)`` whose covered time is measured.
    events
        None, or a list that receives ``(kind, start, end)`` tuples: ``gap``,
        ``flatline``, ``clipping``, ``spike``.

    The GIL is released for the walk (taken back only to note an event).
    """
    cdef Params p
    cdef State s
    cdef Py_ssize_t nrec = dt.shape[0]
    cdef Py_ssize_t nvisit = nrec if order is None else order.shape[0]
    cdef Py_ssize_t i, nwin = windows.shape[0]
    cdef int64_t bad = 0, ooo = 0
    cdef double t, prev = NAN
    cdef _Events ev = _Events() if events is not None else None
    cdef double[::1] wcov = np.zeros(nwin)
    cdef double[::1] wend = np.full(nwin, -np.inf)
    if wave and nrec and offsets.shape[0] != nrec + 1:
        raise ValueError("offsets must hold one boundary more than there are records")
    if not wave and data.shape[0] != nrec:
        raise ValueError("a numeric track holds one value per record")
    p.wave, p.scaled, p.has_sentinel = wave, scaled, has_sentinel
    p.h = h
    p.hh = h if isfinite(h) else 0.0
    p.gain, p.offset, p.sentinel, p.lo, p.hi = gain, offset, sentinel, lo, hi
    p.flat_s, p.clip_s = flat_s, clip_s
    p.short_s = flat_s if flat_s < clip_s else clip_s
    p.spike_thr = spike_thr
    p.spikes_on = isfinite(spike_thr)
    p.step_thr = spike_thr / SPIKE_HALF * (1.0 - 1e-9)
    p.polarity = polarity
    p.gap_s = gap_s
    p.base = base
    p.keep = events is not None
    s.prev_t = s.E = s.T0 = s.span_end = s.run_start = NAN
    s.longest = 0.0
    s.max_hole = NAN
    s.covered = 0.0
    s.gaps = s.breaks = s.dups = s.nsamples = s.nvalid = s.nin = 0
    s.run_value = s.run_t0 = s.run_t1 = NAN
    s.run_n = s.flat = s.clip_lo = s.clip_hi = 0
    s.vmin = s.vmax = NAN
    s.seg_n = s.big = s.spikes = 0
    s.slot = 0
    s.step_slot = 1
    s.last_flag = -2
    s.spike_t0 = s.spike_t1 = s.prev_x = NAN
    s.rises = s.falls = s.blk_rises = s.blk_falls = 0
    s.blk = -(1 << 62)
    s.inv_start = s.inv_end = NAN
    for i in range(SPIKE_STEPS):
        s.steps[i] = 0

    with nogil:
        # file order: out-of-order and non-finite record times
        for i in range(nrec):
            t = dt[i]
            if not isfinite(t):
                bad += 1
                continue
            if t < prev:
                ooo += 1
            prev = t
        _walk(dt, data, offsets, order, nvisit, &p, &s, windows, &wcov[0] if nwin else NULL,
              &wend[0] if nwin else NULL, <void*>ev)

    clipped = s.clip_lo + s.clip_hi if s.vmax > s.vmin else 0
    if ev is not None:
        events.extend(ev.found)
        events.extend(ev.flat)
        if s.vmax > s.vmin:
            events.extend(ev.lo)
            events.extend(ev.hi)
    if polarity:
        _polarity_block(&s, &p, <void*>ev)
        if not isnan(s.inv_start) and ev is not None:
            ev.found.append(("inverted", s.inv_start, s.inv_end))
    return {
        "records": nvisit, "bad_times": bad, "out_of_order": ooo, "duplicates": s.dups,
        "samples": s.nsamples, "valid": s.nvalid, "in_range": s.nin,
        "start": s.T0, "end": s.span_end, "covered": s.covered, "windows": list(wcov),
        "longest_run": s.longest, "max_hole": s.max_hole, "breaks": s.breaks,
        "gaps": s.gaps, "flat": s.flat, "clipped": clipped, "spikes": s.spikes,
        "rises": s.rises, "falls": s.falls, "min": s.vmin, "max": s.vmax,
    }
