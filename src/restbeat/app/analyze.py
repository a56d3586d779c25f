"""`restbeat analyze`: read one recording, correct its artifacts and compute its batch HRV metrics."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from restbeat.beats import BeatClass
from restbeat.devices.files import RecordingError, RRRecording, read_recording
from restbeat.devices.formats.spool import readable_file
from restbeat.signal.artifacts import correct_rr
from restbeat.signal.metrics import HRVMetrics, SpectrumMethod, hrv_metrics

_MIN_INTERVALS = 2


@dataclass(frozen=True)
class CorrectionSummary:
    """What artifact correction found: intervals per class (input intervals) and output intervals changed."""

    counts: dict[BeatClass, int]
    corrected_intervals: int
    analysed_intervals: int
    analysed_segments: int  # contiguous runs after excluded intervals were taken out

    @property
    def corrected_pct(self) -> float:
        """Share of the analysed intervals whose value correction changed (%)."""
        return 100.0 * self.corrected_intervals / self.analysed_intervals if self.analysed_intervals else 0.0


@dataclass(frozen=True)
class Analysis:
    """A recording, its artifact correction (None with ``--no-correct``) and the metrics computed from it."""

    recording: RRRecording
    correction: CorrectionSummary | None
    metrics: HRVMetrics


def analyze_file(
    path: str | Path,
    spectrum_method: SpectrumMethod = "auto",
    correct: bool = True,
    sampling_rate_hz: float | None = None,
) -> Analysis:
    """Read ``path`` (any supported format; ``sampling_rate_hz`` for an ECG CSV without a time column),
    correct artifacts unless told not to, and compute HRV."""
    with readable_file(Path(path)) as readable:  # a pipe (`restbeat analyze <(cat f)`) is read once
        recording = replace(read_recording(readable, sampling_rate_hz=sampling_rate_hz), path=Path(path))
    if not correct:
        _enough(recording, recording.rr_ms.size)
        metrics = hrv_metrics(recording.rr_ms, recording.t_s, recording.segment_ids, spectrum_method)
        return Analysis(recording=recording, correction=None, metrics=metrics)
    corrected = correct_rr(recording.rr_ms, recording.t_s, recording.segment_ids)
    summary = CorrectionSummary(
        counts=corrected.counts,
        corrected_intervals=corrected.n_corrected,
        analysed_intervals=int(corrected.rr_ms.size),
        analysed_segments=int(corrected.segment_ids.max()) + 1 if corrected.segment_ids.size else 0,
    )
    _enough(recording, corrected.rr_ms.size)
    metrics = hrv_metrics(corrected.rr_ms, corrected.t_s, corrected.segment_ids, spectrum_method)
    return Analysis(recording=recording, correction=summary, metrics=metrics)


def _enough(recording: RRRecording, usable: int) -> None:
    """HRV needs two usable intervals; fewer is the file's problem, said in one line."""
    if usable < _MIN_INTERVALS:
        raise RecordingError(
            f"{recording.path}: {usable} usable RR interval(s) of {recording.rr_ms.size}; "
            f"HRV needs at least {_MIN_INTERVALS}"
        )
