"""Batch and streaming HRV speed: restbeat against neurokit2, in one run on this machine.

Run:  python -m benchmarks.metrics [--repeats N]

Data: PhysioNet nsr2db record nsr001 (24 h of N-to-N intervals; ODC-By 1.0, Goldberger et al. 2000) and a
5-min contiguous slice of it.  Absolute numbers are noisy on a shared machine; the ratios are the result.

* Batch: restbeat time domain + Welch (Kubios FFT) + Poincaré SD1/SD2 + DFA α1, against neurokit2
  ``hrv_time`` + ``hrv_frequency`` (+ ``hrv_nonlinear`` on the 5-min slice; on 24 h its entropy measures are
  O(N²) and do not finish in reasonable time, so neurokit2's Poincaré and DFA α1 functions are called
  directly instead).
* Streaming: restbeat's per-beat cost of all rolling metrics (RMSSD, lnRMSSD, SDNN, mean HR, pNN50 over
  60 s and 300 s) against re-calling neurokit2 ``hrv_time`` on the 60-s window at each beat.  The 10-s
  spectral refresh (Lomb–Scargle HF, LF/HF and breathing rate) is timed on its own, per refresh.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
import warnings

import numpy as np

from benchmarks._timing import format_seconds, markdown_table, median_seconds
from benchmarks.data import corpus_path
from restbeat.devices.files import read_wfdb_annotations
from restbeat.signal import dfa, spectrum
from restbeat.signal.metrics import poincare, time_domain
from restbeat.signal.stream import HRVStream, StreamConfig

PEAK_RATE_HZ = 128  # nsr2db annotation rate: RR are whole samples


def restbeat_batch(nn: np.ndarray) -> None:
    """The full batch set of the issue: time domain, Welch, SD1/SD2, DFA α1."""
    time_domain(nn)
    spectrum.band_powers(spectrum.welch_psd(nn))
    poincare(nn)
    dfa.dfa_alpha(nn, dfa.ALPHA1_SCALES)


def neurokit_batch(nn: np.ndarray, *, full_nonlinear: bool) -> None:
    import neurokit2 as nk

    peaks = np.concatenate([[0], np.cumsum(np.rint(nn * PEAK_RATE_HZ / 1000).astype(np.int64))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nk.hrv_time(peaks, sampling_rate=PEAK_RATE_HZ)
        nk.hrv_frequency(peaks, sampling_rate=PEAK_RATE_HZ)
        if full_nonlinear:
            nk.hrv_nonlinear(peaks, sampling_rate=PEAK_RATE_HZ)
        else:
            nonlinear = sys.modules["neurokit2.hrv.hrv_nonlinear"]
            nonlinear._hrv_nonlinear_poincare(nn, out={})
            nk.fractal_dfa(nn, scale=np.arange(4, 17))


def streaming_per_beat_restbeat(t_s: np.ndarray, rr: np.ndarray, seg: np.ndarray) -> list[float]:
    """Per-beat push cost (s) of all rolling metrics, the spectral timer switched off."""
    stream = HRVStream(StreamConfig(spectral_every_s=float("inf")))
    costs = []
    clock = time.perf_counter
    for t, value, segment in zip(t_s.tolist(), rr.tolist(), seg.tolist(), strict=True):
        start = clock()
        stream.push(t, value, segment=segment)
        costs.append(clock() - start)
    return costs


def streaming_per_beat_neurokit(t_s: np.ndarray, rr: np.ndarray, beats: int) -> list[float]:
    """Per-beat cost (s) of re-calling neurokit2 hrv_time on the last 60 s, for ``beats`` beats."""
    import neurokit2 as nk

    costs = []
    first = int(np.searchsorted(t_s, t_s[0] + 300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(first, first + beats):
            start = time.perf_counter()
            inside = slice(int(np.searchsorted(t_s, t_s[i] - 60, side="right")), i + 1)
            window = rr[inside]
            peaks = np.concatenate([[0], np.cumsum(np.rint(window * PEAK_RATE_HZ / 1000).astype(np.int64))])
            nk.hrv_time(peaks, sampling_rate=PEAK_RATE_HZ)
            costs.append(time.perf_counter() - start)
    return costs


def spectral_refresh_cost(t_s: np.ndarray, rr: np.ndarray, seg: np.ndarray, repeats: int) -> float:
    """Median cost (s) of one 10-s spectral refresh over a full 300-s window."""
    stream = HRVStream()
    tracker = stream._spectral
    assert tracker is not None  # the default config refreshes spectral values
    longest = np.bincount(seg).argmax()
    idx = np.flatnonzero(seg == longest)[:600]
    for i in idx:
        stream.push(float(t_s[i]), float(rr[i]), segment=int(longest))
    return median_seconds(lambda: tracker._compute(float(t_s[idx[-1]])), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median)")
    args = parser.parse_args()

    record = read_wfdb_annotations(corpus_path("physionet_nsr2db", "nsr001.ecg"))
    nn_day = record.rr_ms
    longest = np.bincount(record.segment_ids).argmax()
    stretch = record.rr_ms[record.segment_ids == longest]
    nn_5min = stretch[: int(np.searchsorted(np.cumsum(stretch), 300_000))]
    hours = record.duration_s / 3600
    print(f"nsr001: {nn_day.size} NN intervals ({hours:.1f} h); slice: {nn_5min.size} NN (5 min)")

    rows = []
    for label, nn, full in [("batch, 24 h", nn_day, False), ("batch, 5 min", nn_5min, True)]:
        ours = median_seconds(functools.partial(restbeat_batch, nn), args.repeats)
        theirs = median_seconds(functools.partial(neurokit_batch, nn, full_nonlinear=full), args.repeats)
        rows.append([label, format_seconds(ours), format_seconds(theirs), f"{theirs / ours:.0f}x"])

    ours_costs = statistics.median(
        statistics.median(streaming_per_beat_restbeat(record.t_s, record.rr_ms, record.segment_ids))
        for _ in range(max(1, args.repeats // 2))
    )
    theirs_costs = statistics.median(streaming_per_beat_neurokit(record.t_s, record.rr_ms, 300))
    rows.append(
        [
            "streaming, per beat (median)",
            format_seconds(ours_costs),
            format_seconds(theirs_costs),
            f"{theirs_costs / ours_costs:.0f}x",
        ]
    )
    refresh = spectral_refresh_cost(record.t_s, record.rr_ms, record.segment_ids, args.repeats)
    rows.append(["spectral refresh (every 10 s)", format_seconds(refresh), "-", "-"])
    print()
    print(markdown_table(["measurement", "restbeat", "neurokit2", "ratio"], rows))
    print()
    print("targets: batch 24 h <= 0.3 s; streaming <= 20 µs per beat (median)")


if __name__ == "__main__":
    main()
