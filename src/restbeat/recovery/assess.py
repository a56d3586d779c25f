"""The state within a shift (settled, strained, recovering), with hysteresis, gated on data quality and on
effort, every change carrying its reasons in numbers.

Every 5 s of beat time (a *tick*) the assessor reads the last 60-s window (lnRMSSD, mean HR, quality; from
:mod:`restbeat.signal.stream`, converted by the app) and compares it with the person's reference
(:func:`restbeat.recovery.baseline.in_shift_reference`): ``z = (lnRMSSD - median) / SD``.

* **Gates.**  A tick is *readable* when the window has numbers.  Standard straps send no motion, so effort is
  inferred from heart rate: HR >= resting HR + 10 bpm is effort (about what standing up or slow walking adds;
  high HR with low HRV is then exercise, not stress), and the 3 min after effort are excluded too
  (post-movement vagal rebound).  Only readable ticks at low effort are *eligible*.
* **Strained** (Verkuil et al. 2016; the brief, section 3.4): over the last 7.5 min eligible ticks cover
  >= 80 % and >= 80 % of them have z <= -1.0 (-1.5 once the recommender tightens it after two dismissals),
  and the median HR z is >= 0 (low HRV with low HR is drowsiness or artefact, not stress), and the latest
  tick is itself low.  A new episode needs a prior exit.  No strain is read against published norms
  alone: that reference is "still learning".
* **Recovering** after strain once eligible ticks have had z >= -0.5 for 1 min; back to strained after 1 min
  at z <= -1.0;
  **settled** after 3 consecutive eligible minutes at z >= -0.5, or after 2 min of effort.
* **Stressor and slow recovery** (section 3.5): at low effort, the 60-s lnRMSSD falls to >= 0.5 ln below the
  usual within 2 min (from within 0.25 ln of it) while HR rises >= 5 bpm: the state is recovering, from the
  lowest point t0.  The half-recovery time is the first time the value regains half the drop.  If that takes
  longer than the person's 75th percentile (>= 8 past episodes; 10 min before that), a slow-recovery trigger
  fires once; the wait is censored at 30 min.

Work per beat is O(1): between ticks :meth:`Assessor.update` returns at once; a tick touches fixed-size
buffers (7.5 min of ticks, 256 HR bins).  Epochs of the session (one eligible minute each) are kept so the
reference can learn a new person during the shift: while the profile has no history of its own, epochs
older than 30 min stand in for it.  With a history, the reference is the history alone.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from restbeat.recovery.baseline import (
    CheckIn,
    Epoch,
    Reference,
    ReferenceSource,
    in_shift_reference,
    shift_phase,
)
from restbeat.recovery.practices import Trigger

CURRENT_SHIFT = -1  # the shift id of the epochs gathered during this session


@dataclass(frozen=True, slots=True)
class AssessConfig:
    """The assessment's parameters (s, bpm, ln ms, z); defaults from the design brief, sections 3.3-3.5."""

    tick_s: float = 5.0
    enter_z: float = -1.0
    strict_enter_z: float = -1.5
    enter_span_s: float = 450.0
    enter_share: float = 0.8  # of eligible ticks at or below enter_z
    enter_cover: float = 0.8  # eligible ticks as a share of the span
    exit_z: float = -0.5
    exit_hold_s: float = 180.0
    turn_s: float = 60.0  # strained <-> recovering needs this long of eligible ticks past the threshold
    effort_margin_bpm: float = 10.0
    after_effort_s: float = 180.0
    effort_exit_s: float = 120.0
    low_stretch_break_s: float = 60.0
    stressor_drop_ln: float = 0.5
    stressor_from_ln: float = 0.25
    stressor_within_s: float = 120.0
    stressor_hr_rise_bpm: float = 5.0  # effort starts at rest + 10: a stressor at rest has only this room
    slow_recovery_cold_s: float = 600.0
    slow_recovery_min_episodes: int = 8
    slow_recovery_percentile: float = 75.0
    censor_s: float = 1800.0
    rest_hr_percentile: float = 10.0
    rest_hr_min_s: float = 1800.0
    reference_every_s: float = 600.0
    own_epochs_after_s: float = 1800.0
    shift_length_s: float = 12 * 3600.0


class State(StrEnum):
    """The state of a shift."""

    SETTLED = "settled"
    STRAINED = "strained"
    RECOVERING = "recovering"


