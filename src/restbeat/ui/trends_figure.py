"""The trends figure and its plain-language lines (`restbeat trends`, and the period report).

Panels: (a) the daily check-in lnRMSSD (ln ms; RMSSD ms on the right) with its 7-day mean against the normal
range (60-day mean +/- 0.5 SD, the smallest worthwhile change), low-recovery streaks shaded and labelled;
(b) resting HR (bpm) and its 7-day mean; (c) the CV (%) of lnRMSSD over 7 days; (d) day against night
shifts, one point per shift with the means and their 95 % intervals; (e) the practices ranked, mean %
change in RMSSD with 95 % intervals and their counts.  Dates are the person's local dates.  Only the trends
and report commands import this module (it loads matplotlib).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator
from numpy.typing import ArrayLike, NDArray

from restbeat.app.trends import (
    SEEK_HELP_DAYS,
    DayNight,
    Estimate,
    PracticeEffect,
    ShiftLevel,
    TrendDay,
    Trends,
    percent,
)
from restbeat.recovery.baseline import CHRONIC_RUN_DAYS, RANGE_MIN_DAYS, TREND_MIN_DAYS
from restbeat.recovery.wording import NOT_A_MEDICAL_DEVICE
from restbeat.ui.plots import BLACK, GOOD, GREY, HR, HRV, LOW, NORMAL_BAND, pyplot_free_figure

WIDTH_IN = 11.0
HEIGHT_IN = 12.5
PERCENT_LIMITS = (-60.0, 150.0)  # practice whiskers beyond these are cut and end in an arrowhead
SMALL = 8.5


def _epoch() -> dt.date:
    """Day 0 of matplotlib's date numbers (``date.epoch``, 1970-01-01 unless changed)."""
    return dt.datetime.fromisoformat(str(rcParams["date.epoch"])).date()


def _x(days: Sequence[dt.date]) -> np.ndarray:
    """Local dates as matplotlib date numbers (days since the epoch, each day at its midnight)."""
    epoch = _epoch()
    return np.asarray([(day - epoch).days for day in days], dtype=np.float64)


def _date(value: float) -> dt.date:
    return _epoch() + dt.timedelta(days=round(value))


def _light(colour: str, weight: float) -> tuple[float, float, float]:
    """``colour`` mixed with white (``weight`` of the colour): a light, opaque tint."""
    red, green, blue = to_rgb(colour)
    return (1 - weight + weight * red, 1 - weight + weight * green, 1 - weight + weight * blue)


def _values(values: Sequence[float | None]) -> np.ndarray:
    return np.asarray([math.nan if value is None else value for value in values], dtype=np.float64)


def _day_text(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def shown_first(trends: Trends) -> dt.date:
    """The first day the figure shows: the period's, or the first check-in's if the period starts earlier."""
    return next((day.date for day in trends.days if day.ln_rmssd is not None), trends.first)


def _date_axis(axes: Axes, trends: Trends) -> None:
    """Local dates on the x axis (from the first check-in), readable for 3 to 90+ days."""
    begin = shown_first(trends)
    span = (trends.last - begin).days + 1
    if span <= 14:
        axes.xaxis.set_major_locator(MultipleLocator(1 if span <= 10 else 2))
    else:
        monday = (7 - _epoch().weekday()) % 7  # the first Monday's date number
        axes.xaxis.set_major_locator(MultipleLocator(7 * max(1, math.ceil(span / 70)), offset=monday))
    if span <= 120:
        axes.xaxis.set_minor_locator(MultipleLocator(1))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _day_text(_date(value))))
    first, last = _x([begin, trends.last])
    axes.set_xlim(first - 0.6, last + 0.6)


def _exp(values: ArrayLike) -> NDArray[np.float64]:
    return np.exp(np.asarray(values, dtype=np.float64))


def _log(values: ArrayLike) -> NDArray[np.float64]:
    return np.log(np.clip(np.asarray(values, dtype=np.float64), 1e-6, None))


