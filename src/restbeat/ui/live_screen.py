"""The live screen's loop: redraw a few times a second, take keys, raise the prompt's bell and notification;
and the session summary printed at the end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from restbeat.app.live import LiveShift, LiveSummary, OpenPrompt, clock_text, effect_text
from restbeat.recovery.recommend import Response
from restbeat.recovery.wording import NOT_A_MEDICAL_DEVICE
from restbeat.ui.keys import KeyReader
from restbeat.ui.monitor_view import render_monitor
from restbeat.ui.notify import notify

REFRESH_S = 0.2  # five frames a second of real time: the pacer's bar moves smoothly


class LiveScreen:
    """Draws ``shift`` on ``console`` until stopped; keys act on the shift.  ``script`` (the demo) is called
    every frame with the session time and may stop the screen by returning True."""

    def __init__(
        self,
        shift: LiveShift,
        console: Console,
        now: Callable[[], float],
        *,
        title: str = "restbeat monitor",
        script: Callable[[float], bool] | None = None,
        headline: Callable[[float], str] | None = None,
        notifications: bool = True,
    ) -> None:
        self.shift = shift
        self.console = console
        self.now = now
        self.title = title
        self.script = script
        self.headline = headline
        self.notifications = notifications
        self.note: str | None = None  # a note being typed after `a`
        shift.on_prompt = self._announce

    def _announce(self, open_prompt: OpenPrompt) -> None:
        self.console.bell()
        if self.notifications:
            prompt = open_prompt.prompt
            notify(f"restbeat: {prompt.practice.name}", prompt.reason.text())

    def handle(self, key: str, now_s: float, stop: asyncio.Event) -> None:
        """One key press."""
        shift = self.shift
        if self.note is not None:
            if key in "\r\n":
                if self.note.strip():
                    shift.annotate(self.note.strip(), now_s)
                self.note = None
            elif key in "\x7f\b":
                self.note = self.note[:-1]
            elif key == "\x1b":
                self.note = None
            elif key.isprintable():
                self.note += key
            return
        if key == "q":
            stop.set()
        elif key == "a":
            self.note = ""
        elif key == "s":
            shift.snooze(now_s)
        elif key == "y" and shift.prompt is not None:
            shift.respond(Response.ACCEPTED, now_s)
        elif key == "n" and shift.prompt is not None:
            shift.respond(Response.DISMISSED, now_s)
        elif key == "b":
            running = shift.practice is not None and shift.practice.ended_s is None
            if running:
                shift.stop_practice(now_s)
            else:
                shift.start_practice(None, now_s)

    def frame(self) -> Table:
        """The screen now (also the note being typed)."""
        now = self.now()
        grid = Table.grid()
        if self.headline is not None:
            grid.add_row(Text(self.headline(now), style="bold"))
        grid.add_row(render_monitor(self.shift.view(now), now, self.title))
        if self.note is not None:
            grid.add_row(Text(f"note: {self.note}▌  (Enter saves, Esc cancels)", style="bold"))
        return grid

    async def run(self, stop: asyncio.Event) -> None:
        """Redraw and take keys until ``stop`` is set (by q, the script, or the session ending)."""
        with KeyReader() as keys, Live(self.frame(), console=self.console, auto_refresh=False) as live:
            while not stop.is_set():
                now = self.now()
                self.shift.tick(now)
                for key in keys.drain():
                    self.handle(key, now, stop)
                if self.script is not None and self.script(now):
                    stop.set()
                live.update(self.frame(), refresh=True)
                if not stop.is_set():
                    await asyncio.sleep(REFRESH_S)


def render_summary(summary: LiveSummary) -> Table:
    """The session summary: time, beats, strain, prompts and practices with their measured effect."""
    table = Table(title="Session summary", show_header=False, title_justify="left")
    table.add_column(style="dim")
    table.add_column()
    table.add_row("length", clock_text(summary.duration_s))
    corrected = 100.0 * summary.corrected / summary.beats if summary.beats else 0.0
    table.add_row("beats", f"{summary.beats} ({corrected:.1f} % corrected, {summary.excluded} excluded)")
    table.add_row("link drops", str(summary.drops))
    table.add_row("mean HR", "—" if summary.mean_hr_bpm is None else f"{summary.mean_hr_bpm:.0f} bpm")
    table.add_row("RMSSD, last 5 min", "—" if summary.rmssd_ms is None else f"{summary.rmssd_ms:.0f} ms")
    table.add_row("time strained", f"{summary.strained_s / 60:.0f} min")
    for prompt, response in summary.prompts:
        table.add_row(
            f"prompt at {clock_text(prompt.t_s - summary.origin_s)}", f"{prompt.practice.name}: {response}"
        )
    for run in summary.practices:
        table.add_row(run.practice.name, effect_text(run))
    if summary.saved is not None:
        style = "" if summary.saved.saved_all and not summary.saved.lost_rows else "bold red"
        table.add_row("saved as", Text(summary.saved.text(), style=style))
    elif summary.session_id is not None:
        table.add_row("saved as", f"session {summary.session_id}")
    table.caption = NOT_A_MEDICAL_DEVICE
    return table
