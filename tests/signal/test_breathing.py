"""Breathing rate from RSA: synthetic RSA at known rates, and real ECG + respiration belt recordings.

Real data: neurokit_data of the full corpus (NeuroKit2 example recordings, MIT licence, Makowski et al. 2021;
4.6 MB, not bundled: that test is marked corpus).
R-peaks come from neurokit2's ECG detector, truth from the respiration belt (neurokit2 breath peaks).

Paced breathing and the resonance protocol: synthetic hearts whose instantaneous HR is a known sine
(peak-to-trough A bpm at a known rate), integrated beat by beat, and the rr_synth demo strap (noise, Mayer
waves, drift) for a realistic case.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from restbeat.devices.rr_synth import Phase, synthesize
from restbeat.signal.breathing import (
    PacedTrial,
    TrialResult,
    breathing_rate,
    breathing_response,
    choose_resonance,
    resonance_assessment,
)

RECORDINGS = ("bio_resting_5min_100hz.csv", "bio_resting_8min_100hz.csv", "bio_eventrelated_100hz.csv")
FS_HZ = 100
WINDOW_S = 60.0
STEP_S = 10.0


def _rsa(
    rate_per_min: float, duration_s: float = 60.0, noise_ms: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    times, rrs, t = [], [], 0.0
    while t < duration_s:
        rr = 850 + 35 * math.sin(2 * math.pi * rate_per_min / 60 * t) + rng.normal(0, noise_ms)
        t += rr / 1000
        times.append(t)
        rrs.append(rr)
    return np.array(times), np.array(rrs)


@pytest.mark.parametrize("rate", [7.0, 10.0, 12.0, 15.0, 18.0, 24.0])
def test_synthetic_rsa_rate_is_recovered(rate: float) -> None:
    estimate = breathing_rate(*_rsa(rate, noise_ms=5.0))
    assert estimate is not None
    assert estimate.rate_per_min == pytest.approx(rate, abs=0.6)


def test_mayer_waves_do_not_hide_the_breathing() -> None:
    t, rr = _rsa(16.0, noise_ms=3.0)
    rr = rr + 45 * np.sin(2 * np.pi * 0.1 * t)  # a strong 0.1-Hz Mayer wave
    estimate = breathing_rate(t, rr)
    assert estimate is not None
    assert estimate.rate_per_min == pytest.approx(16.0, abs=1.0)


def test_too_short_or_flat_series_give_no_estimate() -> None:
    assert breathing_rate(*_rsa(12.0, duration_s=10.0)) is None
    t = np.arange(1, 80, dtype=float)
    assert breathing_rate(t, np.full(t.size, 1000.0)) is None


def _belt_rate(rsp: np.ndarray, start_s: float) -> float:
    import neurokit2 as nk

    segment = rsp[int(start_s * FS_HZ) : int((start_s + WINDOW_S) * FS_HZ)]
    _, info = nk.rsp_peaks(nk.rsp_clean(segment, sampling_rate=FS_HZ), sampling_rate=FS_HZ)
    peaks = info["RSP_Peaks"]
    return float(60 * (len(peaks) - 1) / ((peaks[-1] - peaks[0]) / FS_HZ))


def breathing_errors(path: str) -> list[float]:
    """|RSA rate - belt rate| (breaths/min) over 60-s windows stepped by 10 s."""
    import neurokit2 as nk
    import pandas as pd

    data = pd.read_csv(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ecg_peaks(nk.ecg_clean(data.ECG.to_numpy(), sampling_rate=FS_HZ), sampling_rate=FS_HZ)
    peaks = np.asarray(info["ECG_R_Peaks"])
    beat_t = peaks[1:] / FS_HZ
    rr = np.diff(peaks) * (1000 / FS_HZ)
    errors = []
    for start in np.arange(0.0, len(data) / FS_HZ - WINDOW_S + 1e-9, STEP_S):
        inside = (beat_t > start) & (beat_t <= start + WINDOW_S)
        estimate = breathing_rate(beat_t[inside], rr[inside])
        truth = _belt_rate(data.RSP.to_numpy(), float(start))
        errors.append(abs(estimate.rate_per_min - truth) if estimate else math.inf)
    return errors


@pytest.mark.corpus  # the three NeuroKit2 recordings are 4.6 MB, not bundled
def test_rsa_rate_matches_the_respiration_belt() -> None:
    from tests.support.shared_data import shared

    errors = [e for name in RECORDINGS for e in breathing_errors(str(shared("neurokit_data", name)))]
    assert len(errors) >= 75
    assert np.median(errors) <= 1.0  # measured 0.50 breaths/min over 80 windows
    assert np.mean(np.isfinite(errors)) >= 0.95


# --- paced breathing and the resonance protocol --------------------------------------------------------

HeartRate = Callable[[float], float]
REST_HR_BPM = 65.0


def _beats(
    hr_bpm: HeartRate, duration_s: float, noise_bpm: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate-and-fire beats whose interval is 60000 / HR at the interval's middle (+ white HR noise)."""
    rng = np.random.default_rng(seed)
    times, rrs, t = [], [], 0.0
    while t < duration_s:
        rr = 60000.0 / hr_bpm(t + 0.45)
        rr = 60000.0 / (hr_bpm(t + rr / 2000.0) + rng.normal(0.0, noise_bpm))
        t += rr / 1000.0
        times.append(t)
        rrs.append(rr)
    return np.array(times), np.array(rrs)


