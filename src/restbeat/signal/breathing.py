"""Breathing rate from respiratory sinus arrhythmia (RSA) in an RR series.

Method: a counting method in the spirit of Schäfer & Kratky (2008, Ann Biomed Eng 36:476), who found
counting RSA cycles more robust than picking a spectral peak.  The RR series is resampled at 4 Hz (cubic
spline), band-passed to the breathing band (default 0.1–0.5 Hz, 6–30 breaths/min; 2nd-order Butterworth,
zero phase), and its local extrema are found.  A breath is a local maximum whose drop to the next minimum
exceeds 30 % of the upper quartile of all such drops (small ripples are not breaths).  The rate is the
number of breaths minus one over the time between the first and last counted maxima.

Picking the Lomb–Scargle peak instead is fooled by Mayer waves near 0.1 Hz, which often carry more power
than the respiratory peak in short windows (measured on the neurokit2 recordings: median error 4.7 vs
1.3 breaths/min on the 5-min resting file).

Paced breathing (:func:`breathing_response`) and the resonance-frequency protocol
(:func:`resonance_assessment`) follow ../shared/research/hrv-science.md §4.2–4.3 (Lehrer et al. 2000/2013,
Shaffer & Meehan 2020, McCraty et al. 2009).  There the breathing seen in the RR is the Lomb–Scargle peak
in 0.04–0.4 Hz: slow breathing makes the RSA far larger than the Mayer waves.  The limit: someone who
ignores a 6/min pacer while their Mayer waves (~0.1 Hz) outweigh their RSA looks as if they followed it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from restbeat.signal._arrays import FloatArray, IntArray, as_float_array
from restbeat.signal.metrics import time_domain
from restbeat.signal.spectrum import LF_BAND_HZ, Spectrum, band_peak_hz, band_power, lomb_psd, resample_rr

SPONTANEOUS_BAND_HZ = (0.1, 0.5)
_CYCLE_AMPLITUDE_FRACTION = 0.3
_MIN_BREATHS = 3
_RESAMPLE_HZ = 4.0


@dataclass(frozen=True, slots=True)
class BreathingEstimate:
    """Breathing rate (breaths/min) estimated from RSA, with the number of cycles it rests on."""

    rate_per_min: float
    breaths: int
    window_s: float


def _local_extrema(signal: FloatArray) -> tuple[np.ndarray, np.ndarray]:
    slope = np.diff(signal)
    maxima = np.flatnonzero((slope[:-1] > 0) & (slope[1:] <= 0)) + 1
    minima = np.flatnonzero((slope[:-1] < 0) & (slope[1:] >= 0)) + 1
    return maxima, minima


def breathing_rate(
    t_s: FloatArray,
    rr_ms: FloatArray,
    band_hz: tuple[float, float] = SPONTANEOUS_BAND_HZ,
) -> BreathingEstimate | None:
    """Breathing rate from beats at times ``t_s`` (s) with intervals ``rr_ms`` (ms).

    Returns None when the window is too short for the band or fewer than three breaths are found.
    """
    from scipy.signal import butter, sosfiltfilt

    times = as_float_array(t_s)
    rr = as_float_array(rr_ms)
    span = float(times[-1] - times[0]) if times.size else 0.0
    low, high = band_hz
    if rr.size < 8 or span < 2.0 / low:
        return None
    grid, series = resample_rr(times, rr, _RESAMPLE_HZ)
    sos = butter(2, [low, high], btype="band", fs=_RESAMPLE_HZ, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), series.size - 1)
    filtered = np.asarray(sosfiltfilt(sos, series - series.mean(), padlen=padlen), dtype=np.float64)
    maxima, minima = _local_extrema(filtered)
    if maxima.size < _MIN_BREATHS or minima.size == 0:
        return None
    next_minimum = np.searchsorted(minima, maxima)
    has_minimum = next_minimum < minima.size
    peaks = maxima[has_minimum]
    drops = filtered[peaks] - filtered[minima[next_minimum[has_minimum]]]
    if drops.size < _MIN_BREATHS:
        return None
    breaths = peaks[drops > _CYCLE_AMPLITUDE_FRACTION * float(np.percentile(drops, 75))]
    if breaths.size < _MIN_BREATHS:
        return None
    duration = float(grid[breaths[-1]] - grid[breaths[0]])
    return BreathingEstimate(
        rate_per_min=60.0 * (breaths.size - 1) / duration,
        breaths=int(breaths.size),
        window_s=span,
    )


# --- paced breathing and the resonance-frequency protocol (hrv-science.md §4.2–4.3) -------------------

PACED_BAND_HZ = (0.04, 0.4)  # where the RSA peak of slow (paced) breathing is looked for
COHERENCE_PEAK_BAND_HZ = (0.04, 0.26)
COHERENCE_TOTAL_BAND_HZ = (0.0033, 0.4)
PEAK_HALF_WIDTH_HZ = 0.015
RATE_TOLERANCE_HZ = 0.01  # ±0.6 breaths/min
NO_CHANGE_LN_RMSSD = 0.1
MIN_WINDOW_COVERAGE = 0.6
MIN_WINDOW_BEATS = 20
MIN_SPECTRUM_S = 60.0
TRIAL_WINDOW_S = 120.0
MIN_TRIAL_WINDOW_S = 90.0
PREFERRED_RATE_PER_MIN = 6.0
_SPECTRUM_STEP_HZ = 0.001
_MAX_CYCLE_GAP_S = 2.5  # a pacer cycle with a longer hole between beats is not measured
_GAP_FACTOR = 1.5  # beats further apart than 1.5 x the interval they end are not successive

Change = Literal["higher", "lower", "no change"]


@dataclass(frozen=True, slots=True)
class BreathingResponse:
    """What a paced-breathing session did to the RR series.

    RMSSD (ms) and mean HR (bpm) ``before`` (the ``before_s`` before the start), ``during`` (the session
    minus its first ``settle_s``) and ``after`` (the ``after_s`` after the end): None when the window holds
    fewer than 20 beats or its beats cover less than 60 % of it.  ``delta_ln_rmssd`` = ln(after) −
    ln(before); ``changed`` is "no change" when |delta| < 0.1 (the noise of a 2-min difference).

    During the session (after settling): ``rsa_bpm`` is the mean peak-to-trough HR over ``cycles`` complete
    pacer cycles; ``observed_rate_per_min`` the Lomb–Scargle RSA peak in 0.04–0.4 Hz, ``rate_matched`` True
    when it lies within ±0.01 Hz (±0.6/min) of the pacer; ``power_at_pace_ms2`` the PSD integrated over
    f_pace ± 0.015 Hz; ``coherence_ratio`` and ``peak_fraction`` the published HeartMath formulation
    (PeakPower / (Total − PeakPower) and PeakPower / Total); ``hr_phase_deg`` the phase of HR relative to
    the pacer's lung volume at f_pace (positive: HR leads; ~0° at resonance).  Spectral fields are None
    when fewer than 60 s are available.
    """

    rate_per_min: float
    rmssd_before_ms: float | None
    rmssd_during_ms: float | None
    rmssd_after_ms: float | None
    delta_ln_rmssd: float | None
    changed: Change | None
    hr_before_bpm: float | None
    hr_during_bpm: float | None
    hr_after_bpm: float | None
    delta_hr_bpm: float | None
    rsa_bpm: float | None
    cycles: int
    observed_rate_per_min: float | None
    rate_matched: bool | None
    power_at_pace_ms2: float | None
    coherence_ratio: float | None
    peak_fraction: float | None
    hr_phase_deg: float | None


@dataclass(frozen=True, slots=True)
class PacedTrial:
    """One step of the resonance protocol: pacer rate (breaths/min), start and end (s, beat-time axis) and
    optionally the inhale length (s; default half a breath)."""

    rate_per_min: float
    started_s: float
    ended_s: float
    inhale_s: float | None = None


@dataclass(frozen=True, slots=True)
class TrialResult:
    """The last 90–120 s (``window_s``) of one trial.

    ``rsa_bpm`` mean peak-to-trough HR over ``cycles`` complete pacer cycles; ``peak_hz`` the Lomb–Scargle
    RSA peak in 0.04–0.4 Hz and ``observed_rate_per_min`` the same in breaths/min; ``followed`` when it
    lies within ±0.01 Hz of the pacer; ``power_at_pace_ms2`` the PSD over f_pace ± 0.015 Hz;
    ``lf_peak_ms2_per_hz`` the PSD maximum in 0.04–0.15 Hz; ``coherence_ratio`` and ``hr_phase_deg`` as in
    :class:`BreathingResponse`.  ``valid`` trials were followed and had enough data; ``note`` says why not.
    """

    trial: PacedTrial
    window_s: float
    rsa_bpm: float | None
    cycles: int
    peak_hz: float | None
    observed_rate_per_min: float | None
    followed: bool
    power_at_pace_ms2: float | None
    lf_peak_ms2_per_hz: float | None
    coherence_ratio: float | None
    hr_phase_deg: float | None
    valid: bool
    note: str


@dataclass(frozen=True, slots=True)
class ResonanceResult:
    """Every trial, the chosen resonance rate (breaths/min; None when no trial is valid) and one plain
    line saying why."""

    trials: tuple[TrialResult, ...]
    best_rate_per_min: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class _Spectral:
    peak_hz: float
    power_at_pace_ms2: float
    lf_peak_ms2_per_hz: float
    coherence_ratio: float | None
    peak_fraction: float | None


@dataclass(frozen=True, slots=True)
class _Swing:
    rsa_bpm: float | None
    cycles: int
    hr_phase_deg: float | None


def _inputs(t_s: ArrayLike, rr_ms: ArrayLike) -> tuple[FloatArray, FloatArray]:
    times = as_float_array(t_s)
    rr = as_float_array(rr_ms)
    if times.shape != rr.shape:
        raise ValueError(f"t_s has {times.size} beats but rr_ms {rr.size}")
    return times, rr


def _window(
    times: FloatArray, rr: FloatArray, start_s: float, end_s: float
) -> tuple[FloatArray, FloatArray] | None:
    """Beats ending in [start, end), or None when they are too few or cover too little of the window."""
    inside = (times >= start_s) & (times < end_s)
    length = end_s - start_s
    if length <= 0 or np.count_nonzero(inside) < MIN_WINDOW_BEATS:
        return None
    if float(rr[inside].sum()) / 1000.0 < MIN_WINDOW_COVERAGE * length:
        return None
    return times[inside], rr[inside]


def _segment_ids(times: FloatArray, rr: FloatArray) -> IntArray:
    """A new id wherever the time between two beats is well over the interval the second one ends."""
    gaps = np.diff(times) > _GAP_FACTOR * rr[1:] / 1000.0
    return np.concatenate([[0], np.cumsum(gaps)]).astype(np.int64)


def _rmssd_and_hr(beats: tuple[FloatArray, FloatArray] | None) -> tuple[float | None, float | None]:
    if beats is None:
        return None, None
    times, rr = beats
    td = time_domain(rr, _segment_ids(times, rr))
    return (td.rmssd_ms if math.isfinite(td.rmssd_ms) else None), td.mean_hr_bpm


def _spectral(beats: tuple[FloatArray, FloatArray] | None, pace_hz: float) -> _Spectral | None:
    if beats is None:
        return None
    times, rr = beats
    if times[-1] - times[0] < MIN_SPECTRUM_S:
        return None
    spec: Spectrum = lomb_psd(times, rr, max_hz=COHERENCE_TOTAL_BAND_HZ[1], step_hz=_SPECTRUM_STEP_HZ)
    inside = (spec.freq_hz >= LF_BAND_HZ[0]) & (spec.freq_hz <= LF_BAND_HZ[1])
    coherence_peak = band_peak_hz(spec, COHERENCE_PEAK_BAND_HZ)
    peak_power = band_power(spec, (coherence_peak - PEAK_HALF_WIDTH_HZ, coherence_peak + PEAK_HALF_WIDTH_HZ))
    total = band_power(spec, COHERENCE_TOTAL_BAND_HZ)
    return _Spectral(
        peak_hz=band_peak_hz(spec, PACED_BAND_HZ),
        power_at_pace_ms2=band_power(spec, (pace_hz - PEAK_HALF_WIDTH_HZ, pace_hz + PEAK_HALF_WIDTH_HZ)),
        lf_peak_ms2_per_hz=float(spec.psd_ms2_per_hz[inside].max()),
        coherence_ratio=peak_power / (total - peak_power) if total > peak_power else None,
        peak_fraction=peak_power / total if total > 0 else None,
    )


def _lung_volume(t_s: FloatArray, started_s: float, period_s: float, inhale_s: float) -> FloatArray:
    """The pacer's lung volume (0 to 1): rising linearly over the inhale, falling over the exhale."""
    into = np.mod(t_s - started_s, period_s)
    exhale_s = period_s - inhale_s
    return np.where(into < inhale_s, into / inhale_s, 1.0 - (into - inhale_s) / exhale_s)


