"""Batch HRV metrics of an NN series: time domain, frequency domain and nonlinear.

Definitions follow Kubios HRV (checked against a Kubios HRV Premium 3.1 report, see
``docs/metrics.md``).  Successive differences are taken only between intervals of the same segment, so a
gap or an excluded beat never produces a spurious difference; ``segment_ids`` marks those breaks (the
default is one contiguous segment).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from restbeat.signal import dfa, spectrum
from restbeat.signal._arrays import BoolArray, FloatArray, as_float_array

NN50_THRESHOLD_MS = 50.0
NN20_THRESHOLD_MS = 20.0
WELCH_MIN_DURATION_S = 120.0

SpectrumMethod = Literal["auto", "welch", "lomb"]


@dataclass(frozen=True, slots=True)
class TimeDomain:
    """Time-domain HRV of an NN series (ms, bpm, counts, per cent).

    ``pnn50_pct`` and ``pnn20_pct`` divide by the number of successive differences (as Kubios does);
    heart rates are 60000 / NN: the mean HR is that of the mean NN, min/max HR of the longest/shortest NN,
    ``std_hr_bpm`` the sample standard deviation of the beat-by-beat HR.
    """

    n_intervals: int
    n_differences: int
    mean_nn_ms: float
    sdnn_ms: float
    rmssd_ms: float
    ln_rmssd: float
    sdsd_ms: float
    nn50: int
    pnn50_pct: float
    nn20: int
    pnn20_pct: float
    mean_hr_bpm: float
    min_hr_bpm: float
    max_hr_bpm: float
    std_hr_bpm: float
    cvnn_pct: float


@dataclass(frozen=True, slots=True)
class Nonlinear:
    """Poincaré plot widths (ms) and DFA scaling exponents (dimensionless)."""

    sd1_ms: float
    sd2_ms: float
    sd2_sd1_ratio: float
    dfa_alpha1: float
    dfa_alpha2: float


@dataclass(frozen=True, slots=True)
class HRVMetrics:
    """All batch metrics of one recording; ``frequency`` is None when the series is too short."""

    time: TimeDomain
    frequency: spectrum.BandPowers | None
    nonlinear: Nonlinear
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``time``, ``frequency`` (or None) and ``nonlinear`` fields, NaN as None."""
        return {
            "time": _finite_fields(self.time),
            "frequency": _finite_fields(self.frequency) if self.frequency else None,
            "nonlinear": _finite_fields(self.nonlinear),
        }


def _finite_fields(values: Any) -> dict[str, Any]:
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in dataclasses.asdict(values).items()
    }


def successive_mask(n_intervals: int, segment_ids: ArrayLike | None) -> BoolArray:
    """Mask of length n-1: True where interval i+1 directly follows interval i in the same segment."""
    if n_intervals < 2:
        return np.zeros(0, dtype=np.bool_)
    if segment_ids is None:
        return np.ones(n_intervals - 1, dtype=np.bool_)
    segments = np.asarray(segment_ids)
    if segments.shape != (n_intervals,):
        raise ValueError(f"segment_ids has shape {segments.shape}, expected ({n_intervals},)")
    return np.asarray(segments[1:] == segments[:-1], dtype=np.bool_)


def successive_differences(nn_ms: FloatArray, segment_ids: ArrayLike | None = None) -> FloatArray:
    """NN[i+1] - NN[i] (ms) for every pair inside one segment."""
    nn = as_float_array(nn_ms)
    return np.diff(nn)[successive_mask(nn.size, segment_ids)]