def _spontaneous(swing_bpm: float) -> HeartRate:
    return lambda t: REST_HR_BPM + swing_bpm / 2 * math.sin(2 * math.pi * 14 / 60 * t)


def _paced(
    swing_bpm: float,
    rate_per_min: float,
    start_s: float,
    end_s: float,
    rest: HeartRate,
    shape: Callable[[float], float] = math.sin,
) -> HeartRate:
    """HR = 65 + A/2·shape(2π f (t − start)) during [start, end), ``rest`` elsewhere."""

    def hr(t: float) -> float:
        if start_s <= t < end_s:
            return REST_HR_BPM + swing_bpm / 2 * shape(2 * math.pi * rate_per_min / 60 * (t - start_s))
        return rest(t)

    return hr


def _direct_rmssd(t: np.ndarray, rr: np.ndarray, start_s: float, end_s: float) -> float:
    window = rr[(t >= start_s) & (t < end_s)]
    return float(np.sqrt(np.mean(np.diff(window) ** 2)))


@pytest.mark.parametrize("swing_bpm", [6.0, 15.0])
def test_rsa_amplitude_and_rate_of_a_session_at_six_per_minute(swing_bpm: float) -> None:
    t, rr = _beats(_paced(swing_bpm, 6.0, 150.0, 300.0, _spontaneous(3.0)), 450.0)
    response = breathing_response(t, rr, 150.0, 300.0, 6.0)
    assert response.rsa_bpm == pytest.approx(swing_bpm, rel=0.1)  # measured 6.15 and 15.04
    assert response.cycles == 12  # (150 s − 30 s settle) / 10 s
    assert response.observed_rate_per_min == pytest.approx(6.0, abs=0.3)  # measured 6.00
    assert response.rate_matched is True
    # a pure sine at the pace: nearly all the power sits in the peak
    assert response.peak_fraction is not None and response.peak_fraction > 0.9
    assert response.coherence_ratio is not None and response.coherence_ratio > 5
    # RR amplitude a ≈ 60000·(A/2)/HR² ms and a sine of amplitude a has power a²/2 (the rest leaks out of
    # ±0.015 Hz through the 120-s window's side lobes): measured 837 vs 908 and 5295 vs 5672 ms²
    rr_amplitude_ms = 60000.0 * swing_bpm / 2 / REST_HR_BPM**2
    assert response.power_at_pace_ms2 == pytest.approx(rr_amplitude_ms**2 / 2, rel=0.15)


def test_breathing_at_twelve_while_the_pacer_says_six_is_not_matched() -> None:
    t, rr = _beats(_paced(10.0, 12.0, 150.0, 300.0, _spontaneous(3.0)), 450.0)
    response = breathing_response(t, rr, 150.0, 300.0, 6.0)
    assert response.observed_rate_per_min == pytest.approx(12.0, abs=0.3)
    assert response.rate_matched is False


def test_hr_phase_against_the_pacer_lung_volume() -> None:
    """HR peaking at the end of the inhale is in phase (0°); a sine peaks a quarter breath earlier (+90°)."""
    in_phase = _paced(10.0, 6.0, 150.0, 300.0, _spontaneous(3.0), shape=lambda x: -math.cos(x))
    response = breathing_response(*_beats(in_phase, 450.0), 150.0, 300.0, 6.0)
    assert response.hr_phase_deg == pytest.approx(0.0, abs=10.0)  # measured −0.6°
    leading_hr = _paced(10.0, 6.0, 150.0, 300.0, _spontaneous(3.0))
    leading = breathing_response(*_beats(leading_hr, 450.0), 150.0, 300.0, 6.0)
    assert leading.hr_phase_deg == pytest.approx(90.0, abs=10.0)  # measured 89.9°


