"""Databases as earlier restbeat versions left them, for the migration and fault tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from restbeat.store.schema import MIGRATIONS


def legacy_database(path: Path, version: int = 3) -> sqlite3.Connection:
    """A database at schema ``version`` (1-3) made as restbeat made it before version 4: the scripts of
    versions 1..``version`` and ``user_version``, no application id; returned open (raw, autocommit)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for number, script in enumerate(MIGRATIONS[:version], start=1):
        assert isinstance(script, str)
        conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {number}")
    return conn


def poison(conn: sqlite3.Connection) -> dict[str, int]:
    """A session of good beats with the bad rows issue 18 found (quality 99 and -5, kind 'bogus', an
    infinite RR and time), a bad link event and a session whose start is not a date; returns how many
    rows of each were added, by name."""
    conn.execute(
        "INSERT INTO sessions (id, started_utc, tz_offset_s, source, context, status) "
        "VALUES (1, 1700000000, 3600, 'import:restbeat-csv', 'on-shift', 'complete')"
    )
    good = [(1, seq, 0.8 * (seq + 1), 800.0 + (seq % 7) * 5, 0, 0, "normal", None) for seq in range(400)]
    conn.executemany("INSERT INTO beats VALUES (?, ?, ?, ?, ?, ?, ?, ?)", good)
    bad = [
        (1, 400, 320.8, 800.0, 0, 99, "normal", None),
        (1, 401, 321.6, 800.0, 0, -5, "normal", None),
        (1, 402, 322.4, 800.0, 0, 0, "bogus", None),
        (1, 403, 323.2, float("inf"), 0, 0, "normal", None),
        (1, 404, float("inf"), 800.0, 0, 0, "normal", None),
        (1, 405, 324.8, -800.0, 0, 0, "normal", None),
    ]
    conn.executemany("INSERT INTO beats VALUES (?, ?, ?, ?, ?, ?, ?, ?)", bad)
    conn.execute("INSERT INTO link_events (session_id, t_s, kind, detail) VALUES (1, 10.0, 'state', '{}')")
    conn.execute("INSERT INTO link_events (session_id, t_s, kind, detail) VALUES (1, 9e999, 'state', '{}')")
    conn.execute(
        "INSERT INTO sessions (id, started_utc, tz_offset_s, source, context, status) "
        "VALUES (2, 1e300, 0, 'import:rr-text', 'other', 'complete')"
    )
    conn.execute("INSERT INTO beats VALUES (2, 0, 0.8, 800.0, 0, 0, 'normal', NULL)")
    return {"good_beats": len(good), "bad_beats": len(bad), "bad_events": 1, "bad_sessions": 1}
