"""restbeat's batch metrics against Kubios HRV Premium 3.1.0 reports on the same NN series.

Data: series_1..5 from tests/data/kubios_pyhrv (pyHRV test data, BSD-3-Clause; NN from PhysioNet's MIT-BIH
Normal Sinus Rhythm Database, ODC-By 1.0; the reports cut before their RR table, which the parser never
reads).  Report settings: no detrending, no artifact correction, 4 Hz interpolation, Welch 300 s / 50 %, DFA
4-16 and 17-64 beats.
"""

from __future__ import annotations

import numpy as np
import pytest

from restbeat.signal import dfa
from restbeat.signal.metrics import HRVMetrics, hrv_metrics
from tests.support.kubios_report import read_kubios_report
from tests.support.shared_data import bundled

FOUR_DECIMALS = 0.5e-4
SERIES = {
    f"series_{i}": (
        bundled("kubios_pyhrv", f"series_{i}.npy"),
        bundled("kubios_pyhrv", f"series_{i}_kubios_report.txt"),
    )
    for i in range(1, 6)
}


@pytest.fixture(scope="module", params=sorted(SERIES))
def case(request: pytest.FixtureRequest) -> tuple[np.ndarray, dict[str, float]]:
    nn_path, report_path = SERIES[request.param]
    return np.load(nn_path).astype(float), read_kubios_report(report_path)


@pytest.fixture(scope="module")
def kubios(case: tuple[np.ndarray, dict[str, float]]) -> dict[str, float]:
    return case[1]


@pytest.fixture(scope="module")
def ours(case: tuple[np.ndarray, dict[str, float]]) -> HRVMetrics:
    return hrv_metrics(case[0], spectrum_method="welch")


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Mean RR  (ms)", "mean_nn_ms"),
        ("STD RR (ms)", "sdnn_ms"),
        ("Mean HR (beats/min)", "mean_hr_bpm"),
        ("Min HR (beats/min)", "min_hr_bpm"),
        ("Max HR (beats/min)", "max_hr_bpm"),
        ("RMSSD (ms)", "rmssd_ms"),
        ("NNxx (beats)", "nn50"),
        ("pNNxx (%)", "pnn50_pct"),
    ],
)
def test_time_domain_equals_kubios_to_four_decimals(
    kubios: dict[str, float], ours: HRVMetrics, label: str, field: str
) -> None:
    assert abs(getattr(ours.time, field) - kubios[label]) <= FOUR_DECIMALS


@pytest.mark.parametrize(
    ("label", "field"),
    [("SD1 (ms)", "sd1_ms"), ("SD2 (ms)", "sd2_ms"), ("SD2/SD1 ratio", "sd2_sd1_ratio")],
)
def test_poincare_equals_kubios_to_four_decimals(
    kubios: dict[str, float], ours: HRVMetrics, label: str, field: str
) -> None:
    assert abs(getattr(ours.nonlinear, field) - kubios[label]) <= FOUR_DECIMALS


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("FFT VLF (ms^2)", "vlf_ms2"),
        ("FFT LF (ms^2)", "lf_ms2"),
        ("FFT HF (ms^2)", "hf_ms2"),
        ("FFT Total power (ms^2)", "total_ms2"),
        ("FFT VLF (%)", "vlf_pct"),
        ("FFT LF (%)", "lf_pct"),
        ("FFT HF (%)", "hf_pct"),
        ("FFT LF (n.u.)", "lf_nu"),
        ("FFT HF (n.u.)", "hf_nu"),
        ("FFT LF/HF ratio", "lf_hf_ratio"),
    ],
)
def test_fft_band_powers_within_five_percent(
    kubios: dict[str, float], ours: HRVMetrics, label: str, field: str
) -> None:
    assert ours.frequency is not None
    assert getattr(ours.frequency, field) == pytest.approx(kubios[label], rel=0.05)


def test_fft_band_powers_are_in_fact_within_a_quarter_of_a_percent(
    kubios: dict[str, float], ours: HRVMetrics
) -> None:
    """The pinned method (global mean removal, Hann, closed-band trapezoid) is much closer than 5 %."""
    assert ours.frequency is not None
    for label, field in [
        ("FFT VLF (ms^2)", "vlf_ms2"),
        ("FFT LF (ms^2)", "lf_ms2"),
        ("FFT HF (ms^2)", "hf_ms2"),
    ]:
        assert getattr(ours.frequency, field) == pytest.approx(kubios[label], rel=0.0025)


@pytest.mark.parametrize(
    ("label", "field"),
    [("FFT VLF (log)", "vlf_log"), ("FFT LF (log)", "lf_log"), ("FFT HF (log)", "hf_log")],
)
def test_log_powers_are_natural_logs(
    kubios: dict[str, float], ours: HRVMetrics, label: str, field: str
) -> None:
    assert ours.frequency is not None
    assert getattr(ours.frequency, field) == pytest.approx(kubios[label], abs=0.01)


@pytest.mark.parametrize(
    ("label", "field"),
    [("FFT VLF (Hz)", "vlf_peak_hz"), ("FFT LF (Hz)", "lf_peak_hz"), ("FFT HF (Hz)", "hf_peak_hz")],
)
def test_peak_frequencies_equal_kubios(
    kubios: dict[str, float], ours: HRVMetrics, label: str, field: str
) -> None:
    assert ours.frequency is not None
    assert getattr(ours.frequency, field) == pytest.approx(kubios[label], abs=1e-6)


def test_dfa_within_003(kubios: dict[str, float], ours: HRVMetrics) -> None:
    """Default α2 scales are Peng's 16-64 beats; Kubios uses 17-64."""
    assert abs(ours.nonlinear.dfa_alpha1 - kubios["alpha 1"]) <= 0.03
    assert abs(ours.nonlinear.dfa_alpha2 - kubios["alpha 2"]) <= 0.03


def test_dfa_with_kubios_scales_equals_kubios_to_four_decimals(
    case: tuple[np.ndarray, dict[str, float]],
) -> None:
    nn, kubios = case
    assert abs(dfa.dfa_alpha(nn, dfa.ALPHA1_SCALES) - kubios["alpha 1"]) <= FOUR_DECIMALS
    assert abs(dfa.dfa_alpha(nn, dfa.KUBIOS_ALPHA2_SCALES) - kubios["alpha 2"]) <= FOUR_DECIMALS


def test_std_hr_is_the_standard_deviation_of_beat_by_beat_hr(
    case: tuple[np.ndarray, dict[str, float]], ours: HRVMetrics
) -> None:
    """Kubios 3.1 prints about a quarter of this (a documented difference, see docs/metrics.md)."""
    nn, kubios = case
    assert ours.time.std_hr_bpm == pytest.approx(np.std(60000 / nn, ddof=1), rel=1e-12)
    assert 3.5 < ours.time.std_hr_bpm / kubios["STD HR (beats/min)"] < 4.7
