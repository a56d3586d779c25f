"""Baselines: the check-in value on real RR, the daily trend rules, and the in-shift reference's fallbacks."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from restbeat.devices.files import read_recording
from restbeat.recovery.baseline import (
    PRIOR_SD_LN,
    CheckIn,
    CheckInRejected,
    DailyValue,
    Epoch,
    ReferenceSource,
    ShiftPhase,
    check_in_value,
    daily_trend,
    in_shift_reference,
    shift_phase,
)

SHIFT_PHASES = (ShiftPhase.FIRST_2H, ShiftPhase.MIDDLE, ShiftPhase.LAST_2H)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "rest_5min_rr.txt"


def _first_three_minutes() -> tuple[np.ndarray, np.ndarray]:
    """pyHRV's 5-min resting NN series (BSD-3-Clause; from PhysioNet nsrdb, ODC-By), first 3 minutes."""
    recording = read_recording(EXAMPLE)
    keep = recording.t_s <= 181.0
    return recording.t_s[keep], recording.rr_ms[keep]


def test_check_in_uses_the_last_two_of_three_minutes() -> None:
    t, rr = _first_three_minutes()
    result = check_in_value(t, rr, np.zeros(rr.size), np.zeros(rr.size))
    assert isinstance(result, CheckIn)
    window = (t > 60.0) & (t <= 180.0)
    expected = math.sqrt(float(np.mean(np.diff(rr[window]) ** 2)))
    assert result.rmssd_ms == pytest.approx(expected, rel=1e-12)
    assert result.ln_rmssd == pytest.approx(math.log(expected))
    assert result.hr_bpm == pytest.approx(60000 / rr[window].mean())
    assert result.beats == int(window.sum())


def test_check_in_says_why_it_gives_no_value() -> None:
    t, rr = _first_three_minutes()
    zeros = np.zeros(rr.size)
    short = check_in_value(t[t < 120], rr[t < 120], zeros[t < 120], zeros[t < 120])
    assert isinstance(short, CheckInRejected) and "a check-in takes 180 s" in short.reason
    lost = zeros.copy()
    lost[(t > 80) & (t < 110)] = 3  # half a minute excluded
    gap = check_in_value(t, rr, lost, zeros)
    assert isinstance(gap, CheckInRejected) and "% of the last 2 minutes had usable beats" in gap.reason
    corrected = zeros.copy()
    corrected[np.flatnonzero(t > 60)[::10]] = 1
    many = check_in_value(t, rr, corrected, zeros)
    assert isinstance(many, CheckInRejected) and "needed correction" in many.reason


def _history(values: list[float], start: dt.date) -> list[DailyValue]:
    return [
        DailyValue(start + dt.timedelta(days=k), v, 60.0) for k, v in enumerate(values) if not math.isnan(v)
    ]


def test_trend_is_provisional_until_fourteen_days_and_needs_three_for_a_rolling_mean() -> None:
    start = dt.date(2026, 1, 1)
    early = daily_trend(_history([4.0, 4.1], start), start + dt.timedelta(days=1))
    assert early.rolling_mean is None and early.provisional and early.range_sd == PRIOR_SD_LN
    assert not early.acute_low and not early.chronic_low
    sparse = daily_trend(
        _history([4.0, math.nan, math.nan, 4.2, math.nan, math.nan, 4.1], start), start + dt.timedelta(days=6)
    )
    assert sparse.rolling_mean == pytest.approx(4.1)


def test_acute_low_day_and_chronic_low_trend_against_the_sixty_day_range() -> None:
    rng = np.random.default_rng(3)
    start = dt.date(2026, 1, 1)
    normal = list(4.0 + 0.1 * rng.standard_normal(50))
    steady = daily_trend(_history(normal, start), start + dt.timedelta(days=49))
    assert not steady.provisional and steady.days_in_range == 50
    assert steady.range_sd == pytest.approx(float(np.std(normal, ddof=1)))
    assert steady.normal_low == pytest.approx(steady.range_mean - 0.5 * steady.range_sd)  # type: ignore[operator]
    assert not steady.acute_low and not steady.chronic_low
    one_bad = daily_trend(_history([*normal, 3.6], start), start + dt.timedelta(days=50))
    assert one_bad.acute_low and not one_bad.chronic_low  # one day does not make a trend
    slide = [*normal, 3.8, 3.8, 3.8, 3.8, 3.8, 3.8]
    trends = [daily_trend(_history(slide, start), start + dt.timedelta(days=50 + k)) for k in range(6)]
    assert [t.chronic_low for t in trends].index(True) >= 2  # needs three days in a row below the band
    assert trends[-1].low_trend_days >= 3 and trends[-1].cv_pct is not None


def test_in_shift_reference_falls_back_from_context_to_pooled_to_check_in_to_population() -> None:
    rng = np.random.default_rng(8)
    epochs = [
        Epoch(
            shift,
            phase,
            False,
            3.3 + (0.3 if phase is ShiftPhase.FIRST_2H else 0.0) + 0.1 * rng.standard_normal(),
            75.0 + 4.0 * rng.standard_normal(),
        )
        for shift in range(25)
        for phase in SHIFT_PHASES
        for _ in range(4)
    ]
    first = in_shift_reference(epochs, ShiftPhase.FIRST_2H, night=False)
    assert first.source is ReferenceSource.CONTEXT and first.epochs == 80  # the last 20 shifts only
    assert first.median == pytest.approx(3.6, abs=0.05) and not first.learning
    low, high = first.usual_ms()
    assert low < math.exp(3.6) < high
    assert first.z(first.median - first.sd) == pytest.approx(-1.0)
    assert first.hr_median == pytest.approx(75.0, abs=1.5) and 2.0 < first.hr_sd < 6.0
    night = in_shift_reference(epochs, ShiftPhase.MIDDLE, night=True)
    assert night.source is ReferenceSource.POOLED and night.epochs == 240
    check_in = CheckIn(3.9, math.exp(3.9), 64.0, 150, 0.0)
    assert (
        in_shift_reference(epochs[:10], ShiftPhase.MIDDLE, False, check_in).source is ReferenceSource.CHECK_IN
    )
    assert in_shift_reference(epochs[:10], ShiftPhase.MIDDLE, False, check_in).hr_median == 64.0
    prior = in_shift_reference([], ShiftPhase.MIDDLE, False)
    assert (
        prior.source is ReferenceSource.POPULATION
        and prior.learning
        and prior.median == pytest.approx(math.log(42))
    )


def test_shift_phases() -> None:
    assert [shift_phase(h * 3600, 12 * 3600) for h in (0.5, 6, 11)] == list(SHIFT_PHASES)
