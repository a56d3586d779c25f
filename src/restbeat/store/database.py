"""Opening the database: where it lives, private file modes, WAL, migrations, and marking sessions whose
recorder died (kill -9, power loss) as interrupted.

The path is ``--db PATH`` when given, else ``RESTBEAT_DB``, else ``restbeat.sqlite3`` in the platform's user
data directory.  The directory is created 0700 and the database (with its WAL and shared-memory files)
0600.  Connections run in autocommit mode; writes go through :func:`transaction`.

Only a missing or empty file, or a restbeat database (``PRAGMA application_id``, or the tables and version
of one made before the id existed), is ever used; anything else is refused untouched.  A symlink is
followed and the file it points to judged by the same rule.  :func:`open_database` is for commands that
write (it creates and migrates); :func:`open_existing` for those that only read (read-only: it never
creates, migrates or writes, and refuses an older schema, naming the command that upgrades it).
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from restbeat.store.schema import SCHEMA_VERSION, SchemaError, is_restbeat, migrate, schema_version

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


class ReadOnlyConnection(sqlite3.Connection):
    """A connection from :func:`open_existing`: the file is open read-only, so nothing is ever written
    (caches such as the baseline's lessons are then not kept)."""


def resolve_path(path: Path | str | None = None) -> Path:
    """The database file ``path`` (or the default) names.  A symlink is followed knowingly: the file used is
    the one it points to, judged by the same rule as any other (empty, or a restbeat database); a symlink
    to nothing is refused rather than creating a file somewhere the person did not name."""
    target = Path(path).expanduser() if path is not None else default_db_path()
    if not target.is_symlink():
        return target
    try:
        resolved = target.resolve(strict=True)
    except FileNotFoundError as error:
        raise StoreError(f"{target}: a symlink to {target.resolve()}, which does not exist") from error
    except (OSError, RuntimeError) as error:  # a loop of links
        raise StoreError(f"{target}: a symlink that leads nowhere ({error})") from error
    return resolved


def describe_path(given: Path | str | None, target: Path) -> str:
    """How messages name the database: the path given, and where a symlink led."""
    name = str(Path(given).expanduser()) if given is not None else str(target)
    return name if Path(name) == target else f"{name} (a symlink to {target})"


def _state(target: Path, label: str) -> str:
    """``missing``, ``empty`` or ``sqlite`` (judged by the header); raises StoreError for anything else,
    leaving it untouched."""
    if not target.exists():
        return "missing"
    if target.is_dir():
        raise StoreError(f"{label}: is a directory, expected a restbeat database file")
    head = _head(target)
    if head is None:
        raise StoreError(f"{label}: not a regular file, so not a restbeat database (left untouched)")
    if head == b"":
        return "empty"
    if head != SQLITE_HEADER:
        raise StoreError(f"{label} is not a restbeat database (left untouched)")
    return "sqlite"


def _connect_read_only(target: Path, immutable: bool = False) -> ReadOnlyConnection:
    """A read-only connection; ``immutable``: the main file alone, without locks or WAL, so that nothing
    (not even a -shm file) is created beside a file that may be another program's."""
    uri = f"{target.absolute().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
    previous_umask = os.umask(0o077)  # the -wal and -shm files a reader may create are private too
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0, factory=ReadOnlyConnection)
    finally:
        os.umask(previous_umask)
    conn.execute("PRAGMA query_only = ON")
    return conn


def probe_version(target: Path, label: str | None = None) -> int:
    """The schema version of the SQLite file at ``target``, read through a read-only connection; raises
    StoreError, the file untouched, when it is not a restbeat database.  The main file is judged first on
    its own (a stranger's file is refused with nothing created beside it), then with its WAL (what a
    restbeat process may have just written there)."""
    for immutable in (True, False):
        conn = _connect_read_only(target, immutable)
        try:
            if not is_restbeat(conn):
                raise StoreError(f"{label or target} is not a restbeat database (left untouched)")
            version = schema_version(conn)
        except sqlite3.DatabaseError:
            if not immutable:
                raise
            # the main file alone may be unreadable while its WAL holds pages it needs (a checkpoint cut
            # short by a full disk): judged with the WAL, below
        finally:
            conn.close()
    return version