def _swing(
    times: FloatArray,
    rr: FloatArray,
    started_s: float,
    period_s: float,
    inhale_s: float,
    from_s: float,
    to_s: float,
) -> _Swing:
    """Peak-to-trough HR (bpm) per complete pacer cycle inside [from, to], and the HR phase at the pace.

    Instantaneous HR (60000 / RR) is placed at the middle of each interval and interpolated at 4 Hz.
    """
    if rr.size < 4:
        return _Swing(None, 0, None)
    middles = times - rr / 2000.0
    if np.any(np.diff(middles) <= 0):  # inconsistent times and intervals: fall back to the beat times
        middles = times
    grid, hr = resample_rr(middles, 60000.0 / rr, _RESAMPLE_HZ)
    first = math.ceil((from_s - started_s) / period_s - 1e-9)
    swings: list[float] = []
    hr_projection = 0j
    volume_projection = 0j
    omega = 2.0 * math.pi / period_s
    k = first
    while started_s + (k + 1) * period_s <= to_s + 1e-9:
        start = started_s + k * period_s
        end = start + period_s
        k += 1
        if start < middles[0] or end > middles[-1]:
            continue
        edges = np.concatenate([[start], middles[(middles > start) & (middles < end)], [end]])
        if np.diff(edges).max() > _MAX_CYCLE_GAP_S:
            continue
        cycle = (grid >= start) & (grid < end)
        hr_cycle = hr[cycle]
        swings.append(float(hr_cycle.max() - hr_cycle.min()))
        rotor = np.exp(-1j * omega * grid[cycle])
        hr_projection += complex(np.sum((hr_cycle - hr_cycle.mean()) * rotor))
        volume = _lung_volume(grid[cycle], started_s, period_s, inhale_s)
        volume_projection += complex(np.sum((volume - volume.mean()) * rotor))
    if not swings:
        return _Swing(None, 0, None)
    phase = math.degrees(float(np.angle(hr_projection * np.conj(volume_projection))))
    return _Swing(float(np.mean(swings)), len(swings), phase)