def _rmssd_axis(axes: Axes) -> None:
    """A right-hand axis in RMSSD (ms) beside an lnRMSSD (ln ms) one."""
    right = axes.secondary_yaxis("right", functions=(_exp, _log))
    right.set_ylabel("RMSSD (ms)")
    right.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}"))


def _band(axes: Axes, days: Sequence[TrendDay], x: np.ndarray) -> None:
    """The normal range, day by day; hatched while it is provisional (< 14 days)."""
    low = _values([day.trend.normal_low for day in days])
    high = _values([day.trend.normal_high for day in days])
    provisional = np.asarray([day.trend.provisional for day in days])
    settled = ~provisional & np.isfinite(low)
    if settled.any():
        axes.fill_between(
            x,
            low,
            high,
            where=settled,
            color=_light(NORMAL_BAND, 0.4),  # solid, so a low streak's shading does not tint it
            linewidth=0,
            zorder=1.5,
            label="normal range (60-day mean ± 0.5 SD)",
            gid="normal-range",
        )
    early = provisional & np.isfinite(low)
    if early.any():
        joined = early | np.concatenate([[False], early[:-1]])  # meets the settled band without a gap
        axes.fill_between(
            x,
            low,
            high,
            where=joined,
            facecolor="none",
            edgecolor=NORMAL_BAND,
            hatch="///",
            linewidth=0.8,
            zorder=1.5,
            label=f"provisional range (< {RANGE_MIN_DAYS} days, SD assumed)",
            gid="provisional-range",
        )


def _streaks(axes: Axes, trends: Trends, top: float) -> None:
    """Low-recovery streaks shaded in the low colour, each labelled with its length."""
    for index, streak in enumerate(trends.streaks):
        first = max(streak.first, trends.first)
        left, right = _x([first, streak.last])
        axes.axvspan(
            left - 0.5,
            right + 0.5,
            color=LOW,
            alpha=0.22,
            linewidth=0,
            zorder=0.5,
            label=f"low recovery: 7-day mean below range ≥ {CHRONIC_RUN_DAYS} days" if index == 0 else None,
            gid="low-streak",
        )
        axes.text(
            (left + right) / 2,
            top,
            f"{streak.days} days low",
            ha="center",
            va="top",
            fontsize=SMALL,
            color=BLACK,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": LOW, "alpha": 0.9},
        )


def _hrv_panel(axes: Axes, trends: Trends, x: np.ndarray) -> None:
    days = trends.days
    daily = _values([day.ln_rmssd for day in days])
    rolling = _values([day.trend.rolling_mean for day in days])
    _band(axes, days, x)
    axes.plot(x, daily, "o", color=HRV, markersize=4.5, label=f"daily {trends.context} check-in", gid="daily")
    axes.plot(x, rolling, "-", color=HRV, linewidth=2.2, label="7-day mean", gid="rolling-mean")
    _isolated(axes, x, rolling, HRV)
    acute = np.asarray([day.trend.acute_low for day in days])
    if acute.any():
        axes.plot(
            x[acute],
            daily[acute],
            "v",
            color=LOW,
            markeredgecolor=BLACK,
            markersize=7,
            label="day > 1 SD below your usual",
            gid="acute-low",
        )
    edges = _values([day.trend.normal_low for day in days] + [day.trend.normal_high for day in days])
    everything = np.concatenate([values[np.isfinite(values)] for values in (daily, rolling, edges)])
    bottom, top = float(everything.min()), float(everything.max())
    span = max(top - bottom, 0.3)
    axes.set_ylim(bottom - 0.42 * span, top + 0.2 * span)  # room below for the legend, above for labels
    _streaks(axes, trends, top + 0.17 * span)
    axes.set_ylabel("lnRMSSD (ln ms)")
    _rmssd_axis(axes)
    latest = trends.latest
    if latest is not None and latest.trend.provisional and latest.trend.range_mean is not None:
        axes.text(
            0.01,
            0.97,
            f"Your normal range is provisional: {latest.trend.days_in_range} of {RANGE_MIN_DAYS} days "
            "measured",
            transform=axes.transAxes,
            ha="left",
            va="top",
            fontsize=SMALL + 0.5,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": NORMAL_BAND},
            gid="provisional-note",
        )
    title = f"Daily recovery: {trends.context} check-in against your normal range"
    if any(day.trend.provisional and day.trend.range_mean is not None for day in days):
        title += f" (provisional until {RANGE_MIN_DAYS} days are measured)"
    axes.set_title(title, loc="left", fontsize=11)
    axes.legend(loc="lower left", ncols=3, fontsize=SMALL, framealpha=0.9)
    axes.grid(axis="y", color=GREY, alpha=0.3)


