"""The person's own baselines: the daily check-in value, the day-to-day trend against a 60-day normal range,
and the in-shift reference a window is compared with.

Daily (Plews et al. 2012, 2013; HRV4Training): the standardised check-in is 3 min seated, the first 60 s
discarded and lnRMSSD taken over the last 120 s.  Its 7-day rolling mean (needs >= 3 valid days) is set
against the normal range of the last 60 days, mean +/- 0.5 SD (the smallest worthwhile change).  An *acute*
low day is below mean - 1.0 SD; a *chronic* low trend is a 7-day mean below mean - 0.5 SD on >= 3 days in a
row.  Until 14 days exist the range is provisional, its SD the population prior 0.35 (ln ms).

In shift: robust statistics (median, 1.4826 x MAD) of the person's 60-s lnRMSSD (and HR) at low effort, by
shift phase, over the last 20 shifts, each context needing >= 60 min; else the pooled low-effort history; else
today's check-in with SD 0.35; else a population prior (RMSSD 42 ms, Nunan et al. 2010, SD 0.35), and then
the reference says it is still learning instead of pretending to know the person.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from restbeat.beats import BeatQuality

CHECK_IN_S = 180.0
CHECK_IN_DISCARD_S = 60.0
MIN_CHECK_IN_COVERAGE = 0.9  # share of the analysed 120 s covered by usable beats
MAX_CHECK_IN_CORRECTED = 0.05
MIN_CHECK_IN_DIFFERENCES = 10
TREND_DAYS = 7
TREND_MIN_DAYS = 3
RANGE_DAYS = 60
RANGE_MIN_DAYS = 14
PRIOR_SD_LN = 0.35
POPULATION_LN_RMSSD = math.log(42.0)  # Nunan et al. 2010, 5-min resting RMSSD 42 +/- 15 ms
POPULATION_HR_BPM = 70.0  # Nunan et al. 2010: mean RR 926 ms = 65 bpm supine; seated is higher
PRIOR_SD_HR_BPM = 8.0
SWC_FACTOR = 0.5
ACUTE_FACTOR = 1.0
CHRONIC_RUN_DAYS = 3
MAD_TO_SD = 1.4826
#: The SD of a reference is never taken below the noise of a 60-s lnRMSSD itself (about 0.15 ln; the brief
#: gives 0.1-0.15 for a 2-min difference), so a very steady history does not make small changes look large.
MIN_SD_LN = 0.15
REFERENCE_SHIFTS = 20
REFERENCE_MIN_EPOCHS = 60  # one-minute epochs: 60 min of data per context


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A valid check-in: lnRMSSD (ln ms), RMSSD (ms) and mean HR (bpm) of the analysed 120 s."""

    ln_rmssd: float
    rmssd_ms: float
    hr_bpm: float
    beats: int
    corrected_fraction: float


@dataclass(frozen=True, slots=True)
class CheckInRejected:
    """Why a check-in gives no value (said to the person, who can repeat it)."""

    reason: str


def check_in_value(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    quality: ArrayLike,
    segment: ArrayLike,
    *,
    start_s: float | None = None,
) -> CheckIn | CheckInRejected:
    """The check-in's value from its beats (beat times s, RR ms, quality codes, segments): lnRMSSD and HR
    over ``start_s`` + 60 s to + 180 s (``start_s`` defaults to the first beat's start)."""
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    q = np.asarray(quality, dtype=np.int64)
    seg = np.asarray(segment, dtype=np.int64)
    if rr.size == 0:
        return CheckInRejected("no beats recorded")
    origin = float(t[0] - rr[0] / 1000.0) if start_s is None else start_s
    begin, end = origin + CHECK_IN_DISCARD_S, origin + CHECK_IN_S
    if float(t[-1]) < end - 5.0:
        return CheckInRejected(
            f"stopped after {float(t[-1]) - origin:.0f} s; a check-in takes {CHECK_IN_S:.0f} s"
        )
    inside = (t > begin) & (t <= end)
    usable = inside & np.isin(q, (int(BeatQuality.GOOD), int(BeatQuality.CORRECTED)))
    analysed_s = end - begin
    coverage = float(rr[usable].sum()) / 1000.0 / analysed_s
    if coverage < MIN_CHECK_IN_COVERAGE:
        return CheckInRejected(f"only {100 * coverage:.0f} % of the last 2 minutes had usable beats")
    corrected = float(np.count_nonzero(q[usable] == int(BeatQuality.CORRECTED))) / max(int(usable.sum()), 1)
    if corrected > MAX_CHECK_IN_CORRECTED:
        return CheckInRejected(f"{100 * corrected:.0f} % of the beats needed correction (more than 5 %)")
    index = np.flatnonzero(usable)
    pairs = (np.diff(index) == 1) & (seg[index][1:] == seg[index][:-1])
    differences = np.diff(rr[index])[pairs]
    if differences.size < MIN_CHECK_IN_DIFFERENCES:
        return CheckInRejected("too few successive beats")
    rmssd = float(np.sqrt(np.mean(differences**2)))
    return CheckIn(
        ln_rmssd=math.log(rmssd),
        rmssd_ms=rmssd,
        hr_bpm=60000.0 / float(rr[usable].mean()),
        beats=int(usable.sum()),
        corrected_fraction=corrected,
    )


