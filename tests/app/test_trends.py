"""`restbeat trends` data: daily values from the check-ins in the person's local dates, low-recovery streaks
and the seek-help message, day vs night shifts, the practices ranked; matplotlib never loaded."""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from restbeat.app.demo import SEATED, write_check_in
from restbeat.app.demo_month import at_state
from restbeat.app.trends import (
    SEEK_HELP_DAYS,
    LowStreak,
    TrendDay,
    TrendsError,
    help_due,
    load_trends,
    low_streaks,
    mean_interval,
    percent,
    seek_help_message,
    trends_from_values,
    welch_difference,
)
from restbeat.beats import BeatClass, BeatQuality
from restbeat.recovery.baseline import CHRONIC_RUN_DAYS, CheckIn, DailyValue, Trend, check_in_value
from restbeat.recovery.practices import by_id
from restbeat.store.database import open_database
from restbeat.store.queries import list_sessions, session_beats, session_records
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import SessionStart
from tests.support.demo_month import MONTH_DAYS, MONTH_LAST

LAST = dt.date(2026, 3, 31)
USUAL, LOW_VALUE = 3.7, 3.2
CALM_WORDS = ("warning", "alert", "danger", "urgent", "emergency", "burnout", "depress", "diagnos", "!")


def _values(usual_days: int, low_days: int, after_days: int = 0, last: dt.date = LAST) -> list[DailyValue]:
    """Usual days (3.7 +/- 0.05 ln ms), then low days (3.2), then usual again, ending on ``last``."""
    total = usual_days + low_days + after_days
    first = last - dt.timedelta(days=total - 1)
    values = []
    for index in range(total):
        low = usual_days <= index < usual_days + low_days
        ln = LOW_VALUE if low else USUAL + (0.05 if index % 2 else -0.05)
        values.append(DailyValue(first + dt.timedelta(days=index), ln, 70.0 if low else 62.0))
    return values


def _period(days: int = 60, last: dt.date = LAST) -> tuple[dt.date, dt.date]:
    return last - dt.timedelta(days=days - 1), last


# --- streaks and the seek-help message, from known daily values --------------------------------------------


def test_sixteen_low_days_after_forty_usual_ones_call_for_the_seek_help_message() -> None:
    trends = trends_from_values(_values(40, 16), *_period())
    assert len(trends.streaks) == 1
    streak = trends.streaks[0]
    assert streak.ongoing and streak.last == LAST
    assert streak.days >= SEEK_HELP_DAYS  # the 7-day mean lags the first low day by a day or so
    assert streak.first >= LAST - dt.timedelta(days=15)
    assert trends.seek_help and trends.help_streak == streak
    message = trends.message
    assert message is not None
    assert f"for {streak.days} days" in message
    assert "talk to someone" in message and "GP" in message and "professional" in message
    assert "not a medical device" in message
    assert not any(word in message.lower() for word in CALM_WORDS)


def test_ten_low_days_are_a_streak_called_out_without_the_seek_help_message() -> None:
    trends = trends_from_values(_values(40, 10), *_period())
    assert [streak.ongoing for streak in trends.streaks] == [True]
    assert CHRONIC_RUN_DAYS <= trends.streaks[0].days <= 10
    assert not trends.seek_help and trends.message is None


def test_every_day_of_a_streak_has_its_7_day_mean_below_that_days_normal_range() -> None:
    trends = trends_from_values(_values(40, 16), *_period())
    streak = trends.streaks[0]
    for day in trends.days:
        inside = streak.first <= day.date <= streak.last
        mean, low = day.trend.rolling_mean, day.trend.normal_low
        if mean is None or low is None:  # before the values start
            assert not inside
            continue
        assert (mean < low) == inside, day.date


def test_a_streak_that_lifted_recently_still_brings_the_message_and_says_it_lifted() -> None:
    trends = trends_from_values(_values(40, 16, 6), *_period())
    assert len(trends.streaks) == 1 and not trends.streaks[0].ongoing
    assert trends.seek_help
    assert trends.message is not None and "come back up" in trends.message


def test_help_is_due_for_a_long_streak_under_way_or_ended_less_than_two_weeks_ago() -> None:
    today = dt.date(2026, 3, 31)
    long_ago = LowStreak(dt.date(2026, 2, 1), dt.date(2026, 3, 17), ongoing=False)
    recent = LowStreak(dt.date(2026, 2, 1), dt.date(2026, 3, 18), ongoing=False)
    short = LowStreak(dt.date(2026, 3, 19), dt.date(2026, 3, 31), ongoing=True)  # 13 days
    assert help_due([long_ago], today) is None  # ended 14 days ago
    assert help_due([recent], today) == recent
    assert help_due([recent, short], today) == recent
    assert help_due([short], today) is None
    under_way = LowStreak(dt.date(2026, 1, 1), dt.date(2026, 1, 14), ongoing=True)  # measuring stopped
    assert help_due([under_way], today) == under_way
    assert "since 1 January" in seek_help_message(under_way)


