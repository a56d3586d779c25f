"""`restbeat demo`: a whole shift with no strap.  An emulated strap on bumble's virtual link plays the beats
of a scripted wearer to the real collector (bleak's front end over our virtual backend), and everything after
that is the live path of `restbeat monitor`: timeline, correction, metrics, assessment, recommender, store.

The wearer (:class:`DemoPerson`) is the heart model of :mod:`restbeat.devices.rr_synth` (RSA, Mayer waves,
drift, vagal wander, a few missed and extra beats), following a script (:class:`DemoScript`):

* calm for 22 min, with the link lost once at 8 min (the collector reconnects by itself);
* a stress episode: vagal withdrawal (RSA 85 -> 24 ms, HR 68 -> 72 bpm, faster shallow breathing) that lasts
  until a practice is accepted (at most 40 min);
* the prompt is answered for the person after 4 s; if it is paced breathing, the wearer breathes at the
  pacer's rate, so the RSA the response measures is really in the RR at that rate;
* recovery, until 8 min after the practice's outcome is measured.

Time runs ``speed`` times faster than real time (120 by default), slowed to 1x while a prompt is on screen
and to 6x while the pacer runs, so both can be read; ``speed=1`` is real time throughout.  Packet arrival is
stamped on the same accelerated clock, so the timeline's latency bounds are widened by the same factor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from restbeat.app.clock import ScaledClock
from restbeat.app.live import LiveShift
from restbeat.beats import BeatClass, BeatQuality
from restbeat.devices.ble import StrapSupervisor, SupervisorConfig
from restbeat.devices.emulator import EmulatedStrap
from restbeat.devices.rr_synth import HeartModel, Phase, synthesize
from restbeat.devices.timeline import BeatTimeline, TimelineConfig
from restbeat.devices.virtual_link import VirtualRadio, virtual_bleak_kwargs
from restbeat.recovery.recommend import Response
from restbeat.store.recorder import SessionRecorder
from restbeat.store.writes import SessionStart

CALM = Phase(0, 68, rsa_ms=85, mayer_ms=25, noise_ms=8, drift_ms=15, breathing_per_min=13, label="calm")
STRESS = dataclasses.replace(
    CALM, hr_bpm=72, rsa_ms=24, mayer_ms=8, noise_ms=4, drift_ms=8, breathing_per_min=18, label="stress"
)
SEATED = dataclasses.replace(CALM, hr_bpm=64, rsa_ms=95, label="check-in")


RESONANCE_PER_MIN = 5.5  # the demo wearer's resonance rate


def paced(rate_per_min: float) -> Phase:
    """Breathing at the pacer's rate: slow breathing makes RSA large, most of all at the wearer's resonance
    rate (5.5/min: RSA 160 ms there, falling to 90 ms a few breaths/min away, as the baroreflex resonance
    makes it; Vaschillo et al. 2002)."""
    rsa = 90.0 + 70.0 * math.exp(-(((rate_per_min - RESONANCE_PER_MIN) / 1.0) ** 2))
    return dataclasses.replace(
        CALM, hr_bpm=66, rsa_ms=rsa, mayer_ms=10, breathing_per_min=rate_per_min, paced=True, label="paced"
    )


@dataclass
class DemoPerson:
    """The wearer: one beat at a time from the heart model, with a missed or extra beat now and then
    (``artifacts_per_hour``)."""

    seed: int = 7
    artifacts_per_hour: float = 6.0
    model: HeartModel = field(init=False)
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.model = HeartModel(CALM, seed=self.seed)
        self._rng = np.random.default_rng(self.seed + 1)

    def follow(self, phase: Phase) -> None:
        """Move to ``phase`` (along the model's 30-s ramp) unless already there."""
        if self.model.phase != phase:
            self.model.switch(phase)

    def intervals(self) -> Iterator[float]:
        """RR intervals (ms), endlessly."""
        while True:
            rr = self.model.next_rr_ms()
            if self._rng.random() < self.artifacts_per_hour * rr / 3.6e6:
                if self._rng.random() < 0.5:  # a missed beat: two intervals as one
                    yield rr + self.model.next_rr_ms()
                else:  # an extra beat: one interval split in two
                    first = rr * self._rng.uniform(0.3, 0.6)
                    yield first
                    yield rr - first
                continue
            yield rr


def follow_practice(shift: LiveShift, person: DemoPerson, otherwise: Phase = CALM) -> bool:
    """The emulated wearer does what the screen asks: breathes at the pacer's rate while a paced practice
    runs, rests during any other; else ``otherwise``.  True while a practice runs."""
    practice = shift.practice
    if practice is not None and practice.ended_s is None:
        person.follow(paced(practice.pacer.rate_per_min) if practice.pacer is not None else CALM)
        return True
    person.follow(otherwise)
    return False


@dataclass
class DemoScript:
    """What happens when in the demo shift (see the module docstring); called every screen frame."""

    shift: LiveShift
    person: DemoPerson
    strap: EmulatedStrap
    clock: ScaledClock
    speed: float = 120.0
    stress_at_s: float = 22 * 60.0
    stress_max_s: float = 40 * 60.0
    drop_at_s: float = 8 * 60.0
    answer_after_s: float = 4.0  # real seconds the prompt stays on screen before the demo accepts it
    tail_s: float = 8 * 60.0
    end_s: float = 100 * 60.0
    _dropped: bool = False
    _prompt_seen_real: float | None = None

    def __call__(self, now_s: float) -> bool:
        """Advance the script; True when the demo is over."""
        shift, person = self.shift, self.person
        into = now_s - shift.origin_s
        if not self._dropped and into >= self.drop_at_s:
            self._dropped = True
            self.strap.lose_link()
        practice = shift.practice
        if shift.prompt is not None:
            self._set_speed(1.0)
            if self._prompt_seen_real is None:
                self._prompt_seen_real = time.monotonic()
                shift.notes.append(
                    "demo: the prompt is accepted for you in a few seconds (n would dismiss it)"
                )
            elif time.monotonic() - self._prompt_seen_real >= self.answer_after_s:
                shift.respond(Response.ACCEPTED, now_s)
                self._prompt_seen_real = None
            return False
        if practice is not None and practice.ended_s is None:
            if practice.pacer is not None:
                person.follow(paced(practice.pacer.rate_per_min))
                self._set_speed(6.0)
            else:
                person.follow(CALM)
                self._set_speed(self.speed)
            return False
        self._set_speed(self.speed)
        if shift.done:
            person.follow(CALM)
            last = shift.done[-1]
            assert last.ended_s is not None
            return now_s >= last.ended_s + self.tail_s or into >= self.end_s
        if practice is not None:  # ended, its 2 min after being measured: the wearer rests
            person.follow(CALM)
        elif self.stress_at_s <= into < self.stress_at_s + self.stress_max_s:
            person.follow(STRESS)
        else:
            person.follow(CALM)
        return into >= self.end_s

    def _set_speed(self, speed: float) -> None:
        target = min(speed, self.speed)
        if self.clock.speed != target:
            self.clock.speed = target


def demo_timeline(speed: float) -> BeatTimeline:
    """A timeline whose latency bounds allow for the accelerated clock (0.1 s of real scheduling delay is
    ``0.1 * speed`` s of session time)."""
    slack = max(0.1 * speed, 2.0)
    return BeatTimeline(TimelineConfig(max_latency_s=slack, early_tolerance_s=slack))


def demo_supervisor(
    radio: VirtualRadio, strap: EmulatedStrap, shift: LiveShift, clock: ScaledClock
) -> StrapSupervisor:
    """The real collector, on the virtual link, on the session clock."""
    scanner_kwargs, client_kwargs = virtual_bleak_kwargs(radio)
    watchdog = max(5.0, 2.0 * clock.speed)  # 2 s of real time: event-loop pauses are not strap silence
    config = SupervisorConfig(scan_timeout_s=2.0, connect_timeout_s=5.0, watchdog_s=watchdog, poll_s=1.0)
    return StrapSupervisor(
        strap.identity.address,
        shift.on_packet,
        shift.on_event,
        config=config,
        scanner_kwargs=scanner_kwargs,
        client_kwargs=client_kwargs,
        clock=clock.now,
        sleep=clock.sleep,
    )


def write_check_in(
    conn: sqlite3.Connection,
    started: dt.datetime,
    seed: int = 3,
    *,
    context: str = "pre-shift",
    phase: Phase = SEATED,
    duration_s: float = 180.0,
) -> int:
    """A seated recording of the demo wearer (by default the 3-min pre-shift check-in before the demo
    shift, so the person has a reference), its beats stored as they are; returns the session id."""
    rr = synthesize([dataclasses.replace(phase, duration_s=duration_s)], seed=seed)
    offset = started.utcoffset()
    recorder = SessionRecorder(
        conn,
        SessionStart(
            started_utc=started.timestamp(),
            source="demo",
            context=context,
            tz_offset_s=int(offset.total_seconds()) if offset is not None else 0,
        ),
        origin_s=0.0,
        clock=time.monotonic,
    )
    for t, value in zip(rr.t_s, rr.rr_ms, strict=True):
        recorder.add_beat(float(t), float(value), 0, BeatQuality.GOOD, str(BeatClass.NORMAL))
    recorder.close(ended_utc=started.timestamp() + float(rr.t_s[-1]))
    return recorder.session_id
