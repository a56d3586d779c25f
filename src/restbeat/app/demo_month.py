"""`restbeat demo --days N`: N days of one person's working life recorded into a database, so that the
review and the trends have a month of plausible data to show.

The demo person works a two-week rota of 8-h shifts (five day shifts 07:00-15:00 and three nights
22:00-06:00 in 14 days) and wears the strap

* every day on waking: a 3-min seated check-in (``morning``), the daily value of the trends;
* on shift days: a 3-min check-in just before the shift (``pre-shift``), the whole shift (``on-shift``) and
  10 min seated after it (``post-shift``).

The shift goes through the live path of `restbeat monitor`, offline on a stepped clock: strap notifications
(0x2A37, encoded and decoded) -> timeline -> correction -> metrics -> assessment -> recommender -> store;
the check-ins store the wearer's beats as they are.

**Their recovery** is a day-to-day state ``r`` (ln units of vagal tone against their usual): an AR(1) with
day-to-day noise (SD 0.10), a dip the day after a night shift, and a low stretch of about a third of the
period in its second half (a hard run on the ward; ``r`` down by 0.3) that then lifts.  The wearer's RSA and
beat-to-beat noise scale with ``e^r`` (nights 7 % lower), their HR with ``-5 r`` bpm.

**Inside a shift** (:class:`ShiftPlan`): calm work at the day's state; walking bouts (HR 98 bpm, RSA
18 ms: effort, not stress); 1-4 stress episodes of 12-35 min (more on low days; RSA down to a quarter); a
link drop (15-90 s without notifications, then a new connection) in most shifts, lost skin contact now
and then, a note in some; a missed or extra beat a few times an hour.  Prompts are answered as a person
might, 10-90 s after they appear: accepted (65 %), dismissed (20 %), snoozed (5 %) or left to expire
(10 %).  Practices work differently for this person (:data:`RELIEF`: paced breathing best, then a micro-break
or stretches, grounding least): a practice ends a stress episode with that probability, so the learner and
the trends have a real preference to find.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from restbeat.app.demo import CALM, SEATED, STRESS, DemoPerson, paced, write_check_in
from restbeat.app.live import BREATHING, LiveShift, LiveSummary, OpenPrompt
from restbeat.app.monitor import SessionPlan, new_shift
from restbeat.app.replay import LearnedShift
from restbeat.devices.ble import BatteryLevel, LinkState, StateChanged, StrapDetails
from restbeat.devices.hrs import encode_measurement, measurement, ms_to_ticks, parse_measurement
from restbeat.devices.rr_synth import Phase
from restbeat.devices.timeline import RRPacket
from restbeat.recovery.recommend import Response
from restbeat.store.queries import list_sessions

SHIFT_S = 8 * 3600.0
ROTA = (
    "day",
    "day",
    "day",
    "off",
    "off",
    "night",
    "night",
    "night",
    "off",
    "off",
    "day",
    "day",
    "off",
    "off",
)
STARTS = {"day": dt.time(7, 0), "night": dt.time(22, 0)}
WAKE = {"day": dt.time(5, 50), "night": dt.time(14, 0), "off": dt.time(8, 0)}
CHECK_IN_S = 180.0
POST_SHIFT_S = 600.0
#: Calm work: the demo's calm with the minute-to-minute wander of a working day (60-s lnRMSSD varies by about
#: 0.3 within a real shift; the single demo shift keeps it small so its story reads clearly).
WORK = dataclasses.replace(CALM, vagal_wander=0.25, label="work")
WALK = dataclasses.replace(
    CALM, hr_bpm=98, rsa_ms=18, mayer_ms=10, noise_ms=5, breathing_per_min=22, label="walk"
)
#: How well each practice ends a stress episode for this person (probability), and how far it lifts the
#: wearer towards calm while it runs.
RELIEF = {
    BREATHING: 0.85,
    "micro-break": 0.6,
    "stretches": 0.55,
    "compassion-pause": 0.4,
    "boundary-script": 0.35,
    "grounding-321": 0.25,
    "grounding-54321": 0.3,
}
DEFAULT_RELIEF = 0.35
ANSWERS = ((Response.ACCEPTED, 0.65), (Response.DISMISSED, 0.2), (Response.SNOOZED, 0.05), (None, 0.1))
NOTES = (
    "difficult conversation with a family",
    "handover ran late",
    "no break until the afternoon",
    "short-staffed",
    "patient deteriorated, rapid response call",
    "good team today",
)
ORIGIN_S = 1000.0  # the stepped clock's reading when a shift starts
PROGRESS_EVERY_S = 600.0
NIGHT_VAGAL = 0.93  # RSA and noise at night against the day (awake through the night, circadian low)
LOW_STRETCH = -0.3  # the recovery state through the hard run (ln units)


@dataclass(frozen=True, slots=True)
class DayPlan:
    """One day: its date, what kind of day it is (``day``, ``night`` or ``off``) and the person's recovery
    state ``r`` (ln units against their usual)."""

    date: dt.date
    kind: str
    recovery: float

    def at(self, time_of_day: dt.time) -> dt.datetime:
        """A local time on this day."""
        return dt.datetime.combine(self.date, time_of_day).astimezone()

    @property
    def wake(self) -> dt.datetime:
        return self.at(WAKE[self.kind])

    @property
    def shift_start(self) -> dt.datetime | None:
        return self.at(STARTS[self.kind]) if self.kind in STARTS else None


def plan_days(days: int, last: dt.date, seed: int) -> list[DayPlan]:
    """The rota and the recovery state of ``days`` days ending on ``last``."""
    rng = np.random.default_rng(seed)
    first = last - dt.timedelta(days=days - 1)
    low_from, low_to = round(days * 0.5), round(days * 0.5) + max(round(days * 0.3), 1)
    plans: list[DayPlan] = []
    r = 0.0
    for index in range(days):
        kind = ROTA[index % len(ROTA)]
        target = LOW_STRETCH if low_from <= index < low_to else 0.0
        if plans and plans[-1].kind == "night":
            target -= 0.12
        r = target + 0.5 * (r - target) + float(rng.normal(0.0, 0.10))
        plans.append(DayPlan(first + dt.timedelta(days=index), kind, r))
    return plans


def at_state(phase: Phase, r: float, night: bool = False) -> Phase:
    """``phase`` on a day with recovery state ``r``: RSA and beat-to-beat noise scaled by e^r (7 % lower at
    night), HR 5 bpm lower per unit of r."""
    scale = math.exp(r) * (NIGHT_VAGAL if night else 1.0)
    return dataclasses.replace(
        phase, rsa_ms=phase.rsa_ms * scale, noise_ms=phase.noise_ms * scale, hr_bpm=phase.hr_bpm - 5.0 * r
    )


def between(a: Phase, b: Phase, weight: float) -> Phase:
    """The phase ``weight`` of the way from ``a`` to ``b`` (0: a, 1: b)."""

    def mix(x: float, y: float) -> float:
        return x + weight * (y - x)

    return dataclasses.replace(
        a,
        hr_bpm=mix(a.hr_bpm, b.hr_bpm),
        rsa_ms=mix(a.rsa_ms, b.rsa_ms),
        mayer_ms=mix(a.mayer_ms, b.mayer_ms),
        noise_ms=mix(a.noise_ms, b.noise_ms),
        drift_ms=mix(a.drift_ms, b.drift_ms),
        breathing_per_min=mix(a.breathing_per_min, b.breathing_per_min),
    )


@dataclass
class Stretch:
    """Something that happens in a shift from ``start_s`` to ``end_s`` (s into the shift)."""

    start_s: float
    end_s: float

    def holds(self, into_s: float) -> bool:
        return self.start_s <= into_s < self.end_s


def _stretches(
    rng: np.random.Generator, count: int, lengths: tuple[float, float], earliest: float
) -> list[Stretch]:
    starts = np.sort(rng.uniform(earliest, SHIFT_S - lengths[1], count))
    return [Stretch(float(s), float(s + rng.uniform(*lengths))) for s in starts]


@dataclass
class ShiftPlan:
    """What happens in one shift (see the module docstring), drawn from the day's state."""

    day: DayPlan
    walks: list[Stretch]
    stresses: list[Stretch]
    drop: Stretch | None
    no_contact: Stretch | None
    note: tuple[float, str] | None
    breathe_at_s: float | None

    @classmethod
    def draw(cls, day: DayPlan, rng: np.random.Generator) -> ShiftPlan:
        night = day.kind == "night"
        walks = _stretches(rng, int(rng.poisson(4 if night else 9)), (120.0, 600.0), 0.0)
        stresses = _stretches(
            rng, int(np.clip(rng.poisson(1.3 + 3.0 * max(-day.recovery, 0.0)), 1, 4)), (720.0, 2100.0), 1800.0
        )
        drop = _stretches(rng, 1, (15.0, 90.0), 600.0)[0] if rng.random() < 0.7 else None
        no_contact = _stretches(rng, 1, (20.0, 60.0), 600.0)[0] if rng.random() < 0.25 else None
        note = (
            (float(rng.uniform(1800.0, SHIFT_S - 600.0)), NOTES[int(rng.integers(len(NOTES)))])
            if rng.random() < 0.4
            else None
        )
        breathe = float(rng.uniform(SHIFT_S - 3000.0, SHIFT_S - 900.0)) if rng.random() < 0.2 else None
        return cls(day, walks, stresses, drop, no_contact, note, breathe)


