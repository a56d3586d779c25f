"""`restbeat trends`: the person's recovery day by day, assembled from the store (no plotting here).

* **Daily value**: the day's first valid check-in of one context (``morning`` or ``pre-shift``: the one the
  person does on most days, unless asked), lnRMSSD (ln ms) and HR (bpm) by
  :func:`~restbeat.recovery.baseline.check_in_value`; rejected check-ins are skipped and counted.
* **Trend** (:func:`~restbeat.recovery.baseline.daily_trend`, HRV4Training / Plews): the 7-day rolling mean
  against the 60-day normal range, mean +/- 0.5 SD (the smallest worthwhile change), CV, acute and chronic
  flags; resting HR with its own 7-day mean.
* **Low-recovery streaks**: runs of >= 3 consecutive days whose 7-day mean lay below that day's normal range
  (``low_trend_days >= 1``, the range no longer provisional), the research's chronic-low rule.  When a
  streak of 14 days or more is under way, or ended less than 14 days ago, a calm message suggests talking
  to someone and to a professional (hrv-science.md section 5.3: escalate when a chronic low trend persists
  >= 14 days).
* **Day vs night shifts**: each on-shift session's level is the median of its good 60-s lnRMSSD windows
  (stored snapshots; else 60-s bins of its beats); day and night compared by mean with a 95 % interval and
  the difference by Welch's t.  The share of windows at least 1 SD below the person's usual on shift (robust
  median and SD of every window in the period) stands in for time strained, which is not stored: it counts
  effort as well as stress.
* **Practices**: the measured change in lnRMSSD (after minus before) of each practice done, n, mean and a
  t-based 95 % interval; ranked by a mean shrunk towards no change (as if 3 outcomes of 0 were added), so
  one lucky try does not top the list and a practice needs evidence to rank high.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from restbeat.app.monitor import is_night
from restbeat.beats import BeatQuality
from restbeat.recovery.baseline import (
    CHRONIC_RUN_DAYS,
    MAD_TO_SD,
    MIN_SD_LN,
    RANGE_DAYS,
    TREND_DAYS,
    TREND_MIN_DAYS,
    CheckIn,
    DailyValue,
    Trend,
    check_in_value,
    daily_trend,
)
from restbeat.recovery.practices import name_of
from restbeat.signal.stream import StreamConfig
from restbeat.store.queries import (
    SessionBeats,
    SessionRow,
    list_sessions,
    session_beats,
    session_records,
    usable_windows,
)

DAILY_CONTEXTS = ("morning", "pre-shift")
SHIFT_CONTEXT = "on-shift"
SEEK_HELP_DAYS = 14  # a low streak this long (or longer) leads to the talk-to-someone message
RESONANCE = "resonance"  # an assessment protocol stored as an outcome, not a practice
SHRINK_OUTCOMES = 3.0  # the ranking's pull towards no change, in outcomes of 0
WINDOW_S = 60.0
LOW_Z = -1.0  # a 60-s window this many SDs below the usual on shift counts as low (the in-shift trigger's z)
_STREAM = StreamConfig()


class TrendsError(Exception):
    """Why there is no trend to show (one line, said to the person)."""


@dataclass(frozen=True, slots=True)
class TrendDay:
    """One local day of the period: its trend (lnRMSSD in ln ms), resting HR (bpm) of the day's check-in and
    its 7-day mean (>= 3 days), and how many of the day's check-ins were rejected."""

    trend: Trend
    hr_bpm: float | None
    hr_rolling_bpm: float | None
    rejected: int = 0

    @property
    def date(self) -> dt.date:
        """The local date."""
        return self.trend.date

    @property
    def ln_rmssd(self) -> float | None:
        """The day's check-in lnRMSSD (ln ms), None without one."""
        return self.trend.today

    @property
    def low(self) -> bool:
        """The 7-day mean lay below the day's normal range (mean - 0.5 SD), a range of >= 14 days."""
        return self.trend.low_trend_days >= 1 and not self.trend.provisional


