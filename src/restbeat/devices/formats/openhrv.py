"""OpenHRV's CSV event log (github.com/JanCBrammer/OpenHRV, ``openhrv/logger.py``).

Header ``event,value,timestamp``; rows ``EVENT,VALUE,TIMESTAMP`` with the local ISO time of logging (no
zone).  Events: ``InterBeatInterval`` (ms, already outlier-replaced by OpenHRV), ``HeartRateVariability``,
``HrvTarget``, ``PacerRate``, ``Sensors`` (whose value holds an unquoted comma) and ``Annotation`` (free
text).  Rows are split at the first and the last comma, so values with commas survive.
"""

from __future__ import annotations

import datetime as dt
from array import array
from pathlib import Path

import numpy as np

from restbeat.devices.formats.lines import check_count, numbered_lines
from restbeat.devices.formats.values import check_rr, utc_seconds
from restbeat.devices.recording import RecordingError, RRRecording, local_utc_offset_s, times_from_arrivals

HEADER = "event,value,timestamp"


def is_openhrv(head: str) -> bool:
    """True when the first line is OpenHRV's header."""
    return head.lstrip().split("\n", 1)[0].strip().lower() == HEADER


def read_openhrv(path: str | Path) -> RRRecording:
    """The inter-beat intervals and annotations of an OpenHRV log, read a line at a time.  A timestamp
    outside 1970-2100 or an interval that is not one (NaN, negative, inf, over 65.5 s) is an error naming
    its line and value."""
    source = Path(path)
    rr = array("d")
    arrivals = array("d")
    notes: list[tuple[float, str]] = []
    sensor: str | None = None
    for number, line in numbered_lines(source):
        if number == 1 or not line.strip() or line.strip().lower() == HEADER:
            continue  # the log is opened for appending, so a second recording repeats the header
        event, _, rest = line.partition(",")
        value, _, stamp = rest.rpartition(",")
        try:
            when = dt.datetime.fromisoformat(stamp.strip())
        except ValueError as error:
            raise RecordingError(f"{source}, line {number}: bad timestamp {stamp.strip()!r}") from error
        utc_s = utc_seconds(source, number, when, "timestamp", stamp.strip())
        if event == "InterBeatInterval":
            try:
                interval = float(value)
            except ValueError as error:
                raise RecordingError(
                    f"{source}, line {number}: interval {value!r} is not a number"
                ) from error
            rr.append(check_rr(source, number, interval, value.strip()))
            arrivals.append(utc_s)
            check_count(source, number, len(rr))
        elif event == "Annotation":
            notes.append((utc_s, value))
            check_count(source, number, len(notes), what="annotations")
        elif event == "Sensors":
            sensor = value.strip()
    if not rr:
        raise RecordingError(f"{source}: no InterBeatInterval rows")
    rr_ms = np.asarray(rr, dtype=np.float64)
    arrival_s = np.asarray(arrivals, dtype=np.float64)
    t_s, segments = times_from_arrivals(rr_ms, arrival_s)
    started_utc = float(arrival_s[0]) - float(rr_ms[0]) / 1000.0
    return RRRecording(
        path=source,
        format="openhrv",
        rr_ms=rr_ms,
        t_s=t_s + float(rr_ms[0]) / 1000.0,
        segment_ids=segments,
        started_utc=started_utc,
        tz_offset_s=local_utc_offset_s(started_utc),
        device=sensor,
        annotations=tuple((utc - started_utc, text) for utc, text in notes),
    )
