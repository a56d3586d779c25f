"""The state within a shift (settled, strained, recovering), with hysteresis, gated on data quality, sleep and
effort, every change carrying its reasons in numbers.

Every 5 s of beat time (a *tick*) the assessor reads the last 60-s window (lnRMSSD, mean HR, quality; from
:mod:`restbeat.signal.stream`, converted by the app) and compares it with the person's reference
(:func:`restbeat.recovery.baseline.in_shift_reference`): ``z = (lnRMSSD - median) / SD``.

* **Gates.**  A tick is *readable* when the window has numbers.  Asleep (:mod:`restbeat.recovery.sleep`), a
  tick is not read at all.  Effort is inferred from heart rate (:mod:`restbeat.recovery.effort`): HR at
  resting + 10 bpm or a steep rise is effort, and the minutes after it are excluded too.  Only readable,
  awake ticks at low effort are *eligible*; only they teach the reference and the resting HR.
* **Strained** (Verkuil et al. 2016; the brief, section 3.4): over the last 7.5 min eligible ticks cover
  >= 80 % and >= 80 % of them have z <= -1.0 (-1.5 once the recommender tightens it after two dismissals),
  the median HR z is >= 0 (low HRV with low HR is drowsiness or artefact, not stress), the latest tick is
  itself low, and the reference has not changed within those 7.5 min (a decision never rests on a
  reference that just formed or moved).  A new episode needs a prior exit.  No strain is read against
  published norms alone: that reference is "still learning".
* **A prompt needs a mature reference.**  Entering strain raises the trigger at once when the reference is
  the person's own and mature: their check-in, or at least 180 low-effort minutes (3 h; with fewer, the
  threshold itself is uncertain by about half an SD).  Against a younger reference the state is shown, but
  the trigger waits for a deeper and longer low: 80 % of 15 min at z <= -2.0.
* **Recovering** after strain once eligible ticks have had z >= -0.5 for 1 min; back to strained after 1 min
  at z <= -1.0; **settled** after 3 consecutive eligible minutes at z >= -0.5, or after 2 min of effort.
* **Stressors and slow recovery**: :mod:`restbeat.recovery.dips`.
* **Phases** of a shift (first 2 h, middle, last 2 h) hold for a shift only: past 12 h a recording is not a
  shift, and its minutes carry no phase.

Work per beat is O(1): between ticks :meth:`Assessor.update` returns at once; a tick touches fixed-size
buffers (15 min of ticks, 256 HR bins).  Epochs of the session (one eligible minute each) are kept so the
reference can learn a new person during the shift (an epoch counts once it is 20 min old and no sleep began
meanwhile): while the profile has no history of its own, epochs older than 30 min stand in for it.  With a
history, the reference is the history alone.
"""

from __future__ import annotations

import bisect
import math

from restbeat.recovery.baseline import (
    Epoch,
    Reference,
    ReferenceSource,
    ShiftPhase,
    in_shift_reference,
    shift_phase,
)
from restbeat.recovery.dips import DipTracker, usual_half_recovery_s
from restbeat.recovery.gates import TickGates, Unconfirmed
from restbeat.recovery.practices import Trigger
from restbeat.recovery.reasons import Reason, ReasonKind
from restbeat.recovery.shift_state import (
    AssessConfig,
    Assessment,
    Event,
    Gate,
    Profile,
    State,
    StateChange,
    TriggerEvent,
    WindowReading,
)
from restbeat.recovery.ticks import Tick, TickWindow, unreadable

CURRENT_SHIFT = -1  # the shift id of the epochs gathered during this session
_MEDIAN_MOVE_LN = 0.05  # a recomputed reference replaces the one in use when it moves this much, or
_SD_MOVE_SHARE = 0.1  # its SD by this share, or its source or maturity changes

__all__ = [
    "CURRENT_SHIFT",
    "AssessConfig",
    "Assessment",
    "Assessor",
    "Event",
    "Gate",
    "Profile",
    "Reason",
    "ReasonKind",
    "State",
    "StateChange",
    "TriggerEvent",
    "WindowReading",
]


