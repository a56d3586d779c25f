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

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from restbeat.devices.recording import (
    RecordingError,
    RRRecording,
    SkippedLine,
    local_utc_offset_s,
    read_text,
    times_from_arrivals,
)

RESTBEAT_COLUMNS = ("session", "context", "time", "t_s", "rr_ms", "segment", "quality", "kind")
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
_EPOCH_2001_S = 1e9  # Unix times above this are clock times (after September 2001)


def split_header(line: str) -> tuple[str, list[str]]:
    """The delimiter and the stripped, lower-cased column names of a header line."""
    delimiter = max((";", ",", "\t"), key=line.count)
    return delimiter, [name.strip().lower() for name in line.split(delimiter)]


def rr_column(names: list[str]) -> str | None:
    """The RR column's name in a header, or None."""
    return next((name for name in RR_COLUMNS if name in names), None)


def parse_time(value: str, column: str) -> float:
    """A time cell as Unix s (naive local times are taken in this machine's zone)."""
    text = value.strip()
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
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f %z"):
        try:
            return dt.datetime.strptime(text, pattern).timestamp()
        except ValueError:
            continue
    when = dt.datetime.fromisoformat(text)
    return (when if when.tzinfo else when.astimezone()).timestamp()


def read_rr_csv(path: str | Path) -> RRRecording:
    """A delimited file with a header naming an RR column (see the module docstring)."""
    source = Path(path)
    text = read_text(source)
    lines = text.splitlines()
    if not lines:
        raise RecordingError(f"{source}: empty file")
    delimiter, names = split_header(lines[0])
    if tuple(names) == RESTBEAT_COLUMNS:
        raise RecordingError(f"{source}: a restbeat beat CSV; read it with read_restbeat_csv")
    column = rr_column(names)
    if column is None:
        raise RecordingError(f"{source}, line 1: no RR column in the header ({lines[0][:80]!r})")
    rr_index = names.index(column)
    time_name = next((name for name in TIME_COLUMNS if name in names), None)
    time_index = names.index(time_name) if time_name else None
    values: list[float] = []
    arrivals: list[float] = []
    skipped: list[SkippedLine] = []
    skipped_count = 0
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(delimiter)
        if len(cells) > 1 and rr_index < len(cells) and not cells[rr_index].strip():
            continue  # a row of another signal (e.g. ECG samples between beats): no beat here, not junk
        try:
            value = float(cells[rr_index]) * RR_COLUMNS[column]
        except (ValueError, IndexError):
            value = math.nan
        if math.isfinite(value) and value > 0:
            arrival = 0.0
            if time_index is not None and time_name:
                cell = cells[time_index] if time_index < len(cells) else ""
                try:
                    arrival = parse_time(cell, time_name)
                except ValueError as error:
                    raise RecordingError(
                        f"{source}, line {number}: {cell.strip()!r} in column {time_name!r} is not a time "
                        "(ISO 8601, or Unix s, ms or ns)"
                    ) from error
            values.append(value)
            arrivals.append(arrival)
            continue
        skipped_count += 1
        if len(skipped) < _MAX_REPORTED_JUNK:
            skipped.append(SkippedLine(number, line[:60]))
    if not values:
        raise RecordingError(f"{source}: no RR values in column {column!r}")
    rr = np.asarray(values, dtype=np.float64)
    notes: tuple[str, ...] = ()
    if RR_COLUMNS[column] == 1.0 and float(np.median(rr)) < _SECONDS_MEDIAN_LIMIT:
        rr = rr * 1000.0
        notes = (f"column {column!r} read as seconds (median below 10)",)
    fmt = _flavour(names, column)
    started_utc: float | None = None
    if time_index is not None:
        arrival_s = np.asarray(arrivals, dtype=np.float64)
        t_s, segments = times_from_arrivals(rr, arrival_s)
        t_s = t_s + float(rr[0]) / 1000.0
        if (
            float(arrival_s[0]) > _EPOCH_2001_S
        ):  # a clock time; smaller numbers count from the recording's start
            started_utc = float(arrival_s[0]) - float(rr[0]) / 1000.0
        else:
            notes += (f"column {time_name!r} counts from the start of the recording, not a clock time",)
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


def read_restbeat_csv(source: Path, text: str) -> list[RRRecording]:
    """restbeat's own beat CSV, one recording per session in it, beats exactly as exported."""
    rows = csv.reader(io.StringIO(text))
    next(rows)
    parts: dict[str, dict[str, list[Any]]] = {}
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        try:
            part = parts.setdefault(row[0], {"meta": [row[1], row[2], float(row[3])], "beats": []})
            beat = (float(row[3]), float(row[4]), int(row[5]), int(row[6]), row[7])
        except (ValueError, IndexError) as error:
            raise RecordingError(f"{source}, line {number}: not a restbeat beat row ({error})") from error
        if not (math.isfinite(beat[0]) and math.isfinite(beat[1]) and beat[1] > 0):
            raise RecordingError(
                f"{source}, line {number}: not a restbeat beat row (time or RR not a number > 0)"
            )
        part["beats"].append(beat)
    if not parts:
        raise RecordingError(f"{source}: a restbeat CSV with no beats")
    recordings = []
    for session, part in parts.items():
        context, first_time, first_t_s = part["meta"]
        try:
            first = dt.datetime.fromisoformat(first_time)
        except ValueError as error:
            raise RecordingError(f"{source}: session {session} has a bad time {first_time!r}") from error
        offset = first.utcoffset()
        t, rr, segment, quality, kind = zip(*part["beats"], strict=True)
        recordings.append(
            RRRecording(
                path=source,
                format="restbeat-csv",
                rr_ms=np.asarray(rr, dtype=np.float64),
                t_s=np.asarray(t, dtype=np.float64),
                segment_ids=np.asarray(segment, dtype=np.int64),
                quality=np.asarray(quality, dtype=np.int64),
                kind=tuple(kind),
                started_utc=first.timestamp() - first_t_s,
                tz_offset_s=int(offset.total_seconds()) if offset is not None else None,
                context=context or None,
                notes=(f"session {session} of the export",),
            )
        )
    return recordings


def write_beats_csv(
    handle: IO[str],
    sessions: Iterable[
        tuple[
            int,
            str,
            float,
            int,
            NDArray[np.float64],
            NDArray[np.float64],
            NDArray[np.int64],
            NDArray[np.int64],
            tuple[str, ...],
        ]
    ],
) -> int:
    """restbeat's beat CSV: one row per beat of each (session id, context, start Unix s, UTC offset s, t_s,
    rr_ms, segment, quality, kind); returns the rows written.  ``t_s`` and ``rr_ms`` are written exactly
    (shortest round-tripping decimal); ``time`` is local to the microsecond, with its UTC offset."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(RESTBEAT_COLUMNS)
    count = 0
    for session_id, context, started_utc, tz_offset_s, t_s, rr_ms, segment, quality, kind in sessions:
        zone = dt.timezone(dt.timedelta(seconds=tz_offset_s))
        for index in range(rr_ms.size):
            when = dt.datetime.fromtimestamp(started_utc + float(t_s[index]), zone)
            writer.writerow(
                (
                    session_id,
                    context,
                    when.isoformat(timespec="microseconds"),
                    repr(float(t_s[index])),
                    repr(float(rr_ms[index])),
                    int(segment[index]),
                    int(quality[index]),
                    kind[index],
                )
            )
            count += 1
    return count
