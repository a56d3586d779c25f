"""Resting heart rate and effort from heart rate alone (standard straps send no motion): when low HRV is
exercise or its after-effect, not strain.

**Resting HR** (bpm) starts from what is known before the session (the person's past shifts, else today's
check-in) and keeps learning through it: once 30 min of awake, readable ticks exist it is their 10th
percentile, updated every minute (sleep is left out: a night's HR is not a resting HR of a working day; a
tick counts once it is 20 min old and no sleep began meanwhile, so the minutes falling asleep are left out
too).

**Effort** is a tick whose 60-s HR is at least ``margin_bpm`` (10) above resting (about what standing up
or slow walking adds), or whose HR rose ``steep_rise_bpm`` (10) within ``steep_within_s`` (60 s): getting up
and moving raises HR that fast, a mental stressor raises it by 5-10 bpm over minutes (the steep rise is
what marks the start of movement before HR crosses resting + 10).  After effort the vagal brake returns over
minutes to tens of minutes, longer after longer and harder exertion (Stanley, Peake & Buchheit 2013; Seiler
2007: 1-10 min after easy, 5-30 min after moderate work), so the ticks after effort are excluded too, for
as long as the effort lasted, at least ``after_min_s`` (3 min) and at most ``after_max_s`` (20 min).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EffortConfig:
    """Resting-HR learning and the effort gate's parameters (bpm, s, percentile)."""

    margin_bpm: float = 10.0
    steep_rise_bpm: float = 10.0
    steep_within_s: float = 60.0
    after_min_s: float = 180.0
    after_max_s: float = 1200.0
    rest_percentile: float = 10.0
    rest_min_s: float = 1800.0
    rest_every_s: float = 60.0


@dataclass(slots=True)
class _Histogram:
    """Counts of ticks per whole bpm, for a percentile in O(bins)."""

    counts: list[int] = field(default_factory=lambda: [0] * 256)
    total: int = 0

    def add(self, hr_bpm: float) -> None:
        self.counts[min(max(round(hr_bpm), 0), 255)] += 1
        self.total += 1

    def percentile(self, pct: float) -> float:
        rank = pct / 100.0 * self.total
        seen = 0
        for bpm, count in enumerate(self.counts):
            seen += count
            if seen >= rank and count:
                return float(bpm)
        return 255.0


class RestingHeartRate:
    """The resting HR in use (bpm): ``prior`` until the session has learned its own (see the module)."""

    def __init__(self, prior_bpm: float | None, tick_s: float, config: EffortConfig) -> None:
        self.prior_bpm = prior_bpm
        self.config = config
        self._tick_s = tick_s
        self._awake = _Histogram()
        self._learned: float | None = None
        self._learned_at = -math.inf

    def add_awake(self, hr_bpm: float) -> None:
        """One readable tick while awake."""
        self._awake.add(hr_bpm)

    @property
    def learned_bpm(self) -> float | None:
        """What this session has learned so far (None before 30 min of awake ticks)."""
        return self._learned

    def value(self, t_s: float) -> float | None:
        """The resting HR at beat time ``t_s`` (s), the learned value refreshed every minute."""
        config = self.config
        if t_s - self._learned_at >= config.rest_every_s:
            self._learned_at = t_s
            if self._awake.total * self._tick_s >= config.rest_min_s:
                self._learned = self._awake.percentile(config.rest_percentile)
        return self._learned if self._learned is not None else self.prior_bpm


class EffortTracker:
    """Whether a tick is effort, or within the after-effect of one (see the module)."""

    def __init__(self, tick_s: float, config: EffortConfig) -> None:
        self.config = config
        self._recent: deque[tuple[float, float]] = deque(maxlen=max(1, round(config.steep_within_s / tick_s)))
        self._since: float | None = None  # start of the current bout (s)
        self._last_effort = -math.inf
        self._after_s = config.after_min_s

    def update(self, t_s: float, hr_bpm: float, rest_bpm: float | None) -> bool:
        """Take a readable tick's HR; True when it is effort."""
        config = self.config
        lowest = min((hr for _, hr in self._recent), default=hr_bpm)
        self._recent.append((t_s, hr_bpm))
        above = rest_bpm is not None and hr_bpm >= rest_bpm + config.margin_bpm
        steep = hr_bpm - lowest >= config.steep_rise_bpm
        effort = above or steep
        if effort:
            if self._since is None:
                self._since = t_s
            self._last_effort = t_s
            lasted = t_s - self._since
            self._after_s = min(max(lasted, config.after_min_s), config.after_max_s)
        else:
            self._since = None
        return effort

    def moving_s(self, t_s: float) -> float:
        """How long the current bout of effort has lasted (s), 0 outside one."""
        return t_s - self._since if self._since is not None else 0.0

    def settling(self, t_s: float) -> bool:
        """Within the after-effect of the last bout."""
        return t_s - self._last_effort < self._after_s

    def settling_left_s(self, t_s: float) -> float:
        """How long the after-effect still lasts (s)."""
        return max(0.0, self._after_s - (t_s - self._last_effort))
