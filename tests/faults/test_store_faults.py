"""Fault injection on the store (issue 18, points 2, 4, 7, 10 and the import's lock, point 1): a database
poisoned by bad rows, processes creating one database at once, foreign files and symlinks given as --db,
read-only commands on a missing or old database, files of the person's data written under a lax umask, and
a week-long import while another connection keeps asking for the write lock."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from restbeat.app.pipeline import stored_beats
from restbeat.app.replay import BaselineError, load_baseline
from restbeat.cli import main
from restbeat.store import bulk
from restbeat.store.bulk import PendingSession, write_import
from restbeat.store.database import StoreError, open_database, open_existing, transaction
from restbeat.store.migration_v4 import APPLICATION_ID
from restbeat.store.queries import (
    SessionBeats,
    list_sessions,
    session_beats,
    session_records,
    session_summaries,
)
from restbeat.store.schema import SCHEMA_VERSION, application_id, schema_version
from restbeat.store.writes import INSERT_BEAT, INSERT_EVENT, SessionStart, insert_session
from tests.store.legacy_db import legacy_database, poison

READ_ONLY_COMMANDS = (
    ("sessions",),
    ("review", "--last", "--out", "{tmp}/in/review.png"),
    ("trends", "--out", "{tmp}/in/trends.png"),
    ("export", "--format", "csv", "--last", "--out", "{tmp}/in/out.csv"),
    ("report", "--out", "{tmp}/in/r.html"),
)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def _fingerprint(path: Path) -> tuple[bytes, int, list[str]]:
    """A file's bytes, mode and the files beside it (a WAL switch leaves -wal and -shm files)."""
    return path.read_bytes(), stat.S_IMODE(path.stat().st_mode), sorted(p.name for p in path.parent.iterdir())


def _beats(n: int, start: float = 0.0) -> SessionBeats:
    rr = 800.0 + 40.0 * np.sin(np.arange(n) / 5.0)
    return SessionBeats(
        start + np.cumsum(rr) / 1000.0, rr, np.zeros(n, np.int64), np.zeros(n, np.int64), ("normal",) * n
    )


def _pending(n: int, digest: str = "d" * 64, context: str = "on-shift") -> PendingSession:
    beats = _beats(n)
    return PendingSession(
        start=SessionStart(1.75e9, "import:rr-text", context, 3600),
        beats=beats,
        ended_utc=1.75e9 + float(beats.t_s[-1]),
        digest=digest,
        part=0,
        path="/nowhere/week.txt",
        format="rr-text",
        events=[(1.0, "state", '{"state":"streaming"}')],
    )


# -- point 2: bad rows --------------------------------------------------------------------------------------


def test_a_poisoned_database_is_upgraded_with_its_bad_rows_set_aside(tmp_path: Path) -> None:
    """Issue 18.2: quality 99/-5, kind 'bogus', infinite values, a start that is not a date, in a database
    of the previous schema; the migration keeps every good row and moves the others to set_aside."""
    path = tmp_path / "poisoned.sqlite3"
    added = poison(legacy_database(path, 3))
    conn = open_database(path)
    assert schema_version(conn) == SCHEMA_VERSION and application_id(conn) == APPLICATION_ID
    [session] = list_sessions(conn)
    beats = session_beats(conn, session.id)
    assert beats.rr_ms.size == added["good_beats"] and beats.skipped == 0
    moved = dict(
        conn.execute("SELECT source_table, count(*) FROM set_aside GROUP BY source_table").fetchall()
    )
    assert moved == {"beats": added["bad_beats"] + 1, "link_events": 1, "sessions": 1}
    assert conn.execute("SELECT count(*) FROM link_events").fetchone()[0] == 1
    kinds = [row[0] for row in conn.execute("SELECT json_extract(row, '$.kind') FROM set_aside")]
    assert "bogus" in kinds  # kept, readable, for whoever wants to look
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed: beat_values"):
        conn.execute(INSERT_BEAT, (session.id, 9999, 1.0, 800.0, 0, 99, "normal", None))
    with pytest.raises(sqlite3.IntegrityError, match="beat_values"):
        conn.execute(INSERT_BEAT, (session.id, 9999, 1.0, 800.0, 0, 0, "bogus", None))
    with pytest.raises(sqlite3.IntegrityError, match="beat_values"):
        conn.execute(INSERT_BEAT, (session.id, 9999, 1.0, float("inf"), 0, 0, "normal", None))
    with pytest.raises(sqlite3.IntegrityError, match="event_values"):
        conn.execute(INSERT_EVENT, (session.id, float("inf"), "state", "{}"))
    conn.execute(INSERT_EVENT, (session.id, 2.0, "state", '{"rssi":NaN}'))  # Python's JSON: kept, read as {}