def _pacer(rate_per_min: float, inhale_s: float | None) -> tuple[float, float]:
    if rate_per_min <= 0:
        raise ValueError(f"the pacer rate must be positive, got {rate_per_min}")
    period = 60.0 / rate_per_min
    inhale = period / 2.0 if inhale_s is None else inhale_s
    if not 0 < inhale < period:
        raise ValueError(f"inhale_s must lie inside one breath (0, {period:g}) s, got {inhale}")
    return period, inhale


def _change(delta: float | None) -> Change | None:
    if delta is None:
        return None
    if abs(delta) < NO_CHANGE_LN_RMSSD:
        return "no change"
    return "higher" if delta > 0 else "lower"


def _difference(after: float | None, before: float | None) -> float | None:
    return after - before if after is not None and before is not None else None


def breathing_response(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    started_s: float,
    ended_s: float,
    rate_per_min: float,
    *,
    inhale_s: float | None = None,
    before_s: float = 120.0,
    after_s: float = 120.0,
    settle_s: float = 30.0,
) -> BreathingResponse:
    """Analyse a paced-breathing session from ``started_s`` to ``ended_s`` (s) at ``rate_per_min``.

    ``t_s`` are beat times (s) and ``rr_ms`` the clean intervals (ms) they end, covering the quiet minutes
    before and after as well.  The pacer starts a breath at ``started_s + k · 60 / rate_per_min``, inhale
    first, inhaling for ``inhale_s`` (default half a breath).  See :class:`BreathingResponse`.
    """
    times, rr = _inputs(t_s, rr_ms)
    period, inhale = _pacer(rate_per_min, inhale_s)
    if ended_s <= started_s:
        raise ValueError(f"the session must end after it starts ({started_s} .. {ended_s})")
    pace_hz = rate_per_min / 60.0
    settled_s = min(started_s + settle_s, ended_s)
    rmssd_before, hr_before = _rmssd_and_hr(_window(times, rr, started_s - before_s, started_s))
    during = _window(times, rr, settled_s, ended_s)
    rmssd_during, hr_during = _rmssd_and_hr(during)
    rmssd_after, hr_after = _rmssd_and_hr(_window(times, rr, ended_s, ended_s + after_s))
    delta_ln = (
        math.log(rmssd_after) - math.log(rmssd_before)
        if rmssd_after is not None and rmssd_before is not None and rmssd_after > 0 and rmssd_before > 0
        else None
    )
    spectral = _spectral(during, pace_hz)
    swing = _swing(times, rr, started_s, period, inhale, settled_s, ended_s)
    return BreathingResponse(
        rate_per_min=rate_per_min,
        rmssd_before_ms=rmssd_before,
        rmssd_during_ms=rmssd_during,
        rmssd_after_ms=rmssd_after,
        delta_ln_rmssd=delta_ln,
        changed=_change(delta_ln),
        hr_before_bpm=hr_before,
        hr_during_bpm=hr_during,
        hr_after_bpm=hr_after,
        delta_hr_bpm=_difference(hr_after, hr_before),
        rsa_bpm=swing.rsa_bpm,
        cycles=swing.cycles,
        observed_rate_per_min=60.0 * spectral.peak_hz if spectral else None,
        rate_matched=abs(spectral.peak_hz - pace_hz) <= RATE_TOLERANCE_HZ + 1e-9 if spectral else None,
        power_at_pace_ms2=spectral.power_at_pace_ms2 if spectral else None,
        coherence_ratio=spectral.coherence_ratio if spectral else None,
        peak_fraction=spectral.peak_fraction if spectral else None,
        hr_phase_deg=swing.hr_phase_deg,
    )