@dataclass(frozen=True, slots=True)
class LowStreak:
    """Consecutive local days (``first`` to ``last``) whose 7-day mean lay below the normal range;
    ``ongoing`` while no later day has shown the 7-day mean back in range."""

    first: dt.date
    last: dt.date
    ongoing: bool

    @property
    def days(self) -> int:
        """Its length in days."""
        return (self.last - self.first).days + 1


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean of ``n`` values with its 95 % interval (t-based; None for n < 2), in the values' units."""

    mean: float
    n: int
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class ShiftLevel:
    """One on-shift session: its local start, night or day, the median of its good 60-s lnRMSSD (ln ms)
    and HR (bpm), how many windows, the share of them well below the usual on shift, and their source."""

    session_id: int
    start: dt.datetime
    night: bool
    ln_rmssd: float
    hr_bpm: float | None
    windows: int
    low_share: float | None
    source: str  # "snapshots" (stored 60-s windows, every 5 s) or "beats" (60-s bins)


@dataclass(frozen=True, slots=True)
class DayNight:
    """Day and night shifts compared: mean shift level (ln ms) of each with its 95 % interval, the difference
    night minus day (ln ms, Welch 95 % interval), and the usual on shift that ``low_share`` is counted
    against (robust median and SD of every good 60-s lnRMSSD window in the period, ln ms)."""

    day: Estimate | None
    night: Estimate | None
    difference: Estimate | None
    usual_ln: float | None
    usual_sd_ln: float | None


@dataclass(frozen=True, slots=True)
class PracticeEffect:
    """One practice's measured effect: the change in lnRMSSD after minus before (ln ms) over its outcomes,
    the mean it is ranked by (shrunk towards no change), how many followed a prompt, and
    the answers to the prompts that offered it."""

    practice: str
    name: str
    delta_ln: Estimate
    ranked_by_ln: float
    prompted: int
    answers: tuple[tuple[str, int], ...]

    @property
    def percent(self) -> float:
        """The mean change as % change in RMSSD (exp(delta) - 1)."""
        return percent(self.delta_ln.mean)

    @property
    def percent_interval(self) -> tuple[float, float] | None:
        """The 95 % interval in % change of RMSSD, None for a single outcome."""
        low, high = self.delta_ln.low, self.delta_ln.high
        return None if low is None or high is None else (percent(low), percent(high))


@dataclass(frozen=True, slots=True)
class Trends:
    """Everything `restbeat trends` shows for the local dates ``first`` to ``last``."""

    context: str
    first: dt.date
    last: dt.date
    days: tuple[TrendDay, ...]
    streaks: tuple[LowStreak, ...]
    help_streak: LowStreak | None
    message: str | None
    shifts: tuple[ShiftLevel, ...] = ()
    day_night: DayNight = DayNight(None, None, None, None, None)
    practices: tuple[PracticeEffect, ...] = ()

    @property
    def seek_help(self) -> bool:
        """A low streak of 14 days or more is under way or recent: the message suggests talking to someone."""
        return self.help_streak is not None

    @property
    def measured(self) -> int:
        """Days of the period with a valid check-in."""
        return sum(day.ln_rmssd is not None for day in self.days)

    @property
    def rejected(self) -> int:
        """Check-ins of the context in the period that gave no value."""
        return sum(day.rejected for day in self.days)

    @property
    def latest(self) -> TrendDay | None:
        """The last day with a 7-day mean, if any."""
        return next((day for day in reversed(self.days) if day.trend.rolling_mean is not None), None)


def percent(delta_ln: float) -> float:
    """A change in ln units as % change (exp(delta) - 1)."""
    return 100.0 * math.expm1(delta_ln)


def _t_975(df: float) -> float:
    from scipy.special import stdtrit  # 0.1 s to load: only when an interval is computed

    return float(stdtrit(df, 0.975))


def mean_interval(values: Sequence[float]) -> Estimate:
    """The mean of ``values`` with its t-based 95 % interval (none for a single value)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Estimate(mean, len(values))
    half = _t_975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return Estimate(mean, len(values), mean - half, mean + half)


def welch_difference(a: Sequence[float], b: Sequence[float]) -> Estimate | None:
    """Mean of ``b`` minus mean of ``a`` with Welch's 95 % interval (None unless both have >= 2 values)."""
    if len(a) < 2 or len(b) < 2:
        return None
    difference = statistics.fmean(b) - statistics.fmean(a)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Estimate(difference, len(a) + len(b), difference, difference)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = _t_975(df) * se
    return Estimate(difference, len(a) + len(b), difference - half, difference + half)


def _rolling_hr(hr: Mapping[dt.date, float], day: dt.date) -> float | None:
    window = [hr[d] for d in (day - dt.timedelta(days=k) for k in range(TREND_DAYS)) if d in hr]
    return statistics.fmean(window) if len(window) >= TREND_MIN_DAYS else None


