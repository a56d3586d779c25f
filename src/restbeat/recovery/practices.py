"""The practice catalogue: what restbeat can suggest, with steps, duration, where it can be done, the
triggers it suits and its source.  The catalogue is data (``practices.json`` beside this module)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class Trigger(StrEnum):
    """Why a practice is being suggested."""

    SUSTAINED_LOW = "sustained-low"  # in shift: HRV low against the person's usual, at low effort
    SLOW_RECOVERY = "slow-recovery"  # in shift: slower recovery after a stressor than usual
    HIGH_LOAD_SHIFT = "high-load-shift"  # after a shift with much time strained
    LOW_MORNING = "low-morning"  # the day's check-in is an acute low
    CHRONIC_LOW = "chronic-low"  # the 7-day trend has stayed below the normal range
    PERSISTENT_LOW = "persistent-low"  # low recovery for two weeks or more: talk to a professional


class Place(StrEnum):
    """Where a practice can be done."""

    BEDSIDE = "bedside"
    BREAK_ROOM = "break room"
    AFTER_SHIFT = "after shift"


@dataclass(frozen=True, slots=True)
class Practice:
    """One practice: id, name, steps, duration (s), places, triggers, an optional safety line, its source."""

    id: str
    name: str
    steps: tuple[str, ...]
    duration_s: int
    places: frozenset[Place]
    triggers: frozenset[Trigger]
    safety: str | None
    source: str


class CatalogueError(ValueError):
    """The catalogue data file is malformed (a packaging error, named with the entry)."""


@cache
def catalogue() -> tuple[Practice, ...]:
    """Every practice, in the catalogue's order."""
    text = resources.files("restbeat.recovery").joinpath("practices.json").read_text(encoding="utf-8")
    entries = json.loads(text)["practices"]
    practices = []
    for entry in entries:
        try:
            practices.append(
                Practice(
                    id=entry["id"],
                    name=entry["name"],
                    steps=tuple(entry["steps"]),
                    duration_s=int(entry["duration_s"]),
                    places=frozenset(Place(place) for place in entry["places"]),
                    triggers=frozenset(Trigger(trigger) for trigger in entry["triggers"]),
                    safety=entry.get("safety"),
                    source=entry["source"],
                )
            )
        except (KeyError, ValueError, TypeError) as error:
            raise CatalogueError(
                f"practices.json: entry {entry.get('id', '?')!r} is malformed ({error})"
            ) from error
    return tuple(practices)


def by_id(practice_id: str) -> Practice:
    """One practice by id; raises KeyError naming it."""
    for practice in catalogue():
        if practice.id == practice_id:
            return practice
    raise KeyError(f"no practice {practice_id!r} in the catalogue")


def name_of(practice_id: str) -> str:
    """A practice's name for people; its id when the catalogue has no such practice (one stored by an older
    restbeat)."""
    try:
        return by_id(practice_id).name
    except KeyError:
        return practice_id


def eligible(trigger: Trigger, place: Place | None = None) -> tuple[Practice, ...]:
    """The practices that suit ``trigger`` and can be done at ``place`` (any place when None)."""
    return tuple(
        practice
        for practice in catalogue()
        if trigger in practice.triggers and (place is None or place in practice.places)
    )
