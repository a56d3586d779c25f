"""The monitor screen drawn from a LiveView alone: the numbers, the usual range, the state and why, the
link, the prompt card, the pacer or a practice's countdown, the notes; and the sparkline's scale."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from rich.console import Console

from restbeat.app.live import LinkView, LiveView, OpenPrompt, PacerSettings, PracticeRun
from restbeat.recovery.assess import Reason, ReasonKind, State
from restbeat.recovery.baseline import ReferenceSource
from restbeat.recovery.practices import Trigger, by_id
from restbeat.recovery.recommend import Prompt
from restbeat.recovery.wording import NOT_A_MEDICAL_DEVICE
from restbeat.ui.monitor_view import render_monitor, sparkline

NOW_S = 6925.0  # the session clock
BREATHING = by_id("paced-breathing")
REASON = Reason(ReasonKind.LOW_SUSTAINED, 14.0, 360.0, 29.9, 60.2, ReferenceSource.CHECK_IN)
PROMPT = Prompt(
    number=1,
    t_s=6897.6,
    trigger=Trigger.SUSTAINED_LOW,
    episode=1,
    practice=BREATHING,
    reason=REASON,
    probabilities={"paced-breathing": 0.6, "micro-break": 0.4},
    context=(1.0, 0.0, 0.0, 1.8, 0.0),
)
BASE = LiveView(
    elapsed_s=1925.0,
    hr_bpm=72.4,
    rmssd_60_ms=14.2,
    rmssd_300_ms=15.6,
    quality_60="ok",
    usual_ms=(29.9, 60.2),
    reference="today's check-in",
    state=State.STRAINED,
    state_why=REASON.text(),
    gate="readable",
    link=LinkView("streaming", "subscribed", 83, True, 1, 2, "Polar H10"),
    spark_ms=(35.0, None, 14.0),
    prompt=None,
    practice=None,
    notes=("0:31:40 strained: 60-s RMSSD 14 ms for 6 min",),
)


def screen(now_s: float = NOW_S, **changes: Any) -> str:
    console = Console(record=True, width=100, file=io.StringIO(), color_system=None)
    console.print(render_monitor(dataclasses.replace(BASE, **changes), now_s))
    return console.export_text()


def test_the_numbers_the_usual_range_the_state_and_the_link() -> None:
    text = screen()
    assert "restbeat monitor · 0:32:05" in text
    assert "72 bpm" in text and "14 ms" in text and "16 ms" in text
    assert "your usual" in text and "30-60 ms" in text
    assert "STRAINED  60-s RMSSD 14 ms for 6 min; your check-in 30-60 ms" in text
    assert "(readable)" not in text
    assert "strap streaming · battery 83 % · contact ok · drops 1 · Polar H10" in text
    assert "compared with today's check-in" in text
    assert "last 30 min  ▄ ▁" in text
    assert "0:31:40 strained: 60-s RMSSD 14 ms for 6 min" in text
    assert "breathe in" not in text and "breathe out" not in text and "Why now" not in text


def test_nothing_measured_yet() -> None:
    text = screen(
        elapsed_s=12.0,
        hr_bpm=None,
        rmssd_60_ms=None,
        rmssd_300_ms=None,
        quality_60="waiting for beats",
        usual_ms=None,
        reference=None,
        state=State.SETTLED,
        state_why="reading your first minutes",
        gate=None,
        link=LinkView("reconnecting", "strap silent for 5 s", None, None, 3),
        spark_ms=(),
        notes=(),
    )
    assert "waiting for beats" in text and "learning you" in text and "—" in text
    assert "SETTLED  reading your first minutes" in text
    assert "strap reconnecting (strap silent for 5 s) · battery — · contact — · drops 3" in text
    assert "(filling)" in text and "compared with" not in text


def test_a_gate_other_than_readable_is_shown() -> None:
    assert "(moving)" in screen(state=State.SETTLED, gate="moving")


def test_the_prompt_card() -> None:
    text = screen(prompt=OpenPrompt(PROMPT, 1, 6897.6))
    assert "Paced breathing · 2.5 min" in text
    assert f"Why now: {REASON.text()}" in text
    for number, step in enumerate(BREATHING.steps, start=1):
        assert f"{number}. {step}" in text
    assert "Breathe gently, not deeply." in text  # the safety line of breathing
    assert "y start · s snooze · n dismiss" in text
    assert NOT_A_MEDICAL_DEVICE[:30] in text


def test_the_prompt_card_shows_the_whole_not_a_medical_device_line() -> None:
    text = screen(prompt=OpenPrompt(PROMPT, 1, 6897.6))
    assert "any condition." in " ".join(line.strip("│╰╯─ ") for line in text.splitlines())


def test_the_pacer_while_breathing() -> None:
    run = PracticeRun(BREATHING, NOW_S - 0.5, 150.0, PacerSettings())
    text = screen(practice=run)
    assert "Paced breathing" in text and "breathe in" in text and "b stops" in text
    assert "breath 1 · 6/min, in 4.0 s : out 6.0 s · 2:30 left · HR 72" in text
    later = screen(NOW_S + 5.0, practice=run)  # 5.5 s in: breathing out
    assert "breathe out" in later and "breathe in" not in later
    assert "breath 1 · 6/min" in later and "2:25 left" in later


def test_a_practice_without_a_pacer_counts_down_its_steps() -> None:
    grounding = by_id("grounding-54321")
    run = PracticeRun(grounding, NOW_S - 60.0, float(grounding.duration_s), None)
    text = screen(practice=run)
    assert "5-4-3-2-1 grounding" in text and "1:00 left · b stops" in text
    assert f"1. {grounding.steps[0]}" in text
    assert "breathe in" not in text


def test_a_practice_being_measured() -> None:
    run = PracticeRun(BREATHING, NOW_S - 200.0, 150.0, PacerSettings(), ended_s=NOW_S - 50.0)
    text = screen(practice=run)
    assert "Paced breathing · done" in text and "measuring the 2 min after it" in text
    assert "breathe in" not in text and "breathe out" not in text


def test_sparkline_maps_the_smallest_to_the_lowest_block_and_the_largest_to_the_highest() -> None:
    assert sparkline((10.0, 20.0, 30.0)) == "▁▅█"
    assert sparkline((30.0, None, 10.0)) == "█ ▁"
    assert sparkline((12.0, 12.0)) == "▁▁"
    assert sparkline(()) == "" and sparkline((None, None)) == ""
    values = tuple(float(v) for v in range(40))
    line = sparkline(values)
    assert len(line) == 40 and line[0] == "▁" and line[-1] == "█"
    blocks = "▁▂▃▄▅▆▇█"
    assert [blocks.index(c) for c in line] == sorted(blocks.index(c) for c in line)
    assert set(line) == set(blocks)


@pytest.mark.parametrize(
    ("values", "low", "high", "expected"),
    [
        ((40.0,), 30.0, 60.0, "▃"),  # inside the usual band: scaled to it
        ((30.0, 60.0), 30.0, 60.0, "▁█"),
        ((20.0, 45.0), 30.0, 60.0, "▁▆"),  # below the band: the scale stretches down to it
        ((45.0, 80.0), 30.0, 60.0, "▃█"),  # and up
    ],
)
def test_sparkline_scales_to_the_usual_band(
    values: tuple[float, ...], low: float, high: float, expected: str
) -> None:
    assert sparkline(values, low, high) == expected