def test_readers_skip_rows_they_cannot_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 18.2: the rows the constraints keep out, forced in (a hand-edited file): review, replay
    --baseline, the start of monitor (the baseline), trends, export and the listing skip them; none
    crashes (KeyError in stored_beats before)."""
    path = tmp_path / "db.sqlite3"
    conn = open_database(path)
    with transaction(conn):
        session_id = insert_session(
            conn, SessionStart(1.75e9, "import:rr-text", "on-shift", 0), recording=False
        )
        rows = [
            (session_id, seq, 0.8 * (seq + 1), 800.0 + seq % 9, 0, 0, "normal", None) for seq in range(3000)
        ]
        conn.executemany(INSERT_BEAT, rows)
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.executemany(
            INSERT_BEAT,
            [
                (session_id, 3000, 2401.0, 800.0, 0, 99, "normal", None),
                (session_id, 3001, 2402.0, 800.0, 0, -5, "normal", None),
                (session_id, 3002, 2403.0, 800.0, 0, 0, "bogus", None),
                (session_id, 3003, 2404.0, float("inf"), 0, 0, "normal", None),
            ],
        )
    conn.execute("PRAGMA ignore_check_constraints = OFF")
    conn.execute(INSERT_EVENT, (session_id, 5.0, "state", "not json"))
    conn.execute(
        "INSERT INTO prompts (session_id, t_s, practice, reason, detail) VALUES (?, 9, 'x', 'y', '[')",
        (session_id,),
    )
    [event] = session_records(conn, "link_events", session_id)
    assert event["detail"] == {} and event["unreadable_detail"] == "not json"
    beats = session_beats(conn, session_id)
    assert beats.rr_ms.size == 3000 and beats.skipped == 4
    raw = SessionBeats(
        np.array([1.0, 2.0, 3.0]),
        np.array([800.0, 810.0, 820.0]),
        np.zeros(3, np.int64),
        np.array([0, 99, 0]),
        ("normal", "normal", "bogus"),
    )
    assert [b.t_s for b in stored_beats(raw)] == [1.0]
    [summary] = session_summaries(conn)  # totals are not re-checked (see queries._beat_totals): no crash
    assert summary.beats == 3004
    conn.close()
    with contextlib.suppress(BaselineError):  # a short session may teach nothing: one line, not a crash
        load_baseline(path)  # replay --baseline DB and the start of monitor learn from the store like this
    (tmp_path / "in").mkdir()
    for command in READ_ONLY_COMMANDS:
        args = [part.format(tmp=tmp_path) for part in command]
        status, _, err = _run(capsys, *args, "--db", str(path))
        assert status in (0, 1) and err.count("\n") <= 1 and "Traceback" not in err, (command, err)


# -- sessions --delete --------------------------------------------------------------------------------------


def test_sessions_delete_asks_then_removes_everything_in_one_transaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.sqlite3"
    conn = open_database(path)
    [kept] = write_import(conn, [_pending(500, "a" * 64)])
    [bad] = write_import(conn, [_pending(700, "b" * 64)])
    conn.close()
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    status, _, err = _run(capsys, "sessions", "--delete", str(bad), "--db", str(path))
    assert status == 1 and "nothing deleted" in err and err.count("\n") == 1
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    status, out, err = _run(capsys, "sessions", "--delete", str(bad), "--db", str(path))
    assert status == 0, err
    assert f"deleted session {bad}:" in out and "700 beats, 1 link event, 1 import, 1 session" in out
    conn = open_database(path)
    assert [s.id for s in list_sessions(conn)] == [kept]
    assert conn.execute("SELECT count(*) FROM beats WHERE session_id = ?", (bad,)).fetchone()[0] == 0
    conn.close()
    recorder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:  # a session another live process is recording is not deleted under it
        with transaction(conn := open_database(path)):
            conn.execute(
                "UPDATE sessions SET status = 'recording', writer_pid = ? WHERE id = ?", (recorder.pid, kept)
            )
        conn.close()
        status, _, err = _run(capsys, "sessions", "--delete", str(kept), "--yes", "--db", str(path))
        assert status == 1 and f"is being recorded right now (process {recorder.pid})" in err
    finally:
        recorder.kill()
        recorder.wait()
    status, out, _ = _run(capsys, "sessions", "--delete", str(kept), "--yes", "--db", str(path))
    assert status == 0 and "500 beats" in out
    status, _, err = _run(capsys, "sessions", "--delete", "77", "--yes", "--db", str(path))
    assert (
        status == 1
        and err == f"restbeat sessions: no session 77 in {path} (`restbeat sessions` lists them)\n"
    )
    missing = tmp_path / "typo.sqlite3"
    status, _, err = _run(capsys, "sessions", "--delete", "1", "--yes", "--db", str(missing))
    assert status == 1 and err == f"restbeat sessions: no database at {missing}\n" and not missing.exists()


# -- point 4: processes creating one database at once -------------------------------------------------------


def _create_and_write(
    path: str, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue[str]
) -> None:
    start.wait()
    try:
        conn = open_database(path)
        with transaction(conn):
            insert_session(conn, SessionStart(1.75e9, "race", "other"), recording=False)
        conn.close()
        results.put("ok")
    except Exception as error:  # reported to the test, which fails naming it
        results.put(f"{type(error).__name__}: {error}")


def _race(tmp_path: Path, rounds: int, processes: int) -> list[str]:
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_ in range(rounds):
        path = tmp_path / f"race{round_}.sqlite3"
        start, results = context.Event(), context.Queue()
        workers = [
            context.Process(target=_create_and_write, args=(str(path), start, results))
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        time.sleep(0.02)
        start.set()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        failures += [outcome for outcome in outcomes if outcome != "ok"]
        conn = open_database(path)
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == processes - len(failures)
        conn.close()
    return failures


def test_eight_processes_creating_one_new_database_all_succeed(tmp_path: Path) -> None:
    """Issue 18.4: 12 of 45 runs failed with "table straps already exists"; here 15 rounds of 8 processes
    (400 rounds in the soak run) all succeed."""
    assert _race(tmp_path, 15, 8) == []


@pytest.mark.soak
def test_eight_processes_creating_one_new_database_all_succeed_400_rounds(tmp_path: Path) -> None:
    assert _race(tmp_path, 400, 8) == []


# -- point 7: files that are not ours -----------------------------------------------------------------------


def _bookmarks(path: Path, wal: bool = False) -> None:
    """Another program's SQLite file (Firefox keeps its bookmarks in one, in WAL mode)."""
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, title TEXT)")
    conn.execute("INSERT INTO moz_bookmarks VALUES (1, 'restbeat')")
    conn.commit()
    conn.close()
    path.chmod(0o644)