def _sample_std(values: FloatArray) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def time_domain(nn_ms: ArrayLike, segment_ids: ArrayLike | None = None) -> TimeDomain:
    """Time-domain metrics of NN intervals in ms (see :class:`TimeDomain` for the definitions)."""
    nn = as_float_array(nn_ms)
    if nn.size < 2:
        raise ValueError(f"time-domain HRV needs at least 2 NN intervals, got {nn.size}")
    diffs = successive_differences(nn, segment_ids)
    abs_diffs = np.abs(diffs)
    n_diff = diffs.size
    mean_nn = float(nn.mean())
    sdnn = _sample_std(nn)
    rmssd = math.sqrt(float(np.mean(diffs * diffs))) if n_diff else math.nan
    nn50 = int(np.count_nonzero(abs_diffs > NN50_THRESHOLD_MS))
    nn20 = int(np.count_nonzero(abs_diffs > NN20_THRESHOLD_MS))
    return TimeDomain(
        n_intervals=int(nn.size),
        n_differences=int(n_diff),
        mean_nn_ms=mean_nn,
        sdnn_ms=sdnn,
        rmssd_ms=rmssd,
        ln_rmssd=math.log(rmssd) if rmssd > 0 else math.nan,
        sdsd_ms=_sample_std(diffs),
        nn50=nn50,
        pnn50_pct=100.0 * nn50 / n_diff if n_diff else math.nan,
        nn20=nn20,
        pnn20_pct=100.0 * nn20 / n_diff if n_diff else math.nan,
        mean_hr_bpm=60000.0 / mean_nn,
        min_hr_bpm=60000.0 / float(nn.max()),
        max_hr_bpm=60000.0 / float(nn.min()),
        std_hr_bpm=_sample_std(60000.0 / nn),
        cvnn_pct=100.0 * sdnn / mean_nn,
    )


def poincare(nn_ms: ArrayLike, segment_ids: ArrayLike | None = None) -> tuple[float, float]:
    """Poincaré SD1 and SD2 (ms): sample standard deviations across and along the identity line."""
    nn = as_float_array(nn_ms)
    pairs = successive_mask(nn.size, segment_ids)
    current, following = nn[:-1][pairs], nn[1:][pairs]
    sd1 = _sample_std((following - current) / math.sqrt(2.0))
    sd2 = _sample_std((following + current) / math.sqrt(2.0))
    return sd1, sd2


def nonlinear(nn_ms: ArrayLike, segment_ids: ArrayLike | None = None) -> Nonlinear:
    """Poincaré SD1/SD2 and DFA α1 (4–16 beats), α2 (16–64 beats) of NN intervals in ms."""
    nn = as_float_array(nn_ms)
    sd1, sd2 = poincare(nn, segment_ids)
    return Nonlinear(
        sd1_ms=sd1,
        sd2_ms=sd2,
        sd2_sd1_ratio=sd2 / sd1 if sd1 > 0 else math.nan,
        dfa_alpha1=dfa.dfa_alpha(nn, dfa.ALPHA1_SCALES),
        dfa_alpha2=dfa.dfa_alpha(nn, dfa.ALPHA2_SCALES),
    )


def frequency_domain(
    nn_ms: ArrayLike,
    t_s: ArrayLike | None = None,
    segment_ids: ArrayLike | None = None,
    method: SpectrumMethod = "auto",
    detrend: spectrum.Detrend = "none",
) -> spectrum.BandPowers:
    """Band powers by Welch (Kubios FFT) or Lomb–Scargle.

    ``auto`` picks Welch for one contiguous segment of at least 120 s and Lomb–Scargle otherwise (short
    series, or series with gaps, where resampling would invent data across the gap).  ``t_s`` are beat
    times (s); by default the cumulative sum of the intervals.
    """
    nn = as_float_array(nn_ms)
    times = spectrum.beat_times_s(nn) if t_s is None else as_float_array(t_s)
    contiguous = bool(successive_mask(nn.size, segment_ids).all())
    if method == "auto":
        long_enough = float(times[-1] - times[0]) >= WELCH_MIN_DURATION_S
        method = "welch" if contiguous and long_enough else "lomb"
    if method == "welch":
        return spectrum.band_powers(spectrum.welch_psd(nn, times, detrend=detrend))
    return spectrum.band_powers(spectrum.lomb_psd(times, nn))


def hrv_metrics(
    nn_ms: ArrayLike,
    t_s: ArrayLike | None = None,
    segment_ids: ArrayLike | None = None,
    spectrum_method: SpectrumMethod = "auto",
) -> HRVMetrics:
    """Time, frequency and nonlinear metrics of one NN recording.

    The frequency domain needs at least 60 s of beats; shorter series get ``frequency=None``.
    """
    nn = as_float_array(nn_ms)
    times = spectrum.beat_times_s(nn) if t_s is None else as_float_array(t_s)
    duration = float(times[-1] - times[0]) + float(nn[0]) / 1000.0 if nn.size else 0.0
    freq = (
        frequency_domain(nn, times, segment_ids, spectrum_method)
        if duration >= 60.0 and nn.size >= 8
        else None
    )
    return HRVMetrics(
        time=time_domain(nn, segment_ids),
        frequency=freq,
        nonlinear=nonlinear(nn, segment_ids),
        duration_s=duration,
    )
