"""The prompt rules with an injected clock (the t_s of each assessment), the logged choice, the daily
suggestion and the wording around every prompt."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Sequence

import numpy as np
import pytest

from restbeat.recovery.assess import (
    Assessment,
    Gate,
    Reason,
    ReasonKind,
    State,
    TriggerEvent,
)
from restbeat.recovery.baseline import Reference, ReferenceSource, Trend
from restbeat.recovery.learning import PracticeLearner
from restbeat.recovery.practices import Place, Trigger, by_id, catalogue, eligible
from restbeat.recovery.recommend import (
    DailySuggestion,
    Decision,
    Prompt,
    Response,
    ShiftRecommender,
    Suppressed,
    daily_suggestion,
)
from restbeat.recovery.wording import ESCALATION_CARD, NOT_A_MEDICAL_DEVICE, practice_card

MIN = 60.0
REFERENCE = Reference(median=3.5, sd=0.3, source=ReferenceSource.POOLED, epochs=100)
REASON = Reason(ReasonKind.LOW_SUSTAINED, 20.0, 450.0, 27.0, 41.0, ReferenceSource.POOLED)
ENDED = "the episode ended before a prompt"
WARMUP = "first 20 min of the shift"


def _assessment(
    t_s: float,
    episode: int | None,
    *,
    gate: Gate = Gate.READABLE,
    z: float | None = -1.3,
    state: State | None = None,
    still_low: bool = True,
) -> Assessment:
    """A tick; while an episode is open and ``still_low``, its reason is still true (``reason_now``)."""
    if state is None:
        state = State.SETTLED if episode is None else State.STRAINED
    now = REASON if episode is not None and still_low and gate is Gate.READABLE else None
    return Assessment(t_s, state, gate, 20.0, 80.0, z, 0.5, REFERENCE, 62.0, episode, reason_now=now)


def _event(t_s: float, episode: int) -> TriggerEvent:
    return TriggerEvent(t_s, Trigger.SUSTAINED_LOW, episode, REASON, z=-1.3, z_hr=0.5)


def _recommender(start_s: float = 0.0, seed: int = 7) -> ShiftRecommender:
    return ShiftRecommender(start_s=start_s, learner=PracticeLearner(seed=seed))


def _tick(
    rec: ShiftRecommender,
    minute: float,
    episode: int | None,
    *,
    trigger: bool = False,
    gate: Gate = Gate.READABLE,
    start_s: float = 0.0,
    still_low: bool = True,
) -> list[Decision]:
    """One tick ``minute`` min into the shift, with ``episode`` open (None: no episode); ``trigger`` raises
    a candidate for that episode."""
    t = start_s + minute * MIN
    events = [_event(t, episode)] if trigger and episode is not None else []
    return rec.update(_assessment(t, episode, gate=gate, still_low=still_low), events)


def _episode(
    rec: ShiftRecommender, episode: int, first: int, last: int, *, close: bool = True
) -> list[Decision]:
    """Minute ticks ``first``..``last`` with ``episode`` open (triggered at ``first``), then a tick with
    the episode closed."""
    decisions = _tick(rec, first, episode, trigger=True)
    for minute in range(first + 1, last + 1):
        decisions += _tick(rec, minute, episode)
    if close:
        decisions += _tick(rec, last + 1, None)
    return decisions


def _prompts(decisions: Iterable[Decision]) -> list[Prompt]:
    return [d for d in decisions if isinstance(d, Prompt)]


def _whys(decisions: Iterable[Decision]) -> list[str]:
    return [d.why for d in decisions if isinstance(d, Suppressed)]


def _minutes(prompts: Sequence[Prompt], start_s: float = 0.0) -> list[float]:
    return [(p.t_s - start_s) / MIN for p in prompts]


# -- warm-up -------------------------------------------------------------------------------------------------


def test_no_prompt_in_the_first_twenty_minutes_of_the_shift() -> None:
    start = 5000.0
    rec = _recommender(start)
    decisions = _tick(rec, 1, 1, trigger=True, start_s=start)
    for minute in range(2, 20):
        decisions += _tick(rec, minute, 1, start_s=start)
    assert not _prompts(decisions) and not rec.prompts
    assert _whys(decisions) == [WARMUP]  # said once, not every tick
    at_twenty = _tick(rec, 20, 1, start_s=start)
    assert _minutes(_prompts(at_twenty), start) == [20.0]


def test_a_candidate_from_the_warm_up_is_prompted_at_the_first_tick_at_or_after_twenty_minutes() -> None:
    rec = _recommender()
    decisions = []
    for minute in (10.0, 12.5, 15.0, 17.5, 19.9):
        decisions += _tick(rec, minute, 1, trigger=minute == 10.0)
    assert not _prompts(decisions)
    prompted = _tick(rec, 22.5, 1)
    assert _minutes(_prompts(prompted)) == [22.5]
    assert rec.prompts[0].episode == 1 and rec.prompts[0].number == 1
    assert rec.log == [*decisions, *prompted]


# -- cooldown ------------------------------------------------------------------------------------------------


def test_after_a_prompt_a_new_episode_waits_45_min() -> None:
    rec = _recommender()
    first = _episode(rec, 1, 30, 40)
    assert _minutes(_prompts(first)) == [30.0]
    second = _episode(rec, 2, 50, 100)
    assert _minutes(_prompts(second)) == [75.0]  # 30 + 45, not 50
    assert _whys(second) == ["cooldown until 1:15 into the shift"]  # logged once, not every tick
    assert all(why.startswith("cooldown") for why in _whys(second))


def test_after_a_dismissal_a_new_episode_waits_90_min() -> None:
    rec = _recommender()
    first = _episode(rec, 1, 30, 40)
    rec.respond(_prompts(first)[0].number, Response.DISMISSED, 32 * MIN)
    second = _episode(rec, 2, 50, 150)
    assert _minutes(_prompts(second)) == [122.0]  # 90 min after the dismissal at 32 min
    assert _whys(second) == ["cooldown until 2:02 into the shift"]


# -- budget --------------------------------------------------------------------------------------------------


def test_at_most_four_prompts_a_shift_and_two_in_any_three_hours() -> None:
    rec = _recommender()
    decisions: list[Decision] = []
    starts = list(range(25, 12 * 60, 50))  # an episode every 50 min, each open for 40 min
    for episode, first in enumerate(starts, start=1):
        decisions += _episode(rec, episode, first, first + 39)
    prompts = _prompts(decisions)
    times = _minutes(prompts)
    assert len(prompts) == 4 and prompts == rec.prompts
    assert [p.number for p in prompts] == [1, 2, 3, 4]
    for t in times:
        assert sum(1 for other in times if t - 180 < other <= t) <= 2  # any rolling 3 h
    assert all(later - earlier >= 45 for earlier, later in itertools.pairwise(times))
    assert times == [25.0, 75.0, 205.0, 255.0]  # 205 = 25 + 180: the first prompt has just left the window
    whys = _whys(decisions)
    assert "already 2 prompts in the last 3 h" in whys
    assert "already 4 prompts this shift" in whys
    assert whys.count(ENDED) == len(starts) - 4  # every held-back candidate lapsed with its episode
    assert all(isinstance(d, Suppressed) for d in decisions if d.t_s > 255 * MIN)


# -- dismissals ----------------------------------------------------------------------------------------------


def test_two_dismissals_in_a_row_tighten_the_assessment() -> None:
    rec = _recommender()
    (first,) = _prompts(_episode(rec, 1, 25, 30))
    rec.respond(first.number, Response.DISMISSED, 26 * MIN)
    assert rec.dismissals_in_row == 1 and not rec.tightened
    (second,) = _prompts(_episode(rec, 2, 120, 125))
    assert second.context[4] == 1.0  # the dismissal is part of the next decision's context
    rec.respond(second.number, Response.DISMISSED, 121 * MIN)
    assert rec.dismissals_in_row == 2 and rec.tightened


def test_an_accept_between_dismissals_resets_the_count() -> None:
    rec = _recommender()
    (first,) = _prompts(_episode(rec, 1, 25, 30))
    rec.respond(first.number, Response.DISMISSED, 26 * MIN)
    (second,) = _prompts(_episode(rec, 2, 120, 125))
    rec.respond(second.number, Response.ACCEPTED, 121 * MIN)
    assert rec.dismissals_in_row == 0 and not rec.tightened
    (third,) = _prompts(_episode(rec, 3, 210, 215))
    assert third.context[4] == 0.0
    rec.respond(third.number, Response.DISMISSED, 211 * MIN)
    assert rec.dismissals_in_row == 1 and not rec.tightened


# -- snooze --------------------------------------------------------------------------------------------------


def test_a_snoozed_prompt_comes_back_when_the_snooze_ends_if_its_episode_is_still_open() -> None:
    rec = _recommender()
    (first,) = _prompts(_tick(rec, 25, 1, trigger=True))
    rec.respond(first.number, Response.SNOOZED, 26 * MIN)
    held = []
    for minute in range(26, 41):
        held += _tick(rec, minute, 1)
    assert not _prompts(held)
    again = _prompts(_tick(rec, 41, 1))  # 26 + 15 min
    assert _minutes(again) == [41.0]
    assert again[0].episode == 1 and again[0].number == 2 and again[0].reason == first.reason


def test_a_snoozed_prompt_does_not_come_back_if_its_episode_ended() -> None:
    rec = _recommender()
    (first,) = _prompts(_tick(rec, 25, 1, trigger=True))
    rec.respond(first.number, Response.SNOOZED, 26 * MIN)
    later = []
    for minute in range(26, 36):
        later += _tick(rec, minute, 1)
    for minute in range(36, 90):
        later += _tick(rec, minute, None)
    assert not _prompts(later) and len(rec.prompts) == 1


def test_the_persons_snooze_holds_a_pending_candidate_until_it_ends() -> None:
    rec = _recommender()
    decisions = _tick(rec, 15, 1, trigger=True)  # held by the warm-up
    rec.snooze(18 * MIN, 10 * MIN)
    for minute in range(18, 28):
        decisions += _tick(rec, minute, 1)
    assert not _prompts(decisions)
    assert _whys(decisions) == [WARMUP, "snoozed"]
    assert _minutes(_prompts(_tick(rec, 28, 1))) == [28.0]


def test_the_default_snooze_is_fifteen_minutes() -> None:
    rec = _recommender()
    rec.snooze(30 * MIN)
    decisions = _tick(rec, 31, 1, trigger=True)
    for minute in range(32, 45):
        decisions += _tick(rec, minute, 1)
    assert not _prompts(decisions)
    assert _minutes(_prompts(_tick(rec, 45, 1))) == [45.0]


# -- mute ----------------------------------------------------------------------------------------------------


def test_muting_drops_the_pending_candidate() -> None:
    rec = _recommender()
    decisions = _tick(rec, 15, 1, trigger=True)
    rec.mute(18 * MIN, 30 * MIN)
    for minute in range(18, 120):
        decisions += _tick(rec, minute, 1)  # the episode stays open long after the mute
    assert not _prompts(decisions) and not rec.prompts
    after = _episode(rec, 2, 130, 135)  # the mute is over: a new episode is prompted
    assert _minutes(_prompts(after)) == [130.0]


def test_nothing_is_prompted_while_muted() -> None:
    rec = _recommender()
    rec.mute(25 * MIN, 60 * MIN)
    decisions: list[Decision] = []
    for episode, first in enumerate((30, 45, 60, 75), start=1):
        decisions += _episode(rec, episode, first, first + 9)
    assert not _prompts(decisions) and not rec.prompts
    assert _whys(decisions) == ["muted"] * 4  # each candidate lapses at once


def test_a_candidate_raised_during_a_mute_lapses_and_is_never_prompted_after_it() -> None:
    rec = _recommender()
    rec.mute(30 * MIN, 30 * MIN)  # muted from 30 to 60 min
    decisions = _tick(rec, 35, 1, trigger=True)
    for minute in range(36, 90):
        decisions += _tick(rec, minute, 1)  # the episode is still open after the mute
    assert _whys(decisions)[0] == "muted"
    assert not _prompts(decisions)  # fails: prompted at 60 min


# -- effort --------------------------------------------------------------------------------------------------


def test_no_prompt_during_effort_or_just_after_it_then_prompted_when_readable() -> None:
    rec = _recommender()
    decisions = _tick(rec, 30, 1, trigger=True, gate=Gate.EFFORT)
    for minute in range(31, 35):
        decisions += _tick(rec, minute, 1, gate=Gate.EFFORT)
    for minute in range(35, 38):
        decisions += _tick(rec, minute, 1, gate=Gate.AFTER_EFFORT)
    assert not _prompts(decisions)
    assert _whys(decisions) == [str(Gate.EFFORT), str(Gate.AFTER_EFFORT)]
    assert _minutes(_prompts(_tick(rec, 38, 1))) == [38.0]


def test_a_candidate_whose_episode_ends_during_effort_is_never_prompted() -> None:
    rec = _recommender()
    decisions = _tick(rec, 30, 1, trigger=True, gate=Gate.EFFORT)
    decisions += _tick(rec, 31, None, gate=Gate.EFFORT)
    for minute in range(32, 60):
        decisions += _tick(rec, minute, None)
    assert not _prompts(decisions)
    assert _whys(decisions) == [str(Gate.EFFORT), ENDED]


# -- episodes that end ---------------------------------------------------------------------------------------


def test_a_candidate_whose_episode_ends_is_suppressed_and_never_prompted() -> None:
    rec = _recommender()
    decisions = _tick(rec, 10, 1, trigger=True)
    for minute in range(11, 15):
        decisions += _tick(rec, minute, 1)
    ended = _tick(rec, 15, None)
    assert len(ended) == 1 and isinstance(ended[0], Suppressed)
    assert ended[0].why == ENDED and ended[0].episode == 1 and ended[0].t_s == 15 * MIN
    later = []
    for minute in range(16, 60):
        later += _tick(rec, minute, None)
    assert later == [] and not rec.prompts
    assert rec.log == [*decisions, *ended]


def test_a_candidate_for_an_episode_that_is_not_open_is_dropped_at_once() -> None:
    rec = _recommender()
    decisions = rec.update(_assessment(30 * MIN, 2), [_event(30 * MIN, 1)])
    assert _whys(decisions) == [ENDED] and not rec.prompts


# -- the choice ----------------------------------------------------------------------------------------------


def test_a_prompt_logs_clipped_probabilities_of_every_eligible_practice() -> None:
    rec = _recommender()
    (prompt,) = _prompts(_tick(rec, 25, 1, trigger=True))
    ids = [p.id for p in eligible(Trigger.SUSTAINED_LOW, Place.BEDSIDE)]
    assert list(prompt.probabilities) == ids and prompt.practice.id in ids
    values = np.array(list(prompt.probabilities.values()))
    low, high = min(0.1, 1 / len(ids)), max(0.8, 1 / len(ids))
    assert float(values.sum()) == pytest.approx(1.0, abs=1e-12)
    assert float(values.min()) >= low - 1e-12 and float(values.max()) <= high + 1e-12
    assert prompt.trigger is Trigger.SUSTAINED_LOW and prompt.reason == REASON
    assert prompt.context == pytest.approx((1.0, 0.0, 0.0, 0.3, 0.0))  # z = -1.3 from the assessment
    detail = prompt.detail()
    assert json.loads(json.dumps(detail)) == {
        "trigger": "sustained-low",
        "episode": 1,
        "probabilities": prompt.probabilities,
        "context": list(prompt.context),
    }


def test_the_same_seed_and_inputs_give_the_same_practices() -> None:
    def run() -> list[tuple[str, dict[str, float]]]:
        rec = _recommender(seed=7)
        prompts: list[Prompt] = []
        for episode, first in enumerate(range(25, 12 * 60, 50), start=1):
            found = _prompts(_episode(rec, episode, first, first + 39))
            for prompt in found:
                rec.respond(prompt.number, Response.ACCEPTED, prompt.t_s + MIN)
            prompts += found
        return [(p.practice.id, p.probabilities) for p in prompts]

    first, second = run(), run()
    assert len(first) == 4 and first == second


# -- between shifts ------------------------------------------------------------------------------------------

DAY = dt.date(2026, 3, 2)


def _trend(day: dt.date = DAY, **changes: object) -> Trend:
    normal = Trend(
        date=day,
        today=4.0,
        rolling_mean=4.0,
        range_mean=4.0,
        range_sd=0.2,
        days_in_range=40,
        provisional=False,
        cv_pct=4.0,
        acute_low=False,
        chronic_low=False,
        low_trend_days=0,
    )
    return dataclasses.replace(normal, **changes)  # type: ignore[arg-type]


def _chronic(day: dt.date = DAY, days: int = 5) -> Trend:
    return _trend(day, today=3.85, rolling_mean=3.82, chronic_low=True, low_trend_days=days)


def test_no_daily_suggestion_when_the_trend_is_normal() -> None:
    assert daily_suggestion(DAY, _trend(), [], PracticeLearner(seed=1)) is None


def test_an_acute_low_day_suggests_a_morning_practice() -> None:
    suggestion = daily_suggestion(DAY, _trend(today=3.7, acute_low=True), [], PracticeLearner(seed=1))
    assert suggestion is not None
    assert suggestion.trigger is Trigger.LOW_MORNING and not suggestion.escalate and suggestion.date == DAY
    ids = [p.id for p in eligible(Trigger.LOW_MORNING)]
    assert suggestion.practice.id in ids and list(suggestion.probabilities) == ids
    assert sum(suggestion.probabilities.values()) == pytest.approx(1.0)
    assert "3.70" in suggestion.why and "4.00" in suggestion.why


def test_a_high_load_shift_suggests_an_after_shift_practice() -> None:
    suggestion = daily_suggestion(DAY, _trend(), [], PracticeLearner(seed=1), high_load_shift=True)
    assert suggestion is not None and suggestion.trigger is Trigger.HIGH_LOAD_SHIFT
    assert suggestion.practice.id in {p.id for p in eligible(Trigger.HIGH_LOAD_SHIFT)}
    assert not suggestion.escalate


def test_two_weeks_of_low_recovery_escalate_to_a_professional() -> None:
    suggestion = daily_suggestion(DAY, _chronic(days=14), [], PracticeLearner(seed=1))
    assert suggestion is not None
    assert suggestion.trigger is Trigger.PERSISTENT_LOW and suggestion.escalate
    assert suggestion.practice.id == "talk-to-a-professional"
    assert suggestion.probabilities == {"talk-to-a-professional": 1.0}
    assert "14 days" in suggestion.why
    thirteen = daily_suggestion(DAY, _chronic(days=13), [], PracticeLearner(seed=1))
    assert thirteen is not None and thirteen.trigger is Trigger.CHRONIC_LOW and not thirteen.escalate


def test_no_escalation_while_the_range_is_provisional() -> None:
    provisional = _trend(rolling_mean=3.8, low_trend_days=20, provisional=True, range_sd=0.35)
    assert daily_suggestion(DAY, provisional, [], PracticeLearner(seed=1)) is None


def test_at_most_one_suggestion_a_day() -> None:
    learner = PracticeLearner(seed=1)
    first = daily_suggestion(DAY, _trend(), [], learner, high_load_shift=True)
    assert first is not None
    acute = _trend(today=3.7, acute_low=True)
    assert daily_suggestion(DAY, acute, [first], learner, high_load_shift=True) is None
    assert daily_suggestion(DAY, _chronic(days=20), [first], learner) is None
    tomorrow = DAY + dt.timedelta(days=1)
    acute_tomorrow = _trend(tomorrow, today=3.7, acute_low=True)
    assert daily_suggestion(tomorrow, acute_tomorrow, [first], learner) is not None


def test_the_chronic_low_message_comes_at_most_weekly() -> None:
    learner = PracticeLearner(seed=1)
    past: list[DailySuggestion] = []
    first = daily_suggestion(DAY, _chronic(), past, learner)
    assert first is not None and first.trigger is Trigger.CHRONIC_LOW
    past.append(first)
    for offset in range(1, 7):
        day = DAY + dt.timedelta(days=offset)
        assert daily_suggestion(day, _chronic(day), past, learner) is None
    other = daily_suggestion(DAY + dt.timedelta(days=3), _chronic(), past, learner, high_load_shift=True)
    assert other is not None and other.trigger is Trigger.HIGH_LOAD_SHIFT  # other suggestions still come
    week_later = DAY + dt.timedelta(days=7)
    again = daily_suggestion(week_later, _chronic(week_later), past, learner)
    assert again is not None and again.trigger is Trigger.CHRONIC_LOW


def test_the_escalation_comes_at_most_weekly() -> None:
    learner = PracticeLearner(seed=1)
    first = daily_suggestion(DAY, _chronic(days=14), [], learner)
    assert first is not None and first.escalate
    next_day = DAY + dt.timedelta(days=1)
    assert daily_suggestion(next_day, _chronic(next_day, days=15), [first], learner) is None
    acute = _chronic(next_day, days=15)
    acute = dataclasses.replace(acute, today=3.7, acute_low=True)
    morning = daily_suggestion(next_day, acute, [first], learner)
    assert morning is not None and morning.trigger is Trigger.LOW_MORNING and not morning.escalate
    week_later = DAY + dt.timedelta(days=7)
    again = daily_suggestion(week_later, _chronic(week_later, days=21), [first], learner)
    assert again is not None and again.trigger is Trigger.PERSISTENT_LOW


def test_a_flat_history_does_not_crash_the_daily_suggestion() -> None:
    flat = _trend(today=4.0, rolling_mean=4.0, range_mean=4.0, range_sd=0.0, cv_pct=0.0)
    suggestion = daily_suggestion(DAY, flat, [], PracticeLearner(seed=1), high_load_shift=True)
    assert suggestion is not None and suggestion.trigger is Trigger.HIGH_LOAD_SHIFT


# -- wording -------------------------------------------------------------------------------------------------


def test_the_breathing_card_carries_the_safety_line() -> None:
    card = practice_card(by_id("paced-breathing"), REASON.text())
    assert any("dizzy" in line for line in card.safety)
    assert any("dizzy" in line for line in card.lines())
    assert card.why == REASON.text() and card.steps == by_id("paced-breathing").steps


def test_every_card_says_it_is_not_a_medical_device() -> None:
    for practice in catalogue():
        card = practice_card(practice, "why")
        assert "not a medical device" in card.footer and card.footer == NOT_A_MEDICAL_DEVICE
        assert card.lines()[-1] == NOT_A_MEDICAL_DEVICE
        if practice.safety:
            assert practice.id == "paced-breathing" or practice.safety in card.safety


def test_the_professional_help_card_carries_the_escalation_text() -> None:
    card = practice_card(by_id("talk-to-a-professional"), "two weeks low")
    assert ESCALATION_CARD in card.safety and ESCALATION_CARD in card.lines()
    assert card.lines()[0] == "Talk to a professional (when you are ready)"
    others = [p for p in catalogue() if p.id != "talk-to-a-professional"]
    assert all(ESCALATION_CARD not in practice_card(p, "x").safety for p in others)


def test_a_chronic_message_never_delays_the_escalation_card() -> None:
    learner = PracticeLearner(seed=1)
    chronic = daily_suggestion(DAY, _chronic(days=13), [], learner)
    assert chronic is not None and chronic.trigger is Trigger.CHRONIC_LOW
    next_day = DAY + dt.timedelta(days=1)
    card = daily_suggestion(next_day, _chronic(next_day, days=14), [chronic], learner)
    assert card is not None and card.trigger is Trigger.PERSISTENT_LOW and card.escalate


def test_a_newer_trigger_replacing_a_pending_one_is_logged() -> None:
    rec = _recommender()
    first = rec.update(_assessment(5 * MIN, episode=1), [_event(5 * MIN, 1)])
    second = rec.update(_assessment(6 * MIN, episode=2), [_event(6 * MIN, 2)])
    assert "replaced by a newer trigger" in _whys([*first, *second])


def test_a_prompt_is_delivered_only_while_its_reason_holds_and_says_what_is_true_then() -> None:
    """A candidate from the warm-up whose low has lifted by 20 min is not delivered (no stale prompt with an
    old reason); when the value is low again the card gives the numbers of that moment."""
    rec = _recommender()
    decisions = _tick(rec, 10, 1, trigger=True)
    for minute in range(20, 26):
        decisions += _tick(rec, minute, 1, still_low=False)
    assert not _prompts(decisions) and "no longer low" in _whys(decisions)
    now = Reason(ReasonKind.LOW_SUSTAINED, 18.0, 900.0, 27.0, 41.0, ReferenceSource.POOLED)
    prompted = rec.update(dataclasses.replace(_assessment(26 * MIN, 1), reason_now=now), [])
    (prompt,) = _prompts(prompted)
    assert prompt.reason is now and "18 ms for 15 min" in prompt.reason.text()


def test_no_prompt_while_the_person_is_probably_asleep() -> None:
    rec = _recommender()
    decisions = _tick(rec, 30, 1, trigger=True, gate=Gate.ASLEEP)
    decisions += _tick(rec, 31, 1, gate=Gate.ASLEEP)
    assert not _prompts(decisions) and _whys(decisions) == [str(Gate.ASLEEP)]
