"""The rows a session has not saved yet, kept in order until the database takes them, with a bound on memory.

:class:`SaveQueue` holds the operations of :mod:`restbeat.store.save_ops` in the order they were made.
:meth:`SaveQueue.try_write` writes all of them in one transaction; on failure it keeps them and remembers
why and since when (:class:`SaveStatus`, what the live screen shows).  It is shared by the session's event
loop (which appends) and the background writer (which writes), under one lock.

Memory is bounded at :data:`MAX_UNSAVED_ROWS` rows, about 54 MB at 270 bytes a row (measured by
``python -m benchmarks.unsaved_rows``: a 12-h shift makes 104 000 rows at 60 bpm, 125 000 at 90 and 190 000
at 180 bpm: beats, raw notifications, 5-s snapshots), so a 12-h shift that could never be saved fits in
memory at any heart rate.  Past it the oldest rows go to the recovery file
(:mod:`restbeat.store.recovery_file`, which ``restbeat import`` reads) and memory is freed down to half the
bound; if no recovery file can be written either, the oldest raw notifications are dropped first (the
beats already hold their RR intervals), then the oldest rows, each counted as lost and shown.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from restbeat.store.save_ops import IdMap, Rows, SaveOp, failure_reason, write_all

#: Rows kept in memory while the database cannot take them; see the module docstring.
MAX_UNSAVED_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class SaveStatus:
    """What is not saved: rows waiting in memory, since when writes fail (clock s) and why; rows moved to the
    recovery file at ``recovery_path``; rows lost (memory bound reached and no file could be written); rows
    the database's rules refused (kept in its ``set_aside`` table)."""

    unsaved_rows: int = 0
    failing_since_s: float | None = None
    reason: str | None = None
    recovery_path: str | None = None
    spilled_rows: int = 0
    lost_rows: int = 0
    set_aside_rows: int = 0  # refused by the database's rules: kept, as JSON, in its set_aside table

    def text(self, now_s: float) -> str | None:
        """The live screen's line, None while everything is saved."""
        parts = []
        if self.failing_since_s is not None:
            waited = max(now_s - self.failing_since_s, 0.0)
            kept = f"{self.unsaved_rows} rows kept in memory, retrying"
            parts.append(f"not saved for {waited:.0f} s: {self.reason}; {kept}")
        if self.spilled_rows:
            parts.append(f"{self.spilled_rows} rows in {self.recovery_path} (restbeat import reads it)")
        if self.lost_rows:
            parts.append(f"{self.lost_rows} rows lost: memory full and no recovery file could be written")
        if self.set_aside_rows:
            parts.append(
                f"{self.set_aside_rows} rows refused by the database's rules, kept in its set_aside table"
            )
        return "; ".join(parts) or None


@dataclass(frozen=True, slots=True)
class SaveReport:
    """How a session's rows ended up at close: all in the database, or some in recovery files (paths),
    some lost (the memory bound was reached and no file could be written), and why."""

    session_id: int
    saved_all: bool
    reason: str | None = None
    recovery_rows: int = 0
    recovery_paths: tuple[str, ...] = ()
    lost_rows: int = 0
    set_aside_rows: int = 0

    def text(self) -> str:
        """One line for the session summary."""
        aside = f"; {self.set_aside_rows} rows refused by its rules are in its set_aside table"
        if self.saved_all and not self.lost_rows:
            return f"session {self.session_id}" + (aside if self.set_aside_rows else "")
        why = self.reason or (
            "the database could not take rows for so long that the oldest were moved out of memory"
            if self.recovery_rows
            else "write failed"
        )
        parts = [f"session {self.session_id}, but not all of it: {why}"]
        if self.recovery_rows:
            where = ", ".join(self.recovery_paths)
            parts.append(f"{self.recovery_rows} rows are in {where}: run `restbeat import {where}`")
        if self.lost_rows:
            parts.append(f"{self.lost_rows} rows were lost")
        return "; ".join(parts) + (aside if self.set_aside_rows else "")


