"""Schema migrations from every earlier version, file modes, and the review queries against numpy."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from restbeat.beats import BeatQuality
from restbeat.store.database import DB_ENV, StoreError, default_db_path, open_database, transaction
from restbeat.store.migration_v4 import APPLICATION_ID
from restbeat.store.queries import daily_summaries, list_sessions, session_beats, session_summaries
from restbeat.store.schema import MIGRATIONS, SCHEMA_VERSION, SchemaError, migrate, schema_version
from restbeat.store.writes import INSERT_BEAT, SessionStart, beat_rows, insert_session


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
    return [(name, " ".join(sql.split())) for name, sql in rows]


def _raw_connection(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _v1_data(conn: sqlite3.Connection) -> None:
    """Rows as a version-1 database held them (beats without drr_ms)."""
    conn.execute(
        "INSERT INTO sessions (id, started_utc, tz_offset_s, source, context, status) "
        "VALUES (1, 1700000000, 3600, 'strap', 'on-shift', 'complete')"
    )
    beats = [
        (1, 0, 0.8, 800.0, 0, 0, "normal"),
        (1, 1, 1.62, 820.0, 0, 1, "ectopic"),
        (1, 2, 2.4, 780.0, 0, 0, "normal"),
    ]
    beats += [(1, 3, 5.0, 2600.0, 0, 3, "out_of_range"), (1, 4, 5.8, 800.0, 1, 0, "normal")]
    conn.executemany("INSERT INTO beats VALUES (?, ?, ?, ?, ?, ?, ?)", beats)
    conn.execute("INSERT INTO packets VALUES (1, 0, 1.0, 1, x'1048a003')")


@pytest.mark.parametrize("start_version", range(SCHEMA_VERSION))
def test_every_earlier_version_migrates_to_the_current_schema(tmp_path: Path, start_version: int) -> None:
    fresh = open_database(tmp_path / "fresh.sqlite3")
    old = _raw_connection(tmp_path / "old.sqlite3")
    migrate(old, target=start_version)
    assert schema_version(old) == start_version
    if start_version == 1:
        _v1_data(old)
    old.close()
    migrated = open_database(tmp_path / "old.sqlite3")
    assert schema_version(migrated) == SCHEMA_VERSION
    assert _schema(migrated) == _schema(fresh)
    if start_version == 1:
        # the data survived and version 2 back-filled the successive differences RMSSD is built from
        drr = [row[0] for row in migrated.execute("SELECT drr_ms FROM beats ORDER BY seq")]
        assert drr == [None, 20.0, -40.0, None, None]
        assert migrated.execute("SELECT count(*) FROM packets").fetchone()[0] == 1


def test_a_database_newer_than_restbeat_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    conn = _raw_connection(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # a restbeat database of a later restbeat
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match=r"future\.sqlite3: .*newer than this restbeat"):
        open_database(path)


def test_a_failed_migration_leaves_the_version_unchanged(tmp_path: Path) -> None:
    conn = _raw_connection(tmp_path / "db.sqlite3")
    migrate(conn, target=1)
    conn.execute("CREATE TABLE snapshots (x)")  # a clash with version 2
    with pytest.raises(SchemaError, match="migration to schema version 2 failed"):
        migrate(conn)
    assert schema_version(conn) == 1
    assert "drr_ms" not in [row[1] for row in conn.execute("PRAGMA table_info(beats)")]
    assert len(MIGRATIONS) == SCHEMA_VERSION


def test_created_private_in_wal_mode_where_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "private" / "nested" / "restbeat.sqlite3"
    monkeypatch.setenv(DB_ENV, str(target))
    assert default_db_path() == target
    conn = open_database()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with transaction(conn):
        insert_session(conn, SessionStart(1.7e9, "test", "other"), recording=False)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    for sidecar in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        assert stat.S_IMODE(sidecar.stat().st_mode) & 0o077 == 0


def test_a_broken_database_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    path.chmod(0o644)
    with pytest.raises(StoreError, match=r"broken\.sqlite3 is not a restbeat database \(left untouched\)"):
        open_database(path)
    assert path.read_bytes() == b"this is not a database" * 100 and stat.S_IMODE(path.stat().st_mode) == 0o644
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(StoreError, match=r"corrupt\.sqlite3: not a usable restbeat database"):
        open_database(corrupt)
    with pytest.raises(StoreError, match="is a directory"):
        open_database(tmp_path)


def _add_session(
    conn: sqlite3.Connection,
    started_utc: float,
    context: str,
    rr: np.ndarray,
    quality: np.ndarray,
    tz: int = 0,
) -> int:
    segment = np.zeros(rr.size, np.int64)
    segment[rr.size // 2 :] = 1
    with transaction(conn):
        session_id = insert_session(conn, SessionStart(started_utc, "test", context, tz), recording=False)
        conn.execute(
            "UPDATE sessions SET ended_utc = ? WHERE id = ?", (started_utc + rr.sum() / 1000, session_id)
        )
        conn.executemany(
            INSERT_BEAT,
            beat_rows(session_id, 0, np.cumsum(rr) / 1000, rr, segment, quality, ["normal"] * rr.size),
        )
    return session_id


def _rmssd(pieces: list[tuple[np.ndarray, np.ndarray]]) -> float:
    diffs = []
    for rr, quality in pieces:
        half = rr.size // 2
        for part, q in ((rr[:half], quality[:half]), (rr[half:], quality[half:])):
            d = np.diff(part)
            ok = np.isin(q[1:], (0, 1)) & np.isin(q[:-1], (0, 1))
            diffs.append(d[ok])
    return float(np.sqrt(np.mean(np.concatenate(diffs) ** 2)))


def test_daily_summaries_equal_numpy_over_sessions_days_contexts_and_zones(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "db.sqlite3")
    rng = np.random.default_rng(5)
    day0 = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.UTC).timestamp()
    made: dict[tuple[dt.date, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    for day in range(4):
        for context, hour in (("pre-shift", 0.0), ("on-shift", 1.0), ("on-shift", 7.0)):
            rr = 700 + 60 * rng.standard_normal(600)
            quality = np.where(rng.random(600) < 0.03, int(BeatQuality.EXCLUDED), int(BeatQuality.GOOD))
            quality[rng.random(600) < 0.02] = int(BeatQuality.CORRECTED)
            _add_session(conn, day0 + day * 86400 + hour * 3600, context, rr, quality, tz=-5 * 3600)
            local_day = dt.date(2026, 3, 2) + dt.timedelta(days=day)  # 06:30 UTC is 01:30 at UTC-5
            made.setdefault((local_day, context), []).append((rr, quality))
    # a night shift starting 23:00 local belongs to the day it started on
    night = dt.datetime(2026, 3, 6, 4, 0, tzinfo=dt.UTC).timestamp()  # 23:00 on 5 March at UTC-5
    rr = np.full(400, 900.0)
    _add_session(conn, night, "on-shift", rr, np.zeros(400, np.int64), tz=-5 * 3600)
    made.setdefault((dt.date(2026, 3, 5), "on-shift"), []).append((rr, np.zeros(400, np.int64)))

    days = daily_summaries(conn)
    assert [(d.date, d.context) for d in days] == sorted(made)
    for summary in days:
        pieces = made[(summary.date, summary.context)]
        usable = np.concatenate([rr[np.isin(q, (0, 1))] for rr, q in pieces])
        assert summary.sessions == len(pieces)
        assert summary.beats == sum(rr.size for rr, _ in pieces)
        assert summary.usable_beats == usable.size
        assert summary.mean_hr_bpm == pytest.approx(60000 / usable.mean(), rel=1e-12)
        assert summary.rmssd_ms == pytest.approx(_rmssd(pieces), rel=1e-12)
        assert summary.ln_rmssd == pytest.approx(math.log(summary.rmssd_ms))

    only = daily_summaries(conn, since=dt.date(2026, 3, 3), until=dt.date(2026, 3, 4), context="on-shift")
    assert [(d.date, d.sessions) for d in only] == [(dt.date(2026, 3, 3), 2), (dt.date(2026, 3, 4), 2)]
    sessions = list_sessions(conn, since=dt.date(2026, 3, 5), until=dt.date(2026, 3, 5))
    assert [s.local_start.hour for s in sessions] == [1, 2, 8, 23]
    per_session = session_summaries(conn, context="pre-shift")
    assert len(per_session) == 4 and all(0 < s.corrected_fraction < 0.1 for s in per_session)
    beats = session_beats(conn, sessions[-1].id)
    assert beats.rr_ms.tolist() == [900.0] * 400 and beats.segment.max() == 1
