"""Garmin FIT activity files carrying HRV messages (global message 78 ``hrv``), read with fitdecode.

Each ``hrv`` message holds up to five beat-to-beat intervals in field ``time`` (uint16, scale 1000, s);
0xFFFF marks an unused slot.  The intervals are contiguous over the recording; the start time comes from
the ``session`` or ``activity`` start, else ``file_id.time_created``.  The CRC is checked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from restbeat.devices.formats.lines import MAX_BEATS, check_count
from restbeat.devices.formats.lines import check_file as check_readable
from restbeat.devices.formats.values import check_utc
from restbeat.devices.recording import RecordingError, RRRecording

FIT_SIGNATURE = b".FIT"


def is_fit(head: bytes) -> bool:
    """True for a FIT file header (the ASCII ``.FIT`` at bytes 8-11)."""
    return len(head) >= 12 and head[8:12] == FIT_SIGNATURE


def _utc_seconds(value: object) -> float | None:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    return None


def read_fit(path: str | Path) -> RRRecording:
    """The RR intervals (ms) of a FIT file's HRV messages."""
    import fitdecode

    source = Path(path)
    check_readable(source)
    intervals: list[float] = []
    started: dict[str, float] = {}
    device: str | None = None
    messages = 0
    try:
        with fitdecode.FitReader(
            str(source), check_crc=fitdecode.CrcCheck.RAISE, error_handling=fitdecode.ErrorHandling.RAISE
        ) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "hrv" and frame.has_field("time"):
                    messages += 1
                    values = frame.get_value("time")
                    for value in values if isinstance(values, tuple | list) else (values,):
                        if value is not None and 0 < float(value) < 65.0:
                            intervals.append(float(value) * 1000.0)
                    if len(intervals) > MAX_BEATS:
                        break
                elif frame.name in ("session", "activity", "file_id"):
                    key = "time_created" if frame.name == "file_id" else "start_time"
                    if frame.has_field(key) and (when := _utc_seconds(frame.get_value(key))) is not None:
                        started.setdefault(frame.name, when)
                    if frame.name == "file_id" and frame.has_field("manufacturer"):
                        device = str(frame.get_value("manufacturer"))
    except Exception as error:  # fitdecode raises FitError, but also struct/Value/TypeError on corrupt bytes
        raise RecordingError(f"{source}: not a readable FIT file ({error})") from error
    if not intervals:
        raise RecordingError(
            f"{source}: the FIT file has no HRV (beat interval) messages; turn on HRV logging on the watch"
        )
    check_count(source, None, len(intervals))
    rr = np.asarray(intervals, dtype=np.float64)
    start = started.get("session") or started.get("activity") or started.get("file_id")
    if start is not None:
        check_utc(source, None, start, "start time")
    return RRRecording(
        path=source,
        format="fit-hrv",
        rr_ms=rr,
        t_s=np.cumsum(rr) / 1000.0,
        segment_ids=np.zeros(rr.size, dtype=np.int64),
        started_utc=start,
        device=device,
        notes=(f"{messages} HRV messages",),
    )