@pytest.mark.parametrize("kind", ["foreign-sqlite", "foreign-wal", "text", "symlink-to-foreign"])
def test_a_file_that_is_not_a_restbeat_database_is_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Issue 18.7: `sessions --db bookmarks.sqlite` added 11 tables, switched it to WAL and made it 0600."""
    target = tmp_path / ("notes.txt" if kind == "text" else "bookmarks.sqlite")
    if kind == "text":
        target.write_text("my notes\n" * 50)
        target.chmod(0o644)
    else:
        _bookmarks(target, wal=kind == "foreign-wal")
    given = target
    if kind == "symlink-to-foreign":
        given = tmp_path / "restbeat.sqlite3"
        given.symlink_to(target)
    recording = tmp_path / "in" / "rr.txt"
    recording.parent.mkdir()
    recording.write_text("\n".join(str(800 + i % 7) for i in range(300)))
    before = _fingerprint(target)
    commands = [
        *READ_ONLY_COMMANDS,
        ("import", str(recording)),
        ("sessions", "--upgrade"),
        ("sessions", "--delete", "1", "--yes"),
    ]
    for command in commands:
        args = [part.format(tmp=tmp_path) for part in command]
        status, _, err = _run(capsys, *args, "--db", str(given))
        assert status == 1, command
        assert err.count("\n") == 1 and "is not a restbeat database (left untouched)" in err, (command, err)
        assert str(given) in err
    for opener in (open_database, open_existing):
        with pytest.raises(StoreError, match="is not a restbeat database"):
            opener(given)
    assert _fingerprint(target) == before


def test_read_only_commands_never_create_or_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18.7: a read-only command on a typo'd --db says so and creates nothing; on a database of the
    previous schema it says how to upgrade and leaves it as it was; a writing command upgrades it."""
    missing = tmp_path / "typo.sqlite3"
    for command in READ_ONLY_COMMANDS:
        args = [part.format(tmp=tmp_path) for part in command]
        status, _, err = _run(capsys, *args, "--db", str(missing))
        assert status == 1 and err.count("\n") == 1 and f"no database at {missing}" in err
        assert sorted(p.name for p in tmp_path.iterdir()) == [], command
    with pytest.raises(StoreError, match="no database at"):
        load_baseline(missing)  # replay --baseline typo.sqlite3
    old = tmp_path / "old.sqlite3"
    legacy_database(old, 3).close()
    before = _fingerprint(old)[:2]
    status, _, err = _run(capsys, "sessions", "--db", str(old))
    assert status == 1 and "schema version 3" in err and "restbeat sessions --upgrade" in err
    assert _fingerprint(old)[:2] == before  # same bytes, same mode
    status, out, _ = _run(capsys, "sessions", "--upgrade", "--db", str(old))
    assert status == 0 and f"upgraded from schema version 3 to {SCHEMA_VERSION}" in out
    status, out, _ = _run(capsys, "sessions", "--db", str(old))
    assert status == 0 and "no sessions yet" in out