@dataclass
class SteppedClock:
    """The offline session clock: whatever the driver last set (s)."""

    now_s: float = ORIGIN_S

    def __call__(self) -> float:
        return self.now_s


@dataclass
class ShiftRun:
    """One shift driven offline: the wearer follows the plan and the screen's practices, the strap sends a
    notification every second, prompts are answered as the person would."""

    shift: LiveShift
    plan: ShiftPlan
    clock: SteppedClock
    rng: np.random.Generator
    person: DemoPerson
    connection: int = 1
    battery: int = 90
    _answer: tuple[float, Response | None] | None = None
    _relieved: set[int] = field(default_factory=set)

    def phase(self, into_s: float) -> Phase:
        """What the wearer's heart is doing ``into_s`` seconds into the shift."""
        day, night = self.plan.day, self.plan.day.kind == "night"
        calm = at_state(WORK, day.recovery, night)
        stressed = any(s.holds(into_s) for s in self.plan.stresses)
        now = at_state(STRESS, day.recovery, night) if stressed else calm
        practice = self.shift.practice
        if practice is not None and practice.ended_s is None:
            if practice.pacer is not None:
                return at_state(paced(practice.pacer.rate_per_min), day.recovery / 2, night)
            return between(now, calm, RELIEF.get(practice.practice.id, DEFAULT_RELIEF))
        if any(s.holds(into_s) for s in self.plan.walks):
            return at_state(WALK, day.recovery, night)
        return now

    def on_prompt(self, open_prompt: OpenPrompt) -> None:
        """The person reads the card and answers it (or not) a little later."""
        pick = int(self.rng.choice(len(ANSWERS), p=[share for _, share in ANSWERS]))
        self._answer = (open_prompt.shown_s + float(self.rng.uniform(10.0, 90.0)), ANSWERS[pick][0])

    def _practice_started(self, into_s: float) -> None:
        """A practice begins: with its relief probability it ends the stress episode under way."""
        practice = self.shift.practice
        assert practice is not None
        relief = RELIEF.get(practice.practice.id, DEFAULT_RELIEF)
        for stretch in self.plan.stresses:
            if stretch.holds(into_s) and self.rng.random() < relief:
                stretch.end_s = into_s + practice.duration_s

    def run(self, on_progress: Callable[[float], None] | None = None) -> LiveSummary:
        """The whole shift; ``on_progress(seconds into the shift)`` every 10 min of it."""
        shift, plan, clock = self.shift, self.plan, self.clock
        origin = clock.now_s
        shift.on_prompt = self.on_prompt
        self._connect(origin)
        beats = self.person.intervals()
        beat_s, send_s = origin, origin + 1.0
        pending: list[int] = []
        noted = breathed = dropped = False
        while send_s - origin < SHIFT_S:
            into = send_s - origin
            self.person.follow(self.phase(into))
            while beat_s <= send_s:
                value = next(beats)
                beat_s += value / 1000.0
                pending.append(ms_to_ticks(value))
            arrival = send_s + float(self.rng.uniform(0.02, 0.15))
            clock.now_s = arrival
            if plan.drop is not None and plan.drop.holds(into):
                if not dropped:
                    dropped = True
                    shift.on_event(
                        StateChanged(
                            arrival, LinkState.RECONNECTING, "no notifications for 5 s", self.connection
                        )
                    )
                pending = [pending[-1]]  # what the strap sent meanwhile is lost
            else:
                if dropped and plan.drop is not None and into >= plan.drop.end_s:
                    self._connect(arrival, reconnect=True)
                    plan.drop = None
                contact = not (plan.no_contact is not None and plan.no_contact.holds(into))
                self._send(arrival, pending[:-1], contact)
                pending = pending[-1:]
            previous = shift.practice
            if self._answer is not None and arrival >= self._answer[0] and shift.prompt is not None:
                response = self._answer[1]
                self._answer = None
                if response is Response.SNOOZED:
                    shift.snooze(arrival)
                elif response is not None:
                    shift.respond(response, arrival)
            if plan.note is not None and not noted and into >= plan.note[0]:
                noted = True
                shift.annotate(plan.note[1], arrival)
            if plan.breathe_at_s is not None and not breathed and into >= plan.breathe_at_s:
                breathed = True
                if shift.practice is None and shift.prompt is None:
                    shift.start_practice(None, arrival)
            if shift.practice is not None and shift.practice is not previous:
                self._practice_started(into)
            shift.tick(arrival)
            if shift.recorder is not None:
                shift.recorder.maybe_flush()
            if on_progress is not None and into % PROGRESS_EVERY_S < 1.0:
                on_progress(into)
            send_s += 1.0
        return shift.finish(clock.now_s)

    def _send(self, arrival: float, ticks: list[int], contact: bool) -> None:
        # a strap sends the beats ended since its last notification; the last one ends after this second
        heart_rate = round(60 * 1024 * len(ticks) / sum(ticks)) if ticks else 0
        raw = encode_measurement(measurement(heart_rate, ticks, contact=contact, rr_present=bool(ticks)))
        self.shift.on_packet(RRPacket(arrival, parse_measurement(raw), raw, self.connection))

    def _connect(self, t_s: float, reconnect: bool = False) -> None:
        if reconnect:
            self.connection += 1
        reason = "reconnected" if reconnect else "connected"
        self.shift.on_event(StateChanged(t_s, LinkState.STREAMING, reason, self.connection))
        if not reconnect:
            self.shift.on_event(StrapDetails(t_s, "restbeat", "demo strap", "1.0", "chest"))
        self.shift.on_event(BatteryLevel(t_s, self.battery))


