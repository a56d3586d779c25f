"""kill -9 at any moment loses at most the last second, and the session reopens cleanly: marked interrupted
and kept.  A recording process (``record_until_killed.py``) is killed five times at random moments into
the same database; after each kill the database must pass its integrity check, hold every beat the process
had reported committed, and hold beats up to within a second of the kill."""

from __future__ import annotations

import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from restbeat.store.database import open_database

SCRIPT = Path(__file__).with_name("record_until_killed.py")
ROUNDS = 5
MAX_LOST_S = 1.0
STARTUP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Kill:
    """One killed recording: its session, when it started and was killed (Unix s), what it had reported
    committed, and what it wrote on stderr."""

    session_id: int
    started_utc: float
    kill_utc: float
    committed_beats: int
    commits: int
    stderr: str


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _record_and_kill(db_path: Path, delay_s: float) -> Kill:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        try:
            first = lines.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            first = None
        if first is None or not first.startswith("started "):
            process.kill()
            process.wait()
            raise AssertionError(f"the recorder did not start: {first!r}\n{process.stderr.read()}")
        _, session_id, started_utc = first.split()
        time.sleep(delay_s)
        assert process.poll() is None, f"the recorder stopped by itself:\n{process.stderr.read()}"
        kill_utc = time.time()
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10.0) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=10.0)
    # everything in the pipe was written before the process died, so before the kill
    committed_beats, commits = 0, 0
    while (line := lines.get_nowait()) is not None:
        word, sid, beats, _ = line.split()
        assert (word, sid) == ("committed", session_id), line
        assert int(beats) >= committed_beats
        committed_beats, commits = int(beats), commits + 1
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    return Kill(int(session_id), float(started_utc), kill_utc, committed_beats, commits, stderr)


def _fingerprint(conn: sqlite3.Connection, session_id: int) -> tuple[int, int, int, float, float]:
    """Beats, packets, events, and sums over the beats' times and RR values."""
    beats, t_sum, rr_sum = conn.execute(
        "SELECT count(*), total(t_s), total(rr_ms) FROM beats WHERE session_id = ?", (session_id,)
    ).fetchone()
    packets = conn.execute("SELECT count(*) FROM packets WHERE session_id = ?", (session_id,)).fetchone()[0]
    events = conn.execute("SELECT count(*) FROM link_events WHERE session_id = ?", (session_id,)).fetchone()[
        0
    ]
    return int(beats), int(packets), int(events), float(t_sum), float(rr_sum)


def _check_killed_session(conn: sqlite3.Connection, kill: Kill) -> float:
    """The killed session is interrupted and kept, lost nothing committed and at most the last second;
    returns the seconds lost."""
    status, started_utc, ended_utc, writer_pid = conn.execute(
        "SELECT status, started_utc, ended_utc, writer_pid FROM sessions WHERE id = ?", (kill.session_id,)
    ).fetchone()
    assert status == "interrupted"
    assert writer_pid is None
    assert started_utc == kill.started_utc
    beats, max_seq, last_t_s = conn.execute(
        "SELECT count(*), max(seq), max(t_s) FROM beats WHERE session_id = ?", (kill.session_id,)
    ).fetchone()
    assert beats >= kill.committed_beats, "a committed beat was lost"
    if beats:
        assert max_seq == beats - 1  # no hole: every beat up to the last one stored is there
    newest_utc = started_utc + (last_t_s if beats else 0.0)
    lost_s = kill.kill_utc - newest_utc
    assert lost_s <= MAX_LOST_S, f"the last {lost_s:.3f} s before the kill were lost"

    last_packet, last_event = conn.execute(
        "SELECT (SELECT max(arrival_s) FROM packets WHERE session_id = :id), "
        "(SELECT max(t_s) FROM link_events WHERE session_id = :id)",
        {"id": kill.session_id},
    ).fetchone()
    last_stored = max(last_t_s or 0.0, last_packet or 0.0, last_event or 0.0)
    assert ended_utc is not None
    assert abs(ended_utc - (started_utc + last_stored)) < 1e-6
    assert ended_utc <= kill.kill_utc + 0.05  # nothing is dated after the kill
    return float(lost_s)


def test_kill_9_while_recording_loses_at_most_the_last_second(tmp_path: Path) -> None:
    db_path = tmp_path / "restbeat.sqlite3"
    rng = random.Random(9)
    delays = [rng.uniform(0.3, 2.0) for _ in range(ROUNDS)]
    kills: list[Kill] = []
    fingerprints: dict[int, tuple[int, int, int, float, float]] = {}
    lost: list[float] = []
    for delay_s in delays:
        kill = _record_and_kill(db_path, delay_s)
        assert kill.session_id not in fingerprints
        kills.append(kill)
        conn = open_database(db_path)  # marks the killed session interrupted
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            lost.append(_check_killed_session(conn, kill))
            for session_id, before in fingerprints.items():
                assert _fingerprint(conn, session_id) == before, f"session {session_id} changed"
            fingerprints[kill.session_id] = _fingerprint(conn, kill.session_id)
        finally:
            conn.close()

    conn = open_database(db_path)
    try:
        sessions = conn.execute("SELECT id, status, source, context FROM sessions ORDER BY id").fetchall()
        assert sessions == [(kill.session_id, "interrupted", "test", "on-shift") for kill in kills]
        assert {kill.session_id: _fingerprint(conn, kill.session_id) for kill in kills} == fingerprints
    finally:
        conn.close()
    assert all(kill.stderr == "" for kill in kills), [kill.stderr for kill in kills]
    assert sum(kill.commits for kill in kills) >= ROUNDS  # the kills did land after commits
    print(
        "kill -9:",
        ", ".join(
            f"{delay:.2f} s -> {kill.committed_beats} beats committed, {loss:.3f} s lost"
            for delay, kill, loss in zip(delays, kills, lost, strict=True)
        ),
        f"(worst {max(lost):.3f} s)",
    )
