"""`restbeat review`: one shift assembled from the store for its figure and summary (no plotting here).

The on-shift session is replayed through the live decision path as the shift saw it: the person's baseline
from the sessions before it, every stored beat through :class:`~restbeat.app.pipeline.ShiftPipeline`
(flags as stored, so no correction runs again; times offset as the live session clock had them), and the
tightening after two dismissals in a row from the first tick after the second answer.  The pre-shift
check-in(s) starting within 3 h before the shift and the post-shift session(s) starting within 3 h after
its end are shown beside it, each through its own rolling windows.

Everything is on one 5-s grid of seconds from the shift's start (earlier sessions at negative times).  A
grid point holds the 60-s HR (bpm) and RMSSD (ms) of the window ending at the latest beat at or before it,
NaN when the window is not usable (its quality string says why) and ``no_data`` when no beat came in the
5 s before it.  The normal band is the assessment's reference at the latest 5-s tick (median +/- 1 SD,
which moves with the shift phase).

Recovery after the shift: lnRMSSD of every usable successive difference of the post-shift session after
its first 60 s (the settling minute a check-in discards too), against the median of the same value over
up to the last 20 earlier post-shift sessions; with none, against today's pre-shift check-in (its standard
2-min value), and the summary says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from restbeat.app.monitor import is_night
from restbeat.app.person import RESONANCE, baseline
from restbeat.app.pipeline import DECISION_STREAM, READING_WINDOW_S, ShiftPipeline, stored_beats
from restbeat.app.replay import LearnedShift
from restbeat.beats import BeatQuality
from restbeat.recovery.assess import Gate, State, StateChange, TriggerEvent
from restbeat.recovery.baseline import (
    PRIOR_SD_LN,
    SWC_FACTOR,
    CheckIn,
    CheckInRejected,
    Reference,
    check_in_value,
)
from restbeat.recovery.practices import name_of
from restbeat.recovery.recommend import Response
from restbeat.signal.stream import HRVStream, WindowQuality
from restbeat.store.queries import SessionBeats, SessionRow, list_sessions, session_beats, session_records

SHIFT = "on-shift"
PRE_SHIFT = "pre-shift"
POST_SHIFT = "post-shift"
GRID_S = 5.0
AROUND_S = 3 * 3600.0  # pre- and post-shift sessions are shown when they start this close to the shift
NO_DATA = "no_data"  # a grid point with no beat in the 5 s before it
LOWEST_SPAN_S = 300.0
LOWEST_MIN_COVER = 0.8  # share of a 5-min stretch that must have a usable 60-s value
USUAL_AFTER_SHIFTS = 20
AFTER_DISCARD_S = 60.0
MIN_AFTER_COVERAGE = 0.9
MAX_AFTER_CORRECTED = 0.05
MIN_AFTER_DIFFERENCES = 30
#: The replay's clock reading at the shift's start (s): beats go in at ``t_s + REPLAY_ORIGIN_S``, as the live
#: path's session clock had them, so that no origin of 0 is ever read as "not known yet" (``0.0 or t``).
REPLAY_ORIGIN_S = 1000.0

_USABLE = (int(BeatQuality.GOOD), int(BeatQuality.CORRECTED))
_WHY = {
    str(WindowQuality.NO_CONTACT): "no skin contact",
    str(WindowQuality.TOO_FEW_BEATS): "too few beats",
    str(WindowQuality.TOO_MANY_CORRECTED): "too many corrected beats",
    str(WindowQuality.WARMING_UP): "window filling after a start or gap",
    NO_DATA: "no beats",
}


class ReviewError(Exception):
    """Nothing to review where it was asked for (one line, saying what exists instead)."""


class SpanKind(StrEnum):
    """What a shaded stretch means."""

    NO_DATA = "no data"
    LOW_QUALITY = "low quality"


@dataclass(frozen=True, slots=True)
class Period:
    """One session shown: its context tag and its extent (s from the shift's start)."""

    context: str
    start_s: float
    end_s: float
    session_id: int


@dataclass(frozen=True, eq=False)
class Series:
    """The 5-s grid (``t_s``, s from the shift's start): 60-s HR (bpm) and RMSSD (ms), NaN where not usable;
    each point's window quality; the shift's state, assessment gate, normal band (ms; HR band in bpm) and
    the band's source at the latest tick ('' and NaN outside the shift)."""

    t_s: NDArray[np.float64]
    hr_bpm: NDArray[np.float64]
    rmssd_ms: NDArray[np.float64]
    quality: tuple[str, ...]
    state: tuple[str, ...]
    gate: tuple[str, ...]
    band_low_ms: NDArray[np.float64]
    band_high_ms: NDArray[np.float64]
    hr_band_low_bpm: NDArray[np.float64]
    hr_band_high_bpm: NDArray[np.float64]
    source: tuple[str, ...]

    def where(self, mask: NDArray[np.bool_]) -> list[tuple[float, float]]:
        """The runs of grid points where ``mask`` holds, as (start s, end s); a point stands for the 5 s
        up to it."""
        return _runs(self.t_s, mask)


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch (s from the shift's start) without usable data, and why (e.g. "link drop")."""

    start_s: float
    end_s: float
    kind: SpanKind
    why: str


@dataclass(frozen=True, slots=True)
class Event:
    """What the replayed assessment decided at ``t_s`` (s): a state change (``kind`` 'state', ``value``
    the new state) or a trigger for a prompt (``kind`` 'trigger', ``value`` its name), with its reason."""

    t_s: float
    kind: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class PromptMark:
    """A prompt shown at ``t_s`` (s): practice id and name, trigger, the reason shown, and the answer
    ('accepted', 'dismissed', 'snoozed', 'expired' or 'unanswered') at ``response_t_s``."""

    t_s: float
    practice: str
    name: str
    trigger: str
    reason: str
    response: str
    response_t_s: float | None


@dataclass(frozen=True, slots=True)
class Effect:
    """A practice's measured effect: 60-s RMSSD (ms) before, during and after, the change in lnRMSSD and HR
    (bpm) after against before; for paced breathing the pacer and observed rates (breaths/min) and the HR
    swing per breath (RSA, bpm).  None where not measured."""

    rmssd_before_ms: float | None = None
    rmssd_during_ms: float | None = None
    rmssd_after_ms: float | None = None
    delta_ln_rmssd: float | None = None
    delta_hr_bpm: float | None = None
    rate_per_min: float | None = None
    observed_rate_per_min: float | None = None
    rate_matched: bool | None = None
    rsa_bpm: float | None = None


@dataclass(frozen=True, slots=True)
class PracticeDone:
    """A practice from ``start_s`` to ``end_s`` (s), whether a prompt asked for it, and its effect."""

    start_s: float
    end_s: float
    practice: str
    name: str
    prompted: bool
    effect: Effect


@dataclass(frozen=True, slots=True)
class Note:
    """An annotation at ``t_s`` (s)."""

    t_s: float
    text: str


@dataclass(frozen=True, slots=True)
class Stretch:
    """The lowest 5 min of the shift: from ``start_s`` to ``end_s`` (s), mean 60-s RMSSD (ms) and HR (bpm)
    over it, and the normal band (ms) there."""

    start_s: float
    end_s: float
    rmssd_ms: float
    hr_bpm: float
    band_low_ms: float
    band_high_ms: float


@dataclass(frozen=True, slots=True)
class AfterValue:
    """A resting value: lnRMSSD (ln ms), RMSSD (ms) and mean HR (bpm)."""

    ln_rmssd: float
    rmssd_ms: float
    hr_bpm: float


class Against(StrEnum):
    """What the after-shift value is compared with."""

    USUAL_AFTER = "your usual after a shift"
    PRE_SHIFT = "today's pre-shift check-in"


@dataclass(frozen=True, slots=True)
class Recovery:
    """After the shift: today's post-shift value and what it is compared with (``reference``, from
    ``count`` earlier sessions), the difference in ln ms, and 'lower', 'about the same' or 'higher'
    (beyond the smallest worthwhile change, 0.5 SD of the earlier values, 0.35 ln while fewer than 3)."""

    value: AfterValue
    against: Against | None
    reference: AfterValue | None
    count: int
    delta_ln: float | None
    verdict: str | None


@dataclass(frozen=True, slots=True)
class Summary:
    """Time per state (s, 5-s ticks of the assessment) and analysed in all; the lowest 5 min; recovery
    after the shift (None and ``recovery_note`` saying why when it cannot be told); the band's source."""

    strained_s: float
    recovering_s: float
    settled_s: float
    lowest: Stretch | None
    recovery: Recovery | None
    recovery_note: str | None
    reference: str

    @property
    def analysed_s(self) -> float:
        """Time the assessment ticked (s)."""
        return self.strained_s + self.recovering_s + self.settled_s


@dataclass(frozen=True, eq=False)
class ShiftReview:
    """One shift for review: the session, its local zone and day/night, the periods shown, the series,
    the shaded spans, the assessment's events, prompts, practices, notes and the summary; all times s from
    the shift's start."""

    session: SessionRow
    zone: dt.timezone
    night: bool
    periods: tuple[Period, ...]
    series: Series
    spans: tuple[Span, ...]
    events: tuple[Event, ...]
    prompts: tuple[PromptMark, ...]
    practices: tuple[PracticeDone, ...]
    notes: tuple[Note, ...]
    summary: Summary
    replayed_reasons: tuple[str | None, ...] = ()  # the replay's reason at each prompt (what it said)

    @property
    def end_s(self) -> float:
        """The shift's end (s from its start)."""
        return next(p.end_s for p in self.periods if p.session_id == self.session.id)

    def local(self, t_s: float) -> dt.datetime:
        """The person's local time ``t_s`` seconds from the shift's start."""
        return dt.datetime.fromtimestamp(self.session.started_utc + t_s, self.zone)


# -- finding the shift ----------------------------------------------------------------------------------


def find_shift(conn: sqlite3.Connection, day: dt.date | None = None) -> SessionRow:
    """The on-shift session started on local date ``day`` (the longest if several), or the latest."""
    shifts = list_sessions(conn, context=SHIFT)
    if not shifts:
        raise ReviewError(
            "the database holds no on-shift session yet: `restbeat demo --days 30` records some"
        )
    if day is None:
        return shifts[-1]
    on_day = [s for s in shifts if s.local_date == day]
    if on_day:
        return max(on_day, key=lambda s: s.duration_s)
    days = sorted({s.local_date for s in shifts}, key=lambda d: (abs((d - day).days), d))[:4]
    nearest = ", ".join(d.isoformat() for d in sorted(days))
    raise ReviewError(
        f"no on-shift session on {day.isoformat()}: the nearest days with a shift are {nearest}"
    )


# -- assembling the review -------------------------------------------------------------------------------


def load_review(
    conn: sqlite3.Connection,
    session: SessionRow,
    *,
    learned_before: dict[int, LearnedShift] | None = None,
) -> ShiftReview:
    """The review of on-shift ``session``.  ``learned_before``: what past shifts taught, kept between calls
    by a caller reviewing many shifts (see :func:`restbeat.app.replay.profile_from_store`)."""
    beats = session_beats(conn, session.id)
    if beats.t_s.size == 0:
        raise ReviewError(f"the on-shift session of {session.local_date.isoformat()} holds no beats")
    end_s = max(session.duration_s, float(beats.t_s[-1]))
    around = _around(conn, session, end_s)
    other_beats = {s.id: session_beats(conn, s.id) for s in around}
    periods = (
        *(_period(s, session, other_beats[s.id]) for s in around if s.context == PRE_SHIFT),
        Period(SHIFT, 0.0, end_s, session.id),
        *(_period(s, session, other_beats[s.id]) for s in around if s.context == POST_SHIFT),
    )
    first = math.floor(min(p.start_s for p in periods) / GRID_S)
    last = math.ceil(max(p.end_s for p in periods) / GRID_S)
    grid = _Grid(np.arange(first, last + 1, dtype=np.float64) * GRID_S)
    others = {s.id: s for s in around}
    for period in periods:
        if period.session_id != session.id:
            grid.fill_check(period, other_beats[period.session_id])
    prompts = _prompts(conn, session.id)
    profile = dataclasses.replace(  # as the live shift had it (a shift: no clock night, see app.monitor)
        baseline(conn, before_utc=session.started_utc, learned_before=learned_before),
        start_s=REPLAY_ORIGIN_S,
        night=is_night(session.local_start),
    )
    state_s, events, reasons = grid.fill_shift(
        beats, ShiftPipeline(profile=profile), end_s, _tighten_at(prompts), [p.t_s for p in prompts]
    )
    series = grid.series()
    spans = _spans(series, periods, _link_drops(conn, session.id))
    lowest = _lowest(series, end_s)
    post = [others[p.session_id] for p in periods if p.context == POST_SHIFT]
    pre = [others[p.session_id] for p in periods if p.context == PRE_SHIFT]
    recovery, recovery_note = _recovery(conn, session, post, pre, other_beats)
    sources = [s for s, st in zip(series.source, series.state, strict=True) if st]
    summary = Summary(
        strained_s=state_s[State.STRAINED],
        recovering_s=state_s[State.RECOVERING],
        settled_s=state_s[State.SETTLED],
        lowest=lowest,
        recovery=recovery,
        recovery_note=recovery_note,
        reference=statistics.mode(sources) if sources else "",
    )
    return ShiftReview(
        session=session,
        zone=dt.timezone(dt.timedelta(seconds=session.tz_offset_s)),
        night=profile.night,
        periods=periods,
        series=series,
        spans=spans,
        events=tuple(events),
        prompts=tuple(prompts),
        replayed_reasons=tuple(reasons),
        practices=_practices(conn, session.id),
        notes=tuple(
            Note(float(r["t_s"]), str(r["text"])) for r in session_records(conn, "annotations", session.id)
        ),
        summary=summary,
    )


def _around(conn: sqlite3.Connection, shift: SessionRow, end_s: float) -> list[SessionRow]:
    """Pre-shift sessions starting within 3 h before the shift, post-shift ones within 3 h after its end."""
    day = shift.local_date
    nearby = list_sessions(conn, since=day - dt.timedelta(days=1), until=day + dt.timedelta(days=2))
    start, end = shift.started_utc, shift.started_utc + end_s
    return [
        s
        for s in nearby
        if (s.context == PRE_SHIFT and start - AROUND_S <= s.started_utc < start)
        or (s.context == POST_SHIFT and end <= s.started_utc <= end + AROUND_S)
    ]


def _period(session: SessionRow, shift: SessionRow, beats: SessionBeats) -> Period:
    """A session's extent relative to the shift's start (to its last beat if it was never closed)."""
    start = session.started_utc - shift.started_utc
    last = float(beats.t_s[-1]) if beats.t_s.size else 0.0
    return Period(session.context, start, start + max(session.duration_s, last), session.id)


class _Grid:
    """The 5-s grid being filled, session by session."""

    def __init__(self, t_s: NDArray[np.float64]) -> None:
        n = t_s.size
        self.t_s = t_s
        self.hr = np.full(n, np.nan)
        self.rmssd = np.full(n, np.nan)
        self.low = np.full(n, np.nan)
        self.high = np.full(n, np.nan)
        self.hr_low = np.full(n, np.nan)
        self.hr_high = np.full(n, np.nan)
        self.quality = [""] * n
        self.state = [""] * n
        self.gate = [""] * n
        self.source = [""] * n

    def _index(self, t_s: float) -> int:
        """The first grid point at or after ``t_s``."""
        return max(math.ceil((t_s - float(self.t_s[0])) / GRID_S - 1e-9), 0)

    def _window(self, k: int, stream: HRVStream, last_t: float | None, excluded: bool) -> None:
        if last_t is None or excluded or self.t_s[k] - last_t > GRID_S:
            self.quality[k] = NO_DATA
            return
        window = stream.window(READING_WINDOW_S)
        self.quality[k] = str(window.quality)
        if window.rmssd_ms is not None and window.mean_hr_bpm is not None:
            self.rmssd[k] = window.rmssd_ms
            self.hr[k] = window.mean_hr_bpm

    def fill_check(self, period: Period, beats: SessionBeats) -> None:
        """A pre- or post-shift session: its own 60-s windows, no assessment."""
        stream = HRVStream(DECISION_STREAM)
        offset, n = period.start_s, self.t_s.size
        k = self._index(offset)
        last_t: float | None = None
        excluded = False
        for beat in stored_beats(beats):
            t = offset + beat.t_s
            while k < n and self.t_s[k] < t:
                self._window(k, stream, last_t, excluded)
                k += 1
            stream.add(beat.t_s, beat.rr_ms, beat.quality, beat.segment)
            last_t, excluded = t, beat.quality is BeatQuality.EXCLUDED
        while k < n and self.t_s[k] <= period.end_s:
            self._window(k, stream, last_t, excluded)
            k += 1

    def fill_shift(
        self,
        beats: SessionBeats,
        pipeline: ShiftPipeline,
        end_s: float,
        tighten_at_s: float | None,
        prompt_times_s: Sequence[float] = (),
    ) -> tuple[dict[State, float], list[Event], list[str | None]]:
        """The shift through the live decision path (beat times shifted by :data:`REPLAY_ORIGIN_S`); returns
        the time per state (s, ticks x 5 s), the state changes and triggers, and the reason the assessment
        gave at the tick of each of ``prompt_times_s`` (the latest at or up to 1 s before it: what a prompt
        delivered then says).  The tightening after two
        dismissals in a row applies from the first tick after the second answer (``tighten_at_s``)."""
        state_s = dict.fromkeys(State, 0.0)
        events: list[Event] = []
        pending = sorted(prompt_times_s)
        reasons: list[str | None] = []
        said: str | None = None  # the reason at the latest tick
        tick_s = pipeline.assess_config.tick_s
        n = self.t_s.size
        k = self._index(0.0)
        last_t: float | None = None
        excluded = False
        last_tick = -math.inf
        reference: Reference | None = None
        band = (math.nan, math.nan, math.nan, math.nan)
        tighten = math.inf if tighten_at_s is None else tighten_at_s
        stream = pipeline.stream
        for t, beat in zip(beats.t_s.tolist(), stored_beats(beats, REPLAY_ORIGIN_S), strict=True):
            while k < n and self.t_s[k] < t:
                self._window(k, stream, last_t, excluded)
                assessment = pipeline.assessor.current
                if assessment is not None:
                    if assessment.reference is not reference:
                        reference = assessment.reference
                        band = _band(reference)
                    self.state[k] = str(assessment.state)
                    self.gate[k] = str(assessment.gate)
                    self.low[k], self.high[k], self.hr_low[k], self.hr_high[k] = band
                    self.source[k] = str(assessment.reference.source)
                k += 1
            for outcome in pipeline.push_clean(beat):
                if isinstance(outcome, StateChange):
                    events.append(_event(outcome, "state", str(outcome.after)))
                elif isinstance(outcome, TriggerEvent):
                    events.append(_event(outcome, "trigger", str(outcome.trigger)))
            last_t, excluded = t, beat.quality is BeatQuality.EXCLUDED
            current = pipeline.assessor.current
            if current is not None and current.t_s != last_tick:
                last_tick = current.t_s
                state_s[current.state] += tick_s
                while pending and current.t_s - REPLAY_ORIGIN_S > pending[0] + 1.0:  # past the prompt's tick
                    pending.pop(0)
                    reasons.append(said)
                said = current.reason_now.text() if current.reason_now is not None else None
                if t >= tighten:
                    pipeline.assessor.tighten()
                    tighten = math.inf
        while k < n and self.t_s[k] <= end_s:
            self._window(k, stream, last_t, excluded)
            k += 1
        return state_s, events, reasons + [said] * len(pending)

    def series(self) -> Series:
        arrays = (self.t_s, self.hr, self.rmssd, self.low, self.high, self.hr_low, self.hr_high)
        for array in arrays:
            array.setflags(write=False)
        return Series(
            t_s=self.t_s,
            hr_bpm=self.hr,
            rmssd_ms=self.rmssd,
            quality=tuple(self.quality),
            state=tuple(self.state),
            gate=tuple(self.gate),
            band_low_ms=self.low,
            band_high_ms=self.high,
            hr_band_low_bpm=self.hr_low,
            hr_band_high_bpm=self.hr_high,
            source=tuple(self.source),
        )


def _event(outcome: StateChange | TriggerEvent, kind: str, value: str) -> Event:
    return Event(outcome.t_s - REPLAY_ORIGIN_S, kind, value, outcome.reason.text())


def _band(reference: Reference) -> tuple[float, float, float, float]:
    """The usual range of RMSSD (ms) and HR (bpm): median +/- 1 SD."""
    low, high = reference.usual_ms()
    return low, high, reference.hr_median - reference.hr_sd, reference.hr_median + reference.hr_sd


def _runs(t_s: NDArray[np.float64], mask: NDArray[np.bool_]) -> list[tuple[float, float]]:
    if not mask.any():
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(float(t_s[a]) - GRID_S, float(t_s[b])) for a, b in zip(starts, ends, strict=True)]


# -- what happened in the shift --------------------------------------------------------------------------


def _prompts(conn: sqlite3.Connection, session_id: int) -> list[PromptMark]:
    marks = []
    for row in session_records(conn, "prompts", session_id):
        detail: dict[str, Any] = row.get("detail") or {}
        marks.append(
            PromptMark(
                t_s=float(row["t_s"]),
                practice=str(row["practice"]),
                name=name_of(str(row["practice"])),
                trigger=str(detail.get("trigger", "")),
                reason=str(row["reason"]),
                response=str(row["response"] or "unanswered"),
                response_t_s=None if row["response_t_s"] is None else float(row["response_t_s"]),
            )
        )
    return sorted(marks, key=lambda mark: mark.t_s)


def _tighten_at(prompts: Sequence[PromptMark]) -> float | None:
    """When the live shift tightened its assessment: the second dismissal in a row (s)."""
    in_row = 0
    answered = sorted((p for p in prompts if p.response_t_s is not None), key=lambda p: p.response_t_s or 0.0)
    for prompt in answered:
        if prompt.response == Response.DISMISSED:
            in_row += 1
            if in_row >= 2:
                return prompt.response_t_s
        elif prompt.response == Response.ACCEPTED:
            in_row = 0
    return None


def _number(detail: dict[str, Any], key: str) -> float | None:
    value = detail.get(key)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _practices(conn: sqlite3.Connection, session_id: int) -> tuple[PracticeDone, ...]:
    """Practices with a measured outcome (a resonance assessment is a protocol, not a practice: left out)."""
    done = []
    for row in session_records(conn, "outcomes", session_id):
        if row["practice"] == RESONANCE:
            continue
        detail: dict[str, Any] = row.get("detail") or {}
        matched = detail.get("rate_matched")
        effect = Effect(
            rmssd_before_ms=_number(detail, "rmssd_before_ms"),
            rmssd_during_ms=_number(detail, "rmssd_during_ms"),
            rmssd_after_ms=_number(detail, "rmssd_after_ms"),
            delta_ln_rmssd=_number(detail, "delta_ln_rmssd"),
            delta_hr_bpm=_number(detail, "delta_hr_bpm"),
            rate_per_min=_number(detail, "rate_per_min"),
            observed_rate_per_min=_number(detail, "observed_rate_per_min"),
            rate_matched=matched if isinstance(matched, bool) else None,
            rsa_bpm=_number(detail, "rsa_bpm"),
        )
        prompted = detail.get("prompted")
        done.append(
            PracticeDone(
                start_s=float(row["started_t_s"]),
                end_s=float(row["ended_t_s"]),
                practice=str(row["practice"]),
                name=name_of(str(row["practice"])),
                prompted=bool(prompted) if prompted is not None else row["prompt_id"] is not None,
                effect=effect,
            )
        )
    return tuple(sorted(done, key=lambda p: p.start_s))


def _link_drops(conn: sqlite3.Connection, session_id: int) -> list[tuple[float, float]]:
    """From each 'reconnecting' to the next 'streaming' link event (s)."""
    drops: list[tuple[float, float]] = []
    since: float | None = None
    for row in session_records(conn, "link_events", session_id):
        state = (row.get("detail") or {}).get("state")
        if state == "reconnecting" and since is None:
            since = float(row["t_s"])
        elif state == "streaming" and since is not None:
            drops.append((since, float(row["t_s"])))
            since = None
    if since is not None:
        drops.append((since, math.inf))
    return drops


def _spans(
    series: Series, periods: Sequence[Period], drops: Sequence[tuple[float, float]]
) -> tuple[Span, ...]:
    """Stretches inside the periods with no beats (or a window still filling after them) and with
    low-quality windows, each with its commonest cause; a link drop names the gap it caused."""
    t = series.t_s
    inside = np.zeros(t.size, dtype=np.bool_)
    for period in periods:
        inside |= (t > period.start_s) & (t <= period.end_s)
    quality = np.asarray(series.quality)
    missing = inside & np.isin(quality, [NO_DATA, str(WindowQuality.WARMING_UP)])
    low = inside & ~missing & (quality != str(WindowQuality.OK))
    spans = []
    for kind, mask in ((SpanKind.NO_DATA, missing), (SpanKind.LOW_QUALITY, low)):
        for start, end in series.where(mask):
            if any(a < end and b > start for a, b in drops):
                why = "link drop"
            elif any(p.start_s <= start < p.start_s + 2 * READING_WINDOW_S for p in periods):
                why = "first minute of a recording"
            elif (before := _quality_before(series, start)) in _AFTER:
                why = f"after {_WHY[before]}"
            else:
                inner = quality[(t > start) & (t <= end)]
                values, counts = np.unique(inner, return_counts=True)
                why = _WHY.get(str(values[np.argmax(counts)]), str(values[np.argmax(counts)]))
            spans.append(Span(start, end, kind, why))
    return tuple(sorted(spans, key=lambda s: s.start_s))


_AFTER = {
    str(q) for q in (WindowQuality.NO_CONTACT, WindowQuality.TOO_FEW_BEATS, WindowQuality.TOO_MANY_CORRECTED)
}


def _quality_before(series: Series, start_s: float) -> str:
    """The window quality at the grid point just before a span starting at ``start_s`` (s)."""
    index = int(np.searchsorted(series.t_s, start_s + GRID_S - 1e-6)) - 1
    return series.quality[index] if index >= 0 else ""


def at_rest_rmssd(series: Series, end_s: float) -> NDArray[np.float64]:
    """The shift's 60-s RMSSD (ms) on the grid with the points read as moving (or settling after it)
    blanked: NaN outside the shift (0, ``end_s``] too.  The lowest stretch is looked for in it."""
    moving = np.isin(np.asarray(series.gate), [str(Gate.EFFORT), str(Gate.AFTER_EFFORT)])
    on = (series.t_s > 0.0) & (series.t_s <= end_s)
    return np.where(on & ~moving, series.rmssd_ms, np.nan)


def _lowest(series: Series, end_s: float) -> Stretch | None:
    """The 5 min of the shift with the lowest mean 60-s RMSSD at rest, among stretches >= 80 % covered."""
    rmssd = at_rest_rmssd(series, end_s)
    width = round(LOWEST_SPAN_S / GRID_S)
    if rmssd.size < width:
        return None
    valid = np.isfinite(rmssd)
    count = np.convolve(valid, np.ones(width), mode="valid")
    total = np.convolve(np.where(valid, rmssd, 0.0), np.ones(width), mode="valid")
    enough = count >= LOWEST_MIN_COVER * width
    if not enough.any():
        return None
    mean = np.where(enough, total / np.maximum(count, 1), np.inf)
    k = int(np.argmin(mean))
    part = slice(k, k + width)
    inside = valid[part]
    low, high = series.band_low_ms[part], series.band_high_ms[part]
    return Stretch(
        start_s=float(series.t_s[k]) - GRID_S,
        end_s=float(series.t_s[k + width - 1]),
        rmssd_ms=float(rmssd[part][inside].mean()),
        hr_bpm=float(series.hr_bpm[part][inside].mean()),
        band_low_ms=float(np.nanmedian(low)) if np.isfinite(low).any() else math.nan,
        band_high_ms=float(np.nanmedian(high)) if np.isfinite(high).any() else math.nan,
    )


# -- recovery after the shift ----------------------------------------------------------------------------


def after_shift_value(beats: SessionBeats) -> AfterValue | CheckInRejected:
    """A post-shift session's value: lnRMSSD over every usable successive difference after the first
    60 s, and the mean HR (bpm) of those beats; rejected when under 90 % covered or > 5 % corrected."""
    t, rr, q, seg = beats.t_s, beats.rr_ms, beats.quality, beats.segment
    if rr.size == 0:
        return CheckInRejected("no beats recorded")
    begin = float(t[0] - rr[0] / 1000.0) + AFTER_DISCARD_S
    analysed_s = float(t[-1]) - begin
    if analysed_s <= 0:
        return CheckInRejected("shorter than a minute")
    usable = (t > begin) & np.isin(q, _USABLE)
    coverage = float(rr[usable].sum()) / 1000.0 / analysed_s
    if coverage < MIN_AFTER_COVERAGE:
        return CheckInRejected(f"only {100 * coverage:.0f} % of it had usable beats")
    corrected = float(np.count_nonzero(q[usable] == int(BeatQuality.CORRECTED))) / max(int(usable.sum()), 1)
    if corrected > MAX_AFTER_CORRECTED:
        return CheckInRejected(f"{100 * corrected:.0f} % of the beats needed correction (more than 5 %)")
    index = np.flatnonzero(usable)
    pairs = (np.diff(index) == 1) & (seg[index][1:] == seg[index][:-1])
    differences = np.diff(rr[index])[pairs]
    if differences.size < MIN_AFTER_DIFFERENCES:
        return CheckInRejected("too few successive beats")
    rmssd = float(np.sqrt(np.mean(differences**2)))
    return AfterValue(math.log(rmssd), rmssd, 60000.0 / float(rr[usable].mean()))


def _recovery(
    conn: sqlite3.Connection,
    shift: SessionRow,
    post: Sequence[SessionRow],
    pre: Sequence[SessionRow],
    beats: dict[int, SessionBeats],
) -> tuple[Recovery | None, str | None]:
    if not post:
        return None, "no post-shift session within 3 h of the shift's end"
    today = after_shift_value(beats[post[0].id])
    if isinstance(today, CheckInRejected):
        return None, f"the post-shift session gives no value: {today.reason}"
    earlier = [
        s for s in list_sessions(conn, until=shift.local_date, context=POST_SHIFT)
        if s.started_utc < shift.started_utc
    ][-USUAL_AFTER_SHIFTS:]  # fmt: skip
    values = [
        v
        for v in (after_shift_value(session_beats(conn, s.id)) for s in earlier)
        if isinstance(v, AfterValue)
    ]
    if values:
        reference = AfterValue(
            statistics.median(v.ln_rmssd for v in values),
            math.exp(statistics.median(v.ln_rmssd for v in values)),
            statistics.median(v.hr_bpm for v in values),
        )
        sd = statistics.stdev(v.ln_rmssd for v in values) if len(values) >= 3 else PRIOR_SD_LN
        return _compare(today, Against.USUAL_AFTER, reference, len(values), sd), None
    for session in pre:
        value = check_in_value(
            beats[session.id].t_s,
            beats[session.id].rr_ms,
            beats[session.id].quality,
            beats[session.id].segment,
        )
        if isinstance(value, CheckIn):
            reference = AfterValue(value.ln_rmssd, value.rmssd_ms, value.hr_bpm)
            return _compare(today, Against.PRE_SHIFT, reference, 1, PRIOR_SD_LN), (
                "no earlier post-shift session: compared with today's pre-shift check-in"
            )
    return (
        Recovery(today, None, None, 0, None, None),
        "no earlier post-shift session and no valid pre-shift check-in today to compare with",
    )


def _compare(today: AfterValue, against: Against, reference: AfterValue, count: int, sd: float) -> Recovery:
    delta = today.ln_rmssd - reference.ln_rmssd
    smallest = SWC_FACTOR * sd
    verdict = "about the same" if abs(delta) < smallest else ("lower" if delta < 0 else "higher")
    return Recovery(today, against, reference, count, delta, verdict)
