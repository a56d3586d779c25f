"""Delimited RR exports: Polar Sensor Logger, HRV Logger, restbeat's beat CSV and any CSV with an RR column.

Layouts (header line verbatim):

* Polar Sensor Logger ``*_RR.txt``: ``Phone timestamp;RR-interval [ms]``; ``;``-separated, phone local time
  ``YYYY-MM-DDTHH:MM:SS.mmm`` (no zone), RR in ms.  Several RR of one notification may share a stamp.
* HRV Logger (Altini) ``*_RRIntervals.csv``: ``timestamp, rr, since_start`` (Unix ms, ms, ms), or the older
  iOS ``date, rr, since start`` with ``YYYY-MM-DD HH:MM:SS +0000`` dates; blank lines are skipped.
* restbeat's export: ``session,context,time,t_s,rr_ms,segment,quality,kind`` (``time``: local, with its
  UTC offset): beats restored
  exactly, one recording per session.
* Any other CSV whose header names an RR column (``rr``, ``rr_ms``, ``ibi``, ``rr (s)``...), with an optional
  time column (``time_ns``, ``time_ms``, ``timestamp``...).

Beat times come from cumulative RR, re-anchored where the arrival stamps show a gap
(:func:`times_from_arrivals`).
"""

from __future__ import annotations

import datetime as dt
import math
from array import array
from pathlib import Path

import numpy as np

from restbeat.devices.formats.lines import check_count, numbered_lines
from restbeat.devices.formats.restbeat_csv import RESTBEAT_COLUMNS, read_restbeat_csv, write_beats_csv
from restbeat.devices.formats.rr_text import drop_too_long
from restbeat.devices.formats.values import MAX_SPAN_S, MAX_UTC_S, BadValueError
from restbeat.devices.recording import (
    RecordingError,
    RRRecording,
    SkippedLine,
    local_utc_offset_s,
    times_from_arrivals,
)

__all__ = [
    "RESTBEAT_COLUMNS",
    "read_restbeat_csv",
    "read_rr_csv",
    "rr_column",
    "split_header",
    "write_beats_csv",
]

#: RR column names (lower case) and the factor to ms.
RR_COLUMNS = {
    "rr-interval [ms]": 1.0,
    "rr_ms": 1.0,
    "rr (ms)": 1.0,
    "rr [ms]": 1.0,
    "rr": 1.0,
    "rri": 1.0,
    "ibi": 1.0,
    "ibi_ms": 1.0,
    "ibi (ms)": 1.0,
    "rr interval": 1.0,
    "rr_interval": 1.0,
    "interbeatinterval": 1.0,
    "rr_s": 1000.0,
    "rr (s)": 1000.0,
    "rr [s]": 1000.0,
}
TIME_COLUMNS = ("phone timestamp", "timestamp", "date", "time_ns", "time_ms", "time_s", "time", "datetime")
_MAX_REPORTED_JUNK = 20
_SECONDS_MEDIAN_LIMIT = 10.0  # RR values with a median below 10 are seconds, not ms
_TIME_RANGE = "a time from 1970 to 2100, or s from the start"
_EPOCH_2001_S = 1e9  # Unix times above this are clock times (after September 2001)


def split_header(line: str) -> tuple[str, list[str]]:
    """The delimiter and the stripped, lower-cased column names of a header line (quotes dropped:
    ``"RR","time"`` is ``rr, time``)."""
    delimiter = max((";", ",", "\t"), key=line.count)
    return delimiter, [_cell(name).lower() for name in line.split(delimiter)]


def rr_column(names: list[str]) -> str | None:
    """The RR column's name in a header, or None."""
    return next((name for name in RR_COLUMNS if name in names), None)


def _cell(text: str) -> str:
    return text.strip().strip('"').strip()


def parse_time(value: str, column: str) -> float:
    """A time cell as Unix s (naive local times are taken in this machine's zone); raises ValueError
    for a cell that is not a time and OverflowError for one no clock can hold."""
    text = _cell(value)
    if column == "time_ns":
        return float(text) / 1e9
    if column == "time_ms":
        return float(text) / 1e3
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isfinite(number):
        return number / 1e3 if number > 1e11 else number  # epoch ms (HRV Logger) or s
    if text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        raise OverflowError(text)
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f %z"):
        try:
            when = dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
        return when.timestamp()
    when = dt.datetime.fromisoformat(text)
    if not dt.datetime(1969, 12, 30) <= when.replace(tzinfo=None) <= dt.datetime(2100, 1, 2):
        raise OverflowError(text)
    return (when if when.tzinfo else when.astimezone()).timestamp()


