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
from restbeat.store.writes import SessionStart, insert_session

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
        for path in self._order():
            try:
                self._append_text(path, text)
            except OSError as error:
                tried.append(f"{path}: {error.strerror or error}")
                continue
            if path not in self.paths:
                self.paths.append(path)
            return path
        raise OSError(f"no recovery file could be written ({'; '.join(tried)})")

    def _order(self) -> list[Path]:
        """The file used last first, so that a session's rows stay together."""
        used = self.paths[-1:]
        return used + [path for path in self.candidates if path not in used]

    def _append_text(self, path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            body = text if size else json.dumps(self.first_line, separators=(",", ":")) + "\n" + text
            try:
                os.write(fd, body.encode())
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)  # all or nothing: no half line left behind
                raise
        finally:
            os.close(fd)


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
    head = first[1]
    try:
        start = SessionStart(**{field.name: head[field.name] for field in dataclasses.fields(SessionStart)})
        original = int(head["session_id"])
    except (KeyError, TypeError, ValueError) as error:
        raise RecoveryError(f"{path}, line 1: incomplete header ({error})") from error
    lines = list(entries)
    row = conn.execute("SELECT started_utc FROM sessions WHERE id = ?", (original,)).fetchone()
    existing = row is not None and abs(float(row[0]) - float(start.started_utc)) < 1e-6
    conn.execute("BEGIN IMMEDIATE")
    try:
        session_id = original if existing else insert_session(conn, start, recording=False)
        ops = [_decoded(path, number, entry, session_id) for number, entry in lines]
        if not existing:
            ops = _without_stored_prompts(ops)
        write_ops(conn, [*ops, *_closing(conn, session_id, ops)], IdMap(), {})
        conn.execute("COMMIT")
    except sqlite3.IntegrityError as error:
        conn.execute("ROLLBACK")
        raise RecoveryError(f"{path}: already imported into session {session_id} ({error})") from error
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    started, ended = conn.execute(
        "SELECT started_utc, coalesce(ended_utc, started_utc) FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return RecoveredSession(
        session_id,
        existing,
        rows=sum(op.count for op in ops if isinstance(op, Rows)),
        beats=sum(op.count for op in ops if isinstance(op, Rows) and op.table == "beats"),
        duration_s=float(ended) - float(started),
    )


def _decoded(path: Path, number: int, entry: dict[str, Any], session_id: int) -> SaveOp:
    try:
        return _decode(dict(entry), session_id)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise RecoveryError(f"{path}, line {number}: not a recovery operation ({error!r})") from error


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


def _closing(conn: sqlite3.Connection, session_id: int, ops: list[SaveOp]) -> list[SaveOp]:
    """A session end when the file has none: the end of its last beat or notification, status
    interrupted (the recorder never closed the session)."""
    if any(isinstance(op, SessionEnd) for op in ops):
        return []
    started, ended = conn.execute(
        "SELECT started_utc, coalesce(ended_utc, started_utc) FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
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