def test_a_symlink_is_followed_knowingly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --db symlink is followed: to a restbeat database it is used (the file it points to), to nothing it
    is refused (no file created where the person did not name one); to another file, see above."""
    real = tmp_path / "disk" / "restbeat.sqlite3"
    real.parent.mkdir()
    open_database(real).close()
    link = tmp_path / "db.sqlite3"
    link.symlink_to(real)
    conn = open_database(link)
    with transaction(conn):
        insert_session(conn, SessionStart(1.75e9, "test", "other"), recording=False)
    conn.close()
    assert link.is_symlink() and len(list_sessions(open_existing(real))) == 1
    dangling = tmp_path / "dangling.sqlite3"
    dangling.symlink_to(tmp_path / "nowhere.sqlite3")
    for command in (("sessions",), ("import", str(tmp_path / "x.txt"))):
        status, _, err = _run(capsys, *command, "--db", str(dangling))
        assert status == 1 and "which does not exist" in err
    assert not (tmp_path / "nowhere.sqlite3").exists()


# -- point 10: permissions ----------------------------------------------------------------------------------


def test_files_of_the_persons_data_are_private_whatever_the_umask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18.10: exports and reports were 0644 while the database is 0600; the strap memory became 0666
    through a stale 0666 temporary file."""
    from restbeat.app.private_files import write_private
    from restbeat.devices.ble import StrapInfo
    from restbeat.devices.strap_memory import recall, remember

    path = tmp_path / "db.sqlite3"
    conn = open_database(path)
    write_import(conn, [_pending(2000)])
    conn.close()
    previous = os.umask(0o022)
    try:
        for fmt in ("csv", "json", "kubios"):
            out = tmp_path / f"export.{fmt}"
            status, _, err = _run(
                capsys, "export", "--format", fmt, "--last", "--out", str(out), "--db", str(path)
            )
            assert status == 0, err
            assert stat.S_IMODE(out.stat().st_mode) == 0o600, fmt
        figure = tmp_path / "figure.png"
        figure.write_bytes(b"old")
        figure.chmod(0o644)
        write_private(figure, b"\x89PNG")  # review and trends write their figures so
        assert stat.S_IMODE(figure.stat().st_mode) == 0o600 and figure.read_bytes() == b"\x89PNG"
        status, _, err = _run(
            capsys, "report", "--last", "--out", str(tmp_path / "r.html"), "--db", str(path)
        )
        assert status == 0, err
        assert stat.S_IMODE((tmp_path / "r.html").stat().st_mode) == 0o600
        memory = tmp_path / "config" / "strap.json"
        memory.parent.mkdir()
        stale = memory.with_suffix(".tmp")
        stale.write_text("{}")
        stale.chmod(0o666)
        remember(StrapInfo("AA:BB", "Polar H10", None), memory)
        assert stat.S_IMODE(memory.stat().st_mode) == 0o600
        recalled = recall(memory)
        assert recalled is not None and recalled.address == "AA:BB"
        assert [p.name for p in memory.parent.iterdir() if p.name.endswith(".tmp")] == ["strap.tmp"]
    finally:
        os.umask(previous)


# -- point 1 (last sentence): a long import and the write lock ----------------------------------------------


