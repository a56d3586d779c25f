"""Writing a long import in short transactions, still all or nothing.

A week of beats (about 700,000 rows) written in one transaction would hold the database's write lock for
seconds, and a live recording in another process would wait that long to save.  Here the rows go in chunks
of :data:`CHUNK_ROWS`, each its own transaction (a few tens of ms), while the import's sessions are marked
``importing``: no reader lists them (see :mod:`restbeat.store.queries`) until the last transaction marks
them complete and records the file as imported.  When anything fails on the way (a full disk, a lock that
does not come back, an interrupt), the sessions are deleted with all their rows; if even that cannot be
done, they stay ``importing``, invisible, and the next writing open removes them
(:func:`restbeat.store.database.remove_dead_imports`).
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from restbeat.store.database import transaction
from restbeat.store.queries import SessionBeats
from restbeat.store.writes import (
    INSERT_ANNOTATION,
    INSERT_BEAT,
    INSERT_EVENT,
    INSERT_PACKET,
    SessionStart,
    beat_rows,
    finish_session,
    insert_session,
)

#: Rows per transaction: 0.1-0.2 s of beats measured (700,000 beats: 36 chunks, the longest 0.2 s).
CHUNK_ROWS = 20_000
#: After this long writing chunks back to back (s), the import pauses for :data:`YIELD_S`.  Without the
#: pause another writer would hardly ever get in: SQLite's busy wait polls (every 100 ms once it has waited
#: a while) and the import takes the lock again microseconds after each commit.  0.12 s is longer than
#: that poll, so a waiting writer (the live recorder) gets the lock within about half a second.
WRITE_BURST_S = 0.4
YIELD_S = 0.12


@dataclass(frozen=True)
class PendingSession:
    """One session of an import, ready to write: its start, beats, raw packets ``(arrival_s, connection,
    bytes)``, link events ``(t_s, kind, detail JSON)``, annotations ``(t_s, text)``, end (Unix s) and the
    import's record (file digest, part number, path, format)."""

    start: SessionStart
    beats: SessionBeats
    ended_utc: float
    digest: str
    part: int
    path: str
    format: str
    packets: Sequence[tuple[float, int, bytes]] = field(default=())
    events: Sequence[tuple[float, str, str]] = field(default=())
    annotations: Sequence[tuple[float, str]] = field(default=())


def _rows(session_id: int, pending: PendingSession) -> Iterator[tuple[str, tuple[Any, ...]]]:
    beats = pending.beats
    for row in beat_rows(session_id, 0, beats.t_s, beats.rr_ms, beats.segment, beats.quality, beats.kind):
        yield INSERT_BEAT, row
    for seq, (arrival_s, connection, raw) in enumerate(pending.packets):
        yield INSERT_PACKET, (session_id, seq, arrival_s, connection, raw)
    for t_s, kind, detail in pending.events:
        yield INSERT_EVENT, (session_id, t_s, kind, detail)
    for t_s, text in pending.annotations:
        yield INSERT_ANNOTATION, (session_id, t_s, text)


def _write_chunk(conn: sqlite3.Connection, chunk: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
    with transaction(conn):
        for sql, group in itertools.groupby(chunk, key=lambda item: item[0]):
            conn.executemany(sql, (row for _, row in group))


def write_import(
    conn: sqlite3.Connection, sessions: Sequence[PendingSession], chunk_rows: int = CHUNK_ROWS
) -> list[int]:
    """Write the sessions of one imported file, ``chunk_rows`` rows per transaction; returns their ids.
    Either every session is stored complete, or (on any error, which is raised again) none is visible."""
    with transaction(conn):
        ids = [insert_session(conn, pending.start, recording=True) for pending in sessions]
        conn.executemany("UPDATE sessions SET status = 'importing' WHERE id = ?", ((i,) for i in ids))
    try:
        rows = itertools.chain.from_iterable(
            _rows(session_id, pending) for session_id, pending in zip(ids, sessions, strict=True)
        )
        burst_started = time.perf_counter()
        while chunk := list(itertools.islice(rows, chunk_rows)):
            _write_chunk(conn, chunk)
            if time.perf_counter() - burst_started >= WRITE_BURST_S:
                time.sleep(YIELD_S)  # let a waiting writer in (see WRITE_BURST_S)
                burst_started = time.perf_counter()
        with transaction(conn):
            for session_id, pending in zip(ids, sessions, strict=True):
                finish_session(conn, session_id, pending.ended_utc)
                conn.execute(
                    "INSERT INTO imports (digest, part, session_id, path, format, imported_utc) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (pending.digest, pending.part, session_id, pending.path, pending.format, time.time()),
                )
    except BaseException as error:
        _remove(conn, ids, error)
        raise
    return ids


def _remove(conn: sqlite3.Connection, ids: list[int], error: BaseException) -> None:
    """Delete a failed import's sessions (their rows go with them); when that fails too, they stay
    ``importing`` for the next open to remove, and the reason is attached to ``error``."""
    try:
        with transaction(conn):
            conn.executemany("DELETE FROM sessions WHERE id = ?", ((i,) for i in ids))
    except sqlite3.Error as cleanup:
        error.add_note(
            f"the partial sessions {ids} could not be removed now ({cleanup}); they stay hidden and are "
            "removed the next time the database is opened for writing"
        )
