"""`restbeat export`: sessions out of the store as Kubios RR text, beat CSV, JSON or the raw packets.

* ``kubios``: the NN series (good and corrected beats) as Kubios HRV's two-column RR text, one file per
  session; a gap or excluded beat shows as a jump in the time column.
* ``csv``: every beat of every session selected, with its time, RR, segment, quality and class; importing
  it restores the same beats.
* ``json``: per session its times, context, summary, batch HRV metrics, metric snapshots, prompts and
  their answers, practice outcomes, annotations and link events.
* ``raw``: the strap's notifications byte for byte (``restbeat record --raw`` format), one file per
  session; importing it replays them through the live pipeline.

One session goes to ``--out FILE``; several to ``--out DIRECTORY`` (one file each) for kubios and raw.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from restbeat import __version__
from restbeat.app.private_files import open_private
from restbeat.beats import BeatQuality
from restbeat.devices.formats.raw_hrm import write_raw_hrm
from restbeat.devices.formats.rr_csv import write_beats_csv
from restbeat.devices.formats.rr_text import write_kubios_text
from restbeat.devices.recording import EventRecord, RawPacketRecord
from restbeat.signal.metrics import hrv_metrics
from restbeat.store.queries import (
    SessionBeats,
    SessionRow,
    get_session,
    list_sessions,
    session_beats,
    session_packets,
    session_records,
    summarise,
)

FORMATS = ("kubios", "csv", "json", "raw")
DISCLAIMER = "restbeat is a wellbeing tool, not a medical device."
_USABLE = (int(BeatQuality.GOOD), int(BeatQuality.CORRECTED))


class ExportError(RuntimeError):
    """The export cannot be made as asked (no session, nothing of that kind stored, a file in the way)."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Files written, sessions and beats in them."""

    paths: tuple[Path, ...]
    sessions: int
    beats: int


def select_sessions(
    conn: sqlite3.Connection,
    *,
    session_ids: list[int] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    context: str | None = None,
    last: bool = False,
) -> list[SessionRow]:
    """The sessions to export: by id, the last one, or by local date range and context."""
    if session_ids:
        rows = []
        for session_id in session_ids:
            row = get_session(conn, session_id)
            if row is None:
                raise ExportError(f"no session {session_id} in the database")
            rows.append(row)
        return rows
    rows = list_sessions(conn, since, until, context)
    if not rows:
        raise ExportError("no sessions match (see `restbeat sessions`)")
    return rows[-1:] if last else rows


def _usable(beats: SessionBeats) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return np.isin(beats.quality, _USABLE)


def _file_name(session: SessionRow, suffix: str) -> str:
    return f"restbeat-{session.local_start:%Y-%m-%d-%H%M}-{session.context}-{session.id}{suffix}"


def _targets(out: Path, sessions: list[SessionRow], suffix: str) -> Iterator[tuple[SessionRow, Path]]:
    if len(sessions) == 1 and not out.is_dir():
        yield sessions[0], out
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(
            f"{out}: {len(sessions)} sessions need a directory here ({error.strerror or error})"
        ) from error
    for session in sessions:
        yield session, out / _file_name(session, suffix)


def _open_new(path: Path) -> IO[str]:
    try:
        return open_private(path)  # 0600, like the database: the same health data
    except FileExistsError as error:
        raise ExportError(f"{path} already exists; choose another --out") from error
    except OSError as error:
        raise ExportError(f"{path}: cannot write ({error.strerror or error})") from error


