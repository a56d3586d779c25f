"""The recovery file: what a live session could not write to its database, kept on disk for
``restbeat import``.

JSON lines.  Line 1 is a header ``{"format": "restbeat-recovery/1", "session_id", "database",
"started_utc", ...}`` naming the session it belongs to; then one object per operation of
:mod:`restbeat.store.save_ops` (``"op": "rows"`` with a table and its rows without the session id, raw
notifications as hex; ``prompt``, ``answer``, ``outcome``, ``strap``, ``end``).  The file is written 0600,
appended to as rows are moved out of memory, and each append is all or nothing (a failed write is cut
back to the previous end).

:func:`import_recovery` puts the rows back: into the same session when the database still holds it
(same id and start), else into a new session made from the header.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restbeat.store.save_ops import (
    ROW_STATEMENTS,
    IdMap,
    NewOutcome,
    NewPrompt,
    PromptAnswer,
    Rows,
    SaveOp,
    SessionEnd,
    StrapDetails,
    write_ops,
)
from restbeat.store.writes import SessionStart, check_context, insert_session

FORMAT = "restbeat-recovery/1"
_OPS: dict[str, type[Any]] = {
    "prompt": NewPrompt,
    "answer": PromptAnswer,
    "outcome": NewOutcome,
    "strap": StrapDetails,
    "end": SessionEnd,
}
_NAMES = {kind: name for name, kind in _OPS.items()}


class RecoveryError(ValueError):
    """A recovery file that cannot be read or put back; the message names the file (and line)."""


def is_recovery_file(head: str) -> bool:
    """True when a file's first line is a recovery file's header."""
    first = head.lstrip().split("\n", 1)[0]
    return first.startswith("{") and FORMAT in first


def header(session_id: int, database: str, start: SessionStart) -> dict[str, Any]:
    """The first line's object: the session the rows belong to and how it started."""
    return {"format": FORMAT, "session_id": session_id, "database": database, **dataclasses.asdict(start)}


def _encode(op: SaveOp) -> dict[str, Any]:
    if isinstance(op, Rows):
        rows = [[value.hex() if isinstance(value, bytes) else value for value in row[1:]] for row in op.rows]
        return {"op": "rows", "table": op.table, "rows": rows}
    fields = {
        key: value for key, value in dataclasses.asdict(op).items() if key not in ("session_id", "count")
    }
    return {"op": _NAMES[type(op)], **fields}


def _decode(entry: dict[str, Any], session_id: int) -> SaveOp:
    kind = entry.pop("op")
    if kind == "rows":
        table = str(entry["table"])
        if table not in ROW_STATEMENTS:
            raise ValueError(f"rows for an unknown table {table!r}")
        width = ROW_STATEMENTS[table].count("?") - 1
        if any(not isinstance(row, list) or len(row) != width for row in entry["rows"]):
            raise ValueError(f"a {table} row must hold {width} values")
        rows = tuple(
            (
                session_id,
                *(
                    bytes.fromhex(value) if table == "packets" and index == 3 else value
                    for index, value in enumerate(row)
                ),
            )
            for row in entry["rows"]
        )
        return Rows(table, rows)
    if kind == "strap":
        return StrapDetails(**entry)
    return _OPS[kind](session_id=session_id, **entry)  # type: ignore[no-any-return]


class RecoveryFile:
    """Appends operations to the first of ``candidates`` that can be written (the database's folder, then
    the system's temporary folder, then the home folder)."""

    def __init__(self, candidates: Sequence[Path], first_line: dict[str, Any]) -> None:
        self.candidates = list(candidates)
        self.first_line = first_line
        self.paths: list[Path] = []  # every file that received rows, in order

    def append(self, ops: Sequence[SaveOp]) -> Path:
        """Write ``ops``; returns the file written.  Raises OSError naming every place tried."""
        text = "".join(json.dumps(_encode(op), separators=(",", ":")) + "\n" for op in ops)
        tried = []
        if self.paths:  # the file already begun, so that a session's rows stay together
            try:
                self._append_text(self.paths[-1], text)
                return self.paths[-1]
            except OSError as error:
                tried.append(f"{self.paths[-1]}: {error.strerror or error}")
        for candidate in self.candidates:
            if self.paths and candidate.parent == self.paths[-1].parent:
                continue
            try:
                path = self._create(candidate, text)
            except OSError as error:
                tried.append(f"{candidate.parent}: {error.strerror or error}")
                continue
            self.paths.append(path)
            return path
        raise OSError(f"no recovery file could be written ({'; '.join(tried)})")

    def _create(self, candidate: Path, text: str) -> Path:
        """A new file named after ``candidate`` (``-2``, ``-3``... when taken: a file left by an earlier
        session is never added to), created 0600, never through a symlink, holding the header and ``text``;
        nothing is left behind when it cannot be written."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        stem = candidate.name.removesuffix(".recovery.jsonl")
        for number in range(1, 1000):
            path = candidate if number == 1 else candidate.with_name(f"{stem}-{number}.recovery.jsonl")
            try:
                fd = os.open(path, flags, 0o600)
            except FileExistsError:
                continue
            try:
                _write_all(fd, json.dumps(self.first_line, separators=(",", ":")) + "\n" + text)
            except OSError:
                os.close(fd)
                path.unlink(missing_ok=True)
                raise
            os.close(fd)
            return path
        raise OSError(f"999 recovery files named {candidate.name} already exist")

    @staticmethod
    def _append_text(path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        try:
            size = os.fstat(fd).st_size
            try:
                _write_all(fd, text)
            except OSError:
                os.ftruncate(fd, size)  # all or nothing: no half line left behind
                raise
        finally:
            os.close(fd)


def _write_all(fd: int, text: str) -> None:
    """Write ``text`` whole (os.write may write less than asked) and sync it to disk."""
    data = memoryview(text.encode())
    while data:
        data = data[os.write(fd, data) :]
    os.fsync(fd)


@dataclass(frozen=True, slots=True)
class RecoveredSession:
    """What :func:`import_recovery` put back: the session, whether it already existed, the rows (of every
    table) and the beats among them, and the session's length (s)."""

    session_id: int
    existing: bool
    rows: int
    beats: int = 0
    duration_s: float = 0.0