def open_database(path: Path | str | None = None, *, migrate_schema: bool = True) -> sqlite3.Connection:
    """Open for writing (creating on first use) the database at ``path`` or the default path, migrated to
    the current schema, with sessions of dead recorders marked interrupted and dead imports removed.

    Only a missing or empty file, or a restbeat database, is used; anything else (another program's SQLite
    file, a text file) is refused with the file left as it was: same bytes, same mode, same journal."""
    target = resolve_path(path)
    label = describe_path(path, target)
    try:
        if _state(target, label) == "sqlite":
            probe_version(target, label)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        previous_umask = os.umask(0o077)  # the WAL and -shm files SQLite creates inherit 0600
        try:
            conn = sqlite3.connect(target, isolation_level=None, timeout=10.0)
        finally:
            os.umask(previous_umask)
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")  # a killed process loses nothing committed
        conn.execute("PRAGMA foreign_keys = ON")
        if migrate_schema:
            migrate(conn)
            mark_interrupted_sessions(conn)
            remove_dead_imports(conn)
        _make_private(target)  # ours now (created, or checked inside the migration's transaction)
    except sqlite3.DatabaseError as error:
        raise StoreError(_unusable(label, target, error)) from error
    except SchemaError as error:
        raise StoreError(f"{label}: {error}") from error
    except OSError as error:
        raise StoreError(f"{label}: cannot open ({error.strerror or error})") from error
    return conn


def _make_private(target: Path) -> None:
    """Take group and other permissions away (0600 for a file restbeat made); a mode the person chose that
    is stricter (0400: read-only) is kept."""
    mode = stat.S_IMODE(target.stat().st_mode)
    if mode & 0o077:
        target.chmod(mode & 0o700)


def _unusable(label: str, target: Path, error: sqlite3.DatabaseError) -> str:
    """One line for an SQLite error on opening: what is wrong in words, not always "not usable"."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return f"{label}: the database is locked by another process; try again when it is done ({text})"
    if "readonly" in text or "read-only" in text:
        return f"{label}: read-only; restbeat needs to write to the file and its folder ({text})"
    if "unable to open" in text and not os.access(target.parent, os.W_OK):
        return (
            f"{label}: cannot open: its folder {target.parent} is read-only, and SQLite writes a "
            f"shared-memory file beside a WAL database ({text})"
        )
    return f"{label}: not a usable restbeat database ({text})"


def _use_wal(conn: sqlite3.Connection, wait_s: float = 10.0) -> None:
    """Switch to WAL.  SQLite answers "database is locked" at once, without its busy wait, when another
    process is creating the same new file at that moment: retried for up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.005 + 0.02 * random.random())


def open_existing(path: Path | str | None = None) -> ReadOnlyConnection:
    """Open read-only the restbeat database at ``path`` or the default path, for a command that only reads:
    nothing is created, migrated or written.  Raises StoreError for a missing or empty file ("no database
    at PATH"), a file that is not a restbeat database, or one at an older schema (a writing command, or
    `restbeat sessions --upgrade`, upgrades it)."""
    target = resolve_path(path)
    label = describe_path(path, target)
    try:
        state = _state(target, label)
        if state != "sqlite":
            empty = " (the file is empty)" if state == "empty" else ""
            raise StoreError(f"no database at {label}{empty}")
        version = probe_version(target, label)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{label}: the database is at schema version {version}, newer than this restbeat "
                f"({SCHEMA_VERSION}); upgrade restbeat"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"{label}: the database is at schema version {version} and this restbeat reads version "
                f"{SCHEMA_VERSION}; upgrade it once with `restbeat sessions --upgrade --db {target}` "
                "(your data is kept; a command that only reads never changes the file)"
            )
        return _connect_read_only(target)
    except sqlite3.DatabaseError as error:
        raise StoreError(_unusable(label, target, error)) from error
    except OSError as error:
        raise StoreError(f"{label}: cannot open ({error.strerror or error})") from error


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


def is_database(path: Path) -> bool:
    """True when ``path`` is an SQLite database file (by its header)."""
    return _head(path) == SQLITE_HEADER


def process_alive(pid: int) -> bool:
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
        if not (pid == os.getpid() or process_alive(int(pid or 0)))
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


def remove_dead_imports(conn: sqlite3.Connection) -> list[int]:
    """Sessions still 'importing' whose importer process is gone (killed, or a failure that could not even
    delete them, e.g. a full disk) are removed with all their rows: an import is all or nothing, and
    readers never saw them.  Returns their ids."""
    dead = [
        int(session_id)
        for session_id, pid in conn.execute("SELECT id, writer_pid FROM sessions WHERE status = 'importing'")
        if not (pid == os.getpid() or process_alive(int(pid or 0)))
    ]
    if dead:
        with transaction(conn):
            conn.executemany("DELETE FROM sessions WHERE id = ?", ((session_id,) for session_id in dead))
    return dead
