"""Power spectra of RR series and HRV band powers (pure numpy/scipy).

Two estimators, both returning a one-sided power spectral density in ms²/Hz:

* :func:`welch_psd` reproduces Kubios HRV's FFT spectrum: the RR series is placed on the time axis at the
  end of each interval, resampled at 4 Hz by a cubic spline, the mean of the whole resampled series is
  removed (Kubios "detrending: none"; optional linear detrending), and Welch's method is applied with Hann
  windows of 300 s and 50 % overlap and no further per-segment detrending.  On the Kubios reference
  series this matches the exported PSD to 0.1 % bin by bin.
* :func:`lomb_psd` is the Lomb–Scargle periodogram on the uneven beat times, for short or gappy series
  (no interpolation, gaps simply carry no samples).  Scaled so that its integral equals the variance.

:func:`band_powers` integrates a PSD over VLF 0–0.04 Hz, LF 0.04–0.15 Hz and HF 0.15–0.40 Hz with the
trapezoidal rule over the closed band (both edge bins included), as Kubios does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from restbeat.signal._arrays import FloatArray, as_float_array

VLF_BAND_HZ = (0.0, 0.04)
LF_BAND_HZ = (0.04, 0.15)
HF_BAND_HZ = (0.15, 0.40)

RESAMPLE_RATE_HZ = 4.0
WELCH_SEGMENT_S = 300.0
WELCH_OVERLAP = 0.5
LOMB_GRID_STEP_HZ = 1.0 / 300.0  # Kubios: 300 points per Hz
LOMB_MAX_HZ = 0.5
_LOMB_CHUNK_ELEMENTS = 2_000_000  # beats x frequencies evaluated at once (scipy builds that matrix)

Detrend = Literal["none", "linear"]
_BAND_EDGE_TOLERANCE_HZ = 1e-9


@dataclass(frozen=True, slots=True)
class Spectrum:
    """A one-sided power spectral density: ``freq_hz`` and ``psd_ms2_per_hz`` of equal length."""

    freq_hz: FloatArray
    psd_ms2_per_hz: FloatArray
    method: str


@dataclass(frozen=True, slots=True)
class BandPowers:
    """Absolute, log, relative and normalised powers of the HRV bands.

    Powers in ms²; ``*_log`` are natural logarithms of the ms² values; ``*_pct`` are per cent of total
    power (VLF + LF + HF); ``*_nu`` are normalised units, 100 × band / (LF + HF).  Peaks are the
    frequencies (Hz) of the PSD maximum inside each band.
    """

    vlf_ms2: float
    lf_ms2: float
    hf_ms2: float
    total_ms2: float
    vlf_log: float
    lf_log: float
    hf_log: float
    vlf_pct: float
    lf_pct: float
    hf_pct: float
    lf_nu: float
    hf_nu: float
    lf_hf_ratio: float
    vlf_peak_hz: float
    lf_peak_hz: float
    hf_peak_hz: float
    method: str


def beat_times_s(rr_ms: NDArray[np.floating] | list[float]) -> FloatArray:
    """Time (s) of the beat ending each interval, counted from the beat that started the first one."""
    return np.cumsum(as_float_array(rr_ms)) / 1000.0


def resample_rr(
    t_s: FloatArray, rr_ms: FloatArray, rate_hz: float = RESAMPLE_RATE_HZ
) -> tuple[FloatArray, FloatArray]:
    """Cubic-spline RR series sampled evenly at ``rate_hz`` from the first to the last beat time."""
    from scipy.interpolate import CubicSpline

    grid = np.arange(t_s[0], t_s[-1], 1.0 / rate_hz)
    return grid, np.asarray(CubicSpline(t_s, rr_ms)(grid), dtype=np.float64)


def welch_psd(
    rr_ms: NDArray[np.floating] | list[float],
    t_s: NDArray[np.floating] | None = None,
    *,
    detrend: Detrend = "none",
    segment_s: float = WELCH_SEGMENT_S,
    overlap: float = WELCH_OVERLAP,
    rate_hz: float = RESAMPLE_RATE_HZ,
) -> Spectrum:
    """Kubios-style Welch PSD of an RR series (ms²/Hz).

    ``t_s`` are beat times (s); by default the cumulative sum of the intervals.  Series shorter than one
    segment use a single Hann window over their whole length.
    """
    from scipy.signal import welch

    rr = as_float_array(rr_ms)
    if rr.size < 4:
        raise ValueError(f"Welch PSD needs at least 4 RR intervals, got {rr.size}")
    times = beat_times_s(rr) if t_s is None else as_float_array(t_s)
    grid, series = resample_rr(times, rr, rate_hz)
    if detrend == "linear":
        series = series - np.polyval(np.polyfit(grid, series, 1), grid)
    else:
        series = series - series.mean()
    per_segment = min(round(segment_s * rate_hz), series.size)
    freq, psd = welch(
        series,
        fs=rate_hz,
        window="hann",
        nperseg=per_segment,
        noverlap=round(per_segment * overlap),
        detrend=False,
        scaling="density",
    )
    return Spectrum(np.asarray(freq, np.float64), np.asarray(psd, np.float64), "welch")


def lomb_psd(
    t_s: NDArray[np.floating] | list[float],
    rr_ms: NDArray[np.floating] | list[float],
    *,
    max_hz: float = LOMB_MAX_HZ,
    step_hz: float | None = None,
) -> Spectrum:
    """Lomb–Scargle PSD (ms²/Hz) of RR values at uneven beat times ``t_s`` (s).

    The mean is removed first; the periodogram ``P`` of :func:`scipy.signal.lombscargle` is scaled to a
    one-sided density ``2·T·P/N`` (T = span of the beat times, N = number of beats) so that its integral
    equals the variance of the series.  The grid runs from ``step_hz`` (default 1/300 Hz, Kubios' 300
    points per Hz) to ``max_hz``.  Frequencies are evaluated in chunks so memory stays bounded on 24-h
    series.
    """
    from scipy.signal import lombscargle

    times = as_float_array(t_s)
    rr = as_float_array(rr_ms)
    if rr.size < 4:
        raise ValueError(f"Lomb-Scargle PSD needs at least 4 RR intervals, got {rr.size}")
    span = float(times[-1] - times[0])
    step = step_hz if step_hz is not None else LOMB_GRID_STEP_HZ
    freq = np.arange(step, max_hz + step / 2, step)
    centred = rr - rr.mean()
    chunk = max(1, _LOMB_CHUNK_ELEMENTS // rr.size)
    power = np.concatenate(
        [
            np.asarray(lombscargle(times, centred, 2.0 * math.pi * freq[i : i + chunk], normalize=False))
            for i in range(0, freq.size, chunk)
        ]
    )
    psd = 2.0 * span * power.astype(np.float64) / rr.size
    return Spectrum(freq, psd, "lomb")


def band_power(spectrum: Spectrum, band_hz: tuple[float, float]) -> float:
    """Power (ms²) in the closed band, trapezoidal rule over the bins inside it."""
    low, high = band_hz
    freq = spectrum.freq_hz
    inside = (freq >= low - _BAND_EDGE_TOLERANCE_HZ) & (freq <= high + _BAND_EDGE_TOLERANCE_HZ)
    if np.count_nonzero(inside) < 2:
        return 0.0
    return float(np.trapezoid(spectrum.psd_ms2_per_hz[inside], freq[inside]))


def band_peak_hz(spectrum: Spectrum, band_hz: tuple[float, float]) -> float:
    """Frequency (Hz) of the PSD maximum inside the closed band; NaN if the band holds no bin."""
    low, high = band_hz
    freq = spectrum.freq_hz
    inside = (freq >= low - _BAND_EDGE_TOLERANCE_HZ) & (freq <= high + _BAND_EDGE_TOLERANCE_HZ)
    if not inside.any():
        return math.nan
    return float(freq[inside][np.argmax(spectrum.psd_ms2_per_hz[inside])])


def _safe_log(value: float) -> float:
    return math.log(value) if value > 0 else math.nan


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def band_powers(spectrum: Spectrum) -> BandPowers:
    """VLF, LF and HF powers of a spectrum with their log, relative and normalised forms."""
    vlf = band_power(spectrum, VLF_BAND_HZ)
    lf = band_power(spectrum, LF_BAND_HZ)
    hf = band_power(spectrum, HF_BAND_HZ)
    total = vlf + lf + hf
    return BandPowers(
        vlf_ms2=vlf,
        lf_ms2=lf,
        hf_ms2=hf,
        total_ms2=total,
        vlf_log=_safe_log(vlf),
        lf_log=_safe_log(lf),
        hf_log=_safe_log(hf),
        vlf_pct=100.0 * _ratio(vlf, total),
        lf_pct=100.0 * _ratio(lf, total),
        hf_pct=100.0 * _ratio(hf, total),
        lf_nu=100.0 * _ratio(lf, lf + hf),
        hf_nu=100.0 * _ratio(hf, lf + hf),
        lf_hf_ratio=_ratio(lf, hf),
        vlf_peak_hz=band_peak_hz(spectrum, VLF_BAND_HZ),
        lf_peak_hz=band_peak_hz(spectrum, LF_BAND_HZ),
        hf_peak_hz=band_peak_hz(spectrum, HF_BAND_HZ),
        method=spectrum.method,
    )
