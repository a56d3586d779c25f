"""The crash-safe recorder a live session writes through.

Every ``add_*`` call only appends to a buffer (O(1), no I/O), so the per-beat path never waits on the disk.
:meth:`SessionRecorder.flush` turns the buffers into write operations (:mod:`restbeat.store.save_ops`)
queued in order (:mod:`restbeat.store.save_queue`); the live app runs :meth:`flush_periodically` beside
the pipeline (an offline driver calls :meth:`maybe_flush` between packets), so a commit happens every
``flush_interval_s`` (0.5 s), beats or not, and never inside the per-beat path.  A process killed at any
moment therefore loses at most the last second; its session is marked 'interrupted' the next time the
database is opened.

Offline (the default) the queue is written at once on the caller's connection; a failed write keeps
everything queued and raises :class:`StoreError`.  A live session (``run_session`` calls
:meth:`start_background`) writes from the :class:`~restbeat.store.background_writer.BackgroundWriter`
thread instead: a locked database or a full
disk never blocks the event loop, rows stay in memory (bounded; see :mod:`restbeat.store.save_queue`) and
are retried with backoff, :meth:`status` says what is not saved and why, and :meth:`close` writes
everything or puts what it could not write in a recovery file that ``restbeat import`` reads.

Times given to the recorder are on the injected monotonic clock; they are stored as seconds from the
session's start (``origin_s``).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from restbeat.beats import BeatQuality
from restbeat.store.background_writer import BackgroundWriter
from restbeat.store.database import StoreError, transaction
from restbeat.store.recovery_file import RecoveryFile, header
from restbeat.store.save_ops import (
    NewOutcome,
    NewPrompt,
    PromptAnswer,
    Rows,
    SaveOp,
    SessionEnd,
    StrapDetails,
    failure_reason,
)
from restbeat.store.save_queue import SaveQueue, SaveReport, SaveStatus
from restbeat.store.writes import SessionStart, insert_session, to_json

_HRV_QUALITIES = frozenset({BeatQuality.GOOD, BeatQuality.CORRECTED})
CLOSE_TIMEOUT_S = 5.0  # how long stopping a live session keeps retrying before the recovery file


class SessionRecorder:
    """Buffers one session's packets, beats, events, snapshots and annotations and commits them in batches;
    see the module docstring for ``background``."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        start: SessionStart,
        *,
        origin_s: float,
        clock: Callable[[], float] = time.monotonic,
        flush_interval_s: float = 0.5,
        background: bool = False,
        max_unsaved_rows: int | None = None,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
    ) -> None:
        self.conn = conn
        self.start = start
        self.origin_s = origin_s
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.close_timeout_s = close_timeout_s
        with transaction(conn):
            self.session_id = insert_session(conn, start, recording=True)
        self._packets: list[tuple[int, int, float, int, bytes]] = []
        self._beats: list[tuple[int, int, float, float, int, int, str, float | None]] = []
        self._events: list[tuple[int, float, str, str]] = []
        self._snapshots: list[
            tuple[int, float, float, str, float | None, float | None, float | None, int]
        ] = []
        self._annotations: list[tuple[int, float, str]] = []
        self._packet_seq = 0
        self._beat_seq = 0
        self._next_key = -1  # provisional ids of prompts and outcomes
        self._previous: tuple[int, float] | None = None  # (segment, rr_ms) of the last beat usable for HRV
        self._last_flush_s = clock()
        self.closed = False
        self.commits = 0
        self.queue = SaveQueue(clock) if max_unsaved_rows is None else SaveQueue(clock, max_unsaved_rows)
        self.writer: BackgroundWriter | None = None
        if background:
            self.start_background()

    def start_background(self) -> None:
        """From now on write from the background writer's thread (a live session, once its loop runs)."""
        if self.writer is not None:
            return
        database = _database_file(self.conn)
        self.queue.folder = str(Path(database).parent)
        self.recovery = RecoveryFile(
            _recovery_candidates(Path(database), self.session_id),
            header(self.session_id, database, self.start),
        )
        self.writer = BackgroundWriter(self.queue, database, self.recovery, clock=self.clock)
        self.writer.start()
        self.flush()

    def _relative(self, t_s: float) -> float:
        return t_s - self.origin_s

    def add_packet(self, arrival_s: float, connection: int, raw: bytes) -> None:
        """One notification exactly as the strap sent it."""
        self._packets.append((self.session_id, self._packet_seq, self._relative(arrival_s), connection, raw))
        self._packet_seq += 1

    def add_beat(self, t_s: float, rr_ms: float, segment: int, quality: BeatQuality, kind: str) -> None:
        """One corrected beat (time of its ending beat, RR ms, segment, quality, artifact class)."""
        drr: float | None = None
        usable = quality in _HRV_QUALITIES
        if usable and self._previous is not None and self._previous[0] == segment:
            drr = rr_ms - self._previous[1]
        self._previous = (segment, rr_ms) if usable else None
        self._beats.append(
            (
                self.session_id,
                self._beat_seq,
                self._relative(t_s),
                rr_ms,
                segment,
                int(quality),
                str(kind),
                drr,
            )
        )
        self._beat_seq += 1

    def add_event(self, t_s: float, kind: str, detail: dict[str, Any] | None = None) -> None:
        """A link event: state change, battery, contact, strap details, bad packet."""
        self._events.append((self.session_id, self._relative(t_s), kind, to_json(detail)))

    def add_snapshot(
        self,
        t_s: float,
        window_s: float,
        quality: str,
        hr_bpm: float | None,
        rmssd_ms: float | None,
        sdnn_ms: float | None,
        beats: int,
    ) -> None:
        """One window's metrics (NaN is stored as NULL)."""
        self._snapshots.append(
            (
                self.session_id,
                self._relative(t_s),
                window_s,
                quality,
                _finite(hr_bpm),
                _finite(rmssd_ms),
                _finite(sdnn_ms),
                beats,
            )
        )

    def add_annotation(self, t_s: float, text: str) -> None:
        """A free-text note at a moment of the session ("hard case at 14:10")."""
        self._annotations.append((self.session_id, self._relative(t_s), text))

    def update_strap(
        self, *, manufacturer: str | None = None, model: str | None = None, firmware: str | None = None
    ) -> None:
        """Details read from the strap's Device Information Service (rare: queued and written at once)."""
        if self.start.strap_address is None:
            return
        self._queue_now([StrapDetails(self.start.strap_address, manufacturer, model, firmware)])

    def add_prompt(self, t_s: float, practice: str, reason: str, detail: dict[str, Any] | None = None) -> int:
        """A prompt shown to the person, written at once (rare).  Returns its id for the answer: the row id
        offline; a provisional (negative) id in the background, resolved when written (:meth:`stored_id`)."""
        key = self._key()
        self._queue_now(
            [NewPrompt(key, self.session_id, self._relative(t_s), practice, reason, to_json(detail))]
        )
        return self.stored_id(key) or key

    def set_prompt_response(self, prompt_id: int, response: str, t_s: float) -> None:
        """How the person answered a prompt: accepted, snoozed, dismissed or expired."""
        self._queue_now([PromptAnswer(prompt_id, self.session_id, response, self._relative(t_s))])

    def add_outcome(
        self,
        practice: str,
        started_s: float,
        ended_s: float,
        *,
        prompt_id: int | None = None,
        rating: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """A practice done and its measured response, written at once; returns its id (as
        :meth:`add_prompt`)."""
        key = self._key()
        outcome = NewOutcome(
            key,
            self.session_id,
            prompt_id,
            practice,
            self._relative(started_s),
            self._relative(ended_s),
            rating,
            to_json(detail),
        )
        self._queue_now([outcome])
        return self.stored_id(key) or key

    def stored_id(self, provisional: int) -> int | None:
        """The row id of a prompt or outcome (as returned by :meth:`add_prompt`), None until written."""
        return self.queue.ids.resolve(provisional)

    def _key(self) -> int:
        key, self._next_key = self._next_key, self._next_key - 1
        return key

    def _queue_now(self, ops: list[SaveOp]) -> None:
        """Queue the buffers and ``ops`` and write them now (offline) or wake the writer (background)."""
        self._queue_buffers()
        self.queue.put(ops)
        self._write()

    @property
    def pending(self) -> int:
        """Rows waiting for the next commit (buffered or queued)."""
        return (
            len(self._packets)
            + len(self._beats)
            + len(self._events)
            + len(self._snapshots)
            + len(self._annotations)
            + self.queue.rows
        )

    def status(self) -> SaveStatus:
        """What is not saved and why (the live screen's line: ``status().text(now)``)."""
        return self.queue.status

    def maybe_flush(self) -> bool:
        """Commit if ``flush_interval_s`` has passed since the last commit; True when it did."""
        if self.clock() - self._last_flush_s < self.flush_interval_s:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        """Commit everything buffered: offline in one transaction (on failure everything stays queued and
        :class:`StoreError` is raised), in the background by waking the writer."""
        self._last_flush_s = self.clock()
        self._queue_buffers()
        self._write()

    def _queue_buffers(self) -> None:
        ops: list[SaveOp] = []
        for table, rows in self._buffers():
            if rows:
                ops.append(Rows(table, tuple(rows)))
                rows.clear()
        self.queue.put(ops)

    def _write(self) -> None:
        if self.writer is not None:
            self.writer.kick()
            return
        if not len(self.queue):
            return
        error = self.queue.try_write(self.conn)
        if error is not None:
            raise StoreError(
                f"session {self.session_id}: could not save {self.pending} rows ({error}); "
                "they are kept in memory and retried"
            ) from error
        self.commits += 1

    def _buffers(self) -> tuple[tuple[str, list[Any]], ...]:
        """Each buffer with its table, in the order they are written."""
        return (
            ("packets", self._packets),
            ("beats", self._beats),
            ("link_events", self._events),
            ("snapshots", self._snapshots),
            ("annotations", self._annotations),
        )

    async def flush_periodically(self) -> None:
        """Commit every ``flush_interval_s`` until cancelled or closed (run beside the pipeline)."""
        while not self.closed:
            # wake when the interval since the last commit (by a beat or by this loop) is up
            await asyncio.sleep(max(self._last_flush_s + self.flush_interval_s - self.clock(), 0.0))
            self.maybe_flush()

    def close(self, ended_utc: float | None = None, status: str = "complete") -> SaveReport:
        """Commit what is left and mark the session complete (or ``status``), ending at ``ended_utc`` (Unix
        s), by default the start plus the time elapsed on the clock.  In the background, retries for up
        to ``close_timeout_s`` and then puts what is still unsaved in the recovery file (reported)."""
        if self.closed:
            return SaveReport(self.session_id, saved_all=True)
        end = ended_utc if ended_utc is not None else self.start.started_utc + self._relative(self.clock())
        self._queue_buffers()
        self.queue.put([SessionEnd(self.session_id, end, status)])
        if self.writer is None:
            self._write()
            self.closed = True
            return SaveReport(
                self.session_id, saved_all=True, set_aside_rows=self.queue.status.set_aside_rows
            )
        stopped = self.writer.stop(self.close_timeout_s)
        self.closed = True
        if not stopped:  # still inside a write: its rows may yet land, so they go nowhere else
            hung = f"the database did not answer for {self.close_timeout_s + 30:.0f} s"
            return SaveReport(self.session_id, saved_all=False, reason=hung, lost_rows=self.queue.rows)
        return self._report_leftovers()

    def _report_leftovers(self) -> SaveReport:
        """After the writer stopped: what it could not write goes to the recovery file."""
        status = self.queue.status
        leftovers = self.queue.take_all()
        reason = status.reason
        if self.writer is not None and self.writer.crash is not None:
            reason = f"the writer stopped ({failure_reason(self.writer.crash)})"
        rows = sum(op.count for op in leftovers if isinstance(op, Rows))
        lost = status.lost_rows
        if leftovers:
            try:
                self.recovery.append([self._resolved(op) for op in leftovers])
            except OSError as error:
                reason = f"{reason}; {error}"
                lost += sum(op.count for op in leftovers)
                rows = 0
        spilled = status.spilled_rows + rows
        return SaveReport(
            self.session_id,
            saved_all=not leftovers and not status.spilled_rows,
            reason=reason,
            recovery_rows=spilled,
            recovery_paths=tuple(str(path) for path in self.recovery.paths),
            lost_rows=lost,
            set_aside_rows=status.set_aside_rows,
        )

    def _resolved(self, op: SaveOp) -> SaveOp:
        """``op`` with the provisional ids already written replaced by their row ids (for the file)."""
        ids = self.queue.ids
        if isinstance(op, PromptAnswer) and (known := ids.resolve(op.key)) is not None:
            return PromptAnswer(known, op.session_id, op.response, op.t_s)
        if isinstance(op, NewOutcome) and op.prompt_key is not None:
            known = ids.resolve(op.prompt_key)
            if known is not None:
                return NewOutcome(
                    op.key,
                    op.session_id,
                    known,
                    op.practice,
                    op.started_t_s,
                    op.ended_t_s,
                    op.rating,
                    op.detail,
                )
        return op


def _database_file(conn: sqlite3.Connection) -> str:
    """The file behind ``conn``'s main database (a background writer needs its own connection to it)."""
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main" and file:
            return str(file)
    raise StoreError("a background recorder needs a database file, not an in-memory database")


def _recovery_candidates(database: Path, session_id: int) -> list[Path]:
    """Where a recovery file may go: beside the database, else the temporary folder, else home."""
    name = f"{database.stem}.session-{session_id}.recovery.jsonl"
    folders = [database.parent, Path(tempfile.gettempdir()), Path.home()]
    return [folder / name for folder in dict.fromkeys(folders)]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
