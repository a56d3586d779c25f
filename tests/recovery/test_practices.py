"""The practice catalogue as data: complete, sourced, and filtered by trigger and place."""

from __future__ import annotations

import pytest

from restbeat.recovery.practices import Place, Trigger, by_id, catalogue, eligible

ISSUE_PRACTICES = {
    "paced-breathing",
    "grounding-54321",
    "grounding-321",
    "micro-break",
    "compassion-pause",
    "stretches",
    "boundary-script",
    "end-of-shift-ritual",
    "gratitude-note",
    "journaling",
    "social-check-in",
    "talk-to-a-professional",
}


def test_every_practice_is_there_with_steps_places_triggers_and_a_source() -> None:
    practices = catalogue()
    assert {p.id for p in practices} == ISSUE_PRACTICES
    assert len({p.id for p in practices}) == len(practices)
    for practice in practices:
        assert practice.steps and practice.places and practice.triggers and len(practice.source) > 20
    assert 120 <= by_id("paced-breathing").duration_s <= 180  # two to three minutes
    assert by_id("journaling").duration_s == 480
    assert "dizzy" in (by_id("paced-breathing").safety or "")
    every_trigger = {trigger for p in practices for trigger in p.triggers}
    assert every_trigger == set(Trigger)


def test_eligible_filters_by_trigger_and_place() -> None:
    at_bedside = {p.id for p in eligible(Trigger.SUSTAINED_LOW, Place.BEDSIDE)}
    assert {"paced-breathing", "grounding-54321", "grounding-321", "micro-break"} <= at_bedside
    assert "journaling" not in at_bedside
    assert [p.id for p in eligible(Trigger.PERSISTENT_LOW)] == ["talk-to-a-professional"]
    assert all(Place.AFTER_SHIFT in p.places for p in eligible(Trigger.HIGH_LOAD_SHIFT, Place.AFTER_SHIFT))
    with pytest.raises(KeyError, match="no practice 'yoga'"):
        by_id("yoga")
