"""restbeat's own beat CSV (``restbeat export --format csv``): writing it, and reading it back exactly.

Header ``session,context,time,t_s,rr_ms,segment,quality,kind``; one row per beat; ``time`` is local with
its UTC offset.  Reading checks every value against what the store holds (:mod:`.values`: quality and
kind from :mod:`restbeat.beats`, RR, times and segments in range) and names the line and value of the
first that is not; the file is read a line at a time, the beats kept in packed arrays.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from restbeat.beats import BeatQuality
from restbeat.devices.formats.lines import check_count, numbered_lines
from restbeat.devices.formats.values import (
    KINDS,
    STORE_RR_MAX_MS,
    STORE_SEGMENT_ABS_MAX,
    STORE_STARTED_MAX_UTC,
    STORE_T_ABS_MAX_S,
    BadValueError,
    check_counter,
    check_kind,
    check_quality,
    iso_time,
    utc_seconds,
)
from restbeat.devices.recording import RecordingError, RRRecording

RESTBEAT_COLUMNS = ("session", "context", "time", "t_s", "rr_ms", "segment", "quality", "kind")
_KIND_OBJECTS = {kind: kind for kind in KINDS}  # one string object per kind, shared by every beat


@dataclass
class _Part:
    """One session's beats as read so far (packed: 8 bytes per number)."""

    context: str
    started_utc: float
    tz_offset_s: int | None
    t_s: array[float] = field(default_factory=lambda: array("d"))
    rr_ms: array[float] = field(default_factory=lambda: array("d"))
    segment: array[int] = field(default_factory=lambda: array("q"))
    quality: array[int] = field(default_factory=lambda: array("q"))
    kind: list[str] = field(default_factory=list)


def _number(source: Path, number: int, text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise RecordingError(f"{source}, line {number}: {what} {text!r} is not a number") from error


def _start(source: Path, number: int, row: list[str], t_s: float) -> _Part:
    when = iso_time(source, number, row[2], "time")
    offset = when.utcoffset()
    started = (
        utc_seconds(source, number, when, "time", row[2], STORE_STARTED_MAX_UTC, -STORE_T_ABS_MAX_S) - t_s
    )
    if not 0 <= started <= STORE_STARTED_MAX_UTC:
        raise BadValueError(source, number, "start time (time - t_s)", started, "a time after 1970")
    return _Part(row[1], started, int(offset.total_seconds()) if offset is not None else None)


def read_restbeat_csv(source: Path) -> list[RRRecording]:
    """restbeat's own beat CSV, one recording per session in it, beats exactly as exported."""
    numbered = numbered_lines(source)
    current = [0]

    def texts() -> Iterable[str]:
        for number, line in numbered:
            current[0] = number
            yield line

    rows = csv.reader(texts())
    next(rows, None)
    parts: dict[str, _Part] = {}
    count = 0
    for row in rows:
        number = current[0]
        if not row:
            continue
        if len(row) != len(RESTBEAT_COLUMNS):
            raise RecordingError(
                f"{source}, line {number}: not a restbeat beat row ({len(row)} cells, expected 8)"
            )
        t_s = _number(source, number, row[3], "t_s")
        if not (math.isfinite(t_s) and abs(t_s) <= STORE_T_ABS_MAX_S):
            raise BadValueError(source, number, "t_s", row[3], f"at most {STORE_T_ABS_MAX_S:g} s")
        quality = check_quality(source, number, row[6])
        rr_ms = _number(source, number, row[4], "rr_ms")
        unused = quality in (BeatQuality.NO_CONTACT, BeatQuality.EXCLUDED)
        if not (math.isfinite(rr_ms) and (rr_ms > 0 or (unused and rr_ms == 0)) and rr_ms <= STORE_RR_MAX_MS):
            raise BadValueError(source, number, "RR interval", row[4], "0 < RR <= 600000 ms")
        segment = check_counter(
            source, number, row[5], "segment", -STORE_SEGMENT_ABS_MAX, STORE_SEGMENT_ABS_MAX
        )
        kind = _KIND_OBJECTS[check_kind(source, number, row[7])]
        part = parts.get(row[0])
        if part is None:
            part = parts[row[0]] = _start(source, number, row, t_s)
        part.t_s.append(t_s)
        part.rr_ms.append(rr_ms)
        part.segment.append(segment)
        part.quality.append(quality)
        part.kind.append(kind)
        count += 1
        check_count(source, number, count)
    if not parts:
        raise RecordingError(f"{source}: a restbeat CSV with no beats")
    return [
        RRRecording(
            path=source,
            format="restbeat-csv",
            rr_ms=np.array(part.rr_ms, dtype=np.float64),
            t_s=np.array(part.t_s, dtype=np.float64),
            segment_ids=np.array(part.segment, dtype=np.int64),
            quality=np.array(part.quality, dtype=np.int64),
            kind=tuple(part.kind),
            started_utc=part.started_utc,
            tz_offset_s=part.tz_offset_s,
            context=part.context or None,
            notes=(f"session {session} of the export",),
        )
        for session, part in parts.items()
    ]


__all__ = ["RESTBEAT_COLUMNS", "read_restbeat_csv", "write_beats_csv"]


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