def export_sessions(
    conn: sqlite3.Connection, sessions: list[SessionRow], fmt: str, out: Path
) -> ExportResult:
    """Write ``sessions`` in ``fmt`` to ``out`` (a file, or a directory for several kubios/raw files)."""
    if fmt == "csv":
        return _export_csv(conn, sessions, out)
    if fmt == "json":
        return _export_json(conn, sessions, out)
    if fmt == "kubios":
        paths, beats = [], 0
        for session, path in _targets(out, sessions, ".txt"):
            series = session_beats(conn, session.id)
            usable = _usable(series)
            with _open_new(path) as handle:
                beats += write_kubios_text(
                    handle, series.t_s[usable], series.rr_ms[usable], series.segment[usable]
                )
            paths.append(path)
        return ExportResult(tuple(paths), len(sessions), beats)
    if fmt == "raw":
        with_packets = [
            s
            for s in sessions
            if conn.execute("SELECT 1 FROM packets WHERE session_id = ? LIMIT 1", (s.id,)).fetchone()
        ]
        if not with_packets:
            raise ExportError(
                "none of these sessions holds raw strap packets (imported files keep only beats)"
            )
        paths, count = [], 0
        for session, path in _targets(out, with_packets, ".jsonl"):
            packets = [RawPacketRecord(t, c, raw) for t, c, raw in session_packets(conn, session.id)]
            events = [
                EventRecord(float(row["t_s"]), str(row["kind"]), dict(row["detail"]))
                for row in session_records(conn, "link_events", session.id)
            ]
            with _open_new(path) as handle:
                count += write_raw_hrm(handle, session.strap_address, session.started_utc, packets, events)
            paths.append(path)
        return ExportResult(tuple(paths), len(with_packets), count)
    raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def _export_csv(conn: sqlite3.Connection, sessions: list[SessionRow], out: Path) -> ExportResult:
    if out.is_dir():
        out = out / "restbeat-beats.csv"
    with _open_new(out) as handle:
        rows = write_beats_csv(
            handle,
            (
                (s.id, s.context, s.started_utc, s.tz_offset_s, b.t_s, b.rr_ms, b.segment, b.quality, b.kind)
                for s in sessions
                for b in (session_beats(conn, s.id),)
            ),
        )
    return ExportResult((out,), len(sessions), rows)


def session_document(conn: sqlite3.Connection, session: SessionRow) -> dict[str, Any]:
    """Everything restbeat knows about one session, JSON-ready."""
    beats = session_beats(conn, session.id)
    usable = _usable(beats)
    metrics = None
    if np.count_nonzero(usable) >= 2:
        metrics = hrv_metrics(beats.rr_ms[usable], beats.t_s[usable], beats.segment[usable]).as_dict()
    [summary] = summarise(conn, [session])
    return {
        "id": session.id,
        "start": session.local_start.isoformat(),
        "end": None
        if session.ended_utc is None
        else dt.datetime.fromtimestamp(session.ended_utc, session.local_start.tzinfo).isoformat(),
        "context": session.context,
        "source": session.source,
        "status": session.status,
        "strap": session.strap_address,
        "note": session.note,
        "summary": {
            "beats": summary.beats,
            "usable_beats": summary.usable_beats,
            "corrected_beats": summary.corrected_beats,
            "mean_hr_bpm": _finite(summary.mean_hr_bpm),
            "rmssd_ms": _finite(summary.rmssd_ms),
        },
        "metrics": metrics,
        "snapshots": session_records(conn, "snapshots", session.id),
        "prompts": session_records(conn, "prompts", session.id),
        "outcomes": session_records(conn, "outcomes", session.id),
        "annotations": session_records(conn, "annotations", session.id),
        "link_events": session_records(conn, "link_events", session.id),
    }


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _export_json(conn: sqlite3.Connection, sessions: list[SessionRow], out: Path) -> ExportResult:
    if out.is_dir():
        out = out / "restbeat-export.json"
    document = {
        "format": "restbeat-export/1",
        "restbeat": __version__,
        "generated_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "disclaimer": DISCLAIMER,
        "units": {"t_s": "s from the session start", "rr": "ms", "hr": "bpm", "rmssd": "ms"},
        "sessions": [session_document(conn, session) for session in sessions],
    }
    with _open_new(out) as handle:
        json.dump(document, handle, indent=2, default=str)
        handle.write("\n")
    beats = sum(doc["summary"]["beats"] for doc in document["sessions"])  # type: ignore[index]
    return ExportResult((out,), len(sessions), beats)