def test_more_variability_after_the_session_raises_ln_rmssd() -> None:
    def hr(t: float) -> float:
        swing = 3.0 if t < 150.0 else 8.0  # spontaneous 14/min RSA before, larger after
        return _paced(10.0, 6.0, 150.0, 300.0, _spontaneous(swing))(t)

    t, rr = _beats(hr, 450.0)
    response = breathing_response(t, rr, 150.0, 300.0, 6.0)
    before, after = _direct_rmssd(t, rr, 30.0, 150.0), _direct_rmssd(t, rr, 300.0, 420.0)
    assert response.rmssd_before_ms == pytest.approx(before, rel=1e-9)
    assert response.rmssd_after_ms == pytest.approx(after, rel=1e-9)
    # a sine of RR amplitude a sampled every Δ s has RMSSD √2·a·sin(πfΔ), plus √2·σ of white noise
    delta_t = 60 / REST_HR_BPM
    for swing, got in ((3.0, before), (8.0, after)):
        a = 60000 * swing / 2 / REST_HR_BPM**2
        sigma = 60000 * 0.3 / REST_HR_BPM**2
        expected = math.sqrt(2 * (a * math.sin(math.pi * 14 / 60 * delta_t)) ** 2 + 2 * sigma**2)
        assert got == pytest.approx(expected, rel=0.1)  # measured 20.0 vs 19.8 and 50.7 vs 50.7 ms
    assert response.delta_ln_rmssd == pytest.approx(math.log(after / before), rel=1e-9)
    assert response.delta_ln_rmssd is not None and response.delta_ln_rmssd > 0.1
    assert response.changed == "higher"
    assert response.delta_hr_bpm == pytest.approx(0.0, abs=0.5)


def test_the_same_variability_before_and_after_is_no_change() -> None:
    t, rr = _beats(_paced(10.0, 6.0, 150.0, 300.0, _spontaneous(4.0)), 450.0)
    response = breathing_response(t, rr, 150.0, 300.0, 6.0)
    assert response.delta_ln_rmssd is not None and abs(response.delta_ln_rmssd) < 0.1
    assert response.changed == "no change"


def test_missing_windows_give_none() -> None:
    t, rr = _beats(_paced(10.0, 6.0, 30.0, 180.0, _spontaneous(3.0)), 200.0)
    response = breathing_response(t, rr, 30.0, 180.0, 6.0)  # 30 s before (25 %), 20 s after (17 %)
    assert response.rmssd_before_ms is None and response.hr_before_bpm is None
    assert response.rmssd_after_ms is None and response.hr_after_bpm is None
    assert response.delta_ln_rmssd is None and response.delta_hr_bpm is None and response.changed is None
    assert response.rmssd_during_ms is not None and response.rate_matched is True
    short = breathing_response(t, rr, 30.0, 80.0, 6.0)  # 20 s after settling: no spectrum
    assert short.observed_rate_per_min is None and short.rate_matched is None
    assert short.power_at_pace_ms2 is None and short.coherence_ratio is None
    assert short.cycles == 2


def test_demo_strap_session_with_noise_and_mayer_waves_matches_the_pacer() -> None:
    for rate in (6.0, 4.5):
        beats = synthesize(
            [Phase(180, 70, 40), Phase(180, 68, 150, paced=True, breathing_per_min=rate), Phase(180, 69, 60)],
            seed=1,
        )
        response = breathing_response(beats.t_s, beats.rr_ms, 180.0, 360.0, rate)
        assert response.observed_rate_per_min == pytest.approx(rate, abs=0.3)  # measured 6.00 and 4.50
        assert response.rate_matched is True
        # 150 ms peak-to-peak RR at ~68 bpm is ~11.6 bpm of HR, Mayer waves and wander move it a little
        assert response.rsa_bpm is not None and 8.0 < response.rsa_bpm < 15.0  # measured 11.6 and 11.6
        assert response.delta_ln_rmssd is not None and response.delta_ln_rmssd > 0.1  # rsa 40 → 60 ms


RATES = (6.5, 6.0, 5.5, 5.0, 4.5)


