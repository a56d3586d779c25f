"""Rows going into the database: sessions, straps and beats (with each beat's successive difference)."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from restbeat.beats import BeatQuality
from restbeat.store.database import ReadOnlyConnection, process_alive, transaction

#: Context tags a session can carry (what the person was doing).
CONTEXTS = ("pre-shift", "on-shift", "post-shift", "morning", "sleep", "breathing", "other")
_HRV_QUALITIES = (int(BeatQuality.GOOD), int(BeatQuality.CORRECTED))

BeatRow = tuple[int, int, float, float, int, int, str, float | None]


@dataclass(frozen=True, slots=True)
class SessionStart:
    """A new session: when (Unix s, UTC), the local UTC offset (s), where the beats come from and the
    context tag."""

    started_utc: float
    source: str
    context: str
    tz_offset_s: int = 0
    strap_address: str | None = None
    strap_name: str | None = None
    note: str | None = None


def check_context(context: str) -> str:
    """``context`` if it is a known tag; raises ValueError naming the known ones."""
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}: use one of {', '.join(CONTEXTS)}")
    return context


def upsert_strap(
    conn: sqlite3.Connection,
    address: str,
    *,
    name: str | None = None,
    manufacturer: str | None = None,
    model: str | None = None,
    firmware: str | None = None,
) -> int:
    """The strap's row id, created or updated with the details given (None keeps what is stored)."""
    conn.execute(
        """
        INSERT INTO straps (address, name, manufacturer, model, firmware) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(address) DO UPDATE SET
            name = coalesce(excluded.name, name),
            manufacturer = coalesce(excluded.manufacturer, manufacturer),
            model = coalesce(excluded.model, model),
            firmware = coalesce(excluded.firmware, firmware)
        """,
        (address, name, manufacturer, model, firmware),
    )
    row = conn.execute("SELECT id FROM straps WHERE address = ?", (address,)).fetchone()
    return int(row[0])


def insert_session(conn: sqlite3.Connection, start: SessionStart, *, recording: bool) -> int:
    """A new session row; ``recording`` marks it as being written by this process (else complete)."""
    check_context(start.context)
    strap_id = upsert_strap(conn, start.strap_address, name=start.strap_name) if start.strap_address else None
    cursor = conn.execute(
        """
        INSERT INTO sessions (started_utc, tz_offset_s, source, context, strap_id, status, writer_pid, note)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            start.started_utc,
            start.tz_offset_s,
            start.source,
            start.context,
            strap_id,
            "recording" if recording else "complete",
            os.getpid() if recording else None,
            start.note,
        ),
    )
    return int(cursor.lastrowid or 0)


def successive_differences(
    rr_ms: NDArray[np.float64], segment: NDArray[np.int64], quality: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``rr[i] - rr[i-1]`` (ms) where both beats are usable for HRV (good or corrected) and in the same
    segment, NaN elsewhere: the terms RMSSD is built from."""
    diff = np.full(rr_ms.size, np.nan)
    if rr_ms.size < 2:
        return diff
    usable = np.isin(quality, _HRV_QUALITIES)
    pair = usable[1:] & usable[:-1] & (segment[1:] == segment[:-1])
    diff[1:] = np.where(pair, rr_ms[1:] - rr_ms[:-1], np.nan)
    return diff


def beat_rows(
    session_id: int,
    first_seq: int,
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    segment: NDArray[np.int64],
    quality: NDArray[np.int64],
    kind: Sequence[str],
) -> Iterable[BeatRow]:
    """Rows for the beats table from parallel arrays (the whole series of a session)."""
    diff = successive_differences(rr_ms, segment, quality)
    for index in range(rr_ms.size):
        d = float(diff[index])
        yield (
            session_id,
            first_seq + index,
            float(t_s[index]),
            float(rr_ms[index]),
            int(segment[index]),
            int(quality[index]),
            str(kind[index]),
            None if math.isnan(d) else d,
        )


INSERT_BEAT = (
    "INSERT INTO beats (session_id, seq, t_s, rr_ms, segment, quality, kind, drr_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PACKET = "INSERT INTO packets (session_id, seq, arrival_s, connection, raw) VALUES (?, ?, ?, ?, ?)"
INSERT_EVENT = "INSERT INTO link_events (session_id, t_s, kind, detail) VALUES (?, ?, ?, ?)"
INSERT_SNAPSHOT = (
    "INSERT INTO snapshots (session_id, t_s, window_s, quality, hr_bpm, rmssd_ms, sdnn_ms, beats) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_ANNOTATION = "INSERT INTO annotations (session_id, t_s, text) VALUES (?, ?, ?)"


def to_json(detail: dict[str, Any] | None) -> str:
    """A detail column's JSON text."""
    return json.dumps(detail or {}, separators=(",", ":"), sort_keys=True, default=str)


def finish_session(
    conn: sqlite3.Connection, session_id: int, ended_utc: float, status: str = "complete"
) -> None:
    """Close a session: its end time and final status; the writer is released."""
    conn.execute(
        "UPDATE sessions SET ended_utc = ?, status = ?, writer_pid = NULL WHERE id = ?",
        (ended_utc, status, session_id),
    )


def save_lesson(conn: sqlite3.Connection, session_id: int, version: int, detail: dict[str, Any]) -> None:
    """Keep what a finished session taught the baseline (replacing an older lesson of it); on a read-only
    connection (a command that only reads) the lesson, a cache, is not kept."""
    if isinstance(conn, ReadOnlyConnection):
        return
    with transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO lessons (session_id, version, detail) VALUES (?, ?, ?)",
            (session_id, version, to_json(detail)),
        )


#: What a session owns, in the order its rows are counted for :func:`delete_session`.
_OWNED = (
    "beats",
    "packets",
    "link_events",
    "snapshots",
    "prompts",
    "outcomes",
    "annotations",
    "imports",
    "lessons",
)


def delete_session(conn: sqlite3.Connection, session_id: int) -> dict[str, int] | None:
    """Delete a session and every row below it in one transaction; returns the rows removed per table
    (``sessions`` included), or None when there is no such session (nothing changed).  A session still
    being recorded by a live process is refused (ValueError)."""
    with transaction(conn):
        row = conn.execute("SELECT status, writer_pid FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        if (
            row[0] == "recording"
            and row[1] is not None
            and int(row[1]) != os.getpid()
            and process_alive(int(row[1]))
        ):
            raise ValueError(
                f"session {session_id} is being recorded right now (process {row[1]}); stop it first"
            )
        counts = {
            table: int(
                conn.execute(f"SELECT count(*) FROM {table} WHERE session_id = ?", (session_id,)).fetchone()[
                    0
                ]
            )
            for table in _OWNED
        }
        if "set_aside" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}:
            counts["set_aside"] = conn.execute(
                "DELETE FROM set_aside WHERE session_id = ?", (session_id,)
            ).rowcount
        conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        counts["sessions"] = 1
    return counts
