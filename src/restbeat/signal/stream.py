"""Rolling-window HRV fed one beat at a time, O(1) amortised work per beat.

:class:`HRVStream` keeps RMSSD, lnRMSSD, SDNN, mean HR and pNN50 current over time windows (default 60 s
and 300 s).  A beat at time t belongs to a window of length W when its time is in (t - W, t]; a successive
difference belongs to it when both its beats do.  The values equal :func:`restbeat.signal.metrics.time_domain`
computed on the same beats (tested to a relative 1e-9 over 24 h).

Each window keeps running sums of the intervals (shifted by the segment's first interval, so the sums stay
small), their squares, the squared successive differences and the counts it needs.  Every
``RESYNC_EVERY`` beats the sums are recomputed exactly from the beats held (``math.fsum``), so rounding
cannot accumulate over hours; the cost is amortised O(1).

A window never spans a segment boundary: a new segment id (a gap, a re-anchor, a reconnect) empties every
window.  A window is reported as low quality, with no numbers, when (in this order)

* it holds a beat measured without skin contact (``NO_CONTACT``);
* its beats cover less than 90 % of its length (``WARMING_UP``: just after the start or a gap);
* it has fewer than 40 successive differences per minute of window (``TOO_FEW_BEATS``: 40 for 60 s,
  200 for 300 s, i.e. a heart rate below 40 bpm or beats missing);
* more than 5 % of its beats were corrected (``TOO_MANY_CORRECTED``).

HF power, LF power, LF/HF and the breathing rate are refreshed on a timer of beat time (default every
10 s) from the last 60–300 s of the segment (Lomb–Scargle; LF only from 120 s on), never per beat.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from restbeat.beats import BeatQuality
from restbeat.signal import spectrum
from restbeat.signal.breathing import breathing_rate

RESYNC_EVERY = 512
_NN50_MS = 50.0


class WindowQuality(StrEnum):
    """Why a window does or does not report numbers."""

    OK = "ok"
    NO_CONTACT = "no_contact"
    WARMING_UP = "warming_up"
    TOO_FEW_BEATS = "too_few_beats"
    TOO_MANY_CORRECTED = "too_many_corrected"


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """Window lengths (s) and quality thresholds of the streaming engine (see the module docstring)."""

    windows_s: tuple[float, ...] = (60.0, 300.0)
    min_coverage: float = 0.9
    min_differences_per_min: float = 40.0
    max_corrected_fraction: float = 0.05
    spectral_every_s: float = 10.0
    spectral_window_s: float = 300.0
    spectral_min_s: float = 60.0
    lf_min_s: float = 120.0
    breathing_window_s: float = 60.0


@dataclass(frozen=True, slots=True)
class WindowMetrics:
    """Time-domain HRV over the last ``window_s`` seconds; numbers are None unless quality is OK."""

    window_s: float
    quality: WindowQuality
    n_beats: int
    n_corrected: int
    coverage_s: float
    rmssd_ms: float | None
    ln_rmssd: float | None
    sdnn_ms: float | None
    mean_hr_bpm: float | None
    pnn50_pct: float | None


@dataclass(frozen=True, slots=True)
class SpectralMetrics:
    """Frequency-domain values computed at beat time ``t_s`` over the last ``span_s`` seconds.

    HF and LF in ms² (Lomb–Scargle), breathing rate in breaths/min; None where not available.
    """

    t_s: float
    span_s: float
    quality: WindowQuality
    hf_ms2: float | None
    lf_ms2: float | None
    lf_hf_ratio: float | None
    breathing_rate_per_min: float | None


@dataclass(frozen=True, slots=True)
class HRVSnapshot:
    """The stream's state after one beat: the beat itself, every window, and the latest spectral values."""

    t_s: float
    rr_ms: float
    segment: int
    beat_quality: BeatQuality
    windows: tuple[WindowMetrics, ...]
    spectral: SpectralMetrics | None

    def window(self, length_s: float) -> WindowMetrics:
        """The window of the given length (s)."""
        for metrics in self.windows:
            if metrics.window_s == length_s:
                return metrics
        raise KeyError(f"no {length_s:g}-s window in this snapshot")


