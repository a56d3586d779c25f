"""The trends figure, checked on what it draws (series, band, markers, bars, labels, local dates) and on its
text lines; the demo month is loaded and drawn in well under 2 s."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.axes._base import _AxesBase
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from restbeat.app.demo import write_check_in
from restbeat.app.trends import Trends, load_trends, trends_from_values
from restbeat.recovery.baseline import DailyValue
from restbeat.recovery.wording import NOT_A_MEDICAL_DEVICE
from restbeat.store.database import open_database
from restbeat.ui.plots import png_bytes
from restbeat.ui.trends_figure import trends_figure, trends_text
from tests.support.demo_month import MONTH_DAYS, MONTH_LAST

LAST = dt.date(2026, 3, 31)


def _x(days: Sequence[dt.date]) -> list[float]:
    return [float(value) for value in mdates.date2num(list(days))]  # type: ignore[no-untyped-call]


def _axes(figure: Figure) -> list[Axes | _AxesBase]:
    return [*figure.axes, *(child for axes in figure.axes for child in axes.child_axes)]


def _line(figure: Figure, gid: str) -> Line2D:
    found = [line for axes in figure.axes for line in axes.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, f"{len(found)} lines with gid {gid!r}"
    return found[0]


def _ydata(line: Line2D) -> list[float]:
    return [float(value) for value in np.asarray(line.get_ydata(), dtype=np.float64)]


def _xdata(line: Line2D) -> list[float]:
    return [float(value) for value in np.asarray(line.get_xdata(), dtype=np.float64)]


def _vertices(collection: PolyCollection) -> set[tuple[float, float]]:
    """Every corner of the collection's polygons, rounded to 1e-6."""
    return {
        (round(float(x), 6), round(float(y), 6))
        for path in collection.get_paths()
        for x, y in np.asarray(path.vertices, dtype=np.float64)
    }


def _same(values: Sequence[float], expected: Sequence[float | None]) -> bool:
    wanted = [math.nan if value is None else value for value in expected]
    return bool(np.allclose(np.asarray(values), np.asarray(wanted, dtype=np.float64), equal_nan=True))


def _values(usual_days: int, low_days: int) -> list[DailyValue]:
    first = LAST - dt.timedelta(days=usual_days + low_days - 1)
    return [
        DailyValue(
            first + dt.timedelta(days=k),
            3.2 if k >= usual_days else 3.7 + (0.05 if k % 2 else -0.05),
            70.0 if k >= usual_days else 62.0,
        )
        for k in range(usual_days + low_days)
    ]


def _low_trends() -> Trends:
    """60 days: 4 without a value, 13 provisional, then usual days and 16 low ones (seek help)."""
    return trends_from_values(_values(40, 16), LAST - dt.timedelta(days=59), LAST)


@pytest.fixture
def month(month_db: Path) -> Iterator[Trends]:
    conn = open_database(month_db)
    try:
        yield load_trends(conn, days=MONTH_DAYS, today=MONTH_LAST)
    finally:
        conn.close()


def test_the_daily_series_drawn_are_the_computed_values_on_local_dates(month: Trends) -> None:
    figure = trends_figure(month)
    days = month.days
    daily = _line(figure, "daily")
    assert _same(_ydata(daily), [day.ln_rmssd for day in days])
    assert _xdata(daily) == _x([day.date for day in days])
    assert _same(_ydata(_line(figure, "rolling-mean")), [day.trend.rolling_mean for day in days])
    assert _same(_ydata(_line(figure, "hr")), [day.hr_bpm for day in days])
    assert _same(_ydata(_line(figure, "hr-rolling-mean")), [day.hr_rolling_bpm for day in days])
    assert _same(_ydata(_line(figure, "cv")), [day.trend.cv_pct for day in days])


def test_the_band_edges_are_each_days_normal_low_and_high() -> None:
    trends = _low_trends()
    figure = trends_figure(trends)
    bands = {
        collection.get_gid(): collection
        for axes in figure.axes
        for collection in axes.collections
        if isinstance(collection, PolyCollection)
    }
    vertices = _vertices(bands["normal-range"])
    settled = [day for day in trends.days if day.trend.range_mean is not None and not day.trend.provisional]
    assert len(settled) == 60 - 4 - 13
    expected = set()
    for day, x in zip(settled, _x([day.date for day in settled]), strict=True):
        assert day.trend.normal_low is not None and day.trend.normal_high is not None
        expected |= {
            (round(x, 6), round(day.trend.normal_low, 6)),
            (round(x, 6), round(day.trend.normal_high, 6)),
        }
    assert vertices == expected
    provisional = [day for day in trends.days if day.trend.provisional and day.trend.range_mean is not None]
    shaded = {x for x, _ in _vertices(bands["provisional-range"])}
    assert set(np.round(_x([day.date for day in provisional]), 6)) <= shaded