def _day(date: dt.date, low_days: int) -> TrendDay:
    """A day whose 7-day mean has been below its normal range for ``low_days`` days (0: within it)."""
    trend = Trend(date, 3.5, 3.5, 3.7, 0.2, 30, False, 2.0, False, low_days >= 3, low_days)
    return TrendDay(trend, 62.0, 62.0)


def test_streaks_are_runs_of_three_low_days_or_more() -> None:
    first = dt.date(2026, 3, 1)
    pattern = [0, 1, 2, 0, 1, 0, 1, 2, 3, 0, 0, 1, 2, 3, 4]
    days = [_day(first + dt.timedelta(days=k), low) for k, low in enumerate(pattern)]
    streaks = low_streaks(days)
    assert [(s.first.day, s.last.day, s.days, s.ongoing) for s in streaks] == [
        (7, 9, 3, False),
        (12, 15, 4, True),
    ]


def test_a_streak_already_under_way_on_the_first_day_starts_where_it_began() -> None:
    values = _values(40, 20)
    trends = trends_from_values(values, *_period(10))
    full = trends_from_values(values, *_period(60))
    assert trends.streaks[0].first == full.streaks[0].first < trends.first


def test_a_provisional_range_never_makes_a_low_day() -> None:
    trends = trends_from_values(_values(5, 8), *_period(13))
    assert all(day.trend.provisional for day in trends.days if day.ln_rmssd is not None)
    assert not any(day.low for day in trends.days) and trends.streaks == ()


def test_resting_hr_and_its_7_day_mean_follow_the_check_ins() -> None:
    values = _values(40, 16)
    trends = trends_from_values(values, *_period())
    by_date = {value.date: value.hr_bpm for value in values}
    for day in trends.days:
        assert day.hr_bpm == by_date.get(day.date)
        week = [by_date[d] for d in (day.date - dt.timedelta(days=k) for k in range(7)) if d in by_date]
        expected = statistics.fmean(week) if len(week) >= 3 else None
        assert day.hr_rolling_bpm == pytest.approx(expected)


# --- the statistics -----------------------------------------------------------------------------------------


def test_mean_interval_is_the_t_interval_and_none_for_one_value() -> None:
    estimate = mean_interval([1.0, 2.0, 3.0])
    assert estimate.mean == 2.0 and estimate.n == 3
    assert estimate.low == pytest.approx(2.0 - 4.302653 / math.sqrt(3), abs=1e-5)
    assert estimate.high == pytest.approx(2.0 + 4.302653 / math.sqrt(3), abs=1e-5)
    single = mean_interval([0.3])
    assert (single.mean, single.n, single.low, single.high) == (0.3, 1, None, None)
    assert percent(math.log(1.5)) == pytest.approx(50.0)


def test_welch_difference_matches_scipy() -> None:
    day = [3.6, 3.5, 3.7, 3.55, 3.65, 3.4]
    night = [3.3, 3.45, 3.2, 3.35]
    estimate = welch_difference(day, night)
    assert estimate is not None and estimate.low is not None and estimate.high is not None
    reference = stats.ttest_ind(night, day, equal_var=False).confidence_interval(0.95)
    assert estimate.mean == pytest.approx(statistics.fmean(night) - statistics.fmean(day))
    assert (estimate.low, estimate.high) == pytest.approx((reference.low, reference.high))
    assert welch_difference(day, [3.3]) is None


# --- from a store -------------------------------------------------------------------------------------------


@pytest.fixture
def month(month_db: Path) -> Iterator[sqlite3.Connection]:
    conn = open_database(month_db)
    yield conn
    conn.close()


