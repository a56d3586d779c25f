"""Opening the database: where it lives, private file modes, WAL, migrations, and marking sessions whose
recorder died (kill -9, power loss) as interrupted.

The path is ``--db PATH`` when given, else ``RESTBEAT_DB``, else ``restbeat.sqlite3`` in the platform's user
data directory.  The directory is created 0700 and the database (with its WAL and shared-memory files)
0600.  Connections run in autocommit mode; writes go through :func:`transaction`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from restbeat.store.schema import SchemaError, migrate

DB_ENV = "RESTBEAT_DB"
DB_FILENAME = "restbeat.sqlite3"
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message names the file."""


def default_db_path() -> Path:
    """``RESTBEAT_DB`` when set, else the user data directory's ``restbeat.sqlite3``."""
    if env := os.environ.get(DB_ENV):
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("restbeat")) / DB_FILENAME


def open_database(path: Path | str | None = None, *, migrate_schema: bool = True) -> sqlite3.Connection:
    """Open (creating on first use) the database at ``path`` or the default path, migrated to the
    current schema, with sessions of dead recorders marked interrupted."""
    target = Path(path).expanduser() if path is not None else default_db_path()
    if target.is_dir():
        raise StoreError(f"{target}: is a directory, expected a restbeat database file")
    if target.exists() and not _is_empty_or_sqlite(target):
        raise StoreError(f"{target}: not a restbeat database (left untouched)")
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        previous_umask = os.umask(0o077)  # the WAL and -shm files SQLite creates inherit 0600
        try:
            conn = sqlite3.connect(target, isolation_level=None, timeout=10.0)
        finally:
            os.umask(previous_umask)
        target.chmod(0o600)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # a killed process loses nothing committed
        conn.execute("PRAGMA foreign_keys = ON")
        if migrate_schema:
            migrate(conn)
            mark_interrupted_sessions(conn)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{target}: not a usable restbeat database ({error})") from error
    except SchemaError as error:
        raise StoreError(f"{target}: {error}") from error
    except OSError as error:
        raise StoreError(f"{target}: cannot open ({error.strerror or error})") from error
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed when the block ends, rolled back (nothing kept) on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite has already rolled back by itself after some errors (disk full)
            conn.execute("ROLLBACK")
        raise


def _head(path: Path) -> bytes | None:
    """The first bytes of a regular file (as many as SQLite's header), None when it is not one."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreError(f"{path}: cannot open ({error.strerror or error})") from error


def _is_empty_or_sqlite(path: Path) -> bool:
    """True for an empty regular file or one that starts with SQLite's header."""
    return _head(path) in (b"", SQLITE_HEADER)


def is_database(path: Path) -> bool:
    """True when ``path`` is an SQLite database file (by its header)."""
    return _head(path) == SQLITE_HEADER


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def mark_interrupted_sessions(conn: sqlite3.Connection) -> list[int]:
    """Sessions still 'recording' whose writer process is gone become 'interrupted', ending at their last
    stored beat, packet or event; returns their ids.  Nothing recorded is removed."""
    stale = [
        int(session_id)
        for session_id, pid in conn.execute("SELECT id, writer_pid FROM sessions WHERE status = 'recording'")
        if not (pid == os.getpid() or _process_alive(int(pid or 0)))
    ]
    if not stale:
        return []
    with transaction(conn):
        for session_id in stale:
            conn.execute(
                """
                UPDATE sessions SET status = 'interrupted', writer_pid = NULL, ended_utc = started_utc + max(
                    coalesce((SELECT max(t_s) FROM beats WHERE session_id = :id), 0.0),
                    coalesce((SELECT max(arrival_s) FROM packets WHERE session_id = :id), 0.0),
                    coalesce((SELECT max(t_s) FROM link_events WHERE session_id = :id), 0.0)
                )
                WHERE id = :id
                """,
                {"id": session_id},
            )
    return stale