def test_low_streaks_are_shaded_and_labelled_and_acute_days_marked() -> None:
    trends = _low_trends()
    figure = trends_figure(trends)
    hrv = figure.axes[0]
    spans = [
        patch for patch in hrv.patches if isinstance(patch, Rectangle) and patch.get_gid() == "low-streak"
    ]
    assert len(spans) == len(trends.streaks) == 1
    streak = trends.streaks[0]
    left, right = _x([streak.first, streak.last])
    assert spans[0].get_x() == left - 0.5 and spans[0].get_x() + spans[0].get_width() == right + 0.5
    assert f"{streak.days} days low" in [text.get_text() for text in hrv.texts]
    acute = [day for day in trends.days if day.trend.acute_low]
    assert acute and _xdata(_line(figure, "acute-low")) == _x([day.date for day in acute])
    labels = hrv.get_legend_handles_labels()[1]
    assert any(label.startswith("normal range") for label in labels)
    assert any(label.startswith("low recovery") for label in labels)


def test_day_and_night_shifts_and_practice_bars(month: Trends) -> None:
    figure = trends_figure(month)
    day = _line(figure, "day-shifts")
    night = _line(figure, "night-shifts")
    assert len(_xdata(day)) == 5 and len(_xdata(night)) == 3
    assert sorted(_ydata(day)) == sorted(s.ln_rmssd for s in month.shifts if not s.night)
    shift_axes = day.axes
    assert shift_axes is not None
    assert [tick.get_text() for tick in shift_axes.get_xticklabels()] == [
        "day shifts\nn = 5",
        "night shifts\nn = 3",
    ]
    bars = [
        patch
        for axes in figure.axes
        for patch in axes.patches
        if isinstance(patch, Rectangle) and patch.get_gid() == "practice-bars"
    ]
    assert month.practices and len(bars) == len(month.practices)
    practice_axes = bars[0].axes
    assert practice_axes is not None
    tops = sorted(bars, key=lambda bar: -bar.get_y())
    assert [bar.get_width() for bar in tops] == pytest.approx([effect.percent for effect in month.practices])
    ticks = zip(practice_axes.get_yticks(), practice_axes.get_yticklabels(), strict=True)
    top_down = [label.get_text() for _, label in sorted(ticks, key=lambda tick: -tick[0])]
    assert top_down == [effect.name for effect in month.practices]  # the best on top
    counts = [text.get_text() for text in practice_axes.texts if text.get_text().startswith("n = ")]
    assert len(counts) == len(month.practices)


def test_every_axis_says_its_unit_and_the_x_axis_is_local_dates(month: Trends) -> None:
    figure = trends_figure(month)
    labels = [axes.get_ylabel() for axes in _axes(figure)]
    for unit in ("lnRMSSD (ln ms)", "HR (bpm)", "CV (%)", "RMSSD (ms)", "lnRMSSD on shift (ln ms)"):
        assert any(unit in label for label in labels), unit
    assert figure.axes[2].get_xlabel() == "local date"
    assert "(%)" in figure.axes[4].get_xlabel()
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_dates_are_the_persons_local_dates(tmp_path: Path) -> None:
    conn: sqlite3.Connection = open_database(tmp_path / "east.sqlite3")
    east = dt.timezone(dt.timedelta(hours=10))
    for day in range(3):  # 06:30 in UTC+10 is the evening before in UTC
        write_check_in(conn, dt.datetime(2026, 3, 9 + day, 6, 30, tzinfo=east), seed=day, context="morning")
    trends = load_trends(conn, days=3, today=dt.date(2026, 3, 11))
    figure = trends_figure(trends)
    daily = _line(figure, "daily")
    assert _xdata(daily) == _x([dt.date(2026, 3, 9), dt.date(2026, 3, 10), dt.date(2026, 3, 11)])
    figure.canvas.draw()
    ticks = [tick.get_text() for tick in figure.axes[2].get_xticklabels()]
    assert {"9 Mar", "10 Mar", "11 Mar"} <= set(ticks)
    # three days: the range is provisional, and both the figure and the text say so plainly
    assert any(text.get_gid() == "provisional-note" for text in figure.axes[0].texts)
    assert any("The range is provisional" in line for line in trends_text(trends))
    conn.close()


def test_the_text_calls_out_streaks_and_the_seek_help_message_only_when_due(month: Trends) -> None:
    low = _low_trends()
    lines = trends_text(low)
    assert low.message is not None and low.message in lines
    assert any(line.startswith("Low recovery:") and f"{low.streaks[0].days} days" in line for line in lines)
    assert lines[-1] == NOT_A_MEDICAL_DEVICE
    shorter = trends_from_values(_values(40, 10), LAST - dt.timedelta(days=59), LAST)
    short_lines = trends_text(shorter)
    assert any(line.startswith("Low recovery:") for line in short_lines)
    assert not any("talk to someone" in line for line in short_lines)
    month_lines = trends_text(month)
    assert any("Day shifts: 5" in line for line in month_lines)
    assert any("Night shifts: 3" in line for line in month_lines)
    ranked = [line for line in month_lines if line.startswith("  1. ")]
    assert ranked and month.practices[0].name in ranked[0] and "n = " in ranked[0]
    assert any("bpm" in line for line in month_lines) and any("ln ms" in line for line in month_lines)