def daily_days(
    history: Sequence[DailyValue],
    first: dt.date,
    last: dt.date,
    rejected: Mapping[dt.date, int] | None = None,
) -> tuple[TrendDay, ...]:
    """Every local day from ``first`` to ``last``: its trend from ``history`` (one context's daily values,
    including the 60 days before ``first``), resting HR and its 7-day mean."""
    hr = {value.date: value.hr_bpm for value in history if math.isfinite(value.hr_bpm)}
    rejected = rejected or {}
    days = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        days.append(
            TrendDay(daily_trend(history, day), hr.get(day), _rolling_hr(hr, day), rejected.get(day, 0))
        )
    return tuple(days)


def low_streaks(days: Sequence[TrendDay]) -> tuple[LowStreak, ...]:
    """Runs of >= 3 consecutive low days (7-day mean below the normal range) in ``days``, oldest first."""
    runs: list[tuple[dt.date, dt.date]] = []
    start: dt.date | None = None
    for index, day in enumerate(days):
        if day.low and start is None:
            start = day.date
        if not day.low and start is not None:
            runs.append((start, days[index - 1].date))
            start = None
    if start is not None:
        runs.append((start, days[-1].date))
    streaks = []
    for first, last in runs:
        if (last - first).days + 1 < CHRONIC_RUN_DAYS:
            continue
        lifted = any(
            day.date > last
            and day.trend.rolling_mean is not None
            and not day.trend.provisional
            and not day.low
            for day in days
        )
        streaks.append(LowStreak(first, last, ongoing=not lifted))
    return tuple(streaks)


def help_due(streaks: Sequence[LowStreak], today: dt.date) -> LowStreak | None:
    """The latest streak of >= 14 days that is under way or ended less than 14 days before ``today``."""
    for streak in reversed(streaks):
        if streak.days >= SEEK_HELP_DAYS and (streak.ongoing or (today - streak.last).days < SEEK_HELP_DAYS):
            return streak
    return None


def _day_text(day: dt.date) -> str:
    return f"{day.day} {day:%B}"


def seek_help_message(streak: LowStreak) -> str:
    """The calm, plain message for a long low streak: what was seen, and that talking to someone helps."""
    if streak.ongoing:
        seen = (
            f"Your recovery has been below your usual range for {streak.days} days, since "
            f"{_day_text(streak.first)}. That is a long time to be running low."
        )
    else:
        seen = (
            f"Your recovery was below your usual range for {streak.days} days, from "
            f"{_day_text(streak.first)} to {_day_text(streak.last)}. It has come back up since, but a "
            "stretch that long is worth a pause."
        )
    return (
        f"{seen} It may help to talk to someone you trust, and to your GP, occupational health or another "
        "professional; you do not have to wait until it feels serious. restbeat is a wellbeing tool, not a "
        "medical device, so it cannot tell you why; they can help you find out and decide what would help."
    )


def trends_from_values(
    history: Sequence[DailyValue],
    first: dt.date,
    last: dt.date,
    context: str = "morning",
    rejected: Mapping[dt.date, int] | None = None,
) -> Trends:
    """The daily part of the trends (days, streaks, the message) from one context's daily values (those of
    the 60 days before ``first`` give the first days their range; a streak under way on ``first`` is traced
    back through the 60 before that)."""
    days = daily_days(history, first, last, rejected)
    before: list[TrendDay] = []  # a streak under way on the first day: where it began
    while days and (before or days)[0].low and len(before) < RANGE_DAYS:
        day = (before or days)[0].date - dt.timedelta(days=1)
        before.insert(0, daily_days(history, day, day)[0])
    streaks = low_streaks([*before, *days])
    streak = help_due(streaks, last)
    message = None if streak is None else seek_help_message(streak)
    return Trends(context, first, last, days, streaks, streak, message)


@dataclass(frozen=True, slots=True)
class _ContextValues:
    values: tuple[DailyValue, ...]
    rejected: dict[dt.date, int]
    reasons: tuple[tuple[dt.date, str], ...]


