"""The last 15 min of ticks and what the strain rules read from them: runs above and below the thresholds,
the share of low ticks over a span, the low stretch, and the numbers a strain's reason gives."""

from __future__ import annotations

import math
import statistics
from collections import deque

from restbeat.recovery.baseline import Reference
from restbeat.recovery.shift_state import AssessConfig


class Tick:
    """One tick: beat time (s), eligible (readable, awake, low effort), z of lnRMSSD and of HR, the 60-s
    RMSSD (ms) and HR (bpm); NaN when unreadable."""

    __slots__ = ("eligible", "hr_bpm", "rmssd_ms", "t_s", "z", "z_hr")

    def __init__(
        self, t_s: float, eligible: bool, z: float, z_hr: float, rmssd_ms: float, hr_bpm: float
    ) -> None:
        self.t_s, self.eligible, self.z, self.z_hr = t_s, eligible, z, z_hr
        self.rmssd_ms, self.hr_bpm = rmssd_ms, hr_bpm


def unreadable(t_s: float) -> Tick:
    """A tick with no numbers (a gap)."""
    return Tick(t_s, False, math.nan, math.nan, math.nan, math.nan)


class TickWindow:
    """The entry span (7.5 min), the deep span (10-15 min) and the last 2 min of ticks, with the runs."""

    def __init__(self, config: AssessConfig) -> None:
        self.config = config
        self.entry: deque[Tick] = deque(maxlen=round(config.enter_span_s / config.tick_s))
        self.long: deque[Tick] = deque(
            maxlen=round(max(config.deep_span_s, config.enter_span_s) / config.tick_s)
        )
        self.recent: deque[Tick] = deque(maxlen=round(config.dips.within_s / config.tick_s))
        self.up_run = 0  # consecutive eligible ticks at z >= exit_z
        self.down_run = 0  # consecutive eligible ticks at z <= the entry threshold
        self._low_stretch = 0
        self._not_low_run = 0

    def push(self, tick: Tick) -> None:
        self.entry.append(tick)
        self.long.append(tick)
        self.recent.append(tick)

    def track(self, tick: Tick, enter_z: float) -> None:
        """Count an eligible tick into the runs and the low stretch (eligible low ticks since a minute of
        not-low ones)."""
        if not tick.eligible:
            return
        config = self.config
        low = tick.z <= enter_z
        self.down_run = self.down_run + 1 if low else 0
        self.up_run = self.up_run + 1 if tick.z >= config.exit_z else 0
        if low:
            self._low_stretch += 1
            self._not_low_run = 0
        else:
            self._not_low_run += 1
            if self._not_low_run * config.tick_s >= config.low_stretch_break_s:
                self._low_stretch = 0

    def rescore(self, reference: Reference, enter_z: float) -> None:
        """A new reference: the z values held and the runs counted from them are redone, so a decision never
        mixes two references."""
        for tick in self.long:
            if math.isfinite(tick.rmssd_ms):
                tick.z = reference.z(math.log(tick.rmssd_ms))
                tick.z_hr = reference.z_hr(tick.hr_bpm)
        self.up_run = self.down_run = self._low_stretch = self._not_low_run = 0
        for tick in self.entry:
            self.track(tick, enter_z)

    def low_share_met(self, long: bool, z_limit: float, span_s: float | None = None) -> bool:
        """Most of the span (entry, or the last ``span_s`` of the long one; full) eligible and at or below
        ``z_limit``, the latest tick too, with the heart rate at or above the person's usual."""
        config = self.config
        if long:
            count = round((span_s or config.deep_span_s) / config.tick_s)
            if len(self.long) < count:
                return False
            ticks = list(self.long)[-count:]
        else:
            if len(self.entry) < (self.entry.maxlen or 0):
                return False
            ticks = list(self.entry)
        if not (ticks[-1].eligible and ticks[-1].z <= z_limit):
            return False
        eligible = [tick for tick in ticks if tick.eligible]
        if len(eligible) < config.enter_cover * len(ticks):
            return False
        if sum(1 for tick in eligible if tick.z <= z_limit) < config.enter_share * len(eligible):
            return False
        return statistics.median(tick.z_hr for tick in eligible) >= 0.0

    def run_median(self, ticks: int) -> float:
        """Median 60-s RMSSD (ms) of the last ``ticks`` eligible ticks of the entry span."""
        values = [tick.rmssd_ms for tick in self.entry if tick.eligible][-ticks:]
        return statistics.median(values)

    def low(self, enter_z: float) -> tuple[float, float]:
        """Strain's numbers: the median 60-s RMSSD (ms) of the entry span and how long (s) it has been low:
        the low ticks of the span or of the low stretch, whichever is longer (time moving is not counted)."""
        eligible = [tick for tick in self.entry if tick.eligible]
        low_in_span = sum(1 for tick in eligible if tick.z <= enter_z)
        span = max(self._low_stretch, low_in_span) * self.config.tick_s
        return statistics.median(tick.rmssd_ms for tick in eligible), span
