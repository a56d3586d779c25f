"""The crash-safe recorder a live session writes through.

Every ``add_*`` call only appends to a buffer (O(1), no I/O), so the per-beat path never waits on the disk.
:meth:`SessionRecorder.flush` writes the buffers in one transaction; the live app runs
:meth:`flush_periodically` beside the pipeline (an offline driver calls :meth:`maybe_flush` between
packets), so a commit happens every ``flush_interval_s`` (0.5 s), beats or not, and never inside the
per-beat path.  A process killed at any moment therefore loses at
most the last second; its session is marked 'interrupted' the next time the database is opened.  If a
write fails (disk full), the buffers are kept and the error is raised, so nothing is dropped silently.

Times given to the recorder are on the injected monotonic clock; they are stored as seconds from the
session's start (``origin_s``).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from restbeat.beats import BeatQuality
from restbeat.store.database import StoreError, transaction
from restbeat.store.writes import (
    INSERT_ANNOTATION,
    INSERT_BEAT,
    INSERT_EVENT,
    INSERT_PACKET,
    INSERT_SNAPSHOT,
    SessionStart,
    finish_session,
    insert_session,
    to_json,
    upsert_strap,
)

_HRV_QUALITIES = frozenset({BeatQuality.GOOD, BeatQuality.CORRECTED})


class SessionRecorder:
    """Buffers one session's packets, beats, events, snapshots and annotations and commits them in batches."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        start: SessionStart,
        *,
        origin_s: float,
        clock: Callable[[], float] = time.monotonic,
        flush_interval_s: float = 0.5,
    ) -> None:
        self.conn = conn
        self.start = start
        self.origin_s = origin_s
        self.clock = clock
        self.flush_interval_s = flush_interval_s
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
        self._previous: tuple[int, float] | None = None  # (segment, rr_ms) of the last beat usable for HRV
        self._last_flush_s = clock()
        self.closed = False
        self.commits = 0

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
        """Details read from the strap's Device Information Service (written at once: rare)."""
        if self.start.strap_address is None:
            return
        with transaction(self.conn):
            upsert_strap(
                self.conn,
                self.start.strap_address,
                manufacturer=manufacturer,
                model=model,
                firmware=firmware,
            )

    def add_prompt(self, t_s: float, practice: str, reason: str, detail: dict[str, Any] | None = None) -> int:
        """A prompt shown to the person, written at once (rare); returns its id for the response."""
        self.flush()
        with transaction(self.conn):
            cursor = self.conn.execute(
                "INSERT INTO prompts (session_id, t_s, practice, reason, detail) VALUES (?, ?, ?, ?, ?)",
                (self.session_id, self._relative(t_s), practice, reason, to_json(detail)),
            )
        return int(cursor.lastrowid or 0)

    def set_prompt_response(self, prompt_id: int, response: str, t_s: float) -> None:
        """How the person answered a prompt: accepted, snoozed, dismissed or expired."""
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE prompts SET response = ?, response_t_s = ? WHERE id = ? AND session_id = ?",
                (response, self._relative(t_s), prompt_id, self.session_id),
            )

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
        """A practice done and its measured response, written at once; returns its id."""
        self.flush()
        with transaction(self.conn):
            cursor = self.conn.execute(
                """
                INSERT INTO outcomes (session_id, prompt_id, practice, started_t_s, ended_t_s, rating, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    self.session_id,
                    prompt_id,
                    practice,
                    self._relative(started_s),
                    self._relative(ended_s),
                    rating,
                    to_json(detail),
                ),
            )
        return int(cursor.lastrowid or 0)

    @property
    def pending(self) -> int:
        """Rows waiting for the next commit."""
        return (
            len(self._packets)
            + len(self._beats)
            + len(self._events)
            + len(self._snapshots)
            + len(self._annotations)
        )

    def maybe_flush(self) -> bool:
        """Commit if ``flush_interval_s`` has passed since the last commit; True when it did."""
        if self.clock() - self._last_flush_s < self.flush_interval_s:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        """Commit everything buffered in one transaction; on failure keep the buffers and raise
        :class:`StoreError`."""
        self._last_flush_s = self.clock()
        if not self.pending:
            return
        try:
            with transaction(self.conn):
                for statement, rows in self._buffers():
                    if rows:
                        self.conn.executemany(statement, rows)
        except sqlite3.Error as error:
            raise StoreError(
                f"session {self.session_id}: could not save {self.pending} rows ({error}); "
                "they are kept in memory and retried"
            ) from error
        for _, rows in self._buffers():
            rows.clear()
        self.commits += 1

    def _buffers(self) -> tuple[tuple[str, list[Any]], ...]:
        """Each buffer with the statement that writes it, in the order they are written."""
        return (
            (INSERT_PACKET, self._packets),
            (INSERT_BEAT, self._beats),
            (INSERT_EVENT, self._events),
            (INSERT_SNAPSHOT, self._snapshots),
            (INSERT_ANNOTATION, self._annotations),
        )

    async def flush_periodically(self) -> None:
        """Commit every ``flush_interval_s`` until cancelled or closed (run beside the pipeline)."""
        while not self.closed:
            # wake when the interval since the last commit (by a beat or by this loop) is up
            await asyncio.sleep(max(self._last_flush_s + self.flush_interval_s - self.clock(), 0.0))
            self.maybe_flush()

    def close(self, ended_utc: float | None = None, status: str = "complete") -> None:
        """Commit what is left and mark the session complete (or ``status``), ending at ``ended_utc`` (Unix
        s), by default the start plus the time elapsed on the clock."""
        if self.closed:
            return
        self.flush()
        end = ended_utc if ended_utc is not None else self.start.started_utc + self._relative(self.clock())
        with transaction(self.conn):
            finish_session(self.conn, self.session_id, end, status)
        self.closed = True


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
