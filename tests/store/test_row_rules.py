"""The three statements of what a beat row may hold agree: the schema's CHECK constraint (what the store
accepts), the readers' SQL filter and the Python rule used on arrays (restbeat.store.rows)."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

from restbeat.store.database import open_database, transaction
from restbeat.store.queries import session_beats
from restbeat.store.rows import RR_MAX_MS, T_ABS_MAX_S, usable_beat
from restbeat.store.writes import INSERT_BEAT, SessionStart, insert_session

TIMES = (0.0, 12.5, -3.0, T_ABS_MAX_S, T_ABS_MAX_S * 1.01, float("inf"), float("-inf"))
INTERVALS = (800.0, 0.0, -1.0, RR_MAX_MS, RR_MAX_MS + 1, 63999.0, float("inf"))
QUALITIES = (0, 1, 2, 3, 4, -5, 99)
KINDS = ("normal", "out_of_range", "bogus", "")


def test_check_constraint_reader_filter_and_python_rule_agree(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "db.sqlite3")
    with transaction(conn):
        session_id = insert_session(conn, SessionStart(1.75e9, "test", "other"), recording=False)
    accepted: list[tuple[float, float, int, str]] = []
    expected: list[tuple[float, float, int, str]] = []
    for seq, (t, rr, quality, kind) in enumerate(itertools.product(TIMES, INTERVALS, QUALITIES, KINDS)):
        try:
            conn.execute(INSERT_BEAT, (session_id, seq, t, rr, 0, quality, kind, None))
            accepted.append((t, rr, quality, kind))
        except sqlite3.IntegrityError as error:
            assert "beat_values" in str(error)
        if usable_beat(t, rr, quality, kind):
            expected.append((t, rr, quality, kind))
    assert accepted == expected and 0 < len(accepted) < len(TIMES) * len(INTERVALS) * len(QUALITIES) * 4
    # the same values forced past the constraint: the readers' filter keeps exactly the usable ones
    conn.execute("DELETE FROM beats")
    conn.execute("PRAGMA ignore_check_constraints = ON")
    for seq, (t, rr, quality, kind) in enumerate(itertools.product(TIMES, INTERVALS, QUALITIES, KINDS)):
        conn.execute(INSERT_BEAT, (session_id, seq, t, rr, 0, quality, kind, None))
    conn.execute(INSERT_BEAT, (session_id, 10**6, "text", 800.0, 0, 0, "normal", None))
    beats = session_beats(conn, session_id)
    read = list(
        zip(beats.t_s.tolist(), beats.rr_ms.tolist(), beats.quality.tolist(), beats.kind, strict=True)
    )
    assert read == expected and beats.skipped == len(TIMES) * len(INTERVALS) * len(QUALITIES) * 4 + 1 - len(
        read
    )