@dataclass(frozen=True, slots=True)
class DailyValue:
    """One day's check-in in one context: lnRMSSD (ln ms) and resting HR (bpm)."""

    date: dt.date
    ln_rmssd: float
    hr_bpm: float


@dataclass(frozen=True, slots=True)
class Trend:
    """Where ``date`` stands against the person's own history (all in ln ms unless named otherwise).

    ``provisional`` while fewer than 14 days build the normal range (its SD is then the prior 0.35);
    ``rolling_mean`` is None until 3 of the last 7 days have a value.
    """

    date: dt.date
    today: float | None
    rolling_mean: float | None
    range_mean: float | None
    range_sd: float
    days_in_range: int
    provisional: bool
    cv_pct: float | None
    acute_low: bool
    chronic_low: bool
    low_trend_days: int

    @property
    def normal_low(self) -> float | None:
        """Lower edge of the normal range (mean - 0.5 SD)."""
        return None if self.range_mean is None else self.range_mean - SWC_FACTOR * self.range_sd

    @property
    def normal_high(self) -> float | None:
        """Upper edge of the normal range (mean + 0.5 SD)."""
        return None if self.range_mean is None else self.range_mean + SWC_FACTOR * self.range_sd


def _window(values: dict[dt.date, float], day: dt.date, days: int) -> list[float]:
    return [values[d] for d in (day - dt.timedelta(days=k) for k in range(days)) if d in values]


def _rolling_mean(values: dict[dt.date, float], day: dt.date) -> float | None:
    window = _window(values, day, TREND_DAYS)
    return statistics.fmean(window) if len(window) >= TREND_MIN_DAYS else None


def daily_trend(history: Sequence[DailyValue], day: dt.date) -> Trend:
    """The trend on ``day`` from the daily values of one context (the day's own value included)."""
    values = {value.date: value.ln_rmssd for value in history if math.isfinite(value.ln_rmssd)}
    in_range = _window(values, day, RANGE_DAYS)
    provisional = len(in_range) < RANGE_MIN_DAYS
    range_mean = statistics.fmean(in_range) if in_range else None
    range_sd = PRIOR_SD_LN if provisional else statistics.stdev(in_range)
    today = values.get(day)
    rolling = _rolling_mean(values, day)
    week = _window(values, day, TREND_DAYS)
    cv = 100.0 * statistics.stdev(week) / statistics.fmean(week) if len(week) >= TREND_MIN_DAYS else None
    low_days = 0
    if range_mean is not None:
        threshold = range_mean - SWC_FACTOR * range_sd
        for back in range(RANGE_DAYS):
            mean = _rolling_mean(values, day - dt.timedelta(days=back))
            if mean is None or mean >= threshold:
                break
            low_days += 1
    acute = today is not None and range_mean is not None and today < range_mean - ACUTE_FACTOR * range_sd
    return Trend(
        date=day,
        today=today,
        rolling_mean=rolling,
        range_mean=range_mean,
        range_sd=range_sd,
        days_in_range=len(in_range),
        provisional=provisional,
        cv_pct=cv,
        acute_low=acute and not provisional,
        chronic_low=low_days >= CHRONIC_RUN_DAYS and not provisional,
        low_trend_days=low_days,
    )


class ShiftPhase(StrEnum):
    """Where in the shift a window lies."""

    FIRST_2H = "first 2 h"
    MIDDLE = "middle"
    LAST_2H = "last 2 h"
    NONE = "not a shift"  # a recording longer than a shift: its minutes count for the pooled history only


