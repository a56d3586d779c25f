"""`restbeat analyze`: read one recording and compute its batch HRV metrics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from restbeat.devices.files import RRRecording, read_recording
from restbeat.signal.metrics import HRVMetrics, SpectrumMethod, hrv_metrics


@dataclass(frozen=True)
class Analysis:
    """A recording and the metrics computed from it."""

    recording: RRRecording
    metrics: HRVMetrics


def analyze_file(path: str | Path, spectrum_method: SpectrumMethod = "auto") -> Analysis:
    """Read ``path`` (any supported format) and compute time, frequency and nonlinear HRV."""
    recording = read_recording(path)
    metrics = hrv_metrics(recording.rr_ms, recording.t_s, recording.segment_ids, spectrum_method)
    return Analysis(recording=recording, metrics=metrics)