def test_month_daily_values_are_each_days_first_valid_morning_check_in(month: sqlite3.Connection) -> None:
    trends = load_trends(month, days=MONTH_DAYS, today=MONTH_LAST)
    assert trends.context == "morning"  # every day, against the pre-shift check-ins of shift days only
    assert (trends.first, trends.last) == (MONTH_LAST - dt.timedelta(days=MONTH_DAYS - 1), MONTH_LAST)
    assert [day.date for day in trends.days] == [
        trends.first + dt.timedelta(days=k) for k in range(MONTH_DAYS)
    ]
    expected: dict[dt.date, CheckIn] = {}
    for session in list_sessions(month, trends.first, MONTH_LAST, "morning"):
        beats = session_beats(month, session.id)
        value = check_in_value(beats.t_s, beats.rr_ms, beats.quality, beats.segment)
        if isinstance(value, CheckIn) and session.local_date not in expected:
            expected[session.local_date] = value
    assert trends.measured == len(expected) == MONTH_DAYS
    for day in trends.days:
        assert day.ln_rmssd == pytest.approx(expected[day.date].ln_rmssd)
        assert day.hr_bpm == pytest.approx(expected[day.date].hr_bpm)
    assert trends.days[-1].trend.rolling_mean == pytest.approx(
        statistics.fmean(expected[d.date].ln_rmssd for d in trends.days[-7:])
    )


def test_month_pre_shift_context_when_asked(month: sqlite3.Connection) -> None:
    trends = load_trends(month, days=MONTH_DAYS, today=MONTH_LAST, context="pre-shift")
    assert trends.context == "pre-shift"
    shift_days = {s.local_date for s in list_sessions(month, trends.first, MONTH_LAST, "on-shift")}
    assert {day.date for day in trends.days if day.ln_rmssd is not None} == shift_days


def test_month_day_and_night_shifts_and_their_levels(month: sqlite3.Connection) -> None:
    trends = load_trends(month, days=MONTH_DAYS, today=MONTH_LAST)
    assert len(trends.shifts) == 8
    assert sum(not s.night for s in trends.shifts) == 5 and sum(s.night for s in trends.shifts) == 3
    comparison = trends.day_night
    assert comparison.day is not None and comparison.night is not None
    assert (comparison.day.n, comparison.night.n) == (5, 3)
    for shift in trends.shifts:
        assert shift.source == "snapshots"
        rows = [
            row
            for row in session_records(month, "snapshots", shift.session_id)
            if row["window_s"] == 60.0 and row["quality"] == "ok"
        ]
        ln = np.log([row["rmssd_ms"] for row in rows])
        assert shift.windows == len(rows)
        assert shift.ln_rmssd == pytest.approx(float(np.median(ln)))
        assert shift.night == (shift.start.hour >= 19)  # the demo's nights start at 22:00
    day_levels = [s.ln_rmssd for s in trends.shifts if not s.night]
    assert comparison.day.mean == pytest.approx(statistics.fmean(day_levels))
    night_levels = [s.ln_rmssd for s in trends.shifts if s.night]
    difference = comparison.difference
    assert difference is not None
    assert difference.mean == pytest.approx(statistics.fmean(night_levels) - statistics.fmean(day_levels))


def test_month_practices_ranked_with_counts_and_intervals(month: sqlite3.Connection) -> None:
    trends = load_trends(month, days=MONTH_DAYS, today=MONTH_LAST)
    deltas: dict[str, list[float]] = defaultdict(list)
    for practice, detail in month.execute("SELECT practice, detail FROM outcomes"):
        delta = json.loads(detail).get("delta_ln_rmssd")
        if practice != "resonance" and delta is not None:
            deltas[practice].append(delta)
    assert deltas, "the demo month has practice outcomes"
    assert {effect.practice for effect in trends.practices} == set(deltas)
    for effect in trends.practices:
        values = deltas[effect.practice]
        assert effect.name == by_id(effect.practice).name
        assert effect.delta_ln.n == len(values)
        assert effect.delta_ln.mean == pytest.approx(statistics.fmean(values))
        assert effect.percent == pytest.approx(100 * (math.exp(statistics.fmean(values)) - 1))
        assert (effect.percent_interval is None) == (len(values) == 1)
        assert (
            sum(count for _, count in effect.answers)
            == month.execute(
                "SELECT count(*) FROM prompts WHERE practice = ?", (effect.practice,)
            ).fetchone()[0]
        )
    keys = [effect.ranked_by_ln for effect in trends.practices]
    assert keys == sorted(keys, reverse=True)
    for effect in trends.practices:  # pulled towards no change by 3 outcomes' worth
        n = effect.delta_ln.n
        assert effect.ranked_by_ln == pytest.approx(effect.delta_ln.mean * n / (n + 3))


# --- small stores: local dates, rejected check-ins, shifts from beats, errors -------------------------------


def _store(tmp_path: Path) -> sqlite3.Connection:
    return open_database(tmp_path / "trends.sqlite3")


