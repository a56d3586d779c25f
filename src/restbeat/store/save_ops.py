"""What a live session still has to save, as an ordered list of write operations, and writing them.

The recorder turns every ``add_*`` call into an operation (rows for one table, a prompt, its answer, a
practice's outcome, the strap's details, the session's end).  :func:`write_all` writes a list of them in
one transaction, in order; a failure writes nothing and the same list can be retried.  Prompts get
provisional ids (negative) until they are written; :class:`IdMap` resolves them, so an answer or an outcome
given while the database is locked still points at its prompt.

:func:`failure_reason` names a failure in the words the live screen shows ("database locked", "disk full").
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from restbeat.store.writes import (
    INSERT_ANNOTATION,
    INSERT_BEAT,
    INSERT_EVENT,
    INSERT_PACKET,
    INSERT_SNAPSHOT,
    finish_session,
    upsert_strap,
)

#: The statement that writes each buffered table's rows.
ROW_STATEMENTS = {
    "packets": INSERT_PACKET,
    "beats": INSERT_BEAT,
    "link_events": INSERT_EVENT,
    "snapshots": INSERT_SNAPSHOT,
    "annotations": INSERT_ANNOTATION,
}


class IdMap:
    """Provisional prompt and outcome ids (negative) to their row ids, once written."""

    def __init__(self) -> None:
        self.known: dict[int, int] = {}

    def resolve(self, provisional: int | None) -> int | None:
        """The row id for ``provisional`` (a positive id is already one); None when not written yet."""
        if provisional is None or provisional > 0:
            return provisional
        return self.known.get(provisional)


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for one table (``ROW_STATEMENTS``), each with the session id first."""

    table: str
    rows: tuple[tuple[Any, ...], ...]

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class NewPrompt:
    """A prompt shown at ``t_s`` (s from the session start), under provisional id ``key``."""

    key: int
    session_id: int
    t_s: float
    practice: str
    reason: str
    detail: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class PromptAnswer:
    """How the person answered prompt ``key`` (or row id) at ``t_s``."""

    key: int
    session_id: int
    response: str
    t_s: float
    count: int = 1


@dataclass(frozen=True, slots=True)
class NewOutcome:
    """A practice done and its measured response, under provisional id ``key``."""

    key: int
    session_id: int
    prompt_key: int | None
    practice: str
    started_t_s: float
    ended_t_s: float
    rating: int | None
    detail: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class StrapDetails:
    """Details read from the strap's Device Information Service."""

    address: str
    manufacturer: str | None
    model: str | None
    firmware: str | None
    count: int = 1


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """The session's end (Unix s, UTC) and final status."""

    session_id: int
    ended_utc: float
    status: str
    count: int = 1


SaveOp = Rows | NewPrompt | PromptAnswer | NewOutcome | StrapDetails | SessionEnd


def write_all(conn: sqlite3.Connection, ops: list[SaveOp], ids: IdMap) -> int:
    """Write ``ops`` in one transaction (all or nothing); on success the new row ids join ``ids``.

    A row the database's rules refuse (a CHECK or key constraint) would be refused on every retry and hold
    back everything queued behind it, so when the batch meets one it is written again op by op and row by
    row, and each refused row goes, as JSON with the constraint's message, into the ``set_aside`` table
    (nothing is lost).  Returns how many rows were set aside."""
    found: dict[int, int] = {}
    refused = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("SAVEPOINT batch")
        try:
            write_ops(conn, ops, ids, found)
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK TO batch")
            found.clear()
            refused = _write_setting_aside(conn, ops, ids, found)
        conn.execute("RELEASE batch")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite has already rolled back by itself after some errors (disk full)
            conn.execute("ROLLBACK")
        raise
    ids.known.update(found)
    return refused


def write_ops(conn: sqlite3.Connection, ops: list[SaveOp], ids: IdMap, found: dict[int, int]) -> None:
    """Write ``ops`` in order inside the caller's transaction; new rows' ids go into ``found``."""
    for op in ops:
        if isinstance(op, Rows):
            conn.executemany(ROW_STATEMENTS[op.table], op.rows)
        else:
            _write_one(conn, op, ids, found)


