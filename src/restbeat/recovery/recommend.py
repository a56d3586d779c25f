"""When to prompt, with which practice, and when to stay quiet (the brief, sections 3.7 and 5).

In shift (:class:`ShiftRecommender`): a trigger from the assessment (strain entered, or slow recovery after a
stressor) opens a *candidate*.  It becomes a prompt at the first tick at which every rule below allows it,
as long as its episode is still open; otherwise it lapses.  Rules, in order (defaults in
:class:`PromptPolicy`):

* muted ("in care": 30/60/120 min; candidates during a mute lapse) or snoozed (a snoozed prompt is offered
  again when the snooze ends, if its episode is still open);
* not in the first 20 min of the shift;
* never during effort, or in the minutes after it, nor while the person is probably asleep;
* only while its reason is still true (the value still low): a prompt never shows an old reason, and its
  card gives the numbers of the moment it is delivered;
* at most 4 prompts per shift and 2 in any 3 h;
* 45 min after the previous prompt, 90 min after a dismissal.

After two dismissals in a row the assessment is tightened (strain is entered at z <= -1.5) for the rest of
the shift.  Every candidate and decision is kept in :attr:`ShiftRecommender.log`.

Between shifts (:func:`daily_suggestion`): at most one suggestion a day, from the daily trend and the
last shift's load; the escalation card (low recovery for 14 days or more) at most once a week, and the
chronic-trend message at most once a week and not in the week after the card (it never delays the card).

A snoozed prompt that comes back is a new prompt: it counts towards the budget again, since it interrupts
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from restbeat.recovery.assess import Assessment, Event, Gate, Reason, TriggerEvent
from restbeat.recovery.baseline import Trend
from restbeat.recovery.learning import Choice, PracticeLearner, context_vector
from restbeat.recovery.practices import Place, Practice, Trigger, by_id, eligible


@dataclass(frozen=True, slots=True)
class PromptPolicy:
    """The prompt rules' parameters (s, counts)."""

    warmup_s: float = 20 * 60.0
    cooldown_s: float = 45 * 60.0
    cooldown_after_dismissal_s: float = 90 * 60.0
    max_per_shift: int = 4
    max_per_window: int = 2
    window_s: float = 3 * 3600.0
    dismissals_to_tighten: int = 2
    snooze_s: float = 15 * 60.0


