"""`restbeat sessions --delete ID` and `--upgrade`: removing one session (a bad import, a test) after a
confirmation, and bringing an older database to the current schema.

Neither ever creates a database: a path with no database there is one line, exit status 1.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from restbeat.store.database import (
    StoreError,
    default_db_path,
    describe_path,
    is_database,
    open_database,
    probe_version,
    resolve_path,
)
from restbeat.store.queries import get_session, summarise
from restbeat.store.schema import SCHEMA_VERSION
from restbeat.store.writes import delete_session

_ROW_NAMES = {"link_events": "link event", "set_aside": "set-aside row"}


class AdminError(RuntimeError):
    """A one-line failure of --delete or --upgrade."""


def _existing(db: str | None) -> tuple[Path, Path, str]:
    """The path given, the file it leads to and how to name it; AdminError when there is no database."""
    given = Path(db).expanduser() if db else default_db_path()
    try:
        target = resolve_path(given)
    except StoreError as error:
        raise AdminError(str(error)) from error
    label = describe_path(given, target)
    if not target.is_file() or target.stat().st_size == 0:
        raise AdminError(f"no database at {label}")
    if not is_database(target):
        raise AdminError(f"{label} is not a restbeat database (left untouched)")
    return given, target, label


def _writable(given: Path) -> sqlite3.Connection:
    try:
        return open_database(given)
    except StoreError as error:
        raise AdminError(str(error)) from error


def upgrade(db: str | None) -> str:
    """Migrate the database at ``db`` to the current schema; returns what was done."""
    given, target, label = _existing(db)
    try:
        before = probe_version(target, label)
    except StoreError as error:
        raise AdminError(str(error)) from error
    except sqlite3.DatabaseError as error:
        raise AdminError(f"{label}: not a usable restbeat database ({error})") from error
    target = given
    conn = _writable(target)
    try:
        moved = conn.execute("SELECT count(*), count(DISTINCT session_id) FROM set_aside").fetchone()
    finally:
        conn.close()
    if before == SCHEMA_VERSION:
        return f"{target}: already at schema version {SCHEMA_VERSION}, nothing to do"
    done = f"{target}: upgraded from schema version {before} to {SCHEMA_VERSION}"
    if not moved[0]:
        return f"{done}; every row kept"
    return (
        f"{done}; {_plural(moved[0], 'row')} of {_plural(moved[1], 'session')} that no reader can use "
        "(values outside the schema) were moved to the table set_aside, kept there as JSON"
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def delete(db: str | None, session_id: int, yes: bool, ask: Callable[[str], str] | None = None) -> str:
    """Delete session ``session_id`` and all its rows (after ``ask`` is answered yes, unless ``yes``);
    returns what was deleted.  Raises AdminError for an unknown id or a refusal."""
    given, _, _ = _existing(db)
    conn = _writable(given)
    try:
        session = get_session(conn, session_id)
        if session is None:
            raise AdminError(f"no session {session_id} in {given} (`restbeat sessions` lists them)")
        [summary] = summarise(conn, [session])
        described = (
            f"session {session.id}: {session.local_start:%Y-%m-%d %H:%M}, {session.context}, "
            f"{session.duration_s / 3600:.1f} h, {_plural(summary.beats, 'beat')}, {session.source}"
            + (f" ({session.note})" if session.note else "")
        )
        if not yes:
            try:
                answer = (ask or input)(f"delete {described}, with everything recorded in it? [y/N] ")
            except EOFError:
                answer = ""
            if answer.strip().lower() not in {"y", "yes"}:
                raise AdminError(f"nothing deleted (give --yes to delete without asking): {described}")
        try:
            counts = delete_session(conn, session_id)
        except ValueError as error:
            raise AdminError(str(error)) from error
        except sqlite3.Error as error:
            raise AdminError(f"{given}: nothing deleted ({error})") from error
        if counts is None:  # deleted by another process meanwhile
            raise AdminError(f"no session {session_id} in {given}")
        rows = ", ".join(_plural(n, _ROW_NAMES.get(table, table[:-1])) for table, n in counts.items() if n)
        return f"deleted {described} from {given}: {rows} (one transaction)"
    finally:
        conn.close()
