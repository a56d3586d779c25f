"""Spectral estimators on synthetic RR series with a known oscillation (analytic power A²/2)."""

from __future__ import annotations

import numpy as np
import pytest

from restbeat.signal import spectrum
from restbeat.signal.metrics import frequency_domain


def _rr_with_oscillations(components: list[tuple[float, float]], duration_s: float = 300.0) -> np.ndarray:
    """RR series generated on its own beat times: RR(t) = 1000 + Σ A·sin(2πft) over (A ms, f Hz)."""
    values, t = [], 0.0
    while t < duration_s:
        rr = 1000.0 + sum(amplitude * np.sin(2 * np.pi * freq * t) for amplitude, freq in components)
        t += rr / 1000.0
        values.append(rr)
    return np.array(values)


def _rr_with_oscillation(amplitude_ms: float, freq_hz: float, duration_s: float = 300.0) -> np.ndarray:
    return _rr_with_oscillations([(amplitude_ms, freq_hz)], duration_s)


@pytest.mark.parametrize("method", ["welch", "lomb"])
def test_hf_oscillation_lands_in_hf_with_its_power(method: str) -> None:
    rr = _rr_with_oscillation(50.0, 0.25)
    powers = frequency_domain(rr, method=method)  # type: ignore[arg-type]
    assert powers.hf_ms2 == pytest.approx(1250.0, rel=0.05)
    assert powers.lf_ms2 < 0.02 * powers.hf_ms2
    assert powers.hf_peak_hz == pytest.approx(0.25, abs=0.004)


@pytest.mark.parametrize("method", ["welch", "lomb"])
def test_lf_oscillation_lands_in_lf(method: str) -> None:
    rr = _rr_with_oscillation(100.0, 0.1)
    powers = frequency_domain(rr, method=method)  # type: ignore[arg-type]
    assert powers.lf_ms2 == pytest.approx(5000.0, rel=0.05)
    assert powers.lf_peak_hz == pytest.approx(0.1, abs=0.004)
    assert powers.lf_nu > 95


def test_lomb_psd_integrates_to_the_variance_of_a_band_limited_series() -> None:
    rr = _rr_with_oscillations([(40.0, 0.2), (40.0, 0.07)])
    times = np.cumsum(rr) / 1000
    psd = spectrum.lomb_psd(times, rr)
    assert np.trapezoid(psd.psd_ms2_per_hz, psd.freq_hz) == pytest.approx(np.var(rr), rel=0.05)


def test_auto_method_uses_lomb_for_gappy_or_short_series() -> None:
    rr = _rr_with_oscillation(50.0, 0.25, duration_s=600)
    assert frequency_domain(rr).method == "welch"
    segments = np.zeros(rr.size, dtype=int)
    segments[rr.size // 2 :] = 1
    assert frequency_domain(rr, segment_ids=segments).method == "lomb"
    assert frequency_domain(rr[:100]).method == "lomb"


def test_relative_and_normalised_powers_are_consistent() -> None:
    rr = _rr_with_oscillations([(50.0, 0.25), (30.0, 0.1)], duration_s=600)
    p = frequency_domain(rr, method="welch")
    assert p.vlf_pct + p.lf_pct + p.hf_pct == pytest.approx(100.0)
    assert p.lf_nu + p.hf_nu == pytest.approx(100.0)
    assert p.lf_hf_ratio == pytest.approx(p.lf_ms2 / p.hf_ms2)
