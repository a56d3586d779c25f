"""Stressors and how fast the person recovers from them (the brief, section 3.5).

A **stressor**: at low effort, the 60-s lnRMSSD falls to at least 0.5 ln below the usual within 2 min (from
within 0.25 ln of it) while HR rises at least 5 bpm.  Its lowest point is t0; the **half-recovery time** is
the first time the value regains half the drop (censored at 30 min).

**Slow recovery** fires once per dip when half-recovery takes longer than the person's own usual *and* the
value is still below their range then (z <= -1): a dip that has come back into the range is not slow, however
long it took.  The usual is the 75th percentile of at least 8 of the person's own half-recovery times, never
taken below 10 min; with fewer than 8 it is the population default of 10 min (most people regain half a
mental-stress drop within minutes, and after moderate effort within 5-30 min: Stanley, Peake & Buchheit
2013), not a percentile of a first few dips, which was 0.8-1.8 min on some records and fired on one dip in
four by construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DipConfig:
    """Stressor and slow-recovery parameters (ln ms, s, bpm, z)."""

    drop_ln: float = 0.5
    from_ln: float = 0.25
    within_s: float = 120.0
    hr_rise_bpm: float = 5.0  # effort starts at rest + 10: a stressor at rest has only this room
    default_s: float = 600.0
    floor_s: float = 600.0
    min_episodes: int = 8
    percentile: float = 75.0
    still_low_z: float = -1.0
    censor_s: float = 1800.0


@dataclass(slots=True)
class Dip:
    """A stressor's drop being followed: lowest point (s, ln ms), the usual it fell from, trigger fired."""

    t0_s: float
    low_ln: float
    usual_ln: float
    episode: int
    fired: bool = False


def usual_half_recovery_s(history: Sequence[float], config: DipConfig) -> float | None:
    """The person's usual half-recovery time (s), or None while fewer than ``min_episodes`` are known."""
    if len(history) < config.min_episodes:
        return None
    ordered = sorted(history)
    position = config.percentile / 100.0 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return max(value, config.floor_s)


def slow_recovery_limit_s(history: Sequence[float], config: DipConfig) -> float:
    """How long half-recovery may take before it is slow (s): the usual, else the population default."""
    usual = usual_half_recovery_s(history, config)
    return usual if usual is not None else config.default_s


def is_stressor(
    ln_now: float, hr_now: float, usual_ln: float, before: Sequence[tuple[float, float]], config: DipConfig
) -> tuple[float, float] | None:
    """Whether a tick (lnRMSSD, HR) is a stressor's drop given the eligible ticks of the last 2 min
    (``before``: (RMSSD ms, HR bpm)); (the highest RMSSD before, the HR rise) when it is."""
    if ln_now > usual_ln - config.drop_ln or not before:
        return None
    highest = max(rmssd for rmssd, _ in before)
    if math.log(highest) < usual_ln - config.from_ln:
        return None
    rise = hr_now - min(hr for _, hr in before)
    if rise < config.hr_rise_bpm:
        return None
    return highest, rise


@dataclass(frozen=True, slots=True)
class Stressor:
    """A stressor found: its drop (from RMSSD ms, how long ago s) and the HR rise (bpm)."""

    from_rmssd_ms: float
    span_s: float
    hr_rise_bpm: float


@dataclass(frozen=True, slots=True)
class DipNews:
    """What happened to the dip being followed on a tick: ``half`` (half-recovered after ``elapsed_s``),
    ``censored`` (not in 30 min) or ``slow`` (slow recovery fires); ``usual_s`` the person's usual."""

    kind: str
    elapsed_s: float
    usual_s: float | None
    episode: int


class DipTracker:
    """Stressors and their recovery, tick by tick (see the module docstring)."""

    def __init__(self, past_half_recoveries_s: Sequence[float], config: DipConfig) -> None:
        self.config = config
        self._past = tuple(past_half_recoveries_s)
        self.half_recoveries_s: list[float] = []
        self.dip: Dip | None = None

    def history(self) -> list[float]:
        """The person's half-recovery times (s): past sessions', then this one's."""
        return [*self._past, *self.half_recoveries_s]

    def start(
        self,
        t_s: float,
        rmssd_ms: float,
        hr_bpm: float,
        usual_ln: float,
        before: Sequence[tuple[float, float, float]],
        episode: int,
    ) -> Stressor | None:
        """A stressor at this eligible tick, given the eligible ticks of the last 2 min (time s, RMSSD ms,
        HR bpm); when one is found its dip is followed from now as ``episode``."""
        found = is_stressor(math.log(rmssd_ms), hr_bpm, usual_ln, [(r, h) for _, r, h in before], self.config)
        if found is None:
            return None
        highest, rise = found
        started = next(t for t, rmssd, _ in before if rmssd == highest)
        self.dip = Dip(t_s, math.log(rmssd_ms), usual_ln, episode)
        return Stressor(highest, t_s - started, rise)

    def follow(
        self, t_s: float, eligible: bool, rmssd_ms: float, z: float, in_strain: bool
    ) -> DipNews | None:
        """The dip's news at this tick, if any (the dip is closed on ``half`` and ``censored``)."""
        dip, config = self.dip, self.config
        if dip is None:
            return None
        elapsed = t_s - dip.t0_s
        if elapsed > config.censor_s:
            self.half_recoveries_s.append(config.censor_s)
            self.dip = None
            return DipNews("censored", config.censor_s, None, dip.episode)
        if not eligible:
            return None
        ln = math.log(rmssd_ms)
        if ln < dip.low_ln:
            dip.low_ln, dip.t0_s = ln, t_s
            return None
        usual = usual_half_recovery_s(self.history(), config)
        if ln >= dip.low_ln + 0.5 * (dip.usual_ln - dip.low_ln):
            self.half_recoveries_s.append(elapsed)
            self.dip = None
            return DipNews("half", elapsed, usual, dip.episode)
        slow = elapsed > slow_recovery_limit_s(self.history(), config) and z <= config.still_low_z
        if not dip.fired and slow and not in_strain:
            dip.fired = True
            return DipNews("slow", elapsed, usual, dip.episode)
        return None
