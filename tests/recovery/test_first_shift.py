"""What a stranger's first shifts need: resting HR that keeps learning, sleep, a young reference, stable
references, phases only within a shift (readings built directly, the clock being the readings' own times)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from restbeat.app.replay import learn_shift
from restbeat.recovery.assess import Assessment, Assessor, Gate, Profile, State, TriggerEvent, WindowReading
from restbeat.recovery.baseline import CheckIn, ReferenceSource, ShiftPhase
from restbeat.recovery.sleep import SleepSource

TICK = 5.0
USUAL_LN = math.log(40.0)
CHECK_IN = CheckIn(USUAL_LN, 40.0, 70.0, 150, 0.0)


class Run:
    """An assessor fed 5-s readings of lnRMSSD (ln ms) and HR (bpm)."""

    def __init__(self, profile: Profile) -> None:
        self.assessor = Assessor(profile)
        self.t = 0.0
        self.events: list[object] = []
        self.rng = np.random.default_rng(3)

    def feed(self, minutes: float, ln: float, hr: float, jitter: float = 0.0) -> None:
        for _ in range(round(minutes * 60 / TICK)):
            value = ln + jitter * float(self.rng.standard_normal())
            self.events += self.assessor.update(WindowReading(self.t, value, hr))
            self.t += TICK

    @property
    def now(self) -> Assessment:
        assert self.assessor.current is not None
        return self.assessor.current

    def gate(self) -> Gate:
        return self.now.gate

    def triggers(self) -> list[TriggerEvent]:
        return [e for e in self.events if isinstance(e, TriggerEvent)]


def test_resting_heart_rate_keeps_learning_after_its_first_value() -> None:
    """The first 30 min are busy (HR 95); the person then sits (HR 70): resting HR follows them down, so a
    later walk at 85 bpm is read as effort (it was stuck at 95 and missed walking)."""
    run = Run(Profile())
    run.feed(55, USUAL_LN, 95.0)  # 30 min of ticks at least 20 min old
    assert run.assessor.gates.resting.learned_bpm == 95.0
    run.feed(80, USUAL_LN, 70.0)
    assert run.now.resting_hr_bpm == 70.0
    run.feed(2, USUAL_LN, 85.0)
    assert run.gate() is Gate.EFFORT


def test_the_local_clock_says_when_the_person_sleeps() -> None:
    """A day worker recording from 22:30: from 23:00 to 07:00 nothing is read as strain, however low."""
    run = Run(Profile(check_in=CHECK_IN, local_start_s=22.5 * 3600))
    run.feed(29, USUAL_LN, 72.0)
    assert run.gate() is Gate.READABLE
    run.feed(60, USUAL_LN - 1.0, 76.0)
    assert run.gate() is Gate.ASLEEP and run.now.sleep_source is SleepSource.CLOCK
    assert run.now.state is State.SETTLED and not run.triggers()
    run.feed(8.5 * 60 - 89 + 1, USUAL_LN, 72.0)  # 07:00
    assert run.gate() is not Gate.ASLEEP


def test_a_night_shift_is_work_not_sleep() -> None:
    run = Run(Profile(check_in=CHECK_IN, local_start_s=22.0 * 3600, night=True))
    run.feed(90, USUAL_LN, 72.0)
    assert run.gate() is Gate.READABLE and run.now.sleep_source is None


def test_heart_rate_finds_sleep_and_holds_it_through_a_rem_like_bout() -> None:
    """No clock: 60 min awake at 74 bpm, then 16 min well below (62): asleep.  A REM-like bout (HR back to
    72, RMSSD low) does not end it; 10 min at or above the awake resting HR does.  Sleep minutes teach
    neither the reference nor the resting HR."""
    run = Run(Profile(check_in=CHECK_IN))
    run.feed(60, USUAL_LN, 74.0, jitter=0.1)
    run.feed(15, USUAL_LN + 0.3, 62.0)
    assert run.gate() is not Gate.ASLEEP  # 80 % of 20 min are needed
    run.feed(2, USUAL_LN + 0.3, 62.0)
    assert run.gate() is Gate.ASLEEP and run.now.sleep_source is SleepSource.HEART_RATE
    run.feed(9, USUAL_LN - 1.2, 72.0)  # REM-like: HR near the awake resting, HRV low
    assert run.gate() is Gate.ASLEEP and not run.triggers()
    assert run.assessor.epochs and max(run.assessor._epoch_times) < 60 * 60  # awake minutes only
    assert run.assessor.gates.resting.value(run.t) == 74.0
    run.feed(11, USUAL_LN, 76.0)
    assert run.gate() is not Gate.ASLEEP


def test_a_young_reference_shows_strain_but_prompts_only_for_a_deeper_longer_low() -> None:
    """No check-in, no history: resting HR is known after 30 min (plus the 20 min a tick waits), the minutes
    after that older than 30 min are the reference once 60 of them exist (fewer than 180: young).  A low
    that enters strain is shown; the trigger waits for 80 % of 10 min at z <= -2."""
    run = Run(Profile())
    run.feed(150, USUAL_LN, 72.0, jitter=0.15)
    reference = run.now.reference
    assert reference.source is ReferenceSource.POOLED and not run.now.reference_mature
    run.feed(9, reference.median - 1.4 * reference.sd, 74.0)  # z -1.4: strain, not deep
    assert run.now.state is State.STRAINED and not run.triggers()
    run.feed(12, reference.median - 2.5 * reference.sd, 74.0)  # deep and long enough
    (trigger,) = run.triggers()
    assert trigger.t_s - (150 + 9) * 60 <= 10 * 60


def test_a_mature_reference_prompts_on_the_usual_rule() -> None:
    run = Run(Profile())
    run.feed(6 * 60, USUAL_LN, 72.0, jitter=0.15)  # the middle of a shift: 3.5 h of its own minutes
    reference = run.now.reference
    assert run.now.reference_mature and reference.epochs >= 180
    run.feed(8, reference.median - 1.4 * reference.sd, 74.0)
    assert run.now.state is State.STRAINED and len(run.triggers()) == 1


def test_no_strain_is_entered_on_a_reference_that_just_moved() -> None:
    """The check-in is replaced by the session's own minutes while a low is on: the low held under the old
    reference is re-scored, and entry waits for 7.5 min of the new one."""
    dry = Run(Profile(check_in=CHECK_IN))
    while dry.assessor.current is None or dry.now.reference.source is ReferenceSource.CHECK_IN:
        dry.feed(TICK / 60, USUAL_LN, 72.0, jitter=0.15)
    switch = dry.t - TICK  # the first tick on the session's own reference
    run = Run(Profile(check_in=CHECK_IN))
    run.feed((switch - 5 * 60) / 60, USUAL_LN, 72.0, jitter=0.15)
    run.feed(20, USUAL_LN - 1.0, 74.0)  # low under either reference, from 5 min before the switch
    entries = [e for e in run.events if getattr(e, "after", None) is State.STRAINED]
    assert entries and entries[0].t_s >= switch + 450 - TICK  # type: ignore[attr-defined]


def test_a_recording_longer_than_a_shift_carries_no_phase() -> None:
    readings = [WindowReading(t, USUAL_LN, 72.0) for t in np.arange(0.0, 13 * 3600.0, TICK)]
    learned = learn_shift(readings, shift=7, resting_hr_bpm=70.0)
    assert learned.epochs and {e.phase for e in learned.epochs} == {ShiftPhase.NONE}
    short = learn_shift(readings[: round(11 * 3600 / TICK)], shift=8, resting_hr_bpm=70.0)
    assert {e.phase for e in short.epochs} == {ShiftPhase.FIRST_2H, ShiftPhase.MIDDLE, ShiftPhase.LAST_2H}


@pytest.mark.parametrize("hours", [12.5, 20.0])
def test_past_a_shifts_length_the_live_phase_is_none(hours: float) -> None:
    run = Run(Profile(check_in=CHECK_IN))
    run.feed(hours * 60, USUAL_LN, 72.0, jitter=0.1)
    assert run.assessor.epochs[-1].phase is ShiftPhase.NONE