def _probe_lock(path: Path, stop: threading.Event, waits: list[float]) -> None:
    """Keep asking for the write lock, as a live recorder's flush does; each wait is how long it took."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    while not stop.is_set():
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        waits.append(time.perf_counter() - began)
        conn.execute("ROLLBACK")
        time.sleep(0.002)
    conn.close()


def longest_lock_wait(path: Path, work: Callable[[], None]) -> tuple[float, int]:
    """Run ``work`` while another connection keeps taking the write lock; the longest wait (s), and how
    many times it got the lock."""
    stop, waits = threading.Event(), list[float]()
    prober = threading.Thread(target=_probe_lock, args=(path, stop, waits))
    prober.start()
    try:
        work()
    finally:
        stop.set()
        prober.join()
    return max(waits), len(waits)


def test_a_week_long_import_never_holds_the_write_lock_for_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18.1: 7 days of beats (700,000) written in chunks, each its own short transaction; another
    connection asking for the write lock all along never waits a second (in one transaction it waited
    4.5-7.1 s); readers see the session only once it is complete."""
    path = tmp_path / "db.sqlite3"
    conn = open_database(path)
    week = _pending(700_000)
    seen_during: list[int] = []
    reader = open_existing(path)
    original = bulk._write_chunk

    def chunk_and_look(c: sqlite3.Connection, chunk: list[tuple[str, tuple[object, ...]]]) -> None:
        original(c, chunk)
        seen_during.append(len(list_sessions(reader)))

    monkeypatch.setattr(bulk, "_write_chunk", chunk_and_look)

    def work() -> None:
        write_import(conn, [week])

    longest, granted = longest_lock_wait(path, work)
    print(f"700,000 beats: longest wait for the write lock {longest * 1000:.0f} ms over {granted} grants")
    assert longest < 1.0
    assert granted > 20 and set(seen_during) == {0}  # the other connection got in throughout; nothing partial
    [session] = list_sessions(conn)
    assert session.status == "complete" and session_beats(conn, session.id).rr_ms.size == 700_000


def test_an_import_that_fails_midway_leaves_nothing(tmp_path: Path) -> None:
    """All or nothing despite the chunks: a full disk after some chunks have committed removes the partial
    session; when even that cannot be done, it stays hidden and the next open removes it."""
    path = tmp_path / "db.sqlite3"
    conn = open_database(path)
    write_import(conn, [_pending(1000, "a" * 64)])
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 60}")  # the disk fills a few chunks in
    with pytest.raises(sqlite3.OperationalError, match="full"):
        write_import(conn, [_pending(200_000, "b" * 64)], chunk_rows=2_000)
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert [s.status for s in list_sessions(conn)] == ["complete"]
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM beats").fetchone()[0] == 1000
    assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 1
    conn.close()


def test_an_import_killed_midway_is_removed_at_the_next_open(tmp_path: Path) -> None:
    """kill -9 during a chunked import: the chunks already committed belong to a session marked importing,
    which no reader lists, and the next writing open removes it with its rows."""
    path = tmp_path / "db.sqlite3"
    open_database(path).close()
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[2]); from pathlib import Path\n"
        "from restbeat.store.database import open_database\n"
        "from restbeat.store import bulk\n"
        "from tests.faults.test_store_faults import _pending\n"
        "original = bulk._write_chunk\n"
        "def slow(c, chunk):\n"
        "    original(c, chunk); print('chunk', flush=True); time.sleep(0.2)\n"
        "bulk._write_chunk = slow\n"
        "bulk.write_import(open_database(sys.argv[1]), [_pending(100_000)], chunk_rows=5_000)\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    child = subprocess.Popen([sys.executable, "-c", code, str(path), root], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    for _ in range(3):
        assert child.stdout.readline().strip() == "chunk"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reader = open_existing(path)
    assert list_sessions(reader) == []
    assert reader.execute("SELECT count(*) FROM beats").fetchone()[0] >= 15_000  # committed, hidden
    reader.close()
    conn = open_database(path)
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM beats").fetchone()[0] == 0


def test_a_full_disk_during_a_long_import_keeps_nothing_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: rollback on a full disk during import held with one transaction per file; it still holds
    with the file written in chunks: the disk fills after some chunks have committed, the file is reported
    in one line, nothing of it is kept, and once there is room again it imports."""
    from restbeat.app.importing import import_files
    from restbeat.devices.recording import RecordingError

    rr = tmp_path / "long.txt"
    rr.write_text("\n".join(str(780 + (i * 7) % 90) for i in range(200_000)) + "\n")
    conn = open_database(tmp_path / "db.sqlite3")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 400}")  # room for a few chunks
    committed: list[int] = []
    original = bulk._write_chunk

    def counted(c: sqlite3.Connection, chunk: list[tuple[str, tuple[object, ...]]]) -> None:
        original(c, chunk)
        committed.append(len(chunk))

    monkeypatch.setattr(bulk, "_write_chunk", counted)
    [outcome] = import_files(conn, [rr], correct=False)
    assert isinstance(outcome, RecordingError) and len(committed) >= 2  # it failed midway
    assert str(outcome) == f"{rr}: could not be stored (database or disk is full); nothing of it was kept"
    tables = ("sessions", "beats", "imports")
    assert [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables] == [0, 0, 0]
    conn.execute("PRAGMA max_page_count = 1073741823")
    [done] = import_files(conn, [rr], correct=False)
    assert not isinstance(done, RecordingError) and done.status == "imported" and done.beats == 200_000
