"""The database schema as a list of forward migrations; ``PRAGMA user_version`` is the version applied.

Times: ``sessions.started_utc`` and ``ended_utc`` are Unix seconds (UTC); every ``t_s`` and ``arrival_s``
below a session is seconds from the session's start.  RR values are ms.  A migration never edits an
earlier one: the schema of version N is migrations 1..N applied in order, so a database of any earlier
version reaches the current one by running the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from restbeat.store.migration_v4 import APPLICATION_ID, migrate_v4

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

#: Version 4 (:mod:`restbeat.store.migration_v4`): CHECK constraints, the application id, unusable rows set
#: aside.  A migration is a script, or a function run inside the migration's transaction with foreign keys
#: off (a table rebuild).
Migration = str | Callable[[sqlite3.Connection], None]
MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, migrate_v4)
SCHEMA_VERSION = len(MIGRATIONS)
#: The tables every restbeat database has held since version 1: a file at version 1-3 without the
#: application id (made before version 4) is restbeat's when it has them.
CORE_TABLES = frozenset({"straps", "sessions", "packets", "beats", "link_events"})


class SchemaError(RuntimeError):
    """The database is newer than this restbeat, or a migration failed (the database is unchanged)."""


def schema_version(conn: sqlite3.Connection) -> int:
    """The version applied to ``conn`` (0 for an empty database)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def application_id(conn: sqlite3.Connection) -> int:
    """``PRAGMA application_id`` of the database (0 when never set)."""
    return int(conn.execute("PRAGMA application_id").fetchone()[0])


def table_names(conn: sqlite3.Connection) -> set[str]:
    """The tables the database holds."""
    return {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def is_restbeat(conn: sqlite3.Connection) -> bool:
    """True when the database is restbeat's or empty: the application id, or (made before version 4) a
    version of ours with our tables, or no table at all and version 0.  Read in one snapshot (another
    process may be creating the file this very moment)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        app_id, version, tables = application_id(conn), schema_version(conn), table_names(conn)
    finally:
        if own:
            conn.execute("COMMIT")
    if app_id == APPLICATION_ID:
        return True
    if app_id != 0:
        return False
    if version == 0:
        return not tables
    return version < 4 and tables >= CORE_TABLES


def _check_newer(current: int) -> None:
    if current > SCHEMA_VERSION:
        raise SchemaError(
            f"the database is at schema version {current}, newer than this restbeat ({SCHEMA_VERSION}); "
            "upgrade restbeat"
        )


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations after the current version up to ``target``, each in its own exclusive
    transaction that reads the version again inside it (another process may have just migrated or created
    the database: then there is nothing left to do); returns the version reached."""
    _check_newer(schema_version(conn))
    while (current := schema_version(conn)) < target:
        _step(conn, target)
    _check_newer(current)
    return current


def _step(conn: sqlite3.Connection, target: int) -> None:
    """One migration, from the version found inside the exclusive transaction."""
    foreign_keys = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    version = schema_version(conn) + 1
    try:
        conn.execute("PRAGMA foreign_keys = OFF")  # a rebuild drops tables others refer to
        conn.execute("BEGIN EXCLUSIVE")
        current = schema_version(conn)
        _check_newer(current)
        if current >= target:
            conn.execute("COMMIT")
            return
        if not is_restbeat(conn):
            raise SchemaError("not a restbeat database (its tables or application id are another program's)")
        version = current + 1
        migration = MIGRATIONS[current]
        if callable(migration):
            migration(conn)
        else:
            for statement in _statements(migration):
                conn.execute(statement)
        if current == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {version}")
        broken = conn.execute("PRAGMA foreign_key_check").fetchone()
        if broken is not None:
            raise SchemaError(
                f"migration to schema version {version} failed: a row of {broken[0]} lost its parent"
            )
        conn.execute("COMMIT")
    except (sqlite3.Error, SchemaError) as error:
        if conn.in_transaction:  # some errors end the transaction by themselves
            conn.execute("ROLLBACK")
        if isinstance(error, SchemaError):
            raise
        raise SchemaError(f"migration to schema version {version} failed: {error}") from error
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")


def _statements(script: str) -> list[str]:
    """Split a migration into statements (no statement of ours holds a semicolon inside a literal)."""
    return [part.strip() for part in script.split(";") if part.strip()]
