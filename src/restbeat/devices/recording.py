"""The RR recording every file reader returns, and the error they raise."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


class RecordingError(Exception):
    """A recording could not be read; the message names the file, the line where it applies, and what
    was wrong."""


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line of a text recording that held no usable RR value."""

    line_number: int
    text: str


@dataclass(frozen=True, slots=True)
class RawPacketRecord:
    """One notification from a raw recording: arrival (s from the start), connection number, bytes."""

    arrival_s: float
    connection: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One link event from a raw recording: time (s from the start), kind and its fields."""

    t_s: float
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class RRRecording:
    """RR intervals from one file.

    ``rr_ms[i]`` ends at ``t_s[i]`` (s from the start of the recording); consecutive intervals with equal
    ``segment_ids`` are contiguous.  ``excluded_intervals`` counts intervals the reader left out (e.g.
    intervals touching a non-N beat); ``skipped_lines`` lists text lines that were not numbers.

    Optional, when the file says so: ``started_utc`` (Unix s) and ``tz_offset_s``; per-beat strap flags
    (``contact``, ``first_after_connect``, ``follows_in_packet``) for artifact plausibility; ``quality`` and
    ``kind`` when the beats were already corrected (a restbeat export); the raw ``packets`` and ``events``
    of a raw strap recording; the session ``context`` and timed ``annotations`` (s, text) where the file
    carries them.
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
    started_utc: float | None = None
    tz_offset_s: int | None = None
    contact: NDArray[np.bool_] | None = None
    first_after_connect: NDArray[np.bool_] | None = None
    follows_in_packet: NDArray[np.bool_] | None = None
    quality: NDArray[np.int64] | None = None
    kind: tuple[str, ...] | None = None
    packets: tuple[RawPacketRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    device: str | None = None
    context: str | None = None
    annotations: tuple[tuple[float, str], ...] = ()

    @property
    def duration_s(self) -> float:
        """Time from the first beat to the last (s)."""
        if self.rr_ms.size == 0:
            return 0.0
        return float(self.t_s[-1] - self.t_s[0] + self.rr_ms[0] / 1000.0)


def contiguous_segments(
    rr_ms: NDArray[np.float64], t_s: NDArray[np.float64], tolerance_s: float = 0.01
) -> NDArray[np.int64]:
    """Segment ids from beat times: a new segment wherever a beat's time is not the previous time plus its
    interval (within ``tolerance_s``, which covers times and intervals rounded to the ms), i.e. where an
    interval was left out between them (even a fragment of a beat)."""
    if rr_ms.size == 0:
        return np.zeros(0, dtype=np.int64)
    jump = np.zeros(rr_ms.size, dtype=bool)
    jump[1:] = np.abs(np.diff(t_s) - rr_ms[1:] / 1000.0) > tolerance_s
    return np.cumsum(jump).astype(np.int64)


def local_utc_offset_s(utc_s: float) -> int:
    """This machine's UTC offset (s) at the moment ``utc_s`` (Unix s), daylight saving included."""
    offset = dt.datetime.fromtimestamp(utc_s).astimezone().utcoffset()
    return int(offset.total_seconds()) if offset else 0


def check_readable(path: Path) -> None:
    """Raise :class:`RecordingError` unless ``path`` is an existing file."""
    if not path.exists():
        raise RecordingError(f"{path}: no such file")
    if path.is_dir():
        raise RecordingError(f"{path}: is a directory, expected a recording file")


def read_text(path: Path) -> str:
    """A text file's content (UTF-8, a BOM dropped, undecodable bytes replaced)."""
    check_readable(path)
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise RecordingError(f"{path}: cannot read ({error.strerror or error})") from error


_HOUR_S = 3600.0


def times_from_arrivals(
    rr_ms: NDArray[np.float64], arrival_s: NDArray[np.float64], gap_s: float = 3.0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Beat times (s from the first arrival) and segments for intervals logged with their arrival times.

    Arrival stamps carry the logger's latency (and some loggers stamp a whole notification with one
    time), so beats are placed by cumulative RR; a new segment, re-anchored at its arrival, starts where
    the arrivals run more than ``gap_s`` ahead of or behind the cumulative RR (beats were lost, or the
    clock jumped).  A step of one hour (within ``gap_s``) is a daylight-saving change of a logger writing
    local time: the beats go on without a break."""
    t = np.empty(rr_ms.size, dtype=np.float64)
    segment = np.zeros(rr_ms.size, dtype=np.int64)
    current = 0
    origin = float(arrival_s[0]) if arrival_s.size else 0.0
    placed = 0.0
    for index in range(rr_ms.size):
        arrival = float(arrival_s[index]) - origin
        placed = arrival if index == 0 else placed + float(rr_ms[index]) / 1000.0
        step = arrival - placed
        if index and abs(step) > gap_s:
            if abs(abs(step) - _HOUR_S) <= gap_s:
                origin += _HOUR_S if step > 0 else -_HOUR_S  # the logger's clock changed, not the beats
            else:
                current += 1
                placed = arrival
        t[index] = placed
        segment[index] = current
    return t, segment
