"""Schema version 4: the store enforces what a row may hold (CHECK constraints on sessions, beats, packets
and link events), marks the file as restbeat's (``PRAGMA application_id``), and sets aside rows an earlier
version let in that no reader can use.

SQLite adds a CHECK constraint only by rebuilding the table: each of the four tables is copied into a new
one with its constraints, the old one dropped and the new one renamed, all in the migration's single
transaction (foreign keys off, as SQLite's own procedure says, and checked before the commit).

Rows that break a rule are not lost: each is copied, as JSON, into ``set_aside`` (with the table it came
from and when), and only then removed.  A session whose own row is unusable (a start time that is not a
date) is set aside with all its rows; a session whose offset or end is unusable is kept, with the offset 0
or no end.
"""

from __future__ import annotations

import sqlite3
import time

from restbeat.store.rows import (
    BEAT_ROW_OK,
    EVENT_ROW_OK,
    PACKET_ROW_OK,
    SESSION_ROW_OK,
    STARTED_MAX_UTC,
    STARTED_MIN_UTC,
    TZ_ABS_MAX_S,
)

#: ``PRAGMA application_id`` of a restbeat database ("RBt1" in ASCII).
APPLICATION_ID = 0x52427431

#: The tables below a session, with their session column, children first.
CHILD_TABLES = (
    "outcomes",
    "prompts",
    "snapshots",
    "annotations",
    "link_events",
    "packets",
    "beats",
    "imports",
    "lessons",
)

_SET_ASIDE = """
CREATE TABLE set_aside (
    id INTEGER PRIMARY KEY,
    source_table TEXT NOT NULL,
    session_id INTEGER,
    row TEXT NOT NULL,
    reason TEXT NOT NULL,
    moved_utc REAL NOT NULL
)
"""

_SESSIONS = f"""
CREATE TABLE sessions_v4 (
    id INTEGER PRIMARY KEY,
    started_utc REAL NOT NULL,
    ended_utc REAL,
    tz_offset_s INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    context TEXT NOT NULL,
    strap_id INTEGER REFERENCES straps(id),
    status TEXT NOT NULL,
    writer_pid INTEGER,
    note TEXT,
    CONSTRAINT session_values CHECK ({SESSION_ROW_OK})
)
"""

_BEATS = f"""
CREATE TABLE beats_v4 (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    t_s REAL NOT NULL,
    rr_ms REAL NOT NULL,
    segment INTEGER NOT NULL,
    quality INTEGER NOT NULL,
    kind TEXT NOT NULL,
    drr_ms REAL,
    PRIMARY KEY (session_id, seq),
    CONSTRAINT beat_values CHECK ({BEAT_ROW_OK})
) WITHOUT ROWID
"""

_PACKETS = f"""
CREATE TABLE packets_v4 (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    arrival_s REAL NOT NULL,
    connection INTEGER NOT NULL,
    raw BLOB NOT NULL,
    PRIMARY KEY (session_id, seq),
    CONSTRAINT packet_values CHECK ({PACKET_ROW_OK})
) WITHOUT ROWID
"""

_EVENTS = f"""
CREATE TABLE link_events_v4 (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{{}}',
    CONSTRAINT event_values CHECK ({EVENT_ROW_OK})
)
"""

_REBUILT = (
    ("sessions", _SESSIONS, SESSION_ROW_OK),
    ("beats", _BEATS, BEAT_ROW_OK),
    ("packets", _PACKETS, PACKET_ROW_OK),
    ("link_events", _EVENTS, EVENT_ROW_OK),
)
_INDEXES = (
    "CREATE INDEX sessions_by_start ON sessions(started_utc)",
    "CREATE INDEX sessions_by_context ON sessions(context, started_utc)",
    "CREATE INDEX link_events_by_session ON link_events(session_id, t_s)",
)


def _row_json(conn: sqlite3.Connection, table: str) -> str:
    """A SQL expression giving a row of ``table`` as a JSON object (blobs as hex, infinities as text, so
    that the JSON stays valid)."""
    columns = [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")]
    parts = [
        f"'{c}', CASE WHEN typeof({c}) = 'blob' THEN hex({c}) "
        f"WHEN typeof({c}) = 'real' AND abs({c}) >= 9e999 THEN CAST({c} AS TEXT) ELSE {c} END"
        for c in columns
    ]
    return f"json_object({', '.join(parts)})"


def _set_aside(conn: sqlite3.Connection, table: str, where: str, reason: str, session_column: str) -> int:
    """Copy the rows of ``table`` matching ``where`` into set_aside, then delete them; returns how many."""
    moved = conn.execute(
        f"INSERT INTO set_aside (source_table, session_id, row, reason, moved_utc) "
        f"SELECT ?, {session_column}, {_row_json(conn, table)}, ?, ? FROM {table} WHERE {where}",
        (table, reason, time.time()),
    ).rowcount
    conn.execute(f"DELETE FROM {table} WHERE {where}")
    return int(moved)


def migrate_v4(conn: sqlite3.Connection) -> None:
    """Apply version 4 inside the caller's transaction (foreign keys off)."""
    conn.execute(_SET_ASIDE)
    # repairable session fields first: an unusable offset becomes 0, an unusable end none
    conn.execute(
        "UPDATE sessions SET tz_offset_s = 0 WHERE typeof(tz_offset_s) != 'integer' "
        f"OR abs(tz_offset_s) > {TZ_ABS_MAX_S}"
    )
    conn.execute(
        "UPDATE sessions SET ended_utc = NULL WHERE ended_utc IS NOT NULL AND (typeof(ended_utc) NOT IN "
        f"('real', 'integer') OR ended_utc < {STARTED_MIN_UTC:.0f} OR ended_utc > {STARTED_MAX_UTC:.0f})"
    )
    bad_sessions = f"session_id IN (SELECT id FROM sessions WHERE ({SESSION_ROW_OK}) IS NOT 1)"
    for table in CHILD_TABLES:
        _set_aside(conn, table, bad_sessions, "its session's start time is not a date", "session_id")
    _set_aside(conn, "sessions", f"({SESSION_ROW_OK}) IS NOT 1", "its start time is not a date", "id")
    for table, create, rule in _REBUILT:
        if table != "sessions":
            _set_aside(conn, table, f"({rule}) IS NOT 1", "a value outside the schema", "session_id")
        columns = ", ".join(str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})"))
        conn.execute(create)
        conn.execute(f"INSERT INTO {table}_v4 ({columns}) SELECT {columns} FROM {table}")
        conn.execute(f"DROP TABLE {table}")
        conn.execute(f"ALTER TABLE {table}_v4 RENAME TO {table}")
    for statement in _INDEXES:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
