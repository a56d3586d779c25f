"""`restbeat review`'s data: the shift found by date, the series on the 5-s grid, the live decisions replayed
as the shift saw them, the periods, prompts, practices, notes and gaps from the store, and the summary."""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from restbeat.app.person import RESONANCE
from restbeat.app.replay import LearnedShift
from restbeat.app.review import (
    GRID_S,
    NO_DATA,
    POST_SHIFT,
    PRE_SHIFT,
    SHIFT,
    Against,
    ReviewError,
    ShiftReview,
    SpanKind,
    after_shift_value,
    at_rest_rmssd,
    find_shift,
    load_review,
)
from restbeat.beats import BeatQuality
from restbeat.recovery.baseline import CheckInRejected
from restbeat.store.database import open_database
from restbeat.store.queries import SessionBeats, SessionRow, list_sessions, session_beats, session_records
from restbeat.store.writes import SessionStart, finish_session, insert_session
from tests.support.demo_month import MONTH_LAST

FIRST_SHIFT = dt.date(2026, 2, 26)  # day shift; no earlier post-shift session
NIGHT_SHIFT = dt.date(2026, 3, 4)  # 4 prompts (3 accepted, 1 snoozed), 3 practices, a note, a link drop
LAST_SHIFT = dt.date(2026, 3, 9)  # the latest: seven earlier post-shift sessions


@pytest.fixture(scope="module")
def conn(month_db: Path) -> Iterator[sqlite3.Connection]:
    connection = open_database(month_db)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def reviews(conn: sqlite3.Connection) -> dict[dt.date, ShiftReview]:
    learned: dict[int, LearnedShift] = {}
    return {
        day: load_review(conn, find_shift(conn, day), learned_before=learned)
        for day in (FIRST_SHIFT, NIGHT_SHIFT, LAST_SHIFT)
    }


def _shifts(conn: sqlite3.Connection) -> list[SessionRow]:
    return list_sessions(conn, context=SHIFT)


def test_importing_the_review_does_not_load_matplotlib() -> None:
    code = "import sys, restbeat.app.review, restbeat.cli; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_find_shift_takes_the_days_shift_and_without_a_date_the_latest(conn: sqlite3.Connection) -> None:
    shifts = _shifts(conn)
    assert len(shifts) == 8
    for shift in shifts:
        assert find_shift(conn, shift.local_date) == shift
    latest = find_shift(conn, None)
    assert latest.started_utc == max(s.started_utc for s in shifts)
    assert latest.local_date == LAST_SHIFT


def test_a_day_without_a_shift_is_one_line_naming_it_and_the_nearest_days(conn: sqlite3.Connection) -> None:
    with pytest.raises(ReviewError) as caught:
        find_shift(conn, MONTH_LAST)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"no on-shift session on {MONTH_LAST.isoformat()}")
    assert LAST_SHIFT.isoformat() in message  # the nearest day that has one


def test_an_empty_database_says_how_to_record_shifts(tmp_path: Path) -> None:
    empty = open_database(tmp_path / "empty.sqlite3")
    try:
        with pytest.raises(ReviewError, match=r"no on-shift session yet: `restbeat demo --days 30`"):
            find_shift(empty, None)
    finally:
        empty.close()


def test_the_longest_shift_of_a_day_and_a_shift_without_beats(tmp_path: Path) -> None:
    store = open_database(tmp_path / "two.sqlite3")
    try:
        start = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))).timestamp()
        ids = []
        for offset_s, length_s in ((0.0, 1800.0), (3600.0, 6 * 3600.0), (7 * 3600.0, 600.0)):
            row = SessionStart(start + offset_s, "test", SHIFT, tz_offset_s=3600)
            session_id = insert_session(store, row, recording=False)
            finish_session(store, session_id, start + offset_s + length_s)
            ids.append(session_id)
        shift = find_shift(store, dt.date(2026, 3, 2))
        assert shift.id == ids[1] and shift.duration_s == 6 * 3600.0
        with pytest.raises(ReviewError, match=r"^the on-shift session of 2026-03-02 holds no beats$"):
            load_review(store, shift)
    finally:
        store.close()


def test_the_periods_are_the_check_ins_around_the_shift(reviews: dict[dt.date, ShiftReview]) -> None:
    for review in reviews.values():
        contexts = [period.context for period in review.periods]
        assert contexts == [PRE_SHIFT, SHIFT, POST_SHIFT]
        pre, shift, post = review.periods
        assert (shift.start_s, shift.end_s) == (0.0, review.session.duration_s) == (0.0, 8 * 3600.0)
        assert pre.start_s == pytest.approx(-480.0) and pre.end_s < 0.0  # 3 min, 8 min before the start
        assert post.start_s == pytest.approx(shift.end_s + 300.0)
        assert post.end_s - post.start_s == pytest.approx(600.0, abs=2.0)


