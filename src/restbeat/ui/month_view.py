"""`restbeat demo --days N` on the terminal: a progress bar while the days are recorded, then a summary."""

from __future__ import annotations

import sqlite3

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from restbeat.app.demo_month import MonthSummary, fill_month


def record_month(conn: sqlite3.Connection, console: Console, *, days: int, seed: int) -> MonthSummary:
    """Fill ``conn`` with ``days`` days of the demo person's life, showing the progress."""
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("starting", total=1.0)

        def show(fraction: float, what: str) -> None:
            progress.update(task, completed=fraction, description=what)

        summary = fill_month(conn, days, seed=seed, on_progress=show)
        progress.update(task, completed=1.0, description=f"{days} day{'s' if days != 1 else ''} recorded")
    return summary


def render_month(summary: MonthSummary) -> Table:
    """What the month holds, in a small table."""
    table = Table(title=f"{summary.first:%d %b} - {summary.last:%d %b %Y}", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    answered = ", ".join(f"{count} {response}" for response, count in sorted(summary.prompts.items()))
    table.add_row("shifts", f"{summary.day_shifts} day, {summary.night_shifts} night (8 h each)")
    table.add_row("check-ins", f"{summary.check_ins} (morning every day; before and after each shift)")
    table.add_row("beats on shift", f"{summary.beats:,}")
    table.add_row("time strained", f"{summary.strained_s / 3600:.1f} h over the shifts")
    table.add_row("prompts", f"{sum(summary.prompts.values())}: {answered or 'none'}")
    table.add_row("practices measured", str(summary.practices))
    table.add_row("took", f"{summary.wall_s:.0f} s")
    return table