@dataclass(frozen=True, slots=True)
class MonthSummary:
    """What ``fill_month`` recorded."""

    first: dt.date
    last: dt.date
    day_shifts: int
    night_shifts: int
    check_ins: int
    beats: int
    prompts: dict[str, int]
    practices: int
    strained_s: float
    wall_s: float


def fill_month(
    conn: sqlite3.Connection,
    days: int,
    *,
    seed: int = 1,
    last: dt.date | None = None,
    on_progress: Callable[[float, str], None] | None = None,
) -> MonthSummary:
    """Record ``days`` days ending on ``last`` (default: yesterday) into ``conn``, which must hold no
    sessions yet.  ``on_progress(fraction done, what)`` is called as the days go."""
    if days < 1:
        raise ValueError(f"--days must be at least 1, got {days}")
    if list_sessions(conn):
        raise ValueError("the database already holds sessions: give --db a new file for the month")
    wall = time.perf_counter()
    today = dt.date.today()
    plans = plan_days(days, last or today - dt.timedelta(days=1), seed)
    rng = np.random.default_rng(seed + 1)
    learned: dict[int, LearnedShift] = {}
    counts = {"day": 0, "night": 0}
    prompts: dict[str, int] = {}
    beats = practices = check_ins = 0
    strained = 0.0
    work = sum(1.0 + (plan.kind != "off") * 20.0 for plan in plans)  # a shift is ~20 check-ins of work
    done = 0.0

    def progress(step: float, what: str) -> None:
        nonlocal done
        done += step
        if on_progress is not None:
            on_progress(done / work, what)

    def shift_progress(into_s: float, what: str) -> None:
        progress(PROGRESS_EVERY_S / SHIFT_S * 20.0, f"{what} {into_s / 3600:.0f} h")

    for index, day in enumerate(plans):
        label = f"{day.date:%a %d %b}"
        seated = at_state(SEATED, day.recovery + float(rng.normal(0.0, 0.05)))
        write_check_in(conn, day.wake, seed=seed * 1000 + index, context="morning", phase=seated)
        check_ins += 1
        progress(1.0, f"{label}: morning check-in")
        start = day.shift_start
        if (
            start is None
            or start + dt.timedelta(seconds=SHIFT_S + POST_SHIFT_S) > dt.datetime.now().astimezone()
        ):
            continue
        write_check_in(
            conn,
            start - dt.timedelta(minutes=8),
            seed=seed * 1000 + index + 500,
            context="pre-shift",
            phase=seated,
        )
        check_ins += 1
        clock = SteppedClock()
        shift = new_shift(
            conn,
            SessionPlan(context="on-shift", source="demo", seed=seed),
            clock=clock,
            started=start,
            learned_before=learned,
        )
        run = ShiftRun(
            shift,
            ShiftPlan.draw(day, rng),
            clock,
            rng,
            DemoPerson(seed=seed * 1000 + index, artifacts_per_hour=4.0),
            battery=max(95 - 3 * index, 20),
        )
        summary = run.run(functools.partial(shift_progress, what=f"{label}: {day.kind} shift"))
        assert shift.recorder is not None
        shift.recorder.close(ended_utc=start.timestamp() + SHIFT_S)
        counts[day.kind] += 1
        beats += summary.beats
        strained += summary.strained_s
        practices += len(summary.practices)
        for _, response in summary.prompts:
            prompts[response] = prompts.get(response, 0) + 1
        # after the shift: still aroused, more so after a strained one
        load = min(summary.strained_s / 3600.0, 1.0)
        after = between(at_state(SEATED, day.recovery - 0.25 * load), at_state(CALM, day.recovery - 0.2), 0.3)
        write_check_in(
            conn,
            start + dt.timedelta(seconds=SHIFT_S + 300.0),
            seed=seed * 1000 + index + 700,
            context="post-shift",
            phase=dataclasses.replace(after, hr_bpm=after.hr_bpm + 6.0),
            duration_s=POST_SHIFT_S,
        )
        check_ins += 1
    return MonthSummary(
        first=plans[0].date,
        last=plans[-1].date,
        day_shifts=counts["day"],
        night_shifts=counts["night"],
        check_ins=check_ins,
        beats=beats,
        prompts=prompts,
        practices=practices,
        strained_s=strained,
        wall_s=time.perf_counter() - wall,
    )
