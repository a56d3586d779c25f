"""The breathing pacer: where in the breath the person should be, from the clock alone.

The frame is a pure function of the time since the pacer started (s), so the bar stays right however
irregularly the screen refreshes: a late frame shows the late position, never a drifted one.  The bar grows
during the inhale and shrinks during the exhale along a half cosine (slow at the turns, as a breath is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text

from restbeat.app.live import PacerSettings

_EIGHTHS = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True, slots=True)
class PacerFrame:
    """The pacer at one moment: breath number (from 1), inhaling or not, bar fill (0-1), seconds left in
    this half of the breath and in the session."""

    breath: int
    inhaling: bool
    fill: float
    phase_left_s: float
    remaining_s: float


def pacer_frame(elapsed_s: float, settings: PacerSettings, duration_s: float) -> PacerFrame:
    """The frame ``elapsed_s`` (s) into a session of ``duration_s`` (s)."""
    elapsed = min(max(elapsed_s, 0.0), duration_s)
    period = settings.period_s
    breath = int(elapsed // period)
    into = elapsed - breath * period
    inhale = settings.inhale_s
    if into < inhale:
        fill = 0.5 - 0.5 * math.cos(math.pi * into / inhale)
        return PacerFrame(breath + 1, True, fill, inhale - into, duration_s - elapsed)
    out = into - inhale
    fill = 0.5 + 0.5 * math.cos(math.pi * out / settings.exhale_s)
    return PacerFrame(breath + 1, False, fill, settings.exhale_s - out, duration_s - elapsed)


def bar(fill: float, width: int) -> str:
    """A horizontal bar ``fill`` (0-1) of ``width`` cells, in eighths of a cell."""
    eighths = round(min(max(fill, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def render_pacer(
    frame: PacerFrame, settings: PacerSettings, width: int = 40, hr_bpm: float | None = None
) -> Text:
    """The pacer as shown: the cue, the bar, the count and the rate."""
    cue = "breathe in " if frame.inhaling else "breathe out"
    style = "bold cyan" if frame.inhaling else "bold green"
    text = Text()
    text.append(f"{cue}  ", style=style)
    text.append(bar(frame.fill, width), style=style)
    text.append(f"  {math.ceil(frame.phase_left_s):>2d} s\n")
    minutes, seconds = divmod(max(math.ceil(frame.remaining_s), 0), 60)
    text.append(
        f"breath {frame.breath} · {settings.rate_per_min:g}/min, in {settings.inhale_s:.1f} s : "
        f"out {settings.exhale_s:.1f} s · {minutes}:{seconds:02d} left",
        style="dim",
    )
    if hr_bpm is not None:
        text.append(f" · HR {hr_bpm:.0f}", style="dim")
    return text
