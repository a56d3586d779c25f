"""The live path, one interval at a time: streaming artifact correction -> rolling HRV -> assessment ->
recommender.  `restbeat monitor` and `restbeat replay` both run it; replay just feeds it as fast as it can.

Intervals that already carry quality flags (a restbeat export, the store) skip the correction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from restbeat.beats import BeatClass, BeatQuality
from restbeat.devices.recording import RRRecording
from restbeat.recovery.assess import AssessConfig, Assessment, Assessor, Event, Profile, WindowReading
from restbeat.recovery.learning import PracticeLearner
from restbeat.recovery.practices import Place
from restbeat.recovery.recommend import Decision, PromptPolicy, ShiftRecommender
from restbeat.signal.artifacts.stream import ArtifactStream, CleanBeat
from restbeat.signal.stream import HRVSnapshot, HRVStream, StreamConfig, WindowMetrics, WindowQuality
from restbeat.store.rows import usable_beat

READING_WINDOW_S = 60.0
#: The decisions use time-domain windows only; spectral values (costly, every 10 s) are off unless asked for.
DECISION_STREAM = StreamConfig(spectral_every_s=math.inf)

if TYPE_CHECKING:
    from restbeat.store.queries import SessionBeats

Outcome = Event | Decision
_QUALITY = {int(q): q for q in BeatQuality}
_CLASS = {str(c): c for c in BeatClass}


def reading_of(window: WindowMetrics, t_s: float) -> WindowReading:
    """The assessment's view of a 60-s window at beat time ``t_s`` (s)."""
    if window.quality is WindowQuality.OK and window.ln_rmssd is not None and window.mean_hr_bpm is not None:
        return WindowReading(t_s, window.ln_rmssd, window.mean_hr_bpm, "ok")
    return WindowReading(t_s, None, None, str(window.quality))


@dataclass(slots=True)
class ShiftPipeline:
    """One shift's pipeline.  ``push`` an interval (or ``push_clean`` a flagged beat); get the assessment's
    events and the recommender's decisions back.  ``on_beat`` sees every clean beat (the store and the UI
    subscribe there, and read the windows from ``stream`` only when they need them)."""

    profile: Profile = field(default_factory=Profile)
    learner: PracticeLearner = field(default_factory=PracticeLearner)
    policy: PromptPolicy = field(default_factory=PromptPolicy)
    place: Place = Place.BEDSIDE
    assess_config: AssessConfig = field(default_factory=AssessConfig)
    on_beat: Callable[[CleanBeat], None] | None = None
    correction: ArtifactStream = field(default_factory=ArtifactStream)
    stream: HRVStream = field(default_factory=lambda: HRVStream(DECISION_STREAM))
    assessor: Assessor = field(init=False)
    recommender: ShiftRecommender | None = field(init=False, default=None)
    beats: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.assessor = Assessor(self.profile, self.assess_config)

    @property
    def snapshot(self) -> HRVSnapshot | None:
        """The windows after the latest beat; None before the first."""
        return self.stream.snapshot() if self.beats else None

    @property
    def assessment(self) -> Assessment | None:
        """The latest tick's assessment."""
        return self.assessor.current

    def push(
        self,
        t_s: float,
        rr_ms: float,
        segment: int = 0,
        *,
        contact: bool | None = None,
        first_after_connect: bool = False,
        follows_in_packet: bool = False,
    ) -> list[Outcome]:
        """One interval (ms) ending at beat time ``t_s`` (s), as received."""
        beats = self.correction.push(
            t_s,
            rr_ms,
            segment,
            contact=contact,
            first_after_connect=first_after_connect,
            follows_in_packet=follows_in_packet,
        )
        if len(beats) == 1:
            return self.push_clean(beats[0])
        outcomes: list[Outcome] = []
        for beat in beats:
            outcomes += self.push_clean(beat)
        return outcomes

    def finish(self) -> list[Outcome]:
        """The end of the recording or session: the intervals still held by the correction."""
        outcomes: list[Outcome] = []
        for beat in self.correction.flush():
            outcomes += self.push_clean(beat)
        return outcomes

    def push_clean(self, beat: CleanBeat) -> list[Outcome]:
        """One beat whose quality is already known."""
        self.stream.add(beat.t_s, beat.rr_ms, beat.quality, beat.segment)
        self.beats += 1
        if self.on_beat is not None:
            self.on_beat(beat)
        if beat.quality is BeatQuality.EXCLUDED or not self.assessor.due(beat.t_s):
            return []
        events = self.assessor.update(reading_of(self.stream.window(READING_WINDOW_S), beat.t_s))
        assessment = self.assessor.current
        if assessment is None or assessment.t_s != beat.t_s:  # no tick on this beat
            return list(events)
        if self.recommender is None:
            start = self.profile.start_s if self.profile.start_s is not None else assessment.t_s
            self.recommender = ShiftRecommender(
                start, self.learner, self.policy, self.place, self.profile.night
            )
        decisions = self.recommender.update(assessment, events)
        if self.recommender.tightened and self.assessor.enter_z != self.assess_config.strict_enter_z:
            self.assessor.tighten()
        return [*events, *decisions]


def recording_beats(recording: RRRecording, correction: ArtifactStream | None = None) -> Iterator[CleanBeat]:
    """A recording's beats as the live path sees them: flagged files as they are, raw intervals through the
    streaming ``correction`` (a fresh one unless given) with their strap flags, flushed at the end."""
    if recording.quality is not None and recording.kind is not None:
        for index in range(recording.rr_ms.size):
            yield CleanBeat(
                float(recording.t_s[index]),
                float(recording.rr_ms[index]),
                int(recording.segment_ids[index]),
                BeatQuality(int(recording.quality[index])),
                BeatClass(recording.kind[index]),
            )
        return
    stream = correction or ArtifactStream()
    contact, first, follows = recording.contact, recording.first_after_connect, recording.follows_in_packet
    for index in range(recording.rr_ms.size):
        yield from stream.push(
            float(recording.t_s[index]),
            float(recording.rr_ms[index]),
            int(recording.segment_ids[index]),
            contact=None if contact is None else bool(contact[index]),
            first_after_connect=False if first is None else bool(first[index]),
            follows_in_packet=False if follows is None else bool(follows[index]),
        )
    yield from stream.flush()


def stored_beats(beats: SessionBeats, origin_s: float = 0.0) -> Iterator[CleanBeat]:
    """A session's stored beats (already corrected and flagged) as the live path's clean beats, their times
    shifted by ``origin_s`` (s).  A beat no reader can use (an unknown quality or class, a time or interval
    outside :mod:`restbeat.store.rows`' bounds) is skipped: a hand-edited or older database never stops a
    review, a replay or the start of a session."""
    for t, rr, segment, quality, kind in zip(
        beats.t_s.tolist(),
        beats.rr_ms.tolist(),
        beats.segment.tolist(),
        beats.quality.tolist(),
        beats.kind,
        strict=True,
    ):
        if usable_beat(t, rr, quality, kind):
            yield CleanBeat(t + origin_s, rr, segment, _QUALITY[quality], _CLASS[kind])