def test_the_series_is_the_60s_window_at_each_grid_point(
    conn: sqlite3.Connection, reviews: dict[dt.date, ShiftReview]
) -> None:
    """Checked against RMSSD and mean HR computed directly from the beats of the window (60 s up to the
    latest beat at or before the grid point, one segment, every beat usable)."""
    review = reviews[NIGHT_SHIFT]
    series = review.series
    assert np.all(np.diff(series.t_s) == GRID_S)
    beats = session_beats(conn, review.session.id)
    on = np.flatnonzero((series.t_s > 0) & (series.t_s <= review.end_s))
    checked = 0
    for k in on[::97]:
        last = int(np.searchsorted(beats.t_s, series.t_s[k], side="right")) - 1
        t_last = float(beats.t_s[last])
        inside = np.flatnonzero((beats.t_s > t_last - 60.0) & (beats.t_s <= t_last))
        clean = (
            np.all(np.isin(beats.quality[inside], (BeatQuality.GOOD, BeatQuality.CORRECTED)))
            and np.all(beats.segment[inside] == beats.segment[last])
            and np.count_nonzero(beats.quality[inside] == BeatQuality.CORRECTED) == 0
            and beats.rr_ms[inside].sum() / 1000.0 >= 54.0
        )
        if series.t_s[k] - t_last > GRID_S:
            assert series.quality[k] == NO_DATA
            continue
        if not clean:
            continue
        rr = beats.rr_ms[inside]
        assert series.quality[k] == "ok"
        assert series.rmssd_ms[k] == pytest.approx(math.sqrt(np.mean(np.diff(rr) ** 2)), rel=1e-9)
        assert series.hr_bpm[k] == pytest.approx(60000.0 / rr.mean(), rel=1e-9)
        checked += 1
    assert checked > 40
    assert np.all(np.isnan(series.rmssd_ms[np.asarray(series.quality) != "ok"]))


def test_the_replay_reproduces_every_reason_the_live_shift_prompted_with(
    conn: sqlite3.Connection, reviews: dict[dt.date, ShiftReview]
) -> None:
    """The stored prompt texts carry the live numbers of the moment the prompt was delivered (60-s RMSSD,
    minutes, the usual range): the replay's assessment says exactly the same at that moment, after a trigger
    it raised at or before it."""
    for review in reviews.values():
        triggers = [e for e in review.events if e.kind == "trigger"]
        assert len(triggers) >= len(review.prompts) > 0
        stored = session_records(conn, "prompts", review.session.id)
        assert len(stored) == len(review.replayed_reasons)
        for prompt, replayed in zip(stored, review.replayed_reasons, strict=True):
            assert any(e.t_s <= prompt["t_s"] + 1.0 for e in triggers)
            assert prompt["reason"] == replayed, (review.session.local_date, prompt["t_s"], prompt["reason"])


def test_the_band_is_the_usual_range_the_decisions_used(reviews: dict[dt.date, ShiftReview]) -> None:
    for review in reviews.values():
        series = review.series
        on = np.asarray(series.state) != ""
        assert np.all(series.band_low_ms[on] < series.band_high_ms[on])
        assert np.all(np.isnan(series.band_low_ms[~on]))
        for event in (e for e in review.events if e.kind == "trigger"):
            usual = re.search(r"(\d+)-(\d+) ms$", event.reason)
            assert usual is not None
            k = int(np.searchsorted(series.t_s, event.t_s))  # the first grid point after the tick
            assert (round(series.band_low_ms[k]), round(series.band_high_ms[k])) == (
                int(usual[1]),
                int(usual[2]),
            )


def test_time_per_state_adds_up_to_the_time_analysed(reviews: dict[dt.date, ShiftReview]) -> None:
    for review in reviews.values():
        summary = review.summary
        gaps = sum(s.end_s - s.start_s for s in review.spans if s.kind is SpanKind.NO_DATA and s.why != "")
        assert summary.analysed_s == pytest.approx(review.end_s, abs=gaps + 60.0)
        assert summary.analysed_s <= review.end_s
        state = np.asarray(review.series.state)
        # one 5-s tick per grid point, give or take the ticks missed in gaps
        assert summary.strained_s == pytest.approx(GRID_S * np.count_nonzero(state == "strained"), abs=120.0)
        assert summary.strained_s > 0


def test_the_lowest_stretch_is_the_minimum_of_the_5_min_rolling_mean_at_rest(
    reviews: dict[dt.date, ShiftReview],
) -> None:
    for review in reviews.values():
        rmssd = at_rest_rmssd(review.series, review.end_s)
        best, best_k = math.inf, -1
        for k in range(rmssd.size - 60 + 1):
            window = rmssd[k : k + 60]
            usable = window[np.isfinite(window)]
            if usable.size >= 48 and usable.mean() < best:
                best, best_k = float(usable.mean()), k
        lowest = review.summary.lowest
        assert lowest is not None
        assert lowest.rmssd_ms == pytest.approx(best, rel=1e-12)
        assert lowest.start_s == review.series.t_s[best_k] - GRID_S
        assert lowest.end_s - lowest.start_s == 300.0
        assert lowest.band_low_ms < lowest.band_high_ms
        # at rest: not a stretch of walking
        assert lowest.hr_bpm < 85.0


