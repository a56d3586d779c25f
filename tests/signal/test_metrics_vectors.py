"""Time-domain and nonlinear metrics on hand-made series whose answers are known analytically."""

from __future__ import annotations

import math

import numpy as np
import pytest

from restbeat.signal.dfa import dfa_alpha, fluctuation
from restbeat.signal.metrics import hrv_metrics, poincare, successive_differences, time_domain


def test_alternating_series() -> None:
    nn = np.tile([800.0, 850.0], 150)
    td = time_domain(nn)
    assert td.rmssd_ms == pytest.approx(50.0)
    assert td.sdnn_ms == pytest.approx(25.0418, abs=1e-4)
    assert td.nn50 == 0  # 50 is not > 50
    assert td.pnn20_pct == pytest.approx(100.0)
    assert td.mean_hr_bpm == pytest.approx(60000 / 825)
    assert td.ln_rmssd == pytest.approx(math.log(50.0))


def test_pnn50_counts_differences_strictly_above_50() -> None:
    td = time_domain([1000.0, 1051.0, 1000.0, 1050.0])
    assert td.nn50 == 2
    assert td.pnn50_pct == pytest.approx(100 * 2 / 3)


def test_no_difference_is_taken_across_a_segment_break() -> None:
    nn = np.array([800.0, 800.0, 1200.0, 1200.0])
    segments = np.array([0, 0, 1, 1])
    assert successive_differences(nn, segments).tolist() == [0.0, 0.0]
    td = time_domain(nn, segments)
    assert td.rmssd_ms == 0.0
    assert td.n_differences == 2
    sd1, _ = poincare(nn, segments)
    assert sd1 == 0.0


def test_segment_ids_must_match_the_series() -> None:
    with pytest.raises(ValueError, match="segment_ids"):
        time_domain([800.0, 810.0, 820.0], [0, 0])


def test_too_short_series_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        time_domain([800.0])


def test_poincare_of_a_sinusoid() -> None:
    beats = np.arange(2000)
    nn = 1000 + 50 * np.sin(2 * np.pi * beats / 10)
    sd1, sd2 = poincare(nn)
    # SD1² + SD2² = 2·SDNN² for any series (up to end effects)
    assert sd1**2 + sd2**2 == pytest.approx(2 * np.var(nn, ddof=1), rel=1e-3)


def _white_noise_alpha(scales: tuple[int, int]) -> float:
    """Exact DFA-1 expectation for white noise, F²(n) = σ²(n² - 4) / (15 n): above 0.5 at small n."""
    sizes = np.arange(scales[0], scales[1] + 1)
    return float(np.polyfit(np.log10(sizes), 0.5 * np.log10((sizes**2 - 4) / (15 * sizes)), 1)[0])


def test_fluctuation_of_white_noise_follows_theory() -> None:
    rng = np.random.default_rng(7)
    profile = np.cumsum(rng.standard_normal(200_000))
    for box in (4, 8, 16, 64):
        assert fluctuation(profile, box) ** 2 == pytest.approx((box**2 - 4) / (15 * box), rel=0.02)


def test_dfa_of_white_noise_and_brown_noise() -> None:
    rng = np.random.default_rng(7)
    white = 800 + 30 * rng.standard_normal(50_000)
    brown = 800 + np.cumsum(rng.standard_normal(50_000))
    assert dfa_alpha(white, (4, 16)) == pytest.approx(_white_noise_alpha((4, 16)), abs=0.02)  # 0.583
    assert dfa_alpha(white, (16, 64)) == pytest.approx(_white_noise_alpha((16, 64)), abs=0.03)  # 0.504
    assert dfa_alpha(brown, (16, 64)) == pytest.approx(1.5, abs=0.08)


def test_dfa_needs_two_boxes_of_the_largest_scale() -> None:
    assert math.isnan(dfa_alpha(np.full(100, 800.0), (16, 64)))


def test_short_recordings_have_no_frequency_domain() -> None:
    nn = np.full(40, 1000.0) + np.arange(40) % 3
    assert hrv_metrics(nn).frequency is None
