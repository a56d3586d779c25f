"""`restbeat import FILE...`: recordings from files into the store, all or nothing per file.

Each file is read by the reader its content calls for (devices.files), its artifacts detected and corrected
like a live session's, and written as one session per recording with its beats (corrected, with quality
and class; excluded intervals kept, flagged), and for a raw strap file its packets and link events.  A file
already imported (same SHA-256) is not imported again.  A file that cannot be read changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from restbeat.app.overlap import PlannedSession, check_overlaps
from restbeat.app.pipeline import recording_beats
from restbeat.beats import BeatClass, BeatQuality
from restbeat.devices.files import read_recordings
from restbeat.devices.formats.lines import check_file
from restbeat.devices.formats.spool import readable_file
from restbeat.devices.formats.wfdb import looks_like_wfdb, wfdb_kind
from restbeat.devices.recording import (
    RecordingError,
    RRRecording,
    SkippedLine,
    local_utc_offset_s,
)
from restbeat.signal.artifacts import CLASSES, correct_rr
from restbeat.store.bulk import PendingSession, write_import
from restbeat.store.queries import SessionBeats
from restbeat.store.writes import CONTEXTS, SessionStart, check_context, to_json


@dataclass(frozen=True)
class ImportResult:
    """What happened to one file."""

    path: Path
    status: str  # imported | duplicate
    format: str
    session_ids: tuple[int, ...]
    beats: int = 0
    corrected: int = 0
    excluded: int = 0
    duration_s: float = 0.0
    skipped_lines: int = 0
    skipped_examples: tuple[SkippedLine, ...] = ()
    notes: tuple[str, ...] = field(default=())


def storable(name: str) -> str:
    """A file name as text the database can hold: bytes that are not UTF-8 (a name from a Latin-1 USB
    stick) are written as ``\\xff`` escapes, the same for the same file every time."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def file_digest(path: Path) -> str:
    """SHA-256 of a file, or for a WFDB record of its header, annotation and signal files together."""
    digest = hashlib.sha256()
    if not looks_like_wfdb(path):
        check_file(path)  # a pipe or device is refused here, not read (readable_file spools a pipe first)
    if looks_like_wfdb(path):
        base = path.with_suffix("") if path.suffix else path
        files = sorted(p for p in base.parent.glob(f"{base.name}.*") if p.is_file())
        digest.update(wfdb_kind(path).encode())  # the beats and the ECG of one record are different imports
    else:
        files = [path]
    for part in files:
        try:
            with part.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError as error:
            raise RecordingError(f"{part}: cannot read ({error.strerror or error})") from error
    return digest.hexdigest()


def corrected_beats(recording: RRRecording, correct: bool = True) -> SessionBeats:
    """The beats a recording gives: as exported when it carries quality flags, replayed through the live
    streaming correction for raw strap notifications, else corrected in batch (excluded intervals kept,
    flagged); with ``correct`` False, the intervals as they are (all taken as good)."""
    if recording.quality is not None and recording.kind is not None:
        return SessionBeats(
            recording.t_s, recording.rr_ms, recording.segment_ids, recording.quality, recording.kind
        )
    if not correct:
        n = recording.rr_ms.size
        return SessionBeats(
            recording.t_s, recording.rr_ms, recording.segment_ids, np.zeros(n, np.int64), ("normal",) * n
        )
    if recording.packets:
        return _streamed(recording)
    series = correct_rr(
        recording.rr_ms,
        recording.t_s,
        recording.segment_ids,
        contact=recording.contact,
        first_after_connect=recording.first_after_connect,
        follows_in_packet=recording.follows_in_packet,
    )
    # intervals excluded before correction, and corrected ones still out of range, are kept, flagged
    excluded = np.flatnonzero([CLASSES[code].is_excluded for code in series.input_class])
    kept_t = np.concatenate([recording.t_s[excluded], series.dropped_t_s])
    kept_rr = np.concatenate([recording.rr_ms[excluded], series.dropped_rr_ms])
    kept_kind = [CLASSES[code].value for code in series.input_class[excluded]]
    kept_kind += [BeatClass.OUT_OF_RANGE.value] * series.dropped_rr_ms.size
    t = np.concatenate([series.t_s, kept_t])
    order = np.argsort(t, kind="stable")
    # a kept interval takes the segment of the output beat before it (it never enters HRV)
    before = np.clip(np.searchsorted(series.t_s, kept_t, side="right") - 1, 0, None)
    kept_segment = series.segment_ids[before] if series.t_s.size else np.zeros(kept_t.size, np.int64)
    segment = np.concatenate([series.segment_ids, kept_segment])
    quality = np.concatenate(
        [series.quality.astype(np.int64), np.full(kept_t.size, int(BeatQuality.EXCLUDED))]
    )
    kind = [CLASSES[code].value for code in series.kind] + kept_kind
    return SessionBeats(
        t_s=t[order],
        rr_ms=np.concatenate([series.rr_ms, kept_rr])[order],
        segment=segment[order].astype(np.int64),
        quality=quality[order],
        kind=tuple(str(kind[i]) for i in order),
    )