def _isolated(axes: Axes, x: np.ndarray, values: np.ndarray, colour: str) -> None:
    """Points of a line with no neighbour (which a line alone would not show) as short dashes."""
    finite = np.isfinite(values)
    before = np.concatenate([[False], finite[:-1]])
    after = np.concatenate([finite[1:], [False]])
    alone = finite & ~before & ~after
    if alone.any():
        axes.plot(x[alone], values[alone], "_", color=colour, markersize=14, markeredgewidth=2.2)


def _hr_panel(axes: Axes, trends: Trends, x: np.ndarray) -> None:
    daily = _values([day.hr_bpm for day in trends.days])
    rolling = _values([day.hr_rolling_bpm for day in trends.days])
    axes.plot(x, daily, "s", color=HR, markersize=4, label="daily", gid="hr")
    axes.plot(
        x,
        rolling,
        "--",
        color=HR,
        linewidth=1.8,
        label="7-day mean",
        gid="hr-rolling-mean",
    )
    _isolated(axes, x, rolling, HR)
    finite = np.concatenate([values[np.isfinite(values)] for values in (daily, rolling)])
    if finite.size:
        middle = float(finite.max() + finite.min()) / 2
        half = max(float(finite.max() - finite.min()) / 2 * 1.15, 3.0)  # at least 6 bpm tall
        axes.set_ylim(middle - half, middle + 1.3 * half)  # room above for the legend
    axes.set_ylabel("HR (bpm)")
    axes.set_title("Resting heart rate at the check-in", loc="left", fontsize=11)
    axes.legend(loc="upper left", ncols=2, fontsize=SMALL, framealpha=0.9)
    axes.grid(axis="y", color=GREY, alpha=0.3)


def _cv_panel(axes: Axes, trends: Trends, x: np.ndarray) -> None:
    cv = _values([day.trend.cv_pct for day in trends.days])
    axes.plot(x, cv, "-^", color=HRV, markersize=3.5, linewidth=1.2, gid="cv")
    axes.set_ylabel("CV (%)")
    axes.set_ylim(bottom=0.0, top=max(float(np.nanmax(cv)) * 1.25, 1.0) if np.isfinite(cv).any() else 5.0)
    axes.set_title("Day-to-day variation: CV of lnRMSSD over 7 days", loc="left", fontsize=11)
    axes.grid(axis="y", color=GREY, alpha=0.3)
    axes.set_xlabel("local date")


def _no_data(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color=GREY)
    axes.set_xticks([])
    axes.set_yticks([])


def _interval(estimate: Estimate) -> tuple[float, float] | None:
    if estimate.low is None or estimate.high is None:
        return None
    return estimate.low, estimate.high