def test_prompts_practices_notes_and_link_drops_are_the_stores(
    conn: sqlite3.Connection, reviews: dict[dt.date, ShiftReview]
) -> None:
    for review in reviews.values():
        session_id = review.session.id
        prompts = session_records(conn, "prompts", session_id)
        assert [(p.t_s, p.practice, p.response) for p in review.prompts] == [
            (p["t_s"], p["practice"], p["response"] or "unanswered") for p in prompts
        ]
        outcomes = [o for o in session_records(conn, "outcomes", session_id) if o["practice"] != RESONANCE]
        assert [(p.start_s, p.end_s, p.practice) for p in review.practices] == [
            (o["started_t_s"], o["ended_t_s"], o["practice"]) for o in outcomes
        ]
        for practice, outcome in zip(review.practices, outcomes, strict=True):
            assert practice.effect.rmssd_before_ms == outcome["detail"]["rmssd_before_ms"]
            assert practice.effect.delta_ln_rmssd == outcome["detail"]["delta_ln_rmssd"]
            assert practice.prompted == (outcome["prompt_id"] is not None)
            assert practice.name and practice.name != practice.practice
        notes = session_records(conn, "annotations", session_id)
        assert [(n.t_s, n.text) for n in review.notes] == [(n["t_s"], n["text"]) for n in notes]
        drops = [
            e["t_s"]
            for e in session_records(conn, "link_events", session_id)
            if e["detail"].get("state") == "reconnecting"
        ]
        for t_s in drops:
            assert any(
                s.kind is SpanKind.NO_DATA
                and s.why == "link drop"
                and s.start_s <= t_s + GRID_S <= s.end_s + GRID_S
                for s in review.spans
            )
    night = reviews[NIGHT_SHIFT]
    assert len(night.prompts) == 4 and len(night.practices) == 3 and len(night.notes) == 1
    assert {p.response for p in night.prompts} == {"accepted", "snoozed"}
    assert any(
        p.effect.rsa_bpm is not None for p in night.practices if p.practice == "paced-breathing"
    ) or all(p.practice != "paced-breathing" for p in night.practices)
    assert night.night and not reviews[FIRST_SHIFT].night


def test_recovery_after_the_shift_against_the_usual_after_a_shift(
    conn: sqlite3.Connection, reviews: dict[dt.date, ShiftReview]
) -> None:
    review = reviews[LAST_SHIFT]
    recovery = review.summary.recovery
    assert recovery is not None and recovery.reference is not None
    assert recovery.against is Against.USUAL_AFTER
    earlier = [
        s for s in list_sessions(conn, context=POST_SHIFT) if s.started_utc < review.session.started_utc
    ]
    values = [after_shift_value(session_beats(conn, s.id)) for s in earlier]
    lns = [v.ln_rmssd for v in values if not isinstance(v, CheckInRejected)]
    assert recovery.count == len(lns) == 7
    assert recovery.reference.ln_rmssd == pytest.approx(float(np.median(lns)))
    post = next(p for p in review.periods if p.context == POST_SHIFT)
    today = after_shift_value(session_beats(conn, post.session_id))
    assert not isinstance(today, CheckInRejected)
    assert recovery.value == today
    assert recovery.delta_ln == pytest.approx(today.ln_rmssd - recovery.reference.ln_rmssd)
    assert recovery.verdict in {"lower", "about the same", "higher"}


def test_the_first_shift_compares_recovery_with_the_pre_shift_check_in(
    reviews: dict[dt.date, ShiftReview],
) -> None:
    summary = reviews[FIRST_SHIFT].summary
    assert summary.recovery is not None and summary.recovery.against is Against.PRE_SHIFT
    assert summary.recovery.count == 1
    assert summary.recovery_note is not None and "pre-shift check-in" in summary.recovery_note


def _beats(rr_ms: np.ndarray, quality: np.ndarray | None = None) -> SessionBeats:
    t = np.cumsum(rr_ms) / 1000.0
    q = np.zeros(rr_ms.size, dtype=np.int64) if quality is None else quality
    return SessionBeats(
        t, rr_ms.astype(np.float64), np.zeros(rr_ms.size, dtype=np.int64), q, ("normal",) * rr_ms.size
    )


def test_the_after_shift_value_uses_every_usable_difference_after_the_first_minute() -> None:
    rr = np.where(np.arange(700) % 2 == 0, 800.0, 840.0)  # successive differences of exactly 40 ms
    rr[:60] = 1000.0  # the first minute (60 beats of 1 s) is left out, whatever it holds
    value = after_shift_value(_beats(rr))
    assert not isinstance(value, CheckInRejected)
    assert value.rmssd_ms == pytest.approx(40.0)
    assert value.ln_rmssd == pytest.approx(math.log(40.0))
    assert value.hr_bpm == pytest.approx(60000.0 / 820.0, rel=1e-3)
    flagged = np.zeros(rr.size, dtype=np.int64)
    flagged[200:600] = BeatQuality.EXCLUDED
    rejected = after_shift_value(_beats(rr, flagged))
    assert isinstance(rejected, CheckInRejected) and "usable beats" in rejected.reason
