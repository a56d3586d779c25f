"""restbeat's raw strap recording (``restbeat record --raw``, ``restbeat export --format raw``): JSON lines.

Line 1 is a header ``{"format": "restbeat-raw-hrm/1", "strap": ADDRESS, "started_utc": ISO-8601}``; then one
object per notification (``t_s`` s from the start, ``connection``, ``hex`` bytes) or link event (``t_s``,
``event`` and its fields).  Reading replays the notifications through the same decoder and timeline as a
live session, so the beats come out exactly as they did live.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from restbeat.devices.formats.lines import check_count, numbered_lines
from restbeat.devices.formats.values import check_counter, check_span, iso_time, utc_seconds
from restbeat.devices.hrs import MeasurementError, parse_measurement
from restbeat.devices.recording import EventRecord, RawPacketRecord, RecordingError, RRRecording
from restbeat.devices.timeline import BeatTimeline, RRPacket, TimedBeat

FORMAT = "restbeat-raw-hrm/1"


def is_raw_hrm(head: str) -> bool:
    """True when a file's first line is a restbeat raw recording header."""
    first = head.lstrip().split("\n", 1)[0]
    return first.startswith("{") and FORMAT in first


def header_line(strap: str | None, started_utc: float) -> dict[str, Any]:
    """The first line's object."""
    return {
        "format": FORMAT,
        "strap": strap,
        "started_utc": dt.datetime.fromtimestamp(started_utc, dt.UTC).isoformat(),
    }


def packet_line(t_s: float, connection: int, raw: bytes) -> dict[str, Any]:
    """The object of one notification's line."""
    return {"t_s": t_s, "connection": connection, "hex": raw.hex()}


def event_line(t_s: float, kind: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The object of one link event's line."""
    return {"t_s": t_s, "event": kind, **detail}


def write_raw_hrm(
    handle: IO[str],
    strap: str | None,
    started_utc: float,
    packets: Iterable[RawPacketRecord],
    events: Iterable[EventRecord] = (),
) -> int:
    """Write a raw recording (packets and events merged in time order); returns the notification count."""
    rows: list[tuple[float, int, dict[str, Any]]] = []
    for packet in packets:
        rows.append((packet.arrival_s, 1, packet_line(packet.arrival_s, packet.connection, packet.raw)))
    for event in events:
        rows.append((event.t_s, 0, event_line(event.t_s, event.kind, event.detail)))
    rows.sort(key=lambda row: (row[0], row[1]))
    handle.write(json.dumps(header_line(strap, started_utc), separators=(",", ":")) + "\n")
    for _, _, row in rows:
        handle.write(json.dumps(row, separators=(",", ":")) + "\n")
    return sum(1 for row in rows if row[1] == 1)


def _header(path: Path, line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError as error:
        raise RecordingError(f"{path}, line 1: not a restbeat raw recording header ({error})") from error
    if not isinstance(header, dict):
        raise RecordingError(f"{path}, line 1: not a restbeat raw recording header (not a JSON object)")
    if header.get("format") != FORMAT:
        raise RecordingError(f"{path}, line 1: format {header.get('format')!r}, expected {FORMAT!r}")
    return header


def _row(path: Path, number: int, line: str) -> RawPacketRecord | EventRecord:
    try:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise TypeError("not a JSON object")
        raw_t = row.pop("t_s")
        if isinstance(raw_t, bool) or not isinstance(raw_t, int | float):
            raise TypeError(f"t_s {raw_t!r} is not a number")
        t_s = check_span(path, number, float(raw_t), "t_s")
        if "hex" in row:
            if not isinstance(row["hex"], str):
                raise TypeError("hex is not a string")
            connection = check_counter(path, number, row["connection"], "connection")
            return RawPacketRecord(t_s, connection, bytes.fromhex(row["hex"]))
        return EventRecord(t_s, str(row.pop("event")), row)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError) as error:
        if isinstance(error, RecordingError):
            raise
        raise RecordingError(f"{path}, line {number}: not a notification or event ({error})") from error


def _parse_lines(path: Path) -> tuple[dict[str, Any], list[RawPacketRecord], list[EventRecord]]:
    header: dict[str, Any] | None = None
    packets: list[RawPacketRecord] = []
    events: list[EventRecord] = []
    for number, line in numbered_lines(path):
        if number == 1:
            header = _header(path, line)
            continue
        if not line.strip():
            continue
        row = _row(path, number, line)
        if isinstance(row, RawPacketRecord):
            packets.append(row)
        else:
            events.append(row)
        check_count(path, number, len(packets) + len(events), what="notifications and events")
    if header is None:
        raise RecordingError(f"{path}, line 1: not a restbeat raw recording header (empty file)")
    return header, packets, events


def _timed_beats(packets: list[RawPacketRecord]) -> tuple[list[TimedBeat], int]:
    timeline = BeatTimeline()
    beats: list[TimedBeat] = []
    undecodable = 0
    for packet in packets:
        try:
            measurement = parse_measurement(packet.raw)
        except MeasurementError:
            undecodable += 1  # the live collector logs these as BadPacket and goes on; so does the replay
            continue
        beats.extend(timeline.push(RRPacket(packet.arrival_s, measurement, packet.raw, packet.connection)))
    beats.extend(timeline.flush())
    return beats, undecodable


def read_raw_hrm(path: str | Path) -> RRRecording:
    """The beats of a raw recording, placed by the live timeline, with the packets and events kept."""
    source = Path(path)
    header, packets, events = _parse_lines(source)
    if not packets:
        raise RecordingError(f"{source}: a raw recording with no notifications")
    beats, undecodable = _timed_beats(packets)
    strap = header.get("strap")
    if strap is not None and not isinstance(strap, str):
        raise RecordingError(f"{source}, line 1: strap {strap!r} is not an address")
    started = header.get("started_utc")
    started_utc: float | None = None
    if started is not None and not isinstance(started, str):
        raise RecordingError(f"{source}, line 1: started_utc {started!r} is not an ISO-8601 time")
    if started:
        when = iso_time(source, 1, started, "started_utc")
        started_utc = utc_seconds(source, 1, when, "started_utc", started)
    notes = (
        (f"{undecodable} notifications were not Heart Rate Measurements and were skipped",)
        if undecodable
        else ()
    )
    return RRRecording(
        path=source,
        format="restbeat-raw",
        rr_ms=np.array([beat.rr_ms for beat in beats], dtype=np.float64),
        t_s=np.array([beat.t_s for beat in beats], dtype=np.float64),
        segment_ids=np.array([beat.segment for beat in beats], dtype=np.int64),
        contact=np.array([beat.contact is not False for beat in beats], dtype=bool),
        first_after_connect=np.array([beat.first_after_connect for beat in beats], dtype=bool),
        follows_in_packet=np.array([beat.follows_in_packet for beat in beats], dtype=bool),
        started_utc=started_utc,
        packets=tuple(packets),
        events=tuple(events),
        device=strap,
        notes=notes,
    )