def _entries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise RecoveryError(f"{path}, line {number}: not JSON ({error.msg})") from error
                    if not isinstance(entry, dict):
                        raise RecoveryError(f"{path}, line {number}: expected an object")
                    yield number, entry
    except UnicodeDecodeError as error:
        raise RecoveryError(f"{path}: not a text file ({error.reason})") from error


def import_recovery(conn: sqlite3.Connection, path: Path) -> RecoveredSession:
    """Put a recovery file's rows back in one transaction; raises :class:`RecoveryError` naming the file."""
    entries = _entries(path)
    first = next(entries, None)
    if first is None or first[1].get("format") != FORMAT:
        raise RecoveryError(f"{path}, line 1: not a restbeat recovery file")
    start, original = _start(path, first[1])
    lines = list(entries)
    row = conn.execute("SELECT started_utc, status FROM sessions WHERE id = ?", (original,)).fetchone()
    existing = row is not None and abs(float(row[0]) - float(start.started_utc)) < 1e-6
    finished = existing and row[1] == "complete"
    session_id = original
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not existing:
            session_id = insert_session(conn, start, recording=False)
        ops = [_decoded(path, number, entry, session_id) for number, entry in lines]
        if not existing:
            ops = _without_stored_prompts(ops)
        closing = [] if finished else _closing(conn, session_id, ops)  # rows moved out early: its end stands
        write_ops(conn, [*ops, *closing], IdMap(), {})
        conn.execute("COMMIT")
    except (sqlite3.Error, OverflowError) as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if "UNIQUE constraint failed" in str(error):
            raise RecoveryError(
                f"{path}: already imported into session {session_id}; nothing added"
            ) from error
        raise RecoveryError(f"{path}: a row breaks the store's rules ({error}); nothing imported") from error
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    started, ended = _span(conn, session_id)
    return RecoveredSession(
        session_id,
        existing,
        rows=sum(op.count for op in ops if isinstance(op, Rows)),
        beats=sum(op.count for op in ops if isinstance(op, Rows) and op.table == "beats"),
        duration_s=float(ended) - float(started),
    )


def _start(path: Path, head: dict[str, Any]) -> tuple[SessionStart, int]:
    """The header's session start and session id, checked: a finite start from 1970 to 9999, a known
    context, an offset within a day, an id SQLite can hold."""
    try:
        start = SessionStart(**{field.name: head[field.name] for field in dataclasses.fields(SessionStart)})
        original = int(head["session_id"])
        check_context(start.context)
        if not (isinstance(start.started_utc, int | float) and 0.0 <= start.started_utc < 253_402_300_800.0):
            raise ValueError(f"start {start.started_utc!r} is not a time from 1970 to 9999")
        if not (isinstance(start.tz_offset_s, int) and abs(start.tz_offset_s) <= 86_400):
            raise ValueError(f"UTC offset {start.tz_offset_s!r} is not within a day")
        if not 0 < original < 2**63:
            raise ValueError(f"session id {original} is out of range")
        for name in ("source", "strap_address", "strap_name", "note"):
            if not isinstance(getattr(start, name), str | None):
                raise ValueError(f"{name} is not text")
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise RecoveryError(f"{path}, line 1: not a usable header ({error})") from error
    return start, original


def _decoded(path: Path, number: int, entry: dict[str, Any], session_id: int) -> SaveOp:
    try:
        return _decode(dict(entry), session_id)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as error:
        raise RecoveryError(f"{path}, line {number}: not a recovery operation ({error})") from error


def _without_stored_prompts(ops: list[SaveOp]) -> list[SaveOp]:
    """For a new session: answers to, and links from outcomes to, prompts the original database holds (row
    ids, positive) are dropped; this database does not have those prompts."""
    kept: list[SaveOp] = []
    for op in ops:
        if isinstance(op, PromptAnswer) and op.key > 0:
            continue
        if isinstance(op, NewOutcome) and op.prompt_key is not None and op.prompt_key > 0:
            kept.append(dataclasses.replace(op, prompt_key=None))
        else:
            kept.append(op)
    return kept


def _span(conn: sqlite3.Connection, session_id: int) -> tuple[float, float]:
    """A session's start and end (Unix s; the start when it has no end yet)."""
    started, ended = conn.execute(
        "SELECT started_utc, coalesce(ended_utc, started_utc) FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return float(started), float(ended)


def _closing(conn: sqlite3.Connection, session_id: int, ops: list[SaveOp]) -> list[SaveOp]:
    """A session end when the file has none: the end of its last beat or notification, status
    interrupted (the recorder never closed the session)."""
    if any(isinstance(op, SessionEnd) for op in ops):
        return []
    started, ended = _span(conn, session_id)
    last = max(
        (
            float(row[2])
            for op in ops
            if isinstance(op, Rows) and op.table in ("beats", "packets")
            for row in op.rows
        ),
        default=0.0,
    )
    return [SessionEnd(session_id, max(float(ended), float(started) + last), "interrupted")]
