"""The crash-safe recorder on an injected clock: nothing is written before a commit, commits come every
``flush_interval_s``, every kind of row lands as given, a failing write keeps everything for the retry, and
sessions of dead recorders are marked interrupted when the database is opened."""

from __future__ import annotations

import asyncio
import math
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from restbeat.beats import BeatQuality
from restbeat.store import recorder as recorder_module
from restbeat.store.database import StoreError, mark_interrupted_sessions, open_database, transaction
from restbeat.store.queries import (
    get_session,
    session_beats,
    session_packets,
    session_records,
    usable_windows,
)
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import SessionStart, successive_differences

STARTED_UTC = 1_700_000_000.0
ORIGIN_S = 5000.0  # the monotonic clock's reading when the session started

_TABLES = ("beats", "packets", "link_events", "snapshots", "annotations", "prompts", "outcomes")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = ORIGIN_S) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "restbeat.sqlite3"


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(db_path)
    yield connection
    connection.close()


@pytest.fixture
def other(db_path: Path, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A second connection to the same file: it sees only what has been committed."""
    connection = open_database(db_path)
    yield connection
    connection.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder(conn: sqlite3.Connection, clock: FakeClock) -> SessionRecorder:
    start = SessionStart(STARTED_UTC, "test", "on-shift", tz_offset_s=3600)
    return SessionRecorder(conn, start, origin_s=ORIGIN_S, clock=clock)


def _count(conn: sqlite3.Connection, table: str, session_id: int | None = None) -> int:
    if session_id is None:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    query = f"SELECT count(*) FROM {table} WHERE session_id = ?"
    return int(conn.execute(query, (session_id,)).fetchone()[0])


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {table: _count(conn, table) for table in _TABLES}


def _session_columns(conn: sqlite3.Connection, session_id: int) -> tuple[str, float | None, int | None]:
    status, ended_utc, writer_pid = conn.execute(
        "SELECT status, ended_utc, writer_pid FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return str(status), ended_utc, writer_pid


def _add_one_of_each(recorder: SessionRecorder, t_s: float) -> None:
    recorder.add_packet(t_s, 1, b"\x10\x48\xa0\x03")
    recorder.add_beat(t_s, 800.0, 0, BeatQuality.GOOD, "normal")
    recorder.add_event(t_s, "battery", {"level": 80})
    recorder.add_snapshot(t_s, 60.0, "good", 72.0, 41.0, 50.0, 70)
    recorder.add_annotation(t_s, "note")


# -- batching -------------------------------------------------------------------------------------------


def test_add_calls_write_nothing_until_a_commit(
    recorder: SessionRecorder, conn: sqlite3.Connection, other: sqlite3.Connection, clock: FakeClock
) -> None:
    empty = dict.fromkeys(_TABLES, 0)
    _add_one_of_each(recorder, clock())
    assert recorder.pending == 5
    assert recorder.commits == 0
    assert not conn.in_transaction  # buffered in memory, not in an open transaction
    assert _counts(other) == empty
    assert _counts(conn) == empty
    recorder.flush()
    assert recorder.pending == 0
    assert recorder.commits == 1
    expected = dict.fromkeys(_TABLES, 1) | {"prompts": 0, "outcomes": 0}
    assert _counts(other) == expected


def test_maybe_flush_commits_only_after_the_interval(
    recorder: SessionRecorder, other: sqlite3.Connection, clock: FakeClock
) -> None:
    assert recorder.flush_interval_s == 0.5
    # steps exact in binary, so "0.5 s on the clock" is exactly 0.5
    for k in range(3):
        clock.advance(0.125)
        recorder.add_beat(clock(), 800.0 + k, 0, BeatQuality.GOOD, "normal")
        assert not recorder.maybe_flush()
    assert _count(other, "beats") == 0
    clock.advance(0.0625 - 2**-20)  # just short of 0.5 s since the recorder started: no commit
    recorder.add_beat(clock(), 803.0, 0, BeatQuality.GOOD, "normal")
    assert not recorder.maybe_flush()
    assert _count(other, "beats") == 0
    assert recorder.commits == 0
    clock.advance(0.0625 + 2**-20)  # 0.5 s
    assert recorder.maybe_flush()
    assert recorder.commits == 1
    assert recorder.pending == 0
    assert _count(other, "beats") == 4

    # the interval starts again at the commit
    clock.advance(0.25)
    recorder.add_beat(clock(), 810.0, 0, BeatQuality.GOOD, "normal")
    assert not recorder.maybe_flush()
    clock.advance(0.25 - 2**-20)
    assert not recorder.maybe_flush()
    assert _count(other, "beats") == 4
    clock.advance(2**-20)
    assert recorder.maybe_flush()
    assert _count(other, "beats") == 5
    assert recorder.commits == 2

    # nothing buffered: the interval passing commits nothing
    clock.advance(5.0)
    recorder.maybe_flush()
    assert recorder.commits == 2


def test_a_second_connection_keeps_a_live_session_recording(recorder: SessionRecorder, db_path: Path) -> None:
    """Opening the database while this process records must not mark its own session interrupted."""
    reader = open_database(db_path)
    try:
        assert _session_columns(reader, recorder.session_id)[0] == "recording"
        assert mark_interrupted_sessions(reader) == []
    finally:
        reader.close()


# -- what lands -------------------------------------------------------------------------------------------

_BEATS: list[tuple[float, float, int, BeatQuality, float | None]] = [
    # (t_s from the start, rr_ms, segment, quality, expected drr_ms)
    (0.8, 800.0, 0, BeatQuality.GOOD, None),  # first beat: nothing before it
    (1.62, 820.0, 0, BeatQuality.CORRECTED, 20.0),  # corrected beats are usable
    (2.4, 780.0, 0, BeatQuality.GOOD, -40.0),
    (3.0, 600.0, 0, BeatQuality.EXCLUDED, None),  # excluded: no difference ...
    (3.8, 800.0, 0, BeatQuality.GOOD, None),  # ... and it breaks the series
    (4.6, 810.0, 0, BeatQuality.GOOD, 10.0),
    (5.4, 790.0, 1, BeatQuality.GOOD, None),  # a new segment breaks the series
    (6.2, 800.0, 1, BeatQuality.NO_CONTACT, None),  # not usable for HRV either
    (7.0, 805.0, 1, BeatQuality.GOOD, None),
    (7.8, 795.0, 1, BeatQuality.GOOD, -10.0),
    (8.6, 805.0, 1, BeatQuality.CORRECTED, 10.0),
    (9.0, 400.0, 1, BeatQuality.EXCLUDED, None),
    (9.8, 800.0, 2, BeatQuality.GOOD, None),  # segment change right after an excluded beat
    (10.6, 812.5, 2, BeatQuality.GOOD, 12.5),
]


def test_beats_relative_times_and_successive_differences(
    recorder: SessionRecorder, other: sqlite3.Connection
) -> None:
    for t_s, rr_ms, segment, quality, _ in _BEATS:
        kind = "normal" if quality < 2 else "out_of_range"
        recorder.add_beat(ORIGIN_S + t_s, rr_ms, segment, quality, kind)
    recorder.flush()
    rows = other.execute(
        "SELECT seq, t_s, rr_ms, segment, quality, kind, drr_ms FROM beats WHERE session_id = ? ORDER BY seq",
        (recorder.session_id,),
    ).fetchall()
    assert [row[0] for row in rows] == list(range(len(_BEATS)))
    assert [row[1] for row in rows] == pytest.approx([beat[0] for beat in _BEATS], abs=1e-9)
    assert [row[2] for row in rows] == [beat[1] for beat in _BEATS]
    assert [row[3] for row in rows] == [beat[2] for beat in _BEATS]
    assert [row[4] for row in rows] == [int(beat[3]) for beat in _BEATS]
    assert [row[5] for row in rows] == ["normal" if beat[3] < 2 else "out_of_range" for beat in _BEATS]
    assert [row[6] for row in rows] == [beat[4] for beat in _BEATS]

    # the live path and the batch path (imports) agree on every difference
    beats = session_beats(other, recorder.session_id)
    batch = successive_differences(beats.rr_ms, beats.segment, beats.quality)
    stored = np.array([np.nan if row[6] is None else row[6] for row in rows])
    np.testing.assert_array_equal(stored, batch)


def test_successive_differences_carry_across_commits(
    recorder: SessionRecorder, other: sqlite3.Connection
) -> None:
    recorder.add_beat(ORIGIN_S + 0.8, 800.0, 0, BeatQuality.GOOD, "normal")
    recorder.flush()
    recorder.add_beat(ORIGIN_S + 1.6, 830.0, 0, BeatQuality.GOOD, "normal")
    recorder.flush()
    drr = [row[0] for row in other.execute("SELECT drr_ms FROM beats ORDER BY seq")]
    assert drr == [None, 30.0]


def test_packets_keep_exact_bytes_and_order(recorder: SessionRecorder, other: sqlite3.Connection) -> None:
    packets = [
        (0.10, 1, b"\x10\x48\xa0\x03"),
        (0.10, 1, b"\x00"),  # same arrival time: order still kept
        (0.35, 1, b"\x16\x4b\x00\x00\x00\x00"),  # trailing zero bytes survive
        (0.90, 2, bytes(range(256))),
        (1.20, 2, b"\xff" * 20),
        (1.25, 3, b""),
    ]
    for arrival_s, connection, raw in packets:
        recorder.add_packet(ORIGIN_S + arrival_s, connection, raw)
    recorder.flush()
    stored = session_packets(other, recorder.session_id)
    assert [(c, raw) for _, c, raw in stored] == [(c, raw) for _, c, raw in packets]
    assert [t for t, _, _ in stored] == pytest.approx([t for t, _, _ in packets], abs=1e-9)
    assert {row[0] for row in other.execute("SELECT typeof(raw) FROM packets")} == {"blob"}
    seqs = [row[0] for row in other.execute("SELECT seq FROM packets ORDER BY seq")]
    assert seqs == list(range(len(packets)))


def test_events_keep_their_json_detail(recorder: SessionRecorder, other: sqlite3.Connection) -> None:
    detail = {"state": "connected", "attempt": 3, "nested": {"ok": True, "values": [1, 2.5, None]}}
    recorder.add_event(ORIGIN_S + 1.5, "state", detail)
    recorder.add_event(ORIGIN_S + 2.0, "battery")
    recorder.add_event(ORIGIN_S + 2.5, "strap", {"name": "Polar H10 ÅÖ", "firmware": "5.0.0"})
    recorder.flush()
    events = session_records(other, "link_events", recorder.session_id)
    assert [(e["t_s"], e["kind"], e["detail"]) for e in events] == [
        (pytest.approx(1.5), "state", detail),
        (pytest.approx(2.0), "battery", {}),
        (pytest.approx(2.5), "strap", {"name": "Polar H10 ÅÖ", "firmware": "5.0.0"}),
    ]


def test_snapshots_store_nan_as_null(recorder: SessionRecorder, other: sqlite3.Connection) -> None:
    recorder.add_snapshot(ORIGIN_S + 60.0, 60.0, "good", 71.5, 42.25, 55.0, 72)
    recorder.add_snapshot(ORIGIN_S + 120.0, 60.0, "low", math.nan, math.nan, 30.0, 3)
    recorder.add_snapshot(ORIGIN_S + 180.0, 60.0, "none", None, math.inf, None, 0)
    recorder.flush()
    rows = other.execute(
        "SELECT t_s, window_s, quality, hr_bpm, rmssd_ms, sdnn_ms, beats FROM snapshots ORDER BY id"
    ).fetchall()
    assert rows == [
        (60.0, 60.0, "good", 71.5, 42.25, 55.0, 72),
        (120.0, 60.0, "low", None, None, 30.0, 3),
        (180.0, 60.0, "none", None, None, None, 0),
    ]


def test_usable_windows_are_the_ok_ones_of_that_length_in_time_order(
    recorder: SessionRecorder, other: sqlite3.Connection
) -> None:
    recorder.add_snapshot(ORIGIN_S + 120.0, 60.0, "ok", None, 30.0, 40.0, 70)
    recorder.add_snapshot(ORIGIN_S + 60.0, 60.0, "ok", 71.5, 42.25, 55.0, 72)
    recorder.add_snapshot(ORIGIN_S + 60.0, 300.0, "ok", 70.0, 45.0, 60.0, 350)
    recorder.add_snapshot(ORIGIN_S + 180.0, 60.0, "warming_up", None, None, None, 10)
    recorder.flush()
    assert usable_windows(other, [recorder.session_id, 999]) == {
        recorder.session_id: [(42.25, 71.5), (30.0, None)]
    }
    assert usable_windows(other, [recorder.session_id], 300.0) == {recorder.session_id: [(45.0, 70.0)]}


def test_annotations(recorder: SessionRecorder, other: sqlite3.Connection) -> None:
    recorder.add_annotation(ORIGIN_S + 3600.0, "hard case at 14:10")
    recorder.add_annotation(ORIGIN_S + 3700.5, "")
    recorder.flush()
    records = session_records(other, "annotations", recorder.session_id)
    assert [(r["t_s"], r["text"]) for r in records] == [(3600.0, "hard case at 14:10"), (3700.5, "")]


def test_prompts_responses_and_outcomes(
    recorder: SessionRecorder, other: sqlite3.Connection, clock: FakeClock
) -> None:
    recorder.add_beat(ORIGIN_S + 0.8, 800.0, 0, BeatQuality.GOOD, "normal")
    recorder.add_annotation(ORIGIN_S + 0.9, "before the prompt")
    prompt_id = recorder.add_prompt(ORIGIN_S + 10.0, "breathing", "rmssd low", {"rmssd_ms": 18.5})
    assert isinstance(prompt_id, int)
    assert prompt_id > 0
    # the prompt flushed what was buffered first, without any flush() call
    assert recorder.pending == 0
    assert _count(other, "beats") == 1
    assert _count(other, "annotations") == 1
    prompts = session_records(other, "prompts", recorder.session_id)
    assert len(prompts) == 1
    assert prompts[0]["id"] == prompt_id
    assert prompts[0]["t_s"] == 10.0
    assert (prompts[0]["practice"], prompts[0]["reason"]) == ("breathing", "rmssd low")
    assert prompts[0]["detail"] == {"rmssd_ms": 18.5}
    assert prompts[0]["response"] is None

    recorder.set_prompt_response(prompt_id, "accepted", ORIGIN_S + 14.0)
    prompt = session_records(other, "prompts", recorder.session_id)[0]
    assert (prompt["response"], prompt["response_t_s"]) == ("accepted", 14.0)

    second = recorder.add_prompt(ORIGIN_S + 20.0, "walk", "long sitting")
    assert second != prompt_id
    recorder.set_prompt_response(second, "snoozed", ORIGIN_S + 21.0)

    recorder.add_beat(ORIGIN_S + 200.0, 790.0, 0, BeatQuality.GOOD, "normal")
    outcome_id = recorder.add_outcome(
        "breathing", ORIGIN_S + 15.0, ORIGIN_S + 195.0, prompt_id=prompt_id, rating=4, detail={"drmssd": 6}
    )
    assert outcome_id > 0
    assert _count(other, "beats") == 2  # the outcome flushed first too
    outcomes = session_records(other, "outcomes", recorder.session_id)
    assert [(o["id"], o["prompt_id"], o["practice"]) for o in outcomes] == [
        (outcome_id, prompt_id, "breathing")
    ]
    assert (outcomes[0]["started_t_s"], outcomes[0]["ended_t_s"]) == (15.0, 195.0)
    assert (outcomes[0]["rating"], outcomes[0]["detail"]) == (4, {"drmssd": 6})

    unprompted = recorder.add_outcome("stretch", ORIGIN_S + 300.0, ORIGIN_S + 360.0)
    record = session_records(other, "outcomes", recorder.session_id)[-1]
    assert (record["id"], record["prompt_id"], record["rating"], record["detail"]) == (
        unprompted,
        None,
        None,
        {},
    )
    assert [p["response"] for p in session_records(other, "prompts", recorder.session_id)] == [
        "accepted",
        "snoozed",
    ]


def test_a_prompt_response_touches_only_its_own_session(
    conn: sqlite3.Connection, clock: FakeClock, other: sqlite3.Connection
) -> None:
    first = SessionRecorder(
        conn, SessionStart(STARTED_UTC, "test", "on-shift"), origin_s=ORIGIN_S, clock=clock
    )
    second = SessionRecorder(
        conn, SessionStart(STARTED_UTC, "test", "on-shift"), origin_s=ORIGIN_S, clock=clock
    )
    prompt_id = first.add_prompt(ORIGIN_S + 1.0, "breathing", "test")
    second.set_prompt_response(prompt_id, "dismissed", ORIGIN_S + 2.0)
    assert session_records(other, "prompts", first.session_id)[0]["response"] is None


# -- closing ----------------------------------------------------------------------------------------------


def test_close_marks_the_session_complete(
    recorder: SessionRecorder, other: sqlite3.Connection, clock: FakeClock, db_path: Path
) -> None:
    assert _session_columns(other, recorder.session_id) == ("recording", None, os.getpid())
    recorder.add_beat(clock(), 800.0, 0, BeatQuality.GOOD, "normal")
    clock.advance(42.5)
    recorder.close()
    assert recorder.closed
    assert recorder.pending == 0
    assert _count(other, "beats") == 1  # what was left is committed
    status, ended_utc, writer_pid = _session_columns(other, recorder.session_id)
    assert status == "complete"
    assert ended_utc == pytest.approx(STARTED_UTC + 42.5, abs=1e-6)
    assert writer_pid is None
    session = get_session(other, recorder.session_id)
    assert session is not None
    assert session.duration_s == pytest.approx(42.5, abs=1e-6)

    commits = recorder.commits
    clock.advance(100.0)
    recorder.close()  # harmless: nothing changes
    assert recorder.commits == commits
    assert _session_columns(other, recorder.session_id) == (status, ended_utc, None)
    assert _count(other, "beats") == 1

    reopened = open_database(db_path)  # a complete session is never marked interrupted
    try:
        assert _session_columns(reopened, recorder.session_id) == (status, ended_utc, None)
    finally:
        reopened.close()


def test_close_with_an_explicit_end_and_status(recorder: SessionRecorder, other: sqlite3.Connection) -> None:
    recorder.close(ended_utc=STARTED_UTC + 7.0, status="interrupted")
    assert _session_columns(other, recorder.session_id) == ("interrupted", STARTED_UTC + 7.0, None)


# -- a failing write --------------------------------------------------------------------------------------


def _fill_until_full(recorder: SessionRecorder, conn: sqlite3.Connection) -> int:
    """Commit a little, cap the file at its current size (a full disk), buffer far more than fits; returns
    how many beats were buffered in all."""
    for k in range(10):
        recorder.add_beat(ORIGIN_S + 0.8 * (k + 1), 800.0, 0, BeatQuality.GOOD, "normal")
    recorder.flush()
    page_count = int(conn.execute("PRAGMA page_count").fetchone()[0])
    conn.execute(f"PRAGMA max_page_count = {page_count}")
    total = 10
    for k in range(10, 5000):
        recorder.add_beat(ORIGIN_S + 0.8 * (k + 1), 800.0 + k % 13, 0, BeatQuality.GOOD, "normal")
        if k % 5 == 0:
            recorder.add_packet(ORIGIN_S + 0.8 * (k + 1), 1, bytes([0x10, k % 256, 0x20, 0x03]))
        total += 1
    recorder.add_event(ORIGIN_S + 100.0, "battery", {"level": 55})
    recorder.add_snapshot(ORIGIN_S + 100.0, 60.0, "good", 70.0, 40.0, 50.0, 75)
    recorder.add_annotation(ORIGIN_S + 100.0, "disk full soon")
    return total


def test_a_failing_write_keeps_the_buffers_and_the_retry_lands_every_row_once(
    recorder: SessionRecorder, conn: sqlite3.Connection, other: sqlite3.Connection
) -> None:
    total = _fill_until_full(recorder, conn)
    pending = recorder.pending
    commits = recorder.commits
    assert pending == (total - 10) + 998 + 3

    with pytest.raises(StoreError, match=rf"session {recorder.session_id}\b") as raised:
        recorder.flush()
    assert str(pending) in str(raised.value)
    assert "database or disk is full" in str(raised.value)  # the cause, not a failed ROLLBACK after it
    assert recorder.pending == pending
    assert recorder.commits == commits
    assert not conn.in_transaction
    assert _count(other, "beats") == 10  # the failed batch left nothing behind
    assert _count(other, "packets") == 0

    with pytest.raises(StoreError):  # still full: still kept
        recorder.flush()
    assert recorder.pending == pending

    conn.execute("PRAGMA max_page_count = 1000000")
    recorder.flush()
    assert recorder.pending == 0
    assert recorder.commits == commits + 1
    sid = recorder.session_id
    assert _count(other, "beats", sid) == total
    seq_stats = other.execute("SELECT count(DISTINCT seq), min(seq), max(seq) FROM beats").fetchone()
    assert seq_stats == (total, 0, total - 1)
    assert _count(other, "packets", sid) == 998
    assert other.execute("SELECT count(DISTINCT seq), max(seq) FROM packets").fetchone() == (998, 997)
    assert (_count(other, "link_events"), _count(other, "snapshots"), _count(other, "annotations")) == (
        1,
        1,
        1,
    )
    # and the successive differences did not restart at the failure
    assert _count(other, "beats") - 1 == int(other.execute("SELECT count(drr_ms) FROM beats").fetchone()[0])
    assert other.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- the periodic commit ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_flush_periodically_commits_without_beats(
    conn: sqlite3.Connection, other: sqlite3.Connection
) -> None:
    recorder = SessionRecorder(
        conn,
        SessionStart(time.time(), "test", "on-shift"),
        origin_s=time.monotonic(),
        flush_interval_s=0.01,
    )
    task = asyncio.create_task(recorder.flush_periodically())
    try:
        recorder.add_beat(time.monotonic(), 800.0, 0, BeatQuality.GOOD, "normal")
        recorder.add_event(time.monotonic(), "battery", {"level": 90})
        deadline = time.monotonic() + 2.0
        while recorder.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.005)  # no beat arrives and nobody calls maybe_flush
        assert recorder.pending == 0
        assert recorder.commits == 1
        assert (_count(other, "beats"), _count(other, "link_events")) == (1, 1)

        await asyncio.sleep(0.1)
        assert recorder.commits == 1  # nothing buffered: nothing committed

        recorder.add_annotation(time.monotonic(), "later")
        deadline = time.monotonic() + 2.0
        while recorder.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        assert recorder.commits == 2
        assert _count(other, "annotations") == 1
        assert not task.done()
    finally:
        recorder.close()
    await asyncio.wait_for(task, timeout=1.0)  # a closed recorder ends the loop by itself
    assert task.exception() is None


class VirtualSleep:
    """``asyncio.sleep`` for the recorder on the fake clock: a sleeper wakes when the test moves the clock
    past its wake time, so the order of commits and beats is exact."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.clock() + delay, future))
        await future

    async def run_until(self, t_s: float) -> None:
        """Move the clock to ``t_s``, waking every sleeper due on the way at its own time."""
        await asyncio.sleep(0)
        while due := sorted((s for s in self.sleepers if s[0] <= t_s), key=lambda s: s[0]):
            wake, future = due[0]
            self.sleepers.remove(due[0])
            self.clock.now = max(self.clock.now, wake)
            future.set_result(None)
            for _ in range(3):  # let the woken task run up to its next sleep
                await asyncio.sleep(0)
        self.clock.now = max(self.clock.now, t_s)


async def _last_beat_commit_delay(
    recorder: SessionRecorder, virtual: VirtualSleep, clock: FakeClock
) -> float:
    """The worst phase for the periodic commit: a beat-driven commit just after the periodic task went to
    sleep, then one more beat and silence; returns how long that last beat waited for its commit (s)."""
    task = asyncio.create_task(recorder.flush_periodically())
    try:
        await virtual.run_until(ORIGIN_S + 0.0625)
        recorder.add_beat(clock(), 800.0, 0, BeatQuality.GOOD, "normal")
        recorder.flush()  # as maybe_flush does on a beat
        await virtual.run_until(ORIGIN_S + 0.0625 + 2**-10)
        arrived = clock()
        recorder.add_beat(arrived, 800.0, 0, BeatQuality.GOOD, "normal")
        assert not recorder.maybe_flush()
        step = 2**-7
        while recorder.pending and clock() < arrived + 4 * recorder.flush_interval_s:
            await virtual.run_until(clock() + step)
        assert recorder.pending == 0
        assert not task.done()
        return clock() - arrived
    finally:
        recorder.close()
        await virtual.run_until(clock() + 1.0)
        await asyncio.wait_for(task, timeout=1.0)


@pytest.mark.asyncio
async def test_the_periodic_commit_comes_within_two_intervals_of_the_last_beat(
    recorder: SessionRecorder, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What "loses at most the last second" rests on when the beats stop: 2 x 0.5 s."""
    virtual = VirtualSleep(clock)
    monkeypatch.setattr(recorder_module, "asyncio", SimpleNamespace(sleep=virtual.sleep))
    delay = await _last_beat_commit_delay(recorder, virtual, clock)
    assert delay <= 2 * recorder.flush_interval_s


@pytest.mark.asyncio
async def test_the_periodic_commit_comes_within_one_interval_of_the_last_beat(
    recorder: SessionRecorder, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    virtual = VirtualSleep(clock)
    monkeypatch.setattr(recorder_module, "asyncio", SimpleNamespace(sleep=virtual.sleep))
    delay = await _last_beat_commit_delay(recorder, virtual, clock)
    assert delay <= recorder.flush_interval_s + 2**-7


# -- sessions of dead recorders ---------------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_dead_writers_sessions_become_interrupted_on_open(db_path: Path) -> None:
    conn = open_database(db_path)
    clock = FakeClock()
    dead = SessionRecorder(
        conn, SessionStart(STARTED_UTC, "test", "on-shift"), origin_s=ORIGIN_S, clock=clock
    )
    for k in range(1, 16):
        dead.add_beat(ORIGIN_S + 0.8 * k, 800.0, 0, BeatQuality.GOOD, "normal")
    dead.add_packet(ORIGIN_S + 11.9, 1, b"\x10\x48")
    dead.add_event(ORIGIN_S + 5.0, "battery", {"level": 80})
    dead.flush()
    live = SessionRecorder(
        conn, SessionStart(STARTED_UTC + 100.0, "test", "on-shift"), origin_s=ORIGIN_S, clock=clock
    )
    live.add_beat(ORIGIN_S + 1.0, 800.0, 0, BeatQuality.GOOD, "normal")
    live.flush()
    late_packet = SessionRecorder(
        conn, SessionStart(STARTED_UTC + 200.0, "test", "on-shift"), origin_s=ORIGIN_S, clock=clock
    )
    late_packet.add_beat(ORIGIN_S + 2.0, 800.0, 0, BeatQuality.GOOD, "normal")
    late_packet.add_packet(ORIGIN_S + 3.5, 1, b"\x10\x48")  # the last thing stored is a packet
    late_packet.flush()
    nothing = SessionRecorder(
        conn, SessionStart(STARTED_UTC + 300.0, "test", "on-shift"), origin_s=ORIGIN_S, clock=clock
    )
    done = SessionRecorder(
        conn, SessionStart(STARTED_UTC + 400.0, "test", "on-shift"), origin_s=ORIGIN_S, clock=clock
    )
    done.close(ended_utc=STARTED_UTC + 410.0)
    pid = _dead_pid()
    with transaction(conn):
        conn.executemany(
            "UPDATE sessions SET writer_pid = ? WHERE id = ?",
            [(pid, dead.session_id), (pid, late_packet.session_id), (None, nothing.session_id)],
        )
    conn.close()

    reopened = open_database(db_path)
    try:
        status, ended_utc, writer_pid = _session_columns(reopened, dead.session_id)
        assert status == "interrupted"
        assert writer_pid is None
        assert ended_utc == pytest.approx(STARTED_UTC + 12.0, abs=1e-6)  # start + the last beat's time
        assert _count(reopened, "beats", dead.session_id) == 15  # kept, every beat
        assert _count(reopened, "packets", dead.session_id) == 1
        assert _count(reopened, "link_events", dead.session_id) == 1

        assert _session_columns(reopened, live.session_id) == ("recording", None, os.getpid())

        status, ended_utc, _ = _session_columns(reopened, late_packet.session_id)
        assert status == "interrupted"
        assert ended_utc == pytest.approx(STARTED_UTC + 200.0 + 3.5, abs=1e-6)

        # a recording session without a writer ends where it started
        status, ended_utc, _ = _session_columns(reopened, nothing.session_id)
        assert status == "interrupted"
        assert ended_utc == pytest.approx(STARTED_UTC + 300.0, abs=1e-6)

        assert _session_columns(reopened, done.session_id) == ("complete", STARTED_UTC + 410.0, None)
        assert mark_interrupted_sessions(reopened) == []  # already marked: nothing more to do
    finally:
        reopened.close()
