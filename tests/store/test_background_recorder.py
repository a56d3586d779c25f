"""The background recorder's memory bound and recovery file, on a database another connection keeps locked:
past the bound the oldest rows go to the recovery file and memory is freed; with no file writable the oldest
raw notifications are dropped first and counted; at close what is left goes to the file; the file puts
everything back, prompts, answers and outcomes included, even into a database that never had the session."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from restbeat.beats import BeatQuality
from restbeat.store.database import StoreError, open_database
from restbeat.store.recorder import SessionRecorder
from restbeat.store.recovery_file import RecoveryError, import_recovery
from restbeat.store.save_queue import SaveStatus
from restbeat.store.writes import SessionStart

START = SessionStart(started_utc=1_700_000_000.0, source="strap", context="on-shift", strap_address="AA:BB")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "bound.sqlite3"


@pytest.fixture
def lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection that will hold the write lock (``BEGIN IMMEDIATE``) while the test says so."""
    open_database(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def _recorder(db: Path, bound: int, close_timeout_s: float = 0.5) -> SessionRecorder:
    return SessionRecorder(
        open_database(db),
        START,
        origin_s=0.0,
        background=True,
        max_unsaved_rows=bound,
        close_timeout_s=close_timeout_s,
    )


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _add(recorder: SessionRecorder, first: int, count: int, *, packets: bool = True) -> None:
    for k in range(first, first + count):
        if packets:
            recorder.add_packet(k * 0.8, 1, bytes([0x10, k % 256, 0x20, 0x03]))
        recorder.add_beat(k * 0.8, 800.0 + k % 7, 0, BeatQuality.GOOD, "normal")
        if k % 50 == 0:
            recorder.flush()
    recorder.flush()


def _counts(db: Path, session_id: int) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        return tuple(  # type: ignore[return-value]
            int(
                conn.execute(f"SELECT count(*) FROM {table} WHERE session_id = ?", (session_id,)).fetchone()[
                    0
                ]
            )
            for table in ("packets", "beats")
        )


def test_past_the_bound_the_oldest_rows_go_to_the_recovery_file(db: Path, lock: sqlite3.Connection) -> None:
    recorder = _recorder(db, bound=1000)
    lock.execute("BEGIN IMMEDIATE")
    _add(recorder, 0, 1500)  # 3000 rows
    _until(lambda: recorder.status().spilled_rows > 0 and recorder.status().reason is not None)
    _until(lambda: recorder.status().unsaved_rows <= 1000)  # the writer spills again at its next attempt
    status = recorder.status()
    assert status.recovery_path is not None and Path(status.recovery_path).parent == db.parent
    assert status.lost_rows == 0
    text = status.text(time.monotonic())
    assert text is not None and "database locked" in text and status.recovery_path in text
    lock.execute("COMMIT")
    report = recorder.close()
    assert not report.saved_all and report.recovery_rows == status.spilled_rows and report.lost_rows == 0
    in_db = _counts(db, recorder.session_id)
    assert sum(in_db) == 3000 - report.recovery_rows
    recovered = import_recovery(open_database(db), Path(report.recovery_paths[0]))
    assert recovered.existing and recovered.session_id == recorder.session_id
    assert _counts(db, recorder.session_id) == (1500, 1500)


def test_with_no_recovery_file_the_raw_notifications_go_first_and_are_counted(
    db: Path, lock: sqlite3.Connection, tmp_path: Path
) -> None:
    recorder = _recorder(db, bound=2000)
    lock.execute("BEGIN IMMEDIATE")
    recorder.recovery.candidates = [tmp_path / "no-such-folder" / "x.jsonl"]
    _add(recorder, 0, 1500)  # 3000 rows
    _until(lambda: recorder.status().lost_rows > 0)
    status: SaveStatus = recorder.status()
    assert status.unsaved_rows <= 2000 and status.spilled_rows == 0
    text = status.text(time.monotonic())
    assert text is not None and f"{status.lost_rows} rows lost" in text
    lock.execute("COMMIT")
    report = recorder.close()
    assert report.lost_rows == status.lost_rows
    packets, beats = _counts(db, recorder.session_id)
    assert beats == 1500  # the beats were kept: only raw notifications (which the beats come from) went
    assert packets == 1500 - status.lost_rows


def test_beats_alone_past_the_bound_lose_the_oldest_rows_counted(
    db: Path, lock: sqlite3.Connection, tmp_path: Path
) -> None:
    recorder = _recorder(db, bound=1000)
    lock.execute("BEGIN IMMEDIATE")
    recorder.recovery.candidates = [tmp_path / "no-such-folder" / "x.jsonl"]
    _add(recorder, 0, 1500, packets=False)
    _until(lambda: recorder.status().lost_rows > 0)
    assert recorder.status().unsaved_rows <= 1000
    lock.execute("COMMIT")
    report = recorder.close()
    assert _counts(db, recorder.session_id)[1] == 1500 - report.lost_rows


def test_at_close_what_is_unsaved_goes_to_the_file_with_its_prompts_answers_and_outcomes(
    db: Path, lock: sqlite3.Connection, tmp_path: Path
) -> None:
    recorder = _recorder(db, bound=100_000)
    _add(recorder, 0, 100)
    first = recorder.add_prompt(50.0, "breathing", "low HRV")
    _until(lambda: recorder.stored_id(first) is not None)  # written: a real row id
    lock.execute("BEGIN IMMEDIATE")
    recorder.set_prompt_response(first, "accepted", 55.0)
    recorder.add_outcome("breathing", 56.0, 200.0, prompt_id=first, rating=4)
    second = recorder.add_prompt(300.0, "walk", "still low")
    assert second < 0 and recorder.stored_id(second) is None  # provisional until written
    recorder.set_prompt_response(second, "snoozed", 310.0)
    recorder.add_outcome("walk", 320.0, 400.0, prompt_id=second)
    recorder.add_annotation(330.0, "hard case")
    _add(recorder, 100, 100)
    report = recorder.close(ended_utc=START.started_utc + 500.0)
    assert not report.saved_all and report.reason == "database locked" and report.lost_rows == 0
    assert report.recovery_rows == 201
    lock.execute("COMMIT")

    conn = open_database(db)
    assert conn.execute("SELECT status FROM sessions").fetchone()[0] == "recording"
    recovered = import_recovery(conn, Path(report.recovery_paths[0]))
    assert recovered.existing and recovered.rows == 201
    session = conn.execute("SELECT status, ended_utc FROM sessions").fetchone()
    assert tuple(session) == ("complete", START.started_utc + 500.0)
    prompts = conn.execute("SELECT id, practice, response FROM prompts ORDER BY t_s").fetchall()
    assert [tuple(row[1:]) for row in prompts] == [("breathing", "accepted"), ("walk", "snoozed")]
    outcomes = conn.execute(
        "SELECT practice, prompt_id, rating FROM outcomes ORDER BY started_t_s"
    ).fetchall()
    assert [tuple(row) for row in outcomes] == [
        ("breathing", prompts[0][0], 4),
        ("walk", prompts[1][0], None),
    ]
    assert _counts(db, recorder.session_id) == (200, 200)
    with pytest.raises(RecoveryError, match="already imported"):
        import_recovery(conn, Path(report.recovery_paths[0]))

    elsewhere = open_database(tmp_path / "other.sqlite3")  # a database that never had the session
    moved = import_recovery(elsewhere, Path(report.recovery_paths[0]))
    assert not moved.existing
    assert elsewhere.execute("SELECT count(*) FROM beats").fetchone()[0] == 100
    assert elsewhere.execute("SELECT count(*) FROM prompts").fetchone()[0] == 1  # the second one


def test_a_broken_recovery_file_is_one_line_naming_it(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.recovery.jsonl"
    bad.write_text('{"format":"restbeat-recovery/1","session_id":1}\n')
    with pytest.raises(RecoveryError, match=r"bad.recovery.jsonl, line 1: not a usable header"):
        import_recovery(open_database(db), bad)
    bad.write_text("not json\n")
    with pytest.raises(RecoveryError, match=r", line 1: not JSON"):
        import_recovery(open_database(db), bad)


@pytest.mark.parametrize("background", [False, True])
def test_a_row_the_rules_refuse_is_set_aside_and_holds_nothing_back(db: Path, background: bool) -> None:
    """A refused row would fail every retry and keep everything behind it unsaved: it goes to set_aside."""
    conn = open_database(db)
    recorder = SessionRecorder(conn, START, origin_s=0.0, close_timeout_s=2.0)
    if background:
        recorder.start_background()
    _add(recorder, 0, 10)
    recorder.add_beat(9.0, -5.0, 0, BeatQuality.GOOD, "normal")  # a negative RR: refused by beat_values
    recorder.add_beat(9.8, 800.0, 0, BeatQuality.GOOD, "normal")
    prompt = recorder.add_prompt(9.9, "breathing", "low HRV")
    recorder.set_prompt_response(prompt, "accepted", 10.0)
    report = recorder.close(ended_utc=START.started_utc + 10.0)
    assert report.saved_all and report.set_aside_rows == 1
    assert "1 rows refused by its rules are in its set_aside table" in report.text()
    assert _counts(db, recorder.session_id) == (10, 11)
    with sqlite3.connect(db) as other:
        table, row, reason = other.execute("SELECT source_table, row, reason FROM set_aside").fetchone()
        assert table == "beats" and "-5.0" in row and "CHECK constraint failed" in reason
        assert other.execute("SELECT response FROM prompts").fetchone()[0] == "accepted"
        assert other.execute("SELECT status FROM sessions").fetchone()[0] == "complete"


_HEAD = (
    '{"format":"restbeat-recovery/1","session_id":1,"database":"x","started_utc":1700000000.0,"source":"strap",'
    '"context":"on-shift","tz_offset_s":0,"strap_address":null,"strap_name":null,"note":null}'
)
_BEAT = '{"op":"rows","table":"beats","rows":[[0,1.0,800.0,0,0,"normal",null]]}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_HEAD.replace('"on-shift"', '"party"'), "line 1: not a usable header .*unknown context"),
        (_HEAD.replace('"session_id":1', '"session_id":1e30'), "line 1: not a usable header"),
        (
            _HEAD.replace('"session_id":1', '"session_id":100000000000000000000000000000'),
            "line 1: not a usable",
        ),
        (_HEAD.replace("1700000000.0", "NaN"), "line 1: not a usable header .*1970 to 9999"),
        (_HEAD.replace("1700000000.0", "1e300"), "line 1: not a usable header"),
        (_HEAD.replace('"tz_offset_s":0', '"tz_offset_s":1e30'), "line 1: not a usable header"),
        (
            _HEAD + "\n" + _BEAT.replace('"beats"', '"sessions"'),
            "line 2: not a recovery operation .*unknown table",
        ),
        (_HEAD + "\n" + _BEAT.replace('"beats"', '"sqlite_master"'), "line 2: not a recovery operation"),
        (_HEAD + "\n" + _BEAT.replace(",null]]", "]]"), "line 2: not a recovery operation .*7 values"),
        (_HEAD + "\n" + _BEAT.replace("800.0", "[1,2]"), "a row breaks the store's rules"),
        (
            _HEAD + "\n" + _BEAT.replace(',0,"normal"', ',99,"normal"'),
            "a row breaks the store's rules .*CHECK",
        ),
        (_HEAD + "\n" + _BEAT.replace("800.0", "1e300"), "a row breaks the store's rules"),
        (
            _HEAD + "\n" + _BEAT.replace("[[0,", "[[100000000000000000000000000000,"),
            "breaks the store's rules",
        ),
        (_HEAD + "\n" + _BEAT[:30], "line 2: not JSON"),
        (_HEAD + '\n{"op":"nonsense"}', "line 2: not a recovery operation"),
        (_HEAD + '\n{"op":"prompt","key":-1}', "line 2: not a recovery operation"),
    ],
)
def test_a_broken_recovery_file_is_refused_with_one_line_and_changes_nothing(
    db: Path, tmp_path: Path, text: str, message: str
) -> None:
    bad = tmp_path / "broken.recovery.jsonl"
    bad.write_text(text + "\n")
    conn = open_database(db)
    with pytest.raises(RecoveryError, match=message):
        import_recovery(conn, bad)
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    assert not conn.in_transaction