def _trial_result(times: FloatArray, rr: FloatArray, trial: PacedTrial) -> TrialResult:
    period, inhale = _pacer(trial.rate_per_min, trial.inhale_s)
    start = max(trial.started_s, trial.ended_s - TRIAL_WINDOW_S)
    window_s = trial.ended_s - start
    pace_hz = trial.rate_per_min / 60.0
    beats = _window(times, rr, start, trial.ended_s) if window_s >= MIN_TRIAL_WINDOW_S else None
    spectral = _spectral(beats, pace_hz)
    swing = _swing(times, rr, trial.started_s, period, inhale, start, trial.ended_s)
    followed = spectral is not None and abs(spectral.peak_hz - pace_hz) <= RATE_TOLERANCE_HZ + 1e-9
    if window_s < MIN_TRIAL_WINDOW_S:
        note = f"shorter than {MIN_TRIAL_WINDOW_S:.0f} s"
    elif spectral is None or swing.rsa_bpm is None:
        note = "too little data"
    elif not followed:
        note = f"not followed (breathing peak {60.0 * spectral.peak_hz:.1f}/min)"
    else:
        note = ""
    return TrialResult(
        trial=trial,
        window_s=window_s,
        rsa_bpm=swing.rsa_bpm,
        cycles=swing.cycles,
        peak_hz=spectral.peak_hz if spectral else None,
        observed_rate_per_min=60.0 * spectral.peak_hz if spectral else None,
        followed=followed,
        power_at_pace_ms2=spectral.power_at_pace_ms2 if spectral else None,
        lf_peak_ms2_per_hz=spectral.lf_peak_ms2_per_hz if spectral else None,
        coherence_ratio=spectral.coherence_ratio if spectral else None,
        hr_phase_deg=swing.hr_phase_deg,
        valid=note == "",
        note=note,
    )