def _write_setting_aside(
    conn: sqlite3.Connection, ops: list[SaveOp], ids: IdMap, found: dict[int, int]
) -> int:
    """:func:`write_ops` one statement at a time; a refused statement's row goes to ``set_aside`` (a
    statement that breaks a constraint undoes only itself).  Returns the rows set aside."""
    refused = 0
    for op in ops:
        if isinstance(op, Rows):
            for row in op.rows:
                try:
                    conn.execute(ROW_STATEMENTS[op.table], row)
                except sqlite3.IntegrityError as error:
                    _set_aside(conn, op.table, int(row[0]), list(row), error)
                    refused += 1
            continue
        try:
            _write_one(conn, op, ids, found)
        except sqlite3.IntegrityError as error:
            fields = {key: getattr(op, key) for key in op.__dataclass_fields__}
            _set_aside(conn, type(op).__name__, getattr(op, "session_id", None), fields, error)
            refused += 1
    return refused


def _set_aside(
    conn: sqlite3.Connection, table: str, session_id: int | None, row: Any, error: Exception
) -> None:
    text = json.dumps(row, default=lambda value: value.hex() if isinstance(value, bytes) else str(value))
    conn.execute(
        "INSERT INTO set_aside (source_table, session_id, row, reason, moved_utc) VALUES (?, ?, ?, ?, ?)",
        (table, session_id, text, f"refused while recording: {error}", time.time()),
    )


def _write_one(conn: sqlite3.Connection, op: SaveOp, ids: IdMap, found: dict[int, int]) -> None:
    """One operation other than rows."""

    def resolve(key: int | None) -> int | None:
        if key is None or key > 0:
            return key
        return found.get(key, ids.known.get(key))

    if isinstance(op, NewPrompt):
        cursor = conn.execute(
            "INSERT INTO prompts (session_id, t_s, practice, reason, detail) VALUES (?, ?, ?, ?, ?)",
            (op.session_id, op.t_s, op.practice, op.reason, op.detail),
        )
        found[op.key] = int(cursor.lastrowid or 0)
    elif isinstance(op, PromptAnswer):
        conn.execute(
            "UPDATE prompts SET response = ?, response_t_s = ? WHERE id = ? AND session_id = ?",
            (op.response, op.t_s, resolve(op.key), op.session_id),
        )
    elif isinstance(op, NewOutcome):
        cursor = conn.execute(
            """
            INSERT INTO outcomes (session_id, prompt_id, practice, started_t_s, ended_t_s, rating, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            (
                op.session_id,
                resolve(op.prompt_key),
                op.practice,
                op.started_t_s,
                op.ended_t_s,
                op.rating,
                op.detail,
            ),
        )
        found[op.key] = int(cursor.lastrowid or 0)
    elif isinstance(op, StrapDetails):
        upsert_strap(conn, op.address, manufacturer=op.manufacturer, model=op.model, firmware=op.firmware)
    elif isinstance(op, SessionEnd):
        finish_session(conn, op.session_id, op.ended_utc, op.status)


def failure_reason(error: BaseException, folder: str | None = None) -> str:
    """A failed write in a few words: "database locked", "disk full", or the error's own text.  An I/O
    error is called "disk full" when ``folder`` (the database's) has no space left: SQLite reports a full
    disk met while growing its WAL or shared-memory file as a plain I/O error."""
    text = str(error)
    code = getattr(error, "sqlite_errorcode", None)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text or "busy" in text:
        return "database locked"
    if code == sqlite3.SQLITE_FULL or "disk is full" in text or getattr(error, "errno", None) == errno.ENOSPC:
        return "disk full"
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return "database read-only"
    if folder is not None and ("I/O error" in text or code == sqlite3.SQLITE_IOERR) and _no_space(folder):
        return "disk full"
    return text or type(error).__name__


def _no_space(folder: str) -> bool:
    """True when ``folder``'s filesystem has less than 64 KiB free for this user."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 65536