def _arrival(source: Path, number: int, cell: str, column: str) -> float:
    try:
        arrival = parse_time(cell, column)
    except ValueError as error:
        raise RecordingError(
            f"{source}, line {number}: {_cell(cell)!r} in column {column!r} is not a time "
            "(ISO 8601, or Unix s, ms or ns)"
        ) from error
    except (OverflowError, OSError) as error:
        raise BadValueError(source, number, f"time in column {column!r}", _cell(cell), _TIME_RANGE) from error
    if not (math.isfinite(arrival) and -MAX_SPAN_S <= arrival <= MAX_UTC_S):
        raise BadValueError(source, number, f"time in column {column!r}", _cell(cell), _TIME_RANGE)
    return arrival


def read_rr_csv(path: str | Path) -> RRRecording:
    """A delimited file with a header naming an RR column (see the module docstring), read a line at a
    time.  A cell that is not an RR value (0 < RR <= 65.5 s) skips its line, reported; a time that is
    not one (or outside 1970-2100) is an error naming its line and value."""
    source = Path(path)
    lines = numbered_lines(source)
    header = next((line for _, line in lines), None)
    if header is None:
        raise RecordingError(f"{source}: empty file")
    delimiter, names = split_header(header)
    if tuple(names) == RESTBEAT_COLUMNS:
        raise RecordingError(f"{source}: a restbeat beat CSV; read it with read_restbeat_csv")
    column = rr_column(names)
    if column is None:
        raise RecordingError(f"{source}, line 1: no RR column in the header ({header[:80]!r})")
    rr_index = names.index(column)
    time_name = next((name for name in TIME_COLUMNS if name in names), None)
    time_index = names.index(time_name) if time_name else None
    values = array("d")
    arrivals = array("d")
    line_of = array("q")
    skipped: list[SkippedLine] = []
    skipped_count = 0
    for number, line in lines:
        if not line.strip():
            continue
        cells = line.split(delimiter)
        if len(cells) > 1 and rr_index < len(cells) and not _cell(cells[rr_index]):
            continue  # a row of another signal (e.g. ECG samples between beats): no beat here, not junk
        try:
            value = float(_cell(cells[rr_index])) * RR_COLUMNS[column]
        except (ValueError, IndexError):
            value = math.nan
        if math.isfinite(value) and value > 0:
            if time_index is not None and time_name:
                cell = cells[time_index] if time_index < len(cells) else ""
                arrivals.append(_arrival(source, number, cell, time_name))
            values.append(value)
            line_of.append(number)
            check_count(source, number, len(values))
            continue
        skipped_count += 1
        if len(skipped) < _MAX_REPORTED_JUNK:
            skipped.append(SkippedLine(number, line[:60]))
    rr = np.frombuffer(values, dtype=np.float64) if values else np.zeros(0)
    notes: tuple[str, ...] = ()
    if rr.size and RR_COLUMNS[column] == 1.0 and float(np.median(rr)) < _SECONDS_MEDIAN_LIMIT:
        rr = rr * 1000.0
        notes = (f"column {column!r} read as seconds (median below 10)",)
    keep, skipped, skipped_count = drop_too_long(rr, line_of, skipped, skipped_count)
    rr = np.array(rr[keep], dtype=np.float64)
    if not rr.size:
        raise RecordingError(f"{source}: no RR values in column {column!r}")
    fmt = _flavour(names, column)
    started_utc: float | None = None
    if time_index is not None:
        arrival_s = np.frombuffer(arrivals, dtype=np.float64)[keep]
        t_s, segments = times_from_arrivals(rr, arrival_s)
        t_s = t_s + float(rr[0]) / 1000.0
        if (
            float(arrival_s[0]) > _EPOCH_2001_S
        ):  # a clock time; smaller numbers count from the recording's start
            started_utc = float(arrival_s[0]) - float(rr[0]) / 1000.0
        else:
            notes += (f"column {time_name!r} counts from the start of the recording, not a clock time",)
        if float(np.max(np.abs(t_s))) > MAX_SPAN_S:
            raise BadValueError(source, None, f"span of column {time_name!r} (s)", float(t_s[-1]), "366 days")
    else:
        t_s = np.cumsum(rr) / 1000.0
        segments = np.zeros(rr.size, dtype=np.int64)
    return RRRecording(
        path=source,
        format=fmt,
        rr_ms=rr,
        t_s=t_s,
        segment_ids=segments,
        skipped_lines=tuple(skipped),
        skipped_line_count=skipped_count,
        started_utc=started_utc,
        tz_offset_s=local_utc_offset_s(started_utc) if started_utc is not None else None,
        notes=notes,
    )


def _flavour(names: list[str], column: str) -> str:
    if column == "rr-interval [ms]" and "phone timestamp" in names:
        return "polar-sensor-logger"
    if column == "rr" and ("since_start" in names or "since start" in names):
        return "hrv-logger"
    return "rr-csv"