class Response(StrEnum):
    """How the person answered a prompt (the store's values)."""

    ACCEPTED = "accepted"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Prompt:
    """A practice offered at ``t_s`` (s) for ``trigger``, with why, the context vector and the logged
    selection probabilities."""

    number: int
    t_s: float
    trigger: Trigger
    episode: int
    practice: Practice
    reason: Reason
    probabilities: dict[str, float]
    context: tuple[float, ...]

    def detail(self) -> dict[str, object]:
        """What the store keeps with the prompt so decisions can be evaluated later."""
        return {
            "trigger": str(self.trigger),
            "episode": self.episode,
            "probabilities": self.probabilities,
            "context": list(self.context),
        }


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A candidate that was not (yet) offered at ``t_s``, and why."""

    t_s: float
    trigger: Trigger
    episode: int
    why: str


Decision = Prompt | Suppressed


@dataclass(slots=True)
class _Candidate:
    event: TriggerEvent
    last_why: str | None = None


@dataclass(slots=True)
class ShiftRecommender:
    """The prompt rules and the practice choice for one shift starting at ``start_s`` (s)."""

    start_s: float
    learner: PracticeLearner = field(default_factory=PracticeLearner)
    policy: PromptPolicy = field(default_factory=PromptPolicy)
    place: Place = Place.BEDSIDE
    night: bool = False
    log: list[Decision] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    dismissals_in_row: int = 0
    tightened: bool = False
    _candidate: _Candidate | None = None
    _responses: dict[int, Response] = field(default_factory=dict)
    _cooldown_until: float = float("-inf")
    _muted_until: float = float("-inf")
    _snoozed_until: float = float("-inf")
    _snoozed: TriggerEvent | None = None

    # -- the person's controls ---------------------------------------------------------------------------

    def mute(self, t_s: float, duration_s: float) -> None:
        """No prompts until ``t_s + duration_s`` (in care, in a procedure); pending candidates lapse."""
        self._muted_until = t_s + duration_s
        self._candidate = None
        self._snoozed = None

    def snooze(self, t_s: float, duration_s: float | None = None) -> None:
        """No prompts for a while (default 15 min); a snoozed prompt is offered again afterwards."""
        self._snoozed_until = t_s + (self.policy.snooze_s if duration_s is None else duration_s)

    def respond(self, number: int, response: Response, t_s: float) -> None:
        """Record the answer to prompt ``number``: dismissals lengthen the cooldown, and two in a row tighten
        the assessment (see :attr:`tightened`)."""
        prompt = self.prompts[number - 1]
        self._responses[number] = response
        if response is Response.DISMISSED:
            self.dismissals_in_row += 1
            self._cooldown_until = max(self._cooldown_until, t_s + self.policy.cooldown_after_dismissal_s)
            if self.dismissals_in_row >= self.policy.dismissals_to_tighten:
                self.tightened = True
        elif response is Response.ACCEPTED:
            self.dismissals_in_row = 0
        elif response is Response.SNOOZED:
            self.snooze(t_s)
            self._cooldown_until = prompt.t_s  # a snooze is not a cooldown: the prompt may come back
            self._snoozed = TriggerEvent(t_s, prompt.trigger, prompt.episode, prompt.reason, 0.0, None)

    # -- ticks -------------------------------------------------------------------------------------------

    def update(self, assessment: Assessment, events: Sequence[Event] = ()) -> list[Decision]:
        """Take one tick's assessment and events; return the decisions made (a prompt or a suppression)."""
        decisions: list[Decision] = []
        t = assessment.t_s
        for event in events:
            if not isinstance(event, TriggerEvent):
                continue
            if t < self._muted_until:  # in care: a candidate raised now lapses
                decisions.append(Suppressed(t, event.trigger, event.episode, "muted"))
                continue
            if self._candidate is not None and self._candidate.event.episode != event.episode:
                old = self._candidate.event
                decisions.append(Suppressed(t, old.trigger, old.episode, "replaced by a newer trigger"))
            self._candidate = _Candidate(event)
        if self._snoozed is not None and t >= self._snoozed_until:
            if assessment.episode == self._snoozed.episode:
                self._candidate = _Candidate(self._snoozed)
            self._snoozed = None
        candidate = self._candidate
        if candidate is None:
            self.log.extend(decisions)
            return decisions
        event = candidate.event
        if assessment.episode != event.episode:
            decisions.append(Suppressed(t, event.trigger, event.episode, "the episode ended before a prompt"))
            self._candidate = None
        else:
            why = self._blocked(t, assessment)
            if why is None:
                decisions.append(self._prompt(t, event, assessment))
                self._candidate = None
            elif why != candidate.last_why:
                candidate.last_why = why
                decisions.append(Suppressed(t, event.trigger, event.episode, why))
        self.log.extend(decisions)
        return decisions

    def _blocked(self, t_s: float, assessment: Assessment) -> str | None:
        policy = self.policy
        if t_s < self._muted_until:
            return "muted"
        if t_s < self._snoozed_until:
            return "snoozed"
        if t_s - self.start_s < policy.warmup_s:
            return f"first {policy.warmup_s / 60:.0f} min of the shift"
        if assessment.gate in (Gate.EFFORT, Gate.AFTER_EFFORT, Gate.ASLEEP):
            return f"{assessment.gate}"
        if assessment.reason_now is None:
            return "no longer low"
        if len(self.prompts) >= policy.max_per_shift:
            return f"already {policy.max_per_shift} prompts this shift"
        recent = [p for p in self.prompts if t_s - p.t_s < policy.window_s]
        if len(recent) >= policy.max_per_window:
            return f"already {policy.max_per_window} prompts in the last {policy.window_s / 3600:.0f} h"
        if t_s < self._cooldown_until:
            minutes = round((self._cooldown_until - self.start_s) / 60)
            return f"cooldown until {minutes // 60}:{minutes % 60:02d} into the shift"
        return None

    def _prompt(self, t_s: float, event: TriggerEvent, assessment: Assessment) -> Prompt:
        z = assessment.z if assessment.z is not None else event.z
        x = context_vector(event.trigger, self.night, z, self.dismissals_in_row)
        choice = self.choose(event.trigger, x)
        prompt = Prompt(
            number=len(self.prompts) + 1,
            t_s=t_s,
            trigger=event.trigger,
            episode=event.episode,
            practice=by_id(choice.practice),
            reason=assessment.reason_now or event.reason,
            probabilities=choice.probabilities,
            context=tuple(float(v) for v in x),
        )
        self.prompts.append(prompt)
        self._cooldown_until = t_s + self.policy.cooldown_s
        return prompt

    def choose(self, trigger: Trigger, x: NDArray[np.float64]) -> Choice:
        """The learner's choice among the practices that suit ``trigger`` here."""
        practices = [practice.id for practice in eligible(trigger, self.place)]
        return self.learner.choose(practices, x)


