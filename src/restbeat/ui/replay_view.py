"""What `restbeat replay` prints: one line per state change, trigger and decision, then a summary."""

from __future__ import annotations

import json
from collections.abc import Sequence

from restbeat.app.pipeline import Outcome
from restbeat.app.replay import ReplaySummary, outcome_record
from restbeat.devices.recording import RRRecording
from restbeat.recovery.assess import StateChange, TriggerEvent
from restbeat.recovery.recommend import Prompt
from restbeat.recovery.wording import NOT_A_MEDICAL_DEVICE


def elapsed(t_s: float) -> str:
    """Beat time (s) as +h:mm:ss."""
    seconds = max(round(t_s), 0)
    return f"+{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def render_json_lines(outcomes: Sequence[Outcome], recording: RRRecording, summary: ReplaySummary) -> str:
    """One JSON object per outcome, then the summary as the last line."""
    lines = [json.dumps(outcome_record(outcome, recording)) for outcome in outcomes]
    lines.append(json.dumps({"type": "summary", **summary.as_dict()}))
    return "\n".join(lines)


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, StateChange):
        return f"{outcome.before} -> {outcome.after}: {outcome.reason.text()}"
    if isinstance(outcome, TriggerEvent):
        return f"trigger {outcome.trigger} (episode {outcome.episode}, z {outcome.z:+.1f})"
    if isinstance(outcome, Prompt):
        p = outcome.probabilities[outcome.practice.id]
        return (
            f"PROMPT {outcome.number}: {outcome.practice.name} ({outcome.practice.duration_s / 60:g} min; "
            f"chosen with p = {p:.2f} among {len(outcome.probabilities)})"
        )
    return f"not prompted ({outcome.trigger}, episode {outcome.episode}): {outcome.why}"


def render_text(
    outcomes: Sequence[Outcome], recording: RRRecording, summary: ReplaySummary, baseline: str
) -> str:
    """The replay as lines a person reads."""
    hours = summary.duration_s / 3600
    lines = [
        f"{recording.path.name}: {hours:.1f} h, {summary.beats:,} beats replayed; baseline: {baseline}",
    ]
    for outcome in outcomes:
        record = outcome_record(outcome, recording)
        clock = f" {record['clock'][11:19]}" if record["clock"] else ""
        lines.append(f"  {elapsed(outcome.t_s):>10}{clock}  {_describe(outcome)}")
    if not outcomes:
        lines.append("  (no state change and no prompt)")
    states = ", ".join(f"{state} {seconds / 3600:.1f} h" for state, seconds in summary.state_s.items())
    lines.append(
        f"summary: {states}; {summary.prompts} prompt(s), {summary.suppressed} candidate(s) held back"
    )
    lines.append(
        f"reference at the end: {summary.reference}" + (" (still learning)" if summary.learning else "")
    )
    lines.append(f"sleep told from {summary.sleep_from}: {summary.asleep_s / 3600:.1f} h probably asleep")
    lines.append(NOT_A_MEDICAL_DEVICE)
    return "\n".join(lines)