def test_a_new_recovery_file_never_adds_to_an_old_one_or_follows_a_symlink(
    db: Path, lock: sqlite3.Connection, tmp_path: Path
) -> None:
    """A file left by an earlier session with the same id (deleted, or another database of that name) and a
    symlink at the next name are both left alone: the rows go to a fresh file."""
    stale = db.parent / f"{db.stem}.session-1.recovery.jsonl"
    stale.write_text(_HEAD + "\n" + _BEAT + "\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (db.parent / f"{db.stem}.session-1-2.recovery.jsonl").symlink_to(victim)
    recorder = _recorder(db, bound=100_000)
    _add(recorder, 0, 20)
    lock.execute("BEGIN IMMEDIATE")
    _add(recorder, 20, 20)
    report = recorder.close()
    lock.execute("COMMIT")
    assert report.recovery_paths == (str(db.parent / f"{db.stem}.session-1-3.recovery.jsonl"),)
    assert stale.read_text() == _HEAD + "\n" + _BEAT + "\n" and victim.read_text() == "keep me\n"
    recovered = import_recovery(open_database(db), Path(report.recovery_paths[0]))
    assert recovered.existing and _counts(db, recorder.session_id) == (40, 40)


def test_rows_moved_out_at_the_bound_keep_a_finished_session_complete(
    db: Path, lock: sqlite3.Connection
) -> None:
    recorder = _recorder(db, bound=1000)
    lock.execute("BEGIN IMMEDIATE")
    _add(recorder, 0, 1500)
    _until(lambda: recorder.status().spilled_rows > 0 and recorder.status().reason is not None)
    lock.execute("COMMIT")
    report = recorder.close(ended_utc=START.started_utc + 1300.0)
    import_recovery(open_database(db), Path(report.recovery_paths[0]))
    with sqlite3.connect(db) as other:
        assert tuple(other.execute("SELECT status, ended_utc FROM sessions").fetchone()) == (
            "complete",
            START.started_utc + 1300.0,
        )


def test_opening_takes_group_and_other_permissions_away_but_keeps_a_read_only_choice(db: Path) -> None:
    open_database(db).close()
    db.chmod(0o640)
    open_database(db).close()
    assert db.stat().st_mode & 0o777 == 0o600
    db.chmod(0o400)
    try:
        open_database(db).close()  # root may still write; anyone else is told the file is read-only
    except StoreError as error:
        assert "read-only" in str(error)
    assert db.stat().st_mode & 0o777 == 0o400