def _daily_values(conn: sqlite3.Connection, sessions: Iterable[SessionRow]) -> _ContextValues:
    """Per local day the first valid check-in of ``sessions`` (oldest first); rejected ones counted."""
    values: dict[dt.date, DailyValue] = {}
    rejected: dict[dt.date, int] = defaultdict(int)
    reasons: list[tuple[dt.date, str]] = []
    for session in sessions:
        day = session.local_date
        if day in values:
            continue
        beats = session_beats(conn, session.id)
        value = check_in_value(beats.t_s, beats.rr_ms, beats.quality, beats.segment)
        if isinstance(value, CheckIn):
            values[day] = DailyValue(day, value.ln_rmssd, value.hr_bpm)
        else:
            rejected[day] += 1
            reasons.append((day, value.reason))
    return _ContextValues(tuple(values.values()), dict(rejected), tuple(reasons))


def _minute_windows(beats: SessionBeats) -> tuple[list[float], list[float]]:
    """lnRMSSD (ln ms) and HR (bpm) of the good 60-s bins of a session's beats (>= 40 successive
    differences, <= 5 % corrected beats, no lost contact), for sessions without stored snapshots."""
    if beats.rr_ms.size < 2:
        return [], []
    q, rr = beats.quality, beats.rr_ms
    usable = (q == int(BeatQuality.GOOD)) | (q == int(BeatQuality.CORRECTED))
    minute = np.floor(beats.t_s / WINDOW_S).astype(np.int64)
    minute -= int(minute.min())
    bins = int(minute.max()) + 1
    pair = usable[1:] & usable[:-1] & (beats.segment[1:] == beats.segment[:-1]) & (minute[1:] == minute[:-1])
    squares = np.diff(rr) ** 2
    pairs = np.bincount(minute[1:][pair], minlength=bins)
    sum_squares = np.bincount(minute[1:][pair], weights=squares[pair], minlength=bins)
    counted = np.bincount(minute[usable], minlength=bins)
    sum_rr = np.bincount(minute[usable], weights=rr[usable], minlength=bins)
    corrected = np.bincount(minute[q == int(BeatQuality.CORRECTED)], minlength=bins)
    no_contact = np.bincount(minute[q == int(BeatQuality.NO_CONTACT)], minlength=bins)
    good = (
        (pairs >= _STREAM.min_differences_per_min)
        & (corrected <= _STREAM.max_corrected_fraction * counted)
        & (no_contact == 0)
    )
    ln_values = 0.5 * np.log(sum_squares[good] / pairs[good])
    hr_values = 60000.0 * counted[good] / sum_rr[good]
    return [float(v) for v in ln_values], [float(v) for v in hr_values]


def _shift_windows(
    conn: sqlite3.Connection, shifts: Sequence[SessionRow]
) -> dict[int, tuple[np.ndarray, np.ndarray, str]]:
    """Per shift: its good 60-s lnRMSSD (ln ms) and HR (bpm) windows, from the stored snapshots (one query)
    or, for a shift without any, from its beats."""
    ids = [session.id for session in shifts]
    stored = usable_windows(conn, ids, WINDOW_S)
    windows: dict[int, tuple[np.ndarray, np.ndarray, str]] = {}
    for session_id in ids:
        if session_id in stored:
            rmssd = np.asarray([value for value, _ in stored[session_id]])
            hr = np.asarray([math.nan if bpm is None else bpm for _, bpm in stored[session_id]])
            windows[session_id] = (np.log(rmssd), hr, "snapshots")
        else:
            ln_values, hr_values = _minute_windows(session_beats(conn, session_id))
            if ln_values:
                windows[session_id] = (np.asarray(ln_values), np.asarray(hr_values), "beats")
    return windows


def shift_levels(
    conn: sqlite3.Connection, first: dt.date, last: dt.date
) -> tuple[tuple[ShiftLevel, ...], DayNight]:
    """The on-shift sessions started on local dates ``first`` to ``last``, each with its level, and day
    against night."""
    shifts = list_sessions(conn, first, last, SHIFT_CONTEXT)
    windows = _shift_windows(conn, shifts)
    if not windows:
        return (), DayNight(None, None, None, None, None)
    pooled = np.concatenate([ln for ln, _, _ in windows.values()])
    usual = float(np.median(pooled))
    usual_sd = max(MAD_TO_SD * float(np.median(np.abs(pooled - usual))), MIN_SD_LN)
    threshold = usual + LOW_Z * usual_sd
    levels = []
    for session in shifts:
        if session.id not in windows:
            continue
        ln, hr, source = windows[session.id]
        finite_hr = hr[np.isfinite(hr)]
        levels.append(
            ShiftLevel(
                session_id=session.id,
                start=session.local_start,
                night=is_night(session.local_start),
                ln_rmssd=float(np.median(ln)),
                hr_bpm=float(np.median(finite_hr)) if finite_hr.size else None,
                windows=int(ln.size),
                low_share=float(np.mean(ln < threshold)),
                source=source,
            )
        )
    day = [level.ln_rmssd for level in levels if not level.night]
    night = [level.ln_rmssd for level in levels if level.night]
    comparison = DayNight(
        mean_interval(day) if day else None,
        mean_interval(night) if night else None,
        welch_difference(day, night),
        usual,
        usual_sd,
    )
    return tuple(levels), comparison


