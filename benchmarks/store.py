"""Store benchmark: a year of daily shifts (about 10^7 beats) summarised, and the live recorder's commits.

    python -m benchmarks.store [--db PATH] [--keep]

Builds a database of 365 days: a 3-minute morning check-in every day and a 12-hour on-shift session on four
days a week (208 shifts, 10.6 million beats of RR with respiratory and slow modulation), then times the
review's queries (median of 3 after a warm-up) and the recorder's commit of one second and of ten seconds
of a live session (one notification a second, its beats, a snapshot).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from benchmarks._timing import format_seconds, markdown_table, median_seconds
from restbeat.beats import BeatQuality
from restbeat.store.database import open_database, transaction
from restbeat.store.queries import daily_summaries, list_sessions, session_beats, session_summaries
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import INSERT_BEAT, SessionStart, beat_rows, insert_session

YEAR_START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()
SHIFT_S = 12 * 3600.0
CHECK_IN_S = 180.0


def synthetic_rr(seconds: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """RR (ms) for ``seconds``: 830 ms mean, 0.25-Hz respiratory and 0.1-Hz modulation, noise."""
    n = int(seconds / 0.83)
    t = np.arange(n) * 0.83
    modulation = 35 * np.sin(2 * np.pi * 0.25 * t) + 20 * np.sin(2 * np.pi * 0.1 * t)
    rr: NDArray[np.float64] = 830.0 + modulation + 15 * rng.standard_normal(n)
    return rr


def add_session(
    conn: sqlite3.Connection, started_utc: float, context: str, seconds: float, rng: np.random.Generator
) -> int:
    rr = synthetic_rr(seconds, rng)
    quality = np.where(rng.random(rr.size) < 0.01, int(BeatQuality.CORRECTED), int(BeatQuality.GOOD))
    with transaction(conn):
        session_id = insert_session(
            conn, SessionStart(started_utc, "benchmark", context, 3600), recording=False
        )
        conn.execute("UPDATE sessions SET ended_utc = ? WHERE id = ?", (started_utc + seconds, session_id))
        conn.executemany(
            INSERT_BEAT,
            beat_rows(
                session_id,
                0,
                np.cumsum(rr) / 1000,
                rr,
                np.zeros(rr.size, np.int64),
                quality,
                ["normal"] * rr.size,
            ),
        )
    return int(rr.size)


def build_year(conn: sqlite3.Connection) -> tuple[int, int, float]:
    """Fill ``conn`` with a year; returns (sessions, beats, seconds taken)."""
    rng = np.random.default_rng(2025)
    start = time.perf_counter()
    sessions = beats = 0
    for day in range(365):
        midnight = YEAR_START + day * 86400
        beats += add_session(conn, midnight + 6 * 3600, "morning", CHECK_IN_S, rng)
        sessions += 1
        if day % 7 in (0, 1, 3, 5):
            beats += add_session(conn, midnight + 7 * 3600, "on-shift", SHIFT_S, rng)
            sessions += 1
    return sessions, beats, time.perf_counter() - start


def recorder_commit_times(
    conn: sqlite3.Connection, seconds_per_commit: float, commits: int = 50
) -> list[float]:
    """Wall time of each commit of ``seconds_per_commit`` of a live session."""
    now = [0.0]
    recorder = SessionRecorder(
        conn, SessionStart(time.time(), "benchmark", "on-shift"), origin_s=0.0, clock=lambda: now[0]
    )
    packet = bytes.fromhex("1648a0033503")
    t = 0.0
    times = []
    for _ in range(commits):
        for _ in range(int(seconds_per_commit)):
            now[0] += 1.0
            recorder.add_packet(now[0], 1, packet)
            for _ in range(2):
                t += 0.5
                recorder.add_beat(t, 830.0, 0, BeatQuality.GOOD, "normal")
            recorder.add_snapshot(now[0], 60.0, "ok", 72.0, 35.0, 50.0, 72)
        start = time.perf_counter()
        recorder.flush()
        times.append(time.perf_counter() - start)
    recorder.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="database to build (default: a temporary file)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="restbeat-bench-"))
    path = args.db or directory / "year.sqlite3"
    conn = open_database(path)
    sessions, beats, build_s = build_year(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size_mb = path.stat().st_size / 1e6
    shifts = list_sessions(conn, context="on-shift")
    rows = [
        ["build: insert the year", format_seconds(build_s), f"{beats / build_s / 1e6:.2f} M beats/s"],
        [
            "daily summaries, whole year",
            format_seconds(median_seconds(lambda: daily_summaries(conn), 3)),
            f"{beats:,} beats",
        ],
        [
            "session summaries, on-shift only",
            format_seconds(median_seconds(lambda: session_summaries(conn, context="on-shift"), 3)),
            f"{len(shifts)} shifts",
        ],
        [
            "daily summaries, one month",
            format_seconds(
                median_seconds(lambda: daily_summaries(conn, dt.date(2025, 6, 1), dt.date(2025, 6, 30)), 3)
            ),
            "",
        ],
        [
            "beats of one 12-h shift",
            format_seconds(median_seconds(lambda: session_beats(conn, shifts[100].id), 3)),
            f"{session_beats(conn, shifts[100].id).rr_ms.size:,} beats",
        ],
    ]
    for seconds in (1.0, 10.0):
        commit = recorder_commit_times(conn, seconds)
        rows.append(
            [
                f"recorder commit of {seconds:.0f} s of a live session",
                format_seconds(statistics.median(commit)),
                f"max {format_seconds(max(commit))}",
            ]
        )
    print(f"{sessions} sessions, {beats:,} beats, database {size_mb:.0f} MB ({path})\n")
    print(markdown_table(["operation", "median", "notes"], rows))
    conn.close()
    if args.db is None and not args.keep:
        for leftover in directory.iterdir():
            leftover.unlink()
        directory.rmdir()


if __name__ == "__main__":
    main()