@dataclass(frozen=True, slots=True)
class DailySuggestion:
    """The day's one suggestion: the trigger, the practice, and the numbers behind it (ln ms)."""

    date: dt.date
    trigger: Trigger
    practice: Practice
    why: str
    escalate: bool
    probabilities: dict[str, float]


def _recent(past: Sequence[DailySuggestion], day: dt.date, triggers: set[Trigger], days: int) -> bool:
    return any(s.trigger in triggers and 0 <= (day - s.date).days < days for s in past)


def daily_suggestion(
    day: dt.date,
    trend: Trend,
    past: Sequence[DailySuggestion],
    learner: PracticeLearner,
    *,
    high_load_shift: bool = False,
) -> DailySuggestion | None:
    """At most one suggestion for ``day`` from its trend (and whether the last shift's load was high), most
    serious first; weekly at most for the chronic message and the escalation card."""
    if any(s.date == day for s in past):
        return None
    escalation = {Trigger.PERSISTENT_LOW}
    weekly = {Trigger.PERSISTENT_LOW, Trigger.CHRONIC_LOW}
    low_edge = trend.normal_low
    trigger: Trigger | None = None
    why = ""
    if trend.low_trend_days >= 14 and not trend.provisional and not _recent(past, day, escalation, 7):
        trigger = Trigger.PERSISTENT_LOW
        why = f"your 7-day average has been below your normal range for {trend.low_trend_days} days"
    elif trend.chronic_low and not _recent(past, day, weekly, 7):
        trigger = Trigger.CHRONIC_LOW
        why = (
            f"your 7-day average lnRMSSD {trend.rolling_mean:.2f} has been below your normal range "
            f"(from {low_edge:.2f}) for {trend.low_trend_days} days"
        )
    elif trend.acute_low and trend.today is not None and trend.range_mean is not None:
        trigger = Trigger.LOW_MORNING
        why = (
            f"today's check-in lnRMSSD {trend.today:.2f} is more than one SD below your 60-day mean "
            f"{trend.range_mean:.2f}"
        )
    elif high_load_shift:
        trigger = Trigger.HIGH_LOAD_SHIFT
        why = "your last shift had more time strained than three in four of your shifts"
    if trigger is None:
        return None
    practices = [p.id for p in eligible(trigger)]
    z = 0.0
    if trend.today is not None and trend.range_mean is not None and trend.range_sd > 0:
        z = (trend.today - trend.range_mean) / trend.range_sd
    x = context_vector(trigger, False, z, 0)
    choice = learner.choose(practices, x)
    return DailySuggestion(
        day, trigger, by_id(choice.practice), why, trigger is Trigger.PERSISTENT_LOW, choice.probabilities
    )