class Assessor:
    """Feed :class:`WindowReading` values in time order to :meth:`update`; read :attr:`current`."""

    def __init__(self, profile: Profile | None = None, config: AssessConfig | None = None) -> None:
        self.profile = profile or Profile()
        self.config = config or AssessConfig()
        config = self.config
        self.enter_z = config.enter_z
        self.current: Assessment | None = None
        self.epochs: list[Epoch] = []
        self._epoch_times: list[float] = []
        self.strained_s = 0.0
        self.gates = TickGates(self.profile, config)
        self.dips = DipTracker(self.profile.half_recoveries_s, config.dips)
        self.ticks = TickWindow(config)
        self._origin: float | None = self.profile.start_s
        self._next_tick: float | None = None
        self._reference: Reference | None = None
        self._reference_at = -math.inf
        self._reference_since = -math.inf
        self._pending_epochs: Unconfirmed[Epoch] = Unconfirmed(config.sleep.onset_s)
        self._next_epoch_t = -math.inf
        self._state = State.SETTLED
        self._episodes = 0
        self._episode: int | None = None
        self._trigger_pending = False  # strain entered against a young reference: the trigger waits
        self._recovering_from_strain = False

    # -- public ------------------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    def tighten(self) -> None:
        """Enter strain only at the strict threshold for the rest of the shift (after repeated dismissals)."""
        self.enter_z = self.config.strict_enter_z

    @property
    def half_recoveries_s(self) -> list[float]:
        """This session's half-recovery times (s)."""
        return self.dips.half_recoveries_s

    def resting_hr_bpm(self, t_s: float | None = None) -> float | None:
        """The resting HR in use (bpm): learned in this session once it can be, else the prior."""
        return self.gates.resting.value(t_s if t_s is not None else -math.inf)

    def mature(self, reference: Reference) -> bool:
        """Whether ``reference`` may decide a prompt on its own (see the module docstring)."""
        return reference.decides_alone(self.config.mature_epochs)

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
        for k in range(min(missed, self.ticks.long.maxlen or 0)):
            self.ticks.push(unreadable(self._next_tick + k * tick))
        self._next_tick += (missed + 1) * tick
        return self._tick(reading)

    # -- the reference -----------------------------------------------------------------------------------

    def _phase(self, t_s: float) -> ShiftPhase:
        elapsed = t_s - (self._origin if self._origin is not None else t_s)
        if elapsed > self.config.shift_length_s:
            return ShiftPhase.NONE  # longer than a shift: not a shift
        return shift_phase(elapsed, self.config.shift_length_s)

    def _reference_at_time(self, t_s: float) -> Reference:
        if self._reference is not None and t_s - self._reference_at < self.config.reference_every_s:
            return self._reference
        phase = self._phase(t_s)
        profile = self.profile
        reference = in_shift_reference(profile.epochs, phase, profile.night, profile.check_in)
        if reference.learning:  # no personal history yet: learn from this session's older minutes
            settled = bisect.bisect_right(self._epoch_times, t_s - self.config.own_epochs_after_s)
            own = (*profile.epochs, *self.epochs[:settled])
            reference = in_shift_reference(own, phase, profile.night, profile.check_in)
        self._reference_at = t_s
        if self._reference is None or self._moved(self._reference, reference):
            self.ticks.rescore(reference, self.enter_z)
            self._reference = reference
            self._reference_since = t_s
        return self._reference

    def _moved(self, old: Reference, new: Reference) -> bool:
        return (
            new.source is not old.source
            or self.mature(new) != self.mature(old)
            or abs(new.median - old.median) >= _MEDIAN_MOVE_LN
            or abs(new.sd - old.sd) >= _SD_MOVE_SHARE * old.sd
        )

    def _tick(self, reading: WindowReading) -> tuple[Event, ...]:
        t = reading.t_s
        reference = self._reference_at_time(t)
        ln, hr = reading.ln_rmssd, reading.hr_bpm
        readable = ln is not None and hr is not None and math.isfinite(ln) and math.isfinite(hr)
        gate, rest = self.gates.gate(t, readable, hr)
        z = reference.z(ln) if readable and ln is not None else math.nan
        z_hr = reference.z_hr(hr) if readable and hr is not None else math.nan
        rmssd = math.exp(ln) if readable and ln is not None else math.nan
        eligible = gate is Gate.READABLE
        now = Tick(t, eligible, z, z_hr, rmssd, hr if readable and hr is not None else math.nan)
        events: list[Event] = []
        self._stressor(now, reference, events)
        self.ticks.push(now)
        if eligible and hr is not None and ln is not None and t >= self._next_epoch_t:
            self._pending_epochs.add(t, Epoch(CURRENT_SHIFT, self._phase(t), self.profile.night, ln, hr))
            self._next_epoch_t = t + 60.0
        for at, epoch in self._pending_epochs.confirmed(t, gate is Gate.ASLEEP):
            self.epochs.append(epoch)
            self._epoch_times.append(at)
        self.ticks.track(now, self.enter_z)
        self._transition(now, gate, reference, hr, rest, events)
        self._follow_dip(now, reference, events)
        if self._state is State.STRAINED:
            self.strained_s += self.config.tick_s
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
            reason_now=self._reason_now(now, reference),
            sleep_source=self.gates.sleep.source,
            reference_mature=self.mature(reference),
        )
        return tuple(events)

    def _enter_rule_met(self, reference: Reference, t_s: float) -> bool:
        if reference.source is ReferenceSource.POPULATION:
            return False
        if t_s - self._reference_since < self.config.enter_span_s:
            return False  # the reference formed or moved within the decision window
        return self.ticks.low_share_met(long=False, z_limit=self.enter_z)

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
        now: Tick,
        gate: Gate,
        reference: Reference,
        hr: float | None,
        rest: float | None,
        events: list[Event],
    ) -> None:
        config = self.config
        t = now.t_s
        moving_s = self.gates.effort.moving_s(t) if gate is Gate.EFFORT else 0.0
        if self._recovering_from_strain and moving_s > config.effort_exit_s:
            reason = self._reason(
                ReasonKind.MOVING, reference, now.rmssd_ms, moving_s, hr_bpm=hr, resting_hr_bpm=rest
            )
            self._end_strain(t, reason, events)
            return
        self._deep_trigger(now, reference, events)
        turn = round(config.turn_s / config.tick_s)
        if self._state is State.STRAINED:
            if self.ticks.up_run >= turn:
                reason = self._reason(
                    ReasonKind.COMING_BACK, reference, self.ticks.run_median(self.ticks.up_run), 0.0
                )
                self._change(t, State.RECOVERING, reason, events)
            return
        if self._state is State.RECOVERING and self._recovering_from_strain:
            up = self.ticks.up_run
            if self.ticks.down_run >= turn:
                self._change(t, State.STRAINED, self._low_reason(reference), events)
            elif up * config.tick_s >= config.exit_hold_s:
                reason = self._reason(
                    ReasonKind.BACK_IN_RANGE, reference, self.ticks.run_median(up), up * config.tick_s
                )
                self._end_strain(t, reason, events)
            return
        if self._enter_rule_met(reference, t):
            self._episodes += 1
            self._episode = self._episodes
            self._recovering_from_strain = True
            reason = self._low_reason(reference)
            self._change(t, State.STRAINED, reason, events)
            if self.mature(reference):
                events.append(TriggerEvent(t, Trigger.SUSTAINED_LOW, self._episodes, reason, now.z, now.z_hr))
            else:
                self._trigger_pending = True

    def _deep_trigger(self, now: Tick, reference: Reference, events: list[Event]) -> None:
        """Strain entered against a young reference: the trigger once the low is deep and long enough."""
        if not (self._trigger_pending and self._recovering_from_strain and self._episode is not None):
            return
        if self.mature(reference) and self.ticks.low_share_met(long=False, z_limit=self.enter_z):
            deep = True  # the reference has matured meanwhile: the usual rule decides
        else:
            deep = self.ticks.low_share_met(long=True, z_limit=self.config.deep_z)
        if deep:
            self._trigger_pending = False
            reason = self._low_reason(reference)
            events.append(
                TriggerEvent(now.t_s, Trigger.SUSTAINED_LOW, self._episode, reason, now.z, now.z_hr)
            )

    def _end_strain(self, t_s: float, reason: Reason, events: list[Event]) -> None:
        self._recovering_from_strain = False
        self._trigger_pending = False
        dip = self.dips.dip
        self._episode = dip.episode if dip is not None else None
        after = State.RECOVERING if dip is not None else State.SETTLED
        self._change(t_s, after, reason, events)

    def _low_reason(self, reference: Reference) -> Reason:
        """Strain's reason: the median 60-s RMSSD of the window and how long it has been low: the low ticks
        of the window or of the low stretch, whichever is longer (time spent moving is not counted)."""
        rmssd, span = self.ticks.low(self.enter_z)
        return self._reason(ReasonKind.LOW_SUSTAINED, reference, rmssd, span)

    def _reason_now(self, now: Tick, reference: Reference) -> Reason | None:
        """The open episode's reason with this tick's numbers while it is still true, else None."""
        if not now.eligible:
            return None
        if self._recovering_from_strain and now.z <= self.enter_z:
            return self._low_reason(reference)
        dip = self.dips.dip
        if dip is not None and now.z <= self.config.dips.still_low_z:
            usual = usual_half_recovery_s(self.dips.history(), self.config.dips)
            return self._reason(
                ReasonKind.SLOW_RECOVERY,
                reference,
                now.rmssd_ms,
                now.t_s - dip.t0_s,
                usual_half_recovery_s=usual,
            )
        return None

    # -- stressors and their recovery (restbeat.recovery.dips) -------------------------------------------

    def _stressor(self, now: Tick, reference: Reference, events: list[Event]) -> None:
        """A fast drop at low effort with HR rising: start following its recovery (before ``now`` is kept)."""
        if self.dips.dip is not None or self._state is not State.SETTLED or not now.eligible:
            return
        if reference.source is ReferenceSource.POPULATION:
            return
        before = [(tick.t_s, tick.rmssd_ms, tick.hr_bpm) for tick in self.ticks.recent if tick.eligible]
        found = self.dips.start(
            now.t_s, now.rmssd_ms, now.hr_bpm, reference.median, before, self._episodes + 1
        )
        if found is None:
            return
        self._episodes += 1
        self._episode = self._episodes
        reason = self._reason(
            ReasonKind.STRESSOR,
            reference,
            now.rmssd_ms,
            found.span_s,
            from_rmssd_ms=found.from_rmssd_ms,
            hr_rise_bpm=found.hr_rise_bpm,
            hr_bpm=now.hr_bpm,
        )
        self._change(now.t_s, State.RECOVERING, reason, events)

    def _follow_dip(self, now: Tick, reference: Reference, events: list[Event]) -> None:
        news = self.dips.follow(now.t_s, now.eligible, now.rmssd_ms, now.z, self._recovering_from_strain)
        if news is None:
            return
        if news.kind == "slow":
            reason = self._reason(
                ReasonKind.SLOW_RECOVERY,
                reference,
                now.rmssd_ms,
                news.elapsed_s,
                usual_half_recovery_s=news.usual_s,
            )
            events.append(TriggerEvent(now.t_s, Trigger.SLOW_RECOVERY, news.episode, reason, now.z, now.z_hr))
            return
        if self._state is State.RECOVERING and not self._recovering_from_strain:  # the dip closed
            self._episode = None
            rmssd = now.rmssd_ms if math.isfinite(now.rmssd_ms) else math.exp(reference.median)
            half = news.elapsed_s if news.kind == "half" else None
            reason = self._reason(
                ReasonKind.HALF_RECOVERED,
                reference,
                rmssd,
                news.elapsed_s,
                half_recovery_s=half,
                usual_half_recovery_s=news.usual_s,
            )
            self._change(now.t_s, State.SETTLED, reason, events)