def _shift_panel(axes: Axes, shifts: Sequence[ShiftLevel], comparison: DayNight) -> None:
    axes.set_title("Day and night shifts: your HRV on shift", loc="left", fontsize=11)
    if not shifts:
        _no_data(axes, "no shifts recorded in this period")
        return
    groups = ((0, False, "day", "o", HRV), (1, True, "night", "D", "white"))  # night: open diamonds
    labels = []
    for position, night, name, marker, colour in groups:
        levels = [shift.ln_rmssd for shift in shifts if shift.night == night]
        estimate = comparison.night if night else comparison.day
        labels.append(f"{name} shifts\nn = {len(levels)}")
        if not levels or estimate is None:
            continue
        jitter = np.random.default_rng(position).uniform(-0.15, 0.15, len(levels))  # fixed: same every time
        axes.plot(
            position + jitter,
            levels,
            marker,
            color=HRV,
            markerfacecolor=colour,
            alpha=0.75,
            markersize=5,
            linestyle="none",
            label=f"one {name} shift" if position == 0 or night else None,
            gid=f"{name}-shifts",
        )
        interval = _interval(estimate)
        error = None if interval is None else [[estimate.mean - interval[0]], [interval[1] - estimate.mean]]
        axes.errorbar(
            [position + 0.3],
            [estimate.mean],
            yerr=error,
            fmt="_",
            color=BLACK,
            markersize=16,
            capsize=5,
            linewidth=1.6,
            label="mean, 95 % interval" if position == 1 or not any(s.night for s in shifts) else None,
            gid=f"{name}-mean",
        )
    axes.set_xticks([0, 1], labels)
    axes.set_xlim(-0.5, 1.6)
    axes.set_ylabel("median 60-s lnRMSSD on shift (ln ms)")
    _rmssd_axis(axes)
    axes.grid(axis="y", color=GREY, alpha=0.3)
    difference = comparison.difference
    if difference is not None and difference.low is not None and difference.high is not None:
        axes.set_xlabel(
            f"night − day: {difference.mean:+.2f} ln ms (95 % interval {difference.low:+.2f} to "
            f"{difference.high:+.2f}), {percent(difference.mean):+.0f} % RMSSD",
            fontsize=SMALL + 0.5,
        )
    axes.legend(loc="upper right", fontsize=SMALL, framealpha=0.9)


def _practice_panel(axes: Axes, practices: Sequence[PracticeEffect]) -> None:
    axes.set_title("Practices, best first: change in RMSSD", loc="left", fontsize=11)
    if not practices:
        _no_data(axes, "no practices measured in this period")
        return
    lowest, highest = PERCENT_LIMITS
    rows = np.arange(len(practices))[::-1]  # the best on top
    means = np.asarray([effect.percent for effect in practices])
    single = [effect.delta_ln.n < 2 for effect in practices]
    bars = axes.barh(rows, means, height=0.6, color=GOOD, alpha=0.85, gid="practice-bars")
    for bar, alone in zip(bars, single, strict=True):
        if alone:  # one try: drawn open and hatched, it is not yet an estimate
            bar.set_facecolor("white")
            bar.set_edgecolor(GOOD)
            bar.set_hatch("///")
    edges = [effect.percent_interval for effect in practices]
    left = min([0.0, *means, *(low for low, _ in filter(None, edges))])
    right = max([0.0, *means, *(high for _, high in filter(None, edges))])
    limits = (max(left - 8.0, lowest), min(right + 8.0, highest))
    for row, effect in zip(rows, practices, strict=True):
        interval = effect.percent_interval
        if interval is not None:
            low, high = max(interval[0], limits[0]), min(interval[1], limits[1])
            axes.plot([low, high], [row, row], color=BLACK, linewidth=1.4, gid="practice-interval")
            for edge, end, cut in ((low, interval[0], "<"), (high, interval[1], ">")):
                axes.plot([edge], [row], cut if edge != end else "|", color=BLACK, markersize=7)
        count = f"n = {effect.delta_ln.n}" + (" (one try)" if interval is None else "")
        axes.annotate(
            count,
            (1.0, row),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=SMALL,
        )
    axes.axvline(0.0, color=BLACK, linewidth=0.8)
    axes.set_xlim(limits[0], limits[1] + 0.22 * (limits[1] - limits[0]))  # room for the counts
    axes.set_yticks(rows, [effect.name for effect in practices], fontsize=9)
    axes.set_xlabel("mean change in RMSSD, after vs before (%), 95 % interval")
    axes.grid(axis="x", color=GREY, alpha=0.3)