def _streamed(recording: RRRecording) -> SessionBeats:
    out = list(recording_beats(recording))
    return SessionBeats(
        t_s=np.array([b.t_s for b in out], dtype=np.float64),
        rr_ms=np.array([b.rr_ms for b in out], dtype=np.float64),
        segment=np.array([b.segment for b in out], dtype=np.int64),
        quality=np.array([int(b.quality) for b in out], dtype=np.int64),
        kind=tuple(str(b.kind) for b in out),
    )


def _start_of(recording: RRRecording, path: Path) -> tuple[float, tuple[str, ...]]:
    if recording.started_utc is not None:
        return recording.started_utc, ()
    modified = path.stat().st_mtime if path.exists() else time.time()
    start = modified - recording.duration_s
    return start, ("the file gives no start time: its modification time was taken as the end",)


def import_file(
    conn: sqlite3.Connection,
    path: str | Path,
    *,
    context: str = "other",
    sampling_rate_hz: float | None = None,
    correct: bool = True,
) -> ImportResult:
    """Import one file (all its sessions, or none of them: see :mod:`restbeat.store.bulk`); raises
    :class:`RecordingError` for a file that cannot be read, leaving the database as it was."""
    source = Path(path)
    check_context(context)
    digest = file_digest(source)
    existing = conn.execute(
        "SELECT session_id, format FROM imports WHERE digest = ? ORDER BY part", (digest,)
    ).fetchall()
    if existing:
        return ImportResult(source, "duplicate", str(existing[0][1]), tuple(int(row[0]) for row in existing))
    recordings = read_recordings(source, sampling_rate_hz=sampling_rate_hz)
    for recording in recordings:
        if recording.context is not None and recording.context not in CONTEXTS:
            raise RecordingError(
                f"{source}: unknown context {recording.context!r} (known: {', '.join(CONTEXTS)})"
            )
    prepared = [(recording, corrected_beats(recording, correct)) for recording in recordings]
    notes: list[str] = []
    pending: list[PendingSession] = []
    for part, (recording, beats) in enumerate(prepared):
        started_utc, start_notes = _start_of(recording, source)
        notes.extend(recording.notes + start_notes)
        start = SessionStart(
            started_utc=started_utc,
            source=f"import:{recording.format}",
            context=recording.context or context,
            tz_offset_s=recording.tz_offset_s
            if recording.tz_offset_s is not None
            else local_utc_offset_s(started_utc),
            strap_address=recording.device if recording.packets else None,
            note=f"imported from {storable(source.name)}",
        )
        end_s = max(float(beats.t_s[-1]) if beats.t_s.size else 0.0, recording.duration_s)
        pending.append(
            PendingSession(
                start=start,
                beats=beats,
                ended_utc=started_utc + end_s,
                digest=digest,
                part=part,
                path=storable(str(source.resolve())),
                format=recording.format,
                packets=[(p.arrival_s, p.connection, p.raw) for p in recording.packets],
                events=[(e.t_s, e.kind, to_json(e.detail)) for e in recording.events],
                annotations=recording.annotations,
            )
        )
    check_overlaps(
        conn,
        str(source),
        [
            PlannedSession(
                p.start.source, p.start.started_utc, p.ended_utc, p.path, r.started_utc is not None
            )
            for p, (r, _) in zip(pending, prepared, strict=True)
        ],
    )
    session_ids = write_import(conn, pending)  # short transactions, all or nothing (store.bulk)
    return ImportResult(
        path=source,
        status="imported",
        format=prepared[0][0].format,
        session_ids=tuple(session_ids),
        beats=sum(int(beats.rr_ms.size) for _, beats in prepared),
        corrected=sum(beats.corrected for _, beats in prepared),
        excluded=sum(beats.excluded for _, beats in prepared),
        duration_s=sum(recording.duration_s for recording, _ in prepared),
        skipped_lines=sum(recording.skipped_line_count for recording, _ in prepared),
        skipped_examples=tuple(line for recording, _ in prepared for line in recording.skipped_lines),
        notes=tuple(dict.fromkeys(notes)),
    )


def import_files(
    conn: sqlite3.Connection,
    paths: list[Path],
    *,
    context: str = "other",
    sampling_rate_hz: float | None = None,
    correct: bool = True,
    on_start: Callable[[Path], None] | None = None,
    on_done: Callable[[Path, ImportResult | RecordingError], None] | None = None,
) -> list[ImportResult | RecordingError]:
    """Import several files; a file that fails is reported and the others go on."""
    from restbeat.app.recovering import is_recovery, recover  # it builds on this module's ImportResult

    results: list[ImportResult | RecordingError] = []
    for path in paths:
        if on_start:
            on_start(path)
        try:
            if is_recovery(path):  # what a live session could not save: back into its session
                results.append(recover(conn, path))
                if on_done:
                    on_done(path, results[-1])
                continue
            with readable_file(path) as readable:  # a pipe is read once, for the checksum and the import
                outcome: ImportResult | RecordingError = replace(
                    import_file(
                        conn, readable, context=context, sampling_rate_hz=sampling_rate_hz, correct=correct
                    ),
                    path=path,
                )
        except RecordingError as error:
            outcome = error
        except sqlite3.Error as error:  # locked or full database: this file is not stored, nothing half-done
            outcome = RecordingError(f"{path}: could not be stored ({error}); nothing of it was kept")
        results.append(outcome)
        if on_done:
            on_done(path, outcome)
    return results
