"""The gate of each tick, and which awake minutes may teach the person's baselines.

Per tick (5 s): probably asleep (:mod:`restbeat.recovery.sleep`), the resting HR in use and effort
(:mod:`restbeat.recovery.effort`), in that order: asleep, a tick is not read at all; awake, HR at resting
+ 10 bpm or a steep rise is effort, and the minutes after it are settling.

What counts as **awake** is known only in hindsight: the 20 min that lead into sleep look awake until sleep
is declared.  So a readable tick teaches the awake resting HR, and an eligible minute joins the epochs of
the reference, only once it is 20 min old (the sleep onset span) and no sleep began meanwhile.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Generic, TypeVar

from restbeat.recovery.effort import EffortTracker, RestingHeartRate
from restbeat.recovery.shift_state import AssessConfig, Gate, Profile
from restbeat.recovery.sleep import SleepDetector

T = TypeVar("T")


class Unconfirmed(Generic[T]):
    """Items that wait ``span_s`` (s) before they count; all of them are dropped when sleep begins."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self._items: deque[tuple[float, T]] = deque()

    def add(self, t_s: float, item: T) -> None:
        self._items.append((t_s, item))

    def confirmed(self, t_s: float, asleep: bool) -> list[tuple[float, T]]:
        """The items now old enough, in order (none when ``asleep``: the wait was the onset of sleep)."""
        if asleep:
            self._items.clear()
            return []
        out = []
        while self._items and t_s - self._items[0][0] >= self.span_s:
            out.append(self._items.popleft())
        return out


class TickGates:
    """Sleep, resting HR and effort, tick by tick (see the module docstring)."""

    def __init__(self, profile: Profile, config: AssessConfig) -> None:
        self.config = config
        prior = profile.resting_hr_bpm
        if prior is None and profile.check_in is not None:
            prior = profile.check_in.hr_bpm
        self.resting = RestingHeartRate(prior, config.tick_s, config.effort)
        self.effort = EffortTracker(config.tick_s, config.effort)
        self.sleep = SleepDetector(config.tick_s, profile.local_start_s, profile.night, config.sleep)
        self._awake_ticks = 0
        self._heart_rates: Unconfirmed[float] = Unconfirmed(config.sleep.onset_s)

    def gate(self, t_s: float, readable: bool, hr: float | None) -> tuple[Gate, float | None]:
        """This tick's gate and the resting HR in use (bpm)."""
        config = self.config
        known = self.resting.learned_bpm
        awake_s = self._awake_ticks * config.tick_s
        if awake_s < config.sleep.rest_min_s and self.resting.prior_bpm is not None:
            known, awake_s = self.resting.prior_bpm, math.inf  # until an hour of its own, the prior
        asleep = self.sleep.update(t_s, hr if readable else None, known, awake_s)
        if readable and hr is not None and not asleep:
            self._heart_rates.add(t_s, hr)
        for _, confirmed in self._heart_rates.confirmed(t_s, asleep):
            self.resting.add_awake(confirmed)
            self._awake_ticks += 1
        rest = self.resting.value(t_s)
        if not readable or hr is None:
            return Gate.NO_DATA, rest
        if asleep:
            return Gate.ASLEEP, rest
        effort = self.effort.update(t_s, hr, rest)
        if rest is None:
            return Gate.NO_REST_HR, rest
        if effort:
            return Gate.EFFORT, rest
        if self.effort.settling(t_s):
            return Gate.AFTER_EFFORT, rest
        return Gate.READABLE, rest
