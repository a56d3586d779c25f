"""Run one peer's artifact detection and correction on RR series; executed inside that peer's environment.

Usage: python peer_runner.py {neurokit2|systole|hrv-analysis} IN.npz OUT.npz

IN holds arrays ``rr_0``, ``rr_1``, ... (ms).  OUT gets, per series, ``corrected_k`` (ms), ``flags_k`` (bool
per input interval: flagged as an artifact), ``times_k`` (s, the corrected beat times, where the peer gives
them: neurokit2) and ``seconds_k`` (wall time of the correction call, the way a
user calls the library, after one warm-up call on a short series).  Only numpy and the peer are imported.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import warnings
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

Result = tuple[NDArray[np.float64], NDArray[np.bool_], float, NDArray[np.float64] | None]


def _neurokit2(rr: NDArray[np.float64]) -> Result:
    import neurokit2 as nk

    peaks = np.concatenate([[0], np.cumsum(np.rint(rr).astype(np.int64))])
    start = time.perf_counter()
    _, corrected_peaks = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="Kubios", iterative=True)
    seconds = time.perf_counter() - start
    # detections of the first pass (with iterative=True the returned info is the last, usually empty, pass)
    info, _ = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="Kubios", iterative=False)
    flags = np.zeros(rr.size, dtype=bool)
    for key in ("ectopic", "missed", "extra", "longshort"):
        for peak_index in info[key]:
            if 1 <= peak_index <= rr.size:
                flags[peak_index - 1] = True  # peak k ends interval k-1
    times = np.asarray(corrected_peaks, dtype=np.float64)
    return np.diff(times), flags, seconds, times / 1000.0


def _systole(rr: NDArray[np.float64]) -> Result:
    from systole.correction import correct_rr
    from systole.detection import rr_artefacts

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        corrected, _ = correct_rr(rr)
    seconds = time.perf_counter() - start
    artefacts = rr_artefacts(rr)
    flags = np.zeros(rr.size, dtype=bool)
    for key in ("ectopic", "long", "short", "missed", "extra"):
        flags |= np.asarray(artefacts[key], dtype=bool)[: rr.size]
    return np.asarray(corrected, dtype=np.float64), flags, seconds, None


def _hrv_analysis(rr: NDArray[np.float64]) -> Result:
    from hrvanalysis import interpolate_nan_values, remove_ectopic_beats, remove_outliers

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        no_outliers = remove_outliers(rr.tolist(), verbose=False)
        no_ectopic = remove_ectopic_beats(interpolate_nan_values(no_outliers), method="malik", verbose=False)
        corrected = interpolate_nan_values(no_ectopic)
    seconds = time.perf_counter() - start
    flags = np.isnan(np.asarray(no_outliers, dtype=float)) | np.isnan(np.asarray(no_ectopic, dtype=float))
    values = np.asarray(corrected, dtype=np.float64)
    return values[np.isfinite(values)], flags, seconds, None


def _restbeat_before(rr: NDArray[np.float64]) -> Result:
    """The previous restbeat release's correct_rr (its source on PYTHONPATH), for before/after tables."""
    from restbeat.signal.artifacts import NORMAL, correct_rr  # type: ignore[attr-defined,unused-ignore]

    start = time.perf_counter()
    corrected = correct_rr(rr)
    seconds = time.perf_counter() - start
    ends = np.asarray(corrected.t_s, dtype=np.float64)
    values = np.asarray(corrected.rr_ms, dtype=np.float64)
    times = np.unique(np.round(np.concatenate([ends - values / 1000.0, ends]), 4))
    return values, np.asarray(corrected.input_class != NORMAL), seconds, times


RUNNERS = {
    "neurokit2": _neurokit2,
    "systole": _systole,
    "hrv-analysis": _hrv_analysis,
    "restbeat (before)": _restbeat_before,
}


def main() -> None:
    method, source, target = sys.argv[1:4]
    runner = RUNNERS[method]
    warnings.simplefilter("ignore")
    data = np.load(source)
    series = [data[f"rr_{k}"] for k in range(len(data.files))]
    runner(series[0][:600].astype(np.float64))  # warm-up (numba compilation, imports)
    out: dict[str, NDArray[np.generic]] = {}
    for k, rr in enumerate(series):
        corrected, flags, seconds, times = runner(rr.astype(np.float64))
        out[f"corrected_{k}"] = corrected
        if times is not None:
            out[f"times_{k}"] = times
        out[f"flags_{k}"] = flags
        out[f"seconds_{k}"] = np.array(seconds)
    np.savez(target, **cast("dict[str, Any]", out))


if __name__ == "__main__":
    main()
