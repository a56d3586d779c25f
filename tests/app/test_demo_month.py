"""`restbeat demo --days N`: the month's plan, and two days recorded through the live path."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from restbeat.app.demo_month import (
    ROTA,
    SHIFT_S,
    WORK,
    MonthSummary,
    at_state,
    fill_month,
    plan_days,
)
from restbeat.app.monitor import is_night
from restbeat.cli import main
from restbeat.recovery.baseline import CheckIn, check_in_value
from restbeat.store.database import open_database
from restbeat.store.queries import list_sessions, session_beats, session_packets, session_records

LAST = dt.date(2026, 3, 11)  # a fixed period, well in the past


def test_the_rota_has_day_and_night_shifts_and_a_low_stretch_that_lifts() -> None:
    plans = plan_days(30, LAST, seed=1)
    assert [p.date for p in plans] == [LAST - dt.timedelta(days=29 - k) for k in range(30)]
    kinds = Counter(p.kind for p in plans)
    assert kinds["day"] >= 10 and kinds["night"] >= 6 and kinds["off"] >= 10
    assert [p.kind for p in plans[:14]] == list(ROTA)
    for plan in plans:
        start = plan.shift_start
        assert (start is None) == (plan.kind == "off")
        if start is not None:
            assert is_night(start) == (plan.kind == "night")
    recovery = np.array([p.recovery for p in plans])
    low, usual = recovery[16:24], np.concatenate([recovery[:14], recovery[-2:]])
    assert low.mean() < usual.mean() - 0.2  # the hard run shows
    assert recovery[-1] > low.mean() + 0.15  # and lifts by the end
    assert plan_days(30, LAST, seed=1) == plans  # the same seed, the same month


def test_the_wearer_is_calmer_on_good_days_and_at_day() -> None:
    good, low = at_state(WORK, 0.1), at_state(WORK, -0.3)
    assert good.rsa_ms > low.rsa_ms and good.hr_bpm < low.hr_bpm
    assert at_state(WORK, 0.0, night=True).rsa_ms < at_state(WORK, 0.0).rsa_ms


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sqlite3.Connection, MonthSummary]]:
    """Two day shifts with their check-ins (about 5 s)."""
    conn = open_database(tmp_path_factory.mktemp("month") / "month.sqlite3")
    seen: list[float] = []
    summary = fill_month(conn, 2, seed=1, last=LAST, on_progress=lambda done, _: seen.append(done))
    assert seen and seen == sorted(seen) and seen[-1] == pytest.approx(1.0, abs=0.02)
    yield conn, summary
    conn.close()


def test_each_shift_day_holds_a_morning_pre_shift_shift_and_post_shift(
    two_days: tuple[sqlite3.Connection, MonthSummary],
) -> None:
    conn, summary = two_days
    sessions = list_sessions(conn)
    assert [s.context for s in sessions] == ["morning", "pre-shift", "on-shift", "post-shift"] * 2
    assert {s.local_date for s in sessions} == {LAST - dt.timedelta(days=1), LAST}
    assert all(s.status == "complete" and s.source == "demo" for s in sessions)
    shifts = [s for s in sessions if s.context == "on-shift"]
    assert [s.duration_s for s in shifts] == [SHIFT_S, SHIFT_S]
    assert summary.day_shifts == 2 and summary.night_shifts == 0 and summary.check_ins == 6
    for session in sessions:
        if session.context in ("morning", "pre-shift"):
            beats = session_beats(conn, session.id)
            assert isinstance(check_in_value(beats.t_s, beats.rr_ms, beats.quality, beats.segment), CheckIn)


def test_the_shift_went_through_the_live_path(two_days: tuple[sqlite3.Connection, MonthSummary]) -> None:
    conn, summary = two_days
    shift = next(s for s in list_sessions(conn) if s.context == "on-shift")
    beats = session_beats(conn, shift.id)
    assert 28_000 < beats.rr_ms.size < 40_000  # 8 h at 60-80 bpm
    assert summary.beats == sum(
        session_beats(conn, s.id).rr_ms.size for s in list_sessions(conn) if s.context == "on-shift"
    )
    packets = session_packets(conn, shift.id)
    assert SHIFT_S - 200 < len(packets) <= SHIFT_S  # one a second, less the link drops
    kinds = Counter(beats.kind)
    assert kinds["normal"] > 0.95 * beats.rr_ms.size
    assert set(kinds) - {"normal"}, "the wearer's missed and extra beats are found and corrected"
    snapshots = session_records(conn, "snapshots", shift.id)
    assert len(snapshots) > 2 * 0.9 * SHIFT_S / 5  # both windows every 5 s
    events = session_records(conn, "link_events", shift.id)
    states = [e["detail"]["state"] for e in events if e["kind"] == "StateChanged"]
    assert states == ["streaming", "reconnecting", "streaming"]  # this seed's first shift loses the link once


def test_prompts_are_answered_and_accepted_practices_measured(
    two_days: tuple[sqlite3.Connection, MonthSummary],
) -> None:
    conn, summary = two_days
    prompts = conn.execute("SELECT id, response FROM prompts").fetchall()
    assert prompts and all(response is not None for _, response in prompts)
    assert sum(summary.prompts.values()) == len(prompts)
    accepted = {prompt_id for prompt_id, response in prompts if response == "accepted"}
    measured = {row[0] for row in conn.execute("SELECT prompt_id FROM outcomes WHERE prompt_id IS NOT NULL")}
    assert accepted <= measured


def test_the_second_shift_starts_from_what_the_first_taught(tmp_path: Path) -> None:
    """The baseline each shift starts from is the store's (learned once per past shift)."""
    from restbeat.app.person import baseline
    from restbeat.app.replay import LearnedShift

    conn = open_database(tmp_path / "db.sqlite3")
    fill_month(conn, 1, seed=2, last=LAST)
    learned: dict[int, LearnedShift] = {}
    profile = baseline(conn, None, learned)
    assert profile.epochs and profile.check_in is not None
    assert list(learned) == [s.id for s in list_sessions(conn) if s.context == "on-shift"]
    assert baseline(conn, None, learned) == profile  # from the kept lessons, the same


def test_a_database_with_sessions_is_refused(two_days: tuple[sqlite3.Connection, MonthSummary]) -> None:
    conn, _ = two_days
    with pytest.raises(ValueError, match="already holds sessions"):
        fill_month(conn, 1, last=LAST)


def test_the_command_records_the_days_and_says_what_to_run_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "month.sqlite3"
    assert main(["demo", "--days", "1", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 day of a nurse's rota" in out and "1 day recorded" in out
    assert "shifts" in out and "1 day, 0 night" in out
    assert f"--db {path}" in out
    assert main(["demo", "--days", "1", "--db", str(path)]) == 1
    assert "already holds sessions" in capsys.readouterr().err
