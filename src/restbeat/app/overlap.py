"""An import that overlaps a session already stored from the same source is refused, naming that session.

"The same source" is either the same file path (a file that grew since it was imported: its checksum
changed, its beats did not) or the same import format when the file carries its own start time (two
exports of one OpenHRV log).  A file without a start time is placed by its modification time, so two
different files of one format may seem to overlap: for those only the same path counts.  Sessions that
touch within a second are not overlapping.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from restbeat.devices.recording import RecordingError

_TOUCH_S = 1.0


@dataclass(frozen=True)
class PlannedSession:
    """A session an import is about to write: its source tag, span (Unix s), file path and whether the
    file gave the start time."""

    source: str
    started_utc: float
    ended_utc: float
    path: str
    own_start: bool


def _when(utc_s: float) -> str:
    return dt.datetime.fromtimestamp(utc_s).astimezone().strftime("%Y-%m-%d %H:%M")


def check_overlaps(conn: sqlite3.Connection, shown_path: str, planned: list[PlannedSession]) -> None:
    """Raise :class:`RecordingError` (one line) when a planned session overlaps a stored one from the
    same source (see the module docstring)."""
    for session in planned:
        row = conn.execute(
            "SELECT id, source, started_utc, COALESCE(ended_utc, started_utc) FROM sessions "
            "WHERE started_utc < ? AND COALESCE(ended_utc, started_utc) > ? "
            "AND ((source = ? AND ?) OR id IN (SELECT session_id FROM imports WHERE path = ?)) "
            "ORDER BY id LIMIT 1",
            (
                session.ended_utc - _TOUCH_S,
                session.started_utc + _TOUCH_S,
                session.source,
                int(session.own_start),
                session.path,
            ),
        ).fetchone()
        if row is not None:
            session_id, source, start, end = int(row[0]), str(row[1]), float(row[2]), float(row[3])
            raise RecordingError(
                f"{shown_path}: overlaps session {session_id} ({source}, {_when(start)} to {_when(end)}), "
                f"imported before from the same source; not imported again (to replace it: "
                f"restbeat sessions --delete {session_id})"
            )