def trends_figure(trends: Trends) -> Figure:
    """The trends of ``trends`` in one figure (see the module docstring)."""
    empty = not trends.shifts and not trends.practices  # a short bottom row that only says so
    figure = pyplot_free_figure(WIDTH_IN, HEIGHT_IN - (2.0 if empty else 0.0))
    grid = figure.add_gridspec(4, 2, height_ratios=(3.3, 1.5, 1.2, 0.9 if empty else 2.9))
    hrv = figure.add_subplot(grid[0, :])
    hr = figure.add_subplot(grid[1, :], sharex=hrv)
    cv = figure.add_subplot(grid[2, :], sharex=hrv)
    x = _x([day.date for day in trends.days])
    _hrv_panel(hrv, trends, x)
    _hr_panel(hr, trends, x)
    _cv_panel(cv, trends, x)
    _date_axis(hrv, trends)
    _shift_panel(figure.add_subplot(grid[3, 0]), trends.shifts, trends.day_night)
    _practice_panel(figure.add_subplot(grid[3, 1]), trends.practices)
    span = (trends.last - trends.first).days + 1
    begin = shown_first(trends)
    since = f", shown from the first check-in on {_day_text(begin)}" if begin > trends.first else ""
    figure.suptitle(
        f"restbeat trends: {_day_text(trends.first)} – {_day_text(trends.last)} {trends.last.year} "
        f"({span} days, {trends.measured} measured{since})",
        fontsize=13,
    )
    return figure


# --- the lines printed with it ---------------------------------------------------------------------------


def _ms(ln: float) -> str:
    return f"{math.exp(ln):.0f} ms"


def _latest_line(trends: Trends) -> str:
    latest = trends.latest
    if latest is None:
        return f"Not enough check-ins yet for a 7-day mean ({TREND_MIN_DAYS} of 7 days are needed)."
    trend = latest.trend
    assert trend.rolling_mean is not None
    mean = trend.rolling_mean
    low, high = trend.normal_low, trend.normal_high
    head = f"7-day mean on {_day_text(latest.date)}: lnRMSSD {mean:.2f} ln ms (RMSSD {_ms(mean)})"
    if low is None or high is None:
        return head + "."
    where = "below" if mean < low else "above" if mean > high else "within"
    band = f"{low:.2f}-{high:.2f} ln ms ({math.exp(low):.0f}-{_ms(high)})"
    line = f"{head}, {where} your normal range {band}."
    if trend.provisional:
        line += (
            f" The range is provisional: it rests on {trend.days_in_range} day"
            f"{'s' if trend.days_in_range != 1 else ''}, {RANGE_MIN_DAYS} are needed before it is your own."
        )
    return line


def _hr_line(trends: Trends) -> str | None:
    daily = [day.hr_bpm for day in trends.days if day.hr_bpm is not None]
    if not daily:
        return None
    rolling = next(
        (day.hr_rolling_bpm for day in reversed(trends.days) if day.hr_rolling_bpm is not None), None
    )
    now = f"7-day mean {rolling:.0f} bpm now; " if rolling is not None else ""
    low, high = round(min(daily)), round(max(daily))
    spread = f"{low}-{high} bpm" if low != high else f"{low} bpm"
    return f"Resting HR at the check-in: {now}daily values {spread} over the period."


def _cv_line(trends: Trends) -> str | None:
    values = [day.trend.cv_pct for day in trends.days if day.trend.cv_pct is not None]
    if not values:
        return None
    return (
        f"Day-to-day variation (CV of lnRMSSD over 7 days): {values[-1]:.1f} % now, "
        f"{statistics.median(values):.1f} % typical in this period."
    )


def _streak_lines(trends: Trends) -> list[str]:
    if not trends.streaks:
        return [
            f"No stretch of low recovery in this period (7-day mean below your range for {CHRONIC_RUN_DAYS} "
            "days or more)."
        ]
    lines = []
    for streak in trends.streaks:
        still = " and still is" if streak.ongoing else ""
        lines.append(
            f"Low recovery: your 7-day mean was below your normal range for {streak.days} days, "
            f"{_day_text(streak.first)} to {_day_text(streak.last)}{still}."
        )
    return lines


def _estimate_text(estimate: Estimate) -> str:
    interval = _interval(estimate)
    spread = "" if interval is None else f" (95 % interval {interval[0]:.2f}-{interval[1]:.2f})"
    return f"{estimate.mean:.2f} ln ms{spread}, RMSSD about {_ms(estimate.mean)}"


