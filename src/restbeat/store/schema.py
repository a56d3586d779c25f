"""The database schema as a list of forward migrations; ``PRAGMA user_version`` is the version applied.

Times: ``sessions.started_utc`` and ``ended_utc`` are Unix seconds (UTC); every ``t_s`` and ``arrival_s``
below a session is seconds from the session's start.  RR values are ms.  A migration never edits an
earlier one: the schema of version N is migrations 1..N applied in order, so a database of any earlier
version reaches the current one by running the rest.
"""

from __future__ import annotations

import sqlite3

#: Version 1: what a recording needs (straps, sessions, raw packets, beats, link events).
_V1 = """
CREATE TABLE straps (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    name TEXT,
    manufacturer TEXT,
    model TEXT,
    firmware TEXT
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    started_utc REAL NOT NULL,
    ended_utc REAL,
    tz_offset_s INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    context TEXT NOT NULL,
    strap_id INTEGER REFERENCES straps(id),
    status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'interrupted')),
    writer_pid INTEGER,
    note TEXT
);
CREATE INDEX sessions_by_start ON sessions(started_utc);
CREATE TABLE packets (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    arrival_s REAL NOT NULL,
    connection INTEGER NOT NULL,
    raw BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE beats (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    t_s REAL NOT NULL,
    rr_ms REAL NOT NULL,
    segment INTEGER NOT NULL,
    quality INTEGER NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE link_events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX link_events_by_session ON link_events(session_id, t_s);
"""

#: Version 2: what the recovery side keeps (metric snapshots, prompts, practice outcomes, annotations),
#: imported files (so a file is never imported twice), and each beat's successive difference so that
#: summaries of a year need no window function over 10^7 rows.
_V2 = """
ALTER TABLE beats ADD COLUMN drr_ms REAL;
UPDATE beats SET drr_ms = (
    SELECT beats.rr_ms - previous.rr_ms FROM beats AS previous
    WHERE previous.session_id = beats.session_id AND previous.seq = beats.seq - 1
      AND previous.segment = beats.segment AND previous.quality IN (0, 1)
) WHERE quality IN (0, 1);
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    window_s REAL NOT NULL,
    quality TEXT NOT NULL,
    hr_bpm REAL,
    rmssd_ms REAL,
    sdnn_ms REAL,
    beats INTEGER NOT NULL
);
CREATE INDEX snapshots_by_session ON snapshots(session_id, t_s);
CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    practice TEXT NOT NULL,
    reason TEXT NOT NULL,
    response TEXT CHECK (response IN ('accepted', 'snoozed', 'dismissed', 'expired')),
    response_t_s REAL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX prompts_by_session ON prompts(session_id, t_s);
CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    prompt_id INTEGER REFERENCES prompts(id) ON DELETE SET NULL,
    practice TEXT NOT NULL,
    started_t_s REAL NOT NULL,
    ended_t_s REAL NOT NULL,
    rating INTEGER,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX outcomes_by_session ON outcomes(session_id, started_t_s);
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE imports (
    digest TEXT NOT NULL,
    part INTEGER NOT NULL,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    imported_utc REAL NOT NULL,
    PRIMARY KEY (digest, part)
);
CREATE INDEX sessions_by_context ON sessions(context, started_utc);
"""

#: Version 3: what each finished shift taught the baseline (its low-effort epochs, half-recovery times and
#: heart rates, as JSON), kept so that a new session or a review does not relearn 20 shifts from their beats.
#: ``version`` is the learning's version: lessons of another version are relearned.
_V3 = """
CREATE TABLE lessons (
    session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    detail TEXT NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaError(RuntimeError):
    """The database is newer than this restbeat, or a migration failed (the database is unchanged)."""


def schema_version(conn: sqlite3.Connection) -> int:
    """The version applied to ``conn`` (0 for an empty database)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations after the current version up to ``target``, each in its own transaction;
    returns the version reached."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaError(
            f"the database is at schema version {current}, newer than this restbeat ({SCHEMA_VERSION}); "
            "upgrade restbeat"
        )
    for version in range(current + 1, target + 1):
        script = MIGRATIONS[version - 1]
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            if conn.in_transaction:  # some errors end the transaction by themselves
                conn.execute("ROLLBACK")
            raise SchemaError(f"migration to schema version {version} failed: {error}") from error
    return schema_version(conn)


def _statements(script: str) -> list[str]:
    """Split a migration into statements (no statement of ours holds a semicolon inside a literal)."""
    return [part.strip() for part in script.split(";") if part.strip()]