class _RollingWindow:
    """Running sums over the beats of the last ``length_s`` seconds of one segment."""

    __slots__ = (
        "_beats",
        "_config",
        "_metrics",
        "_min_differences",
        "_pushes",
        "_shift",
        "length_s",
        "n_corrected",
        "n_differences",
        "n_nn50",
        "n_no_contact",
        "sum_d2",
        "sum_x",
        "sum_x2",
    )

    def __init__(self, length_s: float, config: StreamConfig) -> None:
        self.length_s = length_s
        self._config = config
        self._min_differences = math.ceil(config.min_differences_per_min * length_s / 60.0)
        # entries: [t_s, x = rr - shift, corrected, no_contact, d2 of the pair starting here or -1.0]
        self._beats: deque[list[float]] = deque()
        self._metrics: WindowMetrics | None = None  # computed on first read after a change
        self.reset(0.0)

    def reset(self, shift_ms: float) -> None:
        self._beats.clear()
        self._metrics = None
        self._shift = shift_ms
        self._pushes = 0
        self.sum_x = self.sum_x2 = self.sum_d2 = 0.0
        self.n_differences = self.n_nn50 = self.n_corrected = self.n_no_contact = 0

    def push(self, t_s: float, rr_ms: float, corrected: float, no_contact: float) -> None:
        x = rr_ms - self._shift
        beats = self._beats
        self._metrics = None
        if beats:
            tail = beats[-1]
            d = x - tail[1]
            d2 = d * d
            tail[4] = d2
            self.sum_d2 += d2
            self.n_differences += 1
            if abs(d) > _NN50_MS:
                self.n_nn50 += 1
        beats.append([t_s, x, corrected, no_contact, -1.0])
        self.sum_x += x
        self.sum_x2 += x * x
        if corrected:
            self.n_corrected += 1
        if no_contact:
            self.n_no_contact += 1
        oldest_allowed = t_s - self.length_s
        while beats[0][0] <= oldest_allowed:
            self._evict(beats.popleft())
        self._pushes += 1
        if self._pushes >= RESYNC_EVERY:
            self._resync()

    def _evict(self, entry: list[float]) -> None:
        _, x, corrected, no_contact, d2 = entry
        self.sum_x -= x
        self.sum_x2 -= x * x
        if corrected:
            self.n_corrected -= 1
        if no_contact:
            self.n_no_contact -= 1
        if d2 >= 0.0:
            self.sum_d2 -= d2
            self.n_differences -= 1
            if d2 > _NN50_MS * _NN50_MS:
                self.n_nn50 -= 1

    def _resync(self) -> None:
        """Recompute the float sums exactly from the beats held, so rounding never accumulates."""
        beats = self._beats
        self.sum_x = math.fsum(entry[1] for entry in beats)
        self.sum_x2 = math.fsum(entry[1] * entry[1] for entry in beats)
        self.sum_d2 = math.fsum(entry[4] for entry in beats if entry[4] >= 0.0)
        self._pushes = 0

    def metrics(self) -> WindowMetrics:
        """The window's values, computed once per change (reads between beats are free)."""
        if self._metrics is None:
            self._metrics = self._compute()
        return self._metrics

    def _compute(self) -> WindowMetrics:
        n = len(self._beats)
        coverage = (n * self._shift + self.sum_x) / 1000.0
        config = self._config
        if self.n_no_contact:
            quality = WindowQuality.NO_CONTACT
        elif coverage < config.min_coverage * self.length_s:
            quality = WindowQuality.WARMING_UP
        elif self.n_differences < self._min_differences:
            quality = WindowQuality.TOO_FEW_BEATS
        elif self.n_corrected > config.max_corrected_fraction * n:
            quality = WindowQuality.TOO_MANY_CORRECTED
        else:
            mean_x = self.sum_x / n
            variance = max(self.sum_x2 - self.sum_x * mean_x, 0.0) / (n - 1)
            rmssd = math.sqrt(self.sum_d2 / self.n_differences)
            return WindowMetrics(
                window_s=self.length_s,
                quality=WindowQuality.OK,
                n_beats=n,
                n_corrected=self.n_corrected,
                coverage_s=coverage,
                rmssd_ms=rmssd,
                ln_rmssd=math.log(rmssd) if rmssd > 0 else None,
                sdnn_ms=math.sqrt(variance),
                mean_hr_bpm=60000.0 / (self._shift + mean_x),
                pnn50_pct=100.0 * self.n_nn50 / self.n_differences,
            )
        return WindowMetrics(
            self.length_s, quality, n, self.n_corrected, coverage, None, None, None, None, None
        )