def shift_phase(elapsed_s: float, shift_length_s: float) -> ShiftPhase:
    """The phase of a moment ``elapsed_s`` into a shift planned to last ``shift_length_s``."""
    if elapsed_s < 2 * 3600:
        return ShiftPhase.FIRST_2H
    if elapsed_s > shift_length_s - 2 * 3600:
        return ShiftPhase.LAST_2H
    return ShiftPhase.MIDDLE


@dataclass(frozen=True, slots=True)
class Epoch:
    """One low-effort minute of a shift: its 60-s lnRMSSD (ln ms) and mean HR (bpm), phase and night flag."""

    shift: int
    phase: ShiftPhase
    night: bool
    ln_rmssd: float
    hr_bpm: float


class ReferenceSource(StrEnum):
    """Where an in-shift reference comes from, most personal first."""

    CONTEXT = "your low-effort history at this point of a shift"
    POOLED = "your low-effort history on shift"
    CHECK_IN = "today's check-in"
    POPULATION = "published norms (still learning you)"


@dataclass(frozen=True, slots=True)
class Reference:
    """The person's usual lnRMSSD (ln ms) and HR (bpm) in a context: centre, spread, where it came from."""

    median: float
    sd: float
    source: ReferenceSource
    epochs: int
    hr_median: float = POPULATION_HR_BPM
    hr_sd: float = PRIOR_SD_HR_BPM

    @property
    def learning(self) -> bool:
        """True while the reference is not yet the person's own shift history."""
        return self.source in (ReferenceSource.CHECK_IN, ReferenceSource.POPULATION)

    def decides_alone(self, mature_epochs: int) -> bool:
        """Whether this reference may decide a prompt on its own: the person's check-in, or their own
        low-effort minutes once there are ``mature_epochs`` of them; never published norms."""
        if self.source is ReferenceSource.CHECK_IN:
            return True
        return self.source is not ReferenceSource.POPULATION and self.epochs >= mature_epochs

    def z(self, ln_rmssd: float) -> float:
        """How many of the person's SDs a value lies from their usual."""
        return (ln_rmssd - self.median) / self.sd

    def z_hr(self, hr_bpm: float) -> float:
        """How many of the person's HR SDs a heart rate lies from their usual."""
        return (hr_bpm - self.hr_median) / self.hr_sd

    def usual_ms(self) -> tuple[float, float]:
        """The usual range in RMSSD ms (median +/- 1 SD back-transformed), e.g. (27, 41)."""
        return math.exp(self.median - self.sd), math.exp(self.median + self.sd)


def _robust(values: Sequence[float], floor: float) -> tuple[float, float]:
    array = np.asarray(values, dtype=np.float64)
    median = float(np.median(array))
    mad = float(np.median(np.abs(array - median)))
    return median, max(MAD_TO_SD * mad, floor)  # a floor keeps z finite on very flat histories


def _from_epochs(epochs: Sequence[Epoch], source: ReferenceSource) -> Reference:
    median, sd = _robust([e.ln_rmssd for e in epochs], MIN_SD_LN)
    hr_median, hr_sd = _robust([e.hr_bpm for e in epochs], 2.0)
    return Reference(median, sd, source, len(epochs), hr_median, hr_sd)


def in_shift_reference(
    epochs: Sequence[Epoch], phase: ShiftPhase, night: bool, check_in: CheckIn | None = None
) -> Reference:
    """The reference for a window in ``phase`` of a day or night shift, from the low-effort epochs of the
    person's last 20 shifts (most specific context with >= 60 min first)."""
    recent = sorted({epoch.shift for epoch in epochs})[-REFERENCE_SHIFTS:]
    kept = [epoch for epoch in epochs if epoch.shift in set(recent)]
    in_context = [e for e in kept if e.phase == phase and e.night == night]
    if len(in_context) >= REFERENCE_MIN_EPOCHS:
        return _from_epochs(in_context, ReferenceSource.CONTEXT)
    if len(kept) >= REFERENCE_MIN_EPOCHS:
        return _from_epochs(kept, ReferenceSource.POOLED)
    if check_in is not None:
        return Reference(
            check_in.ln_rmssd, PRIOR_SD_LN, ReferenceSource.CHECK_IN, 0, check_in.hr_bpm, PRIOR_SD_HR_BPM
        )
    return Reference(POPULATION_LN_RMSSD, PRIOR_SD_LN, ReferenceSource.POPULATION, 0)