class Gate(StrEnum):
    """Whether a tick can be read as strain, and if not, why."""

    READABLE = "readable"
    NO_DATA = "no usable data"
    NO_REST_HR = "resting heart rate not known yet"
    EFFORT = "moving"
    AFTER_EFFORT = "settling after moving"


@dataclass(frozen=True, slots=True)
class WindowReading:
    """One 60-s window at beat time ``t_s`` (s): lnRMSSD (ln ms) and mean HR (bpm), None when not usable."""

    t_s: float
    ln_rmssd: float | None
    hr_bpm: float | None
    quality: str = "ok"


@dataclass(frozen=True, slots=True)
class Profile:
    """What is known of the person when a session starts: past low-effort epochs, today's check-in, resting
    HR (bpm), past half-recovery times (s), and the shift (start time s, night or day)."""

    epochs: tuple[Epoch, ...] = ()
    check_in: CheckIn | None = None
    resting_hr_bpm: float | None = None
    half_recoveries_s: tuple[float, ...] = ()
    start_s: float | None = None
    night: bool = False


class ReasonKind(StrEnum):
    """What a reason is about."""

    LOW_SUSTAINED = "low-sustained"
    COMING_BACK = "coming-back"
    BACK_IN_RANGE = "back-in-range"
    MOVING = "moving"
    STRESSOR = "stressor"
    HALF_RECOVERED = "half-recovered"
    SLOW_RECOVERY = "slow-recovery"


