"""Whether the person is probably asleep: no prompt then, and sleep minutes never enter the awake reference.

Two sources, documented in the README ("When restbeat will and will not interrupt you"):

* **The local clock**, where a recording that is not a shift has one (a replayed 24-h file): 23:00-07:00.
  During a shift the person is at work, awake whatever the hour (a night worker's sleep is by day, after the
  shift): a live shift session gives no clock, and a night shift never uses it.
* **Heart rate** (always): sleep is the longest stretch of the day with the lowest heart rate; heart rate
  alone finds that block well (Perez-Pozuelo et al. 2022, HypnosPy: total sleep time within minutes of
  diaries), while telling REM or an arousal from waking minute by minute is beyond RR alone (Yuda et al.
  2017: the autonomic state of REM resembles waking; REM lowers RMSSD and raises HR a little, Penzel 2016).
  So the rule finds the block and holds through what happens inside it.  Asleep begins when, over the last
  ``onset_s`` (20 min), ``onset_share`` (80 %) of the readable ticks had a 60-s HR at least
  ``below_rest_bpm`` (3) under the person's awake resting HR; it ends when HR has stayed at or above the
  awake resting HR for ``wake_s`` (10 min), about what getting up and about does, which a REM bout or an
  arousal does not.  The awake resting HR needs 60 min of awake ticks first.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class SleepSource(StrEnum):
    """What said the person was asleep."""

    CLOCK = "the local clock (23:00-07:00)"
    HEART_RATE = "heart rate well below the awake resting rate"


@dataclass(frozen=True, slots=True)
class SleepConfig:
    """The sleep rule's parameters (s, bpm, share, hours of the local day)."""

    night_from_h: float = 23.0
    night_to_h: float = 7.0
    onset_s: float = 1200.0
    onset_share: float = 0.8
    below_rest_bpm: float = 3.0
    wake_s: float = 600.0
    rest_min_s: float = 3600.0


class SleepDetector:
    """Feed every tick to :meth:`update`; :attr:`asleep` and :attr:`source` say what it concluded."""

    def __init__(
        self,
        tick_s: float,
        local_start_s: float | None = None,
        night_shift: bool = False,
        config: SleepConfig | None = None,
    ) -> None:
        self.config = config or SleepConfig()
        self._tick_s = tick_s
        self._local_start_s = None if night_shift else local_start_s
        self._onset: deque[bool] = deque(maxlen=max(1, round(self.config.onset_s / tick_s)))
        self._awake_up_s = 0.0
        self._by_heart_rate = False
        self.asleep = False
        self.source: SleepSource | None = None

    def by_clock(self, t_s: float) -> bool:
        """Whether beat time ``t_s`` falls in the local night (only when the session has a clock)."""
        if self._local_start_s is None:
            return False
        hour = ((self._local_start_s + t_s) % 86400.0) / 3600.0
        night_from, night_to = self.config.night_from_h, self.config.night_to_h
        return hour >= night_from or hour < night_to

    def update(self, t_s: float, hr_bpm: float | None, awake_rest_bpm: float | None, awake_s: float) -> bool:
        """One tick (``hr_bpm`` None when unreadable); ``awake_rest_bpm`` is the resting HR learned from
        ``awake_s`` seconds of awake ticks.  Returns whether the person is probably asleep."""
        config = self.config
        known = awake_rest_bpm is not None and awake_s >= config.rest_min_s
        if hr_bpm is not None and math.isfinite(hr_bpm) and known:
            assert awake_rest_bpm is not None
            self._onset.append(hr_bpm <= awake_rest_bpm - config.below_rest_bpm)
            if self._by_heart_rate:
                self._awake_up_s = self._awake_up_s + self._tick_s if hr_bpm >= awake_rest_bpm else 0.0
                if self._awake_up_s >= config.wake_s:
                    self._by_heart_rate = False
                    self._onset.clear()
            elif len(self._onset) == self._onset.maxlen and sum(self._onset) >= config.onset_share * len(
                self._onset
            ):
                self._by_heart_rate = True
                self._awake_up_s = 0.0
        clock = self.by_clock(t_s)
        self.asleep = clock or self._by_heart_rate
        self.source = SleepSource.CLOCK if clock else SleepSource.HEART_RATE if self._by_heart_rate else None
        return self.asleep