def _shift_lines(trends: Trends) -> list[str]:
    shifts, comparison = trends.shifts, trends.day_night
    if not shifts:
        return ["No shifts recorded in this period."]
    lines = []
    for night, name, estimate in ((False, "day", comparison.day), (True, "night", comparison.night)):
        count = sum(shift.night == night for shift in shifts)
        if estimate is not None:
            lines.append(
                f"{name.capitalize()} shifts: {count}; median 60-s lnRMSSD on shift "
                f"{_estimate_text(estimate)}."
            )
    difference = comparison.difference
    if difference is not None and difference.low is not None and difference.high is not None:
        chance = (
            " The interval includes 0: it could be chance." if difference.low <= 0 <= difference.high else ""
        )
        lower = "lower" if difference.mean < 0 else "higher"
        change = f"{abs(percent(difference.mean)):.0f} % {lower}"
        lines.append(
            f"Night minus day: {difference.mean:+.2f} ln ms (95 % interval {difference.low:+.2f} to "
            f"{difference.high:+.2f}), RMSSD about {change} at night.{chance}"
        )
    shares = {
        name: [s.low_share for s in shifts if s.night == night and s.low_share is not None]
        for night, name in ((False, "days"), (True, "nights"))
    }
    parts = [f"{name} {100 * statistics.fmean(values):.0f} %" for name, values in shares.items() if values]
    if parts and comparison.usual_ln is not None:
        lines.append(
            f"Time well below your usual on shift ({'; '.join(parts)}): 60-s windows at least 1 SD under "
            f"your median on shift ({_ms(comparison.usual_ln)}); effort counts as well as stress."
        )
    return lines


def _practice_lines(trends: Trends) -> list[str]:
    if not trends.practices:
        return ["No practices measured in this period."]
    lines = [
        "What helped you most (change in RMSSD from just before to just after, mean with 95 % interval):"
    ]
    for rank, effect in enumerate(trends.practices, start=1):
        interval = effect.percent_interval
        spread = f" ({interval[0]:+.0f} to {interval[1]:+.0f} %)" if interval else ""
        single = " (one try: no interval yet)" if interval is None else ""
        answers = ", ".join(f"{count} {answer}" for answer, count in effect.answers)
        offered = f"; prompts: {answers}" if answers else ""
        count = f"n = {effect.delta_ln.n}{single}"
        lines.append(f"  {rank}. {effect.name}: {effect.percent:+.0f} %{spread}, {count}{offered}")
    lines.append(
        "Ranked by the mean pulled towards no change (as if 3 tries with no change were added), so one lucky "
        "try does not top the list; part of any rise is the natural settling after a low moment."
    )
    return lines


def trends_text(trends: Trends) -> list[str]:
    """Short plain-language lines with numbers and units: the period, the latest trend, resting HR, CV, low
    streaks, day vs night shifts, the practices ranked, and the talk-to-someone message when it is due."""
    span = (trends.last - trends.first).days + 1
    skipped = f"; {trends.rejected} check-in(s) skipped as not usable" if trends.rejected else ""
    lines = [
        f"Recovery from {_day_text(trends.first)} to {_day_text(trends.last)} {trends.last.year} "
        f"({span} days), from your {trends.context} check-ins: {trends.measured} days measured{skipped}.",
        _latest_line(trends),
    ]
    acute = sum(day.trend.acute_low for day in trends.days)
    if acute:
        lines.append(f"Single days more than 1 SD below your usual: {acute}.")
    lines += [line for line in (_hr_line(trends), _cv_line(trends)) if line is not None]
    lines += _streak_lines(trends)
    lines += _shift_lines(trends)
    lines += _practice_lines(trends)
    if trends.message is not None:
        lines.append(trends.message)
    elif any(streak.days >= SEEK_HELP_DAYS for streak in trends.streaks):
        lines.append(
            "A long low stretch earlier in this period has lifted; if you still feel worn down, talking to "
            "someone can help."
        )
    lines.append(NOT_A_MEDICAL_DEVICE)
    return lines