class SaveQueue:
    """Operations waiting to be written, their status, and the provisional ids already resolved."""

    def __init__(self, clock: Callable[[], float], max_rows: int = MAX_UNSAVED_ROWS) -> None:
        self.clock = clock
        self.max_rows = max_rows
        self.ids = IdMap()
        self.folder: str | None = None  # the database's folder, for telling a full disk from other I/O errors
        self._ops: list[SaveOp] = []
        self._rows = 0
        self._lock = threading.Lock()
        self.status = SaveStatus()

    def __len__(self) -> int:
        return len(self._ops)

    @property
    def rows(self) -> int:
        """Rows (of every table) waiting to be written."""
        return self._rows

    def put(self, ops: list[SaveOp]) -> None:
        """Queue ``ops`` after everything already waiting."""
        if not ops:
            return
        with self._lock:
            self._ops.extend(ops)
            self._rows += sum(op.count for op in ops)
            self.status = replace(self.status, unsaved_rows=self._rows)

    def try_write(self, conn: sqlite3.Connection) -> sqlite3.Error | OSError | None:
        """Write everything waiting in one transaction; returns None on success, else the error (the
        operations stay queued, the status says why)."""
        with self._lock:
            ops = list(self._ops)
        if not ops:
            return None
        try:
            refused = write_all(conn, ops, self.ids)
        except (sqlite3.Error, OSError) as error:
            self.note_failure(error)
            return error
        with self._lock:
            del self._ops[: len(ops)]
            self._rows -= sum(op.count for op in ops)
            self.status = replace(
                self.status,
                unsaved_rows=self._rows,
                failing_since_s=None,
                reason=None,
                set_aside_rows=self.status.set_aside_rows + refused,
            )
        return None

    def note_failure(self, error: BaseException) -> None:
        """A failed write (also one that failed before :meth:`try_write` could try: the file would not open,
        a defect): why, and since when, unless already failing."""
        with self._lock:
            since = self.status.failing_since_s
            self.status = replace(
                self.status,
                failing_since_s=self.clock() if since is None else since,
                reason=failure_reason(error, self.folder),
            )

    def over_bound(self) -> bool:
        """True when more rows wait than memory may hold."""
        return self._rows > self.max_rows

    def oldest_rows(self, rows: int) -> list[Rows]:
        """The oldest row batches holding at least ``rows`` rows, left queued (see :meth:`remove`); prompts,
        answers and the end are never among them: they are few and refer to each other."""
        taken: list[Rows] = []
        count = 0
        with self._lock:
            for op in self._ops:
                if count >= rows:
                    break
                if isinstance(op, Rows):
                    taken.append(op)
                    count += op.count
        return taken

    def remove(self, ops: list[Rows]) -> None:
        """Take ``ops`` (from :meth:`oldest_rows`) out of the queue: they are kept elsewhere now."""
        gone = {id(op) for op in ops}
        with self._lock:
            self._ops = [op for op in self._ops if id(op) not in gone]
            self._rows -= sum(op.count for op in ops)
            self.status = replace(self.status, unsaved_rows=self._rows)

    def take_all(self) -> list[SaveOp]:
        """Remove and return everything waiting (at the end, for the recovery file)."""
        with self._lock:
            ops, self._ops = self._ops, []
            self._rows = 0
            self.status = replace(self.status, unsaved_rows=0)
        return ops

    def drop_oldest(self, rows: int) -> int:
        """Drop at least ``rows`` rows, the oldest raw notifications first; returns how many were dropped."""
        dropped = 0
        with self._lock:
            for table in ("packets", None):
                kept: list[SaveOp] = []
                for op in self._ops:
                    if dropped < rows and isinstance(op, Rows) and table in (None, op.table):
                        dropped += op.count
                    else:
                        kept.append(op)
                self._ops = kept
            self._rows -= dropped
            self.status = replace(
                self.status, unsaved_rows=self._rows, lost_rows=self.status.lost_rows + dropped
            )
        return dropped

    def spilled(self, rows: int, path: str) -> None:
        """Note that ``rows`` rows went to the recovery file at ``path``."""
        with self._lock:
            self.status = replace(
                self.status, spilled_rows=self.status.spilled_rows + rows, recovery_path=path
            )
