"""Plain RR text (Elite HRV, PhysioNet RR files: one interval per line) and Kubios HRV's RR text.

Kubios HRV imports one column of RR values, or two columns: the time of each R wave (s, from the first
detection) and the RR value; values in s or ms.  restbeat writes the two-column form in seconds to the
0.1 microsecond, so a gap stays a gap (the time column jumps) and Kubios can read it.
"""

from __future__ import annotations

import math
import re
from array import array
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from restbeat.devices.formats.lines import check_count, numbered_lines
from restbeat.devices.formats.values import MAX_RR_MS, check_span
from restbeat.devices.recording import RecordingError, RRRecording, SkippedLine, contiguous_segments

_SECONDS_MEDIAN_LIMIT = 10.0  # a file whose median value is below 10 holds seconds, not ms
_MAX_REPORTED_JUNK = 20
_SEPARATOR = re.compile(r"[\s,;]+")


def _numbers(line: str) -> list[float] | None:
    cells = [cell.strip("\"'") for cell in _SEPARATOR.split(line.strip()) if cell]
    try:
        return [float(cell) for cell in cells]
    except ValueError:
        return None


def is_numeric_line(line: str) -> bool:
    """True when a line holds only numbers (separated by white space, commas or semicolons)."""
    return bool(_numbers(line))


def column_count(text: str) -> int:
    """How many numeric columns the first numeric line of a text holds (0 if none in its first lines)."""
    for line in text.splitlines()[:50]:
        values = _numbers(line)
        if values:
            return len(values)
    return 0


def _skip(skipped: list[SkippedLine], number: int, text: str) -> None:
    if len(skipped) < _MAX_REPORTED_JUNK:
        skipped.append(SkippedLine(number, text[:60]))


def drop_too_long(
    rr_ms: NDArray[np.float64], line_of: array[int], skipped: list[SkippedLine], skipped_count: int
) -> tuple[NDArray[np.bool_], list[SkippedLine], int]:
    """The intervals to keep (at most ``MAX_RR_MS``, checked once the unit is known), and the skipped
    lines and their count with the longer ones added (by line number, the first 20 listed)."""
    keep = rr_ms <= MAX_RR_MS
    if keep.all():
        return keep, skipped, skipped_count
    lines = np.frombuffer(line_of, dtype=np.int64)
    first = slice(0, _MAX_REPORTED_JUNK)
    shown = zip(lines[~keep][first].tolist(), rr_ms[~keep][first].tolist(), strict=True)
    listed = list(skipped)
    for number, value in shown:
        listed.append(SkippedLine(int(number), f"{value:g} ms (over {MAX_RR_MS:.0f} ms)"))
    listed.sort(key=lambda entry: entry.line_number)
    return keep, listed[:_MAX_REPORTED_JUNK], skipped_count + int((~keep).sum())


def read_rr_text(path: str | Path) -> RRRecording:
    """Plain text, one RR interval per line in ms (or s, detected by a median below 10); or Kubios's two
    columns (R-wave time, RR).  The first numeric line sets the column count.

    Blank lines and ``#`` comments are ignored; any other line that is not one positive finite number (or
    pair) at most 65.5 s is skipped and reported with its line number (``820 99999 5`` in a one-column file
    is such a line).  A Kubios time that is not finite or beyond 366 days is an error naming its line.
    CRLF line endings and UTF-16 are accepted; the text is read a line at a time.
    """
    source = Path(path)
    columns = 0
    rr_values = array("d")
    times = array("d")
    line_of = array("q")
    skipped: list[SkippedLine] = []
    skipped_count = 0
    for number, raw in numbered_lines(source):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        row = _numbers(line)
        if row is not None and columns == 0:
            columns = min(len(row), 2)
        if row is not None and len(row) == columns and math.isfinite(row[-1]) and row[-1] > 0:
            if columns == 2:
                times.append(check_span(source, number, row[0], "R-wave time (s)"))
            rr_values.append(row[-1])
            line_of.append(number)
            check_count(source, number, len(rr_values))
            continue
        skipped_count += 1
        _skip(skipped, number, line)
    rr = np.frombuffer(rr_values, dtype=np.float64) if rr_values else np.zeros(0)
    notes: tuple[str, ...] = ()
    if rr.size and float(np.median(rr)) < _SECONDS_MEDIAN_LIMIT:
        rr = rr * 1000.0
        notes = ("values read as seconds (median below 10)",)
    keep, skipped, skipped_count = drop_too_long(rr, line_of, skipped, skipped_count)
    rr = rr[keep]
    if not rr.size:
        raise RecordingError(f"{source}: no RR values found (expected one number per line)")
    rr = np.array(rr, dtype=np.float64)
    if columns == 2:
        time_s = np.frombuffer(times, dtype=np.float64)[keep]
        t_s = time_s - time_s[0] + rr[0] / 1000.0  # the first interval ends rr[0] after the origin
        return RRRecording(
            path=source,
            format="kubios-text",
            rr_ms=rr,
            t_s=t_s,
            segment_ids=contiguous_segments(rr, t_s),
            skipped_lines=tuple(skipped),
            skipped_line_count=skipped_count,
            notes=notes,
        )
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


def write_kubios_text(
    handle: IO[str], t_s: NDArray[np.float64], rr_ms: NDArray[np.float64], segment: NDArray[np.int64]
) -> int:
    """Kubios's two-column RR text: R-wave time (s from the first detection) and RR (s), to 0.1 us;
    returns the lines written.

    Within a segment the time column is the running sum of the RR column (a corrected interval keeps its
    beat's true time, so the two would otherwise disagree slightly); each segment starts at its first
    beat's true time, so a gap shows as a jump."""
    if rr_ms.size == 0:
        return 0
    times = np.cumsum(rr_ms) / 1000.0
    starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    for begin, end in zip(starts, np.r_[starts[1:], rr_ms.size], strict=True):
        times[begin:end] += float(t_s[begin]) - float(times[begin])
    origin = float(times[0]) - float(rr_ms[0]) / 1000.0
    for t, rr in zip(times, rr_ms, strict=True):
        handle.write(f"{float(t) - origin:.7f}\t{float(rr) / 1000.0:.7f}\n")
    return int(rr_ms.size)
