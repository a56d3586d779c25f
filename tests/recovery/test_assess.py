"""The within-shift assessment: hysteresis, gates, stressors and slow recovery (readings built directly, the
clock being the readings' own times), and whole shifts synthesised and run through the live pipeline."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

import numpy as np
import pytest

from restbeat.app.pipeline import ShiftPipeline
from restbeat.app.replay import learn_shift, profile_from, readings
from restbeat.beats import BeatClass, BeatQuality
from restbeat.devices.rr_synth import Phase, SyntheticRR, synthesize
from restbeat.recovery.assess import (
    Assessor,
    Gate,
    Profile,
    ReasonKind,
    State,
    StateChange,
    TriggerEvent,
    WindowReading,
)
from restbeat.recovery.baseline import CheckIn, ReferenceSource
from restbeat.recovery.practices import Trigger
from restbeat.recovery.recommend import Prompt
from restbeat.signal.artifacts import correct_rr
from restbeat.signal.artifacts.stream import CleanBeat
from restbeat.signal.metrics import time_domain

USUAL_LN = math.log(40.0)
SD = 0.35  # the check-in reference's SD
REST_HR = 70.0
CHECK_IN = CheckIn(USUAL_LN, 40.0, REST_HR, 150, 0.0)
TICK = 5.0


def _reading(t: float, z: float, hr: float = 74.0) -> WindowReading:
    return WindowReading(t, USUAL_LN + z * SD, hr)


class Run:
    """An assessor fed 5-s readings; remembers every event."""

    def __init__(self, profile: Profile | None = None) -> None:
        self.assessor = Assessor(profile if profile is not None else Profile(check_in=CHECK_IN))
        self.t = 0.0
        self.events: list[StateChange | TriggerEvent] = []

    def feed(self, minutes: float, z: float, hr: float = 74.0, readable: bool = True) -> None:
        for _ in range(round(minutes * 60 / TICK)):
            reading = _reading(self.t, z, hr) if readable else WindowReading(self.t, None, None, "warming_up")
            self.events += self.assessor.update(reading)
            self.t += TICK

    def state(self) -> State:
        return self.assessor.state

    def gate(self) -> Gate:
        assert self.assessor.current is not None
        return self.assessor.current.gate

    def changes(self) -> list[StateChange]:
        return [e for e in self.events if isinstance(e, StateChange)]

    def triggers(self) -> list[TriggerEvent]:
        return [e for e in self.events if isinstance(e, TriggerEvent)]


def test_strain_needs_most_of_seven_and_a_half_minutes_low() -> None:
    run = Run()
    run.feed(10, 0.0)
    run.feed(5.9, -1.3)  # 71 low ticks of the 90 in the window: one short of 80 %
    assert run.state() is State.SETTLED
    run.feed(0.1, -1.3)
    assert run.state() is State.STRAINED
    (trigger,) = run.triggers()
    assert trigger.trigger is Trigger.SUSTAINED_LOW and trigger.t_s == pytest.approx(run.t - TICK)
    reason = trigger.reason
    assert reason.kind is ReasonKind.LOW_SUSTAINED and reason.source is ReferenceSource.CHECK_IN
    assert reason.span_s == pytest.approx(6 * 60)
    assert reason.usual_low_ms == pytest.approx(40 * math.exp(-SD))
    assert reason.text().startswith("60-s RMSSD ") and "for 6 min; your check-in 28-57 ms" in reason.text()


def test_a_short_dip_never_enters_and_hysteresis_holds_between_thresholds() -> None:
    run = Run()
    run.feed(10, 0.0)
    run.feed(5.5, -1.5)
    run.feed(10, 0.0)
    assert not run.changes()
    run.feed(8, -1.3)
    assert run.state() is State.STRAINED
    run.feed(20, -0.7)  # between exit (-0.5) and entry (-1.0): still strained
    assert run.state() is State.STRAINED
    run.feed(55 / 60, -0.3)
    assert run.state() is State.STRAINED
    run.feed(5 / 60, -0.3)  # a full minute at or above -0.5
    assert run.state() is State.RECOVERING
    run.feed(1.5, -0.3)
    assert run.state() is State.RECOVERING
    run.feed(0.5, -0.3)  # three minutes in all
    assert run.state() is State.SETTLED
    assert [c.after for c in run.changes()] == [State.STRAINED, State.RECOVERING, State.SETTLED]
    assert run.changes()[-1].reason.kind is ReasonKind.BACK_IN_RANGE


def test_recovering_falls_back_to_strained_without_a_new_prompt() -> None:
    run = Run()
    run.feed(10, 0.0)
    run.feed(8, -1.3)
    run.feed(1.5, 0.0)
    assert run.state() is State.RECOVERING
    run.feed(1, -1.3)
    assert run.state() is State.STRAINED
    assert len(run.triggers()) == 1  # the same episode
    run.feed(3, 0.0)
    run.feed(6, -1.3)  # a new episode needs the full rule again
    assert run.state() is State.STRAINED and len(run.triggers()) == 2


def test_effort_is_not_strain_and_its_after_effect_lasts_as_long_as_it_did() -> None:
    """20 min of effort: the next 20 min are not read (the vagal brake returns slowly after long effort)."""
    run = Run()
    run.feed(10, 0.0)
    run.feed(20, -2.0, hr=REST_HR + 25)
    assert run.state() is State.SETTLED and not run.events
    assert run.gate() is Gate.EFFORT
    run.feed(19.5, -2.0, hr=74)
    assert run.gate() is Gate.AFTER_EFFORT and not run.events
    run.feed(0.5, -2.0, hr=74)
    assert run.gate() is Gate.READABLE
    run.feed(7.5, -2.0, hr=74)  # still, and still low: now it is read as strain
    assert run.state() is State.STRAINED


def test_a_short_bout_of_effort_is_followed_by_three_minutes_not_read() -> None:
    run = Run()
    run.feed(10, 0.0)
    run.feed(1, 0.0, hr=REST_HR + 25)
    run.feed(2.9, 0.0, hr=74)
    assert run.gate() is Gate.AFTER_EFFORT
    run.feed(0.2, 0.0, hr=74)
    assert run.gate() is Gate.READABLE


def test_a_steep_rise_of_heart_rate_is_effort_before_it_crosses_resting_plus_ten() -> None:
    """Getting up: the 60-s HR rises 10 bpm within a minute, still under resting + 10 (the check-in's 70)."""
    run = Run()
    run.feed(10, 0.0, hr=66)
    run.feed(1, 0.0, hr=66 + 10)
    assert run.gate() is Gate.EFFORT


def test_moving_for_two_minutes_ends_strain() -> None:
    run = Run()
    run.feed(10, 0.0)
    run.feed(8, -1.3)
    run.feed(2.2, -2.0, hr=REST_HR + 30)
    assert run.state() is State.SETTLED
    assert run.changes()[-1].reason.kind is ReasonKind.MOVING
    assert "moving" in run.changes()[-1].reason.text()


def test_low_hrv_with_low_heart_rate_is_not_strain() -> None:
    run = Run()
    run.feed(10, 0.0)
    run.feed(15, -1.5, hr=REST_HR - 8)  # drowsy, or artefact: HR below the usual
    assert run.state() is State.SETTLED


def test_gaps_in_the_data_hold_the_decision_back() -> None:
    run = Run()
    run.feed(10, 0.0)
    for _ in range(6):
        run.feed(1.0, -1.5)
        run.feed(0.5, 0.0, readable=False)  # a third of the time unreadable: coverage < 80 %
    assert run.state() is State.SETTLED


def test_no_strain_against_published_norms_alone() -> None:
    run = Run(Profile())  # no history, no check-in: the population prior, still learning
    run.feed(10, 0.0)
    run.feed(15, -3.0)
    assert run.state() is State.SETTLED
    current = run.assessor.current
    assert current is not None and current.reference.learning
    assert current.resting_hr_bpm is None and current.gate is Gate.NO_REST_HR


def test_tightened_threshold_after_dismissals() -> None:
    run = Run()
    run.assessor.tighten()
    run.feed(10, 0.0)
    run.feed(10, -1.3)
    assert run.state() is State.SETTLED
    run.feed(8, -1.7)
    assert run.state() is State.STRAINED


def test_stressor_half_recovery_is_measured() -> None:
    run = Run()
    run.feed(10, 0.0, hr=72)
    run.feed(0.5, -2.5, hr=78)  # a fall of 0.875 ln within 2 min, HR up 6 bpm
    assert run.state() is State.RECOVERING
    assert run.changes()[0].reason.kind is ReasonKind.STRESSOR
    run.feed(1.0, -0.8, hr=74)  # more than half-way back
    assert run.state() is State.SETTLED
    assert run.changes()[-1].reason.kind is ReasonKind.HALF_RECOVERED
    assert run.assessor.half_recoveries_s == [pytest.approx(30.0, abs=TICK)]


def test_slow_recovery_fires_past_the_persons_usual_half_time() -> None:
    usual = tuple(600.0 + 60.0 * k for k in range(8))  # 10-17 min; 75th percentile 15.25 min
    run = Run(Profile(check_in=CHECK_IN, half_recoveries_s=usual))
    run.feed(10, 0.0, hr=72)
    run.feed(0.25, -2.5, hr=78)
    for _ in range(30):  # not half-way back (half-way is z -1.25); unreadable a third of the time: no strain
        run.feed(0.4, -2.0, hr=78)
        run.feed(0.2, 0.0, readable=False)
    (trigger,) = run.triggers()
    assert trigger.trigger is Trigger.SLOW_RECOVERY
    assert trigger.reason.usual_half_recovery_s == pytest.approx(915.0)
    assert 915.0 < trigger.reason.span_s <= 915.0 + 60
    assert "not half-way back" in trigger.reason.text()


def test_a_usual_learned_from_quick_recoveries_is_floored_at_ten_minutes() -> None:
    """Eight quick recoveries (1.7-2.8 min) would make one dip in four slow by construction."""
    usual = (100.0, 110.0, 120.0, 130.0, 140.0, 150.0, 160.0, 170.0)
    run = Run(Profile(check_in=CHECK_IN, half_recoveries_s=usual))
    run.feed(10, 0.0, hr=72)
    run.feed(0.25, -2.5, hr=78)
    for _ in range(30):
        run.feed(0.4, -2.0, hr=78)
        run.feed(0.2, 0.0, readable=False)
    (trigger,) = run.triggers()
    assert trigger.reason.usual_half_recovery_s == pytest.approx(600.0)
    assert 600 < trigger.reason.span_s <= 600 + 60


def test_slow_recovery_needs_the_value_still_below_the_range() -> None:
    """A dip back inside the range (z -0.9 > -1) but not half-way back to the usual (z -0.8) is not slow."""
    run = Run()
    run.feed(10, 0.0, hr=72)
    run.feed(0.25, -1.6, hr=78)  # a fall of 0.56 ln
    assert run.changes()[-1].reason.kind is ReasonKind.STRESSOR
    for _ in range(30):
        run.feed(0.4, -0.9, hr=78)
        run.feed(0.2, 0.0, readable=False)
    assert run.state() is State.RECOVERING and not run.triggers()


def test_slow_recovery_cold_start_is_ten_minutes() -> None:
    run = Run()
    run.feed(10, 0.0, hr=72)
    run.feed(0.25, -2.5, hr=78)
    for _ in range(30):  # unreadable a third of the time: no strain, the dip stays open
        run.feed(0.4, -2.0, hr=78)
        run.feed(0.2, 0.0, readable=False)
    (trigger,) = run.triggers()
    assert trigger.trigger is Trigger.SLOW_RECOVERY and 600 < trigger.reason.span_s <= 600 + 60


# -- whole shifts through the live pipeline ---------------------------------------------------------------

CALM = Phase(0, 70, rsa_ms=90, mayer_ms=25, noise_ms=8, drift_ms=15, label="calm")


def _phase(base: Phase, minutes: float, **changes: float | str) -> Phase:
    from dataclasses import replace

    return replace(base, duration_s=minutes * 60, **changes)  # type: ignore[arg-type]


LOW = _phase(CALM, 0, hr_bpm=74, rsa_ms=28, mayer_ms=8, noise_ms=4, drift_ms=8, label="low")
EXERCISE = _phase(CALM, 0, hr_bpm=115, rsa_ms=8, mayer_ms=4, noise_ms=2, drift_ms=4, breathing_per_min=24)


def _beats(rr: SyntheticRR) -> Iterable[CleanBeat]:
    for t, value in zip(rr.t_s, rr.rr_ms, strict=True):
        yield CleanBeat(float(t), float(value), 0, BeatQuality.GOOD, BeatClass.NORMAL)


@pytest.fixture(scope="module")
def person() -> Profile:
    """A person known from three calm synthetic shifts of 3 h."""
    shifts = [
        learn_shift(readings(_beats(synthesize([_phase(CALM, 180)], seed=seed))), shift=seed)
        for seed in (21, 22, 23)
    ]
    return profile_from(shifts)


def _run_shift(
    profile: Profile, phases: list[Phase], seed: int
) -> tuple[ShiftPipeline, list[object], SyntheticRR]:
    rr = synthesize(phases, seed=seed, artifacts_per_hour=6)
    pipeline = ShiftPipeline(profile=profile)
    outcomes: list[object] = []
    for t, value in zip(rr.t_s, rr.rr_ms, strict=True):
        outcomes += pipeline.push(float(t), float(value))
    outcomes += pipeline.finish()
    return pipeline, outcomes, rr


def _batch_rule_time(rr: SyntheticRR, pipeline: ShiftPipeline) -> float:
    """When the strain rule is first met, recomputed in batch from the beats (corrected in batch, then
    time_domain on each 60-s window, every 5 s) with the reference and resting HR the pipeline used."""
    current = pipeline.assessment
    assert current is not None and current.resting_hr_bpm is not None
    reference, rest = current.reference, current.resting_hr_bpm
    corrected = correct_rr(rr.rr_ms, rr.t_s)
    t, values = corrected.t_s, corrected.rr_ms
    ticks = np.arange(60.0, float(t[-1]), TICK)
    eligible, z, z_hr = [], [], []
    last_effort = -math.inf
    for tick in ticks:
        inside = values[(t > tick - 60) & (t <= tick)]
        metrics = time_domain(inside)
        hr = 60000.0 / metrics.mean_nn_ms
        if hr >= rest + 10:
            last_effort = tick
        eligible.append(tick - last_effort >= 180)
        z.append(reference.z(math.log(metrics.rmssd_ms)))
        z_hr.append(reference.z_hr(hr))
    for end in range(90, ticks.size + 1):
        window = range(end - 90, end)
        ok = [k for k in window if eligible[k]]
        if not (eligible[end - 1] and z[end - 1] <= -1.0):
            continue
        if len(ok) < 72 or sum(z[k] <= -1.0 for k in ok) < 0.8 * len(ok):
            continue
        if statistics.median(z_hr[k] for k in ok) >= 0:
            return float(ticks[end - 1])
    return math.inf


def test_a_sustained_low_episode_at_rest_prompts_within_three_minutes_of_the_rule(person: Profile) -> None:
    phases = [_phase(CALM, 45), _phase(LOW, 20), _phase(CALM, 30)]
    pipeline, outcomes, rr = _run_shift(person, phases, seed=5)
    prompts = [o for o in outcomes if isinstance(o, Prompt)]
    assert len(prompts) == 1
    rule = _batch_rule_time(rr, pipeline)
    onset = 45 * 60
    assert onset + 3 * 60 < rule < onset + 12 * 60  # the calm minutes before it may already be low
    assert rule - TICK <= prompts[0].t_s <= rule + 180  # not before the rule (to a tick), within 3 min
    strained = [o for o in outcomes if isinstance(o, StateChange) and o.after is State.STRAINED]
    assert strained and strained[0].t_s == prompts[0].t_s
    assert strained[0].reason.source is ReferenceSource.CONTEXT  # the first 2 h of three past shifts
    assert pipeline.assessor.state is State.SETTLED  # recovered by the end


def test_exercise_alone_never_prompts(person: Profile) -> None:
    phases = [_phase(CALM, 45), _phase(EXERCISE, 30), _phase(CALM, 30)]
    _, outcomes, _ = _run_shift(person, phases, seed=6)
    assert not [o for o in outcomes if isinstance(o, Prompt | TriggerEvent)]
    assert not [o for o in outcomes if isinstance(o, StateChange) and o.after is State.STRAINED]