def practice_effects(conn: sqlite3.Connection, first: dt.date, last: dt.date) -> tuple[PracticeEffect, ...]:
    """The practices done in sessions started on local dates ``first`` to ``last`` with a measured change,
    best first (by the shrunk mean)."""
    deltas: dict[str, list[float]] = defaultdict(list)
    prompted: Counter[str] = Counter()
    answers: dict[str, Counter[str]] = defaultdict(Counter)
    for session in list_sessions(conn, first, last):
        for outcome in session_records(conn, "outcomes", session.id):
            delta = outcome["detail"].get("delta_ln_rmssd")
            practice = str(outcome["practice"])
            if practice == RESONANCE or not isinstance(delta, int | float) or not math.isfinite(delta):
                continue
            deltas[practice].append(float(delta))
            prompted[practice] += outcome["prompt_id"] is not None
        for prompt in session_records(conn, "prompts", session.id):
            answers[str(prompt["practice"])][str(prompt["response"] or "unanswered")] += 1
    if not deltas:
        return ()
    effects = [
        PracticeEffect(
            practice=practice,
            name=name_of(practice),
            delta_ln=mean_interval(values),
            ranked_by_ln=sum(values) / (len(values) + SHRINK_OUTCOMES),
            prompted=prompted[practice],
            answers=tuple(sorted(answers[practice].items(), key=lambda item: (-item[1], item[0]))),
        )
        for practice, values in deltas.items()
    ]
    return tuple(sorted(effects, key=lambda effect: (-effect.ranked_by_ln, effect.name)))


def load_trends(
    conn: sqlite3.Connection,
    days: int = RANGE_DAYS,
    today: dt.date | None = None,
    context: str | None = None,
) -> Trends:
    """The trends of the ``days`` local days ending ``today`` (default: the local date now) from the daily
    check-ins of ``context`` (default: ``morning`` or ``pre-shift``, whichever has more days measured)."""
    if days < 1:
        raise TrendsError(f"--days must be at least 1, got {days}")
    if context is not None and context not in DAILY_CONTEXTS:
        raise TrendsError(f"the daily check-in is {' or '.join(DAILY_CONTEXTS)}, not {context!r}")
    last = today or dt.date.today()
    first = last - dt.timedelta(days=days - 1)
    since = first - dt.timedelta(days=2 * RANGE_DAYS)  # ranges, and a streak under way on the first day
    by_context = {
        name: _daily_values(conn, list_sessions(conn, since, last, name))
        for name in ((context,) if context else DAILY_CONTEXTS)
    }

    def measured(name: str) -> int:
        return sum(value.date >= first for value in by_context[name].values)

    chosen = context or max(DAILY_CONTEXTS, key=lambda name: (measured(name), name == DAILY_CONTEXTS[0]))
    found = by_context[chosen]
    if measured(chosen) == 0:
        what = f"{chosen} check-ins" if context else "morning or pre-shift check-ins"
        period = f"from {first.isoformat()} to {last.isoformat()}"
        skipped = [why for name in by_context for day, why in by_context[name].reasons if day >= first]
        if skipped:
            raise TrendsError(
                f"no valid {what} {period}: {len(skipped)} could not be used (the first: {skipped[0]})"
            )
        raise TrendsError(
            f"no {what} {period}: record a 3-min seated check-in (restbeat monitor --context morning) "
            "on most days to see your trend"
        )
    daily = trends_from_values(found.values, first, last, chosen, found.rejected)
    shifts, comparison = shift_levels(conn, first, last)
    return Trends(
        context=chosen,
        first=first,
        last=last,
        days=daily.days,
        streaks=daily.streaks,
        help_streak=daily.help_streak,
        message=daily.message,
        shifts=shifts,
        day_night=comparison,
        practices=practice_effects(conn, first, last),
    )
