"""What a live session holds in memory while its database cannot take any row (locked or disk full).

    python -m benchmarks.unsaved_rows [--hours 12]

A background recorder (as ``restbeat monitor`` runs it) on a database whose write lock another connection
holds for the whole run receives a shift's rows on the live path's schedule: one notification a second,
the beats at the heart rate given, two metric snapshots (60 s and 5 min windows) every 5 s, and a flush
every 0.5 s of session time.  Nothing can be written, so every row stays queued.  Memory is measured with
``tracemalloc`` (Python's allocations: the rows themselves), for 60, 90 and 180 bpm, and the rows per hour;
from them, how many hours fit under ``MAX_UNSAVED_ROWS`` before the oldest rows go to the recovery file.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import tracemalloc
from pathlib import Path

from restbeat.beats import BeatQuality
from restbeat.store.database import open_database
from restbeat.store.recorder import SessionRecorder
from restbeat.store.save_queue import MAX_UNSAVED_ROWS
from restbeat.store.writes import SessionStart


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def held_rows(hours: float, hr_bpm: float, folder: Path) -> tuple[int, float]:
    """Rows queued and their memory (MB) after ``hours`` of a shift at ``hr_bpm`` with the lock held."""
    path = folder / f"locked-{hr_bpm:.0f}.sqlite3"
    conn = open_database(path)
    clock = _Clock()
    recorder = SessionRecorder(
        conn,
        SessionStart(started_utc=1.7e9, source="strap", context="on-shift"),
        origin_s=0.0,
        clock=clock,
        background=True,
        max_unsaved_rows=10**9,  # measure the rows themselves, not the bound
    )
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rr_s = 60.0 / hr_bpm
    next_beat, next_snapshot, next_flush = rr_s, 5.0, 0.5
    for second in range(1, int(hours * 3600) + 1):
        clock.t = float(second)
        recorder.add_packet(clock.t, 1, bytes([0x16, 0x48, 0x86, 0x03, 0x7A, 0x03]))
        while next_beat <= clock.t:
            recorder.add_beat(next_beat, rr_s * 1000.0, 1, BeatQuality.GOOD, "normal")
            next_beat += rr_s
        if next_snapshot <= clock.t:
            for window in (60.0, 300.0):
                recorder.add_snapshot(clock.t, window, "ok", hr_bpm, 41.5, 55.2, int(window / rr_s))
            next_snapshot += 5.0
        while next_flush <= clock.t:
            recorder.flush()
            next_flush += 0.5
    recorder.flush()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    rows = recorder.pending
    holder.execute("ROLLBACK")
    assert recorder.writer is not None
    recorder.writer.stop(0.0)
    conn.close()
    return rows, used / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hours", type=float, default=12.0)
    args = parser.parse_args()
    print(f"rows held in memory over {args.hours:g} h with the database locked throughout")
    print(f"| HR (bpm) | rows | MB | bytes/row | rows/h | hours under the {MAX_UNSAVED_ROWS} row bound |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for hr in (60.0, 90.0, 180.0):
            rows, mb = held_rows(args.hours, hr, Path(folder))
            per_hour = rows / args.hours
            print(
                f"| {hr:.0f} | {rows} | {mb:.1f} | {mb * 1e6 / rows:.0f} | {per_hour:.0f} |"
                f" {MAX_UNSAVED_ROWS / per_hour:.1f} |"
            )


if __name__ == "__main__":
    main()
