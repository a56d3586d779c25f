"""Readers of RR recordings from files: plain RR text and WFDB beat annotations.

Every reader returns an :class:`RRRecording`: the intervals (ms), the time (s) of the beat that ends each
interval, and a segment id per interval that changes wherever the intervals are not contiguous (a beat
that was excluded, such as an ectopic beat in an N-to-N series).  Bad input raises
:class:`RecordingError` with a one-line message naming the file and, where it applies, the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

#: WFDB beat annotation codes (non-beat codes such as ~ | + are annotations, not beats).
WFDB_BEAT_SYMBOLS = frozenset("NLRBAaJSVFejnE/fQ")
WFDB_ANNOTATORS = ("atr", "ecg", "qrs", "ann")
_SECONDS_MEDIAN_LIMIT = 10.0  # a file whose median value is below 10 holds seconds, not ms
_MAX_REPORTED_JUNK = 20


class RecordingError(Exception):
    """A recording could not be read; the message names the file and what was wrong."""


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line of a text recording that held no usable RR value."""

    line_number: int
    text: str


@dataclass(frozen=True)
class RRRecording:
    """RR intervals from one file.

    ``rr_ms[i]`` ends at ``t_s[i]`` (s from the start of the recording); consecutive intervals with equal
    ``segment_ids`` are contiguous.  ``excluded_intervals`` counts intervals the reader left out (e.g.
    intervals touching a non-N beat); ``skipped_lines`` lists text lines that were not numbers.
    """

    path: Path
    format: str
    rr_ms: NDArray[np.float64]
    t_s: NDArray[np.float64]
    segment_ids: NDArray[np.int64]
    skipped_lines: tuple[SkippedLine, ...] = ()
    skipped_line_count: int = 0
    excluded_intervals: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def duration_s(self) -> float:
        """Time from the first beat to the last (s)."""
        if self.rr_ms.size == 0:
            return 0.0
        return float(self.t_s[-1] - self.t_s[0] + self.rr_ms[0] / 1000.0)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise RecordingError(f"{path}: no such file")
    if path.is_dir():
        raise RecordingError(f"{path}: is a directory, expected a recording file")


def read_rr_text(path: str | Path) -> RRRecording:
    """Plain text, one RR interval per line in ms (or s, detected by a median below 10).

    Blank lines and ``#`` comments are ignored; any other line that is not a positive finite number is
    skipped and reported with its line number.  CRLF line endings are accepted.
    """
    source = Path(path)
    _check_readable(source)
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise RecordingError(f"{source}: cannot read ({error.strerror or error})") from error
    values: list[float] = []
    skipped: list[SkippedLine] = []
    skipped_count = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            value = float(line)
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value > 0:
            values.append(value)
            continue
        skipped_count += 1
        if len(skipped) < _MAX_REPORTED_JUNK:
            skipped.append(SkippedLine(number, line[:60]))
    if not values:
        raise RecordingError(f"{source}: no RR values found (expected one number per line)")
    rr = np.asarray(values, dtype=np.float64)
    notes: tuple[str, ...] = ()
    if float(np.median(rr)) < _SECONDS_MEDIAN_LIMIT:
        rr = rr * 1000.0
        notes = ("values read as seconds (median below 10)",)
    return RRRecording(
        path=source,
        format="rr-text",
        rr_ms=rr,
        t_s=np.cumsum(rr) / 1000.0,
        segment_ids=np.zeros(rr.size, dtype=np.int64),
        skipped_lines=tuple(skipped),
        skipped_line_count=skipped_count,
        notes=notes,
    )


def _wfdb_record_and_annotator(path: Path) -> tuple[Path, str]:
    """Split ``rec.ext`` into record base and annotator; for ``rec`` or ``rec.hea`` find the annotator."""
    if path.suffix and path.suffix != ".hea" and path.exists():
        return path.with_suffix(""), path.suffix[1:]
    base = path.with_suffix("") if path.suffix == ".hea" else path
    for annotator in WFDB_ANNOTATORS:
        if base.with_name(f"{base.name}.{annotator}").exists():
            return base, annotator
    raise RecordingError(f"{path}: no WFDB annotation file ({', '.join(WFDB_ANNOTATORS)}) next to it")


def read_wfdb_annotations(path: str | Path) -> RRRecording:
    """NN intervals from WFDB beat annotations: the intervals between two consecutive N beats.

    An interval is kept only when both beats are labelled N and no other annotation (a non-N beat, a
    signal-quality change ``~`` or an artifact mark ``|``) lies between them; a dropped interval starts a
    new segment, so no successive difference is taken across it.
    """
    import wfdb

    source = Path(path)
    record, annotator = _wfdb_record_and_annotator(source)
    annotation_file = record.with_name(f"{record.name}.{annotator}")
    _check_readable(annotation_file)
    try:
        annotation = wfdb.rdann(str(record), annotator)
    except Exception as error:  # wfdb raises bare ValueError/IndexError/etc. on corrupt files
        raise RecordingError(f"{annotation_file}: not a readable WFDB annotation file ({error})") from error
    samples = np.asarray(annotation.sample, dtype=np.int64)
    symbols = np.asarray(annotation.symbol)
    fs = float(annotation.fs) if annotation.fs else 0.0
    if fs <= 0:
        raise RecordingError(f"{annotation_file}: the annotation carries no sampling frequency")
    is_normal = symbols == "N"
    # interval k runs from annotation k to annotation k+1 and is NN when both are N (nothing between)
    nn_mask = is_normal[:-1] & is_normal[1:]
    n_beats = int(np.isin(symbols, list(WFDB_BEAT_SYMBOLS)).sum())
    start = np.flatnonzero(nn_mask)
    if start.size < 2:
        raise RecordingError(f"{annotation_file}: fewer than two N-to-N intervals")
    rr_ms = (samples[start + 1] - samples[start]) * (1000.0 / fs)
    t_s = samples[start + 1] / fs
    new_segment = np.ones(start.size, dtype=bool)
    new_segment[1:] = start[1:] != start[:-1] + 1
    segment_ids = np.cumsum(new_segment).astype(np.int64) - 1
    return RRRecording(
        path=source,
        format=f"wfdb-{annotator}",
        rr_ms=np.asarray(rr_ms, dtype=np.float64),
        t_s=np.asarray(t_s, dtype=np.float64),
        segment_ids=segment_ids,
        excluded_intervals=max(n_beats - 1 - int(start.size), 0),
    )


def looks_like_wfdb(path: Path) -> bool:
    """True for a WFDB header, or a record name or annotation file with a ``.hea`` header beside it."""
    if path.suffix == ".hea":
        return True
    base = path.with_suffix("") if path.suffix else path
    return base.with_name(f"{base.name}.hea").exists()


def read_recording(path: str | Path) -> RRRecording:
    """Read any supported recording, choosing the reader by what the file is."""
    source = Path(path)
    if looks_like_wfdb(source):
        return read_wfdb_annotations(source)
    return read_rr_text(source)