def _protocol(
    swings_bpm: dict[float, float], breathed: dict[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, list[PacedTrial]]:
    """60 s rest, then 2-min trials at RATES with 1 min of spontaneous breathing between them."""
    trials = [PacedTrial(rate, 60.0 + 180.0 * i, 180.0 + 180.0 * i) for i, rate in enumerate(RATES)]
    rest = _spontaneous(3.0)

    def hr(t: float) -> float:
        for trial in trials:
            if trial.started_s <= t < trial.ended_s:
                rate = (breathed or {}).get(trial.rate_per_min, trial.rate_per_min)
                return _paced(swings_bpm[trial.rate_per_min], rate, trial.started_s, trial.ended_s, rest)(t)
        return rest(t)

    t, rr = _beats(hr, 60.0 + 180.0 * len(RATES))
    return t, rr, trials


SWINGS = {6.5: 9.0, 6.0: 12.0, 5.5: 16.0, 5.0: 12.5, 4.5: 10.0}


def test_resonance_is_the_rate_with_the_largest_hr_swing() -> None:
    t, rr, trials = _protocol(SWINGS)
    result = resonance_assessment(t, rr, trials)
    assert result.best_rate_per_min == 5.5
    assert all(trial.valid and trial.followed for trial in result.trials)
    for trial in result.trials:
        assert trial.rsa_bpm == pytest.approx(SWINGS[trial.trial.rate_per_min], rel=0.1)
        assert trial.observed_rate_per_min == pytest.approx(trial.trial.rate_per_min, abs=0.3)
        assert trial.window_s == 120.0
    assert result.reason.startswith("5.5/min: HR swing 16.")
    assert "(largest)" in result.reason


def test_a_trial_not_followed_is_invalid_and_left_out() -> None:
    # the swing at 5.5 is the largest, but the person breathed at 12/min during that trial
    t, rr, trials = _protocol(SWINGS, breathed={5.5: 12.0})
    result = resonance_assessment(t, rr, trials)
    by_rate = {trial.trial.rate_per_min: trial for trial in result.trials}
    assert not by_rate[5.5].followed and not by_rate[5.5].valid
    assert by_rate[5.5].observed_rate_per_min == pytest.approx(12.0, abs=0.3)
    assert "not followed" in by_rate[5.5].note
    assert result.best_rate_per_min == 5.0  # the next largest swing
    assert "5.5/min not followed" in result.reason


def test_no_valid_trial_gives_no_resonance() -> None:
    t, rr, trials = _protocol(SWINGS, breathed=dict.fromkeys(RATES, 12.0))
    result = resonance_assessment(t, rr, trials)
    assert result.best_rate_per_min is None
    assert not any(trial.valid for trial in result.trials)
    assert result.reason.startswith("no valid trial")
    assert resonance_assessment(t, rr, []).best_rate_per_min is None


def test_a_short_trial_is_invalid() -> None:
    t, rr, trials = _protocol(SWINGS)
    short = PacedTrial(5.5, trials[2].started_s, trials[2].started_s + 60.0)
    result = resonance_assessment(t, rr, [trials[0], short])
    assert not result.trials[1].valid and "shorter than 90 s" in result.trials[1].note
    assert result.best_rate_per_min == 6.5


def _trial(rate: float, rsa: float, pace: float, lf: float) -> TrialResult:
    return TrialResult(
        trial=PacedTrial(rate, 0.0, 120.0),
        window_s=120.0,
        rsa_bpm=rsa,
        cycles=10,
        peak_hz=rate / 60,
        observed_rate_per_min=rate,
        followed=True,
        power_at_pace_ms2=pace,
        lf_peak_ms2_per_hz=lf,
        coherence_ratio=5.0,
        hr_phase_deg=0.0,
        valid=True,
        note="",
    )


def test_rank_sum_ties_go_to_the_rate_nearest_six() -> None:
    # rank sums: 5.0 → 1+3+2 = 6, 6.0 → 2+1+3 = 6, 6.5 → 3+2+1 = 6: a three-way tie
    trials = [
        _trial(5.0, 14.0, 1000.0, 20000.0),
        _trial(6.0, 13.0, 3000.0, 10000.0),
        _trial(6.5, 12.0, 2000.0, 30000.0),
    ]
    result = choose_resonance(trials)
    assert result.best_rate_per_min == 6.0
    assert "tie" in result.reason
    # without a tie the rank sum decides, even against the largest HR swing
    trials[2] = _trial(6.5, 12.0, 4000.0, 40000.0)  # 6.5 → 3+1+1 = 5
    assert choose_resonance(trials).best_rate_per_min == 6.5
    trials[0] = _trial(5.0, 14.0, 5000.0, 50000.0)  # 5.0 → 1+1+1 = 3
    assert choose_resonance(trials).best_rate_per_min == 5.0
