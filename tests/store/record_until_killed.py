"""Record a fast synthetic session into DB_PATH until killed (the kill -9 test runs this).

    python tests/store/record_until_killed.py DB_PATH

A beat every 5 ms of wall time (t_s on ``time.monotonic``, RR around 800 ms), a packet every 5 beats and a
link event now and then, through :class:`SessionRecorder` exactly as the app drives it: ``maybe_flush``
on each beat and ``flush_periodically`` beside it.  Prints ``started <session_id> <started_utc>`` once, then
after every commit ``committed <session_id> <beats_committed> <wall_time>``, each line flushed at once so
that whoever kills the process knows what had been committed.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

from restbeat.beats import BeatQuality
from restbeat.store.database import open_database
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import SessionStart

BEAT_PERIOD_S = 0.005


class ReportingRecorder(SessionRecorder):
    """A recorder that says on stdout how many beats each commit made durable."""

    beats_added = 0

    def flush(self) -> None:
        commits = self.commits
        buffered_beats = self.beats_added  # a commit writes everything buffered, so all of these
        super().flush()
        if self.commits != commits:
            print(f"committed {self.session_id} {buffered_beats} {time.time():.6f}", flush=True)


async def record(db_path: Path) -> None:
    conn = open_database(db_path)
    started_utc, origin_s = time.time(), time.monotonic()  # the same moment on both clocks
    recorder = ReportingRecorder(conn, SessionStart(started_utc, "test", "on-shift"), origin_s=origin_s)
    print(f"started {recorder.session_id} {started_utc!r}", flush=True)
    periodic = asyncio.create_task(recorder.flush_periodically())
    rng = random.Random(recorder.session_id)
    beat = 0
    try:
        while True:
            now = time.monotonic()
            rr_ms = 800.0 + rng.gauss(0.0, 30.0)
            if beat % 5 == 0:
                rr = round(rr_ms * 1.024)
                recorder.add_packet(now, 1, bytes([0x10, 70, rr & 0xFF, rr >> 8]))
            if beat % 200 == 0:
                recorder.add_event(now, "battery", {"level": 100 - beat // 200 % 100})
            recorder.add_beat(now, rr_ms, 0, BeatQuality.GOOD, "normal")
            recorder.beats_added += 1
            beat += 1
            recorder.maybe_flush()
            await asyncio.sleep(BEAT_PERIOD_S)
    finally:  # reached only on an orderly stop (Ctrl-C), never on kill -9
        periodic.cancel()
        recorder.close()
        conn.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} DB_PATH", file=sys.stderr)
        return 2
    try:
        asyncio.run(record(Path(argv[1])))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