class _SpectralTracker:
    """Keeps the last ``spectral_window_s`` of beats and recomputes spectral values on a beat-time timer."""

    def __init__(self, config: StreamConfig) -> None:
        self._config = config
        self._beats: deque[tuple[float, float, bool, bool]] = deque()
        self._next_due = math.inf
        self.latest: SpectralMetrics | None = None

    def reset(self, t_s: float) -> None:
        self._beats.clear()
        self._next_due = t_s + self._config.spectral_every_s
        self.latest = None

    def push(self, t_s: float, rr_ms: float, corrected: bool, no_contact: bool) -> None:
        beats = self._beats
        beats.append((t_s, rr_ms, corrected, no_contact))
        oldest_allowed = t_s - self._config.spectral_window_s
        while beats[0][0] <= oldest_allowed:
            beats.popleft()
        if t_s >= self._next_due:
            self._next_due = t_s + self._config.spectral_every_s
            self.latest = self._compute(t_s)

    def _compute(self, t_s: float) -> SpectralMetrics:
        config = self._config
        times = np.fromiter((beat[0] for beat in self._beats), np.float64, len(self._beats))
        rr = np.fromiter((beat[1] for beat in self._beats), np.float64, len(self._beats))
        corrected = sum(beat[2] for beat in self._beats)
        no_contact = any(beat[3] for beat in self._beats)
        span = float(times[-1] - times[0] + rr[0] / 1000.0)
        if no_contact:
            quality = WindowQuality.NO_CONTACT
        elif span < config.spectral_min_s:
            quality = WindowQuality.WARMING_UP
        elif corrected > config.max_corrected_fraction * rr.size:
            quality = WindowQuality.TOO_MANY_CORRECTED
        else:
            powers = spectrum.band_powers(spectrum.lomb_psd(times, rr))
            has_lf = span >= config.lf_min_s
            recent = times > t_s - config.breathing_window_s
            breathing = breathing_rate(times[recent], rr[recent])
            return SpectralMetrics(
                t_s=t_s,
                span_s=span,
                quality=WindowQuality.OK,
                hf_ms2=powers.hf_ms2,
                lf_ms2=powers.lf_ms2 if has_lf else None,
                lf_hf_ratio=powers.lf_hf_ratio if has_lf else None,
                breathing_rate_per_min=breathing.rate_per_min if breathing else None,
            )
        return SpectralMetrics(t_s, span, quality, None, None, None, None)


class HRVStream:
    """Streaming HRV: feed beats with :meth:`add` (or :meth:`push`, which also returns the
    :class:`HRVSnapshot`) and read the windows with :meth:`window` or :meth:`snapshot`.  Window values are
    computed when read, once per beat at most, so a caller that reads every few seconds pays per beat only
    for the running sums.

    Beats must arrive in time order; ``segment`` is an id that changes at every gap or re-anchor.
    """

    def __init__(self, config: StreamConfig | None = None) -> None:
        self.config = config or StreamConfig()
        self._windows = tuple(_RollingWindow(length, self.config) for length in self.config.windows_s)
        # spectral values off (every = inf): no beats kept for them at all
        spectral_on = math.isfinite(self.config.spectral_every_s)
        self._spectral = _SpectralTracker(self.config) if spectral_on else None
        self._segment: int | None = None  # None after an excluded beat: the next beat starts afresh
        self._last: tuple[float, float, int, BeatQuality] = (math.nan, math.nan, 0, BeatQuality.GOOD)

    def add(
        self,
        t_s: float,
        rr_ms: float,
        quality: BeatQuality = BeatQuality.GOOD,
        segment: int = 0,
    ) -> None:
        """Add one beat: its time (s), the interval it ends (ms), its quality flag and its segment id.

        An EXCLUDED beat is not analysed: it ends the current segment like a gap.
        """
        self._last = (t_s, rr_ms, segment, quality)
        if quality == BeatQuality.EXCLUDED:
            self._segment = None
            return
        if segment != self._segment:
            self._segment = segment
            for window in self._windows:
                window.reset(rr_ms)
            if self._spectral is not None:
                self._spectral.reset(t_s)
        corrected = quality == BeatQuality.CORRECTED
        no_contact = quality == BeatQuality.NO_CONTACT
        for window in self._windows:
            window.push(t_s, rr_ms, corrected, no_contact)
        if self._spectral is not None:
            self._spectral.push(t_s, rr_ms, corrected, no_contact)

    def window(self, length_s: float) -> WindowMetrics:
        """The window of the given length (s) after the latest beat."""
        for window in self._windows:
            if window.length_s == length_s:
                return window.metrics()
        raise KeyError(f"no {length_s:g}-s window in this stream")

    def snapshot(self) -> HRVSnapshot:
        """The latest beat, every window and the latest spectral values."""
        t_s, rr_ms, segment, quality = self._last
        excluded = quality == BeatQuality.EXCLUDED
        return HRVSnapshot(
            t_s=t_s,
            rr_ms=rr_ms,
            segment=segment,
            beat_quality=quality,
            windows=tuple(window.metrics() for window in self._windows),
            spectral=None if excluded or self._spectral is None else self._spectral.latest,
        )

    def push(
        self,
        t_s: float,
        rr_ms: float,
        quality: BeatQuality = BeatQuality.GOOD,
        segment: int = 0,
    ) -> HRVSnapshot:
        """:meth:`add` one beat and return the snapshot after it."""
        self.add(t_s, rr_ms, quality, segment)
        return self.snapshot()
