"""One live shift: strap packets -> timeline -> :class:`ShiftPipeline` -> store, and the person's answers.

:class:`LiveShift` is synchronous and does no waiting: the monitor (or the demo) calls :meth:`on_packet` and
:meth:`on_event` from the collector's callbacks and :meth:`tick` from its screen refresh, and reads
:meth:`view` to draw.  Per beat it does O(1) work and only appends to the recorder's buffers, never
touching the disk: the commits are the recorder's flusher's (:meth:`SessionRecorder.flush_periodically`, run
beside the session, or ``maybe_flush`` from an offline driver).  Prompts and practice outcomes, which are
rare, are written at once.

A practice runs from its start to its planned end (or the person's stop); its outcome is measured once the
2 min after it have been seen: RMSSD before, during and after, and for paced breathing the RSA amplitude
and whether the breathing seen in the RR followed the pacer
(:func:`restbeat.signal.breathing.breathing_response`).
The outcome of a prompted practice is the learner's reward (:func:`restbeat.recovery.learning.reward`);
a dismissed prompt is one too.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from restbeat.app.pipeline import ShiftPipeline
from restbeat.beats import BeatQuality
from restbeat.devices.ble import (
    BadPacket,
    BatteryLevel,
    ContactChanged,
    LinkEvent,
    StateChanged,
    StrapDetails,
)
from restbeat.devices.timeline import BeatTimeline, RRPacket
from restbeat.recovery.assess import Gate, State, StateChange
from restbeat.recovery.learning import Rebound, reward
from restbeat.recovery.practices import Practice, by_id
from restbeat.recovery.recommend import Prompt, Response
from restbeat.signal.artifacts.stream import CleanBeat
from restbeat.signal.breathing import BreathingResponse, breathing_response
from restbeat.signal.stream import WindowQuality
from restbeat.store.recorder import SessionRecorder
from restbeat.store.save_queue import SaveReport

BREATHING = "paced-breathing"
SPARK_EVERY_S = 30.0  # one sparkline point (60-s RMSSD) per 30 s: 60 points = 30 min
SPARK_POINTS = 60
BEAT_MEMORY_S = 20 * 60.0  # beats kept for practice analysis: the 14-min resonance protocol and a margin
AFTER_S = 120.0
PROMPT_EXPIRES_S = 5 * 60.0


@dataclass(frozen=True, slots=True)
class PacerSettings:
    """A breathing pace: breaths/min and the inhale and exhale lengths (s) that make up one breath."""

    rate_per_min: float = 6.0
    inhale_share: float = 0.4  # 4 s : 6 s at 6/min

    @property
    def period_s(self) -> float:
        """One breath (s)."""
        return 60.0 / self.rate_per_min

    @property
    def inhale_s(self) -> float:
        """Inhale length (s)."""
        return self.period_s * self.inhale_share

    @property
    def exhale_s(self) -> float:
        """Exhale length (s)."""
        return self.period_s - self.inhale_s


@dataclass(slots=True)
class PracticeRun:
    """A practice under way or being measured: started (s, session clock), planned length (s), the prompt
    it answers (None when the person started it), and its measured outcome once known."""

    practice: Practice
    started_s: float
    duration_s: float
    pacer: PacerSettings | None
    prompt: Prompt | None = None
    prompt_id: int | None = None
    ended_s: float | None = None
    response: BreathingResponse | None = None
    outcome_id: int | None = None
    measured: bool = True

    @property
    def measuring(self) -> bool:
        """Ended, waiting for the 2 min after it."""
        return self.ended_s is not None and self.response is None


@dataclass(slots=True)
class OpenPrompt:
    """A prompt on screen: the recommender's prompt, its store id and when it was shown (s)."""

    prompt: Prompt
    prompt_id: int | None
    shown_s: float


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the screen shows of the strap: link state and its reason, battery (%), contact, drops."""

    state: str = "scanning"
    reason: str = ""
    battery: int | None = None
    contact: bool | None = None
    drops: int = 0
    connections: int = 0
    strap: str | None = None


@dataclass(frozen=True, slots=True)
class LiveView:
    """Everything the monitor screen draws at one moment (units: s, bpm, ms)."""

    elapsed_s: float
    hr_bpm: float | None
    rmssd_60_ms: float | None
    rmssd_300_ms: float | None
    quality_60: str
    usual_ms: tuple[float, float] | None
    reference: str | None
    state: State
    state_why: str
    gate: str | None
    link: LinkView
    spark_ms: tuple[float | None, ...]
    prompt: OpenPrompt | None
    practice: PracticeRun | None
    notes: tuple[str, ...]
    saving: str | None = None  # what is not saved yet and why ("not saved for 12 s: database locked ...")


@dataclass(slots=True)
class LiveSummary:
    """The session in numbers, shown at the end."""

    duration_s: float
    origin_s: float
    beats: int
    corrected: int
    excluded: int
    drops: int
    strained_s: float
    mean_hr_bpm: float | None
    rmssd_ms: float | None
    prompts: list[tuple[Prompt, str]]
    practices: list[PracticeRun]
    session_id: int | None
    saved: SaveReport | None = None  # how the rows ended up (set when the recorder closes)


@dataclass
class LiveShift:
    """The live session's state and its reactions; see the module docstring."""

    pipeline: ShiftPipeline
    recorder: SessionRecorder | None = None
    origin_s: float = 0.0
    timeline: BeatTimeline = field(default_factory=BeatTimeline)
    pacer: PacerSettings = field(default_factory=PacerSettings)
    rebound: Rebound = field(default_factory=Rebound)
    on_prompt: Callable[[OpenPrompt], None] | None = None
    link: LinkView = field(default_factory=LinkView)
    prompt: OpenPrompt | None = None
    practice: PracticeRun | None = None
    done: list[PracticeRun] = field(default_factory=list)
    answered: list[tuple[Prompt, str]] = field(default_factory=list)
    notes: deque[str] = field(default_factory=lambda: deque(maxlen=4))
    _beats: deque[tuple[float, float, int]] = field(default_factory=deque)
    _spark: deque[float | None] = field(default_factory=lambda: deque(maxlen=SPARK_POINTS))
    _next_spark_s: float = -math.inf
    _counts: dict[str, int] = field(default_factory=lambda: {"beats": 0, "corrected": 0, "excluded": 0})
    _hr_sum: float = 0.0
    _last_why: str = "reading your first minutes"
    _latest_t_s: float = -math.inf

    def __post_init__(self) -> None:
        self.pipeline.on_beat = self._on_beat

    # -- input from the collector ------------------------------------------------------------------------

    def on_packet(self, packet: RRPacket) -> None:
        """One notification: kept raw, its beats placed in time and run through the pipeline."""
        if self.recorder is not None:
            self.recorder.add_packet(packet.arrival_s, packet.connection, packet.raw)
        contact = packet.measurement.contact
        if contact is not None and contact != self.link.contact:
            self.link = replace(self.link, contact=contact)
        for beat in self.timeline.push(packet):
            outcomes = self.pipeline.push(
                beat.t_s,
                beat.rr_ms,
                beat.segment,
                contact=beat.contact,
                first_after_connect=beat.first_after_connect,
                follows_in_packet=beat.follows_in_packet,
            )
            for outcome in outcomes:
                self._react(outcome, beat.t_s)

    def on_event(self, event: LinkEvent) -> None:
        """A link event: shown, and kept in the store."""
        link = self.link
        if isinstance(event, StateChanged):
            drops = link.drops + (event.state.value == "reconnecting" and link.state == "streaming")
            self.link = LinkView(
                event.state.value,
                event.reason,
                link.battery,
                link.contact,
                drops,
                event.connection,
                link.strap,
            )
            if event.state.value == "reconnecting" and link.state == "streaming":
                self.notes.append(f"{clock_text(event.t_s - self.origin_s)} link dropped: {event.reason}")
            detail: dict[str, Any] = {"state": event.state.value, "reason": event.reason}
        elif isinstance(event, BatteryLevel):
            self.link = replace(link, battery=event.percent)
            detail = {"percent": event.percent}
        elif isinstance(event, ContactChanged):
            self.link = replace(link, contact=event.contact)
            detail = {"contact": event.contact}
        elif isinstance(event, StrapDetails):
            name = " ".join(part for part in (event.manufacturer, event.model) if part) or None
            self.link = replace(link, strap=name)
            detail = {"manufacturer": event.manufacturer, "model": event.model, "firmware": event.firmware}
            if self.recorder is not None:
                self.recorder.update_strap(
                    manufacturer=event.manufacturer, model=event.model, firmware=event.firmware
                )
        else:
            assert isinstance(event, BadPacket)
            self.notes.append(f"{clock_text(event.t_s - self.origin_s)} bad packet kept: {event.error}")
            detail = {"raw": event.raw.hex(), "error": event.error}
        if self.recorder is not None:
            self.recorder.add_event(event.t_s, type(event).__name__, detail)

    # -- the person's answers ----------------------------------------------------------------------------

    def respond(self, response: Response, now_s: float) -> PracticeRun | None:
        """Answer the open prompt; an accepted practice starts at once and is returned."""
        open_prompt = self.prompt
        if open_prompt is None:
            return None
        self.prompt = None
        prompt = open_prompt.prompt
        recommender = self.pipeline.recommender
        if recommender is not None:
            recommender.respond(prompt.number, response, self._beat_time(now_s))
        if self.recorder is not None and open_prompt.prompt_id is not None:
            self.recorder.set_prompt_response(open_prompt.prompt_id, str(response), now_s)
        self.answered.append((prompt, str(response)))
        if response is Response.DISMISSED:
            self.pipeline.learner.learn(
                prompt.practice.id, np.asarray(prompt.context), reward(None, self.rebound.mean, None, True)
            )
        if response is Response.ACCEPTED:
            return self.start_practice(prompt.practice, now_s, open_prompt)
        return None

    def snooze(self, now_s: float) -> None:
        """`s`: snooze the open prompt, or hold prompts for the policy's snooze time."""
        if self.prompt is not None:
            self.respond(Response.SNOOZED, now_s)
        elif self.pipeline.recommender is not None:
            self.pipeline.recommender.snooze(self._beat_time(now_s))
        minutes = self.pipeline.policy.snooze_s / 60
        self.notes.append(f"{clock_text(now_s - self.origin_s)} prompts snoozed for {minutes:.0f} min")

    def annotate(self, text: str, now_s: float) -> None:
        """A note at this moment of the session."""
        if self.recorder is not None:
            self.recorder.add_annotation(now_s, text)
        self.notes.append(f"{clock_text(now_s - self.origin_s)} note: {text}")

    def start_practice(
        self,
        practice: Practice | None,
        now_s: float,
        open_prompt: OpenPrompt | None = None,
        *,
        duration_s: float | None = None,
        pacer: PacerSettings | None = None,
        measured: bool = True,
    ) -> PracticeRun:
        """Start ``practice`` (paced breathing when None) now, for its catalogue length or ``duration_s``
        (s), at the session's pace or ``pacer``; a running one is ended first.  ``measured`` False: no
        outcome (a resonance trial, analysed as a whole protocol)."""
        previous = self.practice
        if previous is not None and previous.response is None:  # replaced: measured with what there is
            self.stop_practice(now_s)
            if previous.measured:
                self._measure(previous)
        chosen = practice or by_id(BREATHING)
        run = PracticeRun(
            chosen,
            now_s,
            float(chosen.duration_s) if duration_s is None else duration_s,
            (pacer or self.pacer) if chosen.id == BREATHING else None,
            prompt=open_prompt.prompt if open_prompt else None,
            prompt_id=open_prompt.prompt_id if open_prompt else None,
            measured=measured,
        )
        self.practice = run
        return run

    def stop_practice(self, now_s: float) -> None:
        """End the running practice now (the person's stop, or its planned end)."""
        run = self.practice
        if run is not None and run.ended_s is None:
            run.ended_s = now_s

    # -- time passing ------------------------------------------------------------------------------------

    def tick(self, now_s: float) -> None:
        """Called by the screen refresh: a practice reaching its end, its outcome measured, a prompt
        expiring."""
        run = self.practice
        if run is not None and run.ended_s is None and now_s >= run.started_s + run.duration_s:
            run.ended_s = run.started_s + run.duration_s
        if run is not None and run.ended_s is not None and not run.measured:
            self.practice = None
        elif run is not None and run.ended_s is not None and self._latest_t_s >= run.ended_s + AFTER_S:
            self._measure(run)
        if self.prompt is not None and now_s - self.prompt.shown_s >= PROMPT_EXPIRES_S:
            self.respond(Response.EXPIRED, now_s)

    def finish(self, now_s: float) -> LiveSummary:
        """The end of the session: the timeline and correction flushed, a practice measured with what there
        is, an open prompt expired, the recorder closed; returns the summary."""
        for beat in self.timeline.flush():
            self.pipeline.push(beat.t_s, beat.rr_ms, beat.segment, contact=beat.contact)
        self.pipeline.finish()
        if self.prompt is not None:
            self.respond(Response.EXPIRED, now_s)
        if self.practice is not None and self.practice.response is None:
            self.stop_practice(now_s)
            if self.practice.measured:
                self._measure(self.practice)
        counts = self._counts
        window = self.pipeline.snapshot.window(300.0) if self.pipeline.snapshot is not None else None
        return LiveSummary(
            duration_s=now_s - self.origin_s,
            origin_s=self.origin_s,
            beats=counts["beats"],
            corrected=counts["corrected"],
            excluded=counts["excluded"],
            drops=self.link.drops,
            strained_s=self.pipeline.assessor.strained_s,
            mean_hr_bpm=self._hr_sum / counts["beats"] if counts["beats"] else None,
            rmssd_ms=window.rmssd_ms if window is not None else None,
            prompts=list(self.answered),
            practices=list(self.done),
            session_id=self.recorder.session_id if self.recorder is not None else None,
        )

    # -- the screen --------------------------------------------------------------------------------------

    def view(self, now_s: float) -> LiveView:
        """What the screen shows now."""
        snapshot = self.pipeline.snapshot
        short = snapshot.window(60.0) if snapshot is not None else None
        long = snapshot.window(300.0) if snapshot is not None else None
        assessment = self.pipeline.assessment
        reference = assessment.reference if assessment is not None else None
        return LiveView(
            elapsed_s=now_s - self.origin_s,
            hr_bpm=short.mean_hr_bpm if short is not None else None,
            rmssd_60_ms=short.rmssd_ms if short is not None else None,
            rmssd_300_ms=long.rmssd_ms if long is not None else None,
            quality_60=str(short.quality) if short is not None else "waiting for beats",
            usual_ms=reference.usual_ms() if reference is not None else None,
            reference=str(reference.source) if reference is not None else None,
            state=assessment.state if assessment is not None else State.SETTLED,
            state_why=self._describe(),
            gate=str(assessment.gate) if assessment is not None else None,
            link=self.link,
            spark_ms=tuple(self._spark),
            prompt=self.prompt,
            practice=self.practice,
            notes=tuple(self.notes),
            saving=self.recorder.status().text(self.recorder.clock()) if self.recorder is not None else None,
        )

    # -- internals ---------------------------------------------------------------------------------------

    def _describe(self) -> str:
        """The state in plain words: the reason of the last change while strained or recovering, else what
        the latest minute reads as."""
        assessment = self.pipeline.assessment
        if assessment is None:
            return "reading your first minutes"
        if assessment.state is not State.SETTLED:
            return self._last_why
        rest, hr = assessment.resting_hr_bpm, assessment.hr_bpm
        if assessment.gate is Gate.EFFORT and rest is not None and hr is not None:
            above = hr - rest
            return f"HR {hr:.0f} bpm is {above:.0f} above your resting {rest:.0f}: moving, not read as stress"
        if assessment.gate is not Gate.READABLE or assessment.z is None:
            return str(assessment.gate)
        if assessment.z >= -0.5:
            return "within your usual range"
        if assessment.z > self.pipeline.assessor.enter_z:
            return "a little below your usual range"
        return "below your usual range; strain is read only when it stays low for most of 7.5 min"

    def _beat_time(self, now_s: float) -> float:
        """The recommender runs on beat time: the latest beat's, never ahead of it."""
        return self._latest_t_s if math.isfinite(self._latest_t_s) else now_s

    def _on_beat(self, beat: CleanBeat) -> None:
        t = beat.t_s
        self._latest_t_s = t
        counts = self._counts
        counts["beats"] += 1
        if beat.quality is BeatQuality.CORRECTED:
            counts["corrected"] += 1
        elif beat.quality is BeatQuality.EXCLUDED:
            counts["excluded"] += 1
        self._hr_sum += 60000.0 / beat.rr_ms
        memory = self._beats
        if not memory or t > memory[-1][0]:  # a new segment may restart earlier: keep time increasing
            memory.append((t, beat.rr_ms, int(beat.quality)))
        while memory and memory[0][0] < t - BEAT_MEMORY_S:
            memory.popleft()
        recorder = self.recorder
        if recorder is not None:
            recorder.add_beat(t, beat.rr_ms, beat.segment, beat.quality, beat.kind)
            # the windows are kept on the assessment's ticks (every 5 s of beat time), which read them anyway
            if beat.quality is not BeatQuality.EXCLUDED and self.pipeline.assessor.due(t):
                for window in self.pipeline.stream.snapshot().windows:
                    recorder.add_snapshot(
                        t,
                        window.window_s,
                        str(window.quality),
                        window.mean_hr_bpm,
                        window.rmssd_ms,
                        window.sdnn_ms,
                        window.n_beats,
                    )
        if t >= self._next_spark_s:
            self._next_spark_s = t + SPARK_EVERY_S
            short = self.pipeline.stream.window(60.0)
            self._spark.append(short.rmssd_ms if short.quality is WindowQuality.OK else None)

    def _react(self, outcome: object, t_s: float) -> None:
        if isinstance(outcome, StateChange):
            self._last_why = outcome.reason.text()
            self.notes.append(
                f"{clock_text(t_s - self.origin_s)} {outcome.after.value}: {outcome.reason.text()}"
            )
        elif isinstance(outcome, Prompt):
            prompt_id = None
            if self.recorder is not None:
                prompt_id = self.recorder.add_prompt(
                    t_s, outcome.practice.id, outcome.reason.text(), outcome.detail()
                )
            if self.prompt is not None:  # an unanswered prompt is replaced, and recorded as expired
                self.respond(Response.EXPIRED, t_s)
            self.prompt = OpenPrompt(outcome, prompt_id, t_s)
            if self.on_prompt is not None:
                self.on_prompt(self.prompt)

    def recent_beats(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The beats of the last 20 min usable for HRV: times (s) and intervals (ms)."""
        usable = (int(BeatQuality.GOOD), int(BeatQuality.CORRECTED))
        beats = [(t, rr) for t, rr, quality in self._beats if quality in usable]
        return (
            np.array([b[0] for b in beats], dtype=np.float64),
            np.array([b[1] for b in beats], dtype=np.float64),
        )

    def _measure(self, run: PracticeRun) -> None:
        """The outcome of a finished practice from the beats kept, stored and learned from."""
        assert run.ended_s is not None
        if run.ended_s <= run.started_s:  # stopped the moment it started: nothing was done to measure
            if self.practice is run:
                self.practice = None
            return
        t_s, rr_ms = self.recent_beats()
        rate = run.pacer.rate_per_min if run.pacer is not None else self.pacer.rate_per_min
        inhale = run.pacer.inhale_s if run.pacer is not None else None
        run.response = breathing_response(t_s, rr_ms, run.started_s, run.ended_s, rate, inhale_s=inhale)
        self.done.append(run)
        if self.practice is run:
            self.practice = None
        detail = _response_detail(run)
        if self.recorder is not None:
            run.outcome_id = self.recorder.add_outcome(
                run.practice.id, run.started_s, run.ended_s, prompt_id=run.prompt_id, detail=detail
            )
        if run.prompt is not None:
            value = reward(run.response.delta_ln_rmssd, self.rebound.mean, None, False)
            self.pipeline.learner.learn(run.practice.id, np.asarray(run.prompt.context), value)
        self.notes.append(
            f"{clock_text(run.ended_s - self.origin_s)} {run.practice.name}: {effect_text(run)}"
        )


def effect_text(run: PracticeRun) -> str:
    """The measured effect of a practice in plain words."""
    response = run.response
    if response is None:
        return "measuring the 2 min after it"
    parts = []
    before, after = response.rmssd_before_ms, response.rmssd_after_ms
    if before is not None and after is not None and response.delta_ln_rmssd is not None:
        change = (
            "no clear change"
            if abs(response.delta_ln_rmssd) < 0.1
            else ("up" if response.delta_ln_rmssd > 0 else "down")
        )
        during = "" if response.rmssd_during_ms is None else f", {response.rmssd_during_ms:.0f} ms during"
        parts.append(f"RMSSD {before:.0f} ms before{during}, {after:.0f} ms after ({change})")
    else:
        parts.append("not enough clean beats before and after to compare")
    if run.pacer is not None and response.rsa_bpm is not None:
        parts.append(f"HR swing {response.rsa_bpm:.1f} bpm per breath")
        if response.observed_rate_per_min is not None:
            followed = "followed the pacer" if response.rate_matched else "did not follow the pacer"
            parts.append(
                f"breathing seen at {response.observed_rate_per_min:.1f}/min "
                f"(pacer {run.pacer.rate_per_min:g}/min: {followed})"
            )
    return "; ".join(parts)


def _response_detail(run: PracticeRun) -> dict[str, Any]:
    response = run.response
    assert response is not None
    detail: dict[str, Any] = {
        "rmssd_before_ms": response.rmssd_before_ms,
        "rmssd_during_ms": response.rmssd_during_ms,
        "rmssd_after_ms": response.rmssd_after_ms,
        "delta_ln_rmssd": response.delta_ln_rmssd,
        "delta_hr_bpm": response.delta_hr_bpm,
        "prompted": run.prompt is not None,
    }
    if run.pacer is not None:
        detail |= {
            "rate_per_min": run.pacer.rate_per_min,
            "inhale_s": run.pacer.inhale_s,
            "exhale_s": run.pacer.exhale_s,
            "rsa_bpm": response.rsa_bpm,
            "observed_rate_per_min": response.observed_rate_per_min,
            "rate_matched": response.rate_matched,
        }
    if run.prompt is not None:
        detail["context"] = list(run.prompt.context)
    return detail


def clock_text(seconds: float) -> str:
    """Seconds as H:MM:SS."""
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