def _descending_ranks(values: Sequence[float]) -> list[float]:
    """Rank 1 for the largest value; equal values share the mean of their ranks."""
    array = np.asarray(values, dtype=np.float64)
    return [
        1.0 + float(np.count_nonzero(array > v)) + (float(np.count_nonzero(array == v)) - 1.0) / 2.0
        for v in array
    ]


def _place(rank: float) -> str:
    position = math.floor(rank)
    if position == 1:
        return "largest"
    suffix = {2: "nd", 3: "rd"}.get(position, "th")
    return f"{position}{suffix}"


def _rate(rate_per_min: float) -> str:
    return f"{rate_per_min:g}/min"


def choose_resonance(trials: Sequence[TrialResult]) -> ResonanceResult:
    """The resonance rate: the valid trial with the smallest sum of ranks over RSA amplitude, power at
    pace and LF peak power (rank 1 = largest); ties go to the rate nearest 6/min, then the larger RSA."""
    valid = [
        trial
        for trial in trials
        if trial.valid
        and trial.rsa_bpm is not None
        and trial.power_at_pace_ms2 is not None
        and trial.lf_peak_ms2_per_hz is not None
    ]
    invalid = "; ".join(f"{_rate(t.trial.rate_per_min)} {t.note}" for t in trials if t not in valid)
    if not valid:
        why = f"no valid trial: {invalid}" if trials else "no trials"
        return ResonanceResult(tuple(trials), None, why)
    rsa = _descending_ranks([t.rsa_bpm or 0.0 for t in valid])
    pace = _descending_ranks([t.power_at_pace_ms2 or 0.0 for t in valid])
    lf = _descending_ranks([t.lf_peak_ms2_per_hz or 0.0 for t in valid])
    sums = [a + b + c for a, b, c in zip(rsa, pace, lf, strict=True)]
    best = min(
        range(len(valid)),
        key=lambda i: (
            sums[i],
            abs(valid[i].trial.rate_per_min - PREFERRED_RATE_PER_MIN),
            -(valid[i].rsa_bpm or 0.0),
        ),
    )
    chosen = valid[best]
    reason = (
        f"{_rate(chosen.trial.rate_per_min)}: HR swing {chosen.rsa_bpm:.1f} bpm ({_place(rsa[best])}), "
        f"power at pace {chosen.power_at_pace_ms2:.0f} ms² ({_place(pace[best])}), "
        f"LF peak {chosen.lf_peak_ms2_per_hz:.0f} ms²/Hz ({_place(lf[best])}); "
        f"rank sum {sums[best]:g} of {len(valid)} valid trial{'s' if len(valid) > 1 else ''}"
    )
    if sum(1 for s in sums if s == sums[best]) > 1:
        reason += f", tie broken towards {PREFERRED_RATE_PER_MIN:g}/min"
    if invalid:
        reason += f"; left out: {invalid}"
    return ResonanceResult(tuple(trials), chosen.trial.rate_per_min, reason)


def resonance_assessment(t_s: ArrayLike, rr_ms: ArrayLike, trials: Sequence[PacedTrial]) -> ResonanceResult:
    """Resonance-frequency assessment from beat times ``t_s`` (s) and clean intervals ``rr_ms`` (ms).

    Each trial is judged on its last 120 s (at least 90 s): see :class:`TrialResult`.  A trial whose RSA
    peak is not within ±0.01 Hz of its pacer was not followed and is invalid.  The choice is made by
    :func:`choose_resonance`.
    """
    times, rr = _inputs(t_s, rr_ms)
    return choose_resonance([_trial_result(times, rr, trial) for trial in trials])
