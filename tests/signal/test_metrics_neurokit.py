"""Cross-check against neurokit2 on the same NN series, where the definitions agree.

neurokit2 divides NN50 by the number of intervals (differences + 1); restbeat and Kubios divide by the
number of differences, so pNN50 is compared after converting the denominator.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from restbeat.devices.files import read_wfdb_annotations
from restbeat.signal.metrics import nonlinear, time_domain
from tests.support.shared_data import bundled


def _series() -> list[tuple[str, np.ndarray]]:
    kubios_1h = np.load(bundled("kubios_pyhrv", "series_1.npy")).astype(float)
    short = np.load(bundled("kubios_pyhrv", "SampleNNISeriesShort.npy")).astype(float)
    # longest contiguous N-to-N stretch of the first hour of nsr001 (PhysioNet nsr2db, ODC-By 1.0)
    record = read_wfdb_annotations(bundled("physionet_nsr2db", "nsr001.ecg"))
    first_hour = record.t_s < 3600
    ids, counts = np.unique(record.segment_ids[first_hour], return_counts=True)
    longest = record.rr_ms[record.segment_ids == ids[np.argmax(counts)]]
    return [("kubios 1 h", kubios_1h), ("kubios 5 min", short), ("nsr001 stretch", longest)]


@pytest.fixture(scope="module", params=_series(), ids=lambda item: item[0])
def series(request: pytest.FixtureRequest) -> np.ndarray:
    name, nn = request.param
    assert nn.size > 300, name
    return nn  # type: ignore[no-any-return]


#: peak positions in 1/16-ms samples: integer for whole-ms series and for 128-Hz annotations (7.8125 ms)
PEAK_RATE_HZ = 16_000


def _peaks(nn: np.ndarray) -> np.ndarray:
    samples = nn * (PEAK_RATE_HZ / 1000)
    assert np.allclose(samples, np.rint(samples)), "series must be whole samples at 16 kHz"
    return np.concatenate([[0], np.cumsum(np.rint(samples).astype(np.int64))])


def _neurokit(nn: np.ndarray) -> dict[str, float]:
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        time = nk.hrv_time(_peaks(nn), sampling_rate=PEAK_RATE_HZ)
    return {key: float(time[f"HRV_{key}"].iloc[0]) for key in ("RMSSD", "SDNN", "pNN50", "SDSD")}


def test_rmssd_sdnn_sdsd_agree_with_neurokit2(series: np.ndarray) -> None:
    ours = time_domain(series)
    theirs = _neurokit(series)
    assert ours.rmssd_ms == pytest.approx(theirs["RMSSD"], rel=1e-9)
    assert ours.sdnn_ms == pytest.approx(theirs["SDNN"], rel=1e-9)
    assert ours.sdsd_ms == pytest.approx(theirs["SDSD"], rel=1e-9)


def test_pnn50_agrees_after_the_denominator_is_converted(series: np.ndarray) -> None:
    ours = time_domain(series)
    theirs = _neurokit(series)["pNN50"]
    assert ours.pnn50_pct * ours.n_differences / (ours.n_differences + 1) == pytest.approx(theirs, rel=1e-9)


def test_poincare_sd1_sd2_agree_with_neurokit2(series: np.ndarray) -> None:
    import neurokit2  # noqa: F401  (loads the private modules below)

    utils = sys.modules["neurokit2.hrv.hrv_utils"]
    poincare = sys.modules["neurokit2.hrv.hrv_nonlinear"]._hrv_nonlinear_poincare
    rri, _, _ = utils._hrv_format_input(_peaks(series), sampling_rate=PEAK_RATE_HZ)
    theirs = poincare(rri, out={})
    ours = nonlinear(series)
    assert ours.sd1_ms == pytest.approx(theirs["SD1"], rel=1e-9)
    assert ours.sd2_ms == pytest.approx(theirs["SD2"], rel=1e-9)