def test_days_are_the_persons_local_dates(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    east = dt.timezone(dt.timedelta(hours=10))
    for day in range(3):  # 06:30 in UTC+10 is 20:30 UTC the day before
        write_check_in(conn, dt.datetime(2026, 3, 9 + day, 6, 30, tzinfo=east), seed=day, context="morning")
    trends = load_trends(conn, days=5, today=dt.date(2026, 3, 11))
    measured = [day.date for day in trends.days if day.ln_rmssd is not None]
    assert measured == [dt.date(2026, 3, 9), dt.date(2026, 3, 10), dt.date(2026, 3, 11)]
    utc_dates = [dt.datetime.fromtimestamp(s.started_utc, dt.UTC).date() for s in list_sessions(conn)]
    assert utc_dates == [dt.date(2026, 3, 8), dt.date(2026, 3, 9), dt.date(2026, 3, 10)]
    latest = trends.latest
    assert latest is not None and latest.trend.provisional  # three days: the range is provisional


def test_a_rejected_check_in_is_skipped_and_counted(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    zone = dt.UTC
    write_check_in(
        conn, dt.datetime(2026, 3, 10, 6, 0, tzinfo=zone), seed=1, context="morning", duration_s=60.0
    )
    kept = write_check_in(conn, dt.datetime(2026, 3, 10, 6, 5, tzinfo=zone), seed=2, context="morning")
    write_check_in(conn, dt.datetime(2026, 3, 10, 7, 0, tzinfo=zone), seed=3, context="morning")  # not first
    trends = load_trends(conn, days=3, today=dt.date(2026, 3, 10))
    assert trends.rejected == 1 and trends.measured == 1
    beats = session_beats(conn, kept)
    value = check_in_value(beats.t_s, beats.rr_ms, beats.quality, beats.segment)
    assert isinstance(value, CheckIn)
    assert trends.days[-1].ln_rmssd == pytest.approx(value.ln_rmssd)


def test_a_shift_without_snapshots_is_measured_from_its_beats(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    write_check_in(conn, dt.datetime(2026, 3, 10, 6, 0, tzinfo=dt.UTC), seed=1, context="morning")
    start = dt.datetime(2026, 3, 10, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    recorder = SessionRecorder(
        conn,
        SessionStart(
            started_utc=start.timestamp(), source="import", context="on-shift", tz_offset_s=-5 * 3600
        ),
        origin_s=0.0,
    )
    t = 0.0
    for index in range(10 * 75):  # 10 min at 75 bpm, successive differences of exactly +/-40 ms
        rr = 780.0 if index % 2 else 820.0
        t += rr / 1000.0
        recorder.add_beat(t, rr, 0, BeatQuality.GOOD, str(BeatClass.NORMAL))
    recorder.close(ended_utc=start.timestamp() + t)
    trends = load_trends(conn, days=3, today=dt.date(2026, 3, 11))
    (shift,) = trends.shifts
    assert shift.source == "beats" and shift.night and shift.start.date() == dt.date(2026, 3, 10)
    assert shift.windows >= 9
    assert shift.ln_rmssd == pytest.approx(math.log(40.0))
    assert shift.hr_bpm == pytest.approx(75.0, abs=0.5)


def test_a_store_with_a_long_low_stretch_brings_the_message(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    first = LAST - dt.timedelta(days=55)
    for index in range(56):
        r = -0.6 if index >= 40 else 0.0
        moment = dt.datetime.combine(first + dt.timedelta(days=index), dt.time(6, 30), dt.UTC)
        write_check_in(conn, moment, seed=index, context="morning", phase=at_state(SEATED, r))
    trends = load_trends(conn, days=60, today=LAST)
    assert trends.streaks and trends.streaks[-1].ongoing
    assert trends.seek_help and trends.message is not None and "talk to someone" in trends.message


def test_errors_are_one_plain_line(tmp_path: Path) -> None:
    conn = _store(tmp_path)
    with pytest.raises(
        TrendsError, match=r"^no morning or pre-shift check-ins from 2026-01-31 to 2026-03-31"
    ):
        load_trends(conn, days=60, today=LAST)
    with pytest.raises(TrendsError, match="at least 1"):
        load_trends(conn, days=0, today=LAST)
    with pytest.raises(TrendsError, match="not 'sleep'"):
        load_trends(conn, context="sleep", today=LAST)
    write_check_in(conn, dt.datetime(2026, 3, 30, 6, 0, tzinfo=dt.UTC), context="morning", duration_s=60.0)
    with pytest.raises(TrendsError) as caught:
        load_trends(conn, days=7, today=LAST)
    assert "1 could not be used" in str(caught.value) and "\n" not in str(caught.value)


# --- matplotlib stays out -----------------------------------------------------------------------------------


def test_importing_the_trends_data_or_the_cli_loads_no_matplotlib() -> None:
    code = (
        "import sys, restbeat.app.trends, restbeat.cli; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'matplotlib'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
