"""`restbeat replay`: a recording through the live pipeline as fast as it can go, and the person's baseline
from a recording or from the store.

The baseline (:class:`~restbeat.recovery.assess.Profile`) is what the assessment knows of a person before a
shift: their low-effort minutes (60-s lnRMSSD and HR), their resting HR, their past half-recovery times and
today's check-in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from restbeat.app.pipeline import (
    DECISION_STREAM,
    READING_WINDOW_S,
    Outcome,
    ShiftPipeline,
    reading_of,
    recording_beats,
    stored_beats,
)
from restbeat.beats import BeatQuality
from restbeat.devices.files import read_recording
from restbeat.devices.recording import RRRecording
from restbeat.recovery.assess import (
    AssessConfig,
    Assessor,
    Profile,
    State,
    StateChange,
    TriggerEvent,
    WindowReading,
)
from restbeat.recovery.baseline import CheckIn, Epoch, ShiftPhase, check_in_value
from restbeat.recovery.learning import PracticeLearner
from restbeat.recovery.recommend import Prompt, Suppressed
from restbeat.recovery.wording import practice_card
from restbeat.signal.artifacts.stream import CleanBeat
from restbeat.signal.stream import HRVStream

REST_HR_PERCENTILE = 10.0
SHIFT_CONTEXT = "on-shift"
CHECK_IN_CONTEXTS = ("pre-shift", "morning")
BASELINE_SHIFTS = 20
#: The version of what :func:`learn_shift` keeps; lessons stored under another version are relearned.  Bump
#: it whenever the assessment's epochs, half-recoveries or readings change.
LESSON_VERSION = 2  # 2: sleep left out, no phases past a shift's length, resting HR learned through a shift


class BaselineError(ValueError):
    """A baseline source that gives nothing to learn from (named, with why)."""


def readings(beats: Iterable[CleanBeat], tick_s: float = 5.0) -> list[WindowReading]:
    """The 60-s window every ``tick_s`` (s) of beat time, as the assessment reads it."""
    stream = HRVStream(DECISION_STREAM)
    out: list[WindowReading] = []
    next_tick = -np.inf
    for beat in beats:
        stream.add(beat.t_s, beat.rr_ms, beat.quality, beat.segment)
        if beat.quality is not BeatQuality.EXCLUDED and beat.t_s >= next_tick:
            out.append(reading_of(stream.window(READING_WINDOW_S), beat.t_s))  # computed only when read
            next_tick = beat.t_s + tick_s
    return out


@dataclass(frozen=True, slots=True)
class LearnedShift:
    """What one past recording teaches: its low-effort epochs, half-recovery times (s) and the HRs (bpm)."""

    epochs: tuple[Epoch, ...]
    half_recoveries_s: tuple[float, ...]
    heart_rates: tuple[float, ...]
    end_s: float


def learn_shift(
    window_readings: Sequence[WindowReading],
    shift: int,
    resting_hr_bpm: float | None = None,
    *,
    until_s: float | None = None,
    min_epochs: int = 0,
) -> LearnedShift:
    """Run the assessment over a past recording's readings and keep what it learned.  Resting HR: given,
    else the 10th percentile of HR up to ``until_s``.  A recording longer than a shift is not a shift: its
    minutes carry no phase (they count for the pooled history only).  The run stops at the first tick after
    ``until_s`` at which ``min_epochs`` low-effort minutes have been gathered (else at the end)."""
    first = [r for r in window_readings if until_s is None or r.t_s <= until_s]
    if resting_hr_bpm is None:
        rates = [r.hr_bpm for r in first if r.hr_bpm is not None]
        resting_hr_bpm = float(np.percentile(rates, REST_HR_PERCENTILE)) if rates else None
    assessor = Assessor(Profile(resting_hr_bpm=resting_hr_bpm), AssessConfig())
    heart_rates: list[float] = []
    end_s = window_readings[-1].t_s if window_readings else 0.0
    for reading in window_readings:
        if until_s is not None and reading.t_s > until_s and len(assessor.epochs) >= min_epochs:
            end_s = reading.t_s
            break
        assessor.update(reading)
        if reading.hr_bpm is not None:
            heart_rates.append(reading.hr_bpm)
    longer_than_a_shift = bool(window_readings) and (
        window_readings[-1].t_s - window_readings[0].t_s > assessor.config.shift_length_s
    )
    epochs = tuple(
        dataclasses.replace(epoch, shift=shift, phase=ShiftPhase.NONE if longer_than_a_shift else epoch.phase)
        for epoch in assessor.epochs
    )
    return LearnedShift(epochs, tuple(assessor.half_recoveries_s), tuple(heart_rates), end_s)


def lesson_detail(learned: LearnedShift) -> dict[str, Any]:
    """What a shift taught, as JSON-ready values (floats kept exactly)."""
    return {
        "epochs": [[str(e.phase), e.night, e.ln_rmssd, e.hr_bpm] for e in learned.epochs],
        "half_recoveries_s": list(learned.half_recoveries_s),
        "heart_rates": list(learned.heart_rates),
        "end_s": learned.end_s,
    }


def learned_from_detail(detail: dict[str, Any], session_id: int) -> LearnedShift:
    """A kept lesson of session ``session_id`` back as a :class:`LearnedShift`."""
    return LearnedShift(
        epochs=tuple(
            Epoch(session_id, ShiftPhase(phase), bool(night), float(ln), float(hr))
            for phase, night, ln, hr in detail["epochs"]
        ),
        half_recoveries_s=tuple(float(value) for value in detail["half_recoveries_s"]),
        heart_rates=tuple(float(value) for value in detail["heart_rates"]),
        end_s=float(detail["end_s"]),
    )


def profile_from(shifts: Sequence[LearnedShift], check_in: CheckIn | None = None) -> Profile:
    """A profile from past shifts (and today's check-in, whose HR is then the resting HR)."""
    heart_rates = [hr for shift in shifts for hr in shift.heart_rates]
    rest: float | None = None
    if check_in is not None:
        rest = check_in.hr_bpm
    elif heart_rates:
        rest = float(np.percentile(heart_rates, REST_HR_PERCENTILE))
    return Profile(
        epochs=tuple(epoch for shift in shifts for epoch in shift.epochs),
        check_in=check_in,
        resting_hr_bpm=rest,
        half_recoveries_s=tuple(h for shift in shifts for h in shift.half_recoveries_s),
    )


def baseline_from_recording(
    recording: RRRecording, until_s: float | None = None, min_epochs: int = 0
) -> tuple[Profile, float]:
    """A baseline from a recording's beats up to ``until_s`` (s), extended until it holds ``min_epochs``
    low-effort minutes (or the recording ends); also the beat time (s) where it ends."""
    learned = learn_shift(readings(recording_beats(recording)), 0, until_s=until_s, min_epochs=min_epochs)
    if not learned.heart_rates:
        raise BaselineError(f"{recording.path}: no usable 60-s window to learn a baseline from")
    return profile_from([learned]), learned.end_s


def profile_from_store(
    conn: sqlite3.Connection,
    before_utc: float | None = None,
    learned_before: dict[int, LearnedShift] | None = None,
) -> Profile:
    """A baseline from the store: the last 20 on-shift sessions and the latest check-in.

    A finished session is learned from its beats once: the lesson is kept in the store (table ``lessons``)
    and read back next time (one of another version, or that cannot be read back, is relearned).
    ``learned_before`` (by session id), when given, also keeps them in memory for a caller that starts many
    shifts in a row (the demo's month)."""
    from restbeat.store.queries import lessons, list_sessions, session_beats
    from restbeat.store.writes import save_lesson

    sessions = [s for s in list_sessions(conn) if before_utc is None or s.started_utc < before_utc]
    shifts = [s for s in sessions if s.context == SHIFT_CONTEXT][-BASELINE_SHIFTS:]
    learned = []
    cache = learned_before if learned_before is not None else {}
    kept = lessons(conn, [s.id for s in shifts if s.id not in cache], LESSON_VERSION)
    for session_id, detail in kept.items():
        try:
            cache[session_id] = learned_from_detail(detail, session_id)
        except (KeyError, TypeError, ValueError):
            continue  # a lesson that cannot be read back is a cache miss: relearned below and replaced
    for session in shifts:
        if session.id in cache:
            learned.append(cache[session.id])
            continue
        beats = session_beats(conn, session.id)
        cache[session.id] = learn_shift(readings(stored_beats(beats)), shift=session.id)
        learned.append(cache[session.id])
        if session.status != "recording":  # finished: its beats will not change
            save_lesson(conn, session.id, LESSON_VERSION, lesson_detail(cache[session.id]))
    check_in = None
    for session in reversed([s for s in sessions if s.context in CHECK_IN_CONTEXTS]):
        beats = session_beats(conn, session.id)
        value = check_in_value(beats.t_s, beats.rr_ms, beats.quality, beats.segment)
        if isinstance(value, CheckIn):
            check_in = value
            break
    if not learned and check_in is None:
        raise BaselineError("the store holds no on-shift session and no valid check-in to learn from")
    return profile_from(learned, check_in)


def load_baseline(source: str | Path) -> Profile:
    """A baseline from a recording file (any format the importers read) or a restbeat database."""
    from restbeat.store.database import is_database, open_existing

    path = Path(source)
    if path.suffix in {".db", ".sqlite", ".sqlite3"} or is_database(path):
        conn = open_existing(path)  # read only: never created, migrated or written
        try:
            return profile_from_store(conn)
        finally:
            conn.close()
    return baseline_from_recording(read_recording(path))[0]


def local_time_of_day_s(recording: RRRecording) -> float:
    """Seconds after local midnight at the recording's beat time 0 (it must say when it started)."""
    assert recording.started_utc is not None
    local = recording.started_utc + (recording.tz_offset_s or 0)
    return local % 86400.0


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """A replay's totals: duration (s), beats, time per state (s), prompts, candidates not prompted, and how
    sleep was told (the local clock, or heart rate when the recording has no clock) and for how long (s)."""

    duration_s: float
    beats: int
    state_s: dict[str, float]
    prompts: int
    suppressed: int
    reference: str
    learning: bool
    sleep_from: str = ""
    asleep_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return dataclasses.asdict(self)


def replay(
    recording: RRRecording,
    profile: Profile | None = None,
    *,
    seed: int = 0,
    start_s: float | None = None,
) -> tuple[list[Outcome], ReplaySummary]:
    """Run ``recording`` (from ``start_s``, s, if given) through the live pipeline; return every state change,
    trigger and decision, and a summary."""
    base = profile or Profile()
    if start_s is not None:
        base = dataclasses.replace(base, start_s=start_s)
    if base.local_start_s is None and recording.started_utc is not None:
        base = dataclasses.replace(base, local_start_s=local_time_of_day_s(recording))
    pipeline = ShiftPipeline(profile=base, learner=PracticeLearner(seed=seed))
    state_s = {state.value: 0.0 for state in State}
    outcomes: list[Outcome] = []
    last_t: float | None = None
    beats = 0
    asleep_s = 0.0

    def account(new: list[Outcome]) -> None:
        nonlocal last_t, asleep_s
        outcomes.extend(new)
        current = pipeline.assessment
        if current is not None:
            if last_t is not None:
                state_s[current.state.value] += max(current.t_s - last_t, 0.0)
                if current.sleep_source is not None:
                    asleep_s += max(current.t_s - last_t, 0.0)
            last_t = current.t_s

    for beat in recording_beats(recording, pipeline.correction):
        if start_s is not None and beat.t_s < start_s:
            continue
        beats += 1
        account(pipeline.push_clean(beat))
    current = pipeline.assessment
    summary = ReplaySummary(
        duration_s=sum(state_s.values()),
        beats=beats,
        state_s=state_s,
        prompts=sum(isinstance(o, Prompt) for o in outcomes),
        suppressed=sum(isinstance(o, Suppressed) for o in outcomes),
        reference=str(current.reference.source) if current else "none",
        learning=bool(current and current.reference.learning),
        sleep_from=(
            "the local clock (23:00-07:00) and heart rate"
            if base.local_start_s is not None
            else "heart rate (the recording has no clock)"
        ),
        asleep_s=asleep_s,
    )
    return outcomes, summary


def replay_file(
    path: str | Path, baseline: str | Path | None = None, *, seed: int = 0
) -> tuple[RRRecording, list[Outcome], ReplaySummary]:
    """Read ``path`` and replay it, with a baseline from ``baseline`` (a file or a database) if given."""
    recording = read_recording(path)
    profile = load_baseline(baseline) if baseline is not None else None
    outcomes, summary = replay(recording, profile, seed=seed)
    return recording, outcomes, summary


def outcome_record(outcome: Outcome, recording: RRRecording) -> dict[str, Any]:
    """One outcome as a JSON-ready dict (times in s from the recording's start, and local clock if known)."""
    record: dict[str, Any] = {"t_s": round(outcome.t_s, 3), "clock": clock_of(outcome.t_s, recording)}
    if isinstance(outcome, StateChange):
        record |= {
            "type": "state",
            "from": str(outcome.before),
            "to": str(outcome.after),
            "reason": _reason_dict(outcome.reason),
            "text": outcome.reason.text(),
        }
    elif isinstance(outcome, TriggerEvent):
        record |= {
            "type": "trigger",
            "trigger": str(outcome.trigger),
            "episode": outcome.episode,
            "z": round(outcome.z, 3),
            "text": outcome.reason.text(),
        }
    elif isinstance(outcome, Prompt):
        card = practice_card(outcome.practice, outcome.reason.text())
        record |= {
            "type": "prompt",
            "number": outcome.number,
            "trigger": str(outcome.trigger),
            "episode": outcome.episode,
            "practice": outcome.practice.id,
            "probabilities": {k: round(v, 4) for k, v in outcome.probabilities.items()},
            "context": [round(v, 4) for v in outcome.context],
            "card": card.lines(),
        }
    else:
        record |= {
            "type": "not-prompted",
            "trigger": str(outcome.trigger),
            "episode": outcome.episode,
            "why": outcome.why,
        }
    return record


def _reason_dict(reason: Any) -> dict[str, Any]:
    values = dataclasses.asdict(reason)
    return {
        key: (
            round(value, 3)
            if isinstance(value, float)
            else str(value)
            if key in {"kind", "source"}
            else value
        )
        for key, value in values.items()
        if value is not None
    }


def clock_of(t_s: float, recording: RRRecording) -> str | None:
    """Local wall-clock time of beat time ``t_s`` when the recording says when it started."""
    if recording.started_utc is None:
        return None
    offset = dt.timedelta(seconds=recording.tz_offset_s or 0)
    moment = dt.datetime.fromtimestamp(recording.started_utc + t_s, dt.timezone(offset))
    return moment.isoformat(timespec="seconds")
