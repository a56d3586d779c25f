"""Fault injection on the live recorder (issue 18, point 1): a live emulated session over the virtual link
while another process holds the database's write lock for 15 s, while the disk is full (a small tmpfs,
filled), and at stop while either still holds; then every notification the strap sent is in the database
or in the recovery file that ``restbeat import`` puts back, the screen said what was not saved and why,
and neither the screen nor the strap's data waited on the database."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console

from restbeat.app.live import LiveShift, LiveSummary
from restbeat.app.monitor import SessionPlan
from restbeat.cli import main
from restbeat.devices.emulator import EmulatedStrap
from restbeat.store.database import open_database
from restbeat.ui.sessions import emulated, emulated_plan

LOCK_S = 15.0
SPEED = 10.0


@dataclass
class Seen:
    """What the session's screen showed: the saving line at each frame (real s from the start) and the
    real time between frames (s)."""

    saving: list[tuple[float, str | None]] = field(default_factory=list)
    frame_gaps_s: list[float] = field(default_factory=list)
    sent_by_last_frame: int = 0  # notifications the strap had sent at the latest frame

    def texts(self) -> list[str]:
        return [text for _, text in self.saving if text is not None]


def _session(
    db: Path, run_real_s: float, on_frame: Callable[[float], None], trace: list[str] | None = None
) -> tuple[LiveSummary, range, Seen]:
    """An emulated session at 10x for ``run_real_s`` real seconds; ``on_frame`` is called every frame with
    the real time since the start; ``trace`` collects the statements run on the session's own connection.
    Returns the summary, the notifications the strap sent (a range: at least those sent by the last frame
    before the stop, at most all it sent, since one may leave the strap after the stop was asked for), and
    what was seen."""
    conn = open_database(db)
    if trace is not None:
        conn.set_trace_callback(trace.append)
    seen = Seen()
    straps: list[EmulatedStrap] = []

    def make(
        shift: LiveShift, person: object, strap: EmulatedStrap | None, clock: object
    ) -> tuple[Callable[[float], bool], None]:
        assert strap is not None
        straps.append(strap)
        start = last = time.monotonic()

        def script(now: float) -> bool:
            nonlocal last
            real = time.monotonic()
            if real - start > 1.0:  # the first frames include the strap's connection
                seen.frame_gaps_s.append(real - last)
            last = real
            seen.saving.append((real - start, shift.view(now).saving))
            seen.sent_by_last_frame = straps[0].sent
            on_frame(real - start)
            return real - start >= run_real_s

        return script, None

    console = Console(file=io.StringIO(), width=100)
    plan = emulated_plan(SessionPlan())
    summary = asyncio.run(
        emulated(conn, plan, console, make, title="fault test", speed=SPEED, notifications=False)
    )
    conn.close()
    return summary, range(seen.sent_by_last_frame, straps[0].sent + 1), seen


class Locker:
    """Another process that takes the write lock (BEGIN IMMEDIATE) and holds it for ``hold_s``."""

    def __init__(self, db: Path, hold_s: float) -> None:
        self.db, self.hold_s = db, hold_s
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.process is None:
            code = (
                "import sqlite3, sys, time\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
                "c.execute('BEGIN IMMEDIATE')\n"
                "time.sleep(float(sys.argv[2]))\n"
                "c.execute('COMMIT')\n"
            )
            self.process = subprocess.Popen([sys.executable, "-c", code, str(self.db), str(self.hold_s)])

    def wait(self) -> None:
        if self.process is not None:
            assert self.process.wait(timeout=self.hold_s + 30) == 0


def _stored(db: Path, session_id: int) -> tuple[int, int, int | None, str]:
    """Packets, beats, the last beat's seq and the status of a session, read by a fresh connection."""
    with sqlite3.connect(db) as conn:
        packets = conn.execute("SELECT count(*) FROM packets WHERE session_id = ?", (session_id,)).fetchone()[
            0
        ]
        beats, last = conn.execute(
            "SELECT count(*), max(seq) FROM beats WHERE session_id = ?", (session_id,)
        ).fetchone()
        status = conn.execute("SELECT status FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]
    return int(packets), int(beats), last, str(status)


def test_a_15_s_write_lock_is_waited_out_shown_and_nothing_is_lost(tmp_path: Path) -> None:
    db = tmp_path / "locked.sqlite3"
    locker = Locker(db, LOCK_S)
    summary, sent, seen = _session(db, LOCK_S + 6.0, lambda real: locker.start() if real >= 2.0 else None)
    locker.wait()

    texts = seen.texts()
    assert any("not saved for" in text and "database locked" in text for text in texts), texts[-3:]
    longest = max(int(text.split("not saved for ")[1].split(" s")[0]) for text in texts)
    assert longest >= LOCK_S - 3  # the screen counted the outage up
    assert seen.saving[-1][1] is None  # saving resumed by itself: the line is gone
    assert max(seen.frame_gaps_s) < 1.0  # the screen never froze on SQLite's busy wait
    assert summary.drops == 0  # no false watchdog drop: the strap's data kept flowing
    assert summary.saved is not None and summary.saved.saved_all
    assert summary.session_id is not None
    packets, beats, last, status = _stored(db, summary.session_id)
    assert packets in sent and sent.start > 150
    assert beats == summary.beats and last == beats - 1
    assert status == "complete"


def test_a_lock_still_held_at_stop_leaves_a_recovery_file_that_import_puts_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "held.sqlite3"
    locker = Locker(db, 14.0)
    summary, sent, seen = _session(db, 4.0, lambda real: locker.start() if real >= 1.5 else None)
    report = summary.saved
    assert report is not None and not report.saved_all
    assert report.reason == "database locked" and report.recovery_rows > 0
    assert "restbeat import" in report.text() and report.recovery_paths[0] in report.text()
    recovery = Path(report.recovery_paths[0])
    assert recovery.parent == tmp_path and recovery.stat().st_mode & 0o777 == 0o600
    assert any("database locked" in text for text in seen.texts())
    locker.wait()

    assert summary.session_id is not None
    packets, _, _, status = _stored(db, summary.session_id)
    assert packets < sent.start and status == "recording"  # the end could not be written either
    capsys.readouterr()
    assert main(["import", str(recovery), "--db", str(db)]) == 0
    assert f"session {summary.session_id}" in capsys.readouterr().out
    packets, beats, last, status = _stored(db, summary.session_id)
    assert packets in sent
    assert beats == summary.beats and last == beats - 1
    assert status == "complete"
    assert main(["import", str(recovery), "--db", str(db)]) == 1  # twice is refused, nothing doubled
    assert _stored(db, summary.session_id)[0] == packets


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6-MB tmpfs (needs root, as CI and this machine run); skipped where it cannot be mounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({result.stderr.strip() or 'not root'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    """Write a file until the filesystem is full; returns it (delete it to free the space)."""
    filler = folder / "filler"
    with filler.open("ab") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass  # ENOSPC: the disk is full, which is the point
    return filler


def test_a_full_disk_is_shown_and_saving_resumes_when_space_returns(small_disk: Path) -> None:
    db = small_disk / "full.sqlite3"
    state: dict[str, Path] = {}

    def fault(real: float) -> None:
        if real >= 2.0 and "filler" not in state:
            state["filler"] = _fill(small_disk)
        elif real >= 9.0 and state.get("filler") and state["filler"].exists():
            state["filler"].unlink()

    summary, sent, seen = _session(db, 13.0, fault)
    assert any("disk full" in text for text in seen.texts()), seen.texts()[-3:]
    assert seen.saving[-1][1] is None
    assert max(seen.frame_gaps_s) < 1.0
    assert summary.saved is not None and summary.saved.saved_all and summary.session_id is not None
    packets, beats, last, status = _stored(db, summary.session_id)
    assert packets in sent and beats == summary.beats and last == beats - 1 and status == "complete"


def test_a_disk_still_full_at_stop_puts_the_rest_in_the_temporary_folder(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spare = tmp_path / "spare"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    db = small_disk / "full.sqlite3"
    state: dict[str, Path] = {}

    def fault(real: float) -> None:
        if real >= 2.0:  # and kept full to the end: any page SQLite frees is taken again
            state["filler"] = _fill(small_disk)

    summary, sent, _ = _session(db, 4.0, fault)
    report = summary.saved
    assert report is not None and not report.saved_all and report.reason == "disk full"
    assert [Path(path).parent for path in report.recovery_paths] == [spare]  # beside the database: full
    state["filler"].unlink()
    assert summary.session_id is not None
    assert main(["import", report.recovery_paths[0], "--db", str(db)]) == 0
    packets, beats, last, status = _stored(db, summary.session_id)
    assert packets in sent and beats == summary.beats and last == beats - 1 and status == "complete"


def test_the_rows_are_never_written_on_the_event_loop(tmp_path: Path) -> None:
    """The session's own connection (the loop's) only creates the session; every row of it is written by
    the writer thread's connection, so SQLite's busy wait or a slow disk cannot stall the loop."""
    db = tmp_path / "threads.sqlite3"
    statements: list[str] = []
    summary, sent, _ = _session(db, 3.0, lambda real: None, trace=statements)
    assert summary.session_id is not None and _stored(db, summary.session_id)[0] in sent and sent.start > 10
    tables = ("beats", "packets", "link_events", "snapshots", "prompts", "outcomes", "annotations")
    written = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert any("INTO sessions" in s for s in written)
    assert not [
        s for s in written if any(f" {table} " in f" {s} " or f"INTO {table}" in s for table in tables)
    ]


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_kill_or_a_closed_terminal_during_an_outage_ends_the_session_as_q_does(
    tmp_path: Path, name: str
) -> None:
    """`kill`, the terminal closing and Ctrl-C stop the session like q: the summary, and what could not be
    saved in the recovery file (they used to lose every row held in memory)."""
    db = tmp_path / "signalled.sqlite3"
    locker = Locker(db, 9.0)  # still held when the 5-s retry at stop ends
    sent_signal: list[bool] = []

    def fault(real: float) -> None:
        if real >= 1.0:
            locker.start()
        if real >= 3.0 and not sent_signal:
            sent_signal.append(True)
            os.kill(os.getpid(), getattr(signal, name))

    summary, sent, _ = _session(db, 30.0, fault)
    assert sent_signal and summary.saved is not None and not summary.saved.saved_all
    assert summary.duration_s < 10 * SPEED  # it stopped at the signal, not at the script's end
    locker.wait()
    assert summary.session_id is not None
    assert main(["import", summary.saved.recovery_paths[0], "--db", str(db)]) == 0
    packets, beats, last, status = _stored(db, summary.session_id)
    assert packets in sent and beats == summary.beats and last == beats - 1 and status == "complete"


def test_a_session_that_cannot_start_for_a_lock_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "busy.sqlite3"
    open_database(db).close()
    locker = Locker(db, 14.0)
    locker.start()
    time.sleep(1.0)  # the lock is taken
    rc = main(["monitor", "--emulated", "--speed", "10", "--db", str(db)])
    err = capsys.readouterr().err.strip().splitlines()
    locker.wait()
    assert rc == 1
    assert err == [
        f"restbeat monitor: {db}: the session could not start: another process is writing to it; "
        "try again when it is done (database is locked)"
    ]