_USUAL_WHERE = {
    ReferenceSource.CONTEXT: "your usual at this point of a shift",
    ReferenceSource.POOLED: "your usual on shift",
    ReferenceSource.CHECK_IN: "your check-in",
    ReferenceSource.POPULATION: "typical for adults at rest",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the state changed, as numbers: the 60-s RMSSD (ms) now or over ``span_s``, the person's usual
    range (ms) and its source, HR and resting HR (bpm), and for recoveries the times (s)."""

    kind: ReasonKind
    rmssd_ms: float
    span_s: float
    usual_low_ms: float
    usual_high_ms: float
    source: ReferenceSource
    window_s: float = 60.0
    hr_bpm: float | None = None
    resting_hr_bpm: float | None = None
    from_rmssd_ms: float | None = None
    hr_rise_bpm: float | None = None
    half_recovery_s: float | None = None
    usual_half_recovery_s: float | None = None

    def text(self) -> str:
        """The reason in plain words, e.g. "60-s RMSSD 18 ms for 9 min; your usual on shift 27-41 ms"."""
        usual = f"{_USUAL_WHERE[self.source]} {self.usual_low_ms:.0f}-{self.usual_high_ms:.0f} ms"
        window = f"{self.window_s:.0f}-s RMSSD"
        minutes = _minutes(self.span_s)
        if self.kind is ReasonKind.LOW_SUSTAINED:
            return f"{window} {self.rmssd_ms:.0f} ms for {minutes}; {usual}"
        if self.kind is ReasonKind.COMING_BACK:
            return f"{window} back up to {self.rmssd_ms:.0f} ms; {usual}"
        if self.kind is ReasonKind.BACK_IN_RANGE:
            return f"{window} {self.rmssd_ms:.0f} ms, near your usual for {minutes}; {usual}"
        if self.kind is ReasonKind.MOVING:
            above = (self.hr_bpm or 0.0) - (self.resting_hr_bpm or 0.0)
            return (
                f"heart rate {self.hr_bpm:.0f} bpm, {above:.0f} above your resting "
                f"{self.resting_hr_bpm:.0f}, "
                f"for {minutes}: moving, so low HRV is not read as strain"
            )
        if self.kind is ReasonKind.STRESSOR:
            return (
                f"{window} fell from {self.from_rmssd_ms:.0f} to {self.rmssd_ms:.0f} ms within "
                f"{minutes} while heart rate rose {self.hr_rise_bpm:.0f} bpm to {self.hr_bpm:.0f}; {usual}"
            )
        usual_half = (
            f"your usual {_minutes(self.usual_half_recovery_s)}"
            if self.usual_half_recovery_s is not None
            else "more than 10 min is slow for most people"
        )
        if self.kind is ReasonKind.HALF_RECOVERED:
            return f"half-way back to your usual after {_minutes(self.half_recovery_s or 0.0)} ({usual_half})"
        return (
            f"{window} still {self.rmssd_ms:.0f} ms, not half-way back {minutes} after the drop "
            f"({usual_half}); {usual}"
        )


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes = seconds / 60.0
    return f"{minutes:.0f} min" if minutes >= 10 or minutes == round(minutes) else f"{minutes:.1f} min"


@dataclass(frozen=True, slots=True)
class StateChange:
    """The shift's state changed at ``t_s`` (s), for ``reason``."""

    t_s: float
    before: State
    after: State
    reason: Reason


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """A moment a practice may help (the recommender decides whether to prompt): episode number, z values."""

    t_s: float
    trigger: Trigger
    episode: int
    reason: Reason
    z: float
    z_hr: float | None


Event = StateChange | TriggerEvent


@dataclass(frozen=True, slots=True)
class Assessment:
    """The latest tick: state, gate, the 60-s values and their z against the reference in use."""

    t_s: float
    state: State
    gate: Gate
    rmssd_ms: float | None
    hr_bpm: float | None
    z: float | None
    z_hr: float | None
    reference: Reference
    resting_hr_bpm: float | None
    episode: int | None  # the open episode (strain or stressor), if any


@dataclass(slots=True)
class _Tick:
    t_s: float
    eligible: bool
    z: float
    z_hr: float
    rmssd_ms: float
    hr_bpm: float


@dataclass(slots=True)
class _Dip:
    """A stressor's drop being followed: lowest point (s, ln ms), the usual it fell from, trigger fired."""

    t0_s: float
    low_ln: float
    usual_ln: float
    episode: int
    fired: bool = False


@dataclass(slots=True)
class _HeartRateHistogram:
    """Counts of readable ticks per whole bpm, for the resting-HR percentile in O(bins)."""

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


class Assessor:
    """Feed :class:`WindowReading` values in time order to :meth:`update`; read :attr:`current`."""

    def __init__(self, profile: Profile | None = None, config: AssessConfig | None = None) -> None:
        self.profile = profile or Profile()
        self.config = config or AssessConfig()
        self.enter_z = self.config.enter_z
        self.current: Assessment | None = None
        self.epochs: list[Epoch] = []
        self._epoch_times: list[float] = []
        self.half_recoveries_s: list[float] = []
        self.strained_s = 0.0
        span = round(self.config.enter_span_s / self.config.tick_s)
        self._window: deque[_Tick] = deque(maxlen=span)
        self._recent: deque[_Tick] = deque(maxlen=round(self.config.stressor_within_s / self.config.tick_s))
        self._origin: float | None = self.profile.start_s
        self._next_tick: float | None = None
        self._reference: Reference | None = None
        self._reference_at = -math.inf
        self._hr = _HeartRateHistogram()
        self._rest_learned: float | None = None
        self._rest_learned_at = -math.inf
        self._last_effort_t = -math.inf
        self._effort_since: float | None = None
        self._next_epoch_t = -math.inf
        self._state = State.SETTLED
        self._episodes = 0
        self._episode: int | None = None
        self._strain_started = 0.0
        self._up_run = 0  # consecutive eligible ticks at z >= exit_z
        self._down_run = 0  # consecutive eligible ticks at z <= enter_z
        self._low_stretch_ticks = 0
        self._not_low_run = 0
        self._dip: _Dip | None = None
        self._recovering_from_strain = False

    # -- public ------------------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    def tighten(self) -> None:
        """Enter strain only at the strict threshold for the rest of the shift (after repeated dismissals)."""
        self.enter_z = self.config.strict_enter_z

    def resting_hr_bpm(self) -> float | None:
        """The resting HR in use (bpm): the profile's, else today's check-in, else learned in this session."""
        if self.profile.resting_hr_bpm is not None:
            return self.profile.resting_hr_bpm
        if self.profile.check_in is not None:
            return self.profile.check_in.hr_bpm
        return self._rest_learned

    def due(self, t_s: float) -> bool:
        """Whether :meth:`update` at beat time ``t_s`` (s) would tick; between ticks a caller may skip
        building the reading."""
        return self._next_tick is None or t_s >= self._next_tick

    def update(self, reading: WindowReading) -> tuple[Event, ...]:
        """Take the window after a beat; does work only when a tick (5 s of beat time) is due."""
        tick = self.config.tick_s
        if self._next_tick is None:
            self._next_tick = reading.t_s
            if self._origin is None:
                self._origin = reading.t_s
        if reading.t_s < self._next_tick:
            return ()
        missed = int((reading.t_s - self._next_tick) // tick)
        for k in range(min(missed, self._window.maxlen or 0)):
            self._push(_Tick(self._next_tick + k * tick, False, math.nan, math.nan, math.nan, math.nan))
        self._next_tick += (missed + 1) * tick
        return self._tick(reading)

    # -- the tick ----------------------------------------------------------------------------------------

    def _push(self, tick: _Tick) -> None:
        self._window.append(tick)
        self._recent.append(tick)

    def _reference_at_time(self, t_s: float) -> Reference:
        if self._reference is None or t_s - self._reference_at >= self.config.reference_every_s:
            elapsed = t_s - (self._origin if self._origin is not None else t_s)
            phase = shift_phase(elapsed, self.config.shift_length_s)
            profile = self.profile
            reference = in_shift_reference(profile.epochs, phase, profile.night, profile.check_in)
            if reference.learning:  # no personal history yet: learn from this session's older minutes
                settled = bisect.bisect_right(self._epoch_times, t_s - self.config.own_epochs_after_s)
                own = (*profile.epochs, *self.epochs[:settled])
                reference = in_shift_reference(own, phase, profile.night, profile.check_in)
            if reference != self._reference:
                self._rescore(reference)
            self._reference = reference
            self._reference_at = t_s
        return self._reference

    def _rescore(self, reference: Reference) -> None:
        """A new reference: the z values held (7.5 min of ticks) and the runs counted from them are redone,
        so a decision never mixes two references."""
        for tick in self._window:
            if math.isfinite(tick.rmssd_ms):
                tick.z = reference.z(math.log(tick.rmssd_ms))
                tick.z_hr = reference.z_hr(tick.hr_bpm)
        self._up_run = self._down_run = self._low_stretch_ticks = self._not_low_run = 0
        for tick in self._window:
            self._track_runs(tick)

    def _tick(self, reading: WindowReading) -> tuple[Event, ...]:
        config = self.config
        t = reading.t_s
        reference = self._reference_at_time(t)
        ln, hr = reading.ln_rmssd, reading.hr_bpm
        readable = ln is not None and hr is not None and math.isfinite(ln) and math.isfinite(hr)
        if readable:
            assert hr is not None
            self._hr.add(hr)
        rest = self._rest_hr(t)
        effort = readable and rest is not None and hr is not None and hr >= rest + config.effort_margin_bpm
        if effort:
            self._last_effort_t = t
            if self._effort_since is None:
                self._effort_since = t
        elif readable:
            self._effort_since = None
        if not readable:
            gate = Gate.NO_DATA
        elif rest is None:
            gate = Gate.NO_REST_HR
        elif effort:
            gate = Gate.EFFORT
        elif t - self._last_effort_t < config.after_effort_s:
            gate = Gate.AFTER_EFFORT
        else:
            gate = Gate.READABLE
        z = reference.z(ln) if readable and ln is not None else math.nan
        z_hr = reference.z_hr(hr) if readable and hr is not None else math.nan
        rmssd = math.exp(ln) if readable and ln is not None else math.nan
        eligible = gate is Gate.READABLE
        now = _Tick(t, eligible, z, z_hr, rmssd, hr if readable and hr is not None else math.nan)
        events: list[Event] = []
        self._stressor(now, reference, events)
        self._push(now)
        if eligible and hr is not None and ln is not None and t >= self._next_epoch_t:
            self._collect_epoch(t, ln, hr)
        self._track_runs(now)
        self._transition(now, gate, reference, hr, rest, events)
        self._follow_dip(now, reference, events)
        if self._state is State.STRAINED:
            self.strained_s += config.tick_s
        self.current = Assessment(
            t_s=t,
            state=self._state,
            gate=gate,
            rmssd_ms=rmssd if readable else None,
            hr_bpm=hr if readable else None,
            z=z if readable else None,
            z_hr=z_hr if readable else None,
            reference=reference,
            resting_hr_bpm=rest,
            episode=self._episode,
        )
        return tuple(events)

    def _rest_hr(self, t_s: float) -> float | None:
        known = self.resting_hr_bpm()
        if known is not None:
            return known
        if t_s - self._rest_learned_at >= 60.0:
            self._rest_learned_at = t_s
            if self._hr.total * self.config.tick_s >= self.config.rest_hr_min_s:
                self._rest_learned = self._hr.percentile(self.config.rest_hr_percentile)
        return self._rest_learned

    def _collect_epoch(self, t_s: float, ln: float, hr: float) -> None:
        elapsed = t_s - (self._origin if self._origin is not None else t_s)
        phase = shift_phase(elapsed, self.config.shift_length_s)
        self.epochs.append(Epoch(CURRENT_SHIFT, phase, self.profile.night, ln, hr))
        self._epoch_times.append(t_s)
        self._next_epoch_t = t_s + 60.0

    def _track_runs(self, now: _Tick) -> None:
        """Counts of eligible ticks: runs above the exit and below the entry threshold, and the low stretch
        (eligible low ticks since a minute of not-low ones)."""
        if not now.eligible:
            return
        low = now.z <= self.enter_z
        self._down_run = self._down_run + 1 if low else 0
        self._up_run = self._up_run + 1 if now.z >= self.config.exit_z else 0
        if low:
            self._low_stretch_ticks += 1
            self._not_low_run = 0
        else:
            self._not_low_run += 1
            if self._not_low_run * self.config.tick_s >= self.config.low_stretch_break_s:
                self._low_stretch_ticks = 0

    def _enter_rule_met(self, reference: Reference) -> bool:
        window = self._window
        if reference.source is ReferenceSource.POPULATION or len(window) < (window.maxlen or 0):
            return False
        if not (window[-1].eligible and window[-1].z <= self.enter_z):
            return False  # never enter while the latest minute is back above the threshold
        eligible = [tick for tick in window if tick.eligible]
        if len(eligible) < self.config.enter_cover * len(window):
            return False
        low = sum(1 for tick in eligible if tick.z <= self.enter_z)
        if low < self.config.enter_share * len(eligible):
            return False
        return statistics.median(tick.z_hr for tick in eligible) >= 0.0

    def _reason(
        self, kind: ReasonKind, reference: Reference, rmssd: float, span_s: float, **extra: float | None
    ) -> Reason:
        low, high = reference.usual_ms()
        return Reason(kind, rmssd, span_s, low, high, reference.source, **extra)  # type: ignore[arg-type]

    def _change(self, t_s: float, after: State, reason: Reason, events: list[Event]) -> None:
        events.append(StateChange(t_s, self._state, after, reason))
        self._state = after

    def _transition(
        self,
        now: _Tick,
        gate: Gate,
        reference: Reference,
        hr: float | None,
        rest: float | None,
        events: list[Event],
    ) -> None:
        config = self.config
        t = now.t_s
        moving_s = t - self._effort_since if gate is Gate.EFFORT and self._effort_since is not None else 0.0
        if self._recovering_from_strain and moving_s > config.effort_exit_s:
            reason = self._reason(
                ReasonKind.MOVING, reference, now.rmssd_ms, moving_s, hr_bpm=hr, resting_hr_bpm=rest
            )
            self._end_strain(t, reason, events)
            return
        turn = round(config.turn_s / config.tick_s)
        if self._state is State.STRAINED:
            if self._up_run >= turn:
                reason = self._reason(ReasonKind.COMING_BACK, reference, self._run_median(self._up_run), 0.0)
                self._change(t, State.RECOVERING, reason, events)
            return
        if self._state is State.RECOVERING and self._recovering_from_strain:
            if self._down_run >= turn:
                self._change(t, State.STRAINED, self._low_reason(reference), events)
            elif self._up_run * config.tick_s >= config.exit_hold_s:
                held = self._run_median(self._up_run)
                reason = self._reason(ReasonKind.BACK_IN_RANGE, reference, held, self._up_run * config.tick_s)
                self._end_strain(t, reason, events)
            return
        if self._enter_rule_met(reference):
            self._episodes += 1
            self._episode = self._episodes
            self._strain_started = t
            self._recovering_from_strain = True
            reason = self._low_reason(reference)
            self._change(t, State.STRAINED, reason, events)
            events.append(TriggerEvent(t, Trigger.SUSTAINED_LOW, self._episodes, reason, now.z, now.z_hr))

    def _end_strain(self, t_s: float, reason: Reason, events: list[Event]) -> None:
        self._recovering_from_strain = False
        self._episode = self._dip.episode if self._dip is not None else None
        after = State.RECOVERING if self._dip is not None else State.SETTLED
        self._change(t_s, after, reason, events)

    def _run_median(self, ticks: int) -> float:
        """Median 60-s RMSSD (ms) of the last ``ticks`` eligible ticks."""
        values = [tick.rmssd_ms for tick in self._window if tick.eligible][-ticks:]
        return statistics.median(values)

    def _low_reason(self, reference: Reference) -> Reason:
        """Strain's reason: the median 60-s RMSSD of the window and how long it has been low: the low ticks
        of the window or of the low stretch, whichever is longer (time spent moving is not counted)."""
        eligible = [tick for tick in self._window if tick.eligible]
        low_in_window = sum(1 for tick in eligible if tick.z <= self.enter_z)
        span = max(self._low_stretch_ticks, low_in_window) * self.config.tick_s
        rmssd = statistics.median(tick.rmssd_ms for tick in eligible)
        return self._reason(ReasonKind.LOW_SUSTAINED, reference, rmssd, span)

    # -- stressors and their recovery -------------------------------------------------------------------

    def _stressor(self, now: _Tick, reference: Reference, events: list[Event]) -> None:
        """A fast drop at low effort with HR rising: start following its recovery (before ``now`` is kept)."""
        config = self.config
        if self._dip is not None or self._state is not State.SETTLED or not now.eligible:
            return
        if reference.source is ReferenceSource.POPULATION:
            return
        ln = math.log(now.rmssd_ms)
        if ln > reference.median - config.stressor_drop_ln:
            return
        before = [tick for tick in self._recent if tick.eligible]
        if not before:
            return
        highest = max(before, key=lambda tick: tick.rmssd_ms)
        if math.log(highest.rmssd_ms) < reference.median - config.stressor_from_ln:
            return
        rise = now.hr_bpm - min(tick.hr_bpm for tick in before)
        if rise < config.stressor_hr_rise_bpm:
            return
        self._episodes += 1
        self._episode = self._episodes
        self._dip = _Dip(now.t_s, ln, reference.median, self._episodes)
        reason = self._reason(
            ReasonKind.STRESSOR,
            reference,
            now.rmssd_ms,
            now.t_s - highest.t_s,
            from_rmssd_ms=highest.rmssd_ms,
            hr_rise_bpm=rise,
            hr_bpm=now.hr_bpm,
        )
        self._change(now.t_s, State.RECOVERING, reason, events)

    def _usual_half_recovery_s(self) -> float | None:
        history = list(self.profile.half_recoveries_s) + self.half_recoveries_s
        if len(history) < self.config.slow_recovery_min_episodes:
            return None
        return _percentile(history, self.config.slow_recovery_percentile)

    def _follow_dip(self, now: _Tick, reference: Reference, events: list[Event]) -> None:
        dip = self._dip
        if dip is None:
            return
        config = self.config
        elapsed = now.t_s - dip.t0_s
        if elapsed > config.censor_s:
            self.half_recoveries_s.append(config.censor_s)
            self._close_dip(now, reference, None, events)
            return
        if not now.eligible:
            return
        ln = math.log(now.rmssd_ms)
        if ln < dip.low_ln:
            dip.low_ln, dip.t0_s = ln, now.t_s
            return
        usual = self._usual_half_recovery_s()
        if ln >= dip.low_ln + 0.5 * (dip.usual_ln - dip.low_ln):
            self.half_recoveries_s.append(elapsed)
            self._close_dip(now, reference, elapsed, events, usual)
            return
        limit = usual if usual is not None else config.slow_recovery_cold_s
        if not dip.fired and elapsed > limit and not self._recovering_from_strain:
            dip.fired = True
            reason = self._reason(
                ReasonKind.SLOW_RECOVERY, reference, now.rmssd_ms, elapsed, usual_half_recovery_s=usual
            )
            events.append(TriggerEvent(now.t_s, Trigger.SLOW_RECOVERY, dip.episode, reason, now.z, now.z_hr))

    def _close_dip(
        self,
        now: _Tick,
        reference: Reference,
        half_s: float | None,
        events: list[Event],
        usual: float | None = None,
    ) -> None:
        self._dip = None
        if self._state is State.RECOVERING and not self._recovering_from_strain:
            self._episode = None
            rmssd = now.rmssd_ms if math.isfinite(now.rmssd_ms) else math.exp(reference.median)
            reason = self._reason(
                ReasonKind.HALF_RECOVERED,
                reference,
                rmssd,
                half_s if half_s is not None else self.config.censor_s,
                half_recovery_s=half_s,
                usual_half_recovery_s=usual,
            )
            self._change(now.t_s, State.SETTLED, reason, events)


def _percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    position = pct / 100.0 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
